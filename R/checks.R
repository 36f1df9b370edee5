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
    # format(), not %d: a long vector's length is a double.
    return(sprintf("a %s vector of length %s", typeof(x), format(length(x))))
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
  abort_bijectors("input", sprintf(paste(
    "`%s` must be a numeric vector, matrix, array or data frame, not %s."),
    arg, describe_input(x)))
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
