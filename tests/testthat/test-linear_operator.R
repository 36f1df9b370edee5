# tfb_scale_matvec_linear_operator() with plain-R operators: TFP's test
# values (scale_matvec_linear_operator_test.py), references, checks.

test_that("TFP's docstring and test values", {
  x <- c(1, 2, 3)
  expect_equal(tfb_scale_matvec_linear_operator(c(1, 2, 3))$forward(x),
               c(1, 4, 9))
  tril <- rbind(c(1, 0, 0), c(2, 1, 0), c(3, 2, 1))
  expect_equal(tfb_scale_matvec_linear_operator(tril)$forward(x),
               c(1, 4, 10))
  # diagonal, each batch member on its own
  diags <- rbind(c(1, 2, 3), c(2, 5, 6))
  xs <- rbind(c(1, 0, -1), c(2, 3, 4))
  for (i in 1:2) {
    b <- tfb_scale_matvec_linear_operator(diags[i, ], validate_args = TRUE)
    expect_equal(b$forward(xs[i, ]), diags[i, ] * xs[i, ])
    expect_equal(b$inverse_log_det_jacobian(xs[i, ], 1),
                 -sum(log(abs(diags[i, ]))))
    expect_match(b$name, "^scale_matvec_linear_operator")
  }
  # lower triangular, with and without adjoint; ILDJ over two events
  trils <- list(rbind(c(3, 0, 0), c(2, -1, 0), c(3, 2, 1)),
                rbind(c(2, 0, 0), c(3, -2, 0), c(4, 3, 2)))
  xs <- list(rbind(c(1, 0, -1), c(2, 3, 4)), rbind(c(4, 1, -7), c(6, 9, 8)))
  total <- 0
  for (i in 1:2) {
    for (adjoint in c(FALSE, TRUE)) {
      b <- tfb_scale_matvec_linear_operator(trils[[i]], adjoint = adjoint)
      op <- if (adjoint) t(trils[[i]]) else trils[[i]]
      expect_equal(b$forward(xs[[i]]), xs[[i]] %*% t(op))
    }
    total <- total + b$inverse_log_det_jacobian(xs[[i]], event_ndims = 2) / 2
  }
  expect_equal(total, -log(24))
  # the block-diagonal example as one full matrix
  block <- matrix(0, 5, 5)
  diag(block)[1:3] <- c(2, 3, 6)
  block[4:5, 4:5] <- rbind(c(12, 5), c(-1, 3))
  b <- tfb_scale_matvec_linear_operator(block)
  x <- c(4, 3, 3, 0, -5)
  expect_equal(b$forward(x), as.vector(block %*% x), tolerance = 1e-12)
  expect_equal(b$forward_log_det_jacobian(x, 1), log(36 * 41),
               tolerance = 1e-12)
  # AffineLinearOperator's docstring, as a chain with a shift
  shifted <- tfb_chain(list(tfb_shift(c(-1, 0, 1)),
                            tfb_scale_matvec_linear_operator(c(1, 2, 3))))
  expect_equal(shifted$forward(c(1, 2, 3)), c(0, 4, 10))
})

test_that("each plain-R form matches plain R on several sizes", {
  set.seed(401)
  for (k in c(1, 2, 5, 12)) {
    a <- matrix(rnorm(k * k), k) + diag(k)
    f <- ref_lu_factor(a)
    l <- random_tril(k)
    d <- runif(k, 0.5, 2) * sample(c(-1, 1), k, TRUE)
    x <- matrix(rnorm(4 * k), 4, k)
    for (adjoint in c(FALSE, TRUE)) {
      cases <- list(list(a, a), list(f, a), list(l, l), list(d, diag(d, k)))
      for (case in cases) {
        b <- tfb_scale_matvec_linear_operator(case[[1]], adjoint = adjoint)
        dense <- case[[2]]
        expect_equal(b$forward(x), ref_linear_forward(dense, x, adjoint),
                     tolerance = 1e-10)
        expect_equal(b$inverse(x), ref_linear_inverse(dense, x, adjoint),
                     tolerance = 1e-8)
        expect_equal(b$forward_log_det_jacobian(x, 1), ref_log_abs_det(dense),
                     tolerance = 1e-10)
      }
    }
    # $scale in the form given
    expect_equal(tfb_scale_matvec_linear_operator(a)$scale, a,
                 tolerance = 1e-12)
    expect_equal(tfb_scale_matvec_linear_operator(d)$scale, d)
    expect_equal(tfb_scale_matvec_linear_operator(f)$scale$permutation,
                 f$permutation)
  }
})

test_that("singular operators and bad arguments give classed errors", {
  expect_error(tfb_scale_matvec_linear_operator(c(1, 0)),
               "Singular operator", class = "bijectors_error_singular")
  expect_error(tfb_scale_matvec_linear_operator(rbind(c(1, 2), c(2, 4))),
               "non-singular", class = "bijectors_error_singular")
  expect_error(tfb_scale_matvec_linear_operator(rbind(c(1, 0), c(2, 0))),
               class = "bijectors_error_singular")
  expect_error(tfb_scale_matvec_linear_operator("a"), "scale",
               class = "bijectors_error_argument")
  expect_error(tfb_scale_matvec_linear_operator(list(lu = diag(2))),
               "lower_upper", class = "bijectors_error_argument")
  expect_error(tfb_scale_matvec_linear_operator(
    list(lower_upper = diag(2), permutation = c(1, 3))),
    "permutation", class = "bijectors_error_permutation")
  expect_error(tfb_scale_matvec_linear_operator(matrix(1, 2, 3)), "scale",
               class = "bijectors_error_argument")
  expect_error(tfb_scale_matvec_linear_operator(diag(2), adjoint = 1),
               "adjoint", class = "bijectors_error_argument")
})

test_that("a full matrix is trained through its LU factors", {
  set.seed(402)
  y <- matrix(rnorm(400), 200) %*% rbind(c(2, 0.5), c(-1, 1))
  b <- tfb_scale_matvec_linear_operator(rbind(c(1, 0.2), c(0.3, 1)))
  flow <- expect_linear_fit_improves(b, y)
  expect_named(trainable_parameters(flow),
               c("lower_upper", "log_abs_diagonal"))
  expect_true(is.matrix(flow$bijector$scale))
})

test_that("the C entry points check their arguments again", {
  apply_linear <- function(...) .Call(bijectors:::C_linear_apply, ...)
  expect_error(apply_linear(0L, "a", integer(), 1, c(0L, 0L)), "double")
  expect_error(apply_linear(5L, 1, integer(), 1, c(0L, 0L)), "kind")
  expect_error(apply_linear(1L, c(1, 2, 3), integer(), 1, c(0L, 0L)),
               "square")
  expect_error(apply_linear(0L, c(1, 2), integer(), c(1, 2, 3), c(0L, 0L)),
               "last axis")
  expect_error(apply_linear(2L, diag(2), c(1L, 3L), c(1, 2), c(0L, 0L)),
               "permutation")
  expect_error(apply_linear(0L, 1, integer(), 1, 0L), "flags")
  expect_error(.Call(bijectors:::C_linear_outer, 1, c(1, 2), 1L), "length")
  expect_error(.Call(bijectors:::C_linear_lu_factor, 1:4), "double")
  expect_null(.Call(bijectors:::C_linear_lu_factor, matrix(0, 2, 2)))
})
