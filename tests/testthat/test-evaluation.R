# The evaluation protocol: recompute_batch_statistics() against statistics
# computed by hand layer after layer, and evaluation_mode()/training_mode()
# views that share the layers.

# Mean and biased variance of each column, in plain R.
column_moments <- function(m) {
  mean <- colSums(m) / nrow(m)
  centred <- m - matrix(mean, nrow(m), ncol(m), byrow = TRUE)
  list(mean = mean, variance = colSums(centred * centred) / nrow(m))
}

# Evaluation-mode inverse of batch normalization, in plain R.
bn_eval_by_hand <- function(y, w, epsilon) {
  n <- nrow(y)
  gamma <- matrix(w$gamma, n, ncol(y), byrow = TRUE)
  beta <- matrix(w$beta, n, ncol(y), byrow = TRUE)
  mean <- matrix(w$moving_mean, n, ncol(y), byrow = TRUE)
  variance <- matrix(w$moving_variance, n, ncol(y), byrow = TRUE)
  gamma * (y - mean) / sqrt(variance + epsilon) + beta
}

# A chain (BN, shift, BN) on 3 features, built, with random gamma and beta
# and stale running statistics.
bn_shift_bn <- function(seed) {
  set.seed(seed)
  layer1 <- layer_batch_normalization(momentum = 0.9, epsilon = 0.01)
  layer2 <- layer_batch_normalization(momentum = 0.5)
  shift <- c(1.5, -2, 0.25)
  td <- tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = c(0, 0, 0)),
    tfb_chain(list(tfb_batch_normalization(layer1), tfb_shift(shift),
                   tfb_batch_normalization(layer2))))
  x <- matrix(rnorm(90, mean = 3, sd = 2), 30, 3)
  td$log_prob(x[1:10, ])
  randomize_parameters(td)
  trainable_parameters(td) <- replace(trainable_parameters(td),
                                      "2_shift/shift", list(shift))
  list(td = td, x = x, layer1 = layer1, layer2 = layer2, shift = shift)
}

test_that("recompute_batch_statistics() sets each layer's statistics from its input, layer after layer", {
  case <- bn_shift_bn(431)
  w1 <- get_weights(case$layer1)
  w2 <- get_weights(case$layer2)
  params <- trainable_parameters(case$td)
  # by hand: the first layer sees x; the second sees the output of the first
  # in evaluation mode with its new statistics, minus the shift
  m1 <- column_moments(case$x)
  w1$moving_mean <- m1$mean
  w1$moving_variance <- m1$variance
  z <- bn_eval_by_hand(case$x, w1, 0.01) -
    matrix(case$shift, nrow(case$x), 3, byrow = TRUE)
  m2 <- column_moments(z)
  w2$moving_mean <- m2$mean
  w2$moving_variance <- m2$variance

  expect_invisible(result <- recompute_batch_statistics(case$td, case$x))
  expect_identical(result, case$td)
  expect_equal(get_weights(case$layer1), w1, tolerance = 1e-12)
  expect_equal(get_weights(case$layer2), w2, tolerance = 1e-12)
  expect_identical(trainable_parameters(case$td), params)
  # the second layer's output has mean beta2 and variance about gamma2^2
  out <- bn_eval_by_hand(z, w2, 1e-3)
  expect_equal(colMeans(out), w2$beta, tolerance = 1e-10)

  # the evaluation-mode density with those statistics, in plain R
  lp <- evaluation_mode(case$td)$log_prob(case$x)
  expected <- rowSums(dnorm(out, log = TRUE)) +
    sum(log(w1$gamma) - 0.5 * log(w1$moving_variance + 0.01)) +
    sum(log(w2$gamma) - 0.5 * log(w2$moving_variance + 1e-3))
  expect_equal(lp, expected, tolerance = 1e-10)
})

test_that("recompute_batch_statistics() does the same on a bijector and a data frame", {
  case <- bn_shift_bn(432)
  twin <- round_trip_rds_flow(case$td)
  recompute_batch_statistics(case$td, case$x)
  recompute_batch_statistics(twin$bijector, as.data.frame(case$x))
  twin_layers <- twin$bijector$bijectors[c(1, 3)]
  expect_equal(get_weights(twin_layers[[1]]), get_weights(case$layer1),
               tolerance = 1e-14)
  expect_equal(get_weights(twin_layers[[2]]), get_weights(case$layer2),
               tolerance = 1e-14)
  # evaluation-mode bijectors get their statistics recomputed too
  case2 <- bn_shift_bn(432)
  recompute_batch_statistics(evaluation_mode(case2$td), case2$x)
  expect_equal(get_weights(case2$layer2), get_weights(case$layer2),
               tolerance = 1e-14)
})

test_that("recompute_batch_statistics() refuses bad data before changing anything", {
  case <- bn_shift_bn(433)
  before <- list(get_weights(case$layer1), get_weights(case$layer2))
  bad <- case$x
  bad[4, 1] <- NaN
  expect_error(recompute_batch_statistics(case$td, bad),
               class = "bijectors_error_nonfinite")
  expect_error(recompute_batch_statistics(case$td$bijector, bad),
               class = "bijectors_error_nonfinite")
  expect_error(recompute_batch_statistics(case$td, case$x[, 1:2]),
               class = "bijectors_error_event_size")
  expect_identical(list(get_weights(case$layer1), get_weights(case$layer2)),
                   before)
})

test_that("batch normalization under tfb_invert() keeps its statistics", {
  set.seed(434)
  layer <- layer_batch_normalization()
  inner <- layer_batch_normalization()
  td <- tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = c(0, 0)),
    tfb_chain(list(tfb_invert(tfb_batch_normalization(layer)),
                   tfb_batch_normalization(inner))))
  x <- matrix(rnorm(40, 2), 20, 2)
  td$log_prob(x)
  before <- get_weights(layer)
  recompute_batch_statistics(td, x)
  expect_identical(get_weights(layer), before)
  expect_false(isTRUE(all.equal(get_weights(inner)$moving_mean, c(0, 0))))
})

test_that("evaluation_mode() and training_mode() share the layers", {
  case <- bn_shift_bn(435)
  td <- case$td
  ev <- evaluation_mode(td)
  tr <- training_mode(ev)
  expect_s3_class(ev, "tfd_transformed_distribution")
  modes <- function(d) {
    vapply(d$bijector$bijectors[c(1, 3)], function(b) b$training, logical(1))
  }
  expect_identical(modes(td), c(TRUE, TRUE))
  expect_identical(modes(ev), c(FALSE, FALSE))
  expect_identical(modes(tr), c(TRUE, TRUE))
  expect_identical(ev$name, td$name)
  expect_identical(names(trainable_parameters(ev)),
                   names(trainable_parameters(td)))
  expect_identical(trainable_parameters(ev), trainable_parameters(td))

  # evaluation-mode log_prob moves nothing, and does not depend on the
  # other rows of the batch
  weights <- list(get_weights(case$layer1), get_weights(case$layer2))
  lp <- ev$log_prob(case$x)
  expect_identical(list(get_weights(case$layer1), get_weights(case$layer2)),
                   weights)
  expect_equal(ev$log_prob(case$x[3:7, ]), lp[3:7], tolerance = 1e-12)
  expect_identical(list(get_weights(case$layer1), get_weights(case$layer2)),
                   weights)

  # a training call on the training-mode flow moves what the view sees
  td$log_prob(case$x)
  expect_false(identical(get_weights(case$layer1), weights[[1]]))
  expect_false(isTRUE(all.equal(ev$log_prob(case$x), lp)))
  # and a training call on a training view of the evaluation view too
  moved <- get_weights(case$layer2)
  tr$log_prob(case$x + 1)
  expect_false(identical(get_weights(case$layer2), moved))

  # parameters are shared: setting them through the view changes the flow
  p <- trainable_parameters(ev)
  p[["2_shift/shift"]] <- c(0, 0, 0)
  trainable_parameters(ev) <- p
  expect_identical(trainable_parameters(td)[["2_shift/shift"]], c(0, 0, 0))
  expect_identical(trainable_parameters(tr), p)
})

test_that("the views of a bijector, of flows without batch normalization, and errors", {
  layer <- layer_batch_normalization()
  b <- tfb_batch_normalization(layer, name = "bn", validate_args = TRUE)
  e <- evaluation_mode(b)
  expect_s3_class(e, "tfb_batch_normalization")
  expect_false(e$training)
  expect_identical(e$name, "bn")
  expect_true(e$validate_args)
  expect_identical(e$batchnorm, b$batchnorm)
  expect_true(training_mode(e)$training)
  nested <- tfb_invert(tfb_chain(list(tfb_shift(1), b)))
  expect_false(evaluation_mode(nested)$bijector$bijectors[[2]]$training)
  expect_true(b$training)

  shift <- tfb_shift(c(1, 2))
  expect_identical(evaluation_mode(shift), shift)
  expect_error(evaluation_mode(list()), class = "bijectors_error_distribution")
  expect_error(training_mode(tfd_multivariate_normal_diag(c(0, 0))),
               class = "bijectors_error_distribution")
})
