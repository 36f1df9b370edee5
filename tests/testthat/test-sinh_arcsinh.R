# tfb_sinh_arcsinh(): TFP's SinhArcsinh, with the values and properties of
# sinh_arcsinh_test.py (spot values computed in R by the reference sheet).

test_that("sinh_arcsinh matches TFP's test values", {
  b <- tfb_sinh_arcsinh(skewness = 0.2, tailweight = 2, validate_args = TRUE)
  x <- array(c(-2.01, 2, 1e-4), c(1, 3, 1))
  m <- 2 / sinh(asinh(2) * 2)
  expect_equal(m, 0.2236067977, tolerance = 1e-9)
  y <- b$forward(x)
  expect_equal(as.vector(y), c(-1.347662377, 2.988767854, 0.0918953611),
               tolerance = 1e-9)
  expect_equal(y, sinh((asinh(x) + 0.2) * 2) * m, tolerance = 1e-14)
  expect_equal(b$inverse(y), x, tolerance = 1e-12)
  ildj <- b$inverse_log_det_jacobian(y, event_ndims = 1)
  expect_equal(as.vector(ildj), c(-0.1963847191, -0.9860803297, 0.7266894689),
               tolerance = 2e-9)
  expect_equal(b$forward_log_det_jacobian(x, event_ndims = 1), -ildj,
               tolerance = 1e-12)
})

test_that("skewness skews and tailweight thickens the tails, as TFP's tests", {
  x <- c(-1, 1)
  y <- t(vapply(c(-1, 0, 1), function(s) tfb_sinh_arcsinh(s)$forward(x),
                numeric(2)))
  expect_equal(y, rbind(c(-3.205066101, -0.1189048318), c(-1, 1),
                        c(0.1189048318, 3.205066101)), tolerance = 1e-9)
  expect_gt(abs(y[1, 1]), abs(y[1, 2]))
  expect_lt(abs(y[3, 1]), abs(y[3, 2]))
  x <- 10^seq(-2, 2, length.out = 1000)
  kurtosis <- vapply(c(0.5, 1, 2), function(t) {
    y <- tfb_sinh_arcsinh(tailweight = t)$forward(x)
    mean((y - mean(x))^4) / mean((x - mean(x))^2)^2
  }, numeric(1))
  expect_identical(order(kurtosis), 1:3)
  expect_equal(tfb_sinh_arcsinh()$forward(c(0, 1, 2)), c(0, 1, 2),
               tolerance = 1e-15)
})

test_that("sinh_arcsinh is congruent, bijective and finite (TFP's cases)", {
  set.seed(401)
  expect_scalar_congruency(tfb_sinh_arcsinh(1, 0.5), -2, 2, rtol = 0.05)
  expect_scalar_congruency(tfb_sinh_arcsinh(-1, 1.5), -2, 2, rtol = 0.05)
  for (case in list(c(-1, 0.5, 10), c(1, 3, 5))) {
    b <- tfb_sinh_arcsinh(case[[1]], case[[2]])
    x <- c(-10^seq(-2, case[[3]], length.out = 1000), 0,
           10^seq(-2, case[[3]], length.out = 1000))
    expect_bijective_and_finite(b, x, x, rtol = 1e-3)
  }
  # the endpoints +-max/10 of the identity, and TFP's over-range case
  b <- tfb_sinh_arcsinh(0, 1)
  bounds <- c(-1, 1) * .Machine$double.xmax / 10
  expect_bijective_and_finite(b, bounds, bounds, rtol = 1e-15)
  s <- c(1.2, 5)
  t <- c(2, 10)
  max_val <- .Machine$double.xmax / 10
  boundary <- log(sinh(asinh(max_val) / t - s))
  x <- cbind(exp(seq(log(0.01), boundary[[1]], length.out = 1000)),
             exp(seq(log(0.01), boundary[[2]], length.out = 1000)))
  m <- 2 / sinh(asinh(2) * t)
  y <- sweep(sinh(sweep(asinh(x), 2, s, "+") %*% diag(t)), 2, m, "*")
  b <- tfb_sinh_arcsinh(s, t)
  expect_equal(b$forward(x), y, tolerance = 1e-4)
  expect_equal(b$inverse(y), x, tolerance = 1e-4)
  expect_equal(-b$inverse_log_det_jacobian(y, 0),
               b$forward_log_det_jacobian(x, 0), tolerance = 1e-4)
  expect_true(all(is.finite(b$inverse_log_det_jacobian(y, 0))))
})

test_that("tfb_sinh_arcsinh() has tfprobability's signature and checks its arguments", {
  expect_identical(names(formals(tfb_sinh_arcsinh)),
                   c("skewness", "tailweight", "validate_args", "name"))
  b <- tfb_sinh_arcsinh()
  expect_identical(b$name, "SinhArcsinh")
  expect_identical(b$skewness, 0)
  expect_identical(b$tailweight, 1)
  # TFP's only assertion, tailweight > 0, is always made
  expect_error(tfb_sinh_arcsinh(tailweight = 0, validate_args = TRUE),
               class = "bijectors_error_argument")
  expect_error(tfb_sinh_arcsinh(tailweight = -1),
               class = "bijectors_error_argument")
  expect_error(tfb_sinh_arcsinh(skewness = "a"),
               class = "bijectors_error_argument")
  expect_error(tfb_sinh_arcsinh(skewness = NA_real_),
               class = "bijectors_error_argument")
  expect_error(tfb_sinh_arcsinh(c(1, 2), c(1, 2, 3)),
               class = "bijectors_error_event_size")
  expect_error(tfb_sinh_arcsinh(validate_args = NA),
               class = "bijectors_error_argument")
  expect_snapshot(tfb_sinh_arcsinh(tailweight = 0), error = TRUE)
  expect_error(tfb_sinh_arcsinh(c(1, 2))$forward(matrix(0, 2, 3)),
               class = "bijectors_error_event_size")
})

test_that("sinh_arcsinh is accurate to 4 ulps across its domain", {
  skip_if_not_installed("Rmpfr")
  big <- 10^seq(3, 300, by = 3)
  x <- sort(unique(c(accuracy_inputs(), big, -big)))
  # The constant m = 2 / sinh(asinh(2) t) carries up to 2 ulps (libm's
  # sinh); the inverse raises it to the power 1 / t and the log-dets add
  # log(t m), smaller than log m: at t = 0.5 that is up to 6 ulps.
  for (case in list(c(0, 1, 4), c(0.2, 2, 4), c(-1, 0.5, 6), c(1, 3, 4),
                    c(0.3, 7, 4), c(-1, 7, 4))) {
    s <- case[[1]]
    t <- case[[2]]
    ulps <- case[[3]]
    b <- tfb_sinh_arcsinh(s, t)
    what <- sprintf("(skewness %g, tailweight %g)", s, t)
    m <- 2 / sinh(asinh(mp(2)) * t)
    u <- (asinh(mp(x)) + s) * t
    y_true <- m * sinh(u)
    # Near the zeros of the map and of its log-dets, where the true value
    # is a small difference of larger terms, the allowance is 4 ulps of
    # those terms (helper-tfp-checks.R).
    expect_ulps_cancelling(b$forward(x), y_true, m * t * s * cosh(u),
                           max_ulps = ulps, label = paste("forward", what),
                           inputs = x)
    log_terms <- function(w, v) abs(log(cosh(w))) + log(1 + v^2) / 2 +
      abs(log(t * m))
    fldj <- log(cosh(u)) - log(1 + mp(x)^2) / 2 + log(t * m)
    if (t == 1 && s == 0) fldj <- 0 * fldj   # the identity: exactly 0
    expect_ulps_cancelling(b$forward_log_det_jacobian(x, 0), fldj,
                           log_terms(u, mp(x)), max_ulps = ulps,
                           label = paste("fldj", what),
                           inputs = x)
    y <- Rmpfr::asNumeric(y_true)
    y <- sort(unique(c(y[is.finite(y)], accuracy_inputs())))
    v <- mp(y) / m
    w <- asinh(v) / t - s
    expect_ulps_cancelling(b$inverse(y), sinh(w), s * cosh(w),
                           max_ulps = ulps, label = paste("inverse", what),
                           inputs = y)
    ildj <- log(cosh(w)) - log(1 + v^2) / 2 - log(t * m)
    if (t == 1 && s == 0) ildj <- 0 * ildj
    expect_ulps_cancelling(b$inverse_log_det_jacobian(y, 0), ildj,
                           log_terms(w, v), max_ulps = ulps,
                           label = paste("ildj", what),
                           inputs = y)
  }
})
