# Layers and bijectors survive saveRDS()/readRDS() and serialize(): the state
# lives in R vectors and the external pointer is rebuilt after reading.

# A layer in mid-training: built, random weights, two training steps.
mid_training_layer <- function(seed, axis = -1L, dims = c(12, 3)) {
  set.seed(seed)
  layer <- layer_batch_normalization(axis = axis, momentum = 0.8)
  b <- tfb_batch_normalization(layer)
  b$inverse(array(rnorm(prod(dims)), dims))
  set_weights(layer, random_weights(length(layer$gamma)))
  b$inverse(array(rnorm(prod(dims), 2), dims))
  layer
}

round_trip_rds <- function(object) {
  path <- tempfile(fileext = ".rds")
  on.exit(unlink(path))
  saveRDS(object, path)
  readRDS(path)
}

# Run the same sequence of calls on two bijectors and expect identical
# outputs and weights at every step.
expect_same_continuation <- function(original, copy, inputs) {
  for (y in inputs) {
    expect_identical(copy$inverse_log_det_jacobian(y, 1),
                     original$inverse_log_det_jacobian(y, 1))
    expect_identical(copy$inverse(y), original$inverse(y))
    expect_identical(copy$forward(y), original$forward(y))
    expect_identical(get_weights(copy$batchnorm),
                     get_weights(original$batchnorm))
  }
}

test_that("a layer read back with readRDS() continues identically", {
  layer <- mid_training_layer(301)
  copy <- round_trip_rds(layer)
  expect_s3_class(copy, c("layer_batch_normalization", "bijectors_layer"),
                  exact = TRUE)
  expect_identical(copy$built, TRUE)
  expect_identical(copy$feature_shape, layer$feature_shape)
  expect_identical(get_weights(copy), get_weights(layer))
  expect_identical(copy$momentum, layer$momentum)
  expect_identical(copy$epsilon, layer$epsilon)
  set.seed(302)
  inputs <- lapply(1:3, function(i) matrix(rnorm(36, i), 12, 3))
  expect_same_continuation(tfb_batch_normalization(layer),
                           tfb_batch_normalization(copy), inputs)
})

test_that("the copy and the original are independent after reading", {
  layer <- mid_training_layer(303)
  copy <- round_trip_rds(layer)
  state <- get_weights(layer)
  set.seed(304)
  tfb_batch_normalization(copy)$inverse(matrix(rnorm(36, 5), 12, 3))
  expect_identical(get_weights(layer), state)
  expect_false(identical(get_weights(copy), state))
})

test_that("a bijector in mid-training read back with readRDS() continues identically", {
  layer <- mid_training_layer(305)
  b <- tfb_batch_normalization(layer, name = "bn_saved")
  copy <- round_trip_rds(b)
  expect_s3_class(copy, c("tfb_batch_normalization", "bijector"), exact = TRUE)
  expect_identical(copy$name, "bn_saved")
  expect_identical(copy$training, TRUE)
  expect_identical(get_weights(copy$batchnorm), get_weights(layer))
  set.seed(306)
  inputs <- lapply(1:3, function(i) matrix(rnorm(36, -i), 12, 3))
  expect_same_continuation(b, copy, inputs)
})

test_that("tfb_*() helpers work on a bijector read back from disk", {
  layer <- mid_training_layer(307)
  b <- tfb_batch_normalization(layer, training = FALSE)
  copy <- round_trip_rds(b)
  set.seed(308)
  y <- matrix(rnorm(36), 12, 3)
  expect_identical(tfb_inverse(copy, y), b$inverse(y))
  expect_identical(tfb_forward(copy, y), tfb_forward(b, y))
  expect_identical(tfb_forward_log_det_jacobian(copy, y, 1),
                   tfb_forward_log_det_jacobian(b, y, 1))
})

test_that("a bijector with several feature axes round-trips", {
  layer <- mid_training_layer(309, axis = c(1, 3), dims = c(2, 5, 3))
  b <- tfb_batch_normalization(layer)
  copy <- round_trip_rds(b)
  expect_identical(copy$forward_min_event_ndims, b$forward_min_event_ndims)
  set.seed(310)
  y <- array(rnorm(30), c(2, 5, 3))
  expect_identical(copy$inverse_log_det_jacobian(y, 2),
                   b$inverse_log_det_jacobian(y, 2))
  expect_identical(copy$inverse(y), b$inverse(y))
  expect_identical(get_weights(copy$batchnorm), get_weights(b$batchnorm))
})

test_that("an unbuilt layer round-trips and builds afterwards", {
  layer <- layer_batch_normalization(momentum = 0.5, name = "fresh")
  copy <- round_trip_rds(layer)
  expect_identical(copy$built, FALSE)
  expect_identical(copy$name, "fresh")
  set.seed(311)
  y <- matrix(rnorm(20), 5, 4)
  expect_identical(tfb_batch_normalization(copy)$inverse(y),
                   tfb_batch_normalization(layer)$inverse(y))
  expect_identical(get_weights(copy), get_weights(layer))
})

test_that("serialize() and unserialize() round-trip", {
  layer <- mid_training_layer(312)
  b <- tfb_batch_normalization(layer)
  copy <- unserialize(serialize(b, NULL))
  set.seed(313)
  inputs <- lapply(1:2, function(i) matrix(rnorm(36, i), 12, 3))
  expect_same_continuation(b, copy, inputs)

  layer_copy <- unserialize(serialize(layer, NULL, xdr = FALSE))
  expect_identical(get_weights(layer_copy), get_weights(layer))
  y <- matrix(rnorm(36), 12, 3)
  expect_identical(tfb_batch_normalization(layer_copy)$inverse(y),
                   tfb_batch_normalization(layer)$inverse(y))
})

test_that("reading a copy twice gives two independent layers", {
  layer <- mid_training_layer(314)
  bytes <- serialize(layer, NULL)
  first <- unserialize(bytes)
  second <- unserialize(bytes)
  set.seed(315)
  tfb_batch_normalization(first)$inverse(matrix(rnorm(36, 3), 12, 3))
  expect_identical(get_weights(second), get_weights(layer))
})

test_that("a training and an evaluation bijector saved together still share a layer", {
  layer <- mid_training_layer(316)
  pair <- list(train = tfb_batch_normalization(layer),
               evaluate = tfb_batch_normalization(layer, training = FALSE))
  copy <- round_trip_rds(pair)
  expect_identical(copy$train$batchnorm, copy$evaluate$batchnorm)
  expect_identical(copy$evaluate$training, FALSE)
  set.seed(317)
  y <- matrix(rnorm(36, 1), 12, 3)
  copy$train$inverse(y)
  pair$train$inverse(y)
  expect_identical(get_weights(copy$evaluate$batchnorm),
                   get_weights(pair$evaluate$batchnorm))
  y2 <- matrix(rnorm(36), 12, 3)
  expect_identical(copy$evaluate$inverse(y2), pair$evaluate$inverse(y2))
  # The copy's layer is not the original's.
  expect_false(identical(copy$train$batchnorm, layer))

  both <- unserialize(serialize(pair, NULL))
  expect_identical(both$train$batchnorm, both$evaluate$batchnorm)
  both$train$inverse(y)
  expect_identical(get_weights(both$evaluate$batchnorm),
                   get_weights(both$train$batchnorm))
})

test_that("a bijector read in a new R process continues identically", {
  skip_on_cran()
  rscript <- file.path(R.home("bin"), "Rscript")
  skip_if_not(file.exists(rscript) || file.exists(paste0(rscript, ".exe")))

  layer <- mid_training_layer(318)
  b <- tfb_batch_normalization(layer)
  set.seed(319)
  y <- matrix(rnorm(36, 2), 12, 3)
  dir <- tempfile("bijectors-saving-")
  dir.create(dir)
  on.exit(unlink(dir, recursive = TRUE), add = TRUE)
  saveRDS(b, file.path(dir, "bijector.rds"))
  saveRDS(layer, file.path(dir, "layer.rds"))
  saveRDS(y, file.path(dir, "input.rds"))
  script <- file.path(dir, "continue.R")
  writeLines(c(
    "args <- commandArgs(trailingOnly = TRUE)",
    "dir <- args[[1]]",
    "suppressPackageStartupMessages(library(bijectors))",
    "b <- readRDS(file.path(dir, 'bijector.rds'))",
    "y <- readRDS(file.path(dir, 'input.rds'))",
    "ildj <- b$inverse_log_det_jacobian(y, 1)",
    "x <- b$inverse(y)",
    "out <- list(x = x, ildj = ildj, forward = b$forward(y),",
    "            weights = get_weights(b$batchnorm))",
    "layer <- readRDS(file.path(dir, 'layer.rds'))",
    "out$layer_x <- tfb_batch_normalization(layer)$inverse(y)",
    "out$layer_weights <- get_weights(layer)",
    "saveRDS(out, file.path(dir, 'output.rds'))"
  ), script)

  library_path <- paste(.libPaths(), collapse = .Platform$path.sep)
  status <- system2(rscript, c("--vanilla", shQuote(script), shQuote(dir)),
                    env = paste0("R_LIBS=", shQuote(library_path)),
                    stdout = TRUE, stderr = TRUE)
  if (!is.null(attr(status, "status"))) {
    fail(paste(c("the child R process failed:", status), collapse = "\n"))
  }
  expect_true(file.exists(file.path(dir, "output.rds")))
  out <- readRDS(file.path(dir, "output.rds"))

  # The original continues in this process; the layer file held the same
  # state, so both reach the same point from it.
  ildj <- b$inverse_log_det_jacobian(y, 1)
  x <- b$inverse(y)
  expect_identical(out$ildj, ildj)
  expect_identical(out$x, x)
  expect_identical(out$forward, b$forward(y))
  expect_identical(out$weights, get_weights(layer))
  expect_identical(out$layer_weights, get_weights(layer))
  expect_identical(out$layer_x, x)
})
