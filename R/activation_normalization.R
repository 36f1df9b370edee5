# tfb_activation_normalization(): Glow's ActNorm (TFP's
# ActivationNormalization in glow.py), a per-channel affine map on the last
# axis whose scale and shift are set from the first data it sees, in either
# direction, and trained afterwards.
#
# TFP builds it as Invert(Chain([Scale(s), Shift(m)])), so
#   forward(x) = x / s - m,   inverse(y) = (y + m) * s,
# with s = exp(log_scale) trained in log space (a TransformedVariable through
# Exp) and m trained as it is. The state is two R vectors owned by the
# bijector (`parameters`: shift, then log_scale) and a flag `initialized`,
# so it saves with the object. The data-dependent initialisation is computed
# first and written only when the call that needs it has produced its
# result, so a call that fails leaves the bijector as it was.

#' Activation normalization (Glow's ActNorm)
#'
#' The ActNorm bijector of Glow (Kingma and Dhariwal, 2018), as TFP's
#' `ActivationNormalization` (`tfp$bijectors$glow$ActivationNormalization`,
#' the normalisation in each step of TFP's `Glow`): a per-channel affine map on
#' the last axis (channels last),
#'
#' * `forward(x) = x / s - m`,
#' * `inverse(y) = (y + m) * s`,
#'
#' with one scale `s > 0` and one shift `m` per channel. Its log-dets do not
#' depend on the input: `forward_log_det_jacobian` is `-sum(log(s))` per
#' event of one channel vector (`event_ndims = 1`), times the number of
#' positions of the further event axes (for an image event `H x W x C`,
#' `-H * W * sum(log(s))`).
#'
#' **Data-dependent initialisation.** A new bijector is not initialised.
#' The first call in either direction (including the log-dets) sets `s` and
#' `m` from its input, over every axis but the last: with `mu` and `sigma`
#' the per-channel mean and standard deviation (the biased one, as TF's
#' `reduce_std`) and `eps = .Machine$double.eps`,
#'
#' * inverse first (data `y`): `s = 1 / (sigma + 10 * eps)`, `m = -mu`;
#' * forward first (data `x`): `s = sigma + 10 * eps`, `m = mu / s`,
#'
#' so that in either case the output of that first call has per-channel mean
#' 0 and standard deviation 1. After that `s` and `m` change only by
#' training (as `log_scale = log(s)` and `shift = m`, both trainable
#' parameters; a gradient never flows into the initialisation, which is an
#' assignment in TFP too). The state changes only when the call succeeds.
#' Departure from TFP: input with `NA`, `NaN` or `Inf` on the initialising
#' call is refused (error of class `bijectors_error_input`), since it would
#' leave non-finite parameters for good; once initialised, non-finite
#' values propagate as in R arithmetic.
#'
#' @param nchan Whole number >= 1: the number of channels (the size of the
#'   last axis).
#' @param validate_args `TRUE` or `FALSE`; accepted for compatibility.
#' @param name String or `NULL` (`"activation_normalization"`).
#' @return A bijector of class
#'   `c("tfb_activation_normalization", "bijector")`, with
#'   `forward_min_event_ndims = 1`. Fields: `$nchan`, `$initialized`,
#'   `$scale` (`s`, `NULL` before initialisation), `$shift` (`m`, likewise)
#'   and the base's.
#' @family bijectors
#' @seealso [tfb_batch_normalization()] for normalisation with batch
#'   statistics.
#' @examples
#' set.seed(1)
#' images <- array(rnorm(4 * 3 * 3 * 2, mean = 5, sd = 3), c(4, 3, 3, 2))
#' actnorm <- tfb_activation_normalization(2)
#' actnorm$initialized
#' z <- actnorm$inverse(images)       # initialises from `images`
#' apply(z, 4, mean)                  # 0 per channel
#' apply(z, 4, function(v) sqrt(mean(v^2)))   # 1 per channel
#' actnorm$scale
#' all.equal(actnorm$forward(z), images)
#' actnorm$inverse_log_det_jacobian(images, event_ndims = 3)
#' @export
tfb_activation_normalization <- function(nchan, validate_args = FALSE,
                                         name = NULL) {
  nchan <- check_count(nchan, "nchan")
  bijector <- new_bijector(
    "tfb_activation_normalization",
    name = check_string(name %||% "activation_normalization", "name"),
    forward_min_event_ndims = 1L,
    validate_args = check_flag(validate_args, "validate_args"),
    nchan = nchan,
    parameters = list(shift = numeric(nchan), log_scale = numeric(nchan)),
    initialized = FALSE
  )
  bijector
}

# The input as a double array with `nchan` values along its last axis.
actnorm_input <- function(bijector, x, arg) {
  x <- as_input_array(x, arg)
  dims <- input_dims(x)
  nchan <- .subset2(bijector, "nchan")
  if (dims[[length(dims)]] != nchan) {
    abort_bijectors("event_size", sprintf(paste(
      "`%s` has %s values along its last axis, but <%s> \"%s\" has %d",
      "channels."), arg, format(dims[[length(dims)]]),
      class(bijector)[[1L]], .subset2(bijector, "name"), nchan))
  }
  if (length(x) == 0L) {
    abort_bijectors("input", sprintf("`%s` has no values.", arg))
  }
  x
}

# The shift and log-scale for a call on `input` in `direction` ("forward"
# or "inverse"): the current ones, or TFP's data-dependent ones when the
# bijector is not initialised yet (list(..., initialize = TRUE); nothing is
# written here).
actnorm_values <- function(bijector, input, direction, arg) {
  parameters <- .subset2(bijector, "parameters")
  if (.subset2(bijector, "initialized")) {
    return(list(shift = parameters[[1L]], log_scale = parameters[[2L]],
                initialize = FALSE))
  }
  if (!all(is.finite(input))) {
    abort_bijectors("input", sprintf(paste(
      "`%s` must be finite on the first call of <%s> \"%s\": its",
      "data-dependent initialisation would leave non-finite parameters."),
      arg, class(bijector)[[1L]], .subset2(bijector, "name")))
  }
  nchan <- .subset2(bijector, "nchan")
  values <- matrix(input, ncol = nchan)
  mu <- colMeans(values)
  # two passes: the mean, then the mean squared deviation (biased, TF's
  # reduce_std)
  sigma <- sqrt(colMeans(sweep(values, 2L, mu)^2))
  s <- sigma + 10 * .Machine$double.eps
  if (direction == "inverse") {
    list(shift = -mu, log_scale = -log(s), initialize = TRUE)
  } else {
    list(shift = mu / s, log_scale = log(s), initialize = TRUE)
  }
}

# Writes a data-dependent initialisation, once the call that computed it
# has its result.
actnorm_commit <- function(bijector, values) {
  if (isTRUE(values$initialize)) {
    assign("parameters", list(shift = values$shift,
                              log_scale = values$log_scale),
           envir = bijector)
    assign("initialized", TRUE, envir = bijector)
  }
  invisible()
}

# forward: x * exp(-log_scale) - shift; inverse: (y + shift) *
# exp(log_scale), channel by channel (the last axis varies slowest).
actnorm_apply <- function(input, values, direction) {
  rows <- length(input) %/% length(values$shift)
  if (direction == "forward") {
    input * rep(exp(-values$log_scale), each = rows) -
      rep(values$shift, each = rows)
  } else {
    (input + rep(values$shift, each = rows)) *
      rep(exp(values$log_scale), each = rows)
  }
}

# log|det| of the forward map at event_ndims, a number.
actnorm_forward_log_det <- function(values, dims, event_ndims, arg) {
  event_ndims <- check_event_ndims(event_ndims, 1L, length(dims), arg)
  -sum(values$log_scale) * log_det_multiplier(dims, event_ndims, 1L)
}

#' @export
bijector_forward.tfb_activation_normalization <- function(bijector, x) {
  x <- actnorm_input(bijector, x, "x")
  values <- actnorm_values(bijector, x, "forward", "x")
  y <- actnorm_apply(x, values, "forward")
  actnorm_commit(bijector, values)
  y
}

#' @export
bijector_inverse.tfb_activation_normalization <- function(bijector, y) {
  y <- actnorm_input(bijector, y, "y")
  values <- actnorm_values(bijector, y, "inverse", "y")
  x <- actnorm_apply(y, values, "inverse")
  actnorm_commit(bijector, values)
  x
}

#' @export
bijector_forward_log_det_jacobian.tfb_activation_normalization <- function(
    bijector, x, event_ndims) {
  x <- actnorm_input(bijector, x, "x")
  values <- actnorm_values(bijector, x, "forward", "x")
  log_det <- actnorm_forward_log_det(values, input_dims(x), event_ndims, "x")
  actnorm_commit(bijector, values)
  log_det
}

#' @export
bijector_inverse_log_det_jacobian.tfb_activation_normalization <- function(
    bijector, y, event_ndims) {
  y <- actnorm_input(bijector, y, "y")
  values <- actnorm_values(bijector, y, "inverse", "y")
  log_det <- -actnorm_forward_log_det(values, input_dims(y), event_ndims, "y")
  actnorm_commit(bijector, values)
  log_det
}

#' @export
bijector_event_constraints.tfb_activation_normalization <- function(bijector) {
  event_constraint(bijector, -1L, .subset2(bijector, "nchan"), "the channels")
}

# ---- training ------------------------------------------------------------------

# Both directions keep the output (the backward passes need it) and the
# log-det's multiplier. With s = exp(l):
#   forward  y = x / s - m:   dL/dx = g / s, dL/dm = -sum g,
#            dL/dl = -sum g * x / s - w * multiplier
#   inverse  x = (y + m) s:   dL/dy = g s, dL/dm = sum g s,
#            dL/dl = sum g * x + w * multiplier
# where g is the output's gradient, sums run over every axis but the last,
# and w is the total weight of the log-det (the log-det being a number).

#' @export
bijector_forward_with_cache.tfb_activation_normalization <- function(
    bijector, x, event_ndims) {
  x <- actnorm_input(bijector, x, "x")
  values <- actnorm_values(bijector, x, "forward", "x")
  dims <- input_dims(x)
  event_ndims <- check_event_ndims(event_ndims, 1L, length(dims), "x")
  multiplier <- log_det_multiplier(dims, event_ndims, 1L)
  y <- actnorm_apply(x, values, "forward")
  actnorm_commit(bijector, values)
  list(y = y, log_det = -sum(values$log_scale) * multiplier,
       cache = list(input = x, values = values, multiplier = multiplier))
}

#' @export
bijector_inverse_with_cache.tfb_activation_normalization <- function(
    bijector, y, event_ndims) {
  y <- actnorm_input(bijector, y, "y")
  values <- actnorm_values(bijector, y, "inverse", "y")
  dims <- input_dims(y)
  event_ndims <- check_event_ndims(event_ndims, 1L, length(dims), "y")
  multiplier <- log_det_multiplier(dims, event_ndims, 1L)
  x <- actnorm_apply(y, values, "inverse")
  actnorm_commit(bijector, values)
  list(x = x, log_det = sum(values$log_scale) * multiplier,
       cache = list(output = x, values = values, multiplier = multiplier))
}

#' @export
bijector_forward_backward.tfb_activation_normalization <- function(
    bijector, cache, grad_y, grad_log_det) {
  values <- cache$values
  nchan <- length(values$shift)
  rows <- length(cache$input) %/% nchan
  grad_y <- as_gradient(grad_y)
  inverse_scale <- rep(exp(-values$log_scale), each = rows)
  input <- grad_y * inverse_scale
  weight <- sum(grad_log_det) * cache$multiplier
  list(input = shaped_like(input, cache$input),
       parameters = list(
         shift = -colSums(matrix(grad_y, ncol = nchan)),
         log_scale = -colSums(matrix(input * cache$input, ncol = nchan)) -
           weight))
}

#' @export
bijector_inverse_backward.tfb_activation_normalization <- function(
    bijector, cache, grad_x, grad_log_det) {
  values <- cache$values
  nchan <- length(values$shift)
  rows <- length(cache$output) %/% nchan
  grad_x <- as_gradient(grad_x)
  input <- grad_x * rep(exp(values$log_scale), each = rows)
  weight <- sum(grad_log_det) * cache$multiplier
  list(input = shaped_like(input, cache$output),
       parameters = list(
         shift = colSums(matrix(input, ncol = nchan)),
         log_scale = colSums(matrix(grad_x * cache$output, ncol = nchan)) +
           weight))
}

#' @export
bijector_parameter_slots.tfb_activation_normalization <- function(bijector) {
  list(parameter_slot("shift", bijector, "parameters", 1L),
       parameter_slot("log_scale", bijector, "parameters", 2L,
                      constraint = "log_positive"))
}

# ---- fields and printing -------------------------------------------------------

#' @export
object_field_names.tfb_activation_normalization <- function(x) {
  c(NextMethod(), "nchan", "initialized", "scale", "shift")
}

#' @export
object_field.tfb_activation_normalization <- function(x, name) {
  initialized <- .subset2(x, "initialized")
  parameters <- .subset2(x, "parameters")
  switch(name,
    scale = if (initialized) exp(parameters[[2L]]),
    shift = if (initialized) parameters[[1L]] + 0,
    NextMethod()
  )
}

#' @export
format.tfb_activation_normalization <- function(x, ...) {
  parameters <- .subset2(x, "parameters")
  c(NextMethod(),
    sprintf("  channels: %d; %s", .subset2(x, "nchan"),
            if (.subset2(x, "initialized")) "initialised" else
              "not initialised (the first call sets scale and shift)"),
    if (.subset2(x, "initialized")) c(
      paste0("  scale: ", format_values(exp(parameters[[2L]]))),
      paste0("  shift: ", format_values(parameters[[1L]]))))
}
