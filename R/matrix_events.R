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
