# The normal CDF bijector: y = pnorm(x); an elementwise kind
# (src/normal_cdf.c).

#' Normal CDF bijector
#'
#' The bijector `y = pnorm(x)`, the standard normal distribution function,
#' from the real line to (0, 1), as tfprobability's `tfb_normal_cdf()`
#' (TFP's `NormalCDF`); its inverse is the quantile function
#' `x = qnorm(y)`, with 0 and 1 mapped to `-Inf` and `Inf`. The forward
#' log-determinant is the log density `-x^2 / 2 - log(sqrt(2 * pi))`; the
#' inverse one is its negative at `qnorm(y)` (derived as TFP does); each is
#' summed over the last `event_ndims` axes.
#'
#' The forward map uses R's own `pnorm()` (in C), where TFP uses `ndtr()`.
#' The inverse, where TFP uses `ndtri()`, is the package's own: a rational
#' approximation in `(y - 1/2)^2` for `|y - 1/2| <= 0.425`, and in the
#' tails a start in `sqrt(-log(p))` (`p = min(y, 1 - y)`) refined by one
#' Newton step, within 2 ulps of the exact quantile across (0, 1) (R's
#' `qnorm()` is up to 5.5 off) and faster than `qnorm()`.
#'
#' @param validate_args `TRUE` or `FALSE`: with `TRUE`, the inverse and its
#'   log-determinant check that `0 <= y <= 1` (an error of class
#'   `bijectors_error_domain`); with `FALSE` other values give `NaN`.
#' @param name A string: the bijector's name (`"normal"`, as in
#'   tfprobability and TFP).
#' @return A bijector of class `c("tfb_normal_cdf", "tfb_elementwise",
#'   "bijector")` with the methods `$forward(x)`, `$inverse(y)`,
#'   `$forward_log_det_jacobian(x, event_ndims)` and
#'   `$inverse_log_det_jacobian(y, event_ndims)`; its minimum event ndims are
#'   0 and it has no parameters.
#' @family elementwise bijectors
#' @seealso `tfprobability::tfb_normal_cdf()`; [tfb_sigmoid()],
#'   [tfb_chain()].
#' @examples
#' b <- tfb_normal_cdf()
#' x <- c(-3, 0, 0.5, 4.2, 5)
#' b$forward(x)
#' b$inverse(b$forward(x))
#' b$forward_log_det_jacobian(x, event_ndims = 0)   # dnorm(x, log = TRUE)
#' @export
tfb_normal_cdf <- function(validate_args = FALSE, name = "normal") {
  new_elementwise_bijector("tfb_normal_cdf", "normal_cdf",
                           validate_args = validate_args, name = name)
}

# TFP asserts 0 <= y <= 1 in the inverse and its log-det (its first message
# says "greater than 0" for y >= 0).
#' @export
elementwise_check_domain.tfb_normal_cdf <- function(bijector, x, direction,
                                                    arg) {
  if (direction == "inverse" && any(x < 0, na.rm = TRUE)) {
    abort_bijectors("domain", sprintf(paste(
      "Inverse transformation input must be greater than 0: `%s` has",
      "negative values."), arg))
  }
  if (direction == "inverse" && any(x > 1, na.rm = TRUE)) {
    abort_bijectors("domain", sprintf(paste(
      "Inverse transformation input must be less than or equal to 1: `%s`",
      "has values above 1."), arg))
  }
  invisible()
}
