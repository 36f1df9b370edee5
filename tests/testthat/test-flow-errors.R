# Errors of the flow toolkit: each has its class, and nothing changes when
# one is raised.

# ---- permutations ------------------------------------------------------------

test_that("permutations that are not permutations are refused", {
  expect_error(tfb_permute(c(1, 1, 3)), class = "bijectors_error_permutation")
  expect_error(tfb_permute(c(1, 2, 4)), class = "bijectors_error_permutation")
  expect_error(tfb_permute(c(-1, 1, 2)), class = "bijectors_error_permutation")
  expect_error(tfb_permute(c(1, 2.5, 3)),
               class = "bijectors_error_permutation")
  expect_error(tfb_permute(c(1, NA, 3)), class = "bijectors_error_permutation")
  expect_error(tfb_permute(integer()), class = "bijectors_error_permutation")
  expect_error(tfb_permute(c("1", "2")), class = "bijectors_error_permutation")
  # lists are tfprobability's style and accepted (test-permute.R), but
  # still have to be permutations
  expect_error(tfb_permute(list(1, 1)), class = "bijectors_error_permutation")
  expect_error(tfb_permute(list(1, "2")), class = "bijectors_error_permutation")
})

test_that("a 0-based permutation gets a message that says so", {
  expect_error(tfb_permute(c(1, 3, 0, 2)),
               class = "bijectors_error_permutation", regexp = "1-based")
  expect_snapshot(tfb_permute(c(2, 0, 1)), error = TRUE)
  expect_snapshot(tfb_permute(c(1, 1, 3)), error = TRUE)
})

test_that("a permutation of the wrong length for the input is an error", {
  b <- tfb_permute(c(2, 1, 3))
  expect_error(b$forward(matrix(0, 2, 4)), class = "bijectors_error")
  expect_error(b$inverse(matrix(0, 2, 2)), class = "bijectors_error")
})

# ---- num_masked --------------------------------------------------------------

test_that("num_masked out of range is refused; the template stays unbuilt", {
  x <- matrix(rnorm(6), 2, 3)
  for (d in c(0, 3, -3, 4, 1.5)) {
    template <- tfb_real_nvp_default_template(c(4))
    expect_error(tfb_real_nvp(d, template)$forward(x),
                 class = "bijectors_error_num_masked", label = format(d))
    expect_false(template$built)
  }
  expect_error(tfb_real_nvp("1", tfb_real_nvp_default_template(4)),
               class = "bijectors_error")
  expect_error(tfb_real_nvp(c(1, 2), tfb_real_nvp_default_template(4)),
               class = "bijectors_error")
})

test_that("a template built for one event size is refused for another", {
  set.seed(171)
  template <- tfb_real_nvp_default_template(c(4))
  tfb_real_nvp(1, template)$forward(matrix(0, 2, 3))
  before <- template_params(template)
  expect_error(tfb_real_nvp(2, template)$forward(matrix(0, 2, 3)),
               class = "bijectors_error")
  expect_error(tfb_real_nvp(1, template)$forward(matrix(0, 2, 4)),
               class = "bijectors_error")
  expect_identical(template_params(template), before)
})

# ---- event sizes -------------------------------------------------------------

test_that("base and bijector event sizes must agree", {
  base3 <- tfd_multivariate_normal_diag(loc = c(0, 0, 0))
  y <- matrix(rnorm(12), 4, 3)
  expect_error({
    td <- tfd_transformed_distribution(base3, tfb_permute(c(2, 1)))
    td$log_prob(y)
  }, class = "bijectors_error_event_size")
  set.seed(172)
  template <- tfb_masked_autoregressive_default_template(c(6))
  maf <- tfb_masked_autoregressive_flow(template)
  maf$inverse(matrix(0, 1, 2))
  before <- template_params(template)
  expect_error({
    td <- tfd_transformed_distribution(base3, maf)
    td$log_prob(y)
  }, class = "bijectors_error_event_size")
  expect_identical(template_params(template), before)
})

test_that("a mismatch leaves a training batch normalization unchanged", {
  set.seed(173)
  layer <- layer_batch_normalization(momentum = 0.5)
  bn <- tfb_batch_normalization(layer)
  bn$inverse(matrix(rnorm(12), 4, 3))
  state <- get_weights(layer)
  base3 <- tfd_multivariate_normal_diag(loc = c(0, 0, 0))
  expect_error({
    td <- tfd_transformed_distribution(
      base3, tfb_chain(list(bn, tfb_permute(c(2, 1)))))
    td$log_prob(matrix(rnorm(12), 4, 3))
  }, class = "bijectors_error_event_size")
  expect_identical(get_weights(layer), state)
})

test_that("a network member's error comes before a training layer moves", {
  # In the inverse pass the batch normalization runs first; the network
  # member after it fails (built for another size, a MADE too narrow for the
  # events, num_masked out of range). Its error must come before the layer
  # updates its running statistics.
  set.seed(176)
  layer <- layer_batch_normalization(momentum = 0.5)
  bn <- tfb_batch_normalization(layer)
  bn$inverse(matrix(rnorm(12), 4, 3))
  y <- matrix(rnorm(12), 4, 3)
  built_maf <- tfb_masked_autoregressive_flow(
    tfb_masked_autoregressive_default_template(c(4)))
  built_maf$inverse(matrix(0, 1, 2))
  built_nvp_template <- tfb_real_nvp_default_template(c(2))
  tfb_real_nvp(1, built_nvp_template)$forward(matrix(0, 1, 4))
  members <- list(
    built_maf = list(built_maf, "bijectors_error_event_size"),
    narrow_made = list(tfb_masked_autoregressive_flow(
      tfb_masked_autoregressive_default_template(c(2))),
      "bijectors_error_template"),
    num_masked = list(tfb_real_nvp(3, tfb_real_nvp_default_template(c(2))),
                      "bijectors_error_num_masked"),
    built_nvp = list(tfb_real_nvp(1, built_nvp_template),
                     "bijectors_error_event_size")
  )
  for (case in names(members)) {
    state <- get_weights(layer)
    # the chain may refuse the mismatch when it is made, or when it runs
    expect_error({
      flow <- tfb_chain(list(bn, members[[case]][[1]]))
      flow$inverse(y)
    }, class = members[[case]][[2]], label = case)
    expect_identical(get_weights(layer), state, label = case)
    expect_error({
      flow <- tfb_chain(list(bn, members[[case]][[1]]))
      td <- tfd_transformed_distribution(
        tfd_multivariate_normal_diag(loc = c(0, 0, 0)), flow)
      td$log_prob(y)
    }, class = members[[case]][[2]], label = case)
    expect_identical(get_weights(layer), state, label = case)
  }
})

test_that("log_prob of values of the wrong event size is an error", {
  td <- tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = c(0, 0, 0)), tfb_shift(1))
  expect_error(td$log_prob(matrix(0, 2, 4)), class = "bijectors_error")
  d <- tfd_multivariate_normal_diag(loc = c(0, 0))
  expect_error(d$log_prob(c(1, 2, 3)), class = "bijectors_error")
})

# ---- scales ------------------------------------------------------------------

test_that("non-positive scales are refused", {
  expect_error(tfb_scale(0), class = "bijectors_error_scale")
  expect_error(tfb_scale(c(1, 0)), class = "bijectors_error_scale")
  expect_error(tfb_scale(Inf), class = "bijectors_error")
  expect_error(tfb_scale(NA_real_), class = "bijectors_error")
  expect_error(tfb_scale(), class = "bijectors_error")
  expect_error(tfb_scale(2, log_scale = 1), class = "bijectors_error")
  expect_error(tfd_multivariate_normal_diag(scale_diag = c(1, 0)),
               class = "bijectors_error_scale")
  expect_error(tfd_multivariate_normal_diag(scale_diag = c(1, -2)),
               class = "bijectors_error_scale")
  expect_error(tfd_multivariate_normal_diag(loc = c(0, 0),
                                            scale_identity_multiplier = -1),
               class = "bijectors_error_scale")
  expect_error(tfd_normal(0, 0), class = "bijectors_error_scale")
  expect_error(tfd_normal(0, -1), class = "bijectors_error_scale")
  expect_error(tfd_normal(0, c(1, -1)), class = "bijectors_error_scale")
  expect_snapshot(tfd_normal(0, -1), error = TRUE)
  # a negative tfb_scale is allowed, as in TFP
  expect_equal(tfb_scale(-2)$forward(1), -2)
})

# ---- activations -------------------------------------------------------------

test_that("unknown activations are refused, naming the allowed ones", {
  expect_error(tfb_real_nvp_default_template(c(4), activation = "swish"),
               class = "bijectors_error_activation", regexp = "relu")
  expect_error(
    tfb_masked_autoregressive_default_template(c(4), activation = "gelu"),
    class = "bijectors_error_activation", regexp = "tanh")
  expect_error(tfb_real_nvp_default_template(c(4), activation = tanh),
               class = "bijectors_error_activation")
  expect_error(tfb_real_nvp_default_template(c(4), activation = c("relu",
                                                                  "tanh")),
               class = "bijectors_error_activation")
  expect_snapshot(tfb_real_nvp_default_template(4, activation = "swish"),
                  error = TRUE)
})

test_that("bad hidden layers are refused", {
  expect_error(tfb_real_nvp_default_template(c(4, 0)),
               class = "bijectors_error")
  expect_error(tfb_real_nvp_default_template(c(4, 2.5)),
               class = "bijectors_error")
  expect_error(tfb_masked_autoregressive_default_template("a"),
               class = "bijectors_error")
})

# ---- sample_shape ------------------------------------------------------------

test_that("sample_shape must be whole numbers >= 0; the RNG is untouched", {
  set.seed(174)
  d <- tfd_multivariate_normal_diag(loc = c(0, 0))
  td <- tfd_transformed_distribution(tfd_normal(0, 1), tfb_shift(1))
  seed <- .Random.seed
  for (dist in list(d, td, tfd_normal(0, 1))) {
    for (bad in list(1.5, -1, c(2, -1), NA, "3", Inf, list("a"))) {
      expect_error(dist$sample(bad), class = "bijectors_error_sample_shape")
      expect_error(tfd_sample(dist, bad),
                   class = "bijectors_error_sample_shape")
    }
  }
  expect_identical(.Random.seed, seed)
  expect_snapshot(d$sample(2.5), error = TRUE)
  # whole doubles and list() are fine
  expect_identical(dim(d$sample(3)), c(3L, 2L))
  expect_identical(dim(tfd_sample(d, list(2, 3))), c(2L, 3L, 2L))
})

# ---- event_ndims -------------------------------------------------------------

test_that("event_ndims below the minimum or above the rank is refused", {
  set.seed(175)
  maf <- tfb_masked_autoregressive_flow(
    tfb_masked_autoregressive_default_template(c(4)))
  y <- matrix(rnorm(6), 2, 3)
  expect_error(maf$inverse_log_det_jacobian(y, 0),
               class = "bijectors_error_event_ndims")
  expect_error(maf$inverse_log_det_jacobian(y, 3),
               class = "bijectors_error_event_ndims")
  expect_error(maf$inverse_log_det_jacobian(y),
               class = "bijectors_error_event_ndims")
  expect_false(maf$shift_and_log_scale_fn$built)
  rows <- tfb_permute(c(2, 1), axis = -2L)
  expect_error(rows$forward_log_det_jacobian(matrix(0, 2, 2), 1),
               class = "bijectors_error_event_ndims")
  ch <- tfb_chain(list(tfb_shift(1), tfb_permute(c(2, 1))))
  expect_error(ch$forward_log_det_jacobian(c(1, 2), 0),
               class = "bijectors_error_event_ndims")
  expect_error(tfb_scale(2)$forward_log_det_jacobian(c(1, 2), 2),
               class = "bijectors_error_event_ndims")
})

# ---- other arguments ---------------------------------------------------------

test_that("chains, inverts and distributions check their arguments", {
  expect_error(tfb_chain(list(tfb_shift(1), 2)), class = "bijectors_error")
  expect_error(tfb_invert("scale"), class = "bijectors_error")
  expect_error(tfb_shift("a"), class = "bijectors_error")
  expect_error(tfb_shift(NA_real_), class = "bijectors_error")
  expect_error(tfd_transformed_distribution(tfd_normal(0, 1), "shift"),
               class = "bijectors_error")
  expect_error(tfd_transformed_distribution("normal", tfb_shift(1)),
               class = "bijectors_error")
  expect_error(tfd_log_prob("normal", 1), class = "bijectors_error")
  expect_error(tfd_normal(0, 1)$log_prob("a"), class = "bijectors_error")
  expect_error(tfb_masked_autoregressive_flow("template"),
               class = "bijectors_error")
  expect_error(tfb_real_nvp(1, "template"), class = "bijectors_error")
})

test_that("rollbacks put back the right layers when composites alternate", {
  # statistics_at_risk() keeps the answer for the last composite asked;
  # asking about two in turn must give each its own layers.
  set.seed(181)
  make <- function() {
    layer <- layer_batch_normalization(momentum = 0.5)
    tfb_inverse(tfb_batch_normalization(layer), matrix(rnorm(8), 4, 2))
    # inverse: the first layer normalizes (and moves), the scale's inverse
    # then overflows to Inf, which the second layer refuses
    chain <- tfb_chain(list(tfb_batch_normalization(), tfb_scale(1e-310),
                            tfb_batch_normalization(layer)))
    list(layer = layer, chain = chain, td = tfd_transformed_distribution(
      tfd_multivariate_normal_diag(loc = c(0, 0)), chain))
  }
  a <- make()
  b <- make()
  at_risk <- bijectors:::statistics_at_risk
  expect_true(any(vapply(at_risk(a$td), identical, logical(1), a$layer)))
  expect_false(any(vapply(at_risk(b$td), identical, logical(1), a$layer)))
  expect_true(any(vapply(at_risk(b$chain), identical, logical(1), b$layer)))
  expect_false(any(vapply(at_risk(a$chain), identical, logical(1), b$layer)))
  y <- matrix(rnorm(20), 10, 2)
  for (flow in list(a, b, a, b)) {
    before <- get_weights(flow$layer)
    expect_error(flow$td$log_prob(y), "Inf")
    expect_identical(get_weights(flow$layer), before)
    expect_error(tfb_inverse(flow$chain, y), "Inf")
    expect_identical(get_weights(flow$layer), before)
  }
})
