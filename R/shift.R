# The shift bijector: y = x + shift, with a number or a vector along the last
# axis; an elementwise kind (R/elementwise.R, src/shift.c).

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
#' @return A bijector of class `c("tfb_shift", "tfb_elementwise",
#'   "bijector")` with the methods `$forward(x)`, `$inverse(y)`,
#'   `$forward_log_det_jacobian(x, event_ndims)` and
#'   `$inverse_log_det_jacobian(y, event_ndims)` and the field `$shift`; its
#'   minimum event ndims are 0.
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
  new_elementwise_bijector(
    "tfb_shift", "shift",
    parameters = list(shift = check_elementwise_parameter(shift, "shift")),
    constraints = c(shift = "real"),
    validate_args = validate_args, name = name
  )
}
