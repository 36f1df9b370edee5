# tfb_glow(): TFP's construction (splits from the sheet's table), TFP's
# test setup and tolerances (glow_test.py: 16 x 16 x 3 images, batch 5, 2
# blocks of 1 step, 32 hidden filters, grab 0.5 and 0.5, after a sigmoid on
# (-10, 10)), the ActNorm initialisation through the flow, shapes, errors
# and state.

small_network <- function(input_shape) {
  glow_default_network(input_shape, num_hidden = 32)
}

tfp_test_glow <- function(seed = 42, ...) {
  set.seed(seed)
  tfb_glow(output_shape = c(16, 16, 3), num_glow_blocks = 2,
           num_steps_per_block = 1, coupling_bijector_fn = small_network,
           exit_bijector_fn = glow_default_exit_network,
           grab_after_block = c(0.5, 0.5), ...)
}

# Gives every network weight of a flow a random value (the zero last layers
# of new networks make every coupling linear), through
# trainable_parameters<-; ActNorm and the 1x1 convolutions keep theirs.
randomise_glow_networks <- function(glow, sd = 0.05) {
  params <- trainable_parameters(glow)
  for (name in grep("/(coupling|exit)/", names(params), value = TRUE)) {
    params[[name]][] <- rnorm(length(params[[name]]), sd = sd)
  }
  trainable_parameters(glow) <- params
  invisible(glow)
}

test_images <- function(n = 5, seed = 7) {
  set.seed(seed)
  array(runif(n * 16 * 16 * 3, -9.5, 9.5), c(n, 16, 16, 3))
}

test_that("blockwise splits are TFP's (the sheet's table)", {
  expect_equal(tfb_glow(c(32, 32, 3), num_steps_per_block = 1,
                        coupling_bijector_fn = function(s) {
                          glow_default_network(s, num_hidden = 2)
                        })$blockwise_splits,
               list(c(48L, 0L, 144L), c(12L, 12L, 24L), c(6L, 6L, 0L)))
  expect_equal(tfp_test_glow()$blockwise_splits,
               list(c(12L, 12L, 24L), c(6L, 6L, 0L)))
})

test_that("TFP's setup: round trips at atol 1e-4 and -ILDJ(x, 3) = FLDJ(z, 1)", {
  glow <- tfp_test_glow()
  flow <- tfb_chain(list(tfb_sigmoid(low = -10, high = 10), glow))
  x <- test_images()
  z <- flow$inverse(x)
  expect_equal(dim(z), c(5, 768))
  randomise_glow_networks(glow)
  z <- flow$inverse(x)
  expect_lt(max(abs(flow$forward(z) - x)), 1e-4)
  set.seed(8)
  z2 <- matrix(rnorm(5 * 768), 5)
  expect_lt(max(abs(flow$inverse(flow$forward(z2)) - z2)), 1e-4)
  ildj <- flow$inverse_log_det_jacobian(x, event_ndims = 3)
  fldj <- flow$forward_log_det_jacobian(z, event_ndims = 1)
  expect_length(ildj, 5)
  expect_equal(-ildj, fldj, tolerance = 1e-4)
  # the per-image log-dets differ (the couplings are not linear now)
  expect_gt(diff(range(fldj)), 1e-3)
  # TFP's bijectivity check on a linspace of images and latents
  grid <- array(seq(-9.9, 9.9, length.out = 10 * 768), c(10, 16, 16, 3))
  expect_equal(flow$forward(flow$inverse(grid)), grid, tolerance = 1e-3)
  latent <- matrix(seq(0, 10, length.out = 10 * 768), 10)
  out <- flow$forward(latent)
  expect_true(all(is.finite(out)))
})

test_that("ILDJ equals log|det| of a numerical 768 x 768 Jacobian (rtol 1e-5)", {
  glow <- tfp_test_glow(seed = 3)
  x <- test_images(n = 1, seed = 4)
  invisible(glow$inverse(test_images(5, seed = 5)))  # initialise ActNorm
  randomise_glow_networks(glow, sd = 0.1)
  h <- 1e-5
  base <- as.vector(x)
  jacobian <- matrix(0, 768, 768)
  for (chunk in split(seq_len(768), ceiling(seq_len(768) / 128))) {
    up <- matrix(base, length(chunk), 768, byrow = TRUE)
    down <- up
    up[cbind(seq_along(chunk), chunk)] <- base[chunk] + h
    down[cbind(seq_along(chunk), chunk)] <- base[chunk] - h
    z_up <- glow$inverse(array(up, c(length(chunk), 16, 16, 3)))
    z_down <- glow$inverse(array(down, c(length(chunk), 16, 16, 3)))
    jacobian[, chunk] <- t(z_up - z_down) / (2 * h)
  }
  numeric_log_det <- as.numeric(determinant(jacobian)$modulus)
  ildj <- glow$inverse_log_det_jacobian(x, event_ndims = 3)
  expect_equal(ildj, numeric_log_det, tolerance = 1e-5)
})

test_that("ActNorm initialises to mean 0, sd 1 per channel in both directions", {
  eps10 <- 10 * .Machine$double.eps
  # inverse first: the first ActNorm of the inverse pass sees the squeezed
  # images (finest level, all 12 channels): channel 4q + 2a + b holds the
  # pixels (2i + a, 2j + b) of channel q
  glow <- tfp_test_glow()
  x <- test_images()
  invisible(glow$inverse(x))
  actnorm <- bijectors:::glow_actnorms(glow)[[2]]
  expect_true(actnorm$initialized)
  squeezed <- array(0, c(5, 8, 8, 12))
  for (q in 0:2) for (a in 0:1) for (b in 0:1) {
    squeezed[, , , 4 * q + 2 * a + b + 1] <-
      x[, seq(1 + a, 16, by = 2), seq(1 + b, 16, by = 2), q + 1]
  }
  sds <- apply(squeezed, 4, function(v) sqrt(mean((v - mean(v))^2)))
  expect_equal(actnorm$scale, 1 / (sds + eps10), tolerance = 1e-12)
  expect_equal(actnorm$shift, -apply(squeezed, 4, mean), tolerance = 1e-12)
  normalised <- actnorm$inverse(squeezed)
  expect_equal(apply(normalised, 4, mean), rep(0, 12), tolerance = 1e-5)
  expect_equal(apply(normalised, 4, function(v) sqrt(mean(v^2))),
               rep(1, 12), tolerance = 5e-5)
  # forward first: the last ActNorm of the forward pass is followed only by
  # the expansion, so each image channel (four standardised channels of
  # equal size) has mean 0 and sd 1
  glow <- tfp_test_glow()
  set.seed(9)
  images <- glow$forward(matrix(rnorm(5 * 768, mean = 2, sd = 3), 5))
  expect_true(all(vapply(bijectors:::glow_actnorms(glow), function(layer) {
    layer$initialized
  }, logical(1))))
  expect_equal(apply(images, 4, mean), rep(0, 3), tolerance = 1e-5)
  expect_equal(apply(images, 4, function(v) sqrt(mean(v^2))), rep(1, 3),
               tolerance = 5e-5)
})

test_that("batch shapes as TFP's: any leading dims, vectors for one event", {
  glow <- tfp_test_glow()
  expect_equal(dim(glow$inverse(array(0.5, c(1, 1, 16, 16, 3)))), c(1, 1, 768))
  expect_length(glow$inverse(array(0.5, c(16, 16, 3))), 768)
  expect_equal(dim(glow$forward(rnorm(768))), c(16, 16, 3))
  expect_equal(dim(glow$forward(matrix(rnorm(768), 1))), c(1, 16, 16, 3))
  x <- test_images(n = 6)
  dim(x) <- c(2, 3, 16, 16, 3)
  expect_equal(dim(glow$inverse_log_det_jacobian(x, event_ndims = 3)), c(2, 3))
  expect_length(glow$inverse_log_det_jacobian(x, event_ndims = 4), 2)
  expect_equal(glow$inverse_log_det_jacobian(x, event_ndims = 4),
               rowSums(glow$inverse_log_det_jacobian(x, event_ndims = 3)))
  expect_equal(tfb_forward_event_shape(glow, 768), c(16L, 16L, 3L))
  expect_equal(tfb_inverse_event_shape(glow, c(16, 16, 3)), 768L)
  expect_error(glow$inverse_log_det_jacobian(x, event_ndims = 2),
               class = "bijectors_error_event_ndims")
})

test_that("networks: additive couplings, no ActNorm, and bad networks", {
  set.seed(1)
  additive <- tfb_glow(c(8, 8, 2), 2, 1,
                       coupling_bijector_fn = function(s) {
                         # s[[3]] output channels: a shift only
                         glow_default_exit_network(s, output_chan = s[[3]] / 2)
                       },
                       exit_bijector_fn = function(s, output_chan) {
                         glow_default_exit_network(s, output_chan / 2)
                       },
                       grab_after_block = c(0.5, 0.5), use_actnorm = FALSE)
  randomise_glow_networks(additive)
  params <- trainable_parameters(additive)
  for (name in grep("log_abs_diagonal", names(params), value = TRUE)) {
    params[[name]] <- params[[name]] + rnorm(length(params[[name]]), sd = 0.3)
  }
  trainable_parameters(additive) <- params
  x <- array(rnorm(2 * 8 * 8 * 2), c(2, 8, 8, 2))
  z <- additive$inverse(x)
  expect_equal(additive$forward(z), x, tolerance = 1e-10)
  # additive couplings and no ActNorm: the log-det is the 1x1 convolutions'
  # alone, the same for every image
  ildj <- additive$inverse_log_det_jacobian(x, 3)
  expect_equal(ildj[[1]], ildj[[2]])
  lu_sum <- 0
  for (level in seq_len(2)) {
    params <- trainable_parameters(additive)
    name <- sprintf("level%d/step1/convolution/log_abs_diagonal", level)
    lu_sum <- lu_sum + sum(params[[name]]) * c(4, 16)[[level]]
  }
  expect_equal(ildj[[1]], lu_sum, tolerance = 1e-12)
  expect_error(tfb_glow(c(8, 8, 2), 2, 1,
                        coupling_bijector_fn = function(s) {
                          glow_default_network(c(s[1:2], s[[3]] + 1), 4)
                        }),
               "Shape inconsistent", class = "bijectors_error_template")
  expect_error(tfb_glow(c(8, 8, 2), 2, 1,
                        coupling_bijector_fn = function(s) tfb_identity()),
               class = "bijectors_error_unsupported")
  expect_error(tfb_glow(c(8, 8, 2), 2, 1, coupling_bijector_fn = function(s) 1),
               class = "bijectors_error_template")
})

test_that("TFP's construction errors", {
  small <- function(s) glow_default_network(s, num_hidden = 2)
  expect_error(tfb_glow(c(16, 16)), "3 dimensions",
               class = "bijectors_error_argument")
  expect_error(tfb_glow(c(16, 12, 3), 3, 1, small), "width",
               class = "bijectors_error_argument")
  expect_error(tfb_glow(c(12, 16, 3), 3, 1, small), "height",
               class = "bijectors_error_argument")
  expect_error(tfb_glow(c(16, 16, 3), 0), class = "bijectors_error_argument")
  expect_error(tfb_glow(c(16, 16, 3), 2, 1, small, grab_after_block = 0.5),
               "one per block", class = "bijectors_error_argument")
  expect_error(tfb_glow(c(16, 16, 3), 2, 1, small,
                        grab_after_block = c(1, 0.5)),
               "takes all", class = "bijectors_error_argument")
  expect_error(tfb_glow(c(4, 4, 1), 2, 1, small,
                        grab_after_block = c(0.2, 0.5)),
               "takes no channel", class = "bijectors_error_argument")
  expect_error(tfb_glow(c(8, 8, 1), 2, 1, coupling_bijector_fn = "x"),
               class = "bijectors_error_argument")
  glow <- tfp_test_glow()
  expect_error(glow$inverse(array(0, c(2, 16, 16, 2))),
               class = "bijectors_error_event_size")
  expect_error(glow$forward(matrix(0, 2, 767)),
               class = "bijectors_error_event_size")
})

test_that("a failed call leaves every ActNorm as it was; the state saves", {
  glow <- tfp_test_glow()
  set.seed(3)
  z <- matrix(rnorm(2 * 768), 2)
  bad <- z
  # latent 31 is channel 31 of the first coarse pixel: a passed channel,
  # so the coarse block's ActNorm initialises before the finer one fails
  bad[1, 31] <- NaN
  expect_error(glow$forward(bad), "finite", class = "bijectors_error_input")
  expect_false(any(vapply(bijectors:::glow_actnorms(glow), function(layer) {
    layer$initialized
  }, logical(1))))
  x <- glow$forward(z)
  copy <- unserialize(serialize(glow, NULL))
  images <- test_images(n = 2)
  expect_identical(copy$inverse(images), glow$inverse(images))
  expect_identical(copy$inverse_log_det_jacobian(images, 3),
                   glow$inverse_log_det_jacobian(images, 3))
  # trainable parameters: exits, couplings, convolutions and ActNorms
  params <- trainable_parameters(glow)
  expect_true(all(c("level1/step1/coupling/layer1/kernel",
                    "level2/exit/layer1/kernel",
                    "level2/step1/convolution/lower_upper",
                    "level2/step1/actnorm/log_scale") %in% names(params)))
})

test_that("gradients of every parameter and the input match central differences", {
  # a small case: 4 x 4 x 1 images, two levels with an exit, ActNorm, and
  # every parameter moved off its initial value (the conformance row checks
  # the forward direction too)
  set.seed(21)
  glow <- tfb_glow(c(4, 4, 1), 2, 1,
                   coupling_bijector_fn = function(s) {
                     glow_default_network(s, num_hidden = 2)
                   }, grab_after_block = c(0.5, 0.5))
  expect_equal(glow$blockwise_splits, list(c(4L, 4L, 8L), c(2L, 2L, 0L)))
  images <- array(rnorm(2 * 4 * 4 * 1), c(2, 4, 4, 1))
  flow <- tfd_transformed_distribution(
    tfd_sample_distribution(tfd_normal(0.1, 1.2), 16), glow)
  invisible(flow$log_prob(images))   # initialises ActNorm
  randomize_parameters(flow, sd = 0.2)
  expect_flow_gradients(flow, images, tolerance = 1e-6)
})

test_that("fit() lowers the loss; deep_copy() gives an independent flow", {
  set.seed(22)
  glow <- tfb_glow(c(4, 4, 1), 2, 1, function(s) glow_default_network(s, 4),
                   grab_after_block = c(0.5, 0.5))
  flow <- tfd_transformed_distribution(
    tfd_sample_distribution(tfd_normal(0, 1), 16), glow)
  # smooth images: a random ramp plus a little noise
  images <- array(0, c(32, 4, 4, 1))
  for (k in 1:32) {
    images[k, , , 1] <- outer(1:4, 1:4, function(i, j) {
      rnorm(1) * i + rnorm(1) * j
    }) / 4 + rnorm(16, sd = 0.1)
  }
  copy <- deep_copy(glow)
  copy_parameters <- trainable_parameters(copy)
  before <- -mean(flow$log_prob(images))
  history <- fit(flow, images, epochs = 30, batch_size = 32,
                 learning_rate = 0.01, verbose = FALSE)
  after <- -mean(flow$log_prob(images))
  expect_lt(after, before - 5)
  # the copy kept its own (uninitialised) state
  expect_false(any(vapply(bijectors:::glow_actnorms(copy), function(layer) {
    layer$initialized
  }, logical(1))))
  expect_identical(trainable_parameters(copy), copy_parameters)
})

test_that("it prints its structure", {
  expect_snapshot(tfp_test_glow())
})

test_that("a flow of images samples TFP's shapes and its log_prob adds up", {
  set.seed(5)
  glow <- tfb_glow(c(8, 8, 2), 2, 1, function(s) glow_default_network(s, 8),
                   grab_after_block = c(0.5, 0.5))
  flow <- tfd_transformed_distribution(
    tfd_sample_distribution(tfd_normal(0, 1), 128), glow)
  expect_equal(dim(flow$sample()), c(8, 8, 2))
  expect_equal(dim(flow$sample(1)), c(1, 8, 8, 2))
  expect_equal(dim(flow$sample(c(1, 1))), c(1, 1, 8, 8, 2))
  randomise_glow_networks(glow)
  x <- array(rnorm(3 * 8 * 8 * 2), c(3, 8, 8, 2))
  z <- glow$inverse(x)
  expect_equal(flow$log_prob(x),
               rowSums(dnorm(z, log = TRUE)) +
                 glow$inverse_log_det_jacobian(x, event_ndims = 3),
               tolerance = 1e-12)
})
