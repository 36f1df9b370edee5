# A hostile pass over fit()'s fused step, the compiled plans of fit() and
# log_prob(), and the state they keep: bad data and settings, failures in
# the middle of a fit, copies and saved flows, and the memory the plans
# keep between calls. After every failure the whole state (parameters,
# Adam's moments and step counts, running statistics) must be identical()
# to a copy taken before the call.

# Every value a fit can change: for each parameter slot the array, Adam's
# two moments and its step counts (read from the owner's bindings), and the
# state of each batch-normalization layer.
hostile_state <- function(flow) {
  slots <- bijectors:::bijector_parameter_slots(flow$bijector)
  values <- lapply(slots, function(slot) {
    names <- paste0(c("", "adam_m_", "adam_v_", "adam_steps_"), slot$field)
    lapply(stats::setNames(names, names), function(name) {
      if (exists(name, envir = slot$owner, inherits = FALSE)) {
        get(name, envir = slot$owner, inherits = FALSE)
      }
    })
  })
  layers <- bijectors:::bijector_batchnorm_layers(flow$bijector)
  list(slots = values,
       layers = lapply(layers, function(layer) .subset2(layer, "state")))
}

hostile_flow <- function(d = 2L, hidden = c(8L, 8L), seed = 1L) {
  set.seed(seed)
  members <- list(
    tfb_masked_autoregressive_flow(
      tfb_masked_autoregressive_default_template(hidden,
                                                 activation = "tanh")),
    tfb_batch_normalization())
  if (d > 1L) {
    members <- c(members, list(tfb_permute(rev(seq_len(d)))))
  }
  tfd_transformed_distribution(tfd_multivariate_normal_diag(loc = rep(0, d)),
                               tfb_chain(members))
}

# A flow after one epoch, so that Adam's moments and the running
# statistics exist and a failed call has something to spoil.
trained_hostile_flow <- function(d = 2L) {
  flow <- hostile_flow(d)
  set.seed(2)
  fit(flow, matrix(rnorm(100 * d), ncol = d), epochs = 1, batch_size = 16,
      verbose = FALSE)
  flow
}

test_that("every refused call to fit() leaves the whole state as it was", {
  flow <- trained_hostile_flow()
  before <- hostile_state(flow)
  set.seed(3)
  y <- matrix(rnorm(200), ncol = 2)
  late_na <- y
  late_na[95, 2] <- NA
  refusals <- list(
    list(late_na, list(), "bijectors_error_nonfinite"),
    list(matrix(TRUE, 10, 2), list(), "bijectors_error_input"),
    list(y[0, ], list(), "bijectors_error_empty_batch"),
    list(y[1, , drop = FALSE], list(), "bijectors_error_argument"),
    list(y[, 1], list(), "bijectors_error_event_size"),
    list(y, list(batch_size = 1), "bijectors_error_argument"),
    list(y, list(epochs = 0), "bijectors_error_argument"),
    list(y, list(learning_rate = 0), "bijectors_error_argument"),
    list(y, list(learning_rate = -1), "bijectors_error_argument"),
    list(y, list(learning_rate = NA), "bijectors_error_argument"),
    list(y, list(learning_rate = Inf), "bijectors_error_argument"),
    list(y, list(learning_rate = c(0.1, 0.2)), "bijectors_error_argument"),
    list(y, list(validation_data = late_na), "bijectors_error_nonfinite"),
    list(y, list(validation_split = 0.999), "bijectors_error_argument")
  )
  for (case in refusals) {
    arguments <- c(list(flow, case[[1L]], verbose = FALSE), case[[2L]])
    expect_error(do.call(fit, arguments), class = case[[3L]])
    expect_identical(hostile_state(flow), before)
  }
  # the message names the argument and what it must be
  expect_error(fit(flow, y, learning_rate = NA, verbose = FALSE),
               "`learning_rate` must be a positive number")
  expect_error(fit(flow, y, epochs = 0, verbose = FALSE),
               "`epochs` must be a whole number >= 1")
  # a whole number too large for R's integers says what the bound is
  # (it said "a whole number >= 1, not 1e+10")
  expect_error(fit(flow, y, batch_size = 1e10, verbose = FALSE),
               "`batch_size` must be a whole number >= 1 and <= 2147483647",
               fixed = TRUE, class = "bijectors_error_argument")
  expect_identical(hostile_state(flow), before)
})

test_that("a generator failing midway keeps the steps before it, and only them", {
  set.seed(4)
  y <- matrix(rnorm(120), ncol = 2)
  batches <- lapply(0:5, function(k) y[k * 10 + 1:10, , drop = FALSE])
  # the first two batches, then something wrong
  generator <- function(third) {
    k <- 0L
    function() {
      k <<- k + 1L
      if (k <= 2L) batches[[k]] else if (k == 3L) third() else NULL
    }
  }
  wrong <- list(
    columns = function() y[1:10, 1L, drop = FALSE],
    nan = function() {
      batch <- batches[[3L]]
      batch[4L, 1L] <- NaN
      batch
    },
    error = function() stop("the disk went away"),
    one_row = function() y[1L, , drop = FALSE],
    logical = function() matrix(TRUE, 10, 2))
  # the reference: a copy trained on the two good batches alone
  start <- trained_hostile_flow()
  reference <- deep_copy(start)
  fit(reference, generator(function() NULL), epochs = 1, verbose = FALSE)
  for (name in names(wrong)) {
    flow <- deep_copy(start)
    error <- tryCatch(fit(flow, generator(wrong[[name]]), epochs = 1,
                          verbose = FALSE), error = identity)
    expect_s3_class(error, "bijectors_error_generator")
    expect_identical(hostile_state(flow), hostile_state(reference),
                     label = name)
  }
})

test_that("saved, read back and deep-copied flows continue the same optimization, apart", {
  set.seed(5)
  y <- matrix(rnorm(160), ncol = 2)
  flow <- trained_hostile_flow()
  path <- withr::local_tempfile(fileext = ".rds")
  saveRDS(flow, path)
  read_back <- readRDS(path)
  copy <- deep_copy(flow)
  untouched <- deep_copy(flow)
  kept <- hostile_state(untouched)
  for (model in list(flow, read_back, copy)) {
    fit(model, y, epochs = 2, batch_size = 16, shuffle = FALSE,
        verbose = FALSE)
  }
  expect_identical(hostile_state(read_back), hostile_state(flow))
  expect_identical(hostile_state(copy), hostile_state(flow))
  # the copies share no buffer: the fourth, not trained, did not move
  expect_identical(hostile_state(untouched), kept)
  expect_false(identical(hostile_state(flow), kept))
  # the R path (no plan, no fused step) gives the same numbers to the bit
  withr::local_options(bijectors.compiled_plan = FALSE)
  fit(untouched, y, epochs = 2, batch_size = 16, shuffle = FALSE,
      verbose = FALSE)
  expect_identical(hostile_state(untouched), hostile_state(flow))
})

test_that("a parameter of the right length refused for its NA says so", {
  # the message said "must hold 16 finite numbers, not a double vector of
  # length 16"
  flow <- trained_hostile_flow()
  before <- hostile_state(flow)
  parameters <- trainable_parameters(flow)
  parameters[[1L]][[3L]] <- NA
  expect_error(trainable_parameters(flow) <- parameters,
               "not a double vector of length 16 holding NA, NaN or Inf",
               fixed = TRUE, class = "bijectors_error_argument")
  expect_identical(hostile_state(flow), before)
})

test_that("arrays handed to trainable_parameters<- and set_weights() are never written", {
  set.seed(6)
  y <- matrix(rnorm(160), ncol = 2)
  source_flow <- trained_hostile_flow()
  flow <- hostile_flow(seed = 9L)
  fit(flow, y[1:20, ], epochs = 1, batch_size = 10, verbose = FALSE)
  parameters <- trainable_parameters(source_flow)
  parameters_kept <- unserialize(serialize(parameters, NULL))
  trainable_parameters(flow) <- parameters
  layer <- bijectors:::bijector_batchnorm_layers(flow$bijector)[[1L]]
  weights <- get_weights(
    bijectors:::bijector_batchnorm_layers(source_flow$bijector)[[1L]])
  weights_kept <- unserialize(serialize(weights, NULL))
  set_weights(layer, weights)
  source_kept <- hostile_state(source_flow)
  fit(flow, y, epochs = 2, batch_size = 16, verbose = FALSE)
  expect_identical(parameters, parameters_kept)
  expect_identical(weights, weights_kept)
  expect_identical(hostile_state(source_flow), source_kept)
})

test_that("a flow whose data leave its support at the start says so, not that training diverged", {
  set.seed(7)
  y <- matrix(rnorm(100, sd = 2), ncol = 2)   # many values beyond (-1, 1)
  flow <- tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = c(0, 0)),
    tfb_chain(list(tfb_shift(c(0, 0)), tfb_tanh())))
  before <- hostile_state(flow)
  error <- tryCatch(fit(flow, y, epochs = 1, verbose = FALSE),
                    error = identity)
  expect_s3_class(error, "bijectors_error_diverged")
  expect_match(conditionMessage(error), "before any step of this fit")
  expect_match(conditionMessage(error), "outside the flow's support")
  expect_no_match(conditionMessage(error), "Training diverged")
  expect_identical(hostile_state(flow), before)
  # the same through the fused step and the R path: parameters that send
  # every batch beyond what batch normalization can normalize
  spoilt <- trained_hostile_flow()
  parameters <- trainable_parameters(spoilt)
  output_kernel <- grep("layer3/kernel", names(parameters), fixed = TRUE)
  parameters[[output_kernel]][] <- 1e300
  trainable_parameters(spoilt) <- parameters
  for (compiled in c(TRUE, FALSE)) {
    withr::local_options(bijectors.compiled_plan = compiled)
    copy <- deep_copy(spoilt)
    kept <- hostile_state(copy)
    error <- tryCatch(fit(copy, y, epochs = 1, verbose = FALSE),
                      error = identity)
    expect_s3_class(error, "bijectors_error_diverged")
    expect_match(conditionMessage(error), "before any step of this fit")
    expect_identical(hostile_state(copy), kept)
  }
  # after training has taken steps, a blow-up is still called divergence
  # (the first step with this rate sends the next batch beyond what batch
  # normalization can normalize)
  blown <- trained_hostile_flow()
  error <- tryCatch(fit(blown, y, epochs = 1, batch_size = 10,
                        learning_rate = 1e300, verbose = FALSE),
                    error = identity)
  expect_s3_class(error, "bijectors_error_diverged")
  expect_match(conditionMessage(error), "Training diverged")
})

test_that("log_prob() of a very large batch does not keep its workspace for the session", {
  # the limit lowered to 8 MB, so that a batch of 6000 rows is very large
  withr::local_options(bijectors.plan_workspace_keep = 2^20)
  set.seed(9)
  flow <- hostile_flow(hidden = c(64L, 64L))
  fit(flow, matrix(rnorm(400), ncol = 2), epochs = 1, verbose = FALSE)
  evaluation <- evaluation_mode(flow)
  workspace <- bijectors:::plan_shared_workspace
  small <- matrix(rnorm(200), ncol = 2)
  small_log_prob <- evaluation$log_prob(small)
  # a small batch keeps its buffer (what makes the next call cheap): the
  # plan ran, and its workspace is sized for 100 rows
  kept <- length(.subset2(workspace, "buffer"))
  expect_gte(kept, 100 * (2 * 64 + 64 + 64))
  expect_lte(kept, 2^20)
  # 6000 rows need about 12 MB of buffers: dropped after the call (it was
  # kept for the session: 212 MB after a log_prob() of 1e5 rows)
  large <- matrix(rnorm(12000), ncol = 2)
  large_log_prob <- evaluation$log_prob(large)
  expect_lt(length(.subset2(workspace, "buffer")), 6000 * (64 + 64))
  # the same numbers as the R path, and as before for the small batch
  withr::local_options(bijectors.compiled_plan = FALSE)
  expect_identical(large_log_prob, evaluation$log_prob(large))
  expect_identical(small_log_prob, evaluation$log_prob(small))
})

test_that("the fused step's C checks every element of its list before using it", {
  # Each element of the step list replaced in turn by values of the wrong
  # type or length: an R error or a result, never a crash (a gamma layer
  # that was not an environment reached Rf_findVarInFrame()).
  ns <- asNamespace("bijectors")
  set.seed(10)
  y <- matrix(rnorm(40), 20, 2)
  flow <- hostile_flow(hidden = c(3L, 5L))
  fit(flow, y, epochs = 1, batch_size = 5, verbose = FALSE)
  settings <- ns$check_fit_settings(1L, 5L, 0, TRUE, FALSE, 0.001, NULL)
  run <- ns$new_fit_run(flow, list(training = y, validation = NULL), settings)
  ns$fit_step(run, y[1:5, ])
  step <- ns$fused_fit_spec(run)
  expect_type(step, "list")
  garbage <- list(NULL, 1L, 1.5, "a", list(), list(1), TRUE, NA,
                  matrix(1, 2, 2), new.env(), quote(x), c(1L, NA),
                  as.list(1:16))
  outcomes <- character()
  for (k in seq_along(step)) {
    for (value in garbage) {
      spoilt <- step
      spoilt[k] <- list(value)
      outcome <- tryCatch({
        .Call(ns$C_plan_fit_step, spoilt, y, NULL, NULL)
        "result"
      }, error = function(e) "error")
      outcomes <- c(outcomes, outcome)
    }
  }
  expect_length(outcomes, length(step) * length(garbage))
  expect_true("error" %in% outcomes)
})

test_that("batches_from_csv() never shifts values across rows of different lengths", {
  path <- withr::local_tempfile(fileext = ".csv")
  # a short row then a long one: 8 fields, a multiple of the width, which
  # one scan() of the batch took for four good rows (3, 4 / 5, 6 ...)
  writeLines(c("1,2", "3", "4,5,6", "7,8"), path)
  batches <- batches_from_csv(path, batch_size = 2)
  first <- batches()
  expect_identical(first, rbind(c(1, 2), c(3, NA)))
  expect_error(batches(), "rows of different lengths",
               class = "bijectors_error_input")
  # a long row whose fields are exactly two rows' worth
  writeLines(c("1,2", "3,4,5,6", "7,8"), path)
  expect_error(batches_from_csv(path, batch_size = 10)(),
               "rows of different lengths", class = "bijectors_error_input")
  # a field that is not a number names the file
  writeLines(c("1,2", "x,4"), path)
  expect_error(batches_from_csv(path, batch_size = 10)(), "not a number",
               class = "bijectors_error_input")
  # blank lines, CRLF line ends, spaces and no final newline read as before
  y <- rbind(c(0.5, -1), c(2, 3e-5), c(-4, 1e10))
  writeBin(charToRaw("0.5,-1\r\n\r\n 2 , 3e-5\r\n-4,1e10"), path)
  batches <- batches_from_csv(path, batch_size = 2)
  expect_identical(rbind(batches(), batches()), y)
  expect_null(batches())
  # fit() refuses the bad file and changes nothing
  writeLines(c("1,2", "3,4,5,6", "7,8", "9,10"), path)
  flow <- trained_hostile_flow()
  before <- hostile_state(flow)
  expect_error(fit(flow, batches_from_csv(path, batch_size = 2), epochs = 1,
                   verbose = FALSE), class = "bijectors_error_generator")
  expect_identical(hostile_state(flow), before)
})
