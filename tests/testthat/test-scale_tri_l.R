# tfb_scale_tri_l() (deprecated): TFP's FillScaleTriL test values, the
# fill_triangular order, log-dets, errors.

# fill_triangular, written from the sheet's formula.
ref_fill_triangular <- function(x) {
  m <- length(x)
  n <- (sqrt(8 * m + 1) - 1) / 2
  l <- matrix(c(x[(n + 1):m], rev(x)), n, n, byrow = TRUE)
  l[upper.tri(l)] <- 0
  l
}

test_that("deprecated once; defaults as TFP (softplus, diag_shift 1e-5)", {
  bijectors:::reset_deprecations()
  expect_message(b <- tfb_scale_tri_l(), "tfb_fill_scale_tri_l",
                 class = "bijectors_deprecated")
  expect_silent(tfb_scale_tri_l())
  expect_identical(b$name, "scale_tril")
  expect_identical(c(b$forward_min_event_ndims, b$inverse_min_event_ndims),
                   c(1L, 2L))
  # the sheet's derived values at c(0, 0, 0)
  y <- b$forward(c(0, 0, 0))
  expect_equal(y, diag(log(2) + 1e-5, 2), tolerance = 1e-12)
  expect_equal(b$forward_log_det_jacobian(c(0, 0, 0), 1), 2 * log(0.5),
               tolerance = 1e-12)
})

test_that("TFP's FillScaleTriL values with an exp diagonal", {
  shift <- 1.61803398875
  b <- suppressMessages(tfb_scale_tri_l(tfb_exp(), diag_shift = shift))
  x <- c(-1, 0.5, 2)
  y <- rbind(c(exp(2) + shift, 0), c(0.5, exp(-1) + shift))
  expect_equal(b$forward(x), y, tolerance = 1e-4)
  expect_equal(b$inverse(y), x, tolerance = 1e-4)
  # RTFP's test: exp diagonal, no shift
  b <- suppressMessages(tfb_scale_tri_l(tfb_exp(), NULL))
  expect_equal(b$forward(c(0, 0, 0)), diag(2))
  expect_equal(b$inverse(rbind(c(1, 0), c(0.5, 2))), c(log(2), 0.5, log(1)),
               tolerance = 1e-6)
})

test_that("fill_triangular's order, batches, and fldj = -ildj", {
  b <- suppressMessages(tfb_scale_tri_l(tfb_exp(), NULL))
  expected <- rbind(c(4, 0, 0), c(6, 5, 0), c(3, 2, 1))
  diag(expected) <- exp(diag(expected))
  expect_equal(b$forward(1:6), expected)
  expect_equal(ref_fill_triangular(1:6) * lower.tri(diag(3)),
               expected * lower.tri(diag(3)))
  set.seed(501)
  b <- suppressMessages(tfb_scale_tri_l(diag_shift = 3.14159))
  x <- array(rnorm(12), c(2, 1, 6))
  y <- b$forward(x)
  expect_identical(dim(y), c(2L, 1L, 3L, 3L))
  expect_equal(b$forward_log_det_jacobian(x, 1),
               -b$inverse_log_det_jacobian(y, 2), tolerance = 1e-12)
  expect_equal(b$inverse(y), x, tolerance = 1e-12)
  for (i in 1:2) {
    l <- ref_fill_triangular(x[i, 1, ])
    d <- diag(l)
    diag(l) <- log1p(exp(d)) + 3.14159
    expect_equal(y[i, 1, , ], l, tolerance = 1e-12)
    expect_equal(b$forward_log_det_jacobian(x, 1)[i, 1],
                 sum(log(plogis(d))), tolerance = 1e-12)
  }
  expect_identical(b$forward_event_shape(10), c(4L, 4L))
  expect_identical(b$inverse_event_shape(c(4, 4)), 10L)
})

test_that("arguments and inputs are checked", {
  suppressMessages({
    expect_error(tfb_scale_tri_l(diag_bijector = "exp"), "diag_bijector",
                 class = "bijectors_error_bijector")
    expect_error(tfb_scale_tri_l(tfb_reshape(c(2, 2), 4)), "diag_bijector",
                 class = "bijectors_error_bijector")
    expect_error(tfb_scale_tri_l(diag_shift = NA), "diag_shift",
                 class = "bijectors_error_argument")
    expect_error(tfb_scale_tri_l(name = 1), "name",
                 class = "bijectors_error_argument")
    b <- tfb_scale_tri_l(validate_args = TRUE)
  })
  expect_error(b$forward(1:4), "triangular number",
               class = "bijectors_error_event_shape")
  expect_error(b$inverse(matrix(1, 2, 3)), class = "bijectors_error")
  # below the shift, softplus has no inverse: NaN, as in TFP
  expect_true(any(is.nan(suppressWarnings(b$inverse(diag(c(1, -1)))))))
})
