# tfb_permute(): 1-based permutations, y[..., i] = x[..., perm[i]].

test_that("permute reorders the last axis (tfprobability's test, 1-based)", {
  b <- tfb_permute(c(2L, 4L, 1L, 3L))
  x <- seq(0, 1, by = 0.3)
  expect_equal(b$forward(x), c(0.3, 0.9, 0, 0.6), tolerance = 1e-15)
  expect_equal(b$inverse(c(0.3, 0.9, 0, 0.6)), x, tolerance = 1e-15)
  expect_identical(b$forward_min_event_ndims, 1L)
  expect_identical(b$inverse_min_event_ndims, 1L)
})

test_that("permute matches the plain-R reference on matrices and arrays", {
  perm <- c(3, 1, 5, 2, 4)
  b <- tfb_permute(perm)
  set.seed(41)
  x <- matrix(rnorm(20), 4, 5)
  expect_identical(b$forward(x), ref_permute_forward(x, perm))
  expect_identical(b$inverse(x), ref_permute_inverse(x, perm))
  expect_identical(b$inverse(b$forward(x)), x)
  arr <- array(rnorm(30), c(2, 3, 5))
  out <- b$forward(arr)
  expect_identical(out, arr[, , perm])
  expect_identical(b$inverse(out), arr)
  # doubles that are whole numbers are accepted
  expect_identical(tfb_permute(c(2, 1))$forward(c(5, 7)), c(7, 5))
})

test_that("permute along axis -2 reverses the rows of each event", {
  b <- tfb_permute(c(3L, 2L, 1L), axis = -2L)
  expect_identical(b$forward_min_event_ndims, 2L)
  x <- matrix(1:6, 3, 2)
  expect_equal(b$forward(x), matrix(as.double(x[3:1, ]), 3, 2))
  set.seed(42)
  arr <- array(rnorm(24), c(4, 3, 2))
  expect_identical(b$forward(arr), arr[, 3:1, ])
  expect_identical(b$inverse(b$forward(arr)), arr)
  expect_log_det_events(b$forward_log_det_jacobian(arr, 2), 0)
})

test_that("permute log-dets are 0 and the Jacobian checks pass", {
  b <- tfb_permute(c(2, 3, 1))
  set.seed(43)
  y <- matrix(rnorm(12), 4, 3)
  expect_log_det_events(b$forward_log_det_jacobian(y, 1), 0)
  expect_log_det_events(b$inverse_log_det_jacobian(y, 2), 0)
  expect_bijector_checks(b, y)
})

test_that("permute prints", {
  expect_snapshot(print(tfb_permute(c(3, 1, 2))))
  expect_snapshot(print(tfb_permute(c(2, 1), axis = -2L, name = "rows")))
})

test_that("a permutation may be a list, as tfprobability passes it", {
  x <- seq(0, 0.9, by = 0.3)
  # tfprobability's test, list(1, 3, 0, 2), is 0-based: 1-based here
  b <- tfb_permute(list(2, 4, 1, 3))
  expect_identical(b$permutation, c(2L, 4L, 1L, 3L))
  expect_equal(b$forward(x), c(0.3, 0.9, 0, 0.6), tolerance = 1e-15)
  expect_equal(b$inverse(b$forward(x)), x, tolerance = 0)
  expect_identical(tfb_permute(list(2L, 1L))$forward(c(5, 7)), c(7, 5))
  rows <- tfb_permute(list(3, 2, 1), axis = -2)
  m <- matrix(1:6, 3, 2)
  expect_equal(rows$forward(m), matrix(as.double(m[3:1, ]), 3, 2))
})

test_that("a 0-based list gets the same hint as a 0-based vector", {
  expect_error(tfb_permute(list(1, 3, 0, 2)),
               class = "bijectors_error_permutation")
  expect_error(tfb_permute(list(1, 3, 0, 2)), "1-based")
  expect_error(tfb_permute(list(1, 0)), "unlist(permutation) + 1",
               fixed = TRUE)
  expect_snapshot(error = TRUE, tfb_permute(list(1, 3, 0, 2)))
})

test_that("lists that are not permutations are refused", {
  for (bad in list(list(), list(1, 1), list(1, 3), list(c(1, 2)),
                   list("1", "2"), list(1, NA), list(1.5, 2), list(list(1)),
                   list(1, NULL))) {
    expect_error(tfb_permute(bad), class = "bijectors_error_permutation")
  }
})
