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
#' @return A bijector of class `c("tfb_matrix_inverse_tri_l", "bijector")`.
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
  new_bijector(
    "tfb_matrix_inverse_tri_l",
    name = check_string(name, "name"),
    forward_min_event_ndims = 2L,
    inverse_min_event_ndims = 2L,
    validate_args = check_flag(validate_args, "validate_args")
  )
}

# TFP's validate_args assertions.
matrix_inverse_tri_l_check <- function(bijector, events, arg) {
  if (.subset2(bijector, "validate_args")) {
    assert_lower_triangular(events, arg)
    assert_diagonal(events, arg, function(d) d != 0,
                    "Input must have all diagonal entries nonzero")
  }
  invisible()
}

#' @export
bijector_forward.tfb_matrix_inverse_tri_l <- function(bijector, x) {
  involution_map(bijector, C_matrix_inverse_tri_l,
                 matrix_inverse_tri_l_check, x, "x")
}

#' @export
bijector_inverse.tfb_matrix_inverse_tri_l <- function(bijector, y) {
  involution_map(bijector, C_matrix_inverse_tri_l,
                 matrix_inverse_tri_l_check, y, "y")
}

#' @export
bijector_forward_log_det_jacobian.tfb_matrix_inverse_tri_l <- function(
    bijector, x, event_ndims) {
  involution_log_det(bijector, C_matrix_inverse_tri_l,
                     matrix_inverse_tri_l_check, x, event_ndims, "x")
}

#' @export
bijector_inverse_log_det_jacobian.tfb_matrix_inverse_tri_l <- function(
    bijector, y, event_ndims) {
  involution_log_det(bijector, C_matrix_inverse_tri_l,
                     matrix_inverse_tri_l_check, y, event_ndims, "y")
}

#' @export
bijector_forward_with_cache.tfb_matrix_inverse_tri_l <- function(
    bijector, x, event_ndims) {
  pass <- involution_with_cache(bijector, C_matrix_inverse_tri_l,
                                matrix_inverse_tri_l_check, x, event_ndims,
                                "x")
  list(y = pass$output, log_det = pass$log_det, cache = pass$cache)
}

#' @export
bijector_inverse_with_cache.tfb_matrix_inverse_tri_l <- function(
    bijector, y, event_ndims) {
  pass <- involution_with_cache(bijector, C_matrix_inverse_tri_l,
                                matrix_inverse_tri_l_check, y, event_ndims,
                                "y")
  list(x = pass$output, log_det = pass$log_det, cache = pass$cache)
}

#' @export
bijector_forward_backward.tfb_matrix_inverse_tri_l <- function(
    bijector, cache, grad_y, grad_log_det) {
  involution_backward(C_matrix_inverse_tri_l_backward, cache, grad_y,
                      grad_log_det)
}

#' @export
bijector_inverse_backward.tfb_matrix_inverse_tri_l <- function(
    bijector, cache, grad_x, grad_log_det) {
  involution_backward(C_matrix_inverse_tri_l_backward, cache, grad_x,
                      grad_log_det)
}
