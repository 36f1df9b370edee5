# tfb_scale_tri_l() (deprecated): a vector to a lower-triangular matrix with
# a transformed, shifted diagonal, as TFP's old ScaleTriL (now
# FillScaleTriL). Index work and a scalar map per diagonal entry, in R.

#' Vector to scale lower-triangular matrix (deprecated)
#'
#' TFP's `ScaleTriL`, deprecated in TFP 0.9 as renamed to `FillScaleTriL`
#' and removed in TFP 0.13 (tfprobability's wrapper fails on current TFP);
#' it works here with its TFP meaning and says once per session that it is
#' deprecated. It is not a matrix-vector product: it maps a vector `x` of
#' length `m = n (n + 1) / 2` to an `n x n` lower-triangular matrix `L`:
#'
#' 1. `L = fill_triangular(x)`, TFP's order:
#'    `L = tril(matrix(c(x[(n + 1):m], rev(x)), n, n, byrow = TRUE))`, so
#'    `1:6` gives `rbind(c(4, 0, 0), c(6, 5, 0), c(3, 2, 1))`;
#' 2. each diagonal entry becomes `g(L[i, i]) + diag_shift`, with `g` the
#'    forward map of `diag_bijector` (softplus when `NULL`).
#'
#' The forward log-determinant is `sum(log(g'(L[i, i])))` over the diagonal
#' (the filling contributes 0); minimum event ndims are 1 forward and 2
#' inverse. The inverse reads the lower triangle back (entries above the
#' diagonal are ignored) and needs `L[i, i] > diag_shift` for softplus
#' (otherwise NaN, as TFP; an error of class `bijectors_error_domain` with
#' `validate_args = TRUE`). Batch dims come first: `x` of dims
#' `c(N, m)` gives `L` of dims `c(N, n, n)`. The bijector has no trainable
#' parameters and no backward pass.
#'
#' @param diag_bijector `NULL` (softplus) or an elementwise bijector
#'   (minimum event ndims 0, such as [tfb_exp()]) applied to the diagonal.
#' @param diag_shift A finite number added to the diagonal, or `NULL` for
#'   none.
#' @param validate_args `TRUE` to check the inverse's domain.
#' @param name A string: the bijector's name.
#' @return A bijector of class `c("tfb_scale_tri_l", "bijector")` with the
#'   fields `$diag_bijector` and `$diag_shift`.
#' @family linear bijectors
#' @seealso `tfprobability::tfb_scale_tri_l()`; TFP's `FillScaleTriL`;
#'   [tfb_scale_matvec_tri_l()], which multiplies by such a matrix.
#' @examples
#' b <- suppressMessages(tfb_scale_tri_l())
#' b$forward(c(0, 0, 0))                        # diagonal log(2) + 1e-5
#' b$forward_log_det_jacobian(c(0, 0, 0), 1)    # 2 * log(0.5)
#' b$inverse(b$forward(c(1, 2, 3)))
#' @export
tfb_scale_tri_l <- function(diag_bijector = NULL, diag_shift = 1e-5,
                            validate_args = FALSE, name = "scale_tril") {
  if (!is.null(diag_bijector)) {
    check_bijector(diag_bijector, "diag_bijector")
    if (.subset2(diag_bijector, "forward_min_event_ndims") != 0L ||
        .subset2(diag_bijector, "inverse_min_event_ndims") != 0L) {
      abort_bijectors("bijector", sprintf(paste(
        "`diag_bijector` must act elementwise (minimum event ndims 0),",
        "but <%s> has %d."), class(diag_bijector)[[1L]],
        .subset2(diag_bijector, "forward_min_event_ndims")))
    }
  }
  if (!is.null(diag_shift)) {
    diag_shift <- check_number(diag_shift, "diag_shift")
  }
  b <- new_bijector(
    "tfb_scale_tri_l",
    name = check_string(name, "name"),
    forward_min_event_ndims = 1L,
    inverse_min_event_ndims = 2L,
    validate_args = check_flag(validate_args, "validate_args"),
    diag_bijector = diag_bijector,
    diag_shift = diag_shift
  )
  deprecate_once("tfb_scale_tri_l",
                 "tfb_fill_scale_tri_l() (TFP's FillScaleTriL)")
  b
}

# The matrix size n for a vector of m = n (n + 1) / 2 values, or NA.
triangular_size <- function(m) {
  n <- round((sqrt(8 * m + 1) - 1) / 2)
  if (n * (n + 1) / 2 == m && n >= 1) n else NA_real_
}

# Positions of fill_triangular: for the n x n output in R's column-major
# order, the index in the vector that fills each lower-triangular entry.
fill_triangular_source <- function(n) {
  m <- n * (n + 1) / 2
  source <- matrix(c(seq.int(n + 1, length.out = m - n), rev(seq_len(m))),
                   n, n, byrow = TRUE)
  source[upper.tri(source)] <- NA
  source
}

scale_tri_l_vector <- function(x, arg) {
  x <- as_input_array(x, arg)
  dims <- input_dims(x)
  m <- dims[[length(dims)]]
  n <- triangular_size(m)
  if (is.na(n)) {
    abort_bijectors("event_size", sprintf(paste(
      "`%s` must have n (n + 1) / 2 values along its last axis (1, 3, 6,",
      "10, ...) to fill an n x n lower-triangular matrix, not %s."), arg,
      format(m)))
  }
  list(x = x, dims = dims, batch = dims[-length(dims)], n = n, m = m,
       rows = prod(dims[-length(dims)]))
}

scale_tri_l_matrix <- function(y, arg) {
  y <- as_input_array(y, arg)
  dims <- input_dims(y)
  rank <- length(dims)
  if (rank < 2L || dims[[rank]] != dims[[rank - 1L]]) {
    abort_bijectors("event_size", sprintf(paste(
      "`%s` must end in two axes of one size (square matrices), not have",
      "shape %s."), arg, format_shape(dims)))
  }
  n <- dims[[rank]]
  list(x = y, dims = dims, batch = dims[seq_len(rank - 2L)], n = n,
       m = n * (n + 1) / 2, rows = prod(dims[seq_len(rank - 2L)]))
}

# g and log g' of the diagonal map, on a rows x n matrix.
scale_tri_l_diagonal <- function(bijector, v) {
  g <- .subset2(bijector, "diag_bijector")
  if (is.null(g)) {
    return(list(value = pmax(v, 0) + log1p(exp(-abs(v))),
                log_det = rowSums(-(pmax(-v, 0) + log1p(exp(-abs(v)))))))
  }
  log_det <- tfb_forward_log_det_jacobian(g, v, event_ndims = 1L)
  list(value = tfb_forward(g, v), log_det = rep_len(log_det, nrow(v)))
}

scale_tri_l_diagonal_inverse <- function(bijector, y) {
  g <- .subset2(bijector, "diag_bijector")
  if (is.null(g)) {
    # softplus^-1(y) = log(expm1(y)), in a form that does not overflow
    return(y + log(-expm1(-y)))
  }
  tfb_inverse(g, y)
}

scale_tri_l_forward <- function(bijector, x) {
  input <- scale_tri_l_vector(x, "x")
  n <- input$n
  source <- fill_triangular_source(n)
  values <- matrix(input$x, input$rows, input$m)
  lower <- which(!is.na(source))
  out <- matrix(0, input$rows, n * n)
  out[, lower] <- values[, source[lower]]
  on_diagonal <- diag(source)
  diagonal <- scale_tri_l_diagonal(bijector,
                                   values[, on_diagonal, drop = FALSE])
  out[, (seq_len(n) - 1L) * (n + 1L) + 1L] <- diagonal$value +
    (.subset2(bijector, "diag_shift") %||% 0)
  dim(out) <- c(input$batch, n, n)
  list(y = out, log_det = diagonal$log_det, input = input)
}

#' @export
bijector_forward.tfb_scale_tri_l <- function(bijector, x) {
  scale_tri_l_forward(bijector, x)$y
}

#' @export
bijector_inverse.tfb_scale_tri_l <- function(bijector, y) {
  input <- scale_tri_l_matrix(y, "y")
  n <- input$n
  source <- fill_triangular_source(n)
  values <- matrix(input$x, input$rows, n * n)
  diagonal_positions <- (seq_len(n) - 1L) * (n + 1L) + 1L
  shifted <- values[, diagonal_positions, drop = FALSE] -
    (.subset2(bijector, "diag_shift") %||% 0)
  if (.subset2(bijector, "validate_args") &&
      is.null(.subset2(bijector, "diag_bijector")) && any(shifted <= 0)) {
    abort_bijectors("domain", sprintf(paste(
      "The diagonal of `y` must exceed diag_shift (%s): softplus is",
      "positive (validate_args = TRUE)."),
      format(.subset2(bijector, "diag_shift") %||% 0)))
  }
  values[, diagonal_positions] <- scale_tri_l_diagonal_inverse(bijector,
                                                               shifted)
  lower <- which(!is.na(source))
  out <- matrix(0, input$rows, input$m)
  out[, source[lower]] <- values[, lower]
  if (length(input$batch) == 0L) {
    return(as.vector(out))
  }
  dim(out) <- c(input$batch, input$m)
  out
}

#' @export
bijector_forward_log_det_jacobian.tfb_scale_tri_l <- function(bijector, x,
                                                              event_ndims) {
  pass <- scale_tri_l_forward(bijector, x)
  reduce_log_det(pass$log_det, pass$input$dims, event_ndims)
}

#' @export
bijector_forward_event_shape.tfb_scale_tri_l <- function(bijector, shape) {
  m <- shape[[length(shape)]]
  n <- triangular_size(m)
  if (is.na(n)) {
    abort_bijectors("event_size", sprintf(paste(
      "An event of %s values does not fill a lower-triangular matrix",
      "(n (n + 1) / 2 values are needed)."), format(m)))
  }
  c(shape[-length(shape)], n, n)
}

#' @export
bijector_inverse_event_shape.tfb_scale_tri_l <- function(bijector, shape) {
  rank <- length(shape)
  if (shape[[rank]] != shape[[rank - 1L]]) {
    abort_bijectors("event_size", sprintf(
      "An event of shape %s is not a square matrix.", format_shape(shape)))
  }
  n <- shape[[rank]]
  c(shape[seq_len(rank - 2L)], n * (n + 1) / 2)
}

#' @export
object_field_names.tfb_scale_tri_l <- function(x) {
  c(NextMethod(), "diag_bijector", "diag_shift")
}

#' @export
format.tfb_scale_tri_l <- function(x, ...) {
  g <- .subset2(x, "diag_bijector")
  c(NextMethod(), sprintf("  diag_bijector: %s, diag_shift: %s",
                          if (is.null(g)) "softplus" else
                            sprintf("<%s> \"%s\"", class(g)[[1L]],
                                    .subset2(g, "name")),
                          format(.subset2(x, "diag_shift") %||% "NULL")))
}
