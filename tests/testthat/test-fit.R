# fit(): reproducibility, convergence on a problem with a known answer,
# validation, early stopping, the gamma constraint, data checks before
# anything changes, quietness, the history's print()/plot(), continuing a
# saved model, and Adam against a plain-R reference.

# y = shift + scale * x with x from the base: the maximum-likelihood shift
# and |scale| are the sample mean and the biased sample sd of each column.
shift_scale_flow <- function(D = 2, shift = rep(0, D), scale = rep(1, D),
                             loc = rep(0, D), scale_diag = rep(1, D)) {
  tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = loc, scale_diag = scale_diag),
    tfb_chain(list(tfb_shift(shift), tfb_scale(scale))))
}

# Loss and gradient of that flow by hand: x = (y - s) / c,
# z = (x - loc) / sd, loss = mean(0.5 * rowSums(z^2)) + sum(log|c|) +
# sum(log(sd)) + D / 2 * log(2 * pi).
shift_scale_by_hand <- function(y, s, c, loc, sd) {
  n <- nrow(y)
  x <- (y - matrix(s, n, ncol(y), byrow = TRUE)) /
    matrix(c, n, ncol(y), byrow = TRUE)
  z <- (x - matrix(loc, n, ncol(y), byrow = TRUE)) /
    matrix(sd, n, ncol(y), byrow = TRUE)
  loss <- mean(0.5 * rowSums(z * z)) + sum(log(abs(c))) + sum(log(sd)) +
    ncol(y) / 2 * log(2 * pi)
  list(loss = loss,
       gradient = list(
         "1_shift/shift" = -colMeans(z) / (sd * c),
         "2_scale/scale" = -colMeans(z * x) / (sd * c) + 1 / c
       ))
}

# A small MAF + batch normalization flow for the tests that need networks.
small_flow <- function(seed, D = 2, momentum = 0.9) {
  set.seed(seed)
  tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = rep(0, D)),
    tfb_chain(list(
      tfb_masked_autoregressive_flow(
        tfb_masked_autoregressive_default_template(c(5, 5),
                                                   activation = "tanh")),
      tfb_batch_normalization(layer_batch_normalization(
        momentum = momentum, gamma_constraint = function(g) pmax(g, 0) + 1e-6)),
      tfb_permute(rev(seq_len(D))),
      tfb_masked_autoregressive_flow(
        tfb_masked_autoregressive_default_template(c(5, 5),
                                                   activation = "tanh"))
    )))
}

small_data <- function(seed, n = 60) {
  set.seed(seed)
  u <- rnorm(n)
  cbind(u, 0.5 * u^2 + rnorm(n, sd = 0.3))
}

layer_weights <- function(td) {
  list(get_weights(td$bijector$bijectors[[2]]$batchnorm))
}

# Parameter lists equal up to `tolerance` in absolute value (Adam steps of
# parameters near 0 cancel, so a relative comparison would judge rounding).
expect_parameters_close <- function(actual, expected, tolerance = 1e-12) {
  expect_identical(names(actual), names(expected))
  expect_lt(max(abs(unlist(actual) - unlist(expected))), tolerance)
}

history_without_time <- function(h) {
  h$seconds <- NULL
  h
}

test_that("fit() is reproducible under set.seed()", {
  x <- small_data(441)
  run <- function() {
    td <- small_flow(442)
    set.seed(443)
    h <- fit(td, x, epochs = 3, batch_size = 16, validation_split = 0.25,
             learning_rate = 0.01, verbose = FALSE)
    list(td = td, h = h)
  }
  first <- run()
  second <- run()
  expect_s3_class(first$h, "bijectors_history")
  expect_identical(trainable_parameters(first$td),
                   trainable_parameters(second$td))
  expect_identical(layer_weights(first$td), layer_weights(second$td))
  expect_identical(history_without_time(first$h),
                   history_without_time(second$h))
  expect_length(first$h$loss, 3L)
  expect_length(first$h$val_loss, 3L)
  expect_identical(first$h$epoch, 1:3)
  # another seed gives another fit
  td <- small_flow(442)
  set.seed(444)
  fit(td, x, epochs = 3, batch_size = 16, validation_split = 0.25,
      learning_rate = 0.01, verbose = FALSE)
  expect_false(identical(trainable_parameters(td),
                         trainable_parameters(first$td)))
})

test_that("fitting a shift and a scale finds the data's mean and sd", {
  set.seed(445)
  y <- cbind(rnorm(500, 2, 0.5), rnorm(500, -1, 3))
  td <- shift_scale_flow()
  start <- shift_scale_by_hand(y, c(0, 0), c(1, 1), c(0, 0), c(1, 1))$loss
  set.seed(446)
  h <- fit(td, y, epochs = 30, batch_size = 50, learning_rate = 0.1,
           verbose = FALSE)
  expect_lt(h$loss[[30]], h$loss[[1]])
  expect_lt(h$loss[[1]], start)
  expect_true(all(diff(h$loss[1:5]) < 0))
  expect_null(h$val_loss)
  expect_identical(h$best_epoch, NA_integer_)
  expect_false(h$restored)
  # minibatch noise keeps Adam near the optimum; full batches with a smaller
  # rate (Adam's moments carry on) reach it
  after_minibatches <- trainable_parameters(td)
  h2 <- fit(td, y, epochs = 300, batch_size = 500, learning_rate = 0.01,
            verbose = FALSE)
  p <- trainable_parameters(td)
  sd_biased <- sqrt(colMeans(sweep(y, 2, colMeans(y))^2))
  expect_equal(p[["1_shift/shift"]], colMeans(y), tolerance = 1e-3)
  expect_equal(abs(p[["2_scale/scale"]]), sd_biased, tolerance = 1e-3)
  best <- shift_scale_by_hand(y, colMeans(y), sd_biased, c(0, 0), c(1, 1))
  expect_equal(h2$loss[[300]], best$loss, tolerance = 1e-6)
  expect_true(h2$loss[[300]] >= best$loss - 1e-12)
  # a data frame is accepted as the matrix it holds
  td2 <- shift_scale_flow()
  set.seed(446)
  fit(td2, as.data.frame(y), epochs = 30, batch_size = 50,
      learning_rate = 0.1, verbose = FALSE)
  expect_identical(trainable_parameters(td2), after_minibatches)
})

test_that("validation_split holds out the last rows; validation_data is used as given", {
  x <- small_data(447, n = 80)
  td <- small_flow(448)
  set.seed(449)
  h <- fit(td, x, epochs = 2, batch_size = 20, validation_split = 0.25,
           learning_rate = 0.01, verbose = FALSE)
  expect_length(h$val_loss, 2L)
  expect_true(all(is.finite(h$val_loss)))
  # the last epoch's validation loss is that of the final model on the last
  # quarter of the rows, in evaluation mode
  expect_equal(h$val_loss[[2]],
               -mean(evaluation_mode(td)$log_prob(x[61:80, ])),
               tolerance = 1e-12)
  expect_identical(h$settings$training_rows, 60L)
  expect_identical(h$settings$validation_rows, 20L)
  # the split happens before shuffling: the held-out rows never train, so
  # the split of rows 1:60 + anything gives the same fit
  td_a <- small_flow(448)
  set.seed(449)
  fit(td_a, rbind(x[1:60, ], x[61:80, ] + 100), epochs = 2, batch_size = 20,
      validation_split = 0.25, learning_rate = 0.01, verbose = FALSE)
  expect_identical(trainable_parameters(td_a), trainable_parameters(td))

  validation <- small_data(450, n = 30)
  td <- small_flow(448)
  set.seed(449)
  h <- fit(td, x, epochs = 2, batch_size = 20, validation_data = validation,
           validation_split = 0.5, learning_rate = 0.01, verbose = FALSE)
  expect_length(h$val_loss, 2L)
  expect_equal(h$val_loss[[2]],
               -mean(evaluation_mode(td)$log_prob(validation)),
               tolerance = 1e-12)
  expect_identical(h$settings$training_rows, 80L)
  # validation moves no running statistic: the same training without it
  # gives the same model
  td_b <- small_flow(448)
  set.seed(449)
  fit(td_b, x, epochs = 2, batch_size = 20, learning_rate = 0.01,
      verbose = FALSE)
  expect_identical(trainable_parameters(td_b), trainable_parameters(td))
  expect_identical(layer_weights(td_b), layer_weights(td))
})

test_that("early stopping restores the parameters of the best epoch", {
  # training data around 3, validation data around 1.5: the validation loss
  # falls while the shift approaches 1.5 and rises after
  set.seed(451)
  y <- matrix(rnorm(200, 3), 100, 2)
  validation <- matrix(rnorm(100, 1.5), 50, 2)
  td <- shift_scale_flow()
  set.seed(452)
  h <- fit(td, y, epochs = 100, batch_size = 25, validation_data = validation,
           learning_rate = 0.05, patience = 3, verbose = FALSE)
  best <- h$best_epoch
  expect_gt(best, 1L)
  expect_identical(best, which.min(h$val_loss))
  expect_length(h$loss, best + 3L)
  expect_true(h$stopped_early)
  expect_true(h$restored)
  # the same run stopped at the best epoch
  again <- shift_scale_flow()
  set.seed(452)
  fit(again, y, epochs = best, batch_size = 25, validation_data = validation,
      learning_rate = 0.05, verbose = FALSE)
  expect_identical(trainable_parameters(td), trainable_parameters(again))
  expect_equal(-mean(td$log_prob(validation)), min(h$val_loss),
               tolerance = 1e-12)

  # with batch normalization the running statistics come back too; with no
  # validation data the training loss is monitored
  x <- small_data(453)
  td <- small_flow(454, momentum = 0.5)
  set.seed(455)
  h <- fit(td, x, epochs = 30, batch_size = 10, learning_rate = 0.3,
           patience = 0, verbose = FALSE)
  best <- h$best_epoch
  expect_identical(best, which.min(h$loss))
  again <- small_flow(454, momentum = 0.5)
  set.seed(455)
  fit(again, x, epochs = best, batch_size = 10, learning_rate = 0.3,
      verbose = FALSE)
  expect_identical(trainable_parameters(td), trainable_parameters(again))
  expect_identical(layer_weights(td), layer_weights(again))
  # patience larger than the epochs: no early stop, the best epoch is kept
  td <- shift_scale_flow()
  set.seed(452)
  h <- fit(td, y, epochs = 5, batch_size = 25, validation_data = validation,
           learning_rate = 0.05, patience = 10, verbose = FALSE)
  expect_false(h$stopped_early)
  expect_identical(h$best_epoch, which.min(h$val_loss))
})

test_that("gamma stays positive after every step, and the layer's constraint applies", {
  x <- small_data(456)
  # a small base scale pulls gamma towards 0.1; a large learning rate
  # overshoots below 0
  set.seed(457)
  layer <- layer_batch_normalization(
    momentum = 1, gamma_constraint = function(g) pmax(g, 0) + 1e-6)
  td <- tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = c(0, 0), scale_diag = c(0.1, 0.1)),
    tfb_chain(list(tfb_batch_normalization(layer), tfb_shift(c(0, 0)))))
  gammas <- list()
  for (i in 1:5) {
    fit(td, x, epochs = 1, batch_size = nrow(x), learning_rate = 2,
        verbose = FALSE)
    gammas[[i]] <- layer$gamma
  }
  gammas <- unlist(gammas)
  expect_true(all(gammas > 0))
  expect_true(any(gammas < 1e-3))
  expect_true(all(is.finite(td$log_prob(x))))

  # the default batch-normalization bijector keeps gamma positive too
  set.seed(458)
  bn <- tfb_batch_normalization()
  td <- tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = c(0, 0), scale_diag = c(0.1, 0.1)),
    bn)
  for (i in 1:3) {
    fit(td, x, epochs = 1, batch_size = 20, learning_rate = 2,
        verbose = FALSE)
    expect_true(all(bn$batchnorm$gamma > 0))
  }
  # any constraint function of the layer is applied after each step
  layer <- layer_batch_normalization(
    gamma_constraint = function(g) pmin(g, 0.5))
  td <- tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = c(0, 0), scale_diag = c(5, 5)),
    tfb_batch_normalization(layer))
  fit(td, x, epochs = 1, batch_size = 20, learning_rate = 0.01,
      verbose = FALSE)
  expect_true(all(layer$gamma <= 0.5))
})

test_that("bad data and arguments are refused before anything changes", {
  x <- small_data(459)
  td <- small_flow(460)
  set.seed(461)
  fit(td, x, epochs = 1, batch_size = 30, verbose = FALSE)
  params <- trainable_parameters(td)
  weights <- layer_weights(td)
  seed <- .Random.seed
  expect_unchanged <- function() {
    expect_identical(trainable_parameters(td), params)
    expect_identical(layer_weights(td), weights)
    expect_identical(.Random.seed, seed)
  }
  for (bad_value in c(NA, NaN, Inf, -Inf)) {
    bad <- x
    bad[17, 2] <- bad_value
    expect_error(fit(td, bad, epochs = 1, verbose = FALSE),
                 class = "bijectors_error_nonfinite")
    expect_error(fit(td, x, validation_data = bad, epochs = 1,
                     verbose = FALSE),
                 class = "bijectors_error_nonfinite")
    expect_unchanged()
  }
  bad <- as.data.frame(x)
  bad[3, 1] <- NA
  expect_error(fit(td, bad, epochs = 1, verbose = FALSE),
               class = "bijectors_error_nonfinite")
  expect_error(fit(td, cbind(x, 1), epochs = 1, verbose = FALSE),
               class = "bijectors_error_event_size")
  expect_error(fit(td, x[, 1], epochs = 1, verbose = FALSE),
               class = "bijectors_error_event_size")
  expect_error(fit(td, x, validation_data = x[, 1, drop = FALSE], epochs = 1,
                   verbose = FALSE),
               class = "bijectors_error_event_size")
  expect_unchanged()
  bad_arguments <- list(
    list(epochs = 0), list(epochs = 1.5), list(batch_size = 0),
    list(validation_split = 1), list(validation_split = -0.1),
    list(shuffle = NA), list(verbose = 3), list(learning_rate = 0),
    list(learning_rate = -1), list(patience = -1), list(epochs = 1, foo = 2),
    list(validation_split = 0.99)
  )
  for (arguments in bad_arguments) {
    expect_error(do.call(fit, c(list(td, x), arguments)),
                 class = "bijectors_error_argument")
  }
  expect_unchanged()
  expect_error(fit(td$distribution, x, epochs = 1, verbose = FALSE))
  expect_snapshot(fit(td, cbind(x, 1), epochs = 1, verbose = FALSE),
                  error = TRUE)
  bad <- x
  bad[2, 2] <- NaN
  expect_snapshot(fit(td, bad, epochs = 1, verbose = FALSE), error = TRUE)
})

test_that("a step with a non-finite loss stops before changing anything", {
  td <- shift_scale_flow()
  y <- matrix(c(1e200, -1e200, 1, 2), 2, 2)
  before <- trainable_parameters(td)
  expect_error(fit(td, y, epochs = 1, verbose = FALSE),
               class = "bijectors_error_diverged")
  expect_identical(trainable_parameters(td), before)
})

test_that("verbose = FALSE prints nothing; verbose = 2 prints one line per epoch", {
  x <- small_data(462)
  td <- small_flow(463)
  expect_silent(fit(td, x, epochs = 2, batch_size = 20, verbose = FALSE,
                    validation_split = 0.2))
  expect_silent(fit(td, x, epochs = 1, verbose = 0))
  # quiet by default in a non-interactive session
  withr::local_options(bijectors.fit_verbose = NULL)
  if (!interactive()) {
    expect_silent(fit(td, x, epochs = 1))
  }
  expect_output(fit(td, x, epochs = 2, batch_size = 30, verbose = 2),
                "Epoch 2/2 - loss: ")
  # fit() returns its history invisibly
  expect_invisible(fit(td, x, epochs = 1, verbose = FALSE))
  # the progress bar runs (whatever it shows in a non-interactive session)
  h <- NULL
  suppressMessages(capture.output(
    h <- fit(td, x, epochs = 2, batch_size = 30, verbose = TRUE,
             validation_split = 0.5)))
  expect_s3_class(h, "bijectors_history")
  expect_length(h$val_loss, 2L)
})

test_that("the history prints, plots and converts to a data frame", {
  set.seed(464)
  y <- matrix(rnorm(200, 3), 100, 2)
  validation <- matrix(rnorm(60, 1.5), 30, 2)
  td <- shift_scale_flow()
  set.seed(465)
  h <- fit(td, y, epochs = 50, batch_size = 25, validation_data = validation,
           learning_rate = 0.05, patience = 2, verbose = FALSE)
  no_time <- function(lines) gsub("[0-9.]+ s$", "<time> s", lines)
  expect_snapshot(print(h), transform = no_time)
  expect_output(expect_invisible(print(h)), "bijectors_history")
  td <- shift_scale_flow()
  set.seed(466)
  h2 <- fit(td, y, epochs = 3, batch_size = 40, learning_rate = 0.05,
            verbose = FALSE)
  expect_snapshot(print(h2), transform = no_time)
  expect_type(format(h2), "character")

  df <- as.data.frame(h)
  expect_named(df, c("epoch", "loss", "val_loss"))
  expect_identical(df$loss, h$loss)
  expect_identical(df$val_loss, h$val_loss)
  expect_true(all(is.na(as.data.frame(h2)$val_loss)))

  grDevices::pdf(NULL)
  on.exit(grDevices::dev.off(), add = TRUE)
  expect_invisible(plot(h))
  expect_identical(plot(h2, log = "y"), h2)
  expect_silent(plot(h, legend = FALSE, main = "losses"))
})

test_that("a saved model continues training to the parameters of an uninterrupted run", {
  x <- small_data(467)
  whole <- small_flow(468)
  set.seed(469)
  h_whole <- fit(whole, x, epochs = 4, batch_size = 16, learning_rate = 0.02,
                 verbose = FALSE)

  part <- small_flow(468)
  set.seed(469)
  h1 <- fit(part, x, epochs = 2, batch_size = 16, learning_rate = 0.02,
            verbose = FALSE)
  copy <- round_trip_rds_flow(part)
  h2 <- fit(copy, x, epochs = 2, batch_size = 16, learning_rate = 0.02,
            verbose = FALSE)
  expect_equal(trainable_parameters(copy), trainable_parameters(whole),
               tolerance = 1e-13)
  expect_equal(layer_weights(copy), layer_weights(whole), tolerance = 1e-13)
  expect_equal(c(h1$loss, h2$loss), h_whole$loss, tolerance = 1e-13)
  # the original was not touched by the copy's training
  expect_false(isTRUE(all.equal(trainable_parameters(part),
                                trainable_parameters(copy))))
})

test_that("Adam matches a plain-R reference for the first steps", {
  set.seed(470)
  y <- cbind(rnorm(12, 1, 2), rnorm(12, -1, 0.5))
  loc <- c(0.3, -0.2)
  sd <- c(1.2, 0.7)
  td <- shift_scale_flow(shift = c(0.5, 0.1), scale = c(1.5, 0.8), loc = loc,
                         scale_diag = sd)
  params <- trainable_parameters(td)
  # the hand gradient is the package's
  by_hand <- shift_scale_by_hand(y, params[[1]], params[[2]], loc, sd)
  analytic <- loss_and_gradient(td, y)
  expect_equal(analytic$loss, by_hand$loss, tolerance = 1e-13)
  expect_equal(analytic$gradient, by_hand$gradient, tolerance = 1e-12)

  state <- NULL
  losses <- numeric(0)
  for (step in 1:3) {
    by_hand <- shift_scale_by_hand(y, params[[1]], params[[2]], loc, sd)
    losses <- c(losses, by_hand$loss)
    ref <- ref_adam_step(params, by_hand$gradient, state, learning_rate = 0.1)
    params <- ref$params
    state <- ref$state
    h <- fit(td, y, epochs = 1, batch_size = nrow(y), shuffle = FALSE,
             learning_rate = 0.1, verbose = FALSE)
    expect_parameters_close(trainable_parameters(td), params)
    expect_equal(h$loss, by_hand$loss, tolerance = 1e-13)
  }
  # two epochs in one call are the same two steps
  td2 <- shift_scale_flow(shift = c(0.5, 0.1), scale = c(1.5, 0.8),
                          loc = loc, scale_diag = sd)
  h <- fit(td2, y, epochs = 3, batch_size = nrow(y), shuffle = FALSE,
           learning_rate = 0.1, verbose = FALSE)
  expect_parameters_close(trainable_parameters(td2), params)
  expect_equal(h$loss, losses, tolerance = 1e-13)
  # shuffle = FALSE draws no random numbers
  set.seed(471)
  seed <- .Random.seed
  fit(td2, y, epochs = 2, batch_size = 5, shuffle = FALSE, verbose = FALSE)
  expect_identical(.Random.seed, seed)
})

test_that("Adam with several minibatches: one step per batch in row order", {
  set.seed(472)
  y <- cbind(rnorm(10, 1, 2), rnorm(10, -1, 0.5))
  td <- shift_scale_flow()
  params <- trainable_parameters(td)
  state <- NULL
  # batches of 4 rows: 1-4, 5-8, 9-10
  for (rows in list(1:4, 5:8, 9:10)) {
    g <- shift_scale_by_hand(y[rows, ], params[[1]], params[[2]], c(0, 0),
                             c(1, 1))$gradient
    ref <- ref_adam_step(params, g, state, learning_rate = 0.05)
    params <- ref$params
    state <- ref$state
  }
  h <- fit(td, y, epochs = 1, batch_size = 4, shuffle = FALSE,
           learning_rate = 0.05, verbose = FALSE)
  expect_parameters_close(trainable_parameters(td), params)
  expect_identical(h$settings$steps_per_epoch, 3L)
})

test_that("a step whose loss is not finite leaves the running statistics alone", {
  set.seed(3)
  x <- matrix(rnorm(40), 20, 2)
  layer <- layer_batch_normalization(momentum = 0.5)
  tfb_batch_normalization(layer, training = FALSE)$forward(x)
  before <- get_weights(layer)
  # batch normalization runs first in the density direction; the scale then
  # sends its output beyond the range of doubles, so the loss is infinite
  flow <- tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = c(0, 0)),
    tfb_chain(list(tfb_batch_normalization(layer), tfb_scale(1e-300)))
  )
  expect_error(fit(flow, x, epochs = 1, batch_size = 10, verbose = FALSE),
               class = "bijectors_error_diverged")
  expect_identical(get_weights(layer), before)
})
