# The shift bijector: y = x + shift, with a number or a vector along the last
# axis. Also the helpers that the elementwise bijectors (shift, scale) share.

# A number, or a plain vector to be broadcast along the last axis.
check_elementwise_parameter <- function(x, arg, nonzero = FALSE) {
  ok <- is.numeric(x) && !is.object(x) && length(x) >= 1L &&
    length(dim(x)) <= 1L && !anyNA(x) && all(is.finite(x))
  if (!ok) {
    abort_bijectors("argument", sprintf(paste(
      "`%s` must be a finite number or a vector of finite numbers (one per",
      "feature along the last axis), not %s."), arg, describe_value(x)))
  }
  x <- as.double(x)
  if (nonzero && any(x == 0)) {
    abort_bijectors("scale", sprintf(
      "`%s` must be non-zero: a zero scale is not invertible.", arg))
  }
  x
}

# A vector parameter must match the input's last dimension; a number fits
# any input. Input shapes never change, so there is no broadcasting of x.
check_parameter_fits <- function(parameter, dims, parameter_arg, input_arg) {
  size <- length(parameter)
  if (size > 1L && dims[[length(dims)]] != size) {
    abort_bijectors("event_size", sprintf(paste(
      "`%s` has %s features along its last axis, but the bijector's `%s`",
      "has %d values."), input_arg, format(dims[[length(dims)]]),
      parameter_arg, size))
  }
  invisible()
}

# The trainable array of a shift or scale bijector: element 1 of the list
# field "parameters" of its environment, so that C can update it in place
# (adam_step()) and trainable_parameters() can find it. Read it only into
# temporaries; hand out copies.
elementwise_parameter <- function(bijector) {
  .subset2(.subset2(bijector, "parameters"), 1L)
}

elementwise_parameter_copy <- function(bijector) {
  .Call(C_copy_double, .subset2(.subset2(bijector, "parameters"), 1L))
}

elementwise_parameter_slots <- function(bijector, name,
                                        constraint = "real") {
  list(parameter_slot(name, bijector, "parameters", 1L,
                      constraint = constraint))
}

# The sum of `values` (an array of an input's shape, dims `dims`) over every
# axis but the last, as the gradient of a parameter broadcast along the last
# axis is; over everything for a single-number parameter. .colSums() reads
# the array as a matrix without copying it.
sum_to_parameter <- function(values, size, dims) {
  if (size == 1L) {
    return(sum(values))
  }
  rank <- length(dims)
  .colSums(values, prod(dims[-rank]), dims[[rank]])
}

# The parameter repeated to the input's length in column-major order, so that
# R's elementwise arithmetic applies value j to the j-th slice of the last
# axis. The repeated vector is a temporary that R reuses for the result, so
# `x + along_last_axis(shift, dims)` allocates one vector of x's size.
along_last_axis <- function(parameter, dims) {
  if (length(parameter) == 1L) {
    return(parameter)
  }
  rank <- length(dims)
  rep(parameter, each = prod(dims[-rank]))
}

#' Shift bijector
#'
#' The bijector `y = x + shift`, as tfprobability's `tfb_shift()`. Its
#' log-determinants are 0.
#'
#' `shift` is a number, or a vector with one value per feature along the
#' **last** axis of the input (a matrix `x` with `dim = c(N, D)` takes a
#' shift of length `D`, as TensorFlow's broadcasting does).
#'
#' @param shift A finite number or a numeric vector of finite numbers.
#' @param validate_args `TRUE` or `FALSE`; accepted for compatibility (the
#'   arguments are always checked).
#' @param name A string: the bijector's name.
#' @return A bijector of class `c("tfb_shift", "bijector")` with the methods
#'   `$forward(x)`, `$inverse(y)`, `$forward_log_det_jacobian(x, event_ndims)`
#'   and `$inverse_log_det_jacobian(y, event_ndims)` and the field `$shift`;
#'   its minimum event ndims are 0.
#' @family bijectors
#' @seealso `tfprobability::tfb_shift()`; [tfb_scale()], [tfb_chain()].
#' @examples
#' b <- tfb_shift(c(1, -1))
#' x <- matrix(1:6, ncol = 2)
#' b$forward(x)
#' b$inverse(b$forward(x))
#' b$forward_log_det_jacobian(x, event_ndims = 1)
#' tfb_shift(0.77)$forward(0)
#' @export
tfb_shift <- function(shift, validate_args = FALSE, name = "shift") {
  new_bijector(
    "tfb_shift",
    name = check_string(name, "name"),
    forward_min_event_ndims = 0L,
    validate_args = check_flag(validate_args, "validate_args"),
    parameters = list(check_elementwise_parameter(shift, "shift"))
  )
}

# `b$shift` is the trainable array (handed out as a copy); `b$parameters`
# the constructor's values, as TFP's `parameters`.
#' @export
object_field_names.tfb_shift <- function(x) {
  c(NextMethod(), "shift", "parameters")
}

#' @export
object_field.tfb_shift <- function(x, name) {
  switch(name,
    shift = elementwise_parameter(x),
    parameters = list(shift = elementwise_parameter(x),
                      validate_args = .subset2(x, "validate_args"),
                      name = .subset2(x, "name")),
    NextMethod()
  )
}

shift_apply <- function(bijector, x, arg, sign) {
  x <- as_input_array(x, arg)
  dims <- input_dims(x)
  check_parameter_fits(elementwise_parameter(bijector), dims, "shift", arg)
  if (sign > 0) {
    x + along_last_axis(elementwise_parameter(bijector), dims)
  } else {
    x - along_last_axis(elementwise_parameter(bijector), dims)
  }
}

#' @export
bijector_forward.tfb_shift <- function(bijector, x) {
  shift_apply(bijector, x, "x", 1)
}

#' @export
bijector_inverse.tfb_shift <- function(bijector, y) {
  shift_apply(bijector, y, "y", -1)
}

shift_log_det <- function(bijector, x, event_ndims, arg) {
  x <- as_input_array(x, arg)
  dims <- input_dims(x)
  check_event_ndims(event_ndims, 0L, length(dims), arg)
  check_parameter_fits(elementwise_parameter(bijector), dims, "shift", arg)
  0
}

#' @export
bijector_forward_log_det_jacobian.tfb_shift <- function(bijector, x,
                                                        event_ndims) {
  shift_log_det(bijector, x, event_ndims, "x")
}

#' @export
bijector_inverse_log_det_jacobian.tfb_shift <- function(bijector, y,
                                                        event_ndims) {
  shift_log_det(bijector, y, event_ndims, "y")
}

# Values of a parameter for print(): all of them when there are few.
format_values <- function(x, max = 6L) {
  shown <- vapply(x[seq_len(min(length(x), max))], format, character(1),
                  digits = 4L)
  text <- paste(shown, collapse = ", ")
  if (length(x) > max) {
    text <- paste0(text, ", ... (", length(x), " values)")
  }
  if (length(x) > 1L) paste0("c(", text, ")") else text
}

#' @export
format.tfb_shift <- function(x, ...) {
  c(NextMethod(), paste0("  shift: ", format_values(elementwise_parameter(x))))
}

# ---- training ------------------------------------------------------------

#' @export
bijector_parameter_slots.tfb_shift <- function(bijector) {
  elementwise_parameter_slots(bijector, "shift")
}

# The log-det is 0 whatever the shift, so only the map carries gradient:
# the input gradient passes through unchanged and the shift's gradient is
# the output gradient summed over the broadcast axes (negated for the
# inverse, x = y - shift).
shift_with_cache <- function(bijector, input, event_ndims, arg, sign) {
  log_det <- shift_log_det(bijector, input, event_ndims, arg)
  output <- shift_apply(bijector, input, arg, sign)
  list(output = output, log_det = log_det,
       cache = list(dims = input_dims(output)))
}

shift_backward <- function(bijector, cache, grad_output, sign) {
  size <- length(elementwise_parameter(bijector))
  gradient <- sum_to_parameter(grad_output, size, cache$dims)
  list(input = grad_output,
       parameters = list(if (sign > 0) gradient else -gradient))
}

#' @export
bijector_inverse_with_cache.tfb_shift <- function(bijector, y, event_ndims) {
  pass <- shift_with_cache(bijector, y, event_ndims, "y", -1)
  list(x = pass$output, log_det = pass$log_det, cache = pass$cache)
}

#' @export
bijector_inverse_backward.tfb_shift <- function(bijector, cache, grad_x,
                                                grad_log_det) {
  shift_backward(bijector, cache, grad_x, -1)
}

#' @export
bijector_forward_with_cache.tfb_shift <- function(bijector, x, event_ndims) {
  pass <- shift_with_cache(bijector, x, event_ndims, "x", 1)
  list(y = pass$output, log_det = pass$log_det, cache = pass$cache)
}

#' @export
bijector_forward_backward.tfb_shift <- function(bijector, cache, grad_y,
                                                grad_log_det) {
  shift_backward(bijector, cache, grad_y, 1)
}
