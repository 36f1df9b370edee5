# The Gumbel CDF bijector y = exp(-exp(-(x - loc) / scale)), and its
# deprecated alias tfb_gumbel(); an elementwise kind (src/gumbel_cdf.c).

#' Gumbel CDF bijector
#'
#' The bijector `y = exp(-exp(-(x - loc) / scale))`, the cumulative
#' distribution function of the Gumbel distribution, as tfprobability's
#' `tfb_gumbel_cdf()` (TFP's `GumbelCDF`). It maps the real line to (0, 1);
#' the inverse is `x = loc - scale * log(-log(y))`. With `z = (x - loc) /
#' scale`, the forward log-determinant is `-z - exp(-z) - log(scale)`, the
#' inverse log-determinant `log(scale) - log(-log(y)) - log(y)`, each summed
#' over the last `event_ndims` axes.
#'
#' `loc` (any finite number) and `scale` (positive) are numbers or vectors
#' with one value per feature along the last axis of the input; both are
#' trainable parameters.
#'
#' Numerics: TFP's formulas in double precision, with `z` carried to twice
#' double precision (so that the left tail of the log-determinant, where
#' `exp(-z)` dominates, is accurate to the last places), and TFP's inverse
#' log-determinant `log(scale / (-log(y) * y))` written as a sum of logs,
#' which does not overflow for the smallest `y`. In the far left tail, where
#' `y = exp(-w)` with `w = exp(-z)` up to 745, the forward map's relative
#' error is about `w / 2` ulps: the rounding of the double `w`, magnified.
#'
#' @param loc A finite number or vector: the location (default 0).
#' @param scale A positive number or vector: the scale (default 1).
#' @param validate_args `TRUE` or `FALSE`: with `TRUE`, the inverse and its
#'   log-determinant check that `y` is in \[0, 1\] (an error of class
#'   `bijectors_error_domain`, with TFP's message).
#' @param name A string: the bijector's name.
#' @return A bijector of class `c("tfb_gumbel_cdf", "tfb_elementwise",
#'   "bijector")` with the methods `$forward(x)`, `$inverse(y)`,
#'   `$forward_log_det_jacobian(x, event_ndims)` and
#'   `$inverse_log_det_jacobian(y, event_ndims)` and the fields `$loc` and
#'   `$scale`; its minimum event ndims are 0.
#' @family elementwise bijectors
#' @seealso `tfprobability::tfb_gumbel_cdf()`; [tfb_chain()].
#' @examples
#' b <- tfb_gumbel_cdf(loc = 0.3, scale = 5)
#' b$forward(c(-3, 0, 4.2))
#' b$inverse(c(0.1, 0.5, 0.9))
#' b$forward_log_det_jacobian(c(-3, 0, 4.2), event_ndims = 0)
#' tfb_gumbel_cdf(loc = c(0, 1), scale = c(1, 2))$forward(matrix(1:4, 2))
#' @export
tfb_gumbel_cdf <- function(loc = 0, scale = 1, validate_args = FALSE,
                           name = "gumbel_cdf") {
  new_cdf_bijector("gumbel_cdf", list(loc = loc, scale = scale),
                   c(loc = "real", scale = "positive"), validate_args, name)
}

#' @export
elementwise_check_domain.tfb_gumbel_cdf <- function(bijector, x, direction,
                                                    arg) {
  if (direction == "inverse") {
    check_cdf_probability(x, arg)
  }
  invisible()
}

#' Gumbel bijector (deprecated)
#'
#' TFP's deprecated `Gumbel` bijector, removed in TFP 0.10: the same map as
#' [tfb_gumbel_cdf()], with the default name `"gumbel"`. The first call in a
#' session says so with a message of class `bijectors_deprecated`.
#'
#' @inheritParams tfb_gumbel_cdf
#' @return A bijector of class `c("tfb_gumbel", "tfb_gumbel_cdf",
#'   "tfb_elementwise", "bijector")`, as [tfb_gumbel_cdf()] gives.
#' @family elementwise bijectors
#' @seealso `tfprobability::tfb_gumbel()`; [tfb_gumbel_cdf()].
#' @examples
#' b <- tfb_gumbel(loc = 0.3, scale = 5)
#' b$forward(c(-3, 0, 4.2))
#' @export
tfb_gumbel <- function(loc = 0, scale = 1, validate_args = FALSE,
                       name = "gumbel") {
  deprecate_once("tfb_gumbel", "tfb_gumbel_cdf()")
  b <- tfb_gumbel_cdf(loc, scale, validate_args, name)
  class(b) <- c("tfb_gumbel", class(b))
  b
}
