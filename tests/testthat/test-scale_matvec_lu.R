# tfb_scale_matvec_lu() and the deprecated tfb_matvec_lu(): TFP's test
# values (scale_matvec_lu_test.py), plain-R references, checks, training.

tfp_matrix <- rbind(c(1, 2, 3), c(4, 5, 6), c(0.5, 0, 0.25))

test_that("TFP's LU of its test matrix: round trips and log-det", {
  lower_upper <- rbind(c(4, 5, 6), c(0.25, 0.75, 1.5),
                       c(0.125, -0.8333333333333334, 0.75))
  b <- tfb_scale_matvec_lu(lower_upper, permutation = c(2, 1, 3))
  expect_equal(b$forward(diag(3)), t(tfp_matrix), tolerance = 1e-12)
  set.seed(301)
  x <- array(runif(2 * 28 * 28 * 3), c(2, 28, 28, 3))
  expect_equal(b$inverse(b$forward(x)), x, tolerance = 1e-10)
  expect_equal(b$forward(b$inverse(x)), x, tolerance = 1e-10)
  fldj <- b$forward_log_det_jacobian(x, event_ndims = 3)
  expect_identical(fldj, -b$inverse_log_det_jacobian(x, event_ndims = 3))
  expect_gt(fldj, 1)
  expect_equal(fldj, 784 * log(2.25), tolerance = 1e-12)   # 635.7693
  # the permutation is 1-based, and a 0-based one gets a hint
  expect_error(tfb_scale_matvec_lu(lower_upper, c(1, 0, 2)), "1-based",
               class = "bijectors_error_permutation")
})

test_that("a random orthonormal start has log-det 0 (TFP's trainable init)", {
  set.seed(302)
  w <- qr.Q(qr(matrix(runif(9), 3)))
  f <- ref_lu_factor(w)
  b <- tfb_scale_matvec_lu(f$lower_upper, f$permutation)
  x <- matrix(runif(30), 10)
  expect_equal(b$forward_log_det_jacobian(x, 1), 0, tolerance = 1e-12)
  expect_equal(b$forward(x), x %*% t(w), tolerance = 1e-12)
})

test_that("forward, inverse and log-dets match plain R on several sizes", {
  set.seed(303)
  for (k in c(1, 2, 3, 6, 20)) {
    a <- matrix(rnorm(k * k), k) * (1:k)
    f <- ref_lu_factor(a)
    expect_equal(ref_lu_reconstruct(f$lower_upper, f$permutation), a,
                 tolerance = 1e-12)
    b <- tfb_scale_matvec_lu(f$lower_upper, f$permutation)
    x <- matrix(rnorm(5 * k), 5, k)
    expect_equal(b$forward(x), ref_linear_forward(a, x), tolerance = 1e-10)
    expect_equal(b$inverse(x), ref_linear_inverse(a, x), tolerance = 1e-8)
    expect_equal(b$forward_log_det_jacobian(x, event_ndims = 1),
                 ref_log_abs_det(a), tolerance = 1e-10)
    expect_equal(b$lower_upper, f$lower_upper, tolerance = 1e-14)
    expect_identical(b$permutation, as.integer(f$permutation))
  }
})

test_that("a zero on the diagonal is refused; the sign may be anything", {
  lower_upper <- rbind(c(4, 5, 6), c(0.25, 0, 1.5), c(0.125, -0.8, 0.75))
  expect_error(tfb_scale_matvec_lu(lower_upper, c(2, 1, 3),
                                   validate_args = TRUE),
               "`lower_upper` must have nonzero diagonal",
               class = "bijectors_error_singular")
  expect_error(tfb_scale_matvec_lu(lower_upper, c(2, 1, 3)),
               class = "bijectors_error_singular")
  lower_upper[2, 2] <- -0.75
  expect_s3_class(tfb_scale_matvec_lu(lower_upper, c(2, 1, 3),
                                      validate_args = TRUE),
                  "tfb_scale_matvec_lu")
})

test_that("arguments are checked with classed errors naming them", {
  expect_error(tfb_scale_matvec_lu(c(1, 2), 1:2), "lower_upper",
               class = "bijectors_error_argument")
  expect_error(tfb_scale_matvec_lu(diag(2), c(1, 1)), "permutation",
               class = "bijectors_error_permutation")
  expect_error(tfb_scale_matvec_lu(diag(2), 1:3), "permutation",
               class = "bijectors_error_permutation")
  expect_error(tfb_scale_matvec_lu(diag(2), 1:2, validate_args = NA),
               "validate_args", class = "bijectors_error_argument")
  expect_error(tfb_scale_matvec_lu(diag(2), 1:2, name = c("a", "b")),
               "name", class = "bijectors_error_argument")
  expect_identical(tfb_scale_matvec_lu(diag(2), list(2, 1))$permutation,
                   c(2L, 1L))
  expect_identical(tfb_scale_matvec_lu(diag(2), 1:2)$name, "scale_matvec_lu")
})

test_that("tfb_matvec_lu() is deprecated once, and validates anyway", {
  bijectors:::reset_deprecations()
  expect_message(b <- tfb_matvec_lu(diag(2) * 2, 2:1),
                 "tfb_scale_matvec_lu", class = "bijectors_deprecated")
  expect_silent(tfb_matvec_lu(diag(2), 1:2))
  expect_identical(b$name, "matvec_lu")
  expect_equal(b$forward(c(1, 3)), c(6, 2))
  # TFP's MatvecLU drops validate_args; here a zero diagonal is refused
  expect_error(tfb_matvec_lu(diag(c(1, 0)), 1:2, validate_args = TRUE),
               class = "bijectors_error_singular")
})

test_that("trained: the permutation is fixed, the diagonal of U keeps its sign", {
  set.seed(304)
  mixing <- rbind(c(1, 0.5, 0), c(-0.3, 1.2, 0.4), c(0.2, 0, 0.7))
  y <- matrix(rnorm(600), 200) %*% t(mixing)
  w <- qr.Q(qr(matrix(runif(9), 3)))
  f <- ref_lu_factor(w)
  b <- tfb_scale_matvec_lu(f$lower_upper, f$permutation)
  signs <- sign(diag(f$lower_upper))
  flow <- expect_linear_fit_improves(b, y, epochs = 40)
  expect_named(trainable_parameters(flow),
               c("lower_upper", "log_abs_diagonal"))
  expect_true(all(diag(trainable_parameters(flow)$lower_upper) == 0))
  expect_identical(flow$bijector$permutation, as.integer(f$permutation))
  expect_identical(sign(diag(flow$bijector$lower_upper)), signs)
  # in a chain with a permutation and a shift, as an NSF-style mixing layer
  chain <- tfb_chain(list(tfb_shift(c(0, 0, 0)),
                          tfb_scale_matvec_lu(f$lower_upper, f$permutation),
                          tfb_permute(c(3, 1, 2))))
  expect_linear_fit_improves(chain, y, epochs = 10)
})
