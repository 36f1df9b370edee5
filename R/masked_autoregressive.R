# The masked autoregressive flow (Papamakarios et al., 2017) as TFP's
# MaskedAutoregressiveFlow: the inverse (density direction) is one network
# pass, the forward (sampling direction) event_size passes. The network is a
# MADE template (R/network.R); the affine step is src/affine_coupling.c.

#' Masked autoregressive flow
#'
#' The bijector of TFP's `MaskedAutoregressiveFlow`, as tfprobability's
#' `tfb_masked_autoregressive_flow()`. With `shift, log_scale =
#' shift_and_log_scale_fn(y)` autoregressive (output `i` depends only on
#' inputs before `i`), for each event of size `D` (the last axis):
#'
#' * `inverse(y)` (data to latent, the density direction) is one network
#'   pass: `x = (y - shift(y)) * exp(-log_scale(y))`, with
#'   inverse log-det-Jacobian `-sum(log_scale(y))` per event.
#' * `forward(x)` (sampling) takes `D` passes, as TFP: starting from
#'   `y = 0`, `D` times `y = x * exp(log_scale(y)) + shift(y)`. Its
#'   log-det-Jacobian is `sum(log_scale(forward(x)))` per event.
#'
#' Both directions can be trained (with a template; [loss_and_gradient()],
#' [fit()]). `tfb_invert()` of this bijector is an inverse autoregressive
#' flow (IAF, Kingma et al., 2016), whose density runs the `D` forward
#' passes: its gradient is exact for the whole sequential computation and
#' costs about `D` network reverse passes (the density direction costs
#' one). The gradient follows `log_scale_clip_gradient` of the template in
#' both directions. An R function has no derivatives: training through it
#' is an error of class `bijectors_error_unsupported`.
#'
#' The network weights are created when the bijector first sees data (see
#' [tfb_masked_autoregressive_default_template()]). Log-determinants have one
#' value per event: a vector for a matrix input, a number for a vector (one
#' event), an array of the batch shape for higher-rank input (events along
#' the last axis; with `event_ndims` above the bijector's minimum, summed
#' over the extra event dimensions).
#'
#' @param shift_and_log_scale_fn A template from
#'   [tfb_masked_autoregressive_default_template()], or an R function of an
#'   `N` x `D` matrix returning `list(shift, log_scale)`, two `N` x `D`
#'   matrices (either may be `NULL`: no shift, or no scaling). A function
#'   must itself be autoregressive for the result to be a bijection. Or a
#'   template from [tfb_masked_autoregressive_spline_template()]: each unit
#'   then goes through a rational quadratic spline instead of the affine
#'   map (a neural spline flow; TFP's `bijector_fn`).
#' @param is_constant_jacobian `TRUE` or `FALSE`, as TFP: a promise that
#'   `log_scale` does not depend on the input. Stored; it changes no result.
#' @param unroll_loop `TRUE` or `FALSE`; accepted for compatibility (the
#'   forward loop is the same either way).
#' @param event_ndims Whole number >= 1: the bijector's minimum event rank
#'   (TFP's `event_ndims`). The network acts on the last axis.
#' @param validate_args `TRUE` to check that inputs are finite.
#' @param name String or `NULL` (`"masked_autoregressive_flow"`).
#' @return A bijector of class
#'   `c("tfb_masked_autoregressive_flow", "bijector")`, with the methods
#'   `$forward()`, `$inverse()`, `$forward_log_det_jacobian()`,
#'   `$inverse_log_det_jacobian()` and the fields `$shift_and_log_scale_fn`,
#'   `$is_constant_jacobian`, `$unroll_loop`, `$event_ndims`, `$name`,
#'   `$validate_args`, `$forward_min_event_ndims` and
#'   `$inverse_min_event_ndims`.
#' @family bijectors
#' @seealso [tfb_masked_autoregressive_default_template()], [tfb_real_nvp()];
#'   `tfprobability::tfb_masked_autoregressive_flow()`.
#' @examples
#' set.seed(42)
#' maf <- tfb_masked_autoregressive_flow(
#'   tfb_masked_autoregressive_default_template(hidden_layers = c(16, 16)))
#' y <- matrix(rnorm(10), ncol = 2)
#' x <- maf$inverse(y)
#' maf$inverse_log_det_jacobian(y, event_ndims = 1)
#' all.equal(maf$forward(x), y)
#' maf
#'
#' # an inverse autoregressive flow, trained through the forward direction
#' iaf <- tfd_transformed_distribution(
#'   tfd_multivariate_normal_diag(loc = c(0, 0)),
#'   tfb_invert(tfb_masked_autoregressive_flow(
#'     tfb_masked_autoregressive_default_template(hidden_layers = c(8, 8)))))
#' loss_and_gradient(iaf, y)$loss
#' @export
tfb_masked_autoregressive_flow <- function(shift_and_log_scale_fn,
                                           is_constant_jacobian = FALSE,
                                           unroll_loop = FALSE,
                                           event_ndims = 1L,
                                           validate_args = FALSE,
                                           name = NULL) {
  check_shift_and_log_scale_fn(shift_and_log_scale_fn,
                               "tfb_masked_autoregressive_template",
                               "tfb_masked_autoregressive_default_template",
                               "tfb_masked_autoregressive_flow")
  ok <- is.numeric(event_ndims) && !is.object(event_ndims) &&
    length(event_ndims) == 1L && !is.na(event_ndims) &&
    is.finite(event_ndims) && event_ndims == round(event_ndims) &&
    event_ndims >= 1 && event_ndims <= .Machine$integer.max
  if (!ok) {
    abort_bijectors("event_ndims", sprintf(
      "`event_ndims` must be a whole number >= 1, not %s.",
      describe_value(event_ndims)))
  }
  new_bijector(
    "tfb_masked_autoregressive_flow",
    name = check_string(name %||% "masked_autoregressive_flow", "name"),
    forward_min_event_ndims = event_ndims,
    validate_args = check_flag(validate_args, "validate_args"),
    shift_and_log_scale_fn = shift_and_log_scale_fn,
    is_constant_jacobian = check_flag(is_constant_jacobian,
                                      "is_constant_jacobian"),
    unroll_loop = check_flag(unroll_loop, "unroll_loop"),
    event_ndims = as.integer(event_ndims)
  )
}

check_shift_and_log_scale_fn <- function(fn, template_class, template_maker,
                                         bijector_maker) {
  if (is_template(fn)) {
    if (!inherits(fn, template_class)) {
      abort_bijectors("template", sprintf(paste(
        "`shift_and_log_scale_fn` of %s() must be made by %s() (or be an R",
        "function), not a <%s>."), bijector_maker, template_maker,
        class(fn)[[1L]]))
    }
    return(invisible(fn))
  }
  if (!is.function(fn)) {
    abort_bijectors("template", sprintf(paste(
      "`shift_and_log_scale_fn` must be a template made by %s() or an R",
      "function, not %s."), template_maker, describe_value(fn)))
  }
  invisible(fn)
}

# Checks an input and makes sure the network exists for its event size.
# Everything that can fail is checked before the template is built.
maf_prepare <- function(bijector, x, arg, event_ndims = NULL,
                        check_ndims = FALSE) {
  input <- flow_input(bijector, x, arg)
  if (check_ndims) {
    input$event_ndims <- check_event_ndims(
      event_ndims, .subset2(bijector, "forward_min_event_ndims"),
      input$rank, arg)
  }
  if (.subset2(bijector, "validate_args") && !.Call(C_all_finite, input$x)) {
    abort_bijectors("input", sprintf(
      "`%s` contains NA, NaN or Inf values (validate_args = TRUE).", arg))
  }
  fn <- .subset2(bijector, "shift_and_log_scale_fn")
  if (is_template(fn) &&
      !template_check_size(fn, input$event_size, input$event_size, arg)) {
    template_build(fn, input$event_size, input$event_size)
  }
  input
}

maf_conditioner <- function(bijector, y, rows, event_size) {
  conditioner(.subset2(bijector, "shift_and_log_scale_fn"), y, rows, 0L,
              event_size, event_size, made = TRUE)
}

# One pass: list(output = x, log_det = per-row inverse log-det).
maf_inverse_pass <- function(bijector, input) {
  fn <- .subset2(bijector, "shift_and_log_scale_fn")
  if (is_spline_template(fn)) {
    return(maf_spline_inverse(fn, input))
  }
  conditioned <- maf_conditioner(bijector, input$x, input$rows,
                                 input$event_size)
  affine_step(input$x, conditioned, seq_len(input$event_size), -1L)
}

# event_size passes: list(output = y, log_det = per-row forward log-det).
# The last pass's log-scales are those at y itself: output i of an
# autoregressive network reads only inputs before i, and after pass D - 1
# those already hold their final values. A user's function, which need not
# be autoregressive, gets one more pass for the log-det.
maf_forward_pass <- function(bijector, input, with_log_det) {
  fn <- .subset2(bijector, "shift_and_log_scale_fn")
  if (is_spline_template(fn)) {
    return(maf_spline_forward(fn, input))
  }
  x <- input$x
  y <- numeric(length(x))
  result <- NULL
  for (pass in seq_len(input$event_size)) {
    conditioned <- maf_conditioner(bijector, y, input$rows, input$event_size)
    result <- affine_step(x, conditioned, seq_len(input$event_size), 1L)
    y <- result$output
  }
  if (with_log_det && !is_template(.subset2(bijector, "shift_and_log_scale_fn"))) {
    conditioned <- maf_conditioner(bijector, y, input$rows, input$event_size)
    result$log_det <- -affine_step(y, conditioned, seq_len(input$event_size),
                                   -1L)$log_det
  }
  result
}

#' @export
bijector_inverse.tfb_masked_autoregressive_flow <- function(bijector, y) {
  input <- maf_prepare(bijector, y, "y")
  maf_inverse_pass(bijector, input)$output
}

#' @export
bijector_inverse_log_det_jacobian.tfb_masked_autoregressive_flow <- function(
    bijector, y, event_ndims) {
  bijector_inverse_and_log_det(bijector, y, event_ndims)$log_det
}

#' @export
bijector_inverse_and_log_det.tfb_masked_autoregressive_flow <- function(
    bijector, y, event_ndims) {
  input <- maf_prepare(bijector, y, "y", event_ndims, check_ndims = TRUE)
  result <- maf_inverse_pass(bijector, input)
  list(x = result$output,
       log_det = reduce_log_det(result$log_det, input$dims, input$event_ndims))
}

#' @export
bijector_forward.tfb_masked_autoregressive_flow <- function(bijector, x) {
  input <- maf_prepare(bijector, x, "x")
  maf_forward_pass(bijector, input, with_log_det = FALSE)$output
}

#' @export
bijector_forward_log_det_jacobian.tfb_masked_autoregressive_flow <- function(
    bijector, x, event_ndims) {
  input <- maf_prepare(bijector, x, "x", event_ndims, check_ndims = TRUE)
  result <- maf_forward_pass(bijector, input, with_log_det = TRUE)
  reduce_log_det(result$log_det, input$dims, input$event_ndims)
}

format_conditioner <- function(fn) {
  if (is_template(fn)) {
    c(sprintf("  shift_and_log_scale_fn: <%s> \"%s\"", class(fn)[[1L]],
              .subset2(fn, "name")),
      paste0("    ", format_template_summary(fn)))
  } else {
    "  shift_and_log_scale_fn: an R function"
  }
}

#' @export
format.tfb_masked_autoregressive_flow <- function(x, ...) {
  c(NextMethod(), format_conditioner(.subset2(x, "shift_and_log_scale_fn")))
}

# A built template fixes the event size, so a chain can refuse a mismatched
# input before any member (say a training batch normalization) changes.
#' @export
bijector_event_constraints.tfb_masked_autoregressive_flow <- function(bijector) {
  fn <- .subset2(bijector, "shift_and_log_scale_fn")
  if (!is_template(fn) || is.null(.subset2(fn, "input_size"))) {
    return(list())
  }
  event_constraint(bijector, -1L, .subset2(fn, "input_size"),
                   "the built network")
}

#' @export
bijector_check_dims.tfb_masked_autoregressive_flow <- function(bijector, dims,
                                                               arg) {
  fn <- .subset2(bijector, "shift_and_log_scale_fn")
  if (is_template(fn) && !template_check_size(fn, dims[[length(dims)]],
                                              dims[[length(dims)]], arg)) {
    made_check_hidden(fn, dims[[length(dims)]])
  }
  invisible()
}

# ---- gradients ----------------------------------------------------------------

# The density direction is one network pass, so it is differentiable in one
# backward pass. The sampling direction (what tfb_invert() of a MAF, an
# inverse autoregressive flow, runs for log_prob) is D sequential passes;
# its gradient is that of the implicit function y = x * exp(s(y)) + t(y),
# in D network reverse passes (src/masked_autoregressive.c says how).

#' @export
bijector_parameter_slots.tfb_masked_autoregressive_flow <- function(bijector) {
  fn <- .subset2(bijector, "shift_and_log_scale_fn")
  if (!is_template(fn)) {
    return(list())
  }
  template_parameter_slots(fn)
}

#' @export
bijector_inverse_with_cache.tfb_masked_autoregressive_flow <- function(
    bijector, y, event_ndims) {
  fn <- require_template(bijector)
  input <- maf_prepare(bijector, y, "y", event_ndims, check_ndims = TRUE)
  columns <- seq_len(input$event_size)
  step <- if (is_spline_template(fn)) {
    maf_spline_inverse(fn, input)
  } else {
    template_step_with_cache(fn, input, 0L, input$event_size, columns, -1L,
                             made = TRUE)
  }
  list(x = step$output,
       log_det = reduce_log_det(step$log_det, input$dims, input$event_ndims),
       cache = step$cache)
}

#' @export
bijector_inverse_backward.tfb_masked_autoregressive_flow <- function(
    bijector, cache, grad_x, grad_log_det) {
  fn <- require_template(bijector)
  if (is_spline_template(fn)) {
    return(maf_spline_inverse_backward(fn, cache, grad_x, grad_log_det))
  }
  template_step_backward(fn, cache, grad_x, grad_log_det)
}

# The D passes of maf_forward_pass(), the last one keeping the network's
# hidden layers. Its network input is y after D - 1 passes, whose columns
# 1..D-1 are final: output i of a MADE reads only inputs before i, so the
# network there gives the outputs at the final y, and the backward pass may
# differentiate it there (column D, not final, reaches no output).
#' @export
bijector_forward_with_cache.tfb_masked_autoregressive_flow <- function(
    bijector, x, event_ndims) {
  fn <- require_template(bijector)
  input <- maf_prepare(bijector, x, "x", event_ndims, check_ndims = TRUE)
  if (is_spline_template(fn)) {
    step <- maf_spline_forward(fn, input)
    return(list(y = step$output,
                log_det = reduce_log_det(step$log_det, input$dims,
                                         input$event_ndims),
                cache = step$cache))
  }
  size <- input$event_size
  columns <- seq_len(size)
  network_input <- numeric(length(input$x))
  for (pass in columns) {
    last <- pass == size
    network <- template_network(fn, network_input, input$rows,
                                keep_hidden = last)
    conditioned <- template_conditioned(fn, if (last) network$output else
      network, size, made = TRUE)
    step <- affine_step(input$x, conditioned, columns, 1L)
    if (!last) {
      network_input <- step$output
    }
  }
  list(y = step$output,
       log_det = reduce_log_det(step$log_det, input$dims, input$event_ndims),
       cache = list(input = input, network_input = network_input,
                    network = network, conditioned = conditioned))
}

# The D sequential passes once for both the values and the log-det, when
# the network is a template (an inverted MAF's density needs both).
#' @export
bijector_forward_and_log_det.tfb_masked_autoregressive_flow <- function(
    bijector, x, event_ndims) {
  if (!is_template(.subset2(bijector, "shift_and_log_scale_fn"))) {
    return(NextMethod())
  }
  pass <- bijector_forward_with_cache(bijector, x, event_ndims)
  list(y = pass$y, log_det = pass$log_det)
}

#' @export
bijector_forward_backward.tfb_masked_autoregressive_flow <- function(
    bijector, cache, grad_y, grad_log_det) {
  fn <- require_template(bijector)
  if (is_spline_template(fn)) {
    return(maf_spline_forward_backward(fn, cache, grad_y, grad_log_det))
  }
  input <- cache$input
  conditioned <- cache$conditioned
  if (!is.double(grad_y)) {
    grad_y <- as.double(grad_y)
  }
  grad_rows <- rep_len(as.double(grad_log_det), input$rows)
  backward <- .Call(C_maf_forward_backward, input$x, cache$network_input,
                    .subset2(fn, "kernels"), .subset2(fn, "activation_codes"),
                    cache$network$hidden, cache$network$output,
                    .subset2(fn, "masks"), seq_len(input$event_size),
                    as.integer(conditioned$shift_columns),
                    as.integer(conditioned$log_scale_columns),
                    conditioned$clip,
                    isTRUE(.subset2(fn, "log_scale_clip_gradient")), grad_y,
                    grad_rows)
  layers <- length(backward$kernels)
  parameters <- vector("list", 2L * layers)
  parameters[2L * seq_len(layers) - 1L] <- backward$kernels
  parameters[2L * seq_len(layers)] <- backward$biases
  list(input = backward$input, parameters = parameters)
}

#' @export
object_field_names.tfb_masked_autoregressive_flow <- function(x) {
  c(NextMethod(), "shift_and_log_scale_fn", "unroll_loop", "event_ndims")
}

# the user's promise, given to the constructor
#' @export
bijector_is_constant_jacobian.tfb_masked_autoregressive_flow <- function(bijector) {
  .subset2(bijector, "is_constant_jacobian")
}
