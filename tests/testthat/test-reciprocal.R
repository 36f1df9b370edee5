# tfb_reciprocal(): TFP's Reciprocal, with the checks of reciprocal_test.py
# (reference formula on grids) and its docstring's values.

test_that("reciprocal maps as TFP's test and docstring say", {
  b <- tfb_reciprocal()
  for (x in list(seq(1e-3, 10, length.out = 100),
                 seq(-10, -1e-3, length.out = 100))) {
    expect_allclose(b$forward(x), 1 / x, rtol = 1e-15, atol = 0)
    expect_allclose(b$inverse(1 / x), x, rtol = 1e-15, atol = 0)
    expect_allclose(b$forward_log_det_jacobian(x, 0), -2 * log(abs(x)),
                    rtol = 1e-15, atol = 1e-15)
    expect_allclose(b$inverse_log_det_jacobian(1 / x, 0), 2 * log(abs(x)),
                    rtol = 1e-15, atol = 1e-15)
  }
  expect_identical(b$forward(matrix(c(1, 2, 4, 5), 2, byrow = TRUE)),
                   matrix(c(1, 0.5, 0.25, 0.2), 2, byrow = TRUE))
  x <- c(-2, 0.5, 4)
  expect_identical(b$forward(x), c(-0.5, 2, 0.25))
  ldj <- c(-1.386294361, 1.386294361, -2.772588722)
  expect_allclose(b$forward_log_det_jacobian(x, 0), ldj, rtol = 1e-9, atol = 0)
  expect_allclose(b$inverse_log_det_jacobian(x, 0), ldj, rtol = 1e-9, atol = 0)
  expect_identical(b$inverse(b$forward(c(1, 2, 3))), c(1, 2, 3))
})

test_that("reciprocal is decreasing, congruent and bijective and finite", {
  set.seed(501)
  b <- tfb_reciprocal()
  expect_true(all(diff(b$forward(seq(0.1, 10, length.out = 10))) < 0))
  expect_scalar_congruency(b, 0.1, 10, rtol = 0.2)
  expect_scalar_congruency(b, -10, -0.1, rtol = 0.2)
  x <- seq(0.1, 10, length.out = 100)
  expect_bijective_and_finite(b, x, x)
  expect_bijective_and_finite(b, -x, -x)
})

test_that("validate_args refuses zeros in all four methods", {
  b <- tfb_reciprocal(validate_args = TRUE)
  expect_error(b$forward(c(1, 0)), class = "bijectors_error_domain")
  expect_error(b$inverse(c(0, 2)), class = "bijectors_error_domain")
  expect_error(b$forward_log_det_jacobian(0, 0),
               class = "bijectors_error_domain")
  expect_error(b$inverse_log_det_jacobian(matrix(0, 2, 2), 1),
               class = "bijectors_error_domain")
  expect_snapshot(b$forward(c(1, 0)), error = TRUE)
  expect_identical(b$forward(c(-4, 2)), c(-0.25, 0.5))
  expect_identical(tfb_reciprocal()$forward(c(-0, 0)), c(-Inf, Inf))
})

test_that("tfb_reciprocal() has tfprobability's signature and checks its arguments", {
  expect_identical(formals(tfb_reciprocal),
                   as.pairlist(alist(validate_args = FALSE,
                                     name = "reciprocal")))
  expect_error(tfb_reciprocal(validate_args = "yes"),
               class = "bijectors_error_argument")
  expect_error(tfb_reciprocal(name = c("a", "b")),
               class = "bijectors_error_argument")
})

test_that("reciprocal is accurate to 4 ulps across its domain", {
  skip_if_not_installed("Rmpfr")
  b <- tfb_reciprocal()
  x <- accuracy_inputs()
  x <- x[x != 0]
  expect_ulps(b$forward(x), 1 / mp(x), label = "forward", inputs = x)
  expect_ulps(b$inverse(x), 1 / mp(x), label = "inverse", inputs = x)
  expect_ulps(b$forward_log_det_jacobian(x, 0), log(1 / mp(x)^2),
              label = "fldj", inputs = x)
  expect_ulps(b$inverse_log_det_jacobian(x, 0), log(1 / mp(x)^2),
              label = "ildj", inputs = x)
})
