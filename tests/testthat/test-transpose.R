# tfb_transpose(): TFP's values (perm made 1-based), an element-by-element
# reference, event shapes, errors, and use in chains and flows.

# TFP's nested list [[[1, 2], [3, 4]], [[5, 6], [7, 8]]] as an R array with
# the same indices (row-major values).
tfp_cube <- function() aperm(array(1:8, c(2, 2, 2)), 3:1) * 1.0

test_that("TFP's values with the permutation made 1-based", {
  x <- tfp_cube()
  expect_identical(x[1, 2, 1], 3)
  b <- tfb_transpose(perm = c(3, 1, 2))      # TFP's perm = [2, 0, 1]
  y <- b$forward(x)
  expected <- aperm(array(c(1, 3, 5, 7, 2, 4, 6, 8), c(2, 2, 2)), 3:1)
  expect_identical(y, expected)
  for (a in 1:2) for (i in 1:2) for (j in 1:2) {
    expect_identical(y[a, i, j], x[i, j, a])
  }
  expect_identical(b$inverse(y), x)
  r2 <- tfb_transpose(rightmost_transposed_ndims = 2)
  expect_identical(r2$forward(x),
                   aperm(array(c(1, 3, 2, 4, 5, 7, 6, 8), c(2, 2, 2)), 3:1))
  expect_identical(r2$perm, c(2L, 1L))
  expect_identical(b$forward_log_det_jacobian(x, 3), 0)
  expect_identical(b$inverse_log_det_jacobian(y, 3), 0)
  expect_identical(r2$forward_log_det_jacobian(x, 2), 0)
  # tfprobability's test: the true result is t(x)
  x <- matrix(1:8, ncol = 2, byrow = TRUE)
  expect_identical(r2$forward(x), t(x) * 1.0)
  # perm = c(2, 1) swaps the last two axes
  expect_identical(tfb_transpose(perm = c(2, 1))$forward(x), t(x) * 1.0)
  expect_identical(tfb_transpose(perm = c(-1, -2))$perm, c(2L, 1L))
  expect_identical(tfb_transpose(perm = list(2, 1))$perm, c(2L, 1L))
})

test_that("event shapes and min event ndims", {
  shape <- c(5, 4, 3, 2)
  b <- tfb_transpose(perm = c(2, 1, 3))
  expect_identical(b$forward_event_shape(shape), c(5L, 3L, 4L, 2L))
  expect_identical(b$inverse_event_shape(shape), c(5L, 3L, 4L, 2L))
  b <- tfb_transpose(perm = c(3, 1, 2))
  expect_identical(b$forward_event_shape(shape), c(5L, 2L, 4L, 3L))
  expect_identical(b$inverse_event_shape(shape), c(5L, 3L, 2L, 4L))
  expect_identical(b$forward_min_event_ndims, 3L)
  expect_identical(tfb_transpose(rightmost_transposed_ndims = 2)$
                     forward_event_shape(shape), c(5L, 4L, 2L, 3L))
  expect_identical(tfb_transpose(rightmost_transposed_ndims = 3)$
                     forward_event_shape(shape), c(5L, 2L, 3L, 4L))
  r0 <- tfb_transpose(rightmost_transposed_ndims = 0)
  expect_identical(r0$forward(c(1, 2)), c(1, 2))
  expect_identical(r0$forward_min_event_ndims, 0L)
})

test_that("forward and inverse match an element-by-element reference", {
  set.seed(31)
  perms <- list(c(2, 1), c(3, 1, 2), c(2, 3, 1), c(1, 3, 2), c(4, 2, 1, 3))
  for (perm in perms) {
    r <- length(perm)
    dims <- c(3, 2 + seq_len(r) %% 3)
    x <- array(rnorm(prod(dims)), dims)
    b <- tfb_transpose(perm = perm)
    y <- b$forward(x)
    expect_identical(y, ref_transpose(x, perm))
    expect_identical(b$inverse(y), x)
  }
})

test_that("log-dets are 0, as a numerical Jacobian says, sizes 2 to 6", {
  set.seed(32)
  b <- tfb_transpose(perm = c(2, 1))
  for (k in 2:6) {
    x <- matrix(rnorm(2 * k), 2)
    jacobian <- ref_jacobian(function(v) b$forward(matrix(v, 2)), x)
    expect_equal(ref_log_abs_det(jacobian), 0, tolerance = 1e-8)
    expect_identical(b$forward_log_det_jacobian(x, 2), 0)
    expect_identical(b$inverse_log_det_jacobian(b$forward(x), 2), -0)
  }
})

test_that("argument and input errors", {
  expect_error(tfb_transpose(), "exactly one",
               class = "bijectors_error_argument")
  expect_error(tfb_transpose(c(2, 1), 2), "exactly one",
               class = "bijectors_error_argument")
  expect_error(tfb_transpose(rightmost_transposed_ndims = -1),
               class = "bijectors_error_argument")
  expect_error(tfb_transpose(rightmost_transposed_ndims = 1.5),
               class = "bijectors_error_argument")
  expect_error(tfb_transpose(perm = c(2, 3)),
               class = "bijectors_error_permutation")
  expect_error(tfb_transpose(perm = c(1, 0)), "1-based",
               class = "bijectors_error_permutation")
  expect_error(tfb_transpose(perm = "a"), class = "bijectors_error_permutation")
  b <- tfb_transpose(perm = c(3, 1, 2))
  expect_error(b$forward(matrix(1, 2, 2)), class = "bijectors_error_input")
  expect_error(b$forward_log_det_jacobian(array(1, c(2, 2, 2)), 2),
               class = "bijectors_error_event_ndims")
  expect_error(b$forward_event_shape(c(2, 2)),
               class = "bijectors_error_event_shape")
})

test_that("a transpose in a chain and a transformed distribution", {
  flow <- tfd_transformed_distribution(
    tfd_sample_distribution(tfd_normal(0, 1), c(2, 3)),
    tfb_chain(list(tfb_shift(c(1, 2)), tfb_transpose(perm = c(2, 1)))))
  expect_identical(flow$event_shape, c(3L, 2L))
  set.seed(33)
  y <- array(rnorm(4 * 6), c(4, 3, 2))
  by_hand <- vapply(1:4, function(n) {
    sum(dnorm(t(y[n, , ] - matrix(c(1, 2), 3, 2, byrow = TRUE)), log = TRUE))
  }, numeric(1))
  expect_equal(flow$log_prob(y), by_hand, tolerance = 1e-12)
  expect_identical(dim(flow$sample(5)), c(5L, 3L, 2L))
  expect_identical(dim(flow$sample(c(2, 2))), c(2L, 2L, 3L, 2L))
  # gradients: a flow on vectors of 6 that transposes a 2 x 3 in between
  chain <- tfb_chain(list(tfb_reshape(6, c(3, 2)), tfb_transpose(perm = c(2, 1)),
                          tfb_reshape(c(2, 3), 6), tfb_scale(seq(0.5, 1.5, 0.2))))
  z <- matrix(rnorm(30), 5)
  x <- chain$inverse(z)
  expect_equal(chain$forward(x), z, tolerance = 1e-14)
  expect_equal(as.vector(t(matrix(x[1, ] * seq(0.5, 1.5, 0.2), 3, 2))),
               z[1, ], tolerance = 1e-14)
  for (bijector in list(chain, tfb_invert(chain))) {
    flow <- tfd_transformed_distribution(
      tfd_multivariate_normal_diag(loc = seq(-0.5, 0.5, length.out = 6)),
      bijector)
    lg <- loss_and_gradient(flow, z, input_gradient = TRUE)
    expect_equal(as.vector(lg$input), ref_loss_input_gradient(flow, z),
                 tolerance = 1e-6)
  }
})
