# tfd_independent() and tfd_sample_distribution(): bases of any event shape.

test_that("independent reads batch dims as event dims", {
  loc <- matrix(c(0, 1, 2, 3, 4, 5), 2, 3)
  d <- tfd_independent(tfd_normal(loc = loc, scale = 2))
  expect_identical(d$event_shape, c(2L, 3L))
  expect_identical(d$batch_shape, integer())
  set.seed(5)
  x <- array(rnorm(24), c(4, 2, 3))
  expected <- vapply(1:4, function(n) {
    sum(dnorm(x[n, , ], loc, 2, log = TRUE))
  }, numeric(1))
  expect_equal(d$log_prob(x), expected, tolerance = 1e-14)
  one <- tfd_independent(tfd_normal(loc = loc, scale = 2), 1)
  expect_identical(one$event_shape, 3L)
  expect_identical(one$batch_shape, 2L)
  expect_equal(one$log_prob(x[1, , ]),
               rowSums(dnorm(x[1, , ], loc, 2, log = TRUE)), tolerance = 1e-14)
  expect_identical(dim(d$sample(5)), c(5L, 2L, 3L))
  expect_error(tfd_independent(tfd_normal(loc, 1), 3),
               class = "bijectors_error_argument")
  expect_identical(d$reinterpreted_batch_ndims, 2L)
  expect_match(format(d)[[1]], "tfd_independent")
})

test_that("sample distribution: iid draws as one event", {
  d <- tfd_sample_distribution(tfd_normal(1, 3), c(2, 3))
  expect_identical(d$event_shape, c(2L, 3L))
  set.seed(6)
  x <- d$sample(4)
  expect_identical(dim(x), c(4L, 2L, 3L))
  expect_equal(d$log_prob(x),
               apply(dnorm(x, 1, 3, log = TRUE), 1, sum), tolerance = 1e-14)
  # the draws are the base's draws in order
  set.seed(6)
  expect_identical(as.vector(x), rnorm(24, 1, 3))
  # a base with a batch dimension: TFP's layout [n, batch, draws]
  b <- tfd_sample_distribution(tfd_normal(loc = c(0, 10), scale = 1), 3)
  expect_identical(b$batch_shape, 2L)
  expect_identical(b$event_shape, 3L)
  set.seed(7)
  s <- b$sample(500)
  expect_identical(dim(s), c(500L, 2L, 3L))
  expect_equal(mean(s[, 2, ]), 10, tolerance = 0.02)
  expect_equal(mean(s[, 1, ]), 0, tolerance = 0.5)
  v <- array(rnorm(2 * 2 * 3), c(2, 2, 3))
  expect_equal(b$log_prob(v),
               matrix(c(sum(dnorm(v[1, 1, ], 0, log = TRUE)),
                        sum(dnorm(v[2, 1, ], 0, log = TRUE)),
                        sum(dnorm(v[1, 2, ], 10, log = TRUE)),
                        sum(dnorm(v[2, 2, ], 10, log = TRUE))), 2),
               tolerance = 1e-14)
})

test_that("bases of vector events from either train a flow", {
  set.seed(8)
  y <- matrix(rnorm(200, mean = 2), ncol = 2)
  for (base in list(tfd_sample_distribution(tfd_normal(0, 1), 2),
                    tfd_independent(tfd_normal(c(0, 0), 1)))) {
    flow <- tfd_transformed_distribution(base, tfb_shift(c(0, 0)))
    lg <- loss_and_gradient(flow, y)
    # d/dshift of -mean(log N(y - shift)) is -(colMeans(y) - shift)
    expect_equal(lg$gradient[["shift"]], -colMeans(y), tolerance = 1e-12)
    fit(flow, y, epochs = 300, batch_size = 100, learning_rate = 0.05,
        verbose = FALSE)
    expect_equal(flow$bijector$shift, colMeans(y), tolerance = 1e-3)
  }
})

test_that("transformed distributions: scalar bases and TFP's old shape arguments", {
  # batch normalization on a scalar normal, as tfprobability's example
  bn <- tfb_batch_normalization(layer_batch_normalization(epsilon = 0))
  td <- tfd_transformed_distribution(tfd_normal(0, 1), bn)
  expect_identical(td$event_shape, integer())
  set.seed(9)
  y <- rnorm(100, 1, 2)
  m <- mean(y)
  v <- mean((y - m)^2)
  expect_equal(td$log_prob(y),
               dnorm((y - m) / sqrt(v), log = TRUE) - 0.5 * log(v),
               tolerance = 1e-12)
  expect_equal(bn$batchnorm$feature_shape, 1L)
  expect_length(td$sample(5), 5L)
  expect_null(dim(td$sample(5)))
  # the bijector alone treats a vector as one event, as tfprobability does
  expect_identical(length(tfb_batch_normalization()$inverse(y)), 100L)
  # event_shape over a scalar base: iid draws
  td <- tfd_transformed_distribution(tfd_normal(0, 1), tfb_shift(c(1, 2, 3)),
                                     event_shape = 3)
  expect_identical(td$event_shape, 3L)
  x <- matrix(rnorm(6), 2)
  expect_equal(td$log_prob(x), rowSums(dnorm(sweep(x, 2, 1:3), log = TRUE)),
               tolerance = 1e-14)
  base <- tfd_multivariate_normal_diag(loc = c(0, 0))
  expect_silent(tfd_transformed_distribution(base, tfb_shift(1),
                                             batch_shape = integer(),
                                             event_shape = 2))
  expect_error(tfd_transformed_distribution(base, tfb_shift(1),
                                            event_shape = 3),
               class = "bijectors_error_unsupported")
  expect_error(tfd_transformed_distribution(base, tfb_shift(1),
                                            batch_shape = 4),
               class = "bijectors_error_unsupported")
  # a shape-changing bijector must fit the base's events
  expect_error(tfd_transformed_distribution(tfd_normal(0, 1),
                                            tfb_reshape(c(2, 3))),
               class = "bijectors_error_event_ndims")
})

test_that("empty draws and empty batches keep their shapes", {
  d <- tfd_sample_distribution(tfd_normal(0, 1), 0)
  expect_identical(d$log_prob(matrix(0, 3, 0)), c(0, 0, 0))
  expect_identical(dim(d$sample(2)), c(2L, 0L))
  s <- tfd_sample_distribution(tfd_normal(0, 1), 3)
  expect_identical(s$log_prob(matrix(0, 0, 3)), numeric(0))
})
