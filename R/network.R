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

# ---- the dense-layer arguments of `...` ---------------------------------------

# tfprobability passes a template's `...` (and masked_dense()'s) on to every
# dense layer. These are the names that make sense here; anything else is an
# error naming it. `dots` is list(...).
dense_argument_names <- c(
  "activation", "use_bias", "bias_initializer", "kernel_regularizer",
  "bias_regularizer", "activity_regularizer", "kernel_constraint",
  "bias_constraint", "trainable"
)

check_dense_names <- function(dots, fun, allowed) {
  given <- names(dots) %||% rep("", length(dots))
  unknown <- given[!given %in% allowed]
  if (length(unknown) > 0L) {
    shown <- ifelse(unknown == "", "<unnamed>", paste0("`", unknown, "`"))
    abort_bijectors("unsupported", sprintf(paste(
      "%s() does not know the dense-layer argument%s %s. The extra arguments",
      "it accepts, by name, are %s."), fun,
      if (length(unknown) > 1L) "s" else "",
      paste(unique(shown), collapse = ", "),
      paste0("`", allowed, "`", collapse = ", ")))
  }
  repeated <- unique(given[duplicated(given)])
  if (length(repeated) > 0L) {
    abort_bijectors("argument", sprintf(
      "%s() got the argument%s %s more than once.", fun,
      if (length(repeated) > 1L) "s" else "",
      paste0("`", repeated, "`", collapse = ", ")))
  }
  invisible(dots)
}

# The dense-layer arguments of a default template: list(use_bias, trainable,
# kernel_initializer, bias_initializer), checked. Regularizers are accepted
# and ignored (TFP only collects their penalties as separate losses, which
# its flows never add to the log-likelihood); constraints would have to be
# applied after every optimizer step, which fit() does not do, so any but
# NULL is an error. `made`: MADE's kernels are already constrained to their
# mask (TFP's masked_dense() refuses another kernel_constraint).
check_template_dense_arguments <- function(dots, fun, made) {
  check_dense_names(dots, fun, c("kernel_initializer",
                                 setdiff(dense_argument_names, "activation")))
  if (!is.null(dots[["kernel_constraint"]])) {
    abort_bijectors("unsupported", if (made) paste(
      "`kernel_constraint` cannot be set: the MADE kernels are constrained",
      "to their masks (TFP's masked_dense() refuses it too).") else paste(
      "`kernel_constraint` is not supported: fit() does not apply",
      "constraints after its optimizer steps. Leave it NULL."))
  }
  if (!is.null(dots[["bias_constraint"]])) {
    abort_bijectors("unsupported", paste(
      "`bias_constraint` is not supported: fit() does not apply",
      "constraints after its optimizer steps. Leave it NULL."))
  }
  list(
    use_bias = check_flag(dots[["use_bias"]] %||% TRUE, "use_bias"),
    trainable = check_flag(dots[["trainable"]] %||% TRUE, "trainable"),
    kernel_initializer = check_dense_initializer(dots[["kernel_initializer"]],
                                           "kernel_initializer"),
    bias_initializer = check_dense_initializer(dots[["bias_initializer"]],
                                         "bias_initializer")
  )
}

# ---- weight initialisation -------------------------------------------------

# Keras' fans: a kernel's shape is c(fan_in, fan_out); a vector's length is
# both.
initializer_fans <- function(shape) {
  if (length(shape) == 1L) c(shape, shape) else shape[1:2]
}

# Keras' glorot_uniform: U(-a, a), a = sqrt(6 / (fan_in + fan_out)), the
# initializer of tf.layers.dense and so of Real NVP's default template.
glorot_uniform_values <- function(shape) {
  fans <- initializer_fans(shape)
  limit <- sqrt(6 / sum(fans))
  stats::runif(prod(shape), -limit, limit)
}

# TF1's glorot_normal_initializer (masked_dense's default): a normal
# truncated at two standard deviations, scaled so that the standard deviation
# after truncation is sqrt(2 / (fan_in + fan_out)). Draws beyond the cut are
# redrawn, as TensorFlow does.
glorot_normal_values <- function(shape) {
  fans <- initializer_fans(shape)
  z <- stats::rnorm(prod(shape))
  outside <- which(abs(z) > 2)
  while (length(outside) > 0L) {
    z[outside] <- stats::rnorm(length(outside))
    outside <- outside[abs(z[outside]) > 2]
  }
  z * (sqrt(2 / sum(fans)) / 0.87962566103423978)
}

# PyTorch's nn.Linear default (kaiming_uniform with a = sqrt(5) for the
# kernel, and the same bound for the bias): U(-b, b), b = 1 / sqrt(fan_in),
# fan_in being the layer's input width for its bias too.
uniform_fan_in_values <- function(size, fan_in) {
  bound <- 1 / sqrt(fan_in)
  stats::runif(size, -bound, bound)
}

dense_initializer_names <- c("glorot_normal", "glorot_uniform",
                             "uniform_fan_in", "zeros", "ones")

# An initializer as given: NULL (the layer's default), one of
# dense_initializer_names, a number (keras' constant initializer), an R function
# of the shape, or, with `values_ok`, the weights themselves (checked
# against the shape when it is known). Returned as it is.
check_dense_initializer <- function(initializer, arg, values_ok = FALSE) {
  if (is.null(initializer) || is.function(initializer)) {
    return(initializer)
  }
  if (is.character(initializer) && length(initializer) == 1L &&
      !is.na(initializer) && initializer %in% dense_initializer_names) {
    return(initializer)
  }
  numeric_ok <- is.numeric(initializer) && !is.object(initializer) &&
    length(initializer) >= 1L && all(is.finite(initializer)) &&
    (length(initializer) == 1L || values_ok)
  if (numeric_ok) {
    return(initializer)
  }
  abort_bijectors("argument", sprintf(paste(
    "`%s` must be NULL, one of %s, a finite number (a constant), a function",
    "of the shape%s, not %s."), arg,
    paste0("\"", dense_initializer_names, "\"", collapse = ", "),
    if (values_ok) " or the finite weights themselves" else "",
    describe_value(initializer)))
}

# Draws weights of `shape` (c(fan_in, fan_out) for a kernel, the length for
# a bias) from a checked initializer; `default` names the initializer used
# for NULL; `fan_in` is the layer's input width (given for a bias). A matrix
# for a kernel, a vector for a bias.
dense_initial_values <- function(initializer, shape, arg, default,
                                 fan_in = shape[[1L]]) {
  initializer <- initializer %||% default
  size <- prod(shape)
  values <- if (is.character(initializer)) {
    switch(initializer,
      glorot_normal = glorot_normal_values(shape),
      glorot_uniform = glorot_uniform_values(shape),
      uniform_fan_in = uniform_fan_in_values(size, fan_in),
      zeros = numeric(size),
      ones = rep(1, size))
  } else if (is.function(initializer)) {
    values <- tryCatch(initializer(shape), error = function(e) {
      abort_bijectors("argument", sprintf(
        "The function given as `%s` failed on the shape c(%s): %s", arg,
        paste(shape, collapse = ", "), conditionMessage(e)), parent = e)
    })
    if (!is.numeric(values) || is.object(values) || length(values) != size ||
        !all(is.finite(values))) {
      abort_bijectors("argument", sprintf(paste(
        "The function given as `%s` must return %s finite numbers for the",
        "shape c(%s), not %s."), arg, format(size),
        paste(shape, collapse = ", "), describe_value(values)))
    }
    values
  } else if (length(initializer) == 1L) {
    rep(as.double(initializer), size)
  } else {
    expected <- if (length(shape) == 2L) {
      identical(as.integer(dim(initializer)), as.integer(shape))
    } else {
      length(dim(initializer)) <= 1L && length(initializer) == size
    }
    if (!expected) {
      abort_bijectors("argument", sprintf(
        "The weights given as `%s` must be %s, not %s.", arg,
        if (length(shape) == 2L) {
          sprintf("a %d x %d matrix", shape[[1L]], shape[[2L]])
        } else sprintf("a vector of length %d", shape[[1L]]),
        describe_value(initializer)))
    }
    initializer
  }
  values <- as.double(values)
  if (length(shape) == 2L) {
    dim(values) <- shape
  }
  values
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

# The masks of TFP's AutoregressiveNetwork with hidden_degrees = "equal"
# (its made.py create_degrees() and create_masks()), as fan_in x fan_out
# matrices: inputs have degrees 1..D; the units of each hidden layer get
# degrees spread evenly over 1..D-1 (never below the previous layer's
# smallest degree, nor below D - 1 when that is smaller), and a unit reads
# the units of the layer before whose degree is at most its own; output unit
# i (each event unit's `per_unit` outputs contiguous) reads the last hidden
# units of degree below i. Unlike made_mask()'s blocks, no hidden unit is
# left without inputs.
made_degree_masks <- function(input_size, hidden, per_unit) {
  previous <- seq_len(input_size)
  masks <- vector("list", length(hidden) + 1L)
  for (k in seq_along(hidden)) {
    low <- min(min(previous), input_size - 1L)
    degrees <- pmax(low, ceiling(seq_len(hidden[[k]]) * (input_size - 1) /
                                   (hidden[[k]] + 1)))
    masks[[k]] <- 1 * outer(previous, degrees, "<=")
    previous <- degrees
  }
  output_degrees <- rep(seq_len(input_size), each = per_unit)
  masks[[length(hidden) + 1L]] <- 1 * outer(previous, output_degrees, "<")
  masks
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
#' made of masked dense layers. For events of size `D`, hidden layer
#' `k` has `hidden_layers[k]` units and the activation, with MADE masks
#' (see `hidden_degrees`); the output layer has `2 * D` units
#' (`D` with `shift_only = TRUE`) and no activation. Output columns come in
#' pairs per event dimension, `shift[i]` then `log_scale[i]` (TFP reshapes
#' the output to `[..., D, 2]`), and `log_scale` is clipped to
#' `[log_scale_min_clip, log_scale_max_clip]`. So `shift[i]` and
#' `log_scale[i]` depend only on the inputs before `i`.
#'
#' The template is a network specification: its weights are created when a
#' flow first sees data (the event size `D` is then known), drawn with R's
#' random number generator, so `set.seed()` makes them reproducible. With
#' the default `hidden_degrees = "equal"`, kernels (times the mask) and
#' biases are uniform on `(-1 / sqrt(fan_in), 1 / sqrt(fan_in))`, `fan_in`
#' being the layer's input width (`"uniform_fan_in"`, PyTorch's `nn.Linear`
#' default); with `hidden_degrees = "blocks"`, TFP's: kernels glorot-normal
#' (a normal truncated at two standard deviations, scaled to the standard
#' deviation `sqrt(2 / (fan_in + fan_out))`) times the mask, biases zero.
#' `kernel_initializer` and `bias_initializer` in `...` change that.
#'
#' The defaults differ from TFP's template (see
#' NEWS) because with TFP's masks and initialisation a MAF learns much more
#' slowly per epoch than the same flow in PyTorch: zero biases put every
#' first-layer relu kink at the same place, which for small events (a unit
#' seeing a single input) leaves the first layer two distinct functions,
#' and the `"blocks"` masks leave `1 / D` of it idle. TFP's template
#' exactly is `hidden_degrees = "blocks"` (its initialisation follows), and
#' `log_scale_clip_gradient` is TFP's already.
#'
#' A template is built for one event size: using it later with
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
#' @param hidden_degrees `"equal"` (the default) or `"blocks"`: which inputs
#'   each hidden unit sees. With `"blocks"`, TFP's
#'   `masked_autoregressive_default_template()` exactly: its
#'   [tfb_masked_dense()] masks over `D` blocks, the first layer exclusive.
#'   The first of the `D` blocks of every layer then sees no input at all
#'   (it only adds constants to the first unit's shift and log-scale), so
#'   `1 / D` of the first layer is idle: half of it for `D = 2`. With
#'   `"equal"`, the masks of TFP's `AutoregressiveNetwork` (its default
#'   `hidden_degrees = "equal"`, the MADE of Germain et al. and of PyTorch
#'   implementations): inputs have degrees `1..D`, the hidden units of each
#'   layer degrees spread evenly over `1..D - 1`, a hidden unit sees the
#'   units of the layer before of degree at most its own, and the outputs
#'   of unit `i` see the last layer's units of degree below `i`. Every
#'   hidden unit sees at least the first input. On two moons (`D = 2`) a
#'   flow of 5 MAF(64, 64) trained 30 epochs reaches a test log-likelihood
#'   about 0.2 nats better with `"equal"` (see NEWS); use `"blocks"` for
#'   TFP's numbers.
#' @section Dense-layer arguments in `...`:
#' tfprobability passes the template's `...` on to every dense layer of the
#' network (for MADE, every [tfb_masked_dense()]). Those that change the
#' network or its training are implemented, for every layer:
#' * `kernel_initializer`: `NULL` (the default above), one of
#'   `"glorot_normal"`, `"glorot_uniform"`, `"uniform_fan_in"`, `"zeros"`,
#'   `"ones"`, a number
#'   (every weight that value), or an R function of the kernel's shape
#'   `c(fan_in, fan_out)` returning that many finite numbers (column-major).
#'   It is called, with R's random number generator, when the template is
#'   built; MADE kernels are then multiplied by their masks.
#' * `bias_initializer`: the same choices, the default being as above; a
#'   function is called with the shape `fan_out`, and `"uniform_fan_in"`
#'   uses the layer's input width. Kernel then bias, layer by layer, as Keras
#'   draws them.
#' * `use_bias`: `TRUE` (the default) or `FALSE`: the layers have no bias
#'   (`$weights` shows zero biases, which are not trainable parameters and
#'   stay zero).
#' * `trainable`: `TRUE` (the default) or `FALSE`: the network's weights are
#'   not trainable parameters, so [fit()] leaves them as initialised (the
#'   other bijectors of the flow still train).
#'
#' Accepted and ignored: `kernel_regularizer`, `bias_regularizer` and
#' `activity_regularizer`. In TFP they only record penalties among the
#' layers' losses, which its flows do not add to the log-likelihood;
#' [fit()] minimises the negative log-likelihood alone.
#'
#' Refused unless `NULL` (error of class `bijectors_error_unsupported`):
#' `kernel_constraint` and `bias_constraint`. Keras applies a constraint
#' after every optimizer update, which [fit()] does not do; MADE kernels
#' are constrained to their masks already (TFP's `masked_dense()` refuses a
#' `kernel_constraint`). `activation` is this function's own argument. Any
#' other argument is an error of class `bijectors_error_unsupported` naming
#' it.
#'
#' @param name String or `NULL` (`"masked_autoregressive_default_template"`).
#' @param ... Named dense-layer arguments, as in tfprobability: see the
#'   section below.
#' @return A template of class
#'   `c("tfb_masked_autoregressive_template", "bijectors_template")` to pass
#'   to [tfb_masked_autoregressive_flow()]. Fields: `$hidden_layers`,
#'   `$shift_only`, `$activation`, `$log_scale_min_clip`,
#'   `$log_scale_max_clip`, `$log_scale_clip_gradient`, `$hidden_degrees`,
#'   `$name`, `$use_bias`,
#'   `$trainable`, `$kernel_initializer`, `$bias_initializer` (as given),
#'   `$built`, `$input_size` and `$weights` (a copy: a list with one element
#'   per layer, each `list(kernel, bias, mask)`, or `NULL` before the build).
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
#' # tfprobability-style dense-layer arguments
#' made2 <- tfb_masked_autoregressive_default_template(
#'   hidden_layers = list(8, 8), kernel_initializer = "glorot_uniform",
#'   bias_initializer = function(shape) rnorm(shape, sd = 0.01),
#'   kernel_regularizer = NULL)
#' @export
tfb_masked_autoregressive_default_template <- function(
    hidden_layers, shift_only = FALSE, activation = "relu",
    log_scale_min_clip = -5, log_scale_max_clip = 3,
    log_scale_clip_gradient = FALSE, name = NULL, ...,
    hidden_degrees = c("equal", "blocks")) {
  dense <- check_template_dense_arguments(
    list(...), "tfb_masked_autoregressive_default_template", made = TRUE)
  hidden_degrees <- check_choice(hidden_degrees, c("equal", "blocks"),
                                 "hidden_degrees")
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
    hidden_degrees = hidden_degrees,
    name = check_string(name %||% "masked_autoregressive_default_template",
                        "name"),
    use_bias = dense$use_bias,
    trainable = dense$trainable,
    kernel_initializer = dense$kernel_initializer,
    bias_initializer = dense$bias_initializer
  ))
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
#' initializer of `tf.layers.dense`), and zero biases, unless
#' `kernel_initializer` or `bias_initializer` is given. A template is built
#' for one input size and one output size; using it later with others gives
#' an error of class `bijectors_error_event_size`.
#'
#' @inheritParams tfb_masked_autoregressive_default_template
#' @param hidden_layers Numeric vector or list of whole numbers >= 1: the
#'   units of each hidden layer (may be empty: one affine layer).
#' @param shift_only `TRUE` to compute only the shift (`log_scale` is then
#'   0): the NICE flow.
#' @param name String or `NULL` (`"real_nvp_default_template"`).
#' @section Dense-layer arguments in `...`:
#' As for [tfb_masked_autoregressive_default_template()], whose section
#' lists them: `kernel_initializer` (default `"glorot_uniform"` here),
#' `bias_initializer`, `use_bias` and `trainable` are implemented for every
#' layer; the regularizers are accepted and ignored; `kernel_constraint`
#' and `bias_constraint` must be `NULL` (fit() applies no constraints);
#' anything else is an error of class `bijectors_error_unsupported`.
#' @return A template of class
#'   `c("tfb_real_nvp_template", "bijectors_template")` to pass to
#'   [tfb_real_nvp()]. Fields: `$hidden_layers`, `$shift_only`,
#'   `$activation`, `$name`, `$use_bias`, `$trainable`,
#'   `$kernel_initializer`, `$bias_initializer`, `$built`, `$input_size`,
#'   `$output_units` and
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
#' # tfprobability-style: layer sizes as a list, Keras dense-layer arguments
#' tfb_real_nvp_default_template(list(8, 8), use_bias = FALSE,
#'                               kernel_initializer = "glorot_normal")
#' @export
tfb_real_nvp_default_template <- function(hidden_layers, shift_only = FALSE,
                                          activation = "relu", name = NULL,
                                          ...) {
  dense <- check_template_dense_arguments(
    list(...), "tfb_real_nvp_default_template", made = FALSE)
  new_template("tfb_real_nvp_template", list(
    hidden_layers = check_hidden_layers(hidden_layers, allow_empty = TRUE),
    shift_only = check_flag(shift_only, "shift_only"),
    activation = check_activation(activation),
    name = check_string(name %||% "real_nvp_default_template", "name"),
    use_bias = dense$use_bias,
    trainable = dense$trainable,
    kernel_initializer = dense$kernel_initializer,
    bias_initializer = dense$bias_initializer
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
  activation <- network_activations[[.subset2(template, "activation")]]
  made <- inherits(template, "tfb_masked_autoregressive_template")
  if (made) {
    made_check_hidden(template, input_size)
  }
  per_unit <- template_outputs_per_unit(template)
  units <- c(input_size, hidden, per_unit * output_units)
  layers <- length(units) - 1L
  # templates saved before hidden_degrees existed, and the spline template,
  # have TFP's masked_dense() blocks
  degree_masks <- if (made && identical(.subset2(template, "hidden_degrees"),
                                        "equal")) {
    made_degree_masks(input_size, hidden, per_unit)
  }
  kernels <- vector("list", layers)
  biases <- vector("list", layers)
  masks <- if (made) vector("list", layers) else NULL
  # Keras draws each layer's kernel, then its bias; templates saved before
  # the dense-layer arguments existed have none of these fields.
  kernel_initializer <- .subset2(template, "kernel_initializer")
  bias_initializer <- .subset2(template, "bias_initializer")
  use_bias <- !isFALSE(.subset2(template, "use_bias"))
  for (k in seq_len(layers)) {
    shape <- c(units[[k]], units[[k + 1L]])
    kernels[[k]] <- dense_initial_values(
      kernel_initializer, shape, "kernel_initializer",
      default = made_default_initializer(template, "glorot_normal") %||%
        "glorot_uniform")
    if (made) {
      masks[[k]] <- degree_masks[[k]] %||%
        made_mask(input_size, units[[k]], units[[k + 1L]], exclusive = k == 1L)
      kernels[[k]] <- kernels[[k]] * masks[[k]]
    }
    biases[[k]] <- if (use_bias) {
      dense_initial_values(bias_initializer, units[[k + 1L]], "bias_initializer",
                     default = made_default_initializer(template, "zeros") %||%
                       "zeros", fan_in = units[[k]])
    } else {
      numeric(units[[k + 1L]])
    }
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

# The default initializer of the affine MADE template (NULL for the other
# templates): "uniform_fan_in" with the default hidden_degrees = "equal",
# TFP's (`tfp`, glorot_normal kernels and zero biases) with "blocks".
made_default_initializer <- function(template, tfp) {
  if (!inherits(template, "tfb_masked_autoregressive_template") ||
      is_spline_template(template)) {
    return(NULL)
  }
  if (identical(.subset2(template, "hidden_degrees"), "equal")) {
    "uniform_fan_in"
  } else {
    tfp
  }
}

# Network outputs per transformed unit: shift and log-scale (or the shift
# alone); a spline template's 3K - 1 widths, heights and slopes.
template_outputs_per_unit <- function(template) {
  if (is_spline_template(template)) {
    return(3L * .subset2(template, "num_bins") - 1L)
  }
  if (.subset2(template, "shift_only")) 1L else 2L
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
        .subset2(template, "activation_codes"), .subset2(template, "masks"),
        keep_hidden)
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
    "log_scale_max_clip", "log_scale_clip_gradient", "hidden_degrees", "name",
    "use_bias",
    "trainable", "kernel_initializer", "bias_initializer"),
  tfb_real_nvp_template = c("hidden_layers", "shift_only", "activation",
                            "name", "use_bias", "trainable",
                            "kernel_initializer", "bias_initializer"),
  tfb_real_nvp_spline_template = c(
    "hidden_layers", "num_bins", "range_min", "range_max", "min_bin_width",
    "min_bin_height", "min_slope", "activation", "name", "use_bias",
    "trainable", "kernel_initializer", "bias_initializer"),
  tfb_ffjord_template = c("hidden_layers", "activation", "name", "use_bias",
                          "trainable", "kernel_initializer",
                          "bias_initializer"),
  tfb_masked_autoregressive_spline_template = c(
    "hidden_layers", "num_bins", "range_min", "range_max", "min_bin_width",
    "min_bin_height", "min_slope", "activation", "name", "use_bias",
    "trainable", "kernel_initializer", "bias_initializer")
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
    use_bias = !isFALSE(.subset2(x, "use_bias")),
    trainable = !isFALSE(.subset2(x, "trainable")),
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
  if (is_spline_template(template)) {
    return(c(spline_template_summary(template), built))
  }
  if (inherits(template, "tfb_ffjord_template")) {
    return(c(sprintf("hidden_layers: %s; activation: %s",
                     if (length(hidden)) paste(hidden, collapse = ", ") else
                       "none", .subset2(template, "activation")),
             built))
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
  if (inherits(x, "tfb_masked_autoregressive_template") &&
      !is_spline_template(x)) {
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
  slots[template_trained_slots(template, layers)]
}

# Which of the kernel and bias slots of each layer are trained: biases only
# with use_bias, nothing with trainable = FALSE (the fields are absent, so
# TRUE, in templates saved before these arguments existed).
template_trained_slots <- function(template, layers) {
  if (isFALSE(.subset2(template, "trainable"))) {
    return(logical(2L * layers))
  }
  rep(c(TRUE, !isFALSE(.subset2(template, "use_bias"))), layers)
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
  list(input = network$input,
       parameters = parameters[template_trained_slots(fn, layers)])
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
#' This is a function, not a layer object: it computes
#' `activation(inputs %*% (kernel * mask) + bias)` once and keeps no weights.
#' By default each call draws a fresh glorot-normal kernel (a normal
#' truncated at two standard deviations with standard deviation
#' `sqrt(2 / (fan_in + fan_out))`, TFP's default) with R's random number
#' generator, so `set.seed()` makes it reproducible, and a zero bias; to
#' apply given weights, pass the kernel matrix as `kernel_initializer` and
#' the bias vector as `bias_initializer`. The networks of
#' [tfb_masked_autoregressive_default_template()] keep their weights in the
#' template instead.
#'
#' @section Dense-layer arguments in `...`:
#' tfprobability passes `...` on to the Keras dense layer. Those that change
#' what this function computes are implemented:
#' * `activation`: a string as in
#'   [tfb_masked_autoregressive_default_template()], or `NULL` (the default:
#'   linear).
#' * `use_bias`: `TRUE` (the default) or `FALSE` (no bias is added, and
#'   `bias_initializer` is not used).
#' * `bias_initializer`: as `kernel_initializer` (the default is `"zeros"`),
#'   a function being called with the shape `units`, and the weights
#'   themselves being a numeric vector of length `units`. `bias =` is an
#'   older synonym; giving both is an error.
#'
#' Those that do not change a forward computation are accepted and have no
#' effect: `kernel_regularizer`, `bias_regularizer` and
#' `activity_regularizer` (Keras adds their penalty to the layer's losses,
#' not to its output), `bias_constraint` (Keras applies a constraint to the
#' variable after each optimizer update, never to the initial weights nor
#' to the output; nothing here is trained), and `trainable` (`TRUE` or
#' `FALSE`). `kernel_constraint` is an error, as in TFP, whose
#' `masked_dense()` sets the kernel's constraint to the mask itself. Any
#' other argument in `...` is an error of class
#' `bijectors_error_unsupported` naming it.
#'
#' @param inputs A numeric matrix, `N` rows of `n_in` inputs (a vector is
#'   one row; for an array the last axis holds the inputs).
#' @param units Whole number >= 1: the number of output units.
#' @param num_blocks Whole number >= 1: the number of MADE blocks, usually the
#'   event size of the flow; `NULL` means `n_in` (TFP has no default).
#' @param exclusive `TRUE` or `FALSE`: whether block `k` of the output is cut
#'   off from input block `k` too.
#' @param kernel_initializer `NULL` (glorot normal), one of
#'   `"glorot_normal"`, `"glorot_uniform"`, `"uniform_fan_in"` (PyTorch's
#'   `nn.Linear`: uniform on `+-1 / sqrt(n_in)`, for the bias too),
#'   `"zeros"`, `"ones"`, a number
#'   (every weight that value, Keras' constant initializer), a function of
#'   the kernel's shape `c(n_in, units)` returning that many numbers (in
#'   column-major order), or an `n_in` x `units` numeric matrix: the kernel
#'   itself. The kernel is multiplied by the mask.
#' @param reuse `NULL` or `FALSE`. `TRUE` is an error: no weights are kept to
#'   reuse (pass the kernel as `kernel_initializer` instead).
#' @param name `NULL` or a string; unused, accepted for compatibility with
#'   tfprobability.
#' @param ... Named dense-layer arguments, as in tfprobability: see the
#'   section below.
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
#' # Keras-style arguments, as tfprobability passes them
#' tfb_masked_dense(x, units = 3, num_blocks = 3, use_bias = TRUE,
#'                  kernel_initializer = "ones", bias_initializer = 0.5,
#'                  kernel_regularizer = NULL, trainable = TRUE)
#' @export
tfb_masked_dense <- function(inputs, units, num_blocks = NULL,
                             exclusive = FALSE, kernel_initializer = NULL,
                             reuse = NULL, name = NULL, ...) {
  options <- check_dense_names(list(...), "tfb_masked_dense",
                               c(dense_argument_names, "bias"))
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
  if (!is.null(options[["kernel_constraint"]])) {
    abort_bijectors("unsupported", paste(
      "`kernel_constraint` cannot be set: the kernel is constrained to its",
      "MADE mask (TFP's masked_dense() refuses it too)."))
  }
  activation <- check_activation(options[["activation"]])
  use_bias <- check_flag(options[["use_bias"]] %||% TRUE, "use_bias")
  check_flag(options[["trainable"]] %||% TRUE, "trainable")
  kernel_initializer <- check_dense_initializer(kernel_initializer,
                                          "kernel_initializer",
                                          values_ok = TRUE)
  bias_initializer <- check_dense_initializer(options[["bias_initializer"]],
                                        "bias_initializer", values_ok = TRUE)
  if (!is.null(options[["bias"]])) {
    if (!is.null(options[["bias_initializer"]])) {
      abort_bijectors("argument", paste(
        "Give the bias as `bias_initializer` or as `bias`, not both."))
    }
    bias_initializer <- check_dense_initializer(options[["bias"]], "bias",
                                          values_ok = TRUE)
  }
  bias_arg <- if (is.null(options[["bias"]])) "bias_initializer" else "bias"
  kernel <- dense_initial_values(kernel_initializer, c(n_in, units),
                           "kernel_initializer", default = "glorot_normal")
  bias <- if (use_bias) {
    dense_initial_values(bias_initializer, units, bias_arg, default = "zeros",
                         fan_in = n_in)
  } else {
    numeric(units)
  }
  kernel <- kernel * made_mask(num_blocks, n_in, units, exclusive)
  out <- .Call(C_mlp_forward, inputs, as.double(rows), 0, list(kernel),
               list(bias), network_activations[[activation]], NULL, FALSE)
  if (rank == 1L) {
    return(as.vector(out))
  }
  if (rank > 2L) {
    dim(out) <- c(dims[-rank], units)
  }
  out
}
