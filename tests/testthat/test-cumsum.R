# tfb_cumsum(): TFP's values, a loop reference, log-dets, gradients, errors
# and its use in chains and transformed distributions.

test_that("TFP's and tfprobability's values", {
  b <- tfb_cumsum()
  expect_identical(b$forward(c(0, 1, 2, 3, 4)), c(0, 1, 3, 6, 10))
  expect_identical(b$inverse(cumsum(rep(1, 5))), rep(1, 5))
  x <- rbind(c(1, 1), c(2, 2), c(3, 3))
  expect_identical(b$forward(x), rbind(c(1, 2), c(2, 4), c(3, 6)))
  expect_identical(tfb_cumsum(axis = -2)$forward(x),
                   rbind(c(1, 1), c(3, 3), c(6, 6)))
  expect_identical(b$forward_log_det_jacobian(x, event_ndims = 1), 0)
  expect_identical(b$inverse_log_det_jacobian(x, event_ndims = 2), 0)
  expect_identical(b$forward_min_event_ndims, 1L)
  expect_identical(tfb_cumsum(axis = -3)$inverse_min_event_ndims, 3L)
})

test_that("forward and inverse match a loop on every axis", {
  set.seed(11)
  for (dims in list(5L, c(5L, 2L), c(5L, 2L, 2L), c(3L, 4L, 2L, 5L))) {
    x <- array(rnorm(prod(dims)), dims)
    if (length(dims) == 1L) x <- as.vector(x)
    for (axis in -seq_along(dims)) {
      b <- tfb_cumsum(axis = axis)
      y <- b$forward(x)
      expect_equal(y, ref_cumsum(x, axis), tolerance = 1e-14)
      expect_equal(b$inverse(y), x, tolerance = 1e-12)
    }
  }
  # dims and dimnames are kept
  x <- matrix(1:6, 2, dimnames = list(c("a", "b"), NULL))
  expect_identical(dimnames(tfb_cumsum()$forward(x)), dimnames(x))
  expect_type(tfb_cumsum()$forward(1:3), "double")
})

test_that("log-dets are 0, as a numerical Jacobian says, for sizes 2 to 6", {
  set.seed(12)
  for (k in 2:6) {
    x <- rnorm(k)
    b <- tfb_cumsum()
    jacobian <- ref_jacobian(function(v) b$forward(v), x)
    expect_equal(ref_log_abs_det(jacobian), 0, tolerance = 1e-8)
    expect_equal(jacobian, lower.tri(diag(k), diag = TRUE) * 1,
                 tolerance = 1e-8)
    expect_identical(b$inverse_log_det_jacobian(b$forward(x), 1),
                     -b$forward_log_det_jacobian(x, 1))
  }
})

test_that("argument and input errors", {
  expect_error(tfb_cumsum(axis = 1), "negative",
               class = "bijectors_error_axis")
  expect_error(tfb_cumsum(axis = 0), class = "bijectors_error_axis")
  expect_error(tfb_cumsum(axis = -1.5), class = "bijectors_error_axis")
  expect_error(tfb_cumsum(axis = c(-1, -2)), class = "bijectors_error_axis")
  expect_error(tfb_cumsum(axis = "a"), class = "bijectors_error_axis")
  expect_error(tfb_cumsum(validate_args = NA),
               class = "bijectors_error_argument")
  expect_error(tfb_cumsum(axis = -2)$forward(1:3),
               class = "bijectors_error_input")
  expect_error(tfb_cumsum(axis = -2)$forward_log_det_jacobian(
    matrix(1, 2, 2), 1), class = "bijectors_error_event_ndims")
})

test_that("positive ordered vectors: a chain with exp in a transformed distribution", {
  chain <- tfb_chain(list(tfb_cumsum(), tfb_exp()))
  flow <- tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = c(0, 0.5, -0.5),
                                 scale_diag = c(1, 0.8, 1.2)),
    chain)
  set.seed(13)
  x <- matrix(rnorm(12), 4)
  y <- chain$forward(x)
  expect_true(all(y[, -1] > y[, -3]) && all(y > 0))
  by_hand <- vapply(1:4, function(n) {
    z <- log(c(y[n, 1], diff(y[n, ])))
    sum(dnorm(z, c(0, 0.5, -0.5), c(1, 0.8, 1.2), log = TRUE)) - sum(z)
  }, numeric(1))
  expect_equal(flow$log_prob(y), by_hand, tolerance = 1e-12)
  expect_equal(chain$forward_log_det_jacobian(x, 1), rowSums(x),
               tolerance = 1e-14)
  expect_identical(dim(flow$sample(5)), c(5L, 3L))
  expect_identical(dim(flow$sample(c(2, 3))), c(2L, 3L, 3L))
  # gradients with respect to the data
  lg <- loss_and_gradient(flow, y, input_gradient = TRUE)
  expect_equal(as.vector(lg$input), ref_loss_input_gradient(flow, y),
               tolerance = 1e-6)
})

test_that("a flow along axis -2: log_prob by hand and gradients", {
  flow <- tfd_transformed_distribution(
    tfd_sample_distribution(tfd_normal(0, 1), c(3, 2)),
    tfb_chain(list(tfb_cumsum(axis = -2), tfb_shift(c(0.2, -0.1)))))
  set.seed(14)
  y <- array(rnorm(4 * 6), c(4, 3, 2))
  by_hand <- vapply(1:4, function(n) {
    x <- apply(y[n, , ], 2, function(column) c(column[1], diff(column)))
    x <- x - matrix(c(0.2, -0.1), 3, 2, byrow = TRUE)
    sum(dnorm(x, log = TRUE))
  }, numeric(1))
  expect_equal(flow$log_prob(y), by_hand, tolerance = 1e-12)
  expect_identical(dim(flow$sample(2)), c(2L, 3L, 2L))
  # training needs vector events: reshape around the matrix-event cumsum
  flow <- tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = seq(-0.5, 0.5, length.out = 6)),
    tfb_chain(list(tfb_reshape(6, c(3, 2)), tfb_cumsum(axis = -2),
                   tfb_reshape(c(3, 2), 6), tfb_scale(seq(0.5, 1.5, 0.2)))))
  z <- matrix(rnorm(30), 5)
  lg <- loss_and_gradient(flow, z, input_gradient = TRUE)
  expect_equal(as.vector(lg$input), ref_loss_input_gradient(flow, z),
               tolerance = 1e-6)
  inverted <- tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = seq(-0.5, 0.5, length.out = 6)),
    tfb_invert(flow$bijector))
  lg <- loss_and_gradient(inverted, z, input_gradient = TRUE)
  expect_equal(as.vector(lg$input), ref_loss_input_gradient(inverted, z),
               tolerance = 1e-6)
  expect_silent(fit(flow, z, epochs = 2, batch_size = 5, verbose = FALSE))
})
