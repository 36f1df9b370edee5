# The matrix_inverse_tri_l bijector: lower-triangular matrices to their
# inverses (src/matrix_inverse_tri_l.c).

#' Matrix-inverse-tri-L bijector
#'
#' Maps an invertible lower-triangular matrix `X` to its inverse `Y =
#' solve(X)`, itself lower triangular, as tfprobability's
#' `tfb_matrix_inverse_tri_l()` (TFP's `MatrixInverseTriL`). The map is its
#' own inverse. Only the lower triangle of the input is read (as
#' TensorFlow's triangular solve); the output's upper triangle is exactly 0.
#'
#' The log-determinant is taken through the free coordinates, the
#' `n (n + 1) / 2` lower entries: `fldj(x) = -(n + 1) * sum(log(abs(diag(x))))`
#' and `ildj(y) = -(n + 1) * sum(log(abs(diag(y))))`. This is TFP's formula
#' since version 0.7; earlier versions used `-2 n` (the Jacobian of all
#' `n^2` entries), which is not the log-det of a bijection of triangular
#' matrices. Domain and range: lower-triangular matrices with a nonzero
#' diagonal, as `n x n` matrices or arrays `c(batch..., n, n)` (entry
#' `[b, i, j]` is row `i`, column `j` of event `b`). The minimum event
#' ndims are 2.
#'
#' @param validate_args `TRUE` or `FALSE`: with `TRUE` every call checks
#'   that the input is lower triangular and that its diagonal has no zero
#'   (errors of class `bijectors_error_domain`).
#' @param name A string: the bijector's name.
#' @return A bijector of class `c("tfb_matrix_inverse_tri_l", "tfb_matrix_involution", "bijector")`.
#' @family structural bijectors
#' @seealso `tfprobability::tfb_matrix_inverse_tri_l()`;
#'   [tfb_cholesky_to_inv_cholesky()].
#' @examples
#' b <- tfb_matrix_inverse_tri_l()
#' x <- rbind(c(1, 0), c(2, 1))
#' b$forward(x)                            # rbind(c(1, 0), c(-2, 1))
#' b$inverse(b$forward(x))
#' b$forward_log_det_jacobian(2 * diag(3), event_ndims = 2)   # -12 log 2
#' @export
tfb_matrix_inverse_tri_l <- function(validate_args = FALSE,
                                     name = "matrix_inverse_tril") {
  new_matrix_involution("tfb_matrix_inverse_tri_l", "matrix_inverse_tri_l",
                        validate_args, name)
}
