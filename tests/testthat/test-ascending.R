# tfb_ascending() and the deprecated tfb_ordered(): TFP's values, a loop
# reference, log-dets against numerical Jacobians, validate_args, and use in
# chains and transformed distributions.

test_that("TFP's and tfprobability's values", {
  b <- tfb_ascending()
  x <- rbind(c(2, 3, 4), c(4, 8, 13))
  y <- rbind(c(2, 0, 0), c(4, log(4), log(5)))
  expect_equal(b$inverse(x), y, tolerance = 1e-15)
  expect_equal(b$forward(y), x, tolerance = 1e-15)
  expect_equal(b$forward_log_det_jacobian(y, event_ndims = 1),
               c(0, 2.995732274), tolerance = 1e-9)
  expect_equal(b$inverse_log_det_jacobian(x, event_ndims = 1),
               c(0, -2.995732274), tolerance = 1e-9)
  expect_identical(b$forward_event_shape(4), 4L)
  expect_identical(b$inverse_event_shape(4), 4L)
  expect_equal(b$forward(c(0.06428002, -1.07774478, -0.71530371)),
               c(0.06428002, 0.40464228, 0.8936858), tolerance = 1e-7)
  expect_equal(b$inverse(c(2, 3, 4)), c(2, 0, 0))
  # one element: the identity, log-det 0
  expect_identical(b$forward(matrix(3, 2, 1)), matrix(3, 2, 1))
  expect_identical(b$forward_log_det_jacobian(matrix(3, 2, 1), 1), c(0, 0))
})

test_that("forward and inverse match a loop reference", {
  set.seed(21)
  b <- tfb_ascending()
  for (k in 1:6) {
    x <- matrix(rnorm(5 * k), 5)
    y <- b$forward(x)
    expect_equal(y, ref_ascending_forward(x), tolerance = 1e-14)
    expect_equal(b$inverse(y), x, tolerance = 1e-10)
    if (k > 1) expect_true(all(y[, -1] > y[, -k]))
  }
  # batch dims beyond the first, and dimnames kept
  x <- array(rnorm(24), c(2, 3, 4), dimnames = list(NULL, letters[1:3], NULL))
  y <- b$forward(x)
  expect_identical(dimnames(y), dimnames(x))
  for (i in 1:2) for (j in 1:3) {
    expect_equal(y[i, j, ], ref_ascending_forward(x[i, j, ]),
                 tolerance = 1e-14)
  }
  expect_equal(b$forward_log_det_jacobian(x, 1),
               unname(apply(x, 1:2, function(v) sum(v[-1]))), tolerance = 1e-14)
  expect_equal(b$forward_log_det_jacobian(x, 2),
               apply(x, 1, function(v) sum(v[, -1])), tolerance = 1e-14)
  expect_equal(b$forward_log_det_jacobian(x, 3), sum(x[, , -1]),
               tolerance = 1e-14)
})

test_that("log-dets against numerical Jacobians, sizes 2 to 6", {
  set.seed(22)
  b <- tfb_ascending()
  for (k in 2:6) {
    x <- rnorm(k)
    numeric <- ref_log_abs_det(ref_jacobian(function(v) b$forward(v), x))
    expect_equal(b$forward_log_det_jacobian(x, 1), numeric, tolerance = 1e-7)
    y <- b$forward(x)
    numeric_inverse <- ref_log_abs_det(
      ref_jacobian(function(v) b$inverse(v), y, h = 1e-7))
    expect_equal(b$inverse_log_det_jacobian(y, 1), numeric_inverse,
                 tolerance = 1e-6)
    expect_equal(b$inverse_log_det_jacobian(y, 1),
                 -b$forward_log_det_jacobian(x, 1), tolerance = 1e-12)
  }
})

test_that("validate_args refuses inputs that are not increasing", {
  y <- rbind(c(1, 2, 3), c(1, 1, 2))
  expect_error(tfb_ascending(validate_args = TRUE)$inverse(y),
               "strictly increasing", class = "bijectors_error_domain")
  expect_error(
    tfb_ascending(validate_args = TRUE)$inverse_log_det_jacobian(y, 1),
    class = "bijectors_error_domain")
  # without it, TFP's arithmetic: log(0) and log of a negative step
  expect_identical(tfb_ascending()$inverse(y)[2, 2], -Inf)
  expect_silent(inverse <- tfb_ascending()$inverse(c(2, 1)))
  expect_true(is.nan(inverse[[2]]))
  expect_error(tfb_ascending(validate_args = 1),
               class = "bijectors_error_argument")
  expect_error(tfb_ascending(name = 1), class = "bijectors_error_argument")
  expect_error(tfb_ascending()$forward("a"), class = "bijectors_error_input")
  expect_error(tfb_ascending()$forward_log_det_jacobian(1:3, 0),
               class = "bijectors_error_event_ndims")
})

test_that("tfb_ordered() is the inverse of tfb_ascending(), deprecated", {
  bijectors:::reset_deprecations()
  expect_message(b <- tfb_ordered(), "tfb_invert\\(tfb_ascending\\(\\)\\)",
                 class = "bijectors_deprecated")
  expect_silent(tfb_ordered())
  x <- rbind(c(2, 3, 4), c(4, 8, 13))
  y <- rbind(c(2, 0, 0), c(4, log(4), log(5)))
  expect_equal(b$forward(x), y, tolerance = 1e-15)
  expect_equal(b$inverse(y), x, tolerance = 1e-15)
  expect_equal(b$inverse_log_det_jacobian(y, 1), rowSums(y[, -1]),
               tolerance = 1e-15)
  expect_equal(b$forward_log_det_jacobian(x, 1),
               -b$inverse_log_det_jacobian(y, 1), tolerance = 1e-15)
  inverted <- tfb_invert(tfb_ascending())
  set.seed(23)
  z <- ref_ascending_forward(matrix(rnorm(20), 4))
  expect_equal(b$forward(z), inverted$forward(z), tolerance = 1e-15)
  expect_equal(b$forward_log_det_jacobian(z, 1),
               inverted$forward_log_det_jacobian(z, 1), tolerance = 1e-15)
  expect_equal(b$forward(z), ref_ascending_inverse(z), tolerance = 1e-14)
  expect_error(tfb_ordered(validate_args = TRUE)$forward(c(3, 2, 1)),
               "Forward transformation input must be strictly increasing",
               class = "bijectors_error_domain")
  expect_error(
    tfb_ordered(validate_args = TRUE)$forward_log_det_jacobian(c(3, 2), 1),
    class = "bijectors_error_domain")
  expect_identical(b$name, "ordered")
})

test_that("an ordered vector in a chain and a transformed distribution", {
  loc <- c(0.3, -0.2, 0.1, 0)
  scale <- c(1, 0.7, 1.3, 0.9)
  chain <- tfb_chain(list(tfb_shift(1), tfb_ascending()))
  flow <- tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = loc, scale_diag = scale), chain)
  set.seed(24)
  y <- chain$forward(matrix(rnorm(20), 5))
  by_hand <- vapply(1:5, function(n) {
    v <- y[n, ] - 1
    x <- c(v[1], log(diff(v)))
    sum(dnorm(x, loc, scale, log = TRUE)) - sum(x[-1])
  }, numeric(1))
  expect_equal(flow$log_prob(y), by_hand, tolerance = 1e-12)
  draws <- flow$sample(6)
  expect_identical(dim(draws), c(6L, 4L))
  expect_true(all(draws[, -1] > draws[, -4]))
  expect_identical(dim(flow$sample(c(2, 3))), c(2L, 3L, 4L))
  # input gradients in both directions, and training
  lg <- loss_and_gradient(flow, y, input_gradient = TRUE)
  expect_equal(as.vector(lg$input), ref_loss_input_gradient(flow, y),
               tolerance = 1e-6)
  inverted <- tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = loc, scale_diag = scale),
    suppressMessages(tfb_ordered()))
  x <- matrix(rnorm(20), 5)
  lg <- loss_and_gradient(inverted, x, input_gradient = TRUE)
  expect_equal(as.vector(lg$input), ref_loss_input_gradient(inverted, x),
               tolerance = 1e-6)
  expect_silent(fit(flow, y, epochs = 2, batch_size = 5, verbose = FALSE))
})
