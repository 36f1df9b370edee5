# The softsign bijector: y = x / (1 + |x|); an elementwise kind
# (src/softsign.c).

#' Softsign bijector
#'
#' The bijector `y = x / (1 + abs(x))` from the real line to (-1, 1), as
#' tfprobability's `tfb_softsign()` (TFP's `Softsign`); its inverse is
#' `x = y / (1 - abs(y))`. The forward log-determinant is
#' `-2 * log1p(abs(x))`, the inverse one `-2 * log1p(-abs(y))` (TFP's two
#' formulas), each summed over the last `event_ndims` axes. As in TFP, the
#' forward map gives `sign(x)` once `abs(x) >= 1e20`, so that `Inf` maps to
#' 1, and the inverse maps -1 and 1 to `-Inf` and `Inf`.
#'
#' @param validate_args `TRUE` or `FALSE`: with `TRUE`, the inverse and its
#'   log-determinant check that `-1 <= y <= 1` (an error of class
#'   `bijectors_error_domain`); with `FALSE` other values give the formula's
#'   value (`inverse(2)` is -2) or `NaN`.
#' @param name A string: the bijector's name.
#' @return A bijector of class `c("tfb_softsign", "tfb_elementwise",
#'   "bijector")` with the methods `$forward(x)`, `$inverse(y)`,
#'   `$forward_log_det_jacobian(x, event_ndims)` and
#'   `$inverse_log_det_jacobian(y, event_ndims)`; its minimum event ndims are
#'   0 and it has no parameters.
#' @family elementwise bijectors
#' @seealso `tfprobability::tfb_softsign()`; [tfb_tanh()], [tfb_chain()].
#' @examples
#' b <- tfb_softsign()
#' b$forward(c(-3, -0.5, 0, 2, Inf))
#' b$inverse(c(-0.75, 0.5, 1))
#' b$forward_log_det_jacobian(matrix(c(-3, -0.5, 0, 2), 2), event_ndims = 1)
#' @export
tfb_softsign <- function(validate_args = FALSE, name = "softsign") {
  new_elementwise_bijector("tfb_softsign", "softsign",
                           validate_args = validate_args, name = name)
}

# TFP (>= 0.11) asserts -1 <= y <= 1 in the inverse and its log-det.
#' @export
elementwise_check_domain.tfb_softsign <- function(bijector, x, direction,
                                                  arg) {
  if (direction == "inverse" && any(x < -1, na.rm = TRUE)) {
    abort_bijectors("domain", sprintf(
      "Inverse transformation input must be >= -1: `%s` has values below -1.",
      arg))
  }
  if (direction == "inverse" && any(x > 1, na.rm = TRUE)) {
    abort_bijectors("domain", sprintf(
      "Inverse transformation input must be <= 1: `%s` has values above 1.",
      arg))
  }
  invisible()
}
