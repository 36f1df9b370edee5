# The transform_diagonal bijector: another bijector applied to the diagonal
# of each matrix event, everything else passed through.

#' Transform-diagonal bijector
#'
#' Applies `diag_bijector` to the diagonal of each `n x n` matrix and leaves
#' every other entry (both triangles) unchanged, as tfprobability's
#' `tfb_transform_diagonal()` (TFP's `TransformDiagonal`):
#' `diag(y) = diag_bijector$forward(diag(x))`. The log-determinant is the
#' diagonal bijector's on the diagonal (taken with `event_ndims = 1`), so
#' `fldj(x) = diag_bijector$forward_log_det_jacobian(diag(x), 1)`.
#'
#' Domain and range: `n x n` matrices whose diagonal is in the domain (and
#' range) of `diag_bijector`; a batch is an array `c(batch..., n, n)`, each
#' diagonal handed to `diag_bijector` as the rows of a `c(batch..., n)`
#' array. The diagonal bijector must keep the length of vectors (any
#' elementwise bijector does). The minimum event ndims are 2.
#'
#' @param diag_bijector A bijector acting on vectors (such as [tfb_exp()]):
#'   its `forward_min_event_ndims` is 0 or 1 and it keeps shapes. It is a
#'   child of the new bijector: its trainable parameters are trained with a
#'   flow.
#' @param validate_args `TRUE` or `FALSE`; passed on as the flag of this
#'   bijector (the diagonal bijector keeps its own).
#' @param name A string: the bijector's name.
#' @return A bijector of class `c("tfb_transform_diagonal", "bijector")`
#'   with the field `$diag_bijector`.
#' @family structural bijectors
#' @seealso `tfprobability::tfb_transform_diagonal()`;
#'   [tfb_fill_scale_tri_l()], [tfb_fill_triangular()].
#' @examples
#' b <- tfb_transform_diagonal(tfb_exp())
#' b$forward(diag(2))                       # exp(1) on the diagonal
#' x <- matrix(c(0, 1, 2, 0.5), 2)
#' b$inverse(b$forward(x))
#' b$forward_log_det_jacobian(x, event_ndims = 2)   # sum(diag(x))
#' @export
tfb_transform_diagonal <- function(diag_bijector, validate_args = FALSE,
                                   name = "transform_diagonal") {
  check_diag_bijector(diag_bijector)
  new_bijector(
    "tfb_transform_diagonal",
    name = check_string(name, "name"),
    forward_min_event_ndims = 2L,
    inverse_min_event_ndims = 2L,
    validate_args = check_flag(validate_args, "validate_args"),
    diag_bijector = diag_bijector
  )
}

check_diag_bijector <- function(diag_bijector, arg = "diag_bijector") {
  check_bijector(diag_bijector, arg)
  fmin <- .subset2(diag_bijector, "forward_min_event_ndims")
  if (fmin > 1L || bijector_changes_shape(diag_bijector)) {
    abort_bijectors("bijector", sprintf(paste(
      "`%s` must act on vectors and keep their length (minimum event ndims",
      "0 or 1, shape unchanged), but \"%s\" has forward_min_event_ndims %d",
      "%s."), arg, .subset2(diag_bijector, "name"), fmin,
      if (bijector_changes_shape(diag_bijector)) "and changes shapes" else
        ""))
  }
  invisible(diag_bijector)
}

#' @export
object_field_names.tfb_transform_diagonal <- function(x) {
  c(NextMethod(), "diag_bijector")
}

#' @export
bijector_children.tfb_transform_diagonal <- function(bijector) {
  list(.subset2(bijector, "diag_bijector"))
}

#' @export
bijector_with_children.tfb_transform_diagonal <- function(bijector,
                                                          children) {
  tfb_transform_diagonal(children[[1L]],
                         validate_args = .subset2(bijector, "validate_args"),
                         name = .subset2(bijector, "name"))
}

#' @export
bijector_parameter_slots.tfb_transform_diagonal <- function(bijector) {
  bijector_parameter_slots(.subset2(bijector, "diag_bijector"))
}

# The diagonals of the events of `events` (from matrix_events()) as a
# c(batch..., n) array, and the events with the diagonal replaced.
events_diagonal <- function(events) {
  vector_events_array(events$values[, diagonal_columns(events$n),
                                    drop = FALSE], events$batch)
}

events_with_diagonal <- function(events, diagonal) {
  values <- events$values
  values[, diagonal_columns(events$n)] <- as.vector(diagonal)
  matrix_events_array(values, events$batch, events$n)
}

transform_diagonal_map <- function(bijector, input, arg, forward) {
  events <- matrix_events(input, arg)
  child <- .subset2(bijector, "diag_bijector")
  diagonal <- events_diagonal(events)
  mapped <- if (forward) bijector_forward(child, diagonal) else
    bijector_inverse(child, diagonal)
  out <- events_with_diagonal(events, mapped)
  # only the diagonal changes: the matrices keep their names
  dimnames(out) <- dimnames(input)
  out
}

#' @export
bijector_forward.tfb_transform_diagonal <- function(bijector, x) {
  transform_diagonal_map(bijector, x, "x", forward = TRUE)
}

#' @export
bijector_inverse.tfb_transform_diagonal <- function(bijector, y) {
  transform_diagonal_map(bijector, y, "y", forward = FALSE)
}

# The child's log-det on the diagonals, one event rank lower.
transform_diagonal_log_det <- function(bijector, input, event_ndims, arg,
                                       forward) {
  events <- matrix_events(input, arg)
  child <- .subset2(bijector, "diag_bijector")
  diagonal <- events_diagonal(events)
  if (forward) {
    bijector_forward_log_det_jacobian(child, diagonal, event_ndims - 1L)
  } else {
    bijector_inverse_log_det_jacobian(child, diagonal, event_ndims - 1L)
  }
}

#' @export
bijector_forward_log_det_jacobian.tfb_transform_diagonal <- function(
    bijector, x, event_ndims) {
  transform_diagonal_log_det(bijector, x, event_ndims, "x", forward = TRUE)
}

#' @export
bijector_inverse_log_det_jacobian.tfb_transform_diagonal <- function(
    bijector, y, event_ndims) {
  transform_diagonal_log_det(bijector, y, event_ndims, "y", forward = FALSE)
}

# ---- training ------------------------------------------------------------

# The child's pass on the diagonals; off-diagonal gradients pass through,
# the diagonal's go through the child's backward, with its parameters.

transform_diagonal_with_cache <- function(bijector, input, event_ndims, arg,
                                          forward) {
  events <- matrix_events(input, arg)
  child <- .subset2(bijector, "diag_bijector")
  diagonal <- events_diagonal(events)
  step <- if (forward) {
    bijector_forward_with_cache(child, diagonal, event_ndims - 1L)
  } else {
    bijector_inverse_with_cache(child, diagonal, event_ndims - 1L)
  }
  list(output = events_with_diagonal(events,
                                     if (forward) step$y else step$x),
       log_det = step$log_det, cache = step$cache)
}

transform_diagonal_backward <- function(bijector, cache, gradient,
                                        grad_log_det, forward) {
  events <- matrix_events(gradient, "gradient")
  child <- .subset2(bijector, "diag_bijector")
  diagonal <- events_diagonal(events)
  step <- if (forward) {
    bijector_forward_backward(child, cache, diagonal, grad_log_det)
  } else {
    bijector_inverse_backward(child, cache, diagonal, grad_log_det)
  }
  list(input = events_with_diagonal(events, step$input),
       parameters = step$parameters)
}

#' @export
bijector_forward_with_cache.tfb_transform_diagonal <- function(bijector, x,
                                                               event_ndims) {
  pass <- transform_diagonal_with_cache(bijector, x, event_ndims, "x",
                                        forward = TRUE)
  list(y = pass$output, log_det = pass$log_det, cache = pass$cache)
}

#' @export
bijector_forward_backward.tfb_transform_diagonal <- function(bijector, cache,
                                                             grad_y,
                                                             grad_log_det) {
  transform_diagonal_backward(bijector, cache, grad_y, grad_log_det,
                              forward = TRUE)
}

#' @export
bijector_inverse_with_cache.tfb_transform_diagonal <- function(bijector, y,
                                                               event_ndims) {
  pass <- transform_diagonal_with_cache(bijector, y, event_ndims, "y",
                                        forward = FALSE)
  list(x = pass$output, log_det = pass$log_det, cache = pass$cache)
}

#' @export
bijector_inverse_backward.tfb_transform_diagonal <- function(bijector, cache,
                                                             grad_x,
                                                             grad_log_det) {
  transform_diagonal_backward(bijector, cache, grad_x, grad_log_det,
                              forward = FALSE)
}

#' @export
format.tfb_transform_diagonal <- function(x, ...) {
  child <- format(.subset2(x, "diag_bijector"), ...)
  c(NextMethod(), paste0("  diag_bijector: ", child[[1L]]),
    paste0("  ", child[-1L]))
}

#' @export
bijector_is_constant_jacobian.tfb_transform_diagonal <- function(bijector) {
  children_have_constant_jacobian(bijector)
}
