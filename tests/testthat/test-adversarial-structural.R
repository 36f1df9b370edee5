# A second hostile pass: structural and matrix bijectors, distributions,
# composition, tfb_inline() callbacks, state and saving. Each test here
# pins a defect that the pass found, with values computed independently of
# the package (plain R) or the exact error expected.

# trainable_parameters<- checked only the length of each value, so a
# transposed kernel was taken and read in the wrong order.
test_that("trainable_parameters<- refuses a matrix of the wrong shape and changes nothing", {
  set.seed(11)
  flow <- tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = rep(0, 3)),
    tfb_masked_autoregressive_flow(
      tfb_masked_autoregressive_default_template(c(8L))))
  x <- matrix(rnorm(30), 10, 3)
  log_prob_before <- tfd_log_prob(flow, x)
  p <- trainable_parameters(flow)
  kernel <- p[["layer1/kernel"]]
  expect_identical(dim(kernel), c(3L, 8L))
  bad <- p
  bad[["layer1/kernel"]] <- t(kernel)
  expect_error(trainable_parameters(flow) <- bad,
               "must have the parameter's shape \\[3, 8\\], not \\[8, 3\\]",
               class = "bijectors_error_argument")
  expect_identical(trainable_parameters(flow), p)
  expect_identical(tfd_log_prob(flow, x), log_prob_before)

  # the same numbers as a plain vector (the parameter's order) or with axes
  # of length 1 are taken
  plain <- p
  plain[["layer1/kernel"]] <- as.vector(kernel) * 2
  trainable_parameters(flow) <- plain
  expect_identical(as.vector(trainable_parameters(flow)[["layer1/kernel"]]),
                   as.vector(kernel) * 2)
  row <- p
  row[["layer1/bias"]] <- matrix(p[["layer1/bias"]] + 1, nrow = 1L)
  trainable_parameters(flow) <- row
  expect_identical(as.vector(trainable_parameters(flow)[["layer1/bias"]]),
                   as.vector(p[["layer1/bias"]] + 1))
})

test_that("trainable_parameters<- refuses a transposed scale_tril", {
  tril <- matrix(c(2, 0.5, 0.25, 0, 3, 0.75, 0, 0, 4), 3, 3)
  flow <- tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = rep(0, 3)),
    tfb_scale_matvec_tri_l(tril))
  p <- trainable_parameters(flow)
  bad <- p
  bad[["scale_tril"]] <- matrix(1:6, 2, 3)
  expect_error(trainable_parameters(flow) <- bad, "must hold 9",
               class = "bijectors_error_argument")
  bad[["scale_tril"]] <- array(p[["scale_tril"]], c(3, 3, 1))
  trainable_parameters(flow) <- bad
  expect_identical(trainable_parameters(flow), p)
  bad[["scale_tril"]] <- array(p[["scale_tril"]], c(1, 9))
  expect_error(trainable_parameters(flow) <- bad, "\\[3, 3\\], not \\[1, 9\\]",
               class = "bijectors_error_argument")
  expect_identical(trainable_parameters(flow), p)
})

# tfb_inline() passed on whatever its functions returned: a forward_fn that
# dropped a value gave a shorter vector, silently.
test_that("tfb_inline() refuses a map that changes the length without event-shape functions", {
  x <- matrix(c(0.5, 1, 2, 4, 8, 16), 2, 3)
  drop_one <- tfb_inline(forward_fn = function(x) x[-1],
                         inverse_fn = function(y) c(y, 1),
                         forward_min_event_ndims = 0)
  expect_error(drop_one$forward(x),
               "`forward_fn` must return a value of the shape of its input \\(\\[2, 3\\], 6 values\\).*returned 5 values",
               class = "bijectors_error_inline")
  expect_error(tfb_inverse(drop_one, x), "`inverse_fn`.*returned 7 values",
               class = "bijectors_error_inline")
  # a function that drops the dims keeps the values, in the input's shape
  flat <- tfb_inline(forward_fn = function(x) sapply(x, function(v) v^2),
                     inverse_fn = function(y) sqrt(as.vector(y)),
                     forward_min_event_ndims = 0)
  named <- x
  dimnames(named) <- list(c("a", "b"), c("p", "q", "r"))
  y <- flat$forward(named)
  expect_identical(y, named^2)
  expect_identical(flat$inverse(y), named)
  # with an event-shape function the size may change
  grow <- tfb_inline(forward_fn = function(x) cbind(x, 0),
                     inverse_fn = function(y) y[, -ncol(y), drop = FALSE],
                     forward_event_shape_fn = function(s) s + 1L,
                     inverse_event_shape_fn = function(s) s - 1L,
                     forward_min_event_ndims = 1)
  expect_identical(dim(grow$forward(x)), c(2L, 4L))
})

# The DCT built its output from as.vector() and lost the input's names,
# unlike every other shape-preserving bijector.
test_that("tfb_discrete_cosine_transform() keeps dimnames and names", {
  x <- matrix(c(1, -2, 0.5, 3, 4, -1, 2, 0), 2, 4,
              dimnames = list(c("a", "b"), c("w", "x", "y", "z")))
  n <- 4
  # orthonormal DCT-II as a plain matrix: C[k, j] = s_k cos(pi (j - 1/2) (k - 1) / n)
  dct <- outer(0:(n - 1), 0:(n - 1),
               function(k, j) cos(pi * (j + 0.5) * k / n))
  dct <- dct * c(sqrt(1 / n), rep(sqrt(2 / n), n - 1))
  expected <- x %*% t(dct)
  dimnames(expected) <- dimnames(x)
  b <- tfb_discrete_cosine_transform()
  y <- b$forward(x)
  expect_identical(dimnames(y), dimnames(x))
  expect_equal(y, expected, tolerance = 1e-13)
  expect_identical(dimnames(b$inverse(y)), dimnames(x))
  v <- c(p = 1, q = 2, r = 4)
  expect_identical(names(b$forward(v)), c("p", "q", "r"))
})

# A list of paddings with one bad pair was described as "an object of class
# <list>", which did not say which pair or what was wrong.
test_that("tfb_pad() names the bad pair of a list of paddings", {
  expect_error(tfb_pad(list(c(NA, 0))),
               "list\\(c\\(0, 1\\)\\); `paddings\\[\\[1\\]\\]` is c\\(NA, 0\\)\\.",
               class = "bijectors_error_argument")
  expect_error(tfb_pad(list(c(0, 1), c(1, 0.5)), axis = c(-2, -1)),
               "; `paddings\\[\\[2\\]\\]` is c\\(1, 0.5\\)\\.",
               class = "bijectors_error_argument")
  expect_error(tfb_pad(list(c(0, 1), 1:3), axis = c(-2, -1)),
               "`paddings\\[\\[2\\]\\]` is c\\(1, 2, 3\\)\\.",
               class = "bijectors_error_argument")
})

# options(bijectors.compiled_plan = "no") counted as enabled: only FALSE was
# looked for.
test_that("options(bijectors.compiled_plan = ) must be TRUE or FALSE", {
  set.seed(12)
  flow <- tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = rep(0, 2)),
    tfb_masked_autoregressive_flow(
      tfb_masked_autoregressive_default_template(c(4L))))
  x <- matrix(rnorm(40), 20, 2)
  reference <- tfd_log_prob(flow, x)
  parameters <- trainable_parameters(flow)
  for (bad in list("no", NA, c(TRUE, FALSE), 0)) {
    withr::local_options(bijectors.compiled_plan = bad)
    expect_error(tfd_log_prob(flow, x),
                 "`options\\(bijectors.compiled_plan = \\)` must be TRUE or FALSE",
                 class = "bijectors_error_option")
    expect_error(fit(flow, x, epochs = 1, verbose = FALSE),
                 "must be TRUE or FALSE", class = "bijectors_error_option")
    expect_identical(trainable_parameters(flow), parameters)
  }
  # both valid values give the same numbers (the plan and the R path)
  for (ok in c(TRUE, FALSE)) {
    withr::local_options(bijectors.compiled_plan = ok)
    expect_identical(tfd_log_prob(flow, x), reference)
  }
})

# tfd_sample(seed = ) worked, tfd_sample_parallel(seed = ) was refused.
test_that("tfd_sample_parallel() takes a seed as tfd_sample() does", {
  skip_if_not_installed("future.apply")
  old_plan <- future::plan(future::sequential)
  on.exit(future::plan(old_plan), add = TRUE)
  d <- tfd_multivariate_normal_diag(loc = c(1, -1), scale_diag = c(2, 0.5))
  set.seed(99)
  stream <- runif(3)
  set.seed(99)
  seeded <- tfd_sample_parallel(d, 30, chunk_size = 7, seed = 42)
  # the session's stream did not move
  expect_identical(runif(3), stream)
  # the same as set.seed(42) before an unseeded call
  set.seed(42)
  expect_identical(seeded, tfd_sample_parallel(d, 30, chunk_size = 7))
  expect_identical(tfd_sample_parallel(d, 30, chunk_size = 7, seed = 42),
                   seeded)
  expect_false(identical(tfd_sample_parallel(d, 30, chunk_size = 7,
                                             seed = 43), seeded))
  expect_identical(dim(seeded), c(30L, 2L))
  expect_error(tfd_sample_parallel(d, 3, seed = 1.5), "`seed` must be",
               class = "bijectors_error_seed")
  expect_error(tfd_sample_parallel(d, 3, seed = "a"),
               class = "bijectors_error_seed")
  # log-densities take no seed, with a message that says why
  expect_error(tfd_log_prob(d, c(0, 0), seed = 1), "is for sampling",
               class = "bijectors_error_unsupported")
  expect_error(tfd_log_prob_parallel(d, matrix(0, 2, 2), seed = 1),
               "is for sampling", class = "bijectors_error_unsupported")
})

# The simplex maps lost bits at large inputs: softmax_centered took
# exp(x - (top + log(total))), whose sum rounds away up to |x| ulps (c(800,
# 800) gave 0.5 + 5.5e-14; 89 ulps on [-60, 60]), and iterated_sigmoid_centered
# took exp() of summed logs (87 ulps on [-30, 30]).
test_that("tfb_softmax_centered() is accurate to a few ulps at large inputs", {
  skip_if_not_installed("Rmpfr")
  expect_identical(tfb_softmax_centered()$forward(c(800, 800)), c(0.5, 0.5, 0))
  set.seed(21)
  x <- matrix(runif(300 * 3, -60, 60), 300, 3)
  y <- tfb_softmax_centered()$forward(x)
  # softmax(c(x, 0)) in 256 bits, from its definition
  e <- exp(mp(cbind(x, 0)))
  total <- e[, 1] + e[, 2] + e[, 3] + e[, 4]
  reference <- c(e[, 1] / total, e[, 2] / total, e[, 3] / total,
                 e[, 4] / total)
  expect_ulps(as.vector(y), reference, max_ulps = 4,
              label = "softmax_centered forward")
})

test_that("tfb_iterated_sigmoid_centered() keeps its products to a few ulps", {
  skip_if_not_installed("Rmpfr")
  set.seed(22)
  size <- 4
  x <- matrix(runif(300 * (size - 1), -30, 30), 300, size - 1)
  y <- tfb_iterated_sigmoid_centered()$forward(x)
  # the stick-breaking products in 256 bits, from t = x - log(K - k) as
  # doubles (the rounding of that subtraction is the input's, not the map's)
  left <- mp(rep(1, nrow(x)))
  reference <- list()
  for (k in seq_len(size - 1)) {
    t <- mp(x[, k] - log(size - k))
    z <- 1 / (1 + exp(-t))
    reference[[k]] <- z * left
    left <- left * (1 - z)
  }
  reference[[size]] <- left
  expect_ulps(as.vector(y), do.call(c, reference), max_ulps = 8,
              label = "iterated_sigmoid_centered forward")
  # and the zero vector is the centre of the simplex
  expect_equal(tfb_iterated_sigmoid_centered()$forward(c(0, 0, 0)),
               rep(0.25, 4), tolerance = 1e-15)
})

# correlation_cholesky's row lengths overflowed for entries beyond ~1e154:
# the row became 0 (x / Inf), the log-det -Inf and the inverse NaN.
test_that("tfb_correlation_cholesky() handles entries whose squares overflow", {
  b <- tfb_correlation_cholesky()
  x <- c(1e200, -3e180, 2)
  y <- b$forward(x)
  # rows of the unit lower-triangular fill, normalised (TFP's fill order,
  # checked in test-correlation_cholesky.R, puts x = (a, b, c) as row 2 =
  # (c, 1) and row 3 = (b, a, 1)): row 2 = (2, 1) / sqrt(5) and row 3 =
  # (-3e180, 1e200, 1) / |.|, by hand
  expect_equal(y[2, ], c(2, 1, 0) / sqrt(5), tolerance = 1e-15)
  expect_equal(y[3, ], c(-3e-20, 1, 1e-200), tolerance = 1e-15)
  expect_equal(sqrt(rowSums(y^2)), c(1, 1, 1), tolerance = 1e-15)
  # log-det -sum (i + 1) log s_i: s = (1, sqrt(5), 1e200 * sqrt(1 + 9e-40))
  expect_equal(b$forward_log_det_jacobian(x, 1),
               -(3 * log(sqrt(5)) + 4 * log(1e200)), tolerance = 1e-14)
  expect_equal(b$inverse(y), x, tolerance = 1e-14)
  expect_equal(b$inverse_log_det_jacobian(y, 2),
               -b$forward_log_det_jacobian(x, 1), tolerance = 1e-14)
})

test_that("tfb_transform_diagonal() keeps dimnames (only the diagonal changes)", {
  x <- array(c(0.5, 1, -1, 2, 0.25, 3, 4, -2, 1.5), c(1, 3, 3),
             dimnames = list("a", c("r1", "r2", "r3"), c("c1", "c2", "c3")))
  b <- tfb_transform_diagonal(tfb_exp())
  y <- b$forward(x)
  expected <- x
  for (i in 1:3) expected[1, i, i] <- exp(x[1, i, i])
  expect_identical(y, expected)
  expect_identical(dimnames(b$inverse(y)), dimnames(x))
  expect_equal(b$inverse(y), x, tolerance = 1e-15)
})
