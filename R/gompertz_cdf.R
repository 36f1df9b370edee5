# The Gompertz CDF bijector y = 1 - exp(-concentration * (exp(rate * x) -
# 1)); an elementwise kind (src/gompertz_cdf.c).

#' Gompertz CDF bijector
#'
#' The bijector `y = 1 - exp(-c * (exp(r * x) - 1))`, with c the
#' concentration and r the rate, the cumulative distribution function of
#' the Gompertz distribution, as tfprobability's `tfb_gompertz_cdf()`
#' (TFP's `GompertzCDF`). It maps \[0, Inf) to \[0, 1) (not the real line
#' to \[0, Inf) as tfprobability's title says; negative `x` give negative
#' `y`). The inverse is `x = log(1 - log(1 - y) / c) / r`; the forward
#' log-determinant is `log(c) + log(r) + r * x - c * (exp(r * x) - 1)`,
#' and the inverse log-determinant is derived as `-fldj(inverse(y))`, as in
#' TFP; each is summed over the last `event_ndims` axes.
#'
#' `concentration` and `rate` are positive numbers or vectors with one value
#' per feature along the last axis of the input; both are trainable
#' parameters and both are required, as in TFP.
#'
#' Numerics: TFP's `expm1`/`log1p` forms in double precision, with the product
#' r x carried in two parts so that the right tail of the log-determinant,
#' where `c * exp(r * x)` dominates, is accurate to the last places; there,
#' where `expm1(r * x)` overflows but `c * expm1(r * x)` does not, it is
#' `exp(r * x + log(c))`, so the log-determinant stays finite. The inverse
#' computes each `log1p` with one `log()` (as `log(w) * u / (w - 1)`,
#' `w = 1 + u`).
#'
#' @param concentration A positive number or vector: `c`.
#' @param rate A positive number or vector: *r*.
#' @param validate_args `TRUE` or `FALSE`: with `TRUE`, the forward map and
#'   its log-determinant check that `x >= 0`, the inverse and its
#'   log-determinant that `y` is in \[0, 1\] (errors of class
#'   `bijectors_error_domain`, with TFP's messages).
#' @param name A string: the bijector's name.
#' @return A bijector of class `c("tfb_gompertz_cdf", "tfb_elementwise",
#'   "bijector")` with the methods `$forward(x)`, `$inverse(y)`,
#'   `$forward_log_det_jacobian(x, event_ndims)` and
#'   `$inverse_log_det_jacobian(y, event_ndims)` and the fields
#'   `$concentration` and `$rate`; its minimum event ndims are 0.
#' @family elementwise bijectors
#' @seealso `tfprobability::tfb_gompertz_cdf()`; [tfb_shifted_gompertz_cdf()].
#' @examples
#' b <- tfb_gompertz_cdf(concentration = 0.3, rate = 1)
#' b$forward(c(0.1, 0.5, 1.4, 3))
#' b$inverse(c(0.1, 0.5, 0.9))
#' b$forward_log_det_jacobian(c(0.1, 0.5, 1.4, 3), event_ndims = 0)
#' @export
tfb_gompertz_cdf <- function(concentration, rate, validate_args = FALSE,
                             name = "gompertz_cdf") {
  new_cdf_bijector("gompertz_cdf",
                   list(concentration = concentration, rate = rate),
                   c(concentration = "positive", rate = "positive"),
                   validate_args, name)
}

#' @export
elementwise_check_domain.tfb_gompertz_cdf <- function(bijector, x, direction,
                                                      arg) {
  if (direction == "forward") {
    check_cdf_input(x, arg,
                    "Forward transformation input must be greater than 0.")
  } else {
    check_cdf_probability(x, arg)
  }
  invisible()
}
