# The univariate normal distribution, with TensorFlow's broadcasting of
# loc, scale and the value.

#' Normal distribution
#'
#' The univariate normal distribution, as tfprobability's `tfd_normal()`:
#' density `dnorm(value, loc, scale)`. Its event shape is scalar; its batch
#' shape is the broadcast of the shapes of `loc` and `scale` (TensorFlow's
#' rules: shapes aligned on the right, R vectors have one dimension, a single
#' number none).
#'
#' `log_prob(value)` is elementwise, with `value` broadcast against the batch
#' shape (a matrix with `dim = c(N, B)` against a batch of `B` normals).
#' `sample(sample_shape)` has `dim = c(sample_shape, batch_shape)`.
#'
#' @param loc A finite number or numeric vector/array: the means.
#' @param scale A positive finite number or numeric vector/array: the
#'   standard deviations. Non-positive values give an error of class
#'   `bijectors_error_scale`.
#' @param validate_args,allow_nan_stats `TRUE` or `FALSE`; accepted for
#'   compatibility with tfprobability (parameters are always checked).
#' @param name A string: the distribution's name.
#' @return A distribution of class `c("tfd_normal", "distribution")` with the
#'   methods `$log_prob(value)`, `$prob(value)` and `$sample(sample_shape)`,
#'   and the fields `$loc`, `$scale`, `$name`, `$batch_shape` and
#'   `$event_shape`.
#' @family distributions
#' @seealso `tfprobability::tfd_normal()`; [tfd_log_prob()], [tfd_sample()].
#' @examples
#' d <- tfd_normal(loc = 1, scale = 2)
#' d$log_prob(c(0, 1, 2))
#' set.seed(1)
#' d$sample(3)
#' # a batch of two normals
#' d2 <- tfd_normal(loc = c(0, 10), scale = 1)
#' d2$log_prob(matrix(c(0, 10, 1, 11), ncol = 2, byrow = TRUE))
#' dim(tfd_sample(d2, 5))
#' @export
tfd_normal <- function(loc, scale, validate_args = FALSE,
                       allow_nan_stats = TRUE, name = "Normal") {
  loc <- check_distribution_parameter(loc, "loc")
  scale <- check_distribution_parameter(scale, "scale", positive = TRUE)
  batch_shape <- broadcast_shapes(shape_of(loc), shape_of(scale), list(
    class = "argument",
    message = sprintf(paste(
      "The shapes of `loc` %s and `scale` %s do not broadcast together",
      "(TensorFlow's rules: aligned on the right, each pair equal or 1)."),
      format_shape(shape_of(loc)), format_shape(shape_of(scale)))))
  new_distribution(
    "tfd_normal",
    name = check_string(name, "name"),
    batch_shape = batch_shape,
    event_shape = integer(),
    validate_args = check_flag(validate_args, "validate_args"),
    allow_nan_stats = check_flag(allow_nan_stats, "allow_nan_stats"),
    loc = loc,
    scale = scale
  )
}

#' @export
distribution_log_prob.tfd_normal <- function(distribution, value) {
  loc <- .subset2(distribution, "loc")
  scale <- .subset2(distribution, "scale")
  if (length(loc) == 1L && length(scale) == 1L) {
    return(stats::dnorm(value, loc, scale, log = TRUE))
  }
  batch_shape <- .subset2(distribution, "batch_shape")
  value_shape <- shape_of(value)
  shape <- broadcast_shapes(value_shape, batch_shape, list(
    class = "event_size",
    message = sprintf(paste(
      "`value` of shape %s does not broadcast with the batch shape %s",
      "of the distribution."),
      format_shape(value_shape), format_shape(batch_shape))))
  log_prob <- stats::dnorm(
    broadcast_values(value, value_shape, shape),
    broadcast_values(loc, shape_of(loc), shape),
    broadcast_values(scale, shape_of(scale), shape),
    log = TRUE
  )
  if (identical(as.double(value_shape), as.double(shape))) {
    attributes(log_prob) <- attributes(value)
    return(log_prob)
  }
  with_shape(log_prob, shape)
}

#' @export
distribution_sample.tfd_normal <- function(distribution, sample_shape) {
  batch_shape <- .subset2(distribution, "batch_shape")
  shape <- c(sample_shape, batch_shape)
  count <- prod(sample_shape)
  loc <- .subset2(distribution, "loc")
  scale <- .subset2(distribution, "scale")
  if (length(batch_shape) > 0L) {
    loc <- rep(broadcast_values(loc, shape_of(loc), batch_shape), each = count)
    scale <- rep(broadcast_values(scale, shape_of(scale), batch_shape),
                 each = count)
  }
  with_shape(stats::rnorm(prod(shape), loc, scale), shape)
}

#' @export
format.tfd_normal <- function(x, ...) {
  c(NextMethod(), sprintf("  loc: %s, scale: %s",
                          format_values(.subset2(x, "loc")),
                          format_values(.subset2(x, "scale"))))
}

#' @export
object_field_names.tfd_normal <- function(x) {
  c(NextMethod(), "loc", "scale")
}

# The log-density of each value and its gradient with respect to the value,
# elementwise (a scalar event per value), for training with this base
# inside tfd_independent() or tfd_sample_distribution().
#' @export
distribution_log_prob_gradient.tfd_normal <- function(distribution, value) {
  log_prob <- distribution_log_prob(distribution, value)
  shape <- shape_of(log_prob)
  value_shape <- shape_of(value)
  loc <- broadcast_values(.subset2(distribution, "loc"),
                          shape_of(.subset2(distribution, "loc")), shape)
  scale <- broadcast_values(.subset2(distribution, "scale"),
                            shape_of(.subset2(distribution, "scale")), shape)
  values <- broadcast_values(value, value_shape, shape)
  gradient <- -(values - loc) / (scale * scale)
  list(log_prob = log_prob, gradient = with_shape(gradient, shape))
}
