# The layer: construction, defaults, argument handling, initializers,
# weights accessors, and the rule that accessors hand out copies.

test_that("a new layer has Keras' defaults and is not built", {
  layer <- layer_batch_normalization()
  expect_s3_class(layer, c("layer_batch_normalization", "bijectors_layer"),
                  exact = TRUE)
  expect_equal(layer$axis, -1)
  expect_equal(layer$momentum, 0.99, tolerance = 0)
  expect_equal(layer$epsilon, 1e-3, tolerance = 0)
  expect_identical(layer$center, TRUE)
  expect_identical(layer$scale, TRUE)
  expect_identical(layer$built, FALSE)
  expect_null(layer$gamma_constraint)
  expect_null(layer$feature_shape)
  expect_null(layer$gamma)
  expect_null(layer$beta)
  expect_null(layer$moving_mean)
  expect_null(layer$moving_variance)
})

test_that("constructor arguments are stored", {
  constraint <- function(g) abs(g)
  layer <- layer_batch_normalization(
    axis = c(2L, 3L), momentum = 0.5, epsilon = 0, center = FALSE,
    scale = FALSE, gamma_constraint = constraint, name = "my_bn"
  )
  expect_equal(layer$axis, c(2, 3))
  expect_equal(layer$momentum, 0.5, tolerance = 0)
  expect_equal(layer$epsilon, 0, tolerance = 0)
  expect_identical(layer$center, FALSE)
  expect_identical(layer$scale, FALSE)
  expect_identical(layer$name, "my_bn")
  expect_true(is.function(layer$gamma_constraint))
  expect_equal(layer$gamma_constraint(c(-2, 3)), c(2, 3), tolerance = 0)
})

test_that("momentum and epsilon accept the ends of their ranges", {
  expect_equal(layer_batch_normalization(momentum = 0)$momentum, 0)
  expect_equal(layer_batch_normalization(momentum = 1)$momentum, 1)
  expect_equal(layer_batch_normalization(epsilon = 0)$epsilon, 0)
})

test_that("layer arguments are checked and normalized", {
  layer <- layer_batch_normalization(axis = 2, momentum = 0L, epsilon = 1L)
  expect_type(layer$momentum, "double")
  expect_type(layer$epsilon, "double")
  expect_equal(layer$axis, 2)
  expect_error(layer_batch_normalization(momentum = 1.01),
               class = "bijectors_error_argument")
  expect_error(layer_batch_normalization(epsilon = -1e-9),
               class = "bijectors_error_argument")
  expect_error(layer_batch_normalization(center = NA),
               class = "bijectors_error_argument")
  expect_error(layer_batch_normalization(axis = 0),
               class = "bijectors_error_axis")
  expect_error(layer_batch_normalization(gamma_initializer = "glorot_uniform"),
               class = "bijectors_error_unsupported")
  expect_error(layer_batch_normalization(renorm = TRUE),
               class = "bijectors_error_unsupported")
})

test_that("harmless Keras options with their default values are accepted", {
  expect_no_error(layer_batch_normalization(renorm = FALSE))
  expect_no_error(layer_batch_normalization(virtual_batch_size = NULL))
  expect_no_error(layer_batch_normalization(fused = NULL))
  expect_no_error(layer_batch_normalization(trainable = TRUE))
  expect_no_error(layer_batch_normalization(
    renorm = FALSE, virtual_batch_size = NULL, fused = NULL, trainable = TRUE
  ))
})

test_that("the layer builds from its first input with the default initializers", {
  set.seed(1)
  layer <- layer_batch_normalization()
  b <- tfb_batch_normalization(layer, training = FALSE)
  y <- matrix(rnorm(15), 5, 3)
  b$inverse(y)
  expect_identical(layer$built, TRUE)
  expect_equal(layer$feature_shape, 3L)
  expect_true(is.integer(layer$feature_shape))
  expect_identical(layer$gamma, rep(1, 3))
  expect_identical(layer$beta, rep(0, 3))
  expect_identical(layer$moving_mean, rep(0, 3))
  expect_identical(layer$moving_variance, rep(1, 3))
})

test_that("several feature axes give one parameter per feature cell", {
  layer <- layer_batch_normalization(axis = c(2, 3))
  b <- tfb_batch_normalization(layer, training = FALSE)
  b$inverse(array(0, c(5, 2, 4)))
  expect_equal(layer$feature_shape, c(2L, 4L))
  expect_length(layer$gamma, 8)
  expect_length(layer$moving_variance, 8)
})

test_that("a non-last single axis builds on that axis", {
  layer <- layer_batch_normalization(axis = 2)
  b <- tfb_batch_normalization(layer, training = FALSE)
  b$inverse(array(0, c(3, 4, 5)))
  expect_equal(layer$feature_shape, 4L)
  expect_length(layer$beta, 4)
})

test_that("forward also builds an unbuilt layer", {
  layer <- layer_batch_normalization()
  b <- tfb_batch_normalization(layer)
  b$forward(matrix(1, 2, 6))
  expect_identical(layer$built, TRUE)
  expect_equal(layer$feature_shape, 6L)
})

test_that("initializers accept 'zeros', 'ones' and a number", {
  layer <- layer_batch_normalization(
    beta_initializer = "ones", gamma_initializer = 2.5,
    moving_mean_initializer = -1, moving_variance_initializer = "zeros"
  )
  b <- tfb_batch_normalization(layer, training = FALSE)
  b$inverse(matrix(0, 2, 4))
  expect_identical(layer$beta, rep(1, 4))
  expect_identical(layer$gamma, rep(2.5, 4))
  expect_identical(layer$moving_mean, rep(-1, 4))
  expect_identical(layer$moving_variance, rep(0, 4))

  layer <- layer_batch_normalization(
    beta_initializer = 0.25, gamma_initializer = "zeros",
    moving_mean_initializer = "ones", moving_variance_initializer = 4L
  )
  b <- tfb_batch_normalization(layer, training = FALSE)
  b$forward(matrix(0, 2, 2))
  expect_identical(layer$beta, rep(0.25, 2))
  expect_identical(layer$gamma, rep(0, 2))
  expect_identical(layer$moving_mean, rep(1, 2))
  expect_identical(layer$moving_variance, rep(4, 2))
})

test_that("initialized values are used by the bijector", {
  set.seed(2)
  layer <- layer_batch_normalization(
    beta_initializer = 0.5, gamma_initializer = 3,
    moving_mean_initializer = 2, moving_variance_initializer = 4,
    epsilon = 0
  )
  b <- tfb_batch_normalization(layer, training = FALSE)
  y <- matrix(rnorm(12), 4, 3)
  expect_equal(b$inverse(y), 3 * (y - 2) / 2 + 0.5, tolerance = 1e-14)
})

test_that("get_weights() returns the four named vectors", {
  layer <- layer_batch_normalization()
  b <- tfb_batch_normalization(layer, training = FALSE)
  b$inverse(matrix(0, 3, 2))
  w <- get_weights(layer)
  expect_type(w, "list")
  expect_named(w, c("gamma", "beta", "moving_mean", "moving_variance"))
  expect_identical(w$gamma, c(1, 1))
  expect_identical(w$beta, c(0, 0))
  expect_identical(w$moving_mean, c(0, 0))
  expect_identical(w$moving_variance, c(1, 1))
})

test_that("get_weights() returns all four even when center and scale are off", {
  layer <- layer_batch_normalization(center = FALSE, scale = FALSE)
  b <- tfb_batch_normalization(layer, training = FALSE)
  b$inverse(matrix(0, 3, 2))
  expect_named(get_weights(layer),
               c("gamma", "beta", "moving_mean", "moving_variance"))
})

test_that("set_weights() copies values in and returns the layer invisibly", {
  set.seed(3)
  layer <- layer_batch_normalization()
  b <- tfb_batch_normalization(layer, training = FALSE)
  b$inverse(matrix(0, 3, 4))
  w <- random_weights(4)
  expect_invisible(result <- set_weights(layer, w))
  expect_identical(result, layer)
  expect_identical(get_weights(layer), w)
  expect_identical(layer$gamma, w$gamma)
  expect_identical(layer$beta, w$beta)
  expect_identical(layer$moving_mean, w$moving_mean)
  expect_identical(layer$moving_variance, w$moving_variance)
})

test_that("set_weights() takes an unnamed list in order or a named list in any order", {
  set.seed(4)
  layer <- layer_batch_normalization()
  b <- tfb_batch_normalization(layer, training = FALSE)
  b$inverse(matrix(0, 3, 3))
  w <- random_weights(3)
  set_weights(layer, unname(w))
  expect_identical(get_weights(layer), w)

  w2 <- random_weights(3)
  set_weights(layer, w2[c("moving_variance", "gamma", "moving_mean", "beta")])
  expect_identical(get_weights(layer), w2)
})

test_that("set_weights() accepts integers and stores doubles", {
  layer <- layer_batch_normalization(momentum = 0.5, epsilon = 0)
  b <- tfb_batch_normalization(layer)
  b$inverse(matrix(c(1, 2, 3, 4), 2, 2))
  # compact integer sequences are ALTREP; the layer must still own a plain
  # double vector that it can update in place.
  set_weights(layer, list(gamma = 1:2, beta = 0:1, moving_mean = 1:2,
                          moving_variance = 3:4))
  w <- get_weights(layer)
  expect_identical(w$gamma, c(1, 2))
  expect_identical(w$moving_variance, c(3, 4))
  y <- matrix(c(1, 3, 10, 14), 2, 2)
  x <- b$inverse(y)
  expected <- ref_train_step(y, -1, list(gamma = c(1, 2), beta = c(0, 1),
                                         moving_mean = c(1, 2),
                                         moving_variance = c(3, 4)),
                             momentum = 0.5, eps = 0)
  expect_equal(x, expected$x, tolerance = 1e-12)
  expect_equal(get_weights(layer), expected$weights, tolerance = 1e-12)
})

test_that("values read from the layer are copies, not references", {
  set.seed(5)
  layer <- layer_batch_normalization(momentum = 0.5)
  b <- tfb_batch_normalization(layer)
  b$inverse(matrix(rnorm(20), 5, 4))

  # Modifying an extracted value leaves the layer alone.
  state <- get_weights(layer)
  mean_read <- layer$moving_mean
  mean_read[1] <- 99
  weights_read <- get_weights(layer)
  weights_read$moving_variance[2] <- -5
  weights_read$gamma[] <- 0
  expect_identical(get_weights(layer), state)

  # A training call does not change values extracted before it.
  gamma_before <- layer$gamma
  mean_before <- layer$moving_mean
  variance_before <- layer$moving_variance
  weights_before <- get_weights(layer)
  saved <- list(gamma_before + 0, mean_before + 0, variance_before + 0,
                lapply(weights_before, function(v) v + 0))
  b$inverse(matrix(rnorm(20, 3), 5, 4))
  expect_false(identical(layer$moving_mean, saved[[2]]))
  expect_identical(gamma_before, saved[[1]])
  expect_identical(mean_before, saved[[2]])
  expect_identical(variance_before, saved[[3]])
  expect_identical(weights_before, saved[[4]])
})

test_that("set_weights() keeps its own copy of the values passed in", {
  set.seed(6)
  layer <- layer_batch_normalization(momentum = 0.3)
  b <- tfb_batch_normalization(layer)
  b$inverse(matrix(rnorm(12), 4, 3))
  w <- random_weights(3)
  w_copy <- lapply(w, function(v) v + 0)
  set_weights(layer, w)
  b$inverse(matrix(rnorm(12), 4, 3))
  expect_identical(w, w_copy)
  expect_false(identical(get_weights(layer)$moving_mean, w_copy$moving_mean))

  # And changing the list afterwards does not reach the layer.
  state <- get_weights(layer)
  w$moving_mean[] <- 1000
  expect_identical(get_weights(layer), state)
})

test_that("training does not modify the input or an earlier output", {
  set.seed(7)
  layer <- layer_batch_normalization(momentum = 0.5)
  b <- tfb_batch_normalization(layer)
  y <- matrix(rnorm(30), 10, 3)
  y_copy <- y + 0
  x1 <- b$inverse(y)
  x1_copy <- x1 + 0
  b$inverse(y)
  b$forward(x1)
  expect_identical(y, y_copy)
  expect_identical(x1, x1_copy)
})

test_that("layer_batch_normalization() makes independent layers", {
  set.seed(8)
  layer1 <- layer_batch_normalization(momentum = 0)
  layer2 <- layer_batch_normalization(momentum = 0)
  b1 <- tfb_batch_normalization(layer1)
  b2 <- tfb_batch_normalization(layer2)
  b1$inverse(matrix(rnorm(8), 4, 2))
  b2$inverse(matrix(0, 4, 2))
  expect_false(identical(layer1$moving_mean, layer2$moving_mean))
  expect_identical(layer2$moving_mean, c(0, 0))
})

test_that("the bijector has TFP's defaults", {
  b <- tfb_batch_normalization()
  expect_s3_class(b, c("tfb_batch_normalization", "bijector"), exact = TRUE)
  expect_identical(b$name, "batch_normalization")
  expect_identical(b$training, TRUE)
  expect_identical(b$validate_args, FALSE)
  expect_equal(b$forward_min_event_ndims, 1)
  expect_equal(b$inverse_min_event_ndims, 1)
  expect_s3_class(b$batchnorm, "layer_batch_normalization")
  expect_equal(b$batchnorm$momentum, 0.99)
  expect_equal(b$batchnorm$epsilon, 1e-3)
})

test_that("the default layer's gamma constraint is relu(g) + 1e-6", {
  b <- tfb_batch_normalization()
  constraint <- b$batchnorm$gamma_constraint
  expect_true(is.function(constraint))
  expect_equal(constraint(c(-3, 0, 2)), c(1e-6, 1e-6, 2 + 1e-6),
               tolerance = 1e-15)
})

test_that("bijector arguments are stored and the layer is shared", {
  layer <- layer_batch_normalization(axis = c(2, 3))
  b <- tfb_batch_normalization(layer, training = FALSE, validate_args = TRUE,
                               name = "bn_eval")
  expect_identical(b$name, "bn_eval")
  expect_identical(b$training, FALSE)
  expect_identical(b$validate_args, TRUE)
  expect_equal(b$forward_min_event_ndims, 2)
  expect_equal(b$inverse_min_event_ndims, 2)
  expect_identical(b$batchnorm, layer)
})

test_that("min event ndims counts the feature axes", {
  expect_equal(tfb_batch_normalization(
    layer_batch_normalization(axis = 2))$forward_min_event_ndims, 1)
  expect_equal(tfb_batch_normalization(
    layer_batch_normalization(axis = c(1, 2, 3)))$inverse_min_event_ndims, 3)
})
