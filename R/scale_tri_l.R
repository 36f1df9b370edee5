# tfb_scale_tri_l() (deprecated): TFP's old ScaleTriL, renamed FillScaleTriL,
# so the same chain as tfb_fill_scale_tri_l() under the old name.

#' Vector to scale lower-triangular matrix (deprecated)
#'
#' TFP's `ScaleTriL`, deprecated in TFP 0.9 as renamed to `FillScaleTriL`
#' and removed in TFP 0.13 (tfprobability's wrapper fails on current TFP);
#' it works here with its TFP meaning, as [tfb_fill_scale_tri_l()] under the
#' old class and name, and says once per session that it is deprecated. It
#' is not a matrix-vector product: it maps a vector `x` of length
#' `m = n (n + 1) / 2` to an `n x n` lower-triangular matrix `L`:
#'
#' 1. `L = fill_triangular(x)`, TFP's order (see [tfb_fill_triangular()]):
#'    `1:6` gives `rbind(c(4, 0, 0), c(6, 5, 0), c(3, 2, 1))`;
#' 2. each diagonal entry becomes `g(L[i, i]) + diag_shift`, with `g` the
#'    forward map of `diag_bijector` (softplus when `NULL`).
#'
#' The forward log-determinant is `sum(log(g'(L[i, i])))` over the diagonal
#' (the filling contributes 0); minimum event ndims are 1 forward and 2
#' inverse. Batch dims come first: `x` of dims `c(N, m)` gives `L` of dims
#' `c(N, n, n)`. Trainable parameters are those of `diag_bijector`, if any.
#'
#' @inheritParams tfb_fill_scale_tri_l
#' @param name A string: the bijector's name.
#' @return A bijector of class `c("tfb_scale_tri_l", "tfb_fill_scale_tri_l",
#'   "tfb_chain", "bijector")`, as [tfb_fill_scale_tri_l()].
#' @family linear bijectors
#' @seealso `tfprobability::tfb_scale_tri_l()`; [tfb_fill_scale_tri_l()];
#'   [tfb_scale_matvec_tri_l()], which multiplies by such a matrix.
#' @examples
#' b <- suppressMessages(tfb_scale_tri_l())
#' b$forward(c(0, 0, 0))                        # diagonal log(2) + 1e-5
#' b$forward_log_det_jacobian(c(0, 0, 0), 1)    # 2 * log(0.5)
#' b$inverse(b$forward(c(1, 2, 3)))
#' @export
tfb_scale_tri_l <- function(diag_bijector = NULL, diag_shift = 1e-5,
                            validate_args = FALSE, name = "scale_tril") {
  bijector <- tfb_fill_scale_tri_l(diag_bijector, diag_shift,
                                   validate_args = validate_args, name = name)
  deprecate_once("tfb_scale_tri_l",
                 "tfb_fill_scale_tri_l() (TFP's FillScaleTriL)")
  class(bijector) <- c("tfb_scale_tri_l", class(bijector))
  bijector
}
