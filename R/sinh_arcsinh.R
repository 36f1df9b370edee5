# The sinh-arcsinh bijector: y = m sinh((asinh(x) + skewness) * tailweight);
# an elementwise kind (src/sinh_arcsinh.c).

#' Sinh-arcsinh bijector
#'
#' The bijector `y = m * sinh((asinh(x) + skewness) * tailweight)` with
#' `m = 2 / sinh(asinh(2) * tailweight)`, as tfprobability's
#' `tfb_sinh_arcsinh()` (TFP's `SinhArcsinh`, with the multiplier `m` TFP has
#' had since 0.8), from the real line to the real line. `skewness = 0,
#' tailweight = 1` is the identity; `skewness` skews, a `tailweight` above 1
#' makes tails heavier. The forward log-determinant is
#' `log(cosh((asinh(x) + skewness) * tailweight)) - log(1 + x^2) / 2 +
#' log(tailweight) + log(m)`; the inverse log-determinant is TFP's own
#' formula through the inverse.
#'
#' Numerics: TFP's forms lose accuracy in proportion to `|u|`,
#' `u = (asinh(x) + skewness) * tailweight` (hundreds of ulps at
#' `x = 1e300`); where `|u| > 1` the map is computed as powers of
#' `|x| + sqrt(1 + x^2)` and the log-determinants without their large
#' cancelling terms, the same values to a few ulps.
#'
#' Both parameters are numbers or vectors with one value per feature along
#' the last axis of the input, and trainable.
#'
#' @param skewness A finite number or vector; `NULL` (the default) means 0.
#' @param tailweight A positive finite number or vector; `NULL` (the
#'   default) means 1.
#' @param validate_args `TRUE` or `FALSE`; accepted for compatibility (the
#'   parameters are always checked, inputs need none, as in TFP).
#' @param name A string: the bijector's name.
#' @return A bijector of class `c("tfb_sinh_arcsinh", "tfb_elementwise",
#'   "bijector")` with the methods `$forward(x)`, `$inverse(y)`,
#'   `$forward_log_det_jacobian(x, event_ndims)` and
#'   `$inverse_log_det_jacobian(y, event_ndims)` and the fields `$skewness`
#'   and `$tailweight`; its minimum event ndims are 0.
#' @family elementwise bijectors
#' @seealso `tfprobability::tfb_sinh_arcsinh()`; [tfb_softplus()],
#'   [tfb_chain()].
#' @examples
#' b <- tfb_sinh_arcsinh(skewness = 0.2, tailweight = 2)
#' b$forward(c(-2.01, 2, 1e-4))
#' b$inverse(b$forward(c(-1, 0, 1)))
#' b$forward_log_det_jacobian(c(-1, 0, 1), event_ndims = 0)
#' tfb_sinh_arcsinh()$forward(c(-1, 0, 1))   # the identity
#' @export
tfb_sinh_arcsinh <- function(skewness = NULL, tailweight = NULL,
                             validate_args = FALSE, name = "SinhArcsinh") {
  skewness <- check_elementwise_parameter(skewness %||% 0, "skewness")
  tailweight <- check_elementwise_parameter(tailweight %||% 1, "tailweight",
                                            constraint = "positive")
  check_parameter_lengths(list(skewness = skewness, tailweight = tailweight))
  new_elementwise_bijector(
    "tfb_sinh_arcsinh", "sinh_arcsinh",
    parameters = list(skewness = skewness, tailweight = tailweight),
    constraints = c(skewness = "real", tailweight = "positive"),
    validate_args = validate_args, name = name)
}

# Vector parameters of one bijector must agree in length (each runs along
# the same last axis). Shared by the group-C kinds.
check_parameter_lengths <- function(parameters) {
  lengths <- lengths(parameters)
  vectors <- lengths[lengths > 1L]
  if (length(unique(vectors)) > 1L) {
    abort_bijectors("event_size", sprintf(paste(
      "The vector parameters must have the same length, not %s."),
      paste(sprintf("%d (`%s`)", vectors, names(vectors)), collapse = ", ")))
  }
  invisible()
}
