# Glow's default networks (R/glow_network.R): their architecture as TFP's
# GlowDefaultNetwork / GlowDefaultExitNetwork, their initialisation, their
# output against the plain-R convolutions of helper-conv.R, their backward
# pass against central differences, and their argument checks.

# Puts random weights into a network (a test-only write into its
# environment) and returns them as helper-conv.R's layer list.
randomise_network <- function(net, activations) {
  kernels <- lapply(net$weights, function(w) array(rnorm(length(w$kernel)),
                                                   dim(w$kernel)))
  biases <- lapply(net$weights, function(w) rnorm(length(w$bias)))
  assign("kernels", kernels, envir = net)
  assign("biases", biases, envir = net)
  Map(function(kernel, bias, activation) {
    list(kernel = kernel, bias = bias, activation = activation)
  }, kernels, biases, activations)
}

test_that("glow_default_network has TFP's three layers", {
  set.seed(1)
  net <- glow_default_network(c(6, 4, 3), num_hidden = 7)
  w <- net$weights
  expect_named(w, c("hidden_1", "hidden_2", "output"))
  expect_equal(dim(w$hidden_1$kernel), c(3, 3, 3, 7))
  expect_equal(dim(w$hidden_2$kernel), c(1, 1, 7, 7))
  expect_equal(dim(w$output$kernel), c(3, 3, 7, 6))
  expect_true(all(w$output$kernel == 0))
  for (layer in w) expect_true(all(layer$bias == 0))
  expect_identical(net$output_channels, 6L)
  expect_null(net$output_chan)
  expect_identical(net$num_hidden, 7L)
  # a new network outputs zeros
  x <- array(rnorm(2 * 6 * 4 * 3), c(2, 6, 4, 3))
  expect_identical(net$call(x), array(0, c(2, 6, 4, 6)))
  expect_equal(dim(glow_default_network(c(4, 4, 2), 5, kernel_shape = 5)
                   $weights$output$kernel), c(5, 5, 5, 4))
})

test_that("he-normal kernels have Keras' truncated normal distribution", {
  set.seed(2)
  net <- glow_default_network(c(4, 4, 8), num_hidden = 400)
  first <- net$weights$hidden_1$kernel     # fan_in 3 * 3 * 8 = 72
  second <- net$weights$hidden_2$kernel    # fan_in 400
  for (case in list(list(first, 72), list(second, 400))) {
    values <- case[[1]]
    sd_target <- sqrt(2 / case[[2]])
    expect_lt(abs(sd(values) / sd_target - 1), 0.02)
    expect_lt(abs(mean(values)), 0.02 * sd_target)
    # truncated at two standard deviations of the untruncated normal
    expect_lte(max(abs(values)), 2 * sd_target / 0.87962566103423978)
  }
  set.seed(3)
  a <- glow_default_network(c(4, 4, 2), num_hidden = 5)$weights
  set.seed(3)
  b <- glow_default_network(c(4, 4, 2), num_hidden = 5)$weights
  expect_identical(a, b)
})

test_that("glow_default_exit_network is one zero convolution", {
  exit <- glow_default_exit_network(c(8, 8, 6), output_chan = 4)
  expect_named(exit$weights, "output")
  expect_equal(dim(exit$weights$output$kernel), c(3, 3, 6, 8))
  expect_identical(exit$output_channels, 8L)
  expect_identical(exit$output_chan, 4L)
  expect_null(exit$num_hidden)
  expect_equal(dim(exit$call(array(1, c(2, 8, 8, 6)))), c(2, 8, 8, 8))
  expect_equal(dim(glow_default_exit_network(c(4, 4, 1), 2, c(1, 3))
                   $weights$output$kernel), c(1, 3, 1, 4))
})

test_that("$call() computes the convolutions, for any batch shape", {
  set.seed(4)
  net <- glow_default_network(c(5, 4, 2), num_hidden = 3)
  layers <- randomise_network(net, c("relu", "relu", "linear"))
  x <- array(rnorm(3 * 5 * 4 * 2), c(3, 5, 4, 2))
  expected <- reference_conv_network(x, layers)
  expect_equal(net$call(x), expected, tolerance = 1e-12)
  # one image, and two batch dims
  expect_equal(net$call(x[2, , , ]), expected[2, , , ], tolerance = 1e-12)
  x5 <- array(x, c(3, 1, 5, 4, 2))
  expect_equal(net$call(x5), array(expected, c(3, 1, 5, 4, 4)),
               tolerance = 1e-12)
  # images of another size with the same channels
  y <- array(rnorm(1 * 3 * 7 * 2), c(1, 3, 7, 2))
  expect_equal(net$call(y), reference_conv_network(y, layers),
               tolerance = 1e-12)
  storage.mode(x) <- "integer"
  expect_type(net$call(x), "double")
})

test_that("the backward pass gives the gradients of every weight and the input", {
  set.seed(5)
  net <- glow_default_network(c(3, 4, 2), num_hidden = 3)
  layers <- randomise_network(net, c("relu", "relu", "linear"))
  x <- array(rnorm(2 * 3 * 4 * 2), c(2, 3, 4, 2))
  weight <- array(rnorm(2 * 3 * 4 * 4), c(2, 3, 4, 4))
  loss <- function(x, layers) sum(weight * reference_conv_network(x, layers))
  run <- bijectors:::glow_network_forward(net, x, keep_hidden = TRUE)
  back <- bijectors:::glow_network_backward(net, x, run, weight)
  expect_equal(back$input,
               conv_central_gradient(function(v) loss(v, layers), x),
               tolerance = 1e-6)
  slots <- bijectors:::glow_network_parameter_slots(net)
  expect_equal(vapply(slots, `[[`, "", "name"),
               c("layer1/kernel", "layer1/bias", "layer2/kernel",
                 "layer2/bias", "layer3/kernel", "layer3/bias"))
  for (k in seq_along(slots)) {
    layer <- (k + 1) %/% 2
    part <- if (k %% 2 == 1) "kernel" else "bias"
    expect_identical(bijectors:::slot_value(slots[[k]]), layers[[layer]][[part]])
    numeric_gradient <- conv_central_gradient(function(v) {
      changed <- layers
      changed[[layer]][[part]] <- v
      loss(x, changed)
    }, layers[[layer]][[part]])
    expect_equal(back$parameters[[k]], numeric_gradient, tolerance = 1e-6,
                 info = slots[[k]]$name)
  }
})

test_that("networks survive serialization and $weights are copies", {
  set.seed(6)
  net <- glow_default_network(c(4, 4, 2), num_hidden = 4)
  randomise_network(net, c("relu", "relu", "linear"))
  x <- array(rnorm(2 * 4 * 4 * 2), c(2, 4, 4, 2))
  back <- unserialize(serialize(net, NULL))
  expect_identical(back$call(x), net$call(x))
  w <- net$weights
  w$output$kernel[] <- 0
  expect_false(all(net$weights$output$kernel == 0))
  expect_error(net$num_hidden <- 3, class = "bijectors_error_read_only")
})

test_that("bad arguments and inputs give classed errors", {
  expect_error(glow_default_network(c(4, 4)), "three whole numbers",
               class = "bijectors_error_argument")
  expect_error(glow_default_network(c(4, 0, 3)),
               class = "bijectors_error_argument")
  expect_error(glow_default_network(c(4, 4, 3), num_hidden = 0),
               class = "bijectors_error_argument")
  expect_error(glow_default_network(c(4, 4, 3), kernel_shape = 2), "odd",
               class = "bijectors_error_argument")
  expect_error(glow_default_exit_network(c(4, 4, 3), output_chan = 1.5),
               class = "bijectors_error_argument")
  net <- glow_default_network(c(4, 4, 3), num_hidden = 2)
  expect_error(net$call(array(0, c(1, 4, 4, 2))), "c\\(N, H, W, 3\\)",
               class = "bijectors_error_input")
  expect_error(net$call(matrix(0, 4, 3)), class = "bijectors_error_input")
  expect_error(net$call("a"), class = "bijectors_error_input")
})

test_that("networks print their architecture", {
  set.seed(7)
  expect_snapshot({
    glow_default_network(c(16, 16, 3), num_hidden = 32)
    glow_default_exit_network(c(8, 8, 6), output_chan = 6)
  })
})
