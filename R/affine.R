# The deprecated affine kinds of TFP (removed in TFP 0.15), with their TFP
# meaning: tfb_affine() and tfb_affine_linear_operator() build a chain of a
# shift and a linear bijector (R/linear_operator.R).

#' Affine bijector (deprecated)
#'
#' TFP's `Affine`, deprecated in TFP 0.9 and removed in 0.15
#' (tfprobability's wrapper fails on current TFP): `y = S x + shift` on the
#' last axis, with
#' `S = scale_identity_multiplier * I + diag(scale_diag) + tril(scale_tril) +
#' V diag(scale_perturb_diag) t(V)`, `V = scale_perturb_factor` (each term
#' present only when given; `V t(V)` when `scale_perturb_diag` is `NULL`;
#' `S = I` when no scale is given; only the lower triangle of `scale_tril`
#' is used). With `adjoint = TRUE`, `y = t(S) x + shift`. The inverse is
#' `x = S^-1 (y - shift)`; the forward log-determinant `log|det S|`, one
#' number per event (`k * log|scale_identity_multiplier|` for the
#' multiplier alone). It says once per session that it is deprecated.
#'
#' The result is a [tfb_chain()] named `name` of [tfb_shift()] and
#' [tfb_scale_matvec_linear_operator()] of the dense `S` (or [tfb_scale()]
#' for the multiplier alone, whose minimum event ndims are then 0 where
#' TFP's were 1), so its trainable parameters are those of these members.
#' A singular `S` is refused whatever `validate_args`, with an error of
#' class `bijectors_error_singular`. Batches of operators are not supported.
#'
#' @param shift `NULL`, a number or a vector: added after the scale.
#' @param scale_identity_multiplier `NULL` or a number `c`: adds `c * I`.
#' @param scale_diag `NULL` or a vector: adds `diag(scale_diag)`.
#' @param scale_tril `NULL` or a square matrix: adds its lower triangle.
#' @param scale_perturb_factor `NULL` or a `k x r` matrix `V`.
#' @param scale_perturb_diag `NULL` or a vector of `r` values (needs
#'   `scale_perturb_factor`).
#' @param adjoint `TRUE` to apply `t(S)`.
#' @param validate_args `TRUE` or `FALSE`; accepted for compatibility (the
#'   scale is always checked).
#' @param name A string: the chain's name.
#' @param dtype `NULL` or a floating-point dtype name; all arithmetic is in
#'   double precision.
#' @return A bijector of class `c("tfb_chain", "bijector")`.
#' @family linear bijectors
#' @seealso [tfb_shift()], [tfb_scale_matvec_linear_operator()],
#'   [tfb_scale_matvec_tri_l()], [tfb_scale_matvec_diag()];
#'   `tfprobability::tfb_affine()`.
#' @examples
#' b <- suppressMessages(tfb_affine(shift = -1, scale_diag = c(1, 2),
#'                                  scale_tril = rbind(c(1, 0), c(2, 1))))
#' b$forward(c(1, 2))                                  # 1 7
#' b$inverse_log_det_jacobian(c(1, 2), event_ndims = 1)  # -log(6)
#' @export
tfb_affine <- function(shift = NULL, scale_identity_multiplier = NULL,
                       scale_diag = NULL, scale_tril = NULL,
                       scale_perturb_factor = NULL, scale_perturb_diag = NULL,
                       adjoint = FALSE, validate_args = FALSE,
                       name = "affine", dtype = NULL) {
  if (!is.null(shift)) {
    shift <- check_elementwise_parameter(shift, "shift")
  }
  multiplier <- scale_identity_multiplier
  if (!is.null(multiplier)) {
    multiplier <- check_number(multiplier, "scale_identity_multiplier")
  }
  if (!is.null(scale_diag)) {
    scale_diag <- check_affine_vector(scale_diag, "scale_diag")
  }
  if (!is.null(scale_tril)) {
    scale_tril <- check_square_matrix(scale_tril, "scale_tril")
  }
  if (!is.null(scale_perturb_diag) && is.null(scale_perturb_factor)) {
    abort_bijectors("argument", paste(
      "When scale_perturb_diag is specified, scale_perturb_factor must be",
      "specified."))
  }
  if (!is.null(scale_perturb_factor)) {
    ok <- is.numeric(scale_perturb_factor) &&
      !is.object(scale_perturb_factor) &&
      length(dim(scale_perturb_factor)) == 2L &&
      all(dim(scale_perturb_factor) >= 1L) &&
      all(is.finite(scale_perturb_factor))
    if (!ok) {
      abort_bijectors("argument", sprintf(paste(
        "`scale_perturb_factor` must be a k x r matrix of finite numbers,",
        "not %s."), describe_value(scale_perturb_factor)))
    }
    storage.mode(scale_perturb_factor) <- "double"
    if (!is.null(scale_perturb_diag)) {
      scale_perturb_diag <- check_affine_vector(scale_perturb_diag,
                                                "scale_perturb_diag")
      if (length(scale_perturb_diag) != ncol(scale_perturb_factor)) {
        abort_bijectors("argument", sprintf(paste(
          "`scale_perturb_diag` has %d values but `scale_perturb_factor`",
          "has %d columns."), length(scale_perturb_diag),
          ncol(scale_perturb_factor)))
      }
    }
  }
  adjoint <- check_flag(adjoint, "adjoint")
  validate_args <- check_flag(validate_args, "validate_args")
  name <- check_string(name, "name")
  check_dtype(dtype)
  sizes <- c(scale_diag = length(scale_diag), scale_tril = NROW(scale_tril),
             scale_perturb_factor = NROW(scale_perturb_factor))
  sizes <- sizes[sizes > 0L]
  if (length(unique(sizes)) > 1L) {
    abort_bijectors("argument", sprintf(
      "The scale's parts disagree on the event size: %s.",
      paste(sprintf("`%s` has %d", names(sizes), sizes), collapse = ", ")))
  }
  if (!is.null(shift) && length(shift) > 1L && length(sizes) > 0L &&
      length(shift) != sizes[[1L]]) {
    abort_bijectors("argument", sprintf(
      "`shift` has %d values, but the scale is %d x %d.", length(shift),
      sizes[[1L]], sizes[[1L]]))
  }
  members <- list()
  if (!is.null(shift)) {
    members <- list(tfb_shift(shift, validate_args = validate_args))
  }
  if (length(sizes) == 0L) {
    # the multiplier alone (TFP's scalar case), or no scale at all (S = I)
    if (!is.null(multiplier)) {
      if (multiplier == 0) {
        abort_bijectors("singular", paste(
          "identity_multiplier should be non-zero: `scale_identity_multiplier`",
          "is 0, so the scale is not invertible."))
      }
      members <- c(members, list(tfb_scale(multiplier,
                                           validate_args = validate_args)))
    }
  } else {
    k <- sizes[[1L]]
    scale <- diag(multiplier %||% 0, k)
    if (!is.null(scale_diag)) {
      scale <- scale + diag(scale_diag, k)
    }
    if (!is.null(scale_tril)) {
      scale_tril[upper.tri(scale_tril)] <- 0
      scale <- scale + scale_tril
    }
    if (!is.null(scale_perturb_factor)) {
      v <- scale_perturb_factor
      d2 <- scale_perturb_diag %||% rep(1, ncol(v))
      scale <- scale + v %*% (d2 * t(v))
    }
    members <- c(members, list(tfb_scale_matvec_linear_operator(
      scale, adjoint = adjoint, validate_args = validate_args)))
  }
  b <- tfb_chain(members, validate_args = validate_args, name = name)
  deprecate_once("tfb_affine", paste(
    "tfb_chain(list(tfb_shift(shift), tfb_scale_matvec_linear_operator(scale)))",
    "or tfb_scale_matvec_diag() / tfb_scale_matvec_tri_l()"))
  b
}

check_affine_vector <- function(x, arg) {
  x <- list_parameter_as_array(x)
  ok <- is.numeric(x) && !is.object(x) && length(x) >= 1L &&
    length(dim(x)) <= 1L && all(is.finite(x))
  if (!ok) {
    abort_bijectors("argument", sprintf(
      "`%s` must be a vector of finite numbers, not %s.", arg,
      describe_value(x)))
  }
  as.double(x)
}

#' Affine bijector with a linear operator (deprecated)
#'
#' TFP's `AffineLinearOperator`, deprecated in TFP 0.9 and removed in 0.15:
#' `y = A x + shift` on the last axis (`t(A) x + shift` with
#' `adjoint = TRUE`), `A` a plain-R operator as
#' [tfb_scale_matvec_linear_operator()] takes it (a diagonal vector, a
#' square matrix, or LU factors); `scale = NULL` is the identity (log-det 0)
#' and `shift = NULL` no shift. It says once per session that it is
#' deprecated, and returns a [tfb_chain()] named `name` of [tfb_shift()] and
#' [tfb_scale_matvec_linear_operator()].
#'
#' @param shift `NULL`, a number or a vector: added after the scale.
#' @param scale `NULL` or a plain-R operator.
#' @inheritParams tfb_scale_matvec_linear_operator
#' @param name A string: the chain's name.
#' @return A bijector of class `c("tfb_chain", "bijector")`.
#' @family linear bijectors
#' @seealso [tfb_shift()], [tfb_scale_matvec_linear_operator()];
#'   `tfprobability::tfb_affine_linear_operator()`.
#' @examples
#' b <- suppressMessages(tfb_affine_linear_operator(
#'   shift = c(-1, 0, 1), scale = c(1, 2, 3)))
#' b$forward(c(1, 2, 3))                               # 0 4 10
#' @export
tfb_affine_linear_operator <- function(shift = NULL, scale = NULL,
                                       adjoint = FALSE, validate_args = FALSE,
                                       name = "affine_linear_operator") {
  if (!is.null(shift)) {
    shift <- check_elementwise_parameter(shift, "shift")
  }
  validate_args <- check_flag(validate_args, "validate_args")
  name <- check_string(name, "name")
  members <- list()
  if (!is.null(shift)) {
    members <- list(tfb_shift(shift, validate_args = validate_args))
  }
  if (!is.null(scale)) {
    members <- c(members, list(tfb_scale_matvec_linear_operator(
      scale, adjoint = adjoint, validate_args = validate_args)))
  } else {
    check_flag(adjoint, "adjoint")
  }
  b <- tfb_chain(members, validate_args = validate_args, name = name)
  deprecate_once("tfb_affine_linear_operator", paste(
    "tfb_chain(list(tfb_shift(shift),",
    "tfb_scale_matvec_linear_operator(scale)))"))
  b
}
