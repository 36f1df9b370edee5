# tfb_reshape(): TFP's row-major reshape of events, and its place in chains
# and transformed distributions.

# Row-major reshape in plain R: the event's values in C order, refilled.
ref_row_major <- function(event, to) {
  values <- if (length(dim(event)) > 1L)
    as.vector(aperm(event, rev(seq_along(dim(event))))) else as.vector(event)
  if (length(to) <= 1L) return(values)
  aperm(array(values, rev(to)), rev(seq_along(to)))
}

test_that("forward and inverse follow TFP's row-major order", {
  b <- tfb_reshape(event_shape_out = c(2, 3))
  x <- matrix(1:12, nrow = 2, byrow = TRUE)
  y <- b$forward(x)
  expect_identical(dim(y), c(2L, 2L, 3L))
  expect_type(y, "double")
  # y[n, i, j] = x[n, 3 * (i - 1) + j]
  for (n in 1:2) for (i in 1:2) for (j in 1:3) {
    expect_identical(y[n, i, j], as.double(x[n, 3 * (i - 1) + j]))
  }
  expect_identical(b$inverse(y), x * 1.0)
  # TFP's test: x [4, 3, 2], in = c(3, 2), out = 6 is np.reshape(x, [4, 6])
  set.seed(1)
  x <- array(rnorm(24), c(4, 3, 2))
  b <- tfb_reshape(event_shape_out = 6, event_shape_in = c(3, 2))
  y <- b$forward(x)
  expect_identical(dim(y), c(4L, 6L))
  for (n in 1:4) {
    expect_identical(y[n, ], ref_row_major(x[n, , ], 6))
  }
  expect_identical(b$inverse(y), x)
  # in = c(-1, 3), out = c(-1, 2): [4, 2, 3] <-> [4, 3, 2]
  b <- tfb_reshape(c(-1, 2), c(-1, 3))
  x <- array(rnorm(24), c(4, 2, 3))
  y <- b$forward(x)
  expect_identical(dim(y), c(4L, 3L, 2L))
  for (n in 1:4) expect_identical(y[n, , ], ref_row_major(x[n, , ], c(3, 2)))
  expect_identical(b$inverse(y), x)
  # scalar events: in = integer(0), out = -1 adds a trailing axis of 1
  b <- tfb_reshape(-1, integer(0))
  x <- array(rnorm(60), c(3, 4, 5))
  expect_identical(dim(b$forward(x)), c(3L, 4L, 5L, 1L))
  expect_identical(b$inverse(b$forward(x)), x)
  # tfprobability's own test: tfb_reshape(c(1, -1))
  b <- tfb_reshape(c(1, -1))
  expect_identical(dim(b$forward(c(1, 2))), c(1L, 2L))
  expect_identical(dim(b$forward(matrix(1:4, 2))), c(2L, 1L, 2L))
  expect_identical(b$inverse(matrix(c(3, 4), 1)), c(3, 4))
})

test_that("event shapes, min event ndims and log-dets", {
  b <- tfb_reshape(event_shape_out = c(2, 3))
  expect_identical(b$forward_min_event_ndims, 1L)
  expect_identical(b$inverse_min_event_ndims, 2L)
  expect_identical(b$forward_event_shape(6), c(2L, 3L))
  expect_identical(b$inverse_event_shape(c(2, 3)), 6L)
  expect_identical(tfb_forward_event_shape(b, list(6)), c(2L, 3L))
  x <- matrix(rnorm(12), 2)
  for (e in 1:2) {
    expect_identical(b$forward_log_det_jacobian(x, event_ndims = e), 0)
  }
  expect_identical(b$inverse_log_det_jacobian(b$forward(x), 3), 0)
  expect_error(b$inverse_log_det_jacobian(b$forward(x), 1),
               class = "bijectors_error_event_ndims")
  expect_error(b$forward_event_shape(7), "cannot be reshaped",
               class = "bijectors_error_event_shape")
  expect_error(b$forward(matrix(1:14, 2)), class = "bijectors_error_event_shape")
  expect_error(tfb_reshape(c(4, -1, -1)), "at most one",
               class = "bijectors_error_event_shape")
  expect_error(tfb_reshape(c(1, 2, -2)), class = "bijectors_error_event_shape")
  expect_error(tfb_reshape(6, c(2, 3))$forward(array(0, c(4, 3, 2))),
               "does not match", class = "bijectors_error_event_shape")
  expect_error(tfb_reshape("a"), class = "bijectors_error_event_shape")
})

test_that("a reshape inside a chain inside a transformed distribution", {
  shift <- (1:6) / 10
  scale <- c(2, 0.5, 1)
  chain <- tfb_chain(list(tfb_scale(scale), tfb_reshape(c(2, 3)),
                          tfb_shift(shift)))
  expect_identical(chain$forward_min_event_ndims, 1L)
  expect_identical(chain$inverse_min_event_ndims, 2L)
  expect_identical(chain$forward_event_shape(6), c(2L, 3L))
  flow <- tfd_transformed_distribution(
    tfd_sample_distribution(tfd_normal(0, 1), 6), chain)
  expect_identical(flow$event_shape, c(2L, 3L))
  set.seed(2)
  y <- array(rnorm(5 * 6), c(5, 2, 3))
  by_hand <- vapply(1:5, function(n) {
    z <- y[n, , ] / matrix(scale, 2, 3, byrow = TRUE)
    x <- as.vector(t(z)) - shift
    sum(dnorm(x, log = TRUE)) - 2 * sum(log(abs(scale)))
  }, numeric(1))
  expect_equal(flow$log_prob(y), by_hand, tolerance = 1e-12)
  expect_equal(chain$inverse_log_det_jacobian(y, 2),
               -2 * sum(log(abs(scale))), tolerance = 1e-14)
  expect_equal(chain$forward_log_det_jacobian(chain$inverse(y), 1),
               2 * sum(log(abs(scale))), tolerance = 1e-14)
  set.seed(3)
  draws <- flow$sample(7)
  expect_identical(dim(draws), c(7L, 2L, 3L))
  expect_identical(dim(flow$sample(c(2, 4))), c(2L, 4L, 2L, 3L))
  expect_identical(dim(flow$sample(0)), c(0L, 2L, 3L))
  # draws map back to base draws: the same seed, by hand
  set.seed(3)
  base <- matrix(rnorm(42), 7)
  expect_equal(chain$inverse(draws), base, tolerance = 1e-14)
  # values of the wrong event shape are refused before anything runs
  expect_error(flow$log_prob(matrix(0, 2, 6)),
               class = "bijectors_error_event_size")
  # a chain whose sizes disagree across the reshape is still checked
  expect_error(tfd_transformed_distribution(
    tfd_sample_distribution(tfd_normal(0, 1), 6),
    tfb_chain(list(tfb_scale(c(1, 2)), tfb_reshape(c(2, 3))))
  )$log_prob(y), class = "bijectors_error_event_size")
})

test_that("reshape gradients in both directions", {
  flow <- tfd_transformed_distribution(
    tfd_sample_distribution(tfd_normal(0, 1), 4),
    tfb_chain(list(tfb_reshape(4, c(2, 2)), tfb_scale(c(1.5, 0.5)),
                   tfb_reshape(c(2, 2)), tfb_shift(c(0.1, 0.2, 0.3, 0.4)))))
  set.seed(4)
  x <- matrix(rnorm(40), 10)
  expect_equal(flow$event_shape, 4L)
  lg <- loss_and_gradient(flow, x, input_gradient = TRUE)
  numeric_loss <- function(params) {
    trainable_parameters(flow) <- params
    -mean(flow$log_prob(x))
  }
  params <- trainable_parameters(flow)
  for (name in names(params)) {
    numeric <- vapply(seq_along(params[[name]]), function(i) {
      up <- params; down <- params
      up[[name]][i] <- up[[name]][i] + 1e-6
      down[[name]][i] <- down[[name]][i] - 1e-6
      (numeric_loss(up) - numeric_loss(down)) / 2e-6
    }, numeric(1))
    expect_equal(as.vector(lg$gradient[[name]]), numeric, tolerance = 1e-6)
  }
  trainable_parameters(flow) <- params
  numeric_input <- vapply(seq_along(x), function(i) {
    up <- x; down <- x
    up[i] <- up[i] + 1e-6; down[i] <- down[i] - 1e-6
    (-mean(flow$log_prob(up)) + mean(flow$log_prob(down))) / 2e-6
  }, numeric(1))
  expect_equal(as.vector(lg$input), numeric_input, tolerance = 1e-6)
  expect_silent(fit(flow, x, epochs = 2, batch_size = 5, verbose = FALSE))
})
