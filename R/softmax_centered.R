# The softmax-centered bijector, and what it shares with
# tfb_iterated_sigmoid_centered(): both map R^(K-1) onto the open simplex
# in R^K along the last axis, with C kernels (src/softmax_centered.c,
# src/iterated_sigmoid_centered.c) that return the map and its log-det per
# event in one pass. The shared methods are on the internal class
# "tfb_simplex_centered".

#' Softmax-centered bijector
#'
#' Maps \eqn{R^{K-1}} onto the open simplex in \eqn{R^K}, as
#' tfprobability's `tfb_softmax_centered()`: `y = softmax(c(x, 0))`, that
#' is \eqn{y_k = e^{x_k} / (1 + \sum_i e^{x_i})}{y[k] = exp(x[k]) / (1 +
#' sum(exp(x)))} for \eqn{k < K} and \eqn{y_K = 1 / (1 + \sum_i e^{x_i})}{y[K]
#' = 1 / (1 + sum(exp(x)))}. The inverse is
#' \eqn{x_k = \log y_k - \log y_K}{x[k] = log(y[k]) - log(y[K])}.
#'
#' The forward log-determinant is TFP's (since TFP 0.8):
#' \deqn{\tfrac12 \log K + \sum_{k=1}^{K} \log y_k,}{0.5 * log(K) +
#' sum(log(y)),} computed as `0.5 * log(K) + sum(x) - K * logsumexp(c(x,
#' 0))`. The `0.5 * log(K)` is the volume factor of the simplex embedded in
#' \eqn{R^K} (the map's Jacobian is `K x (K - 1)`; this is
#' `0.5 * log(det(t(J) %*% J))`); with respect to the free coordinates
#' `y[1:(K - 1)]` alone it would be `sum(log(y))`, which is what
#' [tfb_iterated_sigmoid_centered()] returns. The inverse log-determinant
#' is its negative, `-0.5 * log(K) - sum(log(y))`.
#'
#' Events are vectors along the last axis: an `N x (K - 1)` matrix of `N`
#' events becomes an `N x K` matrix, `y[n, ]` from `x[n, ]` alone (TFP's
#' row-major order, DESIGN 9). Off the simplex the inverse gives `NaN` for
#' negative entries and does not check the sum, as TFP's.
#'
#' @param validate_args `TRUE` or `FALSE`: with `TRUE` the inverse and its
#'   log-determinant refuse `y` with entries below 0 or above 1, or events
#'   whose sum is not 1 within `12 * .Machine$double.eps` (TFP's
#'   assertions), with an error of class `bijectors_error_domain`.
#' @param name A string: the bijector's name.
#' @return A bijector of class `c("tfb_softmax_centered", "bijector")` with
#'   `forward_min_event_ndims = inverse_min_event_ndims = 1`; its forward
#'   event shape is the input's with the last dimension one larger.
#' @family structural bijectors
#' @seealso `tfprobability::tfb_softmax_centered()`;
#'   [tfb_iterated_sigmoid_centered()] (Stan's stick-breaking map);
#'   [tfb_forward_event_shape()].
#' @examples
#' b <- tfb_softmax_centered()
#' b$forward(log(c(2, 3, 4)))                  # 0.2 0.3 0.4 0.1
#' b$inverse(c(0.2, 0.3, 0.4, 0.1))
#' y <- rbind(c(0.2, 0.3, 0.4, 0.1), c(0.16, 0.32, 0.48, 0.04))
#' b$inverse_log_det_jacobian(y, event_ndims = 1)   # 5.339139 6.231714
#' b$forward_event_shape(c(2, 4))              # 2 5
#' @export
tfb_softmax_centered <- function(validate_args = FALSE,
                                 name = "softmax_centered") {
  new_simplex_centered("tfb_softmax_centered", "softmax_centered",
                       validate_args, name)
}

new_simplex_centered <- function(kind, kernel, validate_args, name) {
  bijector <- new_bijector(
    kind,
    name = check_string(name, "name"),
    forward_min_event_ndims = 1L,
    validate_args = check_flag(validate_args, "validate_args"),
    kernel = kernel
  )
  class(bijector) <- c(kind, "tfb_simplex_centered", "bijector")
  bijector
}

#' @export
bijector_changes_shape.tfb_simplex_centered <- function(bijector) {
  TRUE
}

simplex_event_shape <- function(shape, forward) {
  last <- length(shape)
  if (!forward && shape[[last]] < 1) {
    abort_bijectors("event_shape", paste(
      "The last dimension of `y` must be at least 1 (a simplex in R^K has",
      "K >= 1 coordinates)."))
  }
  shape[[last]] <- shape[[last]] + if (forward) 1L else -1L
  shape
}

#' @export
bijector_forward_event_shape.tfb_simplex_centered <- function(bijector,
                                                              shape) {
  simplex_event_shape(shape, forward = TRUE)
}

#' @export
bijector_inverse_event_shape.tfb_simplex_centered <- function(bijector,
                                                              shape) {
  simplex_event_shape(shape, forward = FALSE)
}

# An input with its events along the last axis: the values, the dims, the
# number of events (rows) and K, the size of the simplex's space.
simplex_input <- function(x, arg, forward) {
  x <- as_input_array(x, arg)
  dims <- input_dims(x)
  rank <- length(dims)
  last <- dims[[rank]]
  if (!forward && last < 1) {
    abort_bijectors("event_shape", sprintf(paste(
      "`%s` has events of size 0: the last dimension must be at least 1."),
      arg))
  }
  size <- if (forward) last + 1 else last
  rows <- prod(as.double(dims[-rank]))
  list(x = x, dims = dims, rank = rank, size = size, rows = rows)
}

# TFP's validate_args assertions on a point of the simplex (softmax only).
simplex_validate <- function(bijector, input, arg) {
  if (!.subset2(bijector, "validate_args") ||
      .subset2(bijector, "kernel") != "softmax_centered") {
    return(invisible())
  }
  y <- input$x
  if (any(y < 0, na.rm = TRUE)) {
    abort_bijectors("domain", sprintf(
      "Elements of `%s` must be non-negative.", arg))
  }
  if (any(y > 1, na.rm = TRUE)) {
    abort_bijectors("domain", sprintf(
      "Elements of `%s` must be less than or equal to `1`.", arg))
  }
  sums <- .rowSums(y, input$rows, input$size)
  if (any(!(abs(sums - 1) <= 12 * .Machine$double.eps))) {
    abort_bijectors("domain", sprintf(
      "Last dimension of `%s` must sum to `1`.", arg))
  }
  invisible()
}

# The map in one direction and the log-det of each event, from C.
simplex_map <- function(bijector, input, forward) {
  size <- as.double(input$size)
  result <- if (.subset2(bijector, "kernel") == "softmax_centered") {
    .Call(C_softmax_centered_map, input$x, input$rows, size, forward)
  } else {
    .Call(C_iterated_sigmoid_centered_map, input$x, input$rows, size, forward)
  }
  dims <- input$dims
  dims[[input$rank]] <- input$size - if (forward) 0 else 1
  output <- result[[1L]]
  if (input$rank >= 2L) {
    dim(output) <- dims
  }
  list(output = output, log_det = result[[2L]])
}

simplex_apply <- function(bijector, x, arg, forward) {
  input <- simplex_input(x, arg, forward)
  if (!forward) {
    simplex_validate(bijector, input, arg)
  }
  simplex_map(bijector, input, forward)$output
}

simplex_log_det <- function(bijector, x, event_ndims, arg, forward) {
  input <- simplex_input(x, arg, forward)
  event_ndims <- check_event_ndims(event_ndims, 1L, input$rank, arg)
  if (!forward) {
    simplex_validate(bijector, input, arg)
  }
  reduce_log_det(simplex_map(bijector, input, forward)$log_det, input$dims,
                 event_ndims)
}

#' @export
bijector_forward.tfb_simplex_centered <- function(bijector, x) {
  simplex_apply(bijector, x, "x", forward = TRUE)
}

#' @export
bijector_inverse.tfb_simplex_centered <- function(bijector, y) {
  simplex_apply(bijector, y, "y", forward = FALSE)
}

#' @export
bijector_forward_log_det_jacobian.tfb_simplex_centered <- function(
    bijector, x, event_ndims) {
  simplex_log_det(bijector, x, event_ndims, "x", forward = TRUE)
}

#' @export
bijector_inverse_log_det_jacobian.tfb_simplex_centered <- function(
    bijector, y, event_ndims) {
  simplex_log_det(bijector, y, event_ndims, "y", forward = FALSE)
}

# ---- training ------------------------------------------------------------

# No parameters. The passes keep their input and output; the VJPs (the
# Jacobian's transpose applied to the gradient, plus the log-det's
# gradient) are in C.

simplex_with_cache <- function(bijector, value, event_ndims, forward) {
  arg <- if (forward) "x" else "y"
  input <- simplex_input(value, arg, forward)
  event_ndims <- check_event_ndims(event_ndims, 1L, input$rank, arg)
  if (!forward) {
    simplex_validate(bijector, input, arg)
  }
  pass <- simplex_map(bijector, input, forward)
  list(output = pass$output,
       log_det = reduce_log_det(pass$log_det, input$dims, event_ndims),
       cache = list(input = input, output = pass$output))
}

simplex_backward <- function(bijector, cache, gradient, grad_log_det,
                             forward) {
  input <- cache$input
  grad_rows <- rep_len(as.double(grad_log_det), input$rows)
  gradient <- as.double(gradient)
  size <- as.double(input$size)
  kernel <- .subset2(bijector, "kernel")
  out <- if (kernel == "softmax_centered") {
    y <- if (forward) cache$output else input$x
    .Call(C_softmax_centered_backward, as.double(y), gradient, grad_rows,
          input$rows, size, forward)
  } else if (forward) {
    .Call(C_iterated_sigmoid_centered_backward, as.double(input$x),
          as.double(cache$output), gradient, grad_rows, input$rows, size,
          TRUE)
  } else {
    .Call(C_iterated_sigmoid_centered_backward, numeric(0),
          as.double(input$x), gradient, grad_rows, input$rows, size, FALSE)
  }
  if (input$rank >= 2L) {
    dim(out) <- input$dims
  }
  list(input = out, parameters = list())
}

#' @export
bijector_forward_with_cache.tfb_simplex_centered <- function(bijector, x,
                                                             event_ndims) {
  pass <- simplex_with_cache(bijector, x, event_ndims, forward = TRUE)
  list(y = pass$output, log_det = pass$log_det, cache = pass$cache)
}

#' @export
bijector_forward_backward.tfb_simplex_centered <- function(bijector, cache,
                                                           grad_y,
                                                           grad_log_det) {
  simplex_backward(bijector, cache, grad_y, grad_log_det, forward = TRUE)
}

#' @export
bijector_inverse_with_cache.tfb_simplex_centered <- function(bijector, y,
                                                             event_ndims) {
  pass <- simplex_with_cache(bijector, y, event_ndims, forward = FALSE)
  list(x = pass$output, log_det = pass$log_det, cache = pass$cache)
}

#' @export
bijector_inverse_backward.tfb_simplex_centered <- function(bijector, cache,
                                                           grad_x,
                                                           grad_log_det) {
  simplex_backward(bijector, cache, grad_x, grad_log_det, forward = FALSE)
}
