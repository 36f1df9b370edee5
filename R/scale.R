# The scale bijector: y = x * scale, with a number or a vector along the last
# axis, given as `scale` or as `log_scale`; an elementwise kind
# (R/elementwise.R, src/scale.c, kernels "scale" and "log_scale").

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
#' @return A bijector of class `c("tfb_scale", "tfb_elementwise", "bijector")`
#'   with the methods
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
    parameters <- list(scale = check_elementwise_parameter(scale, "scale",
                                                           nonzero = TRUE))
    constraints <- c(scale = "nonzero")
  } else {
    log_scale <- check_elementwise_parameter(log_scale, "log_scale")
    multiplier <- exp(log_scale)
    if (any(multiplier == 0 | !is.finite(multiplier))) {
      abort_bijectors("scale", sprintf(paste(
        "`log_scale` must give a non-zero finite scale, but exp(log_scale)",
        "is %s."), format_values(multiplier)))
    }
    parameters <- list(log_scale = log_scale)
    constraints <- c(log_scale = "log_positive")
  }
  new_elementwise_bijector(
    "tfb_scale", names(parameters),
    parameters = parameters, constraints = constraints,
    public = c("scale", "log_scale"),
    validate_args = validate_args, name = name
  )
}
