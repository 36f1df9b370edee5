# The identity bijector: y = x, log-dets 0.

#' Identity bijector
#'
#' The bijector that maps every input to itself, as tfprobability's
#' `tfb_identity()`. Both log-determinants are 0.
#'
#' @param validate_args `TRUE` or `FALSE`; accepted for compatibility with
#'   tfprobability (the identity has nothing to check).
#' @param name A string: the bijector's name.
#' @return A bijector of class `c("tfb_identity", "bijector")` with the methods
#'   `$forward(x)`, `$inverse(y)`, `$forward_log_det_jacobian(x, event_ndims)`
#'   and `$inverse_log_det_jacobian(y, event_ndims)`; its minimum event ndims
#'   are 0.
#' @family bijectors
#' @seealso `tfprobability::tfb_identity()`; [tfb_chain()] (an empty chain is
#'   also the identity).
#' @examples
#' b <- tfb_identity()
#' b$forward(c(1, 2, 3))
#' b$inverse_log_det_jacobian(matrix(1:6, ncol = 2), event_ndims = 1)
#' @export
tfb_identity <- function(validate_args = FALSE, name = "identity") {
  new_bijector(
    "tfb_identity",
    name = check_string(name, "name"),
    forward_min_event_ndims = 0L,
    validate_args = check_flag(validate_args, "validate_args")
  )
}

#' @export
bijector_forward.tfb_identity <- function(bijector, x) {
  as_input_array(x, "x")
}

#' @export
bijector_inverse.tfb_identity <- function(bijector, y) {
  as_input_array(y, "y")
}

#' @export
bijector_forward_log_det_jacobian.tfb_identity <- function(bijector, x,
                                                           event_ndims) {
  x <- as_input_array(x, "x")
  check_event_ndims(event_ndims, 0L, length(input_dims(x)), "x")
  0
}

#' @export
bijector_inverse_log_det_jacobian.tfb_identity <- function(bijector, y,
                                                           event_ndims) {
  y <- as_input_array(y, "y")
  check_event_ndims(event_ndims, 0L, length(input_dims(y)), "y")
  0
}

# ---- training ------------------------------------------------------------

# No parameters, log-det 0: the gradient passes through unchanged.

#' @export
bijector_inverse_with_cache.tfb_identity <- function(bijector, y,
                                                     event_ndims) {
  log_det <- bijector_inverse_log_det_jacobian(bijector, y, event_ndims)
  list(x = as_input_array(y, "y"), log_det = log_det, cache = NULL)
}

#' @export
bijector_inverse_backward.tfb_identity <- function(bijector, cache, grad_x,
                                                   grad_log_det) {
  list(input = grad_x, parameters = list())
}

#' @export
bijector_forward_with_cache.tfb_identity <- function(bijector, x,
                                                     event_ndims) {
  log_det <- bijector_forward_log_det_jacobian(bijector, x, event_ndims)
  list(y = as_input_array(x, "x"), log_det = log_det, cache = NULL)
}

#' @export
bijector_forward_backward.tfb_identity <- function(bijector, cache, grad_y,
                                                   grad_log_det) {
  list(input = grad_y, parameters = list())
}
