# The discrete cosine transform bijector: TFP's orthonormal DCT of types 2
# and 3 along the last axis. Both go through stats::mvfft() with Makhoul's
# reordering (one complex FFT of length N per event), O(N log N) per event
# and accurate to a few ulps; the orthonormal matrices are each other's
# transpose and inverse.

#' Discrete cosine transform bijector
#'
#' The orthonormal discrete cosine transform along the last axis, as
#' tfprobability's `tfb_discrete_cosine_transform()` (TFP's
#' `tf.signal.dct(x, type, norm = "ortho")`). For an event of `N` values,
#' type 2 is
#' \deqn{y_k = s_k \sum_{n=1}^{N} x_n \cos\left(\frac{\pi (k-1) (2n-1)}{2N}
#' \right),}{y[k] = s[k] * sum(x[n] * cos(pi * (k - 1) * (2 * n - 1) / (2 *
#' N))),}
#' with \eqn{s_1 = \sqrt{1/N}}{s[1] = sqrt(1 / N)} and \eqn{s_k =
#' \sqrt{2/N}}{s[k] = sqrt(2 / N)} otherwise; type 3 is its transpose,
#' \eqn{y_n = \sum_k s_k x_k \cos(\pi (k-1) (2n-1) / (2N))}{y[n] = sum(s[k]
#' * x[k] * cos(pi * (k - 1) * (2 * n - 1) / (2 * N)))}. The matrix is
#' orthogonal, so the inverse of type 2 is type 3 and the other way round,
#' and both log-determinants are 0 (one number: the Jacobian is constant).
#' Domain and range are all of \eqn{R^N}. An event of size 0 is returned
#' unchanged.
#'
#' Events are vectors along the last axis: an `M x N` matrix holds `M`
#' events, and `y[m, ]` depends on `x[m, ]` alone (TFP's row-major order,
#' DESIGN 9). For `x = c(1, 2, 3, 4)`, type 2 gives `c(5, -2.2304425, 0,
#' -0.1585127)`, the same as `scipy.fftpack.dct(x, norm = "ortho")`.
#'
#' The transform runs through [stats::mvfft()] (Makhoul's reordering of a
#' DCT into one FFT of the same length), so large events are cheap. The
#' error is a few ulps of the event's largest output (at most 5 against a
#' direct sum at 200 bits for `N` up to 33). An event whose entries reach
#' 2^960 (about 1e289) is scaled by a power of 2 for the FFT, whose sums
#' would overflow, and back: exact, so its outputs are finite wherever the
#' transform is, with the same accuracy.
#'
#' @param validate_args `TRUE` or `FALSE`; TFP checks nothing with it here.
#'   It comes first, as in tfprobability's R signature (Python's puts
#'   `dct_type` first): `tfb_discrete_cosine_transform(3)` is an error, not
#'   type 3.
#' @param dct_type `2` (the default) or `3`: the type of the DCT.
#' @param name A string: the bijector's name.
#' @return A bijector of class `c("tfb_discrete_cosine_transform",
#'   "bijector")` with `forward_min_event_ndims = inverse_min_event_ndims =
#'   1` and the field `$dct_type`.
#' @family structural bijectors
#' @seealso `tfprobability::tfb_discrete_cosine_transform()`; [tfb_chain()].
#' @examples
#' b <- tfb_discrete_cosine_transform()
#' b$forward(c(1, 2, 3, 4))        # 5 -2.2304425 0 -0.1585127
#' b$inverse(b$forward(c(1, 2, 3, 4)))
#' tfb_discrete_cosine_transform(dct_type = 3)$forward(c(1, 2, 3, 4))
#' # one event per row
#' x <- matrix(c(1, 2, 3, 4, 0, 1, 0, 1), nrow = 2, byrow = TRUE)
#' b$forward(x)
#' b$forward_log_det_jacobian(x, event_ndims = 1)   # 0
#' @export
tfb_discrete_cosine_transform <- function(validate_args = FALSE, dct_type = 2,
                                          name = "dct") {
  validate_args <- check_flag(validate_args, "validate_args")
  ok <- is.numeric(dct_type) && !is.object(dct_type) &&
    length(dct_type) == 1L && !is.na(dct_type) && dct_type %in% c(2, 3)
  if (!ok) {
    abort_bijectors("argument", sprintf(
      "`dct_type` must be 2 or 3 (TFP implements only these), not %s.",
      describe_value(dct_type)))
  }
  new_bijector(
    "tfb_discrete_cosine_transform",
    name = check_string(name, "name"),
    forward_min_event_ndims = 1L,
    validate_args = validate_args,
    dct_type = as.integer(dct_type)
  )
}

# The events of x as the columns of an N x M matrix (the transpose of the
# rows of x), so that stats::mvfft() transforms each event.
dct_input <- function(x, arg) {
  x <- as_input_array(x, arg)
  dims <- input_dims(x)
  rank <- length(dims)
  size <- dims[[rank]]
  list(x = x, dims = dims, size = size,
       rows = prod(as.double(dims[-rank])))
}

# Makhoul's order: even positions first, then the odd ones backwards.
dct_order <- function(size) {
  c(seq.int(1L, size, by = 2L), rev(seq_len(size %/% 2L) * 2L))
}

dct_scales <- function(size) {
  c(sqrt(1 / size), rep(sqrt(2 / size), size - 1L))
}

# Orthonormal DCT-II of each column of `columns` (N x M).
dct2_columns <- function(columns) {
  size <- nrow(columns)
  spectrum <- stats::mvfft(columns[dct_order(size), , drop = FALSE])
  angle <- pi * (seq_len(size) - 1) / (2 * size)
  twiddle <- complex(real = cos(angle), imaginary = -sin(angle))
  Re(spectrum * twiddle) * dct_scales(size)
}

# Orthonormal DCT-III of each column: the inverse of dct2_columns(). With
# Y the unnormalised DCT-II, the FFT of the reordered event is
# exp(i pi k / 2N) (Y_k - i Y_(N-k)), Y_N = 0.
dct3_columns <- function(columns) {
  size <- nrow(columns)
  unnormalised <- columns / dct_scales(size)
  mirrored <- rbind(0, unnormalised[rev(seq_len(size))[-size], ,
                                    drop = FALSE])
  angle <- pi * (seq_len(size) - 1) / (2 * size)
  twiddle <- complex(real = cos(angle), imaginary = sin(angle))
  spectrum <- complex(real = unnormalised, imaginary = -mirrored) * twiddle
  dim(spectrum) <- dim(columns)
  values <- Re(stats::mvfft(spectrum, inverse = TRUE)) / size
  out <- values
  out[dct_order(size), ] <- values
  out
}

# The FFT's sums reach about N^1.5 times an event's largest entry, so an
# event of entries near 1e307 overflowed though its transform is finite.
# Such events (largest entry at least 2^960) are scaled by a power of 2 that
# brings it near 1 and scaled back after: exact, apart from entries below
# 2^-1022 times the scale, far under one ulp of the largest. `events` has
# one event per row; returns the exponent of each row (0 for the others,
# whose bits do not change), or NULL when no row needs it, which one pass
# over the data without copies tells in the common case.
dct_event_exponents <- function(events) {
  # min() and max() read the data in place (range() copies it)
  top <- max(-min(events), max(events))
  if (!is.na(top) && top < 2^960) {
    return(NULL)
  }
  largest <- abs(events[, 1L])
  for (j in seq_len(ncol(events))[-1L]) {
    largest <- pmax(largest, abs(events[, j]))
  }
  extreme <- is.finite(largest) & largest >= 2^960
  if (!any(extreme)) {
    return(NULL)
  }
  exponents <- numeric(length(largest))
  exponents[extreme] <- floor(log2(largest[extreme]))
  exponents
}

# type: 2 or 3, the transform to apply to each event of x.
dct_apply <- function(x, arg, type) {
  input <- dct_input(x, arg)
  if (input$size == 0 || input$rows == 0) {
    return(input$x)
  }
  events <- matrix(input$x, nrow = input$rows, ncol = input$size)
  exponents <- dct_event_exponents(events)
  if (!is.null(exponents)) {
    events <- events * 2^-exponents
  }
  transformed <- if (type == 2L) dct2_columns(t(events)) else
    dct3_columns(t(events))
  out <- t(transformed)
  if (!is.null(exponents)) {
    out <- out * 2^exponents
  }
  out <- as.vector(out)
  # the output keeps the input's shape and its names, as every
  # shape-preserving kind does
  if (length(input$dims) >= 2L) {
    dim(out) <- input$dims
    dimnames(out) <- dimnames(input$x)
  } else {
    names(out) <- names(input$x)
  }
  out
}

#' @export
bijector_forward.tfb_discrete_cosine_transform <- function(bijector, x) {
  dct_apply(x, "x", .subset2(bijector, "dct_type"))
}

#' @export
bijector_inverse.tfb_discrete_cosine_transform <- function(bijector, y) {
  dct_apply(y, "y", 5L - .subset2(bijector, "dct_type"))
}

dct_log_det <- function(x, event_ndims, arg) {
  x <- as_input_array(x, arg)
  check_event_ndims(event_ndims, 1L, length(input_dims(x)), arg)
  0
}

#' @export
bijector_forward_log_det_jacobian.tfb_discrete_cosine_transform <- function(
    bijector, x, event_ndims) {
  dct_log_det(x, event_ndims, "x")
}

#' @export
bijector_inverse_log_det_jacobian.tfb_discrete_cosine_transform <- function(
    bijector, y, event_ndims) {
  dct_log_det(y, event_ndims, "y")
}

# ---- training ------------------------------------------------------------

# No parameters, log-det 0. The matrix is orthogonal, so the transpose that
# the VJP applies is the inverse: the forward pass's input gradient is the
# inverse map of grad_y, the inverse pass's is the forward map of grad_x.

#' @export
bijector_forward_with_cache.tfb_discrete_cosine_transform <- function(
    bijector, x, event_ndims) {
  log_det <- dct_log_det(x, event_ndims, "x")
  list(y = bijector_forward(bijector, x), log_det = log_det, cache = NULL)
}

#' @export
bijector_forward_backward.tfb_discrete_cosine_transform <- function(
    bijector, cache, grad_y, grad_log_det) {
  list(input = dct_apply(grad_y, "grad_y", 5L - .subset2(bijector, "dct_type")),
       parameters = list())
}

#' @export
bijector_inverse_with_cache.tfb_discrete_cosine_transform <- function(
    bijector, y, event_ndims) {
  log_det <- dct_log_det(y, event_ndims, "y")
  list(x = bijector_inverse(bijector, y), log_det = log_det, cache = NULL)
}

#' @export
bijector_inverse_backward.tfb_discrete_cosine_transform <- function(
    bijector, cache, grad_x, grad_log_det) {
  list(input = dct_apply(grad_x, "grad_x", .subset2(bijector, "dct_type")),
       parameters = list())
}

#' @export
object_field_names.tfb_discrete_cosine_transform <- function(x) {
  c(NextMethod(), "dct_type")
}

#' @export
format.tfb_discrete_cosine_transform <- function(x, ...) {
  c(NextMethod(), sprintf("  dct_type: %d", .subset2(x, "dct_type")))
}
