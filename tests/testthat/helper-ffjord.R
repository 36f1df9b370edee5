# Plain-R references for tfb_ffjord() and ode_dormand_prince(), written
# from the published method and TFP's documented step control, never
# calling the package's C code.

# The matrix exponential by scaling and squaring of a Taylor series
# (accurate to rounding for the small matrices of the tests).
reference_expm <- function(a, squarings = 12, terms = 24) {
  b <- a / 2^squarings
  result <- diag(nrow(a))
  term <- result
  for (k in seq_len(terms)) {
    term <- term %*% b / k
    result <- result + term
  }
  for (i in seq_len(squarings)) result <- result %*% result
  result
}

# Dormand-Prince 5(4) in plain R with TFP's controller; the last step before
# `final_time` is shortened to land on it. Returns the final state and the
# numbers of attempted and rejected steps.
reference_dormand_prince <- function(f, t0, y0, t1, rtol = 1e-3,
                                     atol = 1e-6, first_step = 1e-3,
                                     safety = 0.9, min_factor = 0.1,
                                     max_factor = 10) {
  a <- list(numeric(0), 1 / 5, c(3 / 40, 9 / 40),
            c(44 / 45, -56 / 15, 32 / 9),
            c(19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729),
            c(9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176,
              -5103 / 18656),
            c(35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84))
  nodes <- c(0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1, 1)
  fourth <- c(5179 / 57600, 0, 7571 / 16695, 393 / 640, -92097 / 339200,
              187 / 2100, 1 / 40)
  fifth <- c(a[[7]], 0)
  t <- t0
  y <- y0
  h <- first_step
  k1 <- f(t, y)
  attempts <- 0
  rejected <- 0
  while (t < t1) {
    lands <- t + h >= t1
    if (lands) h <- t1 - t
    k <- matrix(0, length(y), 7)
    k[, 1] <- k1
    for (s in 2:7) {
      point <- y + h * drop(k[, seq_len(s - 1), drop = FALSE] %*% a[[s]])
      k[, s] <- f(if (lands && nodes[s] == 1) t1 else t + nodes[s] * h, point)
    }
    y_new <- y + h * drop(k %*% fifth)
    error <- h * drop(k %*% (fifth - fourth))
    tol <- atol + rtol * pmax(abs(y), abs(y_new))
    ratio <- sqrt(mean((error / tol)^4))
    attempts <- attempts + 1
    if (ratio <= 1) {
      y <- y_new
      k1 <- k[, 7]
      t <- if (lands) t1 else t + h
    } else {
      rejected <- rejected + 1
    }
    h <- h * min(max_factor, max(min_factor, safety * ratio^(-1 / 6)))
  }
  list(state = y, num_steps = attempts, num_rejected_steps = rejected)
}

# Classical fixed-step Runge-Kutta 4 with the solver contract of
# tfb_ffjord(): states as a list, one per solution time.
rk4_solver <- function(steps = 200) {
  function(ode_fn, initial_time, initial_state, solution_times) {
    states <- list()
    time <- initial_time
    y <- initial_state
    for (target in solution_times) {
      h <- (target - time) / steps
      for (i in seq_len(steps)) {
        k1 <- ode_fn(time, y)
        k2 <- ode_fn(time + h / 2, y + h / 2 * k1)
        k3 <- ode_fn(time + h / 2, y + h / 2 * k2)
        k4 <- ode_fn(time + h, y + h * k3)
        y <- y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        time <- time + h
      }
      time <- target
      states[[length(states) + 1L]] <- y
    }
    list(states = states)
  }
}

# tfb_ffjord()'s trace argument for Hutchinson's estimator with more
# samples (TFP's tests use functools.partial).
hutchinson_with <- function(num_samples, seed = NULL) {
  function(ode_fn, state_shape, dtype) {
    trace_jacobian_hutchinson(ode_fn, state_shape, dtype,
                              num_samples = num_samples, seed = seed)
  }
}

# A template's network in plain R from its $weights: f(t, z) = MLP(c(z, t))
# row by row, with the activation of the hidden layers.
reference_ffjord_network <- function(template) {
  weights <- template$weights
  activation <- switch(template$activation,
    linear = identity, relu = function(v) pmax(v, 0), tanh = tanh,
    sigmoid = stats::plogis, elu = function(v) ifelse(v > 0, v, expm1(v)),
    softplus = function(v) log1p(exp(v)))
  function(t, z) {
    z <- matrix(z, ncol = nrow(weights[[1]]$kernel) - 1L)
    h <- cbind(z, t)
    for (k in seq_along(weights)) {
      h <- h %*% weights[[k]]$kernel +
        matrix(weights[[k]]$bias, nrow(h), length(weights[[k]]$bias),
               byrow = TRUE)
      if (k < length(weights)) h <- activation(h)
    }
    h
  }
}

# The Jacobian of one event's dynamics by central differences (step 1e-6).
numerical_event_jacobian <- function(f, t, z_row, h = 1e-6) {
  vapply(seq_along(z_row), function(j) {
    up <- z_row
    down <- z_row
    up[j] <- up[j] + h
    down[j] <- down[j] - h
    (f(t, matrix(up, 1)) - f(t, matrix(down, 1))) / (2 * h)
  }, numeric(length(z_row)))
}
