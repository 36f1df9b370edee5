# The cholesky_to_inv_cholesky bijector: the Cholesky factor of a matrix to
# that of its inverse (src/cholesky_to_inv_cholesky.c).

#' Cholesky-to-inverse-Cholesky bijector
#'
#' Maps the Cholesky factor `X` of a symmetric positive definite matrix
#' `S = X %*% t(X)` to the Cholesky factor of its inverse,
#' `Y = t(chol(solve(S)))` (lower triangular, positive diagonal), as
#' tfprobability's `tfb_cholesky_to_inv_cholesky()` (TFP's
#' `CholeskyToInvCholesky`). The map is its own inverse. Only the lower
#' triangle of the input is read; it is computed as `Z = solve(X)` (a
#' triangular solve) and the Cholesky factor of `t(Z) %*% Z`.
#'
#' The log-determinant is taken through the free coordinates, the
#' `n (n + 1) / 2` lower entries: TFP writes it as a difference of two
#' Cholesky-outer-product log-dets, which simplifies to
#' `fldj(x) = sum_j j * (log(y[j, j]) - log(x[j, j]))` (1-based `j`), and
#' `ildj(y)` is the same function of `y`. Domain and range: Cholesky
#' factors, as `n x n` matrices or arrays `c(batch..., n, n)` (entry
#' `[b, i, j]` is row `i`, column `j` of event `b`). The minimum event
#' ndims are 2.
#'
#' @param validate_args `TRUE` or `FALSE`: with `TRUE` every call checks
#'   that the input is lower triangular with a positive diagonal (errors of
#'   class `bijectors_error_domain`).
#' @param name A string: the bijector's name.
#' @return A bijector of class `c("tfb_cholesky_to_inv_cholesky",
#'   "bijector")`.
#' @family structural bijectors
#' @seealso `tfprobability::tfb_cholesky_to_inv_cholesky()`;
#'   [tfb_matrix_inverse_tri_l()], [tfb_cholesky_outer_product()].
#' @examples
#' b <- tfb_cholesky_to_inv_cholesky()
#' x <- rbind(c(3, 0), c(2, 7))
#' y <- b$forward(x)
#' y
#' y %*% t(y) - solve(x %*% t(x))          # zero
#' b$inverse(y)
#' b$forward_log_det_jacobian(x, event_ndims = 2)
#' @export
tfb_cholesky_to_inv_cholesky <- function(validate_args = FALSE,
                                         name = "cholesky_to_inv_cholesky") {
  new_bijector(
    "tfb_cholesky_to_inv_cholesky",
    name = check_string(name, "name"),
    forward_min_event_ndims = 2L,
    inverse_min_event_ndims = 2L,
    validate_args = check_flag(validate_args, "validate_args")
  )
}

# TFP's validate_args assertions.
cholesky_to_inv_cholesky_check <- function(bijector, events, arg) {
  if (.subset2(bijector, "validate_args")) {
    assert_lower_triangular(events, arg)
    assert_diagonal(events, arg, function(d) d > 0,
                    "Input must have all positive diagonal entries")
  }
  invisible()
}

#' @export
bijector_forward.tfb_cholesky_to_inv_cholesky <- function(bijector, x) {
  involution_map(bijector, C_cholesky_to_inv_cholesky,
                 cholesky_to_inv_cholesky_check, x, "x")
}

#' @export
bijector_inverse.tfb_cholesky_to_inv_cholesky <- function(bijector, y) {
  involution_map(bijector, C_cholesky_to_inv_cholesky,
                 cholesky_to_inv_cholesky_check, y, "y")
}

#' @export
bijector_forward_log_det_jacobian.tfb_cholesky_to_inv_cholesky <- function(
    bijector, x, event_ndims) {
  involution_log_det(bijector, C_cholesky_to_inv_cholesky,
                     cholesky_to_inv_cholesky_check, x, event_ndims, "x")
}

#' @export
bijector_inverse_log_det_jacobian.tfb_cholesky_to_inv_cholesky <- function(
    bijector, y, event_ndims) {
  involution_log_det(bijector, C_cholesky_to_inv_cholesky,
                     cholesky_to_inv_cholesky_check, y, event_ndims, "y")
}

#' @export
bijector_forward_with_cache.tfb_cholesky_to_inv_cholesky <- function(
    bijector, x, event_ndims) {
  pass <- involution_with_cache(bijector, C_cholesky_to_inv_cholesky,
                                cholesky_to_inv_cholesky_check, x, event_ndims,
                                "x")
  list(y = pass$output, log_det = pass$log_det, cache = pass$cache)
}

#' @export
bijector_inverse_with_cache.tfb_cholesky_to_inv_cholesky <- function(
    bijector, y, event_ndims) {
  pass <- involution_with_cache(bijector, C_cholesky_to_inv_cholesky,
                                cholesky_to_inv_cholesky_check, y, event_ndims,
                                "y")
  list(x = pass$output, log_det = pass$log_det, cache = pass$cache)
}

#' @export
bijector_forward_backward.tfb_cholesky_to_inv_cholesky <- function(
    bijector, cache, grad_y, grad_log_det) {
  involution_backward(C_cholesky_to_inv_cholesky_backward, cache, grad_y,
                      grad_log_det)
}

#' @export
bijector_inverse_backward.tfb_cholesky_to_inv_cholesky <- function(
    bijector, cache, grad_x, grad_log_det) {
  involution_backward(C_cholesky_to_inv_cholesky_backward, cache, grad_x,
                      grad_log_det)
}
