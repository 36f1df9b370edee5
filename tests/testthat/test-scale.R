# tfb_scale(): y = x * scale (or exp(log_scale)); log|scale| per element.

test_that("a scalar scale multiplies, as in tfprobability's test", {
  b <- tfb_scale(1.5)
  x <- matrix(1:6, 2, 3)
  expect_equal(b$forward(x), x * 1.5, tolerance = 1e-15)
  expect_equal(b$inverse(x * 1.5), matrix(as.double(1:6), 2, 3),
               tolerance = 1e-15)
  expect_identical(b$forward_min_event_ndims, 0L)
  expect_identical(b$inverse_min_event_ndims, 0L)
  expect_identical(b$name, "scale")
})

test_that("log_scale gives y = x * exp(log_scale)", {
  b <- tfb_scale(log_scale = 0.3)
  set.seed(31)
  x <- matrix(rnorm(8), 4, 2)
  expect_equal(b$forward(x), x * exp(0.3), tolerance = 1e-14)
  expect_equal(b$forward_log_det_jacobian(x, 1), 2 * 0.3, tolerance = 1e-14)
  expect_equal(b$inverse_log_det_jacobian(x, 1), -2 * 0.3, tolerance = 1e-14)
})

test_that("scalar scale log-dets are log|scale| times the event size", {
  set.seed(32)
  x <- array(rnorm(24), c(2, 3, 4))
  for (s in c(2, -0.5)) {
    b <- tfb_scale(s)
    expect_equal(b$forward_log_det_jacobian(x, 1), 4 * log(abs(s)),
                 tolerance = 1e-14)
    expect_equal(b$forward_log_det_jacobian(x, 2), 12 * log(abs(s)),
                 tolerance = 1e-14)
    expect_equal(b$forward_log_det_jacobian(x, 3), 24 * log(abs(s)),
                 tolerance = 1e-14)
    expect_equal(b$inverse_log_det_jacobian(x, 2), -12 * log(abs(s)),
                 tolerance = 1e-14)
    expect_log_det_events(b$forward_log_det_jacobian(x, 0),
                          rep(log(abs(s)), 24), tolerance = 1e-14)
  }
})

test_that("a vector scale acts along the last axis", {
  s <- c(2, -0.5, 3)
  b <- tfb_scale(s)
  set.seed(33)
  x <- matrix(rnorm(12), 4, 3, dimnames = list(NULL, c("u", "v", "w")))
  y <- sweep(x, 2, s, "*")
  expect_equal(b$forward(x), y, tolerance = 1e-15)
  expect_equal(b$inverse(y), x, tolerance = 1e-14)
  expect_equal(b$forward_log_det_jacobian(x, 1), sum(log(abs(s))),
               tolerance = 1e-14)
  expect_equal(b$inverse_log_det_jacobian(y, 2), -4 * sum(log(abs(s))),
               tolerance = 1e-14)
  # event_ndims 0: the elementwise log-det, in x's shape
  elementwise <- b$forward_log_det_jacobian(x, 0)
  expect_equal(unname(elementwise),
               matrix(log(abs(s)), 4, 3, byrow = TRUE), tolerance = 1e-14)
  arr <- array(rnorm(24), c(2, 4, 3))
  expect_equal(b$forward_log_det_jacobian(arr, 2), 4 * sum(log(abs(s))),
               tolerance = 1e-14)
})

test_that("scale passes the round trip and numerical Jacobian checks", {
  set.seed(34)
  y <- matrix(rnorm(15), 5, 3)
  expect_bijector_checks(tfb_scale(c(0.3, -1.7, 4)), y)
  expect_bijector_checks(tfb_scale(-2.5), y)
  expect_bijector_checks(tfb_scale(log_scale = c(-1, 0.2, 1.1)), y)
})

test_that("scale prints", {
  expect_snapshot(print(tfb_scale(2)))
  expect_snapshot(print(tfb_scale(log_scale = c(0.1, -0.2))))
})
