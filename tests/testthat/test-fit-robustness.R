# fit() and the public calls when something goes wrong: an interrupt during
# a step, divergence inside the flow, bases and data that cannot be
# trained on, constraints and user functions that fail. Every failure
# leaves the model as it was: parameters, Adam state and running
# statistics.

# Parameters and the weights of every batch-normalization layer.
model_state <- function(flow) {
  list(
    parameters = trainable_parameters(flow),
    layers = lapply(bijectors:::bijector_batchnorm_layers(flow$bijector),
                    get_weights)
  )
}

# ---- interrupts ----------------------------------------------------------

# The loss pass dominates each step: batch normalization runs first in the
# density direction and a wide MAF after it, so an interrupt most likely
# lands after the running statistics moved and before the step is applied.
interrupt_flow <- function() {
  set.seed(11)
  tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = c(0, 0)),
    tfb_chain(list(
      tfb_batch_normalization(layer_batch_normalization(momentum = 0.5)),
      tfb_masked_autoregressive_flow(
        tfb_masked_autoregressive_default_template(c(256, 256),
                                                   activation = "tanh")),
      tfb_permute(2:1)
    ))
  )
}

interrupt_data <- function() {
  set.seed(12)
  scale(sample_two_moons(2000))
}

test_that("an interrupt during a step leaves the model as after its last complete step", {
  skip_on_cran()
  skip_if(nzchar(Sys.getenv("BIJECTORS_VALGRIND")),
          "the child process is not under valgrind")
  skip_if_not(.Platform$OS.type == "unix", "SIGINT needs a unix")
  dir <- tempfile("interrupt")
  dir.create(dir)
  on.exit(unlink(dir, recursive = TRUE), add = TRUE)
  script <- file.path(dir, "child.R")
  writeLines(c(
    "suppressPackageStartupMessages(library(bijectors))",
    paste("interrupt_flow <-", paste(deparse(interrupt_flow), collapse = "\n")),
    paste("interrupt_data <-", paste(deparse(interrupt_data), collapse = "\n")),
    paste("model_state <-", paste(deparse(model_state), collapse = "\n")),
    sprintf("dir <- %s", deparse(dir)),
    "flow <- interrupt_flow()",
    "x <- interrupt_data()",
    "writeLines(as.character(Sys.getpid()), file.path(dir, 'pid'))",
    "history <- suppressMessages(fit(flow, x, epochs = 10000,",
    "  batch_size = nrow(x), shuffle = FALSE, verbose = FALSE))",
    "saveRDS(list(history = history, state = model_state(flow)),",
    "        file.path(dir, 'result.tmp'))",
    "file.rename(file.path(dir, 'result.tmp'), file.path(dir, 'result.rds'))"
  ), script)
  libs <- paste(.libPaths(), collapse = .Platform$path.sep)
  system2(file.path(R.home("bin"), "Rscript"),
          c("--vanilla", shQuote(script)),
          env = paste0("R_LIBS=", shQuote(libs)),
          stdout = file.path(dir, "out.txt"),
          stderr = file.path(dir, "err.txt"), wait = FALSE)
  wait_for <- function(file, seconds) {
    deadline <- Sys.time() + seconds
    while (!file.exists(file) && Sys.time() < deadline) {
      Sys.sleep(0.05)
    }
    file.exists(file)
  }
  expect_true(wait_for(file.path(dir, "pid"), 60))
  pid <- as.integer(readLines(file.path(dir, "pid")))
  # a few steps in, then Ctrl-C
  Sys.sleep(2.5)
  tools::pskill(pid, tools::SIGINT)
  finished <- wait_for(file.path(dir, "result.rds"), 120)
  if (!finished) {
    tools::pskill(pid, tools::SIGKILL)
  }
  expect_true(finished, label = paste(readLines(file.path(dir, "err.txt")),
                                      collapse = "\n"))
  result <- readRDS(file.path(dir, "result.rds"))
  expect_true(result$history$interrupted)
  steps <- result$history$steps
  expect_lte(length(result$history$loss), steps)

  # the same number of complete steps in a fresh model (on a loaded machine
  # the interrupt may come before the first step ends: then none)
  replay <- interrupt_flow()
  if (steps > 0L) {
    fit(replay, interrupt_data(), epochs = steps, batch_size = 2000,
        shuffle = FALSE, verbose = FALSE)
  }
  expect_identical(result$state, model_state(replay))
})

# ---- divergence ----------------------------------------------------------

three_real_nvp <- function(seed) {
  set.seed(seed)
  blocks <- list()
  for (k in 1:3) {
    blocks <- c(blocks, list(
      tfb_real_nvp(num_masked = 1, shift_and_log_scale_fn =
                     tfb_real_nvp_default_template(c(16, 16))),
      tfb_batch_normalization(),
      tfb_permute(2:1)))
  }
  tfd_transformed_distribution(tfd_multivariate_normal_diag(loc = c(0, 0)),
                               tfb_chain(blocks))
}

test_that("divergence inside the flow is reported as divergence, with the history", {
  set.seed(21)
  x <- scale(sample_two_moons(500))
  for (seed in 1:2) {
    flow <- three_real_nvp(seed)
    set.seed(22)
    condition <- tryCatch(
      fit(flow, x, epochs = 20, batch_size = 64, learning_rate = 1,
          verbose = FALSE),
      error = function(e) e)
    expect_s3_class(condition, "bijectors_error_diverged")
    expect_match(conditionMessage(condition), "learning_rate")
    expect_s3_class(condition$history, "bijectors_history")
    expect_gte(condition$history$steps, 1L)
    # the model holds the last complete step: replaying its epochs and
    # steps is not possible through fit(), but the parameters are finite
    expect_true(all(is.finite(unlist(trainable_parameters(flow)))))
  }
})

test_that("with patience, divergence restores the best epoch before the error", {
  set.seed(21)
  x <- scale(sample_two_moons(500))
  flow <- three_real_nvp(1)
  set.seed(25)
  condition <- tryCatch(
    fit(flow, x, epochs = 30, batch_size = 64, learning_rate = 1,
        patience = 30, verbose = FALSE),
    bijectors_error_diverged = function(e) e)
  expect_s3_class(condition, "bijectors_error_diverged")
  history <- condition$history
  skip_if(length(history$loss) == 0L, "diverged in the first epoch")
  expect_true(history$restored)
  expect_identical(history$best_epoch, which.min(history$loss))
  # the best epoch again, in a fresh model: the same draws, the same state
  replay <- three_real_nvp(1)
  set.seed(25)
  fit(replay, x, epochs = history$best_epoch, batch_size = 64,
      learning_rate = 1, verbose = FALSE)
  expect_identical(model_state(flow), model_state(replay))
})

test_that("a batch that is itself extreme is still reported as a data problem", {
  layer <- layer_batch_normalization(epsilon = 0)
  flow <- tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = c(0, 0)),
    tfb_batch_normalization(layer))
  x <- cbind(rnorm(20), 3)
  expect_error(fit(flow, x, epochs = 1, verbose = FALSE),
               class = "bijectors_error_zero_variance")
  expect_false(layer$built)
})

# ---- bases and data ------------------------------------------------------

test_that("a scalar tfd_normal base is refused for training before the data", {
  flow <- tfd_transformed_distribution(tfd_normal(0, 1), tfb_shift(1))
  x <- matrix(rnorm(100), ncol = 1)
  expect_error(fit(flow, x, epochs = 1, verbose = FALSE),
               class = "bijectors_error_unsupported")
  expect_error(fit(flow, x, epochs = 1, verbose = FALSE),
               "tfd_normal.*tfd_multivariate_normal_diag|tfd_multivariate_normal_diag.*tfd_normal")
  # the base is checked first, whatever the data
  expect_error(fit(flow, "not data", epochs = 1, verbose = FALSE),
               class = "bijectors_error_unsupported")
  expect_error(loss_and_gradient(flow, x),
               class = "bijectors_error_unsupported")
  expect_error(loss_and_gradient(flow, "not data"),
               class = "bijectors_error_unsupported")
  expect_identical(trainable_parameters(flow), list("shift" = 1))
})

test_that("a one-row training set is refused for a flow with batch normalization", {
  set.seed(31)
  x <- matrix(rnorm(400), 200, 2)
  bn <- tfb_batch_normalization()
  flow <- tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = c(0, 0)),
    tfb_chain(list(bn, tfb_shift(c(0, 0)))))
  seed <- .Random.seed
  expect_error(fit(flow, x[1, , drop = FALSE], epochs = 1, verbose = FALSE),
               class = "bijectors_error_argument")
  expect_error(fit(flow, x[1, , drop = FALSE], validation_data = x,
                   epochs = 1, verbose = FALSE),
               class = "bijectors_error_argument")
  expect_error(fit(flow, x, validation_split = 0.995, epochs = 1,
                   verbose = FALSE),
               class = "bijectors_error_argument")
  expect_error(fit(flow, x, validation_split = 0.995, epochs = 1,
                   verbose = FALSE), "validation_split")
  expect_false(bn$batchnorm$built)
  expect_identical(.Random.seed, seed)
  # without batch normalization one row is a valid (if small) training set
  plain <- tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = c(0, 0)), tfb_shift(c(0, 0)))
  history <- fit(plain, x[1, , drop = FALSE], epochs = 1, verbose = FALSE)
  expect_identical(history$steps, 1L)
})

# ---- batch statistics ----------------------------------------------------

test_that("recompute_batch_statistics() refuses a zero variance with epsilon = 0", {
  set.seed(41)
  layer <- layer_batch_normalization(epsilon = 0)
  flow <- tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = c(0, 0)),
    tfb_batch_normalization(layer))
  invisible(flow$log_prob(matrix(rnorm(40), 20, 2)))
  before <- get_weights(layer)
  x <- cbind(rnorm(30), 2)
  expect_error(recompute_batch_statistics(flow, x),
               class = "bijectors_error_zero_variance")
  expect_error(recompute_batch_statistics(flow$bijector, x),
               class = "bijectors_error_zero_variance")
  expect_identical(get_weights(layer), before)
  expect_true(all(is.finite(evaluation_mode(flow)$log_prob(x))))

  # an unbuilt layer stays unbuilt
  fresh <- layer_batch_normalization(epsilon = 0)
  expect_error(recompute_batch_statistics(tfb_batch_normalization(fresh), x),
               class = "bijectors_error_zero_variance")
  expect_false(fresh$built)
})

test_that("recompute_batch_statistics() on a chain changes nothing if a later layer refuses", {
  set.seed(42)
  first <- layer_batch_normalization()
  second <- layer_batch_normalization(epsilon = 0)
  flow <- tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = c(0, 0)),
    tfb_chain(list(tfb_batch_normalization(first), tfb_shift(c(1, 2)),
                   tfb_batch_normalization(second))))
  invisible(flow$log_prob(matrix(rnorm(40), 20, 2)))
  before <- list(get_weights(first), get_weights(second))
  # the first layer normalizes a constant column to a constant (beta): the
  # second layer, with epsilon = 0, refuses it
  x <- cbind(rnorm(30), 5)
  expect_error(recompute_batch_statistics(flow, x),
               class = "bijectors_error_zero_variance")
  expect_identical(list(get_weights(first), get_weights(second)), before)
})

test_that("set_weights() refuses a zero moving variance with epsilon = 0", {
  layer <- layer_batch_normalization(epsilon = 0)
  b <- tfb_batch_normalization(layer)
  invisible(b$inverse(matrix(rnorm(20), 10, 2)))
  before <- get_weights(layer)
  weights <- before
  weights$moving_variance <- c(0, 1)
  expect_error(set_weights(layer, weights),
               class = "bijectors_error_zero_variance")
  expect_error(set_weights(b, weights), class = "bijectors_error_argument")
  expect_error(set_weights(b, weights), "weights\\$moving_variance")
  expect_identical(get_weights(layer), before)
  # with epsilon > 0 a zero running variance is fine
  other <- layer_batch_normalization()
  invisible(tfb_batch_normalization(other)$inverse(matrix(rnorm(20), 10, 2)))
  weights <- get_weights(other)
  weights$moving_variance <- c(0, 1)
  set_weights(other, weights)
  expect_identical(other$moving_variance, c(0, 1))
})

# ---- failures apply nothing ------------------------------------------------

constrained_flow <- function(constraint) {
  set.seed(51)
  tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = c(0, 0)),
    tfb_chain(list(
      tfb_batch_normalization(layer_batch_normalization(
        momentum = 0.5, gamma_constraint = constraint, name = "bn_x")),
      tfb_shift(c(0.5, -0.5)))))
}

test_that("a gamma_constraint returning NA fails before the step changes anything", {
  set.seed(52)
  x <- matrix(rnorm(60), 30, 2)
  calls <- 0L
  fail_at <- 2L
  flaky <- function(g) {
    calls <<- calls + 1L
    if (calls == fail_at) g[[1L]] <- NA
    pmax(g, 0) + 1e-6
  }
  flow <- constrained_flow(flaky)
  fit(flow, x, epochs = 1, batch_size = 30, shuffle = FALSE, verbose = FALSE)
  before <- model_state(flow)
  expect_error(fit(flow, x, epochs = 1, batch_size = 30, shuffle = FALSE,
                   verbose = FALSE),
               class = "bijectors_error_gamma_constraint")
  expect_identical(model_state(flow), before)
  calls <- 0L
  fail_at <- 1L
  expect_error(fit(flow, x, epochs = 1, batch_size = 30, shuffle = FALSE,
                   verbose = FALSE),
               "`gamma_constraint` of layer \"bn_x\" returned NA.*[Nn]othing was changed")
  expect_identical(model_state(flow), before)
  # Adam's step count and moments did not move either: continuing gives
  # what a run without the failed attempts gives
  fail_at <- -1L
  fit(flow, x, epochs = 1, batch_size = 30, shuffle = FALSE, verbose = FALSE)
  replay <- constrained_flow(function(g) pmax(g, 0) + 1e-6)
  fit(replay, x, epochs = 2, batch_size = 30, shuffle = FALSE,
      verbose = FALSE)
  expect_identical(model_state(flow), model_state(replay))

  # a constraint that errors is reported the same way
  flow <- constrained_flow(function(g) stop("no"))
  expect_error(fit(flow, x, epochs = 1, batch_size = 30, verbose = FALSE),
               class = "bijectors_error_gamma_constraint")
  expect_false(flow$bijector$bijectors[[1]]$batchnorm$built)
})

# A chain whose batch normalization runs first in the inverse direction and
# moves its statistics, then a coupling layer whose user function fails.
failing_chain <- function(layer, fn) {
  tfb_chain(list(tfb_batch_normalization(layer),
                 tfb_real_nvp(num_masked = 1, shift_and_log_scale_fn = fn)))
}

test_that("public calls that fail after batch normalization ran change nothing", {
  set.seed(61)
  y <- matrix(rnorm(40), 20, 2)
  failing_functions <- list(
    function(x, units) stop("user network failed"),
    function(x, units) list(matrix(0, 3, 3), NULL)
  )
  for (fn in failing_functions) {
    layer <- layer_batch_normalization(momentum = 0.5)
    chain <- failing_chain(layer, fn)
    flow <- tfd_transformed_distribution(
      tfd_multivariate_normal_diag(loc = c(0, 0)), chain)
    # not built yet: stays unbuilt
    expect_error(flow$log_prob(y))
    expect_false(layer$built)
    # built: keeps its statistics
    tfb_batch_normalization(layer, training = FALSE)$forward(y)
    before <- get_weights(layer)
    calls <- list(
      function() tfd_log_prob(flow, y),
      function() flow$log_prob(y),
      function() tfd_prob(flow, y),
      function() tfb_inverse(chain, y),
      function() chain$inverse(y),
      function() tfb_inverse_log_det_jacobian(chain, y, event_ndims = 1),
      function() tfb_forward(tfb_invert(chain), y),
      function() tfb_forward_log_det_jacobian(tfb_invert(chain), y,
                                              event_ndims = 1),
      function() loss_and_gradient(flow, y),
      function() recompute_batch_statistics(flow, y)
    )
    for (call in calls) {
      expect_error(call())
      expect_identical(get_weights(layer), before)
    }
  }
})

# ---- fit() on the wrong thing, sampling nothing -----------------------------

test_that("fit() on a bijector or a bare distribution is a classed error", {
  x <- matrix(rnorm(20), ncol = 1)
  expect_error(fit(tfb_shift(1), x), class = "bijectors_error_distribution")
  expect_error(fit(tfb_shift(1), x), "tfd_transformed_distribution")
  expect_error(fit(tfd_multivariate_normal_diag(loc = 0), x),
               class = "bijectors_error_distribution")
})

test_that("sampling zero draws through an inverted training batch norm returns an empty sample", {
  bn <- tfb_batch_normalization()
  flow <- tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = c(0, 0)), tfb_invert(bn))
  expect_identical(dim(flow$sample(0)), c(0L, 2L))
  expect_identical(dim(flow$sample(c(0, 3))), c(0L, 3L, 2L))
  expect_identical(dim(flow$sample(c(3, 0))), c(3L, 0L, 2L))
  expect_identical(dim(tfd_sample(flow, list(0))), c(0L, 2L))
  expect_false(bn$batchnorm$built)
  set.seed(71)
  draws <- flow$sample(5)
  expect_identical(dim(draws), c(5L, 2L))
  before <- get_weights(bn)
  expect_identical(dim(flow$sample(0)), c(0L, 2L))
  expect_identical(get_weights(bn), before)
})
