# tfb_softmax_centered(): TFP's values and log-det (with 0.5 * log(K)), a
# loop reference, numerical volumes, validate_args, gradients, and use in
# chains and transformed distributions.

test_that("TFP's and tfprobability's values", {
  b <- tfb_softmax_centered()
  x <- log(rbind(c(2, 3, 4), c(4, 8, 12)))
  y <- rbind(c(0.2, 0.3, 0.4, 0.1), c(0.16, 0.32, 0.48, 0.04))
  expect_equal(b$forward(x), y, tolerance = 1e-14)
  expect_equal(b$inverse(y), x, tolerance = 1e-14)
  expect_equal(b$inverse_log_det_jacobian(y, 1),
               c(5.339139361, 6.231713566), tolerance = 1e-9)
  expect_equal(b$inverse_log_det_jacobian(y, 1),
               -rowSums(log(y)) - 0.5 * log(4), tolerance = 1e-14)
  expect_equal(b$forward_log_det_jacobian(x, 1),
               -b$inverse_log_det_jacobian(y, 1), tolerance = 1e-14)
  expect_equal(b$forward(log(c(2, 3, 4))), c(0.2, 0.3, 0.4, 0.1),
               tolerance = 1e-15)
  expect_identical(b$forward_event_shape(4), 5L)
  expect_identical(b$forward_event_shape(c(2, 4)), c(2L, 5L))
  expect_identical(b$inverse_event_shape(5), 4L)
  expect_identical(b$inverse_event_shape(c(2, 5)), c(2L, 4L))
  expect_identical(dim(b$forward(array(0, c(2, 3, 4)))), c(2L, 3L, 5L))
  # K = 1: the empty vector maps to 1
  expect_identical(b$forward(matrix(0, 2, 0)), matrix(1, 2, 1))
  expect_identical(b$inverse(matrix(1, 2, 1)), matrix(0, 2, 0))
  expect_identical(b$forward_log_det_jacobian(matrix(0, 2, 0), 1), c(0, 0))
  # huge inputs do not overflow
  expect_equal(b$forward(c(800, 0)), c(1, 0, 0))
  expect_equal(b$forward_log_det_jacobian(c(800, 0), 1),
               0.5 * log(3) - 1600, tolerance = 1e-14)
})

test_that("forward and inverse match a loop reference, sizes 2 to 6", {
  set.seed(51)
  b <- tfb_softmax_centered()
  for (k in 2:6) {
    x <- matrix(rnorm(4 * (k - 1), sd = 2), 4)
    y <- b$forward(x)
    for (n in 1:4) {
      expect_equal(y[n, ], ref_softmax_centered(x[n, ]), tolerance = 1e-14)
    }
    expect_equal(b$inverse(y), x, tolerance = 1e-12)
    expect_equal(rowSums(y), rep(1, 4), tolerance = 1e-15)
  }
})

test_that("the log-det is the embedding volume, sizes 2 to 6", {
  set.seed(52)
  b <- tfb_softmax_centered()
  for (k in 2:6) {
    x <- rnorm(k - 1)
    jacobian <- ref_jacobian(function(v) b$forward(v), x)
    volume <- 0.5 * ref_log_abs_det(crossprod(jacobian))
    free <- ref_log_abs_det(jacobian[-k, , drop = FALSE])
    expect_equal(b$forward_log_det_jacobian(x, 1), volume, tolerance = 1e-7)
    expect_equal(volume - free, 0.5 * log(k), tolerance = 1e-7)
    expect_equal(b$inverse_log_det_jacobian(b$forward(x), 1),
                 -b$forward_log_det_jacobian(x, 1), tolerance = 1e-12)
  }
  # TFP's test: linspace(-15, 15, 10) as 5 x 2, float64, 1e-5
  x <- matrix(seq(-15, 15, length.out = 10), 5, byrow = TRUE)
  volumes <- vapply(1:5, function(n) {
    jacobian <- ref_jacobian(function(v) b$forward(v), x[n, ])
    0.5 * ref_log_abs_det(crossprod(jacobian))
  }, numeric(1))
  expect_equal(b$forward_log_det_jacobian(x, 1), volumes, tolerance = 1e-5)
})

test_that("validate_args: TFP's three invalid inputs; argument errors", {
  b <- tfb_softmax_centered(validate_args = TRUE)
  expect_error(b$inverse(c(0.03, 0.7, 0.4)), "sum to",
               class = "bijectors_error_domain")
  expect_error(b$inverse(c(0.06, 0.4, 1.02)), "less than or equal",
               class = "bijectors_error_domain")
  expect_error(b$inverse(c(0.4, 0.5, 0.3, -0.2)), "non-negative",
               class = "bijectors_error_domain")
  expect_error(b$inverse_log_det_jacobian(c(0.03, 0.7, 0.4), 1),
               class = "bijectors_error_domain")
  expect_equal(b$inverse(c(0.2, 0.3, 0.4, 0.1)), log(c(2, 3, 4)),
               tolerance = 1e-14)
  # without validation, TFP's arithmetic: NaN off the simplex
  expect_true(is.nan(suppressWarnings(
    tfb_softmax_centered()$inverse(c(0.4, 0.5, 0.3, -0.2))[1])))
  expect_error(tfb_softmax_centered(validate_args = "yes"),
               class = "bijectors_error_argument")
  expect_error(tfb_softmax_centered()$inverse(numeric(0)),
               class = "bijectors_error_event_shape")
  expect_error(tfb_softmax_centered()$inverse_event_shape(0),
               class = "bijectors_error_event_shape")
  expect_error(tfb_softmax_centered()$forward("a"),
               class = "bijectors_error_input")
})

test_that("a simplex in a transformed distribution and a chain, with gradients", {
  loc <- c(0.3, -0.2, 0.5)
  scale <- c(1, 0.7, 1.3)
  b <- tfb_softmax_centered()
  flow <- tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = loc, scale_diag = scale), b)
  expect_identical(flow$event_shape, 4L)
  set.seed(53)
  y <- b$forward(matrix(rnorm(15), 5))
  by_hand <- vapply(1:5, function(n) {
    x <- log(y[n, 1:3]) - log(y[n, 4])
    sum(dnorm(x, loc, scale, log = TRUE)) - 0.5 * log(4) - sum(log(y[n, ]))
  }, numeric(1))
  expect_equal(flow$log_prob(y), by_hand, tolerance = 1e-12)
  draws <- flow$sample(6)
  expect_identical(dim(draws), c(6L, 4L))
  expect_equal(rowSums(draws), rep(1, 6), tolerance = 1e-15)
  expect_true(all(draws > 0))
  expect_identical(dim(flow$sample(c(2, 3))), c(2L, 3L, 4L))
  lg <- loss_and_gradient(flow, y, input_gradient = TRUE)
  expect_equal(as.vector(lg$input), ref_loss_input_gradient(flow, y, h = 1e-7),
               tolerance = 1e-6)
  # a chain that scales before the map
  chain <- tfb_chain(list(b, tfb_scale(c(2, 0.5, 1))))
  flow <- tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = loc, scale_diag = scale), chain)
  lg <- loss_and_gradient(flow, y, input_gradient = TRUE)
  expect_equal(as.vector(lg$input), ref_loss_input_gradient(flow, y, h = 1e-7),
               tolerance = 1e-6)
  expect_silent(fit(flow, y, epochs = 2, batch_size = 5, verbose = FALSE))
  # the forward map's VJP against a numerical Jacobian
  x <- matrix(rnorm(6), 2)
  pass <- bijectors:::bijector_forward_with_cache(b, x, 1)
  g <- matrix(rnorm(8), 2)
  vjp <- bijectors:::bijector_forward_backward(b, pass$cache, g, c(0.7, -0.3))
  for (n in 1:2) {
    jacobian <- ref_jacobian(function(v) b$forward(v), x[n, ])
    ldj_gradient <- ref_jacobian(function(v) b$forward_log_det_jacobian(v, 1),
                                 x[n, ])
    expect_equal(vjp$input[n, ],
                 as.vector(crossprod(jacobian, g[n, ])) +
                   c(0.7, -0.3)[n] * as.vector(ldj_gradient),
                 tolerance = 1e-7)
  }
})
