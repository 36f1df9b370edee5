# Accuracy checks of the CDF bijectors (tfb_gumbel_cdf, tfb_weibull_cdf,
# ...), on top of helper-accuracy.R. Two cases cannot reach 4 ulps of the
# result in double precision, and are bounded as follows:
#
# - next to a zero of a sum of rounded terms (a log-det that changes sign,
#   an inverse loc - scale * L that crosses 0), the error is a few ulps of
#   the largest term, not of the result: `magnitude` (doubles, one per
#   input) is that term, and the bound is `max_ulps` ulps of whichever of
#   the result and the magnitude is larger;
# - where a rounded intermediate w is magnified by a later exp(-w) (the
#   Gumbel's left tail, exp(-w / c) in the shifted Gompertz), the error is
#   about w ulps: `max_ulps` may be a vector, one bound per input.

# The inputs of a CDF's sweep: accuracy_inputs() of the domain and a grid.
cdf_inputs <- function(lower, upper) {
  grid <- if (is.finite(upper)) seq(0.0025, 0.9975, length.out = 300) else
    if (lower == 0) seq(0.05, 40, length.out = 300) else
      seq(-40, 40, length.out = 300)
  sort(unique(c(accuracy_inputs(lower, upper), grid)))
}

expect_cdf_ulps <- function(actual, reference, magnitude = NULL, max_ulps = 4,
                            label = "value", inputs = NULL) {
  actual <- as.vector(actual)
  ref <- Rmpfr::asNumeric(reference)
  normal <- is.finite(ref) & abs(ref) >= .Machine$double.xmin
  unit <- ulp_of(ref)
  if (!is.null(magnitude)) unit <- pmax(unit, ulp_of(magnitude))
  bound <- rep_len(max_ulps, length(ref))
  errors <- rep(0, length(ref))
  if (any(normal)) {
    diff <- abs(mp(actual[normal]) - reference[normal])
    errors[normal] <- Rmpfr::asNumeric(diff) / unit[normal]
  }
  errors[is.na(errors)] <- Inf
  excess <- errors - bound
  worst <- which.max(excess)
  expect(length(worst) == 0L || excess[worst] <= 0, sprintf(
    "%s: error %.3g ulps at input %s, more than %.3g", label, errors[worst],
    format(inputs[worst], digits = 17), bound[worst]))
  must_be_finite <- is.finite(ref)
  expect(all(is.finite(actual[must_be_finite])), sprintf(
    "%s: not finite where the true value is, at input %s", label,
    format(inputs[must_be_finite & !is.finite(actual)][1], digits = 17)))
  invisible(max(errors))
}

as_double <- function(x) Rmpfr::asNumeric(x)
