# Inverse autoregressive flows, tfb_invert(tfb_masked_autoregressive_flow()):
# their log_prob runs the MAF's sequential forward direction, whose
# gradients (bijector_forward_with_cache() / bijector_forward_backward() of
# the MAF) are checked here against central finite differences of
# log_prob() (helper-gradients.R) and of plain-R references
# (helper-flows.R, helper-iaf.R), alone, in chains with batch normalization
# and permutations, and in training with fit().

iaf_template <- function(hidden, activation = "tanh", ...) {
  tfb_masked_autoregressive_default_template(hidden, activation = activation,
                                             ...)
}

iaf <- function(template) {
  tfb_invert(tfb_masked_autoregressive_flow(template))
}

# An IAF flow on D features built on x, with random parameters.
built_iaf <- function(bijector, x, sd = 0.3) {
  td <- flow_on(bijector, ncol(x))
  td$log_prob(x)
  randomize_parameters(td, sd = sd)
  td
}

base_loc <- function(D) seq(-0.5, 0.5, length.out = D)
base_scale <- function(D) seq(0.8, 1.4, length.out = D)

# The plain-R MADE of a built template, as ref_made() with its clip.
template_made <- function(template) {
  params <- template_params(template)
  function(v) {
    ref_made(v, params, template$activation, template$shift_only,
             template$log_scale_min_clip, template$log_scale_max_clip)
  }
}

test_that("IAF gradients match central differences for D = 1, 2, 3, 5 and several networks", {
  set.seed(701)
  cases <- list(
    list(D = 1L, hidden = c(4, 3)),
    list(D = 2L, hidden = c(5, 5)),
    list(D = 2L, hidden = 9),
    list(D = 3L, hidden = c(6, 4, 5)),
    list(D = 3L, hidden = c(3, 3)),
    list(D = 5L, hidden = c(7, 5)),
    list(D = 5L, hidden = 12)
  )
  for (case in cases) {
    x <- gradient_data(n = 12, D = case$D)
    template <- iaf_template(case$hidden)
    td <- built_iaf(iaf(template), x)
    # the loss is the plain-R IAF's: the D passes are really run
    expect_equal(loss_and_gradient(td, x)$loss,
                 ref_iaf_loss(x, template_made(template), base_loc(case$D),
                              base_scale(case$D)), tolerance = 1e-12)
    expect_flow_gradients(td, x)
  }
})

test_that("IAF gradients with relu networks, away from the kinks", {
  set.seed(702)
  for (D in c(2L, 3L, 5L)) {
    x <- gradient_data(n = 10, D = D)
    template <- iaf_template(c(8, 6), activation = "relu")
    td <- built_iaf(iaf(template), x)
    # the network is evaluated at the base value z = MAF forward(x) (the
    # outputs that reach the result read only final columns): no hidden
    # pre-activation there is within 1e-4 of the kink, so steps of 1e-5
    # (times |value| at most 3 or so) never cross one
    z <- ref_maf_forward(x, template_made(template))
    expect_gt(ref_kink_margin(z, template_params(template)), 1e-4)
    expect_flow_gradients(td, x, tolerance = 1e-5)
  }
})

test_that("IAF gradients for shift_only networks and the other activations", {
  set.seed(703)
  x <- gradient_data(n = 12, D = 4)
  for (activation in c("softplus", "elu", "sigmoid")) {
    td <- built_iaf(iaf(iaf_template(c(6, 6), activation = activation)), x)
    expect_flow_gradients(td, x)
  }
  template <- iaf_template(c(5, 7), shift_only = TRUE)
  td <- built_iaf(iaf(template), x)
  # volume preserving: the loss is the base's at z alone
  z <- ref_maf_forward(x, template_made(template))
  expect_equal(loss_and_gradient(td, x)$loss,
               -mean(ref_mvn_diag_log_prob(z, base_loc(4), base_scale(4))),
               tolerance = 1e-12)
  expect_flow_gradients(td, x)
})

test_that("IAF gradients with the log-scale clip inactive and active", {
  set.seed(704)
  D <- 3L
  x <- gradient_data(n = 12, D = D)
  raw_log_scale <- function(template) {
    z <- ref_maf_forward(x, template_made(template))
    ref_made_raw(z, template_params(template), template$activation)$log_scale
  }

  # the default clip [-5, 3] never acts on these parameters
  template <- iaf_template(c(6, 6))
  td <- built_iaf(iaf(template), x)
  raw <- raw_log_scale(template)
  expect_true(all(raw > -5 & raw < 3))
  expect_flow_gradients(td, x)

  # a narrow clip acts on about half of the log-scales; with
  # log_scale_clip_gradient = TRUE the gradient is the clipped function's,
  # which central differences see wherever no value is near the clip's ends
  clip <- c(-0.35, 0.25)
  template <- iaf_template(c(6, 6), log_scale_min_clip = clip[[1]],
                           log_scale_max_clip = clip[[2]],
                           log_scale_clip_gradient = TRUE)
  td <- built_iaf(iaf(template), x)
  raw <- raw_log_scale(template)
  clipped <- mean(raw < clip[[1]] | raw > clip[[2]])
  expect_gt(clipped, 0.2)
  expect_lt(clipped, 0.8)
  expect_gt(min(abs(raw - clip[[1]]), abs(raw - clip[[2]])), 1e-4)
  result <- expect_flow_gradients(td, x)
  exact <- result$analytic

  # the same weights with log_scale_clip_gradient = FALSE (TFP's default):
  # the clipped log-scales still learn, with the derivative of the
  # unclipped network (plain-R straight-through reference)
  template_through <- iaf_template(c(6, 6), log_scale_min_clip = clip[[1]],
                                   log_scale_max_clip = clip[[2]],
                                   log_scale_clip_gradient = FALSE)
  td_through <- flow_on(iaf(template_through), D)
  td_through$log_prob(x)
  trainable_parameters(td_through) <- trainable_parameters(td)
  analytic <- loss_and_gradient(td_through, x, input_gradient = TRUE)
  expect_equal(analytic$loss, exact$loss, tolerance = 1e-14)
  reference <- ref_straight_through_gradient(
    x, template_params(template_through), template_masks(template_through),
    "tanh", clip, base_loc(D), base_scale(D))
  expect_gradients_match(analytic$gradient, reference$parameters,
                         tolerance = 1e-6)
  expect_relative_error_below(analytic$input, reference$input, 1e-6,
                              label = "input gradient")
  # and the two semantics do differ here
  expect_gt(relative_error(analytic$gradient[["layer3/bias"]],
                           exact$gradient[["layer3/bias"]]), 1e-2)
})

test_that("IAFs in a chain with batch normalization and permutations", {
  set.seed(705)
  for (D in c(3L, 5L)) {
    x <- gradient_data(n = 16, D = D)
    layers <- list(layer_batch_normalization(momentum = 0.9),
                   layer_batch_normalization(momentum = 0.8))
    # deep in the chain some log-scales reach the clip at 3; with
    # log_scale_clip_gradient = TRUE the gradient is the clipped function's,
    # which central differences see (the default passes the clip, checked
    # against its own reference above)
    exact_clip <- function(hidden, ...) {
      iaf_template(hidden, log_scale_clip_gradient = TRUE, ...)
    }
    bijector <- tfb_chain(list(
      iaf(exact_clip(c(D + 2, D + 1))),
      tfb_batch_normalization(layers[[1]]),
      tfb_permute(rev(seq_len(D))),
      iaf(exact_clip(D + 3, activation = "softplus")),
      tfb_batch_normalization(layers[[2]]),
      tfb_permute(c(2:D, 1L)),
      tfb_masked_autoregressive_flow(exact_clip(c(D, D))),
      iaf(exact_clip(c(D + 1, D + 1), shift_only = TRUE))
    ))
    td <- built_iaf(bijector, x)
    names <- names(trainable_parameters(td))
    expect_true(all(c("1_invert_masked_autoregressive_flow/layer1/kernel",
                      "2_batch_normalization/gamma",
                      "4_invert_masked_autoregressive_flow/layer2/bias",
                      "7_masked_autoregressive_flow/layer3/kernel",
                      "8_invert_masked_autoregressive_flow/layer3/bias")
                    %in% names))
    expect_flow_gradients(td, x, layers = layers)
  }
})

test_that("the MAF's forward pass with cache is forward() with its log-det, for arrays and extra event dims", {
  set.seed(706)
  D <- 3L
  template <- iaf_template(c(5, 4))
  maf <- tfb_masked_autoregressive_flow(template)
  x <- array(rnorm(4 * 2 * D), c(4, 2, D))
  pass <- bijectors:::bijector_forward_with_cache(maf, x, 2L)
  expect_identical(dim(pass$y), dim(x))
  expect_equal(pass$y, maf$forward(x), tolerance = 1e-15)
  expect_equal(pass$log_det, maf$forward_log_det_jacobian(x, 2),
               tolerance = 1e-15)
  expect_length(pass$log_det, 4L)
  # the vector-Jacobian product of (y, log-det) against central differences
  # of w . forward(x) + v . fldj(x): the log-det gradient reaches each row
  # of a summed event
  w <- array(rnorm(length(x)), dim(x))
  v <- rnorm(4)
  back <- bijectors:::bijector_forward_backward(maf, pass$cache, w, v)
  expect_identical(dim(back$input), dim(x))
  objective <- function(u) {
    sum(w * maf$forward(u)) + sum(v * maf$forward_log_det_jacobian(u, 2))
  }
  numerical <- x
  for (j in seq_along(x)) {
    numerical[j] <- central_difference(function(value) {
      moved <- x
      moved[j] <- value
      objective(moved)
    }, x[j], 1e-5)
  }
  expect_relative_error_below(back$input, numerical, 1e-7,
                              label = "input gradient")
  expect_length(back$parameters, 6L)
})

test_that("IAFs on R-function conditioners refuse gradients with a classed error and change nothing", {
  set.seed(707)
  D <- 3L
  x <- gradient_data(n = 10, D = D)
  # autoregressive: shift_i = 0.5 y_{i-1}
  shift_fn <- function(y) {
    list(shift = cbind(0, 0.5 * y[, -ncol(y), drop = FALSE]),
         log_scale = NULL)
  }
  layer <- layer_batch_normalization()
  td <- flow_on(tfb_chain(list(
    iaf(iaf_template(c(4, 4))), tfb_batch_normalization(layer),
    tfb_invert(tfb_masked_autoregressive_flow(shift_fn)))), D)
  td$log_prob(x)
  before <- flow_state(td)
  expect_error(loss_and_gradient(td, x), class = "bijectors_error_unsupported")
  expect_identical(flow_state(td), before)
  expect_snapshot(loss_and_gradient(td, x), error = TRUE)
  expect_error(fit(td, x, epochs = 1, verbose = FALSE),
               class = "bijectors_error_unsupported")
  expect_identical(flow_state(td), before)
  # log_prob itself works: the forward direction is only not differentiable
  expect_length(td$log_prob(x), nrow(x))
})

test_that("an IAF trains with fit() on two moons", {
  skip_if(nzchar(Sys.getenv("BIJECTORS_VALGRIND")))
  set.seed(708)
  train <- scale(sample_two_moons(500))
  test <- scale(sample_two_moons(500), center = attr(train, "scaled:center"),
                scale = attr(train, "scaled:scale"))
  train <- matrix(train, ncol = 2)
  test <- matrix(test, ncol = 2)
  block <- function() iaf(iaf_template(c(32, 32)))
  td <- tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = c(0, 0)),
    tfb_chain(list(block(), tfb_permute(2:1), block(), tfb_permute(2:1),
                   block())))
  untrained <- mean(td$log_prob(test))
  h <- fit(td, train, epochs = 30, batch_size = 50, learning_rate = 0.01,
           verbose = FALSE)
  trained <- mean(td$log_prob(test))
  expect_length(h$loss, 30L)
  expect_true(all(is.finite(h$loss)))
  # the training loss falls by well over 0.4 nats (about 2.75 to 2.0)
  expect_lt(mean(utils::tail(h$loss, 3)), h$loss[[1]] - 0.4)
  # the test log-likelihood gains over 0.4 nats on the untrained flow and
  # beats the best Gaussian (the sample mean and covariance of the training
  # set) by over 0.25 nats: the IAF has learnt the moons' shape
  gaussian <- {
    m <- colMeans(train)
    S <- stats::cov(train) * (nrow(train) - 1) / nrow(train)
    d <- sweep(test, 2, m)
    mean(-0.5 * rowSums((d %*% solve(S)) * d)) -
      0.5 * log(det(2 * pi * S))
  }
  expect_gt(trained, untrained + 0.4)
  expect_gt(trained, gaussian + 0.25)
})

test_that("the C entry of the forward backward pass re-checks its arguments", {
  set.seed(709)
  D <- 3L
  x <- gradient_data(n = 5, D = D)
  template <- iaf_template(c(4, 4))
  maf <- tfb_masked_autoregressive_flow(template)
  pass <- bijectors:::bijector_forward_with_cache(maf, x, 1L)
  weights <- template$weights
  grad_y <- matrix(rnorm(length(x)), nrow(x))
  args <- list(
    x = x, network_input = pass$cache$network_input,
    kernels = unname(lapply(weights, function(w) w$kernel)),
    activations = c(2L, 2L, 0L),
    hidden = pass$cache$network$hidden, output = pass$cache$network$output,
    masks = unname(lapply(weights, function(w) w$mask)),
    columns = seq_len(D), shift_columns = 2L * seq_len(D) - 1L,
    log_scale_columns = 2L * seq_len(D), clip = c(-5, 3),
    clip_gradient = FALSE, grad_y = grad_y, grad_log_det = rep(-0.2, 5))
  call <- function(...) {
    changes <- list(...)
    for (name in names(changes)) {
      args[name] <- list(changes[[name]])
    }
    do.call(.Call, c(list(bijectors:::C_maf_forward_backward), unname(args)))
  }
  result <- call()
  expected <- bijectors:::bijector_forward_backward(maf, pass$cache, grad_y,
                                                    rep(-0.2, 5))
  expect_identical(result$input, expected$input)
  expect_identical(result$kernels[[2]], expected$parameters[[3]])
  expect_error(call(x = matrix(1L, 5, D)), "`input` must be a double")
  expect_error(call(network_input = numeric(14)), "`network_input`")
  expect_error(call(grad_y = numeric(3)), "`grad_y`")
  expect_error(call(grad_log_det = 1), "`grad_log_det`")
  expect_error(call(clip_gradient = NA), "`clip_gradient`")
  expect_error(call(columns = 1:2, shift_columns = c(1L, 3L),
                    log_scale_columns = c(2L, 4L)), "every one")
  expect_error(call(columns = c(1L, 1L, 2L)), "repeat")
  expect_error(call(clip = c(1, -1)), "`clip`")
  expect_error(call(activations = c(2L, 2L)), "`activations`")
  expect_error(call(hidden = list()), "`hidden`")
  expect_error(call(masks = list(NULL)), "`masks`")
  expect_error(call(output = cbind(args$output, 0)), "output 1 must be")
  expect_error(call(kernels = c(list(matrix(0, 2, 4)), args$kernels[-1]),
                    masks = NULL),
               "the network reads 2 inputs, but the events have 3")
})
