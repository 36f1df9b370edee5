# The ordered bijector: TFP's deprecated (0.12) and removed (0.17) kind, the
# inverse of tfb_ascending(). It runs the ascending arithmetic the other way.

#' Ordered bijector (deprecated)
#'
#' Maps strictly increasing vectors onto \eqn{R^K}, as tfprobability's
#' `tfb_ordered()` (TFP's `Ordered`, deprecated in TFP 0.12 and removed in
#' 0.17): \eqn{y_1 = x_1}{y[1] = x[1]},
#' \eqn{y_k = \log(x_k - x_{k-1})}{y[k] = log(x[k] - x[k - 1])}; the inverse
#' is `cumsum(c(y[1], exp(y[-1])))`. The forward log-determinant is
#' \eqn{-\sum_{k \ge 2} \log(x_k - x_{k-1})}{-sum(log(diff(x)))}, the inverse
#' one \eqn{\sum_{k \ge 2} y_k}{sum(y[-1])}. It is
#' `tfb_invert(tfb_ascending())`, which should be used instead: the first
#' call in a session says so (a message of class `bijectors_deprecated`).
#'
#' Events are vectors along the last axis; an `N x K` matrix holds one event
#' per row (TFP's row-major order, DESIGN 9).
#'
#' @param validate_args `TRUE` or `FALSE`: with `TRUE` the forward map and
#'   its log-determinant refuse inputs that are not strictly increasing (an
#'   error of class `bijectors_error_domain`).
#' @param name A string: the bijector's name.
#' @return A bijector of class `c("tfb_ordered", "bijector")` with
#'   `forward_min_event_ndims = inverse_min_event_ndims = 1`.
#' @family structural bijectors
#' @seealso `tfprobability::tfb_ordered()`; [tfb_ascending()] and
#'   [tfb_invert()], its replacement.
#' @examples
#' b <- tfb_ordered()
#' b$forward(rbind(c(2, 3, 4), c(4, 8, 13)))   # rows 2 0 0 and 4 log(4) log(5)
#' b$inverse(c(2, 0, 0))
#' @export
tfb_ordered <- function(validate_args = FALSE, name = "ordered") {
  validate_args <- check_flag(validate_args, "validate_args")
  name <- check_string(name, "name")
  deprecate_once("tfb_ordered", "tfb_invert(tfb_ascending())")
  new_bijector("tfb_ordered", name = name, forward_min_event_ndims = 1L,
               validate_args = validate_args)
}

ordered_message <- "Forward transformation input"

#' @export
bijector_forward.tfb_ordered <- function(bijector, x) {
  ascending_inverse(x, "x", validate = .subset2(bijector, "validate_args"),
                    message = ordered_message)
}

#' @export
bijector_inverse.tfb_ordered <- function(bijector, y) {
  ascending_forward(y, "y")
}

#' @export
bijector_forward_log_det_jacobian.tfb_ordered <- function(bijector, x,
                                                          event_ndims) {
  ascending_ildj(x, event_ndims, "x",
                 validate = .subset2(bijector, "validate_args"),
                 message = ordered_message)
}

#' @export
bijector_inverse_log_det_jacobian.tfb_ordered <- function(bijector, y,
                                                          event_ndims) {
  ascending_fldj(y, event_ndims, "y")
}

#' @export
bijector_forward_with_cache.tfb_ordered <- function(bijector, x,
                                                    event_ndims) {
  pass <- ascending_with_cache(as_input_array(x, "x"), event_ndims, "x",
                               forward = FALSE,
                               validate = .subset2(bijector, "validate_args"),
                               message = ordered_message)
  list(y = pass$output, log_det = pass$log_det, cache = pass$cache)
}

#' @export
bijector_forward_backward.tfb_ordered <- function(bijector, cache, grad_y,
                                                  grad_log_det) {
  list(input = ascending_inverse_vjp(cache, grad_y, grad_log_det),
       parameters = list())
}

#' @export
bijector_inverse_with_cache.tfb_ordered <- function(bijector, y,
                                                    event_ndims) {
  pass <- ascending_with_cache(as_input_array(y, "y"), event_ndims, "y",
                               forward = TRUE)
  list(x = pass$output, log_det = pass$log_det, cache = pass$cache)
}

#' @export
bijector_inverse_backward.tfb_ordered <- function(bijector, cache, grad_x,
                                                  grad_log_det) {
  list(input = ascending_forward_vjp(cache, grad_x, grad_log_det),
       parameters = list())
}
