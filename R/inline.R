# The inline bijector: a bijector made of user-supplied R functions, as
# TFP's Inline. The functions give the maps, the unreduced log-dets at the
# minimum event ndims and the event shapes; this file does the rest (input
# coercion, TFP's event_ndims reduction, the log-det fallbacks).

#' Bijector from R functions
#'
#' Builds a bijector from R functions, as tfprobability's `tfb_inline()`
#' (TFP's `Inline`). Each function given replaces one method: `forward_fn(x)`
#' returns `y`, `inverse_fn(y)` returns `x`, and the log-determinant
#' functions return the **unreduced** log-determinant at the minimum event
#' ndims: for an input of dims `d` and rank `r` with minimum event ndims `m`,
#' one value per element of the first r - m dims (an array of those dims,
#' or a vector with their product of values, in R's order), or a single
#' number that stands for every such element. The bijector then sums it over
#' the event dims beyond the minimum, TFP's rule.
#'
#' A missing log-determinant function is worked out, as in TFP, from the
#' other direction: `fldj(x) = -ildj(forward(x))` and `ildj(y) =
#' -fldj(inverse(y))`. A method that needs a function that was not given is
#' an error of class `bijectors_error_unsupported` naming it. Missing shape
#' functions mean the event shape does not change; the `*_tensor_fn`
#' variants are used when the static ones are not given (in R both take and
#' return an integer vector, the event shape in `dim()` order).
#'
#' Minimum event ndims follow TFP's rule for unspecified values: give at
#' least one; when only one is given, the other is the same. (tfprobability
#' passes `NULL` to TFP >= 0.12 as `None`, which breaks log-determinants
#' unless both are given; here `NULL` means unspecified.)
#'
#' The functions receive the input as a double vector, matrix or array
#' (events along the last `min_event_ndims` dims, in TFP's row-major element
#' order within an event, DESIGN 9) and must return numbers. The bijector
#' has no parameters and **is not trainable**: the package cannot
#' differentiate R functions, so gradients through it (what [fit()] and
#' [loss_and_gradient()] need) are an error of class
#' `bijectors_error_unsupported`. It saves with [saveRDS()] as far as its
#' functions do (closures carry their environments).
#'
#' @param forward_fn,inverse_fn `NULL` or a function of one array: the
#'   forward and inverse maps.
#' @param inverse_log_det_jacobian_fn,forward_log_det_jacobian_fn `NULL` or a
#'   function of one array: the unreduced log-determinants at `y` and `x`.
#' @param forward_event_shape_fn,forward_event_shape_tensor_fn,inverse_event_shape_fn,inverse_event_shape_tensor_fn
#'   `NULL` or a function of an event shape returning the mapped event shape.
#' @param is_constant_jacobian `NULL` (taken as `FALSE`) or `TRUE`/`FALSE`:
#'   stored as the field `$is_constant_jacobian`.
#' @param validate_args `TRUE` or `FALSE`; stored (the functions do their
#'   own checks).
#' @param forward_min_event_ndims,inverse_min_event_ndims `NULL` or a whole
#'   number >= 0; at least one must be given.
#' @param name A string: the bijector's name.
#' @return A bijector of class `c("tfb_inline", "bijector")` with the fields
#'   `$is_constant_jacobian` and the usual methods.
#' @family structural bijectors
#' @seealso `tfprobability::tfb_inline()`; [tfb_exp()], the same map as the
#'   first example, trainable in flows.
#' @examples
#' b <- tfb_inline(forward_fn = exp, inverse_fn = log,
#'                 inverse_log_det_jacobian_fn = function(y) -log(y),
#'                 forward_min_event_ndims = 0)
#' x <- matrix(c(1, 2, 3, 4, 5, 6), nrow = 3, byrow = TRUE)
#' b$forward(x)
#' b$forward_log_det_jacobian(x, event_ndims = 1)   # 3 7 11: row sums
#' # a map that adds a trailing axis of length 1
#' s <- tfb_inline(forward_event_shape_fn = function(shape) c(shape, 1L),
#'                 inverse_event_shape_fn = function(shape) shape[-length(shape)],
#'                 forward_min_event_ndims = 0)
#' s$forward_event_shape(c(1, 2, 3))
#' @export
tfb_inline <- function(forward_fn = NULL, inverse_fn = NULL,
                       inverse_log_det_jacobian_fn = NULL,
                       forward_log_det_jacobian_fn = NULL,
                       forward_event_shape_fn = NULL,
                       forward_event_shape_tensor_fn = NULL,
                       inverse_event_shape_fn = NULL,
                       inverse_event_shape_tensor_fn = NULL,
                       is_constant_jacobian = NULL, validate_args = FALSE,
                       forward_min_event_ndims = NULL,
                       inverse_min_event_ndims = NULL, name = "inline") {
  functions <- list(
    forward_fn = forward_fn, inverse_fn = inverse_fn,
    inverse_log_det_jacobian_fn = inverse_log_det_jacobian_fn,
    forward_log_det_jacobian_fn = forward_log_det_jacobian_fn,
    forward_event_shape_fn = forward_event_shape_fn,
    forward_event_shape_tensor_fn = forward_event_shape_tensor_fn,
    inverse_event_shape_fn = inverse_event_shape_fn,
    inverse_event_shape_tensor_fn = inverse_event_shape_tensor_fn)
  for (arg in names(functions)) {
    if (!is.null(functions[[arg]]) && !is.function(functions[[arg]])) {
      abort_bijectors("argument", sprintf(
        "`%s` is not a callable function: it must be NULL or a function, not %s.",
        arg, describe_value(functions[[arg]])))
    }
  }
  is_constant_jacobian <- check_flag(is_constant_jacobian %||% FALSE,
                                     "is_constant_jacobian")
  validate_args <- check_flag(validate_args, "validate_args")
  forward_min <- check_inline_min_ndims(forward_min_event_ndims,
                                        "forward_min_event_ndims")
  inverse_min <- check_inline_min_ndims(inverse_min_event_ndims,
                                        "inverse_min_event_ndims")
  if (is.null(forward_min) && is.null(inverse_min)) {
    abort_bijectors("argument", paste(
      "Must specify at least one of `forward_min_event_ndims` and",
      "`inverse_min_event_ndims` (the other is then the same)."))
  }
  new_bijector(
    "tfb_inline",
    name = check_string(name, "name"),
    forward_min_event_ndims = forward_min %||% inverse_min,
    inverse_min_event_ndims = inverse_min %||% forward_min,
    validate_args = validate_args,
    functions = functions[!vapply(functions, is.null, logical(1))],
    is_constant_jacobian = is_constant_jacobian
  )
}

check_inline_min_ndims <- function(x, arg) {
  if (is.null(x)) {
    return(NULL)
  }
  ok <- is.numeric(x) && !is.object(x) && length(x) == 1L && !is.na(x) &&
    is.finite(x) && x >= 0 && x == round(x) && x <= .Machine$integer.max
  if (!ok) {
    abort_bijectors("argument", sprintf(
      "`%s` must be NULL or a whole number >= 0, not %s.", arg,
      describe_value(x)))
  }
  as.integer(x)
}

# The user's function `fn_arg`, or an error naming what is missing.
inline_function <- function(bijector, fn_arg, needed_for) {
  fn <- .subset2(.subset2(bijector, "functions"), fn_arg)
  if (is.null(fn)) {
    abort_bijectors("unsupported", sprintf(paste(
      "This tfb_inline() bijector (\"%s\") has no `%s`, which %s needs."),
      .subset2(bijector, "name"), fn_arg, needed_for))
  }
  fn
}

# Calls a user function; its errors come back as classed errors naming it,
# and its value must be numbers (integers become doubles).
inline_call <- function(fn, fn_arg, value) {
  out <- tryCatch(fn(value), error = function(e) {
    abort_bijectors("inline", sprintf("`%s` failed: %s", fn_arg,
                                      conditionMessage(e)), parent = e)
  })
  if (!is.numeric(out) || is.object(out)) {
    abort_bijectors("inline", sprintf(
      "`%s` must return numbers, but returned %s.", fn_arg,
      describe_input(out)))
  }
  storage.mode(out) <- "double"
  out
}

#' @export
bijector_forward.tfb_inline <- function(bijector, x) {
  x <- as_input_array(x, "x")
  out <- inline_call(inline_function(bijector, "forward_fn", "the forward map"),
                     "forward_fn", x)
  inline_check_shape(bijector, out, x, "forward_fn")
}

#' @export
bijector_inverse.tfb_inline <- function(bijector, y) {
  y <- as_input_array(y, "y")
  out <- inline_call(inline_function(bijector, "inverse_fn", "the inverse map"),
                     "inverse_fn", y)
  inline_check_shape(bijector, out, y, "inverse_fn")
}

# Without event-shape functions the map keeps the input's shape (TFP's
# default event shape), so a result of another length is a mistake in the
# user's function, caught here rather than passed on as silent garbage. A
# result of the right length that lost its dims (sapply(), as.vector())
# gets the input's back.
inline_check_shape <- function(bijector, out, input, fn_arg) {
  if (bijector_changes_shape(bijector)) {
    return(out)
  }
  if (length(out) != length(input)) {
    abort_bijectors("inline", sprintf(paste(
      "`%s` must return a value of the shape of its input (%s, %s values),",
      "since this tfb_inline() bijector (\"%s\") has no event-shape",
      "functions; it returned %d values."), fn_arg,
      format_shape(input_dims(input)), format(length(input)),
      .subset2(bijector, "name"), length(out)))
  }
  if (is.null(dim(out)) && !is.null(dim(input))) {
    dim(out) <- dim(input)
    dimnames(out) <- dimnames(input)
  }
  out
}

# TFP's reduction of an unreduced log-det at `min_ndims` over the event
# dims up to `event_ndims`: one value per element of the first
# rank - min_ndims dims, or one number broadcast over them.
inline_reduce <- function(log_det, dims, min_ndims, event_ndims, fn_arg) {
  rank <- length(dims)
  lead <- dims[seq_len(rank - event_ndims)]
  at_min <- prod(as.double(dims[seq_len(rank - min_ndims)]))
  extra <- prod(as.double(dims[seq_len(event_ndims - min_ndims) +
                                 rank - event_ndims]))
  if (length(log_det) == 1L) {
    return(as.vector(log_det) * extra)
  }
  if (length(log_det) != at_min) {
    abort_bijectors("inline", sprintf(paste(
      "`%s` must return one number or one log-det per element of the",
      "input's first %d dims (%s values), not %d values."), fn_arg,
      rank - min_ndims, format(at_min), length(log_det)))
  }
  summed <- rowSums(matrix(as.vector(log_det), nrow = prod(lead)))
  with_shape(if (length(lead) == 0L) sum(summed) else summed, lead)
}

inline_log_det <- function(bijector, input, event_ndims, forward) {
  arg <- if (forward) "x" else "y"
  own <- if (forward) "forward_log_det_jacobian_fn" else
    "inverse_log_det_jacobian_fn"
  other <- if (forward) "inverse_log_det_jacobian_fn" else
    "forward_log_det_jacobian_fn"
  min_field <- if (forward) "forward_min_event_ndims" else
    "inverse_min_event_ndims"
  functions <- .subset2(bijector, "functions")
  input <- as_input_array(input, arg)
  dims <- input_dims(input)
  event_ndims <- check_event_ndims(event_ndims, .subset2(bijector, min_field),
                                   length(dims), arg)
  if (!is.null(functions[[own]])) {
    value <- inline_call(functions[[own]], own, input)
    return(inline_reduce(value, dims, .subset2(bijector, min_field),
                         event_ndims, own))
  }
  if (is.null(functions[[other]])) {
    abort_bijectors("unsupported", sprintf(paste(
      "This tfb_inline() bijector (\"%s\") has neither `%s` nor `%s`:",
      "its %s log-determinant is not available."),
      .subset2(bijector, "name"), own, other,
      if (forward) "forward" else "inverse"))
  }
  # TFP's fallback: minus the other direction's log-det at the image
  image <- if (forward) bijector_forward(bijector, input) else
    bijector_inverse(bijector, input)
  change <- rank_change(bijector)
  -inline_log_det(bijector, image,
                  event_ndims + if (forward) change else -change,
                  !forward)
}

#' @export
bijector_forward_log_det_jacobian.tfb_inline <- function(bijector, x,
                                                         event_ndims) {
  inline_log_det(bijector, x, event_ndims, forward = TRUE)
}

#' @export
bijector_inverse_log_det_jacobian.tfb_inline <- function(bijector, y,
                                                         event_ndims) {
  inline_log_det(bijector, y, event_ndims, forward = FALSE)
}

inline_event_shape <- function(bijector, shape, static, tensor) {
  functions <- .subset2(bijector, "functions")
  fn_arg <- if (!is.null(functions[[static]])) static else tensor
  fn <- functions[[fn_arg]]
  if (is.null(fn)) {
    return(shape)
  }
  out <- inline_call(fn, fn_arg, as.integer(shape))
  if (anyNA(out) || any(out < 0) || any(out != round(out))) {
    abort_bijectors("inline", sprintf(
      "`%s` must return an event shape of whole numbers >= 0.", fn_arg))
  }
  as.integer(out)
}

#' @export
bijector_forward_event_shape.tfb_inline <- function(bijector, shape) {
  inline_event_shape(bijector, shape, "forward_event_shape_fn",
                     "forward_event_shape_tensor_fn")
}

#' @export
bijector_inverse_event_shape.tfb_inline <- function(bijector, shape) {
  inline_event_shape(bijector, shape, "inverse_event_shape_fn",
                     "inverse_event_shape_tensor_fn")
}

#' @export
bijector_changes_shape.tfb_inline <- function(bijector) {
  any(grepl("event_shape", names(.subset2(bijector, "functions")))) ||
    rank_change(bijector) != 0L
}

# ---- training ------------------------------------------------------------

# R functions cannot be differentiated by the package: refuse, clearly.
inline_no_gradient <- function(bijector) {
  abort_bijectors("unsupported", sprintf(paste(
    "tfb_inline() bijectors (here \"%s\") are not trainable and have no",
    "backward pass: the package cannot differentiate their R functions, so",
    "fit() and loss_and_gradient() cannot run through them. Build the map",
    "from the package's bijectors (with tfb_chain()) to train it."),
    .subset2(bijector, "name")))
}

#' @export
bijector_forward_with_cache.tfb_inline <- function(bijector, x,
                                                   event_ndims) {
  inline_no_gradient(bijector)
}

#' @export
bijector_inverse_with_cache.tfb_inline <- function(bijector, y,
                                                   event_ndims) {
  inline_no_gradient(bijector)
}

#' @export
format.tfb_inline <- function(x, ...) {
  given <- names(.subset2(x, "functions"))
  c(NextMethod(),
    sprintf("  functions: %s", if (length(given) == 0L) "none" else
      paste(given, collapse = ", ")),
    sprintf("  is_constant_jacobian: %s",
            .subset2(x, "is_constant_jacobian")))
}

# the user's promise, given to the constructor
#' @export
bijector_is_constant_jacobian.tfb_inline <- function(bijector) {
  .subset2(bijector, "is_constant_jacobian")
}
