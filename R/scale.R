# The scale bijector: y = x * scale, with a number or a vector along the last
# axis, given as `scale` or as `log_scale`.

#' Scale bijector
#'
#' The bijector `y = x * scale`, as tfprobability's `tfb_scale()`. Give
#' exactly one of `scale` and `log_scale` (then `scale = exp(log_scale)`).
#'
#' `scale` is a number, or a vector with one value per feature along the
#' **last** axis of the input. A negative scale is allowed, as in TFP (the
#' log-determinant uses `log(abs(scale))`); a zero scale is not invertible
#' and gives an error of class `bijectors_error_scale`.
#'
#' The forward log-determinant is `log(abs(scale))` summed over the event:
#' a scalar `scale` with `event_ndims = e` gives
#' `log(abs(scale)) * prod(last e dims of x)`; a vector `scale` with
#' `event_ndims >= 1` gives `sum(log(abs(scale)))` times the size of the
#' other event dims; with `event_ndims = 0` a vector `scale` gives an array of
#' `x`'s shape. The inverse log-determinant is its negative.
#'
#' @param scale `NULL`, or a non-zero finite number or vector of them.
#' @param log_scale `NULL`, or a finite number or vector: the log of a
#'   positive scale.
#' @param validate_args `TRUE` or `FALSE`; accepted for compatibility (the
#'   arguments are always checked).
#' @param name A string: the bijector's name.
#' @return A bijector of class `c("tfb_scale", "bijector")` with the methods
#'   `$forward(x)`, `$inverse(y)`, `$forward_log_det_jacobian(x, event_ndims)`
#'   and `$inverse_log_det_jacobian(y, event_ndims)` and the fields `$scale`
#'   and `$log_scale` (one of them `NULL`, as given); its minimum event ndims
#'   are 0.
#' @family bijectors
#' @seealso `tfprobability::tfb_scale()`; [tfb_shift()], [tfb_chain()].
#' @examples
#' b <- tfb_scale(1.5)
#' x <- matrix(1:6, ncol = 2)
#' b$forward(x)
#' b$forward_log_det_jacobian(x, event_ndims = 1)   # 2 * log(1.5)
#' tfb_scale(log_scale = c(0, log(2)))$forward(x)
#' @export
tfb_scale <- function(scale = NULL, log_scale = NULL, validate_args = FALSE,
                      name = "scale") {
  if (is.null(scale) == is.null(log_scale)) {
    abort_bijectors("argument", paste(
      "Give exactly one of `scale` and `log_scale` to tfb_scale(),",
      if (is.null(scale)) "not neither." else "not both."))
  }
  if (is.null(log_scale)) {
    parameter_name <- "scale"
    parameter <- check_elementwise_parameter(scale, "scale", nonzero = TRUE)
  } else {
    parameter_name <- "log_scale"
    parameter <- check_elementwise_parameter(log_scale, "log_scale")
    multiplier <- exp(parameter)
    if (any(multiplier == 0 | !is.finite(multiplier))) {
      abort_bijectors("scale", sprintf(paste(
        "`log_scale` must give a non-zero finite scale, but exp(log_scale)",
        "is %s."), format_values(multiplier)))
    }
  }
  new_bijector(
    "tfb_scale",
    name = check_string(name, "name"),
    forward_min_event_ndims = 0L,
    validate_args = check_flag(validate_args, "validate_args"),
    parameter_name = parameter_name,
    parameters = list(parameter)
  )
}

# The trainable array is `scale` or `log_scale`, as given (TFP's variable
# names); the multiplier and log|scale| are derived from it on each call.
scale_uses_log <- function(bijector) {
  identical(.subset2(bijector, "parameter_name"), "log_scale")
}

# Training or trainable_parameters<- may have set a zero scale (or a
# log_scale whose exp() is 0 or Inf): refused, as the constructor does.
scale_multiplier <- function(bijector) {
  multiplier <- if (scale_uses_log(bijector)) {
    exp(elementwise_parameter(bijector))
  } else {
    elementwise_parameter_copy(bijector)
  }
  if (any(multiplier == 0 | !is.finite(multiplier))) {
    abort_bijectors("scale", sprintf(paste(
      "The scale of bijector \"%s\" is %s: a zero or infinite scale is",
      "not invertible."), .subset2(bijector, "name"),
      format_values(multiplier)))
  }
  multiplier
}

scale_log_abs <- function(bijector) {
  if (scale_uses_log(bijector)) {
    elementwise_parameter_copy(bijector)
  } else {
    log(abs(elementwise_parameter(bijector)))
  }
}

# `b$scale` and `b$log_scale`: the trainable array (the other one NULL, as
# given), handed out as a copy; `b$parameters` the constructor's values.
#' @export
object_field_names.tfb_scale <- function(x) {
  c(NextMethod(), "scale", "log_scale", "parameters")
}

#' @export
object_field.tfb_scale <- function(x, name) {
  switch(name,
    scale = ,
    log_scale = if (identical(.subset2(x, "parameter_name"), name)) {
      elementwise_parameter(x)
    },
    parameters = {
      values <- list(NULL, NULL, .subset2(x, "validate_args"),
                     .subset2(x, "name"))
      names(values) <- c("scale", "log_scale", "validate_args", "name")
      values[[.subset2(x, "parameter_name")]] <- elementwise_parameter(x)
      values
    },
    NextMethod()
  )
}

#' @export
bijector_forward.tfb_scale <- function(bijector, x) {
  x <- as_input_array(x, "x")
  dims <- input_dims(x)
  check_parameter_fits(elementwise_parameter(bijector), dims, "scale", "x")
  x * along_last_axis(scale_multiplier(bijector), dims)
}

#' @export
bijector_inverse.tfb_scale <- function(bijector, y) {
  y <- as_input_array(y, "y")
  dims <- input_dims(y)
  check_parameter_fits(elementwise_parameter(bijector), dims, "scale", "y")
  y / along_last_axis(scale_multiplier(bijector), dims)
}

# The forward log-det, summed over the event as TFP reduces it.
scale_log_det <- function(bijector, x, event_ndims, arg) {
  x <- as_input_array(x, arg)
  dims <- input_dims(x)
  event_ndims <- check_event_ndims(event_ndims, 0L, length(dims), arg)
  check_parameter_fits(elementwise_parameter(bijector), dims, "scale", arg)
  log_abs_scale <- scale_log_abs(bijector)
  if (length(log_abs_scale) == 1L) {
    return(log_abs_scale * log_det_multiplier(dims, event_ndims, 0L))
  }
  if (event_ndims >= 1L) {
    return(sum(log_abs_scale) * log_det_multiplier(dims, event_ndims, 1L))
  }
  log_det <- along_last_axis(log_abs_scale, dims)
  if (length(dims) > 1L) {
    dim(log_det) <- dims
  }
  log_det
}

#' @export
bijector_forward_log_det_jacobian.tfb_scale <- function(bijector, x,
                                                        event_ndims) {
  scale_log_det(bijector, x, event_ndims, "x")
}

#' @export
bijector_inverse_log_det_jacobian.tfb_scale <- function(bijector, y,
                                                        event_ndims) {
  -scale_log_det(bijector, y, event_ndims, "y")
}

#' @export
format.tfb_scale <- function(x, ...) {
  c(NextMethod(), sprintf("  %s: %s", .subset2(x, "parameter_name"),
                          format_values(elementwise_parameter(x))))
}

# ---- training ------------------------------------------------------------

#' @export
bijector_parameter_slots.tfb_scale <- function(bijector) {
  name <- .subset2(bijector, "parameter_name")
  elementwise_parameter_slots(
    bijector, name,
    constraint = if (name == "log_scale") "log_positive" else "nonzero")
}

# Forward (sign 1): y = x * m, log-det +log|m| summed over the event.
# Inverse (sign -1): x = y / m, log-det -log|m| summed likewise. The cache
# keeps the pass's input (shared with the step before it, no copy), the
# multiplier (a small copy) and what the log-det's reduction was.
scale_with_cache <- function(bijector, input, event_ndims, arg, sign) {
  input <- as_input_array(input, arg)
  log_det <- scale_log_det(bijector, input, event_ndims, arg)
  dims <- input_dims(input)
  multiplier <- scale_multiplier(bijector)
  output <- if (sign > 0) input * along_last_axis(multiplier, dims) else
    input / along_last_axis(multiplier, dims)
  list(output = output, log_det = if (sign > 0) log_det else -log_det,
       cache = list(input = input, dims = dims, multiplier = multiplier,
                    event_ndims = as.integer(event_ndims)))
}

# d log|m_j| / d m_j = 1 / m_j; the log-det's gradient with respect to m_j
# is the upstream gradient of every log-det term that contains log|m_j|:
# a single log-det counts it once per element of the event (scalar m) or
# once per element of the other event axes (vector m); an elementwise
# log-det (event_ndims 0) has one term per element of slice j.
scale_backward <- function(bijector, cache, grad_output, grad_log_det, sign) {
  multiplier <- cache$multiplier
  size <- length(multiplier)
  dims <- cache$dims
  if (sign > 0) {
    # y = x * m: dL/dx = g * m, dL/dm_j = sum_j(g * x)
    grad_input <- grad_output * along_last_axis(multiplier, dims)
    grad_multiplier <- sum_to_parameter(grad_output * cache$input, size, dims)
  } else {
    # x = y / m: dL/dy = g / m, dL/dm_j = -sum_j(g * y) / m_j^2
    grad_input <- grad_output / along_last_axis(multiplier, dims)
    grad_multiplier <- -sum_to_parameter(grad_input * cache$input, size,
                                         dims) / multiplier
  }
  if (size == 1L) {
    count <- sum(grad_log_det) *
      log_det_multiplier(dims, cache$event_ndims, 0L)
  } else if (cache$event_ndims >= 1L) {
    count <- sum(grad_log_det) *
      log_det_multiplier(dims, cache$event_ndims, 1L)
  } else {
    count <- sum_to_parameter(grad_log_det, size, dims)
  }
  grad_multiplier <- grad_multiplier + sign * count / multiplier
  if (scale_uses_log(bijector)) {
    # m = exp(log_scale): dL/dlog_scale = m * dL/dm
    grad_multiplier <- grad_multiplier * multiplier
  }
  list(input = grad_input, parameters = list(grad_multiplier))
}

#' @export
bijector_inverse_with_cache.tfb_scale <- function(bijector, y, event_ndims) {
  pass <- scale_with_cache(bijector, y, event_ndims, "y", -1)
  list(x = pass$output, log_det = pass$log_det, cache = pass$cache)
}

#' @export
bijector_inverse_backward.tfb_scale <- function(bijector, cache, grad_x,
                                                grad_log_det) {
  scale_backward(bijector, cache, grad_x, grad_log_det, -1)
}

#' @export
bijector_forward_with_cache.tfb_scale <- function(bijector, x, event_ndims) {
  pass <- scale_with_cache(bijector, x, event_ndims, "x", 1)
  list(y = pass$output, log_det = pass$log_det, cache = pass$cache)
}

#' @export
bijector_forward_backward.tfb_scale <- function(bijector, cache, grad_y,
                                                grad_log_det) {
  scale_backward(bijector, cache, grad_y, grad_log_det, 1)
}
