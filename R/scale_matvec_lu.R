# tfb_scale_matvec_lu() and the deprecated tfb_matvec_lu(): y = W x on the
# last axis for W given by its LU factors, an operator of the linear base
# (R/linear_operator.R, src/linear_operator.c).

#' LU-factored linear bijector
#'
#' The bijector `y = W x` on the last axis, as tfprobability's
#' `tfb_scale_matvec_lu()` (TFP's `ScaleMatvecLU`), for a `k x k` matrix `W`
#' given by its LU factorisation with partial pivoting: `lower_upper` holds
#' the unit-lower-triangular `L` strictly below the diagonal (its unit
#' diagonal implied) and the upper-triangular `U` on and above it, and
#' `permutation` is a **1-based** permutation of `1..k` with
#' `W[permutation, ] == L %*% U` (TFP's `lu_reconstruct`; TFP's permutation
#' is 0-based). The inverse solves with `L`, then `U`; the forward
#' log-determinant is `sum(log(abs(diag(lower_upper))))`, one number for
#' every event (multiplied by the number of elements of event axes beyond
#' the last). Minimum event ndims are 1.
#'
#' To factor a matrix `A`: `tfb_scale_matvec_linear_operator(A)` does it for
#' you; with the Matrix package, `e <- Matrix::expand(Matrix::lu(A))` gives
#' `lower_upper = as.matrix(e$L + e$U) - diag(k)` and
#' `permutation = apply(as.matrix(e$P), 2, which.max)`. A random
#' orthonormal start (log-determinant 0), as TFP's and Glow's trainable LU
#' layers use, is the factorisation of `qr.Q(qr(matrix(runif(k * k), k)))`.
#'
#' A zero on the diagonal of `lower_upper` is refused whatever
#' `validate_args` (TFP checks it only with `validate_args = TRUE`), with an
#' error of class `bijectors_error_singular`; the permutation is always
#' checked.
#'
#' **Training.** The permutation is fixed. The factors are trained as
#' `lower_upper` (the entries off the diagonal: `L` below, `U` above; the
#' diagonal of this `k x k` matrix stays 0) and `log_abs_diagonal`, the log
#' absolute values of the diagonal of `U`; its signs stay fixed
#' (`diag(U) = sign * exp(log_abs_diagonal)`), so that no step makes `W`
#' singular. `$lower_upper` is the current factor matrix.
#'
#' @param lower_upper A square numeric matrix: `L` and `U` in one matrix,
#'   with a non-zero diagonal.
#' @param permutation A permutation of `1..k` (a vector of whole numbers or
#'   a list of single numbers).
#' @param validate_args `TRUE` or `FALSE`; accepted for compatibility (the
#'   factors are always checked).
#' @param name A string, or `NULL` for `"scale_matvec_lu"`.
#' @return A bijector of class
#'   `c("tfb_scale_matvec_lu", "tfb_linear", "bijector")` with the fields
#'   `$lower_upper` and `$permutation`.
#' @family linear bijectors
#' @seealso `tfprobability::tfb_scale_matvec_lu()`;
#'   [tfb_scale_matvec_linear_operator()] to give a matrix,
#'   [tfb_scale_matvec_tri_l()].
#' @examples
#' # the factors of A = rbind(c(1, 2, 3), c(4, 5, 6), c(0.5, 0, 0.25))
#' lower_upper <- rbind(c(4, 5, 6), c(0.25, 0.75, 1.5),
#'                      c(0.125, -5 / 6, 0.75))
#' b <- tfb_scale_matvec_lu(lower_upper, permutation = c(2, 1, 3))
#' b$forward(c(1, 1, 1))                                # A %*% c(1, 1, 1)
#' b$forward_log_det_jacobian(c(1, 1, 1), event_ndims = 1)  # log(2.25)
#' @export
tfb_scale_matvec_lu <- function(lower_upper, permutation,
                                validate_args = FALSE, name = NULL) {
  scale_matvec_lu(lower_upper, permutation, validate_args,
                  name %||% "scale_matvec_lu")
}

scale_matvec_lu <- function(lower_upper, permutation, validate_args, name) {
  lower_upper <- check_square_matrix(lower_upper, "lower_upper")
  check_nonzero_diagonal(lower_upper, "lower_upper",
                         "Invertible `lower_upper` must have nonzero diagonal.")
  permutation <- check_linear_permutation(permutation, nrow(lower_upper))
  new_linear_bijector(
    "tfb_scale_matvec_lu", name = name, validate_args = validate_args,
    operator = "lu", values = lower_upper, permutation = permutation,
    public = c("lower_upper", "permutation")
  )
}

#' LU-factored linear bijector (deprecated)
#'
#' `tfb_matvec_lu()` is TFP's `MatvecLU`, deprecated in TFP 0.9 as renamed
#' to `ScaleMatvecLU`: it is [tfb_scale_matvec_lu()] with the name
#' `"matvec_lu"`, and says once per session that it is deprecated. Unlike
#' TFP's `MatvecLU`, which passes `validate_args = FALSE` on whatever it is
#' given, the factors are always checked.
#'
#' @inheritParams tfb_scale_matvec_lu
#' @param name A string, or `NULL` for `"matvec_lu"`.
#' @return A bijector as [tfb_scale_matvec_lu()] makes.
#' @family linear bijectors
#' @seealso [tfb_scale_matvec_lu()]; `tfprobability::tfb_matvec_lu()`.
#' @examples
#' b <- tfb_matvec_lu(rbind(c(2, 1), c(0.5, 3)), permutation = c(1, 2))
#' b$forward(c(1, 1))
#' @export
tfb_matvec_lu <- function(lower_upper, permutation, validate_args = FALSE,
                          name = NULL) {
  b <- scale_matvec_lu(lower_upper, permutation, validate_args,
                       name %||% "matvec_lu")
  deprecate_once("tfb_matvec_lu", "tfb_scale_matvec_lu()")
  b
}
