# The cholesky_outer_product bijector: Cholesky factors to symmetric
# positive definite matrices, Y = L L^T (src/cholesky_outer_product.c).

#' Cholesky-outer-product bijector
#'
#' Maps lower-triangular matrices with a positive diagonal (Cholesky
#' factors) `L` to symmetric positive definite matrices `Y = L %*% t(L)`,
#' as tfprobability's `tfb_cholesky_outer_product()` (TFP's
#' `CholeskyOuterProduct`). Only the lower triangle of `x` is read (its
#' upper triangle is treated as 0); the inverse is the lower Cholesky factor
#' of `y`, read from `y`'s lower triangle as TensorFlow's `cholesky` does.
#'
#' The log-determinant is taken through the free coordinates, the
#' `n (n + 1) / 2` lower entries of `x` and of `y` (TFP's rule):
#' `fldj = n * log(2) + sum_j (n - j + 1) * log(x[j, j])`, a `log`, not
#' `log(abs())` (a negative diagonal gives `NaN`), and
#' `ildj(y) = -fldj(chol(y))`. Domain: Cholesky factors; range: symmetric
#' positive definite matrices; both as `n x n` matrices or arrays
#' `c(batch..., n, n)` (entry `[b, i, j]` is row `i`, column `j` of event
#' `b`). The minimum event ndims are 2.
#'
#' @param validate_args `TRUE` or `FALSE`: with `TRUE` the forward map and
#'   its log-det check that the diagonal of `x` is positive (an error of
#'   class `bijectors_error_domain`). An inverse whose input is not positive
#'   definite is always an error.
#' @param name A string: the bijector's name.
#' @return A bijector of class `c("tfb_cholesky_outer_product",
#'   "bijector")`.
#' @family structural bijectors
#' @seealso `tfprobability::tfb_cholesky_outer_product()`;
#'   [tfb_fill_scale_tri_l()] for Cholesky factors from vectors,
#'   [tfb_cholesky_to_inv_cholesky()].
#' @examples
#' b <- tfb_cholesky_outer_product()
#' x <- rbind(c(1, 0), c(2, 1))
#' b$forward(x)                                 # rbind(c(1, 2), c(2, 5))
#' b$inverse(b$forward(x))
#' b$forward_log_det_jacobian(diag(2), event_ndims = 2)   # log(4)
#' # covariance matrices from unconstrained vectors
#' cov <- tfb_chain(list(b, tfb_fill_scale_tri_l()))
#' cov$forward(c(0.3, -1, 2))
#' @export
tfb_cholesky_outer_product <- function(validate_args = FALSE,
                                       name = "cholesky_outer_product") {
  new_bijector(
    "tfb_cholesky_outer_product",
    name = check_string(name, "name"),
    forward_min_event_ndims = 2L,
    inverse_min_event_ndims = 2L,
    validate_args = check_flag(validate_args, "validate_args")
  )
}

cholesky_outer_product_input <- function(bijector, x, arg) {
  events <- matrix_events(x, arg)
  if (.subset2(bijector, "validate_args")) {
    assert_diagonal(events, arg, function(d) d > 0,
                    "Input must be positive definite: a diagonal entry is <= 0")
  }
  events
}

cholesky_factor_of <- function(events, arg) {
  check_cholesky_result(
    matrix_kernel_map("cholesky_outer_product", events, 1L), events$values,
    arg)
}

#' @export
bijector_forward.tfb_cholesky_outer_product <- function(bijector, x) {
  events <- cholesky_outer_product_input(bijector, x, "x")
  matrix_events_array(matrix_kernel_map("cholesky_outer_product", events,
                                        0L), events$batch, events$n)
}

#' @export
bijector_inverse.tfb_cholesky_outer_product <- function(bijector, y) {
  events <- matrix_events(y, "y")
  matrix_events_array(cholesky_factor_of(events, "y"), events$batch,
                      events$n)
}

#' @export
bijector_forward_log_det_jacobian.tfb_cholesky_outer_product <- function(
    bijector, x, event_ndims) {
  events <- cholesky_outer_product_input(bijector, x, "x")
  matrix_kernel_log_det(bijector, "cholesky_outer_product", events, 2L,
                        event_ndims, "forward_min_event_ndims", "x")
}

#' @export
bijector_inverse_log_det_jacobian.tfb_cholesky_outer_product <- function(
    bijector, y, event_ndims) {
  events <- matrix_events(y, "y")
  events$values <- cholesky_factor_of(events, "y")
  -matrix_kernel_log_det(bijector, "cholesky_outer_product", events, 2L,
                         event_ndims, "inverse_min_event_ndims", "y")
}

# ---- training ------------------------------------------------------------

#' @export
bijector_forward_with_cache.tfb_cholesky_outer_product <- function(
    bijector, x, event_ndims) {
  events <- cholesky_outer_product_input(bijector, x, "x")
  output <- matrix_kernel_map("cholesky_outer_product", events, 0L)
  cache <- matrix_pass_cache(bijector, events, output, event_ndims,
                             "forward_min_event_ndims", "x")
  log_det <- .Call(C_cholesky_outer_product, events$values, events$n, 2L)
  list(y = matrix_events_array(output, events$batch, events$n),
       log_det = reduce_event_log_det(log_det, events$batch, cache$extra),
       cache = cache)
}

#' @export
bijector_forward_backward.tfb_cholesky_outer_product <- function(
    bijector, cache, grad_y, grad_log_det) {
  gradient <- matrix_backward_inputs(cache, grad_y)
  grad <- .Call(C_cholesky_outer_product_backward, cache$input, gradient,
                expand_grad_log_det(grad_log_det, nrow(gradient)) + 0,
                cache$n, 0L)
  list(input = matrix_events_array(grad, cache$batch, cache$n),
       parameters = list())
}

#' @export
bijector_inverse_with_cache.tfb_cholesky_outer_product <- function(
    bijector, y, event_ndims) {
  events <- matrix_events(y, "y")
  factor <- cholesky_factor_of(events, "y")
  cache <- matrix_pass_cache(bijector, events, factor, event_ndims,
                             "inverse_min_event_ndims", "y")
  log_det <- -.Call(C_cholesky_outer_product, factor, events$n, 2L)
  list(x = matrix_events_array(factor, events$batch, events$n),
       log_det = reduce_event_log_det(log_det, events$batch, cache$extra),
       cache = cache)
}

#' @export
bijector_inverse_backward.tfb_cholesky_outer_product <- function(
    bijector, cache, grad_x, grad_log_det) {
  gradient <- matrix_backward_inputs(cache, grad_x)
  grad <- .Call(C_cholesky_outer_product_backward, cache$output, gradient,
                expand_grad_log_det(grad_log_det, nrow(gradient)) + 0,
                cache$n, 1L)
  list(input = matrix_events_array(grad, cache$batch, cache$n),
       parameters = list())
}
