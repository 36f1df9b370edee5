# The Weibull CDF bijector y = 1 - exp(-(x / scale)^concentration), and its
# deprecated alias tfb_weibull(); an elementwise kind (src/weibull_cdf.c).

#' Weibull CDF bijector
#'
#' The bijector `y = 1 - exp(-(x / scale)^concentration)`, the cumulative
#' distribution function of the Weibull distribution, as tfprobability's
#' `tfb_weibull_cdf()` (TFP's `WeibullCDF`). It maps \[0, Inf) to \[0, 1);
#' the inverse is `x = scale * (-log(1 - y))^(1 / concentration)`. With
#' `k = concentration`, the forward log-determinant is
#' `-(x / scale)^k + (k - 1) * log(x) + log(k) - k * log(scale)` and the
#' inverse log-determinant, TFP's own formula, `v + (1 / k - 1) * log(v) +
#' log(scale / k)` with `v = -log(1 - y)`, each summed over the last
#' `event_ndims` axes (with TFP's `xlogy`: the `log` terms are 0 when
#' `k = 1`, also at `x = 0`).
#'
#' `scale` and `concentration` are positive numbers or vectors with one
#' value per feature along the last axis of the input; both are trainable
#' parameters.
#'
#' Numerics: TFP's formulas in double precision (`expm1`, `log1p`), with
#' `x / scale` carried in two parts into the power (accurate for large
#' concentrations) and `1 / concentration` in the inverse (accurate for the
#' smallest `y`). For speed, `log1p(-y)` is computed with one `log()`,
#' as `log(w) * y / (1 - w)` with `w = 1 - y`, except where a power
#' `1 / concentration > 1` would magnify its error, and a concentration of
#' 2 squares and takes square roots instead of calling `pow()`.
#'
#' @param scale A positive number or vector (default 1).
#' @param concentration A positive number or vector: the shape `k`
#'   (default 1).
#' @param validate_args `TRUE` or `FALSE`: with `TRUE`, the forward map and
#'   its log-determinant check that `x >= 0`, the inverse and its
#'   log-determinant that `y` is in \[0, 1\] (errors of class
#'   `bijectors_error_domain`, with TFP's messages).
#' @param name A string: the bijector's name.
#' @return A bijector of class `c("tfb_weibull_cdf", "tfb_elementwise",
#'   "bijector")` with the methods `$forward(x)`, `$inverse(y)`,
#'   `$forward_log_det_jacobian(x, event_ndims)` and
#'   `$inverse_log_det_jacobian(y, event_ndims)` and the fields `$scale` and
#'   `$concentration`; its minimum event ndims are 0.
#' @family elementwise bijectors
#' @seealso `tfprobability::tfb_weibull_cdf()`; [tfb_chain()].
#' @examples
#' b <- tfb_weibull_cdf(scale = 5, concentration = 0.3)
#' b$forward(c(0, 1, 14))
#' b$inverse(c(0.1, 0.5, 0.9))
#' b$forward_log_det_jacobian(c(1, 14), event_ndims = 1)
#' @export
tfb_weibull_cdf <- function(scale = 1, concentration = 1,
                            validate_args = FALSE, name = "weibull_cdf") {
  new_cdf_bijector("weibull_cdf",
                   list(scale = scale, concentration = concentration),
                   c(scale = "positive", concentration = "positive"),
                   validate_args, name)
}

# TFP's assertions (RayleighCDF has the same).
#' @export
elementwise_check_domain.tfb_weibull_cdf <- function(bijector, x, direction,
                                                     arg) {
  if (direction == "forward") {
    check_cdf_input(x, arg, "Forward transformation input must be at least 0.")
  } else {
    check_cdf_probability(x, arg)
  }
  invisible()
}

#' Weibull bijector (deprecated)
#'
#' TFP's deprecated `Weibull` bijector, removed in TFP 0.10: the same map as
#' [tfb_weibull_cdf()], with the default name `"weibull"`. The first call in
#' a session says so with a message of class `bijectors_deprecated`.
#'
#' @inheritParams tfb_weibull_cdf
#' @return A bijector of class `c("tfb_weibull", "tfb_weibull_cdf",
#'   "tfb_elementwise", "bijector")`, as [tfb_weibull_cdf()] gives.
#' @family elementwise bijectors
#' @seealso `tfprobability::tfb_weibull()`; [tfb_weibull_cdf()].
#' @examples
#' b <- tfb_weibull(scale = 1.5, concentration = 2)
#' b$forward(c(0, 0.1, 0.2))
#' @export
tfb_weibull <- function(scale = 1, concentration = 1, validate_args = FALSE,
                        name = "weibull") {
  deprecate_once("tfb_weibull", "tfb_weibull_cdf()")
  b <- tfb_weibull_cdf(scale, concentration, validate_args, name)
  class(b) <- c("tfb_weibull", class(b))
  b
}
