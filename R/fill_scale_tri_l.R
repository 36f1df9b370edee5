# The fill_scale_tri_l bijector: unconstrained vectors to Cholesky factors
# (lower-triangular matrices with a positive diagonal), TFP's chain of
# transform_diagonal(shift of diag_bijector) and fill_triangular.

#' Fill-scale-tri-L bijector
#'
#' Maps unconstrained vectors of length `n * (n + 1) / 2` to `n x n` lower
#' triangular matrices with a positive diagonal (scale matrices, Cholesky
#' factors), as tfprobability's `tfb_fill_scale_tri_l()` (TFP's
#' `FillScaleTriL`). As TFP builds it, it is the chain
#' `tfb_chain(list(tfb_transform_diagonal(tfb_chain(list(shift,
#' diag_bijector))), tfb_fill_triangular()))`: the vector is filled into a
#' lower matrix in TFP's order (see [tfb_fill_triangular()]; for `x = 1:3`
#' the matrix is `rbind(c(3, 0), c(2, 1))`), then
#' `diag(L) = diag_bijector$forward(diag(L)) + diag_shift`.
#'
#' The forward log-determinant, through the free coordinates, is the
#' diagonal bijector's on the diagonal entries (the shift adds 0); with the
#' default softplus it is `sum(log(plogis(x_d)))` over the entries `x_d`
#' that land on the diagonal. Domain: vectors of a triangular length;
#' range: lower-triangular matrices whose diagonal is in the range of
#' `diag_bijector` shifted by `diag_shift`. The inverse reads only the lower
#' triangle. `forward_min_event_ndims` is 1, `inverse_min_event_ndims` 2.
#'
#' The shift is a constant, as in TFP: it is not a trainable parameter of a
#' flow (the diagonal bijector's parameters are).
#'
#' @param diag_bijector A bijector for the diagonal that keeps the length of
#'   vectors, or `NULL` (the default) for TFP's default, the softplus
#'   bijector.
#' @param diag_shift A finite number (or one per diagonal entry), added to
#'   the diagonal after `diag_bijector`; `NULL` for no shift. The default
#'   `1e-05` keeps the diagonal away from 0.
#' @param validate_args `TRUE` or `FALSE`; accepted for compatibility.
#' @param name A string: the bijector's name.
#' @return A bijector of class `c("tfb_fill_scale_tri_l", "tfb_chain",
#'   "bijector")`: a chain (its `$bijectors` are the transform_diagonal and
#'   fill_triangular bijectors) with the field `$diag_shift`.
#' @family structural bijectors
#' @seealso `tfprobability::tfb_fill_scale_tri_l()`;
#'   [tfb_transform_diagonal()], [tfb_cholesky_outer_product()] for
#'   covariance matrices.
#' @examples
#' b <- tfb_fill_scale_tri_l(tfb_exp(), NULL)
#' b$forward(c(0, 0, 0))                      # diag(2)
#' b$inverse(rbind(c(1, 0), c(0.5, 2)))       # log(2), 0.5, 0
#' b$forward_log_det_jacobian(c(1, 2, 3), 1)  # x1 + x3: the diagonal's
#' L <- tfb_fill_scale_tri_l()$forward(matrix(rnorm(12), 2))
#' L[1, , ]
#' @export
tfb_fill_scale_tri_l <- function(diag_bijector = NULL, diag_shift = 1e-05,
                                 validate_args = FALSE,
                                 name = "fill_scale_tril") {
  if (is.null(diag_bijector)) {
    diag_bijector <- default_diag_bijector()
  }
  check_diag_bijector(diag_bijector)
  if (!is.null(diag_shift)) {
    diag_shift <- check_elementwise_parameter(diag_shift, "diag_shift")
  }
  validate_args <- check_flag(validate_args, "validate_args")
  name <- check_string(name, "name")
  diagonal <- if (is.null(diag_shift)) diag_bijector else
    tfb_chain(list(fixed_shift(diag_shift), diag_bijector),
              validate_args = validate_args)
  bijector <- tfb_chain(
    list(tfb_transform_diagonal(diagonal, validate_args = validate_args),
         tfb_fill_triangular(validate_args = validate_args)),
    validate_args = validate_args, name = name)
  assign("diag_shift", diag_shift, envir = bijector)
  # `$parameters` are this constructor's (TFP's FillScaleTriL), not the
  # chain's it is built as
  assign("constructor_arguments", constructor_arguments(), envir = bijector)
  class(bijector) <- c("tfb_fill_scale_tri_l", class(bijector))
  bijector
}

# A shift that is a constant of the map, not a parameter to train (TFP's
# diag_shift is a tensor, not a variable).
fixed_shift <- function(shift) {
  new_elementwise_bijector(
    "tfb_shift", "shift", parameters = list(shift = shift),
    constraints = c(shift = "real"), trainable = c(shift = FALSE),
    name = "shift")
}

# TFP's default diagonal bijector, softplus. Until the package has
# tfb_softplus() (an elementwise kind), a softplus written here in R stands
# in for it; once tfb_softplus() exists it is used instead.
default_diag_bijector <- function() {
  namespace <- environment(default_diag_bijector)
  if (exists("tfb_softplus", envir = namespace, mode = "function",
             inherits = FALSE)) {
    return(get("tfb_softplus", envir = namespace)())
  }
  new_bijector("bijectors_softplus", name = "softplus",
               forward_min_event_ndims = 0L)
}

#' @export
object_field_names.tfb_fill_scale_tri_l <- function(x) {
  c(NextMethod(), "diag_shift")
}

# Deep copies rebuild the chain from copied members and keep the kind.
#' @export
bijector_with_children.tfb_fill_scale_tri_l <- function(bijector, children) {
  copy <- NextMethod()
  assign("diag_shift", .subset2(bijector, "diag_shift"), envir = copy)
  class(copy) <- class(bijector)
  copy
}

#' @export
format.tfb_fill_scale_tri_l <- function(x, ...) {
  shift <- .subset2(x, "diag_shift")
  c(NextMethod(), sprintf("  diag_shift: %s",
                          if (is.null(shift)) "NULL" else format_values(shift)))
}

# ---- the stand-in softplus ------------------------------------------------

# y = log(1 + exp(x)) in TFP's stable forms: forward log1p(exp(-|x|)) +
# max(x, 0); inverse y + log(-expm1(-y)); fldj log(sigmoid(x)) =
# -softplus(-x); ildj -log(-expm1(-y)). Log-dets are summed over the last
# event_ndims axes.

softplus_value <- function(x) {
  log1p(exp(-abs(x))) + pmax(x, 0)
}

softplus_sum_events <- function(values, event_ndims) {
  dims <- input_dims(values)
  rank <- length(dims)
  if (event_ndims == 0L) {
    return(values)
  }
  lead <- dims[seq_len(rank - event_ndims)]
  summed <- rowSums(matrix(as.vector(values), nrow = prod(as.double(lead))))
  if (length(lead) >= 2L) array(summed, lead) else summed
}

#' @export
bijector_forward.bijectors_softplus <- function(bijector, x) {
  x <- as_input_array(x, "x")
  x[] <- softplus_value(x)
  x
}

#' @export
bijector_inverse.bijectors_softplus <- function(bijector, y) {
  y <- as_input_array(y, "y")
  y[] <- y + log(-expm1(-y))
  y
}

#' @export
bijector_forward_log_det_jacobian.bijectors_softplus <- function(
    bijector, x, event_ndims) {
  x <- as_input_array(x, "x")
  softplus_sum_events(-softplus_value(-x), event_ndims)
}

#' @export
bijector_inverse_log_det_jacobian.bijectors_softplus <- function(
    bijector, y, event_ndims) {
  y <- as_input_array(y, "y")
  softplus_sum_events(-log(-expm1(-y)), event_ndims)
}

# Backward: dy/dx = sigmoid(x), d fldj/dx = sigmoid(-x); in the inverse
# direction dx/dy = 1 / (1 - exp(-y)), d ildj/dy = -1 / expm1(y).
#' @export
bijector_forward_with_cache.bijectors_softplus <- function(bijector, x,
                                                           event_ndims) {
  x <- as_input_array(x, "x")
  list(y = bijector_forward(bijector, x),
       log_det = bijector_forward_log_det_jacobian(bijector, x, event_ndims),
       cache = x)
}

#' @export
bijector_forward_backward.bijectors_softplus <- function(bijector, cache,
                                                         grad_y,
                                                         grad_log_det) {
  x <- cache
  grad <- grad_y * stats::plogis(x) +
    rep_len(as.vector(grad_log_det), length(x)) * stats::plogis(-x)
  list(input = grad, parameters = list())
}

#' @export
bijector_inverse_with_cache.bijectors_softplus <- function(bijector, y,
                                                           event_ndims) {
  y <- as_input_array(y, "y")
  list(x = bijector_inverse(bijector, y),
       log_det = bijector_inverse_log_det_jacobian(bijector, y, event_ndims),
       cache = y)
}

#' @export
bijector_inverse_backward.bijectors_softplus <- function(bijector, cache,
                                                         grad_x,
                                                         grad_log_det) {
  y <- cache
  grad <- grad_x / -expm1(-y) -
    rep_len(as.vector(grad_log_det), length(y)) / expm1(y)
  list(input = grad, parameters = list())
}
