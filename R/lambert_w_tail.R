# The Lambert W x F heavy-tail bijector: y = shift + scale * u *
# exp(tailweight * u^2 / 2), u = (x - shift) / scale; an elementwise kind
# (src/lambert_w_tail.c).

#' Lambert W tail bijector
#'
#' The bijector `y = shift + scale * u * exp(tailweight * u^2 / 2)` with
#' `u = (x - shift) / scale`, as tfprobability's `tfb_lambert_w_tail()`
#' (TFP's `LambertWTail`, Goerg's heavy-tail Lambert W x F transform), from
#' the real line to the real line: it gives a distribution heavier tails
#' around `shift`. Its inverse is
#' `x = shift + scale * sign(z) * sqrt(W(tailweight * z^2) / tailweight)`
#' with `z = (y - shift) / scale` and `W` the principal branch of Lambert's
#' W function; `tailweight = 0` is the identity. The inverse
#' log-determinant is `-W / 2 - log(1 + W)` (TFP's
#' `log|W_d(z)| - log|z| - log1p(W)`, simplified), the forward one
#' `tailweight * u^2 / 2 + log(1 + tailweight * u^2)`.
#'
#' TFP requires all three parameters; here they default to the identity
#' (`shift = 0`, `scale = 1`, `tailweight = 0`). All three are trainable,
#' each a number or a vector with one value per feature along the last axis
#' of the input; `scale` is kept positive and `tailweight` non-negative
#' (TFP's parameter properties; its constructor checks neither).
#'
#' Numerics: `W` is a Halley iteration (TFP's, from Winitzki's start) to a
#' few ulps; for `tailweight * z^2` beyond the doubles it is solved from
#' its logarithm. The forward map carries `u` and its exponent to twice
#' double precision, since `exp()` multiplies the exponent's rounding error
#' by its size.
#'
#' @param shift A finite number or vector; `NULL` (the default) means 0.
#' @param scale A positive finite number or vector; `NULL` (the default)
#'   means 1.
#' @param tailweight A non-negative finite number or vector; `NULL` (the
#'   default) means 0, the identity.
#' @param validate_args `TRUE` or `FALSE`; accepted for compatibility (the
#'   parameters are always checked; TFP checks nothing).
#' @param name A string: the bijector's name.
#' @return A bijector of class `c("tfb_lambert_w_tail", "tfb_elementwise",
#'   "bijector")` with the methods `$forward(x)`, `$inverse(y)`,
#'   `$forward_log_det_jacobian(x, event_ndims)` and
#'   `$inverse_log_det_jacobian(y, event_ndims)` and the fields `$shift`,
#'   `$scale` and `$tailweight`; its minimum event ndims are 0.
#' @family elementwise bijectors
#' @seealso `tfprobability::tfb_lambert_w_tail()`; [tfb_sinh_arcsinh()].
#' @examples
#' b <- tfb_lambert_w_tail(shift = 2, scale = 0.1, tailweight = 0.5)
#' x <- seq(1.5, 2.5, by = 0.25)
#' b$forward(x)
#' b$inverse(b$forward(x))
#' tfb_lambert_w_tail(tailweight = 0.2)$inverse_log_det_jacobian(1, 0)
#' @export
tfb_lambert_w_tail <- function(shift = NULL, scale = NULL, tailweight = NULL,
                               validate_args = FALSE, name = "lambertw_tail") {
  parameters <- list(
    shift = check_elementwise_parameter(shift %||% 0, "shift"),
    scale = check_elementwise_parameter(scale %||% 1, "scale",
                                        constraint = "positive"),
    tailweight = check_elementwise_parameter(tailweight %||% 0, "tailweight",
                                             constraint = "nonnegative"))
  check_parameter_lengths(parameters)
  new_elementwise_bijector(
    "tfb_lambert_w_tail", "lambert_w_tail", parameters = parameters,
    constraints = c(shift = "real", scale = "positive",
                    tailweight = "nonnegative"),
    validate_args = validate_args, name = name)
}

# W0(z), the principal branch of Lambert's W (src/lambert_w_tail.c); for
# the tests.
lambert_w0 <- function(z) {
  .Call(C_lambert_w0, as.double(z))
}
