# print() and format() of layers and bijectors, as snapshots.

test_that("an unbuilt layer prints its configuration", {
  layer <- layer_batch_normalization(name = "bn_layer")
  expect_snapshot(print(layer))
  expect_snapshot(print(layer_batch_normalization(
    axis = c(2L, 3L), momentum = 0.5, epsilon = 0, center = FALSE,
    scale = FALSE, name = "bn_custom"
  )))
})

test_that("a built layer prints its feature shape", {
  layer <- layer_batch_normalization(name = "bn_layer")
  tfb_batch_normalization(layer, training = FALSE)$forward(matrix(0, 2, 3))
  expect_snapshot(print(layer))
  layer3 <- layer_batch_normalization(axis = c(2, 3), name = "bn_3d")
  tfb_batch_normalization(layer3, training = FALSE)$forward(
    array(0, c(2, 4, 5))
  )
  expect_snapshot(print(layer3))
})

test_that("training and evaluation bijectors print their mode and layer", {
  layer <- layer_batch_normalization(name = "bn_layer")
  train <- tfb_batch_normalization(layer)
  evaluate <- tfb_batch_normalization(layer, training = FALSE,
                                      name = "bn_eval")
  expect_snapshot(print(train))
  expect_snapshot(print(evaluate))
  train$inverse(matrix(c(1, 2, 3, 4, 6, 8), 3, 2))
  expect_snapshot(print(train))
  expect_snapshot(print(evaluate))
})

test_that("print() returns its argument invisibly and format() gives text", {
  layer <- layer_batch_normalization(name = "bn_layer")
  b <- tfb_batch_normalization(layer)
  printed <- utils::capture.output(result <- withVisible(print(layer)))
  expect_false(result$visible)
  expect_identical(result$value, layer)
  expect_true(length(printed) > 0)
  printed <- utils::capture.output(result <- withVisible(print(b)))
  expect_false(result$visible)
  expect_identical(result$value, b)
  expect_true(length(printed) > 0)
  expect_type(format(layer), "character")
  expect_type(format(b), "character")
  expect_true(any(grepl("batch_normalization", format(b))))
})
