# Gradients of a network-template FFJORD flow (src/ffjord_network.c's
# reverse pass through the solver's accepted steps) against central
# differences of the loss, in both directions, with the exact trace and
# Hutchinson's (the same noise draw in every evaluation: the seed is set
# before each).

ffjord_gradient_flow <- function(activation, trace, direction,
                                 rtol = 1e-10, atol = 1e-12) {
  set.seed(1)
  template <- tfb_ffjord_default_template(
    c(6, 5), activation = activation,
    bias_initializer = function(n) stats::runif(n, -0.5, 0.5))
  b <- tfb_ffjord(template,
                  ode_solve_fn = ode_dormand_prince(rtol = rtol, atol = atol),
                  trace_augmentation_fn = trace, initial_time = 0.2,
                  final_time = 1.1)
  if (direction == "forward") b <- tfb_invert(b)
  tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = c(0.1, -0.2), scale_diag = c(1, 1.3)),
    b)
}

# loss_and_gradient() and central differences of its loss, each evaluation
# with the same seed (Hutchinson's noise is drawn with R's generator).
seeded_gradients <- function(flow, x, seed = 5, rel_step = 1e-5) {
  loss <- function(data = x) {
    set.seed(seed)
    loss_and_gradient(flow, data, input_gradient = TRUE)
  }
  params <- trainable_parameters(flow)
  numerical <- lapply(names(params), function(name) {
    value <- params[[name]]
    gradient <- value
    for (i in seq_along(value)) {
      step <- rel_step * max(1, abs(value[[i]]))
      moved <- params
      moved[[name]][[i]] <- value[[i]] + step
      trainable_parameters(flow) <- moved
      up <- loss()$loss
      moved[[name]][[i]] <- value[[i]] - step
      trainable_parameters(flow) <- moved
      down <- loss()$loss
      gradient[[i]] <- (up - down) / (2 * step)
    }
    trainable_parameters(flow) <- params
    gradient
  })
  names(numerical) <- names(params)
  numerical_input <- x
  for (i in seq_along(x)) {
    moved <- x
    moved[[i]] <- x[[i]] + rel_step
    up <- loss(moved)$loss
    moved[[i]] <- x[[i]] - rel_step
    numerical_input[[i]] <- (up - loss(moved)$loss) / (2 * rel_step)
  }
  list(analytic = loss(), numerical = numerical,
       numerical_input = numerical_input)
}

expect_ffjord_gradients <- function(flow, x, tolerance, label) {
  invisible(flow$log_prob(x))
  randomize_parameters(flow)
  before <- trainable_parameters(flow)
  out <- seeded_gradients(flow, x)
  expect_identical(names(out$analytic$gradient), names(before))
  for (name in names(before)) {
    expect_relative_error_below(out$analytic$gradient[[name]],
                                out$numerical[[name]], tolerance,
                                label = paste(label, name), floor = 1e-3)
  }
  expect_identical(dim(out$analytic$input), dim(x))
  expect_relative_error_below(out$analytic$input, out$numerical_input,
                              tolerance, label = paste(label, "input"),
                              floor = 1e-3)
  expect_identical(trainable_parameters(flow), before)
  invisible(out)
}

test_that("gradients match central differences: exact trace and Hutchinson", {
  x <- rbind(c(0.4, -1.1), c(1.3, 0.2), c(-0.7, 0.9), c(0.1, -0.3))
  for (activation in c("tanh", "softplus")) {
    for (trace in c("exact", "hutchinson")) {
      for (direction in c("inverse", "forward")) {
        flow <- ffjord_gradient_flow(
          activation, if (trace == "exact") trace_jacobian_exact else
            trace_jacobian_hutchinson, direction)
        expect_ffjord_gradients(flow, x, 1e-7, paste(activation, trace,
                                                     direction))
      }
    }
  }
})

test_that("at looser tolerances the gradients approach the exact flow's", {
  # the step sizes move with the parameters there, so central differences
  # of the computed loss are unreliable; the reference is the gradient at
  # rtol 1e-12 (checked against central differences at rtol 1e-10 above),
  # for a network with stiff enough dynamics that the error control, not
  # the step growth limit, sets the steps
  gradient_at <- function(rtol) {
    set.seed(11)
    template <- tfb_ffjord_default_template(
      c(6, 5), activation = "tanh",
      bias_initializer = function(n) stats::runif(n, -0.5, 0.5),
      kernel_initializer = function(shape) {
        matrix(stats::rnorm(prod(shape), sd = 1.5), shape[[1]])
      })
    b <- tfb_ffjord(template,
                    ode_solve_fn = ode_dormand_prince(rtol = rtol,
                                                      atol = rtol * 1e-3),
                    trace_augmentation_fn = trace_jacobian_exact)
    flow <- tfd_transformed_distribution(
      tfd_multivariate_normal_diag(loc = c(0, 0), scale_diag = c(1, 1)), b)
    x <- rbind(c(0.4, -1.1), c(1.3, 0.2), c(-0.7, 0.9))
    out <- loss_and_gradient(flow, x, input_gradient = TRUE)
    c(unlist(out$gradient), out$input)
  }
  reference <- gradient_at(1e-12)
  errors <- vapply(c(1e-4, 1e-6, 1e-8), function(rtol) {
    max(abs(gradient_at(rtol) - reference)) / max(abs(reference))
  }, numeric(1))
  expect_lt(errors[[1]], 1e-2)
  expect_lt(errors[[2]], 1e-4)
  expect_lt(errors[[3]], 1e-6)
  expect_true(all(diff(log(errors)) < -2))
})

test_that("the reverse pass follows the accepted steps only", {
  # a first step far too large for the dynamics forces rejected attempts
  set.seed(3)
  template <- tfb_ffjord_default_template(c(5), activation = "tanh",
                                          kernel_initializer = function(shape) {
                                            matrix(stats::rnorm(prod(shape),
                                                                sd = 2), shape[1])
                                          })
  b <- tfb_ffjord(template, trace_augmentation_fn = trace_jacobian_exact,
                  ode_solve_fn = ode_dormand_prince(rtol = 1e-9, atol = 1e-11,
                                                    first_step_size = 0.9))
  x <- rbind(c(0.4, -1.1), c(1.3, 0.2))
  flow <- tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = c(0, 0), scale_diag = c(1, 1)), b)
  invisible(flow$log_prob(x))
  solved <- bijectors:::ffjord_network_solve(b, x, 2, TRUE, record = TRUE)
  expect_gt(length(solved$tape$steps), 3L)
  expect_equal(sum(solved$tape$steps), 1, tolerance = 1e-12)
  expect_ffjord_gradients(flow, x, 1e-7, "after rejections")
})

test_that("a vector input and event_ndims 0 give gradients of their shape", {
  set.seed(4)
  b <- tfb_ffjord(tfb_ffjord_default_template(c(4), activation = "softplus"),
                  trace_augmentation_fn = trace_jacobian_exact,
                  ode_solve_fn = ode_dormand_prince(rtol = 1e-10,
                                                    atol = 1e-12))
  x <- c(0.3, -0.8)
  pass <- bijectors:::bijector_forward_with_cache(b, x, 1L)
  expect_equal(pass$y, b$forward(x), tolerance = 1e-12)
  expect_equal(pass$log_det, b$forward_log_det_jacobian(x, 1),
               tolerance = 1e-12)
  back <- bijectors:::bijector_forward_backward(b, pass$cache, c(1, 0), 1)
  expect_null(dim(back$input))
  expect_length(back$parameters, 4L)
  # d(y[1] + log_det)/dx[1] by central differences
  objective <- function(x) b$forward(x)[[1]] + b$forward_log_det_jacobian(x, 1)
  step <- 1e-5
  numerical <- vapply(1:2, function(i) {
    e <- c(0, 0)
    e[[i]] <- step
    (objective(x + e) - objective(x - e)) / (2 * step)
  }, numeric(1))
  expect_equal(back$input, numerical, tolerance = 1e-7)
  # event_ndims 0: one log-det term per element, each with its own weight
  m <- rbind(x, c(1, 0.2), deparse.level = 0)
  pass <- bijectors:::bijector_inverse_with_cache(b, m, 0L)
  expect_identical(dim(pass$log_det), c(2L, 2L))
  weights <- matrix(c(1, -2, 0.5, 3), 2, 2)
  back <- bijectors:::bijector_inverse_backward(b, pass$cache, m * 0,
                                                weights)
  objective <- function(y) sum(weights * b$inverse_log_det_jacobian(y, 0))
  numerical <- m
  for (i in seq_along(m)) {
    e <- m * 0
    e[[i]] <- step
    numerical[[i]] <- (objective(m + e) - objective(m - e)) / (2 * step)
  }
  expect_equal(back$input, numerical, tolerance = 1e-7)
})

test_that("fit() trains an FFJORD flow: the loss goes down", {
  set.seed(6)
  n <- 64
  angle <- stats::runif(n, 0, pi)
  data <- cbind(cos(angle), sin(angle)) * 1.5 +
    matrix(stats::rnorm(2 * n, sd = 0.1), n, 2)
  b <- tfb_ffjord(tfb_ffjord_default_template(c(16), activation = "tanh"),
                  trace_augmentation_fn = trace_jacobian_exact,
                  ode_solve_fn = ode_dormand_prince(rtol = 1e-4, atol = 1e-6))
  flow <- tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = c(0, 0), scale_diag = c(1, 1)), b)
  before <- -mean(flow$log_prob(data))
  history <- fit(flow, data, epochs = 15, batch_size = 32,
                 learning_rate = 0.02, verbose = FALSE)
  after <- -mean(flow$log_prob(data))
  expect_lt(after, before - 0.2)
  # Hutchinson's estimator trains too (its loss is a noisy estimate)
  set.seed(7)
  template <- tfb_ffjord_default_template(c(16), activation = "tanh")
  solver <- ode_dormand_prince(rtol = 1e-4, atol = 1e-6)
  base <- tfd_multivariate_normal_diag(loc = c(0, 0), scale_diag = c(1, 1))
  flow2 <- tfd_transformed_distribution(base, tfb_ffjord(
    template, ode_solve_fn = solver))
  # the same network (templates are shared), with the exact trace
  exact_loss <- function() {
    -mean(tfd_transformed_distribution(base, tfb_ffjord(
      template, trace_augmentation_fn = trace_jacobian_exact,
      ode_solve_fn = solver))$log_prob(data))
  }
  before <- exact_loss()
  fit(flow2, data, epochs = 15, batch_size = 32, learning_rate = 0.02,
      verbose = FALSE)
  expect_lt(exact_loss(), before - 0.2)
})
