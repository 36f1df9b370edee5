# Shared construction and input checks of the CDF bijectors (gumbel_cdf,
# weibull_cdf, rayleigh_cdf, gompertz_cdf, shifted_gompertz_cdf,
# kumaraswamy_cdf): elementwise kinds whose parameters are trainable,
# constrained, and broadcast along the last axis.

# Checks each parameter against its constraint (a named character vector in
# the kernel's order) and that the vector ones agree in length, then builds
# the bijector of class `kind` on the kernel of the same name.
new_cdf_bijector <- function(kind, parameters, constraints, validate_args,
                             name) {
  for (arg in names(parameters)) {
    parameters[[arg]] <- check_elementwise_parameter(
      parameters[[arg]], arg, constraint = constraints[[arg]])
  }
  sizes <- lengths(parameters)
  if (length(unique(sizes[sizes > 1L])) > 1L) {
    abort_bijectors("event_size", sprintf(paste(
      "%s must have the same length when they are vectors, not %s."),
      paste0("`", names(parameters), "`", collapse = " and "),
      paste(sizes, collapse = " and ")))
  }
  new_elementwise_bijector(paste0("tfb_", kind), kind,
                           parameters = parameters, constraints = constraints,
                           validate_args = validate_args, name = name)
}

# TFP's input assertions: x >= 0 (message `below`) and, when `above` is
# given, x <= 1, each followed by what was found in which argument.
check_cdf_input <- function(x, arg, below, above = NULL) {
  if (any(x < 0, na.rm = TRUE)) {
    abort_bijectors("domain", sprintf("%s `%s` has negative values.", below,
                                      arg))
  }
  if (!is.null(above) && any(x > 1, na.rm = TRUE)) {
    abort_bijectors("domain", sprintf("%s `%s` has values above 1.", above,
                                      arg))
  }
  invisible()
}

# The inverse's check of the CDF kinds: y in [0, 1], with TFP's messages.
check_cdf_probability <- function(y, arg) {
  check_cdf_input(
    y, arg, "Inverse transformation input must be greater than 0.",
    "Inverse transformation input must be less than or equal to 1.")
}
