# The sinh bijector: y = sinh(x); an elementwise kind (src/sinh.c).

#' Sinh bijector
#'
#' The bijector `y = sinh(x)` of the real line, as tfprobability's
#' `tfb_sinh()` (TFP's `Sinh`); its inverse is `x = asinh(y)`. The forward
#' log-determinant is `log(cosh(x))`, the inverse log-determinant
#' `-log(cosh(asinh(y)))`, each summed over the last `event_ndims` axes.
#'
#' `log(cosh(x))` is computed to full relative precision: as
#' `log1p(2 * sinh(x / 2)^2)` for `|x| < 1` and as TFP's
#' `|x| + softplus(-2|x|) - log(2)` above. TFP's float64 form cancels for
#' small `x` and returns about `|x|` below `2.4e-50` (a TFP bug). The
#' inverse log-determinant goes through the inverse, as TFP's does, rather
#' than `-log1p(y^2) / 2`.
#'
#' @param validate_args `TRUE` or `FALSE`; accepted for compatibility (there
#'   is nothing to check: every real number is in the domain).
#' @param name A string: the bijector's name.
#' @return A bijector of class `c("tfb_sinh", "tfb_elementwise",
#'   "bijector")` with the methods `$forward(x)`, `$inverse(y)`,
#'   `$forward_log_det_jacobian(x, event_ndims)` and
#'   `$inverse_log_det_jacobian(y, event_ndims)`; its minimum event ndims are
#'   0 and it has no parameters.
#' @family elementwise bijectors
#' @seealso `tfprobability::tfb_sinh()`; [tfb_tanh()], [tfb_chain()].
#' @examples
#' b <- tfb_sinh()
#' x <- matrix(c(1, 3, 0, 2), ncol = 2)
#' b$forward(x)
#' b$inverse(b$forward(x))
#' b$forward_log_det_jacobian(c(-50, 1e-6, 1), event_ndims = 0)
#' @export
tfb_sinh <- function(validate_args = FALSE, name = "sinh") {
  new_elementwise_bijector("tfb_sinh", "sinh", validate_args = validate_args,
                           name = name)
}
