# The softplus bijector: y = c * log(1 + exp(x / c)) + low; an elementwise
# kind (src/softplus.c, kernel "softplus_hinge").

#' Softplus bijector
#'
#' The bijector `y = c * log(1 + exp(x / c)) + low` with
#' `c = hinge_softness`, as tfprobability's `tfb_softplus()` (TFP's
#' `Softplus`), from the real line to `(low, Inf)` for `c > 0`, or to
#' `(-Inf, low)` for `c < 0` (the reflection `-f(-x)`, still increasing). A
#' smaller `|c|` sharpens the hinge at 0. The inverse is
#' `c * log(exp((y - low) / c) - 1)`; the log-determinants are TFP's
#' `-softplus(-x / c)` and `-log(1 - exp(-(y - low) / c))`.
#'
#' Numerics: TFP's stable softplus (`x / c` itself above 34) and
#' `softplus_inverse()`; where the result is `exp(x / c)` or
#' `exp(-(y - low) / c)` in a tail, the quotient is carried to twice double
#' precision, since its rounding error would be multiplied by its size.
#' `log1p` is computed with one `log()` (as `log(w) * u / (w - 1)`,
#' `w = 1 + u`), and the inverse `v + log(-expm1(-v))` as
#' `v + log1p(-exp(-v))` where `v >= 1`.
#'
#' A given `hinge_softness` is trainable (kept non-zero); with `NULL` the
#' bijector has none, as in TFP, and nothing to train. `low` is a fixed bound,
#' not trained: it is the edge of the range, and a step past any data point
#' would leave that point outside it. Each is a number or a vector with one
#' value per feature along the last axis of the input.
#'
#' @param hinge_softness A non-zero finite number or vector (trainable);
#'   `NULL` (the default) means TFP's plain softplus, the values of 1, with
#'   no trainable parameter.
#' @param low A finite number or vector: the lower bound of the range (its
#'   upper bound for a negative `hinge_softness`); `NULL` (the default)
#'   means 0.
#' @param validate_args `TRUE` or `FALSE`; accepted for compatibility (the
#'   parameters are always checked; TFP checks no inputs).
#' @param name A string: the bijector's name.
#' @return A bijector of class `c("tfb_softplus", "tfb_elementwise",
#'   "bijector")` with the methods `$forward(x)`, `$inverse(y)`,
#'   `$forward_log_det_jacobian(x, event_ndims)` and
#'   `$inverse_log_det_jacobian(y, event_ndims)` and the fields
#'   `$hinge_softness` and `$low` (the values in use); its minimum event
#'   ndims are 0.
#' @family elementwise bijectors
#' @seealso `tfprobability::tfb_softplus()`; [tfb_sigmoid()], [tfb_exp()].
#' @examples
#' b <- tfb_softplus()
#' b$forward(c(-20, -1, 0, 1, 20))
#' b$inverse(b$forward(c(-1, 0, 1)))
#' tfb_softplus(hinge_softness = 1.5, low = 1)$forward(c(-2, 0, 2))
#' b$forward_log_det_jacobian(c(-1, 0, 1), event_ndims = 1)
#' @export
tfb_softplus <- function(hinge_softness = NULL, low = NULL,
                         validate_args = FALSE, name = "softplus") {
  hinge_given <- hinge_softness
  hinge_softness <- check_elementwise_parameter(
    hinge_softness %||% 1, "hinge_softness", constraint = "nonzero")
  low <- check_elementwise_parameter(low %||% 0, "low")
  check_parameter_lengths(list(hinge_softness = hinge_softness, low = low))
  new_elementwise_bijector(
    "tfb_softplus", "softplus_hinge",
    parameters = list(hinge_softness = hinge_softness, low = low),
    constraints = c(hinge_softness = "nonzero", low = "real"),
    trainable = c(hinge_softness = !is.null(hinge_given), low = FALSE),
    validate_args = validate_args, name = name)
}
