# Shared plumbing of the kinds whose events are matrices (fill_triangular,
# transform_diagonal, the Cholesky kinds): a batch of n x n matrices is an
# array c(batch..., n, n). In R's column-major memory, collapsing the batch
# to B rows gives a B x n^2 matrix whose column i + n * (j - 1) holds entry
# [i, j] of every event, so work on whole columns is vectorised over the
# batch.

# `x` as list(values = B x n^2 matrix, batch = batch dims, n = ); errors
# for a rank below 2 or a non-square event.
matrix_events <- function(x, arg) {
  x <- as_input_array(x, arg)
  dims <- input_dims(x)
  rank <- length(dims)
  if (rank < 2L) {
    abort_bijectors("event_shape", sprintf(paste(
      "`%s` must have rank at least 2 (a matrix, or a batch of matrices",
      "as an array with the matrices in its last two dimensions), not %d."),
      arg, rank))
  }
  n <- dims[[rank]]
  if (dims[[rank - 1L]] != n) {
    abort_bijectors("event_shape", sprintf(
      "`%s` must hold square matrices, but its events are %s x %s.",
      arg, format(dims[[rank - 1L]]), format(n)))
  }
  batch <- dims[seq_len(rank - 2L)]
  values <- as.vector(x)
  dim(values) <- c(prod(as.double(batch)), n * n)
  list(values = values, batch = batch, n = as.integer(n))
}

# The inverse of matrix_events(): B x n^2 values as c(batch, n, n).
matrix_events_array <- function(values, batch, n) {
  out <- as.vector(values)
  dim(out) <- c(batch, n, n)
  out
}

# `x` as list(values = B x m matrix, batch = , m = ): a batch of vectors.
vector_events <- function(x, arg) {
  x <- as_input_array(x, arg)
  dims <- input_dims(x)
  rank <- length(dims)
  batch <- dims[seq_len(rank - 1L)]
  values <- as.vector(x)
  dim(values) <- c(prod(as.double(batch)), dims[[rank]])
  list(values = values, batch = batch, m = as.integer(dims[[rank]]))
}

vector_events_array <- function(values, batch) {
  with_shape(as.vector(values), c(batch, ncol(values)))
}

# Column indices (into B x n^2 values) of the diagonal and of the lower
# (or upper) triangle of n x n events, column-major.
diagonal_columns <- function(n) {
  (seq_len(n) - 1L) * n + seq_len(n)
}

triangle_columns <- function(n, upper = FALSE, strict = FALSE) {
  rows <- rep(seq_len(n), times = n)
  cols <- rep(seq_len(n), each = n)
  keep <- if (upper) cols >= rows else rows >= cols
  if (strict) keep <- keep & rows != cols
  which(keep)
}

# A log-det with one value per event of `batch` (B values), summed over the
# events' extra axes (the last `extra` batch dims) as TFP reduces it: one
# number when nothing is left, a vector or array of the leading dims
# otherwise.
reduce_event_log_det <- function(log_det, batch, extra) {
  lead <- batch[seq_len(length(batch) - extra)]
  values <- matrix(as.vector(log_det), nrow = prod(as.double(lead)))
  summed <- rowSums(values)
  if (length(lead) >= 2L) array(summed, lead) else summed
}

# The upstream gradient of a reduced log-det, per event of the batch (B
# values): the leading dims vary fastest, so it repeats over the extra ones.
expand_grad_log_det <- function(grad_log_det, events) {
  rep_len(as.vector(grad_log_det), events)
}

# The event_ndims rule of a kind whose log-det has one value per matrix (or
# vector) event: the extra event axes are the last ones of the batch.
check_matrix_event_ndims <- function(bijector, batch, event_ndims, min_field,
                                     arg) {
  min_ndims <- .subset2(bijector, min_field)
  check_event_ndims(event_ndims, min_ndims, length(batch) + min_ndims, arg) -
    min_ndims
}

# ---- kinds with a C kernel on matrix events ----------------------------------

# The Cholesky kinds call their kernel with the B x n^2 values of the
# events and an operation code; maps return B x n^2 values, log-dets one
# value per event.
# `kernel` is the kind's name (literal .Call()s, so that R CMD check sees
# every registered routine).
matrix_kernel_map <- function(kernel, events, operation) {
  operation <- as.integer(operation)
  switch(kernel,
    cholesky_outer_product = .Call(C_cholesky_outer_product, events$values,
                                   events$n, operation),
    matrix_inverse_tri_l = .Call(C_matrix_inverse_tri_l, events$values,
                                 events$n, operation),
    cholesky_to_inv_cholesky = .Call(C_cholesky_to_inv_cholesky,
                                     events$values, events$n, operation)
  )
}

# A per-event log-det reduced over the extra event axes.
matrix_kernel_log_det <- function(bijector, kernel, events, operation,
                                  event_ndims, min_field, arg) {
  extra <- check_matrix_event_ndims(bijector, events$batch, event_ndims,
                                    min_field, arg)
  reduce_event_log_det(matrix_kernel_map(kernel, events, operation),
                       events$batch, extra)
}

# The cache of a pass: the events it saw and made, and the reduction.
matrix_pass_cache <- function(bijector, events, output_values, event_ndims,
                              min_field, arg) {
  list(input = events$values, output = output_values, n = events$n,
       batch = events$batch,
       extra = check_matrix_event_ndims(bijector, events$batch, event_ndims,
                                        min_field, arg))
}

# The gradient of a pass's output and of its log-det, as the kernels take
# them: B x n^2 values and one value per event.
matrix_backward_inputs <- function(cache, gradient) {
  values <- as.vector(as_input_array(gradient, "gradient"))
  dim(values) <- dim(cache$input)
  values
}

# The error of a failed Cholesky factorisation (NaN where the input had
# none), as TensorFlow's cholesky raises it.
check_cholesky_result <- function(values, input, arg) {
  if (anyNA(values) && !anyNA(input)) {
    abort_bijectors("domain", sprintf(paste(
      "Cholesky decomposition was not successful: `%s` has a matrix that",
      "is not symmetric positive definite (read from its lower triangle)."),
      arg))
  }
  values
}

# validate_args checks of TFP's Cholesky kinds on B x n^2 values.
assert_lower_triangular <- function(events, arg) {
  upper <- triangle_columns(events$n, upper = TRUE, strict = TRUE)
  if (length(upper) > 0L && any(events$values[, upper] != 0, na.rm = TRUE)) {
    abort_bijectors("domain", sprintf(
      "Input must be lower triangular: `%s` has entries above the diagonal.",
      arg))
  }
  invisible()
}

assert_diagonal <- function(events, arg, test, message) {
  diagonal <- events$values[, diagonal_columns(events$n), drop = FALSE]
  if (!all(test(diagonal), na.rm = TRUE)) {
    abort_bijectors("domain", sprintf("%s (`%s`)", message, arg))
  }
  invisible()
}

# ---- involutions on matrix events -------------------------------------------

# matrix_inverse_tri_l and cholesky_to_inv_cholesky are their own inverses,
# and each direction's log-det is the same function of that direction's
# input (TFP's fallback -fldj(inverse(y)) simplifies to it): one class,
# "tfb_matrix_involution", whose `kernel` field names the C kernel, which
# maps (operation 0) or gives each event's log-det (1).
new_matrix_involution <- function(kind, kernel, validate_args, name) {
  bijector <- new_bijector(
    kind,
    name = check_string(name, "name"),
    forward_min_event_ndims = 2L,
    inverse_min_event_ndims = 2L,
    validate_args = check_flag(validate_args, "validate_args"),
    kernel = kernel
  )
  class(bijector) <- c(kind, "tfb_matrix_involution", "bijector")
  bijector
}

# TFP's validate_args assertions: lower triangular, and a diagonal without
# zeros (matrix_inverse_tri_l) or positive (cholesky_to_inv_cholesky).
involution_events <- function(bijector, input, arg) {
  events <- matrix_events(input, arg)
  if (.subset2(bijector, "validate_args")) {
    assert_lower_triangular(events, arg)
    if (.subset2(bijector, "kernel") == "matrix_inverse_tri_l") {
      assert_diagonal(events, arg, function(d) d != 0,
                      "Input must have all diagonal entries nonzero")
    } else {
      assert_diagonal(events, arg, function(d) d > 0,
                      "Input must have all positive diagonal entries")
    }
  }
  events
}

involution_map <- function(bijector, input, arg) {
  events <- involution_events(bijector, input, arg)
  matrix_events_array(
    matrix_kernel_map(.subset2(bijector, "kernel"), events, 0L),
    events$batch, events$n)
}

involution_log_det <- function(bijector, input, event_ndims, arg) {
  events <- involution_events(bijector, input, arg)
  matrix_kernel_log_det(bijector, .subset2(bijector, "kernel"), events, 1L,
                        event_ndims, "forward_min_event_ndims", arg)
}

involution_with_cache <- function(bijector, input, event_ndims, arg) {
  events <- involution_events(bijector, input, arg)
  kernel <- .subset2(bijector, "kernel")
  output <- matrix_kernel_map(kernel, events, 0L)
  cache <- matrix_pass_cache(bijector, events, output, event_ndims,
                             "forward_min_event_ndims", arg)
  list(output = matrix_events_array(output, events$batch, events$n),
       log_det = reduce_event_log_det(matrix_kernel_map(kernel, events, 1L),
                                      events$batch, cache$extra),
       cache = cache)
}

# The backward pass takes the pass's input, output, output gradient and
# per-event log-det gradient.
involution_backward <- function(bijector, cache, gradient, grad_log_det) {
  gradient <- matrix_backward_inputs(cache, gradient)
  grad_log_det <- expand_grad_log_det(grad_log_det, nrow(gradient)) + 0
  grad <- if (.subset2(bijector, "kernel") == "matrix_inverse_tri_l") {
    .Call(C_matrix_inverse_tri_l_backward, cache$input, cache$output,
          gradient, grad_log_det, cache$n)
  } else {
    .Call(C_cholesky_to_inv_cholesky_backward, cache$input, cache$output,
          gradient, grad_log_det, cache$n)
  }
  list(input = matrix_events_array(grad, cache$batch, cache$n),
       parameters = list())
}

#' @export
bijector_forward.tfb_matrix_involution <- function(bijector, x) {
  involution_map(bijector, x, "x")
}

#' @export
bijector_inverse.tfb_matrix_involution <- function(bijector, y) {
  involution_map(bijector, y, "y")
}

#' @export
bijector_forward_log_det_jacobian.tfb_matrix_involution <- function(
    bijector, x, event_ndims) {
  involution_log_det(bijector, x, event_ndims, "x")
}

#' @export
bijector_inverse_log_det_jacobian.tfb_matrix_involution <- function(
    bijector, y, event_ndims) {
  involution_log_det(bijector, y, event_ndims, "y")
}

#' @export
bijector_forward_with_cache.tfb_matrix_involution <- function(
    bijector, x, event_ndims) {
  pass <- involution_with_cache(bijector, x, event_ndims, "x")
  list(y = pass$output, log_det = pass$log_det, cache = pass$cache)
}

#' @export
bijector_inverse_with_cache.tfb_matrix_involution <- function(
    bijector, y, event_ndims) {
  pass <- involution_with_cache(bijector, y, event_ndims, "y")
  list(x = pass$output, log_det = pass$log_det, cache = pass$cache)
}

#' @export
bijector_forward_backward.tfb_matrix_involution <- function(
    bijector, cache, grad_y, grad_log_det) {
  involution_backward(bijector, cache, grad_y, grad_log_det)
}

#' @export
bijector_inverse_backward.tfb_matrix_involution <- function(
    bijector, cache, grad_x, grad_log_det) {
  involution_backward(bijector, cache, grad_x, grad_log_det)
}

# The side n of the square matrices of an event shape c(..., n, n).
square_event_side <- function(shape) {
  rank <- length(shape)
  n <- shape[[rank]]
  if (shape[[rank - 1L]] != n) {
    abort_bijectors("event_shape", sprintf(
      "Matrix must be square (saw %s x %s).", format(shape[[rank - 1L]]),
      format(n)))
  }
  n
}
