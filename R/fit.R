# fit(): maximum likelihood training of a flow with Adam over shuffled
# minibatches, keras' argument names, early stopping and a history.

#' @importFrom generics fit
#' @export
generics::fit

#' Fit a normalizing flow to data
#'
#' Trains the parameters of a transformed distribution by maximum likelihood:
#' Adam (Kingma and Ba, 2015) on the mean negative log-likelihood of shuffled
#' minibatches of the rows of `x`, with the analytic gradients of
#' [loss_and_gradient()]. The arguments are those of keras' `fit()`. The
#' distribution is modified in place (its bijectors own their parameters)
#' and the history of the losses is returned.
#'
#' * **Epochs and minibatches.** Each epoch visits every training row once,
#'   in a new random order drawn with [sample()] when `shuffle = TRUE`, in
#'   batches of `batch_size` rows (the last one smaller; a last batch of a
#'   single row joins the one before, since batch normalization cannot
#'   normalize one row). Networks and batch-normalization layers are created
#'   on the first batch. Everything random goes through R's generator, so
#'   [set.seed()] makes a fit reproducible.
#' * **Each step** runs one inverse pass (batch normalization in training
#'   mode normalizes with the batch statistics and moves its running
#'   averages, as `log_prob()` does), the backward pass, one Adam step on
#'   every trainable parameter, and then the gamma constraint of each
#'   batch-normalization layer (by default `gamma` is kept positive). The
#'   base distribution is held fixed. Adam's moments are stored beside the
#'   parameters and its step count in the distribution, so calling `fit()`
#'   again, also on a model saved with [saveRDS()] and read back, continues
#'   the same optimization.
#' * **Validation.** With `validation_split = s`, the *last* `s` fraction of
#'   the rows is held out (before shuffling, as keras does); alternatively
#'   `validation_data` is a separate matrix (it takes precedence). The
#'   validation loss is computed at the end of each epoch in evaluation mode
#'   ([evaluation_mode()]): batch normalization uses its running statistics
#'   and nothing changes.
#' * **Early stopping.** With `patience = p`, training stops when the
#'   validation loss (the training loss without validation data) has not
#'   improved for `p` epochs, and in any case the parameters of the best
#'   epoch, with the running statistics of the batch-normalization layers at
#'   that time, are restored at the end.
#' * **Progress.** With `verbose = TRUE` a progress bar (cli) shows the epoch
#'   and the mean training loss so far, and the last validation loss. The
#'   default is quiet in non-interactive sessions (scripts, knitr) unless
#'   the option `bijectors.fit_verbose` says otherwise. `verbose = 2` prints
#'   one line per epoch instead, as keras does.
#' * **Interrupting** (Ctrl-C, Esc) takes effect between steps: a step is
#'   applied whole or not at all, so the model holds the parameters, Adam
#'   state and running statistics of the last complete step (those of the
#'   best epoch if `patience` is set), and `fit()` returns the history of
#'   the complete epochs with a message.
#'
#' Data with `NA`, `NaN` or `Inf`, or with a number of columns other than
#' the event size, are refused before training starts (error class
#' `bijectors_error_nonfinite` or `bijectors_error_event_size`), as is a
#' base distribution without a log-density gradient (class
#' `bijectors_error_unsupported`) and, for a flow with batch normalization,
#' a training set of one row (class `bijectors_error_argument`).
#'
#' **Divergence.** A step whose loss or gradient is not finite, or in which
#' a layer inside the flow refuses its input (an intermediate value became
#' infinite, or too large to normalize) although the batch itself is finite,
#' stops training with an error of class `bijectors_error_diverged` before
#' that step changes any parameter or running statistic; a smaller
#' `learning_rate` is the usual cure (when this happens on the first step of
#' a fit, before any training, the same error says instead that the data may
#' lie outside the flow's support). With `patience` set, the best epoch so
#' far is restored first. The error carries the history up to the failure
#' in its field `history` (a [bijectors_history]):
#' `tryCatch(fit(...), bijectors_error_diverged = function(e) e$history)`.
#' A `gamma_constraint` that fails or returns something other than finite
#' numbers is an error of class `bijectors_error_gamma_constraint`, raised
#' before the step changes anything.
#'
#' **Training from a generator.** `x` may also be a function of no
#' arguments that returns the next training batch (a numeric matrix, one
#' event per row) at each call, and `NULL` at the end of a pass over the
#' data, as keras' generators do; the next call then starts a new pass. See
#' [batches_from_csv()] for one that reads a file from disk, so that data
#' larger than memory can be trained on (only one batch is held at a time).
#' The generator decides the batches and their order: `batch_size`,
#' `shuffle` and `validation_split` cannot be given with it (an error). An
#' epoch ends when the generator returns `NULL`, or, with `steps_per_epoch
#' = s`, after `s` batches, whichever comes first; in the second case the
#' next epoch continues the generator where it stopped (for an endless
#' generator, `steps_per_epoch` is how an epoch is defined), and a `NULL`
#' met as the very first value of an epoch, which ends a pass that the
#' previous epoch cut exactly at its end, is skipped once. `validation_data`
#' may be a generator too; it is read for one whole pass (until `NULL`)
#' after each epoch, and its loss is the mean over all its rows. Everything
#' else is as with a matrix: the first batch of each generator is drawn and
#' checked before training starts, every later batch is checked before its
#' step (a batch that is not a numeric matrix with the event size as its
#' number of columns, holds non-finite values, or, with batch
#' normalization, has a single row, stops training with an error of class
#' `bijectors_error_generator` and the specific class, such as
#' `bijectors_error_event_size`, carrying the history like a divergence;
#' the steps before it stand, and with `patience` the best epoch is
#' restored), and an error inside the generator becomes an error of class
#' `bijectors_error_generator` (the original is its `parent`) handled the
#' same way. `fit()` draws no random numbers of its own
#' for a generator beyond those of creating the networks on the first
#' batch, so a generator that draws its order with [sample()] makes the fit
#' reproducible under [set.seed()], and one that yields the batches
#' `fit()` would cut from a matrix gives the same parameters to the bit
#' (see the examples). The history records the steps and rows of the last
#' complete epoch.
#'
#' **Speed.** A flow made only of masked autoregressive flows with the
#' default template, batch normalization, permutations and chains of them
#' is compiled once per `fit()` into a plan that runs each step's passes in
#' C (`log_prob()` uses one too); the numbers are identical to those of the
#' step by step R path, which other flows take and which
#' `options(bijectors.compiled_plan = FALSE)` forces (the option is `TRUE`
#' or `FALSE`; anything else is an error when `fit()` or `log_prob()` reads
#' it). When its base is
#' [tfd_multivariate_normal_diag()], no two members share a parameter and
#' every `gamma_constraint` is the default one (or none), each step after
#' the first is a single call into C: the batch cut from the rows, both
#' passes, the loss, Adam and the gamma constraints, applied whole or not
#' at all as above.
#'
#' After training a flow with batch normalization, call
#' [recompute_batch_statistics()] on the training set and evaluate with
#' [evaluation_mode()], as in `vignette("flow-training", package =
#' "bijectors")`.
#'
#' @param object A [tfd_transformed_distribution()] whose base distribution
#'   is [tfd_multivariate_normal_diag()].
#' @param x A numeric matrix or numeric data frame: one event per row, as
#'   many columns as the event size of `object`; or a generator: a function
#'   of no arguments returning the next batch as such a matrix, or `NULL` at
#'   the end of a pass (see "Training from a generator").
#' @param epochs Whole number >= 1: the number of passes over the training
#'   rows.
#' @param batch_size Whole number >= 1: the rows per step (default 32, as
#'   keras).
#' @param validation_split Number in \[0, 1): the fraction of the rows of
#'   `x`, taken from the end, held out for validation.
#' @param validation_data `NULL`, or a numeric matrix or data frame like `x`
#'   to validate on (then `validation_split` is ignored), or a generator
#'   that returns `NULL` after its last batch.
#' @param shuffle `TRUE` to visit the training rows in a new random order
#'   each epoch, `FALSE` to keep their order.
#' @param verbose `TRUE` (or 1) for a progress bar, `FALSE` (or 0) for
#'   none, 2 for one line per epoch. Default: `TRUE` in interactive
#'   sessions, or the option `bijectors.fit_verbose`.
#' @param learning_rate Positive number: Adam's step size (default 0.001, as
#'   keras). Adam's other settings are keras' defaults (`beta_1 = 0.9`,
#'   `beta_2 = 0.999`, `epsilon = 1e-7`).
#' @param patience `NULL` for no early stopping, or a whole number >= 0: the
#'   number of epochs without improvement after which training stops (keras'
#'   `callback_early_stopping(patience = , restore_best_weights = TRUE)`).
#' @param steps_per_epoch `NULL`, or, only when `x` is a generator, a whole
#'   number >= 1: the most batches in an epoch (an epoch also ends when the
#'   generator returns `NULL`).
#' @param ... Not used; other arguments are an error.
#' @return A [bijectors_history] object, invisibly (as keras): per-epoch
#'   training loss and validation loss in nats per event, with `print()`
#'   and `plot()` methods.
#' @family training
#' @seealso [loss_and_gradient()], [recompute_batch_statistics()],
#'   [evaluation_mode()], [sample_two_moons()]; `vignette("flow-training",
#'   package = "bijectors")`. In R keras / tfprobability the same model is
#'   trained with `keras::fit()` on a model wrapping the distribution's
#'   `log_prob()`.
#' @examples
#' set.seed(1)
#' y <- scale(sample_two_moons(400))
#' flow <- tfd_transformed_distribution(
#'   tfd_multivariate_normal_diag(loc = c(0, 0)),
#'   tfb_chain(list(
#'     tfb_masked_autoregressive_flow(
#'       tfb_masked_autoregressive_default_template(c(16, 16),
#'                                                  activation = "tanh")),
#'     tfb_batch_normalization(),
#'     tfb_permute(2:1)
#'   ))
#' )
#' history <- fit(flow, y, epochs = 3, batch_size = 64,
#'                validation_split = 0.25, learning_rate = 0.01,
#'                verbose = FALSE)
#' history
#' recompute_batch_statistics(flow, y[1:300, ])
#' mean(evaluation_mode(flow)$log_prob(y[301:400, ]))   # nats per point
#'
#' # The same training from a generator that yields the rows in the order
#' # fit() visits them with shuffle = TRUE: a new sample.int() per pass.
#' flow_a <- tfd_transformed_distribution(
#'   tfd_multivariate_normal_diag(loc = c(0, 0)),
#'   tfb_chain(list(tfb_shift(c(0, 0)), tfb_scale(c(1, 1)))))
#' flow_b <- deep_copy(flow_a)
#' rows_in_order <- function(x, batch_size) {
#'   order <- NULL
#'   step <- 0
#'   function() {
#'     if (is.null(order)) order <<- sample.int(nrow(x))
#'     if (step * batch_size >= nrow(x)) {
#'       order <<- NULL
#'       step <<- 0
#'       return(NULL)                      # end of the pass
#'     }
#'     rows <- order[(step * batch_size + 1):min((step + 1) * batch_size,
#'                                               nrow(x))]
#'     step <<- step + 1
#'     x[rows, , drop = FALSE]
#'   }
#' }
#' set.seed(2)
#' fit(flow_a, y, epochs = 2, batch_size = 100, learning_rate = 0.05,
#'     verbose = FALSE)
#' set.seed(2)
#' fit(flow_b, rows_in_order(y, 100), epochs = 2, learning_rate = 0.05,
#'     verbose = FALSE)
#' identical(trainable_parameters(flow_a), trainable_parameters(flow_b))
#' @method fit tfd_transformed_distribution
#' @export
fit.tfd_transformed_distribution <- function(
    object, x, epochs = 10L, batch_size = 32L, validation_split = 0,
    validation_data = NULL, shuffle = TRUE,
    verbose = getOption("bijectors.fit_verbose", interactive()),
    learning_rate = 1e-3, patience = NULL, steps_per_epoch = NULL, ...) {
  check_fit_dots(list(...))
  gemm_apply_option()
  from_generator <- is_batch_generator(x)
  if (from_generator) {
    check_generator_settings(missing(batch_size), missing(shuffle),
                             validation_split)
  } else if (!is.null(steps_per_epoch)) {
    abort_bijectors("argument", paste(
      "`steps_per_epoch` is for training from a generator function; with a",
      "matrix `x` an epoch is one pass over its rows (set `batch_size`)."))
  }
  settings <- check_fit_settings(epochs, batch_size, validation_split,
                                 shuffle, verbose, learning_rate, patience)
  if (from_generator) {
    settings$steps_per_epoch <- if (is.null(steps_per_epoch)) NA_integer_ else
      check_count(steps_per_epoch, "steps_per_epoch")
    settings$batch_size <- NA_integer_
    settings$shuffle <- NA
  }
  # The base first: no data can make an unsupported base trainable.
  check_trainable_distribution(object, "object")
  data <- if (from_generator) {
    generator_fit_data(object, x, validation_data)
  } else {
    split_fit_data(object, x, validation_data, validation_split)
  }
  rm(x)
  run <- new_fit_run(object, data, settings)
  check_fit_batches(run, split = is.null(validation_data) &&
                      validation_split > 0, validation_split)

  settings <- run$settings
  fit_frame <- environment()
  if (settings$verbose == 1L) {
    progress <- new_fit_progress(run, fit_frame)
    run$on_step <- function() {
      cli::cli_progress_update(id = progress, .envir = fit_frame)
    }
  }
  outcome <- tryCatch({
    fit_epochs(run)
    "completed"
  }, interrupt = function(condition) "interrupted",
  bijectors_error_diverged = function(condition) condition,
  bijectors_error_generator = function(condition) condition)
  if (settings$verbose == 1L) {
    cli::cli_progress_done(id = progress, .envir = fit_frame)
  }

  interrupted <- identical(outcome, "interrupted")
  history <- finish_fit(run, stopped = !identical(outcome, "completed"),
                        interrupted = interrupted)
  if (is.list(outcome)) {
    # Divergence or a bad batch from a generator: the history so far
    # travels with the error.
    outcome$history <- history
    stop(outcome)
  }
  if (interrupted) {
    cli::cli_inform(c("!" = paste0(
      "Training interrupted in epoch ", run$epoch, " (at step ",
      run$step_in_epoch,
      if (is.na(run$settings$steps_per_epoch)) "" else
        paste(" of", run$settings$steps_per_epoch),
      "); returning the history of the ", length(run$losses),
      " complete epoch", if (length(run$losses) == 1L) "" else "s", ".",
      if (history$restored) paste0(" The parameters of epoch ",
                                   history$best_epoch,
                                   " (the best) were restored.") else "")))
  } else if (settings$verbose > 0L && run$stopped_early) {
    cli::cli_inform(c("i" = paste0(
      "Early stopping after epoch ", length(run$losses),
      ": no improvement for ", run$wait, " epochs; restored the parameters ",
      "of epoch ", run$best_epoch, ".")))
  }
  invisible(history)
}

# The arguments of fit() other than the model and the data, checked and
# normalised.
check_fit_settings <- function(epochs, batch_size, validation_split, shuffle,
                               verbose, learning_rate, patience) {
  epochs <- check_count(epochs, "epochs")
  batch_size <- check_count(batch_size, "batch_size")
  validation_split <- check_number(validation_split, "validation_split",
                                   lower = 0, upper = 1,
                                   what = "a number in [0, 1)")
  if (validation_split >= 1) {
    abort_bijectors("argument", sprintf(
      "`validation_split` must be a number in [0, 1), not %s.",
      describe_value(validation_split)))
  }
  shuffle <- check_flag(shuffle, "shuffle")
  verbose <- check_verbose(verbose)
  learning_rate <- check_number(learning_rate, "learning_rate", lower = 0,
                                what = "a positive number")
  if (learning_rate <= 0) {
    abort_bijectors("argument",
                    "`learning_rate` must be a positive number, not 0.")
  }
  list(epochs = epochs, batch_size = batch_size, shuffle = shuffle,
       verbose = verbose, learning_rate = learning_rate,
       patience = check_patience(patience))
}

# The training and validation rows: `validation_data` if given, otherwise
# the last `validation_split` fraction of the rows of `x`.
split_fit_data <- function(object, x, validation_data, validation_split) {
  x <- check_training_data(object, x)
  if (!is.null(validation_data)) {
    return(list(training = x, validation = check_training_data(
      object, validation_data, "validation_data")))
  }
  if (validation_split == 0) {
    return(list(training = x, validation = NULL))
  }
  rows <- nrow(x)
  split_at <- floor(rows * (1 - validation_split))
  if (split_at < 1 || split_at >= rows) {
    abort_bijectors("argument", sprintf(paste(
      "`validation_split = %s` leaves %s of the %d rows of `x` for",
      "training and %s for validation; both need at least one."),
      format(validation_split), format(split_at), rows,
      format(rows - split_at)))
  }
  list(training = batch_rows(x, seq_len(split_at)),
       validation = batch_rows(x, (split_at + 1):rows))
}

# Batch normalization cannot normalize a batch of one row, so a flow with it
# needs batches of at least two rows: batch_size >= 2 and at least two
# training rows (a trailing single row joins the batch before it).
check_fit_batches <- function(run, split, validation_split) {
  # a generator's batches are checked one by one as they come
  if (length(run$layers) == 0L || is.environment(run$training)) {
    return(invisible())
  }
  if (run$settings$batch_size < 2L) {
    abort_bijectors("argument", paste(
      "`batch_size` must be at least 2 for a flow with batch normalization:",
      "a batch of one row has no variance to normalize with."))
  }
  rows <- run$settings$training_rows
  if (rows < 2L) {
    source <- if (split) {
      sprintf("`validation_split = %s` leaves %d training row of the %d rows of `x`",
              format(validation_split), rows,
              rows + run$settings$validation_rows)
    } else {
      sprintf("`x` has %d row", rows)
    }
    abort_bijectors("argument", paste0(
      "A flow with batch normalization needs at least 2 training rows (a ",
      "batch of one row has no variance to normalize with), but ", source,
      ". Nothing was changed."))
  }
  invisible()
}

# Everything a fit changes as it goes, in one environment: the data, the
# settings, the losses, early stopping's best state and the position.
new_fit_run <- function(object, data, settings) {
  run <- new.env(parent = emptyenv())
  run$object <- object
  run$training <- data$training
  run$validation <- data$validation
  run$evaluation <- if (!is.null(data$validation)) evaluation_mode(object)
  bijector <- .subset2(object, "bijector")
  run$layers <- bijector_batchnorm_layers(bijector)
  run$all_slots <- bijector_parameter_slots(bijector)
  run$all_bookkeeping <- slot_bookkeeping(run$all_slots)
  run$slots <- NULL
  run$adam_arguments <- NULL
  # the compiled plan (R/plan.R): NULL until compiled, FALSE for none
  run$plan <- if (compiled_plan_enabled()) NULL else FALSE
  # the fused step's list (fused_fit_spec()): NULL until made, FALSE for none
  run$fused <- NULL
  # a matrix's epoch: the order of its rows (matrix_epoch())
  run$order <- NULL
  if (is.environment(data$training)) {
    # From a generator, the rows and steps of an epoch are known once it
    # has ended (unless steps_per_epoch fixes the steps).
    run$settings <- c(settings, list(
      training_rows = NA_integer_,
      validation_rows = if (is.null(data$validation)) 0L else
        if (is.environment(data$validation)) NA_integer_ else
          nrow(data$validation)))
  } else {
    training_rows <- nrow(data$training)
    run$settings <- c(settings, list(
      steps_per_epoch = batch_count(training_rows, settings$batch_size),
      training_rows = training_rows,
      validation_rows = if (is.null(data$validation)) 0L else
        nrow(data$validation)))
  }
  run$min_batch_rows <- if (length(run$layers) > 0L) 2L else 1L
  run$step_limit <- settings$steps_per_epoch %||% NA_integer_
  run$pass_ended <- TRUE
  run$on_total <- NULL
  run$losses <- numeric(0)
  run$val_losses <- if (is.null(data$validation)) NULL else numeric(0)
  run$best_loss <- Inf
  run$best_epoch <- NA_integer_
  run$best <- NULL
  run$wait <- 0L
  run$stopped_early <- FALSE
  run$epoch <- 0L
  run$step_in_epoch <- 0L
  run$steps <- 0L
  run$progress_loss <- NA_real_
  run$progress_val <- ""
  run$on_step <- NULL
  run$started <- proc.time()[["elapsed"]]
  run
}

fit_epochs <- function(run) {
  settings <- run$settings
  for (epoch in seq_len(settings$epochs)) {
    run$epoch <- epoch
    next_batch <- if (is.environment(run$training)) {
      generator_epoch(run)
    } else {
      matrix_epoch(run)
    }
    epoch_sum <- 0
    epoch_rows <- 0L
    step_in_epoch <- 0L
    repeat {
      run$step_in_epoch <- step_in_epoch + 1L
      batch <- next_batch()
      if (is.null(batch)) {
        break
      }
      step_in_epoch <- step_in_epoch + 1L
      if (is.null(dim(batch))) {
        # a matrix's epoch: positions c(from, to) in run$order
        loss <- fit_step_rows(run, batch)
        rows <- batch[[2L]] - batch[[1L]] + 1L
      } else {
        loss <- fit_step(run, batch)
        rows <- nrow(batch)
      }
      epoch_sum <- epoch_sum + loss * rows
      epoch_rows <- epoch_rows + rows
      run$progress_loss <- epoch_sum / epoch_rows
      if (!is.null(run$on_step)) {
        run$on_step()
      }
    }
    run$step_in_epoch <- step_in_epoch
    if (is.environment(run$training)) {
      note_generator_epoch(run, step_in_epoch, epoch_rows)
    }
    if (end_epoch(run, epoch_sum / epoch_rows)) {
      break
    }
  }
  invisible(run)
}

# The batches of one epoch over a matrix: a function returning the next
# one as its positions c(from, to) in run$order (the epoch's order of the
# rows), or NULL after the last. The order is drawn when the epoch starts;
# a trailing single row joins the batch before it.
matrix_epoch <- function(run) {
  settings <- run$settings
  rows <- settings$training_rows
  run$order <- if (settings$shuffle) sample.int(rows) else seq_len(rows)
  count <- batch_count(rows, settings$batch_size)
  ends <- c(seq_len(count - 1L) * settings$batch_size, rows)
  k <- 0L
  function() {
    k <<- k + 1L
    if (k > count) NULL else
      c(if (k == 1L) 1L else ends[[k - 1L]] + 1L, ends[[k]])
  }
}

# One step on the rows order[from:to] of the training matrix: by the fused
# step when the flow has one, otherwise by fit_step() on the rows cut out.
fit_step_rows <- function(run, bounds) {
  step <- run$fused %||% fused_fit_spec(run)
  if (is.list(step)) {
    return(fused_fit_step(run, step, run$training, run$order, bounds))
  }
  fit_step(run, batch_rows(run$training,
                           run$order[bounds[[1L]]:bounds[[2L]]]))
}

# One optimizer step, applied whole or not at all: the loss pass (which
# moves the running statistics), the checks, the updated parameters and
# their gamma constraints are all computed first; then Adam, the step count
# and the constrained gammas are written with interrupts suspended. An
# error or an interrupt before that puts the running statistics back.
# Returns the batch's loss.
fit_step <- function(run, batch) {
  if (is.double(batch)) {
    step <- run$fused %||% fused_fit_spec(run)
    if (is.list(step)) {
      return(fused_fit_step(run, step, batch, NULL, NULL))
    }
  }
  update <- with_statistics_rollback(
    run$object, fit_step_update(run, batch),
    commit = function(update) commit_fit_step(run, update),
    layers = run$layers)
  update$loss
}

fit_step_update <- function(run, batch) {
  object <- run$object
  plan <- fit_plan(run)
  result <- tryCatch(
    if (is.null(plan)) {
      loss_and_gradient_unchecked(object, batch, FALSE, run$all_slots,
                                  run$all_bookkeeping)
    } else {
      plan_loss_and_gradient(plan, object, batch, run$all_slots,
                             run$all_bookkeeping)
    },
    bijectors_error_nonfinite = function(condition) {
      diverged_inside(condition, batch, run)
    },
    bijectors_error_overflow = function(condition) {
      diverged_inside(condition, batch, run)
    },
    bijectors_error_zero_variance = function(condition) {
      diverged_inside(condition, batch, run)
    })
  if (!step_is_finite(result)) {
    abort_diverged(run, "the loss or its gradient is not finite",
                   nonfinite = TRUE)
  }
  if (is.null(run$slots)) {
    run$slots <- parameter_slots_of(object)
    run$adam_arguments <- adam_arguments(run$slots)
    run$gamma_slots <- vapply(run$layers, gamma_slot_position, integer(1),
                              slots = run$slots)
    # each gamma's Adam arguments, for the previews of every step
    run$gamma_arguments <- lapply(run$gamma_slots, function(k) {
      if (!is.na(k)) lapply(run$adam_arguments, `[`, k)
    })
  }
  list(loss = result$loss, gradient = result$gradient,
       gammas = constrained_gammas(run, result$gradient))
}

# A fused step (src/fit_step.c): the batch cut from `data` (rows
# order[bounds[1]:bounds[2]], or `data` itself with order NULL), the plan's
# passes, the loss, Adam and the default gamma constraints, in one .Call
# that writes the step whole or not at all; the same numbers as fit_step().
# Returns the batch's loss; a step that failed changed nothing, and its
# error is raised here as fit_step() raises it.
fused_fit_step <- function(run, step, data, order, bounds) {
  result <- .Call(C_plan_fit_step, step, data, order, bounds)
  if (is.double(result)) {
    return(result)
  }
  code <- result[[1L]]
  if (code == 1L) {
    batch <- if (is.null(order)) data else
      batch_rows(data, order[bounds[[1L]]:bounds[[2L]]])
    refusal <- bn_refusal_errors[[result[[2L]]]]
    diverged_inside(tryCatch(abort_bijectors(refusal[["what"]],
                                             refusal[["message"]]),
                             error = identity), batch, run)
  }
  if (code == 2L) {
    abort_diverged(run, "the loss or its gradient is not finite",
                   nonfinite = TRUE)
  }
  refused_adam_step(run, tryCatch(
    abort_adam_domain(run$slots[[result[[2L]]]]),
    bijectors_error_diverged = identity))
}

# What a fused step needs of the run that does not change from step to
# step, as a list (src/fit_step.c); NULL while there is none yet (the first
# step, which builds the networks, has not run, or the plan is not
# compiled), FALSE (kept in run$fused) when the flow has none: no plan,
# slots that share an array, or a gamma constraint other than the default.
fused_fit_spec <- function(run) {
  if (is.null(run$slots)) {
    return(NULL)
  }
  plan <- fit_plan(run)
  if (is.null(plan)) {
    if (isFALSE(run$plan)) {
      run$fused <- FALSE
    }
    return(run$fused)
  }
  gamma_layers <- list()
  gamma_slots <- integer(0)
  for (j in seq_along(run$layers)) {
    layer <- run$layers[[j]]
    constraint <- .subset2(layer, "gamma_constraint")
    if (is.null(constraint) || !.subset2(layer, "scale")) {
      next
    }
    if (!identical(constraint, positive_gamma_constraint) ||
        is.na(run$gamma_slots[[j]])) {
      run$fused <- FALSE
      return(FALSE)
    }
    gamma_layers[[length(gamma_layers) + 1L]] <- layer
    gamma_slots[[length(gamma_slots) + 1L]] <- run$gamma_slots[[j]]
  }
  if (!all(run$all_bookkeeping$first) ||
      length(run$slots) != plan$count) {
    run$fused <- FALSE
    return(FALSE)
  }
  base <- .subset2(run$object, "distribution")
  arguments <- run$adam_arguments
  adam <- formals(adam_step)
  run$fused <- list(
    plan$operations, as.double(.subset2(base, "loc")),
    as.double(.subset2(base, "scale_diag")),
    as.double(.subset2(base, "log_normalizer")), plan$per_row,
    plan$count, arguments$owners, .Call(C_adam_symbols, arguments$fields),
    arguments$indices, arguments$constraints,
    c(run$settings$learning_rate, adam$beta_1, adam$beta_2, adam$epsilon),
    run$layers, gamma_layers, as.integer(gamma_slots), run,
    new.env(parent = emptyenv()))
}

# Adam's step refuses, writing nothing, when it would take a parameter out
# of its domain; then nothing else is written either.
commit_fit_step <- function(run, update) {
  if (length(run$slots) > 0L) {
    tryCatch(
      adam_step(run$slots, update$gradient, run$settings$learning_rate,
                arguments = run$adam_arguments),
      bijectors_error_diverged = function(condition) {
        refused_adam_step(run, condition)
      })
  }
  for (gamma in update$gammas) {
    .Call(C_parameters_assign, list(gamma$layer), "state", 1L,
          list(gamma$value))
  }
  run$steps <- run$steps + 1L
  invisible()
}

# Training stops when Adam refuses a step (`condition`, its error).
refused_adam_step <- function(run, condition) {
  abort_diverged(run, sub("; nothing was changed.*$", "",
                          conditionMessage(condition)),
                 parent = condition)
}

# The gamma each constrained layer will hold after this step: Adam's step
# previewed (computed, nothing written), then the layer's constraint, checked.
# list(list(layer = , value = ), ...).
constrained_gammas <- function(run, gradient) {
  gammas <- list()
  for (j in seq_along(run$layers)) {
    layer <- run$layers[[j]]
    if (is.null(.subset2(layer, "gamma_constraint")) ||
        !.subset2(layer, "scale") || is.null(.subset2(layer, "state"))) {
      next
    }
    # Adam's step on gamma, previewed (a step it would refuse is left to
    # the real step to refuse)
    k <- run$gamma_slots[[j]]
    gamma <- if (!is.na(k)) {
      adam_step(run$slots[k], gradient[k], run$settings$learning_rate,
                arguments = run$gamma_arguments[[j]],
                preview = TRUE)[[1L]]
    }
    if (is.null(gamma)) {
      gamma <- .Call(C_copy_double, .subset2(.subset2(layer, "state"), "gamma"))
    }
    gammas[[length(gammas) + 1L]] <- list(
      layer = layer, value = bn_constrained_gamma(layer, gamma))
  }
  gammas
}

gamma_slot_position <- function(slots, layer) {
  for (k in seq_along(slots)) {
    slot <- slots[[k]]
    if (identical(slot$owner, layer) && slot$field == "state" &&
        slot$index == 1L) {
      return(k)
    }
  }
  NA_integer_
}

# A batch refused from inside the flow during a step: the data were checked
# when fit() started, so unless the batch itself is extreme (values beyond
# about 1e150 in magnitude, or a constant column that a layer with
# `epsilon = 0` cannot normalize) an intermediate layer's input blew up.
diverged_inside <- function(condition, batch, run) {
  extreme <- max(abs(batch)) > 1e150 ||
    (inherits(condition, "bijectors_error_zero_variance") &&
       any(apply(batch, 2L, function(column) all(column == column[[1L]]))))
  if (extreme) {
    stop(condition)
  }
  what <- if (inherits(condition, "bijectors_error_nonfinite")) {
    "NA, NaN or Inf values"
  } else if (inherits(condition, "bijectors_error_overflow")) {
    "values too large to normalize"
  } else {
    "a constant feature"
  }
  abort_diverged(run, paste(
    "a layer inside the flow got", what, "from the layers before it,",
    "although the batch itself is finite"),
    parent = condition, nonfinite = TRUE)
}

# `nonfinite`: the failure is a non-finite value in the passes (not Adam
# refusing a step). Before the first step of this fit there is no training
# to have diverged: the flow's starting parameters cannot take the batch,
# which is then most often outside the flow's support.
abort_diverged <- function(run, what, parent = NULL, nonfinite = FALSE) {
  if (nonfinite && run$steps == 0L) {
    abort_bijectors("diverged", sprintf(paste(
      "At the flow's parameters before any step of this fit, on the batch",
      "of epoch %d, step %d, %s.",
      "The data may lie outside the flow's support (such as values beyond",
      "(-1, 1) through tfb_tanh(), or <= 0 through tfb_exp()), or the",
      "parameters are not finite. Nothing was changed. The history so far",
      "is in the error's `history` field."),
      run$epoch, run$step_in_epoch, what), parent = parent)
  }
  if (nonfinite) {
    what <- paste0(what, ": the parameters have blown up")
  }
  abort_bijectors("diverged", sprintf(paste(
    "Training diverged at epoch %d, step %d: %s. Training stopped before",
    "that step changed any parameter or running statistic%s.",
    "Try a smaller `learning_rate`, or standardize the data. The history",
    "so far is in the error's `history` field."),
    run$epoch, run$step_in_epoch, what,
    if (is.null(run$best)) "" else sprintf(
      "; the parameters of epoch %d (the best) were restored",
      run$best_epoch)),
    parent = parent)
}

# End-of-epoch bookkeeping: the epoch's loss, the validation loss, the
# epoch line of verbose = 2 and early stopping. TRUE to stop.
end_epoch <- function(run, loss) {
  settings <- run$settings
  epoch <- run$epoch
  run$losses <- c(run$losses, loss)
  monitored <- loss
  if (!is.null(run$validation)) {
    val_loss <- if (is.environment(run$validation)) {
      generator_validation_loss(run)
    } else {
      -mean(distribution_log_prob(run$evaluation, run$validation))
    }
    run$val_losses <- c(run$val_losses, val_loss)
    monitored <- val_loss
    run$progress_val <- paste(" | val_loss", format_loss(val_loss))
  }
  if (settings$verbose == 2L) {
    cat(sprintf("Epoch %d/%d - loss: %s%s\n", epoch, settings$epochs,
                format_loss(loss),
                if (is.null(run$validation)) "" else
                  paste(" - val_loss:", format_loss(val_loss))))
  }
  if (is.null(settings$patience)) {
    return(FALSE)
  }
  if (is.finite(monitored) && monitored < run$best_loss) {
    run$best_loss <- monitored
    run$best_epoch <- epoch
    run$best <- snapshot_state(run$object, run$layers)
    run$wait <- 0L
    return(FALSE)
  }
  run$wait <- run$wait + 1L
  if (run$wait >= settings$patience) {
    run$stopped_early <- epoch < settings$epochs
    return(TRUE)
  }
  FALSE
}

# Restores the best epoch when early stopping asks for it (or training
# stopped before its end) and returns the history.
finish_fit <- function(run, stopped, interrupted) {
  restored <- FALSE
  if (!is.null(run$best) &&
      (stopped || run$best_epoch != length(run$losses))) {
    suspendInterrupts(restore_state(run$object, run$layers, run$best))
    restored <- TRUE
  }
  new_history(
    run$losses, run$val_losses, run$settings[c(
      "epochs", "batch_size", "steps_per_epoch", "learning_rate", "shuffle",
      "patience", "training_rows", "validation_rows")],
    best_epoch = run$best_epoch, restored = restored,
    stopped_early = run$stopped_early, interrupted = interrupted,
    seconds = proc.time()[["elapsed"]] - run$started, steps = run$steps
  )
}

batch_count <- function(rows, batch_size) {
  count <- ceiling(rows / batch_size)
  if (count > 1 && rows %% batch_size == 1) {
    count <- count - 1
  }
  as.integer(count)
}

step_is_finite <- function(result) {
  if (isTRUE(.subset2(result, "finite"))) {
    return(is.finite(result$loss))
  }
  is.finite(result$loss) &&
    all(vapply(result$gradient, function(g) all(is.finite(g)), logical(1)))
}

# Copies of everything early stopping restores: the trainable parameters
# and the running statistics of each batch-normalization layer.
snapshot_state <- function(distribution, layers) {
  list(
    parameters = trainable_parameters(distribution),
    statistics = lapply(layers, layer_statistics_snapshot)
  )
}

restore_state <- function(distribution, layers, snapshot) {
  trainable_parameters(distribution) <- snapshot$parameters
  restore_layer_statistics(layers, snapshot$statistics)
  invisible(distribution)
}

# Training needs a transformed distribution whose base has a log-density
# gradient; checked before the data, whose expected shape depends on it.
check_trainable_distribution <- function(distribution, arg) {
  if (!inherits(distribution, "tfd_transformed_distribution")) {
    abort_bijectors("distribution", sprintf(paste(
      "`%s` must be a transformed distribution",
      "(tfd_transformed_distribution()), not %s."), arg,
      describe_value(distribution)))
  }
  base <- .subset2(distribution, "distribution")
  event_shape <- .subset2(base, "event_shape")
  # Ask for the gradient at one point: a base without it says so.
  has_gradient <- length(event_shape) >= 1L && tryCatch({
    distribution_log_prob_gradient(base, array(0, c(1L, event_shape)))
    TRUE
  }, bijectors_error_unsupported = function(condition) FALSE)
  if (!has_gradient) {
    abort_bijectors("unsupported", sprintf(paste(
      "Training needs a base distribution with a log-density gradient and",
      "events of rank 1 or more, such as tfd_multivariate_normal_diag(),",
      "or tfd_independent() or tfd_sample_distribution() of tfd_normal(); the base",
      "distribution of `%s` is a <%s>, which is not supported for training.",
      "For one-dimensional data use tfd_multivariate_normal_diag(loc = 0)."),
      arg, class(base)[[1L]]))
  }
  invisible(distribution)
}

#' Fitting needs a transformed distribution
#'
#' [fit()] trains a [tfd_transformed_distribution()]: a bijector alone, or a
#' base distribution alone, has no density to maximize over the bijector's
#' parameters. Calling `fit()` on either is an error (class
#' `bijectors_error_distribution`) that says to wrap the bijector in a
#' transformed distribution.
#'
#' @param object A bijector, or a distribution that is not a transformed
#'   distribution.
#' @param ... Ignored.
#' @return Nothing: always an error.
#' @family training
#' @seealso [fit.tfd_transformed_distribution()].
#' @examples
#' b <- tfb_shift(0)
#' try(fit(b, matrix(rnorm(20), ncol = 1)))
#' flow <- tfd_transformed_distribution(tfd_multivariate_normal_diag(loc = 0),
#'                                      b)
#' fit(flow, matrix(rnorm(20, mean = 3), ncol = 1), epochs = 2,
#'     learning_rate = 0.1, verbose = FALSE)
#' @name fit_needs_distribution
NULL

#' @rdname fit_needs_distribution
#' @method fit bijector
#' @export
fit.bijector <- function(object, ...) {
  abort_bijectors("distribution", sprintf(paste(
    "`object` is a <%s> bijector; fit() trains a distribution. Wrap the",
    "bijector in a flow first, such as",
    "tfd_transformed_distribution(tfd_multivariate_normal_diag(loc = rep(0, D)),",
    "bijector) for data with D columns, and fit that."),
    class(object)[[1L]]))
}

#' @rdname fit_needs_distribution
#' @method fit distribution
#' @export
fit.distribution <- function(object, ...) {
  abort_bijectors("distribution", sprintf(paste(
    "`object` is a <%s>, which has no trainable parameters; fit() trains a",
    "transformed distribution: tfd_transformed_distribution(<base>,",
    "<bijector>)."), class(object)[[1L]]))
}
