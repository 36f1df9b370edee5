# tfb_rayleigh_cdf(): TFP's RayleighCDF, with the values of
# rayleigh_cdf_test.py (scipy's rayleigh, computed by the reference sheet).

test_that("rayleigh_cdf matches TFP's test values", {
  b <- tfb_rayleigh_cdf(scale = 50, validate_args = TRUE)
  x <- array(c(0.1, 1, 14, 20, 100), c(1, 5, 1))
  y <- c(1.999998e-06, 0.0001999800013, 0.03844162176, 0.07688365361,
         0.8646647168)
  fldj <- c(-10.1266331, -7.824246011, -5.224188681, -4.908313737,
            -5.218875825)
  expect_equal(as.vector(b$forward(x)), y, tolerance = 1e-9)
  expect_equal(b$inverse(b$forward(x)), x, tolerance = 1e-12)
  expect_equal(as.vector(b$forward_log_det_jacobian(x, 0)), fldj,
               tolerance = 1e-9)
  expect_equal(b$inverse_log_det_jacobian(b$forward(x), 0),
               -b$forward_log_det_jacobian(x, 0), tolerance = 1e-12)
  # FLDJ(0) is -Inf, as in TFP
  for (s in 10^seq(0.1, 10, length.out = 20)) {
    expect_identical(tfb_rayleigh_cdf(s)$forward_log_det_jacobian(0, 0), -Inf)
  }
  # tfprobability's test
  expect_equal(tfb_rayleigh_cdf(0.5)$forward(0.77), 0.6944983196,
               tolerance = 1e-9)
})

test_that("rayleigh_cdf is congruent, bijective and finite", {
  set.seed(403)
  expect_scalar_congruency(tfb_rayleigh_cdf(50), 1, 100, rtol = 0.05)
  b <- tfb_rayleigh_cdf(20)
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
  b <- tfb_rayleigh_cdf(validate_args = TRUE)
  expect_error(b$forward(c(1, -1)), class = "bijectors_error_domain")
  expect_error(b$forward_log_det_jacobian(-1, 0),
               class = "bijectors_error_domain")
  expect_error(b$inverse(1.5), class = "bijectors_error_domain")
  expect_error(b$inverse_log_det_jacobian(-0.5, 0),
               class = "bijectors_error_domain")
  expect_snapshot(b$forward(-1), error = TRUE)
  expect_identical(b$inverse(c(0, 1)), c(0, Inf))
})

test_that("tfb_rayleigh_cdf() checks its arguments; scale defaults to TFP's 1", {
  expect_identical(names(formals(tfb_rayleigh_cdf)),
                   c("scale", "validate_args", "name"))
  expect_identical(tfb_rayleigh_cdf()$scale, 1)
  expect_identical(tfb_rayleigh_cdf()$name, "rayleigh_cdf")
  expect_error(tfb_rayleigh_cdf(-1), class = "bijectors_error_argument")
  expect_error(tfb_rayleigh_cdf(c(1, NA)), class = "bijectors_error_argument")
  expect_error(tfb_rayleigh_cdf(name = 2), class = "bijectors_error_argument")
  expect_snapshot(tfb_rayleigh_cdf(-1), error = TRUE)
})

test_that("rayleigh_cdf is accurate to 4 ulps (of the largest term next to a zero)", {
  skip_if_not_installed("Rmpfr")
  for (s in c(50, 1, 0.3)) {
    b <- tfb_rayleigh_cdf(s)
    label <- sprintf("rayleigh_cdf(%g)", s)
    x <- cdf_inputs(0, Inf)
    u <- (mp(x) / s)^2 / 2
    expect_cdf_ulps(b$forward(x), -expm1(-u), label = paste(label, "forward"),
                    inputs = x)
    expect_cdf_ulps(b$forward_log_det_jacobian(x, 0),
                    -u + log(mp(x)) - 2 * log(mp(s)),
                    magnitude = pmax(as_double(u), abs(log(x)),
                                     abs(2 * log(s))),
                    label = paste(label, "fldj"), inputs = x)
    y <- cdf_inputs(0, 1)
    v <- -log1p(-mp(y))
    expect_cdf_ulps(b$inverse(y), s * sqrt(2 * v),
                    label = paste(label, "inverse"), inputs = y)
    expect_cdf_ulps(b$inverse_log_det_jacobian(y, 0),
                    v - log(v) / 2 + log(mp(s) / sqrt(mp(2))),
                    magnitude = pmax(as_double(v), abs(log(as_double(v)) / 2),
                                     abs(log(s)), log(2) / 2),
                    label = paste(label, "ildj"), inputs = y)
  }
})
