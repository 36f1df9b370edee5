# A hostile pass over the elementwise kernels and their vector math: NA and
# NaN must come out where they went in (NA stays NA, as R's arithmetic
# keeps it), at every position of arrays whose lengths are not multiples
# of the SIMD width.

# Every elementwise kind, with parameters inside the domain of the values
# below (0.2 to 0.6).
elementwise_kinds <- function() {
  list(
    exp = tfb_exp(), expm1 = tfb_expm1(), tanh = tfb_tanh(),
    power_transform = tfb_power_transform(0.5),
    power_transform_0 = tfb_power_transform(0),
    rayleigh_cdf = tfb_rayleigh_cdf(2), sigmoid = tfb_sigmoid(),
    sigmoid_bounds = tfb_sigmoid(low = -1, high = 2),
    softplus = tfb_softplus(), softplus_hinge = tfb_softplus(hinge_softness = 0.5),
    shift = tfb_shift(1), scale = tfb_scale(2), square = tfb_square(),
    sinh = tfb_sinh(), softsign = tfb_softsign(),
    gumbel_cdf = tfb_gumbel_cdf(), weibull_cdf = tfb_weibull_cdf(1, 2),
    normal_cdf = tfb_normal_cdf(), kumaraswamy_cdf = tfb_kumaraswamy_cdf(2, 3),
    gompertz_cdf = tfb_gompertz_cdf(1, 1),
    shifted_gompertz_cdf = tfb_shifted_gompertz_cdf(0.5, 2),
    shifted_gompertz_cdf_small = tfb_shifted_gompertz_cdf(0.01, 3),
    reciprocal = tfb_reciprocal(), sinh_arcsinh = tfb_sinh_arcsinh(0.2, 1.3),
    lambert_w_tail = tfb_lambert_w_tail(shift = 0, scale = 1,
                                        tailweight = 0.2))
}

test_that("NA stays NA and NaN stays NaN through every elementwise map and log-det", {
  kinds <- elementwise_kinds()
  values <- c(0.3, 0.6, 0.2, 0.45)
  checked <- 0L
  for (name in names(kinds)) {
    b <- kinds[[name]]
    maps <- list(
      forward = function(x) b$forward(x),
      inverse = function(x) b$inverse(x),
      forward_log_det_jacobian = function(x) {
        b$forward_log_det_jacobian(x, event_ndims = 0)
      },
      inverse_log_det_jacobian = function(x) {
        b$inverse_log_det_jacobian(x, event_ndims = 0)
      })
    for (n in c(1L, 2L, 5L, 9L, 17L)) {
      for (position in unique(c(1L, (n + 1L) %/% 2L, n))) {
        x <- rep(values, length.out = n)
        x[position] <- NA
        y <- rep(values, length.out = n)
        y[position] <- NaN
        for (map in names(maps)) {
          out_na <- maps[[map]](x)
          out_nan <- maps[[map]](y)
          if (name %in% c("shift", "scale") && grepl("jacobian", map)) {
            next   # a constant log-det, one number whatever the input
          }
          label <- sprintf("%s %s, length %d, position %d", name, map, n,
                           position)
          expect_true(is.na(out_na[position]) && !is.nan(out_na[position]),
                      label = paste(label, "(NA)"))
          expect_true(is.nan(out_nan[position]),
                      label = paste(label, "(NaN)"))
          checked <- checked + 1L
        }
      }
    }
  }
  expect_gt(checked, 1000L)
})

test_that("the shifted Gompertz inverse keeps NA beside values it inverts exactly", {
  # it returned the default NaN for NA (its early exit for y outside (0, 1))
  b <- tfb_shifted_gompertz_cdf(concentration = 0.5, rate = 2)
  x <- c(0.25, 1, 3)
  y <- b$forward(x)
  out <- b$inverse(c(NA, y[[1L]], NaN, y[[2L]], -0.5, 0, 1, y[[3L]]))
  expect_true(is.na(out[[1L]]) && !is.nan(out[[1L]]))
  expect_true(is.nan(out[[3L]]))
  expect_true(is.nan(out[[5L]]))
  expect_identical(out[c(6L, 7L)], c(0, Inf))
  expect_equal(out[c(2L, 4L, 8L)], x, tolerance = 1e-14)
  ildj <- b$inverse_log_det_jacobian(c(NA, y[[1L]]), event_ndims = 0)
  expect_true(is.na(ildj[[1L]]) && !is.nan(ildj[[1L]]))
  # -log f(x) by the density written out: f = r w e (1 + (1 - w) / c),
  # w = exp(-r x), e = exp(-w / c)
  w <- exp(-2 * x[[1L]])
  density <- 2 * w * exp(-w / 0.5) * (1 + (1 - w) / 0.5)
  expect_equal(ildj[[2L]], -log(density), tolerance = 1e-13)
})
