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
    scale <- check_elementwise_parameter(scale, "scale", nonzero = TRUE)
    multiplier <- scale
    log_abs_scale <- log(abs(scale))
  } else {
    log_scale <- check_elementwise_parameter(log_scale, "log_scale")
    multiplier <- exp(log_scale)
    if (any(multiplier == 0 | !is.finite(multiplier))) {
      abort_bijectors("scale", sprintf(paste(
        "`log_scale` must give a non-zero finite scale, but exp(log_scale)",
        "is %s."), format_values(multiplier)))
    }
    log_abs_scale <- log_scale
  }
  new_bijector(
    "tfb_scale",
    name = check_string(name, "name"),
    forward_min_event_ndims = 0L,
    validate_args = check_flag(validate_args, "validate_args"),
    scale = scale,
    log_scale = log_scale,
    multiplier = multiplier,
    log_abs_scale = log_abs_scale
  )
}

#' @export
bijector_forward.tfb_scale <- function(bijector, x) {
  x <- as_input_array(x, "x")
  dims <- input_dims(x)
  multiplier <- .subset2(bijector, "multiplier")
  check_parameter_fits(multiplier, dims, "scale", "x")
  x * along_last_axis(multiplier, dims)
}

#' @export
bijector_inverse.tfb_scale <- function(bijector, y) {
  y <- as_input_array(y, "y")
  dims <- input_dims(y)
  multiplier <- .subset2(bijector, "multiplier")
  check_parameter_fits(multiplier, dims, "scale", "y")
  y / along_last_axis(multiplier, dims)
}

# The forward log-det, summed over the event as TFP reduces it.
scale_log_det <- function(bijector, x, event_ndims, arg) {
  x <- as_input_array(x, arg)
  dims <- input_dims(x)
  event_ndims <- check_event_ndims(event_ndims, 0L, length(dims), arg)
  log_abs_scale <- .subset2(bijector, "log_abs_scale")
  check_parameter_fits(log_abs_scale, dims, "scale", arg)
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
  log_scale <- .subset2(x, "log_scale")
  c(NextMethod(), if (is.null(log_scale)) {
    paste0("  scale: ", format_values(.subset2(x, "scale")))
  } else {
    paste0("  log_scale: ", format_values(log_scale))
  })
}
