# The expm1 bijector: y = exp(x) - 1; an elementwise kind (src/expm1.c).

#' Expm1 bijector
#'
#' The bijector `y = exp(x) - 1` from the real line to (-1, Inf), as
#' tfprobability's `tfb_expm1()` (TFP's `Expm1`); its inverse is
#' `x = log1p(y)` (TFP's `Log1p` is its inversion, [tfb_invert()]).
#' The forward log-determinant is `x`, the inverse log-determinant
#' `-log1p(y)`, each summed over the last `event_ndims` axes. Both maps use
#' C's `expm1()` and `log1p()`, accurate near 0.
#'
#' @param validate_args `TRUE` or `FALSE`; accepted for compatibility: as in
#'   TFP, nothing is checked (an input `y < -1` gives `NaN`).
#' @param name A string: the bijector's name.
#' @return A bijector of class `c("tfb_expm1", "tfb_elementwise",
#'   "bijector")` with the methods `$forward(x)`, `$inverse(y)`,
#'   `$forward_log_det_jacobian(x, event_ndims)` and
#'   `$inverse_log_det_jacobian(y, event_ndims)`; its minimum event ndims are
#'   0 and it has no parameters.
#' @family elementwise bijectors
#' @seealso `tfprobability::tfb_expm1()`; [tfb_exp()], [tfb_chain()].
#' @examples
#' b <- tfb_expm1()
#' x <- matrix(c(-1, 1.4, 1e-10, 2), ncol = 2)
#' b$forward(x)
#' b$inverse(b$forward(x))
#' b$forward_log_det_jacobian(x, event_ndims = 1)   # rowSums(x)
#' b$inverse_log_det_jacobian(c(-0.5, 3), event_ndims = 0)
#' @export
tfb_expm1 <- function(validate_args = FALSE, name = "expm1") {
  new_elementwise_bijector("tfb_expm1", "expm1", validate_args = validate_args,
                           name = name)
}
