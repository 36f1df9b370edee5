# The shifted Gompertz CDF bijector y = (1 - exp(-rate * x)) *
# exp(-exp(-rate * x) / concentration); an elementwise kind
# (src/shifted_gompertz_cdf.c).

#' Shifted Gompertz CDF bijector
#'
#' The bijector `y = (1 - exp(-r * x)) * exp(-exp(-r * x) / c)`, with c the
#' concentration and r the rate, the cumulative distribution function of
#' the shifted Gompertz distribution, as tfprobability's
#' `tfb_shifted_gompertz_cdf()` (TFP's `ShiftedGompertzCDF`). It maps
#' \[0, Inf) to \[0, 1). The forward log-determinant is
#' `log(r) - r * x - exp(-r * x) / c + log(1 + (1 - exp(-r * x)) / c)`, and
#' the inverse log-determinant is derived as `-fldj(inverse(y))`, as in TFP;
#' each is summed over the last `event_ndims` axes.
#'
#' **The concentration divides**, as in TFP's code: `c` here is `1 / eta` of
#' the textbook parameterisation `(1 - exp(-b x)) exp(-eta exp(-b x))`.
#' TFP's class docstring and tfprobability's title write
#' `exp(-c * exp(-r * x))`, which is not what TFP computes; this package
#' follows the code, so that values match TFP's.
#'
#' `concentration` and `rate` are positive numbers or vectors with one value
#' per feature along the last axis of the input; both are trainable
#' parameters and both are required, as in TFP.
#'
#' Numerics: the inverse is TFP's closed form through Lambert's W,
#' `x = -log(1 - c * W(y * exp(1 / c) / c)) / r`, computed in log space
#' (TFP's form overflows for `c` below 1/709), and then refined by Newton
#' steps on the CDF (on its complement for `y > 1/2`): TFP's form loses all
#' precision as `y` approaches 1, where `1 - c * W` cancels.
#'
#' @param concentration A positive number or vector: `c`.
#' @param rate A positive number or vector: *r*.
#' @param validate_args `TRUE` or `FALSE`: with `TRUE`, the forward map and
#'   its log-determinant check that `x >= 0`, the inverse and its
#'   log-determinant that `y` is in \[0, 1\] (errors of class
#'   `bijectors_error_domain`, with TFP's messages).
#' @param name A string: the bijector's name.
#' @return A bijector of class `c("tfb_shifted_gompertz_cdf",
#'   "tfb_elementwise", "bijector")` with the methods `$forward(x)`,
#'   `$inverse(y)`, `$forward_log_det_jacobian(x, event_ndims)` and
#'   `$inverse_log_det_jacobian(y, event_ndims)` and the fields
#'   `$concentration` and `$rate`; its minimum event ndims are 0.
#' @family elementwise bijectors
#' @seealso `tfprobability::tfb_shifted_gompertz_cdf()`; [tfb_gompertz_cdf()].
#' @examples
#' b <- tfb_shifted_gompertz_cdf(concentration = 0.5, rate = 2)
#' b$forward(c(0.1, 1, 3))
#' b$inverse(c(0.1, 0.5, 0.9))
#' b$forward_log_det_jacobian(c(0.1, 1, 3), event_ndims = 0)
#' @export
tfb_shifted_gompertz_cdf <- function(concentration, rate,
                                     validate_args = FALSE,
                                     name = "shifted_gompertz_cdf") {
  new_cdf_bijector("shifted_gompertz_cdf",
                   list(concentration = concentration, rate = rate),
                   c(concentration = "positive", rate = "positive"),
                   validate_args, name)
}

#' @export
elementwise_check_domain.tfb_shifted_gompertz_cdf <- function(bijector, x,
                                                              direction,
                                                              arg) {
  if (direction == "forward") {
    check_cdf_input(x, arg,
                    "Forward transformation input must be non-negative.")
  } else {
    check_cdf_probability(x, arg)
  }
  invisible()
}
