# The tanh bijector: y = tanh(x); an elementwise kind (src/tanh.c).

#' Tanh bijector
#'
#' The bijector `y = tanh(x)` from the real line to (-1, 1), as
#' tfprobability's `tfb_tanh()` (TFP's `Tanh`); its inverse is
#' `x = atanh(y)`, with -1 and 1 mapped to `-Inf` and `Inf`. The forward
#' log-determinant is `log(1 - tanh(x)^2)`, the inverse one its negative at
#' `atanh(y)` (derived through the inverse, as TFP does, rather than
#' `-log1p(-y^2)`), each summed over the last `event_ndims` axes.
#'
#' The forward log-determinant is computed as `-2 * log(cosh(x))` with an
#' accurate `log(cosh())` (see [tfb_sinh()]): the same value as TFP's
#' `2 * (log(2) - x - softplus(-2 * x))`, which cancels for small `x`.
#'
#' @param validate_args `TRUE` or `FALSE`; accepted for compatibility: as in
#'   TFP, nothing is checked (an input `abs(y) > 1` gives `NaN`).
#' @param name A string: the bijector's name.
#' @return A bijector of class `c("tfb_tanh", "tfb_elementwise",
#'   "bijector")` with the methods `$forward(x)`, `$inverse(y)`,
#'   `$forward_log_det_jacobian(x, event_ndims)` and
#'   `$inverse_log_det_jacobian(y, event_ndims)`; its minimum event ndims are
#'   0 and it has no parameters.
#' @family elementwise bijectors
#' @seealso `tfprobability::tfb_tanh()`; [tfb_sigmoid()], [tfb_chain()].
#' @examples
#' b <- tfb_tanh()
#' x <- matrix(c(-3, 0, 1, 3), ncol = 2)
#' b$forward(x)
#' b$inverse(b$forward(x))
#' b$forward_log_det_jacobian(x, event_ndims = 0)
#' @export
tfb_tanh <- function(validate_args = FALSE, name = "tanh") {
  new_elementwise_bijector("tfb_tanh", "tanh", validate_args = validate_args,
                           name = name)
}
