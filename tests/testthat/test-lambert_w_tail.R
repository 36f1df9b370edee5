# tfb_lambert_w_tail(): TFP's LambertWTail, with the values of
# lambertw_transform_test.py (spot values computed in R by the reference
# sheet), and its Lambert W function against Rmpfr.

test_that("lambert_w_tail matches TFP's test values", {
  b <- tfb_lambert_w_tail(0, 1, 0.1)
  expect_identical(b$forward(0), 0)
  expect_equal(b$forward(1), 1.051271, tolerance = 1e-6)
  expect_equal(b$forward(1), exp(0.05), tolerance = 1e-15)
  expect_identical(b$inverse(0), 0)
  expect_identical(b$inverse_log_det_jacobian(0, 0), 0)
  expect_equal(b$inverse_log_det_jacobian(c(0, 1), 0), c(0, -0.1329864004),
               tolerance = 1e-9)
  b <- tfb_lambert_w_tail(0, 1, 0.2)
  expect_equal(b$inverse(exp(0.2 / 2)), 1, tolerance = 1e-15)
  expect_equal(b$inverse_log_det_jacobian(1, 0), -0.2405347877,
               tolerance = 1e-9)
  v <- seq(-1, 1, length.out = 11)
  expect_identical(tfb_lambert_w_tail(0, 1, 0)$forward(v), v)
  v <- seq(-1, 1, length.out = 10)
  for (tailweight in c(0.01, 0.1)) {
    b <- tfb_lambert_w_tail(0, 1, tailweight)
    expect_true(all(b$forward(v) / v > 1))
    expect_equal(b$inverse(b$forward(v)), v, tolerance = 1e-14)
    expect_equal(b$forward(v), v * exp(0.5 * tailweight * v^2),
                 tolerance = 1e-15)
  }
  # tfprobability's test: (0, 1, 0) is the identity
  x <- matrix(1:4, 2)
  expect_equal(tfb_lambert_w_tail(0, 1, 0)$forward(x), x, tolerance = 0)
})

test_that("lambert_w_tail with a location and scale (TFP's cases)", {
  set.seed(701)
  draws <- rnorm(10, 2, 0.1)
  b <- tfb_lambert_w_tail(2, 0.1, 0)
  expect_equal(b$forward(draws), draws, tolerance = 1e-15)
  expect_equal(b$inverse(draws), draws, tolerance = 1e-15)
  vals <- seq(-1, 1, length.out = 10) + 2
  expected <- list(
    "0.01" = c(0.3512787293, 0.9475142919, 1.351741458, 1.647624085,
               1.888200897, 2.111799103, 2.352375915, 2.648258542,
               3.052485708, 3.648721271),
    "0.5" = c(-72004899335.4, -2876663.4799, -1244.70919876, -3.36108022402,
              1.84871391046, 2.15128608954, 7.36108022402, 1248.70919876,
              2876667.4799, 72004899339.4))
  for (tailweight in names(expected)) {
    b <- tfb_lambert_w_tail(2, 0.1, as.numeric(tailweight))
    expect_equal(b$forward(vals), expected[[tailweight]], tolerance = 1e-10)
    expect_equal(b$inverse(b$forward(vals)), vals, tolerance = 1e-14)
  }
  # heavier tails: the forward image of normal draws is not normal, the
  # inverse image of it is
  x <- rnorm(100, 2, 0.1)
  b <- tfb_lambert_w_tail(2, 0.1, 0.2)
  expect_lt(stats::shapiro.test(b$forward(x))$p.value, 0.01)
  expect_gt(stats::shapiro.test(b$inverse(b$forward(x)))$p.value, 0.05)
  expect_equal(b$inverse(b$forward(x)), x, tolerance = 1e-14)
})

test_that("lambert_w_tail is congruent, bijective and finite", {
  set.seed(702)
  expect_scalar_congruency(tfb_lambert_w_tail(0.5, 2, 0.3), -3, 3,
                           rtol = 0.05)
  b <- tfb_lambert_w_tail(c(0, 1, -1), c(1, 0.5, 2), c(0.1, 0.5, 0))
  x <- matrix(seq(-4, 4, length.out = 30), 10, 3)
  expect_bijective_and_finite(b, x, x, rtol = 1e-12)
})

test_that("tfb_lambert_w_tail() defaults to the identity and checks its arguments", {
  expect_identical(names(formals(tfb_lambert_w_tail)),
                   c("shift", "scale", "tailweight", "validate_args", "name"))
  b <- tfb_lambert_w_tail()
  expect_identical(b$name, "lambertw_tail")
  expect_identical(c(b$shift, b$scale, b$tailweight), c(0, 1, 0))
  x <- c(-1e300, -3, 0, 0.5, 1e300)
  expect_identical(b$forward(x), x)
  expect_identical(b$inverse(x), x)
  expect_identical(b$forward_log_det_jacobian(x, 0), 0 * x)
  expect_identical(b$inverse_log_det_jacobian(x, 1), 0)
  expect_error(tfb_lambert_w_tail(scale = 0), class = "bijectors_error_argument")
  expect_error(tfb_lambert_w_tail(tailweight = -0.1),
               class = "bijectors_error_argument")
  expect_error(tfb_lambert_w_tail(shift = NA_real_),
               class = "bijectors_error_argument")
  expect_error(tfb_lambert_w_tail(c(1, 2), tailweight = c(1, 2, 3)),
               class = "bijectors_error_event_size")
  expect_snapshot(tfb_lambert_w_tail(tailweight = -1), error = TRUE)
  slots <- bijectors:::bijector_parameter_slots(tfb_lambert_w_tail(0, 1, 1))
  expect_identical(vapply(slots, function(s) s$constraint, ""),
                   c("real", "positive", "nonnegative"))
})

# W0 to the precision of z by Newton's method on w e^w = z, until the steps
# vanish. It starts at log1p(z) for 0 <= z <= 3, at z for z < 0 (both above
# the root), and for z > 3 at the asymptotic log z - log log z +
# log log z / log z (within a few percent: a handful of steps instead of
# the hundreds that log1p(z) takes near the largest doubles).
mp_lambert_w0 <- function(z) {
  w <- if (all(Rmpfr::asNumeric(z) >= 0)) log1p(z) else z
  large <- Rmpfr::asNumeric(z) > 3
  if (any(large)) {
    l1 <- log(z[large])
    l2 <- log(l1)
    w[large] <- l1 - l2 + l2 / l1
  }
  bits <- min(Rmpfr::getPrec(z))
  tolerance <- Rmpfr::mpfr(2, bits)^(10 - bits)
  for (k in seq_len(200)) {
    step <- (w * exp(w) - z) / (exp(w) * (1 + w))
    w <- w - step
    if (all(abs(step) <= tolerance * abs(w))) break
  }
  w
}

test_that("Lambert's W is accurate to 4 ulps", {
  skip_if_not_installed("Rmpfr")
  z <- c(accuracy_inputs(0, Inf), 10^seq(3, 308, by = 5),
         .Machine$double.xmax)
  expect_ulps(bijectors:::lambert_w0(z), mp_lambert_w0(mp(z)),
              label = "W0", inputs = z)
  # negative arguments away from the branch point -1/e, where W's
  # condition number |z W'(z) / W(z)| grows without bound (5 ulps at
  # -0.365, 40 at -0.3678)
  z <- -10^seq(-300, log10(0.35), length.out = 200)
  expect_ulps(bijectors:::lambert_w0(z), mp_lambert_w0(mp(z)),
              label = "W0 (negative)", inputs = z)
  expect_identical(bijectors:::lambert_w0(c(0, Inf)), c(0, Inf))
  expect_equal(bijectors:::lambert_w0(-1 / exp(1)), -1, tolerance = 1e-7)
  expect_true(is.nan(bijectors:::lambert_w0(-0.4)))
})

test_that("lambert_w_tail is accurate to 4 ulps across its domain", {
  skip_if_not_installed("Rmpfr")
  big <- 10^seq(3, 308, by = 15)
  for (case in list(c(0, 1, 0.5), c(0, 1, 0.01), c(2, 0.1, 0.2))) {
    shift <- case[[1]]
    scale <- case[[2]]
    tailweight <- case[[3]]
    b <- tfb_lambert_w_tail(shift, scale, tailweight)
    what <- sprintf("(shift %g, scale %g, tailweight %g)", shift, scale,
                    tailweight)
    x <- accuracy_inputs()
    u <- (mp(x) - shift) / scale
    # where shift cancels the rest, 4 ulps of shift (helper-tfp-checks.R)
    expect_ulps_cancelling(
      b$forward(x), shift + scale * u * exp(tailweight * u^2 / 2), shift,
      label = paste("forward", what), inputs = x)
    expect_ulps(b$forward_log_det_jacobian(x, 0),
                tailweight * u^2 / 2 + log1p(tailweight * u^2),
                label = paste("fldj", what), inputs = x)
    y <- sort(unique(c(accuracy_inputs(), big, -big)))
    # 1500 bits: log|W_d(z)| - log|z| is about d z^2 / 2 for tiny z, far
    # below the 256-bit rounding of log|z|
    z <- (Rmpfr::mpfr(y, 1500) - shift) / scale
    w <- mp_lambert_w0(tailweight * z^2)
    heavy <- sign(z) * sqrt(w / tailweight)
    expect_ulps_cancelling(b$inverse(y), shift + scale * heavy, shift,
                           label = paste("inverse", what), inputs = y)
    expect_ulps(b$inverse_log_det_jacobian(y, 0),
                log(abs(heavy)) - log(abs(z)) - log1p(w),
                label = paste("ildj", what), inputs = y)
  }
})
