# tfb_activation_normalization() (Glow's ActNorm): TFP's data-dependent
# initialisation in both directions (the sheet's formulas, recomputed here
# with apply()), the maps and log-dets from those parameters, and the state
# rules (nothing changes on a failed call; the state saves).

glow_images <- function(n = 5, h = 4, w = 3, c = 3, seed = 1) {
  set.seed(seed)
  x <- array(rnorm(n * h * w * c), c(n, h, w, c))
  # channels with different means and spreads
  for (k in seq_len(c)) x[, , , k] <- 2 * k - 3 + k * x[, , , k]
  x
}

channel_mean <- function(x) apply(x, 4, mean)
channel_sd <- function(x) apply(x, 4, function(v) sqrt(mean((v - mean(v))^2)))

test_that("inverse first: s = 1 / (sd + 10 eps), m = -mean; output standardised", {
  y <- glow_images()
  b <- tfb_activation_normalization(3)
  expect_false(b$initialized)
  expect_null(b$scale)
  x <- b$inverse(y)
  expect_true(b$initialized)
  sd_y <- channel_sd(y)
  expect_equal(b$scale, 1 / (sd_y + 10 * .Machine$double.eps), tolerance = 1e-14)
  expect_equal(b$shift, -channel_mean(y), tolerance = 1e-14)
  # TFP's test: per-channel mean 0 (atol 1e-5) and sd 1 (rtol 5e-5)
  expect_equal(channel_mean(x), rep(0, 3), tolerance = 1e-5)
  expect_equal(channel_sd(x), rep(1, 3), tolerance = 5e-5)
  # by hand, channel by channel
  for (k in 1:3) {
    expect_equal(x[, , , k], (y[, , , k] - mean(y[, , , k])) / sd_y[[k]],
                 tolerance = 1e-12)
  }
  # later calls keep the parameters
  other <- glow_images(seed = 2)
  expect_equal(b$inverse(other)[, , , 2],
               (other[, , , 2] - mean(y[, , , 2])) / sd_y[[2]],
               tolerance = 1e-12)
})

test_that("forward first: s = sd + 10 eps, m = mean / s; output standardised", {
  x <- glow_images(seed = 3)
  b <- tfb_activation_normalization(3)
  y <- b$forward(x)
  s <- channel_sd(x) + 10 * .Machine$double.eps
  expect_equal(b$scale, s, tolerance = 1e-14)
  expect_equal(b$shift, channel_mean(x) / s, tolerance = 1e-14)
  expect_equal(channel_mean(y), rep(0, 3), tolerance = 1e-5)
  expect_equal(channel_sd(y), rep(1, 3), tolerance = 5e-5)
  expect_equal(b$inverse(y), x, tolerance = 1e-12)
})

test_that("log-dets: -sum(log s) per channel vector, times H * W for images", {
  y <- glow_images()
  b <- tfb_activation_normalization(3)
  # a log-det as the first call initialises too (inverse direction)
  ildj3 <- b$inverse_log_det_jacobian(y, event_ndims = 3)
  s <- 1 / (channel_sd(y) + 10 * .Machine$double.eps)
  expect_equal(ildj3, 4 * 3 * sum(log(s)), tolerance = 1e-12)
  x <- b$inverse(y)
  expect_equal(b$forward_log_det_jacobian(x, event_ndims = 1), -sum(log(s)),
               tolerance = 1e-12)
  expect_equal(b$forward_log_det_jacobian(x, event_ndims = 2),
               -3 * sum(log(s)), tolerance = 1e-12)
  # a forward log-det first initialises in the forward direction
  b2 <- tfb_activation_normalization(3)
  fldj <- b2$forward_log_det_jacobian(y, event_ndims = 1)
  expect_equal(fldj, -sum(log(channel_sd(y) + 10 * .Machine$double.eps)),
               tolerance = 1e-12)
  expect_equal(b2$scale, channel_sd(y) + 10 * .Machine$double.eps,
               tolerance = 1e-14)
})

test_that("a refused or failed call leaves the bijector uninitialised", {
  y <- glow_images()
  b <- tfb_activation_normalization(3)
  expect_error(b$inverse(y[, , , 1:2]), class = "bijectors_error_event_size")
  bad <- y
  bad[1] <- NA
  expect_error(b$inverse(bad), "finite", class = "bijectors_error_input")
  expect_error(b$inverse_log_det_jacobian(y, event_ndims = 5),
               class = "bijectors_error_event_ndims")
  expect_error(b$forward("a"), class = "bijectors_error_input")
  expect_false(b$initialized)
  expect_null(b$shift)
  # once initialised, non-finite values propagate
  b$inverse(y)
  expect_true(is.na(b$inverse(bad)[1]))
  expect_error(tfb_activation_normalization(0), class = "bijectors_error_argument")
  expect_error(tfb_activation_normalization(2.5),
               class = "bijectors_error_argument")
})

test_that("the state saves, and the parameters are trainable", {
  y <- glow_images()
  b <- tfb_activation_normalization(3)
  fresh <- unserialize(serialize(b, NULL))
  b$inverse(y)
  copy <- unserialize(serialize(b, NULL))
  expect_true(copy$initialized)
  other <- glow_images(seed = 9)
  expect_identical(copy$inverse(other), b$inverse(other))
  # a copy saved before the first call initialises on its own data
  expect_false(fresh$initialized)
  fresh$forward(other)
  expect_equal(fresh$scale, channel_sd(other) + 10 * .Machine$double.eps,
               tolerance = 1e-14)
  params <- trainable_parameters(b)
  expect_named(params, c("shift", "log_scale"))
  expect_equal(params$log_scale, log(b$scale), tolerance = 1e-14)
  params$shift <- c(1, 2, 3)
  trainable_parameters(b) <- params
  expect_equal(b$shift, c(1, 2, 3))
  # a user's copy of the fields does not move
  held <- b$scale
  params$log_scale <- c(0, 0, 0)
  trainable_parameters(b) <- params
  expect_equal(b$scale, c(1, 1, 1))
  expect_false(isTRUE(all.equal(held, c(1, 1, 1))))
})

test_that("it prints its state", {
  b <- tfb_activation_normalization(2)
  expect_snapshot(b)
  invisible(b$inverse(cbind(c(1, 3, 5), c(0, 0, 2))))
  expect_snapshot(b)
})
