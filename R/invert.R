# Invert: a bijector with the directions of another swapped.

#' Invert a bijector
#'
#' Swaps the forward and inverse directions of `bijector`, as tfprobability's
#' `tfb_invert()`: `forward(x)` is `bijector`'s inverse, `inverse(y)` is its
#' forward map, the forward log-determinant at `x` is `bijector`'s inverse
#' log-determinant at `x`, and the inverse log-determinant at `y` is
#' `bijector`'s forward log-determinant at `y`. The minimum event ndims are
#' swapped too.
#'
#' The inverted bijector shares `bijector` (and so, for batch normalization,
#' its layer). Note that inverting a batch-normalization bijector makes its
#' normalizing direction the forward one: `tfb_invert(b)$forward(x)` updates
#' the running statistics of a training-mode `b`.
#'
#' @param bijector A bijector.
#' @param validate_args `TRUE` or `FALSE`; accepted for compatibility.
#' @param name A string, or `NULL` for `"invert_"` followed by `bijector`'s
#'   name (TFP's default).
#' @return A bijector of class `c("tfb_invert", "bijector")` with the methods
#'   `$forward(x)`, `$inverse(y)`, `$forward_log_det_jacobian(x, event_ndims)`
#'   and `$inverse_log_det_jacobian(y, event_ndims)` and the field `$bijector`.
#' @family bijectors
#' @seealso `tfprobability::tfb_invert()`; [tfb_chain()].
#' @examples
#' b <- tfb_invert(tfb_scale(2))
#' b$forward(c(2, 4))                          # halves
#' b$forward_log_det_jacobian(c(2, 4), event_ndims = 1)   # -2 * log(2)
#' b
#' @export
tfb_invert <- function(bijector, validate_args = FALSE, name = NULL) {
  check_bijector(bijector)
  name <- check_string(name, "name", null_ok = TRUE) %||%
    paste0("invert_", .subset2(bijector, "name"))
  new_bijector(
    "tfb_invert",
    name = name,
    forward_min_event_ndims = .subset2(bijector, "inverse_min_event_ndims"),
    inverse_min_event_ndims = .subset2(bijector, "forward_min_event_ndims"),
    validate_args = check_flag(validate_args, "validate_args"),
    bijector = bijector
  )
}

#' @export
bijector_forward.tfb_invert <- function(bijector, x) {
  bijector_inverse(.subset2(bijector, "bijector"), x)
}

#' @export
bijector_inverse.tfb_invert <- function(bijector, y) {
  bijector_forward(.subset2(bijector, "bijector"), y)
}

#' @export
bijector_forward_log_det_jacobian.tfb_invert <- function(bijector, x,
                                                         event_ndims) {
  bijector_inverse_log_det_jacobian(.subset2(bijector, "bijector"), x,
                                    event_ndims)
}

#' @export
bijector_inverse_log_det_jacobian.tfb_invert <- function(bijector, y,
                                                         event_ndims) {
  bijector_forward_log_det_jacobian(.subset2(bijector, "bijector"), y,
                                    event_ndims)
}

# The inner bijector's forward map at y and its forward log-det at y. The
# log-det goes first: it checks event_ndims before the forward map builds
# anything (a batch-normalization layer builds on its first input).
#' @export
bijector_inverse_and_log_det.tfb_invert <- function(bijector, y,
                                                    event_ndims) {
  step <- bijector_forward_and_log_det(.subset2(bijector, "bijector"), y,
                                       event_ndims)
  list(x = step$y, log_det = step$log_det)
}

#' @export
bijector_forward_and_log_det.tfb_invert <- function(bijector, x,
                                                    event_ndims) {
  step <- bijector_inverse_and_log_det(.subset2(bijector, "bijector"), x,
                                       event_ndims)
  list(y = step$x, log_det = step$log_det)
}

#' @export
format.tfb_invert <- function(x, ...) {
  c(NextMethod(), "  of:",
    paste0("    ", format(.subset2(x, "bijector"), ...)))
}

# ---- training ------------------------------------------------------------

# Invert(b)'s inverse pass is b's forward pass and its backward is b's
# forward backward; the parameters are b's, unprefixed.

#' @export
bijector_parameter_slots.tfb_invert <- function(bijector) {
  bijector_parameter_slots(.subset2(bijector, "bijector"))
}

#' @export
bijector_inverse_with_cache.tfb_invert <- function(bijector, y, event_ndims) {
  pass <- bijector_forward_with_cache(.subset2(bijector, "bijector"), y,
                                      event_ndims)
  list(x = pass$y, log_det = pass$log_det, cache = pass$cache)
}

#' @export
bijector_inverse_backward.tfb_invert <- function(bijector, cache, grad_x,
                                                 grad_log_det) {
  bijector_forward_backward(.subset2(bijector, "bijector"), cache, grad_x,
                            grad_log_det)
}

#' @export
bijector_forward_with_cache.tfb_invert <- function(bijector, x, event_ndims) {
  pass <- bijector_inverse_with_cache(.subset2(bijector, "bijector"), x,
                                      event_ndims)
  list(y = pass$x, log_det = pass$log_det, cache = pass$cache)
}

#' @export
bijector_forward_backward.tfb_invert <- function(bijector, cache, grad_y,
                                                 grad_log_det) {
  bijector_inverse_backward(.subset2(bijector, "bijector"), cache, grad_y,
                            grad_log_det)
}

# The density direction of Invert(b) runs b forward, so its layers come in
# b's forward order: the reverse of b's inverse order.
#' @export
bijector_batchnorm_layers.tfb_invert <- function(bijector) {
  rev(bijector_batchnorm_layers(.subset2(bijector, "bijector")))
}

#' @export
bijector_children.tfb_invert <- function(bijector) {
  list(.subset2(bijector, "bijector"))
}

#' @export
bijector_with_children.tfb_invert <- function(bijector, children) {
  tfb_invert(children[[1L]], validate_args = .subset2(bijector, "validate_args"),
             name = .subset2(bijector, "name"))
}

# Batch normalization under tfb_invert() keeps its running statistics: the
# density direction runs it forward, which has no batch statistics of its
# own to take, so this is the forward of the evaluation-mode inner bijector.
#' @export
bijector_recompute_statistics.tfb_invert <- function(bijector, y) {
  bijector_forward(bijector_with_mode(.subset2(bijector, "bijector"), FALSE),
                   y)
}

#' @export
object_field_names.tfb_invert <- function(x) {
  c(NextMethod(), "bijector")
}

#' @export
bijector_is_constant_jacobian.tfb_invert <- function(bijector) {
  children_have_constant_jacobian(bijector)
}
