# tfb_scale_matvec_diag(): TFP's test values (scale_matvec_diag_test.py),
# plain-R references, checks, and training.

test_that("TFP's values: no batch", {
  b <- tfb_scale_matvec_diag(scale_diag = c(2, 1))
  expect_equal(b$forward(c(1, 1)), c(2, 1), tolerance = 1e-6)
  expect_equal(b$inverse(c(1, 1)), c(0.5, 1), tolerance = 1e-6)
  expect_equal(b$inverse_log_det_jacobian(c(1, 1), event_ndims = 1),
               -log(2), tolerance = 1e-6)
  x <- rbind(c(1, 1), c(-1, -1))
  expect_equal(b$forward(x), rbind(c(2, 1), c(-2, -1)), tolerance = 1e-6)
  expect_equal(b$inverse(x), rbind(c(0.5, 1), c(-0.5, -1)), tolerance = 1e-6)
  # one number, not one per row, as TFP
  expect_equal(b$inverse_log_det_jacobian(x, event_ndims = 1), -log(2),
               tolerance = 1e-6)
})

test_that("TFP's singular case is refused, whatever validate_args", {
  expect_error(tfb_scale_matvec_diag(c(0, 1), validate_args = TRUE),
               "Singular operator:  Diagonal contained zero values",
               class = "bijectors_error_singular")
  expect_error(tfb_scale_matvec_diag(c(0, 1)),
               class = "bijectors_error_singular")
})

test_that("forward, inverse and log-dets match plain R on several sizes", {
  set.seed(101)
  for (k in c(1, 2, 5, 17)) {
    d <- sample(c(-1, 1), k, TRUE) * runif(k, 0.3, 3)
    b <- tfb_scale_matvec_diag(d)
    x <- matrix(rnorm(7 * k), 7, k)
    a <- diag(d, k)
    expect_equal(b$forward(x), ref_linear_forward(a, x), tolerance = 1e-13)
    expect_equal(b$inverse(x), ref_linear_inverse(a, x), tolerance = 1e-13)
    expect_equal(b$forward_log_det_jacobian(x, event_ndims = 1),
                 ref_log_abs_det(a), tolerance = 1e-13)
    expect_equal(b$inverse_log_det_jacobian(x, event_ndims = 2),
                 -7 * ref_log_abs_det(a), tolerance = 1e-13)
    expect_equal(b$scale_diag, d, tolerance = 1e-15)
  }
  # adjoint is the same map for a real diagonal
  b <- tfb_scale_matvec_diag(c(2, -3), adjoint = TRUE)
  expect_equal(b$forward(c(1, 1)), c(2, -3))
  # three-dimensional input: the last axis is the event
  x <- array(rnorm(24), c(2, 4, 3))
  b <- tfb_scale_matvec_diag(c(2, 3, 4))
  expect_equal(b$forward(x), x * rep(c(2, 3, 4), each = 8))
  expect_equal(b$forward_log_det_jacobian(x, event_ndims = 2), 4 * log(24))
})

test_that("arguments are checked with classed errors naming them", {
  expect_error(tfb_scale_matvec_diag("a"), "scale_diag",
               class = "bijectors_error_argument")
  expect_error(tfb_scale_matvec_diag(c(1, NA)), "scale_diag",
               class = "bijectors_error_argument")
  expect_error(tfb_scale_matvec_diag(matrix(2, 1, 2)), "batches",
               class = "bijectors_error_argument")
  expect_error(tfb_scale_matvec_diag(1, adjoint = NA), "adjoint",
               class = "bijectors_error_argument")
  expect_error(tfb_scale_matvec_diag(1, validate_args = "yes"),
               "validate_args", class = "bijectors_error_argument")
  expect_error(tfb_scale_matvec_diag(1, name = 3), "name",
               class = "bijectors_error_argument")
  expect_error(tfb_scale_matvec_diag(1, dtype = "int32"), "dtype",
               class = "bijectors_error_argument")
  expect_silent(tfb_scale_matvec_diag(1, dtype = "float64"))
  b <- tfb_scale_matvec_diag(c(1, 2))
  expect_error(b$forward(c(1, 2, 3)), class = "bijectors_error_event_size")
  expect_error(b$forward_log_det_jacobian(c(1, 2), event_ndims = 0),
               class = "bijectors_error_event_ndims")
})

test_that("in a chain and a trained flow", {
  set.seed(102)
  b <- tfb_chain(list(tfb_shift(c(1, -1)), tfb_scale_matvec_diag(c(2, 0.5))))
  x <- matrix(rnorm(8), 4)
  expect_equal(b$forward(x), sweep(x %*% diag(c(2, 0.5)), 2, c(1, -1), "+"))
  y <- cbind(rnorm(200, sd = 3), rnorm(200, sd = 0.3))
  flow <- expect_linear_fit_improves(tfb_scale_matvec_diag(c(1, -1)), y)
  expect_named(trainable_parameters(flow), "log_abs_diagonal")
  # the signs stay, the magnitudes move towards the data's scales
  d <- flow$bijector$scale_diag
  expect_identical(sign(d), c(1, -1))
  expect_gt(abs(d[[1]]), 1)
  expect_lt(abs(d[[2]]), 1)
})

test_that("an untrained operator uses the diagonal as given, not exp(log|d|)", {
  # exp(log(3)) is 3 + 4.4e-16: the given values must reach the products
  d <- c(-2, 3, 0.1, 7)
  expect_false(identical(exp(log(abs(d))) * sign(d), d))
  b <- tfb_scale_matvec_diag(d)
  x <- rbind(c(1, 1, 1, 1), c(0.5, -2, 3, 1e300))
  expect_identical(tfb_forward(b, x), sweep(x, 2, d, "*"))
  expect_identical(tfb_inverse(b, x), sweep(x, 2, d, "/"))
  expect_identical(b$scale_diag, d)
  lower <- matrix(c(3, 0.5, 0, 0.1), 2, 2)
  tril <- tfb_scale_matvec_tri_l(lower)
  expect_identical(tfb_forward(tril, c(1, 2)), as.vector(lower %*% c(1, 2)))
  # once the parameter moves, the diagonal follows it
  parameters <- trainable_parameters(b)
  parameters[[1]] <- log(c(4, 5, 6, 7))
  trainable_parameters(b) <- parameters
  expect_equal(tfb_forward(b, c(1, 1, 1, 1)), c(-4, 5, 6, 7), tolerance = 1e-15)
})
