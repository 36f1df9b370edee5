# tfb_absolute_value(): TFP's AbsoluteValue, not injective, with the values
# of absolute_value_test.py and its docstring.

test_that("absolute value maps as TFP's test says, twice", {
  b <- tfb_absolute_value(validate_args = TRUE)
  x <- matrix(c(0, 1, -1, 0, -5, 3), 2, byrow = TRUE)
  y <- matrix(c(0, 1, 1, 0, 5, 3), 2, byrow = TRUE)
  for (repeated in 1:2) {
    expect_identical(b$forward(x), y)
    expect_identical(b$inverse(y), list(-y, y))
    expect_identical(b$inverse_log_det_jacobian(y, 0), list(0, 0))
  }
  # TFP's inverse(0) is the pair (-0, 0), not the point 0
  branches <- b$inverse(0)
  expect_identical(1 / unlist(branches), c(-Inf, Inf))
})

test_that("the docstring's and tfprobability's values", {
  b <- tfb_absolute_value()
  expect_identical(b$forward(c(-1, 0, 1)), c(1, 0, 1))
  expect_identical(b$inverse(1), list(-1, 1))
  expect_identical(b$inverse_log_det_jacobian(1, 0), list(0, 0))
  expect_identical(b$inverse_log_det_jacobian(0, 0), list(0, 0))
  expect_length(b$inverse(b$forward(-1.1)), 2L)
  # each log-det is TFP's scalar zero at every event_ndims
  y <- array(1:24 + 0, c(2, 3, 4))
  for (e in 0:3) {
    expect_identical(b$inverse_log_det_jacobian(y, e), list(0, 0))
  }
})

test_that("the forward log-det and densities through both branches are refused", {
  b <- tfb_absolute_value()
  expect_error(b$forward_log_det_jacobian(c(-1, 2), 0),
               class = "bijectors_error_unsupported")
  expect_snapshot(b$forward_log_det_jacobian(1, 0), error = TRUE)
  expect_error(b$forward_log_det_jacobian(1), class = "bijectors_error_event_ndims")
  flow <- tfd_transformed_distribution(tfd_normal(0, 1), b)
  expect_error(flow$log_prob(1), class = "bijectors_error_unsupported")
  expect_identical(length(flow$sample(3)), 3L)
})

test_that("validate_args checks that y is non-negative", {
  b <- tfb_absolute_value(validate_args = TRUE)
  expect_error(b$inverse(-1), class = "bijectors_error_domain")
  expect_error(b$inverse_log_det_jacobian(-1, 0),
               class = "bijectors_error_domain")
  expect_snapshot(b$inverse(-1), error = TRUE)
  expect_identical(b$forward(-2), 2)
  # without it, TFP's (-y, y) silently
  expect_identical(tfb_absolute_value()$inverse(-1), list(1, -1))
})

test_that("tfb_absolute_value() has tfprobability's signature and checks its arguments", {
  expect_identical(formals(tfb_absolute_value),
                   as.pairlist(alist(validate_args = FALSE,
                                     name = "absolute_value")))
  expect_error(tfb_absolute_value(validate_args = NA),
               class = "bijectors_error_argument")
  expect_error(tfb_absolute_value(name = TRUE),
               class = "bijectors_error_argument")
})

test_that("absolute value and its branches are exact across the line", {
  skip_if_not_installed("Rmpfr")
  b <- tfb_absolute_value()
  x <- accuracy_inputs()
  expect_ulps(b$forward(x), abs(mp(x)), max_ulps = 0, label = "forward",
              inputs = x)
  y <- accuracy_inputs(0, Inf)
  branches <- b$inverse(y)
  expect_ulps(branches[[1]], -mp(y), max_ulps = 0, label = "inverse, x < 0",
              inputs = y)
  expect_ulps(branches[[2]], mp(y), max_ulps = 0, label = "inverse, x > 0",
              inputs = y)
})
