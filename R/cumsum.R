# The cumsum bijector: cumulative sums along one axis counted from the end.
# The sums run in C (src/cumsum.c), along the axis with the stride of the
# dims before it.

#' Cumulative-sum bijector
#'
#' Cumulative sums along one axis, as tfprobability's `tfb_cumsum()`:
#' \deqn{y_k = \sum_{i \le k} x_i}{y[k] = x[1] + ... + x[k]} along `axis`,
#' and the inverse \eqn{x_1 = y_1}{x[1] = y[1]},
#' \eqn{x_k = y_k - y_{k-1}}{x[k] = y[k] - y[k - 1]}. Domain and range are
#' all of \eqn{R^K}; the Jacobian is unit lower triangular, so both
#' log-determinants are 0 (one number, as TFP's constant).
#'
#' `axis` counts from the end: `-1` (the default) sums along the last axis,
#' within each event; `-2` along the second last (the rows of a matrix
#' event). The minimum event ndims are `-axis`. For an `N x K` matrix of `N`
#' events (row-major order within an event is TFP's, DESIGN 9) with
#' `axis = -1`, `y[n, k] = sum(x[n, 1:k])`.
#'
#' @param axis A negative whole number: the axis to sum along, counted from
#'   the end (`-1` is the last). As in TFP it must be negative.
#' @param validate_args `TRUE` or `FALSE`; TFP checks nothing more with it.
#' @param name A string: the bijector's name.
#' @return A bijector of class `c("tfb_cumsum", "bijector")` with
#'   `forward_min_event_ndims = inverse_min_event_ndims = -axis` and the field
#'   `$axis`.
#' @family structural bijectors
#' @seealso `tfprobability::tfb_cumsum()`; `tfb_chain(list(tfb_cumsum(),
#'   tfb_exp()))` maps \eqn{R^K} onto increasing positive vectors (Stan's
#'   `positive_ordered`); [tfb_ascending()].
#' @examples
#' x <- matrix(c(1, 2, 3, 1, 2, 3), nrow = 3)
#' tfb_cumsum()$forward(x)            # along each row: 1 2 / 2 4 / 3 6
#' tfb_cumsum(axis = -2)$forward(x)   # down the columns: 1 1 / 3 3 / 6 6
#' tfb_cumsum()$inverse(cumsum(rep(1, 5)))
#' @export
tfb_cumsum <- function(axis = -1, validate_args = FALSE, name = "cumsum") {
  axis <- check_negative_axis(axis)
  new_bijector(
    "tfb_cumsum",
    name = check_string(name, "name"),
    forward_min_event_ndims = -axis,
    validate_args = check_flag(validate_args, "validate_args"),
    axis = axis
  )
}

# One negative whole number, an axis counted from the end (the kinds whose
# minimum event ndims are -axis). 0 gets a hint: R counts from 1.
check_negative_axis <- function(axis, arg = "axis") {
  ok <- is.numeric(axis) && !is.object(axis) && length(axis) == 1L &&
    !is.na(axis) && is.finite(axis) && axis == round(axis) &&
    abs(axis) <= .Machine$integer.max
  if (!ok) {
    abort_bijectors("axis", sprintf(
      "`%s` must be a negative whole number (counted from the end: -1 is the last axis), not %s.",
      arg, describe_value(axis)))
  }
  if (axis >= 0) {
    abort_bijectors("axis", sprintf(paste(
      "`%s` must be negative (counted from the end: -1 is the last axis),",
      "not %s: the bijector's event rank is -%s."), arg, format(axis), arg))
  }
  as.integer(axis)
}

cumsum_modes <- c(forward = 0L, reverse = 1L, difference = 2L,
                  reverse_difference = 3L)

cumsum_apply <- function(bijector, x, arg, mode) {
  x <- as_input_array(x, arg)
  dims <- input_dims(x)
  rank <- length(dims)
  axis <- .subset2(bijector, "axis")
  if (rank < -axis) {
    abort_bijectors("input", sprintf(
      "`%s` has rank %d, too low for cumulative sums along axis %d.",
      arg, rank, axis))
  }
  .Call(C_cumsum_along, x, as.double(dims), as.integer(rank + 1L + axis),
        cumsum_modes[[mode]])
}

#' @export
bijector_forward.tfb_cumsum <- function(bijector, x) {
  cumsum_apply(bijector, x, "x", "forward")
}

#' @export
bijector_inverse.tfb_cumsum <- function(bijector, y) {
  cumsum_apply(bijector, y, "y", "difference")
}

cumsum_log_det <- function(bijector, x, event_ndims, arg) {
  x <- as_input_array(x, arg)
  check_event_ndims(event_ndims, .subset2(bijector, "forward_min_event_ndims"),
                    length(input_dims(x)), arg)
  0
}

#' @export
bijector_forward_log_det_jacobian.tfb_cumsum <- function(bijector, x,
                                                         event_ndims) {
  cumsum_log_det(bijector, x, event_ndims, "x")
}

#' @export
bijector_inverse_log_det_jacobian.tfb_cumsum <- function(bijector, y,
                                                         event_ndims) {
  cumsum_log_det(bijector, y, event_ndims, "y")
}

# Training: no parameters, log-det 0. The forward's Jacobian is the lower
# triangle of ones, so its VJP sums the gradient from the end; the inverse's
# is the difference matrix, whose transpose takes differences forward.

#' @export
bijector_forward_with_cache.tfb_cumsum <- function(bijector, x, event_ndims) {
  log_det <- cumsum_log_det(bijector, x, event_ndims, "x")
  list(y = cumsum_apply(bijector, x, "x", "forward"), log_det = log_det,
       cache = NULL)
}

#' @export
bijector_forward_backward.tfb_cumsum <- function(bijector, cache, grad_y,
                                                 grad_log_det) {
  list(input = cumsum_apply(bijector, grad_y, "grad_y", "reverse"),
       parameters = list())
}

#' @export
bijector_inverse_with_cache.tfb_cumsum <- function(bijector, y, event_ndims) {
  log_det <- cumsum_log_det(bijector, y, event_ndims, "y")
  list(x = cumsum_apply(bijector, y, "y", "difference"), log_det = log_det,
       cache = NULL)
}

#' @export
bijector_inverse_backward.tfb_cumsum <- function(bijector, cache, grad_x,
                                                 grad_log_det) {
  list(input = cumsum_apply(bijector, grad_x, "grad_x", "reverse_difference"),
       parameters = list())
}

#' @export
object_field_names.tfb_cumsum <- function(x) {
  c(NextMethod(), "axis")
}

#' @export
format.tfb_cumsum <- function(x, ...) {
  c(NextMethod(), sprintf("  axis: %d", .subset2(x, "axis")))
}
