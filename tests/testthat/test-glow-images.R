# Glow trains on images: a tiny Glow fitted with fit() on dequantised 4 x 4
# shape images beats, in test bits per dimension, a full-covariance
# Gaussian fitted to the same pixels on the same (logit) scale; and the
# bits per dimension of the flow add up from its parts.

# The map from the flow's scale to the unit scale (RealNVP's logit with
# alpha = 0.05: u = (sigmoid(y) - alpha) / (1 - 2 alpha)), part of both
# models, so its log-det counts in both likelihoods.
unit_map <- function(alpha = 0.05) {
  tfb_sigmoid(low = -alpha / (1 - 2 * alpha),
              high = (1 - alpha) / (1 - 2 * alpha))
}

# The maximum-likelihood Gaussian of the training images on the flow's
# scale, as a distribution over unit-scale images.
fit_gaussian_images <- function(images) {
  shape <- dim(images)[-1]
  size <- prod(shape)
  to_flow <- tfb_chain(list(unit_map(), tfb_reshape(shape, size)))
  latent <- to_flow$inverse(images)
  covariance <- cov(latent) * (nrow(latent) - 1) / nrow(latent)
  tfd_transformed_distribution(
    tfd_multivariate_normal_diag(rep(0, size)),
    tfb_chain(list(unit_map(), tfb_reshape(shape, size),
                   tfb_shift(colMeans(latent)),
                   tfb_scale_matvec_tri_l(t(chol(covariance))))))
}

# A generator of training batches, dequantised anew at each pass.
dequantized_batches <- function(images, batch_size) {
  order <- NULL
  step <- 0
  function() {
    if (is.null(order)) order <<- sample.int(dim(images)[[1]])
    if (step * batch_size >= length(order)) {
      order <<- NULL
      step <<- 0
      return(NULL)
    }
    rows <- order[(step * batch_size + 1):min((step + 1) * batch_size,
                                              length(order))]
    step <<- step + 1
    dequantize(images[rows, , , , drop = FALSE])
  }
}

test_that("a tiny Glow trained by fit() beats the full-covariance Gaussian", {
  set.seed(11)
  images <- sample_shapes_images(1000, size = 4)
  train <- images[1:600, , , , drop = FALSE]
  test <- dequantize(images[601:1000, , , , drop = FALSE])
  gaussian <- fit_gaussian_images(dequantize(train))
  glow <- tfb_glow(c(4, 4, 1), num_glow_blocks = 2, num_steps_per_block = 2,
                   coupling_bijector_fn = function(s) {
                     glow_default_network(s, num_hidden = 8)
                   })
  flow <- tfd_transformed_distribution(
    tfd_multivariate_normal_diag(rep(0, 16)), tfb_chain(list(unit_map(), glow)))
  before <- mean(bits_per_dim(flow, test))
  history <- fit(flow, dequantized_batches(train, 50), epochs = 12,
                 learning_rate = 0.01, verbose = FALSE)
  expect_length(history$loss, 12)
  expect_lt(history$loss[[12]], history$loss[[1]])
  glow_bits <- mean(bits_per_dim(flow, test))
  gaussian_bits <- mean(bits_per_dim(gaussian, test))
  expect_lt(glow_bits, before)
  expect_lt(glow_bits, gaussian_bits - 0.1)
  # both are far below the 8 bits of a uniform density
  expect_lt(gaussian_bits, 7.6)
})

test_that("the flow's bits per dimension add up from its parts", {
  set.seed(12)
  glow <- tfb_glow(c(4, 4, 1), num_glow_blocks = 2, num_steps_per_block = 1,
                   coupling_bijector_fn = function(s) {
                     glow_default_network(s, num_hidden = 4)
                   })
  flow <- tfd_transformed_distribution(
    tfd_multivariate_normal_diag(rep(0, 16)), tfb_chain(list(unit_map(), glow)))
  images <- dequantize(sample_shapes_images(6, size = 4))
  invisible(flow$log_prob(images))          # initialises ActNorm
  params <- trainable_parameters(glow)
  for (name in names(params)) {
    params[[name]][] <- params[[name]] + rnorm(length(params[[name]]), sd = 0.1)
  }
  trainable_parameters(glow) <- params
  # by hand: the logit scale, the latents, a standard normal's log-density,
  # the Glow's log-det and the derivative of the logit map, in bits
  alpha <- 0.05
  s <- alpha + (1 - 2 * alpha) * images
  y <- log(s) - log1p(-s)
  z <- glow$inverse(y)
  logit_log_det <- apply(log(1 - 2 * alpha) - log(s) - log1p(-s), 1, sum)
  nats <- -(rowSums(dnorm(z, log = TRUE)) +
              glow$inverse_log_det_jacobian(y, event_ndims = 3) +
              logit_log_det)
  expect_equal(bits_per_dim(flow, images), nats / (16 * log(2)) + 8,
               tolerance = 1e-10)
})
