# Networks of the flows: activations, weight initialisation, MADE masks, the
# two default templates (MADE for masked autoregressive flows, an MLP for
# Real NVP), tfb_masked_dense(), and the R side of the C network calls
# (src/network.c, src/affine_coupling.c).
#
# A template is an environment-backed S3 object, class
# c("tfb_<kind>_template", "bijectors_template"). It holds its network's
# configuration and, once built (when a flow first sees data), its weights:
# lists `kernels` (fan_in x fan_out matrices, masked ones already multiplied
# by their mask), `biases` and, for MADE, `masks`. Kernels and biases are R
# double vectors owned by the template and never handed out by reference, so
# a later training pass can update them in place.

# Activation codes understood by src/network.c.
network_activations <- c(
  linear = 0L, relu = 1L, tanh = 2L, sigmoid = 3L, elu = 4L, softplus = 5L
)

check_activation <- function(activation, arg = "activation") {
  if (is.null(activation)) {
    return("linear")
  }
  if (is.character(activation) && length(activation) == 1L &&
      !is.na(activation) && activation %in% names(network_activations)) {
    return(activation)
  }
  abort_bijectors("activation", sprintf(paste(
    "`%s` must be NULL or one of %s, not %s. Activations are named by",
    "string; R functions and TensorFlow ops are not accepted."),
    arg, paste0("\"", names(network_activations), "\"", collapse = ", "),
    describe_value(activation)))
}

# Layer sizes as a positive integer vector; a list such as list(64, 64) (the
# tfprobability style) is accepted too.
check_hidden_layers <- function(hidden_layers, allow_empty,
                                arg = "hidden_layers") {
  values <- if (is.list(hidden_layers) && !is.object(hidden_layers) &&
                all(lengths(hidden_layers) == 1L)) {
    unlist(hidden_layers, use.names = FALSE)
  } else {
    hidden_layers
  }
  ok <- (is.null(values) && allow_empty) ||
    (is.numeric(values) && !is.object(values) && !anyNA(values) &&
       all(is.finite(values)) && all(values == round(values)) &&
       all(values >= 1) && all(values <= .Machine$integer.max) &&
       (allow_empty || length(values) >= 1L))
  if (!ok) {
    abort_bijectors("argument", sprintf(
      "`%s` must be a %svector (or list) of whole numbers >= 1, not %s.",
      arg, if (allow_empty) "" else "non-empty ", describe_value(hidden_layers)))
  }
  as.integer(values)
}

check_no_dots <- function(dots, fun) {
  if (length(dots) > 0L) {
    given <- names(dots)
    given <- if (is.null(given)) "unnamed" else
      paste0("`", ifelse(given == "", "<unnamed>", given), "`", collapse = ", ")
    abort_bijectors("unsupported", sprintf(paste(
      "%s() does not support extra dense-layer arguments (%s were given):",
      "layers are dense with a bias, glorot-initialised."), fun, given))
  }
  invisible()
}

# ---- weight initialisation -------------------------------------------------

# Keras' glorot_uniform: U(-a, a), a = sqrt(6 / (fan_in + fan_out)), the
# initializer of tf.layers.dense and so of Real NVP's default template.
glorot_uniform <- function(fan_in, fan_out) {
  limit <- sqrt(6 / (fan_in + fan_out))
  matrix(stats::runif(fan_in * fan_out, -limit, limit), fan_in, fan_out)
}

# TF1's glorot_normal_initializer (masked_dense's default): a normal
# truncated at two standard deviations, scaled so that the standard deviation
# after truncation is sqrt(2 / (fan_in + fan_out)). Draws beyond the cut are
# redrawn, as TensorFlow does.
glorot_normal <- function(fan_in, fan_out) {
  n <- fan_in * fan_out
  z <- stats::rnorm(n)
  outside <- which(abs(z) > 2)
  while (length(outside) > 0L) {
    z[outside] <- stats::rnorm(length(outside))
    outside <- outside[abs(z[outside]) > 2]
  }
  sd <- sqrt(2 / (fan_in + fan_out)) / 0.87962566103423978
  matrix(z * sd, fan_in, fan_out)
}

# The MADE mask of TFP's masked_dense(), as a fan_in x fan_out matrix (the
# transpose of TFP's _gen_mask()). Input unit blocks of n_in %/% num_blocks
# columns feed output rows from block k's start on (one block later when
# exclusive); units left over by the integer division get no input
# connections out and, as outputs, are fed by every block.
made_mask <- function(num_blocks, n_in, n_out, exclusive) {
  mask <- matrix(0, n_out, n_in)
  d_in <- n_in %/% num_blocks
  d_out <- n_out %/% num_blocks
  row <- if (exclusive) d_out else 0L
  col <- 0L
  for (block in seq_len(num_blocks)) {
    if (row < n_out && d_in > 0L) {
      mask[(row + 1L):n_out, (col + 1L):(col + d_in)] <- 1
    }
    col <- col + d_in
    row <- row + d_out
  }
  t(mask)
}

# ---- templates -------------------------------------------------------------

new_template <- function(kind, fields) {
  template <- new.env(parent = emptyenv())
  for (field in names(fields)) {
    assign(field, fields[[field]], envir = template)
  }
  template$input_size <- NULL
  template$output_units <- NULL
  template$kernels <- NULL
  template$biases <- NULL
  template$masks <- NULL
  template$activation_codes <- NULL
  class(template) <- c(kind, "bijectors_template")
  template
}

#' Default template of a masked autoregressive flow (MADE)
#'
#' The shift-and-log-scale network of TFP's
#' `masked_autoregressive_default_template()`: a MADE (Germain et al., 2015)
#' made of [tfb_masked_dense()] layers. For events of size `D`, hidden layer
#' `k` has `hidden_layers[k]` units and the activation, with MADE masks over
#' `D` blocks (the first one exclusive); the output layer has `2 * D` units
#' (`D` with `shift_only = TRUE`) and no activation. Output columns come in
#' pairs per event dimension, `shift[i]` then `log_scale[i]` (TFP reshapes
#' the output to `[..., D, 2]`), and `log_scale` is clipped to
#' `[log_scale_min_clip, log_scale_max_clip]`. So `shift[i]` and
#' `log_scale[i]` depend only on the inputs before `i`.
#'
#' The template is a network specification: its weights are created when a
#' flow first sees data (the event size `D` is then known), drawn with R's
#' random number generator, so `set.seed()` makes them reproducible. Kernels
#' are glorot-normal (a normal truncated at two standard deviations, scaled
#' to the standard deviation `sqrt(2 / (fan_in + fan_out))`) times the mask,
#' biases zero. A template is built for one event size: using it later with
#' another gives an error of class `bijectors_error_event_size`. Two flows
#' sharing a template share its weights, as with TFP's templates.
#'
#' Each element of `hidden_layers` must be at least `D` (TFP's documented
#' requirement; with fewer units the masks would not be autoregressive, and
#' the build fails with an error of class `bijectors_error_template`).
#'
#' @param hidden_layers Numeric vector or list of whole numbers >= 1: the
#'   units of each hidden layer (at least one layer).
#' @param shift_only `TRUE` to compute only the shift (`log_scale` is then
#'   0): a volume-preserving flow.
#' @param activation String: the activation of the hidden layers, one of
#'   `"relu"`, `"tanh"`, `"sigmoid"`, `"elu"`, `"softplus"` or `"linear"`
#'   (`NULL` means `"linear"`).
#' @param log_scale_min_clip,log_scale_max_clip Numbers: `log_scale` is
#'   clipped to this range.
#' @param log_scale_clip_gradient `TRUE` or `FALSE`: whether training sees
#'   the gradient of the clip. With `FALSE` (TFP's default, its
#'   `clip_by_value_preserve_gradient()`) the gradient passes the clip
#'   unchanged, so a clipped `log_scale` still learns; with `TRUE` it is 0
#'   where the clip is active (`tf.clip_by_value()`). Values are the same
#'   either way.
#' @param name String or `NULL` (`"masked_autoregressive_default_template"`).
#' @param ... Extra dense-layer arguments of TFP; none is supported (an error
#'   if given).
#' @return A template of class
#'   `c("tfb_masked_autoregressive_template", "bijectors_template")` to pass
#'   to [tfb_masked_autoregressive_flow()]. Fields: `$hidden_layers`,
#'   `$shift_only`, `$activation`, `$log_scale_min_clip`,
#'   `$log_scale_max_clip`, `$log_scale_clip_gradient`, `$name`, `$built`,
#'   `$input_size` and `$weights` (a copy: a list with one element per layer,
#'   each `list(kernel, bias, mask)`, or `NULL` before the build).
#' @family networks
#' @seealso [tfb_masked_autoregressive_flow()], [tfb_masked_dense()];
#'   `tfprobability::tfb_masked_autoregressive_default_template()`.
#' @examples
#' set.seed(1)
#' made <- tfb_masked_autoregressive_default_template(c(16, 16),
#'                                                    activation = "tanh")
#' made
#' maf <- tfb_masked_autoregressive_flow(made)
#' y <- matrix(rnorm(12), ncol = 3)
#' x <- maf$inverse(y)     # builds the network for events of size 3
#' made$built
#' str(made$weights[[1]])
#' @export
tfb_masked_autoregressive_default_template <- function(
    hidden_layers, shift_only = FALSE, activation = "relu",
    log_scale_min_clip = -5, log_scale_max_clip = 3,
    log_scale_clip_gradient = FALSE, name = NULL, ...) {
  check_no_dots(list(...), "tfb_masked_autoregressive_default_template")
  hidden_layers <- check_hidden_layers(hidden_layers, allow_empty = FALSE)
  min_clip <- check_clip(log_scale_min_clip, "log_scale_min_clip")
  max_clip <- check_clip(log_scale_max_clip, "log_scale_max_clip")
  if (min_clip > max_clip) {
    abort_bijectors("argument", sprintf(
      "`log_scale_min_clip` (%s) must not exceed `log_scale_max_clip` (%s).",
      format(min_clip), format(max_clip)))
  }
  new_template("tfb_masked_autoregressive_template", list(
    hidden_layers = hidden_layers,
    shift_only = check_flag(shift_only, "shift_only"),
    activation = check_activation(activation),
    log_scale_min_clip = min_clip,
    log_scale_max_clip = max_clip,
    log_scale_clip_gradient = check_flag(log_scale_clip_gradient,
                                         "log_scale_clip_gradient"),
    name = check_string(name %||% "masked_autoregressive_default_template",
                        "name")
  ))
}

check_clip <- function(x, arg) {
  ok <- is.numeric(x) && !is.object(x) && length(x) == 1L && !is.na(x)
  if (!ok) {
    abort_bijectors("argument", sprintf(
      "`%s` must be a single number (possibly infinite), not %s.",
      arg, describe_value(x)))
  }
  as.double(x)
}

#' Default template of a Real NVP flow
#'
#' The shift-and-log-scale network of TFP's `real_nvp_default_template()`: a
#' fully connected network taking the `d` masked units of an event.
#' Hidden layer `k` has `hidden_layers[k]` units and the activation; the
#' output layer has `2 * output_units` units (`output_units` with
#' `shift_only = TRUE`) and no activation, where `output_units = D - d` is
#' the number of units that Real NVP transforms. The first half of the
#' outputs is the shift and the second half the log-scale (TFP's
#' `tf.split`); no clipping.
#'
#' The weights are created when the flow first sees data, drawn with R's
#' random number generator (reproducible under `set.seed()`): glorot-uniform
#' kernels, `U(-a, a)` with `a = sqrt(6 / (fan_in + fan_out))` (the
#' initializer of `tf.layers.dense`), and zero biases. A template is built
#' for one input size and one output size; using it later with others gives
#' an error of class `bijectors_error_event_size`.
#'
#' @inheritParams tfb_masked_autoregressive_default_template
#' @param hidden_layers Numeric vector or list of whole numbers >= 1: the
#'   units of each hidden layer (may be empty: one affine layer).
#' @param shift_only `TRUE` to compute only the shift (`log_scale` is then
#'   0): the NICE flow.
#' @param name String or `NULL` (`"real_nvp_default_template"`).
#' @return A template of class
#'   `c("tfb_real_nvp_template", "bijectors_template")` to pass to
#'   [tfb_real_nvp()]. Fields: `$hidden_layers`, `$shift_only`,
#'   `$activation`, `$name`, `$built`, `$input_size`, `$output_units` and
#'   `$weights` (a copy: one `list(kernel, bias)` per layer, or `NULL` before
#'   the build).
#' @family networks
#' @seealso [tfb_real_nvp()]; `tfprobability::tfb_real_nvp_default_template()`.
#' @examples
#' set.seed(1)
#' template <- tfb_real_nvp_default_template(c(8, 8))
#' nvp <- tfb_real_nvp(num_masked = 2, shift_and_log_scale_fn = template)
#' x <- matrix(rnorm(20), ncol = 4)
#' y <- nvp$forward(x)
#' template
#' all.equal(nvp$inverse(y), x)
#' @export
tfb_real_nvp_default_template <- function(hidden_layers, shift_only = FALSE,
                                          activation = "relu", name = NULL,
                                          ...) {
  check_no_dots(list(...), "tfb_real_nvp_default_template")
  new_template("tfb_real_nvp_template", list(
    hidden_layers = check_hidden_layers(hidden_layers, allow_empty = TRUE),
    shift_only = check_flag(shift_only, "shift_only"),
    activation = check_activation(activation),
    name = check_string(name %||% "real_nvp_default_template", "name")
  ))
}

is_template <- function(x) {
  inherits(x, "bijectors_template") && is.environment(x)
}

template_built <- function(template) {
  !is.null(.subset2(template, "kernels"))
}

# Checks the sizes a flow is about to use against a built template; builds
# nothing (callers build once every other check has passed).
template_check_size <- function(template, input_size, output_units, arg) {
  if (!template_built(template)) {
    return(invisible(FALSE))
  }
  built_in <- .subset2(template, "input_size")
  built_out <- .subset2(template, "output_units")
  if (built_in != input_size || built_out != output_units) {
    if (inherits(template, "tfb_masked_autoregressive_template")) {
      abort_bijectors("event_size", sprintf(paste(
        "The template \"%s\" was built for events of size %d, but `%s` has",
        "events of size %d (its last dimension). A template can serve only",
        "one event size: make a new one."),
        .subset2(template, "name"), built_in, arg, input_size))
    }
    abort_bijectors("event_size", sprintf(paste(
      "The template \"%s\" was built for %d input and %d output units, but",
      "`%s` needs %d and %d (event size %d). A template can serve only one",
      "event size and num_masked: make a new one."),
      .subset2(template, "name"), built_in, built_out, arg, input_size,
      output_units, input_size + output_units))
  }
  invisible(TRUE)
}

# MADE's masks are autoregressive only with hidden layers at least as wide as
# the event.
made_check_hidden <- function(template, input_size) {
  hidden <- .subset2(template, "hidden_layers")
  if (any(hidden < input_size)) {
    abort_bijectors("template", sprintf(paste(
      "The MADE template \"%s\" needs at least as many units in each hidden",
      "layer as the event size (%d) for its masks to be autoregressive, but",
      "`hidden_layers` is %s."), .subset2(template, "name"), input_size,
      paste(hidden, collapse = ", ")))
  }
  invisible()
}

# Draws the weights: kernels layer by layer, in order, from R's RNG.
template_build <- function(template, input_size, output_units) {
  hidden <- .subset2(template, "hidden_layers")
  shift_only <- .subset2(template, "shift_only")
  activation <- network_activations[[.subset2(template, "activation")]]
  made <- inherits(template, "tfb_masked_autoregressive_template")
  if (made) {
    made_check_hidden(template, input_size)
  }
  units <- c(input_size, hidden,
             (if (shift_only) 1L else 2L) * output_units)
  layers <- length(units) - 1L
  kernels <- vector("list", layers)
  biases <- vector("list", layers)
  masks <- if (made) vector("list", layers) else NULL
  for (k in seq_len(layers)) {
    if (made) {
      mask <- made_mask(input_size, units[[k]], units[[k + 1L]],
                        exclusive = k == 1L)
      kernels[[k]] <- glorot_normal(units[[k]], units[[k + 1L]]) * mask
      masks[[k]] <- mask
    } else {
      kernels[[k]] <- glorot_uniform(units[[k]], units[[k + 1L]])
    }
    biases[[k]] <- numeric(units[[k + 1L]])
  }
  names(kernels) <- names(biases) <- layer_names(layers)
  if (made) {
    names(masks) <- layer_names(layers)
  }
  assign("input_size", as.integer(input_size), envir = template)
  assign("output_units", as.integer(output_units), envir = template)
  assign("activation_codes",
         c(rep(activation, layers - 1L), network_activations[["linear"]]),
         envir = template)
  assign("biases", biases, envir = template)
  assign("masks", masks, envir = template)
  assign("kernels", kernels, envir = template)
  invisible(template)
}

layer_names <- function(layers) {
  c(if (layers > 1L) paste0("hidden_", seq_len(layers - 1L)), "output")
}

# The network on columns first_column + 1, ... of `input` seen as `rows`
# rows: a rows x outputs matrix (with keep_hidden, list(output, hidden)).
template_network <- function(template, input, rows, first_column = 0L,
                             keep_hidden = FALSE) {
  .Call(C_mlp_forward, input, as.double(rows), as.double(first_column),
        .subset2(template, "kernels"), .subset2(template, "biases"),
        .subset2(template, "activation_codes"), keep_hidden)
}

copy_matrix <- function(x) {
  out <- .Call(C_copy_double, x)
  dim(out) <- dim(x)
  out
}

template_weights <- function(template) {
  if (!template_built(template)) {
    return(NULL)
  }
  kernels <- .subset2(template, "kernels")
  biases <- .subset2(template, "biases")
  masks <- .subset2(template, "masks")
  weights <- lapply(seq_along(kernels), function(k) {
    layer <- list(kernel = copy_matrix(kernels[[k]]),
                  bias = .Call(C_copy_double, biases[[k]]))
    if (!is.null(masks)) {
      layer$mask <- copy_matrix(masks[[k]])
    }
    layer
  })
  names(weights) <- names(kernels)
  weights
}

template_fields <- list(
  tfb_masked_autoregressive_template = c(
    "hidden_layers", "shift_only", "activation", "log_scale_min_clip",
    "log_scale_max_clip", "log_scale_clip_gradient", "name"),
  tfb_real_nvp_template = c("hidden_layers", "shift_only", "activation",
                            "name")
)

#' @export
object_field_names.bijectors_template <- function(x) {
  c(template_fields[[class(x)[[1L]]]], "built", "input_size", "output_units",
    "weights")
}

#' @export
object_field.bijectors_template <- function(x, name) {
  switch(name,
    built = template_built(x),
    weights = template_weights(x),
    NextMethod()
  )
}

format_template_summary <- function(template) {
  hidden <- .subset2(template, "hidden_layers")
  built <- if (template_built(template)) {
    n_weights <- sum(lengths(.subset2(template, "kernels"))) +
      sum(lengths(.subset2(template, "biases")))
    if (inherits(template, "tfb_masked_autoregressive_template")) {
      sprintf("built for events of size %d (%d weights)",
              .subset2(template, "input_size"), n_weights)
    } else {
      sprintf("built for %d input and %d output units (%d weights)",
              .subset2(template, "input_size"),
              .subset2(template, "output_units"), n_weights)
    }
  } else {
    "not built"
  }
  c(sprintf("hidden_layers: %s; activation: %s; shift_only: %s",
            if (length(hidden)) paste(hidden, collapse = ", ") else "none",
            .subset2(template, "activation"),
            .subset2(template, "shift_only")),
    built)
}

#' @export
format.bijectors_template <- function(x, ...) {
  lines <- c(
    sprintf("<%s> \"%s\"", class(x)[[1L]], .subset2(x, "name")),
    paste0("  ", format_template_summary(x))
  )
  if (inherits(x, "tfb_masked_autoregressive_template")) {
    lines <- c(lines, sprintf("  log_scale clipped to [%s, %s]",
                              format(.subset2(x, "log_scale_min_clip")),
                              format(.subset2(x, "log_scale_max_clip"))))
  }
  lines
}

# ---- conditioners: what a flow asks of its shift_and_log_scale_fn ----------

# The shift and log-scale of `output_units` columns from `n_in` columns of
# `input` (seen as `rows` rows) starting after `first_column`, as the network
# output `params` plus the columns of params holding each (1-based;
# integer(0) for none) and the clip range. `fn` is a template (already
# built) or an R function(x) / function(x, output_units) returning
# list(shift, log_scale).
conditioner <- function(fn, input, rows, first_column, n_in, output_units,
                        made) {
  if (is_template(fn)) {
    return(template_conditioned(fn, template_network(fn, input, rows,
                                                     first_column),
                                output_units, made))
  }
  # A user's function sees an ordinary rows x n_in matrix.
  columns <- first_column * rows + seq_len(rows * n_in)
  x <- matrix(if (length(columns) == length(input)) as.vector(input) else
    input[columns], nrow = rows, ncol = n_in)
  result <- if (made) fn(x) else fn(x, output_units)
  if (!is.list(result) || length(result) != 2L) {
    abort_bijectors("template", paste(
      "`shift_and_log_scale_fn` must return a list of two elements,",
      "list(shift, log_scale), each NULL or a numeric matrix."))
  }
  parts <- lapply(c(shift = 1L, log_scale = 2L), function(k) {
    part <- result[[k]]
    if (is.null(part)) {
      return(NULL)
    }
    if (!is.numeric(part) || length(part) != rows * output_units) {
      abort_bijectors("template", sprintf(paste(
        "The %s returned by `shift_and_log_scale_fn` must be NULL or a",
        "numeric %d x %d matrix, not %s."),
        c("shift", "log_scale")[[k]], rows, output_units, describe_value(part)))
    }
    as.double(part)
  })
  has_shift <- !is.null(parts$shift)
  has_scale <- !is.null(parts$log_scale)
  params <- matrix(c(parts$shift, parts$log_scale), nrow = rows,
                   ncol = (has_shift + has_scale) * output_units)
  list(params = params,
       shift_columns = if (has_shift) seq_len(output_units) else integer(),
       log_scale_columns = if (has_scale) {
         has_shift * output_units + seq_len(output_units)
       } else integer(),
       clip = c(-Inf, Inf))
}

# The layout of a template's output: MADE interleaves shift[i] and
# log_scale[i] (TFP reshapes to [..., D, 2]) and clips the log-scale; Real
# NVP's first half is the shift, the second the log-scale (tf.split).
template_conditioned <- function(fn, params, output_units, made) {
  shift_only <- .subset2(fn, "shift_only")
  if (made) {
    shift_columns <- if (shift_only) seq_len(output_units) else
      seq.int(1L, by = 2L, length.out = output_units)
    log_scale_columns <- if (shift_only) integer() else
      seq.int(2L, by = 2L, length.out = output_units)
    clip <- c(.subset2(fn, "log_scale_min_clip"),
              .subset2(fn, "log_scale_max_clip"))
  } else {
    shift_columns <- seq_len(output_units)
    log_scale_columns <- if (shift_only) integer() else
      output_units + seq_len(output_units)
    clip <- c(-Inf, Inf)
  }
  list(params = params, shift_columns = shift_columns,
       log_scale_columns = log_scale_columns, clip = clip)
}

# One affine step on columns `columns` of `input`: list(output, log_det) with
# one log-det per row (direction 1 forward, -1 inverse).
affine_step <- function(input, conditioned, columns, direction) {
  .Call(C_affine_transform, input, conditioned$params, as.integer(columns),
        as.integer(conditioned$shift_columns),
        as.integer(conditioned$log_scale_columns), conditioned$clip,
        as.integer(direction))
}

# ---- gradients of the network flows ---------------------------------------------

# Gradients flow through templates only: an R function's derivatives are
# unknown.
require_template <- function(bijector) {
  fn <- .subset2(bijector, "shift_and_log_scale_fn")
  if (!is_template(fn)) {
    maker <- if (inherits(bijector, "tfb_real_nvp")) {
      "tfb_real_nvp_default_template"
    } else {
      "tfb_masked_autoregressive_default_template"
    }
    abort_bijectors("unsupported", sprintf(paste(
      "Gradients of a <%s> need a template as `shift_and_log_scale_fn`: the",
      "derivatives of an R function are unknown. Use %s() to train."),
      class(bijector)[[1L]], maker))
  }
  fn
}

# The trainable arrays of a template, one kernel and one bias slot per layer,
# in layer order (known before the build: the template has
# length(hidden_layers) + 1 layers). MADE kernels carry their mask.
template_parameter_slots <- function(template) {
  layers <- length(.subset2(template, "hidden_layers")) + 1L
  masks <- .subset2(template, "masks")
  slots <- vector("list", 2L * layers)
  for (k in seq_len(layers)) {
    slots[[2L * k - 1L]] <- parameter_slot(sprintf("layer%d/kernel", k),
                                           template, "kernels", k,
                                           mask = if (!is.null(masks)) masks[[k]])
    slots[[2L * k]] <- parameter_slot(sprintf("layer%d/bias", k), template,
                                      "biases", k)
  }
  slots
}

# One conditioned affine step of a template flow, keeping what the backward
# pass needs: the input (by reference), the network's hidden outputs and its
# raw output. `input` is a flow_input() list; the network reads columns
# first_column + 1, ... and the step transforms `columns`.
template_step_with_cache <- function(fn, input, first_column, output_units,
                                     columns, direction, made) {
  network <- template_network(fn, input$x, input$rows, first_column,
                              keep_hidden = TRUE)
  conditioned <- template_conditioned(fn, network$output, output_units, made)
  step <- affine_step(input$x, conditioned, columns, direction)
  list(output = step$output, log_det = step$log_det,
       cache = list(input = input, network = network,
                    conditioned = conditioned, first_column = first_column,
                    columns = columns, direction = direction))
}

# The backward pass of template_step_with_cache(): grad_output like the
# step's output, grad_log_det shaped like the reduced log-det (expanded here
# to one value per row: reduce_log_det() sums rows b, b + B, b + 2B, ...).
# Returns list(input = dLoss/d(input), parameters = in the order of
# template_parameter_slots()).
template_step_backward <- function(fn, cache, grad_output, grad_log_det) {
  input <- cache$input
  conditioned <- cache$conditioned
  if (!is.double(grad_output)) {
    grad_output <- as.double(grad_output)
  }
  grad_rows <- rep_len(as.double(grad_log_det), input$rows)
  clip_gradient <- isTRUE(.subset2(fn, "log_scale_clip_gradient"))
  affine <- .Call(C_affine_backward, input$x, conditioned$params,
                  as.integer(cache$columns),
                  as.integer(conditioned$shift_columns),
                  as.integer(conditioned$log_scale_columns), conditioned$clip,
                  as.integer(cache$direction), grad_output, grad_rows,
                  clip_gradient)
  network <- .Call(C_mlp_backward, input$x, as.double(input$rows),
                   as.double(cache$first_column), .subset2(fn, "kernels"),
                   .subset2(fn, "activation_codes"), cache$network$hidden,
                   cache$network$output, affine$params,
                   .subset2(fn, "masks"), affine$input)
  layers <- length(network$kernels)
  parameters <- vector("list", 2L * layers)
  parameters[2L * seq_len(layers) - 1L] <- network$kernels
  parameters[2L * seq_len(layers)] <- network$biases
  list(input = network$input, parameters = parameters)
}

# ---- shared input handling of the network flows ------------------------------

# Checks an input of a flow with events along the last axis.
flow_input <- function(bijector, x, arg) {
  x <- as_input_array(x, arg)
  dims <- input_dims(x)
  rank <- length(dims)
  min_event_ndims <- .subset2(bijector, "forward_min_event_ndims")
  if (rank < min_event_ndims) {
    abort_bijectors("input", sprintf(
      "`%s` must have rank at least %d (this bijector's event_ndims), not %d.",
      arg, min_event_ndims, rank))
  }
  event_size <- dims[[rank]]
  if (event_size < 1L) {
    abort_bijectors("event_size", sprintf(
      "`%s` has events of size 0 (its last dimension).", arg))
  }
  if (event_size > .Machine$integer.max) {
    abort_bijectors("event_size", sprintf(paste(
      "`%s` has events of size %s (its last dimension); a flow's networks",
      "take at most %d units."), arg, format(event_size),
      .Machine$integer.max))
  }
  list(x = x, dims = dims, rank = rank, event_size = as.integer(event_size),
       rows = length(x) / event_size)
}

# Per-row log-dets summed over the event dims beyond the last, shaped as the
# batch shape: a number when the whole input is one event, a vector for one
# batch dim, an array otherwise.
reduce_log_det <- function(log_det, dims, event_ndims) {
  rank <- length(dims)
  batch <- dims[seq_len(rank - event_ndims)]
  if (length(batch) == 0L) {
    return(sum(log_det))
  }
  if (event_ndims > 1L) {
    log_det <- rowSums(matrix(log_det, nrow = prod(batch)))
  }
  if (length(batch) > 1L) {
    dim(log_det) <- batch
  }
  log_det
}

# ---- tfb_masked_dense ---------------------------------------------------------

#' A masked dense layer (MADE)
#'
#' TFP's `masked_dense()`: a dense layer whose kernel is multiplied by a MADE
#' mask (Germain et al., 2015), so that output unit block `k` sees only input
#' blocks before `k` (`exclusive = TRUE`, the first layer of a MADE) or up to
#' `k` (`exclusive = FALSE`). The mask is TFP's `_gen_mask()`: with
#' `d_in = n_in %/% num_blocks` and `d_out = units %/% num_blocks`, input
#' columns `(k - 1) * d_in + 1:d_in` feed output units from
#' `(k - 1) * d_out + 1` (from `k * d_out + 1` when exclusive) to the last.
#'
#' This is a function, not a layer object: it computes `inputs %*% (kernel *
#' mask) + bias` and the activation, and keeps no weights. By default each
#' call draws a fresh glorot-normal kernel (a normal truncated at two
#' standard deviations with standard deviation `sqrt(2 / (fan_in +
#' fan_out))`, TFP's default) with R's random number generator; to apply
#' given weights, pass the kernel matrix as `kernel_initializer` and the
#' bias as `bias =`. The networks of
#' [tfb_masked_autoregressive_default_template()] keep their weights in the
#' template instead.
#'
#' @param inputs A numeric matrix, `N` rows of `n_in` inputs (a vector is
#'   one row; for an array the last axis holds the inputs).
#' @param units Whole number >= 1: the number of output units.
#' @param num_blocks Whole number >= 1: the number of MADE blocks, usually the
#'   event size of the flow; `NULL` means `n_in` (TFP has no default).
#' @param exclusive `TRUE` or `FALSE`: whether block `k` of the output is cut
#'   off from input block `k` too.
#' @param kernel_initializer `NULL` (glorot normal), `"glorot_normal"`,
#'   `"glorot_uniform"`, `"zeros"`, a function of the kernel's shape
#'   `c(n_in, units)` returning that many numbers, or an `n_in` x `units`
#'   numeric matrix: the kernel itself. The kernel is multiplied by the mask.
#' @param reuse `NULL` or `FALSE`. `TRUE` is an error: no weights are kept to
#'   reuse (pass the kernel as `kernel_initializer` instead).
#' @param name `NULL` or a string; unused, accepted for compatibility with
#'   tfprobability.
#' @param ... Named dense-layer options: `activation` (a string as in
#'   [tfb_masked_autoregressive_default_template()], default linear),
#'   `use_bias` (`TRUE`) and `bias` (a numeric vector of length `units`,
#'   default zeros).
#' @return A double matrix with `N` rows and `units` columns (a vector for a
#'   vector input; an array with the input's leading dims otherwise).
#' @family networks
#' @seealso [tfb_masked_autoregressive_default_template()];
#'   `tfprobability::tfb_masked_dense()`.
#' @examples
#' x <- matrix(rnorm(6), ncol = 3)
#' # with given weights, the mask is plain to see
#' tfb_masked_dense(x, units = 3, num_blocks = 3, exclusive = TRUE,
#'                  kernel_initializer = matrix(1, 3, 3))
#' # fresh random weights, relu
#' set.seed(1)
#' tfb_masked_dense(x, units = 6, num_blocks = 3, activation = "relu")
#' @export
tfb_masked_dense <- function(inputs, units, num_blocks = NULL,
                             exclusive = FALSE, kernel_initializer = NULL,
                             reuse = NULL, name = NULL, ...) {
  options <- list(...)
  allowed <- c("activation", "use_bias", "bias")
  if (length(options) > 0L &&
      (is.null(names(options)) || !all(names(options) %in% allowed))) {
    abort_bijectors("unsupported", sprintf(
      "tfb_masked_dense() accepts only the extra arguments %s.",
      paste0("`", allowed, "`", collapse = ", ")))
  }
  inputs <- as_input_array(inputs, "inputs")
  dims <- input_dims(inputs)
  rank <- length(dims)
  if (dims[[rank]] > .Machine$integer.max) {
    abort_bijectors("input", sprintf(
      "`inputs` has %s columns; at most %d are supported.",
      format(dims[[rank]]), .Machine$integer.max))
  }
  n_in <- as.integer(dims[[rank]])
  if (n_in < 1L) {
    abort_bijectors("input", "`inputs` must have at least one column.")
  }
  rows <- length(inputs) / n_in
  units <- check_count(units, "units")
  num_blocks <- if (is.null(num_blocks)) n_in else
    check_count(num_blocks, "num_blocks")
  exclusive <- check_flag(exclusive, "exclusive")
  check_string(name, "name", null_ok = TRUE)
  if (!is.null(reuse)) {
    reuse <- check_flag(reuse, "reuse")
  }
  if (isTRUE(reuse)) {
    abort_bijectors("unsupported", paste(
      "`reuse = TRUE` is not supported: tfb_masked_dense() keeps no weights.",
      "Pass the kernel to reuse as `kernel_initializer`."))
  }
  activation <- check_activation(options$activation)
  use_bias <- check_flag(options$use_bias %||% TRUE, "use_bias")
  kernel <- initial_kernel(kernel_initializer, n_in, units)
  bias <- options$bias %||% numeric(units)
  if (!is.numeric(bias) || is.object(bias) || length(bias) != units ||
      !all(is.finite(bias))) {
    abort_bijectors("argument", sprintf(
      "`bias` must be a finite numeric vector of length %d, not %s.",
      units, describe_value(bias)))
  }
  if (!use_bias) {
    bias <- numeric(units)
  }
  kernel <- kernel * made_mask(num_blocks, n_in, units, exclusive)
  storage.mode(kernel) <- "double"
  out <- .Call(C_mlp_forward, inputs, as.double(rows), 0, list(kernel),
               list(as.double(bias)), network_activations[[activation]],
               FALSE)
  if (rank == 1L) {
    return(as.vector(out))
  }
  if (rank > 2L) {
    dim(out) <- c(dims[-rank], units)
  }
  out
}

check_count <- function(x, arg) {
  ok <- is.numeric(x) && !is.object(x) && length(x) == 1L && !is.na(x) &&
    is.finite(x) && x == round(x) && x >= 1 && x <= .Machine$integer.max
  if (!ok) {
    abort_bijectors("argument", sprintf(
      "`%s` must be a whole number >= 1, not %s.", arg, describe_value(x)))
  }
  as.integer(x)
}

initial_kernel <- function(initializer, n_in, units) {
  if (is.null(initializer) || identical(initializer, "glorot_normal")) {
    return(glorot_normal(n_in, units))
  }
  if (identical(initializer, "glorot_uniform")) {
    return(glorot_uniform(n_in, units))
  }
  if (identical(initializer, "zeros")) {
    return(matrix(0, n_in, units))
  }
  if (is.numeric(initializer) && !is.object(initializer) &&
      !is.null(dim(initializer))) {
    ok <- identical(as.integer(dim(initializer)), c(n_in, units)) &&
      all(is.finite(initializer))
    if (!ok) {
      abort_bijectors("argument", sprintf(
        "A kernel given as `kernel_initializer` must be a finite numeric %d x %d matrix.",
        n_in, units))
    }
    return(matrix(as.double(initializer), n_in, units))
  }
  if (is.function(initializer)) {
    values <- initializer(c(n_in, units))
    if (is.numeric(values) && length(values) == n_in * units &&
        all(is.finite(values))) {
      return(matrix(as.double(values), n_in, units))
    }
    abort_bijectors("argument", sprintf(
      "`kernel_initializer` must return %d finite numbers.", n_in * units))
  }
  abort_bijectors("argument", sprintf(paste(
    "`kernel_initializer` must be NULL, \"glorot_normal\",",
    "\"glorot_uniform\", \"zeros\", a function or a matrix, not %s."),
    describe_value(initializer)))
}
