# tfb_kumaraswamy_cdf() and tfb_kumaraswamy(): TFP's KumaraswamyCDF (values
# of kumaraswamy_cdf_test.py, computed by the reference sheet) and TFP
# 0.9's Kumaraswamy, its inverse.

kumaraswamy_x <- c(0.1, 0.2, 0.3, 0.4, 0.5)
kumaraswamy_y <- c(0.003010559905, 0.01217191396, 0.02789669941,
                   0.05096159867, 0.08268524536)
kumaraswamy_fldj <- c(-2.806375482, -2.09168814, -1.648780952, -1.305068985,
                      -1.002595354)

test_that("kumaraswamy_cdf matches TFP's test values", {
  b <- tfb_kumaraswamy_cdf(concentration1 = 2, concentration0 = 0.3,
                           validate_args = TRUE)
  x <- array(kumaraswamy_x, c(1, 5, 1))
  expect_equal(as.vector(b$forward(x)), kumaraswamy_y, tolerance = 1e-9)
  expect_equal(b$inverse(b$forward(x)), x, tolerance = 1e-12)
  expect_equal(as.vector(b$forward_log_det_jacobian(x, 1)), kumaraswamy_fldj,
               tolerance = 1e-9)
  expect_equal(b$inverse_log_det_jacobian(b$forward(x), 1),
               -b$forward_log_det_jacobian(x, 1), tolerance = 1e-12)
  # a = 1: ILDJ(0) = -log(b), finite, through xlogy(0, 0) = 0
  for (v in 10^seq(0.1, 10, length.out = 20)) {
    expect_equal(tfb_kumaraswamy_cdf(1, v)$inverse_log_det_jacobian(0, 0),
                 -log(v), tolerance = 1e-15)
  }
  expect_lt(tfb_kumaraswamy_cdf(2, 0.3)$forward(0.99), 1)
})

test_that("kumaraswamy_cdf is congruent, bijective and finite", {
  set.seed(406)
  expect_scalar_congruency(tfb_kumaraswamy_cdf(0.5, 1.1), 0, 1, rtol = 0.05)
  b <- tfb_kumaraswamy_cdf(1.2, 2)
  x <- seq(0.01, 0.99, length.out = 10)
  y <- 1 - (1 - x^1.2)^2
  values <- list(b$forward(x), b$inverse(y), b$forward_log_det_jacobian(x, 0),
                 b$inverse_log_det_jacobian(y, 0))
  expect_true(all(vapply(values, function(v) all(is.finite(v)), logical(1))))
  expect_equal(b$forward(x), y, tolerance = 1e-14)
  expect_equal(b$inverse(y), x, tolerance = 1e-5)
  expect_equal(-b$inverse_log_det_jacobian(y, 0),
               b$forward_log_det_jacobian(x, 0), tolerance = 1e-5)
})

test_that("validate_args checks that both inputs are in [0, 1]", {
  b <- tfb_kumaraswamy_cdf(2, 0.3, validate_args = TRUE)
  expect_error(b$forward(c(0.5, -0.1)), class = "bijectors_error_domain")
  expect_error(b$forward(1.1), class = "bijectors_error_domain")
  expect_error(b$inverse(-1), class = "bijectors_error_domain")
  expect_error(b$inverse_log_det_jacobian(2, 0),
               class = "bijectors_error_domain")
  expect_snapshot(b$forward(-1), error = TRUE)
  expect_snapshot(b$forward(2), error = TRUE)
  expect_identical(b$forward(c(0, 1)), c(0, 1))
  expect_identical(b$inverse(c(0, 1)), c(0, 1))
})

test_that("tfb_kumaraswamy_cdf() checks its arguments", {
  expect_identical(names(formals(tfb_kumaraswamy_cdf)),
                   c("concentration1", "concentration0", "validate_args",
                     "name"))
  expect_identical(tfb_kumaraswamy_cdf()$concentration1, 1)
  expect_error(tfb_kumaraswamy_cdf(0), class = "bijectors_error_argument")
  expect_error(tfb_kumaraswamy_cdf(1, -1), class = "bijectors_error_argument")
  expect_error(tfb_kumaraswamy_cdf(c(1, 2), c(1, 2, 3)),
               class = "bijectors_error_event_size")
  expect_snapshot(tfb_kumaraswamy_cdf(1, -1), error = TRUE)
})

test_that("tfb_kumaraswamy() is the deprecated inverse, announced once", {
  bijectors:::reset_deprecations()
  expect_message(b <- tfb_kumaraswamy(2, 0.3), class = "bijectors_deprecated")
  expect_silent(tfb_kumaraswamy())
  expect_s3_class(b, c("tfb_kumaraswamy", "tfb_invert"))
  expect_identical(b$name, "kumaraswamy")
  expect_identical(names(formals(tfb_kumaraswamy)),
                   c("concentration1", "concentration0", "validate_args",
                     "name"))
  # TFP 0.8's test: the directions swapped
  expect_equal(b$inverse(kumaraswamy_x), kumaraswamy_y, tolerance = 1e-9)
  expect_equal(b$forward(kumaraswamy_y), kumaraswamy_x, tolerance = 1e-9)
  expect_equal(b$inverse_log_det_jacobian(matrix(kumaraswamy_x, 1), 1),
               sum(kumaraswamy_fldj), tolerance = 1e-9)
  # NULL means TFP's default 1: the identity on [0, 1]
  d <- tfb_kumaraswamy()
  expect_identical(d$bijector$concentration1, 1)
  expect_equal(d$forward(c(0.2, 0.7)), c(0.2, 0.7), tolerance = 1e-15)
  expect_error(tfb_kumaraswamy(validate_args = TRUE)$forward(2),
               class = "bijectors_error_domain")
})

test_that("kumaraswamy_cdf is accurate to 4 ulps (of the largest term next to a zero)", {
  skip_if_not_installed("Rmpfr")
  for (theta in list(c(2, 0.3), c(0.5, 1.1), c(1, 3), c(0.1, 2), c(20, 20))) {
    a <- theta[[1]]
    b <- theta[[2]]
    k <- tfb_kumaraswamy_cdf(a, b)
    label <- sprintf("kumaraswamy_cdf(%g, %g)", a, b)
    x <- cdf_inputs(0, 1)
    xa <- mp(x)^a
    expect_cdf_ulps(k$forward(x), -expm1(b * log1p(-xa)),
                    label = paste(label, "forward"), inputs = x)
    expect_cdf_ulps(k$forward_log_det_jacobian(x, 0),
                    log(mp(a)) + log(mp(b)) + (a - 1) * log(mp(x)) +
                      (b - 1) * log1p(-xa),
                    magnitude = pmax(abs(log(a)), abs(log(b)),
                                     abs((a - 1) * log(x)),
                                     abs((b - 1) * as_double(log1p(-xa)))),
                    label = paste(label, "fldj"), inputs = x)
    y <- x
    q <- -expm1(log1p(-mp(y)) / b)
    # q = -expm1(log1p(-y) / b) in doubles carries up to 1.5 ulps (three
    # roundings; its condition number in each is at most 1), which the
    # power 1/a magnifies 1/a times (condition number of q^(1/a) in q): a
    # bound above 4 ulps for a < 1/2 (16 ulps at a = 0.1)
    expect_cdf_ulps(k$inverse(y), q^(1 / mp(a)),
                    max_ulps = max(4, 1 + 1.5 / a),
                    label = paste(label, "inverse"), inputs = y)
    # log(x) = log(q) / a, log(1 - x^a) = log1p(-y) / b; q's 1.5 ulps (as
    # above) are an absolute error of 1.5 2^-53 in log(q), times |1 - 1/a|
    magnitude <- pmax(abs(log(a)), abs(log(b)),
                      abs((1 - 1 / a) * log(as_double(q))),
                      abs((1 - 1 / b) * log1p(-y)))
    q_error <- 1.5 * abs(1 - 1 / a) * 2^-53 / ulp_of(magnitude)
    expect_cdf_ulps(k$inverse_log_det_jacobian(y, 0),
                    -log(mp(a)) - log(mp(b)) - (a - 1) / mp(a) * log(q) -
                      (b - 1) / mp(b) * log1p(-mp(y)),
                    magnitude = magnitude, max_ulps = 4 + q_error,
                    label = paste(label, "ildj"), inputs = y)
  }
})

test_that("kumaraswamy_cdf's powers are vector pow's; C99's outside [0, 1]", {
  skip_if_not_installed("Rmpfr")
  set.seed(1209)
  # with a = 5, q's own error (about 1.5 ulps) shrinks five times in
  # q^(1/a), so the power's rounding is what is left: glibc's pow with a
  # corrected 1/a was 1.14 ulps here, vector pow 0.77
  k <- tfb_kumaraswamy_cdf(concentration1 = 5, concentration0 = 3)
  y <- c(runif(2000), exp(-runif(500, 0, 50)))
  q <- -expm1(log1p(-mp(y)) / 3)
  expect_ulps(k$inverse(y), q^(1 / mp(5)), max_ulps = 0.9, label = "inverse",
              inputs = y)
  # TFP's 1 - (1 - x^a)^b for x < 0: finite for an integer a
  k <- tfb_kumaraswamy_cdf(concentration1 = 2, concentration0 = 2)
  expect_equal(k$forward(c(-0.5, -0.1)), 1 - (1 - c(-0.5, -0.1)^2)^2,
               tolerance = 1e-15)
  expect_true(is.nan(tfb_kumaraswamy_cdf(1.5, 2)$forward(-0.5)))
  expect_identical(k$forward(c(0, 1, NaN)), c(0, 1, NaN))
})
