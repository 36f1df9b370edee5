# The Kumaraswamy CDF bijector y = 1 - (1 - x^concentration1)^concentration0
# on [0, 1], an elementwise kind (src/kumaraswamy_cdf.c), and the deprecated
# tfb_kumaraswamy(), its inverse.

#' Kumaraswamy CDF bijector
#'
#' The bijector `y = 1 - (1 - x^a)^b`, with `a = concentration1` and `b =
#' concentration0`, the cumulative distribution function of the Kumaraswamy
#' distribution, as tfprobability's `tfb_kumaraswamy_cdf()` (TFP's
#' `KumaraswamyCDF`; tfprobability's title gives the quantile instead). It
#' maps \[0, 1\] to \[0, 1\]; the inverse is `x = (1 - (1 - y)^(1 / b))^(1 /
#' a)`. The forward log-determinant is `log(a) + log(b) + (a - 1) * log(x) +
#' (b - 1) * log(1 - x^a)` (with TFP's `xlogy`: a term is 0 when its
#' coefficient is, also where its `log` is infinite), and the inverse
#' log-determinant is derived as `-fldj(inverse(y))`, as in TFP; each is
#' summed over the last `event_ndims` axes.
#'
#' `concentration1` and `concentration0` are positive numbers or vectors
#' with one value per feature along the last axis of the input; both are
#' trainable parameters.
#'
#' Numerics: `log(1 - x^a)` is TFP's `log1p(-x^a)` where `x^a < 1/2` and
#' `log(-expm1(a * log(x)))` next to `x = 1`, where TFP's form cancels; the
#' inverse carries `1 / a` in two parts, so that it stays accurate to a few
#' ulps for the smallest `y`, and computes `log1p(-y)` with one `log()` (as
#' `log(w) * y / (1 - w)`, `w = 1 - y`) unless `a < 1`, where the power
#' `1 / a` would magnify its error.
#'
#' @param concentration1 A positive number or vector: `a` (default 1).
#' @param concentration0 A positive number or vector: `b` (default 1).
#' @param validate_args `TRUE` or `FALSE`: with `TRUE`, both directions and
#'   their log-determinants check that the input is in \[0, 1\] (errors of
#'   class `bijectors_error_domain`, with TFP's messages).
#' @param name A string: the bijector's name.
#' @return A bijector of class `c("tfb_kumaraswamy_cdf", "tfb_elementwise",
#'   "bijector")` with the methods `$forward(x)`, `$inverse(y)`,
#'   `$forward_log_det_jacobian(x, event_ndims)` and
#'   `$inverse_log_det_jacobian(y, event_ndims)` and the fields
#'   `$concentration1` and `$concentration0`; its minimum event ndims are 0.
#' @family elementwise bijectors
#' @seealso `tfprobability::tfb_kumaraswamy_cdf()`; [tfb_kumaraswamy()].
#' @examples
#' b <- tfb_kumaraswamy_cdf(concentration1 = 2, concentration0 = 0.3)
#' b$forward(c(0.1, 0.3, 0.5))
#' b$inverse(c(0.01, 0.05))
#' b$forward_log_det_jacobian(c(0.1, 0.3, 0.5), event_ndims = 1)
#' @export
tfb_kumaraswamy_cdf <- function(concentration1 = 1, concentration0 = 1,
                                validate_args = FALSE,
                                name = "kumaraswamy_cdf") {
  new_cdf_bijector("kumaraswamy_cdf",
                   list(concentration1 = concentration1,
                        concentration0 = concentration0),
                   c(concentration1 = "positive", concentration0 = "positive"),
                   validate_args, name)
}

#' @export
elementwise_check_domain.tfb_kumaraswamy_cdf <- function(bijector, x,
                                                         direction, arg) {
  check_cdf_input(x, arg, "Sample must be non-negative.",
                  "Sample must be less than or equal to `1`.")
}

#' Kumaraswamy bijector (deprecated)
#'
#' TFP's deprecated `Kumaraswamy` bijector, removed in TFP 0.10: the
#' **inverse** of [tfb_kumaraswamy_cdf()], so that its forward map is the
#' Kumaraswamy quantile function `x = (1 - (1 - y)^(1 / b))^(1 / a)` and its
#' inverse the CDF. As in TFP 0.9, it is `tfb_invert(tfb_kumaraswamy_cdf(a,
#' b))` with the name `"kumaraswamy"`, and its parameters are those of the
#' inner bijector (trainable, `$bijector$concentration1`). The first call in
#' a session says so with a message of class `bijectors_deprecated`.
#'
#' @param concentration1,concentration0 `NULL` (the default: 1, TFP's
#'   default) or a positive number or vector, as in [tfb_kumaraswamy_cdf()].
#' @inheritParams tfb_kumaraswamy_cdf
#' @return A bijector of class `c("tfb_kumaraswamy", "tfb_invert",
#'   "bijector")` whose field `$bijector` is the inner
#'   [tfb_kumaraswamy_cdf()].
#' @family elementwise bijectors
#' @seealso `tfprobability::tfb_kumaraswamy()`; [tfb_kumaraswamy_cdf()],
#'   [tfb_invert()].
#' @examples
#' b <- tfb_kumaraswamy(concentration1 = 2, concentration0 = 0.3)
#' b$forward(c(0.01, 0.05))        # the quantile
#' b$inverse(c(0.1, 0.3, 0.5))     # the CDF
#' @export
tfb_kumaraswamy <- function(concentration1 = NULL, concentration0 = NULL,
                            validate_args = FALSE, name = "kumaraswamy") {
  deprecate_once("tfb_kumaraswamy",
                 "tfb_invert(tfb_kumaraswamy_cdf())")
  cdf <- tfb_kumaraswamy_cdf(concentration1 %||% 1, concentration0 %||% 1,
                             validate_args)
  b <- tfb_invert(cdf, validate_args, name)
  class(b) <- c("tfb_kumaraswamy", class(b))
  b
}
