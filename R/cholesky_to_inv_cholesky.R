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
  new_matrix_involution("tfb_cholesky_to_inv_cholesky",
                        "cholesky_to_inv_cholesky", validate_args, name)
}
