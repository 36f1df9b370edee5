# The convolution kernels behind Glow's networks (src/conv2d.c) against the
# plain-R loops of helper-conv.R, and their backward pass against central
# differences.

activation_codes <- function(layers) {
  names <- vapply(layers, function(layer) layer$activation, "")
  unname(bijectors:::network_activations[names])
}

# `limit`: the scratch limit of the im2col chunks (1: one image column at
# a time).
conv_forward <- function(x, layers, keep = FALSE, limit = 2^22) {
  .Call(bijectors:::C_conv_network_forward, x,
        lapply(layers, `[[`, "kernel"), lapply(layers, `[[`, "bias"),
        activation_codes(layers), keep, limit)
}

conv_backward <- function(x, layers, grad_output, want_input = TRUE,
                          limit = 2^22) {
  run <- conv_forward(x, layers, keep = TRUE, limit = limit)
  .Call(bijectors:::C_conv_network_backward, x,
        lapply(layers, `[[`, "kernel"), lapply(layers, `[[`, "bias"),
        activation_codes(layers), run$hidden, run$output,
        grad_output, want_input, limit)
}

random_layer <- function(kh, kw, c_in, c_out, activation = "linear") {
  list(kernel = array(rnorm(kh * kw * c_in * c_out), c(kh, kw, c_in, c_out)),
       bias = rnorm(c_out), activation = activation)
}

test_that("a 3x3 'same' convolution matches the loops, edges included", {
  set.seed(11)
  x <- array(rnorm(2 * 5 * 4 * 3), c(2, 5, 4, 3))
  layer <- random_layer(3, 3, 3, 4)
  out <- conv_forward(x, list(layer))
  expect_equal(dim(out), c(2, 5, 4, 4))
  expect_equal(out, reference_conv2d(x, layer$kernel, layer$bias),
               tolerance = 1e-12)
})

test_that("1x1, 5x5 and non-square kernels match the loops", {
  set.seed(12)
  x <- array(rnorm(3 * 4 * 6 * 2), c(3, 4, 6, 2))
  for (shape in list(c(1, 1), c(5, 5), c(3, 1), c(1, 5), c(5, 3))) {
    layer <- random_layer(shape[[1]], shape[[2]], 2, 3)
    expect_equal(conv_forward(x, list(layer)),
                 reference_conv2d(x, layer$kernel, layer$bias),
                 tolerance = 1e-12, info = paste(shape, collapse = "x"))
  }
  # a kernel larger than the image: every tap but the centre falls outside
  # on a 1x1 image
  x1 <- array(rnorm(2 * 1 * 1 * 2), c(2, 1, 1, 2))
  layer <- random_layer(3, 3, 2, 2)
  expect_equal(conv_forward(x1, list(layer)),
               reference_conv2d(x1, layer$kernel, layer$bias),
               tolerance = 1e-12)
})

test_that("a delta kernel shifts the image by one pixel with zero fill", {
  x <- array(seq_len(1 * 3 * 3 * 1), c(1, 3, 3, 1)) + 0
  kernel <- array(0, c(3, 3, 1, 1))
  kernel[3, 2, 1, 1] <- 1          # out[i, j] = x[i + 1, j]
  out <- conv_forward(x, list(list(kernel = kernel, bias = 0,
                                   activation = "linear")))
  expect_equal(out[1, , , 1], rbind(x[1, 2:3, , 1], 0))
})

test_that("a three-layer network with relu matches the loops", {
  set.seed(13)
  x <- array(rnorm(2 * 4 * 4 * 2), c(2, 4, 4, 2))
  layers <- list(random_layer(3, 3, 2, 5, "relu"),
                 random_layer(1, 1, 5, 5, "relu"),
                 random_layer(3, 3, 5, 4))
  run <- conv_forward(x, layers, keep = TRUE)
  expect_equal(run$output, reference_conv_network(x, layers),
               tolerance = 1e-12)
  expect_equal(run$hidden[[1]], reference_conv_network(x, layers[1]),
               tolerance = 1e-12)
  expect_equal(conv_forward(x, layers), run$output)
})

test_that("gradients of input, kernels and biases match central differences", {
  set.seed(14)
  x <- array(rnorm(2 * 4 * 3 * 2), c(2, 4, 3, 2))
  layers <- list(random_layer(3, 3, 2, 3, "tanh"),
                 random_layer(1, 1, 3, 3, "tanh"),
                 random_layer(3, 3, 3, 2))
  weight <- array(rnorm(2 * 4 * 3 * 2), c(2, 4, 3, 2))
  loss <- function(x, layers) sum(weight * reference_conv_network(x, layers))
  back <- conv_backward(x, layers, weight)
  expect_equal(back$input,
               conv_central_gradient(function(v) loss(v, layers), x),
               tolerance = 1e-7)
  for (k in seq_along(layers)) {
    for (part in c("kernel", "bias")) {
      numeric_gradient <- conv_central_gradient(function(v) {
        changed <- layers
        changed[[k]][[part]] <- v
        loss(x, changed)
      }, layers[[k]][[part]])
      expect_equal(back[[c(kernel = "kernels", bias = "biases")[[part]]]][[k]], numeric_gradient,
                   tolerance = 1e-7, info = paste(part, k))
    }
  }
  expect_null(conv_backward(x, layers, weight, want_input = FALSE)$input)
})

test_that("im2col in chunks of image columns gives the same results", {
  set.seed(15)
  x <- array(rnorm(2 * 3 * 5 * 2), c(2, 3, 5, 2))
  layers <- list(random_layer(3, 3, 2, 3, "tanh"),
                 random_layer(1, 1, 3, 3, "relu"),
                 random_layer(5, 3, 3, 2))
  weight <- array(rnorm(2 * 3 * 5 * 2), c(2, 3, 5, 2))
  whole <- conv_backward(x, layers, weight)
  expected <- reference_conv_network(x, layers)
  # limits of one image column (chunks of 1), of two columns (a last chunk
  # of 1), and below one column (still one column)
  for (limit in c(2 * 3 * 27, 2 * 2 * 3 * 27, 1)) {
    expect_equal(conv_forward(x, layers, limit = limit), expected,
                 tolerance = 1e-12, info = limit)
    chunked <- conv_backward(x, layers, weight, limit = limit)
    expect_equal(chunked, whole, tolerance = 1e-12, info = limit)
  }
  expect_error(conv_forward(x, layers, limit = 0), "scratch_limit")
})

test_that("the C entries refuse malformed arguments", {
  x <- array(0, c(1, 2, 2, 2))
  good <- random_layer(3, 3, 2, 1)
  expect_error(conv_forward(matrix(0, 2, 2), list(good)), "dim c\\(N, H, W, C\\)")
  expect_error(conv_forward(x, list(random_layer(2, 2, 2, 1))), "odd")
  expect_error(conv_forward(x, list(random_layer(3, 3, 3, 1))),
               "takes 3 channels")
  bad_bias <- good
  bad_bias$bias <- c(1, 2)
  expect_error(conv_forward(x, list(bad_bias)), "length 1")
  run <- conv_forward(x, list(good, good <- random_layer(3, 3, 1, 1)),
                      keep = TRUE)
  expect_error(.Call(bijectors:::C_conv_network_backward, x,
                     list(random_layer(3, 3, 2, 1)$kernel, good$kernel),
                     list(0, 0), c(0L, 0L), run$hidden, run$output,
                     array(0, c(1, 2, 2, 2)), TRUE, 2^22), "grad_output")
})
