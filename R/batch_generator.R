# Data that arrive in batches from a function (keras' generator style):
# each call returns the next batch as a matrix, or NULL at the end of a pass
# over the data. fit() trains from such a function, its validation loss and
# recompute_batch_statistics() read them, and batches_from_csv() makes one
# that streams a file from disk.

# A generator wrapped with what fit() needs around it: the name it was
# given by (for messages), a one-batch pushback (fit() checks the first
# batch before training starts and then trains on it), and the number of
# batches drawn since the last end of a pass.
new_batch_stream <- function(generator, arg) {
  stream <- new.env(parent = emptyenv())
  stream$generator <- generator
  stream$arg <- arg
  stream$pending <- list()
  stream
}

is_batch_generator <- function(x) {
  is.function(x)
}

# The next value of the generator, unchecked: a batch or NULL. An error
# inside the user's function becomes a classed error naming the call.
stream_next <- function(stream, where) {
  if (length(stream$pending) > 0L) {
    value <- stream$pending[[1L]]
    stream$pending <- list()
    return(value)
  }
  tryCatch(stream$generator(), error = function(condition) {
    abort_bijectors("generator", sprintf(
      "Calling the generator `%s` failed (%s): %s", stream$arg, where,
      conditionMessage(condition)), parent = condition)
  })
}

# Hands a value back, to be returned by the next stream_next().
stream_push_back <- function(stream, value) {
  stream$pending <- list(value)
  invisible(stream)
}

# A batch from a generator, checked as fit() checks a matrix: numeric,
# one event per row with the event shape of `distribution`, finite, and at
# least `min_rows` rows. Errors name the generator and the position and
# carry the class "bijectors_error_generator" besides the usual one.
check_generator_batch <- function(distribution, batch, stream, where,
                                  min_rows = 1L) {
  label <- sprintf("%s() (%s)", stream$arg, where)
  if (!(is.numeric(batch) || is.data.frame(batch)) ||
      (!is.data.frame(batch) && length(dim(batch)) < 2L)) {
    abort_bijectors(c("generator", "input"), sprintf(paste(
      "The generator `%s` must return a numeric matrix (one event per row)",
      "or NULL at the end of a pass over the data, but it returned %s (%s)."),
      stream$arg, describe_input(batch), where))
  }
  batch <- tryCatch(
    check_training_data(distribution, batch, label),
    bijectors_error = function(condition) {
      what <- sub("^bijectors_error_", "", class(condition)[[1L]])
      abort_bijectors(c("generator", what), sprintf(
        "The generator `%s` returned a bad batch: %s", stream$arg,
        conditionMessage(condition)), parent = condition)
    })
  if (nrow(batch) < min_rows) {
    abort_bijectors(c("generator", "argument"), sprintf(paste(
      "The generator `%s` returned a batch of %d row (%s); a flow with",
      "batch normalization needs at least %d rows per batch (a batch of",
      "one row has no variance to normalize with)."), stream$arg,
      nrow(batch), where, min_rows))
  }
  batch
}

# ---- a generator that reads a CSV file in chunks ---------------------------

#' Stream batches of rows from a CSV file
#'
#' Returns a generator function for [fit()][fit.tfd_transformed_distribution()]
#' and [recompute_batch_statistics()] that reads a numeric CSV file from
#' disk `batch_size` rows at a time, so that data larger than memory can be
#' trained on: only one batch is held at a time. Each call returns the next
#' batch as a double matrix; after the last row it returns `NULL` (the end of
#' an epoch) and closes the file, and the next call opens it again and starts
#' from the first row: each epoch is one pass over the file, in file order.
#'
#' The file is read with base R's connections ([file()] and [scan()]); no
#' package is needed. Every field must be a number (no quotes, no missing
#' values other than `NA`, which [fit()][fit.tfd_transformed_distribution()]
#' then refuses). Each line is one row: a row with fewer fields than the
#' first data row is filled with `NA`, one with more is an error (class
#' `bijectors_error_input`), as is a field that is not a number. Numbers
#' are read back as written: [write.csv()] writes 15
#' significant digits, so a file written by it holds the data rounded to
#' those; write `sprintf("%.17g", x)` for an exact copy. The file stays open
#' between calls during a pass; a generator left in the middle of a pass
#' (for instance by `steps_per_epoch`) keeps it open until the generator is
#' garbage collected, when R closes it with a warning. The rows are not shuffled: for stochastic gradient
#' descent, write the file in a random order once (or shuffle within each
#' batch, which changes nothing for the gradient of a mean), or write your
#' own generator that reads blocks in a random order. A last batch of a
#' single row is returned on its own, unlike the batches `fit()` cuts from a
#' matrix; with batch normalization choose `batch_size` so that the number
#' of rows is not 1 more than a multiple of it, or the generator's batch is
#' refused.
#'
#' @param path Path of the CSV file: one event per line, numeric fields
#'   separated by `sep`.
#' @param batch_size Whole number >= 1: rows per batch (the last batch of a
#'   pass may be smaller).
#' @param header `TRUE` if the first line holds column names (skipped at
#'   each pass).
#' @param sep The field separator, a single character (default `","`).
#' @param columns `NULL` for every column, or the 1-based positions of the
#'   columns to keep, in the order wanted.
#' @return A function of no arguments returning a double matrix of at most
#'   `batch_size` rows, or `NULL` at the end of each pass over the file.
#' @family training
#' @seealso [fit.tfd_transformed_distribution()] for training from a
#'   generator, [recompute_batch_statistics()]; keras' generators play the
#'   same role for `keras::fit()`.
#' @examples
#' set.seed(1)
#' path <- tempfile(fileext = ".csv")
#' y <- scale(sample_two_moons(300))
#' write.csv(y, path, row.names = FALSE)
#' flow <- tfd_transformed_distribution(
#'   tfd_multivariate_normal_diag(loc = c(0, 0)),
#'   tfb_chain(list(tfb_shift(c(0, 0)), tfb_batch_normalization(),
#'                  tfb_scale(c(1, 1))))
#' )
#' batches <- batches_from_csv(path, batch_size = 64, header = TRUE)
#' dim(batches())        # the first 64 rows
#' history <- fit(flow, batches_from_csv(path, 64, header = TRUE),
#'                epochs = 3, learning_rate = 0.05, verbose = FALSE)
#' history
#' # statistics over the whole file, read again, equal those from memory
#' recompute_batch_statistics(flow, batches_from_csv(path, 50, header = TRUE))
#' flow$bijector$bijectors[[2]]$batchnorm$moving_mean
#' unlink(path)
#' @export
batches_from_csv <- function(path, batch_size, header = FALSE, sep = ",",
                             columns = NULL) {
  path <- check_string(path, "path")
  if (!file.exists(path)) {
    abort_bijectors("argument", sprintf(
      "`path` must name an existing file; %s does not exist.",
      encodeString(path, quote = "\"")))
  }
  batch_size <- check_count(batch_size, "batch_size")
  header <- check_flag(header, "header")
  sep <- check_string(sep, "sep")
  if (nchar(sep) != 1L) {
    abort_bijectors("argument", sprintf(
      "`sep` must be a single character, not %s.", describe_value(sep)))
  }
  if (!is.null(columns)) {
    ok <- is.numeric(columns) && !is.object(columns) && length(columns) >= 1L &&
      all(is.finite(columns)) && all(columns == round(columns)) &&
      all(columns >= 1)
    if (!ok) {
      abort_bijectors("argument", sprintf(paste(
        "`columns` must be NULL or positive whole numbers (column",
        "positions), not %s."), describe_value(columns)))
    }
    columns <- as.integer(columns)
  }
  # The width of a row, from the first data line, so that each batch is
  # read with one scan() of a known number of fields.
  probe <- readLines(path, n = if (header) 2L else 1L, warn = FALSE)
  if (length(probe) < (if (header) 2L else 1L)) {
    abort_bijectors("argument", sprintf(
      "`path` (%s) holds no data rows.", encodeString(path, quote = "\"")))
  }
  width <- length(strsplit(probe[[length(probe)]], sep, fixed = TRUE)[[1L]])
  if (!is.null(columns) && any(columns > width)) {
    abort_bijectors("argument", sprintf(
      "`columns` asks for column %d, but the file has %d columns.",
      max(columns), width))
  }
  connection <- NULL
  function() {
    if (is.null(connection)) {
      connection <<- file(path, open = "r")
      if (header) {
        readLines(connection, n = 1L, warn = FALSE)
      }
    }
    # One record per line: a field beyond the row's width lands in the
    # extra character field (and the rest of the line is dropped), a short
    # row is filled with NA. One scan() of the batch's fields would take a
    # short row and a long one after it for two good rows, and shift every
    # value between them into the wrong column.
    fields <- tryCatch(
      scan(connection, what = c(rep(list(0), width), list("")), sep = sep,
           nmax = batch_size, quiet = TRUE, strip.white = TRUE,
           blank.lines.skip = TRUE, multi.line = FALSE, fill = TRUE,
           flush = TRUE),
      error = function(condition) {
        close(connection)
        connection <<- NULL
        abort_bijectors("input", sprintf(paste(
          "The CSV file %s has a field that is not a number: %s"),
          encodeString(path, quote = "\""), conditionMessage(condition)))
      })
    rows <- length(fields[[1L]])
    if (rows == 0L) {
      close(connection)
      connection <<- NULL
      return(NULL)
    }
    if (any(nzchar(fields[[width + 1L]]))) {
      close(connection)
      connection <<- NULL
      abort_bijectors("input", sprintf(paste(
        "The CSV file %s has rows of different lengths: a row has more",
        "fields than the %d of its first row."),
        encodeString(path, quote = "\""), width))
    }
    batch <- matrix(unlist(fields[seq_len(width)], use.names = FALSE),
                    nrow = rows)
    if (is.null(columns)) batch else batch[, columns, drop = FALSE]
  }
}

# ---- fit() from a generator -------------------------------------------------

# With a generator the batch size and the order are the generator's, and a
# stream cannot be split for validation: those arguments, if given, would
# be ignored silently, so they are refused.
check_generator_settings <- function(batch_size_missing, shuffle_missing,
                                     validation_split) {
  if (!batch_size_missing) {
    abort_bijectors("argument", paste(
      "`batch_size` cannot be set when `x` is a generator function: the",
      "generator decides the size of each batch."))
  }
  if (!shuffle_missing) {
    abort_bijectors("argument", paste(
      "`shuffle` cannot be set when `x` is a generator function: the",
      "generator decides the order of the rows."))
  }
  if (!identical(validation_split, 0) && !identical(validation_split, 0L)) {
    abort_bijectors("argument", paste(
      "`validation_split` cannot be used when `x` is a generator function",
      "(a stream cannot be split); give `validation_data`, a matrix or a",
      "generator, instead."))
  }
  invisible()
}

# The data of a fit from a generator: the training stream, whose first
# batch is drawn and checked now (before anything changes) and handed back
# for the first step, and the validation matrix or stream, checked the same
# way.
generator_fit_data <- function(object, x, validation_data) {
  has_batchnorm <- length(bijector_batchnorm_layers(
    .subset2(object, "bijector"))) > 0L
  training <- new_batch_stream(x, "x")
  stream_push_back(training, first_generator_batch(
    object, training, "epoch 1, step 1", if (has_batchnorm) 2L else 1L))
  validation <- if (is_batch_generator(validation_data)) {
    stream <- new_batch_stream(validation_data, "validation_data")
    stream_push_back(stream, first_generator_batch(
      object, stream, "validation after epoch 1, batch 1"))
  } else if (!is.null(validation_data)) {
    check_training_data(object, validation_data, "validation_data")
  }
  list(training = training, validation = validation)
}

first_generator_batch <- function(object, stream, where, min_rows = 1L) {
  batch <- stream_next(stream, where)
  if (is.null(batch)) {
    abort_bijectors(c("generator", "empty_batch"), sprintf(paste(
      "The generator `%s` returned NULL at its first call: it has no data.",
      "Nothing was changed."), stream$arg))
  }
  check_generator_batch(object, batch, stream, where, min_rows)
}

# The batches of one epoch from a generator: a function returning the next
# checked batch, or NULL when the generator returns NULL (the end of a
# pass) or, with `steps_per_epoch`, after that many batches. In the second
# case the next epoch continues the pass; if the pass ended exactly there,
# the NULL that the next epoch meets first closes it and is skipped.
generator_epoch <- function(run) {
  stream <- run$training
  limit <- run$step_limit
  taken <- 0L
  function() {
    if (!is.na(limit) && taken >= limit) {
      return(NULL)
    }
    where <- sprintf("epoch %d, step %d", run$epoch, taken + 1L)
    batch <- stream_next(stream, where)
    if (is.null(batch) && taken == 0L && !run$pass_ended) {
      run$pass_ended <- TRUE
      batch <- stream_next(stream, where)
    }
    if (is.null(batch)) {
      if (taken == 0L) {
        abort_bijectors(c("generator", "empty_batch"), sprintf(paste(
          "The generator `%s` returned NULL at the start of epoch %d, so",
          "the epoch has no batch; a generator must start a new pass over",
          "the data after returning NULL."), stream$arg, run$epoch))
      }
      run$pass_ended <- TRUE
      return(NULL)
    }
    run$pass_ended <- FALSE
    taken <<- taken + 1L
    check_generator_batch(run$object, batch, stream, where,
                          run$min_batch_rows)
  }
}

# After an epoch from a generator: its steps and rows go to the history's
# settings, and a progress bar without a total gets one.
note_generator_epoch <- function(run, steps, rows) {
  first <- is.na(run$settings$steps_per_epoch)
  run$settings$steps_per_epoch <- steps
  run$settings$training_rows <- rows
  if (first && !is.null(run$on_total)) {
    run$on_total(run$settings$epochs * steps)
  }
  invisible()
}

# The validation loss over one pass of a validation generator: the mean
# negative log-density (evaluation mode) over all its rows.
generator_validation_loss <- function(run) {
  stream <- run$validation
  total <- 0
  rows <- 0
  k <- 0L
  repeat {
    k <- k + 1L
    where <- sprintf("validation after epoch %d, batch %d", run$epoch, k)
    batch <- stream_next(stream, where)
    if (is.null(batch)) {
      break
    }
    batch <- check_generator_batch(run$object, batch, stream, where)
    total <- total + sum(distribution_log_prob(run$evaluation, batch))
    rows <- rows + nrow(batch)
  }
  if (rows == 0) {
    abort_bijectors(c("generator", "empty_batch"), sprintf(paste(
      "The generator `validation_data` returned NULL before any batch",
      "after epoch %d; it must start a new pass after returning NULL."),
      run$epoch))
  }
  run$settings$validation_rows <- as.integer(rows)
  -total / rows
}

# fit()'s progress bar. From a generator without `steps_per_epoch` the
# number of steps is unknown until the first epoch ends: the bar shows the
# step count and a spinner until then.
new_fit_progress <- function(run, fit_frame) {
  settings <- run$settings
  total <- settings$epochs * settings$steps_per_epoch
  head <- paste0("Epoch {run$epoch}/{settings$epochs} | loss ",
                 "{format_loss(run$progress_loss)}{run$progress_val} ")
  progress <- cli::cli_progress_bar(
    name = "fit", total = total, clear = FALSE,
    format = if (is.na(total)) {
      paste0(head, "{cli::pb_spin} step {cli::pb_current}")
    } else {
      paste0(head, "{cli::pb_bar} {cli::pb_percent} | ETA {cli::pb_eta}")
    },
    format_done = paste0(head, "{cli::pb_bar} 100% | {cli::pb_elapsed}"),
    .envir = fit_frame
  )
  if (is.na(total)) {
    run$on_total <- function(total) {
      cli::cli_progress_update(id = progress, total = total, inc = 0,
                               .envir = fit_frame)
    }
  }
  progress
}
