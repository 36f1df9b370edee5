# tfb_tanh(): TFP's Tanh, with the checks of tanh_test.py (reference
# formula on a grid, and equality with a chain around the sigmoid).

# log(1 - tanh(x)^2) near 0 is -x^2: for x = 1e-300 its reference needs more
# than 2000 bits.
mp_wide <- function(x) Rmpfr::mpfr(x, 4096L)

test_that("tanh maps as TFP's test says", {
  b <- tfb_tanh()
  x <- array(seq(-3, 3, length.out = 100), c(2, 5, 10))
  y <- tanh(x)
  ildj <- -log1p(-tanh(x)^2)
  expect_allclose(b$forward(x), y, rtol = 1e-15, atol = 0)
  expect_allclose(b$inverse(y), x, rtol = 1e-13, atol = 0)
  expect_allclose(b$inverse_log_det_jacobian(y, 0), ildj, rtol = 1e-6,
                  atol = 0)
  expect_allclose(b$forward_log_det_jacobian(x, 0), -ildj, rtol = 1e-4,
                  atol = 0)
  expect_allclose(b$forward_log_det_jacobian(c(-3, 0, 1, 3), 0),
                  c(-4.618657009, 0, -0.867561661, -4.618657009),
                  rtol = 1e-9, atol = 0)
})

test_that("tanh equals a chain of shift, scale, sigmoid and scale", {
  b <- tfb_tanh()
  chain <- tfb_chain(list(tfb_shift(-1), tfb_scale(2), tfb_sigmoid(),
                          tfb_scale(2)))
  x <- seq(-3, 3, length.out = 100)
  y <- b$forward(x)
  expect_allclose(y, chain$forward(x))
  expect_allclose(b$inverse(y), chain$inverse(y))
  expect_allclose(b$forward_log_det_jacobian(x, 0),
                  chain$forward_log_det_jacobian(x, 0))
  expect_allclose(b$inverse_log_det_jacobian(y, 0),
                  chain$inverse_log_det_jacobian(y, 0))
})

test_that("tanh is congruent on [-7, 7] and bijective and finite", {
  set.seed(901)
  b <- tfb_tanh()
  expect_scalar_congruency(b, -7, 7, rtol = 0.5, n = 1e5)
  # TFP's x = linspace(-100, 100) round-trips only through TFP's cache of
  # forward results: tanh(x) rounds to +-1 from |x| = 19.1 on (atanh(+-1)
  # = +-Inf), and atanh() of the rounded tanh(x) is 1e-4 off from about
  # |x| = 12. Without a cache, the grid stops at 10.
  x <- seq(-100, 100, length.out = 100)
  expect_bijective_and_finite(b, x[abs(x) < 10],
                              seq(-1 + 1e-3, 1 - 1e-3, length.out = 100),
                              rtol = 1e-4)
})

test_that("validate_args checks nothing, as in TFP", {
  b <- tfb_tanh(validate_args = TRUE)
  expect_identical(b$inverse(c(-1, 1)), c(-Inf, Inf))
  expect_true(is.nan(suppressWarnings(b$inverse(2))))
  expect_identical(b$forward_log_det_jacobian(c(-800, 800), 0),
                   -2 * (800 - log(2)) + c(0, 0))
})

test_that("tfb_tanh() has tfprobability's signature and checks its arguments", {
  expect_identical(formals(tfb_tanh),
                   as.pairlist(alist(validate_args = FALSE, name = "tanh")))
  expect_error(tfb_tanh(validate_args = NA), class = "bijectors_error_argument")
  expect_error(tfb_tanh(name = character()), class = "bijectors_error_argument")
})

test_that("tanh is accurate to 4 ulps across its domain", {
  skip_if_not_installed("Rmpfr")
  b <- tfb_tanh()
  x <- accuracy_inputs()
  expect_ulps(b$forward(x), tanh(mp(x)), label = "forward", inputs = x)
  expect_ulps(b$forward_log_det_jacobian(x, 0), log(1 - tanh(mp_wide(x))^2),
              label = "fldj", inputs = x)
  y <- accuracy_inputs(-1, 1)
  expect_ulps(b$inverse(y), atanh(mp(y)), label = "inverse", inputs = y)
  expect_ulps(b$inverse_log_det_jacobian(y, 0), -log(1 - mp_wide(y)^2),
              label = "ildj", inputs = y)
})

test_that("tanh's inverse (vector log1p) and inverse log-det are accurate densely", {
  skip_if_not_installed("Rmpfr")
  set.seed(1210)
  # small y, where the ILDJ is about y^2 and TFP's -FLDJ(atanh(y)) doubled
  # atanh's rounding (4.6 ulps at y = -0.00276); both sides of |y| = 1/2;
  # next to +-1
  y <- c(runif(2000, -1, 1), runif(1000, -0.01, 0.01), 0.5 + runif(300, -1e-3, 1e-3),
         -0.5 + runif(300, -1e-3, 1e-3), 1 - exp(-runif(300, 0, 36)),
         -0.0027609500102698803, 2^-(1000:1074), -2^-1074)
  b <- tfb_tanh()
  expect_ulps(b$inverse(y), atanh(mp(y)), max_ulps = 1.3, label = "inverse",
              inputs = y)
  expect_ulps(b$inverse_log_det_jacobian(y, 0), -log1p(-mp(y)^2),
              max_ulps = 2.1, label = "ildj", inputs = y)
  expect_identical(suppressWarnings(b$inverse(c(0, -0, 1, -1, 2, Inf, NaN, NA))),
                   c(0, -0, Inf, -Inf, NaN, NaN, NaN, NA))
  expect_identical(1 / b$inverse(c(0, -0)), c(Inf, -Inf))
  expect_identical(b$inverse_log_det_jacobian(c(1, -1, 0), 0), c(Inf, Inf, 0))
})
