# tfb_scale_matvec_tri_l(): TFP's test values (scale_matvec_tril_test.py),
# plain-R references, checks, and training.

test_that("TFP's values: no batch", {
  b <- tfb_scale_matvec_tri_l(scale_tril = rbind(c(2, 0), c(2, 2)))
  x <- rbind(c(1, 2))
  expect_equal(b$forward(x), rbind(c(2, 6)), tolerance = 1e-6)
  expect_equal(b$inverse(x), rbind(c(0.5, 0.5)), tolerance = 1e-6)
  expect_equal(b$inverse_log_det_jacobian(x, event_ndims = 1),
               -abs(log(4)), tolerance = 1e-6)
  # the batch case's second matrix, on its own
  b <- tfb_scale_matvec_tri_l(rbind(c(3, 0), c(3, 3)))
  expect_equal(b$forward(x), rbind(c(3, 9)), tolerance = 1e-6)
  expect_equal(b$inverse(x), rbind(c(1 / 3, 1 / 3)), tolerance = 1e-6)
  expect_equal(b$inverse_log_det_jacobian(x, event_ndims = 1), -log(9),
               tolerance = 1e-6)
})

test_that("TFP's singular case is refused, whatever validate_args", {
  expect_error(tfb_scale_matvec_tri_l(rbind(c(0, 0), c(1, 1)),
                                      validate_args = TRUE),
               "Singular operator:  Diagonal contained zero values",
               class = "bijectors_error_singular")
  expect_error(tfb_scale_matvec_tri_l(rbind(c(1, 0), c(1, 0))),
               class = "bijectors_error_singular")
})

test_that("entries above the diagonal are ignored, before adjoint", {
  l <- rbind(c(2, 0), c(1, 3))
  full <- rbind(c(2, 5), c(1, 3))
  x <- rbind(c(1, 2), c(-1, 4))
  expect_equal(tfb_scale_matvec_tri_l(full)$forward(x),
               tfb_scale_matvec_tri_l(l)$forward(x))
  expect_equal(tfb_scale_matvec_tri_l(full, adjoint = TRUE)$forward(x),
               x %*% l)
  expect_equal(tfb_scale_matvec_tri_l(full)$scale_tril, l)
})

test_that("forward, inverse and log-dets match plain R on several sizes", {
  set.seed(201)
  for (k in c(1, 2, 4, 9, 30)) {
    l <- random_tril(k)
    x <- matrix(rnorm(6 * k), 6, k)
    for (adjoint in c(FALSE, TRUE)) {
      b <- tfb_scale_matvec_tri_l(l, adjoint = adjoint)
      expect_equal(b$forward(x), ref_linear_forward(l, x, adjoint),
                   tolerance = 1e-12)
      expect_equal(b$inverse(x), ref_linear_inverse(l, x, adjoint),
                   tolerance = 1e-10)
      # forwardsolve / backsolve, as the sheet writes it
      y <- x[1, ]
      expect_equal(b$inverse(y), if (adjoint) backsolve(t(l), y) else
        forwardsolve(l, y), tolerance = 1e-10)
      expect_equal(b$forward_log_det_jacobian(x, event_ndims = 1),
                   ref_log_abs_det(l), tolerance = 1e-12)
      expect_equal(b$inverse_log_det_jacobian(x, event_ndims = 1),
                   -ref_log_abs_det(l), tolerance = 1e-12)
    }
  }
})

test_that("arguments are checked with classed errors naming them", {
  expect_error(tfb_scale_matvec_tri_l(c(1, 2)), "scale_tril",
               class = "bijectors_error_argument")
  expect_error(tfb_scale_matvec_tri_l(matrix(1, 2, 3)), "scale_tril",
               class = "bijectors_error_argument")
  expect_error(tfb_scale_matvec_tri_l(array(1, c(2, 2, 2))), "batches",
               class = "bijectors_error_argument")
  expect_error(tfb_scale_matvec_tri_l(matrix(c(1, Inf, 0, 1), 2)),
               "scale_tril", class = "bijectors_error_argument")
  expect_error(tfb_scale_matvec_tri_l(diag(2), adjoint = "no"), "adjoint",
               class = "bijectors_error_argument")
  expect_error(tfb_scale_matvec_tri_l(diag(2), dtype = 1), "dtype",
               class = "bijectors_error_argument")
  b <- tfb_scale_matvec_tri_l(diag(3))
  expect_error(b$inverse(matrix(1, 2, 2)), class = "bijectors_error_event_size")
})

test_that("a full-covariance Gaussian: shift and tril in a trained flow", {
  set.seed(202)
  l_true <- rbind(c(1.5, 0, 0), c(0.8, 0.6, 0), c(-0.4, 0.5, 0.9))
  y <- matrix(rnorm(900), 300) %*% t(l_true) +
    matrix(c(1, -1, 0.5), 300, 3, byrow = TRUE)
  b <- tfb_chain(list(tfb_shift(c(0, 0, 0)), tfb_scale_matvec_tri_l(diag(3))))
  x <- matrix(rnorm(6), 2)
  expect_equal(b$forward(x), x)
  flow <- expect_linear_fit_improves(b, y, epochs = 40)
  expect_named(trainable_parameters(flow),
               c("1_shift/shift", "2_scale_matvec_tril/scale_tril",
                 "2_scale_matvec_tril/log_abs_diagonal"))
  # entries above the diagonal stay 0
  l <- flow$bijector$bijectors[[2]]$scale_tril
  expect_true(all(l[upper.tri(l)] == 0))
  expect_true(all(diag(l) > 0))
})
