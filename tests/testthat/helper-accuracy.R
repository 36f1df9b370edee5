# Accuracy in ulps against high-precision references (issue: elementwise
# kinds "accurate in the tails"). References are written with Rmpfr numbers
# of `accuracy_bits` bits from the textbook formula of each map, not from
# the package's numerical forms, so that they are independent of it.

accuracy_bits <- 256L

# x as an mpfr number, exactly (every double is exact in 256 bits).
mp <- function(x) Rmpfr::mpfr(x, accuracy_bits)

# The size of one unit in the last place of a normal double v.
ulp_of <- function(v) 2^(floor(log2(abs(v))) - 52)

# Relative error of `actual` (doubles) in ulps of the reference (an mpfr
# vector), where the reference is a normal double; NA elsewhere.
ulp_errors <- function(actual, reference) {
  ref <- Rmpfr::asNumeric(reference)
  normal <- is.finite(ref) & abs(ref) >= .Machine$double.xmin
  errors <- rep(NA_real_, length(ref))
  if (any(normal)) {
    diff <- abs(mp(actual[normal]) - reference[normal])
    errors[normal] <- Rmpfr::asNumeric(diff) / ulp_of(ref[normal])
  }
  errors
}

# At most `max_ulps` where the reference is a normal double, and finite
# wherever the reference is a finite double (subnormal ones included).
expect_ulps <- function(actual, reference, max_ulps = 4, label = "value",
                        inputs = NULL) {
  actual <- as.vector(actual)
  ref <- Rmpfr::asNumeric(reference)
  errors <- ulp_errors(actual, reference)
  worst <- if (all(is.na(errors))) 0 else max(errors, na.rm = TRUE)
  where <- if (is.null(inputs) || worst == 0) "" else
    sprintf(" (at input %s)", format(inputs[which.max(errors)], digits = 17))
  expect(worst <= max_ulps, sprintf(
    "%s: worst error %.3g ulps%s, more than %g", label, worst, where,
    max_ulps))
  must_be_finite <- is.finite(ref)
  expect(all(is.finite(actual[must_be_finite])), sprintf(
    "%s: not finite where the true value is, at input %s", label,
    if (is.null(inputs)) "?" else
      format(inputs[must_be_finite & !is.finite(actual)][1], digits = 17)))
  invisible(worst)
}

# Inputs across a domain: the extremes, the neighbours of its edges, and a
# log-spaced sweep of both signs (only the part inside [lower, upper]).
accuracy_inputs <- function(lower = -Inf, upper = Inf, n = 200) {
  magnitudes <- 10^seq(-300, log10(700), length.out = n)
  candidates <- c(0, magnitudes, -magnitudes, 1e-300, -1e-300, 700, -700,
                  0.5, -0.5, 1, -1, 2, -2)
  edges <- c(lower, upper)
  edges <- edges[is.finite(edges)]
  near <- unlist(lapply(edges, function(e) {
    step <- max(abs(e), 1) * .Machine$double.eps
    c(e - step, e + step, e - 1e-300, e + 1e-300, e - 1e-8, e + 1e-8)
  }))
  x <- sort(unique(c(candidates, near, edges)))
  x[x >= lower & x <= upper]
}
