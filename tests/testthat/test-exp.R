# tfb_exp(): TFP's Exp, with the test values of exp_test.py.

test_that("exp maps as TFP's test says", {
  x <- array(c(1, 2), c(1, 2, 1))
  b <- tfb_exp()
  y <- b$forward(x)
  expect_equal(as.vector(y), c(2.718281828, 7.389056099), tolerance = 1e-9)
  expect_equal(y, exp(x), tolerance = 1e-15)
  expect_equal(b$inverse(y), x, tolerance = 1e-15)
  # ILDJ(y, 1) = -squeeze(log y) = [[-1, -2]]; FLDJ(x, 1) = [[1, 2]]
  expect_equal(b$inverse_log_det_jacobian(y, 1), matrix(c(-1, -2), 1, 2),
               tolerance = 1e-15)
  expect_equal(b$forward_log_det_jacobian(x, 1), matrix(c(1, 2), 1, 2),
               tolerance = 1e-15)
  expect_identical(b$forward_log_det_jacobian(22, 0), 22)
  expect_equal(b$forward_log_det_jacobian(22, 0),
               log(numerical_elementwise_derivative(exp, 22, h = 1e-8)),
               tolerance = 1e-6)
})

test_that("exp is congruent on [-2, 1.5] and bijective and finite", {
  set.seed(201)
  b <- tfb_exp()
  expect_scalar_congruency(b, -2, 1.5, rtol = 0.05)
  x <- seq(-10, 10, length.out = 10)
  y <- 10^seq(-10, 10, length.out = 10)
  values <- list(b$forward(x), b$inverse(y), b$inverse(b$forward(x)),
                 b$forward(b$inverse(y)), b$forward_log_det_jacobian(x, 0),
                 b$inverse_log_det_jacobian(y, 0))
  expect_true(all(vapply(values, function(v) all(is.finite(v)), logical(1))))
  expect_equal(b$inverse(b$forward(x)), x, tolerance = 1e-5)
  expect_equal(b$forward(b$inverse(y)), y, tolerance = 1e-5)
  expect_equal(-b$inverse_log_det_jacobian(b$forward(x), 0),
               b$forward_log_det_jacobian(x, 0), tolerance = 1e-5)
  expect_equal(-b$inverse_log_det_jacobian(y, 0),
               b$forward_log_det_jacobian(b$inverse(y), 0), tolerance = 1e-5)
})

test_that("validate_args checks that the inverse's input is non-negative", {
  b <- tfb_exp(validate_args = TRUE)
  expect_error(b$inverse(c(1, -1)), class = "bijectors_error_domain")
  expect_error(b$inverse_log_det_jacobian(c(1, -1), 1),
               class = "bijectors_error_domain")
  expect_snapshot(b$inverse(-1), error = TRUE)
  expect_identical(b$inverse(0), -Inf)
  expect_equal(b$forward(-1), exp(-1), tolerance = 1e-15)
  expect_true(is.nan(suppressWarnings(tfb_exp()$inverse(-1))))
})

test_that("tfb_exp() checks its arguments", {
  expect_error(tfb_exp(validate_args = NA), class = "bijectors_error_argument")
  expect_error(tfb_exp(name = 1), class = "bijectors_error_argument")
  expect_identical(tfb_exp(name = "e")$name, "e")
})

test_that("exp is accurate to 4 ulps across its domain", {
  skip_if_not_installed("Rmpfr")
  b <- tfb_exp()
  x <- accuracy_inputs()
  y_true <- exp(mp(x))
  expect_ulps(b$forward(x), y_true, label = "forward", inputs = x)
  expect_ulps(b$forward_log_det_jacobian(x, 0), mp(x), label = "fldj",
              inputs = x)
  y <- accuracy_inputs(0, Inf)
  expect_ulps(b$inverse(y), log(mp(y)), label = "inverse", inputs = y)
  expect_ulps(b$inverse_log_det_jacobian(y, 0), -log(mp(y)), label = "ildj",
              inputs = y)
})
