# The distribution object model: environment-backed S3 objects with the
# tfprobability method style (`d$log_prob(value)`, `d$sample(n)`) and the
# generic helpers (`tfd_log_prob(d, value)`), which call the same per-kind
# methods. Also the shape helpers the distributions share.

new_distribution <- function(kind, name, batch_shape, event_shape,
                             validate_args = FALSE, allow_nan_stats = TRUE,
                             ...) {
  distribution <- new.env(parent = emptyenv())
  distribution$name <- name
  distribution$batch_shape <- as.integer(batch_shape)
  distribution$event_shape <- as.integer(event_shape)
  distribution$validate_args <- validate_args
  distribution$allow_nan_stats <- allow_nan_stats
  distribution$constructor_arguments <- constructor_arguments()
  fields <- list(...)
  for (field in names(fields)) {
    assign(field, fields[[field]], envir = distribution)
  }
  class(distribution) <- c(kind, "distribution")
  distribution
}

distribution_methods <- c("log_prob", "prob", "sample")

#' @export
object_method_names.distribution <- function(x) {
  distribution_methods
}

#' @export
object_field_names.distribution <- function(x) {
  c("name", "batch_shape", "event_shape", "validate_args", "allow_nan_stats",
    "dtype", "parameters")
}

#' @export
object_field.distribution <- function(x, name) {
  switch(name,
    # samples and densities are doubles (TFP's dtype)
    dtype = "float64",
    parameters = object_parameters(x),
    NextMethod())
}

#' @export
object_method.distribution <- function(x, name) {
  distribution <- x
  switch(name,
    log_prob = function(value, ...) {
      tfd_log_prob(distribution, value, ...)
    },
    prob = function(value, ...) {
      tfd_prob(distribution, value, ...)
    },
    sample = function(sample_shape = integer(), ...) {
      tfd_sample(distribution, sample_shape, ...)
    }
  )
}

#' @export
object_change_hint.distribution <- function(x) {
  "Create a new distribution instead."
}

# Per-kind methods. `value` arrives as a double array; `sample_shape` as a
# double vector of whole numbers >= 0.
distribution_log_prob <- function(distribution, value) {
  UseMethod("distribution_log_prob")
}
distribution_sample <- function(distribution, sample_shape) {
  UseMethod("distribution_sample")
}

#' Log-density, density and samples of a distribution
#'
#' The generic helpers of tfprobability. `tfd_log_prob()` is the log-density
#' of `value`, `tfd_prob()` its density (`exp()` of the log-density), and
#' `tfd_sample()` draws samples. Each is the same as the method call
#' `distribution$log_prob(value)`, `distribution$prob(value)` or
#' `distribution$sample(sample_shape)`.
#'
#' Shapes follow TensorFlow's order with R's `dim()`: `value` has the
#' distribution's event shape in its last dimensions (a matrix with
#' `dim = c(N, D)` is `N` events of size `D`; a plain vector of length `D`
#' is one event), and the result has one value per event. Samples have
#' `dim = c(sample_shape, batch_shape, event_shape)`, returned as a plain
#' vector when that has one dimension and as a single number when it has
#' none. Samples are drawn with R's random number generator, so
#' [set.seed()] makes them reproducible; `tfd_sample(d, n, seed = s)` draws
#' after `set.seed(s)` and then puts R's generator back as it was, so the
#' same seed gives the same sample and the session's stream is not moved
#' (the values are not TFP's: the generators differ).
#'
#' @param distribution A distribution, such as one made by [tfd_normal()].
#' @param value A numeric vector, matrix or array (integer input is converted
#'   to double; a numeric data frame is used as a matrix).
#' @param sample_shape Whole numbers >= 0: a number, a vector, or a list of
#'   numbers as tfprobability takes it. The default (an empty list) draws one
#'   sample. Each entry is at most 2147483647 (it becomes a dimension of
#'   an R array). A shape whose sample would exceed R's longest vector
#'   (2^52 - 1 values) or, at 8 bytes a value, the machine's memory (read
#'   from `/proc/meminfo` where there is one) is an error of class
#'   `bijectors_error_sample_shape`, raised before anything is drawn.
#' @param ... `tfd_sample()`: `seed`, a single whole number (see Details);
#'   otherwise unused.
#' @return `tfd_log_prob()`, `tfd_prob()`: a double vector or array with one
#'   value per event. `tfd_sample()`: a double vector or array.
#' @family distributions
#' @seealso `tfprobability::tfd_log_prob()`, `tfprobability::tfd_prob()`,
#'   `tfprobability::tfd_sample()`.
#' @examples
#' d <- tfd_multivariate_normal_diag(loc = c(0, 1), scale_diag = c(1, 2))
#' x <- matrix(c(0, 0, 1, 1, 2, 3), ncol = 2, byrow = TRUE)
#' tfd_log_prob(d, x)
#' d$prob(c(0, 1))
#' set.seed(1)
#' dim(tfd_sample(d, 5))
#' dim(d$sample(c(2, 3)))
#' @export
tfd_log_prob <- function(distribution, value, ...) {
  check_distribution(distribution)
  check_no_extra_arguments(list(...))
  value <- as_input_array(value, "value")
  # a flow with a compiled plan: one .Call, all or nothing in C (R/plan.R)
  through_plan <- transformed_log_prob_through_plan(distribution, value)
  if (!is.null(through_plan)) {
    return(through_plan)
  }
  with_statistics_rollback(distribution,
                           distribution_log_prob(distribution, value))
}

#' @rdname tfd_log_prob
#' @export
tfd_prob <- function(distribution, value, ...) {
  exp(tfd_log_prob(distribution, value, ...))
}

#' @rdname tfd_log_prob
#' @export
tfd_sample <- function(distribution, sample_shape = list(), ...) {
  check_distribution(distribution)
  extra <- list(...)
  seed <- extra[["seed"]]
  extra[["seed"]] <- NULL
  check_no_extra_arguments(extra)
  sample_shape <- check_sample_shape(sample_shape)
  check_sample_size(distribution, sample_shape)
  draw <- function() {
    with_statistics_rollback(distribution,
                             distribution_sample(distribution, sample_shape))
  }
  if (is.null(seed)) draw() else with_seed(check_seed(seed), draw())
}

# A sample is one array of dim c(sample_shape, batch_shape, event_shape)
# doubles. A request that cannot exist is refused here, before anything is
# allocated, rather than failing inside rnorm() or the allocator with R's
# unclassed "invalid arguments" or "cannot allocate vector": more values
# than an R vector holds (2^52 - 1, R_XLEN_T_MAX), or more bytes than the
# machine has memory (the array alone, before any intermediate).
check_sample_size <- function(distribution, sample_shape,
                              arg = "sample_shape") {
  shape <- c(sample_shape, .subset2(distribution, "batch_shape"),
             .subset2(distribution, "event_shape"))
  total <- prod(as.double(shape))
  if (total > 2^52 - 1) {
    abort_bijectors("sample_shape", sprintf(paste(
      "`%s` asks for %s values, more than an R vector can hold",
      "(2^52 - 1)."), arg, format(total)))
  }
  memory <- physical_memory_bytes()
  if (!is.na(memory) && 8 * total > memory) {
    abort_bijectors("sample_shape", sprintf(paste(
      "`%s` asks for %s values (%s GB as doubles), more than this",
      "machine's memory (%s GB); draw fewer at a time."), arg,
      format(total), format(signif(8 * total / 1e9, 3)),
      format(signif(memory / 1e9, 3))))
  }
  invisible()
}

# Shapes ------------------------------------------------------------------

# TensorFlow's shape of an R value: a number is a scalar, a plain vector has
# one dimension, an array has its dim.
shape_of <- function(x) {
  dims <- dim(x)
  if (!is.null(dims)) {
    return(dims)
  }
  if (length(x) == 1L) integer() else length(x)
}

# TensorFlow's broadcasting: shapes aligned on the right, each pair of
# dimensions equal or one of them 1.
broadcast_shapes <- function(first, second, what) {
  rank <- max(length(first), length(second))
  first <- c(rep(1, rank - length(first)), first)
  second <- c(rep(1, rank - length(second)), second)
  ok <- first == second | first == 1 | second == 1
  if (!all(ok)) {
    abort_bijectors(what$class, what$message)
  }
  pmax(first, second) * (first != 0 & second != 0)
}

# The values of `x` (of shape `from`) laid out in column-major order of the
# broadcast shape `to`; a single value stays single (R recycles it).
broadcast_values <- function(x, from, to) {
  if (length(x) == 1L) {
    return(as.vector(x))
  }
  from <- c(rep(1, length(to) - length(from)), from)
  if (all(from == to)) {
    return(as.vector(x))
  }
  leading <- which(from != 1)
  if (length(leading) > 0L && all(from[seq_len(min(leading) - 1L)] == 1) &&
      all(from[min(leading):length(to)] == to[min(leading):length(to)])) {
    # `x` fills the trailing dims: repeat each value over the leading ones.
    return(rep(as.vector(x), each = prod(to[seq_len(min(leading) - 1L)])))
  }
  strides <- cumprod(c(1, from[-length(from)]))
  index <- 0
  for (k in seq_along(to)) {
    step <- if (from[[k]] == 1) 0 else (seq_len(to[[k]]) - 1) * strides[[k]]
    index <- as.vector(outer(index, step, "+"))
  }
  as.vector(x)[index + 1]
}

# A vector of values shaped as `shape`: a plain vector for one dimension,
# a single number for none.
with_shape <- function(values, shape) {
  if (length(shape) >= 2L) {
    dim(values) <- shape
  }
  values
}

format_shape <- function(shape) {
  paste0("[", paste(shape, collapse = ", "), "]")
}

#' @export
format.distribution <- function(x, ...) {
  c(
    sprintf("<%s> \"%s\"", class(x)[[1L]], .subset2(x, "name")),
    sprintf("  batch_shape: %s, event_shape: %s",
            format_shape(.subset2(x, "batch_shape")),
            format_shape(.subset2(x, "event_shape")))
  )
}
