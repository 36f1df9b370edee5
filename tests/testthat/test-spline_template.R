# tfb_real_nvp_spline_template(): a neural spline coupling layer through
# tfb_real_nvp(), against a plain-R network and spline (helper-spline.R);
# the conformance row checks its gradients.

# The network of a built template by hand (dense layers, tanh), then the
# sheet's constraints, then each element's spline.
ref_spline_coupling <- function(template, x, masked, transformed) {
  w <- template$weights
  h <- x[, masked, drop = FALSE]
  for (k in seq_along(w)) {
    h <- h %*% w[[k]]$kernel + matrix(w[[k]]$bias, nrow(h), ncol(w[[k]]$kernel),
                                      byrow = TRUE)
    if (k < length(w)) h <- tanh(h)
  }
  K <- template$num_bins
  lo <- template$range_min
  interval <- template$range_max - lo
  units <- length(transformed)
  softmax <- function(a) exp(a) / sum(exp(a))
  y <- x
  log_det <- numeric(nrow(x))
  for (n in seq_len(nrow(x))) {
    for (j in seq_len(units)) {
      a <- h[n, (j - 1) * K + seq_len(K)]
      b <- h[n, units * K + (j - 1) * K + seq_len(K)]
      c <- h[n, 2 * units * K + (j - 1) * (K - 1) + seq_len(K - 1)]
      W <- template$min_bin_width +
        (interval - K * template$min_bin_width) * softmax(a)
      H <- template$min_bin_height +
        (interval - K * template$min_bin_height) * softmax(b)
      S <- template$min_slope +
        log1p(exp(c + log(expm1(1 - template$min_slope))))
      v <- x[n, transformed[[j]]]
      y[n, transformed[[j]]] <- ref_spline_forward(W, H, S, lo, v)
      log_det[[n]] <- log_det[[n]] + ref_spline_fldj(W, H, S, lo, v)
    }
  }
  list(y = y, log_det = log_det)
}

test_that("the coupling is the sheet's spline on a network's outputs", {
  set.seed(31)
  template <- tfb_real_nvp_spline_template(c(5, 4), num_bins = 5,
                                           range_min = -2, range_max = 2.5,
                                           min_bin_width = 0.01,
                                           min_slope = 0.05,
                                           activation = "tanh",
                                           bias_initializer = function(shape) {
                                             rnorm(shape, sd = 0.5)
                                           })
  nsf <- tfb_real_nvp(num_masked = 2, shift_and_log_scale_fn = template)
  x <- matrix(rnorm(40, sd = 1.2), 10, 4)
  y <- nsf$forward(x)
  ref <- ref_spline_coupling(template, x, 1:2, 3:4)
  expect_equal(y, ref$y, tolerance = 1e-12)
  expect_equal(nsf$forward_log_det_jacobian(x, event_ndims = 1), ref$log_det,
               tolerance = 1e-12)
  expect_equal(nsf$inverse(y), x, tolerance = 1e-12)
  expect_equal(nsf$inverse_log_det_jacobian(y, event_ndims = 1), -ref$log_det,
               tolerance = 1e-12)
  # the reversed mask: the last unit conditions the first three
  rev_template <- tfb_real_nvp_spline_template(c(6), num_bins = 3,
                                               activation = "tanh")
  rev_nsf <- tfb_real_nvp(num_masked = -1, shift_and_log_scale_fn =
                            rev_template)
  y2 <- rev_nsf$forward(x)
  expect_equal(y2, ref_spline_coupling(rev_template, x, 4, 1:3)$y,
               tolerance = 1e-12)
})

test_that("a zero network is the identity; one bin works", {
  x <- matrix(rnorm(12), 4, 3)
  zero <- tfb_real_nvp(1, tfb_real_nvp_spline_template(
    c(3), num_bins = 4, kernel_initializer = "zeros"))
  expect_equal(zero$forward(x), x, tolerance = 1e-14)
  expect_equal(zero$forward_log_det_jacobian(x, 1), rep(0, 4),
               tolerance = 1e-14)
  one <- tfb_real_nvp(1, tfb_real_nvp_spline_template(c(3), num_bins = 1))
  expect_equal(one$forward(x), x, tolerance = 1e-14)
})

test_that("fit() trains a neural spline flow", {
  set.seed(32)
  data <- sample_two_moons(300)
  flow <- tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = c(0, 0)),
    tfb_chain(list(
      tfb_real_nvp(1, tfb_real_nvp_spline_template(c(16), num_bins = 6,
                                                   activation = "tanh")),
      tfb_permute(c(2, 1)),
      tfb_real_nvp(1, tfb_real_nvp_spline_template(c(16), num_bins = 6,
                                                   activation = "tanh")))))
  before <- -mean(flow$log_prob(data))
  history <- fit(flow, data, epochs = 10, batch_size = 50,
                 learning_rate = 0.01, verbose = FALSE)
  after <- -mean(flow$log_prob(data))
  expect_lt(after, before - 0.1)
  expect_lt(history$loss[[10]], history$loss[[1]])
  expect_equal(flow$bijector$inverse(flow$bijector$forward(data)), data,
               tolerance = 1e-10)
})

test_that("template arguments are checked", {
  expect_error(tfb_real_nvp_spline_template(4, num_bins = 0), "`num_bins`",
               class = "bijectors_error_argument")
  expect_error(tfb_real_nvp_spline_template(4, range_min = 1, range_max = 1),
               "`range_max`", class = "bijectors_error_argument")
  expect_error(tfb_real_nvp_spline_template(4, num_bins = 10,
                                            min_bin_width = 0.6),
               "`num_bins \\* min_bin_width`",
               class = "bijectors_error_argument")
  expect_error(tfb_real_nvp_spline_template(4, min_slope = 1), "`min_slope`",
               class = "bijectors_error_argument")
  expect_error(tfb_real_nvp_spline_template(4, dropout = 0.1),
               class = "bijectors_error_unsupported")
  expect_error(tfb_masked_autoregressive_spline_template(integer(0)),
               class = "bijectors_error_argument")
  # each template serves its own flow
  expect_error(tfb_masked_autoregressive_flow(tfb_real_nvp_spline_template(4)),
               class = "bijectors_error_template")
  expect_error(tfb_real_nvp(1, tfb_masked_autoregressive_spline_template(4)),
               class = "bijectors_error_template")
  # MADE's hidden layers must be as wide as the event
  maf <- tfb_masked_autoregressive_flow(
    tfb_masked_autoregressive_spline_template(2))
  expect_error(maf$inverse(matrix(0, 2, 3)),
               class = "bijectors_error_template")
})

# The inverse of a spline MAF by hand: the MADE on y (masked kernels, tanh),
# unit i's 3K - 1 outputs together, then each element's inverse spline.
ref_spline_maf_inverse <- function(template, y) {
  w <- template$weights
  h <- y
  for (k in seq_along(w)) {
    h <- h %*% w[[k]]$kernel + matrix(w[[k]]$bias, nrow(h), ncol(w[[k]]$kernel),
                                      byrow = TRUE)
    if (k < length(w)) h <- tanh(h)
  }
  K <- template$num_bins
  lo <- template$range_min
  interval <- template$range_max - lo
  softmax <- function(a) exp(a) / sum(exp(a))
  x <- y
  log_det <- numeric(nrow(y))
  for (n in seq_len(nrow(y))) {
    for (i in seq_len(ncol(y))) {
      out <- h[n, (i - 1) * (3 * K - 1) + seq_len(3 * K - 1)]
      W <- template$min_bin_width +
        (interval - K * template$min_bin_width) * softmax(out[1:K])
      H <- template$min_bin_height +
        (interval - K * template$min_bin_height) * softmax(out[K + 1:K])
      S <- template$min_slope + log1p(exp(out[2 * K + seq_len(K - 1)] +
                                            log(expm1(1 - template$min_slope))))
      x[n, i] <- ref_spline_inverse(W, H, S, lo, y[n, i])
      log_det[[n]] <- log_det[[n]] - ref_spline_fldj(W, H, S, lo, x[n, i])
    }
  }
  list(x = x, log_det = log_det)
}

test_that("a spline MAF is the sheet's spline on a MADE's outputs", {
  set.seed(33)
  template <- tfb_masked_autoregressive_spline_template(
    c(8, 8), num_bins = 4, range_min = -2, range_max = 2, activation = "tanh",
    bias_initializer = function(shape) rnorm(shape, sd = 0.5))
  maf <- tfb_masked_autoregressive_flow(template)
  y <- matrix(rnorm(30), 10, 3)
  x <- maf$inverse(y)
  ref <- ref_spline_maf_inverse(template, y)
  expect_equal(x, ref$x, tolerance = 1e-12)
  expect_equal(maf$inverse_log_det_jacobian(y, event_ndims = 1), ref$log_det,
               tolerance = 1e-12)
  expect_equal(maf$forward(x), y, tolerance = 1e-12)
  expect_equal(maf$forward_log_det_jacobian(x, event_ndims = 1), -ref$log_det,
               tolerance = 1e-12)
  # autoregressive: x[, i] depends on y[, 1:i] only
  moved <- y
  moved[, 3] <- moved[, 3] + 0.5
  expect_identical(maf$inverse(moved)[, 1:2], x[, 1:2])
  moved[, 2] <- moved[, 2] - 0.5
  expect_identical(maf$inverse(moved)[, 1], x[, 1])
})

test_that("fit() trains spline MAF and IAF flows", {
  set.seed(34)
  data <- sample_two_moons(300)
  for (invert in c(FALSE, TRUE)) {
    maf <- tfb_masked_autoregressive_flow(
      tfb_masked_autoregressive_spline_template(c(16, 16), num_bins = 6,
                                                activation = "tanh"))
    flow <- tfd_transformed_distribution(
      tfd_multivariate_normal_diag(loc = c(0, 0)),
      if (invert) tfb_invert(maf) else maf)
    before <- -mean(flow$log_prob(data))
    fit(flow, data, epochs = 8, batch_size = 50, learning_rate = 0.01,
        verbose = FALSE)
    expect_lt(-mean(flow$log_prob(data)), before - 0.1)
  }
})
