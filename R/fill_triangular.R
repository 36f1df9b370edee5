# The fill_triangular bijector: vectors of n(n+1)/2 values become n x n
# triangular matrices, in TFP's fill order (a clockwise spiral).

#' Fill-triangular bijector
#'
#' Maps vectors of length `m = n * (n + 1) / 2` to `n x n` lower (or, with
#' `upper = TRUE`, upper) triangular matrices, as tfprobability's
#' `tfb_fill_triangular()` (TFP's `FillTriangular`). The entries are placed
#' in TFP's order, so that TFP's vectors give TFP's matrices: for upper
#' matrices, with `k = (i - 1) * n + (j - 1)`, `U[i, j] = x[k + 1]` if
#' `k < m`, else `x[n * (n + 1) - k]`; the lower matrix is the upper one
#' rotated by 180 degrees, `L[i, j] = U[n + 1 - i, n + 1 - j]` (not its
#' transpose). For `x = 1:6` the lower matrix is `rbind(c(4, 0, 0),
#' c(6, 5, 0), c(3, 2, 1))` and the upper one `rbind(c(1, 2, 3), c(0, 5, 6),
#' c(0, 0, 4))`.
#'
#' Domain: vectors of a triangular length (a batch of them as a matrix, one
#' per row, or an array with the vectors in the last dimension); range: the
#' triangular `n x n` matrices, as an array `c(batch..., n, n)` (a single
#' vector gives one matrix). The map is a permutation of coordinates, so
#' both log-determinants are 0 (taken through the free coordinates, the
#' triangle, as TFP does). The inverse reads only the triangle: unlike
#' TFP's, entries of the opposite triangle are ignored rather than added in.
#' `forward_min_event_ndims` is 1 and `inverse_min_event_ndims` 2.
#'
#' @param upper `TRUE` or `FALSE` (the default): fill upper rather than
#'   lower triangular matrices.
#' @param validate_args `TRUE` or `FALSE`; accepted for compatibility
#'   (shapes are always checked).
#' @param name A string: the bijector's name.
#' @return A bijector of class `c("tfb_fill_triangular", "bijector")` with
#'   the field `$upper`.
#' @family structural bijectors
#' @seealso `tfprobability::tfb_fill_triangular()`; [tfb_fill_scale_tri_l()]
#'   for Cholesky factors with a positive diagonal.
#' @examples
#' b <- tfb_fill_triangular()
#' b$forward(1:6)
#' tfb_fill_triangular(upper = TRUE)$forward(1:6)
#' y <- b$forward(matrix(1:12, nrow = 2, byrow = TRUE))   # two events
#' dim(y)
#' b$inverse(y)
#' b$forward_event_shape(6)
#' @export
tfb_fill_triangular <- function(upper = FALSE, validate_args = FALSE,
                                name = "fill_triangular") {
  upper <- check_flag(upper, "upper")
  new_bijector(
    "tfb_fill_triangular",
    name = check_string(name, "name"),
    forward_min_event_ndims = 1L,
    inverse_min_event_ndims = 2L,
    validate_args = check_flag(validate_args, "validate_args"),
    upper = upper
  )
}

#' @export
object_field_names.tfb_fill_triangular <- function(x) {
  c(NextMethod(), "upper")
}

#' @export
bijector_changes_shape.tfb_fill_triangular <- function(bijector) {
  TRUE
}

# The side n of the matrices filled from vectors of length m.
triangular_side <- function(m, arg) {
  n <- round((sqrt(8 * m + 1) - 1) / 2)
  if (n * (n + 1) / 2 != m) {
    abort_bijectors("event_shape", sprintf(paste(
      "Vector length %s of `%s` is not a triangular number (n * (n + 1) / 2",
      "for a whole n)."), format(m), arg))
  }
  as.integer(n)
}

# For n x n events, the 1-based position in x of each entry of the filled
# matrix (0 for the structural zeros), as an n x n integer matrix.
fill_triangular_positions <- function(n, upper) {
  m <- n * (n + 1L) / 2L
  i <- rep(seq_len(n), times = n)
  j <- rep(seq_len(n), each = n)
  if (!upper) {
    i <- n + 1L - i
    j <- n + 1L - j
  }
  k <- (i - 1L) * n + (j - 1L)
  position <- ifelse(k < m, k + 1L, n * (n + 1L) - k)
  position[j < i] <- 0L
  matrix(as.integer(position), n, n)
}

fill_triangular_forward <- function(upper, x, arg) {
  events <- vector_events(x, arg)
  n <- triangular_side(events$m, arg)
  positions <- fill_triangular_positions(n, upper)
  filled <- which(positions > 0L)
  out <- matrix(0, nrow(events$values), n * n)
  out[, filled] <- events$values[, positions[filled]]
  matrix_events_array(out, events$batch, n)
}

fill_triangular_inverse <- function(upper, y, arg) {
  events <- matrix_events(y, arg)
  n <- events$n
  positions <- fill_triangular_positions(n, upper)
  filled <- which(positions > 0L)
  out <- matrix(0, nrow(events$values), length(filled))
  out[, positions[filled]] <- events$values[, filled]
  vector_events_array(out, events$batch)
}

#' @export
bijector_forward.tfb_fill_triangular <- function(bijector, x) {
  fill_triangular_forward(.subset2(bijector, "upper"), x, "x")
}

#' @export
bijector_inverse.tfb_fill_triangular <- function(bijector, y) {
  fill_triangular_inverse(.subset2(bijector, "upper"), y, "y")
}

#' @export
bijector_forward_event_shape.tfb_fill_triangular <- function(bijector,
                                                             shape) {
  rank <- length(shape)
  n <- triangular_side(shape[[rank]], "input_shape")
  c(shape[-rank], n, n)
}

#' @export
bijector_inverse_event_shape.tfb_fill_triangular <- function(bijector,
                                                             shape) {
  n <- square_event_side(shape)
  c(shape[seq_len(length(shape) - 2L)], as.integer(n * (n + 1) / 2))
}

# A permutation of coordinates: log-det 0, after the shape checks.
#' @export
bijector_forward_log_det_jacobian.tfb_fill_triangular <- function(
    bijector, x, event_ndims) {
  triangular_side(vector_events(x, "x")$m, "x")
  0
}

#' @export
bijector_inverse_log_det_jacobian.tfb_fill_triangular <- function(
    bijector, y, event_ndims) {
  matrix_events(y, "y")
  0
}

# ---- training ------------------------------------------------------------

# The gradient of a scatter is the gather at the same positions, and the
# opposite triangle (which neither map reads) gets gradient 0.

#' @export
bijector_forward_with_cache.tfb_fill_triangular <- function(bijector, x,
                                                            event_ndims) {
  list(y = bijector_forward(bijector, x), log_det = 0, cache = NULL)
}

#' @export
bijector_forward_backward.tfb_fill_triangular <- function(bijector, cache,
                                                          grad_y,
                                                          grad_log_det) {
  list(input = fill_triangular_inverse(.subset2(bijector, "upper"), grad_y,
                                       "grad_y"),
       parameters = list())
}

#' @export
bijector_inverse_with_cache.tfb_fill_triangular <- function(bijector, y,
                                                            event_ndims) {
  list(x = bijector_inverse(bijector, y), log_det = 0, cache = NULL)
}

#' @export
bijector_inverse_backward.tfb_fill_triangular <- function(bijector, cache,
                                                          grad_x,
                                                          grad_log_det) {
  list(input = fill_triangular_forward(.subset2(bijector, "upper"), grad_x,
                                       "grad_x"),
       parameters = list())
}

#' @export
format.tfb_fill_triangular <- function(x, ...) {
  c(NextMethod(), sprintf("  upper: %s", .subset2(x, "upper")))
}
