# tfd_log_prob_parallel() and tfd_sample_parallel(): chunks scored in
# futures give what one process gives.

scoring_flow <- function() {
  set.seed(31)
  x <- matrix(rnorm(1200), 600, 2)
  x[, 2] <- x[, 2] + 0.5 * x[, 1]^2
  flow <- tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = c(0, 0)),
    tfb_chain(list(
      tfb_masked_autoregressive_flow(
        tfb_masked_autoregressive_default_template(c(6, 6),
                                                   activation = "tanh")),
      tfb_batch_normalization(),
      tfb_permute(2:1)
    ))
  )
  fit(flow, x, epochs = 2, batch_size = 100, learning_rate = 0.01,
      verbose = FALSE)
  recompute_batch_statistics(flow, x)
  list(flow = flow, x = x)
}

test_that("scoring with two worker processes equals one process", {
  skip_if_not_installed("future.apply")
  skip_on_cran()
  case <- scoring_flow()
  scoring <- evaluation_mode(case$flow)
  x <- case$x
  old_plan <- future::plan(future::sequential)
  on.exit(future::plan(old_plan), add = TRUE)

  # the independent single-process result: the chunks one after the other
  by_chunk <- unlist(lapply(split(seq_len(nrow(x)), ceiling(seq_len(nrow(x)) / 170)),
                            function(rows) tfd_log_prob(scoring, x[rows, ])),
                     use.names = FALSE)
  sequential <- tfd_log_prob_parallel(scoring, x, chunk_size = 170)
  expect_identical(sequential, by_chunk)
  expect_equal(sequential, tfd_log_prob(scoring, x), tolerance = 1e-14)
  set.seed(4)
  draws_sequential <- tfd_sample_parallel(scoring, 250, chunk_size = 60)
  expect_identical(dim(draws_sequential), c(250L, 2L))

  future::plan(future::multisession, workers = 2)
  expect_identical(tfd_log_prob_parallel(scoring, x, chunk_size = 170),
                   sequential)
  set.seed(4)
  expect_identical(tfd_sample_parallel(scoring, 250, chunk_size = 60),
                   draws_sequential)
  # another seed, other draws; another chunking, other streams
  set.seed(5)
  expect_false(identical(tfd_sample_parallel(scoring, 250, chunk_size = 60),
                         draws_sequential))
  future::plan(future::sequential)
  set.seed(4)
  other_chunks <- tfd_sample_parallel(scoring, 250, chunk_size = 125)
  expect_false(identical(other_chunks, draws_sequential))
  # the draws follow the model: the base points they map from are normal
  base <- tfb_inverse(scoring$bijector, draws_sequential)
  expect_lt(abs(mean(base)), 0.2)
  expect_lt(abs(sd(base) - 1), 0.15)
})

test_that("training-mode batch normalization and unbuilt models are refused", {
  skip_if_not_installed("future.apply")
  case <- scoring_flow()
  expect_error(tfd_log_prob_parallel(case$flow, case$x),
               "evaluation_mode", class = "bijectors_error_training_mode")
  expect_error(tfd_sample_parallel(case$flow, 10),
               class = "bijectors_error_training_mode")
  fresh <- tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = c(0, 0)),
    tfb_masked_autoregressive_flow(
      tfb_masked_autoregressive_default_template(c(4))))
  expect_error(tfd_log_prob_parallel(fresh, case$x),
               class = "bijectors_error_not_built")
  scoring <- evaluation_mode(case$flow)
  expect_error(tfd_log_prob_parallel(scoring, case$x, chunk_size = 0),
               "`chunk_size`", class = "bijectors_error_argument")
  expect_error(tfd_log_prob_parallel(scoring, c(1, 2)),
               class = "bijectors_error_argument")
  expect_error(tfd_sample_parallel(scoring, -1), "`n`",
               class = "bijectors_error_argument")
  expect_identical(dim(tfd_sample_parallel(scoring, 0)), c(0L, 2L))
})

test_that("a plain distribution is scored in chunks too", {
  skip_if_not_installed("future.apply")
  d <- tfd_normal(loc = 1, scale = 2)
  x <- seq(-3, 3, length.out = 25)
  expect_identical(tfd_log_prob_parallel(d, x, chunk_size = 4),
                   tfd_log_prob(d, x))
  expect_equal(tfd_log_prob_parallel(d, x, chunk_size = 4),
               dnorm(x, 1, 2, log = TRUE), tolerance = 1e-14)
})
