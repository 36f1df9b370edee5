# tfb_gompertz_cdf(): TFP's GompertzCDF, with the values of
# gompertz_cdf_test.py (scipy's gompertz, computed by the reference sheet).

test_that("gompertz_cdf matches TFP's test values", {
  b <- tfb_gompertz_cdf(concentration = 0.3, rate = 1, validate_args = TRUE)
  x <- array(c(0.1, 0.5, 1.4, 3), c(1, 4, 1))
  y <- c(0.03105872769, 0.1768496266, 0.6001076888, 0.9967388033)
  fldj <- c(-1.13552408, -0.8985891855, -0.7205327944, -3.929633881)
  expect_equal(as.vector(b$forward(x)), y, tolerance = 1e-9)
  expect_equal(b$inverse(b$forward(x)), x, tolerance = 1e-12)
  expect_equal(as.vector(b$forward_log_det_jacobian(x, 1)), fldj,
               tolerance = 1e-9)
  expect_equal(b$inverse_log_det_jacobian(b$forward(x), 1),
               -b$forward_log_det_jacobian(x, 1), tolerance = 1e-12)
  # tfprobability's test
  expect_equal(tfb_gompertz_cdf(1, 1)$forward(1), 0.8206259213,
               tolerance = 1e-9)
})

test_that("gompertz_cdf is congruent, bijective and finite", {
  set.seed(404)
  expect_scalar_congruency(tfb_gompertz_cdf(0.2, 0.2), 1, 10, rtol = 0.05)
  b <- tfb_gompertz_cdf(1, 0.01)
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

test_that("validate_args checks x >= 0 and y in [0, 1]", {
  b <- tfb_gompertz_cdf(1, 1, validate_args = TRUE)
  expect_error(b$forward(c(1, -1)), class = "bijectors_error_domain")
  expect_error(b$forward_log_det_jacobian(-1, 0),
               class = "bijectors_error_domain")
  expect_error(b$inverse(1.5), class = "bijectors_error_domain")
  expect_error(b$inverse_log_det_jacobian(-0.5, 0),
               class = "bijectors_error_domain")
  expect_snapshot(b$forward(-1), error = TRUE)
  expect_identical(b$inverse(c(0, 1)), c(0, Inf))
  # without validate_args, negative x give negative y (TFP's docstring says
  # the map is onto [0, Inf), it is not)
  expect_lt(tfb_gompertz_cdf(1, 1)$forward(-1), 0)
})

test_that("tfb_gompertz_cdf() checks its arguments; both are required", {
  expect_identical(names(formals(tfb_gompertz_cdf)),
                   c("concentration", "rate", "validate_args", "name"))
  expect_error(tfb_gompertz_cdf(1))
  expect_error(tfb_gompertz_cdf(0, 1), class = "bijectors_error_argument")
  expect_error(tfb_gompertz_cdf(1, -2), class = "bijectors_error_argument")
  expect_error(tfb_gompertz_cdf(c(1, 2), c(1, 2, 3)),
               class = "bijectors_error_event_size")
  expect_snapshot(tfb_gompertz_cdf(1, -2), error = TRUE)
})

test_that("gompertz_cdf is accurate to 4 ulps (of the largest term next to a zero)", {
  skip_if_not_installed("Rmpfr")
  for (theta in list(c(0.3, 1), c(1, 0.01), c(2, 3), c(1e-3, 1))) {
    k <- theta[[1]]
    r <- theta[[2]]
    b <- tfb_gompertz_cdf(k, r)
    label <- sprintf("gompertz_cdf(%g, %g)", k, r)
    fldj <- function(x) {
      r * x + log(mp(k)) + log(mp(r)) - k * expm1(r * x)
    }
    terms <- function(x) {
      pmax(abs(r * x), abs(log(k)), abs(log(r)), k * expm1(r * x))
    }
    # and where expm1(r x) overflows but k expm1(r x) need not
    x <- sort(c(cdf_inputs(0, Inf), seq(705, 717, by = 0.5)))
    expect_cdf_ulps(b$forward(x), -expm1(-k * expm1(r * mp(x))),
                    label = paste(label, "forward"), inputs = x)
    expect_cdf_ulps(b$forward_log_det_jacobian(x, 0), fldj(mp(x)),
                    magnitude = terms(x), label = paste(label, "fldj"),
                    inputs = x)
    y <- cdf_inputs(0, 1)
    x_true <- log1p(-log1p(-mp(y)) / k) / r
    expect_cdf_ulps(b$inverse(y), x_true, label = paste(label, "inverse"),
                    inputs = y)
    # derived through the inverse, as in TFP: the terms at x, and the
    # inverse's error magnified by x |d fldj / dx|
    x_d <- as_double(x_true)
    expect_cdf_ulps(b$inverse_log_det_jacobian(y, 0), -fldj(x_true),
                    magnitude = pmax(terms(x_d),
                                     abs(x_d * r * (1 - k * exp(r * x_d)))),
                    label = paste(label, "ildj"), inputs = y)
  }
})
