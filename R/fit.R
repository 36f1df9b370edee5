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
#' * **Interrupting** (Ctrl-C, Esc) takes effect between steps: the model
#'   holds the parameters of the last complete step (those of the best
#'   epoch if `patience` is set) and `fit()` returns the history of the
#'   complete epochs with a message.
#'
#' Data with `NA`, `NaN` or `Inf`, or with a number of columns other than
#' the event size, are refused before training starts (error class
#' `bijectors_error_nonfinite` or `bijectors_error_event_size`). A step
#' whose loss or gradient is not finite stops training with an error of
#' class `bijectors_error_diverged` before that step changes any parameter
#' or running statistic; a smaller `learning_rate` is the usual cure.
#'
#' After training a flow with batch normalization, call
#' [recompute_batch_statistics()] on the training set and evaluate with
#' [evaluation_mode()], as in `vignette("flow-training", package =
#' "bijectors")`.
#'
#' @param object A [tfd_transformed_distribution()] whose base distribution
#'   is [tfd_multivariate_normal_diag()].
#' @param x A numeric matrix or numeric data frame: one event per row, as
#'   many columns as the event size of `object`.
#' @param epochs Whole number >= 1: the number of passes over the training
#'   rows.
#' @param batch_size Whole number >= 1: the rows per step (default 32, as
#'   keras).
#' @param validation_split Number in \[0, 1): the fraction of the rows of
#'   `x`, taken from the end, held out for validation.
#' @param validation_data `NULL`, or a numeric matrix or data frame like `x`
#'   to validate on (then `validation_split` is ignored).
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
#' @method fit tfd_transformed_distribution
#' @export
fit.tfd_transformed_distribution <- function(
    object, x, epochs = 10L, batch_size = 32L, validation_split = 0,
    validation_data = NULL, shuffle = TRUE,
    verbose = getOption("bijectors.fit_verbose", interactive()),
    learning_rate = 1e-3, patience = NULL, ...) {
  check_fit_dots(list(...))
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
  patience <- check_patience(patience)

  x <- check_training_data(object, x)
  if (!is.null(validation_data)) {
    validation <- check_training_data(object, validation_data,
                                      "validation_data")
    training <- x
  } else if (validation_split > 0) {
    rows <- nrow(x)
    split_at <- floor(rows * (1 - validation_split))
    if (split_at < 1 || split_at >= rows) {
      abort_bijectors("argument", sprintf(paste(
        "`validation_split = %s` leaves %s of the %d rows of `x` for",
        "training and %s for validation; both need at least one."),
        format(validation_split), format(split_at), rows,
        format(rows - split_at)))
    }
    training <- x[seq_len(split_at), , drop = FALSE]
    validation <- x[(split_at + 1):rows, , drop = FALSE]
  } else {
    training <- x
    validation <- NULL
  }
  rm(x)
  check_base_gradient(object)

  bijector <- .subset2(object, "bijector")
  layers <- bijector_batchnorm_layers(bijector)
  if (length(layers) > 0L && batch_size < 2L) {
    abort_bijectors("argument", paste(
      "`batch_size` must be at least 2 for a flow with batch normalization:",
      "a batch of one row has no variance to normalize with."))
  }
  evaluation <- if (!is.null(validation)) evaluation_mode(object)
  training_rows <- nrow(training)
  steps <- batch_count(training_rows, batch_size)
  settings <- list(
    epochs = epochs, batch_size = batch_size,
    steps_per_epoch = steps, learning_rate = learning_rate,
    shuffle = shuffle, patience = patience, training_rows = training_rows,
    validation_rows = if (is.null(validation)) 0L else nrow(validation)
  )

  losses <- numeric(0)
  val_losses <- if (is.null(validation)) NULL else numeric(0)
  best_loss <- Inf
  best_epoch <- NA_integer_
  best <- NULL
  wait <- 0L
  stopped_early <- FALSE
  slots <- NULL
  epoch <- 0L
  step_in_epoch <- 0L
  progress_loss <- NA_real_
  progress_val <- ""
  started <- proc.time()[["elapsed"]]

  if (verbose == 1L) {
    progress <- cli::cli_progress_bar(
      name = "fit", total = epochs * steps, clear = FALSE,
      format = paste0(
        "Epoch {epoch}/{epochs} | loss {format_loss(progress_loss)}",
        "{progress_val} {cli::pb_bar} {cli::pb_percent} | ETA {cli::pb_eta}"),
      format_done = paste0(
        "Epoch {epoch}/{epochs} | loss {format_loss(progress_loss)}",
        "{progress_val} {cli::pb_bar} 100% | {cli::pb_elapsed}"),
      .envir = environment()
    )
  }

  all_slots <- bijector_parameter_slots(.subset2(object, "bijector"))
  interrupted <- tryCatch({
    for (epoch in seq_len(epochs)) {
      batches <- epoch_batches(training_rows, batch_size, shuffle)
      epoch_sum <- 0
      epoch_rows <- 0L
      for (step_in_epoch in seq_along(batches)) {
        batch <- training[batches[[step_in_epoch]], , drop = FALSE]
        # The loss pass moves the running statistics; a step that fails
        # puts them back, so that it changes nothing.
        statistics <- lapply(layers, layer_statistics_snapshot)
        result <- tryCatch(
          loss_and_gradient_unchecked(object, batch, FALSE, all_slots),
          error = function(condition) {
            restore_layer_statistics(layers, statistics)
            stop(condition)
          })
        if (!step_is_finite(result)) {
          restore_layer_statistics(layers, statistics)
          check_step_finite(result, epoch, step_in_epoch)
        }
        slots <- slots %||% parameter_slots_of(object)
        # The update and its bookkeeping happen together or not at all, so
        # an interrupt leaves a consistent model.
        suspendInterrupts({
          if (length(slots) > 0L) {
            adam_step(slots, result$gradient, learning_rate)
          }
          for (layer in layers) {
            bn_apply_gamma_constraint(layer)
          }
        })
        epoch_sum <- epoch_sum + result$loss * nrow(batch)
        epoch_rows <- epoch_rows + nrow(batch)
        progress_loss <- epoch_sum / epoch_rows
        if (verbose == 1L) {
          cli::cli_progress_update(id = progress)
        }
      }
      losses <- c(losses, epoch_sum / epoch_rows)
      monitored <- losses[[epoch]]
      if (!is.null(validation)) {
        val_loss <- -mean(distribution_log_prob(evaluation, validation))
        val_losses <- c(val_losses, val_loss)
        monitored <- val_loss
        progress_val <- paste(" | val_loss", format_loss(val_loss))
      }
      if (verbose == 2L) {
        cat(sprintf("Epoch %d/%d - loss: %s%s\n", epoch, epochs,
                    format_loss(losses[[epoch]]),
                    if (is.null(validation)) "" else
                      paste(" - val_loss:", format_loss(val_losses[[epoch]]))))
      }
      if (!is.null(patience)) {
        if (is.finite(monitored) && monitored < best_loss) {
          best_loss <- monitored
          best_epoch <- epoch
          best <- snapshot_state(object, layers)
          wait <- 0L
        } else {
          wait <- wait + 1L
          if (wait >= patience) {
            stopped_early <- epoch < epochs
            break
          }
        }
      }
    }
    FALSE
  }, interrupt = function(condition) TRUE)

  if (verbose == 1L) {
    cli::cli_progress_done(id = progress)
  }
  restored <- FALSE
  if (!is.null(best) && (interrupted || best_epoch != length(losses))) {
    restore_state(object, layers, best)
    restored <- TRUE
  }
  history <- new_history(
    losses, val_losses, settings, best_epoch = best_epoch,
    restored = restored, stopped_early = stopped_early,
    interrupted = interrupted,
    seconds = proc.time()[["elapsed"]] - started
  )
  if (interrupted) {
    cli::cli_inform(c("!" = paste0(
      "Training interrupted in epoch ", epoch, " (at step ", step_in_epoch,
      " of ", steps, "); returning the history of the ",
      length(losses), " complete epoch", if (length(losses) == 1L) "" else
        "s", ".",
      if (restored) paste0(" The parameters of epoch ", best_epoch,
                           " (the best) were restored.") else "")))
  } else if (verbose > 0L && stopped_early) {
    cli::cli_inform(c("i" = paste0(
      "Early stopping after epoch ", length(losses), ": no improvement for ",
      wait, " epochs; restored the parameters of epoch ", best_epoch, ".")))
  }
  invisible(history)
}

check_fit_dots <- function(dots) {
  if (length(dots) > 0L) {
    given <- names(dots)
    given <- if (is.null(given)) "unnamed arguments" else
      paste0("`", ifelse(given == "", "<unnamed>", given), "`",
             collapse = ", ")
    abort_bijectors("argument", sprintf(paste(
      "fit() got unknown arguments (%s). Its arguments are `x`, `epochs`,",
      "`batch_size`, `validation_split`, `validation_data`, `shuffle`,",
      "`verbose`, `learning_rate` and `patience`."), given))
  }
  invisible()
}

check_verbose <- function(verbose) {
  if (is.logical(verbose) && length(verbose) == 1L && !is.na(verbose)) {
    return(as.integer(verbose))
  }
  if (is.numeric(verbose) && !is.object(verbose) && length(verbose) == 1L &&
      !is.na(verbose) && verbose %in% 0:2) {
    return(as.integer(verbose))
  }
  abort_bijectors("argument", sprintf(
    "`verbose` must be TRUE, FALSE, 0, 1 or 2, not %s.",
    describe_value(verbose)))
}

check_patience <- function(patience) {
  if (is.null(patience)) {
    return(NULL)
  }
  ok <- is.numeric(patience) && !is.object(patience) &&
    length(patience) == 1L && !is.na(patience) && is.finite(patience) &&
    patience == round(patience) && patience >= 0 &&
    patience <= .Machine$integer.max
  if (!ok) {
    abort_bijectors("argument", sprintf(
      "`patience` must be NULL or a whole number >= 0, not %s.",
      describe_value(patience)))
  }
  as.integer(patience)
}

# The base distribution must have a log-density gradient; ask it for one
# row now rather than fail after the first pass has moved any statistics.
check_base_gradient <- function(distribution) {
  base <- .subset2(distribution, "distribution")
  size <- prod(.subset2(distribution, "event_shape"))
  distribution_log_prob_gradient(base, matrix(0, 1L, size))
  invisible()
}

batch_count <- function(rows, batch_size) {
  count <- ceiling(rows / batch_size)
  if (count > 1 && rows %% batch_size == 1) {
    count <- count - 1
  }
  as.integer(count)
}

# The row indices of each minibatch of an epoch; a trailing single row joins
# the batch before it.
epoch_batches <- function(rows, batch_size, shuffle) {
  order <- if (shuffle) sample.int(rows) else seq_len(rows)
  count <- batch_count(rows, batch_size)
  starts <- (seq_len(count) - 1L) * batch_size
  ends <- c(starts[-1L], rows)
  lapply(seq_len(count), function(k) order[(starts[[k]] + 1L):ends[[k]]])
}

step_is_finite <- function(result) {
  is.finite(result$loss) &&
    all(vapply(result$gradient, function(g) all(is.finite(g)), logical(1)))
}

# A layer's running statistics, or NULL while it is not built.
layer_statistics_snapshot <- function(layer) {
  if (is.null(.subset2(layer, "state"))) NULL else bn_moving_statistics(layer)
}

restore_layer_statistics <- function(layers, statistics) {
  for (k in seq_along(layers)) {
    if (is.null(statistics[[k]])) {
      bn_unbuild(layers[[k]])
    } else {
      bn_set_moving_statistics(layers[[k]], statistics[[k]]$mean,
                               statistics[[k]]$variance)
    }
  }
  invisible()
}

check_step_finite <- function(result, epoch, step) {
  if (!step_is_finite(result)) {
    abort_bijectors("diverged", sprintf(paste(
      "The loss or its gradient is not finite at epoch %d, step %d;",
      "training stopped before that step changed any parameter or",
      "running statistic.",
      "Try a smaller `learning_rate`, or standardize the data."),
      epoch, step))
  }
  invisible()
}

# Copies of everything early stopping restores: the trainable parameters
# and the running statistics of each batch-normalization layer.
snapshot_state <- function(distribution, layers) {
  list(
    parameters = trainable_parameters(distribution),
    statistics = lapply(layers, get_weights.layer_batch_normalization)
  )
}

restore_state <- function(distribution, layers, snapshot) {
  trainable_parameters(distribution) <- snapshot$parameters
  for (k in seq_along(layers)) {
    set_weights.layer_batch_normalization(layers[[k]],
                                          snapshot$statistics[[k]])
  }
  invisible(distribution)
}
