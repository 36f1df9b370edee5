# The transpose bijector: permutes the rightmost dims of each event (aperm
# on the trailing axes). Permutations are 1-based (DESIGN 10).

#' Transpose bijector
#'
#' Permutes the rightmost *r* dimensions of the input, as tfprobability's
#' `tfb_transpose()`: with `b` batch dims before them,
#' `y = aperm(x, c(1:b, b + perm))`, so that
#' `dim(y)[b + i] = dim(x)[b + perm[i]]`; the inverse applies
#' `order(perm)`. Domain and range are all real arrays; the log-determinants
#' are 0.
#'
#' `perm` is **1-based** (TFP's is 0-based): `tfb_transpose(perm = c(2, 1))`
#' swaps the last two axes, a matrix transpose of each event; negative
#' entries count from the end of `perm` (`c(-1, -2)` is `c(2, 1)`).
#' `rightmost_transposed_ndims = r` reverses the last *r* axes,
#' `perm = r:1`. Give exactly one of them. For events of shape `c(2, 3)`
#' (row-major as TFP, DESIGN 9), `perm = c(2, 1)` gives events of shape
#' `c(3, 2)` with `y[n, j, i] = x[n, i, j]`.
#'
#' @param perm `NULL` or a permutation of `1..r` (a vector, or a list of
#'   single whole numbers as tfprobability takes it): the order of the last
#'   *r* axes in the output.
#' @param rightmost_transposed_ndims `NULL` or a whole number r >= 0: the
#'   number of rightmost axes to reverse.
#' @param validate_args `TRUE` or `FALSE`; `perm` is always checked (TFP
#'   checks it only with `validate_args = TRUE`).
#' @param name A string: the bijector's name.
#' @return A bijector of class `c("tfb_transpose", "bijector")` with
#'   `forward_min_event_ndims = inverse_min_event_ndims = r` and the fields
#'   `$perm` and `$rightmost_transposed_ndims`.
#' @family structural bijectors
#' @seealso `tfprobability::tfb_transpose()`; [tfb_permute()] reorders the
#'   entries along one axis, [tfb_reshape()].
#' @examples
#' x <- array(1:8, c(2, 2, 2))
#' y <- tfb_transpose(perm = c(2, 1))$forward(x)
#' y[1, , ]                     # t(x[1, , ])
#' b <- tfb_transpose(perm = c(3, 1, 2))
#' b$forward_event_shape(c(4, 3, 2))    # 2 4 3
#' b$inverse(b$forward(x))
#' tfb_transpose(rightmost_transposed_ndims = 2)$forward(matrix(1:8, 4))
#' @export
tfb_transpose <- function(perm = NULL, rightmost_transposed_ndims = NULL,
                          validate_args = FALSE, name = "transpose") {
  if (is.null(perm) == is.null(rightmost_transposed_ndims)) {
    abort_bijectors("argument", paste(
      "Give exactly one of `perm` and `rightmost_transposed_ndims`."))
  }
  if (is.null(perm)) {
    ndims <- rightmost_transposed_ndims
    ok <- is.numeric(ndims) && !is.object(ndims) && length(ndims) == 1L &&
      !is.na(ndims) && is.finite(ndims) && ndims == round(ndims) &&
      ndims >= 0 && ndims <= .Machine$integer.max
    if (!ok) {
      abort_bijectors("argument", sprintf(
        "`rightmost_transposed_ndims` must be a whole number >= 0, not %s.",
        describe_value(ndims)))
    }
    ndims <- as.integer(ndims)
    perm <- rev(seq_len(ndims))
  } else {
    perm <- check_transpose_perm(perm)
    ndims <- length(perm)
  }
  new_bijector(
    "tfb_transpose",
    name = check_string(name, "name"),
    forward_min_event_ndims = ndims,
    validate_args = check_flag(validate_args, "validate_args"),
    perm = perm,
    rightmost_transposed_ndims = ndims
  )
}

# A 1-based permutation; negative entries count from its end.
check_transpose_perm <- function(perm) {
  if (is.list(perm) && !is.object(perm)) {
    return(check_transpose_perm(check_permutation(perm, "perm")))
  }
  if (is.numeric(perm) && !is.object(perm) && !anyNA(perm) &&
      all(is.finite(perm)) && any(perm < 0)) {
    perm <- perm + (perm < 0) * (length(perm) + 1)
  }
  check_permutation(perm, "perm")
}

#' @export
object_field_names.tfb_transpose <- function(x) {
  c(NextMethod(), "perm", "rightmost_transposed_ndims")
}

#' @export
bijector_changes_shape.tfb_transpose <- function(bijector) {
  TRUE
}

transpose_event_shape <- function(shape, perm) {
  lead <- length(shape) - length(perm)
  c(shape[seq_len(lead)], shape[lead + perm])
}

#' @export
bijector_forward_event_shape.tfb_transpose <- function(bijector, shape) {
  transpose_event_shape(shape, .subset2(bijector, "perm"))
}

#' @export
bijector_inverse_event_shape.tfb_transpose <- function(bijector, shape) {
  transpose_event_shape(shape, order(.subset2(bijector, "perm")))
}

# aperm() of the rightmost length(perm) axes of `x`.
transpose_apply <- function(bijector, x, arg, forward) {
  x <- as_input_array(x, arg)
  perm <- .subset2(bijector, "perm")
  if (!forward) {
    perm <- order(perm)
  }
  rank <- length(input_dims(x))
  ndims <- length(perm)
  if (rank < ndims) {
    abort_bijectors("input", sprintf(
      "`%s` has rank %d, lower than the %d axes the bijector transposes.",
      arg, rank, ndims))
  }
  if (ndims <= 1L) {
    return(x)
  }
  lead <- rank - ndims
  aperm(x, c(seq_len(lead), lead + perm))
}

#' @export
bijector_forward.tfb_transpose <- function(bijector, x) {
  transpose_apply(bijector, x, "x", forward = TRUE)
}

#' @export
bijector_inverse.tfb_transpose <- function(bijector, y) {
  transpose_apply(bijector, y, "y", forward = FALSE)
}

transpose_log_det <- function(bijector, x, event_ndims, arg) {
  x <- as_input_array(x, arg)
  check_event_ndims(event_ndims, .subset2(bijector, "forward_min_event_ndims"),
                    length(input_dims(x)), arg)
  0
}

#' @export
bijector_forward_log_det_jacobian.tfb_transpose <- function(bijector, x,
                                                            event_ndims) {
  transpose_log_det(bijector, x, event_ndims, "x")
}

#' @export
bijector_inverse_log_det_jacobian.tfb_transpose <- function(bijector, y,
                                                            event_ndims) {
  transpose_log_det(bijector, y, event_ndims, "y")
}

# Training: no parameters, log-det 0; the VJP of a transpose is the inverse
# transpose of the gradient.

#' @export
bijector_forward_with_cache.tfb_transpose <- function(bijector, x,
                                                      event_ndims) {
  log_det <- transpose_log_det(bijector, x, event_ndims, "x")
  list(y = transpose_apply(bijector, x, "x", forward = TRUE),
       log_det = log_det, cache = NULL)
}

#' @export
bijector_forward_backward.tfb_transpose <- function(bijector, cache, grad_y,
                                                    grad_log_det) {
  list(input = transpose_apply(bijector, grad_y, "grad_y", forward = FALSE),
       parameters = list())
}

#' @export
bijector_inverse_with_cache.tfb_transpose <- function(bijector, y,
                                                      event_ndims) {
  log_det <- transpose_log_det(bijector, y, event_ndims, "y")
  list(x = transpose_apply(bijector, y, "y", forward = FALSE),
       log_det = log_det, cache = NULL)
}

#' @export
bijector_inverse_backward.tfb_transpose <- function(bijector, cache, grad_x,
                                                    grad_log_det) {
  list(input = transpose_apply(bijector, grad_x, "grad_x", forward = TRUE),
       parameters = list())
}

#' @export
format.tfb_transpose <- function(x, ...) {
  c(NextMethod(), sprintf("  perm: %s",
                          format_values(.subset2(x, "perm"), max = 10L)))
}
