# The ascending bijector (Stan's `ordered` transform): R^K onto strictly
# increasing vectors. Events lie along the last axis; the arithmetic is R's,
# vectorised over events, with the running sums in C (src/cumsum.c).

#' Ascending bijector
#'
#' Maps \eqn{R^K} onto strictly increasing vectors, as tfprobability's
#' `tfb_ascending()`: \eqn{y_1 = x_1}{y[1] = x[1]},
#' \eqn{y_k = y_{k-1} + \exp(x_k)}{y[k] = y[k - 1] + exp(x[k])}, so that
#' `y = cumsum(c(x[1], exp(x[-1])))`. The inverse is
#' \eqn{x_1 = y_1}{x[1] = y[1]},
#' \eqn{x_k = \log(y_k - y_{k-1})}{x[k] = log(y[k] - y[k - 1])}. The forward
#' log-determinant is \eqn{\sum_{k \ge 2} x_k}{sum(x[-1])}, the inverse one
#' \eqn{-\sum_{k \ge 2} \log(y_k - y_{k-1})}{-sum(log(diff(y)))}; both are 0
#' for \eqn{K = 1}.
#'
#' Events are vectors along the last axis (`forward_min_event_ndims = 1`):
#' an `N x K` matrix holds `N` events, one per row, and `y[n, ]` depends
#' only on `x[n, ]` (TFP's row-major order, DESIGN 9). This is the transform
#' Stan uses for its `ordered` type; [tfb_ordered()] is its deprecated
#' inverse.
#'
#' @param validate_args `TRUE` or `FALSE`: with `TRUE` the inverse and its
#'   log-determinant refuse inputs that are not strictly increasing (an
#'   error of class `bijectors_error_domain`); otherwise they give `NaN`
#'   there, as TFP does.
#' @param name A string: the bijector's name.
#' @return A bijector of class `c("tfb_ascending", "bijector")` with
#'   `forward_min_event_ndims = inverse_min_event_ndims = 1`.
#' @family structural bijectors
#' @seealso `tfprobability::tfb_ascending()`; [tfb_ordered()], [tfb_cumsum()].
#' @examples
#' b <- tfb_ascending()
#' b$forward(c(0.06428002, -1.07774478, -0.71530371))
#' b$inverse(c(2, 3, 4))                      # 2 0 0
#' x <- rbind(c(2, 0, 0), c(4, log(4), log(5)))
#' b$forward(x)                               # rows 2 3 4 and 4 8 13
#' b$forward_log_det_jacobian(x, event_ndims = 1)   # 0 and log(20)
#' @export
tfb_ascending <- function(validate_args = FALSE, name = "ascending") {
  new_bijector(
    "tfb_ascending",
    name = check_string(name, "name"),
    forward_min_event_ndims = 1L,
    validate_args = check_flag(validate_args, "validate_args")
  )
}

# An input as a double array with its events along the last axis, and the
# view of it as a matrix of one event per row.
ascending_input <- function(x, arg) {
  x <- as_input_array(x, arg)
  dims <- input_dims(x)
  rank <- length(dims)
  size <- dims[[rank]]
  list(x = x, dims = dims, size = size,
       rows = if (size == 0) prod(as.double(dims[-rank])) else
         length(x) / size)
}

# The matrix view of an input's values (one event per row), without dims.
ascending_matrix <- function(input) {
  values <- input$x
  attributes(values) <- NULL
  dim(values) <- c(input$rows, input$size)
  values
}

# Values in the shape (and dimnames) of the input.
ascending_like <- function(values, input) {
  attributes(values) <- attributes(input$x)
  values
}

# Refuses y that is not strictly increasing along the last axis (TFP's
# validate_args assertion); `message` says in which direction.
ascending_check_increasing <- function(values, arg, message) {
  if (ncol(values) >= 2L) {
    steps <- values[, -1L, drop = FALSE] - values[, -ncol(values), drop = FALSE]
    if (any(!(steps > 0), na.rm = TRUE)) {
      abort_bijectors("domain", sprintf(
        "%s `%s` has events that are not strictly increasing.", message, arg))
    }
  }
  invisible()
}

# y from x: the running sum of x_1, exp(x_2), ..., exp(x_K).
ascending_forward_values <- function(values) {
  if (ncol(values) >= 2L) {
    values[, -1L] <- exp(values[, -1L])
  }
  .Call(C_cumsum_along, values, as.double(dim(values)), 2L,
        cumsum_modes[["forward"]])
}

# x from y: y_1 and the logs of the steps.
ascending_inverse_values <- function(values) {
  if (ncol(values) >= 2L) {
    steps <- .Call(C_cumsum_along, values, as.double(dim(values)), 2L,
                   cumsum_modes[["difference"]])
    # NaN off the domain, silently, as TFP (and the C kernels) give it
    values[, -1L] <- suppressWarnings(log(steps[, -1L]))
  }
  values
}

ascending_forward <- function(x, arg = "x") {
  input <- ascending_input(x, arg)
  ascending_like(ascending_forward_values(ascending_matrix(input)), input)
}

ascending_inverse <- function(y, arg = "y", validate = FALSE,
                              message = "Inverse transformation input") {
  input <- ascending_input(y, arg)
  values <- ascending_matrix(input)
  if (validate) {
    ascending_check_increasing(values, arg, paste(message,
                                                  "must be strictly increasing:"))
  }
  ascending_like(ascending_inverse_values(values), input)
}

# The forward log-det per event, sum(x[-1]), reduced over the extra event
# axes.
ascending_fldj <- function(x, event_ndims, arg = "x") {
  input <- ascending_input(x, arg)
  values <- ascending_matrix(input)
  per_event <- if (input$size >= 2L)
    rowSums(values[, -1L, drop = FALSE]) else numeric(input$rows)
  reduce_log_det(per_event, input$dims, event_ndims)
}

# The inverse log-det per event, -sum(log(diff(y))), reduced.
ascending_ildj <- function(y, event_ndims, arg = "y", validate = FALSE,
                           message = "Inverse transformation input") {
  input <- ascending_input(y, arg)
  values <- ascending_matrix(input)
  if (validate) {
    ascending_check_increasing(values, arg, paste(message,
                                                  "must be strictly increasing:"))
  }
  per_event <- if (input$size >= 2L) {
    -rowSums(suppressWarnings(log(values[, -1L, drop = FALSE] -
                                    values[, -input$size, drop = FALSE])))
  } else {
    numeric(input$rows)
  }
  reduce_log_det(per_event, input$dims, event_ndims)
}

#' @export
bijector_forward.tfb_ascending <- function(bijector, x) {
  ascending_forward(x)
}

#' @export
bijector_inverse.tfb_ascending <- function(bijector, y) {
  ascending_inverse(y, validate = .subset2(bijector, "validate_args"))
}

#' @export
bijector_forward_log_det_jacobian.tfb_ascending <- function(bijector, x,
                                                            event_ndims) {
  ascending_fldj(x, event_ndims)
}

#' @export
bijector_inverse_log_det_jacobian.tfb_ascending <- function(bijector, y,
                                                            event_ndims) {
  ascending_ildj(y, event_ndims, validate = .subset2(bijector, "validate_args"))
}

# ---- training ------------------------------------------------------------

# No parameters. Forward: y_j = x_1 + sum_{2 <= i <= j} exp(x_i), so
# dL/dx_i = exp(x_i) * sum_{j >= i} dL/dy_j (+ the log-det's 1 for i >= 2).
# Inverse: x_k = log(d_k), d_k = y_k - y_{k-1}, and the log-det is
# -sum(log d_k); with c_k = (dL/dx_k - dL/dlogdet) / d_k, dL/dy_j is
# c_j - c_{j+1} (and dL/dx_1 - c_2 for j = 1): a reverse difference.

# The upstream gradient of the reduced log-det, one value per event row.
ascending_event_gradient <- function(grad_log_det, rows) {
  rep_len(as.double(grad_log_det), rows)
}

ascending_with_cache <- function(input, event_ndims, arg, forward,
                                 validate = FALSE, message = NULL) {
  check_event_ndims(event_ndims, 1L, length(input_dims(input)), arg)
  if (forward) {
    list(output = ascending_forward(input, arg),
         log_det = ascending_fldj(input, event_ndims, arg),
         cache = list(x = input))
  } else {
    log_det <- ascending_ildj(input, event_ndims, arg, validate, message)
    list(output = ascending_inverse(input, arg), log_det = log_det,
         cache = list(y = input))
  }
}

# The VJP of the forward map (x -> increasing y) at cache$x.
ascending_forward_vjp <- function(cache, grad_y, grad_log_det) {
  input <- ascending_input(cache$x, "x")
  x <- ascending_matrix(input)
  g <- as.double(grad_y)
  dim(g) <- dim(x)
  tail_sums <- .Call(C_cumsum_along, g, as.double(dim(g)), 2L,
                     cumsum_modes[["reverse"]])
  if (input$size >= 2L) {
    tail_sums[, -1L] <- exp(x[, -1L]) * tail_sums[, -1L] +
      ascending_event_gradient(grad_log_det, input$rows)
  }
  ascending_like(tail_sums, input)
}

# The VJP of the inverse map (increasing y -> x) at cache$y.
ascending_inverse_vjp <- function(cache, grad_x, grad_log_det) {
  input <- ascending_input(cache$y, "y")
  y <- ascending_matrix(input)
  g <- as.double(grad_x)
  dim(g) <- dim(y)
  if (input$size >= 2L) {
    steps <- y[, -1L, drop = FALSE] - y[, -input$size, drop = FALSE]
    g[, -1L] <- (g[, -1L] -
                   ascending_event_gradient(grad_log_det, input$rows)) / steps
  }
  grad_y <- .Call(C_cumsum_along, g, as.double(dim(g)), 2L,
                  cumsum_modes[["reverse_difference"]])
  ascending_like(grad_y, input)
}

#' @export
bijector_forward_with_cache.tfb_ascending <- function(bijector, x,
                                                      event_ndims) {
  pass <- ascending_with_cache(as_input_array(x, "x"), event_ndims, "x",
                               forward = TRUE)
  list(y = pass$output, log_det = pass$log_det, cache = pass$cache)
}

#' @export
bijector_forward_backward.tfb_ascending <- function(bijector, cache, grad_y,
                                                    grad_log_det) {
  list(input = ascending_forward_vjp(cache, grad_y, grad_log_det),
       parameters = list())
}

#' @export
bijector_inverse_with_cache.tfb_ascending <- function(bijector, y,
                                                      event_ndims) {
  pass <- ascending_with_cache(as_input_array(y, "y"), event_ndims, "y",
                               forward = FALSE,
                               validate = .subset2(bijector, "validate_args"),
                               message = "Inverse transformation input")
  list(x = pass$output, log_det = pass$log_det, cache = pass$cache)
}

#' @export
bijector_inverse_backward.tfb_ascending <- function(bijector, cache, grad_x,
                                                    grad_log_det) {
  list(input = ascending_inverse_vjp(cache, grad_x, grad_log_det),
       parameters = list())
}
