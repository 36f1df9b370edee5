# tfb_scale_matvec_diag(): y = d * x on the last axis, a diagonal operator of
# the linear base (R/linear_operator.R, src/linear_operator.c).

#' Diagonal scale bijector
#'
#' The bijector `y = scale_diag * x` on the last axis, as tfprobability's
#' `tfb_scale_matvec_diag()` (TFP's `ScaleMatvecDiag`): the matrix-vector
#' product with `diag(scale_diag)`. The inverse is `x = y / scale_diag`; the
#' forward log-determinant is `sum(log(abs(scale_diag)))`, one number for
#' every event (multiplied by the number of elements of event axes beyond
#' the last, TFP's rule for constant Jacobians). Minimum event ndims are 1:
#' the input's last axis has `length(scale_diag)` values. `adjoint` changes
#' nothing for a real diagonal.
#'
#' Negative entries are allowed; a zero entry is refused whatever
#' `validate_args` (TFP checks it only with `validate_args = TRUE`), with
#' TFP's message and an error of class `bijectors_error_singular`. A batch
#' of diagonals (a matrix `scale_diag`) is not supported.
#'
#' **Training.** The trainable parameter is `log_abs_diagonal`,
#' `log(abs(scale_diag))` (any finite value whose `exp()` is finite); the
#' signs of `scale_diag` stay fixed, so that no step reaches a zero scale.
#' `$scale_diag` is the current `sign * exp(log_abs_diagonal)`; until the
#' parameter changes, the products use `scale_diag` exactly as given (not
#' its log's exponential, which can be 1 ulp away).
#'
#' @param scale_diag A numeric vector of non-zero finite numbers: the
#'   diagonal.
#' @param adjoint `TRUE` or `FALSE`: apply the adjoint (the same map here).
#' @param validate_args `TRUE` or `FALSE`; accepted for compatibility (the
#'   diagonal is always checked).
#' @param name A string: the bijector's name.
#' @param dtype `NULL` or a floating-point dtype name; all arithmetic is in
#'   double precision.
#' @return A bijector of class
#'   `c("tfb_scale_matvec_diag", "tfb_linear", "bijector")` with the fields
#'   `$scale_diag` and `$adjoint`.
#' @family linear bijectors
#' @seealso `tfprobability::tfb_scale_matvec_diag()`; [tfb_scale()] for a
#'   scale without a minimum event rank; [tfb_scale_matvec_tri_l()].
#' @examples
#' b <- tfb_scale_matvec_diag(c(2, 1))
#' b$forward(c(1, 1))                                   # 2 1
#' b$inverse(rbind(c(1, 1), c(-1, -1)))
#' b$inverse_log_det_jacobian(c(1, 1), event_ndims = 1) # -log(2)
#' @export
tfb_scale_matvec_diag <- function(scale_diag, adjoint = FALSE,
                                  validate_args = FALSE,
                                  name = "scale_matvec_diag", dtype = NULL) {
  scale_diag <- check_linear_vector(scale_diag, "scale_diag")
  check_dtype(dtype)
  new_linear_bijector(
    "tfb_scale_matvec_diag", name = name, validate_args = validate_args,
    operator = "diagonal", values = scale_diag, adjoint = adjoint,
    public = c("scale_diag", "adjoint")
  )
}
