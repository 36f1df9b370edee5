# tfb_identity(): y = x, every log-det 0.

test_that("identity maps x to itself and keeps dim and dimnames", {
  x <- matrix(c(-1.5, 0, 2, 3.25, 7, -0.5), 3, 2,
              dimnames = list(NULL, c("a", "b")))
  b <- tfb_identity()
  expect_identical(b$forward(x), x)
  expect_identical(b$inverse(x), x)
  expect_identical(tfb_forward(b, x), x)
  expect_identical(tfb_inverse(b, x), x)
  expect_identical(b$forward(c(1, 2, 3)), c(1, 2, 3))
  arr <- array(seq_len(24) / 7, c(2, 3, 4))
  expect_identical(b$inverse(arr), arr)
  expect_identical(b$forward(1:3), c(1, 2, 3))
})

test_that("identity has min event ndims 0 and zero log-dets", {
  b <- tfb_identity()
  expect_identical(b$forward_min_event_ndims, 0L)
  expect_identical(b$inverse_min_event_ndims, 0L)
  expect_identical(b$name, "identity")
  x <- matrix(rnorm(6), 3, 2)
  for (event_ndims in 0:2) {
    expect_log_det_events(b$forward_log_det_jacobian(x, event_ndims), 0)
    expect_log_det_events(b$inverse_log_det_jacobian(x, event_ndims), 0)
  }
  expect_identical(tfb_identity(name = "id2")$name, "id2")
})

test_that("identity passes the round trip and numerical Jacobian checks", {
  set.seed(11)
  y <- matrix(rnorm(12), 4, 3)
  expect_bijector_checks(tfb_identity(), y)
})

test_that("identity prints", {
  expect_snapshot(print(tfb_identity()))
})
