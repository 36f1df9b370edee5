# Training on events of rank 2 and more: fit(), loss_and_gradient() and
# recompute_batch_statistics() take arrays whose first axis indexes the
# events, with bases of any event shape.

matrix_event_flow <- function() {
  tfd_transformed_distribution(
    tfd_sample_distribution(tfd_normal(0, 1), sample_shape = c(2, 3)),
    tfb_chain(list(tfb_shift(c(0.5, 0, -0.5)), tfb_scale(c(1, 1.2, 0.8)))))
}

test_that("loss_and_gradient() on matrix events matches central differences", {
  set.seed(11)
  flow <- matrix_event_flow()
  x <- array(rnorm(5 * 2 * 3, sd = 2), c(5, 2, 3))
  lg <- loss_and_gradient(flow, x)
  # the loss by hand: each event's 6 values are independent
  shift <- rep(c(0.5, 0, -0.5), each = 10)
  scale <- rep(c(1, 1.2, 0.8), each = 10)
  z <- (x - shift) / scale
  by_hand <- -mean(apply(dnorm(z, log = TRUE) - log(scale), 1, sum))
  expect_equal(lg$loss, by_hand, tolerance = 1e-12)
  params <- trainable_parameters(flow)
  loss_at <- function(p) {
    trainable_parameters(flow) <- p
    on.exit(trainable_parameters(flow) <- params)
    loss_and_gradient(flow, x)$loss
  }
  for (name in names(params)) {
    for (k in seq_along(params[[name]])) {
      up <- down <- params
      up[[name]][k] <- up[[name]][k] + 1e-6
      down[[name]][k] <- down[[name]][k] - 1e-6
      numeric <- (loss_at(up) - loss_at(down)) / 2e-6
      expect_equal(lg$gradient[[name]][k], numeric, tolerance = 1e-6,
                   label = sprintf("%s[%d]", name, k))
    }
  }
})

test_that("fit() trains a flow on matrix events to the maximum likelihood", {
  set.seed(12)
  n <- 400
  truth_shift <- c(2, -1, 0.5)
  truth_scale <- c(0.5, 2, 1.5)
  x <- array(rnorm(n * 6), c(n, 2, 3))
  x <- x * rep(truth_scale, each = 2 * n) + rep(truth_shift, each = 2 * n)
  flow <- matrix_event_flow()
  history <- fit(flow, x, epochs = 300, batch_size = 100,
                 learning_rate = 0.05, validation_split = 0.25,
                 verbose = FALSE)
  expect_lt(tail(history$loss, 1), history$loss[[1]])
  params <- trainable_parameters(flow)
  training <- x[1:300, , ]
  mle_shift <- apply(training, 3, mean)
  mle_scale <- apply(training, 3, function(v) sqrt(mean((v - mean(v))^2)))
  expect_equal(unname(params[["1_shift/shift"]]), mle_shift, tolerance = 0.02)
  expect_equal(unname(params[["2_scale/scale"]]), mle_scale, tolerance = 0.02)
})

test_that("data of the wrong event shape are refused before anything changes", {
  flow <- matrix_event_flow()
  before <- trainable_parameters(flow)
  expect_error(fit(flow, matrix(0, 4, 6), epochs = 1, verbose = FALSE),
               class = "bijectors_error_event_size")
  expect_error(fit(flow, array(0, c(4, 3, 2)), epochs = 1, verbose = FALSE),
               class = "bijectors_error_event_size")
  expect_error(loss_and_gradient(flow, array(0, c(4, 2, 3, 1))),
               class = "bijectors_error_event_size")
  expect_identical(trainable_parameters(flow), before)
})
