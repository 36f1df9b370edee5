# The power transform bijector: y = (1 + power * x)^(1 / power), exp(x) at
# power 0; an elementwise kind (src/power_transform.c).

#' Power transform bijector
#'
#' The bijector `y = (1 + power * x)^(1 / power)` from `[-1 / power, Inf)`
#' to `[0, Inf)`, and `y = exp(x)` for `power = 0` (numerically
#' [tfb_exp()]), as tfprobability's `tfb_power_transform()` (TFP's
#' `PowerTransform`, the inverse of the Box-Cox transform). The inverse is
#' `(y^power - 1) / power` (`log(y)` at 0); the log-determinants are
#' `(1 / power - 1) * log(1 + power * x)` and `(power - 1) * log(y)`.
#'
#' Numerics: TFP's `exp(log1p(power * x) / power)` and
#' `expm1(power * log(y)) / power` lose accuracy in proportion to the
#' exponent (hundreds of ulps for large `y`); here `1 + power * x` and
#' `1 / power` are carried to twice double precision into the package's own
#' vectorised `pow()`, whose logarithm and product are carried to twice
#' double precision too, and the inverse is `y^power - 1` computed as one
#' function, times `1 / power` in twice double precision: both within 0.6
#' ulps of the exact values.
#'
#' `power` is static, as in TFP: a single number, not trained.
#'
#' @param power A non-negative finite number; the default is TFP's 0
#'   (tfprobability's wrapper has none).
#' @param validate_args `TRUE` or `FALSE`: with `TRUE`, the forward map and
#'   its log-determinant check that `1 + power * x >= 0` (for `power > 0`),
#'   and the inverse and its log-determinant that `y >= 0`, with errors of
#'   class `bijectors_error_domain`; with `FALSE`, inputs outside give `NaN`.
#' @param name A string: the bijector's name.
#' @return A bijector of class `c("tfb_power_transform", "tfb_elementwise",
#'   "bijector")` with the methods `$forward(x)`, `$inverse(y)`,
#'   `$forward_log_det_jacobian(x, event_ndims)` and
#'   `$inverse_log_det_jacobian(y, event_ndims)` and the field `$power`; its
#'   minimum event ndims are 0.
#' @family elementwise bijectors
#' @seealso `tfprobability::tfb_power_transform()`; [tfb_exp()].
#' @examples
#' b <- tfb_power_transform(power = 0.2)
#' b$forward(c(-1, 2, -4.9999))
#' b$inverse(b$forward(c(-1, 2)))
#' b$inverse_log_det_jacobian(c(0.32768, 5.37824), event_ndims = 0)
#' tfb_power_transform(2)$forward(c(1, 2, 3))   # sqrt(1 + 2 x)
#' @export
tfb_power_transform <- function(power = 0, validate_args = FALSE,
                                name = "power_transform") {
  if (!is.numeric(power) || length(power) != 1L || !is.finite(power) ||
      power < 0) {
    abort_bijectors("argument", sprintf(paste(
      "`power` must be a non-negative finite number (TFP: a non-negative",
      "constant), not %s."), describe_value(power)))
  }
  new_elementwise_bijector(
    "tfb_power_transform", "power_transform",
    parameters = list(power = as.double(power)),
    constraints = c(power = "nonnegative"), trainable = c(power = FALSE),
    validate_args = validate_args, name = name)
}

# TFP's assertions: 1 + power * x >= 0 in the forward direction (for
# power > 0), y >= 0 in the inverse, with TFP's messages (Python's float).
#' @export
elementwise_check_domain.tfb_power_transform <- function(bijector, x,
                                                         direction, arg) {
  power <- .subset2(bijector, "parameters")[[1L]]
  if (direction == "forward" && power != 0 &&
      any(1 + power * x < 0, na.rm = TRUE)) {
    bound <- format(-1 / power, digits = 15)
    if (!grepl("[.e]", bound)) bound <- paste0(bound, ".0")
    abort_bijectors("domain", sprintf(paste(
      "Forward transformation input must be at least %s: `%s` has values",
      "below."), bound, arg))
  }
  if (direction == "inverse" && any(x < 0, na.rm = TRUE)) {
    abort_bijectors("domain", sprintf(paste(
      "Inverse transformation input must be greater than or equal to 0:",
      "`%s` has negative values."), arg))
  }
  invisible()
}
