# tfb_fill_scale_tri_l(): unconstrained vectors to Cholesky factors.

# Plain-R reference: fill in TFP's order (loops over the closed form), then
# the diagonal map and the shift.
ref_fill_lower <- function(x) {
  m <- length(x)
  n <- (sqrt(8 * m + 1) - 1) / 2
  out <- matrix(0, n, n)
  for (i in seq_len(n)) for (j in seq_len(i)) {
    # lower[i, j] is upper[n + 1 - i, n + 1 - j]
    k <- (n - i) * n + (n - j)
    out[i, j] <- if (k < m) x[k + 1] else x[n * (n + 1) - k]
  }
  out
}
ref_softplus <- function(x) log(1 + exp(x))

test_that("TFP's test values and docstring", {
  shift <- 1.61803398875
  b <- tfb_fill_scale_tri_l(tfb_exp(), shift)
  y <- b$forward(c(-1, 0.5, 2))
  expect_equal(y, rbind(c(exp(2) + shift, 0), c(0.5, exp(-1) + shift)),
               tolerance = 1e-12)
  expect_equal(y, rbind(c(9.007090088, 0), c(0.5, 1.98591343)),
               tolerance = 1e-9)
  expect_equal(b$inverse(y), c(-1, 0.5, 2), tolerance = 1e-12)
  b <- tfb_fill_scale_tri_l(tfb_exp(), NULL)
  expect_equal(b$forward(c(0, 0, 0)), diag(2))
  expect_equal(b$inverse(rbind(c(1, 0), c(0.5, 2))), c(log(2), 0.5, 0))
  # softplus with shift 3.14159 on a [2, 1, 6] batch
  set.seed(1)
  x <- array(rnorm(12), c(2, 1, 6))
  b <- tfb_fill_scale_tri_l(diag_shift = 3.14159)
  y <- b$forward(x)
  expect_identical(dim(y), c(2L, 1L, 3L, 3L))
  expect_equal(b$inverse(y), x, tolerance = 1e-12)
  expect_equal(b$forward_log_det_jacobian(x, 1),
               -b$inverse_log_det_jacobian(y, 2), tolerance = 1e-12)
})

test_that("a plain-R reference on random inputs, n = 1 to 6", {
  set.seed(2)
  b <- tfb_fill_scale_tri_l()
  for (n in 1:6) {
    m <- n * (n + 1) / 2
    x <- matrix(rnorm(3 * m, sd = 2), 3, m)
    y <- b$forward(x)
    for (k in 1:3) {
      expected <- ref_fill_lower(x[k, ])
      diag(expected) <- ref_softplus(diag(expected)) + 1e-5
      expect_equal(matrix(y[k, , ], n, n), expected, tolerance = 1e-13)
      diagonal_source <- diag(ref_fill_lower(seq_len(m)))
      expect_equal(b$forward_log_det_jacobian(x[k, ], 1),
                   sum(log(plogis(x[k, diagonal_source]))), tolerance = 1e-13)
    }
    expect_equal(b$inverse(y), x, tolerance = 1e-10)
  }
})

test_that("log-dets through the free coordinates, n = 2 to 6", {
  set.seed(3)
  for (b in list(tfb_fill_scale_tri_l(), tfb_fill_scale_tri_l(tfb_exp(), 0.1))) {
    for (n in 2:6) {
      m <- n * (n + 1) / 2
      x <- rnorm(m)
      tri <- which(lower.tri(diag(n), diag = TRUE))
      jacobian <- sapply(seq_len(m), function(k) {
        e <- replace(numeric(m), k, 1e-6)
        (b$forward(x + e)[tri] - b$forward(x - e)[tri]) / 2e-6
      })
      expect_equal(b$forward_log_det_jacobian(x, 1),
                   as.numeric(determinant(jacobian)$modulus), tolerance = 1e-7)
      expect_equal(b$inverse_log_det_jacobian(b$forward(x), 2),
                   -b$forward_log_det_jacobian(x, 1), tolerance = 1e-12)
    }
  }
})

test_that("arguments, fields and errors", {
  b <- tfb_fill_scale_tri_l()
  expect_s3_class(b, c("tfb_fill_scale_tri_l", "tfb_chain", "bijector"))
  expect_identical(b$name, "fill_scale_tril")
  expect_identical(b$diag_shift, 1e-5)
  expect_null(tfb_fill_scale_tri_l(diag_shift = NULL)$diag_shift)
  expect_identical(b$forward_min_event_ndims, 1L)
  expect_identical(b$inverse_min_event_ndims, 2L)
  expect_identical(b$forward_event_shape(10), c(4L, 4L))
  expect_identical(b$inverse_event_shape(c(4, 4)), 10L)
  expect_error(tfb_fill_scale_tri_l("exp"), class = "bijectors_error_bijector")
  expect_error(tfb_fill_scale_tri_l(diag_shift = NA),
               class = "bijectors_error_argument")
  expect_error(tfb_fill_scale_tri_l(diag_shift = "a"),
               class = "bijectors_error_argument")
  expect_error(tfb_fill_scale_tri_l(validate_args = "no"),
               class = "bijectors_error_argument")
  expect_error(b$forward(1:4), "triangular number",
               class = "bijectors_error_event_shape")
  # the shift is a constant, not a trainable parameter
  flow <- flow_on(tfb_chain(list(tfb_invert(tfb_fill_triangular()), b)),
                  D = 3)
  expect_length(trainable_parameters(flow), 0L)
  # a deep copy keeps the kind
  copy <- unserialize(serialize(b, NULL))
  expect_s3_class(copy, "tfb_fill_scale_tri_l")
  expect_identical(copy$forward(1:6), b$forward(1:6))
})

test_that("gradients through a flow on vectors, both directions", {
  set.seed(4)
  sandwich <- tfb_chain(list(tfb_invert(tfb_fill_triangular()),
                             tfb_fill_scale_tri_l(diag_shift = 0.3),
                             tfb_shift(c(0.1, 0.2, -0.3, 0.4, 0.5, -0.6))))
  x <- matrix(rnorm(30), 5, 6)
  expect_flow_gradients(flow_on(sandwich, D = 6), sandwich$forward(x))
  expect_flow_gradients(flow_on(tfb_invert(sandwich), D = 6), x)
})

test_that("in a transformed distribution: Cholesky factors", {
  loc <- c(0.1, -0.2, 0.3)
  scale <- c(1, 2, 0.5)
  base <- tfd_multivariate_normal_diag(loc = loc, scale_diag = scale)
  b <- tfb_fill_scale_tri_l(tfb_exp(), NULL)
  d <- tfd_transformed_distribution(base, b)
  expect_identical(d$event_shape, c(2L, 2L))
  set.seed(5)
  s <- d$sample(6)
  expect_identical(dim(s), c(6L, 2L, 2L))
  expect_true(all(s[, 1, 1] > 0 & s[, 2, 2] > 0 & s[, 1, 2] == 0))
  by_hand <- sapply(1:6, function(k) {
    z <- c(log(s[k, 2, 2]), s[k, 2, 1], log(s[k, 1, 1]))
    sum(dnorm(z, loc, scale, log = TRUE)) - log(s[k, 1, 1]) - log(s[k, 2, 2])
  })
  expect_equal(d$log_prob(s), by_hand, tolerance = 1e-12)
})
