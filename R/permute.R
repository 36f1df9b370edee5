# The permute bijector: reorders the entries along one axis. Permutations are
# 1-based, R-style; a 0-based one (Python's) is refused with a hint.

#' Permute bijector
#'
#' Reorders the entries of the input along one axis, as tfprobability's
#' `tfb_permute()`: `forward(x)[..., i] = x[..., permutation[i]]` along
#' `axis`, and the inverse undoes it. The log-determinants are 0.
#'
#' The permutation is **1-based**, as everything in R; tfprobability passes
#' it to Python, where it is 0-based. A permutation that contains 0 and is a
#' permutation of `0..(D - 1)` gets an error saying so; anything else that is
#' not a permutation of `1..D` gets an error of class
#' `bijectors_error_permutation`. The input's size along `axis` must be `D`.
#'
#' The output keeps the input's `dim` and `dimnames`: names label positions,
#' so they are not permuted with the values.
#'
#' @param permutation An integer vector, a permutation of `1..D`, or a list
#'   of single whole numbers (tfprobability's style, `list(2, 1)`), also
#'   1-based.
#' @param axis A negative whole number: the axis to permute, counted from the
#'   end (`-1`, the default, is the last axis; `-2` permutes the rows of a
#'   matrix). As in TFP it must be negative; the minimum event ndims are
#'   `-axis`.
#' @param validate_args `TRUE` or `FALSE`; accepted for compatibility (the
#'   arguments are always checked).
#' @param name A string: the bijector's name; `NULL` (the default, as
#'   tfprobability) names it `"permute"`, TFP's default.
#' @return A bijector of class `c("tfb_permute", "bijector")` with the methods
#'   `$forward(x)`, `$inverse(y)`, `$forward_log_det_jacobian(x, event_ndims)`
#'   and `$inverse_log_det_jacobian(y, event_ndims)` and the fields
#'   `$permutation` and `$axis`.
#' @family bijectors
#' @seealso `tfprobability::tfb_permute()`; [tfb_chain()] to alternate it
#'   with the layers of a flow.
#' @examples
#' b <- tfb_permute(c(2, 4, 1, 3))
#' b$forward(seq(0, 0.9, by = 0.3))
#' b$inverse(b$forward(1:4))
#' # a list, as tfprobability takes it (but 1-based)
#' tfb_permute(list(2, 4, 1, 3))$forward(seq(0, 0.9, by = 0.3))
#' # reverse the rows of a matrix
#' tfb_permute(c(3, 2, 1), axis = -2)$forward(matrix(1:6, ncol = 2))
#' @export
tfb_permute <- function(permutation, axis = -1L, validate_args = FALSE,
                        name = NULL) {
  permutation <- check_permutation(permutation)
  ok <- is.numeric(axis) && !is.object(axis) && length(axis) == 1L &&
    !is.na(axis) && is.finite(axis) && axis == round(axis) && axis < 0
  if (!ok) {
    abort_bijectors("axis", sprintf(paste(
      "`axis` must be a negative whole number (an axis counted from the",
      "end: -1 is the last), not %s."), describe_value(axis)))
  }
  axis <- as.integer(axis)
  new_bijector(
    "tfb_permute",
    name = check_string(name %||% "permute", "name"),
    forward_min_event_ndims = -axis,
    validate_args = check_flag(validate_args, "validate_args"),
    permutation = permutation,
    axis = axis
  )
}

# The permutation that undoes `permutation` (what order() gives, without
# its sort: this runs on every inverse call).
inverse_permutation <- function(permutation) {
  undo <- integer(length(permutation))
  undo[permutation] <- seq_along(permutation)
  undo
}

# Gathers `index` along the permuted axis, keeping dim and dimnames.
permute_apply <- function(bijector, x, arg, index) {
  x <- as_input_array(x, arg)
  dims <- input_dims(x)
  rank <- length(dims)
  axis <- .subset2(bijector, "axis")
  if (rank < -axis) {
    abort_bijectors("input", sprintf(
      "`%s` has rank %d, too low for a permutation along axis %d.",
      arg, rank, axis))
  }
  position <- rank + 1L + axis
  if (dims[[position]] != length(index)) {
    abort_bijectors("event_size", sprintf(paste(
      "`%s` has size %s along axis %d, but the permutation has length %d."),
      arg, format(dims[[position]]), axis, length(index)))
  }
  if (rank == 1L) {
    out <- x[index]
    names(out) <- names(x)
    return(out)
  }
  # the common cases without building a call
  if (rank == 2L) {
    out <- if (position == 2L) x[, index, drop = FALSE] else
      x[index, , drop = FALSE]
    dimnames(out) <- dimnames(x)
    return(out)
  }
  subscripts <- rep(list(quote(expr = )), rank)
  subscripts[[position]] <- index
  out <- do.call(`[`, c(list(x), subscripts, list(drop = FALSE)))
  dimnames(out) <- dimnames(x)
  out
}

#' @export
bijector_forward.tfb_permute <- function(bijector, x) {
  permute_apply(bijector, x, "x", .subset2(bijector, "permutation"))
}

#' @export
bijector_inverse.tfb_permute <- function(bijector, y) {
  permute_apply(bijector, y, "y",
                inverse_permutation(.subset2(bijector, "permutation")))
}

permute_log_det <- function(bijector, x, event_ndims, arg) {
  x <- as_input_array(x, arg)
  dims <- input_dims(x)
  check_event_ndims(event_ndims, .subset2(bijector, "forward_min_event_ndims"),
                    length(dims), arg)
  axis <- .subset2(bijector, "axis")
  size <- dims[[length(dims) + 1L + axis]]
  if (size != length(.subset2(bijector, "permutation"))) {
    abort_bijectors("event_size", sprintf(paste(
      "`%s` has size %s along axis %d, but the permutation has length %d."),
      arg, format(size), axis, length(.subset2(bijector, "permutation"))))
  }
  0
}

#' @export
bijector_forward_log_det_jacobian.tfb_permute <- function(bijector, x,
                                                          event_ndims) {
  permute_log_det(bijector, x, event_ndims, "x")
}

#' @export
bijector_inverse_log_det_jacobian.tfb_permute <- function(bijector, y,
                                                          event_ndims) {
  permute_log_det(bijector, y, event_ndims, "y")
}

#' @export
format.tfb_permute <- function(x, ...) {
  c(NextMethod(), sprintf("  permutation: %s, axis: %d",
                          format_values(.subset2(x, "permutation"), max = 10L),
                          .subset2(x, "axis")))
}

# ---- training ------------------------------------------------------------

# No parameters, log-det 0; the gradient of a gather is the scatter, that
# is, the gather by the inverse permutation: the inverse's input gradient is
# the output gradient permuted forward, and the forward's is it permuted
# back.

#' @export
bijector_inverse_with_cache.tfb_permute <- function(bijector, y,
                                                    event_ndims) {
  log_det <- permute_log_det(bijector, y, event_ndims, "y")
  list(x = bijector_inverse(bijector, y), log_det = log_det, cache = NULL)
}

#' @export
bijector_inverse_backward.tfb_permute <- function(bijector, cache, grad_x,
                                                  grad_log_det) {
  list(input = permute_apply(bijector, grad_x, "grad_x",
                             .subset2(bijector, "permutation")),
       parameters = list())
}

#' @export
bijector_forward_with_cache.tfb_permute <- function(bijector, x,
                                                    event_ndims) {
  log_det <- permute_log_det(bijector, x, event_ndims, "x")
  list(y = bijector_forward(bijector, x), log_det = log_det, cache = NULL)
}

#' @export
bijector_forward_backward.tfb_permute <- function(bijector, cache, grad_y,
                                                  grad_log_det) {
  list(input = permute_apply(bijector, grad_y, "grad_y",
                             inverse_permutation(
                               .subset2(bijector, "permutation"))),
       parameters = list())
}

#' @export
object_field_names.tfb_permute <- function(x) {
  c(NextMethod(), "permutation", "axis")
}
