# Plain-R references for the training issue (issue 4): gradients by central
# finite differences of the loss, and Adam written out from Kingma and Ba.
# The loss is evaluated with log_prob() only; parameters are moved through
# `trainable_parameters<-` and inputs directly. Nothing here calls
# loss_and_gradient(), fit() or any backward routine of the package.

# The mean negative log-likelihood of the rows of x, from log_prob().
flow_loss <- function(distribution, x) {
  -mean(distribution$log_prob(x))
}

# A loss function that leaves the moving statistics of `layers` (batch-
# normalization layers in training mode, whose log_prob() moves them) as they
# were when it was made. gamma and beta are whatever they are at the time of
# the call: only the moving statistics are put back.
restoring_loss <- function(distribution, layers = list()) {
  saved <- lapply(layers, get_weights)
  function(x) {
    value <- flow_loss(distribution, x)
    for (k in seq_along(layers)) {
      w <- get_weights(layers[[k]])
      w$moving_mean <- saved[[k]]$moving_mean
      w$moving_variance <- saved[[k]]$moving_variance
      set_weights(layers[[k]], w)
    }
    value
  }
}

# The step for a value v: rel_step * max(1, |v|), taken as the difference of
# the two representable points actually evaluated.
central_difference <- function(f, v, rel_step) {
  h <- rel_step * max(1, abs(v))
  up <- v + h
  down <- v - h
  (f(up) - f(down)) / (up - down)
}

# The gradient of the loss with respect to every trainable parameter, by
# central differences, as a list shaped like trainable_parameters(). The
# parameters are restored afterwards.
numerical_parameter_gradient <- function(distribution, x, layers = list(),
                                         rel_step = 1e-5) {
  loss <- restoring_loss(distribution, layers)
  params <- trainable_parameters(distribution)
  on.exit(trainable_parameters(distribution) <- params, add = TRUE)
  gradients <- lapply(names(params), function(name) {
    value <- params[[name]]
    gradient <- value
    for (k in seq_along(value)) {
      gradient[k] <- central_difference(function(v) {
        moved <- params
        moved[[name]][k] <- v
        trainable_parameters(distribution) <- moved
        loss(x)
      }, value[k], rel_step)
    }
    gradient
  })
  names(gradients) <- names(params)
  gradients
}

# The gradient of the loss with respect to the data, by central differences.
numerical_input_gradient <- function(distribution, x, layers = list(),
                                     rel_step = 1e-5) {
  loss <- restoring_loss(distribution, layers)
  gradient <- x
  for (k in seq_along(x)) {
    gradient[k] <- central_difference(function(v) {
      moved <- x
      moved[k] <- v
      loss(moved)
    }, x[k], rel_step)
  }
  gradient
}

# Relative error of `actual` against `expected`: the largest absolute
# difference over the largest magnitude of `expected` (at least `floor`, so
# that an array of near-zero gradients is judged on the scale of the
# rounding error of the differences, about 1e-16 * |loss| / step).
relative_error <- function(actual, expected, floor = 1e-3) {
  scale <- max(abs(expected), floor)
  max(abs(as.vector(actual) - as.vector(expected))) / scale
}

expect_relative_error_below <- function(actual, expected, tolerance = 1e-6,
                                        label = "gradient", floor = 1e-3) {
  error <- relative_error(actual, expected, floor)
  expect(
    length(actual) == length(expected) && is.finite(error) &&
      error < tolerance,
    sprintf("%s: relative error %.3g (tolerance %.3g; length %d vs %d)",
            label, error, tolerance, length(actual), length(expected))
  )
  invisible(error)
}

# Every array of an analytic gradient list against the numerical one: same
# names in the same order, same shapes, relative error below `tolerance`.
expect_gradients_match <- function(actual, expected, tolerance = 1e-6,
                                   floor = 1e-3) {
  expect_identical(names(actual), names(expected))
  for (name in names(expected)) {
    expect_identical(dim(actual[[name]]), dim(expected[[name]]),
                     label = sprintf("dim of gradient `%s`", name))
    expect_relative_error_below(actual[[name]], expected[[name]], tolerance,
                                label = sprintf("gradient `%s`", name),
                                floor = floor)
  }
}

# The whole check on one flow: the loss of loss_and_gradient() equals the
# mean negative log-likelihood from log_prob(), every parameter gradient and
# the input gradient match central differences, and the trainable parameters
# are left as they were.
expect_flow_gradients <- function(distribution, x, layers = list(),
                                  tolerance = 1e-6, floor = 1e-3,
                                  rel_step = 1e-5) {
  before <- trainable_parameters(distribution)
  expected_loss <- restoring_loss(distribution, layers)(x)
  numerical <- numerical_parameter_gradient(distribution, x, layers, rel_step)
  numerical_input <- numerical_input_gradient(distribution, x, layers,
                                              rel_step)
  saved <- lapply(layers, get_weights)
  analytic <- loss_and_gradient(distribution, x, input_gradient = TRUE)
  for (k in seq_along(layers)) set_weights(layers[[k]], saved[[k]])
  expect_equal(analytic$loss, expected_loss, tolerance = 1e-12)
  expect_gradients_match(analytic$gradient, numerical, tolerance, floor)
  expect_identical(dim(analytic$input), dim(x))
  expect_relative_error_below(analytic$input, numerical_input, tolerance,
                              label = "input gradient", floor = floor)
  expect_identical(trainable_parameters(distribution), before)
  invisible(list(analytic = analytic, numerical = numerical,
                 numerical_input = numerical_input))
}

# Moves every trainable parameter to random values, so that no gradient is
# checked only at the initial point (zero biases, unit gamma): gamma and
# scale stay positive, kernels keep their masks (the setter applies them).
randomize_parameters <- function(distribution, sd = 0.3) {
  params <- trainable_parameters(distribution)
  slots <- bijectors:::parameter_slots_of(distribution)
  constraints <- vapply(slots, function(slot) slot$constraint, character(1))
  names(constraints) <- vapply(slots, function(slot) slot$name, character(1))
  for (name in names(params)) {
    value <- params[[name]]
    if (grepl("(^|/)(gamma|scale)$", name)) {
      value[] <- runif(length(value), 0.6, 1.8)
    } else if (constraints[[name]] %in% c("positive", "nonnegative")) {
      # multiplicative, so that the parameter stays in its domain
      value[] <- value * exp(rnorm(length(value), sd = sd))
    } else {
      value[] <- value + rnorm(length(value), sd = sd)
    }
    params[[name]] <- value
  }
  trainable_parameters(distribution) <- params
  invisible(params)
}

# A transformed distribution on D features with a non-standard diagonal
# normal base, so that the base's gradient is exercised too.
flow_on <- function(bijector, D = 3) {
  tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = seq(-0.5, 0.5, length.out = D),
                                 scale_diag = seq(0.8, 1.4, length.out = D)),
    bijector)
}

# Data for gradient checks: rows of a correlated, shifted normal.
gradient_data <- function(n = 20, D = 3) {
  z <- matrix(rnorm(n * D), n, D)
  z %*% (diag(D) + 0.3) + matrix(seq_len(D) * 0.5, n, D, byrow = TRUE)
}

# ---- Adam --------------------------------------------------------------------

# One Adam step (Kingma and Ba, Algorithm 1) on a named list of parameters,
# with the moments kept in `state` (list(m = , v = , step = )).
ref_adam_step <- function(params, gradients, state, learning_rate,
                          beta_1 = 0.9, beta_2 = 0.999, epsilon = 1e-7) {
  if (is.null(state)) {
    state <- list(m = lapply(params, function(p) p * 0),
                  v = lapply(params, function(p) p * 0), step = 0)
  }
  state$step <- state$step + 1
  t <- state$step
  for (name in names(params)) {
    g <- gradients[[name]]
    state$m[[name]] <- beta_1 * state$m[[name]] + (1 - beta_1) * g
    state$v[[name]] <- beta_2 * state$v[[name]] + (1 - beta_2) * g * g
    m_hat <- state$m[[name]] / (1 - beta_1^t)
    v_hat <- state$v[[name]] / (1 - beta_2^t)
    params[[name]] <- params[[name]] - learning_rate * m_hat /
      (sqrt(v_hat) + epsilon)
  }
  list(params = params, state = state)
}
