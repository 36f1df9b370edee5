# The sigmoid bijector: y = 1 / (1 + exp(-x)), or scaled to (low, high); an
# elementwise kind (src/sigmoid.c, kernels "sigmoid" and "sigmoid_bounded").

#' Sigmoid bijector
#'
#' The bijector `y = 1 / (1 + exp(-x))` from the real line to (0, 1), as
#' tfprobability's `tfb_sigmoid()`; with `low` and `high`, TFP's
#' `Sigmoid(low, high)`: `y = low + (high - low) * sigmoid(x)` in (low, high).
#'
#' The numerics are TFP's in double precision: `exp(x)` below `x = -20`, a
#' stable softplus in the log-determinant `-softplus(-x) - softplus(x)`
#' (plus `log(high - low)`), each half of the bounded map computed from the
#' bound it approaches (so it never exceeds `high`), and the inverse
#' log-determinant derived through the inverse as TFP does, for accuracy.
#'
#' `low` and `high` are numbers or vectors with one value per feature along
#' the last axis of the input. They are fixed bounds, not trainable
#' parameters: an optimizer step could not keep `low < high`.
#'
#' @param validate_args `TRUE` or `FALSE`; accepted for compatibility (the
#'   arguments are always checked, inputs never, as in TFP).
#' @param name A string: the bijector's name.
#' @param low,high `NULL` (the default, the standard sigmoid), or both
#'   finite numbers or vectors with `low < high` elementwise.
#' @return A bijector of class `c("tfb_sigmoid", "tfb_elementwise",
#'   "bijector")` with the methods `$forward(x)`, `$inverse(y)`,
#'   `$forward_log_det_jacobian(x, event_ndims)` and
#'   `$inverse_log_det_jacobian(y, event_ndims)` and the fields `$low` and
#'   `$high`; its minimum event ndims are 0.
#' @family elementwise bijectors
#' @seealso `tfprobability::tfb_sigmoid()`; [tfb_exp()], [tfb_chain()].
#' @examples
#' b <- tfb_sigmoid()
#' b$forward(c(-10, 0, 10))
#' b$inverse(0.25)
#' b$forward_log_det_jacobian(c(-1, 0, 1), event_ndims = 1)
#' bounded <- tfb_sigmoid(low = c(-5, 0), high = c(5, 1))
#' bounded$forward(matrix(c(-3, 0, 3, 2, -2, 0), ncol = 2))
#' @export
tfb_sigmoid <- function(validate_args = FALSE, name = "sigmoid", low = NULL,
                        high = NULL) {
  if (is.null(low) != is.null(high)) {
    abort_bijectors("argument", sprintf(paste(
      "Either both or neither of `low` and `high` must be given to",
      "tfb_sigmoid(), not only `%s`."), if (is.null(low)) "high" else "low"))
  }
  if (is.null(low)) {
    return(new_elementwise_bijector(
      "tfb_sigmoid", "sigmoid", public = c("low", "high"),
      validate_args = validate_args, name = name))
  }
  low <- check_elementwise_parameter(low, "low")
  high <- check_elementwise_parameter(high, "high")
  if (length(low) > 1L && length(high) > 1L && length(low) != length(high)) {
    abort_bijectors("event_size", sprintf(paste(
      "`low` and `high` must have the same length when both are vectors,",
      "not %d and %d."), length(low), length(high)))
  }
  if (any(low >= high)) {
    abort_bijectors("argument", paste(
      "`low` must be less than `high` (elementwise): tfb_sigmoid() is not",
      "defined when `low` >= `high`."))
  }
  new_elementwise_bijector(
    "tfb_sigmoid", "sigmoid_bounded",
    parameters = list(low = low, high = high),
    constraints = c(low = "real", high = "real"),
    trainable = c(low = FALSE, high = FALSE),
    validate_args = validate_args, name = name)
}
