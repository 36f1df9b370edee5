# loss_and_gradient(): the loss and every gradient (each trainable
# parameter, and the data with input_gradient = TRUE) against central finite
# differences of log_prob() (helper-gradients.R), on random flows of every
# kind, alone and in chains, in both directions (tfb_invert()).

D <- 3L

maf_member <- function(activation = "tanh", hidden = c(5, 5), ...) {
  tfb_masked_autoregressive_flow(
    tfb_masked_autoregressive_default_template(hidden, activation = activation,
                                               ...))
}

nvp_member <- function(num_masked, activation = "tanh", hidden = c(5, 5),
                       ...) {
  tfb_real_nvp(num_masked,
               tfb_real_nvp_default_template(hidden, activation = activation,
                                             ...))
}

# A flow built on x (its networks and layers exist) with random parameters.
built_flow <- function(bijector, x) {
  td <- flow_on(bijector, ncol(x))
  td$log_prob(x)
  randomize_parameters(td)
  td
}

test_that("shift: gradients of the vector and the scalar parameter", {
  set.seed(401)
  x <- gradient_data()
  td <- built_flow(tfb_shift(rnorm(D)), x)
  expect_named(trainable_parameters(td), "shift")
  expect_flow_gradients(td, x)
  td <- built_flow(tfb_shift(0.7), x)
  expect_length(trainable_parameters(td)$shift, 1L)
  expect_flow_gradients(td, x)
})

test_that("scale: gradients of `scale` (both signs) and of `log_scale`", {
  set.seed(402)
  x <- gradient_data()
  td <- built_flow(tfb_scale(c(0.7, 1.3, 2)), x)
  expect_named(trainable_parameters(td), "scale")
  expect_flow_gradients(td, x)
  # a negative scale is allowed (log|scale|)
  td <- flow_on(tfb_scale(c(-0.8, 1.5, -2.2)))
  expect_flow_gradients(td, x)
  td <- flow_on(tfb_scale(1.7))
  expect_flow_gradients(td, x)
  td <- built_flow(tfb_scale(log_scale = rnorm(D, sd = 0.4)), x)
  expect_named(trainable_parameters(td), "log_scale")
  expect_flow_gradients(td, x)
  td <- flow_on(tfb_scale(log_scale = -0.3))
  expect_flow_gradients(td, x)
})

test_that("permute and identity pass the input gradient through", {
  set.seed(403)
  x <- gradient_data()
  td <- flow_on(tfb_chain(list(tfb_permute(c(3L, 1L, 2L)), tfb_identity(),
                               tfb_shift(rnorm(D)))))
  randomize_parameters(td)
  expect_named(trainable_parameters(td), "3_shift/shift")
  expect_flow_gradients(td, x)
})

test_that("batch normalization in training mode differentiates through the batch statistics", {
  set.seed(404)
  x <- gradient_data()
  # momentum = 1: the running statistics never move
  layer <- layer_batch_normalization(momentum = 1)
  td <- built_flow(tfb_batch_normalization(layer), x)
  expect_named(trainable_parameters(td), c("gamma", "beta"))
  before <- get_weights(layer)
  expect_flow_gradients(td, x)
  expect_identical(get_weights(layer)[c("moving_mean", "moving_variance")],
                   before[c("moving_mean", "moving_variance")])
  # the default momentum: the statistics move at each evaluation and are put
  # back; the training-mode output does not depend on them anyway
  layer <- layer_batch_normalization(epsilon = 0.01)
  td <- built_flow(tfb_batch_normalization(layer), x)
  expect_flow_gradients(td, x, layers = list(layer))
})

test_that("batch normalization without gamma or beta has only the others", {
  set.seed(405)
  x <- gradient_data()
  layer <- layer_batch_normalization(momentum = 1, center = FALSE)
  td <- built_flow(tfb_batch_normalization(layer), x)
  expect_named(trainable_parameters(td), "gamma")
  expect_flow_gradients(td, x)
  layer <- layer_batch_normalization(momentum = 1, scale = FALSE)
  td <- built_flow(tfb_batch_normalization(layer), x)
  expect_named(trainable_parameters(td), "beta")
  expect_flow_gradients(td, x)
  layer <- layer_batch_normalization(momentum = 1, center = FALSE,
                                     scale = FALSE)
  td <- built_flow(tfb_batch_normalization(layer), x)
  expect_length(trainable_parameters(td), 0L)
  result <- loss_and_gradient(td, x, input_gradient = TRUE)
  expect_length(result$gradient, 0L)
  expect_relative_error_below(result$input, numerical_input_gradient(td, x))
})

test_that("batch normalization in evaluation mode uses the moving statistics", {
  set.seed(406)
  x <- gradient_data()
  case <- eval_batch_norm(D)
  td <- flow_on(case$bijector)
  before <- get_weights(case$layer)
  expect_flow_gradients(td, x)
  expect_identical(get_weights(case$layer), before)
})

test_that("RealNVP: gradients of both halves for both signs of num_masked", {
  set.seed(407)
  x <- gradient_data()
  for (num_masked in c(1L, 2L, -1L, -2L)) {
    td <- built_flow(nvp_member(num_masked), x)
    expect_flow_gradients(td, x)
  }
  td <- built_flow(nvp_member(1L, activation = "softplus", shift_only = TRUE),
                   x)
  expect_flow_gradients(td, x)
})

test_that("MAF: gradients for each smooth activation", {
  set.seed(408)
  x <- gradient_data()
  for (activation in c("tanh", "softplus", "elu", "sigmoid")) {
    td <- built_flow(maf_member(activation), x)
    expect_flow_gradients(td, x)
  }
  td <- built_flow(maf_member("tanh", hidden = 6, shift_only = TRUE), x)
  expect_flow_gradients(td, x)
})

test_that("MAF with relu: gradients away from the kinks", {
  set.seed(409)
  x <- gradient_data()
  template <- tfb_masked_autoregressive_default_template(c(5, 5),
                                                         activation = "relu")
  td <- built_flow(tfb_masked_autoregressive_flow(template), x)
  # no hidden pre-activation within 1e-3 of a kink on these data, so that
  # steps of 1e-5 never cross one
  smallest <- ref_kink_margin(x, template_params(template))
  expect_gt(smallest, 1e-3)
  expect_flow_gradients(td, x, tolerance = 1e-5)
})

test_that("the gradients of masked MADE kernel entries are exactly 0", {
  set.seed(410)
  x <- gradient_data(D = 4)
  template <- tfb_masked_autoregressive_default_template(c(6, 5),
                                                         activation = "tanh")
  td <- built_flow(tfb_masked_autoregressive_flow(template), x)
  masks <- template_masks(template)
  gradient <- loss_and_gradient(td, x)$gradient
  params <- trainable_parameters(td)
  kernels <- Filter(function(name) length(dim(params[[name]])) == 2L,
                    names(params))
  expect_length(kernels, length(masks))
  for (k in seq_along(masks)) {
    g <- gradient[[kernels[[k]]]]
    expect_identical(dim(g), dim(masks[[k]]))
    expect_true(all(g[masks[[k]] == 0] == 0))
    # (some allowed entries have no path to an output: not all are non-zero)
    expect_true(any(g[masks[[k]] == 1] != 0))
    expect_true(all(params[[kernels[[k]]]][masks[[k]] == 0] == 0))
  }
})

test_that("chains of (MAF, batch normalization, permute) x 3", {
  set.seed(411)
  x <- gradient_data()
  perms <- list(c(3L, 1L, 2L), c(2L, 3L, 1L), c(3L, 2L, 1L))
  members <- list()
  layers <- list()
  for (k in 1:3) {
    layers[[k]] <- layer_batch_normalization(momentum = 0.9)
    members <- c(members, list(maf_member(),
                               tfb_batch_normalization(layers[[k]]),
                               tfb_permute(perms[[k]])))
  }
  td <- built_flow(tfb_chain(members), x)
  names <- names(trainable_parameters(td))
  expect_true(all(c("2_batch_normalization/gamma", "2_batch_normalization/beta",
                    "5_batch_normalization/gamma",
                    "8_batch_normalization/beta") %in% names))
  positions <- as.integer(sub("_.*", "", names))
  expect_setequal(unique(positions), c(1L, 2L, 4L, 5L, 7L, 8L))
  expect_false(is.unsorted(positions))
  expect_flow_gradients(td, x, layers = layers)

  # the same chain with its layers in evaluation mode
  eval_members <- members
  for (k in 1:3) {
    eval_members[[3 * k - 1]] <- tfb_batch_normalization(layers[[k]],
                                                         training = FALSE)
  }
  td_eval <- flow_on(tfb_chain(eval_members))
  expect_identical(names(trainable_parameters(td_eval)), names)
  expect_flow_gradients(td_eval, x)
})

test_that("flows with tfb_invert() of RealNVP, scale, shift and batch normalization", {
  set.seed(412)
  x <- gradient_data()
  td <- built_flow(tfb_chain(list(
    tfb_invert(nvp_member(1L)), tfb_permute(c(2L, 3L, 1L)),
    tfb_invert(tfb_scale(c(0.5, 1.5, -2))), maf_member(),
    tfb_invert(tfb_shift(rnorm(D))), tfb_invert(nvp_member(-2L))
  )), x)
  expect_flow_gradients(td, x)

  td <- built_flow(tfb_invert(tfb_scale(log_scale = c(0.2, -0.4, 0.1))), x)
  expect_named(trainable_parameters(td), "log_scale")
  expect_flow_gradients(td, x)

  # batch normalization under tfb_invert(): its forward uses the moving
  # statistics, in either mode
  layer <- layer_batch_normalization()
  td <- built_flow(tfb_chain(list(tfb_invert(tfb_batch_normalization(layer)),
                                  tfb_shift(rnorm(D)))), x)
  set_weights(layer, c(get_weights(layer)[c("gamma", "beta")],
                       list(moving_mean = rnorm(D),
                            moving_variance = runif(D, 0.5, 2))))
  expect_flow_gradients(td, x, layers = list(layer))

  # an inverted inverse is the bijector itself
  td <- built_flow(tfb_invert(tfb_invert(nvp_member(2L))), x)
  expect_flow_gradients(td, x)
})

test_that("an inverted MAF (an inverse autoregressive flow) has gradients", {
  set.seed(413)
  x <- gradient_data()
  td <- flow_on(tfb_invert(maf_member()))
  td$log_prob(x)
  randomize_parameters(td)
  expect_flow_gradients(td, x)
})

test_that("loss_and_gradient() moves the running statistics as one log_prob()", {
  set.seed(414)
  x <- gradient_data()
  layer <- layer_batch_normalization(momentum = 0.8)
  td <- built_flow(tfb_chain(list(maf_member(),
                                  tfb_batch_normalization(layer))), x)
  twin <- round_trip_rds_flow(td)
  loss_and_gradient(td, x)
  twin$log_prob(x)
  twin_layer <- twin$bijector$bijectors[[2]]$batchnorm
  expect_equal(get_weights(layer), get_weights(twin_layer), tolerance = 1e-14)
  expect_identical(trainable_parameters(td), trainable_parameters(twin))
})

test_that("the gradient is the average over the rows", {
  set.seed(415)
  x <- gradient_data()
  td <- built_flow(maf_member(), x)
  whole <- loss_and_gradient(td, x, input_gradient = TRUE)
  top <- loss_and_gradient(td, x[1:10, ], input_gradient = TRUE)
  bottom <- loss_and_gradient(td, x[11:20, ], input_gradient = TRUE)
  expect_equal(whole$loss, (top$loss + bottom$loss) / 2, tolerance = 1e-12)
  for (name in names(whole$gradient)) {
    expect_equal(whole$gradient[[name]],
                 (top$gradient[[name]] + bottom$gradient[[name]]) / 2,
                 tolerance = 1e-12)
  }
  expect_equal(whole$input, rbind(top$input, bottom$input) / 2,
               tolerance = 1e-12)
  expect_null(loss_and_gradient(td, x)$input)
  # a data frame is the matrix it holds
  expect_identical(loss_and_gradient(td, as.data.frame(x))$gradient,
                   whole$gradient)
})

test_that("loss_and_gradient() refuses bad data and arguments with classed errors", {
  set.seed(416)
  x <- gradient_data()
  td <- built_flow(maf_member(), x)
  before <- trainable_parameters(td)
  bad <- x
  bad[3, 2] <- NA
  expect_error(loss_and_gradient(td, bad), class = "bijectors_error")
  bad[3, 2] <- Inf
  expect_error(loss_and_gradient(td, bad), class = "bijectors_error")
  expect_error(loss_and_gradient(td, x[, 1:2]),
               class = "bijectors_error_event_size")
  expect_error(loss_and_gradient(td, x, input_gradient = NA),
               class = "bijectors_error_argument")
  expect_error(loss_and_gradient(td$distribution, x),
               class = "bijectors_error_distribution")
  expect_identical(trainable_parameters(td), before)
})
