# tfb_correlation_cholesky(): vectors to Cholesky factors of correlation
# matrices.

# Plain-R reference: the (n - 1) x (n - 1) fill of TFP's order below the
# diagonal, written with loops, then rows of unit length.
ref_correlation_cholesky <- function(x) {
  m <- length(x)
  n <- (1 + sqrt(8 * m + 1)) / 2
  L <- diag(n)
  k <- n - 1
  for (i in seq_len(k)) for (j in seq_len(i)) {
    # the lower (k x k) fill is the upper one rotated by 180 degrees
    p <- (k - i) * k + (k - j)
    L[i + 1, j] <- if (p < m) x[p + 1] else x[k * (k + 1) - p]
  }
  L / sqrt(rowSums(L^2))
}

test_that("TFP's test values", {
  b <- tfb_correlation_cholesky()
  x <- rbind(c(7, -5, 5, 1, 2, -2), c(1, 3, -5, 1, -4, 8))
  y <- b$forward(x)
  expect_equal(y[1, , ], rbind(c(1, 0, 0, 0), c(0.707107, 0.707107, 0, 0),
                               c(-0.666667, 0.666667, 0.333333, 0),
                               c(0.5, -0.5, 0.7, 0.1)), tolerance = 1e-5)
  expect_equal(y[2, , ], rbind(c(1, 0, 0, 0), c(0.707107, 0.707107, 0, 0),
                               c(0.888889, -0.444444, 0.111111, 0),
                               c(-0.833333, 0.5, 0.166667, 0.166667)),
               tolerance = 1e-5)
  expect_equal(b$forward_log_det_jacobian(x, 1),
               c(-16.94709539, -18.78741643), tolerance = 1e-9)
  expect_equal(b$forward_log_det_jacobian(x[1, ], 1),
               -0.5 * sum(c(3, 4, 5) * log(c(2, 9, 100))))
  expect_equal(b$inverse_log_det_jacobian(y, 2), c(16.94709539, 18.78741643),
               tolerance = 1e-9)
  expect_equal(b$inverse(y), x, tolerance = 1e-12)
  expect_equal(b$forward(1), rbind(c(1, 0), c(sqrt(0.5), sqrt(0.5))))
  expect_equal(b$forward_log_det_jacobian(1, 1), -1.039720771,
               tolerance = 1e-9)
  expect_equal(b$forward(numeric(0)), matrix(1, 1, 1))
  expect_equal(b$forward(c(2, 2, 1)),
               rbind(c(1, 0, 0), c(0.70710678, 0.70710678, 0),
                     c(0.66666667, 0.66666667, 0.33333333)), tolerance = 1e-8)
  expect_equal(b$inverse(b$forward(c(2, 2, 1))), c(2, 2, 1))
  expect_identical(b$forward_event_shape(c(5, 4, 6)), c(5L, 4L, 4L, 4L))
  expect_identical(b$inverse_event_shape(c(5, 4, 4, 4)), c(5L, 4L, 6L))
  expect_identical(dim(b$forward(array(0, c(5, 4, 6)))), c(5L, 4L, 4L, 4L))
})

test_that("a plain-R reference and free-coordinate Jacobians, n = 2 to 6", {
  set.seed(1)
  b <- tfb_correlation_cholesky()
  for (n in 2:6) {
    m <- n * (n - 1) / 2
    x <- matrix(rnorm(3 * m, sd = 1.5), 3, m)
    y <- b$forward(x)
    strict <- which(lower.tri(diag(n)))
    for (k in 1:3) {
      L <- ref_correlation_cholesky(x[k, ])
      expect_equal(matrix(y[k, , ], n, n), L, tolerance = 1e-13)
      expect_equal(rowSums(L^2), rep(1, n))
      expect_equal(b$forward_log_det_jacobian(x[k, ], 1),
                   sum((seq_len(n) + 1) * log(diag(L))), tolerance = 1e-12)
      jacobian <- sapply(seq_len(m), function(p) {
        e <- replace(numeric(m), p, 1e-6)
        (b$forward(x[k, ] + e)[strict] - b$forward(x[k, ] - e)[strict]) / 2e-6
      })
      expect_equal(b$forward_log_det_jacobian(x[k, ], 1),
                   as.numeric(determinant(matrix(jacobian, m))$modulus),
                   tolerance = 1e-7)
    }
    expect_equal(b$inverse(y), x, tolerance = 1e-12)
    expect_equal(b$inverse_log_det_jacobian(y, 2),
                 -b$forward_log_det_jacobian(x, 1), tolerance = 1e-12)
  }
})

test_that("errors", {
  b <- tfb_correlation_cholesky()
  expect_error(b$forward(1:4), "n \\* \\(n - 1\\) / 2",
               class = "bijectors_error_event_shape")
  expect_error(b$forward_event_shape(5), class = "bijectors_error_event_shape")
  expect_error(b$inverse(matrix(1, 2, 3)), class = "bijectors_error_event_shape")
  expect_error(b$inverse_event_shape(c(2, 3)),
               class = "bijectors_error_event_shape")
  expect_error(tfb_correlation_cholesky(validate_args = NULL),
               class = "bijectors_error_argument")
  expect_error(tfb_correlation_cholesky(name = c("a", "b")),
               class = "bijectors_error_argument")
})

# sum(G * output) + g * log_det, the scalar whose gradient the backward
# passes return.
test_that("backward passes against central differences", {
  set.seed(2)
  b <- tfb_correlation_cholesky()
  n <- 4
  x <- matrix(rnorm(12), 2, 6)
  grad_y <- array(rnorm(32), c(2, n, n))
  g <- c(0.7, -1.3)
  objective <- function(v) {
    v <- matrix(v, 2, 6)
    sum(grad_y * b$forward(v)) + sum(g * b$forward_log_det_jacobian(v, 1))
  }
  numerical <- sapply(seq_along(x), function(k) {
    e <- replace(numeric(length(x)), k, 1e-6)
    (objective(x + e) - objective(x - e)) / 2e-6
  })
  pass <- bijectors:::bijector_forward_with_cache(b, x, 1L)
  back <- bijectors:::bijector_forward_backward(b, pass$cache, grad_y, g)
  expect_equal(as.vector(back$input), numerical, tolerance = 1e-7)
  y <- b$forward(x)
  grad_x <- matrix(rnorm(12), 2, 6)
  objective <- function(v) {
    v <- array(v, dim(y))
    sum(grad_x * b$inverse(v)) + sum(g * b$inverse_log_det_jacobian(v, 2))
  }
  numerical <- sapply(seq_along(y), function(k) {
    e <- replace(numeric(length(y)), k, 1e-6)
    (objective(y + e) - objective(y - e)) / 2e-6
  })
  pass <- bijectors:::bijector_inverse_with_cache(b, y, 2L)
  back <- bijectors:::bijector_inverse_backward(b, pass$cache, grad_x, g)
  expect_equal(as.vector(back$input), numerical, tolerance = 1e-7)
})

test_that("gradients through flows on vectors, both directions", {
  set.seed(3)
  sandwich <- tfb_chain(list(tfb_shift(c(0.1, -0.2, 0.3)),
                             tfb_invert(tfb_correlation_cholesky()),
                             tfb_correlation_cholesky(),
                             tfb_scale(c(1.5, 0.5, 2))))
  x <- matrix(rnorm(15), 5, 3)
  expect_flow_gradients(flow_on(sandwich, D = 3), sandwich$forward(x))
  expect_flow_gradients(flow_on(tfb_invert(sandwich), D = 3), x)
})

test_that("correlation Cholesky factors in a transformed distribution", {
  loc <- c(0.1, -0.2, 0.3)
  scale <- c(1, 0.7, 0.5)
  base <- tfd_multivariate_normal_diag(loc = loc, scale_diag = scale)
  d <- tfd_transformed_distribution(base, tfb_correlation_cholesky())
  expect_identical(d$event_shape, c(3L, 3L))
  set.seed(4)
  s <- d$sample(5)
  expect_identical(dim(s), c(5L, 3L, 3L))
  by_hand <- vapply(seq_len(5), function(k) {
    L <- s[k, , ]
    expect_equal(rowSums(L^2), rep(1, 3))
    expect_true(all(diag(L) > 0))
    expect_true(all(L[upper.tri(L)] == 0))
    v <- L / diag(L)
    z <- c(v[3, 2], v[3, 1], v[2, 1])
    sum(dnorm(z, loc, scale, log = TRUE)) - sum(2:4 * log(diag(L)))
  }, numeric(1))
  expect_equal(d$log_prob(s), by_hand, tolerance = 1e-12)
})
