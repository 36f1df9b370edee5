# tfb_weibull_cdf() and tfb_weibull(): TFP's WeibullCDF, with the values of
# weibull_cdf_test.py (scipy's weibull_min, computed by the reference sheet).

test_that("weibull_cdf matches TFP's test values", {
  b <- tfb_weibull_cdf(scale = 5, concentration = 0.3, validate_args = TRUE)
  x <- array(c(0, 1, 14, 20, 100), c(1, 5, 1))
  y <- c(0, 0.4604575766, 0.7438281745, 0.7803492659, 0.9142617349)
  fldj <- c(Inf, -2.303838041, -4.896051175, -5.299533336, -7.36687936)
  expect_equal(as.vector(b$forward(x)), y, tolerance = 1e-9)
  expect_equal(b$inverse(b$forward(x)), x, tolerance = 1e-12)
  expect_equal(as.vector(b$forward_log_det_jacobian(x, 0)), fldj,
               tolerance = 1e-9)
  expect_equal(b$inverse_log_det_jacobian(b$forward(x[, 2:5, , drop = FALSE]), 0),
               -b$forward_log_det_jacobian(x[, 2:5, , drop = FALSE], 0),
               tolerance = 1e-12)
  # k = 1: FLDJ(0) = -log(scale), through xlogy(0, 0) = 0
  s <- 10^seq(0.1, 10, length.out = 20)
  expect_equal(vapply(s, function(v) {
    tfb_weibull_cdf(v, 1)$forward_log_det_jacobian(0, 0)
  }, numeric(1)), -log(s), tolerance = 1e-15)
  # tfprobability's test, positional (scale, concentration)
  expect_equal(tfb_weibull_cdf(1.5, 2)$forward(c(0, 0.1, 0.2)),
               c(0, 0.004434582517, 0.01762068538), tolerance = 1e-9)
})

test_that("weibull_cdf is congruent, bijective and finite", {
  set.seed(402)
  expect_scalar_congruency(tfb_weibull_cdf(20, 0.3), 1, 100, rtol = 0.05)
  b <- tfb_weibull_cdf(20, 2)
  x <- seq(1, 8, length.out = 10)
  y <- seq(-expm1(-1 / 400), -expm1(-16), length.out = 10)
  values <- list(b$forward(x), b$inverse(y), b$forward_log_det_jacobian(x, 0),
                 b$inverse_log_det_jacobian(y, 0))
  expect_true(all(vapply(values, function(v) all(is.finite(v)), logical(1))))
  expect_equal(b$inverse(b$forward(x)), x, tolerance = 1e-5)
  expect_equal(b$forward(b$inverse(y)), y, tolerance = 1e-5)
  expect_equal(-b$inverse_log_det_jacobian(y, 0),
               b$forward_log_det_jacobian(b$inverse(y), 0), tolerance = 1e-5)
})

test_that("validate_args checks x >= 0 and y in [0, 1]", {
  b <- tfb_weibull_cdf(validate_args = TRUE)
  expect_error(b$forward(c(1, -1)), class = "bijectors_error_domain")
  expect_error(b$forward_log_det_jacobian(-1, 0),
               class = "bijectors_error_domain")
  expect_error(b$inverse(c(0.5, 1.5)), class = "bijectors_error_domain")
  expect_error(b$inverse_log_det_jacobian(-0.5, 0),
               class = "bijectors_error_domain")
  expect_snapshot(b$forward(-1), error = TRUE)
  expect_snapshot(b$inverse(-1), error = TRUE)
  expect_identical(b$inverse(c(0, 1)), c(0, Inf))
})

test_that("tfb_weibull_cdf() checks its arguments", {
  expect_identical(names(formals(tfb_weibull_cdf)),
                   c("scale", "concentration", "validate_args", "name"))
  expect_identical(tfb_weibull_cdf()$name, "weibull_cdf")
  expect_error(tfb_weibull_cdf(scale = -1), class = "bijectors_error_argument")
  expect_error(tfb_weibull_cdf(concentration = 0),
               class = "bijectors_error_argument")
  expect_error(tfb_weibull_cdf(concentration = Inf),
               class = "bijectors_error_argument")
  expect_error(tfb_weibull_cdf(c(1, 2), c(1, 2, 3)),
               class = "bijectors_error_event_size")
  expect_snapshot(tfb_weibull_cdf(concentration = -1), error = TRUE)
})

test_that("tfb_weibull() is the deprecated alias, announced once", {
  bijectors:::reset_deprecations()
  expect_message(b <- tfb_weibull(1.5, 2), class = "bijectors_deprecated")
  expect_silent(tfb_weibull())
  expect_s3_class(b, c("tfb_weibull", "tfb_weibull_cdf"))
  expect_identical(b$name, "weibull")
  expect_identical(names(formals(tfb_weibull)),
                   c("scale", "concentration", "validate_args", "name"))
  expect_equal(b$forward(c(0, 0.1, 0.2)),
               c(0, 0.004434582517, 0.01762068538), tolerance = 1e-9)
  expect_error(tfb_weibull(validate_args = TRUE)$forward(-1),
               class = "bijectors_error_domain")
})

test_that("weibull_cdf is accurate to 4 ulps (of the largest term next to a zero)", {
  skip_if_not_installed("Rmpfr")
  for (theta in list(c(5, 0.3), c(1.5, 2), c(2, 7), c(1e3, 20), c(1, 0.1),
                     c(3, 1))) {
    s <- theta[[1]]
    k <- theta[[2]]
    b <- tfb_weibull_cdf(s, k)
    label <- sprintf("weibull_cdf(%g, %g)", s, k)
    x <- cdf_inputs(0, Inf)
    u <- (mp(x) / s)^k
    expect_cdf_ulps(b$forward(x), -expm1(-u), label = paste(label, "forward"),
                    inputs = x)
    # a sum of terms that changes sign
    expect_cdf_ulps(b$forward_log_det_jacobian(x, 0),
                    -u + (k - 1) * log(mp(x)) + log(mp(k)) - k * log(mp(s)),
                    magnitude = pmax(as_double(u), abs((k - 1) * log(x)),
                                     abs(log(k)), abs(k * log(s))),
                    label = paste(label, "fldj"), inputs = x)
    y <- cdf_inputs(0, 1)
    v <- -log1p(-mp(y))
    # the rounding of the double v is magnified 1/k times by the power
    expect_cdf_ulps(b$inverse(y), s * v^(1 / mp(k)), max_ulps = 4 + 1 / k,
                    label = paste(label, "inverse"), inputs = y)
    expect_cdf_ulps(b$inverse_log_det_jacobian(y, 0),
                    v + (1 / mp(k) - 1) * log(v) + log(mp(s) / k),
                    magnitude = pmax(as_double(v), abs((1 / k - 1) * log(as_double(v))),
                                     abs(log(s)), abs(log(k))),
                    label = paste(label, "ildj"), inputs = y)
  }
})

test_that("weibull_cdf's powers (vector pow) are within 1 ulp for k >= 1", {
  skip_if_not_installed("Rmpfr")
  set.seed(1208)
  for (theta in list(c(2, 7), c(1e3, 20), c(1.5, 1.7), c(0.2, 3.5))) {
    s <- theta[[1]]
    k <- theta[[2]]
    b <- tfb_weibull_cdf(s, k)
    label <- sprintf("weibull_cdf(%g, %g)", s, k)
    # u = (x / s)^k from 1e-20 to 20: the forward map's -expm1(-u) adds
    # its own rounding, so u's is read off the log-det's -u term where u
    # dominates, and the inverse's s v^(1/k) directly
    x <- s * exp(runif(2000, log(1e-20), log(20)) / k)
    y <- c(runif(1000), 1 - exp(-runif(500, 0, 30)))
    v <- -log1p(-mp(y))
    expect_ulps(b$inverse(y), s * v^(1 / mp(k)), max_ulps = 1,
                label = paste(label, "inverse"), inputs = y)
    expect_ulps(b$forward(x), -expm1(-(mp(x) / s)^k), max_ulps = 1.4,
                label = paste(label, "forward"), inputs = x)
  }
  # outside the domain, C99's pow as TFP's: finite for an integer k
  b <- tfb_weibull_cdf(scale = 2, concentration = 3)
  expect_equal(b$forward(c(-1, -3)), -expm1(-(c(-1, -3) / 2)^3),
               tolerance = 1e-15)
  expect_identical(b$forward(c(0, Inf, NaN)), c(0, 1, NaN))
  expect_true(is.nan(tfb_weibull_cdf(2, 1.5)$forward(-1)))
})
