# tfb_cholesky_outer_product(): Cholesky factors to SPD matrices.

test_that("TFP's test values", {
  b <- tfb_cholesky_outer_product()
  x <- aperm(array(c(1, 2, 0, 1, sqrt(2), sqrt(8), 0, 1), c(2, 2, 2)),
             c(3, 1, 2))
  y <- b$forward(x)
  expect_equal(y[1, , ], rbind(c(1, 2), c(2, 5)), tolerance = 1e-14)
  expect_equal(y[2, , ], rbind(c(2, 4), c(4, 9)), tolerance = 1e-14)
  expect_equal(b$inverse_log_det_jacobian(y, 2), -log(c(4, 8)),
               tolerance = 1e-12)
  expect_equal(b$inverse_log_det_jacobian(y, 2),
               c(-1.386294361, -2.079441542), tolerance = 1e-9)
  expect_equal(b$forward_log_det_jacobian(x, 2), log(c(4, 8)),
               tolerance = 1e-12)
  expect_equal(b$forward_log_det_jacobian(diag(2), 2), log(4))
  expect_equal(b$inverse(y), x, tolerance = 1e-14)
  expect_equal(b$forward(rbind(c(3, 0), c(1, 2))), rbind(c(9, 3), c(3, 5)))
  expect_equal(b$inverse(rbind(c(1, 2), c(2, 5))), rbind(c(1, 0), c(2, 1)))
})

test_that("a plain-R reference and free-coordinate Jacobians, n = 1 to 6", {
  set.seed(1)
  b <- tfb_cholesky_outer_product()
  for (n in 1:6) {
    x <- array(0, c(3, n, n))
    for (k in 1:3) x[k, , ] <- random_factor(n)
    y <- b$forward(x)
    for (k in 1:3) {
      xk <- matrix(x[k, , ], n, n)
      expect_equal(matrix(y[k, , ], n, n), xk %*% t(xk), tolerance = 1e-13)
      expect_equal(b$forward_log_det_jacobian(xk, 2),
                   n * log(2) + sum((n:1) * log(diag(xk))), tolerance = 1e-13)
      if (n >= 2) {
        expect_equal(b$forward_log_det_jacobian(xk, 2),
                     free_log_det(b$forward, xk), tolerance = 1e-7)
      }
      # R's chol() gives the upper factor
      expect_equal(b$inverse(matrix(y[k, , ], n, n)),
                   t(chol(matrix(y[k, , ], n, n))), tolerance = 1e-12)
    }
    expect_equal(b$inverse(y), x, tolerance = 1e-12)
    expect_equal(b$inverse_log_det_jacobian(y, 2),
                 -b$forward_log_det_jacobian(x, 2), tolerance = 1e-12)
    expect_equal(b$forward_log_det_jacobian(x, 3),
                 sum(b$forward_log_det_jacobian(x, 2)), tolerance = 1e-12)
  }
})

test_that("the upper triangle of x and of y is not read", {
  b <- tfb_cholesky_outer_product()
  x <- rbind(c(1, 7), c(2, 1))
  expect_equal(b$forward(x), rbind(c(1, 2), c(2, 5)))
  expect_equal(b$forward_log_det_jacobian(x, 2), log(4))
  expect_equal(b$inverse(rbind(c(1, -9), c(2, 5))), rbind(c(1, 0), c(2, 1)))
})

test_that("validate_args, domain and argument errors", {
  b <- tfb_cholesky_outer_product(validate_args = TRUE)
  expect_error(b$forward(rbind(c(-1, 0), c(2, 1))), "positive definite",
               class = "bijectors_error_domain")
  expect_error(b$forward_log_det_jacobian(rbind(c(1, 0), c(2, 0)), 2),
               class = "bijectors_error_domain")
  # without validation, TFP's log gives NaN for a negative diagonal
  expect_true(is.nan(tfb_cholesky_outer_product()$forward_log_det_jacobian(
    rbind(c(-1, 0), c(2, 1)), 2)))
  expect_error(tfb_cholesky_outer_product()$inverse(rbind(c(1, 2), c(2, 1))),
               "not symmetric positive definite",
               class = "bijectors_error_domain")
  expect_error(b$forward(1:4), class = "bijectors_error_event_shape")
  expect_error(b$forward(matrix(1, 2, 3)), class = "bijectors_error_event_shape")
  expect_error(tfb_cholesky_outer_product(validate_args = "x"),
               class = "bijectors_error_argument")
  expect_error(tfb_cholesky_outer_product(name = NA_character_),
               class = "bijectors_error_argument")
})

test_that("gradients through flows on vectors, both directions", {
  set.seed(2)
  sandwich <- vector_sandwich(tfb_cholesky_outer_product())
  x <- matrix(rnorm(30, sd = 0.5), 5, 6)
  expect_flow_gradients(flow_on(sandwich, D = 6), sandwich$forward(x))
  expect_flow_gradients(flow_on(tfb_invert(sandwich), D = 6), x)
})

test_that("covariance matrices in a transformed distribution", {
  loc <- c(0.1, -0.2, 0.3)
  scale <- c(1, 0.7, 0.5)
  base <- tfd_multivariate_normal_diag(loc = loc, scale_diag = scale)
  b <- tfb_chain(list(tfb_cholesky_outer_product(),
                      tfb_fill_scale_tri_l(tfb_exp(), NULL)))
  d <- tfd_transformed_distribution(base, b)
  expect_identical(d$event_shape, c(2L, 2L))
  set.seed(3)
  s <- d$sample(5)
  expect_identical(dim(s), c(5L, 2L, 2L))
  by_hand <- vapply(events_of(s), function(y) {
    expect_equal(y, t(y), tolerance = 1e-14)
    L <- t(chol(y))
    z <- c(log(L[2, 2]), L[2, 1], log(L[1, 1]))
    sum(dnorm(z, loc, scale, log = TRUE)) - log(L[1, 1]) - log(L[2, 2]) -
      (2 * log(2) + 2 * log(L[1, 1]) + log(L[2, 2]))
  }, numeric(1))
  expect_equal(d$log_prob(s), by_hand, tolerance = 1e-12)
})
