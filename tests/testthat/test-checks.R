# R/checks.R: input coercion shared by every bijector.

test_that("nested lists of numbers are tensors, outer list first", {
  b <- tfb_identity()
  # list(c(1, 2), c(3, 4)) is [[1, 2], [3, 4]] in tfprobability
  expect_identical(b$forward(list(c(1, 2), c(3, 4))),
                   matrix(c(1, 3, 2, 4), 2))
  # one-number elements are scalars (reticulate's conversion)
  expect_identical(b$forward(list(1, 2, 3)), c(1, 2, 3))
  expect_identical(b$forward(list(list(1, 2))), matrix(c(1, 2), 1))
  expect_identical(b$forward(list(list(1))), matrix(1, 1, 1))
  # three levels: x[i, j, k] is element k of element j of element i
  x <- list(list(c(1, 2, 3), c(4, 5, 6)), list(c(7, 8, 9), c(10, 11, 12)))
  y <- b$forward(x)
  expect_identical(dim(y), c(2L, 2L, 3L))
  for (i in 1:2) for (j in 1:2) expect_identical(y[i, j, ], x[[i]][[j]])
  # integers become doubles; matrices inside a list keep their shape
  expect_identical(b$forward(list(1:2, 3:4)), matrix(c(1, 3, 2, 4), 2))
  m <- matrix(1:6, 2)
  expect_identical(b$forward(list(m, m + 6L))[2, , ], m + 6)
})

test_that("ragged or non-numeric lists are refused, naming the argument", {
  b <- tfb_identity()
  expect_error(b$forward(list(c(1, 2), 3)), "`x` is a ragged list",
               class = "bijectors_error_input")
  expect_error(b$inverse(list(list(1, 2), list(3))), "`y` is a ragged list",
               class = "bijectors_error_input")
  expect_error(b$forward(list(1, "a")), "nested list of numbers",
               class = "bijectors_error_input")
  expect_error(b$forward(list(1, NULL)), class = "bijectors_error_input")
  expect_error(b$forward(list()), class = "bijectors_error_input")
  expect_error(b$forward(list(factor(1))), class = "bijectors_error_input")
  # a list with a dim is not a nested list
  expect_error(b$forward(matrix(list(1, 2, 3, 4), 2)),
               class = "bijectors_error_input")
})

test_that("a list input gives the same results as its array", {
  b <- tfb_chain(list(tfb_shift(1), tfb_scale_matvec_diag(c(2, 3))))
  x <- list(c(0.5, -1), c(2, 4), c(1, 1))
  a <- rbind(c(0.5, -1), c(2, 4), c(1, 1))
  expect_identical(b$forward(x), b$forward(a))
  # a constant Jacobian's log-det is one number, as TFP's
  expect_equal(b$forward_log_det_jacobian(x, event_ndims = 1), log(6),
               tolerance = 1e-15)
  d <- tfd_multivariate_normal_diag(loc = c(0, 0), scale_diag = c(1, 1))
  expect_equal(d %>% tfd_log_prob(x),
               rowSums(dnorm(a, log = TRUE)), tolerance = 1e-14)
})

test_that("tensor parameters may be nested lists of numbers too", {
  # tfprobability users write tf$linalg$LinearOperatorLowerTriangular(
  # list(c(1, 0), c(2, 1))): a list of rows
  rows <- list(c(1, 0), c(2, 1))
  x <- c(1, 3)
  expect_identical(tfb_scale_matvec_tri_l(rows)$forward(x), c(1, 5))
  expect_identical(tfb_scale_matvec_linear_operator(rows)$forward(x),
                   c(1, 5))
  expect_equal(tfb_scale_matvec_diag(list(2, 3))$forward(x), c(2, 9),
               tolerance = 1e-15)
  expect_identical(tfb_shift(list(1, 2))$forward(x), c(2, 5))
  expect_identical(tfb_scale(list(2, 3))$forward(x), c(2, 9))
  expect_equal(tfd_normal(loc = list(0, 1), scale = list(1, 2)) %>%
                 tfd_log_prob(c(0, 0)),
               dnorm(c(0, 0), c(0, 1), c(1, 2), log = TRUE),
               tolerance = 1e-15)
  expect_equal(tfd_multivariate_normal_diag(loc = list(0, 1),
                                            scale_diag = list(1, 2)) %>%
                 tfd_log_prob(c(0, 0)),
               sum(dnorm(c(0, 0), c(0, 1), c(1, 2), log = TRUE)),
               tolerance = 1e-15)
  # LU factors stay a named list
  lu <- list(lower_upper = matrix(c(2, 0.5, 1, 3), 2), permutation = c(2, 1))
  w <- (diag(2) + matrix(c(0, 0.5, 0, 0), 2)) %*% matrix(c(2, 0, 1, 3), 2)
  w <- w[order(c(2, 1)), ]
  expect_equal(tfb_scale_matvec_linear_operator(lu)$forward(x),
               as.vector(w %*% x), tolerance = 1e-15)
})

test_that("parameter lists that are not tensors keep their errors", {
  expect_error(tfb_shift(list(1, "a")), "`shift`",
               class = "bijectors_error")
  expect_error(tfb_scale_matvec_tri_l(list(c(1, 0), 2)), "`scale_tril`",
               class = "bijectors_error")
  expect_error(tfd_normal(loc = list(0, list(1, 2)), scale = 1), "`loc`",
               class = "bijectors_error")
  expect_error(tfb_scale_matvec_linear_operator(list(a = 1, b = 2)),
               "lower_upper", class = "bijectors_error")
})
