# tfb_shift(): y = x + shift along the last axis, log-det 0.

test_that("a scalar shift adds to every element", {
  b <- tfb_shift(0.77)
  expect_equal(b$forward(0), 0.77, tolerance = 1e-15)
  x <- matrix(c(1, 2, 3, 4, 5, 6), 3, 2, dimnames = list(letters[1:3], NULL))
  expect_identical(b$forward(x), x + 0.77)
  expect_identical(b$inverse(x), x - 0.77)
  expect_identical(tfb_forward(b, x), x + 0.77)
})

test_that("a vector shift broadcasts along the last axis", {
  shift <- c(1, -2, 0.5)
  b <- tfb_shift(shift)
  set.seed(21)
  x <- matrix(rnorm(12), 4, 3)
  expected <- sweep(x, 2, shift, "+")
  expect_equal(b$forward(x), expected, tolerance = 1e-15)
  expect_equal(b$inverse(expected), x, tolerance = 1e-14)
  expect_equal(b$forward(c(0, 0, 0)), shift, tolerance = 1e-15)
  arr <- array(rnorm(24), c(2, 4, 3))
  out <- b$forward(arr)
  expect_identical(dim(out), c(2L, 4L, 3L))
  for (k in 1:3) {
    expect_equal(out[, , k], arr[, , k] + shift[k], tolerance = 1e-15)
  }
})

test_that("shift log-dets are 0 for every event_ndims", {
  b <- tfb_shift(c(1, 2))
  expect_identical(b$forward_min_event_ndims, 0L)
  expect_identical(b$inverse_min_event_ndims, 0L)
  x <- matrix(rnorm(10), 5, 2)
  for (event_ndims in 0:2) {
    expect_log_det_events(b$forward_log_det_jacobian(x, event_ndims), 0)
    expect_log_det_events(b$inverse_log_det_jacobian(x, event_ndims), 0)
  }
})

test_that("shift passes the round trip and numerical Jacobian checks", {
  set.seed(22)
  y <- matrix(rnorm(15), 5, 3)
  expect_bijector_checks(tfb_shift(c(0.3, -1, 4)), y)
  expect_bijector_checks(tfb_shift(-2.5), y)
})

test_that("shift prints", {
  expect_snapshot(print(tfb_shift(c(1, 2.5))))
  expect_snapshot(print(tfb_shift(3, name = "my_shift")))
})
