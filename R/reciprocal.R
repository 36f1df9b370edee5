# The reciprocal bijector: y = 1 / x; an elementwise kind
# (src/reciprocal.c).

#' Reciprocal bijector
#'
#' The bijector `y = 1 / x` on the non-zero reals, as tfprobability's
#' `tfb_reciprocal()` (TFP's `Reciprocal`). It is its own inverse, and it is
#' **decreasing**. Both log-determinants are `-2 * log(abs(t))` at the
#' method's own input `t`, summed over the last `event_ndims` axes.
#'
#' @param validate_args `TRUE` or `FALSE`: with `TRUE`, all four methods
#'   check that their input has no zeros (an error of class
#'   `bijectors_error_domain`); with `FALSE` a zero gives `Inf` (and an
#'   infinite log-determinant).
#' @param name A string: the bijector's name.
#' @return A bijector of class `c("tfb_reciprocal", "tfb_elementwise",
#'   "bijector")` with the methods `$forward(x)`, `$inverse(y)`,
#'   `$forward_log_det_jacobian(x, event_ndims)` and
#'   `$inverse_log_det_jacobian(y, event_ndims)`; its minimum event ndims are
#'   0 and it has no parameters.
#' @family elementwise bijectors
#' @seealso `tfprobability::tfb_reciprocal()`; [tfb_chain()].
#' @examples
#' b <- tfb_reciprocal()
#' x <- matrix(c(1, 4, 2, 5), ncol = 2)
#' b$forward(x)
#' b$inverse(b$forward(x))
#' b$forward_log_det_jacobian(c(-2, 0.5, 4), event_ndims = 0)
#' @export
tfb_reciprocal <- function(validate_args = FALSE, name = "reciprocal") {
  new_elementwise_bijector("tfb_reciprocal", "reciprocal",
                           validate_args = validate_args, name = name)
}

# TFP asserts a non-zero input in all four methods.
#' @export
elementwise_check_domain.tfb_reciprocal <- function(bijector, x, direction,
                                                    arg) {
  if (any(x == 0, na.rm = TRUE)) {
    abort_bijectors("domain", sprintf(
      "All elements must be non-zero: `%s` has zeros.", arg))
  }
  invisible()
}
