# tfb_blockwise(): TFP's Blockwise, each member on its block of the last
# axis; references by hand (block by block, with the members' formulas),
# Jacobians, chains, flows and gradients routed to trainable members.

# TFP's test uses Softplus, written here as an inline bijector.
softplus_inline <- function() {
  tfb_inline(forward_fn = function(x) log1p(exp(x)),
             inverse_fn = function(y) log(expm1(y)),
             forward_log_det_jacobian_fn = function(x) plogis(x, log.p = TRUE),
             forward_min_event_ndims = 0, name = "softplus")
}

test_that("TFP's test values", {
  x <- c(0.1, 0.2, 0.3, 0.4, 0.5, 0.6)
  b <- tfb_blockwise(list(tfb_exp(), softplus_inline(), tfb_scale(c(2, 3, 4))),
                     block_sizes = c(2, 1, 3))
  expect_identical(b$name, "blockwise_of_exp_and_softplus_and_scale")
  expect_identical(b$forward_min_event_ndims, 1L)
  expect_identical(b$inverse_min_event_ndims, 1L)
  y <- b$forward(x)
  expect_equal(y, c(1.105170918, 1.221402758, 0.8543552445, 0.8, 1.5, 2.4),
               tolerance = 1e-9)
  expect_equal(b$forward_log_det_jacobian(x, 1), 2.923698586, tolerance = 1e-9)
  expect_equal(b$inverse(y), x, tolerance = 1e-15)
  expect_equal(b$inverse_log_det_jacobian(y, 1), -2.923698586,
               tolerance = 1e-9)
  # a size-changing member
  b <- tfb_blockwise(list(tfb_exp(), tfb_softmax_centered(),
                          tfb_scale(c(2, 3, 4))), block_sizes = c(2, 1, 3))
  y <- b$forward(x)
  expect_equal(y, c(1.105170918, 1.221402758, 0.5744425168, 0.4255574832,
                    0.8, 1.5, 2.4), tolerance = 1e-9)
  expect_equal(b$forward_log_det_jacobian(x, 1), 2.415916932,
               tolerance = 1e-9)
  expect_equal(b$inverse(y), x, tolerance = 1e-14)
  expect_identical(b$inverse_block_sizes, c(2L, 2L, 3L))
  expect_identical(b$forward_event_shape(6), 7L)
  expect_identical(b$inverse_event_shape(c(4, 7)), c(4L, 6L))
  # batch [2]: shapes [2, 6] -> [2, 7], log-det of shape [2]
  xb <- rbind(x, rev(x))
  yb <- b$forward(xb)
  expect_identical(dim(yb), c(2L, 7L))
  expect_length(b$forward_log_det_jacobian(xb, 1), 2L)
  expect_equal(b$forward_log_det_jacobian(xb, 1)[[1]], 2.415916932,
               tolerance = 1e-9)
  expect_equal(b$forward_log_det_jacobian(xb, 2),
               sum(b$forward_log_det_jacobian(xb, 1)), tolerance = 1e-14)
  # tfprobability's test: exp and sigmoid, block sizes as a list
  b <- tfb_blockwise(list(tfb_exp(), tfb_sigmoid()), block_sizes = list(2, 1))
  expect_identical(dim(b$forward(matrix(runif(15), 5))), c(5L, 3L))
  # default block sizes: all 1
  b <- tfb_blockwise(list(tfb_exp(), tfb_sigmoid()))
  expect_identical(b$block_sizes, c(1L, 1L))
  expect_equal(b$forward(c(0.5, 0.5)), c(exp(0.5), plogis(0.5)))
})

# A reference by hand: the blocks cut with loops, members' maps and
# log-dets from their formulas.
test_that("against a block-by-block reference for random sizes", {
  set.seed(1)
  for (trial in 1:6) {
    sizes <- sample(1:3, 3, replace = TRUE)
    shift <- rnorm(sizes[[2]])
    b <- tfb_blockwise(list(tfb_sinh(), tfb_shift(shift), tfb_tanh()), sizes)
    x <- matrix(rnorm(4 * sum(sizes), sd = 0.6), 4)
    y <- matrix(0, 4, sum(sizes))
    ldj <- numeric(4)
    for (n in 1:4) {
      column <- 0
      for (k in 1:3) {
        for (j in seq_len(sizes[[k]])) {
          column <- column + 1
          v <- x[n, column]
          if (k == 1) {
            y[n, column] <- sinh(v)
            ldj[[n]] <- ldj[[n]] + log(cosh(v))
          } else if (k == 2) {
            y[n, column] <- v + shift[[j]]
          } else {
            y[n, column] <- tanh(v)
            ldj[[n]] <- ldj[[n]] + log(1 - tanh(v)^2)
          }
        }
      }
    }
    expect_equal(b$forward(x), y, tolerance = 1e-14)
    expect_equal(b$inverse(y), x, tolerance = 1e-12)
    expect_equal(b$forward_log_det_jacobian(x, 1), ldj, tolerance = 1e-12)
    expect_equal(b$inverse_log_det_jacobian(y, 1), -ldj, tolerance = 1e-12)
  }
})

test_that("log-dets against numerical Jacobians for sizes 2 to 6", {
  set.seed(2)
  for (size in 2:6) {
    first <- size %/% 2
    b <- tfb_blockwise(list(tfb_sinh(), tfb_ascending()),
                       c(first, size - first))
    v <- rnorm(size, sd = 0.5)
    jacobian <- ref_jacobian(function(u) b$forward(u), v)
    expect_equal(b$forward_log_det_jacobian(v, 1), ref_log_abs_det(jacobian),
                 tolerance = 1e-7)
    expect_equal(b$inverse_log_det_jacobian(b$forward(v), 1),
                 -b$forward_log_det_jacobian(v, 1), tolerance = 1e-12)
  }
  # size-changing: the members' volumes add (iterated sigmoid: free
  # coordinates, the first K - 1 of its block's output)
  for (size in 2:6) {
    b <- tfb_blockwise(list(tfb_iterated_sigmoid_centered(), tfb_sinh()),
                       c(size - 1, 1))
    v <- rnorm(size, sd = 0.5)
    free <- c(seq_len(size - 1), size + 1)
    jacobian <- ref_jacobian(function(u) b$forward(u)[free], v)
    expect_equal(b$forward_log_det_jacobian(v, 1), ref_log_abs_det(jacobian),
                 tolerance = 1e-7)
  }
})

test_that("argument errors", {
  expect_error(tfb_blockwise(list()), "must not be empty",
               class = "bijectors_error_bijector")
  expect_error(tfb_blockwise(list(tfb_exp(), 1)),
               class = "bijectors_error_bijector")
  expect_error(tfb_blockwise(list(tfb_reshape(c(2, 2), 4))),
               "Rank-changing", class = "bijectors_error_bijector")
  expect_error(tfb_blockwise(list(tfb_transpose(perm = c(2, 1)))),
               "scalar and vector", class = "bijectors_error_bijector")
  expect_error(tfb_blockwise(list(tfb_split(2))), "single-part",
               class = "bijectors_error_bijector")
  expect_error(tfb_blockwise(list(tfb_exp(), tfb_exp()), c(1, 2, 3)),
               "same length", class = "bijectors_error_argument")
  expect_error(tfb_blockwise(list(tfb_exp(), tfb_exp()), 3),
               "same length", class = "bijectors_error_argument")
  expect_error(tfb_blockwise(list(tfb_exp(), tfb_exp()), c(1, -1)),
               class = "bijectors_error_argument")
  expect_error(tfb_blockwise(list(tfb_exp(), tfb_exp()), c(1, 1.5)),
               class = "bijectors_error_argument")
  expect_error(tfb_blockwise(tfb_exp(), validate_args = 1),
               class = "bijectors_error_argument")
  # a single bijector with one block size is fine (tfprobability's quirk
  # sends a scalar and fails)
  expect_equal(tfb_blockwise(tfb_exp(), 3)$forward(c(0, 0, 0)), c(1, 1, 1))
  b <- tfb_blockwise(list(tfb_exp(), tfb_shift(c(1, 2))), c(1, 2))
  expect_error(b$forward(matrix(0, 2, 4)), "add up to 3",
               class = "bijectors_error_event_size")
  expect_error(b$forward_log_det_jacobian(matrix(0, 2, 3), 3),
               class = "bijectors_error_event_ndims")
  expect_error(b$forward_event_shape(4), class = "bijectors_error_event_shape")
})

test_that("in a chain and a transformed distribution, trained members", {
  b <- tfb_blockwise(list(tfb_exp(), tfb_shift(c(1, 2)), tfb_scale(0.5)),
                     c(1, 2, 1))
  chain <- tfb_chain(list(b, tfb_shift(c(0.1, -0.1, 0.2, 0))))
  base <- tfd_multivariate_normal_diag(loc = c(0, 0.5, -0.5, 0.2),
                                       scale_diag = c(1, 0.8, 1.2, 0.9))
  flow <- tfd_transformed_distribution(base, chain)
  set.seed(3)
  y <- cbind(exp(rnorm(6)), matrix(rnorm(18), 6))
  by_hand <- vapply(1:6, function(n) {
    u <- c(log(y[n, 1]), y[n, 2:3] - c(1, 2), y[n, 4] / 0.5)
    x <- u - c(0.1, -0.1, 0.2, 0)
    sum(dnorm(x, c(0, 0.5, -0.5, 0.2), c(1, 0.8, 1.2, 0.9), log = TRUE)) -
      log(y[n, 1]) - log(0.5)
  }, numeric(1))
  expect_equal(flow$log_prob(y), by_hand, tolerance = 1e-12)
  set.seed(4)
  expect_identical(dim(flow$sample(5)), c(5L, 4L))
  expect_identical(dim(flow$sample(c(2, 3))), c(2L, 3L, 4L))
  # the members' parameters are the flow's, named by position
  expect_named(trainable_parameters(flow),
               c("1_blockwise_of_exp_and_shift_and_scale/2_shift/shift",
                 "1_blockwise_of_exp_and_shift_and_scale/3_scale/scale",
                 "2_shift/shift"))
  expect_flow_gradients(flow, y)
  expect_flow_gradients(tfd_transformed_distribution(base, tfb_invert(chain)),
                        y)
  before <- trainable_parameters(flow)
  fit(flow, y, epochs = 3, batch_size = 6, verbose = FALSE)
  after <- trainable_parameters(flow)
  expect_false(identical(before[[1]], after[[1]]))
  expect_false(identical(before[[2]], after[[2]]))
  # the shift inside the blockwise moved: the member itself trained
  expect_identical(b$bijectors[[2]]$shift, after[[1]])
  # a size-changing blockwise in a flow with an independent base
  s <- tfb_blockwise(list(tfb_exp(), tfb_softmax_centered()), c(1, 2))
  flow <- tfd_transformed_distribution(
    tfd_sample_distribution(tfd_normal(0, 1), 3), s)
  expect_identical(flow$event_shape, 4L)
  draws <- flow$sample(4)
  expect_identical(dim(draws), c(4L, 4L))
  expect_equal(rowSums(draws[, 2:4]), rep(1, 4), tolerance = 1e-14)
  x <- s$inverse(draws)
  expect_equal(flow$log_prob(draws),
               rowSums(dnorm(x, log = TRUE)) -
                 s$forward_log_det_jacobian(x, 1), tolerance = 1e-12)
  # inputs of the wrong size are refused before anything runs
  expect_error(flow$log_prob(matrix(0.25, 2, 3)),
               class = "bijectors_error_event_size")
  expect_snapshot(print(s))
})

test_that("a batch-normalization member in a blockwise flow", {
  layer <- layer_batch_normalization(momentum = 0.5)
  b <- tfb_blockwise(list(tfb_batch_normalization(layer), tfb_exp()),
                     c(2, 1))
  flow <- tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = c(0, 0, 0)), b)
  set.seed(5)
  y <- cbind(matrix(rnorm(20, 3, 2), 10), exp(rnorm(10)))
  expect_length(bijectors:::bijector_batchnorm_layers(b), 1L)
  x <- bijectors:::bijector_recompute_statistics(b, y)
  expect_equal(as.vector(layer$moving_mean), colMeans(y[, 1:2]),
               tolerance = 1e-12)
  expect_equal(x[, 3], log(y[, 3]), tolerance = 1e-15)
  expect_equal(colMeans(x[, 1:2]), c(0, 0), tolerance = 1e-8)
})
