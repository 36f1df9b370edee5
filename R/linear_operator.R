# The linear bijectors: y = A x on the last axis, for a k x k operator A in
# one of three plain-R forms (DESIGN 10), and tfb_scale_matvec_linear_operator()
# itself. tfb_scale_matvec_diag(), _tri_l() and _lu() and the deprecated
# affine kinds are built on the base here (class "tfb_linear"); products and
# solves are in src/linear_operator.c.
#
# Every operator is held in a trainable parameterisation whose diagonal can
# never reach zero: the sign of each diagonal entry is fixed and its log
# absolute value is trained ("log_abs_diagonal"), so that
# log|det A| = sum(log_abs_diagonal) for all three forms:
#   diagonal  A = diag(sign * exp(log_abs_diagonal))
#   lower     A = off_diagonal (strictly lower) + that diagonal
#   lu        TFP's lower_upper = off_diagonal (strictly lower: unit-lower L;
#             strictly upper: U) + that diagonal (U's), with a fixed
#             1-based permutation, A[permutation, ] = L U.

linear_kind_codes <- c(diagonal = 0L, lower = 1L, lu = 2L)

# `operator`: "diagonal", "lower" or "lu". `values`: the diagonal vector or
# the k x k matrix (lower: read on and below the diagonal; lu: TFP's
# lower_upper), with a non-zero diagonal (checked by the callers).
# `public`: the kind's field names beyond the base's; `form` says how
# tfb_scale_matvec_linear_operator() shows `scale`.
new_linear_bijector <- function(kind, name, validate_args, operator, values,
                                permutation = NULL, adjoint = FALSE,
                                public = character(), form = NULL) {
  diagonal <- if (operator == "diagonal") values else diag(values)
  size <- length(diagonal)
  parameters <- list(log_abs_diagonal = log(abs(diagonal)))
  if (operator != "diagonal") {
    off_diagonal <- values
    if (operator == "lower") {
      off_diagonal[upper.tri(off_diagonal)] <- 0
    }
    diag(off_diagonal) <- 0
    dimnames(off_diagonal) <- NULL
    parameters <- c(list(off_diagonal = off_diagonal), parameters)
  }
  bijector <- new_bijector(
    kind,
    name = check_string(name, "name"),
    forward_min_event_ndims = 1L,
    validate_args = check_flag(validate_args, "validate_args"),
    operator = operator,
    size = size,
    parameters = unname(lapply(parameters, as.double_keep_dim)),
    diagonal_sign = sign(as.double(diagonal)),
    diagonal_given = as.double(diagonal),
    permutation = permutation,
    adjoint = check_flag(adjoint, "adjoint"),
    public = public,
    form = form
  )
  class(bijector) <- c(kind, "tfb_linear", "bijector")
  bijector
}

as.double_keep_dim <- function(x) {
  dims <- dim(x)
  x <- as.double(x)
  dim(x) <- dims
  x
}

# The operator's current values, as C takes them: the diagonal vector, or
# the k x k matrix with the diagonal put back. Until training moves it, the
# diagonal is the one given, not exp(log|d|), which may be 1 ulp away
# (exp(log(3)) is 3 + 4e-16), so an untrained operator computes exactly
# what TFP does.
linear_values <- function(bijector) {
  parameters <- .subset2(bijector, "parameters")
  log_abs <- parameters[[length(parameters)]]
  given <- .subset2(bijector, "diagonal_given")
  diagonal <- if (!is.null(given) && identical(log_abs, log(abs(given)))) {
    given
  } else {
    .subset2(bijector, "diagonal_sign") * exp(log_abs)
  }
  if (.subset2(bijector, "operator") == "diagonal") {
    return(diagonal)
  }
  values <- parameters[[1L]] + 0
  diag(values) <- diagonal
  values
}

linear_log_abs_det <- function(bijector) {
  parameters <- .subset2(bijector, "parameters")
  sum(parameters[[length(parameters)]])
}

# A 1-based permutation as C takes it (integer; unused but for LU).
linear_permutation <- function(bijector) {
  .subset2(bijector, "permutation") %||% integer()
}

# y = A x (or A^T x with `transpose`), or the solve, on the last axis of an
# input already checked by linear_input(); keeps its dim and dimnames.
linear_apply <- function(bijector, x, transpose, solve,
                         values = linear_values(bijector)) {
  .Call(C_linear_apply,
        linear_kind_codes[[.subset2(bijector, "operator")]], values,
        linear_permutation(bijector), x,
        c(as.integer(transpose), as.integer(solve)))
}

# The input as a double array whose last axis has the operator's size.
linear_input <- function(bijector, x, arg) {
  x <- as_input_array(x, arg)
  dims <- input_dims(x)
  size <- .subset2(bijector, "size")
  if (dims[[length(dims)]] != size) {
    abort_bijectors("event_size", sprintf(paste(
      "`%s` has %s values along its last axis, but the operator of",
      "<%s> \"%s\" is %d x %d."), arg, format(dims[[length(dims)]]),
      class(bijector)[[1L]], .subset2(bijector, "name"), size, size))
  }
  x
}

# TFP's log-det of a constant-Jacobian bijector: one number, counted once
# per element of the event axes beyond the last.
linear_log_det_multiplier <- function(x, event_ndims, arg) {
  dims <- input_dims(x)
  event_ndims <- check_event_ndims(event_ndims, 1L, length(dims), arg)
  log_det_multiplier(dims, event_ndims, 1L)
}

#' @export
bijector_forward.tfb_linear <- function(bijector, x) {
  x <- linear_input(bijector, x, "x")
  linear_apply(bijector, x, .subset2(bijector, "adjoint"), FALSE)
}

#' @export
bijector_inverse.tfb_linear <- function(bijector, y) {
  y <- linear_input(bijector, y, "y")
  linear_apply(bijector, y, .subset2(bijector, "adjoint"), TRUE)
}

#' @export
bijector_forward_log_det_jacobian.tfb_linear <- function(bijector, x,
                                                         event_ndims) {
  x <- linear_input(bijector, x, "x")
  linear_log_abs_det(bijector) *
    linear_log_det_multiplier(x, event_ndims, "x")
}

#' @export
bijector_inverse_log_det_jacobian.tfb_linear <- function(bijector, y,
                                                         event_ndims) {
  y <- linear_input(bijector, y, "y")
  -linear_log_abs_det(bijector) *
    linear_log_det_multiplier(y, event_ndims, "y")
}

#' @export
bijector_event_constraints.tfb_linear <- function(bijector) {
  event_constraint(bijector, -1L, .subset2(bijector, "size"),
                   "the scale operator")
}

# ---- training --------------------------------------------------------------

# Both directions cache the point x and the log-det's multiplier. The
# backward passes form the loss's gradient with respect to the dense
# operator A (an N x k by N x k product in C) and carry it to the
# parameterisation in R (k x k work).

#' @export
bijector_forward_with_cache.tfb_linear <- function(bijector, x, event_ndims) {
  x <- linear_input(bijector, x, "x")
  multiplier <- linear_log_det_multiplier(x, event_ndims, "x")
  values <- linear_values(bijector)
  list(y = linear_apply(bijector, x, .subset2(bijector, "adjoint"), FALSE,
                        values),
       log_det = linear_log_abs_det(bijector) * multiplier,
       cache = list(x = x, multiplier = multiplier, values = values))
}

#' @export
bijector_inverse_with_cache.tfb_linear <- function(bijector, y, event_ndims) {
  y <- linear_input(bijector, y, "y")
  multiplier <- linear_log_det_multiplier(y, event_ndims, "y")
  values <- linear_values(bijector)
  x <- linear_apply(bijector, y, .subset2(bijector, "adjoint"), TRUE, values)
  list(x = x, log_det = -linear_log_abs_det(bijector) * multiplier,
       cache = list(x = x, multiplier = multiplier, values = values))
}

# y = A x (or A^T x): the input's gradient is A^T g (or A g) and the
# operator's sum_n g_n x_n^T (or its transpose).
#' @export
bijector_forward_backward.tfb_linear <- function(bijector, cache, grad_y,
                                                 grad_log_det) {
  adjoint <- .subset2(bijector, "adjoint")
  grad_y <- as_gradient(grad_y)
  input <- linear_apply(bijector, grad_y, !adjoint, FALSE, cache$values)
  size <- .subset2(bijector, "size")
  dense <- if (adjoint) .Call(C_linear_outer, cache$x, grad_y, size) else
    .Call(C_linear_outer, grad_y, cache$x, size)
  list(input = shaped_like(input, cache$x),
       parameters = linear_parameter_gradients(
         bijector, cache$values, dense,
         sum(grad_log_det) * cache$multiplier))
}

# x = A^-1 y (or A^-T y): the input's gradient is g_y = A^-T h (or A^-1 h)
# and the operator's -sum_n g_y,n x_n^T (or its transpose).
#' @export
bijector_inverse_backward.tfb_linear <- function(bijector, cache, grad_x,
                                                 grad_log_det) {
  adjoint <- .subset2(bijector, "adjoint")
  grad_x <- as_gradient(grad_x)
  input <- linear_apply(bijector, grad_x, !adjoint, TRUE, cache$values)
  size <- .subset2(bijector, "size")
  dense <- if (adjoint) .Call(C_linear_outer, cache$x, input, size) else
    .Call(C_linear_outer, input, cache$x, size)
  list(input = shaped_like(input, cache$x),
       parameters = linear_parameter_gradients(
         bijector, cache$values, -dense,
         -sum(grad_log_det) * cache$multiplier))
}

as_gradient <- function(gradient) {
  if (!is.double(gradient)) {
    storage.mode(gradient) <- "double"
  }
  gradient
}

shaped_like <- function(value, like) {
  attributes(value) <- attributes(like)
  value
}

# The gradient with respect to the dense operator `dense` (k x k) carried to
# the parameters, plus `log_det_weight` times the log-det's own gradient
# (1 for every entry of log_abs_diagonal). In slot order.
linear_parameter_gradients <- function(bijector, values, dense,
                                       log_det_weight) {
  operator <- .subset2(bijector, "operator")
  if (operator == "diagonal") {
    return(list(diag(dense) * values + log_det_weight))
  }
  size <- .subset2(bijector, "size")
  diagonal <- diag(values)
  if (operator == "lower") {
    off_diagonal <- dense
    off_diagonal[!lower.tri(off_diagonal)] <- 0
    return(list(off_diagonal, diag(dense) * diagonal + log_det_weight))
  }
  # A = P^T L U, that is, L U = A[permutation, ]
  product <- dense[.subset2(bijector, "permutation"), , drop = FALSE]
  lower <- values
  lower[upper.tri(lower, diag = TRUE)] <- 0
  diag(lower) <- 1
  upper <- values
  upper[lower.tri(upper)] <- 0
  grad_lower <- product %*% t(upper)
  grad_upper <- crossprod(lower, product)
  off_diagonal <- matrix(0, size, size)
  off_diagonal[lower.tri(off_diagonal)] <- grad_lower[lower.tri(grad_lower)]
  off_diagonal[upper.tri(off_diagonal)] <- grad_upper[upper.tri(grad_upper)]
  list(off_diagonal, diag(grad_upper) * diagonal + log_det_weight)
}

#' @export
bijector_parameter_slots.tfb_linear <- function(bijector) {
  operator <- .subset2(bijector, "operator")
  log_abs <- parameter_slot("log_abs_diagonal", bijector, "parameters",
                            if (operator == "diagonal") 1L else 2L,
                            constraint = "log_positive")
  if (operator == "diagonal") {
    return(list(log_abs))
  }
  size <- .subset2(bijector, "size")
  mask <- if (operator == "lower") lower.tri(diag(size)) else
    lower.tri(diag(size)) | upper.tri(diag(size))
  storage.mode(mask) <- "double"
  list(parameter_slot(if (operator == "lower") "scale_tril" else
                        "lower_upper",
                      bijector, "parameters", 1L, mask = mask),
       log_abs)
}

# ---- fields and printing -----------------------------------------------------

#' @export
object_field_names.tfb_linear <- function(x) {
  c(NextMethod(), .subset2(x, "public"))
}

# The kinds' public fields are the operator's current values (after
# training), in the form the constructor took.
#' @export
object_field.tfb_linear <- function(x, name) {
  switch(name,
    scale_diag = linear_values(x),
    scale_tril = linear_values(x),
    lower_upper = linear_values(x),
    scale = linear_scale_form(x),
    NextMethod()
  )
}

linear_scale_form <- function(x) {
  values <- linear_values(x)
  switch(.subset2(x, "form") %||% "",
    lu = list(lower_upper = values,
              permutation = .subset2(x, "permutation")),
    matrix = {
      if (.subset2(x, "operator") == "lu") {
        full <- linear_lu_reconstruct(values, .subset2(x, "permutation"))
        full
      } else {
        values
      }
    },
    values
  )
}

linear_lu_reconstruct <- function(lower_upper, permutation) {
  lower <- lower_upper
  lower[upper.tri(lower, diag = TRUE)] <- 0
  diag(lower) <- 1
  upper <- lower_upper
  upper[lower.tri(upper)] <- 0
  full <- matrix(0, nrow(lower_upper), ncol(lower_upper))
  full[permutation, ] <- lower %*% upper
  full
}

#' @export
format.tfb_linear <- function(x, ...) {
  description <- switch(.subset2(x, "operator"),
    diagonal = "diagonal",
    lower = "lower triangular",
    lu = "LU factors"
  )
  size <- .subset2(x, "size")
  lines <- sprintf("  operator: %s, %d x %d, log|det| = %s%s", description,
                   size, size, format(linear_log_abs_det(x), digits = 6L),
                   if (isTRUE(.subset2(x, "adjoint"))) ", adjoint" else "")
  if (.subset2(x, "operator") == "diagonal") {
    lines <- c(lines, paste0("  diagonal: ", format_values(linear_values(x))))
  }
  if (.subset2(x, "operator") == "lu") {
    lines <- c(lines, paste0("  permutation: ",
                             format_values(.subset2(x, "permutation"),
                                           max = 10L)))
  }
  c(NextMethod(), lines)
}

# ---- argument checks -------------------------------------------------------

# TFP's message for a singular diagonal or triangular operator.
singular_message <- "Singular operator:  Diagonal contained zero values."

check_linear_vector <- function(x, arg) {
  x <- list_parameter_as_array(x)
  ok <- is.numeric(x) && !is.object(x) && length(x) >= 1L &&
    length(dim(x)) <= 1L && !anyNA(x) && all(is.finite(x))
  if (!ok) {
    if (is.numeric(x) && length(dim(x)) >= 2L) {
      abort_bijectors("argument", sprintf(paste(
        "`%s` must be a vector (one operator); batches of operators are",
        "not supported, not an array of dims %s."), arg,
        format_shape(dim(x))))
    }
    abort_bijectors("argument", sprintf(
      "`%s` must be a non-empty vector of finite numbers, not %s.", arg,
      describe_value(x)))
  }
  x <- as.double(x)
  if (any(x == 0)) {
    abort_bijectors("singular", sprintf(
      "%s `%s` has a zero entry, so the operator is not invertible.",
      singular_message, arg))
  }
  x
}

check_square_matrix <- function(x, arg) {
  x <- list_parameter_as_array(x)
  ok <- is.numeric(x) && !is.object(x) && length(dim(x)) == 2L &&
    nrow(x) == ncol(x) && nrow(x) >= 1L && !anyNA(x) && all(is.finite(x))
  if (!ok) {
    if (is.numeric(x) && length(dim(x)) > 2L) {
      abort_bijectors("argument", sprintf(paste(
        "`%s` must be one square matrix; batches of operators are not",
        "supported, not an array of dims %s."), arg, format_shape(dim(x))))
    }
    abort_bijectors("argument", sprintf(
      "`%s` must be a square matrix of finite numbers, not %s.", arg,
      if (is.matrix(x)) sprintf("a %d x %d %s matrix", nrow(x), ncol(x),
                                typeof(x)) else describe_value(x)))
  }
  storage.mode(x) <- "double"
  x
}

check_nonzero_diagonal <- function(x, arg, message = singular_message) {
  if (any(diag(x) == 0)) {
    abort_bijectors("singular", sprintf(
      "%s The diagonal of `%s` has a zero entry, so the operator is not invertible.",
      message, arg))
  }
  x
}

# TFP's dtype: all arithmetic here is in double precision, so NULL or a
# floating-point dtype name is accepted and changes nothing.
check_dtype <- function(dtype, arg = "dtype") {
  if (is.null(dtype)) {
    return(NULL)
  }
  if (!is.character(dtype) || length(dtype) != 1L ||
      !(dtype %in% c("float64", "double", "float32", "float"))) {
    abort_bijectors("argument", sprintf(paste(
      "`%s` must be NULL or a floating-point dtype name (\"float64\";",
      "all arithmetic is in double precision), not %s."), arg,
      describe_value(dtype)))
  }
  dtype
}

# A 1-based permutation of 1..size.
check_linear_permutation <- function(permutation, size, arg = "permutation") {
  permutation <- check_permutation(permutation, arg)
  if (length(permutation) != size) {
    abort_bijectors("permutation", sprintf(paste(
      "`%s` has %d entries, but `lower_upper` is %d x %d."), arg,
      length(permutation), size, size))
  }
  permutation
}

# ---- tfb_scale_matvec_linear_operator ---------------------------------------

#' Linear operator bijector
#'
#' The bijector `y = A x` on the last axis, as tfprobability's
#' `tfb_scale_matvec_linear_operator()`, with the operator `A` given in
#' plain R instead of a TensorFlow `LinearOperator`:
#'
#' * a numeric vector `d`: the diagonal operator `diag(d)`;
#' * a lower-triangular matrix (zeros above the diagonal): a triangular
#'   operator, solved by substitution;
#' * any other square matrix: a full operator, held as its LU factorisation
#'   with partial pivoting (computed once, here);
#' * `list(lower_upper = , permutation = )`: LU factors as
#'   [tfb_scale_matvec_lu()] takes them (1-based permutation,
#'   `A[permutation, ] == L %*% U`).
#'
#' The inverse is `x = A^-1 y`; with `adjoint = TRUE` the map is
#' `y = t(A) x`. The forward log-determinant is `log|det A|`, one number for
#' every event; it is multiplied by the number of elements of event axes
#' beyond the last (TFP's rule for constant Jacobians). Minimum event ndims
#' are 1: the input's last axis has `k` values for a `k x k` operator.
#' Batches of operators are not supported.
#'
#' A singular operator (a zero on the diagonal of a diagonal or triangular
#' one, a zero pivot of a full one) is refused whatever `validate_args`,
#' with an error of class `bijectors_error_singular`.
#'
#' **Training.** The operator is trained in a parameterisation whose
#' diagonal never reaches zero: `log_abs_diagonal` (the log absolute values
#' of the diagonal of `A`, or of `U` for the LU forms; each sign stays
#' fixed) and, for triangular and LU forms, the off-diagonal entries
#' `scale_tril` (strictly below the diagonal) or `lower_upper` (off the
#' diagonal). A full matrix is trained through its LU factors.
#'
#' @param scale The operator: a numeric vector, a square matrix, or a list
#'   with `lower_upper` (a square matrix) and `permutation` (1-based).
#' @param adjoint `TRUE` to apply `t(A)` instead of `A`.
#' @param validate_args `TRUE` or `FALSE`; accepted for compatibility (the
#'   operator is always checked).
#' @param name A string: the bijector's name.
#' @return A bijector of class
#'   `c("tfb_scale_matvec_linear_operator", "tfb_linear", "bijector")` with
#'   the fields `$scale` (the current operator, in the form given; a full
#'   matrix is rebuilt from its factors) and `$adjoint`.
#' @family linear bijectors
#' @seealso `tfprobability::tfb_scale_matvec_linear_operator()`;
#'   [tfb_scale_matvec_diag()], [tfb_scale_matvec_tri_l()],
#'   [tfb_scale_matvec_lu()].
#' @examples
#' x <- c(1, 2, 3)
#' tfb_scale_matvec_linear_operator(c(1, 2, 3))$forward(x)     # 1 4 9
#' tril <- matrix(c(1, 2, 3, 0, 1, 2, 0, 0, 1), 3)
#' tfb_scale_matvec_linear_operator(tril)$forward(x)           # 1 4 10
#' a <- matrix(c(12, -1, 5, 3), 2)
#' b <- tfb_scale_matvec_linear_operator(a)
#' b$inverse(b$forward(c(1, 2)))
#' b$forward_log_det_jacobian(c(1, 2), event_ndims = 1)      # log(41)
#' @export
tfb_scale_matvec_linear_operator <- function(scale, adjoint = FALSE,
                                             validate_args = FALSE,
                                             name = "scale_matvec_linear_operator") {
  operator <- linear_operator_from(scale, "scale")
  new_linear_bijector(
    "tfb_scale_matvec_linear_operator", name = name,
    validate_args = validate_args, operator = operator$operator,
    values = operator$values, permutation = operator$permutation,
    adjoint = adjoint, public = c("scale", "adjoint"), form = operator$form
  )
}

# A plain-R operator: list(operator = , values = , permutation = ,
# form = ).
linear_operator_from <- function(scale, arg) {
  # an unnamed list of rows is a matrix, as tfprobability's
  # LinearOperatorLowerTriangular(list(c(1, 0), c(2, 1))); LU factors are
  # a named list
  scale <- list_parameter_as_array(scale)
  if (is.list(scale) && !is.object(scale)) {
    if (!setequal(names(scale) %||% "", c("lower_upper", "permutation")) ||
        length(scale) != 2L) {
      abort_bijectors("argument", sprintf(paste(
        "A list `%s` must have exactly the elements `lower_upper` and",
        "`permutation` (LU factors), not %s."), arg,
        if (is.null(names(scale))) "unnamed elements" else
          paste0("`", names(scale), "`", collapse = ", ")))
    }
    lower_upper <- check_square_matrix(scale$lower_upper,
                                       paste0(arg, "$lower_upper"))
    check_nonzero_diagonal(lower_upper, paste0(arg, "$lower_upper"))
    permutation <- check_linear_permutation(
      scale$permutation, nrow(lower_upper), paste0(arg, "$permutation"))
    return(list(operator = "lu", values = lower_upper,
                permutation = permutation, form = "lu"))
  }
  if (is.numeric(scale) && !is.object(scale) && length(dim(scale)) == 2L) {
    scale <- check_square_matrix(scale, arg)
    if (all(scale[upper.tri(scale)] == 0)) {
      check_nonzero_diagonal(scale, arg)
      return(list(operator = "lower", values = scale, form = "matrix"))
    }
    factors <- .Call(C_linear_lu_factor, scale)
    if (is.null(factors)) {
      abort_bijectors("singular", sprintf(
        "Scale matrix must be non-singular: `%s` is singular.", arg))
    }
    return(list(operator = "lu", values = factors[[1L]],
                permutation = factors[[2L]], form = "matrix"))
  }
  if (is.numeric(scale) && !is.object(scale) && length(dim(scale)) <= 1L) {
    return(list(operator = "diagonal",
                values = check_linear_vector(scale, arg), form = "vector"))
  }
  abort_bijectors("argument", sprintf(paste(
    "`%s` must be a linear operator in plain R: a numeric vector (a",
    "diagonal), a square matrix, or list(lower_upper = , permutation = ),",
    "not %s."), arg, describe_value(scale)))
}
