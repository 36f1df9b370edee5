# tfb_discrete_cosine_transform(): TFP's orthonormal DCT-II and DCT-III
# along the last axis, against a plain-R reference built from the cosine
# sums, in chains, flows and with gradients.

# The orthonormal DCT-II matrix, entry by entry: row k, column n.
ref_dct2_matrix <- function(size) {
  out <- matrix(0, size, size)
  for (k in seq_len(size)) {
    scale <- if (k == 1L) sqrt(1 / size) else sqrt(2 / size)
    for (n in seq_len(size)) {
      out[k, n] <- scale * cos(pi * (k - 1) * (2 * n - 1) / (2 * size))
    }
  }
  out
}

# The transform of each event (rows of a matrix, or a vector) by loops.
ref_dct <- function(x, type) {
  one <- function(v) {
    m <- ref_dct2_matrix(length(v))
    if (type == 3) m <- t(m)
    out <- numeric(length(v))
    for (k in seq_along(v)) out[[k]] <- sum(m[k, ] * v)
    out
  }
  ref_by_row(x, one)
}

test_that("TFP's values (derived from scipy's definition) for x = 1:4", {
  b2 <- tfb_discrete_cosine_transform()
  b3 <- tfb_discrete_cosine_transform(dct_type = 3)
  expect_equal(b2$forward(c(1, 2, 3, 4)),
               c(5, -2.230442497, 0, -0.1585126678), tolerance = 1e-9)
  expect_equal(b3$forward(c(1, 2, 3, 4)),
               c(4.388955165, -3.07192983, 1.07192983, -0.3889551652),
               tolerance = 1e-9)
  expect_identical(b2$forward_min_event_ndims, 1L)
  expect_identical(b2$inverse_min_event_ndims, 1L)
  expect_identical(b2$dct_type, 2L)
  expect_identical(b3$name, "dct")
  # TFP's test: random x of shape [6, 5, 4]; log-dets exactly 0
  set.seed(1)
  x <- array(rnorm(120), c(6, 5, 4))
  for (type in 2:3) {
    b <- tfb_discrete_cosine_transform(dct_type = type)
    y <- b$forward(x)
    expect_identical(dim(y), dim(x))
    expect_equal(matrix(y, 30), ref_dct(matrix(x, 30), type),
                 tolerance = 1e-13)
    expect_equal(b$inverse(y), x, tolerance = 1e-13)
    for (e in 1:3) {
      expect_identical(b$forward_log_det_jacobian(x, event_ndims = e), 0)
      expect_identical(b$inverse_log_det_jacobian(y, event_ndims = e), 0)
    }
  }
  # tfprobability's test: a round trip of runif(100)
  set.seed(2)
  x <- runif(100)
  expect_equal(b2$inverse(b2$forward(x)), x, tolerance = 1e-13)
})

test_that("against the loop reference for sizes 1 to 40 and both types", {
  set.seed(3)
  for (size in c(1:12, 17, 31, 32, 40)) {
    x <- matrix(rnorm(3 * size), 3)
    for (type in 2:3) {
      b <- tfb_discrete_cosine_transform(dct_type = type)
      expect_equal(b$forward(x), ref_dct(x, type), tolerance = 1e-13,
                   label = sprintf("size %d type %d", size, type))
      expect_equal(b$inverse(x), ref_dct(x, 5 - type), tolerance = 1e-13)
    }
  }
  # a large event: orthogonality keeps the norm, and the round trip holds
  x <- rnorm(3000)
  y <- tfb_discrete_cosine_transform()$forward(x)
  expect_equal(sum(y^2), sum(x^2), tolerance = 1e-13)
  expect_equal(tfb_discrete_cosine_transform()$inverse(y), x,
               tolerance = 1e-13)
  # events of size 0 come back unchanged
  expect_identical(tfb_discrete_cosine_transform()$forward(matrix(0, 3, 0)),
                   matrix(0, 3, 0))
})

test_that("log-dets against numerical Jacobians for sizes 2 to 6", {
  for (size in 2:6) {
    for (type in 2:3) {
      b <- tfb_discrete_cosine_transform(dct_type = type)
      v <- rnorm(size)
      jacobian <- ref_jacobian(function(u) b$forward(u), v)
      matrix_ref <- ref_dct2_matrix(size)
      if (type == 3) matrix_ref <- t(matrix_ref)
      expect_equal(jacobian, matrix_ref, tolerance = 1e-8)
      expect_equal(ref_log_abs_det(jacobian),
                   b$forward_log_det_jacobian(v, 1), tolerance = 1e-8)
      expect_identical(b$inverse_log_det_jacobian(v, 1),
                       -b$forward_log_det_jacobian(v, 1))
    }
  }
})

test_that("argument errors", {
  expect_error(tfb_discrete_cosine_transform(dct_type = 1),
               class = "bijectors_error_argument")
  expect_error(tfb_discrete_cosine_transform(dct_type = 4), "2 or 3",
               class = "bijectors_error_argument")
  expect_error(tfb_discrete_cosine_transform(dct_type = "2"),
               class = "bijectors_error_argument")
  # R's argument order: the first positional argument is validate_args
  expect_error(tfb_discrete_cosine_transform(3),
               class = "bijectors_error_argument")
  expect_error(tfb_discrete_cosine_transform(name = 1),
               class = "bijectors_error_argument")
  b <- tfb_discrete_cosine_transform(validate_args = TRUE)
  expect_error(b$forward("a"), class = "bijectors_error_input")
  expect_error(b$forward_log_det_jacobian(1:3, 2),
               class = "bijectors_error_event_ndims")
  expect_error(b$forward_log_det_jacobian(1:3, 0),
               class = "bijectors_error_event_ndims")
})

test_that("inside a chain and a transformed distribution, with gradients", {
  scale <- c(2, 0.5, 1.5, 0.8)
  chain <- tfb_chain(list(tfb_shift(c(1, -1, 0.5, 0)),
                          tfb_discrete_cosine_transform(),
                          tfb_scale(scale)))
  base <- tfd_multivariate_normal_diag(loc = c(0.1, 0, -0.2, 0.3),
                                       scale_diag = c(1, 1.2, 0.7, 1.1))
  flow <- tfd_transformed_distribution(base, chain)
  set.seed(4)
  y <- matrix(rnorm(20), 5)
  by_hand <- vapply(1:5, function(n) {
    z <- y[n, ] - c(1, -1, 0.5, 0)
    u <- as.vector(t(ref_dct2_matrix(4)) %*% z)
    x <- u / scale
    sum(dnorm(x, c(0.1, 0, -0.2, 0.3), c(1, 1.2, 0.7, 1.1), log = TRUE)) -
      sum(log(abs(scale)))
  }, numeric(1))
  expect_equal(flow$log_prob(y), by_hand, tolerance = 1e-12)
  set.seed(5)
  expect_identical(dim(flow$sample(7)), c(7L, 4L))
  expect_identical(dim(flow$sample(c(2, 3))), c(2L, 3L, 4L))
  # gradients of the loss for parameters and input, both directions
  expect_flow_gradients(flow, y)
  expect_flow_gradients(
    tfd_transformed_distribution(base, tfb_invert(chain)), y)
  expect_silent(fit(flow, y, epochs = 2, batch_size = 5, verbose = FALSE))
})

# The FFT's sums overflowed for events of entries near the largest
# doubles, whose transform is finite (c(1.5e308, 1e308, -1.2e308, 1.7e308)
# gave NaN and Inf); such events are scaled by a power of 2.
test_that("events near the largest doubles give their finite transform", {
  big <- c(1.5e308, 1e308, -1.2e308, 1.7e308)
  ordinary <- c(0.3, -1.2, 2.5, 0.7)
  x <- rbind(big, ordinary, 2e-310 * ordinary, deparse.level = 0)
  for (type in 2:3) {
    b <- tfb_discrete_cosine_transform(dct_type = type)
    y <- b$forward(x)
    # the direct O(N^2) sum in plain R, of the event scaled by 2^-1000
    # (exact) and scaled back: Inf only where the true value is beyond
    # the largest double (type 3's third output, 2.19e308 by Rmpfr)
    expected <- ref_dct(big * 2^-1000, type) * 2^1000
    finite <- is.finite(expected)
    expect_identical(sum(finite), if (type == 2) 4L else 3L)
    expect_identical(is.finite(y[1, ]), finite)
    expect_identical(y[1, !finite], expected[!finite])
    ulp_of_largest <- 2^-52 * 2^floor(log2(max(abs(expected[finite]))))
    expect_lte(max(abs(y[1, finite] - expected[finite])), 4 * ulp_of_largest)
    # an ordinary event in the same call keeps its bits
    expect_identical(y[2, ], b$forward(ordinary))
    # subnormal entries: the transform of the ordinary event, scaled
    expect_equal(y[3, ] / 2e-310, ref_dct(ordinary, type), tolerance = 1e-11)
  }
  b <- tfb_discrete_cosine_transform()
  expect_equal(b$inverse(b$forward(big)), big, tolerance = 1e-15)
})
