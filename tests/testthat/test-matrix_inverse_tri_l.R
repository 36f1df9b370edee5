# tfb_matrix_inverse_tri_l(): lower-triangular matrices to their inverses.

test_that("TFP's test values", {
  b <- tfb_matrix_inverse_tri_l()
  x <- rbind(c(0.7, 0, 0), c(0.1, -1, 0), c(0.3, 0.25, 0.5))
  expect_equal(b$forward(x), solve(x), tolerance = 1e-14)
  expect_equal(b$forward(x), rbind(c(1.428571429, 0, 0),
                                   c(0.1428571429, -1, 0),
                                   c(-0.9285714286, 0.5, 2)), tolerance = 1e-9)
  expect_equal(b$inverse(solve(x)), x, tolerance = 1e-14)
  expect_equal(b$forward_log_det_jacobian(x, 2), -4 * log(0.35))
  expect_equal(b$forward_log_det_jacobian(x, 2), 4.199288498, tolerance = 1e-9)
  expect_equal(b$forward(matrix(5)), matrix(0.2))
  expect_identical(dim(b$forward(matrix(0, 0, 0))), c(0L, 0L))
  xb <- array(0, c(2, 1, 2, 2))
  xb[1, 1, , ] <- rbind(c(1, 0), c(2, 3))
  xb[2, 1, , ] <- rbind(c(4, 0), c(5, -6))
  yb <- b$forward(xb)
  expect_identical(dim(yb), c(2L, 1L, 2L, 2L))
  expect_equal(yb[1, 1, , ], rbind(c(1, 0), c(-2 / 3, 1 / 3)))
  expect_equal(yb[2, 1, , ], rbind(c(0.25, 0), c(0.2083333333, -1 / 6)),
               tolerance = 1e-9)
  expect_equal(b$forward(rbind(c(1, 0), c(2, 1))), rbind(c(1, 0), c(-2, 1)))
})

test_that("a plain-R reference and free-coordinate Jacobians, n = 1 to 6", {
  set.seed(1)
  b <- tfb_matrix_inverse_tri_l()
  for (n in 1:6) {
    x <- array(0, c(3, n, n))
    for (k in 1:3) x[k, , ] <- random_factor(n) * sample(c(-1, 1), n, TRUE)
    y <- b$forward(x)
    for (k in 1:3) {
      xk <- matrix(x[k, , ], n, n)
      expect_equal(matrix(y[k, , ], n, n), solve(xk), tolerance = 1e-12)
      expect_equal(b$forward_log_det_jacobian(xk, 2),
                   -(n + 1) * sum(log(abs(diag(xk)))), tolerance = 1e-13)
      if (n >= 2) {
        expect_equal(b$forward_log_det_jacobian(xk, 2),
                     free_log_det(b$forward, xk), tolerance = 1e-7)
      }
    }
    expect_equal(b$inverse(y), x, tolerance = 1e-12)
    expect_equal(b$inverse_log_det_jacobian(y, 2),
                 -b$forward_log_det_jacobian(x, 2), tolerance = 1e-12)
  }
})

test_that("validate_args and errors", {
  b <- tfb_matrix_inverse_tri_l(validate_args = TRUE)
  expect_error(b$forward(rbind(c(1, 1), c(2, 1))), "lower triangular",
               class = "bijectors_error_domain")
  expect_error(b$inverse(rbind(c(1, 0), c(2, 0))), "nonzero",
               class = "bijectors_error_domain")
  expect_error(b$forward_log_det_jacobian(rbind(c(0, 0), c(2, 1)), 2),
               class = "bijectors_error_domain")
  # without validation only the lower triangle is read
  expect_equal(tfb_matrix_inverse_tri_l()$forward(rbind(c(1, 9), c(2, 1))),
               rbind(c(1, 0), c(-2, 1)))
  expect_error(b$forward(1:4), class = "bijectors_error_event_shape")
  expect_error(tfb_matrix_inverse_tri_l(validate_args = 2),
               class = "bijectors_error_argument")
})

test_that("gradients through flows on vectors, both directions", {
  set.seed(2)
  sandwich <- vector_sandwich(tfb_matrix_inverse_tri_l())
  x <- matrix(rnorm(30, sd = 0.5), 5, 6)
  expect_flow_gradients(flow_on(sandwich, D = 6), sandwich$forward(x))
  expect_flow_gradients(flow_on(tfb_invert(sandwich), D = 6), x)
})

test_that("in a chain and a transformed distribution", {
  b <- tfb_chain(list(tfb_matrix_inverse_tri_l(),
                      tfb_fill_scale_tri_l(tfb_exp(), NULL)))
  base <- tfd_multivariate_normal_diag(loc = c(0, 0.5, -0.5),
                                       scale_diag = c(1, 1, 1))
  d <- tfd_transformed_distribution(base, b)
  set.seed(3)
  s <- d$sample(4)
  expect_identical(dim(s), c(4L, 2L, 2L))
  by_hand <- vapply(events_of(s), function(y) {
    L <- solve(y)
    z <- c(log(L[2, 2]), L[2, 1], log(L[1, 1]))
    sum(dnorm(z, c(0, 0.5, -0.5), log = TRUE)) - log(L[1, 1]) -
      log(L[2, 2]) + 3 * sum(log(diag(L)))
  }, numeric(1))
  expect_equal(d$log_prob(s), by_hand, tolerance = 1e-12)
})
