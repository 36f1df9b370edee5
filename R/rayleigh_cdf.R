# The Rayleigh CDF bijector y = 1 - exp(-(x / scale)^2 / 2); an elementwise
# kind (src/rayleigh_cdf.c).

#' Rayleigh CDF bijector
#'
#' The bijector `y = 1 - exp(-(x / scale)^2 / 2)`, the cumulative
#' distribution function of the Rayleigh distribution, as tfprobability's
#' `tfb_rayleigh_cdf()` (TFP's `RayleighCDF`). It maps \[0, Inf) to
#' \[0, 1); the inverse is `x = scale * sqrt(-2 * log(1 - y))`. The forward
#' log-determinant is `-(x / scale)^2 / 2 + log(x) - 2 * log(scale)` (`-Inf`
#' at `x = 0`), the inverse log-determinant, TFP's own formula,
#' `v - log(v) / 2 + log(scale / sqrt(2))` with `v = -log(1 - y)`, each
#' summed over the last `event_ndims` axes.
#'
#' `scale` is a positive number or a vector with one value per feature
#' along the last axis of the input, a trainable parameter. tfprobability
#' has no default for it; this is TFP's default, 1.
#'
#' @param scale A positive number or vector (default 1, TFP's).
#' @param validate_args `TRUE` or `FALSE`: with `TRUE`, the forward map and
#'   its log-determinant check that `x >= 0`, the inverse and its
#'   log-determinant that `y` is in \[0, 1\] (errors of class
#'   `bijectors_error_domain`, with TFP's messages).
#' @param name A string: the bijector's name.
#' @return A bijector of class `c("tfb_rayleigh_cdf", "tfb_elementwise",
#'   "bijector")` with the methods `$forward(x)`, `$inverse(y)`,
#'   `$forward_log_det_jacobian(x, event_ndims)` and
#'   `$inverse_log_det_jacobian(y, event_ndims)` and the field `$scale`; its
#'   minimum event ndims are 0.
#' @family elementwise bijectors
#' @seealso `tfprobability::tfb_rayleigh_cdf()`; [tfb_chain()].
#' @examples
#' b <- tfb_rayleigh_cdf(scale = 50)
#' b$forward(c(1, 14, 100))
#' b$inverse(c(0.1, 0.5, 0.9))
#' b$forward_log_det_jacobian(c(1, 14, 100), event_ndims = 1)
#' @export
tfb_rayleigh_cdf <- function(scale = 1, validate_args = FALSE,
                             name = "rayleigh_cdf") {
  new_cdf_bijector("rayleigh_cdf", list(scale = scale),
                   c(scale = "positive"), validate_args, name)
}

#' @export
elementwise_check_domain.tfb_rayleigh_cdf <- function(bijector, x, direction,
                                                      arg) {
  if (direction == "forward") {
    check_cdf_input(x, arg, "Forward transformation input must be at least 0.")
  } else {
    check_cdf_probability(x, arg)
  }
  invisible()
}
