# Semantics of the batch-normalization bijector, checked against the plain-R
# reference in helper-reference.R and against TFP's own test cases.

# A layer and a training bijector with the given settings, built on `y`
# with random weights set through set_weights().
layer_with_random_weights <- function(y, axis = -1L, momentum = 0.9,
                                      epsilon = 1e-3, ...) {
  layer <- layer_batch_normalization(axis = axis, momentum = momentum,
                                     epsilon = epsilon, ...)
  tfb_batch_normalization(layer, training = FALSE)$forward(y)
  set_weights(layer, random_weights(length(layer$gamma)))
  layer
}

# Compare one training inverse on a fresh-weighted layer with the reference.
expect_training_matches_reference <- function(y, axis, momentum = 0.9,
                                              epsilon = 1e-3,
                                              tolerance = 1e-10) {
  layer <- layer_with_random_weights(y, axis, momentum, epsilon)
  start <- get_weights(layer)
  b <- tfb_batch_normalization(layer)
  expected <- ref_train_step(y, axis, start, momentum, epsilon)
  ildj <- b$inverse_log_det_jacobian(y, length(axis))
  x <- b$inverse(y)
  expect_equal(x, expected$x, tolerance = tolerance)
  expect_equal(get_weights(layer), expected$weights, tolerance = tolerance)
  expect_equal(ildj, ref_ildj(start$gamma, expected$moments$variance, epsilon),
               tolerance = tolerance)
  invisible(layer)
}

test_that("training inverse of a random matrix matches the reference", {
  set.seed(101)
  y <- matrix(rnorm(50 * 4, mean = 3, sd = 2), 50, 4)
  layer <- layer_batch_normalization(momentum = 0.99, epsilon = 1e-3)
  b <- tfb_batch_normalization(layer)
  x <- b$inverse(y)
  moments <- ref_moments(y, -1)
  expect_equal(x, ref_bn_inverse(y, -1, rep(1, 4), rep(0, 4), moments$mean,
                                 moments$variance, 1e-3),
               tolerance = 1e-10)
  expect_equal(layer$moving_mean, ref_update(rep(0, 4), moments$mean, 0.99),
               tolerance = 1e-10)
  expect_equal(layer$moving_variance,
               ref_update(rep(1, 4), moments$variance, 0.99),
               tolerance = 1e-10)
  expect_identical(layer$gamma, rep(1, 4))
  expect_identical(layer$beta, rep(0, 4))
})

test_that("training inverse with random weights matches the reference", {
  set.seed(102)
  y <- matrix(rnorm(40 * 5, mean = -1, sd = 3), 40, 5)
  expect_training_matches_reference(y, -1, momentum = 0.7, epsilon = 1e-2)
})

test_that("with epsilon 0 the normalized output has mean beta and variance gamma^2", {
  set.seed(103)
  y <- matrix(rnorm(200 * 3, 10, 5), 200, 3)
  layer <- layer_with_random_weights(y, epsilon = 0)
  w <- get_weights(layer)
  x <- tfb_batch_normalization(layer)$inverse(y)
  expect_equal(colMeans(x), w$beta, tolerance = 1e-12)
  expect_equal(ref_moments(x, -1)$variance, w$gamma^2, tolerance = 1e-10)
})

test_that("3-D input with axis -1 matches the reference", {
  set.seed(104)
  y <- array(rnorm(6 * 5 * 3), c(6, 5, 3))
  expect_training_matches_reference(y, -1)
})

test_that("event_ndims above the minimum multiplies the log-det by the extra dims", {
  set.seed(105)
  y <- array(rnorm(6 * 5 * 3, 2), c(6, 5, 3))
  layer <- layer_with_random_weights(y, momentum = 0.5)
  w <- get_weights(layer)
  b <- tfb_batch_normalization(layer)
  v <- ref_moments(y, -1)$variance
  base <- ref_ildj(w$gamma, v, 1e-3)
  expect_equal(b$inverse_log_det_jacobian(y, 1), base, tolerance = 1e-10)
  expect_equal(b$inverse_log_det_jacobian(y, 2), base * dim(y)[2],
               tolerance = 1e-10)
  expect_equal(b$inverse_log_det_jacobian(y, 3), base * dim(y)[1] * dim(y)[2],
               tolerance = 1e-10)
  expect_equal(b$inverse_log_det_jacobian(y, 3),
               base * ref_event_factor(dim(y), 3, 1), tolerance = 1e-10)

  moving <- ref_ildj(w$gamma, w$moving_variance, 1e-3)
  expect_equal(b$forward_log_det_jacobian(y, 1), -moving, tolerance = 1e-10)
  expect_equal(b$forward_log_det_jacobian(y, 2), -moving * 5,
               tolerance = 1e-10)
  expect_equal(b$forward_log_det_jacobian(y, 3), -moving * 30,
               tolerance = 1e-10)
  # Log-dets update nothing.
  expect_identical(get_weights(layer), w)
})

test_that("several feature axes match the reference", {
  set.seed(106)
  y <- array(rnorm(5 * 2 * 4, 1, 2), c(5, 2, 4))
  expect_training_matches_reference(y, c(2, 3))
  expect_training_matches_reference(y, c(1, 2))
  expect_training_matches_reference(y, c(-2, -1))
})

test_that("a non-contiguous set of feature axes matches the reference", {
  set.seed(107)
  y <- array(rnorm(3 * 4 * 5, -2, 3), c(3, 4, 5))
  layer <- expect_training_matches_reference(y, c(1, 3))
  expect_equal(layer$feature_shape, c(3L, 5L))
  y4 <- array(rnorm(2 * 3 * 4 * 5), c(2, 3, 4, 5))
  expect_training_matches_reference(y4, c(1, 3))
  expect_training_matches_reference(y4, c(2, 4))
  expect_training_matches_reference(y4, c(1, 2, 4))
})

test_that("a single non-last axis on rank 3 matches the reference", {
  set.seed(108)
  y <- array(rnorm(3 * 4 * 5, 1, 2), c(3, 4, 5))
  layer <- expect_training_matches_reference(y, 2)
  expect_equal(layer$feature_shape, 4L)
  # The log-det is the plain sum over the 4 features (not 4 times it, as
  # TFP's broadcasting slip would give).
  b <- tfb_batch_normalization(layer, training = FALSE)
  w <- get_weights(layer)
  expect_equal(b$forward_log_det_jacobian(y, 1),
               -ref_ildj(w$gamma, w$moving_variance, 1e-3), tolerance = 1e-12)
  expect_training_matches_reference(y, 1)
})

test_that("the order in which feature axes are given does not matter", {
  set.seed(109)
  y <- array(rnorm(5 * 2 * 4), c(5, 2, 4))
  w <- random_weights(8)
  outputs <- lapply(list(c(2, 3), c(3, 2), c(-1, -2)), function(axis) {
    layer <- layer_batch_normalization(axis = axis, momentum = 0.5)
    tfb_batch_normalization(layer, training = FALSE)$forward(y)
    set_weights(layer, w)
    list(x = tfb_batch_normalization(layer)$inverse(y),
         weights = get_weights(layer), shape = layer$feature_shape)
  })
  expect_identical(outputs[[2]], outputs[[1]])
  expect_identical(outputs[[3]], outputs[[1]])
  expect_equal(outputs[[1]]$shape, c(2L, 4L))
})

test_that("large inputs (chunked statistics) match the reference", {
  # valgrind emulates R's long double sums in 64 bits, which moves the
  # reference (not the package) on these ill-conditioned inputs.
  skip_if(nzchar(Sys.getenv("BIJECTORS_VALGRIND")), "reference differs under valgrind")
  set.seed(110)
  # A large offset makes a one-pass E[y^2] - E[y]^2 variance visibly wrong.
  y <- matrix(rnorm(20000 * 3, mean = 1e4, sd = 0.5), 20000, 3)
  expect_training_matches_reference(y, -1, momentum = 0.6)
  y <- matrix(rnorm(3 * 20000, mean = -5e3, sd = 2), 3, 20000)
  expect_training_matches_reference(y, 1, momentum = 0.6)
  y <- array(rnorm(300 * 7 * 40, mean = 100, sd = 3), c(300, 7, 40))
  expect_training_matches_reference(y, 2, momentum = 0.6)
  expect_training_matches_reference(y, c(1, 3), momentum = 0.6)
  # Long runs of one feature that are not contiguous across the batch, and
  # run lengths just around a power of two.
  y <- array(rnorm(5000 * 3 * 2, mean = 50), c(5000, 3, 2))
  expect_training_matches_reference(y, 2, momentum = 0.6)
  for (n in c(4095, 4096, 4097, 8193)) {
    y <- matrix(rnorm(n * 2, mean = -20, sd = 4), n, 2)
    expect_training_matches_reference(y, 2, momentum = 0.6)
  }
})

test_that("data of large magnitude (squared mean overflows) match the reference", {
  # valgrind emulates R's long double sums in 64 bits, which moves the
  # reference (not the package) on these ill-conditioned inputs.
  skip_if(nzchar(Sys.getenv("BIJECTORS_VALGRIND")), "reference differs under valgrind")
  # The mean squared is beyond the largest double, the deviations squared
  # are not: a correct implementation never squares the mean.
  set.seed(131)
  y <- matrix(1e160 + rnorm(10 * 2) * 1e150, 10, 2)
  expect_training_matches_reference(y, -1, momentum = 0.5)
  y <- matrix(-1e160 + rnorm(5000 * 2) * 1e150, 5000, 2)
  expect_training_matches_reference(y, -1, momentum = 0.5)
  y <- matrix(1e160 + rnorm(3 * 5000) * 1e150, 3, 5000)
  expect_training_matches_reference(y, 1, momentum = 0.5)
})

test_that("huge finite values whose sum overflows are not refused", {
  y <- matrix(1e308, 2, 2)
  layer <- layer_batch_normalization(momentum = 0.5)
  b <- tfb_batch_normalization(layer)
  x <- b$inverse(y)
  expect_equal(x, matrix(0, 2, 2), tolerance = 0)
  expect_equal(layer$moving_mean, c(0.5e308, 0.5e308), tolerance = 1e-14)
  expect_equal(layer$moving_variance, c(0.5, 0.5), tolerance = 1e-14)
})

test_that("the variance is computed stably around a large mean", {
  set.seed(111)
  y <- matrix(1e8 + rep(c(-1, 1), 5000) + rnorm(10000 * 2, sd = 1e-3),
              10000, 2)
  layer <- layer_batch_normalization(momentum = 0, epsilon = 0)
  tfb_batch_normalization(layer)$inverse(y)
  expect_equal(layer$moving_variance, ref_moments(y, -1)$variance,
               tolerance = 1e-8)
  expect_equal(layer$moving_mean, ref_moments(y, -1)$mean, tolerance = 1e-14)
})

test_that("momentum 0 and epsilon 0 store the batch mean and biased variance", {
  set.seed(112)
  y <- matrix(rnorm(30 * 3, 2, 4), 30, 3)
  layer <- layer_batch_normalization(momentum = 0, epsilon = 0)
  tfb_batch_normalization(layer)$inverse(y)
  expect_equal(layer$moving_mean, colMeans(y), tolerance = 1e-12)
  biased <- apply(y, 2, function(col) mean((col - mean(col))^2))
  expect_equal(layer$moving_variance, biased, tolerance = 1e-12)
  expect_equal(layer$moving_variance, apply(y, 2, var) * 29 / 30,
               tolerance = 1e-12)
})

test_that("momentum 1 keeps the running statistics", {
  set.seed(113)
  layer <- layer_batch_normalization(momentum = 1)
  b <- tfb_batch_normalization(layer)
  b$inverse(matrix(rnorm(12), 4, 3))
  expect_identical(layer$moving_mean, rep(0, 3))
  expect_identical(layer$moving_variance, rep(1, 3))
})

# TFP's testForwardInverse: arange(40) in C order, momentum 0, epsilon 0.
tfp_cases <- list(
  list(dims = c(10, 4), axis = -1, ildj = -9.765604),
  list(dims = c(5, 2, 4), axis = -1, ildj = -9.765604),
  list(dims = c(5, 2, 4), axis = c(2, 3), ildj = -19.40812),
  list(dims = c(5, 2, 4), axis = c(1, 2), ildj = -1.115718)
)

test_that("TFP's forward/inverse cases in training mode", {
  for (case in tfp_cases) {
    y <- c_order_array(case$dims)
    rank <- length(case$dims)
    feature_axes <- ref_axes(case$axis, rank)
    reduction_axes <- setdiff(seq_len(rank), feature_axes)
    n_event <- length(case$axis)
    layer <- layer_batch_normalization(axis = case$axis, momentum = 0,
                                       epsilon = 0)
    b <- tfb_batch_normalization(layer)
    ildj <- b$inverse_log_det_jacobian(y, n_event)
    expect_equal(ildj, case$ildj, tolerance = 1e-6)
    x <- b$inverse(y)
    expect_equal(dim(x), case$dims)
    # Mean of the normalized output over the reduction axes is 0.
    expect_equal(as.vector(apply(x, feature_axes, mean)),
                 rep(0, prod(case$dims[feature_axes])), tolerance = 1e-12)
    # Moving statistics are now the batch moments.
    moments <- ref_moments(y, case$axis)
    expect_equal(layer$moving_mean, moments$mean, tolerance = 1e-12)
    expect_equal(layer$moving_variance, moments$variance, tolerance = 1e-12)
    expect_equal(layer$moving_mean,
                 as.vector(apply(y, feature_axes, mean)), tolerance = 1e-12)
    # After the update FLDJ = -ILDJ and forward undoes inverse.
    expect_equal(b$forward_log_det_jacobian(y, n_event), -case$ildj,
                 tolerance = 1e-6)
    expect_equal(b$forward(x), y, tolerance = 1e-12)
    denormalized <- b$forward(x)
    expect_equal(b$inverse_log_det_jacobian(denormalized, n_event),
                 case$ildj, tolerance = 1e-6)
    expect_length(reduction_axes, rank - n_event)
  }
})

test_that("TFP's case (10, 4) has running means 18, 19, 20, 21", {
  y <- c_order_array(c(10, 4))
  expect_identical(y[2, 3], 6)
  layer <- layer_batch_normalization(momentum = 0, epsilon = 0)
  tfb_batch_normalization(layer)$inverse(y)
  expect_equal(layer$moving_mean, c(18, 19, 20, 21), tolerance = 1e-14)
  expect_equal(layer$moving_variance, rep(132, 4), tolerance = 1e-12)
})

test_that("TFP's forward/inverse cases in evaluation mode on a fresh layer", {
  for (case in tfp_cases) {
    y <- c_order_array(case$dims)
    n_event <- length(case$axis)
    layer <- layer_batch_normalization(axis = case$axis, momentum = 0,
                                       epsilon = 0)
    b <- tfb_batch_normalization(layer, training = FALSE)
    x <- b$inverse(y)
    expect_equal(x, y * 1, tolerance = 0)
    expect_equal(b$forward(x), y, tolerance = 0)
    expect_equal(b$inverse_log_det_jacobian(y, n_event), 0, tolerance = 0)
    expect_equal(b$forward_log_det_jacobian(x, n_event), 0, tolerance = 0)
    expect_identical(layer$moving_mean, rep(0, length(layer$gamma)))
  }
})

test_that("a fresh default layer de-normalizes by sqrt(1.001)", {
  set.seed(114)
  x <- matrix(runif(30, 5, 10), 3, 10)
  b <- tfb_batch_normalization(training = FALSE)
  expect_equal(b$forward(x), x * sqrt(1.001), tolerance = 1e-14)
  expect_equal(b$forward_log_det_jacobian(x, 1), 0.5 * 10 * log(1.001),
               tolerance = 1e-12)
  expect_equal(b$forward_log_det_jacobian(x, 1), 0.0049975, tolerance = 1e-5)
})

test_that("evaluation mode: forward and inverse are inverses, log-dets opposite", {
  set.seed(115)
  for (axis in list(-1, 2, c(2, 3), c(1, 3))) {
    y <- array(rnorm(6 * 3 * 4, 1, 3), c(6, 3, 4))
    layer <- layer_with_random_weights(y, axis)
    w <- get_weights(layer)
    b <- tfb_batch_normalization(layer, training = FALSE)
    x <- b$inverse(y)
    expect_equal(x, ref_bn_inverse(y, axis, w$gamma, w$beta, w$moving_mean,
                                   w$moving_variance, 1e-3),
                 tolerance = 1e-12)
    expect_equal(b$forward(x), y, tolerance = 1e-12)
    expect_equal(b$inverse(b$forward(y)), y, tolerance = 1e-12)
    n_event <- length(axis)
    expect_equal(b$inverse_log_det_jacobian(y, n_event),
                 -b$forward_log_det_jacobian(x, n_event), tolerance = 1e-12)
    expect_equal(b$inverse_log_det_jacobian(y, n_event),
                 ref_ildj(w$gamma, w$moving_variance, 1e-3), tolerance = 1e-12)
    expect_identical(get_weights(layer), w)
  }
})

test_that("forward uses the moving statistics even in training mode", {
  set.seed(116)
  y <- matrix(rnorm(24, 2, 2), 8, 3)
  layer <- layer_with_random_weights(y)
  w <- get_weights(layer)
  b <- tfb_batch_normalization(layer, training = TRUE)
  x <- matrix(rnorm(24), 8, 3)
  expect_equal(b$forward(x),
               ref_bn_forward(x, -1, w$gamma, w$beta, w$moving_mean,
                              w$moving_variance, 1e-3),
               tolerance = 1e-12)
  expect_equal(b$forward_log_det_jacobian(x, 1),
               -ref_ildj(w$gamma, w$moving_variance, 1e-3), tolerance = 1e-12)
  expect_identical(get_weights(layer), w)
})

test_that("log-dets equal log|det| of a numerical Jacobian of one event", {
  set.seed(117)
  d <- 4
  y <- matrix(rnorm(10 * d, 2, 3), 10, d)
  layer <- layer_with_random_weights(y)
  b <- tfb_batch_normalization(layer, training = FALSE)
  event <- y[3, ]
  forward_event <- function(v) b$forward(matrix(v, 1, d))
  inverse_event <- function(v) b$inverse(matrix(v, 1, d))
  x_event <- as.vector(inverse_event(event))
  expect_equal(b$forward_log_det_jacobian(y, 1),
               log_abs_det(numerical_jacobian(forward_event, x_event)),
               tolerance = 1e-7)
  expect_equal(b$inverse_log_det_jacobian(y, 1),
               log_abs_det(numerical_jacobian(inverse_event, event)),
               tolerance = 1e-7)
})

test_that("log-dets match a numerical Jacobian for axes c(2, 3), event_ndims 2", {
  set.seed(118)
  y <- array(rnorm(7 * 2 * 3, -1, 2), c(7, 2, 3))
  layer <- layer_with_random_weights(y, axis = c(2, 3))
  b <- tfb_batch_normalization(layer, training = FALSE)
  event <- as.vector(y[5, , ])
  forward_event <- function(v) b$forward(array(v, c(1, 2, 3)))
  inverse_event <- function(v) b$inverse(array(v, c(1, 2, 3)))
  x_event <- as.vector(inverse_event(event))
  expect_equal(b$forward_log_det_jacobian(y, 2),
               log_abs_det(numerical_jacobian(forward_event, x_event)),
               tolerance = 1e-7)
  expect_equal(b$inverse_log_det_jacobian(y, 2),
               log_abs_det(numerical_jacobian(inverse_event, event)),
               tolerance = 1e-7)
})

test_that("event_ndims 2 with axis -1 matches the Jacobian of a whole 2-D event", {
  set.seed(119)
  y <- array(rnorm(4 * 3 * 2, 0, 2), c(4, 3, 2))
  layer <- layer_with_random_weights(y)
  b <- tfb_batch_normalization(layer, training = FALSE)
  event <- as.vector(y[2, , ])
  inverse_event <- function(v) b$inverse(array(v, c(1, 3, 2)))
  expect_equal(b$inverse_log_det_jacobian(y, 2),
               log_abs_det(numerical_jacobian(inverse_event, event)),
               tolerance = 1e-7)
})

test_that("several minibatches in a row follow the running averages", {
  set.seed(120)
  layer <- layer_batch_normalization(momentum = 0.9, epsilon = 1e-3)
  b <- tfb_batch_normalization(layer)
  weights <- list(gamma = rep(1, 3), beta = rep(0, 3),
                  moving_mean = rep(0, 3), moving_variance = rep(1, 3))
  for (step in 1:5) {
    y <- matrix(rnorm(16 * 3, mean = step, sd = step), 16, 3)
    expected <- ref_train_step(y, -1, weights, 0.9, 1e-3)
    x <- b$inverse(y)
    expect_equal(x, expected$x, tolerance = 1e-10)
    expect_equal(get_weights(layer), expected$weights, tolerance = 1e-10)
    weights <- expected$weights
  }
  # Written out for the first two steps, not through ref_update().
  set.seed(120)
  y1 <- matrix(rnorm(16 * 3, 1, 1), 16, 3)
  y2 <- matrix(rnorm(16 * 3, 2, 2), 16, 3)
  mean2 <- 0.9 * (0.9 * 0 + 0.1 * colMeans(y1)) + 0.1 * colMeans(y2)
  fresh <- layer_batch_normalization(momentum = 0.9)
  bf <- tfb_batch_normalization(fresh)
  bf$inverse(y1)
  bf$inverse(y2)
  expect_equal(fresh$moving_mean, mean2, tolerance = 1e-12)
})

test_that("several minibatches with several feature axes follow the reference", {
  set.seed(121)
  layer <- layer_batch_normalization(axis = c(1, 3), momentum = 0.8)
  b <- tfb_batch_normalization(layer)
  weights <- list(gamma = rep(1, 6), beta = rep(0, 6),
                  moving_mean = rep(0, 6), moving_variance = rep(1, 6))
  for (step in 1:5) {
    y <- array(rnorm(2 * 5 * 3, step), c(2, 5, 3))
    expected <- ref_train_step(y, c(1, 3), weights, 0.8, 1e-3)
    expect_equal(b$inverse(y), expected$x, tolerance = 1e-10)
    weights <- expected$weights
  }
  expect_equal(get_weights(layer), weights, tolerance = 1e-10)
})

test_that("scale = FALSE treats gamma as 1, even when set to other values", {
  set.seed(122)
  y <- matrix(rnorm(20 * 3, 1, 2), 20, 3)
  layer <- layer_with_random_weights(y, momentum = 0.5, scale = FALSE)
  w <- get_weights(layer)
  w$gamma <- c(2, 3, 4)
  set_weights(layer, w)
  ones <- rep(1, 3)
  b <- tfb_batch_normalization(layer)
  moments <- ref_moments(y, -1)
  expect_equal(b$inverse_log_det_jacobian(y, 1),
               ref_ildj(ones, moments$variance, 1e-3), tolerance = 1e-12)
  expect_equal(b$inverse_log_det_jacobian(y, 1),
               -0.5 * sum(log(moments$variance + 1e-3)), tolerance = 1e-12)
  expect_equal(b$forward_log_det_jacobian(y, 1),
               0.5 * sum(log(w$moving_variance + 1e-3)), tolerance = 1e-12)
  expect_equal(b$forward(y),
               ref_bn_forward(y, -1, ones, w$beta, w$moving_mean,
                              w$moving_variance, 1e-3),
               tolerance = 1e-12)
  x <- b$inverse(y)
  expect_equal(x, ref_bn_inverse(y, -1, ones, w$beta, moments$mean,
                                 moments$variance, 1e-3),
               tolerance = 1e-12)
  expect_true(all(is.finite(b$inverse_log_det_jacobian(y, 1))))
})

test_that("center = FALSE treats beta as 0, even when set to other values", {
  set.seed(123)
  y <- matrix(rnorm(20 * 3, 1, 2), 20, 3)
  layer <- layer_with_random_weights(y, momentum = 0.5, center = FALSE)
  w <- get_weights(layer)
  w$beta <- c(5, -5, 7)
  set_weights(layer, w)
  zeros <- rep(0, 3)
  b <- tfb_batch_normalization(layer)
  expect_equal(b$forward(y),
               ref_bn_forward(y, -1, w$gamma, zeros, w$moving_mean,
                              w$moving_variance, 1e-3),
               tolerance = 1e-12)
  moments <- ref_moments(y, -1)
  expect_equal(b$inverse(y),
               ref_bn_inverse(y, -1, w$gamma, zeros, moments$mean,
                              moments$variance, 1e-3),
               tolerance = 1e-12)
  expect_equal(b$inverse_log_det_jacobian(y, 1),
               ref_ildj(w$gamma, moments$variance, 1e-3), tolerance = 1e-12)
})

test_that("center = FALSE and scale = FALSE together give plain standardization", {
  set.seed(124)
  y <- matrix(rnorm(20 * 2, 4, 3), 20, 2)
  layer <- layer_with_random_weights(y, epsilon = 0, center = FALSE,
                                     scale = FALSE)
  x <- tfb_batch_normalization(layer)$inverse(y)
  standardized <- sweep(sweep(y, 2, colMeans(y)), 2,
                        sqrt(apply(y, 2, var) * 19 / 20), "/")
  expect_equal(x, standardized, tolerance = 1e-12)
})

test_that("a training and an evaluation bijector on one layer share state", {
  set.seed(125)
  layer <- layer_batch_normalization(momentum = 0.5)
  train <- tfb_batch_normalization(layer)
  evaluate <- tfb_batch_normalization(layer, training = FALSE)
  expect_identical(train$batchnorm, evaluate$batchnorm)
  y <- matrix(rnorm(40, 3, 2), 10, 4)
  train$inverse(y)
  w <- get_weights(evaluate$batchnorm)
  moments <- ref_moments(y, -1)
  expect_equal(w$moving_mean, ref_update(rep(0, 4), moments$mean, 0.5),
               tolerance = 1e-12)
  y2 <- matrix(rnorm(40), 10, 4)
  expect_equal(evaluate$inverse(y2),
               ref_bn_inverse(y2, -1, w$gamma, w$beta, w$moving_mean,
                              w$moving_variance, 1e-3),
               tolerance = 1e-12)
  # The evaluation bijector updates nothing.
  expect_identical(get_weights(layer), w)
  # Set through the evaluation bijector's layer, seen by the training one.
  w2 <- random_weights(4)
  set_weights(evaluate$batchnorm, w2)
  expect_identical(get_weights(train$batchnorm), w2)
})

test_that("the $ methods and the tfb_*() helpers give identical results", {
  set.seed(126)
  y <- matrix(rnorm(30, 1, 2), 10, 3)
  layer <- layer_with_random_weights(y)
  b <- tfb_batch_normalization(layer, training = FALSE)
  expect_identical(tfb_inverse(b, y), b$inverse(y))
  expect_identical(tfb_forward(b, y), b$forward(y))
  expect_identical(tfb_inverse_log_det_jacobian(b, y, 1),
                   b$inverse_log_det_jacobian(y, 1))
  expect_identical(tfb_forward_log_det_jacobian(b, y, 1),
                   b$forward_log_det_jacobian(y, 1))
  expect_identical(tfb_inverse(b, y, name = "other"), b$inverse(y))

  # In training, on two identical layers: same output, same update.
  w <- random_weights(3)
  layers <- lapply(1:2, function(i) {
    l <- layer_batch_normalization(momentum = 0.7)
    tfb_batch_normalization(l, training = FALSE)$forward(y)
    set_weights(l, w)
  })
  b1 <- tfb_batch_normalization(layers[[1]])
  b2 <- tfb_batch_normalization(layers[[2]])
  expect_identical(tfb_inverse_log_det_jacobian(b2, y, 1),
                   b1$inverse_log_det_jacobian(y, 1))
  expect_identical(tfb_inverse(b2, y), b1$inverse(y))
  expect_identical(get_weights(layers[[2]]), get_weights(layers[[1]]))
})

test_that("outputs keep dim and dimnames", {
  set.seed(127)
  y <- matrix(rnorm(12), 4, 3,
              dimnames = list(paste0("row", 1:4), c("a", "b", "c")))
  b <- tfb_batch_normalization(layer_batch_normalization())
  x <- b$inverse(y)
  expect_identical(dim(x), c(4L, 3L))
  expect_identical(dimnames(x), dimnames(y))
  expect_identical(dimnames(b$forward(y)), dimnames(y))

  a <- array(rnorm(24), c(2, 3, 4),
             dimnames = list(NULL, c("p", "q", "r"), letters[1:4]))
  b3 <- tfb_batch_normalization(layer_batch_normalization(axis = c(2, 3)))
  xa <- b3$inverse(a)
  expect_identical(dim(xa), c(2L, 3L, 4L))
  expect_identical(dimnames(xa), dimnames(a))
  expect_identical(dimnames(b3$forward(a)), dimnames(a))
})

test_that("integer input is accepted and gives double output", {
  y_int <- matrix(c(1L, 5L, 2L, 8L, 3L, 3L), 3, 2)
  y_dbl <- y_int * 1
  layer_a <- layer_batch_normalization(momentum = 0.5)
  layer_b <- layer_batch_normalization(momentum = 0.5)
  x_int <- tfb_batch_normalization(layer_a)$inverse(y_int)
  x_dbl <- tfb_batch_normalization(layer_b)$inverse(y_dbl)
  expect_type(x_int, "double")
  expect_identical(x_int, x_dbl)
  expect_identical(get_weights(layer_a), get_weights(layer_b))
  expect_type(tfb_batch_normalization(layer_a)$forward(y_int), "double")
  expect_equal(tfb_batch_normalization(layer_a)$
                 inverse_log_det_jacobian(y_int, 1),
               tfb_batch_normalization(layer_b)$
                 inverse_log_det_jacobian(y_dbl, 1), tolerance = 0)
})

test_that("a numeric data frame is treated as a matrix", {
  set.seed(128)
  df <- data.frame(u = rnorm(6), v = rnorm(6, 2), w = 1:6)
  y <- as.matrix(df)
  layer_a <- layer_batch_normalization(momentum = 0.3)
  layer_b <- layer_batch_normalization(momentum = 0.3)
  x_df <- tfb_batch_normalization(layer_a)$inverse(df)
  x_m <- tfb_batch_normalization(layer_b)$inverse(y)
  expect_true(is.matrix(x_df))
  expect_identical(dim(x_df), c(6L, 3L))
  expect_equal(unname(x_df), unname(x_m), tolerance = 0)
  expect_identical(get_weights(layer_a), get_weights(layer_b))
  expect_true(is.matrix(tfb_batch_normalization(layer_a)$forward(df)))
})

test_that("a plain vector is one event", {
  v <- c(1, 4, -2)
  layer <- layer_batch_normalization(momentum = 0.5)
  b <- tfb_batch_normalization(layer, training = FALSE)
  x <- b$inverse(v)
  expect_null(dim(x))
  expect_equal(x, v / sqrt(1 + 1e-3), tolerance = 1e-14)
  expect_equal(layer$feature_shape, 3L)
  expect_equal(b$forward(x), v, tolerance = 1e-14)
  expect_equal(b$inverse_log_det_jacobian(v, 1), -1.5 * log(1 + 1e-3),
               tolerance = 1e-12)

  # In training, one event is a batch of one: output beta, variance 0.
  train <- tfb_batch_normalization(layer)
  xt <- train$inverse(v)
  expect_null(dim(xt))
  expect_equal(xt, rep(0, 3), tolerance = 0)
  expect_equal(layer$moving_mean, 0.5 * v, tolerance = 1e-14)
  expect_equal(layer$moving_variance, rep(0.5, 3), tolerance = 1e-14)
})

test_that("a one-row training batch gives finite output equal to beta", {
  set.seed(129)
  y <- matrix(rnorm(4, 3), 1, 4)
  layer <- layer_with_random_weights(y, momentum = 0.8)
  w <- get_weights(layer)
  b <- tfb_batch_normalization(layer)
  ildj <- b$inverse_log_det_jacobian(y, 1)
  expect_true(is.finite(ildj))
  expect_equal(ildj, sum(log(w$gamma)) - 0.5 * 4 * log(1e-3),
               tolerance = 1e-12)
  x <- b$inverse(y)
  expect_true(all(is.finite(x)))
  expect_equal(x, matrix(w$beta, 1, 4), tolerance = 1e-14)
  expect_equal(layer$moving_mean, 0.8 * w$moving_mean + 0.2 * as.vector(y),
               tolerance = 1e-14)
  expect_equal(layer$moving_variance, 0.8 * w$moving_variance,
               tolerance = 1e-14)
})

test_that("non-finite input propagates elementwise in evaluation mode", {
  set.seed(130)
  y <- matrix(rnorm(12), 4, 3)
  layer <- layer_with_random_weights(y)
  w <- get_weights(layer)
  b <- tfb_batch_normalization(layer, training = FALSE)
  y_bad <- y
  y_bad[2, 1] <- NA
  y_bad[3, 2] <- Inf
  y_bad[1, 3] <- NaN
  x <- b$inverse(y_bad)
  expected <- ref_bn_inverse(y, -1, w$gamma, w$beta, w$moving_mean,
                             w$moving_variance, 1e-3)
  expect_true(is.na(x[2, 1]))
  expect_identical(x[3, 2], Inf)
  expect_true(is.nan(x[1, 3]))
  good <- is.finite(y_bad)
  expect_equal(x[good], expected[good], tolerance = 1e-12)
  fx <- b$forward(y_bad)
  expect_true(is.na(fx[2, 1]))
  expect_identical(fx[3, 2], Inf)
  expect_true(all(is.finite(fx[good])))
  # Forward with non-finite input on a training bijector is not an error.
  expect_no_error(tfb_batch_normalization(layer)$forward(y_bad))
  expect_identical(get_weights(layer), w)
})

test_that("the one-call training inverse of a matrix equals the checked path", {
  # validate_args = TRUE always takes the checked path (bn_input() and the
  # kernel as two steps); the default takes the one-call path from the
  # second batch on, once the layer is built and its pointer exists.
  set.seed(140)
  quick <- tfb_batch_normalization(layer_batch_normalization(momentum = 0.8))
  checked <- tfb_batch_normalization(layer_batch_normalization(momentum = 0.8),
                                     validate_args = TRUE)
  for (step in 1:4) {
    y <- matrix(rnorm(24 * 3, mean = step, sd = 2), 24, 3,
                dimnames = if (step == 3) list(NULL, c("a", "b", "c")))
    expect_identical(tfb_inverse(quick, y), tfb_inverse(checked, y))
    expect_identical(get_weights(quick$batchnorm),
                     get_weights(checked$batchnorm))
  }
  # the running mean after four batches, written out (momentum 0.8)
  set.seed(140)
  means <- vapply(1:4, function(step) {
    colMeans(matrix(rnorm(24 * 3, mean = step, sd = 2), 24, 3))
  }, numeric(3))
  expected <- rep(0, 3)
  for (step in 1:4) expected <- 0.8 * expected + 0.2 * means[, step]
  expect_equal(quick$batchnorm$moving_mean, expected, tolerance = 1e-12)

  # a refused batch and a batch with the wrong feature count: the checked
  # path's errors, and nothing moved
  before <- get_weights(quick$batchnorm)
  bad <- matrix(c(NaN, rnorm(24 * 3 - 1)), 24, 3)
  expect_error(tfb_inverse(quick, bad), "NA, NaN or Inf")
  expect_error(tfb_inverse(quick, matrix(1, 4, 2)), "feature dimension")
  expect_error(tfb_inverse(quick, matrix(0, 0, 3)), "empty training batch")
  expect_identical(get_weights(quick$batchnorm), before)

  # other inputs than a plain double matrix still work: integers, a
  # 3-d array, after saveRDS()/readRDS() (the pointer is rebuilt)
  ints <- matrix(1:12, 4, 3)
  expect_identical(tfb_inverse(quick, ints),
                   tfb_inverse(checked, ints))
  restored <- unserialize(serialize(quick, NULL))
  y <- matrix(rnorm(30), 10, 3)
  expect_identical(tfb_inverse(restored, y), tfb_inverse(checked, y))
})
