# tfb_split(): TFP's Split, a multipart bijector whose forward gives an R
# list of arrays, against a plain-R reference with loops.

# The parts of x along dim `along` (1-based), element by element.
ref_split <- function(x, sizes, along) {
  dims <- dim(x) %||% length(x)
  start <- 0
  parts <- list()
  for (k in seq_along(sizes)) {
    part_dims <- dims
    part_dims[[along]] <- sizes[[k]]
    part <- array(0, part_dims)
    index <- arrayInd(seq_len(prod(part_dims)), part_dims)
    for (i in seq_len(nrow(index))) {
      source <- index[i, ]
      source[[along]] <- source[[along]] + start
      part[matrix(index[i, ], 1)] <- x[matrix(source, 1)]
    }
    parts[[k]] <- if (length(dims) == 1L) as.vector(part) else part
    start <- start + sizes[[k]]
  }
  parts
}

test_that("TFP's tests: sizes, a -1, equal parts, on several axes", {
  set.seed(1)
  # [1, 3, 2, 1, 5] along axis -1 of [2, 5, 12]
  x <- array(rnorm(120), c(2, 5, 12))
  b <- tfb_split(c(1, 3, 2, 1, 5))
  y <- b$forward(x)
  expect_length(y, 5L)
  expect_identical(y, ref_split(x, c(1, 3, 2, 1, 5), 3))
  expect_identical(b$inverse(y), x)
  expect_identical(b$forward_min_event_ndims, 1L)
  expect_identical(b$inverse_min_event_ndims, rep(1L, 5))
  expect_identical(b$forward_log_det_jacobian(x, 1), 0)
  expect_identical(b$inverse_log_det_jacobian(y, rep(1, 5)), 0)
  # [2, -1] along axis -2 of [2, 5, 12] gives sizes [2, 3]
  b <- tfb_split(list(2, -1), axis = -2)
  y <- b$forward(x)
  expect_identical(lapply(y, dim), list(c(2L, 2L, 12L), c(2L, 3L, 12L)))
  expect_identical(y, ref_split(x, c(2, 3), 2))
  expect_identical(b$inverse(y), x)
  expect_identical(b$inverse_log_det_jacobian(y, c(2, 2)), 0)
  expect_identical(b$split_sizes, c(2L, NA))
  # 3 along axis -1 of [4, 15] gives [5, 5, 5]
  x <- matrix(rnorm(60), 4)
  b <- tfb_split(3)
  y <- b$forward(x)
  expect_identical(lapply(y, dim), rep(list(c(4L, 5L)), 3))
  expect_identical(y, ref_split(x, c(5, 5, 5), 2))
  expect_identical(b$inverse(y), x)
  # event shapes: axis -2, [2, 3, 2], [-1, 3, 2] or 4 on [sum, 2]
  for (splits in list(c(2, 3, 2), c(-1, 3, 2))) {
    b <- tfb_split(splits, axis = -2)
    expect_identical(b$forward_event_shape(c(7, 2)),
                     list(c(2L, 2L), c(3L, 2L), c(2L, 2L)))
    expect_identical(b$inverse_event_shape(list(c(2, 2), c(3, 2), c(2, 2))),
                     c(7L, 2L))
  }
  expect_identical(tfb_split(4, axis = -2)$forward_event_shape(c(8, 2)),
                   rep(list(c(2L, 2L)), 4))
  # tfprobability's test: c(3, 2, 1) on axis -2 of array(0, c(6, 6, 6))
  b <- tfb_split(c(3, 2, 1), axis = -2)
  x <- array(0, c(6, 6, 6))
  expect_identical(b$inverse(b$forward(x)), x)
  # vectors: a single event
  expect_identical(tfb_split(c(2, 1))$forward(c(1, 2, 3)), list(c(1, 2), 3))
  expect_identical(tfb_split(c(2, 1))$inverse(list(c(1, 2), 3)), c(1, 2, 3))
})

test_that("against the loop reference on random shapes and axes", {
  set.seed(2)
  for (trial in 1:8) {
    rank <- sample(1:4, 1)
    dims <- sample(2:5, rank, replace = TRUE)
    axis <- -sample(seq_len(rank), 1)
    along <- rank + 1 + axis
    total <- dims[[along]]
    sizes <- diff(c(0, sort(sample(0:total, 2, replace = TRUE)), total))
    x <- array(rnorm(prod(dims)), dims)
    if (rank == 1L) x <- as.vector(x)
    b <- tfb_split(sizes, axis = axis)
    y <- b$forward(x)
    expect_identical(y, ref_split(x, sizes, along))
    expect_identical(b$inverse(y), x)
  }
})

test_that("log-dets: 0, against numerical Jacobians for sizes 2 to 6", {
  for (size in 2:6) {
    b <- tfb_split(c(1, -1))
    v <- rnorm(size)
    jacobian <- ref_jacobian(function(u) unlist(b$forward(u)), v)
    expect_equal(ref_log_abs_det(jacobian), b$forward_log_det_jacobian(v, 1),
                 tolerance = 1e-8)
    expect_identical(b$inverse_log_det_jacobian(b$forward(v), c(1, 1)), 0)
  }
  # the parts interact: their event ndims must agree
  b <- tfb_split(c(1, 2))
  y <- b$forward(matrix(1:6, 2))
  expect_error(b$inverse_log_det_jacobian(y, c(1, 2)), "must be equal",
               class = "bijectors_error_event_ndims")
  expect_identical(b$inverse_log_det_jacobian(y, 2), 0)
  expect_error(b$inverse_log_det_jacobian(y, c(3, 3)),
               class = "bijectors_error_event_ndims")
})

test_that("argument, size and validate_args errors", {
  expect_error(tfb_split(c(1, -1, -1)), "at most one",
               class = "bijectors_error_argument")
  expect_error(tfb_split(c(1, -2)), "non-negative integers or `-1`",
               class = "bijectors_error_argument")
  expect_error(tfb_split(0), class = "bijectors_error_argument")
  expect_error(tfb_split(1.5), class = "bijectors_error_argument")
  expect_error(tfb_split("a"), class = "bijectors_error_argument")
  expect_error(tfb_split(list(1, c(2, 3))), class = "bijectors_error_argument")
  expect_error(tfb_split(2, axis = 1), "negative",
               class = "bijectors_error_axis")
  expect_error(tfb_split(2, axis = 0), class = "bijectors_error_axis")
  expect_error(tfb_split(2, validate_args = NA),
               class = "bijectors_error_argument")
  b <- tfb_split(4, validate_args = TRUE)
  expect_error(b$forward(matrix(0, 2, 6)), "must divide",
               class = "bijectors_error_event_size")
  b <- tfb_split(c(2, 3))
  expect_error(b$forward(1:4), "must equal the sum",
               class = "bijectors_error_event_size")
  expect_error(tfb_split(c(2, -1))$forward(1), "at least the sum",
               class = "bijectors_error_event_size")
  expect_error(b$inverse(list(1:2)), "list of 2",
               class = "bijectors_error_input")
  expect_error(b$inverse(list(1:3, 1:2)), "does not match expected",
               class = "bijectors_error_event_size")
  expect_error(b$inverse(list(matrix(0, 2, 2), matrix(0, 3, 3))),
               "same dims", class = "bijectors_error_event_shape")
  expect_error(tfb_split(2, axis = -3)$forward(matrix(0, 2, 2)),
               "rank", class = "bijectors_error_input")
})

test_that("backward passes and inside a blockwise-style flow by hand", {
  b <- tfb_split(c(2, 1))
  x <- matrix(rnorm(6), 2)
  pass <- bijectors:::bijector_forward_with_cache(b, x, 1)
  expect_identical(pass$y, b$forward(x))
  grad <- list(matrix(1:4, 2), matrix(5:6, 2))
  expect_identical(
    bijectors:::bijector_forward_backward(b, pass$cache, grad, 1)$input,
    matrix(as.double(1:6), 2))
  pass <- bijectors:::bijector_inverse_with_cache(b, pass$y, c(1, 1))
  expect_identical(pass$x, x)
  back <- bijectors:::bijector_inverse_backward(b, NULL, matrix(1:6, 2), 1)
  expect_identical(back$input, list(matrix(as.double(1:4), 2),
                                    matrix(c(5, 6), 2)))
  # a split, each part through its own bijector, and the join: the density
  # of the result by the change of variables by hand
  parts <- b$forward(x)
  y <- b$inverse(list(exp(parts[[1]]), parts[[2]] * 2))
  expect_equal(y, cbind(exp(x[, 1:2]), x[, 3] * 2), tolerance = 1e-15)
  expect_snapshot(print(tfb_split(list(2, -1), axis = -2)))
  # inverted, the join is the forward map; chains refuse multipart members
  joined <- tfb_invert(b)
  expect_identical(joined$forward(parts), x)
  expect_identical(joined$inverse(x), parts)
  expect_identical(joined$forward_log_det_jacobian(parts, c(1, 1)), 0)
  expect_snapshot(print(joined))
  expect_error(tfb_chain(list(tfb_exp(), b)), "multipart",
               class = "bijectors_error_bijector")
})
