# tfb_gumbel_cdf() and tfb_gumbel(): TFP's GumbelCDF, with the values of
# gumbel_cdf_test.py (scipy's gumbel_r, computed by the reference sheet).

test_that("gumbel_cdf matches TFP's test values", {
  b <- tfb_gumbel_cdf(loc = 0.3, scale = 5, validate_args = TRUE)
  x <- array(c(-3, 0, 0.5, 4.2, 12), c(1, 5, 1))
  y <- c(0.1444542639, 0.345820112, 0.3825907346, 0.6322907069, 0.9081664173)
  fldj <- c(-2.884230247, -2.611274459, -2.610227352, -2.847843924,
            -4.045765551)
  expect_equal(as.vector(b$forward(x)), y, tolerance = 1e-9)
  expect_equal(as.vector(b$inverse(b$forward(x))), as.vector(x),
               tolerance = 1e-12)
  expect_equal(as.vector(b$forward_log_det_jacobian(x, 1)), fldj,
               tolerance = 1e-9)
  expect_equal(b$inverse_log_det_jacobian(b$forward(x), 1),
               -b$forward_log_det_jacobian(x, 1), tolerance = 1e-12)
  # tfprobability's test: the default bijector is exp(-exp(-x))
  u <- c(0.1, 0.35, 0.5, 0.72, 0.9)
  expect_equal(tfb_gumbel_cdf()$forward(u), exp(-exp(-u)), tolerance = 1e-15)
})

test_that("gumbel_cdf is congruent, bijective and finite", {
  set.seed(401)
  expect_scalar_congruency(tfb_gumbel_cdf(0.3, 20), 1, 100, rtol = 0.05)
  b <- tfb_gumbel_cdf(0, 3)
  x <- seq(-10, 10, length.out = 10)
  y <- seq(0.01, 0.99, length.out = 10)
  values <- list(b$forward(x), b$inverse(y), b$forward_log_det_jacobian(x, 0),
                 b$inverse_log_det_jacobian(y, 0))
  expect_true(all(vapply(values, function(v) all(is.finite(v)), logical(1))))
  expect_equal(b$inverse(b$forward(x)), x, tolerance = 1e-5)
  expect_equal(b$forward(b$inverse(y)), y, tolerance = 1e-5)
  expect_equal(-b$inverse_log_det_jacobian(y, 0),
               b$forward_log_det_jacobian(b$inverse(y), 0), tolerance = 1e-5)
  expect_equal(-b$inverse_log_det_jacobian(b$forward(x), 0),
               b$forward_log_det_jacobian(x, 0), tolerance = 1e-5)
})

test_that("vector parameters run along the last axis", {
  b <- tfb_gumbel_cdf(loc = c(0, 1, -1), scale = c(1, 2, 0.5))
  x <- matrix(c(-1, 0.5, 2, 0, 1, 3), 2, 3)
  expected <- exp(-exp(-sweep(sweep(x, 2, c(0, 1, -1)), 2, c(1, 2, 0.5), "/")))
  expect_equal(b$forward(x), expected, tolerance = 1e-14)
  expect_equal(b$inverse(expected), x, tolerance = 1e-13)
  expect_identical(b$loc, c(0, 1, -1))
})

test_that("validate_args checks that the inverse's input is in [0, 1]", {
  b <- tfb_gumbel_cdf(validate_args = TRUE)
  expect_error(b$inverse(c(0.5, -0.1)), class = "bijectors_error_domain")
  expect_error(b$inverse(1.5), class = "bijectors_error_domain")
  expect_error(b$inverse_log_det_jacobian(c(0.5, 2), 1),
               class = "bijectors_error_domain")
  expect_snapshot(b$inverse(-1), error = TRUE)
  expect_snapshot(b$inverse(2), error = TRUE)
  expect_identical(b$inverse(c(0, 1)), c(-Inf, Inf))
  expect_equal(b$forward(-100), 0)
})

test_that("tfb_gumbel_cdf() checks its arguments", {
  expect_identical(names(formals(tfb_gumbel_cdf)),
                   c("loc", "scale", "validate_args", "name"))
  expect_identical(tfb_gumbel_cdf()$name, "gumbel_cdf")
  expect_error(tfb_gumbel_cdf(scale = 0), class = "bijectors_error_argument")
  expect_error(tfb_gumbel_cdf(scale = -1), class = "bijectors_error_argument")
  expect_error(tfb_gumbel_cdf(loc = NA), class = "bijectors_error_argument")
  expect_error(tfb_gumbel_cdf(loc = "a"), class = "bijectors_error_argument")
  expect_error(tfb_gumbel_cdf(loc = c(1, 2), scale = c(1, 2, 3)),
               class = "bijectors_error_event_size")
  expect_error(tfb_gumbel_cdf(validate_args = NA),
               class = "bijectors_error_argument")
  expect_snapshot(tfb_gumbel_cdf(scale = -1), error = TRUE)
})

test_that("tfb_gumbel() is the deprecated alias, announced once", {
  bijectors:::reset_deprecations()
  expect_message(b <- tfb_gumbel(0.3, 5), class = "bijectors_deprecated")
  expect_silent(tfb_gumbel())
  expect_s3_class(b, c("tfb_gumbel", "tfb_gumbel_cdf"))
  expect_identical(b$name, "gumbel")
  expect_identical(names(formals(tfb_gumbel)),
                   c("loc", "scale", "validate_args", "name"))
  x <- c(-3, 0, 12)
  expect_identical(b$forward(x), tfb_gumbel_cdf(0.3, 5)$forward(x))
  expect_error(tfb_gumbel(validate_args = TRUE)$inverse(2),
               class = "bijectors_error_domain")
})

test_that("gumbel_cdf is accurate to 4 ulps (with two bounded cases)", {
  skip_if_not_installed("Rmpfr")
  for (theta in list(c(0.3, 5), c(0, 1), c(-2, 0.5))) {
    loc <- theta[[1]]
    scale <- theta[[2]]
    b <- tfb_gumbel_cdf(loc, scale)
    label <- sprintf("gumbel_cdf(%g, %g)", loc, scale)
    x <- cdf_inputs(-Inf, Inf)
    z <- (mp(x) - loc) / scale
    w <- exp(-z)
    # y = exp(-w): the double w (0.5 ulp) is magnified w times in y
    expect_cdf_ulps(b$forward(x), exp(-w), max_ulps = 4 + 2 * as_double(w),
                    label = paste(label, "forward"), inputs = x)
    expect_cdf_ulps(b$forward_log_det_jacobian(x, 0), -z - w - log(mp(scale)),
                    magnitude = pmax(abs(as_double(z)), abs(log(scale))),
                    label = paste(label, "fldj"), inputs = x)
    y <- cdf_inputs(0, 1)
    l <- log(-log(mp(y)))
    # loc - scale * l crosses 0
    expect_cdf_ulps(b$inverse(y), loc - scale * l,
                    magnitude = pmax(abs(loc), abs(scale * as_double(l))),
                    label = paste(label, "inverse"), inputs = y)
    expect_cdf_ulps(b$inverse_log_det_jacobian(y, 0),
                    log(mp(scale)) - l - log(mp(y)),
                    magnitude = pmax(abs(log(scale)), abs(as_double(l))),
                    label = paste(label, "ildj"), inputs = y)
  }
})
