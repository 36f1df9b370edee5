# tfb_softplus(): TFP's Softplus with hinge_softness and low, with the
# properties of softplus_test.py (which uses random inputs; the spot values
# were computed in R by the reference sheet).

test_that("softplus matches the spot values and plain R", {
  b <- tfb_softplus()
  x <- c(-20, -1, 0, 1, 20)
  expect_equal(b$forward(x), c(2.06115362e-09, 0.3132616875, 0.6931471806,
                               1.313261688, 20.000000002), tolerance = 1e-9)
  expect_equal(b$forward_log_det_jacobian(x, 0),
               c(-20.000000002, -1.313261688, -0.6931471806, -0.3132616875,
                 -2.06115362e-09), tolerance = 1e-9)
  b <- tfb_softplus(hinge_softness = 1.5)
  x <- c(-2, 0, 2)
  expect_equal(b$forward(x), c(0.3509437876, 1.039720771, 2.350943788),
               tolerance = 1e-9)
  expect_equal(b$forward_log_det_jacobian(x, 0),
               c(-1.567295858, -0.6931471806, -0.2339625251), tolerance = 1e-9)
  # TFP's random-input tests
  set.seed(501)
  x <- matrix(2 * rnorm(20), 2, 10)
  expect_equal(tfb_softplus()$forward(x), log1p(exp(x)), tolerance = 1e-14)
  expect_equal(b$forward(x), 1.5 * log1p(exp(x / 1.5)), tolerance = 1e-14)
  y <- matrix(2 * runif(20), 2, 10)
  expect_equal(tfb_softplus()$inverse(y), log(expm1(y)), tolerance = 1e-13)
  ildj <- -log(1 - exp(-y))
  expect_equal(tfb_softplus()$inverse_log_det_jacobian(y, 0), ildj,
               tolerance = 1e-14)
  expect_equal(tfb_softplus()$inverse_log_det_jacobian(y, 1), rowSums(ildj),
               tolerance = 1e-14)
  # tfprobability's test on matrix(1:8)
  x <- matrix(1:8, 2)
  expect_equal(tfb_softplus()$forward(x), log(1 + exp(x)), tolerance = 1e-14)
  expect_equal(tfb_softplus()$inverse(x), log(exp(x) - 1), tolerance = 1e-14)
})

test_that("low shifts the range and a negative hinge reflects it", {
  x <- c(-3, -0.5, 0, 2, 30)
  expect_equal(tfb_softplus(1.3, low = 1.6)$forward(x),
               1.3 * log1p(exp(x / 1.3)) + 1.6, tolerance = 1e-15)
  expect_equal(tfb_softplus(1.3, low = 1.6)$forward_log_det_jacobian(x, 0),
               tfb_softplus(1.3)$forward_log_det_jacobian(x, 0),
               tolerance = 1e-15)
  expect_equal(tfb_softplus(-1.3)$forward(x),
               -tfb_softplus(1.3)$forward(-x), tolerance = 1e-15)
  expect_true(all(tfb_softplus(-0.7, low = 2)$forward(x) <= 2))
  b <- tfb_softplus(c(1, -0.5, 2), low = c(0, 1, -2))
  m <- matrix(c(-1, 0.5, 3), 4, 3, byrow = TRUE)
  expect_equal(b$inverse(b$forward(m)), m, tolerance = 1e-14)
})

test_that("softplus is congruent, bijective and finite (TFP's cases)", {
  set.seed(502)
  for (parameters in list(list(), list(1.3), list(-1.3), list(low = 1.6),
                          list(1.3, low = 1.6))) {
    expect_scalar_congruency(do.call(tfb_softplus, parameters), -2, 2,
                             rtol = 0.02)
  }
  x <- seq(-20, 20, length.out = 100)
  y <- 10^seq(-10, 10, length.out = 100)
  expect_bijective_and_finite(tfb_softplus(), x, y, rtol = 1e-2)
  expect_bijective_and_finite(tfb_softplus(1.23), x, y, rtol = 1e-2)
  expect_bijective_and_finite(tfb_softplus(-0.7), x, -y, rtol = 1e-2)
})

test_that("the left tail's log-gradient is 1, as TFP's test checks", {
  b <- tfb_softplus()
  x <- seq(-50, -8, length.out = 200)
  backward <- bijectors:::elementwise_backward(
    b, list(x = x, event_ndims = 0L), 1 / b$forward(x), 0, 0L)
  expect_equal(backward$input, rep(1, 200), tolerance = 1e-3)
  expect_equal(log(b$forward(x)), x, tolerance = 1e-3)
})

test_that("tfb_softplus() has tfprobability's signature and checks its arguments", {
  expect_identical(names(formals(tfb_softplus)),
                   c("hinge_softness", "low", "validate_args", "name"))
  b <- tfb_softplus()
  expect_identical(b$name, "softplus")
  expect_identical(b$hinge_softness, 1)
  expect_identical(b$low, 0)
  # hinge_softness is trained, low is a fixed bound
  slots <- bijectors:::bijector_parameter_slots(tfb_softplus(2, 1))
  expect_identical(vapply(slots, function(s) s$name, ""), "hinge_softness")
  expect_error(tfb_softplus(0, validate_args = TRUE),
               class = "bijectors_error_argument")
  expect_error(tfb_softplus(0), class = "bijectors_error_argument")
  expect_error(tfb_softplus(low = Inf), class = "bijectors_error_argument")
  expect_error(tfb_softplus(low = "a"), class = "bijectors_error_argument")
  expect_error(tfb_softplus(c(1, 2), c(1, 2, 3)),
               class = "bijectors_error_event_size")
  expect_error(tfb_softplus(name = NA), class = "bijectors_error_argument")
  expect_snapshot(tfb_softplus(hinge_softness = 0), error = TRUE)
  # TFP checks no inputs: y below low gives NaN
  expect_true(is.nan(suppressWarnings(
    tfb_softplus(validate_args = TRUE)$inverse(-1))))
})

test_that("softplus is accurate to 4 ulps across its domain", {
  skip_if_not_installed("Rmpfr")
  x <- accuracy_inputs()
  for (case in list(c(1, 0), c(1.5, 0), c(-0.7, 0), c(0.3, -2))) {
    hinge <- case[[1]]
    low <- case[[2]]
    b <- tfb_softplus(hinge, low)
    what <- sprintf("(hinge_softness %g, low %g)", hinge, low)
    q <- mp(x) / hinge
    # Where low cancels the softplus, and where the inverse's result is
    # near 0 (a difference of v and log(1 - exp(-v))), the allowance is 4
    # ulps of the cancelling terms (helper-tfp-checks.R).
    expect_ulps_cancelling(b$forward(x), hinge * log1p(exp(q)) + low, low,
                           label = paste("forward", what), inputs = x)
    expect_ulps(b$forward_log_det_jacobian(x, 0), -log1p(exp(-q)),
                label = paste("fldj", what), inputs = x)
    y <- if (hinge > 0) accuracy_inputs(low, Inf) else accuracy_inputs(-Inf, low)
    y <- y[y != low]
    v <- (mp(y) - low) / hinge
    expect_ulps_cancelling(b$inverse(y), hinge * log(expm1(v)), hinge * v,
                           label = paste("inverse", what), inputs = y)
    expect_ulps(b$inverse_log_det_jacobian(y, 0), -log(-expm1(-v)),
                label = paste("ildj", what), inputs = y)
  }
})

test_that("softplus's inverse is within 4 ulps next to its zero at v = log 2", {
  skip_if_not_installed("Rmpfr")
  set.seed(1212)
  # v + log(-expm1(-v)) cancelled there: 2.6e4 ulps at c = 0.7, and
  # 7.5e15 at y = log(2) rounded (c = 1), whose true value is 2.3e-17
  for (theta in list(c(1, 0), c(0.7, -0.5), c(3, 2))) {
    c0 <- theta[[1]]
    low <- theta[[2]]
    b <- tfb_softplus(hinge_softness = c0, low = low)
    v <- c(runif(2000, 0.3, 1.1), log(2) + runif(300, -1e-6, 1e-6),
           log(2) * (1 + (-20:20) * 2^-53), 0.35, 1)
    y <- low + c0 * v
    expect_ulps(b$inverse(y), c0 * log(expm1((mp(y) - low) / c0)),
                label = sprintf("inverse (%g, %g)", c0, low), inputs = y)
  }
})
