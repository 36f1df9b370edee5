# tfb_expm1(): TFP's Expm1, with the values of expm1_test.py and
# tfprobability's tests.

test_that("expm1 maps as TFP's test says", {
  x <- array(c(-1, 1.4), c(1, 2, 1))
  b <- tfb_expm1()
  y <- b$forward(x)
  expect_allclose(y, array(c(-0.6321205588, 3.055199967), c(1, 2, 1)),
                  rtol = 1e-9, atol = 0)
  expect_allclose(b$inverse(y), x, rtol = 1e-15, atol = 0)
  # ILDJ(y, 1) = -squeeze(log1p(y)) = [[1, -1.4]]; FLDJ(x, 1) = [[-1, 1.4]]
  expect_allclose(b$inverse_log_det_jacobian(y, 1), matrix(c(1, -1.4), 1, 2),
                  rtol = 1e-15, atol = 0)
  expect_allclose(b$forward_log_det_jacobian(x, 1), matrix(c(-1, 1.4), 1, 2),
                  rtol = 0, atol = 0)
  set.seed(401)
  x <- rnorm(30)
  expect_allclose(b$inverse(b$forward(x)), x, rtol = 1e-14, atol = 1e-16)
})

test_that("expm1 is congruent on [-5, 2.5] and bijective and finite", {
  set.seed(402)
  b <- tfb_expm1()
  expect_scalar_congruency(b, -5, 2.5, rtol = 0.15)
  expect_bijective_and_finite(b, seq(-5, 5, length.out = 20),
                              10^seq(-5, 5, length.out = 20))
})

test_that("expm1 agrees with tfprobability's tests", {
  b <- tfb_expm1()
  x <- matrix(c(1.1, 2.1, 3.1, 4.1))
  chain <- tfb_chain(list(tfb_shift(-1), tfb_exp()))
  expect_equal(b$forward(x), chain$forward(x), tolerance = 1e-14)
  x <- matrix(1:8, 4)
  expect_equal(b$inverse(b$forward(x)), x + 0, tolerance = 1e-15)
  # vector_math's log1p, not the C library's: log1p(2) = log(3) is
  # correctly rounded there and 0.9 ulps off in glibc (both within 1 ulp)
  expect_equal(b$inverse(x), log1p(x), tolerance = 2^-52)
  expect_identical(b$inverse(2), 0x1.193ea7aad030bp+0)
})

test_that("validate_args checks nothing, as in TFP", {
  b <- tfb_expm1(validate_args = TRUE)
  expect_identical(b$inverse(-1), -Inf)
  expect_true(is.nan(suppressWarnings(b$inverse(-2))))
  expect_true(is.nan(suppressWarnings(b$inverse_log_det_jacobian(-2, 0))))
})

test_that("tfb_expm1() has tfprobability's signature and checks its arguments", {
  expect_identical(formals(tfb_expm1),
                   as.pairlist(alist(validate_args = FALSE, name = "expm1")))
  expect_error(tfb_expm1(validate_args = NA),
               class = "bijectors_error_argument")
  expect_error(tfb_expm1(name = 1), class = "bijectors_error_argument")
  expect_identical(tfb_expm1(name = "e")$name, "e")
})

test_that("expm1 is accurate to 4 ulps across its domain", {
  skip_if_not_installed("Rmpfr")
  b <- tfb_expm1()
  x <- accuracy_inputs()
  expect_ulps(b$forward(x), expm1(mp(x)), label = "forward", inputs = x)
  expect_ulps(b$forward_log_det_jacobian(x, 0), mp(x), label = "fldj",
              inputs = x)
  y <- accuracy_inputs(-1, Inf)
  expect_ulps(b$inverse(y), log1p(mp(y)), label = "inverse", inputs = y)
  expect_ulps(b$inverse_log_det_jacobian(y, 0), -log1p(mp(y)),
              label = "ildj", inputs = y)
})
