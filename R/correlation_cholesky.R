# The correlation_cholesky bijector: unconstrained vectors to Cholesky
# factors of correlation matrices (rows of unit length).

#' Correlation-Cholesky bijector
#'
#' Maps unconstrained vectors of length `m = n * (n - 1) / 2` to `n x n`
#' lower-triangular matrices with a positive diagonal and rows of unit
#' length (Cholesky factors of correlation matrices), as tfprobability's
#' `tfb_correlation_cholesky()` (TFP's `CorrelationCholesky`).
#'
#' The vector is placed below the diagonal in the order of
#' [tfb_fill_triangular()] for an `(n - 1) x (n - 1)` lower matrix (so that
#' TFP's vectors give TFP's matrices: for `n = 3`, `L[2, 1]` comes from
#' `x[3]`, `L[3, 1]` from `x[2]` and `L[3, 2]` from `x[1]`), the diagonal is
#' set to 1, and each row is divided by its length:
#' `L[i, j] = x_ij / s_i`, `L[i, i] = 1 / s_i`, `s_i = sqrt(1 + sum_j x_ij^2)`.
#' The inverse divides each row by its diagonal entry and reads only the
#' strictly lower triangle (entries above the diagonal are ignored, where
#' TFP would add them in).
#'
#' The log-determinant is taken through the free coordinates, the
#' strictly lower triangle: `fldj(x) = -sum_i (i + 1) log(s_i)` and
#' `ildj(y) = -sum_i (i + 1) log(y[i, i])` (1-based `i`), the weights of TFP
#' since version 0.10 (earlier versions used `i`, which is not the
#' log-determinant). Domain: vectors of length `n (n - 1) / 2` (a batch as a
#' matrix, one per row, or an array); range: arrays `c(batch..., n, n)`.
#' `forward_min_event_ndims` is 1 and `inverse_min_event_ndims` 2.
#'
#' @param validate_args `TRUE` or `FALSE`; accepted for compatibility (TFP
#'   makes no checks).
#' @param name A string: the bijector's name.
#' @return A bijector of class `c("tfb_correlation_cholesky", "bijector")`.
#' @family structural bijectors
#' @seealso `tfprobability::tfb_correlation_cholesky()`;
#'   [tfb_cholesky_outer_product()] to form the correlation matrix.
#' @examples
#' b <- tfb_correlation_cholesky()
#' L <- b$forward(c(2, 2, 1))
#' L                      # rows of unit length
#' L %*% t(L)             # a correlation matrix
#' b$inverse(L)
#' b$forward_log_det_jacobian(c(2, 2, 1), event_ndims = 1)
#' @export
tfb_correlation_cholesky <- function(validate_args = FALSE,
                                     name = "correlation_cholesky") {
  new_bijector(
    "tfb_correlation_cholesky",
    name = check_string(name, "name"),
    forward_min_event_ndims = 1L,
    inverse_min_event_ndims = 2L,
    validate_args = check_flag(validate_args, "validate_args")
  )
}

#' @export
bijector_changes_shape.tfb_correlation_cholesky <- function(bijector) {
  TRUE
}

# The side n of the matrices made from vectors of length m = n(n - 1)/2.
correlation_side <- function(m, arg) {
  n <- round((1 + sqrt(8 * m + 1)) / 2)
  if (n * (n - 1) / 2 != m) {
    abort_bijectors("event_shape", sprintf(paste(
      "Vector length %s of `%s` is not n * (n - 1) / 2 for a whole n (the",
      "number of entries below the diagonal of an n x n matrix)."),
      format(m), arg))
  }
  as.integer(n)
}

# For n x n events: the column (of the B x n^2 values) of each strictly
# lower entry, and the position in x that fills it, in x's order.
correlation_layout <- function(n) {
  if (n < 2L) {
    return(list(columns = integer(), positions = integer()))
  }
  inner <- fill_triangular_positions(n - 1L, upper = FALSE)
  rows <- row(inner) + 1L
  cols <- col(inner)
  filled <- which(inner > 0L)
  list(columns = (cols[filled] - 1L) * n + rows[filled],
       positions = inner[filled])
}

# The unnormalised rows: B x n^2 values with x below the diagonal, 1 on it,
# and each row's length s_i (a B x n matrix).
correlation_rows <- function(x_values, n) {
  layout <- correlation_layout(n)
  unnormalised <- matrix(0, nrow(x_values), n * n)
  unnormalised[, layout$columns] <- x_values[, layout$positions]
  unnormalised[, diagonal_columns(n)] <- 1
  lengths <- matrix(0, nrow(x_values), n)
  for (i in seq_len(n)) {
    row_columns <- (seq_len(i) - 1L) * n + i
    row <- unnormalised[, row_columns, drop = FALSE]
    lengths[, i] <- sqrt(rowSums(row^2))
    # a finite row whose squares overflow (entries beyond ~1e154) gets its
    # length from the row scaled by its largest entry, rather than Inf
    # (which made the row 0 and the log-det -Inf); other rows keep the
    # plain sum's bits
    overflowed <- is.infinite(lengths[, i]) & rowSums(!is.finite(row)) == 0
    if (any(overflowed)) {
      big <- row[overflowed, , drop = FALSE]
      largest <- apply(abs(big), 1L, max)
      lengths[overflowed, i] <- largest * sqrt(rowSums((big / largest)^2))
    }
  }
  list(values = unnormalised, lengths = lengths)
}

# Column i + n (j - 1) belongs to row i.
row_of_column <- function(n) {
  rep(seq_len(n), times = n)
}

correlation_forward <- function(x, arg) {
  events <- vector_events(x, arg)
  n <- correlation_side(events$m, arg)
  rows <- correlation_rows(events$values, n)
  values <- rows$values / rows$lengths[, row_of_column(n), drop = FALSE]
  matrix_events_array(values, events$batch, n)
}

correlation_inverse <- function(y, arg) {
  events <- matrix_events(y, arg)
  n <- events$n
  layout <- correlation_layout(n)
  diagonal <- events$values[, diagonal_columns(n), drop = FALSE]
  out <- matrix(0, nrow(events$values), n * (n - 1L) / 2L)
  out[, layout$positions] <- events$values[, layout$columns] /
    diagonal[, row_of_column(n)[layout$columns]]
  vector_events_array(out, events$batch)
}

#' @export
bijector_forward.tfb_correlation_cholesky <- function(bijector, x) {
  correlation_forward(x, "x")
}

#' @export
bijector_inverse.tfb_correlation_cholesky <- function(bijector, y) {
  correlation_inverse(y, "y")
}

#' @export
bijector_forward_event_shape.tfb_correlation_cholesky <- function(bijector,
                                                                  shape) {
  rank <- length(shape)
  n <- correlation_side(shape[[rank]], "input_shape")
  c(shape[-rank], n, n)
}

#' @export
bijector_inverse_event_shape.tfb_correlation_cholesky <- function(bijector,
                                                                  shape) {
  n <- square_event_side(shape)
  c(shape[seq_len(length(shape) - 2L)], as.integer(n * (n - 1) / 2))
}

# Each event's -sum_i (i + 1) log(s_i), from the row lengths.
correlation_weights <- function(n) {
  seq_len(n) + 1
}

#' @export
bijector_forward_log_det_jacobian.tfb_correlation_cholesky <- function(
    bijector, x, event_ndims) {
  events <- vector_events(x, "x")
  n <- correlation_side(events$m, "x")
  lengths <- correlation_rows(events$values, n)$lengths
  reduce_event_log_det(-(log(lengths) %*% correlation_weights(n)),
                       events$batch, event_ndims - 1L)
}

#' @export
bijector_inverse_log_det_jacobian.tfb_correlation_cholesky <- function(
    bijector, y, event_ndims) {
  events <- matrix_events(y, "y")
  n <- events$n
  diagonal <- events$values[, diagonal_columns(n), drop = FALSE]
  reduce_event_log_det(-(log(diagonal) %*% correlation_weights(n)),
                       events$batch, event_ndims - 2L)
}

# ---- training ------------------------------------------------------------

# Forward, row by row: with v the row's entries below the diagonal and
# s = sqrt(1 + |v|^2), y_ij = v_j / s and y_ii = 1 / s, so the gradient of
# v_k is G_ik / s - v_k (sum_j G_ij v_j + G_ii) / s^3, and the log-det's
# -(i + 1) log(s) adds -(i + 1) v_k / s^2. Inverse: v_j = y_ij / y_ii, so
# y_ij gets G_j / y_ii and y_ii gets -sum_j G_j y_ij / y_ii^2, and the
# log-det's -(i + 1) log(y_ii) adds -(i + 1) / y_ii.

#' @export
bijector_forward_with_cache.tfb_correlation_cholesky <- function(
    bijector, x, event_ndims) {
  events <- vector_events(x, "x")
  list(y = bijector_forward(bijector, x),
       log_det = bijector_forward_log_det_jacobian(bijector, x, event_ndims),
       cache = events)
}

#' @export
bijector_forward_backward.tfb_correlation_cholesky <- function(
    bijector, cache, grad_y, grad_log_det) {
  n <- correlation_side(cache$m, "x")
  rows <- correlation_rows(cache$values, n)
  gradient <- matrix_events(grad_y, "grad_y")$values
  g_ld <- expand_grad_log_det(grad_log_det, nrow(gradient))
  row_index <- row_of_column(n)
  s <- rows$lengths
  # per row: sum_j G_ij v_j + G_ii, with v_ii = 1 standing for G_ii
  inner <- matrix(0, nrow(gradient), n)
  for (i in seq_len(n)) {
    row_columns <- (seq_len(i) - 1L) * n + i
    inner[, i] <- rowSums(gradient[, row_columns, drop = FALSE] *
                            rows$values[, row_columns, drop = FALSE])
  }
  layout <- correlation_layout(n)
  r <- row_index[layout$columns]
  v <- rows$values[, layout$columns, drop = FALSE]
  grad_v <- gradient[, layout$columns, drop = FALSE] / s[, r, drop = FALSE] -
    v * inner[, r, drop = FALSE] / s[, r, drop = FALSE]^3 -
    g_ld * v * rep((r + 1), each = nrow(v)) / s[, r, drop = FALSE]^2
  out <- matrix(0, nrow(gradient), cache$m)
  out[, layout$positions] <- grad_v
  list(input = vector_events_array(out, cache$batch), parameters = list())
}

#' @export
bijector_inverse_with_cache.tfb_correlation_cholesky <- function(
    bijector, y, event_ndims) {
  events <- matrix_events(y, "y")
  list(x = bijector_inverse(bijector, y),
       log_det = bijector_inverse_log_det_jacobian(bijector, y, event_ndims),
       cache = events)
}

#' @export
bijector_inverse_backward.tfb_correlation_cholesky <- function(
    bijector, cache, grad_x, grad_log_det) {
  n <- cache$n
  layout <- correlation_layout(n)
  gradient <- vector_events(grad_x, "grad_x")$values
  g_ld <- expand_grad_log_det(grad_log_det, nrow(gradient))
  diagonal <- cache$values[, diagonal_columns(n), drop = FALSE]
  r <- row_of_column(n)[layout$columns]
  grad_v <- gradient[, layout$positions, drop = FALSE]
  out <- matrix(0, nrow(cache$values), n * n)
  out[, layout$columns] <- grad_v / diagonal[, r, drop = FALSE]
  weighted <- grad_v * cache$values[, layout$columns, drop = FALSE] /
    diagonal[, r, drop = FALSE]^2
  grad_diagonal <- -g_ld * rep(correlation_weights(n), each = nrow(out)) /
    diagonal
  for (i in seq_len(n)) {
    in_row <- which(r == i)
    if (length(in_row) > 0L) {
      grad_diagonal[, i] <- grad_diagonal[, i] -
        rowSums(weighted[, in_row, drop = FALSE])
    }
  }
  out[, diagonal_columns(n)] <- grad_diagonal
  list(input = matrix_events_array(out, cache$batch, n), parameters = list())
}
