# The absolute value bijector: y = |x|, not injective; an elementwise kind
# (src/absolute_value.c) with TFP's two-branch inverse.

#' Absolute value bijector
#'
#' The map `y = abs(x)` from the real line to `[0, Inf)`, as tfprobability's
#' `tfb_absolute_value()` (TFP's `AbsoluteValue`). It is **not injective**,
#' and follows TFP's conventions for such maps:
#'
#' * `$inverse(y)` returns both preimages, as a list of two arrays shaped
#'   like `y`: `list(-y, y)` (TFP's tuple; multipart values are lists).
#'   `inverse(0)` is `list(-0, 0)`, not the single point 0.
#' * `$inverse_log_det_jacobian(y, event_ndims)` returns one log-determinant
#'   per branch, `list(0, 0)`: each a single 0 (TFP's scalar zero, not
#'   broadcast to `y`) whatever `event_ndims`.
#' * `$forward_log_det_jacobian()` is an error (class
#'   `bijectors_error_unsupported`): TFP does not define it for non-injective
#'   maps.
#'
#' Each branch is increasing or decreasing (TFP's `(FALSE, TRUE)`). A
#' transformed distribution over this bijector, which in TFP sums the
#' density over both branches, is not supported: its `log_prob()` and
#' training refuse it with an error of class `bijectors_error_unsupported`.
#'
#' @param validate_args `TRUE` or `FALSE`: with `TRUE`, the inverse and its
#'   log-determinant check that `y >= 0` (an error of class
#'   `bijectors_error_domain`); with `FALSE` a negative `y` returns
#'   `list(-y, y)`.
#' @param name A string: the bijector's name.
#' @return A bijector of class `c("tfb_absolute_value", "tfb_elementwise",
#'   "bijector")` with the methods `$forward(x)`, `$inverse(y)` (a list of
#'   two arrays) and `$inverse_log_det_jacobian(y, event_ndims)` (a list of
#'   two zeros); its minimum event ndims are 0 and it has no parameters.
#' @family elementwise bijectors
#' @seealso `tfprobability::tfb_absolute_value()`; [tfb_square()].
#' @examples
#' b <- tfb_absolute_value()
#' b$forward(c(-1, 0, 1))
#' b$inverse(1)
#' b$inverse(matrix(c(0, 1, 5, 3), ncol = 2))
#' b$inverse_log_det_jacobian(c(1, 2), event_ndims = 1)
#' @export
tfb_absolute_value <- function(validate_args = FALSE,
                               name = "absolute_value") {
  new_elementwise_bijector("tfb_absolute_value", "absolute_value",
                           validate_args = validate_args, name = name)
}

# TFP asserts y >= 0 in the inverse and its log-det.
#' @export
elementwise_check_domain.tfb_absolute_value <- function(bijector, x,
                                                        direction, arg) {
  if (direction == "inverse" && any(x < 0, na.rm = TRUE)) {
    abort_bijectors("domain", sprintf(
      "Argument y was negative: `%s` has negative values.", arg))
  }
  invisible()
}

# The kernel's inverse is the branch x >= 0; the other is its negative.
#' @export
bijector_inverse.tfb_absolute_value <- function(bijector, y) {
  positive <- NextMethod()
  list(-positive, positive)
}

# The kernel's log-det is a scalar zero: one per branch.
#' @export
bijector_inverse_log_det_jacobian.tfb_absolute_value <- function(
    bijector, y, event_ndims) {
  zero <- NextMethod()
  list(zero, zero)
}

absolute_value_unsupported <- function(what) {
  abort_bijectors("unsupported", sprintf(paste(
    "%s cannot be implemented for non-injective transforms such as",
    "tfb_absolute_value()."), what))
}

#' @export
bijector_forward_log_det_jacobian.tfb_absolute_value <- function(
    bijector, x, event_ndims) {
  absolute_value_unsupported("forward_log_det_jacobian")
}

# A density through both branches (TFP's sum over them) is not implemented
# in transformed distributions, chains or training.
#' @export
bijector_inverse_and_log_det.tfb_absolute_value <- function(bijector, y,
                                                            event_ndims) {
  absolute_value_unsupported("A density through both branches")
}

#' @export
bijector_inverse_with_cache.tfb_absolute_value <- function(bijector, y,
                                                           event_ndims) {
  absolute_value_unsupported("Training through both branches")
}

#' @export
bijector_forward_with_cache.tfb_absolute_value <- function(bijector, x,
                                                           event_ndims) {
  absolute_value_unsupported("forward_log_det_jacobian")
}
