# tfb_iterated_sigmoid_centered(): TFP's values, a loop reference, log-dets
# through the free coordinates, accuracy of a nearly used-up stick,
# gradients, and use in transformed distributions.

test_that("TFP's values", {
  b <- tfb_iterated_sigmoid_centered()
  x <- rbind(c(0, 0, 0), -log(c(1 / 3, 1 / 2, 1)))
  y <- rbind(rep(0.25, 4), c(0.5, 0.25, 0.125, 0.125))
  expect_equal(b$forward(x), y, tolerance = 1e-15)
  expect_equal(b$inverse(y), x, tolerance = 1e-14)
  expect_equal(b$inverse_log_det_jacobian(y, 1),
               c(5.545177444, 6.238324625), tolerance = 1e-9)
  expect_equal(b$inverse_log_det_jacobian(y, 1), c(4 * log(4), 9 * log(2)),
               tolerance = 1e-15)
  expect_equal(b$forward_log_det_jacobian(x, 1),
               -b$inverse_log_det_jacobian(y, 1), tolerance = 1e-15)
  expect_identical(b$name, "iterated_sigmoid")
  expect_identical(b$forward_event_shape(c(2, 3)), c(2L, 4L))
  expect_identical(b$inverse_event_shape(4), 3L)
  expect_error(b$inverse_event_shape(0), class = "bijectors_error_event_shape")
  expect_identical(b$forward(numeric(0)), 1)
})

test_that("forward and inverse match a loop reference, sizes 2 to 6", {
  set.seed(61)
  b <- tfb_iterated_sigmoid_centered()
  for (k in 2:6) {
    x <- matrix(rnorm(4 * (k - 1), sd = 2), 4)
    y <- b$forward(x)
    for (n in 1:4) {
      expect_equal(y[n, ], ref_stick_breaking(x[n, ]), tolerance = 1e-14)
      expect_equal(b$inverse(y[n, ]), ref_stick_breaking_inverse(y[n, ]),
                   tolerance = 1e-10)
    }
    expect_equal(b$inverse(y), x, tolerance = 1e-12)
  }
  # a stick nearly used up keeps its relative accuracy (1 - sum would not)
  y <- b$forward(c(40, 40))
  expect_equal(y[[3]], prod(plogis(-c(40 - log(2), 40))), tolerance = 1e-12)
  expect_gt(y[[3]], 0)
  expect_equal(b$inverse(y), c(40, 40), tolerance = 1e-12)
})

test_that("log-dets through the free coordinates, sizes 2 to 6", {
  set.seed(62)
  b <- tfb_iterated_sigmoid_centered()
  for (k in 2:6) {
    x <- rnorm(k - 1, sd = 2)
    jacobian <- ref_jacobian(function(v) b$forward(v), x)
    expect_equal(b$forward_log_det_jacobian(x, 1),
                 ref_log_abs_det(jacobian[-k, , drop = FALSE]),
                 tolerance = 1e-7)
    expect_equal(b$inverse_log_det_jacobian(b$forward(x), 1),
                 -b$forward_log_det_jacobian(x, 1), tolerance = 1e-12)
  }
  # TFP's test: 60 * rand(10) - 30 as 5 x 2, where differences fail in the
  # tails: the Jacobian by hand, dy_j/dx_k = y_j (1 - z_k) for j = k and
  # -y_j z_k for j > k
  x <- matrix(60 * runif(10) - 30, 5)
  analytic <- vapply(1:5, function(n) {
    z <- plogis(x[n, ] - log(2:1))
    y <- ref_stick_breaking(x[n, ])
    jacobian <- matrix(0, 3, 2)
    for (j in 1:3) for (k in 1:2) {
      jacobian[j, k] <- if (j == k) y[j] * plogis(-(x[n, k] - log(3 - k))) else
        if (j > k) -y[j] * z[k] else 0
    }
    ref_log_abs_det(jacobian[-3, ])
  }, numeric(1))
  expect_equal(b$forward_log_det_jacobian(x, 1), analytic, tolerance = 1e-10)
  expect_equal(b$forward_log_det_jacobian(array(x, c(5, 1, 2)), 2),
               b$forward_log_det_jacobian(x, 1), tolerance = 1e-15)
})

test_that("a stick-breaking simplex in a transformed distribution, with gradients", {
  b <- tfb_iterated_sigmoid_centered()
  flow <- tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = c(0.2, -0.4, 0.1),
                                 scale_diag = c(1, 1.5, 0.6)), b)
  set.seed(63)
  y <- b$forward(matrix(rnorm(15), 5))
  by_hand <- vapply(1:5, function(n) {
    x <- ref_stick_breaking_inverse(y[n, ])
    sum(dnorm(x, c(0.2, -0.4, 0.1), c(1, 1.5, 0.6), log = TRUE)) -
      sum(log(y[n, ]))
  }, numeric(1))
  expect_equal(flow$log_prob(y), by_hand, tolerance = 1e-12)
  expect_identical(dim(flow$sample(c(2, 3))), c(2L, 3L, 4L))
  expect_equal(rowSums(flow$sample(5)), rep(1, 5), tolerance = 1e-15)
  lg <- loss_and_gradient(flow, y, input_gradient = TRUE)
  expect_equal(as.vector(lg$input), ref_loss_input_gradient(flow, y, h = 1e-7),
               tolerance = 1e-6)
  chain <- tfb_chain(list(b, tfb_shift(c(0.5, 0, -1))))
  flow <- tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = c(0, 0, 0)), chain)
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
