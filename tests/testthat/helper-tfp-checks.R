# Checks for the elementwise kinds of group C (sinh_arcsinh, softplus,
# power_transform, lambert_w_tail, affine_scalar), usable by any kind.

# Accuracy where a result is a difference of larger terms (group C kinds):
# near a zero of the true value, an error of a few ulps of the terms that
# cancel is the best double precision can do without extended arithmetic
# throughout, and is many ulps of the small result. `scale` (mpfr or
# double, one per element) is the size of those terms; elsewhere this is
# expect_ulps().

expect_ulps_cancelling <- function(actual, reference, scale, max_ulps = 4,
                                   label = "value", inputs = NULL) {
  actual <- as.vector(actual)
  ref <- Rmpfr::asNumeric(reference)
  scale <- pmax(abs(Rmpfr::asNumeric(scale)), .Machine$double.xmin)
  errors <- ulp_errors(actual, reference)
  allowed <- pmax(max_ulps, max_ulps * ulp_of(scale) / ulp_of(ref))
  excess <- errors / allowed
  worst <- if (all(is.na(excess))) 0 else max(excess, na.rm = TRUE)
  where <- if (is.null(inputs) || worst <= 1) "" else
    sprintf(" (at input %s)", format(inputs[which.max(excess)], digits = 17))
  expect(worst <= 1, sprintf(
    "%s: an error of %.3g ulps%s, %.3g times the allowance", label,
    errors[which.max(excess)], where, worst))
  must_be_finite <- is.finite(ref)
  expect(all(is.finite(actual[must_be_finite])), sprintf(
    "%s: not finite where the true value is, at input %s", label,
    if (is.null(inputs)) "?" else
      format(inputs[must_be_finite & !is.finite(actual)][1], digits = 17)))
  invisible(errors)
}
