# deep_copy(): independent copies; plain assignment is an alias.

copy_test_flow <- function(layer = layer_batch_normalization(momentum = 0.9)) {
  template <- tfb_masked_autoregressive_default_template(c(8), activation = "tanh")
  tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = c(0, 0)),
    tfb_chain(list(
      tfb_masked_autoregressive_flow(template),
      tfb_batch_normalization(layer),
      tfb_permute(2:1),
      tfb_masked_autoregressive_flow(template),
      tfb_invert(tfb_batch_normalization(layer, training = FALSE)),
      tfb_shift(c(0.1, -0.1))
    ))
  )
}

copy_data <- function() {
  set.seed(3)
  scale(sample_two_moons(160))
}

test_that("plain assignment is an alias, deep_copy() is independent", {
  y <- copy_data()
  flow <- copy_test_flow()
  fit(flow, y, epochs = 1, batch_size = 40, verbose = FALSE)
  alias <- flow
  copy <- deep_copy(flow)
  before <- flow_state(flow)
  expect_identical(flow_state(copy), before)
  fit(flow, y, epochs = 1, batch_size = 40, learning_rate = 0.01,
      verbose = FALSE)
  expect_false(identical(flow_state(flow), before))
  expect_identical(flow_state(alias), flow_state(flow))
  expect_identical(flow_state(copy), before)
  # and training the copy leaves the original alone
  after <- flow_state(flow)
  fit(copy, y, epochs = 1, batch_size = 40, verbose = FALSE)
  expect_identical(flow_state(flow), after)
})

test_that("a copy continues training exactly as the original would", {
  y <- copy_data()
  flow <- copy_test_flow()
  fit(flow, y, epochs = 2, batch_size = 40, learning_rate = 0.01,
      verbose = FALSE)
  copy <- deep_copy(flow)
  set.seed(9)
  fit(flow, y, epochs = 1, batch_size = 40, learning_rate = 0.01,
      verbose = FALSE)
  set.seed(9)
  fit(copy, y, epochs = 1, batch_size = 40, learning_rate = 0.01,
      verbose = FALSE)
  # Adam's moments and step counts were copied too: a copy that restarted
  # the bias correction would take different steps
  expect_identical(flow_state(copy), flow_state(flow))
})

test_that("shared layers and templates stay shared within the copy", {
  flow <- copy_test_flow()
  invisible(flow$log_prob(copy_data()))
  copy <- deep_copy(flow)
  members <- copy$bijector$bijectors
  original <- flow$bijector$bijectors
  expect_true(identical(members[[2]]$batchnorm,
                        members[[5]]$bijector$batchnorm))
  expect_false(identical(members[[2]]$batchnorm, original[[2]]$batchnorm))
  expect_true(identical(members[[1]]$shift_and_log_scale_fn,
                        members[[4]]$shift_and_log_scale_fn))
  expect_false(identical(members[[1]]$shift_and_log_scale_fn,
                         original[[1]]$shift_and_log_scale_fn))
  # one template, listed once, in both
  expect_identical(names(trainable_parameters(copy)),
                   names(trainable_parameters(flow)))
  # the copy's results are the original's
  y <- copy_data()
  expect_identical(evaluation_mode(copy)$log_prob(y),
                   evaluation_mode(flow)$log_prob(y))
  set.seed(1)
  a <- flow$sample(5)
  set.seed(1)
  expect_identical(copy$sample(5), a)
})

test_that("deep_copy() of each object kind, and bad input", {
  layer <- layer_batch_normalization()
  invisible(tfb_batch_normalization(layer)$inverse(copy_data()))
  layer_copy <- deep_copy(layer)
  expect_s3_class(layer_copy, "layer_batch_normalization")
  expect_identical(get_weights(layer_copy), get_weights(layer))
  invisible(tfb_batch_normalization(layer_copy)$inverse(copy_data() + 4))
  expect_false(identical(get_weights(layer_copy), get_weights(layer)))
  template <- tfb_real_nvp_default_template(c(4))
  expect_s3_class(deep_copy(template), "tfb_real_nvp_template")
  normal <- tfd_normal(1, 2)
  expect_identical(deep_copy(normal)$scale, 2)
  expect_error(deep_copy(list(1)), class = "bijectors_error_argument")
  expect_error(deep_copy(new.env()), "`x` must be a bijector",
               class = "bijectors_error_argument")
})
