# The reshape bijector: events of one shape become events of another, with
# TensorFlow's row-major order within each event.

#' Reshape bijector
#'
#' Reshapes each event, as tfprobability's `tfb_reshape()`: the rightmost
#' `length(event_shape_in)` dimensions of `x` are replaced by
#' `event_shape_out`; batch dimensions are kept. The log-determinants are 0.
#'
#' Elements keep TensorFlow's **row-major** order within an event (as
#' `tf.reshape` and numpy do), not R's column-major `dim<-`, so that numbers
#' match TFP's: with `event_shape_out = c(2, 3)`, `x[n, 1:6]` becomes
#' `y[n, i, j] = x[n, 3 * (i - 1) + j]`.
#'
#' At most one entry of each shape may be `-1`: in `event_shape_in` it
#' matches any size, in `event_shape_out` it is worked out from the number
#' of elements. `integer(0)` (or `list()`) is a scalar event.
#'
#' @param event_shape_out,event_shape_in Whole numbers >= 0 or `-1` (a
#'   vector, or a list of numbers as tfprobability takes them): the event
#'   shape of the output and of the input.
#' @param validate_args `TRUE` or `FALSE`; accepted for compatibility
#'   (inputs are always checked).
#' @param name A string, or `NULL` for `"reshape"`.
#' @return A bijector of class `c("tfb_reshape", "bijector")` with
#'   `forward_min_event_ndims = length(event_shape_in)` and
#'   `inverse_min_event_ndims = length(event_shape_out)`, and the fields
#'   `$event_shape_out` and `$event_shape_in`.
#' @family bijectors
#' @seealso `tfprobability::tfb_reshape()`; [tfb_forward_event_shape()],
#'   [tfd_sample_distribution()] for a base of matching event shape.
#' @examples
#' b <- tfb_reshape(event_shape_out = c(2, 3))
#' x <- matrix(1:12, nrow = 2, byrow = TRUE)   # two events of 6
#' y <- b$forward(x)
#' dim(y)
#' y[1, , ]          # row-major: 1 2 3 / 4 5 6
#' b$inverse(y)
#' b$forward_event_shape(6)
#' @export
tfb_reshape <- function(event_shape_out, event_shape_in = c(-1),
                        validate_args = FALSE, name = NULL) {
  event_shape_out <- check_reshape_shape(event_shape_out, "event_shape_out")
  event_shape_in <- check_reshape_shape(event_shape_in, "event_shape_in")
  new_bijector(
    "tfb_reshape",
    name = check_string(name %||% "reshape", "name"),
    forward_min_event_ndims = length(event_shape_in),
    inverse_min_event_ndims = length(event_shape_out),
    validate_args = check_flag(validate_args, "validate_args"),
    event_shape_out = event_shape_out,
    event_shape_in = event_shape_in
  )
}

#' @export
object_field_names.tfb_reshape <- function(x) {
  c(NextMethod(), "event_shape_out", "event_shape_in")
}

#' @export
bijector_changes_shape.tfb_reshape <- function(bijector) {
  TRUE
}

# The shape `to` (with a -1 worked out) for an event of shape `from`, after
# checking `from` against `pattern` (-1 matches any size).
reshape_event_shape <- function(from, pattern, to, from_arg, pattern_arg) {
  if (length(from) != length(pattern) ||
      any(pattern != -1L & from != pattern)) {
    abort_bijectors("event_shape", sprintf(paste(
      "The event shape %s of `%s` does not match `%s` %s."),
      format_shape(from), from_arg, pattern_arg, format_shape(pattern)))
  }
  size <- prod(as.double(from))
  known <- prod(as.double(to[to != -1L]))
  if (any(to == -1L)) {
    if (known == 0 || size %% known != 0) {
      abort_bijectors("event_shape", sprintf(paste(
        "An event of %s values cannot be reshaped to %s."), format(size),
        format_shape(to)))
    }
    to[to == -1L] <- as.integer(size / known)
  } else if (known != size) {
    abort_bijectors("event_shape", sprintf(paste(
      "An event of %s values (shape %s) cannot be reshaped to %s (%s",
      "values)."), format(size), format_shape(from), format_shape(to),
      format(known)))
  }
  as.integer(to)
}

#' @export
bijector_forward_event_shape.tfb_reshape <- function(bijector, shape) {
  pattern <- .subset2(bijector, "event_shape_in")
  reshape_event_shape(shape, pattern, .subset2(bijector, "event_shape_out"),
                      event_shape_argument(forward = TRUE), "event_shape_in")
}

#' @export
bijector_inverse_event_shape.tfb_reshape <- function(bijector, shape) {
  pattern <- .subset2(bijector, "event_shape_out")
  reshape_event_shape(shape, pattern, .subset2(bijector, "event_shape_in"),
                      event_shape_argument(forward = FALSE),
                      "event_shape_out")
}

# For an event shape, the column-major positions (1-based) of its elements
# listed in row-major order.
row_major_positions <- function(shape) {
  if (length(shape) <= 1L) {
    return(seq_len(prod(shape)))
  }
  as.vector(aperm(array(seq_len(prod(shape)), shape), rev(seq_along(shape))))
}

# Moves each event of `x` (its trailing length(pattern) dims) to the shape
# `to`, element by element in row-major order.
reshape_apply <- function(bijector, x, arg, forward) {
  x <- as_input_array(x, arg)
  dims <- input_dims(x)
  pattern <- .subset2(bijector, if (forward) "event_shape_in" else
    "event_shape_out")
  target <- .subset2(bijector, if (forward) "event_shape_out" else
    "event_shape_in")
  rank <- length(dims)
  event_ndims <- length(pattern)
  if (rank < event_ndims) {
    abort_bijectors("event_shape", sprintf(paste(
      "`%s` has rank %d, lower than the %d dimensions of `%s`."), arg, rank,
      event_ndims, if (forward) "event_shape_in" else "event_shape_out"))
  }
  from <- dims[seq_len(event_ndims) + rank - event_ndims]
  to <- reshape_event_shape(from, pattern, target, arg,
                            if (forward) "event_shape_in" else
                              "event_shape_out")
  batch <- dims[seq_len(rank - event_ndims)]
  rows <- prod(as.double(batch))
  columns <- row_major_positions(from)[order(row_major_positions(to))]
  values <- x
  dim(values) <- c(rows, prod(as.double(from)))
  out <- values[, columns, drop = FALSE]
  with_shape(as.vector(out), c(batch, to))
}

#' @export
bijector_forward.tfb_reshape <- function(bijector, x) {
  reshape_apply(bijector, x, "x", forward = TRUE)
}

#' @export
bijector_inverse.tfb_reshape <- function(bijector, y) {
  reshape_apply(bijector, y, "y", forward = FALSE)
}

reshape_log_det <- function(bijector, x, event_ndims, arg, min_field) {
  x <- as_input_array(x, arg)
  check_event_ndims(event_ndims, .subset2(bijector, min_field),
                    length(input_dims(x)), arg)
  0
}

#' @export
bijector_forward_log_det_jacobian.tfb_reshape <- function(bijector, x,
                                                          event_ndims) {
  reshape_log_det(bijector, x, event_ndims, "x", "forward_min_event_ndims")
}

#' @export
bijector_inverse_log_det_jacobian.tfb_reshape <- function(bijector, y,
                                                          event_ndims) {
  reshape_log_det(bijector, y, event_ndims, "y", "inverse_min_event_ndims")
}

# Training: the map moves values, so the gradient moves back the other way;
# the log-det is 0 and there are no parameters.
reshape_with_cache <- function(bijector, input, event_ndims, forward) {
  arg <- if (forward) "x" else "y"
  log_det <- reshape_log_det(bijector, input, event_ndims, arg,
                             if (forward) "forward_min_event_ndims" else
                               "inverse_min_event_ndims")
  list(output = reshape_apply(bijector, input, arg, forward),
       log_det = log_det)
}

#' @export
bijector_forward_with_cache.tfb_reshape <- function(bijector, x,
                                                    event_ndims) {
  pass <- reshape_with_cache(bijector, x, event_ndims, forward = TRUE)
  list(y = pass$output, log_det = pass$log_det, cache = NULL)
}

#' @export
bijector_forward_backward.tfb_reshape <- function(bijector, cache, grad_y,
                                                  grad_log_det) {
  list(input = reshape_apply(bijector, grad_y, "y", forward = FALSE),
       parameters = list())
}

#' @export
bijector_inverse_with_cache.tfb_reshape <- function(bijector, y,
                                                    event_ndims) {
  pass <- reshape_with_cache(bijector, y, event_ndims, forward = FALSE)
  list(x = pass$output, log_det = pass$log_det, cache = NULL)
}

#' @export
bijector_inverse_backward.tfb_reshape <- function(bijector, cache, grad_x,
                                                  grad_log_det) {
  list(input = reshape_apply(bijector, grad_x, "x", forward = TRUE),
       parameters = list())
}

#' @export
format.tfb_reshape <- function(x, ...) {
  c(NextMethod(), sprintf("  event_shape_in: %s, event_shape_out: %s",
                          format_shape(.subset2(x, "event_shape_in")),
                          format_shape(.subset2(x, "event_shape_out"))))
}
