# Numerical range (issue 5): values near 1e150 and 1e-150 and features with
# zero variance give finite outputs and log-dets, and nothing non-finite
# reaches the running statistics. Where a finite answer is impossible (a
# batch whose variance overflows double precision; zero variance with
# epsilon = 0) the call fails with a classed error and changes nothing; see
# ?tfb_batch_normalization.

range_data <- function() {
  set.seed(5)
  cbind(
    big = rnorm(8, 1e150, 3e149),
    small = rnorm(8, 0, 1e-150),
    constant = rep(7, 8),
    tiny_constant = rep(1e-150, 8)
  )
}

expect_all_finite <- function(x) {
  expect_true(all(is.finite(unlist(x))), label = deparse(substitute(x)))
}

test_that("batch normalization stays finite near 1e150 and 1e-150", {
  y <- range_data()
  b <- tfb_batch_normalization()
  x <- b$inverse(y)
  expect_all_finite(x)
  expect_all_finite(b$inverse_log_det_jacobian(y, 1))
  expect_all_finite(get_weights(b))
  # the zero-variance features normalize to beta (0)
  expect_equal(unname(x[, 3:4]), matrix(0, 8, 2))
  evaluation <- tfb_batch_normalization(b$batchnorm, training = FALSE)
  expect_all_finite(evaluation$inverse(y))
  expect_all_finite(evaluation$forward(x))
  expect_all_finite(evaluation$inverse_log_det_jacobian(y, 1))
  expect_all_finite(evaluation$forward_log_det_jacobian(x, 1))
  expect_all_finite(b$forward(x))
  # a one-row batch has zero variance everywhere
  expect_all_finite(b$inverse(y[1, , drop = FALSE]))
  expect_all_finite(get_weights(b))
  # the statistics of the whole set
  recompute_batch_statistics(b, y)
  expect_all_finite(get_weights(b))
  expect_all_finite(b$inverse(y))
})

test_that("an overflowing training batch is refused and changes nothing", {
  y <- range_data()
  b <- tfb_batch_normalization()
  invisible(b$inverse(y))
  before <- get_weights(b)
  huge <- y
  huge[, "big"] <- huge[, "big"] * 1e10
  expect_error(b$inverse(huge), class = "bijectors_error_overflow")
  expect_error(tfb_inverse_log_det_jacobian(b, huge, 1),
               class = "bijectors_error_overflow")
  expect_error(recompute_batch_statistics(b, huge),
               class = "bijectors_error_overflow")
  expect_identical(get_weights(b), before)
  # an unbuilt layer stays unbuilt
  fresh <- tfb_batch_normalization()
  expect_error(fresh$inverse(huge), class = "bijectors_error_overflow")
  expect_false(fresh$batchnorm$built)
  # values that overflow the deviations themselves
  extreme <- cbind(c(1e308, -1e308, 1e308), c(1, 2, 3))
  expect_error(b$inverse(extreme), class = "bijectors_error")
  expect_identical(get_weights(b), before)
})

test_that("zero variance with epsilon = 0 is a clear error", {
  y <- range_data()
  b <- tfb_batch_normalization(layer_batch_normalization(epsilon = 0))
  expect_error(b$inverse(y), class = "bijectors_error_zero_variance")
  expect_false(b$batchnorm$built)
  invisible(b$inverse(y[, 1:2]))
  b2 <- tfb_batch_normalization(layer_batch_normalization(epsilon = 0))
  invisible(b2$inverse(y[, 1:2]))
  before <- get_weights(b2)
  expect_error(b2$inverse(y[1, 1:2, drop = FALSE]),
               class = "bijectors_error_zero_variance")
  expect_identical(get_weights(b2), before)
  # with a small positive epsilon the same batch is fine
  b3 <- tfb_batch_normalization(layer_batch_normalization(epsilon = 1e-300))
  expect_all_finite(b3$inverse(y[, 3:4]))
  expect_all_finite(get_weights(b3))
})

test_that("shift, scale and permute stay finite near 1e150 and 1e-150", {
  y <- range_data()
  shift <- tfb_shift(c(1e150, -1e-150, 0, 1))
  scale <- tfb_scale(c(1e-150, 1e150, 2, 1e150))
  permute <- tfb_permute(c(4, 3, 2, 1))
  for (b in list(shift, scale, permute)) {
    expect_all_finite(b$forward(y))
    expect_all_finite(b$inverse(y))
    expect_all_finite(b$forward_log_det_jacobian(y, 1))
    expect_all_finite(b$inverse_log_det_jacobian(y, 1))
  }
  expect_all_finite(shift$forward_log_det_jacobian(y, 0))
  expect_all_finite(scale$forward_log_det_jacobian(y, 0))
  expect_equal(scale$inverse(scale$forward(y)), y, tolerance = 1e-12)
})

test_that("MAF and Real NVP stay finite on standardized extreme data", {
  y <- range_data()
  # A flow sees data in its own scale: with batch normalization first (in
  # the density direction) the networks get O(1) inputs whatever the range.
  maf <- tfb_masked_autoregressive_flow(
    tfb_masked_autoregressive_default_template(hidden_layers = 8))
  nvp <- tfb_real_nvp(2, tfb_real_nvp_default_template(hidden_layers = 4))
  bn <- tfb_batch_normalization()
  flow <- tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = numeric(4)),
    tfb_chain(list(bn, maf, nvp)))
  expect_all_finite(tfd_log_prob(flow, y))
  expect_all_finite(get_weights(bn))
  result <- loss_and_gradient(flow, y)
  expect_all_finite(result$loss)
  expect_all_finite(result$gradient)
  # small values pass through the networks directly
  small <- y[, c("small", "tiny_constant")]
  maf2 <- tfb_masked_autoregressive_flow(
    tfb_masked_autoregressive_default_template(hidden_layers = 4))
  nvp2 <- tfb_real_nvp(1, tfb_real_nvp_default_template(hidden_layers = 4))
  for (b in list(maf2, nvp2)) {
    expect_all_finite(b$inverse(small))
    expect_all_finite(b$forward(small))
    expect_all_finite(b$inverse_log_det_jacobian(small, 1))
    expect_all_finite(b$forward_log_det_jacobian(small, 1))
  }
  # large values directly: MADE's log-scale is clipped, so the inverse
  # stays finite; Real NVP's masked half passes through unchanged
  big <- y[, c("big", "constant")]
  expect_all_finite(maf2$inverse(big))
  expect_all_finite(maf2$inverse_log_det_jacobian(big, 1))
  expect_all_finite(nvp2$inverse(cbind(1e-150, y[, "constant"])))
})
