# Plain-R references for the elementwise bijectors (tfb_exp, tfb_sigmoid,
# tfb_shift, tfb_scale) and the conformance checks they all go through
# (DESIGN section 11). Nothing here calls the package's C code: the
# references use base R's exp(), log(), plogis(), and derivatives are
# central differences of the package's public methods.

ref_sigmoid <- function(x) plogis(x)
# log sigmoid'(x) = log sigmoid(x) + log sigmoid(-x), with R's own accurate
# log-scale logistic.
ref_sigmoid_fldj <- function(x) {
  plogis(x, log.p = TRUE) + plogis(-x, log.p = TRUE)
}
ref_sigmoid_bounded <- function(x, low, high) low + (high - low) * plogis(x)

# One row per kind: a constructor call with non-trivial parameters, a
# domain for x, and the plain-R forward and log|f'| (elementwise, on a
# matrix with D columns; `p(j)` is a parameter's value for column j).
elementwise_cases <- function(D = 3) {
  along <- function(x, v) matrix(v, nrow(x), ncol(x), byrow = TRUE)
  list(
    exp = list(
      make = function(...) tfb_exp(),
      parameters = list(),
      x = function(n) matrix(runif(n * D, -2, 1.5), n, D),
      forward = function(x, p) exp(x),
      fldj = function(x, p) x),
    sigmoid = list(
      make = function(...) tfb_sigmoid(),
      parameters = list(),
      x = function(n) matrix(runif(n * D, -6, 6), n, D),
      forward = function(x, p) ref_sigmoid(x),
      fldj = function(x, p) ref_sigmoid_fldj(x)),
    sigmoid_bounded = list(
      make = function(low, high) tfb_sigmoid(low = low, high = high),
      parameters = list(low = c(-2, 0.5, 3)[seq_len(D)], high = 4.5),
      x = function(n) matrix(runif(n * D, -4, 4), n, D),
      forward = function(x, p) {
        ref_sigmoid_bounded(x, along(x, p$low), along(x, p$high))
      },
      fldj = function(x, p) ref_sigmoid_fldj(x) + log(along(x, p$high - p$low))),
    shift = list(
      make = function(shift) tfb_shift(shift),
      parameters = list(shift = c(0.3, -1, 2)[seq_len(D)]),
      x = function(n) matrix(rnorm(n * D), n, D),
      forward = function(x, p) x + along(x, p$shift),
      fldj = function(x, p) 0 * x),
    scale = list(
      make = function(scale) tfb_scale(scale),
      parameters = list(scale = c(1.5, -0.7, 2)[seq_len(D)]),
      x = function(n) matrix(rnorm(n * D), n, D),
      forward = function(x, p) x * along(x, p$scale),
      fldj = function(x, p) 0 * x + along(x, log(abs(p$scale)))),
    log_scale = list(
      make = function(log_scale) tfb_scale(log_scale = log_scale),
      parameters = list(log_scale = -0.4),
      x = function(n) matrix(rnorm(n * D), n, D),
      forward = function(x, p) x * exp(p$log_scale),
      fldj = function(x, p) 0 * x + p$log_scale)
  )
}

make_case <- function(case, parameters = case$parameters) {
  do.call(case$make, parameters)
}

# The derivative of an elementwise map by central differences, element by
# element.
numerical_elementwise_derivative <- function(f, x, h = 1e-6) {
  (f(x + h) - f(x - h)) / (2 * h)
}

# Sum over the last k axes of an array, as a plain-R reference for the
# event_ndims reduction: a number when k is the rank.
ref_reduce_last <- function(a, k) {
  dims <- if (is.null(dim(a))) length(a) else dim(a)
  rank <- length(dims)
  if (k == 0L) return(a)
  if (k == rank) return(sum(a))
  kept <- seq_len(rank - k)
  out <- apply(a, kept, sum)
  if (length(kept) == 1L) as.vector(out) else out
}

# A scalar loss L = sum(g_out * output) + sum(g_ld * log_det) of one
# direction, computed through the public methods only.
pass_loss <- function(bijector, input, direction, event_ndims, g_out, g_ld) {
  if (direction == "forward") {
    out <- bijector$forward(input)
    ld <- bijector$forward_log_det_jacobian(input, event_ndims)
  } else {
    out <- bijector$inverse(input)
    ld <- bijector$inverse_log_det_jacobian(input, event_ndims)
  }
  sum(g_out * out) + sum(g_ld * ld)
}

central <- function(f, v, h) (f(v + h) - f(v - h)) / (2 * h)

# Numerical gradients of pass_loss() in the input and in each parameter
# (bijectors rebuilt with moved parameters).
numerical_pass_gradients <- function(case, input, direction, event_ndims,
                                     g_out, g_ld, h = 1e-6) {
  b <- make_case(case)
  grad_input <- input
  for (i in seq_along(input)) {
    grad_input[i] <- central(function(v) {
      moved <- input
      moved[i] <- v
      pass_loss(b, moved, direction, event_ndims, g_out, g_ld)
    }, input[i], h)
  }
  grad_parameters <- lapply(names(case$parameters), function(name) {
    value <- case$parameters[[name]]
    vapply(seq_along(value), function(j) {
      central(function(v) {
        moved <- case$parameters
        moved[[name]][j] <- v
        pass_loss(make_case(case, moved), input, direction, event_ndims,
                  g_out, g_ld)
      }, value[j], h)
    }, numeric(1))
  })
  names(grad_parameters) <- names(case$parameters)
  list(input = grad_input, parameters = grad_parameters)
}

# TFP's assert_scalar_congruency(): monotone, round trips, and the change of
# variables: (upper_y - lower_y) * mean(exp(ILDJ(U(y)))) ~ upper_x - lower_x.
# As TFP's, it takes increasing and decreasing maps (tfb_reciprocal()).
expect_scalar_congruency <- function(b, lower_x, upper_x, rtol, n = 10000) {
  grid <- seq(lower_x, upper_x, length.out = 10)
  steps <- diff(b$forward(grid))
  expect_true(all(steps > 0) || all(steps < 0))
  x <- runif(n, lower_x, upper_x)
  expect_equal(b$inverse(b$forward(x)), x, tolerance = 1e-5)
  lower_y <- min(b$forward(lower_x), b$forward(upper_x))
  upper_y <- max(b$forward(lower_x), b$forward(upper_x))
  y <- runif(n, lower_y, upper_y)
  expect_equal(b$forward(b$inverse(y)), y, tolerance = 1e-5)
  change <- (upper_y - lower_y) * mean(exp(b$inverse_log_det_jacobian(y, 0)))
  expect_equal(change, upper_x - lower_x, tolerance = rtol)
  expect_equal(exp(b$inverse_log_det_jacobian(y, 0)),
               1 / exp(b$forward_log_det_jacobian(b$inverse(y), 0)),
               tolerance = 1e-3)
}

# TFP's assertAllClose(): |actual - expected| <= atol + rtol * |expected|
# elementwise (equal infinities pass), with shapes compared too.
expect_allclose <- function(actual, expected, rtol = 1e-6, atol = 1e-6,
                            label = "value") {
  expect_identical(dim(actual), dim(expected), label = label)
  a <- as.vector(actual)
  e <- as.vector(expected)
  ok <- (a == e) | abs(a - e) <= atol + rtol * abs(e)
  expect(isTRUE(all(ok)), sprintf(
    "%s: not close to the expected value (rtol %g, atol %g) at %s", label,
    rtol, atol, paste(head(which(!ok | is.na(ok))), collapse = ", ")))
}

# TFP's assert_bijective_and_finite() at event_ndims 0: every value finite,
# both round trips, and -ILDJ(y) = FLDJ(inverse(y)) on both grids.
expect_bijective_and_finite <- function(b, x, y, rtol = 1e-5, atol = 0) {
  f_x <- b$forward(x)
  g_y <- b$inverse(y)
  values <- list(x, y, f_x, g_y, b$inverse(f_x), b$forward(g_y),
                 b$inverse_log_det_jacobian(f_x, 0),
                 b$forward_log_det_jacobian(x, 0),
                 b$inverse_log_det_jacobian(y, 0),
                 b$forward_log_det_jacobian(g_y, 0))
  expect_true(all(vapply(values, function(v) all(is.finite(v)), logical(1))))
  expect_allclose(b$inverse(f_x), x, rtol, atol, "inverse(forward(x))")
  expect_allclose(b$forward(g_y), y, rtol, atol, "forward(inverse(y))")
  expect_allclose(-b$inverse_log_det_jacobian(f_x, 0),
                  b$forward_log_det_jacobian(x, 0), rtol, atol,
                  "-ildj(forward(x))")
  expect_allclose(-b$inverse_log_det_jacobian(y, 0),
                  b$forward_log_det_jacobian(g_y, 0), rtol, atol,
                  "-ildj(y)")
}
