# tfb_affine() and tfb_affine_linear_operator() (deprecated): TFP's
# affine_test.py values, a plain-R reference, errors, training.

quiet_affine <- function(...) suppressMessages(tfb_affine(...))

expect_affine <- function(b, x, forward, inverse, ildj) {
  expect_equal(b$forward(x), forward, tolerance = 1e-6)
  expect_equal(b$inverse(x), inverse, tolerance = 1e-6)
  expect_equal(b$inverse_log_det_jacobian(x, event_ndims = 1), ildj,
               tolerance = 1e-6)
}

test_that("TFP's Affine values", {
  expect_affine(quiet_affine(shift = c(1, -1)), c(1, 1), c(2, 0), c(0, 2), 0)
  expect_affine(quiet_affine(shift = c(1, -1)), rbind(c(1, 1), c(-1, -1)),
                rbind(c(2, 0), c(0, -2)), rbind(c(0, 2), c(-2, 0)), 0)
  b <- quiet_affine(shift = c(1, -1), scale_diag = c(2, 1))
  expect_affine(b, c(1, 1), c(3, 0), c(0, 2), -log(2))
  expect_affine(b, rbind(c(1, 1), c(-1, -1)), rbind(c(3, 0), c(-1, -2)),
                rbind(c(0, 2), c(-1, 0)), -log(2))
  expect_affine(quiet_affine(shift = c(1, -1), scale_diag = c(2, 2)),
                rbind(c(1, 1)), rbind(c(3, 1)), rbind(c(0, 1)), -log(4))
  expect_affine(quiet_affine(shift = c(1, -1), scale_identity_multiplier = 2),
                rbind(c(1, 1)), rbind(c(3, 1)), rbind(c(0, 1)), -log(4))
  expect_affine(quiet_affine(shift = -1, scale_identity_multiplier = 1,
                             scale_diag = c(1, 1, 1)),
                c(1, 2, 3), c(1, 3, 5), c(1, 1.5, 2), -log(2^3))
  tril <- rbind(c(1, 0), c(2, 1))
  expect_affine(quiet_affine(shift = -1, scale_identity_multiplier = 1,
                             scale_tril = tril),
                rbind(c(1, 2)), rbind(c(1, 5)), rbind(c(1, 0.5)), -log(4))
  expect_affine(quiet_affine(shift = -1, scale_diag = c(1, 2),
                             scale_tril = tril),
                rbind(c(1, 2)), rbind(c(1, 7)), rbind(c(1, 1 / 3)), -log(6))
  expect_affine(quiet_affine(shift = -1, scale_identity_multiplier = 1,
                             scale_diag = c(1, 2), scale_tril = tril),
                rbind(c(1, 2)), rbind(c(2, 9)), rbind(c(2 / 3, 5 / 12)),
                -log(12))
  v <- rbind(c(2, 0), c(0, 0), c(0, 1))
  expect_affine(quiet_affine(shift = -1, scale_identity_multiplier = 2,
                             scale_perturb_diag = c(2, 1),
                             scale_perturb_factor = v),
                c(1, 2, 3), c(9, 3, 8), c(0.2, 1.5, 4 / 3), -log(60))
  expect_affine(quiet_affine(shift = -1, scale_diag = c(2, 3, 4),
                             scale_perturb_diag = c(2, 1),
                             scale_perturb_factor = v),
                c(1, 2, 3), c(9, 5, 14), c(0.2, 1, 0.8), -log(150))
  tril3 <- rbind(c(2, 0, 0), c(1, 3, 0), c(2, 3, 4))
  expect_affine(quiet_affine(shift = -1, scale_tril = tril3,
                             scale_perturb_diag = c(2, 1),
                             scale_perturb_factor = v),
                c(1, 2, 3), c(9, 6, 22), c(0.2, 14 / 15, 4 / 25), -log(150))
  expect_affine(quiet_affine(shift = -1, scale_tril = tril3,
                             scale_perturb_factor = v),
                c(1, 2, 3), c(5, 6, 22), c(1 / 3, 8 / 9, 4 / 30), -log(90))
  # adjoint
  scale_ref <- rbind(c(10, 0, 0), c(1, 3, 0), c(2, 3, 5))
  b <- quiet_affine(shift = -1, scale_tril = tril3,
                    scale_perturb_diag = c(2, 1), scale_perturb_factor = v,
                    adjoint = TRUE)
  x <- c(1, 2, 3)
  expect_equal(b$forward(x), as.vector(t(scale_ref) %*% x) - 1)
  expect_equal(b$inverse(x), as.vector(solve(t(scale_ref), x + 1)))
  expect_equal(b$forward_log_det_jacobian(x, 1), log(150))
})

test_that("a plain-R reference on random parts", {
  set.seed(601)
  for (k in c(2, 4, 7)) {
    c0 <- 1.5
    d1 <- runif(k, 0.5, 1.5)
    l <- random_tril(k)
    v <- matrix(rnorm(2 * k, sd = 0.3), k, 2)
    d2 <- runif(2, 0.2, 1)
    shift <- rnorm(k)
    s <- c0 * diag(k) + diag(d1) + l + v %*% diag(d2) %*% t(v)
    b <- quiet_affine(shift, c0, d1, l, v, d2)
    x <- matrix(rnorm(3 * k), 3, k)
    expect_equal(b$forward(x), sweep(ref_linear_forward(s, x), 2, shift, "+"),
                 tolerance = 1e-10)
    expect_equal(b$inverse(x), ref_linear_inverse(s, sweep(x, 2, shift)),
                 tolerance = 1e-8)
    expect_equal(b$forward_log_det_jacobian(x, 1), ref_log_abs_det(s),
                 tolerance = 1e-10)
  }
})

test_that("deprecation messages, errors", {
  bijectors:::reset_deprecations()
  expect_message(tfb_affine(1), "tfb_shift", class = "bijectors_deprecated")
  expect_silent(tfb_affine(1))
  expect_message(tfb_affine_linear_operator(1), "tfb_shift",
                 class = "bijectors_deprecated")
  suppressMessages({
    expect_error(tfb_affine(scale_perturb_diag = 1),
                 "scale_perturb_factor must be specified",
                 class = "bijectors_error_argument")
    expect_error(tfb_affine(scale_identity_multiplier = 0,
                            validate_args = TRUE),
                 "identity_multiplier should be non-zero",
                 class = "bijectors_error_singular")
    expect_error(tfb_affine(scale_diag = c(0, 1), validate_args = TRUE),
                 "Singular operator:  Diagonal contained zero values",
                 class = "bijectors_error_singular")
    expect_error(tfb_affine(scale_diag = 1:2, scale_tril = diag(3)),
                 "disagree", class = "bijectors_error_argument")
    expect_error(tfb_affine(shift = "a"), "shift",
                 class = "bijectors_error_argument")
    expect_error(tfb_affine(dtype = "int32"), "dtype",
                 class = "bijectors_error_argument")
    expect_error(tfb_affine_linear_operator(scale = "a"), "scale",
                 class = "bijectors_error_argument")
    expect_identical(tfb_affine()$name, "affine")
    expect_equal(tfb_affine()$forward(c(1, 2)), c(1, 2))
  })
})

test_that("affine_linear_operator: TFP's docstring values, trained", {
  suppressMessages({
    tril <- rbind(c(1, 0, 0), c(2, 1, 0), c(3, 2, 1))
    b <- tfb_affine_linear_operator(shift = c(-1, 0, 1), scale = c(1, 2, 3))
    expect_equal(b$forward(c(1, 2, 3)), c(0, 4, 10))
    b <- tfb_affine_linear_operator(shift = c(2, 3, 1), scale = tril)
    expect_equal(b$forward(c(1, 2, 3)), c(3, 7, 11))
    b <- tfb_affine_linear_operator(shift = c(2, 3, 1))
    expect_equal(b$forward_log_det_jacobian(c(1, 2, 3), 1), 0)
    set.seed(602)
    y <- matrix(rnorm(400), 200) %*% rbind(c(2, 0.5), c(-1, 1)) + 3
    flow <- expect_linear_fit_improves(
      tfb_affine_linear_operator(c(0, 0), diag(2)), y)
    expect_named(trainable_parameters(flow),
                 c("1_shift/shift",
                   "2_scale_matvec_linear_operator/scale_tril",
                   "2_scale_matvec_linear_operator/log_abs_diagonal"))
  })
})
