# tfb_square(): TFP's Square on [0, Inf), with the values of square_test.py
# and its docstring.

test_that("square maps as TFP's test says", {
  b <- tfb_square(validate_args = TRUE)
  x <- aperm(array(c(1, 5, 2, 1, sqrt(2), 3, sqrt(8), 1), c(2, 2, 2)),
             c(3, 2, 1))
  y <- aperm(array(c(1, 25, 4, 1, 2, 9, 8, 1), c(2, 2, 2)), c(3, 2, 1))
  expect_allclose(b$forward(x), y, rtol = 1e-15, atol = 0)
  expect_allclose(b$inverse(y), x, rtol = 1e-15, atol = 0)
  ildj <- aperm(array(c(-0.6931471806, -2.302585093, -1.386294361,
                        -0.6931471806, -1.039720771, -1.791759469,
                        -1.732867951, -0.6931471806), c(2, 2, 2)), c(3, 2, 1))
  expect_allclose(b$inverse_log_det_jacobian(y, 0), ildj, rtol = 1e-9,
                  atol = 0)
  expect_allclose(b$inverse_log_det_jacobian(y, 0), -log(2) - log(x),
                  rtol = 1e-15, atol = 0)
  expect_allclose(b$forward_log_det_jacobian(x, 0), -ildj, rtol = 1e-9,
                  atol = 0)
  # the docstring, and tfprobability's test
  expect_identical(b$forward(matrix(c(1, 0, 2, 1), 2, byrow = TRUE)),
                   matrix(c(1, 0, 4, 1), 2, byrow = TRUE))
  expect_identical(b$inverse(matrix(c(1, 4, 9, 1), 2, byrow = TRUE)),
                   matrix(c(1, 2, 3, 1), 2, byrow = TRUE))
  x <- matrix(1:8, 4)
  expect_identical(b$forward(x), x^2)
})

test_that("square is congruent on [1e-3, 1.5]", {
  set.seed(801)
  expect_scalar_congruency(tfb_square(), 1e-3, 1.5, rtol = 0.08)
  expect_bijective_and_finite(tfb_square(), seq(0.01, 10, length.out = 50),
                              seq(1e-4, 100, length.out = 50))
})

test_that("validate_args refuses negative inputs in every method", {
  b <- tfb_square(validate_args = TRUE)
  expect_error(b$forward(c(1, -1)), class = "bijectors_error_domain")
  expect_error(b$inverse(-1), class = "bijectors_error_domain")
  expect_error(b$forward_log_det_jacobian(-1, 0),
               class = "bijectors_error_domain")
  expect_error(b$inverse_log_det_jacobian(-1, 0),
               class = "bijectors_error_domain")
  expect_snapshot(b$forward(c(1, -1)), error = TRUE)
  expect_identical(b$inverse(0), 0)
  expect_identical(b$inverse_log_det_jacobian(0, 0), Inf)
  # without validate_args, TFP's silent x^2 and a NaN log-det
  expect_identical(tfb_square()$forward(-2), 4)
  expect_true(is.nan(suppressWarnings(
    tfb_square()$forward_log_det_jacobian(-2, 0))))
})

test_that("tfb_square() has tfprobability's signature and checks its arguments", {
  expect_identical(formals(tfb_square),
                   as.pairlist(alist(validate_args = FALSE, name = "square")))
  expect_error(tfb_square(validate_args = NULL),
               class = "bijectors_error_argument")
  expect_error(tfb_square(name = NULL), class = "bijectors_error_argument")
})

test_that("square is accurate to 4 ulps across its domain", {
  skip_if_not_installed("Rmpfr")
  b <- tfb_square()
  x <- c(accuracy_inputs(0, Inf), 0.5 + (-3:3) * 2^-53, .Machine$double.xmax)
  expect_ulps(b$forward(x), mp(x)^2, label = "forward", inputs = x)
  expect_ulps(b$forward_log_det_jacobian(x, 0), log(2 * mp(x)),
              label = "fldj", inputs = x)
  y <- c(x, 0.25 + (-3:3) * 2^-54)
  expect_ulps(b$inverse(y), sqrt(mp(y)), label = "inverse", inputs = y)
  expect_ulps(b$inverse_log_det_jacobian(y, 0), -log(2 * sqrt(mp(y))),
              label = "ildj", inputs = y)
})
