# Adam's state (moments and step counts) lives with the parameters, so that
# every way of continuing a training run takes the same steps, and a step
# that would leave a parameter's domain changes nothing.

adam_flow <- function(bijector = NULL) {
  bijector <- bijector %||% tfb_chain(list(
    tfb_masked_autoregressive_flow(
      tfb_masked_autoregressive_default_template(c(8), activation = "tanh")),
    tfb_batch_normalization(layer_batch_normalization(momentum = 0.9)),
    tfb_permute(2:1),
    tfb_scale(log_scale = c(0, 0))
  ))
  tfd_transformed_distribution(tfd_multivariate_normal_diag(loc = c(0, 0)),
                               bijector)
}

adam_data <- function() {
  set.seed(21)
  scale(sample_two_moons(200))
}

continue_fit <- function(flow, y) {
  set.seed(77)
  fit(flow, y, epochs = 1, batch_size = 50, learning_rate = 0.01,
      verbose = FALSE)
  flow_state(flow)
}

test_that("every way of continuing training takes the same steps", {
  y <- adam_data()
  flow <- adam_flow()
  view <- training_mode(flow)           # made before any training
  set.seed(1)
  fit(flow, y, epochs = 2, batch_size = 50, learning_rate = 0.01,
      verbose = FALSE)
  bijector_file <- tempfile(fileext = ".rds")
  saveRDS(flow$bijector, bijector_file)
  snapshot <- deep_copy(flow)

  reference <- continue_fit(deep_copy(snapshot), y)
  # the view made before training
  expect_identical(continue_fit(view, y), reference)
  # a new distribution around the saved bijector
  rebuilt <- tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = c(0, 0)), readRDS(bijector_file))
  expect_identical(continue_fit(rebuilt, y), reference)
  # a view made after training, and an evaluation view switched back
  expect_identical(continue_fit(training_mode(deep_copy(snapshot)), y),
                   reference)
  expect_identical(
    continue_fit(training_mode(evaluation_mode(deep_copy(snapshot))), y),
    reference)
  # and continuing from scratch is different (the state matters)
  restarted <- deep_copy(snapshot)
  for (layer in bijectors:::bijector_batchnorm_layers(restarted$bijector)) {
    rm(list = grep("^adam_", ls(layer), value = TRUE), envir = layer)
  }
  expect_false(identical(continue_fit(restarted, y), reference))
})

test_that("the step count is per parameter: a new member starts at step 1", {
  y <- adam_data()
  trained <- tfb_shift(c(0, 0))
  flow <- adam_flow(trained)
  set.seed(2)
  fit(flow, y, epochs = 1, batch_size = 50, learning_rate = 0.1,
      verbose = FALSE)
  fresh <- tfb_scale(scale = c(1, 1))
  combined <- adam_flow(tfb_chain(list(fresh, trained)))
  lg <- loss_and_gradient(combined, y[1:50, ])
  before <- trainable_parameters(combined)
  bijectors:::adam_step(bijectors:::parameter_slots_of(combined), lg$gradient,
                        learning_rate = 0.1)
  after <- trainable_parameters(combined)
  # Adam's first step moves every element by the learning rate (up to
  # epsilon); the trained shift, at step 5, moves by a different amount
  step_fresh <- abs(after[["1_scale/scale"]] - before[["1_scale/scale"]])
  expect_equal(step_fresh, c(0.1, 0.1), tolerance = 1e-3)
  steps_trained <- get("adam_steps_parameters", envir = trained)
  expect_identical(steps_trained, 5)
  expect_identical(get("adam_steps_parameters", envir = fresh), 1)
})

test_that("a step that would leave a parameter's domain changes nothing", {
  set.seed(4)
  y <- matrix(rnorm(200, sd = 30), ncol = 2)
  scale <- tfb_scale(log_scale = c(0, 0))
  flow <- adam_flow(tfb_chain(list(tfb_shift(c(0, 0)), scale)))
  before <- flow_state(flow)
  # the first step moves log_scale by about 800: exp(800) is Inf
  expect_error(fit(flow, y, epochs = 1, batch_size = 100,
                   learning_rate = 800, verbose = FALSE),
               "2_scale/log_scale", class = "bijectors_error_diverged")
  expect_identical(flow_state(flow), before)
  expect_false(exists("adam_m_parameters", envir = scale, inherits = FALSE) &&
                 any(get("adam_m_parameters", envir = scale)[[1]] != 0))
  expect_true(all(is.finite(flow$log_prob(y))))
})

test_that("trainable_parameters<- checks what the constructors check", {
  flow <- adam_flow(tfb_chain(list(tfb_scale(log_scale = c(0, 0)),
                                   tfb_scale(scale = c(1, 2)))))
  before <- trainable_parameters(flow)
  for (bad in list(c(800, 0), c(-800, 0), c(NA, 0), c(Inf, 0))) {
    value <- before
    value[["1_scale/log_scale"]] <- bad
    expect_error(trainable_parameters(flow) <- value, "1_scale/log_scale",
                 class = "bijectors_error_argument")
    expect_error(tfb_scale(log_scale = bad))
  }
  value <- before
  value[["2_scale/scale"]] <- c(0, 1)
  expect_error(trainable_parameters(flow) <- value, "non-zero",
               class = "bijectors_error_argument")
  expect_error(tfb_scale(scale = c(0, 1)), class = "bijectors_error_scale")
  expect_identical(trainable_parameters(flow), before)
  # values inside the domain are taken
  value[["2_scale/scale"]] <- c(-3, 1)
  value[["1_scale/log_scale"]] <- c(700, -700)
  trainable_parameters(flow) <- value
  expect_identical(trainable_parameters(flow), value)
})

test_that("a refused step in fit() also puts the running statistics back", {
  set.seed(4)
  y <- matrix(rnorm(200, sd = 30), ncol = 2)
  layer <- layer_batch_normalization(momentum = 0.5)
  # the base is narrow, so the loss pushes log_scale up, by about 800
  flow <- tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = c(0, 0), scale_diag = c(0.01, 0.01)),
    tfb_chain(list(tfb_batch_normalization(layer),
                   tfb_scale(log_scale = c(0, 0)))))
  invisible(flow$log_prob(y))
  before <- flow_state(flow)
  error <- tryCatch(fit(flow, y, epochs = 1, batch_size = 100,
                        learning_rate = 800, verbose = FALSE),
                    bijectors_error_diverged = function(e) e)
  expect_s3_class(error, "bijectors_error_diverged")
  expect_match(conditionMessage(error), "2_scale/log_scale")
  expect_s3_class(error$history, "bijectors_history")
  expect_identical(flow_state(flow), before)
})

test_that("a previewed step writes nothing and gives what the step writes", {
  y <- adam_data()
  flow <- adam_flow()
  set.seed(3)
  fit(flow, y, epochs = 1, batch_size = 50, learning_rate = 0.01,
      verbose = FALSE)
  slots <- bijectors:::parameter_slots_of(flow)
  lg <- loss_and_gradient(flow, y[1:50, ])
  before <- flow_state(flow)
  preview <- bijectors:::adam_step(slots, lg$gradient, learning_rate = 0.01,
                                   preview = TRUE)
  expect_identical(flow_state(flow), before)
  expect_length(preview, length(slots))
  bijectors:::adam_step(slots, lg$gradient, learning_rate = 0.01)
  after <- trainable_parameters(flow)
  expect_identical(unname(lapply(after, as.vector)),
                   lapply(preview, as.vector))
  # a step the real step refuses previews as NULL, and writes nothing
  state <- flow_state(flow)
  huge <- lapply(lg$gradient, function(g) g * 0 + 1)
  expect_null(bijectors:::adam_step(slots, huge, learning_rate = 1e6,
                                    preview = TRUE))
  expect_identical(flow_state(flow), state)
})

test_that("Adam's update is Kingma and Ba's, operation for operation", {
  # a shift of 7 values (odd: pairs and a remainder) stepped 4 times with
  # given gradients, against the same arithmetic in R, bit for bit
  shift <- tfb_shift(seq(-1, 2, length.out = 7))
  slots <- bijectors:::parameter_slots_of(shift)
  set.seed(31)
  rate <- 0.01; b1 <- 0.9; b2 <- 0.999; eps <- 1e-7
  p <- seq(-1, 2, length.out = 7); m <- v <- numeric(7)
  for (t in 1:4) {
    g <- rnorm(7) * 10^(t - 2)
    bijectors:::adam_step(slots, list(g), learning_rate = rate)
    m <- b1 * m + (1 - b1) * g
    v <- b2 * v + (1 - b2) * g * g
    rate_t <- rate * sqrt(1 - b2^t) / (1 - b1^t)
    eps_t <- eps * sqrt(1 - b2^t)
    p <- p - rate_t * m / (sqrt(v) + eps_t)
    expect_identical(as.vector(trainable_parameters(shift)[[1]]), p)
  }
  field <- slots[[1]]$field
  index <- slots[[1]]$index
  expect_identical(get(paste0("adam_m_", field), envir = shift)[[index]], m)
  expect_identical(get(paste0("adam_v_", field), envir = shift)[[index]], v)
})
