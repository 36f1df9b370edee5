# dequantize() and bits_per_dim() against hand computations: the bins,
# the uniform noise, a density known in closed form and a Gaussian scored
# by hand.

test_that("dequantize() puts each value uniformly in its own bin", {
  set.seed(1)
  x <- array(rep(c(0, 1, 128, 255), 5000), c(2, 10000))
  u <- dequantize(x)
  expect_equal(dim(u), dim(x))
  expect_true(all(u > 0 & u < 1))
  expect_equal(floor(u * 256), x, ignore_attr = TRUE)
  # the offsets within the bins are uniform: mean 1/2, variance 1/12
  offset <- u * 256 - x
  expect_equal(mean(offset), 0.5, tolerance = 0.01)
  expect_equal(var(as.vector(offset)), 1 / 12, tolerance = 0.02)
  # reproducible, and other levels
  set.seed(2)
  a <- dequantize(c(0, 3), levels = 4)
  set.seed(2)
  expect_identical(dequantize(c(0, 3), levels = 4), a)
  expect_equal(floor(a * 4), c(0, 3))
  # the attributes of sample_shapes_images() are dropped, the dim kept
  images <- sample_shapes_images(2, size = 4)
  expect_identical(attributes(dequantize(images)), list(dim = c(2L, 4L, 4L, 1L)))
})

test_that("dequantize() refuses what is not whole pixel values", {
  expect_error(dequantize(256), "`x`", class = "bijectors_error_argument")
  expect_error(dequantize(-1), "`x`", class = "bijectors_error_argument")
  expect_error(dequantize(0.5), "`x`", class = "bijectors_error_argument")
  expect_error(dequantize(c(1, NA)), "`x`", class = "bijectors_error_argument")
  expect_error(dequantize("1"), "`x`", class = "bijectors_error_argument")
  expect_error(dequantize(4, levels = 4), "`x`",
               class = "bijectors_error_argument")
  expect_error(dequantize(0, levels = 1), "`levels`",
               class = "bijectors_error_argument")
})

test_that("a uniform density scores log2(levels) bits per dimension", {
  # a standard normal through its CDF is uniform on (0, 1)^D
  uniform <- tfd_transformed_distribution(
    tfd_sample_distribution(tfd_normal(0, 1), c(4, 4, 2)), tfb_normal_cdf())
  set.seed(3)
  images <- dequantize(sample_shapes_images(5, size = 4, channels = 2))
  expect_equal(bits_per_dim(uniform, images), rep(8, 5), tolerance = 1e-10)
  expect_equal(bits_per_dim(uniform, images, levels = 32), rep(5, 5),
               tolerance = 1e-10)
})

test_that("bits_per_dim() of a Gaussian on the logit scale, by hand", {
  # The baseline of the Glow vignette: a full-covariance Gaussian on the
  # scale of a bounded sigmoid's inverse, the sigmoid's log-det included.
  set.seed(4)
  size <- 4
  alpha <- 0.05
  low <- -alpha / (1 - 2 * alpha)
  high <- (1 - alpha) / (1 - 2 * alpha)
  images <- dequantize(sample_shapes_images(200, size = size))
  to_unit <- tfb_sigmoid(low = low, high = high)
  flatten <- tfb_chain(list(to_unit, tfb_reshape(c(size, size, 1), size^2)))
  latent <- flatten$inverse(images)
  mu <- colMeans(latent)
  covariance <- cov(latent)
  gaussian <- tfd_transformed_distribution(
    tfd_multivariate_normal_diag(rep(0, size^2)),
    tfb_chain(list(to_unit, tfb_reshape(c(size, size, 1), size^2),
                   tfb_shift(mu), tfb_scale_matvec_tri_l(t(chol(covariance))))))
  # by hand: the logit of the rescaled pixels in TF's row-major order, the
  # Gaussian log-density from a Cholesky solve, and the log-derivative of
  # the map u -> logit(alpha + (1 - 2 alpha) u)
  by_hand <- vapply(1:20, function(k) {
    u <- as.vector(t(images[k, , , 1]))      # row-major
    s <- alpha + (1 - 2 * alpha) * u
    v <- log(s) - log1p(-s)
    expect_equal(v, latent[k, ], tolerance = 1e-12)
    r <- chol(covariance)
    w <- backsolve(r, v - mu, transpose = TRUE)
    log_gauss <- -0.5 * sum(w^2) - sum(log(diag(r))) - 8 * log(2 * pi)
    log_jacobian <- sum(log(1 - 2 * alpha) - log(s) - log1p(-s))
    nats <- -(log_gauss + log_jacobian)
    nats / (size^2 * log(2)) + 8
  }, numeric(1))
  expect_equal(bits_per_dim(gaussian, images[1:20, , , , drop = FALSE]),
               by_hand, tolerance = 1e-10)
})

test_that("bits_per_dim() checks its arguments", {
  uniform <- tfd_transformed_distribution(
    tfd_sample_distribution(tfd_normal(0, 1), c(2, 2, 1)), tfb_normal_cdf())
  expect_error(bits_per_dim(tfb_identity(), array(0.5, c(1, 2, 2, 1))),
               "`distribution`", class = "bijectors_error_distribution")
  expect_error(bits_per_dim(uniform, array(0.5, c(1, 2, 2, 1)), levels = 0),
               "`levels`", class = "bijectors_error_argument")
  expect_error(bits_per_dim(uniform, array(0.5, c(1, 3, 2, 1))))
})
