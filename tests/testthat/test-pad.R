# tfb_pad(): TFP's values, tf.pad()'s modes against an element-by-element
# reference, log-dets through the free coordinates, gradients, errors, and
# use in chains and transformed distributions.

test_that("TFP's and tfprobability's values", {
  b <- tfb_pad()
  expect_identical(b$forward(c(3, 4)), c(3, 4, 0))
  expect_identical(b$forward(rbind(c(1, 2), c(3, 4))),
                   rbind(c(1, 2, 0), c(3, 4, 0)))
  expect_identical(b$inverse(c(3, 4, 0)), c(3, 4))
  expect_identical(b$inverse(rbind(c(1, 2, 0), c(3, 4, 0))),
                   rbind(c(1, 2), c(3, 4)))
  expect_identical(b$forward_log_det_jacobian(43, 1), 0)
  expect_identical(b$inverse_log_det_jacobian(c(45, 0), 1), 0)
  b <- tfb_pad(list(c(1, 2), c(3, 4)))
  y <- b$forward(array(c(3, 4), c(1, 1, 2)))
  expect_identical(dim(y), c(1L, 4L, 9L))
  expected <- array(0, c(1, 4, 9))
  expected[1, 2, ] <- c(0, 0, 0, 3, 4, 0, 0, 0, 0)
  expect_identical(y, expected)
  x <- aperm(array(c(1, 2, 3, 4), c(2, 2, 1)), 3:1)   # [[[1, 2], [3, 4]]]
  y <- b$forward(x)
  expect_identical(dim(y), c(1L, 5L, 9L))
  expect_identical(y[1, 2, ], c(0, 0, 0, 1, 2, 0, 0, 0, 0))
  expect_identical(y[1, 3, ], c(0, 0, 0, 3, 4, 0, 0, 0, 0))
  expect_identical(sum(abs(y[1, -(2:3), ])), 0)
  expect_identical(b$inverse(y), x)
  # the docstring's axis = -2 and tfprobability's tests
  b <- tfb_pad(axis = -2)
  expect_identical(b$forward(matrix(c(3, 4), 1)), rbind(c(3, 4), c(0, 0)))
  expect_identical(dim(tfb_pad()$forward(c(1, 2))), NULL)
  expect_length(tfb_pad()$forward(c(1, 2)), 3L)
  expect_identical(dim(b$inverse(matrix(1, 2, 2))), c(1L, 2L))
  expect_identical(b$forward_min_event_ndims, 2L)
  expect_identical(tfb_pad()$forward_min_event_ndims, 1L)
  expect_identical(tfb_pad(list(c(2, 1)), mode = "reflect")$forward(c(1, 2, 3)),
                   c(3, 2, 1, 2, 3, 2))
  expect_identical(tfb_pad(list(c(2, 1)), mode = "symmetric")$forward(c(1, 2, 3)),
                   c(2, 1, 1, 2, 3, 3))
  expect_identical(tfb_pad(constant_values = -1)$forward(c(1, 2)), c(1, 2, -1))
})

test_that("event shapes", {
  b <- tfb_pad(list(c(1, 2), c(3, 4)))
  expect_identical(b$forward_event_shape(c(1, 2)), c(4L, 9L))
  expect_identical(b$inverse_event_shape(c(4, 9)), c(1L, 2L))
  expect_identical(b$forward_event_shape(c(7, 1, 2)), c(7L, 4L, 9L))
  expect_error(b$inverse_event_shape(c(2, 9)), "Invalid inverse shape",
               class = "bijectors_error_event_shape")
  expect_identical(tfb_pad(axis = -2)$forward_event_shape(c(3, 5)),
                   c(4L, 5L))
  expect_error(tfb_pad(list(c(3, 0)), mode = "REFLECT")$forward_event_shape(3),
               class = "bijectors_error_event_size")
})

test_that("every mode matches an element-by-element tf.pad reference", {
  set.seed(41)
  cases <- list(
    list(paddings = list(c(0, 1)), axis = -1),
    list(paddings = list(c(2, 1)), axis = -1),
    list(paddings = list(c(1, 0)), axis = -2),
    list(paddings = list(c(1, 2), c(2, 1)), axis = c(-2, -1)),
    list(paddings = list(c(1, 2), c(0, 2)), axis = c(-1, -2)),
    list(paddings = list(c(2, 0), c(1, 1), c(0, 1)), axis = c(-3, -1, -2))
  )
  for (case in cases) for (mode in c("CONSTANT", "REFLECT", "SYMMETRIC")) {
    x <- array(rnorm(2 * 3 * 4 * 3), c(2, 3, 4, 3))
    b <- tfb_pad(case$paddings, mode = mode, constant_values = 0.5,
                 axis = case$axis)
    y <- b$forward(x)
    expect_identical(y, ref_pad(x, case$paddings, mode, 0.5, case$axis))
    expect_identical(b$inverse(y), x)
    expect_identical(b$forward_event_shape(dim(x)[-1]), dim(y)[-1])
  }
})

test_that("log-dets are 0 through the free coordinates, sizes 2 to 6", {
  set.seed(42)
  for (k in 2:6) for (mode in c("CONSTANT", "REFLECT", "SYMMETRIC")) {
    b <- tfb_pad(list(c(1, 1)), mode = mode)
    x <- rnorm(k)
    jacobian <- ref_jacobian(function(v) b$forward(v), x)
    expect_identical(dim(jacobian), c(k + 2L, k))
    free <- jacobian[1 + seq_len(k), ]
    expect_equal(ref_log_abs_det(free), 0, tolerance = 1e-8)
    expect_identical(b$forward_log_det_jacobian(x, 1), 0)
    expect_identical(b$inverse_log_det_jacobian(b$forward(x), 1), -0)
  }
})

test_that("validate_args checks the padding; argument errors", {
  b <- tfb_pad(validate_args = TRUE, constant_values = 2)
  expect_identical(b$inverse(c(1, 2)), 1)
  expect_error(b$inverse(c(1, 3)), "not padded",
               class = "bijectors_error_domain")
  expect_identical(tfb_pad(constant_values = 2)$inverse(c(1, 3)), 1)
  r <- tfb_pad(list(c(1, 1)), mode = "REFLECT", validate_args = TRUE)
  expect_identical(r$inverse(c(2, 1, 2, 1)), c(1, 2))
  expect_error(r$inverse(c(2, 1, 2, 2)), class = "bijectors_error_domain")
  expect_error(tfb_pad(c(0, 1)), "list\\(c\\(0, 1\\)\\)",
               class = "bijectors_error_argument")
  expect_error(tfb_pad(list(c(0, -1))), "non-negative",
               class = "bijectors_error_argument")
  expect_error(tfb_pad(list(c(0, 1.5))), class = "bijectors_error_argument")
  expect_error(tfb_pad(list()), class = "bijectors_error_argument")
  expect_error(tfb_pad(mode = "edge"), class = "bijectors_error_argument")
  expect_error(tfb_pad(constant_values = "a"),
               class = "bijectors_error_argument")
  expect_error(tfb_pad(axis = 1), "negative", class = "bijectors_error_axis")
  expect_error(tfb_pad(list(c(0, 1), c(1, 0)), axis = c(-1, -1)),
               class = "bijectors_error_axis")
  expect_error(tfb_pad(list(c(0, 1)), axis = c(-1, -2)),
               "same number", class = "bijectors_error_argument")
  expect_identical(tfb_pad(matrix(c(1, 2, 3, 4), 2))$paddings,
                   matrix(c(1L, 2L, 3L, 4L), 2))
  expect_error(tfb_pad(axis = -2)$forward(c(1, 2)),
               class = "bijectors_error_input")
  expect_error(tfb_pad()$inverse(numeric(0)),
               class = "bijectors_error_event_shape")
  expect_error(tfb_pad(list(c(3, 0)), mode = "REFLECT")$forward(1:3),
               class = "bijectors_error_event_size")
})

test_that("a pad in a chain and a transformed distribution, with gradients", {
  # pad to 4 then shift: the last coordinate of y is the shift
  chain <- tfb_chain(list(tfb_shift(c(0.5, -0.5, 1, 2)), tfb_pad()))
  loc <- c(0.2, -0.1, 0.3)
  scale <- c(1, 0.8, 1.2)
  flow <- tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = loc, scale_diag = scale), chain)
  expect_identical(flow$event_shape, 4L)
  set.seed(43)
  y <- chain$forward(matrix(rnorm(15), 5))
  expect_identical(dim(y), c(5L, 4L))
  by_hand <- vapply(1:5, function(n) {
    x <- y[n, 1:3] - c(0.5, -0.5, 1)
    sum(dnorm(x, loc, scale, log = TRUE))
  }, numeric(1))
  expect_equal(flow$log_prob(y), by_hand, tolerance = 1e-12)
  draws <- flow$sample(6)
  expect_identical(dim(draws), c(6L, 4L))
  expect_identical(draws[, 4], rep(2, 6))
  expect_identical(dim(flow$sample(c(2, 3))), c(2L, 3L, 4L))
  lg <- loss_and_gradient(flow, y, input_gradient = TRUE)
  expect_equal(as.vector(lg$input), ref_loss_input_gradient(flow, y),
               tolerance = 1e-6)
  # the forward direction's backward pass in every mode: the VJP of the pad
  # against the transpose of a numerical Jacobian
  for (mode in c("CONSTANT", "REFLECT", "SYMMETRIC")) {
    b <- tfb_pad(list(c(1, 2), c(2, 0)), mode = mode, axis = c(-1, -2))
    x <- array(rnorm(2 * 3 * 3), c(2, 3, 3))
    pass <- bijectors:::bijector_forward_with_cache(b, x, 2)
    g <- array(rnorm(length(pass$y)), dim(pass$y))
    vjp <- bijectors:::bijector_forward_backward(b, pass$cache, g, c(1, 1))
    jacobian <- ref_jacobian(function(v) b$forward(array(v, dim(x))), x)
    expect_equal(as.vector(vjp$input), as.vector(crossprod(jacobian, as.vector(g))),
                 tolerance = 1e-8)
    inverse_pass <- bijectors:::bijector_inverse_with_cache(b, pass$y, 2)
    vjp <- bijectors:::bijector_inverse_backward(b, inverse_pass$cache, x,
                                                 c(1, 1))
    jacobian <- ref_jacobian(function(v) b$inverse(array(v, dim(pass$y))),
                             pass$y)
    expect_equal(as.vector(vjp$input), as.vector(crossprod(jacobian, as.vector(x))),
                 tolerance = 1e-8)
  }
  expect_silent(fit(flow, y, epochs = 2, batch_size = 5, verbose = FALSE))
})
