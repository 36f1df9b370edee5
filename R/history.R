# The history fit() returns: the loss per epoch and what happened, with
# print(), format(), plot() and as.data.frame() methods.

new_history <- function(loss, val_loss, settings, best_epoch = NA_integer_,
                        restored = FALSE, stopped_early = FALSE,
                        interrupted = FALSE, seconds = NA_real_,
                        steps = 0L) {
  structure(
    list(
      epoch = seq_along(loss),
      loss = as.double(loss),
      val_loss = if (is.null(val_loss)) NULL else as.double(val_loss),
      best_epoch = as.integer(best_epoch),
      restored = restored,
      stopped_early = stopped_early,
      interrupted = interrupted,
      seconds = seconds,
      steps = as.integer(steps),
      settings = settings
    ),
    class = "bijectors_history"
  )
}

format_loss <- function(x) {
  formatC(x, digits = 4L, format = "f")
}

#' Training history of a flow
#'
#' [fit.tfd_transformed_distribution()] returns the losses it saw, one per
#' completed epoch, in an object of class `"bijectors_history"`: a list with
#' `epoch`, `loss` (the mean negative log-likelihood of the training
#' minibatches during the epoch, in nats per event), `val_loss` (the mean
#' negative log-likelihood of the validation data at the end of the epoch,
#' in evaluation mode, or `NULL` without validation data), `best_epoch` (the
#' epoch whose parameters the model holds after early stopping, or `NA`),
#' `restored`, `stopped_early`, `interrupted`, `seconds` (the training time),
#' `steps` (the number of optimizer steps this fit applied: every complete
#' step, also those of an epoch cut short by an interrupt or a divergence)
#' and `settings` (the arguments of the fit).
#'
#' `print()` shows a summary and the final losses, `plot()` draws the loss
#' curves with base graphics (the validation curve dashed, the best epoch of
#' early stopping marked by a dotted line) and `as.data.frame()` gives one row per epoch.
#'
#' @param x A `"bijectors_history"` object.
#' @param y Unused.
#' @param log `""` for linear axes, or `"y"` for a logarithmic loss axis
#'   (only if every loss is positive).
#' @param main,xlab,ylab Title and axis labels, as in [plot()].
#' @param legend `TRUE` to draw a legend when there is a validation curve.
#' @param row.names,optional Passed on to [as.data.frame()].
#' @param ... Passed to [graphics::plot()] by `plot()`; unused by the other
#'   methods.
#' @return `print()` and `plot()` return `x` invisibly; `format()` a
#'   character vector of lines; `as.data.frame()` a data frame with columns
#'   `epoch`, `loss` and `val_loss` (`NA` without validation data).
#' @family training
#' @seealso [fit.tfd_transformed_distribution()]; `vignette("flow-training",
#'   package = "bijectors")`. keras' `keras_training_history` plays the same
#'   role.
#' @examples
#' set.seed(1)
#' y <- scale(sample_two_moons(300))
#' flow <- tfd_transformed_distribution(
#'   tfd_multivariate_normal_diag(loc = c(0, 0)),
#'   tfb_chain(list(tfb_shift(c(0, 0)), tfb_scale(c(1, 1))))
#' )
#' history <- fit(flow, y, epochs = 5, validation_split = 0.2,
#'                learning_rate = 0.05, verbose = FALSE)
#' history
#' plot(history)
#' as.data.frame(history)
#' @name bijectors_history
NULL

#' @rdname bijectors_history
#' @export
format.bijectors_history <- function(x, ...) {
  settings <- x$settings
  epochs <- length(x$loss)
  steps <- settings$steps_per_epoch
  batches <- if (is.na(settings$batch_size)) "batches from a generator" else
    sprintf("batch_size %d", settings$batch_size)
  lines <- sprintf(
    "<bijectors_history> %d epoch%s%s (%s, learning_rate %s), %s s",
    epochs, if (epochs == 1L) "" else "s",
    if (is.na(steps)) "" else
      sprintf(" of %d step%s", steps, if (steps == 1L) "" else "s"),
    batches, format(settings$learning_rate),
    formatC(x$seconds, digits = 2L, format = "f"))
  validation_rows <- settings$validation_rows
  lines <- c(lines, sprintf(
    "  data: %s training rows%s",
    if (is.na(settings$training_rows)) "?" else settings$training_rows,
    if (is.na(validation_rows) || validation_rows > 0L)
      sprintf(", %s validation rows",
              if (is.na(validation_rows)) "?" else validation_rows) else
        ""))
  if (epochs > 0L) {
    final <- sprintf("  final epoch: loss %s", format_loss(x$loss[[epochs]]))
    if (!is.null(x$val_loss)) {
      final <- paste0(final, ", val_loss ",
                      format_loss(x$val_loss[[epochs]]))
    }
    lines <- c(lines, paste(final, "(nats per event)"))
  }
  if (!is.na(x$best_epoch)) {
    monitored <- if (is.null(x$val_loss)) "loss" else "val_loss"
    value <- if (is.null(x$val_loss)) x$loss else x$val_loss
    lines <- c(lines, sprintf(
      "  best epoch: %d (%s %s)%s", x$best_epoch, monitored,
      format_loss(value[[x$best_epoch]]),
      if (x$restored) ", whose parameters were restored" else ""))
  }
  if (x$stopped_early) {
    lines <- c(lines, sprintf(
      "  stopped early: no improvement for %d epoch%s",
      max(settings$patience, 1L),
      if (max(settings$patience, 1L) == 1L) "" else "s"))
  }
  if (x$interrupted) {
    lines <- c(lines, "  interrupted: the history stops at the last complete epoch")
  }
  lines
}

#' @rdname bijectors_history
#' @export
print.bijectors_history <- function(x, ...) {
  cat(format(x, ...), sep = "\n")
  invisible(x)
}

#' @rdname bijectors_history
#' @export
plot.bijectors_history <- function(x, y, log = "", main = "Training history",
                                   xlab = "epoch",
                                   ylab = "negative log-likelihood (nats)",
                                   legend = TRUE, ...) {
  epochs <- x$epoch
  if (length(epochs) == 0L) {
    abort_bijectors("argument", "The history has no complete epoch to plot.")
  }
  curves <- cbind(x$loss, x$val_loss)
  graphics::plot(range(epochs), range(curves), type = "n", log = log,
                 main = main, xlab = xlab, ylab = ylab, ...)
  graphics::lines(epochs, x$loss, type = "o", pch = 20, col = "black")
  if (!is.null(x$val_loss)) {
    graphics::lines(epochs, x$val_loss, type = "o", pch = 1, lty = 2,
                    col = "firebrick")
  }
  if (!is.na(x$best_epoch)) {
    graphics::abline(v = x$best_epoch, col = "grey50", lty = 3)
  }
  if (legend && !is.null(x$val_loss)) {
    graphics::legend("topright", legend = c("training", "validation"),
                     col = c("black", "firebrick"), lty = c(1, 2),
                     pch = c(20, 1), bty = "n")
  }
  invisible(x)
}

#' @rdname bijectors_history
#' @export
as.data.frame.bijectors_history <- function(x, row.names = NULL,
                                            optional = FALSE, ...) {
  data.frame(epoch = x$epoch, loss = x$loss,
             val_loss = x$val_loss %||% rep(NA_real_, length(x$loss)),
             row.names = row.names)
}
