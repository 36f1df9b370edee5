# Argument checks. Each helper returns the normalised value and names the
# argument in its message; errors carry the classes
# c("bijectors_error_<what>", "bijectors_error", "error", "condition").

# `what` may name several classes, most specific first; `...` adds fields
# to the condition (such as `parent`, the condition that caused it).
abort_bijectors <- function(what, message, call = NULL, ...) {
  condition <- structure(
    class = c(paste0("bijectors_error_", what), "bijectors_error", "error",
              "condition"),
    c(list(message = message, call = call), list(...))
  )
  stop(condition)
}

describe_value <- function(x) {
  if (is.null(x)) {
    return("NULL")
  }
  if (is.atomic(x) && length(x) == 1L && !is.object(x)) {
    return(if (is.character(x)) encodeString(x, quote = "\"") else format(x))
  }
  if (is.atomic(x) && !is.object(x)) {
    # format(), not %d: a long vector's length is a double. What is wrong
    # with a numeric vector of the right length is its non-finite values
    # (looked for only in short vectors: an error path makes no pass over
    # a long one).
    holding <- if (is.numeric(x) && length(x) <= 1e5 && !all(is.finite(x))) {
      " holding NA, NaN or Inf"
    } else {
      ""
    }
    return(sprintf("a %s vector of length %s%s", typeof(x),
                   format(length(x)), holding))
  }
  sprintf("an object of class <%s>", paste(class(x), collapse = "/"))
}

check_flag <- function(x, arg) {
  if (!is.logical(x) || length(x) != 1L || is.na(x)) {
    abort_bijectors("argument", sprintf(
      "`%s` must be TRUE or FALSE, not %s.", arg, describe_value(x)))
  }
  x
}

check_string <- function(x, arg, null_ok = FALSE) {
  if (null_ok && is.null(x)) {
    return(x)
  }
  if (!is.character(x) || length(x) != 1L || is.na(x)) {
    abort_bijectors("argument", sprintf(
      "`%s` must be a single string, not %s.", arg, describe_value(x)))
  }
  x
}

check_number <- function(x, arg, lower = -Inf, upper = Inf, what = NULL) {
  ok <- is.numeric(x) && !is.object(x) && length(x) == 1L && !is.na(x) &&
    is.finite(x) && x >= lower && x <= upper
  if (!ok) {
    if (is.null(what)) {
      what <- if (is.finite(lower) && is.finite(upper)) {
        sprintf("a number in [%s, %s]", format(lower), format(upper))
      } else if (is.finite(lower)) {
        sprintf("a finite number >= %s", format(lower))
      } else {
        "a finite number"
      }
    }
    abort_bijectors("argument", sprintf(
      "`%s` must be %s, not %s.", arg, what, describe_value(x)))
  }
  as.double(x)
}

# Axes as given by the user: a non-empty vector of distinct, non-zero whole
# numbers. 0 is refused with a hint, since Python users count from 0.
check_axis <- function(axis, arg = "axis") {
  ok <- is.numeric(axis) && !is.object(axis) && length(axis) >= 1L &&
    !anyNA(axis) && all(is.finite(axis)) && all(axis == round(axis)) &&
    all(abs(axis) <= .Machine$integer.max)
  if (!ok) {
    abort_bijectors("axis", sprintf(
      "`%s` must be a non-empty vector of whole numbers, not %s.",
      arg, describe_value(axis)))
  }
  if (any(axis == 0)) {
    abort_bijectors("axis", sprintf(paste(
      "`%s` contains 0, but axes are 1-based in R:",
      "use 1 for the first axis and -1 for the last."), arg))
  }
  if (anyDuplicated(axis)) {
    abort_bijectors("axis", sprintf(
      "`%s` must not repeat an axis, but it is %s.", arg,
      paste0("c(", paste(axis, collapse = ", "), ")")))
  }
  as.integer(axis)
}

# Positive positions of `axis` in an input of rank `rank`, sorted.
resolve_axes <- function(axis, rank, arg = "y") {
  resolved <- axis + (axis < 0L) * (as.integer(rank) + 1L)
  if (length(resolved) == 1L && resolved >= 1L && resolved <= rank) {
    return(resolved)
  }
  if (any(resolved < 1L | resolved > rank)) {
    abort_bijectors("axis", sprintf(paste(
      "The layer's axis %s is out of range for `%s` of rank %d",
      "(axes must be within 1..%d, or -%d..-1 from the end)."),
      paste0("c(", paste(axis, collapse = ", "), ")"), arg, rank, rank, rank))
  }
  if (anyDuplicated(resolved)) {
    abort_bijectors("axis", sprintf(paste(
      "The layer's axis %s names the same axis twice for `%s` of rank %d."),
      paste0("c(", paste(axis, collapse = ", "), ")"), arg, rank))
  }
  sort.int(as.integer(resolved))
}

# Numeric input as a double vector or array. Integer input becomes double,
# a numeric data frame becomes a matrix; anything else is an error.
as_input_array <- function(x, arg) {
  if (is.double(x) && !is.object(x)) {
    return(x)
  }
  if (is.integer(x) && !is.object(x)) {
    storage.mode(x) <- "double"
    return(x)
  }
  if (is.data.frame(x)) {
    numeric_column <- vapply(
      x, function(column) is.numeric(column) && !is.object(column), logical(1)
    )
    if (!all(numeric_column)) {
      bad <- names(x)[!numeric_column]
      abort_bijectors("input", sprintf(paste(
        "`%s` is a data frame with non-numeric column%s %s;",
        "only numeric data frames can be used as a matrix."),
        arg, if (length(bad) > 1L) "s" else "",
        paste0("`", bad, "`", collapse = ", ")))
    }
    x <- as.matrix(x)
    storage.mode(x) <- "double"
    return(x)
  }
  if (is.numeric(x) && (is.double(x) || is.integer(x))) {
    x <- unclass(x)
    storage.mode(x) <- "double"
    return(x)
  }
  if (is.list(x) && !is.object(x) && is.null(dim(x)) && length(x) > 0L) {
    x <- nested_list_as_array(x, arg)
    # one axis: R's plain vector, as for any other 1-d input
    if (length(dim(x)) == 1L) dim(x) <- NULL
    return(x)
  }
  abort_bijectors("input", sprintf(paste(
    "`%s` must be a numeric vector, matrix, array or data frame, not %s."),
    arg, describe_input(x)))
}

# A nested list of numbers as the array TensorFlow makes of it (tfprobability
# users write `list(c(1, 2), c(3, 4))` for a 2 x 2 tensor): the outer list
# is the first axis, and, as reticulate converts them, length-one vectors
# are scalars. Ragged or non-numeric lists are an error naming `arg`. The
# result always has a dim (1-d too), so that list(list(1)) is 1 x 1.
nested_list_as_array <- function(x, arg) {
  parts <- lapply(x, function(part) {
    if (is.list(part) && !is.object(part) && is.null(dim(part)) &&
        length(part) > 0L) {
      return(nested_list_as_array(part, arg))
    }
    if (!is.numeric(part) || is.object(part) || length(part) == 0L) {
      abort_bijectors("input", sprintf(paste(
        "`%s` is a list, so it must be a nested list of numbers (one",
        "tensor, outer list first), but an element is %s."),
        arg, describe_input(part)))
    }
    part <- unclass(part)
    storage.mode(part) <- "double"
    part
  })
  part_dims <- lapply(parts, function(part) {
    if (is.null(dim(part))) {
      if (length(part) == 1L) integer(0) else length(part)
    } else {
      dim(part)
    }
  })
  inner <- part_dims[[1L]]
  if (!all(vapply(part_dims, identical, logical(1), inner))) {
    abort_bijectors("input", sprintf(paste(
      "`%s` is a ragged list: all elements of a nested list must have the",
      "same shape to form one tensor."), arg))
  }
  out <- matrix(0, nrow = length(parts), ncol = max(1L, prod(inner)))
  for (i in seq_along(parts)) {
    out[i, ] <- as.vector(parts[[i]])
  }
  dim(out) <- c(length(parts), inner)
  out
}

# A parameter given as an unnamed nested list of numbers, as tfprobability
# users may write one (reticulate makes a tensor of it), as its array (a
# plain vector for one axis); any other value unchanged, for the caller's
# check to judge and name.
list_parameter_as_array <- function(x) {
  if (!is.list(x) || is.object(x) || !is.null(dim(x)) ||
      !is.null(names(x)) || length(x) == 0L) {
    return(x)
  }
  tryCatch({
    x <- nested_list_as_array(x, "x")
    if (length(dim(x)) == 1L) dim(x) <- NULL
    x
  }, bijectors_error = function(e) x)
}

describe_input <- function(x) {
  if (is.null(x)) {
    return("NULL")
  }
  if (is.factor(x)) {
    return("a factor")
  }
  if (is.object(x)) {
    return(sprintf("an object of class <%s>", paste(class(x), collapse = "/")))
  }
  sprintf("a %s %s", typeof(x), if (is.array(x)) "array" else "vector")
}

input_dims <- function(x) {
  dims <- dim(x)
  if (is.null(dims)) {
    dims <- if (length(x) <= .Machine$integer.max) length(x) else
      as.double(length(x))
  }
  dims
}

check_event_ndims <- function(event_ndims, min_event_ndims, rank, arg) {
  if (missing(event_ndims) || is.null(event_ndims)) {
    abort_bijectors("event_ndims", sprintf(paste(
      "`event_ndims` is required: the number of rightmost dimensions of",
      "`%s` that form one event (at least %d)."), arg, min_event_ndims))
  }
  ok <- is.numeric(event_ndims) && !is.object(event_ndims) &&
    length(event_ndims) == 1L && !is.na(event_ndims) &&
    is.finite(event_ndims) && event_ndims == round(event_ndims)
  if (!ok) {
    abort_bijectors("event_ndims", sprintf(
      "`event_ndims` must be a whole number, not %s.",
      describe_value(event_ndims)))
  }
  if (event_ndims < min_event_ndims) {
    abort_bijectors("event_ndims", sprintf(
      "`event_ndims` must be at least %d for this bijector, not %s.",
      min_event_ndims, format(event_ndims)))
  }
  if (event_ndims > rank) {
    abort_bijectors("event_ndims", sprintf(
      "`event_ndims` (%s) must not exceed the rank of `%s` (%d).",
      format(event_ndims), arg, rank))
  }
  as.integer(event_ndims)
}

# TFP's reduction of a scalar log-det over event dims beyond the minimum:
# it counts once per element of the extra dims.
log_det_multiplier <- function(dims, event_ndims, min_event_ndims) {
  if (event_ndims == min_event_ndims) {
    return(1)
  }
  rank <- length(dims)
  prod(as.double(dims[(rank - event_ndims + 1L):(rank - min_event_ndims)]))
}

check_bijector <- function(x, arg = "bijector") {
  if (!inherits(x, "bijector")) {
    abort_bijectors("bijector", sprintf(
      "`%s` must be a bijector, such as tfb_batch_normalization(), not %s.",
      arg, describe_value(x)))
  }
  invisible(x)
}

# ---- arguments of fit.R -----------------------------------------------------

check_verbose <- function(verbose) {
  if (is.logical(verbose) && length(verbose) == 1L && !is.na(verbose)) {
    return(as.integer(verbose))
  }
  if (is.numeric(verbose) && !is.object(verbose) && length(verbose) == 1L &&
      !is.na(verbose) && verbose %in% 0:2) {
    return(as.integer(verbose))
  }
  abort_bijectors("argument", sprintf(
    "`verbose` must be TRUE, FALSE, 0, 1 or 2, not %s.",
    describe_value(verbose)))
}

check_patience <- function(patience) {
  if (is.null(patience)) {
    return(NULL)
  }
  ok <- is.numeric(patience) && !is.object(patience) &&
    length(patience) == 1L && !is.na(patience) && is.finite(patience) &&
    patience == round(patience) && patience >= 0 &&
    patience <= .Machine$integer.max
  if (!ok) {
    abort_bijectors("argument", sprintf(
      "`patience` must be NULL or a whole number >= 0, not %s.",
      describe_value(patience)))
  }
  as.integer(patience)
}

check_fit_dots <- function(dots) {
  if (length(dots) > 0L) {
    given <- names(dots)
    given <- if (is.null(given)) "unnamed arguments" else
      paste0("`", ifelse(given == "", "<unnamed>", given), "`",
             collapse = ", ")
    abort_bijectors("argument", sprintf(paste(
      "fit() got unknown arguments (%s). Its arguments are `x`, `epochs`,",
      "`batch_size`, `validation_split`, `validation_data`, `shuffle`,",
      "`verbose`, `learning_rate`, `patience` and `steps_per_epoch`."),
      given))
  }
  invisible()
}

# ---- arguments of distribution.R --------------------------------------------

check_distribution <- function(x, arg = "distribution") {
  if (!inherits(x, "distribution")) {
    abort_bijectors("distribution", sprintf(paste(
      "`%s` must be a distribution, such as tfd_normal(), not %s."),
      arg, describe_value(x)))
  }
  invisible(x)
}

check_no_extra_arguments <- function(extra) {
  if (length(extra) == 0L) {
    return(invisible())
  }
  extra_names <- names(extra) %||% rep("", length(extra))
  if ("seed" %in% extra_names) {
    # only the samplers take a seed (and remove it before coming here)
    abort_bijectors("unsupported", paste(
      "`seed` is for sampling (tfd_sample(), tfd_sample_parallel()):",
      "log-densities use no random numbers."))
  }
  abort_bijectors("argument", sprintf(
    "Unused argument%s: %s.", if (length(extra) > 1L) "s" else "",
    paste(ifelse(extra_names == "", "(unnamed)", paste0("`", extra_names, "`")),
          collapse = ", ")))
}

check_seed <- function(seed, arg = "seed") {
  if (!is.numeric(seed) || is.object(seed) || length(seed) != 1L ||
      !is.finite(seed) || seed != round(seed) ||
      abs(seed) > .Machine$integer.max) {
    abort_bijectors("seed", sprintf(paste(
      "`%s` must be a single whole number between -%d and %d, not %s."),
      arg, .Machine$integer.max, .Machine$integer.max, describe_value(seed)))
  }
  as.integer(seed)
}

# Evaluates `expr` with the RNG seeded, restoring the caller's RNG state.
with_seed <- function(seed, expr) {
  had_seed <- exists(".Random.seed", envir = globalenv(), inherits = FALSE)
  if (had_seed) {
    saved <- get(".Random.seed", envir = globalenv(), inherits = FALSE)
  }
  on.exit(if (had_seed) {
    assign(".Random.seed", saved, envir = globalenv())
  } else if (exists(".Random.seed", envir = globalenv(), inherits = FALSE)) {
    rm(".Random.seed", envir = globalenv())
  })
  set.seed(seed)
  expr
}

check_sample_shape <- function(sample_shape, arg = "sample_shape") {
  if (is.list(sample_shape) && !is.object(sample_shape)) {
    numeric_entries <- vapply(sample_shape, function(entry) {
      is.numeric(entry) && !is.object(entry) && length(entry) == 1L
    }, logical(1))
    if (!all(numeric_entries)) {
      abort_bijectors("sample_shape", sprintf(
        "`%s` must be a list of single whole numbers >= 0.", arg))
    }
    sample_shape <- as.double(unlist(sample_shape, use.names = FALSE))
  }
  ok <- is.numeric(sample_shape) && !is.object(sample_shape) &&
    length(dim(sample_shape)) <= 1L && !anyNA(sample_shape) &&
    all(is.finite(sample_shape)) && all(sample_shape >= 0) &&
    all(sample_shape == round(sample_shape))
  if (!ok) {
    abort_bijectors("sample_shape", sprintf(
      "`%s` must be whole numbers >= 0, not %s.", arg,
      if (is.numeric(sample_shape) && length(sample_shape) <= 6L)
        format_values(sample_shape) else describe_value(sample_shape)))
  }
  # each entry becomes a dimension of an R array, an integer
  if (any(sample_shape > .Machine$integer.max)) {
    abort_bijectors("sample_shape", sprintf(paste(
      "`%s` must be whole numbers from 0 to 2147483647 (the dimensions of",
      "an R array are integers), not %s."), arg,
      paste(format(sample_shape[sample_shape > .Machine$integer.max],
                   digits = 15), collapse = ", ")))
  }
  as.double(sample_shape)
}

# The machine's memory in bytes (MemTotal of /proc/meminfo), read once; NA
# where that is not available.
physical_memory_bytes <- function() {
  cached <- package_cache$physical_memory
  if (!is.null(cached)) {
    return(cached)
  }
  bytes <- NA_real_
  lines <- tryCatch(suppressWarnings(readLines("/proc/meminfo", n = 5L)),
                    error = function(e) character())
  total <- grep("^MemTotal:", lines, value = TRUE)
  if (length(total) == 1L) {
    kilobytes <- suppressWarnings(as.numeric(
      sub("^MemTotal:[[:space:]]*([0-9]+).*$", "\\1", total)))
    if (length(kilobytes) == 1L && is.finite(kilobytes) && kilobytes > 0) {
      bytes <- kilobytes * 1024
    }
  }
  package_cache$physical_memory <- bytes
  bytes
}

package_cache <- new.env(parent = emptyenv())

# A shape given as tfprobability takes it, a list of single numbers, as a
# numeric vector; anything else is returned as it is, for the caller's check.
unlist_shape <- function(shape) {
  if (is.list(shape) && !is.object(shape) &&
      all(vapply(shape, function(entry) {
        is.numeric(entry) && length(entry) == 1L
      }, logical(1)))) {
    shape <- as.double(unlist(shape, use.names = FALSE))
  }
  shape
}

# ---- arguments of event_shape.R ---------------------------------------------

# An event shape given by a user: whole numbers >= 0, as a vector or a list
# of single numbers, with at least `min_ndims` dimensions.
check_event_shape <- function(shape, arg, min_ndims = 0L) {
  shape <- unlist_shape(shape)
  if (is.null(shape)) {
    shape <- integer()
  }
  ok <- is.numeric(shape) && !is.object(shape) &&
    length(dim(shape)) <= 1L && !anyNA(shape) && all(is.finite(shape)) &&
    all(shape >= 0) && all(shape == round(shape)) &&
    all(shape <= .Machine$integer.max)
  if (!ok) {
    abort_bijectors("event_shape", sprintf(
      "`%s` must be whole numbers >= 0 (an event's dimensions), not %s.",
      arg, describe_value(shape)))
  }
  if (length(shape) < min_ndims) {
    abort_bijectors("event_shape", sprintf(paste(
      "`%s` has %d dimension%s, but the bijector acts on events of at least",
      "%d."), arg, length(shape), if (length(shape) == 1L) "" else "s",
      min_ndims))
  }
  as.integer(shape)
}

# ---- arguments of reshape.R -------------------------------------------------

check_reshape_shape <- function(shape, arg) {
  shape <- unlist_shape(shape)
  ok <- is.numeric(shape) && !is.object(shape) && length(dim(shape)) <= 1L &&
    !anyNA(shape) && all(is.finite(shape)) && all(shape == round(shape)) &&
    all(shape <= .Machine$integer.max)
  if (!ok) {
    abort_bijectors("event_shape", sprintf(
      "`%s` must be a vector of whole numbers (an event shape), not %s.",
      arg, describe_value(shape)))
  }
  if (any(shape < -1)) {
    abort_bijectors("event_shape", sprintf(
      "`%s` elements must be either whole numbers >= 0 or `-1`, not %s.",
      arg, format_values(shape)))
  }
  if (sum(shape == -1) > 1L) {
    abort_bijectors("event_shape", sprintf(
      "`%s` must have at most one `-1`, but it is %s.", arg,
      format_values(shape)))
  }
  as.integer(shape)
}

# ---- arguments of normal.R --------------------------------------------------

check_distribution_parameter <- function(x, arg, positive = FALSE) {
  x <- list_parameter_as_array(x)
  ok <- is.numeric(x) && !is.object(x) && length(x) >= 1L && !anyNA(x) &&
    all(is.finite(x))
  if (!ok) {
    abort_bijectors("argument", sprintf(
      "`%s` must be a finite number or a numeric vector or array of finite numbers, not %s.",
      arg, describe_value(x)))
  }
  if (positive && any(x <= 0)) {
    abort_bijectors("scale", sprintf(
      "`%s` must be positive, but it has %s.", arg,
      if (length(x) == 1L) paste("the value", format(x)) else
        sprintf("%d values <= 0", sum(x <= 0))))
  }
  if (is.integer(x)) {
    storage.mode(x) <- "double"
  }
  x
}

# ---- arguments of network.R -------------------------------------------------

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

# One string among `choices`; the whole vector of choices (an argument left
# at its default) means the first.
check_choice <- function(x, choices, arg) {
  if (identical(x, choices)) {
    return(choices[[1L]])
  }
  if (is.character(x) && length(x) == 1L && !is.na(x) && x %in% choices) {
    return(x)
  }
  abort_bijectors("argument", sprintf("`%s` must be one of %s, not %s.", arg,
                                      paste0("\"", choices, "\"", collapse = ", "),
                                      describe_value(x)))
}

# Layer sizes as a positive integer vector; a list such as list(64, 64) (the
# tfprobability style) is accepted too.
check_hidden_layers <- function(hidden_layers, allow_empty,
                                arg = "hidden_layers") {
  values <- if (is.list(hidden_layers) && !is.object(hidden_layers) &&
                all(vapply(hidden_layers, function(units) {
                  is.numeric(units) && !is.object(units) && length(units) == 1L
                }, logical(1)))) {
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

check_clip <- function(x, arg) {
  ok <- is.numeric(x) && !is.object(x) && length(x) == 1L && !is.na(x)
  if (!ok) {
    abort_bijectors("argument", sprintf(
      "`%s` must be a single number (possibly infinite), not %s.",
      arg, describe_value(x)))
  }
  as.double(x)
}

check_count <- function(x, arg) {
  ok <- is.numeric(x) && !is.object(x) && length(x) == 1L && !is.na(x) &&
    is.finite(x) && x == round(x) && x >= 1 && x <= .Machine$integer.max
  if (!ok) {
    # a whole number beyond R's integers is refused for its size
    too_large <- is.numeric(x) && !is.object(x) && length(x) == 1L &&
      isTRUE(x > .Machine$integer.max)
    abort_bijectors("argument", sprintf(
      "`%s` must be a whole number >= 1%s, not %s.", arg,
      if (too_large) sprintf(" and <= %d", .Machine$integer.max) else "",
      describe_value(x)))
  }
  as.integer(x)
}

# ---- arguments of batch_normalization.R -------------------------------------

check_keras_options <- function(options) {
  if (length(options) == 0L) {
    return(invisible())
  }
  option_names <- names(options)
  if (is.null(option_names) || any(option_names == "")) {
    abort_bijectors("argument", paste(
      "layer_batch_normalization() takes only named arguments;",
      "an unnamed extra argument was given."))
  }
  for (option in option_names) {
    if (!option %in% names(keras_options)) {
      abort_bijectors("argument", sprintf(
        "layer_batch_normalization() has no argument `%s`.", option))
    }
    if (option %in% keras_options_ignored) {
      next
    }
    if (!identical(options[[option]], keras_options[[option]])) {
      abort_bijectors("unsupported", sprintf(paste(
        "The Keras option `%s` is not supported by the batch-normalization",
        "bijector (only its default, %s, is accepted)."),
        option, describe_value(keras_options[[option]])))
    }
  }
  invisible()
}

check_initializer <- function(x, arg, lower = -Inf) {
  if (is.character(x) && length(x) == 1L && x %in% c("zeros", "ones")) {
    return(x)
  }
  if (is.numeric(x) && !is.object(x) && length(x) == 1L && is.finite(x) &&
      x >= lower) {
    return(as.double(x))
  }
  abort_bijectors("unsupported", sprintf(paste(
    "`%s` must be \"zeros\", \"ones\" or a single finite number%s, not %s."),
    arg, if (is.finite(lower)) sprintf(" >= %s", format(lower)) else "",
    describe_value(x)))
}

# ---- arguments of permute.R -------------------------------------------------

check_permutation <- function(permutation, arg = "permutation") {
  # tfprobability's style, list(2, 1): a list of single numbers.
  from_list <- is.list(permutation) && !is.object(permutation) &&
    length(permutation) >= 1L &&
    all(vapply(permutation, function(p) {
      is.numeric(p) && !is.object(p) && length(p) == 1L && is.null(dim(p))
    }, logical(1)))
  if (from_list) {
    permutation <- unlist(permutation, use.names = FALSE)
  }
  ok <- is.numeric(permutation) && !is.object(permutation) &&
    length(permutation) >= 1L && length(dim(permutation)) <= 1L &&
    !anyNA(permutation) && all(is.finite(permutation)) &&
    all(permutation == round(permutation))
  if (!ok) {
    abort_bijectors("permutation", sprintf(
      "`%s` must be a non-empty vector of whole numbers, not %s.",
      arg, describe_value(permutation)))
  }
  size <- length(permutation)
  if (any(permutation == 0) &&
      identical(sort(as.double(permutation)), as.double(seq_len(size) - 1L))) {
    abort_bijectors("permutation", sprintf(paste(
      "`%s` looks 0-based (it is a permutation of 0..%d), but permutations",
      "are 1-based in R: add 1, e.g. `%s + 1`."), arg, size - 1L,
      if (from_list) sprintf("unlist(%s)", arg) else arg))
  }
  if (!identical(sort(as.double(permutation)), as.double(seq_len(size)))) {
    abort_bijectors("permutation", sprintf(paste(
      "`%s` must be a permutation of 1..%d (each position exactly once),",
      "not c(%s)."), arg, size, paste(format(permutation), collapse = ", ")))
  }
  as.integer(permutation)
}

# ---- arguments of multivariate_normal_diag.R --------------------------------

check_mvn_vector <- function(x, arg) {
  if (is.null(x)) {
    return(NULL)
  }
  x <- list_parameter_as_array(x)
  ok <- is.numeric(x) && !is.object(x) && length(x) >= 1L && !anyNA(x) &&
    all(is.finite(x))
  if (!ok) {
    abort_bijectors("argument", sprintf(
      "`%s` must be NULL or a numeric vector of finite numbers, not %s.",
      arg, describe_value(x)))
  }
  if (length(dim(x)) > 1L) {
    abort_bijectors("unsupported", sprintf(paste(
      "`%s` must be a vector: batches of multivariate normals (a matrix",
      "`%s`) are not supported."), arg, arg))
  }
  as.double(x)
}
