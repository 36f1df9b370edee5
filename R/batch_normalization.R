# Batch normalization: the Keras-style layer that owns the state, and the
# TFP bijector that uses it. The C side is src/batch_norm.c.

keras_options <- list(
  renorm = FALSE, renorm_clipping = NULL, renorm_momentum = 0.99,
  fused = NULL, trainable = TRUE, virtual_batch_size = NULL,
  adjustment = NULL, beta_regularizer = NULL, gamma_regularizer = NULL,
  beta_constraint = NULL, synchronized = FALSE, input_shape = NULL,
  batch_input_shape = NULL, batch_size = NULL, dtype = NULL, weights = NULL
)

# Options that change nothing in this implementation, whatever their value.
keras_options_ignored <- c("fused", "renorm_momentum", "dtype")

initial_values <- function(initializer, n) {
  if (is.character(initializer)) {
    initializer <- if (initializer == "ones") 1 else 0
  }
  rep(as.double(initializer), n)
}

#' A batch-normalization layer
#'
#' Makes the layer that holds the state of a batch-normalization bijector:
#' `gamma`, `beta` and the running averages `moving_mean` and
#' `moving_variance`. Argument names and defaults are those of R keras'
#' `layer_batch_normalization()`. Pass the layer to
#' [tfb_batch_normalization()]; two bijectors made on the same layer share
#' its state, which is how a training and an evaluation view of one model are
#' made.
#'
#' The layer is built from the first input it sees: its parameters have one
#' entry per feature, `prod(dim(y)[axis])`. Later inputs must have the same
#' feature dimensions.
#'
#' The state is modified in place by training calls of the bijector. Fields
#' read with `$` (`layer$moving_mean`, `layer$gamma`, ...) and
#' [get_weights()] return copies, so a value you hold never changes behind
#' your back; [set_weights()] copies new values in.
#'
#' @param axis Integer vector: the feature axes, 1-based positions in
#'   `dim(y)`, negative from the end (`-1`, the default, is the last axis).
#'   Note that Python counts axes from 0.
#' @param momentum Number in \[0, 1\]: the weight of the **old** value in the
#'   running averages, `new = momentum * old + (1 - momentum) * batch` (Keras'
#'   convention; PyTorch's momentum is `1 - momentum`, so PyTorch 0.1 is
#'   0.9 here).
#' @param epsilon Non-negative number added to the variance.
#' @param center,scale `TRUE` or `FALSE`: use `beta` (otherwise 0) and
#'   `gamma` (otherwise 1).
#' @param beta_initializer,gamma_initializer,moving_mean_initializer,moving_variance_initializer
#'   `"zeros"`, `"ones"` or a single number: the initial values.
#' @param gamma_constraint `NULL` or a function applied to `gamma` after each
#'   optimizer step.
#' @param name A string, or `NULL` for `"batch_normalization"`.
#' @param ... Other Keras options. `renorm`, `virtual_batch_size`,
#'   regularizers, `beta_constraint` and `trainable = FALSE` are not supported
#'   and give an error unless at their defaults; `fused`, `renorm_momentum`
#'   and `dtype` are accepted and ignored.
#' @section Reference semantics:
#' The layer is a reference object (an environment), as keras models are:
#' `copy <- x` makes a second name for the same object, and training or
#' assigning parameters through one name changes what the other shows. Use
#' [deep_copy()] for an independent copy. Fields read with `$` are copies.
#' @return A layer object of class `layer_batch_normalization`.
#' @family batch normalization
#' @seealso `keras::layer_batch_normalization()`,
#'   `vignette("batch-normalization", package = "bijectors")`.
#' @examples
#' layer <- layer_batch_normalization(momentum = 0.9)
#' layer
#' b <- tfb_batch_normalization(layer)
#' x <- tfb_inverse(b, matrix(rnorm(30, mean = 5), ncol = 3))
#' layer$moving_mean
#' @export
layer_batch_normalization <- function(axis = -1L, momentum = 0.99,
                                      epsilon = 1e-3, center = TRUE,
                                      scale = TRUE,
                                      beta_initializer = "zeros",
                                      gamma_initializer = "ones",
                                      moving_mean_initializer = "zeros",
                                      moving_variance_initializer = "ones",
                                      gamma_constraint = NULL, name = NULL,
                                      ...) {
  check_keras_options(list(...))
  layer <- new.env(parent = emptyenv())
  layer$axis <- check_axis(axis)
  layer$momentum <- check_number(momentum, "momentum", 0, 1)
  layer$epsilon <- check_number(epsilon, "epsilon", 0,
                                what = "a finite number >= 0")
  layer$center <- check_flag(center, "center")
  layer$scale <- check_flag(scale, "scale")
  layer$beta_initializer <- check_initializer(beta_initializer,
                                              "beta_initializer")
  layer$gamma_initializer <- check_initializer(gamma_initializer,
                                               "gamma_initializer")
  layer$moving_mean_initializer <- check_initializer(
    moving_mean_initializer, "moving_mean_initializer")
  layer$moving_variance_initializer <- check_initializer(
    moving_variance_initializer, "moving_variance_initializer", lower = 0)
  if (!is.null(gamma_constraint) && !is.function(gamma_constraint)) {
    abort_bijectors("argument", sprintf(
      "`gamma_constraint` must be NULL or a function, not %s.",
      describe_value(gamma_constraint)))
  }
  layer$gamma_constraint <- gamma_constraint
  layer$name <- check_string(name %||% "batch_normalization", "name")
  layer$feature_shape <- NULL
  layer$state <- NULL
  layer$pointer <- NULL
  class(layer) <- c("layer_batch_normalization", "bijectors_layer")
  layer
}

layer_fields <- c(
  "axis", "momentum", "epsilon", "center", "scale", "beta_initializer",
  "gamma_initializer", "moving_mean_initializer",
  "moving_variance_initializer", "gamma_constraint", "name", "feature_shape"
)
state_fields <- c("gamma", "beta", "moving_mean", "moving_variance")

#' @export
object_field_names.layer_batch_normalization <- function(x) {
  c(layer_fields, state_fields, "built")
}

#' @export
object_field.layer_batch_normalization <- function(x, name) {
  if (name %in% state_fields) {
    state <- .subset2(x, "state")
    return(if (!is.null(state)) state[[name]])
  }
  if (name == "built") {
    return(!is.null(.subset2(x, "state")))
  }
  NextMethod()
}

#' @export
object_change_hint.layer_batch_normalization <- function(x) {
  "Use set_weights() to change its weights."
}

layer_features <- function(layer) {
  prod(.subset2(layer, "feature_shape"))
}

bn_build <- function(layer, feature_shape) {
  n <- prod(as.double(feature_shape))
  state <- .Call(
    C_bn_state_new,
    initial_values(.subset2(layer, "gamma_initializer"), n),
    initial_values(.subset2(layer, "beta_initializer"), n),
    initial_values(.subset2(layer, "moving_mean_initializer"), n),
    initial_values(.subset2(layer, "moving_variance_initializer"), n)
  )
  assign("feature_shape", feature_shape, envir = layer)
  assign("state", state, envir = layer)
  assign("pointer", NULL, envir = layer)
  invisible(layer)
}

bn_unbuild <- function(layer) {
  assign("feature_shape", NULL, envir = layer)
  assign("state", NULL, envir = layer)
  assign("pointer", NULL, envir = layer)
  invisible(layer)
}

# The pointer the kernels use. After readRDS() its address is NULL, and in
# a copied environment it belongs to the original layer; either way a new
# one is made for this layer, whose state vectors are the only source of
# truth.
bn_pointer <- function(layer) {
  pointer <- .subset2(layer, "pointer")
  if (is.null(pointer) || !.Call(C_bn_pointer_current, pointer, layer)) {
    pointer <- .Call(C_bn_pointer_new, layer)
    assign("pointer", pointer, envir = layer)
  }
  pointer
}

# Checks an input against the layer and returns what the kernels need.
# Builds nothing: callers build only once every check has passed.
bn_input <- function(layer, y, arg) {
  # the common case in one step: a double matrix with one feature axis, for
  # a layer built for it (tiny training batches are dominated by these
  # checks)
  dims <- dim(y)
  if (length(dims) == 2L && is.double(y) && !is.object(y)) {
    axis <- .subset2(layer, "axis")
    if (length(axis) == 1L && (axis == -1L || axis == 2L) &&
        identical(dims[[2L]], .subset2(layer, "feature_shape"))) {
      return(list(y = y, dims = dims, axes = 2L, feature_shape = dims[[2L]]))
    }
  }
  y <- as_input_array(y, arg)
  dims <- input_dims(y)
  axes <- resolve_axes(.subset2(layer, "axis"), length(dims), arg)
  if (is.double(dims) && any(dims[axes] > .Machine$integer.max)) {
    abort_bijectors("feature_dim", sprintf(paste(
      "`%s` has %s values along its feature axis %s; at most %d features",
      "are supported."), arg, format(max(dims[axes])),
      paste(.subset2(layer, "axis"), collapse = ", "), .Machine$integer.max))
  }
  feature_shape <- as.integer(dims[axes])
  built_shape <- .subset2(layer, "feature_shape")
  if (is.null(built_shape)) {
    if (any(feature_shape == 0L)) {
      abort_bijectors("feature_dim", sprintf(
        "`%s` has no features: its dimension along axis %s is 0.", arg,
        paste(.subset2(layer, "axis"), collapse = ", ")))
    }
  } else if (!identical(feature_shape, built_shape)) {
    abort_bijectors("feature_dim", sprintf(paste(
      "`%s` has feature dimension%s %s along axis %s, but the layer was",
      "built for %s."), arg, if (length(axes) > 1L) "s" else "",
      paste(feature_shape, collapse = " x "),
      paste(.subset2(layer, "axis"), collapse = ", "),
      paste(built_shape, collapse = " x ")))
  }
  list(y = y, dims = dims, axes = axes, feature_shape = feature_shape)
}

bn_check_finite <- function(y, arg) {
  if (!.Call(C_all_finite, y)) {
    abort_bijectors("nonfinite", sprintf(
      "`%s` contains NA, NaN or Inf values.", arg))
  }
}

bn_check_gamma <- function(layer) {
  if (.subset2(layer, "scale") &&
      !all(.subset2(.subset2(layer, "state"), "gamma") > 0)) {
    abort_bijectors("argument",
                    "The layer's `gamma` must be positive (validate_args = TRUE).")
  }
}

#' Batch normalization as a bijector
#'
#' The batch-normalization bijector of TensorFlow Probability, as
#' tfprobability's `tfb_batch_normalization()`. Its **inverse** normalizes
#' data (the direction a flow uses to compute densities); its **forward** map
#' de-normalizes.
#'
#' * `inverse(y)` with `training = TRUE` uses the mean `m` and the biased
#'   variance `v` of the batch, per feature, over all axes but the feature
#'   axes: `x = gamma * (y - m) / sqrt(v + epsilon) + beta`. It then updates
#'   the layer's running averages in place:
#'   `moving_mean = momentum * moving_mean + (1 - momentum) * m`, and the same
#'   for `moving_variance` with `v`. With `training = FALSE` it uses the
#'   running averages and updates nothing.
#' * `forward(x)` always uses the running averages:
#'   `y = (x - beta) / gamma * sqrt(moving_variance + epsilon) + moving_mean`.
#'   So forward and inverse are exact inverses only when `training = FALSE`.
#' * The inverse log-det-Jacobian is the number
#'   `sum(log(gamma)) - 0.5 * sum(log(v + epsilon))`, with `v` the batch
#'   variance in training and the running variance otherwise; the forward
#'   log-det-Jacobian is minus that with the running variance.
#'
#' A training batch must have at least one row (one row gives `v = 0`) and
#' no `NA`, `NaN` or `Inf`: such a batch is refused before anything changes,
#' since it would spoil the running averages for good. For the same reason a
#' batch whose mean or variance overflows double precision (values beyond
#' about `1e154` in magnitude, whose squares exceed `1.8e308`) is refused
#' with an error of class `bijectors_error_overflow`, and, when `epsilon` is
#' 0, so is a batch with a zero-variance feature (class
#' `bijectors_error_zero_variance`); nothing changes. Values up to about
#' `1e150` and down to `1e-150` in magnitude, and zero-variance features
#' with the default `epsilon`, give finite outputs and log-dets.
#'
#' To evaluate a model, make a second bijector on the same layer:
#' `tfb_batch_normalization(b$batchnorm, training = FALSE)`.
#'
#' Departures from TFP, on purpose: the variance is biased everywhere (Keras
#' feeds the unbiased one into the running variance for 4-D and 5-D input);
#' with one feature axis that is not the last, on input of rank 3 or more,
#' the log-det is the plain sum over the features (TFP's is too large by the
#' number of features); `scale = FALSE` gives log-dets with `gamma` taken as
#' 1 (TFP's fail); non-finite training batches are refused; axes are 1-based;
#' computations are in double precision.
#'
#' @param batchnorm_layer A layer from [layer_batch_normalization()], or
#'   `NULL` for a new default layer whose `gamma_constraint` keeps `gamma`
#'   positive (`pmax(gamma, 0) + 1e-6`).
#' @param training `TRUE` (use and update batch statistics in the inverse)
#'   or `FALSE` (use the running averages).
#' @param validate_args `TRUE` to check, at the cost of a pass over the data,
#'   that inputs are finite and `gamma` is positive.
#' @param name A string: the bijector's name.
#' @return A bijector of class `c("tfb_batch_normalization", "bijector")` with
#'   the methods `$forward(x)`, `$inverse(y)`,
#'   `$forward_log_det_jacobian(x, event_ndims)` and
#'   `$inverse_log_det_jacobian(y, event_ndims)`, and the fields `$name`,
#'   `$batchnorm` (the layer), `$training`, `$validate_args`,
#'   `$forward_min_event_ndims` and `$inverse_min_event_ndims` (1 for one
#'   feature axis, otherwise the number of feature axes).
#' @family batch normalization
#' @seealso [tfb_forward()], [tfb_inverse_log_det_jacobian()],
#'   `tfprobability::tfb_batch_normalization()`,
#'   `vignette("batch-normalization", package = "bijectors")`.
#' @examples
#' set.seed(1)
#' y <- matrix(rnorm(200, mean = 10, sd = 3), ncol = 2)
#' b <- tfb_batch_normalization()
#' x <- b$inverse(y)          # normalized with the batch statistics
#' colMeans(x)
#' b$batchnorm$moving_mean    # moved 1% of the way to the batch mean
#'
#' # an evaluation view of the same layer
#' evaluation <- tfb_batch_normalization(b$batchnorm, training = FALSE)
#' all.equal(tfb_forward(evaluation, tfb_inverse(evaluation, y)), y)
#' tfb_inverse_log_det_jacobian(evaluation, y, event_ndims = 1)
#'
#' # models survive saveRDS()
#' file <- tempfile(fileext = ".rds")
#' saveRDS(b, file)
#' identical(readRDS(file)$inverse(y), b$inverse(y))
#' @export
tfb_batch_normalization <- function(batchnorm_layer = NULL, training = TRUE,
                                    validate_args = FALSE,
                                    name = "batch_normalization") {
  if (is.null(batchnorm_layer)) {
    batchnorm_layer <- layer_batch_normalization(
      gamma_constraint = positive_gamma_constraint
    )
  } else if (!is_batchnorm_layer(batchnorm_layer)) {
    abort_bijectors("layer", sprintf(paste(
      "`batchnorm_layer` must be a layer made by layer_batch_normalization()",
      "of this package, not %s."), describe_value(batchnorm_layer)))
  }
  axis <- .subset2(batchnorm_layer, "axis")
  new_bijector(
    "tfb_batch_normalization",
    name = check_string(name, "name"),
    forward_min_event_ndims = length(axis),
    validate_args = check_flag(validate_args, "validate_args"),
    batchnorm = batchnorm_layer,
    training = check_flag(training, "training")
  )
}

# A layer made by layer_batch_normalization(), not just something with its
# class attribute.
is_batchnorm_layer <- function(x) {
  inherits(x, "layer_batch_normalization") && is.environment(x) &&
    all(c(layer_fields, "state", "pointer") %in% ls(x, all.names = TRUE))
}

positive_gamma_constraint <- function(gamma) {
  pmax(gamma, 0) + 1e-6
}

# TRUE for a layer whose gamma the default constraint keeps positive: values
# set by hand (set_weights(), trainable_parameters<-) must then be positive
# too, since the log-det takes log(gamma).
bn_gamma_kept_positive <- function(layer) {
  .subset2(layer, "scale") &&
    identical(.subset2(layer, "gamma_constraint"), positive_gamma_constraint)
}

#' @export
bijector_inverse.tfb_batch_normalization <- function(bijector, y) {
  if (.subset2(bijector, "training")) {
    layer <- .subset2(bijector, "batchnorm")
    # a plain matrix for a built layer: checks and kernel in one call (NULL
    # when the case is not that one, or the batch is refused)
    if (!.subset2(bijector, "validate_args")) {
      x <- .Call(C_bn_inverse_training_quick, layer, y)
      if (!is.null(x)) {
        return(x)
      }
    }
    # bn_inverse() without the log-det, one call shorter
    input <- bn_input(layer, y, "y")
    return(bn_inverse_training(bijector, layer, input, FALSE))
  }
  bn_inverse(bijector, y, with_log_det = FALSE)
}

#' @export
bijector_inverse_and_log_det.tfb_batch_normalization <- function(
    bijector, y, event_ndims) {
  if (!.subset2(bijector, "training")) {
    return(NextMethod())
  }
  result <- bn_inverse(bijector, y, with_log_det = TRUE, event_ndims)
  list(x = result[[1L]], log_det = result[[2L]])
}

# The inverse, and with `with_log_det` also its log-det from the same batch
# statistics (training mode only) as list(x, log_det, mean, variance).
bn_inverse <- function(bijector, y, with_log_det, event_ndims = NULL) {
  layer <- .subset2(bijector, "batchnorm")
  input <- bn_input(layer, y, "y")
  if (with_log_det) {
    min_event_ndims <- .subset2(bijector, "inverse_min_event_ndims")
    event_ndims <- check_event_ndims(event_ndims, min_event_ndims,
                                     length(input$dims), "y")
  }
  training <- .subset2(bijector, "training")
  if (!training) {
    bn_build_and_validate(bijector, layer, input, "y")
    return(bn_inverse_evaluation(layer, input))
  }
  out <- bn_inverse_training(bijector, layer, input, with_log_det)
  if (with_log_det) {
    out[[2L]] <- out[[2L]] * log_det_multiplier(input$dims, event_ndims,
                                                min_event_ndims)
  }
  out
}

bn_inverse_evaluation <- function(layer, input) {
  .Call(C_bn_transform, bn_pointer(layer), input$y, input$dims, input$axes,
        .subset2(layer, "epsilon"), .subset2(layer, "center"),
        .subset2(layer, "scale"), -1L)
}

# The training-mode inverse of a checked input: builds the layer if needed,
# normalizes with the batch statistics and updates the running ones. With
# `with_log_det`, list(x, log_det (without the event_ndims multiplier),
# batch mean, batch variance).
bn_inverse_training <- function(bijector, layer, input, with_log_det) {
  if (length(input$y) == 0L) {
    abort_bijectors("empty_batch",
                    "`y` is an empty training batch: it must have at least one row.")
  }
  built_now <- is.null(.subset2(layer, "state"))
  if (built_now || .subset2(bijector, "validate_args")) {
    bn_build_and_validate(bijector, layer, input, "y")
  }
  out <- .Call(C_bn_inverse_training, bn_pointer(layer), input$y, input$dims,
               input$axes, .subset2(layer, "momentum"),
               .subset2(layer, "epsilon"), .subset2(layer, "center"),
               .subset2(layer, "scale"), with_log_det)
  if (is.integer(out)) {
    if (built_now) {
      bn_unbuild(layer)
    }
    refusal <- bn_refusal_errors[[out]]
    abort_bijectors(refusal[["what"]], refusal[["message"]])
  }
  out
}

# Why the C kernel refused a training batch, by its code (src/batch_norm.c).
# It refuses before writing anything, so nothing has changed.
bn_refusal_errors <- list(
  list(what = "nonfinite", message = paste(
    "`y` contains NA, NaN or Inf values; a training batch must be finite,",
    "since it would spoil the running statistics. Nothing was changed.")),
  list(what = "overflow", message = paste(
    "The batch mean or variance of `y` overflows double precision",
    "(values beyond about 1e154 in magnitude); the running statistics",
    "would become infinite. Nothing was changed: rescale the data.")),
  list(what = "zero_variance", message = paste(
    "`y` has a feature with zero batch variance (a constant feature or a",
    "single row) and the layer's `epsilon` is 0, so it cannot be",
    "normalized. Nothing was changed: use `epsilon > 0`."))
)

#' @export
bijector_forward.tfb_batch_normalization <- function(bijector, x) {
  layer <- .subset2(bijector, "batchnorm")
  input <- bn_input(layer, x, "x")
  bn_build_and_validate(bijector, layer, input, "x")
  .Call(C_bn_transform, bn_pointer(layer), input$y, input$dims, input$axes,
        .subset2(layer, "epsilon"), .subset2(layer, "center"),
        .subset2(layer, "scale"), 1L)
}

# Builds the layer if needed and runs validate_args' checks, leaving the
# layer unbuilt if a check fails.
bn_build_and_validate <- function(bijector, layer, input, arg) {
  validate <- .subset2(bijector, "validate_args")
  if (validate) {
    bn_check_finite(input$y, arg)
  }
  if (is.null(.subset2(layer, "state"))) {
    bn_build(layer, input$feature_shape)
    if (validate) {
      tryCatch(bn_check_gamma(layer), error = function(e) {
        bn_unbuild(layer)
        stop(e)
      })
    }
  } else if (validate) {
    bn_check_gamma(layer)
  }
  invisible()
}

#' @export
bijector_inverse_log_det_jacobian.tfb_batch_normalization <- function(
    bijector, y, event_ndims) {
  layer <- .subset2(bijector, "batchnorm")
  input <- bn_input(layer, y, "y")
  event_ndims <- check_event_ndims(
    event_ndims, .subset2(bijector, "inverse_min_event_ndims"),
    length(input$dims), "y")
  training <- .subset2(bijector, "training")
  if (training && length(input$y) == 0L) {
    abort_bijectors("empty_batch",
                    "`y` is an empty training batch: it must have at least one row.")
  }
  built_now <- is.null(.subset2(layer, "state"))
  bn_build_and_validate(bijector, layer, input, "y")
  log_det <- .Call(C_bn_inverse_log_det, bn_pointer(layer),
                   if (training) input$y else NULL, input$dims, input$axes,
                   .subset2(layer, "epsilon"), .subset2(layer, "scale"))
  # Non-finite data give a non-finite log-det, as R's arithmetic would; a
  # finite batch can only get one from a variance that overflows (or is 0
  # with epsilon = 0), which the training inverse refuses too.
  if (training && !is.finite(log_det) && .Call(C_all_finite, input$y)) {
    if (built_now) {
      bn_unbuild(layer)
    }
    abort_bijectors("overflow", paste(
      "The batch variance of `y` overflows double precision (values beyond",
      "about 1e154 in magnitude), or is 0 with `epsilon = 0`: its",
      "log-determinant is not finite."))
  }
  log_det * log_det_multiplier(input$dims, event_ndims,
                               .subset2(bijector, "inverse_min_event_ndims"))
}

#' @export
bijector_forward_log_det_jacobian.tfb_batch_normalization <- function(
    bijector, x, event_ndims) {
  layer <- .subset2(bijector, "batchnorm")
  input <- bn_input(layer, x, "x")
  event_ndims <- check_event_ndims(
    event_ndims, .subset2(bijector, "forward_min_event_ndims"),
    length(input$dims), "x")
  bn_build_and_validate(bijector, layer, input, "x")
  log_det <- .Call(C_bn_inverse_log_det, bn_pointer(layer), NULL, input$dims,
                   input$axes, .subset2(layer, "epsilon"),
                   .subset2(layer, "scale"))
  -log_det * log_det_multiplier(input$dims, event_ndims,
                                .subset2(bijector, "forward_min_event_ndims"))
}

# ---- training: parameters, cache-carrying passes and gradients -----------

#' @export
bijector_parameter_slots.tfb_batch_normalization <- function(bijector) {
  layer <- .subset2(bijector, "batchnorm")
  slots <- list()
  if (.subset2(layer, "scale")) {
    slots[[length(slots) + 1L]] <- parameter_slot(
      "gamma", layer, "state", 1L,
      assign_constraint = if (bn_gamma_kept_positive(layer)) "positive")
  }
  if (.subset2(layer, "center")) {
    slots[[length(slots) + 1L]] <- parameter_slot("beta", layer, "state", 2L)
  }
  slots
}

# Copies of the running statistics, so that a backward pass uses the values
# its forward pass used even if the layer moves in between.
bn_moving_statistics <- function(layer) {
  state <- .subset2(layer, "state")
  list(mean = .Call(C_copy_double, .subset2(state, "moving_mean")),
       variance = .Call(C_copy_double, .subset2(state, "moving_variance")))
}

#' @export
bijector_inverse_with_cache.tfb_batch_normalization <- function(
    bijector, y, event_ndims) {
  layer <- .subset2(bijector, "batchnorm")
  input <- bn_input(layer, y, "y")
  min_event_ndims <- .subset2(bijector, "inverse_min_event_ndims")
  event_ndims <- check_event_ndims(event_ndims, min_event_ndims,
                                   length(input$dims), "y")
  multiplier <- log_det_multiplier(input$dims, event_ndims, min_event_ndims)
  training <- .subset2(bijector, "training")
  if (training) {
    out <- bn_inverse_training(bijector, layer, input, with_log_det = TRUE)
    x <- out[[1L]]
    log_det <- out[[2L]] * multiplier
    statistics <- list(mean = out[[3L]], variance = out[[4L]])
  } else {
    bn_build_and_validate(bijector, layer, input, "y")
    x <- bn_inverse_evaluation(layer, input)
    log_det <- multiplier * .Call(
      C_bn_inverse_log_det, bn_pointer(layer), NULL, input$dims, input$axes,
      .subset2(layer, "epsilon"), .subset2(layer, "scale"))
    statistics <- bn_moving_statistics(layer)
  }
  list(x = x, log_det = log_det, cache = list(
    input = input$y, dims = input$dims, axes = input$axes,
    mean = statistics$mean, variance = statistics$variance,
    multiplier = multiplier, training = training
  ))
}

#' @export
bijector_inverse_backward.tfb_batch_normalization <- function(
    bijector, cache, grad_x, grad_log_det) {
  layer <- .subset2(bijector, "batchnorm")
  out <- .Call(C_bn_inverse_backward, bn_pointer(layer), cache$input,
               bn_gradient_array(grad_x), cache$dims, cache$axes, cache$mean,
               cache$variance, bn_backward_settings(layer, cache, grad_log_det),
               c(.subset2(layer, "center"), .subset2(layer, "scale"),
                 cache$training))
  list(input = out[[1L]], parameters = bn_parameter_gradients(layer, out))
}

#' @export
bijector_forward_with_cache.tfb_batch_normalization <- function(
    bijector, x, event_ndims) {
  layer <- .subset2(bijector, "batchnorm")
  input <- bn_input(layer, x, "x")
  min_event_ndims <- .subset2(bijector, "forward_min_event_ndims")
  event_ndims <- check_event_ndims(event_ndims, min_event_ndims,
                                   length(input$dims), "x")
  multiplier <- log_det_multiplier(input$dims, event_ndims, min_event_ndims)
  bn_build_and_validate(bijector, layer, input, "x")
  pointer <- bn_pointer(layer)
  y <- .Call(C_bn_transform, pointer, input$y, input$dims, input$axes,
             .subset2(layer, "epsilon"), .subset2(layer, "center"),
             .subset2(layer, "scale"), 1L)
  log_det <- -multiplier * .Call(
    C_bn_inverse_log_det, pointer, NULL, input$dims, input$axes,
    .subset2(layer, "epsilon"), .subset2(layer, "scale"))
  statistics <- bn_moving_statistics(layer)
  list(y = y, log_det = log_det, cache = list(
    input = input$y, dims = input$dims, axes = input$axes,
    mean = statistics$mean, variance = statistics$variance,
    multiplier = multiplier
  ))
}

#' @export
bijector_forward_backward.tfb_batch_normalization <- function(
    bijector, cache, grad_y, grad_log_det) {
  layer <- .subset2(bijector, "batchnorm")
  out <- .Call(C_bn_forward_backward, bn_pointer(layer), cache$input,
               bn_gradient_array(grad_y), cache$dims, cache$axes, cache$mean,
               cache$variance, bn_backward_settings(layer, cache, grad_log_det),
               c(.subset2(layer, "center"), .subset2(layer, "scale")))
  list(input = out[[1L]], parameters = bn_parameter_gradients(layer, out))
}

bn_gradient_array <- function(gradient) {
  if (is.double(gradient)) gradient else as.double(gradient)
}

# c(epsilon, multiplier, gradient of the loss with respect to the log-det).
# The log-det is one number for the whole batch; if a caller hands one
# gradient per event (the number broadcast to every event), the gradient of
# the number is their sum.
bn_backward_settings <- function(layer, cache, grad_log_det) {
  c(.subset2(layer, "epsilon"), cache$multiplier, sum(grad_log_det))
}

# Gradients in the order of bijector_parameter_slots().
bn_parameter_gradients <- function(layer, out) {
  parameters <- list()
  if (.subset2(layer, "scale")) {
    parameters$gamma <- out[[2L]]
  }
  if (.subset2(layer, "center")) {
    parameters$beta <- out[[3L]]
  }
  parameters
}

# ---- training loop: layers, modes, statistics, constraint ----------------

#' @export
bijector_batchnorm_layers.tfb_batch_normalization <- function(bijector) {
  list(.subset2(bijector, "batchnorm"))
}

#' @export
bijector_with_mode.tfb_batch_normalization <- function(bijector, training) {
  tfb_batch_normalization(.subset2(bijector, "batchnorm"),
                          training = training,
                          validate_args = .subset2(bijector, "validate_args"),
                          name = .subset2(bijector, "name"))
}

# Inside a pass of recompute_batch_statistics() (R/statistics_passes.R), the
# layers met before the pass's target have their new statistics and run in
# evaluation mode; the target merges the moments of its input for this
# block into the pass's running totals and ends the traversal of the block.
#' @export
bijector_recompute_statistics.tfb_batch_normalization <- function(bijector,
                                                                  y) {
  pass <- statistics_pass_state$current
  layer <- .subset2(bijector, "batchnorm")
  input <- bn_input(layer, y, "y")
  if (is.null(pass)) {
    # Called on its own, outside the passes: the statistics of all of y,
    # then the evaluation output, as one pass over data held whole.
    pass <- new_statistics_pass(1L)
    with_statistics_pass(pass, bijector_recompute_statistics(bijector, y))
    bn_finish_statistics_pass(pass)
    return(bn_inverse_evaluation(layer, input))
  }
  pass$seen <- pass$seen + 1L
  if (pass$seen < pass$target) {
    return(bn_inverse_evaluation(layer, input))
  }
  if (length(input$y) == 0L) {
    abort_bijectors("empty_batch", paste(
      "`y` has no rows: the batch statistics of an empty data set are",
      "undefined."))
  }
  if (is.null(pass$totals)) {
    bn_build_and_validate(bijector, layer, input, "y")
    pass$layer <- layer
  }
  totals <- .Call(C_bn_moments_update, input$y, input$dims, input$axes,
                  pass$totals)
  if (is.null(totals)) {
    abort_bijectors("nonfinite", paste(
      "`y` contains NA, NaN or Inf values; the running statistics were not",
      "changed."))
  }
  pass$totals <- totals
  statistics_target_reached()
}

# The statistics a pass gathered, checked and set as the layer's running
# statistics.
bn_finish_statistics_pass <- function(pass) {
  layer <- pass$layer
  totals <- pass$totals
  mean <- totals$mean + totals$shift
  variance <- totals$m2 / totals$count
  if (!all(is.finite(mean)) || !all(is.finite(variance))) {
    abort_bijectors("overflow", paste(
      "The mean or variance of `y` overflows double precision (values",
      "beyond about 1e154 in magnitude); the running statistics were not",
      "changed. Rescale the data."))
  }
  if (.subset2(layer, "epsilon") == 0 && any(variance == 0)) {
    abort_bijectors("zero_variance", sprintf(paste(
      "The input of layer \"%s\" has a feature with zero variance over `y`",
      "(a constant feature) and the layer's `epsilon` is 0, so every",
      "evaluation would divide by 0. The running statistics were not",
      "changed: use `epsilon > 0`."), .subset2(layer, "name")))
  }
  bn_set_moving_statistics(layer, mean, variance)
  invisible(layer)
}

# Copies new running statistics into a built layer, checked as
# set_weights() checks them.
bn_set_moving_statistics <- function(layer, mean, variance) {
  weights <- get_weights(layer)
  weights$moving_mean <- mean
  weights$moving_variance <- variance
  set_weights(layer, weights)
  invisible(layer)
}

# Puts back running statistics taken from this layer before (a rollback),
# keeping gamma and beta; fresh vectors, so nothing shared is written into.
bn_replace_moving_statistics <- function(layer, mean, variance) {
  state <- .subset2(layer, "state")
  state <- .Call(C_bn_state_new, .subset2(state, "gamma"),
                 .subset2(state, "beta"), mean, variance)
  assign("state", state, envir = layer)
  assign("pointer", NULL, envir = layer)
  invisible(layer)
}

# The layer's gamma_constraint applied to `gamma` (the values an optimizer
# step would give), checked; writes nothing, so fit() can run every
# constraint before it changes anything. NULL when the layer has no gamma
# or no constraint.
bn_constrained_gamma <- function(layer, gamma) {
  constraint <- .subset2(layer, "gamma_constraint")
  if (is.null(constraint) || !.subset2(layer, "scale")) {
    return(NULL)
  }
  name <- .subset2(layer, "name")
  value <- tryCatch(constraint(gamma), error = function(condition) {
    abort_bijectors(c("gamma_constraint", "argument"), sprintf(paste(
      "The `gamma_constraint` of layer \"%s\" failed: %s; nothing was",
      "changed."), name, conditionMessage(condition)))
  })
  if (!is.numeric(value) || is.object(value) ||
      length(value) != length(gamma)) {
    abort_bijectors(c("gamma_constraint", "argument"), sprintf(paste(
      "The `gamma_constraint` of layer \"%s\" must return %d numbers (one",
      "per feature), but it returned %s; nothing was changed."), name,
      length(gamma), describe_value(value)))
  }
  bad <- which(!is.finite(value))
  if (length(bad) > 0L) {
    abort_bijectors(c("gamma_constraint", "argument"), sprintf(paste(
      "The `gamma_constraint` of layer \"%s\" returned %s for feature %d;",
      "it must return finite numbers. Nothing was changed."), name,
      format(value[[bad[[1L]]]]), bad[[1L]]))
  }
  as.double(value)
}

#' Get and set the weights of a batch-normalization layer
#'
#' `get_weights()` returns copies of a built layer's `gamma`, `beta`,
#' `moving_mean` and `moving_variance`; `set_weights()` checks new values and
#' copies them into the layer. Both work on a layer or on a
#' batch-normalization bijector (meaning its layer).
#'
#' @param object A layer from [layer_batch_normalization()] or a bijector from
#'   [tfb_batch_normalization()].
#' @param weights A list of four numeric vectors, named `gamma`, `beta`,
#'   `moving_mean` and `moving_variance` (in any order) or unnamed in that
#'   order, each with one finite value per feature; `moving_variance` must be
#'   non-negative, and `gamma` positive when the layer's `gamma_constraint`
#'   is the default positive one of [tfb_batch_normalization()].
#' @param ... Unused.
#' @return `get_weights()`: a named list of four double vectors.
#'   `set_weights()`: `object`, invisibly.
#' @family batch normalization
#' @examples
#' b <- tfb_batch_normalization()
#' invisible(b$inverse(matrix(rnorm(20), ncol = 2)))
#' w <- get_weights(b)
#' w$moving_mean <- c(1, 2)
#' set_weights(b, w)
#' b$batchnorm$moving_mean
#' @export
get_weights <- function(object, ...) {
  UseMethod("get_weights")
}

#' @rdname get_weights
#' @export
set_weights <- function(object, weights, ...) {
  UseMethod("set_weights")
}

#' @export
get_weights.default <- function(object, ...) {
  abort_bijectors("argument", sprintf(
    "`object` must be a batch-normalization layer or bijector, not %s.",
    describe_value(object)))
}

#' @export
set_weights.default <- get_weights.default

#' @export
get_weights.layer_batch_normalization <- function(object, ...) {
  state <- bn_built_state(object)
  lapply(state, function(value) .Call(C_copy_double, value))
}

#' @export
get_weights.tfb_batch_normalization <- function(object, ...) {
  get_weights(.subset2(object, "batchnorm"))
}

#' @export
set_weights.tfb_batch_normalization <- function(object, weights, ...) {
  set_weights(.subset2(object, "batchnorm"), weights)
  invisible(object)
}

bn_built_state <- function(layer) {
  state <- .subset2(layer, "state")
  if (is.null(state)) {
    abort_bijectors("not_built", paste(
      "The layer is not built yet: it builds on the first input it sees."))
  }
  state
}

#' @export
set_weights.layer_batch_normalization <- function(object, weights, ...) {
  bn_built_state(object)
  n <- layer_features(object)
  if (!is.list(weights) || length(weights) != 4L) {
    abort_bijectors("argument", sprintf(
      "`weights` must be a list of 4 numeric vectors (%s), not %s.",
      paste(state_fields, collapse = ", "), describe_value(weights)))
  }
  if (!is.null(names(weights))) {
    if (!setequal(names(weights), state_fields)) {
      abort_bijectors("argument", sprintf(
        "The names of `weights` must be %s.",
        paste0("`", state_fields, "`", collapse = ", ")))
    }
    weights <- weights[state_fields]
  }
  for (k in seq_along(state_fields)) {
    value <- weights[[k]]
    field <- state_fields[[k]]
    ok <- is.numeric(value) && !is.object(value) && length(value) == n &&
      all(is.finite(value))
    if (!ok) {
      abort_bijectors("argument", sprintf(
        "`weights$%s` must be a vector of %s finite numbers, not %s.",
        field, format(n), describe_value(value)))
    }
  }
  if (any(weights[[4L]] < 0)) {
    abort_bijectors("argument", "`weights$moving_variance` must be >= 0.")
  }
  if (bn_gamma_kept_positive(object) && any(weights[[1L]] <= 0)) {
    abort_bijectors("argument", sprintf(paste(
      "`weights$gamma` must be positive: the layer's `gamma_constraint`",
      "keeps it positive (the log-det takes log(gamma)); not %s."),
      describe_parameter_value(weights[[1L]])))
  }
  if (.subset2(object, "epsilon") == 0 && any(weights[[4L]] == 0)) {
    abort_bijectors(c("zero_variance", "argument"), paste(
      "`weights$moving_variance` must be > 0 for a layer with `epsilon = 0`:",
      "a zero running variance makes every evaluation divide by 0."))
  }
  state <- .Call(C_bn_state_new, as.double(weights[[1L]]),
                 as.double(weights[[2L]]), as.double(weights[[3L]]),
                 as.double(weights[[4L]]))
  assign("state", state, envir = object)
  assign("pointer", NULL, envir = object)
  invisible(object)
}

#' @export
format.layer_batch_normalization <- function(x, ...) {
  axis <- .subset2(x, "axis")
  shape <- .subset2(x, "feature_shape")
  c(
    sprintf("<layer_batch_normalization> \"%s\"", .subset2(x, "name")),
    sprintf("  axis: %s, momentum: %s, epsilon: %s",
            if (length(axis) == 1L) axis else
              paste0("c(", paste(axis, collapse = ", "), ")"),
            format(.subset2(x, "momentum")), format(.subset2(x, "epsilon"))),
    sprintf("  center: %s, scale: %s, gamma_constraint: %s",
            .subset2(x, "center"), .subset2(x, "scale"),
            if (is.null(.subset2(x, "gamma_constraint"))) "none" else "yes"),
    if (is.null(shape)) {
      "  not built (builds on its first input)"
    } else {
      sprintf("  built: %s feature%s%s", format(prod(shape)),
              if (prod(shape) == 1) "" else "s",
              if (length(shape) > 1L)
                sprintf(" (%s)", paste(shape, collapse = " x ")) else "")
    }
  )
}

#' @export
format.tfb_batch_normalization <- function(x, ...) {
  layer_lines <- format(.subset2(x, "batchnorm"))
  c(
    NextMethod(),
    sprintf("  training: %s, validate_args: %s", .subset2(x, "training"),
            .subset2(x, "validate_args")),
    paste0("  layer ", sub("^<layer_batch_normalization> ", "",
                           layer_lines[[1L]])),
    paste0("  ", layer_lines[-1L])
  )
}

#' @export
object_field_names.tfb_batch_normalization <- function(x) {
  c(NextMethod(), "batchnorm", "training")
}
