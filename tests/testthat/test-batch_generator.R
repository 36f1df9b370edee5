# fit() and recompute_batch_statistics() from generator functions, and
# batches_from_csv().

generator_flow <- function() {
  tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = c(0, 0)),
    tfb_chain(list(
      tfb_masked_autoregressive_flow(
        tfb_masked_autoregressive_default_template(c(6, 6),
                                                   activation = "tanh")),
      tfb_batch_normalization(),
      tfb_permute(2:1)
    ))
  )
}

generator_data <- function(rows = 101) {
  set.seed(11)
  x <- matrix(rnorm(2 * rows), rows, 2)
  x[, 2] <- x[, 2] + 0.5 * x[, 1]^2
  x
}

# The batches fit() cuts from `rows` rows with `batch_size`, written out
# independently: consecutive runs of batch_size rows, a trailing single row
# joining the batch before it. `order()` gives each pass's row order (drawn
# at the first call of the pass, where fit() draws it).
batches_like_fit <- function(x, batch_size, order = function() {
  seq_len(nrow(x))
}, log = NULL) {
  rows <- nrow(x)
  ends <- seq(batch_size, rows, by = batch_size)
  if (rows %% batch_size == 1) {
    ends[[length(ends)]] <- rows
  } else if (rows %% batch_size != 0) {
    ends <- c(ends, rows)
  }
  starts <- c(1, head(ends, -1) + 1)
  current <- NULL
  k <- 0
  function() {
    if (is.null(current)) {
      current <<- order()
    }
    k <<- k + 1
    if (k > length(ends)) {
      current <<- NULL
      k <<- 0
      return(NULL)
    }
    if (!is.null(log)) {
      log$batches <- c(log$batches, k)
    }
    x[current[starts[[k]]:ends[[k]]], , drop = FALSE]
  }
}

test_that("a generator yielding fit()'s batches gives identical parameters", {
  x <- generator_data(101)
  validation <- generator_data(30) + 0.1
  # 101 rows in batches of 25: 25, 25, 25 and 26 (the single last row joins)
  for (shuffle in c(FALSE, TRUE)) {
    from_matrix <- generator_flow()
    from_generator <- generator_flow()
    set.seed(5)
    h_matrix <- fit(from_matrix, x, epochs = 4, batch_size = 25,
                    shuffle = shuffle, validation_data = validation,
                    learning_rate = 0.02, patience = 1, verbose = FALSE)
    set.seed(5)
    order <- if (shuffle) function() sample.int(nrow(x)) else
      function() seq_len(nrow(x))
    h_generator <- fit(from_generator, batches_like_fit(x, 25, order),
                       epochs = 4, learning_rate = 0.02, patience = 1,
                       validation_data = batches_like_fit(validation, 7),
                       verbose = FALSE)
    expect_identical(trainable_parameters(from_generator),
                     trainable_parameters(from_matrix))
    layer <- function(flow) get_weights(flow$bijector$bijectors[[2]]$batchnorm)
    expect_identical(layer(from_generator), layer(from_matrix))
    expect_identical(h_generator$loss, h_matrix$loss)
    # the validation loss is summed batch by batch: equal up to rounding
    expect_equal(h_generator$val_loss, h_matrix$val_loss, tolerance = 1e-13)
    expect_identical(h_generator$best_epoch, h_matrix$best_epoch)
    expect_identical(h_generator$steps, h_matrix$steps)
    expect_identical(h_generator$settings$steps_per_epoch, 4L)
    expect_identical(h_generator$settings$training_rows, 101L)
    expect_identical(h_generator$settings$validation_rows, 30L)
    expect_true(is.na(h_generator$settings$batch_size))
  }
  # the generator's own random order makes a fit reproducible under set.seed()
  again <- generator_flow()
  set.seed(5)
  fit(again, batches_like_fit(x, 25, function() sample.int(nrow(x))),
      epochs = 4, learning_rate = 0.02, patience = 1,
      validation_data = batches_like_fit(validation, 7), verbose = FALSE)
  expect_identical(trainable_parameters(again),
                   trainable_parameters(from_generator))
})

test_that("steps_per_epoch ends an epoch early and the next one continues", {
  x <- generator_data(40)
  log <- new.env()
  # four batches of 10 rows per pass, then NULL
  flow <- generator_flow()
  h <- fit(flow, batches_like_fit(x, 10, log = log), epochs = 3,
           steps_per_epoch = 3, learning_rate = 0.01, verbose = FALSE)
  # epoch 1: batches 1-3; epoch 2: batch 4, then NULL ends it; epoch 3: 1-3
  expect_identical(log$batches, c(1, 2, 3, 4, 1, 2, 3))
  expect_identical(h$steps, 7L)
  expect_identical(h$settings$steps_per_epoch, 3L)
  expect_identical(h$settings$training_rows, 30L)

  # a pass cut exactly at its end: the NULL that closes it is skipped once
  log <- new.env()
  h <- fit(generator_flow(), batches_like_fit(x, 10, log = log), epochs = 3,
           steps_per_epoch = 4, learning_rate = 0.01, verbose = FALSE)
  expect_identical(log$batches, rep(1:4, 3) + 0)
  expect_identical(h$steps, 12L)

  # an endless generator needs steps_per_epoch to define an epoch
  calls <- 0
  endless <- function() {
    calls <<- calls + 1
    x[(calls %% 4) * 10 + 1:10, , drop = FALSE]
  }
  h <- fit(generator_flow(), endless, epochs = 2, steps_per_epoch = 5,
           learning_rate = 0.01, verbose = FALSE)
  expect_identical(calls, 10)
  expect_identical(h$steps, 10L)
  expect_identical(h$settings$training_rows, 50L)
})

test_that("bad generators and arguments are refused before anything changes", {
  x <- generator_data(40)
  flow <- generator_flow()
  fit(flow, x, epochs = 1, batch_size = 20, verbose = FALSE)
  before <- trainable_parameters(flow)
  layer <- flow$bijector$bijectors[[2]]$batchnorm
  statistics <- get_weights(layer)
  unchanged <- function() {
    expect_identical(trainable_parameters(flow), before)
    expect_identical(get_weights(layer), statistics)
  }
  returning <- function(value) function() value
  cases <- list(
    list(returning("a"), c("bijectors_error_generator", "bijectors_error_input")),
    list(returning(1:10), "bijectors_error_generator"),
    list(returning(x[, 1, drop = FALSE]), "bijectors_error_event_size"),
    list(returning(cbind(x, 0)), "bijectors_error_event_size"),
    list(returning({ bad <- x; bad[3, 2] <- NA; bad }),
         "bijectors_error_nonfinite"),
    list(returning(x[1, , drop = FALSE]), "bijectors_error_argument"),
    list(returning(NULL), "bijectors_error_empty_batch"),
    list(function() stop("disk on fire"), "bijectors_error_generator")
  )
  for (case in cases) {
    for (class in case[[2]]) {
      expect_error(fit(flow, case[[1]], epochs = 1, verbose = FALSE),
                   class = class)
    }
    unchanged()
    if (identical(case[[2]], "bijectors_error_argument")) {
      next   # one row is a valid validation batch
    }
    # the same for a validation generator, checked before training starts
    expect_error(fit(flow, batches_like_fit(x, 10), epochs = 1,
                     validation_data = case[[1]], verbose = FALSE),
                 class = "bijectors_error_generator")
    unchanged()
  }
  expect_error(fit(flow, function() stop("disk on fire"), verbose = FALSE),
               "disk on fire")
  generator <- batches_like_fit(x, 10)
  expect_error(fit(flow, generator, batch_size = 10, verbose = FALSE),
               "`batch_size`", class = "bijectors_error_argument")
  expect_error(fit(flow, generator, shuffle = FALSE, verbose = FALSE),
               "`shuffle`", class = "bijectors_error_argument")
  expect_error(fit(flow, generator, validation_split = 0.2, verbose = FALSE),
               "`validation_split`", class = "bijectors_error_argument")
  expect_error(fit(flow, generator, steps_per_epoch = 0, verbose = FALSE),
               "`steps_per_epoch`", class = "bijectors_error_argument")
  expect_error(fit(flow, x, steps_per_epoch = 2, verbose = FALSE),
               "`steps_per_epoch`", class = "bijectors_error_argument")
  unchanged()
})

test_that("a bad batch later in training stops with the history, steps kept", {
  x <- generator_data(40)
  flow <- generator_flow()
  calls <- 0
  generator <- function() {
    calls <<- calls + 1
    if (calls == 7) return(x[1:10, 1, drop = FALSE])   # epoch 2, step 2
    if (calls %% 5 == 0) return(NULL)
    x[((calls - 1) %% 5) * 10 + 1:10, , drop = FALSE]
  }
  set.seed(9)
  condition <- tryCatch(
    fit(flow, generator, epochs = 3, learning_rate = 0.01, verbose = FALSE),
    error = function(e) e)
  expect_s3_class(condition, "bijectors_error_generator")
  expect_s3_class(condition, "bijectors_error_event_size")
  expect_match(conditionMessage(condition), "epoch 2, step 2")
  expect_s3_class(condition$history, "bijectors_history")
  expect_identical(length(condition$history$loss), 1L)
  expect_identical(condition$history$steps, 5L)

  # the same five steps from a matrix give the same parameters
  again <- generator_flow()
  calls <- 0
  set.seed(9)
  fit(again, function() {
    calls <<- calls + 1
    if (calls == 7) return(NULL)
    if (calls %% 5 == 0) return(NULL)
    x[((calls - 1) %% 5) * 10 + 1:10, , drop = FALSE]
  }, epochs = 2, learning_rate = 0.01, verbose = FALSE)
  expect_identical(trainable_parameters(flow), trainable_parameters(again))
})

test_that("an interrupt between generator steps returns the complete epochs", {
  x <- generator_data(40)
  flow <- generator_flow()
  calls <- 0
  generator <- function() {
    calls <<- calls + 1
    if (calls == 8) {
      stop(structure(class = c("interrupt", "condition"),
                     list(message = "", call = NULL)))
    }
    if (calls %% 5 == 0) return(NULL)
    x[((calls - 1) %% 5) * 10 + 1:10, , drop = FALSE]
  }
  expect_message(
    h <- fit(flow, generator, epochs = 3, learning_rate = 0.01,
             verbose = FALSE),
    "interrupted in epoch 2 \\(at step 3 of 4\\)")
  expect_true(h$interrupted)
  expect_identical(length(h$loss), 1L)
  expect_identical(h$steps, 6L)
})

test_that("the progress bar runs from a generator, its total set after an epoch", {
  x <- generator_data(40)
  withr::local_options(cli.progress_show_after = 0, cli.dynamic = FALSE)
  h <- NULL
  shown <- capture.output(
    h <- fit(generator_flow(), batches_like_fit(x, 10), epochs = 3,
             verbose = TRUE),
    type = "message")
  expect_s3_class(h, "bijectors_history")
  expect_identical(h$steps, 12L)
  # before the first epoch ends: a step count; then a bar to 100%
  expect_true(any(grepl("Epoch 1/3 .* step [0-9]", shown)))
  expect_true(any(grepl("Epoch 3/3 .*100%", shown)))
})

test_that("verbose = 2 prints one line per epoch from a generator", {
  x <- generator_data(40)
  expect_output(
    fit(generator_flow(), batches_like_fit(x, 10), epochs = 2, verbose = 2),
    "Epoch 2/2 - loss")
  h <- fit(generator_flow(), batches_like_fit(x, 10), epochs = 1,
           verbose = FALSE)
  expect_match(format(h)[[1L]], "1 epoch of 4 steps \\(batches from a generator")
  expect_match(format(h)[[2L]], "40 training rows")
})

# ---- batches_from_csv() -------------------------------------------------------

write_full_precision_csv <- function(x, path) {
  # 17 significant digits: every double reads back to itself
  lines <- apply(x, 1L, function(row) {
    paste(sprintf("%.17g", row), collapse = ",")
  })
  writeLines(c("a,b", lines), path)
}

test_that("batches_from_csv() streams the file in order, one pass per epoch", {
  x <- generator_data(23)
  path <- withr::local_tempfile(fileext = ".csv")
  write_full_precision_csv(x, path)
  batches <- batches_from_csv(path, batch_size = 10, header = TRUE)
  for (pass in 1:2) {
    expect_identical(batches(), x[1:10, ])
    expect_identical(batches(), x[11:20, ])
    expect_identical(batches(), x[21:23, ])
    expect_null(batches())
  }
  second <- batches_from_csv(path, 5, header = TRUE, columns = 2)
  expect_identical(second(), x[1:5, 2, drop = FALSE])
  while (!is.null(second())) {}   # to the end of the pass: the file closes

  expect_error(batches_from_csv(tempfile(), 10), class = "bijectors_error_argument")
  expect_error(batches_from_csv(path, 0), class = "bijectors_error_argument")
  expect_error(batches_from_csv(path, 10, sep = ";;"),
               class = "bijectors_error_argument")
  expect_error(batches_from_csv(path, 10, header = TRUE, columns = 3),
               class = "bijectors_error_argument")
})

test_that("training and recomputing statistics from a CSV file match memory", {
  x <- generator_data(120)
  path <- withr::local_tempfile(fileext = ".csv")
  write_full_precision_csv(x, path)
  from_matrix <- generator_flow()
  from_file <- generator_flow()
  set.seed(3)
  fit(from_matrix, x, epochs = 2, batch_size = 40, shuffle = FALSE,
      learning_rate = 0.01, verbose = FALSE)
  set.seed(3)
  fit(from_file, batches_from_csv(path, 40, header = TRUE), epochs = 2,
      learning_rate = 0.01, verbose = FALSE)
  expect_identical(trainable_parameters(from_file),
                   trainable_parameters(from_matrix))

  recompute_batch_statistics(from_matrix, x)
  # batches of 7 rows: not the blocks the statistics are merged in
  recompute_batch_statistics(from_file, batches_from_csv(path, 7,
                                                         header = TRUE))
  layer <- function(flow) get_weights(flow$bijector$bijectors[[2]]$batchnorm)
  expect_identical(layer(from_file), layer(from_matrix))
})

# A flow with two layers whose inputs are known in closed form: the first
# sees x - shift, the second sees the first's evaluation output times the
# scale.
two_layer_flow <- function() {
  tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = c(0, 0, 0)),
    tfb_chain(list(tfb_shift(c(1, -2, 3)), tfb_batch_normalization(),
                   tfb_scale(c(2, 0.5, 4)), tfb_batch_normalization()))
  )
}

test_that("recompute_batch_statistics() from a generator: exact, layer by layer", {
  # more than one block of 4096 rows, so that blocks are merged
  set.seed(21)
  rows <- 9000
  x <- cbind(rnorm(rows, 5, 2), runif(rows, -1, 3), rexp(rows) * 1e3)
  pieces <- function(size) {
    start <- 1
    function() {
      if (start > rows) {
        start <<- 1
        return(NULL)
      }
      end <- min(start + size - 1, rows)
      batch <- x[start:end, , drop = FALSE]
      start <<- end + 1
      batch
    }
  }
  reference <- two_layer_flow()
  invisible(reference$log_prob(x[1:50, ]))      # built, statistics moved
  recompute_batch_statistics(reference, x)
  first <- reference$bijector$bijectors[[2]]$batchnorm
  second <- reference$bijector$bijectors[[4]]$batchnorm
  for (size in c(1000, 4096, 4097, 333, 9000)) {
    flow <- two_layer_flow()
    invisible(flow$log_prob(x[1:50, ]))
    recompute_batch_statistics(flow, pieces(size))
    expect_identical(get_weights(flow$bijector$bijectors[[2]]$batchnorm),
                     get_weights(first))
    expect_identical(get_weights(flow$bijector$bijectors[[4]]$batchnorm),
                     get_weights(second))
  }
  # against plain R: the first layer sees x - shift
  shifted <- sweep(x, 2, c(1, -2, 3))
  biased_variance <- function(m) colMeans(sweep(m, 2, colMeans(m))^2)
  expect_equal(first$moving_mean, colMeans(shifted), tolerance = 1e-14)
  expect_equal(first$moving_variance, biased_variance(shifted),
               tolerance = 1e-13)
  # the second sees the first's output in evaluation mode, scaled
  weights <- get_weights(first)
  normalized <- sweep(sweep(shifted, 2, weights$moving_mean), 2,
                      sqrt(weights$moving_variance + first$epsilon), "/")
  normalized <- sweep(sweep(normalized, 2, weights$gamma, "*"), 2,
                      weights$beta, "+")
  scaled <- sweep(normalized, 2, c(2, 0.5, 4), "/")
  expect_equal(second$moving_mean, colMeans(scaled), tolerance = 1e-12)
  expect_equal(second$moving_variance, biased_variance(scaled),
               tolerance = 1e-12)
})

test_that("recompute_batch_statistics() refuses a bad generator and changes nothing", {
  x <- generator_data(40)
  flow <- generator_flow()
  fit(flow, x, epochs = 1, batch_size = 20, verbose = FALSE)
  layer <- flow$bijector$bijectors[[2]]$batchnorm
  before <- get_weights(layer)
  bad <- x
  bad[35, 1] <- Inf
  expect_error(recompute_batch_statistics(flow, batches_like_fit(bad, 10)),
               class = "bijectors_error_nonfinite")
  expect_error(recompute_batch_statistics(flow, function() NULL),
               class = "bijectors_error_empty_batch")
  expect_error(recompute_batch_statistics(flow, function() x[, 1]),
               class = "bijectors_error_generator")
  expect_identical(get_weights(layer), before)
})

test_that("block moments merge to the moments of all the rows", {
  update <- function(...) .Call(bijectors:::C_bn_moments_update, ...)
  set.seed(41)
  x <- cbind(rnorm(300, 1e6, 1), runif(300), rexp(300))
  first <- x[1:120, ]
  second <- x[121:300, ]
  totals <- update(first, dim(first), 2L, NULL)
  expect_identical(totals$shift, x[1, ])
  totals <- update(second, dim(second), 2L, totals)
  expect_identical(totals$count, c(300, 300, 300))
  # plain R, two passes in long double about the exact column means
  expect_equal(totals$shift + totals$mean, colMeans(x), tolerance = 1e-15)
  expect_equal(totals$m2 / totals$count,
               colMeans(sweep(x, 2, colMeans(x))^2), tolerance = 1e-12)
  # a block with NA gives NULL; running totals of the wrong size are refused
  bad <- second
  bad[5, 2] <- NA
  expect_null(update(bad, dim(bad), 2L, totals))
  short <- lapply(totals, function(v) v[1:2])
  expect_error(update(second, dim(second), 2L, short), "features")
  expect_error(update(second, dim(second), 2L, list(1, 2)), "4 vectors")
  expect_error(update(second, dim(second), 2L, unname(as.list(letters[1:4]))),
               "features")
})
