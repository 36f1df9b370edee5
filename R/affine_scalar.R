# The deprecated affine scalar bijector: y = x * scale + shift; an
# elementwise kind (src/affine_scalar.c, or the shift or scale kernel when
# only one part is given).

#' Affine scalar bijector (deprecated)
#'
#' The bijector `y = x * scale + shift` ("shift after scale"), as TFP's
#' `AffineScalar`, removed from TFP in 0.14. Use
#' `tfb_chain(list(tfb_shift(shift), tfb_scale(scale)))` instead (TFP's
#' `Shift(shift)(Scale(scale))`); the first call in a session says so.
#'
#' As in TFP (and unlike tfprobability's current wrapper, which fails when
#' either is `NULL`), a `NULL` part is skipped: `shift = NULL` means 0 and
#' `scale = NULL` means 1. The log-determinant is constant, `log|scale|`,
#' shaped like `scale` (a scalar 0 without one); the inverse one is
#' `-log|scale|`.
#'
#' The parameters given are trainable (`scale` kept non-zero), each a
#' number or a vector with one value per feature along the last axis.
#'
#' @param shift A finite number or vector, or `NULL` (the default) for none.
#' @param scale A non-zero finite number or vector, or `NULL` (the default)
#'   for none.
#' @param validate_args `TRUE` or `FALSE`; accepted for compatibility (a
#'   zero `scale` is always refused).
#' @param name A string: the bijector's name.
#' @return A bijector of class `c("tfb_affine_scalar", "tfb_elementwise",
#'   "bijector")` with the methods `$forward(x)`, `$inverse(y)`,
#'   `$forward_log_det_jacobian(x, event_ndims)` and
#'   `$inverse_log_det_jacobian(y, event_ndims)` and the fields `$shift` and
#'   `$scale` (`NULL` when not given; `$shift` is 0 when neither is); its
#'   minimum event ndims are 0.
#' @family elementwise bijectors
#' @seealso `tfprobability::tfb_affine_scalar()`; [tfb_shift()],
#'   [tfb_scale()], [tfb_chain()].
#' @keywords internal
#' @examples
#' b <- tfb_affine_scalar(shift = -1, scale = 2)
#' b$forward(c(1, 2, 3))
#' b$inverse_log_det_jacobian(c(1, 2, 3), event_ndims = 0)
#' @export
tfb_affine_scalar <- function(shift = NULL, scale = NULL,
                              validate_args = FALSE, name = "affine_scalar") {
  deprecate_once("tfb_affine_scalar",
                 "tfb_chain(list(tfb_shift(shift), tfb_scale(scale)))")
  parameters <- list(
    shift = if (!is.null(shift)) check_elementwise_parameter(shift, "shift"),
    scale = if (!is.null(scale)) {
      check_elementwise_parameter(scale, "scale", nonzero = TRUE)
    })
  parameters <- parameters[!vapply(parameters, is.null, logical(1))]
  check_parameter_lengths(parameters)
  kernel <- if (length(parameters) == 2L) "affine_scalar" else names(parameters)
  trainable <- NULL
  if (length(parameters) == 0L) {   # the identity: a fixed zero shift
    parameters <- list(shift = 0)
    kernel <- "shift"
    trainable <- c(shift = FALSE)
  }
  new_elementwise_bijector(
    "tfb_affine_scalar", kernel, parameters = parameters,
    constraints = c(shift = "real", scale = "nonzero")[names(parameters)],
    trainable = trainable, public = c("shift", "scale"),
    validate_args = validate_args, name = name)
}
