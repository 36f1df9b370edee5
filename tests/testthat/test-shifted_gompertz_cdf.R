# tfb_shifted_gompertz_cdf(): TFP's ShiftedGompertzCDF. TFP's tests check no
# values; the spot values are the reference sheet's, computed in R from the
# formula of TFP's code, in which the concentration divides.

test_that("shifted_gompertz_cdf matches the spot values (c divides)", {
  b <- tfb_shifted_gompertz_cdf(concentration = 0.5, rate = 2,
                                validate_args = TRUE)
  x <- c(0.1, 1, 3)
  expect_equal(b$forward(x), c(0.03525198966, 0.6596248436, 0.9925882696),
               tolerance = 1e-9)
  expect_equal(b$forward_log_det_jacobian(x, 0),
               c(-0.8349648261, -0.5734674356, -4.214851903), tolerance = 1e-9)
  expect_equal(b$inverse(b$forward(x)), x, tolerance = 1e-14)
  expect_equal(b$inverse_log_det_jacobian(b$forward(x), 0),
               -b$forward_log_det_jacobian(x, 0), tolerance = 1e-12)
  w <- exp(-2 * x)
  expect_equal(b$forward(x), (1 - w) * exp(-w / 0.5), tolerance = 1e-14)
  # tfprobability's test
  expect_equal(tfb_shifted_gompertz_cdf(1, 1)$forward(1), 0.4375542475,
               tolerance = 1e-9)
})

test_that("shifted_gompertz_cdf is congruent, bijective and finite", {
  set.seed(405)
  expect_scalar_congruency(tfb_shifted_gompertz_cdf(0.1, 0.4), 1, 10,
                           rtol = 0.05)
  b <- tfb_shifted_gompertz_cdf(0.2, 0.01)
  x <- 10^seq(-10, 2, length.out = 10)
  y <- seq(0.01, 0.99, length.out = 10)
  values <- list(b$forward(x), b$inverse(y), b$forward_log_det_jacobian(x, 0),
                 b$inverse_log_det_jacobian(y, 0))
  expect_true(all(vapply(values, function(v) all(is.finite(v)), logical(1))))
  expect_equal(b$inverse(b$forward(x)), x, tolerance = 1e-5)
  expect_equal(b$forward(b$inverse(y)), y, tolerance = 1e-5)
  expect_equal(-b$inverse_log_det_jacobian(y, 0),
               b$forward_log_det_jacobian(b$inverse(y), 0), tolerance = 1e-5)
})

test_that("the inverse works for small concentrations and next to 1", {
  # TFP's exp(1/c) overflows below c = 1/709; the log-space form does not
  b <- tfb_shifted_gompertz_cdf(1e-3, 1)
  x <- c(0.5, 2, 8, 12)
  expect_equal(b$inverse(b$forward(x)), x, tolerance = 1e-13)
  b <- tfb_shifted_gompertz_cdf(0.5, 2)
  expect_identical(b$inverse(c(0, 1)), c(0, Inf))
  expect_true(is.nan(b$inverse(1.5)))
  expect_equal(b$inverse(1 - 2^-53), (log(3) + 53 * log(2)) / 2,
               tolerance = 1e-15)
})

test_that("validate_args checks x >= 0 and y in [0, 1]", {
  b <- tfb_shifted_gompertz_cdf(1, 1, validate_args = TRUE)
  expect_error(b$forward(c(1, -1)), class = "bijectors_error_domain")
  expect_error(b$forward_log_det_jacobian(-1, 0),
               class = "bijectors_error_domain")
  expect_error(b$inverse(1.5), class = "bijectors_error_domain")
  expect_error(b$inverse_log_det_jacobian(-0.5, 0),
               class = "bijectors_error_domain")
  expect_snapshot(b$forward(-1), error = TRUE)
})

test_that("tfb_shifted_gompertz_cdf() checks its arguments; both are required", {
  expect_identical(names(formals(tfb_shifted_gompertz_cdf)),
                   c("concentration", "rate", "validate_args", "name"))
  expect_error(tfb_shifted_gompertz_cdf(1))
  expect_error(tfb_shifted_gompertz_cdf(-1, 1),
               class = "bijectors_error_argument")
  expect_error(tfb_shifted_gompertz_cdf(1, 0),
               class = "bijectors_error_argument")
  expect_snapshot(tfb_shifted_gompertz_cdf(1, 0), error = TRUE)
})

# The inverse to 256 bits: bisection in log(z) in plain doubles, then
# Newton's method in Rmpfr on F(z) = y, z = rate * x.
shifted_gompertz_quantile <- function(y, c, r) {
  F <- function(z) -expm1(-z) * exp(-exp(-z) / c)
  G <- function(z) -expm1(-exp(-z) / c) + exp(-z) * exp(-exp(-z) / c)
  low <- rep(-745, length(y))
  high <- rep(7, length(y))
  for (i in 1:70) {
    mid <- (low + high) / 2
    below <- ifelse(y <= 0.5, F(exp(mid)) < y, G(exp(mid)) > 1 - y)
    low <- ifelse(below, mid, low)
    high <- ifelse(below, high, mid)
  }
  z <- mp(exp((low + high) / 2))
  for (i in 1:6) {
    w <- exp(-z)
    z <- z - (-expm1(-z) * exp(-w / c) - y) /
      (w * exp(-w / c) * (1 - expm1(-z) / c))
  }
  z / r
}

test_that("shifted_gompertz_cdf is accurate to 4 ulps (with two bounded cases)", {
  skip_if_not_installed("Rmpfr")
  for (theta in list(c(0.5, 2), c(0.1, 0.4), c(3, 1))) {
    k <- theta[[1]]
    r <- theta[[2]]
    b <- tfb_shifted_gompertz_cdf(k, r)
    label <- sprintf("shifted_gompertz_cdf(%g, %g)", k, r)
    fldj <- function(x) {
      z <- r * x
      log(mp(r)) - z - exp(-z) / k + log1p(-expm1(-z) / k)
    }
    terms <- function(x) {
      pmax(r * x, exp(-r * x) / k, log1p(-expm1(-r * x) / k), abs(log(r)))
    }
    x <- cdf_inputs(0, Inf)
    w <- exp(-r * mp(x))
    # exp(-w / k) magnifies the rounding of the double w / k, w / k times
    expect_cdf_ulps(b$forward(x), -expm1(-r * mp(x)) * exp(-w / k),
                    max_ulps = 4 + 2 * as_double(w) / k,
                    label = paste(label, "forward"), inputs = x)
    expect_cdf_ulps(b$forward_log_det_jacobian(x, 0), fldj(mp(x)),
                    magnitude = terms(x), label = paste(label, "fldj"),
                    inputs = x)
    y <- cdf_inputs(0, 1)
    y <- y[y > 0 & y < 1]
    x_true <- shifted_gompertz_quantile(y, k, r)
    # the Newton steps solve F(z) = y, whose computed F is off by as much
    expect_cdf_ulps(b$inverse(y), x_true, max_ulps = 4 + 2 / k,
                    label = paste(label, "inverse"), inputs = y)
    x_d <- as_double(x_true)
    expect_cdf_ulps(b$inverse_log_det_jacobian(y, 0), -fldj(x_true),
                    magnitude = terms(x_d) * (1 + 2 / k),
                    label = paste(label, "ildj"), inputs = y)
  }
})
