# Real NVP (Dinh et al., 2017) as TFP's RealNVP bijector: an affine coupling
# layer. The masked units pass through and condition the shift and log-scale
# of the others. Network in R/network.R, affine step in
# src/affine_coupling.c.

#' Real NVP affine coupling
#'
#' The bijector of TFP's `RealNVP`, as tfprobability's `tfb_real_nvp()`. For
#' events of size `D` (the last axis) and `d = num_masked`, the first `d`
#' units pass through unchanged and the other `D - d` are transformed by an
#' affine map whose parameters are computed from the first ones:
#'
#' * `forward(x)`: `y[1:d] = x[1:d]`,
#'   `y[-(1:d)] = x[-(1:d)] * exp(log_scale(x[1:d])) + shift(x[1:d])`;
#'   log-det-Jacobian `sum(log_scale(x[1:d]))` per event.
#' * `inverse(y)`: `x[-(1:d)] = (y[-(1:d)] - shift(y[1:d])) *
#'   exp(-log_scale(y[1:d]))`; log-det-Jacobian `-sum(log_scale(y[1:d]))`.
#'
#' A negative `num_masked` masks the **last** `|d|` units instead, which
#' then condition the first `D - |d|` (TFP's reversed mask). Both directions
#' take one network pass. `|num_masked|` must be between 1 and `D - 1`; this
#' is checked when the bijector sees data (error class
#' `bijectors_error_num_masked`).
#'
#' @param num_masked Non-zero whole number: how many units pass through
#'   (negative: the last ones).
#' @param shift_and_log_scale_fn A template from
#'   [tfb_real_nvp_default_template()], or an R function
#'   `function(x, output_units)` of an `N` x `|d|` matrix returning
#'   `list(shift, log_scale)`, two `N` x `output_units` matrices (either may
#'   be `NULL`). Or a template from [tfb_real_nvp_spline_template()]: the
#'   transformed units then go through rational quadratic splines instead
#'   of the affine map (neural spline coupling; TFP's `bijector_fn`).
#' @param is_constant_jacobian `TRUE` or `FALSE`, as TFP: a promise that
#'   `log_scale` does not depend on the input. Stored; it changes no result.
#' @param validate_args `TRUE` to check that inputs are finite.
#' @param name String or `NULL` (`"real_nvp"`).
#' @return A bijector of class `c("tfb_real_nvp", "bijector")` with the
#'   methods `$forward()`, `$inverse()`, `$forward_log_det_jacobian()`,
#'   `$inverse_log_det_jacobian()` and the fields `$num_masked`,
#'   `$shift_and_log_scale_fn`, `$is_constant_jacobian`, `$name`,
#'   `$validate_args`, `$forward_min_event_ndims` and
#'   `$inverse_min_event_ndims` (both 1).
#' @family bijectors
#' @seealso [tfb_real_nvp_default_template()],
#'   [tfb_masked_autoregressive_flow()]; `tfprobability::tfb_real_nvp()`.
#' @examples
#' set.seed(7)
#' nvp <- tfb_real_nvp(
#'   num_masked = 1,
#'   shift_and_log_scale_fn = tfb_real_nvp_default_template(c(8, 8)))
#' x <- matrix(rnorm(9), ncol = 3)
#' y <- nvp$forward(x)
#' all.equal(y[, 1], x[, 1])           # the masked unit passes through
#' nvp$forward_log_det_jacobian(x, event_ndims = 1)
#' all.equal(nvp$inverse(y), x)
#' @export
tfb_real_nvp <- function(num_masked, shift_and_log_scale_fn,
                         is_constant_jacobian = FALSE, validate_args = FALSE,
                         name = NULL) {
  ok <- is.numeric(num_masked) && !is.object(num_masked) &&
    length(num_masked) == 1L && !is.na(num_masked) &&
    is.finite(num_masked) && num_masked == round(num_masked) &&
    num_masked != 0 && abs(num_masked) <= .Machine$integer.max
  if (!ok) {
    abort_bijectors("num_masked", sprintf(paste(
      "`num_masked` must be a non-zero whole number (negative to mask the",
      "last units), not %s."), describe_value(num_masked)))
  }
  check_shift_and_log_scale_fn(shift_and_log_scale_fn,
                               c("tfb_real_nvp_template",
                                 "tfb_real_nvp_spline_template"),
                               paste("tfb_real_nvp_default_template() or",
                                     "tfb_real_nvp_spline_template"),
                               "tfb_real_nvp")
  new_bijector(
    "tfb_real_nvp",
    name = check_string(name %||% "real_nvp", "name"),
    forward_min_event_ndims = 1L,
    validate_args = check_flag(validate_args, "validate_args"),
    num_masked = as.integer(num_masked),
    shift_and_log_scale_fn = shift_and_log_scale_fn,
    is_constant_jacobian = check_flag(is_constant_jacobian,
                                      "is_constant_jacobian")
  )
}

# Checks an input, works out the split and makes sure the network exists.
real_nvp_check_size <- function(bijector, size, arg) {
  num_masked <- .subset2(bijector, "num_masked")
  if (abs(num_masked) >= size) {
    abort_bijectors("num_masked", sprintf(paste(
      "`num_masked` (%d) must be smaller in absolute value than the event",
      "size of `%s` (%d)."), num_masked, arg, size))
  }
  invisible()
}

# Everything that can fail is checked before the template is built.
real_nvp_prepare <- function(bijector, x, arg, event_ndims = NULL,
                             check_ndims = FALSE) {
  input <- flow_input(bijector, x, arg)
  if (check_ndims) {
    input$event_ndims <- check_event_ndims(event_ndims, 1L, input$rank, arg)
  }
  num_masked <- .subset2(bijector, "num_masked")
  masked <- abs(num_masked)
  size <- input$event_size
  real_nvp_check_size(bijector, size, arg)
  if (.subset2(bijector, "validate_args") && !.Call(C_all_finite, input$x)) {
    abort_bijectors("input", sprintf(
      "`%s` contains NA, NaN or Inf values (validate_args = TRUE).", arg))
  }
  output_units <- size - masked
  if (num_masked > 0L) {
    input$first_masked <- 0L
    input$transformed <- masked + seq_len(output_units)
  } else {
    input$first_masked <- output_units
    input$transformed <- seq_len(output_units)
  }
  input$masked <- masked
  input$output_units <- output_units
  fn <- .subset2(bijector, "shift_and_log_scale_fn")
  if (is_template(fn) && !template_check_size(fn, masked, output_units, arg)) {
    template_build(fn, masked, output_units)
  }
  input
}

real_nvp_pass <- function(bijector, input, direction) {
  fn <- .subset2(bijector, "shift_and_log_scale_fn")
  if (is_spline_template(fn)) {
    return(spline_coupling_step(fn, input, input$first_masked,
                                input$output_units, input$transformed,
                                direction))
  }
  conditioned <- conditioner(.subset2(bijector, "shift_and_log_scale_fn"),
                             input$x, input$rows, input$first_masked,
                             input$masked, input$output_units, made = FALSE)
  affine_step(input$x, conditioned, input$transformed, direction)
}

#' @export
bijector_forward.tfb_real_nvp <- function(bijector, x) {
  input <- real_nvp_prepare(bijector, x, "x")
  real_nvp_pass(bijector, input, 1L)$output
}

#' @export
bijector_inverse.tfb_real_nvp <- function(bijector, y) {
  input <- real_nvp_prepare(bijector, y, "y")
  real_nvp_pass(bijector, input, -1L)$output
}

#' @export
bijector_forward_log_det_jacobian.tfb_real_nvp <- function(bijector, x,
                                                           event_ndims) {
  input <- real_nvp_prepare(bijector, x, "x", event_ndims, check_ndims = TRUE)
  log_det <- real_nvp_pass(bijector, input, 1L)$log_det
  reduce_log_det(log_det, input$dims, input$event_ndims)
}

#' @export
bijector_inverse_log_det_jacobian.tfb_real_nvp <- function(bijector, y,
                                                           event_ndims) {
  bijector_inverse_and_log_det(bijector, y, event_ndims)$log_det
}

#' @export
bijector_inverse_and_log_det.tfb_real_nvp <- function(bijector, y,
                                                      event_ndims) {
  input <- real_nvp_prepare(bijector, y, "y", event_ndims, check_ndims = TRUE)
  result <- real_nvp_pass(bijector, input, -1L)
  list(x = result$output,
       log_det = reduce_log_det(result$log_det, input$dims, input$event_ndims))
}

#' @export
format.tfb_real_nvp <- function(x, ...) {
  c(NextMethod(),
    sprintf("  num_masked: %d", .subset2(x, "num_masked")),
    format_conditioner(.subset2(x, "shift_and_log_scale_fn")))
}

#' @export
bijector_event_constraints.tfb_real_nvp <- function(bijector) {
  fn <- .subset2(bijector, "shift_and_log_scale_fn")
  if (!is_template(fn) || is.null(.subset2(fn, "input_size"))) {
    return(list())
  }
  event_constraint(bijector, -1L,
                   .subset2(fn, "input_size") + .subset2(fn, "output_units"),
                   "the built network")
}

#' @export
bijector_check_dims.tfb_real_nvp <- function(bijector, dims, arg) {
  size <- dims[[length(dims)]]
  real_nvp_check_size(bijector, size, arg)
  fn <- .subset2(bijector, "shift_and_log_scale_fn")
  if (is_template(fn)) {
    masked <- abs(.subset2(bijector, "num_masked"))
    template_check_size(fn, masked, size - masked, arg)
  }
  invisible()
}

# ---- gradients ----------------------------------------------------------------

# Both directions are one network pass on the masked units (which are the
# same in x and y), so both have a backward pass.

#' @export
bijector_parameter_slots.tfb_real_nvp <- function(bijector) {
  fn <- .subset2(bijector, "shift_and_log_scale_fn")
  if (!is_template(fn)) {
    return(list())
  }
  template_parameter_slots(fn)
}

real_nvp_with_cache <- function(bijector, value, event_ndims, arg,
                                direction) {
  fn <- require_template(bijector)
  input <- real_nvp_prepare(bijector, value, arg, event_ndims,
                            check_ndims = TRUE)
  step <- if (is_spline_template(fn)) {
    spline_coupling_step(fn, input, input$first_masked, input$output_units,
                         input$transformed, direction)
  } else {
    template_step_with_cache(fn, input, input$first_masked,
                             input$output_units, input$transformed,
                             direction, made = FALSE)
  }
  list(output = step$output,
       log_det = reduce_log_det(step$log_det, input$dims, input$event_ndims),
       cache = step$cache)
}

#' @export
bijector_inverse_with_cache.tfb_real_nvp <- function(bijector, y,
                                                     event_ndims) {
  pass <- real_nvp_with_cache(bijector, y, event_ndims, "y", -1L)
  list(x = pass$output, log_det = pass$log_det, cache = pass$cache)
}

#' @export
bijector_inverse_backward.tfb_real_nvp <- function(bijector, cache, grad_x,
                                                   grad_log_det) {
  real_nvp_backward(bijector, cache, grad_x, grad_log_det)
}

real_nvp_backward <- function(bijector, cache, grad_output, grad_log_det) {
  fn <- require_template(bijector)
  if (is_spline_template(fn)) {
    return(spline_coupling_backward(fn, cache, grad_output, grad_log_det))
  }
  template_step_backward(fn, cache, grad_output, grad_log_det)
}

#' @export
bijector_forward_with_cache.tfb_real_nvp <- function(bijector, x,
                                                     event_ndims) {
  pass <- real_nvp_with_cache(bijector, x, event_ndims, "x", 1L)
  list(y = pass$output, log_det = pass$log_det, cache = pass$cache)
}

#' @export
bijector_forward_backward.tfb_real_nvp <- function(bijector, cache, grad_y,
                                                   grad_log_det) {
  real_nvp_backward(bijector, cache, grad_y, grad_log_det)
}

#' @export
object_field_names.tfb_real_nvp <- function(x) {
  c(NextMethod(), "num_masked", "shift_and_log_scale_fn")
}

# the user's promise, given to the constructor
#' @export
bijector_is_constant_jacobian.tfb_real_nvp <- function(bijector) {
  .subset2(bijector, "is_constant_jacobian")
}
