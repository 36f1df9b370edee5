# tfb_scale_matvec_tri_l(): y = L x on the last axis, a lower-triangular
# operator of the linear base (R/linear_operator.R, src/linear_operator.c).

#' Lower-triangular scale bijector
#'
#' The bijector `y = L x` on the last axis, as tfprobability's
#' `tfb_scale_matvec_tri_l()` (TFP's `ScaleMatvecTriL`), for a lower-
#' triangular `k x k` matrix `L = scale_tril`; with `adjoint = TRUE`,
#' `y = t(L) x`. The inverse solves the triangular system
#' (`forwardsolve(L, y)`). As in TFP, **entries above the diagonal are
#' ignored** (taken as 0, before `adjoint` applies). The forward
#' log-determinant is `sum(log(abs(diag(L))))`, one number for every event
#' (multiplied by the number of elements of event axes beyond the last, TFP's
#' rule for constant Jacobians). Minimum event ndims are 1. A batch of
#' matrices (a 3-d array) is not supported.
#'
#' A zero on the diagonal is refused whatever `validate_args` (TFP checks it
#' only with `validate_args = TRUE`), with TFP's message and an error of
#' class `bijectors_error_singular`; negative diagonal entries are allowed.
#'
#' **Training.** Two parameters: `scale_tril`, the entries strictly below
#' the diagonal (a `k x k` matrix whose other entries stay 0), and
#' `log_abs_diagonal`, `log(abs(diag(L)))`; the signs of the diagonal stay
#' fixed, so that no step makes `L` singular. `$scale_tril` is the current
#' `L`.
#'
#' @param scale_tril A square numeric matrix with a non-zero diagonal; only
#'   its lower triangle is used.
#' @param adjoint `TRUE` to apply `t(L)` instead of `L`.
#' @param validate_args `TRUE` or `FALSE`; accepted for compatibility (the
#'   diagonal is always checked).
#' @param name A string: the bijector's name.
#' @param dtype `NULL` or a floating-point dtype name; all arithmetic is in
#'   double precision.
#' @return A bijector of class
#'   `c("tfb_scale_matvec_tri_l", "tfb_linear", "bijector")` with the fields
#'   `$scale_tril` and `$adjoint`.
#' @family linear bijectors
#' @seealso `tfprobability::tfb_scale_matvec_tri_l()`;
#'   [tfb_scale_matvec_diag()], [tfb_scale_matvec_lu()]; with [tfb_shift()]
#'   in a [tfb_chain()], a full-covariance Gaussian.
#' @examples
#' b <- tfb_scale_matvec_tri_l(matrix(c(2, 2, 0, 2), 2))
#' b$forward(c(1, 2))                                    # 2 6
#' b$inverse(c(1, 2))                                    # 0.5 0.5
#' b$inverse_log_det_jacobian(c(1, 2), event_ndims = 1)  # -log(4)
#' @export
tfb_scale_matvec_tri_l <- function(scale_tril, adjoint = FALSE,
                                   validate_args = FALSE,
                                   name = "scale_matvec_tril", dtype = NULL) {
  scale_tril <- check_square_matrix(scale_tril, "scale_tril")
  check_nonzero_diagonal(scale_tril, "scale_tril")
  check_dtype(dtype)
  new_linear_bijector(
    "tfb_scale_matvec_tri_l", name = name, validate_args = validate_args,
    operator = "lower", values = scale_tril, adjoint = adjoint,
    public = c("scale_tril", "adjoint")
  )
}
