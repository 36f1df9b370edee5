# tfb_cholesky_to_inv_cholesky(): chol(S) to chol(solve(S)).

ref_inv_cholesky <- function(x) t(chol(solve(x %*% t(x))))

test_that("TFP's test values", {
  b <- tfb_cholesky_to_inv_cholesky()
  x <- rbind(c(3, 0), c(2, 7))
  y <- b$forward(x)
  expect_equal(y, rbind(c(0.3466718995, 0), c(-0.03924587541, 0.1373605639)),
               tolerance = 1e-9)
  expect_equal(b$inverse(y), x, tolerance = 1e-13)
  xb <- aperm(array(c(3, 1, 0, 4, 2, 7, 0, 1), c(2, 2, 2)), c(3, 1, 2))
  yb <- b$forward(xb)
  expect_equal(yb[1, , ], b$forward(rbind(c(3, 0), c(1, 4))))
  expect_equal(yb[2, , ], b$forward(rbind(c(2, 0), c(7, 1))))
  expect_equal(b$forward_log_det_jacobian(matrix(2), 2), -1.386294361,
               tolerance = 1e-9)
  expect_equal(b$forward_log_det_jacobian(rbind(c(2, 0), c(3, 4)), 2),
               -7.154615357, tolerance = 1e-9)
  expect_equal(b$forward_log_det_jacobian(
    rbind(c(2, 0, 0), c(3, 4, 0), c(5, 6, 7)), 2), -19.23603628,
    tolerance = 1e-9)
  # tfprobability's test: Invert(COP) of the inverse of COP's output
  cop <- tfb_cholesky_outer_product()
  x <- rbind(c(1, 0), c(2, 1))
  expect_equal(b$forward(x), cop$inverse(solve(cop$forward(x))),
               tolerance = 1e-13)
})

test_that("a plain-R reference and free-coordinate Jacobians, n = 1 to 6", {
  set.seed(1)
  b <- tfb_cholesky_to_inv_cholesky()
  for (n in 1:6) {
    x <- array(0, c(3, n, n))
    for (k in 1:3) x[k, , ] <- random_factor(n)
    y <- b$forward(x)
    for (k in 1:3) {
      xk <- matrix(x[k, , ], n, n)
      yk <- ref_inv_cholesky(xk)
      expect_equal(matrix(y[k, , ], n, n), yk, tolerance = 1e-11)
      expect_equal(b$forward_log_det_jacobian(xk, 2),
                   sum(seq_len(n) * (log(diag(yk)) - log(diag(xk)))),
                   tolerance = 1e-12)
      if (n >= 2) {
        expect_equal(b$forward_log_det_jacobian(xk, 2),
                     free_log_det(b$forward, xk), tolerance = 1e-7)
      }
    }
    expect_equal(b$inverse(y), x, tolerance = 1e-11)
    expect_equal(b$inverse_log_det_jacobian(y, 2),
                 -b$forward_log_det_jacobian(x, 2), tolerance = 1e-12)
  }
})

test_that("validate_args and errors", {
  b <- tfb_cholesky_to_inv_cholesky(validate_args = TRUE)
  expect_error(b$forward(rbind(c(1, 1), c(2, 1))), "lower triangular",
               class = "bijectors_error_domain")
  expect_error(b$inverse(rbind(c(1, 0), c(2, -1))), "positive diagonal",
               class = "bijectors_error_domain")
  expect_error(b$forward(array(1, c(2, 3))), class = "bijectors_error_event_shape")
  expect_error(b$forward("a"), class = "bijectors_error_input")
  expect_error(tfb_cholesky_to_inv_cholesky(name = 3),
               class = "bijectors_error_argument")
})

test_that("gradients through flows on vectors, both directions", {
  set.seed(2)
  sandwich <- vector_sandwich(tfb_cholesky_to_inv_cholesky())
  x <- matrix(rnorm(30, sd = 0.5), 5, 6)
  expect_flow_gradients(flow_on(sandwich, D = 6), sandwich$forward(x))
  expect_flow_gradients(flow_on(tfb_invert(sandwich), D = 6), x)
})

test_that("precision factors in a transformed distribution", {
  b <- tfb_chain(list(tfb_cholesky_to_inv_cholesky(),
                      tfb_fill_scale_tri_l(tfb_exp(), NULL)))
  base <- tfd_multivariate_normal_diag(loc = c(0.2, 0, -0.1),
                                       scale_diag = c(0.5, 1, 0.8))
  d <- tfd_transformed_distribution(base, b)
  set.seed(3)
  s <- d$sample(4)
  expect_identical(dim(s), c(4L, 2L, 2L))
  by_hand <- vapply(events_of(s), function(y) {
    L <- ref_inv_cholesky(y)
    z <- c(log(L[2, 2]), L[2, 1], log(L[1, 1]))
    ildj <- sum(1:2 * (log(diag(L)) - log(diag(y))))
    sum(dnorm(z, c(0.2, 0, -0.1), c(0.5, 1, 0.8), log = TRUE)) -
      log(L[1, 1]) - log(L[2, 2]) + ildj
  }, numeric(1))
  expect_equal(d$log_prob(s), by_hand, tolerance = 1e-12)
})
