# The exp bijector: y = exp(x); an elementwise kind (src/exp.c).

#' Exp bijector
#'
#' The bijector `y = exp(x)`, as tfprobability's `tfb_exp()` (TFP's `Exp`).
#' The forward log-determinant is `x`, the inverse log-determinant
#' `-log(y)`, each summed over the last `event_ndims` axes.
#'
#' @param validate_args `TRUE` or `FALSE`: with `TRUE`, the inverse and its
#'   log-determinant check that `y >= 0` (an error of class
#'   `bijectors_error_domain`); with `FALSE` a negative `y` gives `NaN`.
#' @param name A string: the bijector's name.
#' @return A bijector of class `c("tfb_exp", "tfb_elementwise", "bijector")`
#'   with the methods `$forward(x)`, `$inverse(y)`,
#'   `$forward_log_det_jacobian(x, event_ndims)` and
#'   `$inverse_log_det_jacobian(y, event_ndims)`; its minimum event ndims are
#'   0 and it has no parameters.
#' @family elementwise bijectors
#' @seealso `tfprobability::tfb_exp()`; [tfb_sigmoid()], [tfb_chain()].
#' @examples
#' b <- tfb_exp()
#' x <- matrix(c(-1, 0, 1, 2), ncol = 2)
#' b$forward(x)
#' b$inverse(b$forward(x))
#' b$forward_log_det_jacobian(x, event_ndims = 1)   # rowSums(x)
#' b$inverse_log_det_jacobian(exp(x), event_ndims = 0)
#' @export
tfb_exp <- function(validate_args = FALSE, name = "exp") {
  new_elementwise_bijector("tfb_exp", "exp", validate_args = validate_args,
                           name = name)
}

# TFP asserts y >= 0 in the inverse (and so in its log-det).
#' @export
elementwise_check_domain.tfb_exp <- function(bijector, x, direction, arg) {
  if (direction == "inverse" && any(x < 0, na.rm = TRUE)) {
    abort_bijectors("domain", sprintf(paste(
      "Inverse transformation input must be greater than or equal to 0:",
      "`%s` has negative values."), arg))
  }
  invisible()
}
