# The square bijector: y = x^2 on [0, Inf); an elementwise kind
# (src/square.c).

#' Square bijector
#'
#' The bijector `y = x^2` of the non-negative reals, as tfprobability's
#' `tfb_square()` (TFP's `Square`); its inverse is the positive root
#' `x = sqrt(y)`. The forward log-determinant is `log(2 * x)`, the inverse
#' one `-log(2 * sqrt(y))`, each summed over the last `event_ndims` axes.
#'
#' As in TFP, this is a bijection of `[0, Inf)`, not the non-injective map
#' of the whole line (for that, see [tfb_absolute_value()]'s two branches):
#' with `validate_args = FALSE` a negative `x` still maps to `x^2`, but its
#' log-determinant is `NaN`, and the inverse never returns a negative `x`.
#'
#' The log-determinants are TFP's values, computed as `log(2 * x)` and
#' `-log(4 * y) / 2` (exact products). TFP derives the inverse one as
#' `-log(2) - log(sqrt(y))`, which cancels near `y = 1/4` and keeps the
#' rounding error of `sqrt(y)` there.
#'
#' @param validate_args `TRUE` or `FALSE`: with `TRUE`, every method checks
#'   that its input is non-negative (an error of class
#'   `bijectors_error_domain`).
#' @param name A string: the bijector's name.
#' @return A bijector of class `c("tfb_square", "tfb_elementwise",
#'   "bijector")` with the methods `$forward(x)`, `$inverse(y)`,
#'   `$forward_log_det_jacobian(x, event_ndims)` and
#'   `$inverse_log_det_jacobian(y, event_ndims)`; its minimum event ndims are
#'   0 and it has no parameters.
#' @family elementwise bijectors
#' @seealso `tfprobability::tfb_square()`; [tfb_absolute_value()],
#'   [tfb_chain()].
#' @examples
#' b <- tfb_square()
#' b$forward(matrix(c(1, 2, 0, 1), ncol = 2))
#' b$inverse(matrix(c(1, 9, 4, 1), ncol = 2))
#' b$inverse_log_det_jacobian(c(1, 25, 4), event_ndims = 0)
#' @export
tfb_square <- function(validate_args = FALSE, name = "square") {
  new_elementwise_bijector("tfb_square", "square",
                           validate_args = validate_args, name = name)
}

# TFP asserts a non-negative input in the forward map, the inverse and the
# forward log-det (so in the inverse log-det too, which it derives).
#' @export
elementwise_check_domain.tfb_square <- function(bijector, x, direction,
                                                arg) {
  if (any(x < 0, na.rm = TRUE)) {
    abort_bijectors("domain", sprintf(
      "All elements must be non-negative: `%s` has negative values.", arg))
  }
  invisible()
}
