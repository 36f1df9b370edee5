# tfb_sinh(): TFP's Sinh, with the checks of sinh_test.py (reference
# formula on a grid) and its docstring's values.

# log(cosh(x)) near 0 is x^2 / 2: for x = 1e-300 its reference needs more
# than 2000 bits (cosh(x) = 1 + 5e-601).
mp_wide <- function(x) Rmpfr::mpfr(x, 4096L)

test_that("sinh maps as TFP's test says", {
  b <- tfb_sinh()
  x <- array(seq(-50, 50, length.out = 100), c(2, 5, 10))
  y <- sinh(x)
  ildj <- -0.5 * log1p(y^2)
  expect_allclose(b$forward(x), y, rtol = 1e-15, atol = 0)
  expect_allclose(b$inverse(y), x, rtol = 1e-14, atol = 0)
  expect_allclose(b$inverse_log_det_jacobian(y, 0), ildj, rtol = 1e-6,
                  atol = 0)
  expect_allclose(b$forward_log_det_jacobian(x, 0), -ildj, rtol = 1e-4,
                  atol = 0)
  # the docstring
  m <- matrix(c(1, 0, 3, 2), 2, byrow = TRUE)
  expect_allclose(b$forward(m), matrix(c(1.1752012, 0, 10.017875, 3.6268604),
                                       2, byrow = TRUE), rtol = 1e-7)
  expect_allclose(b$inverse(m), matrix(c(0.8813736, 0, 1.8184465, 1.4436355),
                                       2, byrow = TRUE), rtol = 1e-7)
  # tfprobability's test
  expect_allclose(b$forward(1), 1.175201194, rtol = 1e-9)
})

test_that("the log-det is log(cosh(x)) to full precision near 0", {
  b <- tfb_sinh()
  x <- c(-50, -1, 1e-6, 1, 50)
  # The sheet's 5.000444503e-13 at 1e-6 is double log(cosh(1e-6)), which
  # cancels; the true value is x^2 / 2 - x^4 / 12.
  expect_allclose(b$forward_log_det_jacobian(x, 0),
                  c(49.30685282, 0.4337808305, 5e-13 - 1e-24 / 12,
                    0.4337808305, 49.30685282), rtol = 1e-9, atol = 0)
  # TFP's float64 branch returns about |x| below 2.4e-50; this is x^2 / 2.
  expect_identical(b$forward_log_det_jacobian(1e-60, 0), 5e-121)
})

test_that("sinh is congruent on [-7, 7] and bijective and finite", {
  set.seed(601)
  b <- tfb_sinh()
  expect_scalar_congruency(b, -7, 7, rtol = 0.5)
  y <- c(-1, 1) * .Machine$double.xmax / 10
  expect_bijective_and_finite(b, asinh(y), y, rtol = 1e-4)
})

test_that("validate_args checks nothing: every real is in the domain", {
  b <- tfb_sinh(validate_args = TRUE)
  expect_identical(b$inverse(c(-Inf, Inf)), c(-Inf, Inf))
  expect_identical(b$forward_log_det_jacobian(c(-Inf, Inf), 0), c(Inf, Inf))
})

test_that("tfb_sinh() has tfprobability's signature and checks its arguments", {
  expect_identical(formals(tfb_sinh),
                   as.pairlist(alist(validate_args = FALSE, name = "sinh")))
  expect_error(tfb_sinh(validate_args = 1), class = "bijectors_error_argument")
  expect_error(tfb_sinh(name = NA_character_),
               class = "bijectors_error_argument")
})

test_that("sinh is accurate to 4 ulps across its domain", {
  skip_if_not_installed("Rmpfr")
  b <- tfb_sinh()
  x <- accuracy_inputs()
  expect_ulps(b$forward(x), sinh(mp(x)), label = "forward", inputs = x)
  expect_ulps(b$forward_log_det_jacobian(x, 0), log(cosh(mp_wide(x))),
              label = "fldj", inputs = x)
  y <- c(x, c(-1, 1) * .Machine$double.xmax)
  expect_ulps(b$inverse(y), asinh(mp(y)), label = "inverse", inputs = y)
  # -log(cosh(asinh(y))) = -log(1 + y^2) / 2
  expect_ulps(b$inverse_log_det_jacobian(y, 0), -log(1 + mp_wide(y)^2) / 2,
              label = "ildj", inputs = y)
})

test_that("sinh's forward map (from expm1, a block at a time) is within 1.6 ulps", {
  skip_if_not_installed("Rmpfr")
  set.seed(1206)
  # dense where e and e / (e + 1) are of a size, next to 0 and on both
  # sides of |x| = 709, where C99's sinh takes over up to its overflow
  x <- c(rnorm(2000, sd = 3), runif(500, -1, 1), runif(300, -1e-4, 1e-4),
         runif(300, 700, 710.47), -runif(100, 700, 710.47), 709,
         709 + 2^-43, 2^-(1000:1074), -2^-1074)
  b <- tfb_sinh()
  mine <- abs(x) <= 709
  expect_ulps(b$forward(x[mine]), sinh(mp(x[mine])), max_ulps = 1.6,
              label = "forward", inputs = x[mine])
  # glibc's sinh beyond: measured up to 1.6 ulps there too
  expect_ulps(b$forward(x[!mine]), sinh(mp(x[!mine])), label = "forward",
              inputs = x[!mine])
  y <- b$forward(c(0, -0, 710.48, -710.48, Inf, -Inf, NaN, NA))
  expect_identical(y, c(0, -0, Inf, -Inf, Inf, -Inf, NaN, NA))
  expect_identical(1 / y[1:2], c(Inf, -Inf))
})

test_that("sinh's inverse (vector log1p) and inverse log-det are accurate densely", {
  skip_if_not_installed("Rmpfr")
  set.seed(1211)
  # small y, where the ILDJ is about -y^2 / 2 and TFP's -log_cosh(asinh(y))
  # doubled asinh's rounding (4.5 ulps at y = 0.0376); both sides of 1 and
  # of 2^26; the largest doubles
  y <- c(rnorm(2000, sd = 3), runif(1000, -0.1, 0.1), 1 + runif(300, -1e-3, 1e-3),
         exp(runif(500, -30, 700)), -exp(runif(300, 15, 25)),
         2^26 * c(1 - 2^-52, 1, 1 + 2^-52), 0.03762149036245583,
         2^-(1000:1074), 1e308, -1.7e308)
  b <- tfb_sinh()
  expect_ulps(b$inverse(y), asinh(mp(y)), max_ulps = 1.5, label = "inverse",
              inputs = y)
  expect_ulps(b$inverse_log_det_jacobian(y, 0), -log1p(mp(y)^2) / 2,
              max_ulps = 1.8, label = "ildj", inputs = y)
  x <- b$inverse(c(0, -0, Inf, -Inf, NaN, NA))
  expect_identical(x, c(0, -0, Inf, -Inf, NaN, NA))
  expect_identical(1 / x[1:2], c(Inf, -Inf))
  expect_identical(b$inverse_log_det_jacobian(c(0, Inf, -Inf), 0),
                   c(0, -Inf, -Inf))
})
