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
