# tfb_fill_triangular(): TFP's fill order, shapes, log-dets and its use in
# chains and transformed distributions.

# TFP's fill order, written independently: the "clockwise spiral" as a
# row-major reshape of x and its reversed tail (upper), lower as the
# rotation by 180 degrees.
ref_fill_triangular <- function(x, upper = FALSE) {
  m <- length(x)
  n <- (sqrt(8 * m + 1) - 1) / 2
  tail_x <- x[n + seq_len(m - n)]
  values <- if (upper) c(x, rev(tail_x)) else c(tail_x, rev(x))
  full <- matrix(values, n, n, byrow = TRUE)
  out <- matrix(0, n, n)
  for (i in seq_len(n)) for (j in seq_len(n)) {
    if ((upper && j >= i) || (!upper && j <= i)) out[i, j] <- full[i, j]
  }
  out
}

test_that("TFP's fill tables and docstring values", {
  b <- tfb_fill_triangular()
  expect_identical(b$forward(c(1, 2, 3)), rbind(c(3, 0), c(2, 1)))
  expect_identical(b$inverse(rbind(c(3, 0), c(2, 1))), c(1, 2, 3))
  expect_identical(b$forward(1:6), rbind(c(4, 0, 0), c(6, 5, 0), c(3, 2, 1)))
  up <- tfb_fill_triangular(upper = TRUE)
  expect_identical(up$forward(1:6), rbind(c(1, 2, 3), c(0, 5, 6), c(0, 0, 4)))
  expect_identical(b$forward(1:10), rbind(c(5, 0, 0, 0), c(9, 10, 0, 0),
                                          c(8, 7, 6, 0), c(4, 3, 2, 1)))
  expect_identical(up$forward(1:10), rbind(c(1, 2, 3, 4), c(0, 6, 7, 8),
                                           c(0, 0, 10, 9), c(0, 0, 0, 5)))
  expect_identical(b$forward(1:15), rbind(
    c(6, 0, 0, 0, 0), c(11, 12, 0, 0, 0), c(15, 14, 13, 0, 0),
    c(10, 9, 8, 7, 0), c(5, 4, 3, 2, 1)))
  expect_identical(up$forward(1:15), rbind(
    c(1, 2, 3, 4, 5), c(0, 7, 8, 9, 10), c(0, 0, 13, 14, 15),
    c(0, 0, 0, 12, 11), c(0, 0, 0, 0, 6)))
  expect_identical(b$forward(7), matrix(7, 1, 1))
  expect_equal(b$forward_log_det_jacobian(c(1, 2, 3), event_ndims = 1), 0)
  expect_equal(b$inverse_log_det_jacobian(rbind(c(3, 0), c(2, 1)), 2), 0)
})

test_that("forward and inverse match a plain-R reference, n = 1 to 7", {
  set.seed(3)
  for (upper in c(FALSE, TRUE)) {
    b <- tfb_fill_triangular(upper = upper)
    for (n in 1:7) {
      m <- n * (n + 1) / 2
      x <- matrix(rnorm(4 * m), 4, m)
      y <- b$forward(x)
      expect_identical(dim(y), c(4L, n, n))
      for (k in 1:4) {
        expect_identical(matrix(y[k, , ], n, n), ref_fill_triangular(x[k, ], upper))
      }
      expect_identical(b$inverse(y), x)
      # a batch of batches
      xx <- array(rnorm(6 * m), c(2, 3, m))
      expect_identical(b$inverse(b$forward(xx)), xx)
      expect_identical(matrix(b$forward(xx)[2, 3, , ], n, n),
                       ref_fill_triangular(xx[2, 3, ], upper))
    }
  }
})

test_that("the inverse reads only the triangle", {
  b <- tfb_fill_triangular()
  y <- b$forward(1:6)
  y[1, 3] <- 100
  expect_identical(b$inverse(y), as.double(1:6))
})

test_that("shapes, min event ndims and shape errors", {
  b <- tfb_fill_triangular()
  expect_identical(b$forward_min_event_ndims, 1L)
  expect_identical(b$inverse_min_event_ndims, 2L)
  expect_identical(b$forward_event_shape(6), c(3L, 3L))
  expect_identical(b$forward_event_shape(c(5, 4, 6)), c(5L, 4L, 3L, 3L))
  expect_identical(b$inverse_event_shape(c(5, 4, 3, 3)), c(5L, 4L, 6L))
  x <- array(rnorm(120), c(5, 4, 6))
  expect_identical(dim(b$forward(x)), c(5L, 4L, 3L, 3L))
  expect_error(b$forward_event_shape(7), "not a triangular number",
               class = "bijectors_error_event_shape")
  expect_error(b$forward(array(0, c(5, 4, 7))), "not a triangular number",
               class = "bijectors_error_event_shape")
  expect_error(b$inverse(array(0, c(5, 4, 3, 2))), "square",
               class = "bijectors_error_event_shape")
  expect_error(b$inverse_event_shape(c(3, 2)), "square",
               class = "bijectors_error_event_shape")
  expect_error(b$inverse(1:3), class = "bijectors_error_event_shape")
  expect_error(b$forward_log_det_jacobian(1:7, 1),
               class = "bijectors_error_event_shape")
  for (e in 1:3) {
    expect_identical(b$forward_log_det_jacobian(x, e), 0)
  }
  expect_error(b$inverse_log_det_jacobian(b$forward(x), 1),
               class = "bijectors_error_event_ndims")
  expect_error(tfb_fill_triangular(upper = "yes"),
               class = "bijectors_error_argument")
  expect_error(tfb_fill_triangular(validate_args = NA),
               class = "bijectors_error_argument")
  expect_error(tfb_fill_triangular(name = 1),
               class = "bijectors_error_argument")
})

test_that("log-dets through the free coordinates, n = 2 to 6", {
  set.seed(4)
  for (upper in c(FALSE, TRUE)) {
    b <- tfb_fill_triangular(upper = upper)
    for (n in 2:6) {
      m <- n * (n + 1) / 2
      x <- rnorm(m)
      tri <- which(if (upper) upper.tri(diag(n), diag = TRUE) else
        lower.tri(diag(n), diag = TRUE))
      jacobian <- sapply(seq_len(m), function(k) {
        e <- replace(numeric(m), k, 1e-6)
        (b$forward(x + e)[tri] - b$forward(x - e)[tri]) / 2e-6
      })
      expect_equal(as.numeric(determinant(jacobian)$modulus),
                   b$forward_log_det_jacobian(x, 1), tolerance = 1e-8)
      expect_equal(b$inverse_log_det_jacobian(b$forward(x), 2),
                   -b$forward_log_det_jacobian(x, 1))
    }
  }
})

test_that("gradients through a flow on vectors, both directions", {
  set.seed(5)
  sandwich <- tfb_chain(list(tfb_invert(tfb_fill_triangular()),
                             tfb_fill_triangular(),
                             tfb_invert(tfb_fill_triangular(upper = TRUE)),
                             tfb_fill_triangular(upper = TRUE),
                             tfb_scale(c(1.5, 0.5, 2, 1, 0.8, 1.2))))
  x <- matrix(rnorm(30), 5, 6)
  expect_equal(sandwich$forward(x), x %*% diag(c(1.5, 0.5, 2, 1, 0.8, 1.2)))
  flow <- flow_on(sandwich, D = 6)
  expect_flow_gradients(flow, x)
  expect_flow_gradients(flow_on(tfb_invert(sandwich), D = 6), x)
})

test_that("inside a chain and a transformed distribution", {
  b <- tfb_chain(list(tfb_fill_triangular(), tfb_shift(c(1, 2, 3))))
  x <- matrix(rnorm(9), 3, 3)
  y <- b$forward(x)
  expect_identical(dim(y), c(3L, 2L, 2L))
  expect_equal(b$inverse(y), x)
  expect_identical(b$forward_log_det_jacobian(x, 1), 0)
  loc <- c(0.1, -0.2, 0.3)
  scale <- c(1, 2, 0.5)
  base <- tfd_multivariate_normal_diag(loc = loc, scale_diag = scale)
  d <- tfd_transformed_distribution(base, tfb_fill_triangular())
  expect_identical(d$event_shape, c(2L, 2L))
  set.seed(6)
  s <- d$sample(7)
  expect_identical(dim(s), c(7L, 2L, 2L))
  expect_true(all(s[, 1, 2] == 0))
  v <- s[, , ]
  by_hand <- sapply(1:7, function(k) {
    z <- c(v[k, 2, 2], v[k, 2, 1], v[k, 1, 1])
    sum(dnorm(z, loc, scale, log = TRUE))
  })
  expect_equal(d$log_prob(v), by_hand, tolerance = 1e-12)
})
