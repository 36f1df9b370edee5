# Elementwise (scalar) bijectors as data (DESIGN section 8): a kind is a C
# kernel of src/elementwise.c's table (its scalar map, log-det and four
# local derivatives in src/<stem>.c) plus a constructor that calls
# new_elementwise_bijector() with the kernel's name, its parameters and
# their constraints. Everything else (coercion and checks, the event_ndims
# rule and the reduction, both backward passes, parameter slots, fields,
# printing) is done here once, by methods on the class "tfb_elementwise".
#
# Parameters broadcast along the last axis of the input: each is a number or
# one value per index of the last axis. They live, as every trainable array
# of the package does, as elements of the list field `parameters` of the
# bijector's environment (in the kernel's order), where C's optimizer finds
# them by (owner, field, index); they are handed out only as copies.

# `kind`: the class, such as "tfb_exp". `kernel`: the kernel's name in
# src/elementwise.c. `parameters`: a named list of checked double vectors,
# in the kernel's order. `constraints`: a named character vector, one code
# of constraint_codes (R/training.R) per parameter. `trainable`: a named
# logical vector (default all TRUE); fixed parameters get no slot.
# `public`: the parameter names a user sees as fields (`$low`) and in
# `$parameters`, in the constructor's order; a name not in `parameters` is
# shown as NULL (a parameter not given).
new_elementwise_bijector <- function(kind, kernel, parameters = list(),
                                     constraints = character(),
                                     trainable = NULL, public = NULL,
                                     validate_args = FALSE, name) {
  parameter_names <- names(parameters) %||% character()
  if (is.null(trainable)) {
    trainable <- rep(TRUE, length(parameters))
    names(trainable) <- parameter_names
  }
  bijector <- new_bijector(
    kind,
    name = check_string(name, "name"),
    forward_min_event_ndims = 0L,
    validate_args = check_flag(validate_args, "validate_args"),
    kernel = kernel,
    parameter_names = parameter_names,
    public_parameters = public %||% parameter_names,
    constraints = constraints[parameter_names],
    trainable = trainable[parameter_names],
    parameters = unname(parameters)
  )
  class(bijector) <- c(kind, "tfb_elementwise", "bijector")
  bijector
}

# ---- helpers shared with other files ---------------------------------------

# A number, or a plain vector to be broadcast along the last axis, in the
# domain `constraint` (a name of constraint_codes, R/training.R). A zero
# scale is its own error class, as before.
check_elementwise_parameter <- function(x, arg, nonzero = FALSE,
                                        constraint = "real") {
  x <- list_parameter_as_array(x)
  ok <- is.numeric(x) && !is.object(x) && length(x) >= 1L &&
    length(dim(x)) <= 1L && !anyNA(x) && all(is.finite(x))
  if (!ok) {
    abort_bijectors("argument", sprintf(paste(
      "`%s` must be a finite number or a vector of finite numbers (one per",
      "feature along the last axis), not %s."), arg, describe_value(x)))
  }
  x <- as.double(x)
  if (nonzero && any(x == 0)) {
    abort_bijectors("scale", sprintf(
      "`%s` must be non-zero: a zero scale is not invertible.", arg))
  }
  if (!satisfies_constraint(x, constraint)) {
    abort_bijectors("argument", sprintf("`%s` must be %s, not %s.", arg,
                                        constraint_description[[constraint]],
                                        describe_value(x)))
  }
  x
}

# A vector parameter must match the input's last dimension; a number fits
# any input. Input shapes never change, so there is no broadcasting of x.
check_parameter_fits <- function(parameter, dims, parameter_arg, input_arg) {
  size <- length(parameter)
  if (size > 1L && dims[[length(dims)]] != size) {
    abort_bijectors("event_size", sprintf(paste(
      "`%s` has %s features along its last axis, but the bijector's `%s`",
      "has %d values."), input_arg, format(dims[[length(dims)]]),
      parameter_arg, size))
  }
  invisible()
}

# The first trainable array of an elementwise bijector (shift's shift,
# scale's scale or log_scale): element 1 of the list field "parameters" of
# its environment. Read it only into temporaries; hand out copies.
elementwise_parameter <- function(bijector) {
  .subset2(.subset2(bijector, "parameters"), 1L)
}

elementwise_parameter_copy <- function(bijector) {
  .Call(C_copy_double, .subset2(.subset2(bijector, "parameters"), 1L))
}

elementwise_parameter_slots <- function(bijector, name,
                                        constraint = "real") {
  list(parameter_slot(name, bijector, "parameters", 1L,
                      constraint = constraint))
}

# The sum of `values` (an array of an input's shape, dims `dims`) over every
# axis but the last, as the gradient of a parameter broadcast along the last
# axis is; over everything for a single-number parameter.
sum_to_parameter <- function(values, size, dims) {
  if (size == 1L) {
    return(sum(values))
  }
  rank <- length(dims)
  .colSums(values, prod(dims[-rank]), dims[[rank]])
}

# The parameter repeated to the input's length in column-major order, so that
# R's elementwise arithmetic applies value j to the j-th slice of the last
# axis.
along_last_axis <- function(parameter, dims) {
  if (length(parameter) == 1L) {
    return(parameter)
  }
  rank <- length(dims)
  rep(parameter, each = prod(dims[-rank]))
}

# Values of a parameter for print(): all of them when there are few.
format_values <- function(x, max = 6L) {
  shown <- vapply(x[seq_len(min(length(x), max))], format, character(1),
                  digits = 4L)
  text <- paste(shown, collapse = ", ")
  if (length(x) > max) {
    text <- paste0(text, ", ... (", length(x), " values)")
  }
  if (length(x) > 1L) paste0("c(", text, ")") else text
}

# ---- the passes ------------------------------------------------------------

# The input as a double array whose last axis fits every vector parameter.
# Kinds with a domain check it when validate_args is TRUE.
elementwise_input <- function(bijector, x, arg, direction) {
  x <- as_input_array(x, arg)
  parameters <- .subset2(bijector, "parameters")
  for (k in seq_along(parameters)) {
    if (length(parameters[[k]]) > 1L) {
      check_parameter_fits(parameters[[k]], input_dims(x),
                           .subset2(bijector, "parameter_names")[[k]], arg)
    }
  }
  if (.subset2(bijector, "validate_args")) {
    elementwise_check_domain(bijector, x, direction, arg)
  }
  x
}

# Checks of the input's domain under validate_args = TRUE (TFP's input
# assertions), by kind: `direction` is "forward" or "inverse".
elementwise_check_domain <- function(bijector, x, direction, arg) {
  UseMethod("elementwise_check_domain")
}

#' @export
elementwise_check_domain.default <- function(bijector, x, direction, arg) {
  invisible()
}

# Operation codes of C_elementwise_map().
elementwise_operations <- c(forward = 0L, inverse = 1L, forward_log_det = 2L,
                            inverse_log_det = 3L)

elementwise_map <- function(bijector, x, operation, event_ndims = 0L) {
  .Call(C_elementwise_map, .subset2(bijector, "kernel"), operation, x,
        .subset2(bijector, "parameters"), event_ndims)
}

elementwise_log_det <- function(bijector, x, event_ndims, arg, direction) {
  x <- elementwise_input(bijector, x, arg, direction)
  event_ndims <- check_event_ndims(event_ndims, 0L, length(input_dims(x)),
                                   arg)
  elementwise_map(bijector, x, if (direction == "forward") 2L else 3L,
                  event_ndims)
}

#' @export
bijector_forward.tfb_elementwise <- function(bijector, x) {
  elementwise_map(bijector, elementwise_input(bijector, x, "x", "forward"),
                  0L)
}

#' @export
bijector_inverse.tfb_elementwise <- function(bijector, y) {
  elementwise_map(bijector, elementwise_input(bijector, y, "y", "inverse"),
                  1L)
}

#' @export
bijector_forward_log_det_jacobian.tfb_elementwise <- function(bijector, x,
                                                              event_ndims) {
  elementwise_log_det(bijector, x, event_ndims, "x", "forward")
}

#' @export
bijector_inverse_log_det_jacobian.tfb_elementwise <- function(bijector, y,
                                                              event_ndims) {
  elementwise_log_det(bijector, y, event_ndims, "y", "inverse")
}

#' @export
bijector_inverse_and_log_det.tfb_elementwise <- function(bijector, y,
                                                         event_ndims) {
  y <- elementwise_input(bijector, y, "y", "inverse")
  event_ndims <- check_event_ndims(event_ndims, 0L, length(input_dims(y)),
                                   "y")
  list(x = elementwise_map(bijector, y, 1L),
       log_det = elementwise_map(bijector, y, 3L, event_ndims))
}

# ---- training --------------------------------------------------------------

# Both directions cache the point x (the forward pass's input, the inverse
# pass's output: shared, not copied) and the reduction; the backward pass in
# C rebuilds everything else from the kernel's local derivatives.
#' @export
bijector_forward_with_cache.tfb_elementwise <- function(bijector, x,
                                                        event_ndims) {
  x <- elementwise_input(bijector, x, "x", "forward")
  event_ndims <- check_event_ndims(event_ndims, 0L, length(input_dims(x)),
                                   "x")
  list(y = elementwise_map(bijector, x, 0L),
       log_det = elementwise_map(bijector, x, 2L, event_ndims),
       cache = list(x = x, event_ndims = event_ndims))
}

#' @export
bijector_inverse_with_cache.tfb_elementwise <- function(bijector, y,
                                                        event_ndims) {
  y <- elementwise_input(bijector, y, "y", "inverse")
  event_ndims <- check_event_ndims(event_ndims, 0L, length(input_dims(y)),
                                   "y")
  x <- elementwise_map(bijector, y, 1L)
  list(x = x, log_det = elementwise_map(bijector, y, 3L, event_ndims),
       cache = list(x = x, event_ndims = event_ndims))
}

# Gradients of every parameter, fixed ones included (tests read them).
# The input's gradient keeps grad_output's attributes.
elementwise_backward <- function(bijector, cache, grad_output, grad_log_det,
                                 direction) {
  if (!is.double(grad_output)) {
    storage.mode(grad_output) <- "double"
  }
  if (!is.double(grad_log_det)) {
    storage.mode(grad_log_det) <- "double"
  }
  .Call(C_elementwise_backward, .subset2(bijector, "kernel"), direction,
        cache$x, .subset2(bijector, "parameters"), cache$event_ndims,
        grad_output, grad_log_det)
}

# The backward pass as the training generics want it: the input's gradient
# with the shape of the pass's input, and the trainable parameters only.
elementwise_trainable_backward <- function(bijector, cache, grad_output,
                                           grad_log_det, direction) {
  backward <- elementwise_backward(bijector, cache, grad_output,
                                   grad_log_det, direction)
  list(input = backward$input,
       parameters = backward$parameters[.subset2(bijector, "trainable")])
}

#' @export
bijector_forward_backward.tfb_elementwise <- function(bijector, cache, grad_y,
                                                      grad_log_det) {
  elementwise_trainable_backward(bijector, cache, grad_y, grad_log_det, 0L)
}

#' @export
bijector_inverse_backward.tfb_elementwise <- function(bijector, cache, grad_x,
                                                      grad_log_det) {
  elementwise_trainable_backward(bijector, cache, grad_x, grad_log_det, 1L)
}

#' @export
bijector_parameter_slots.tfb_elementwise <- function(bijector) {
  names <- .subset2(bijector, "parameter_names")
  constraints <- .subset2(bijector, "constraints")
  trainable <- .subset2(bijector, "trainable")
  slots <- list()
  for (k in seq_along(names)) {
    if (trainable[[k]]) {
      slots[[length(slots) + 1L]] <- parameter_slot(
        names[[k]], bijector, "parameters", k, constraint = constraints[[k]])
    }
  }
  slots
}

# A vector parameter fixes the size of the input's last axis.
#' @export
bijector_event_constraints.tfb_elementwise <- function(bijector) {
  parameters <- .subset2(bijector, "parameters")
  for (k in seq_along(parameters)) {
    if (length(parameters[[k]]) > 1L) {
      return(event_constraint(
        bijector, -1L, length(parameters[[k]]),
        sprintf("the %s vector", .subset2(bijector, "parameter_names")[[k]])))
    }
  }
  list()
}

# ---- fields and printing ---------------------------------------------------

# `b$<parameter>` is the trainable array (handed out as a copy, NULL for a
# parameter not given); `b$parameters` (object_parameters()) the
# constructor's arguments with these current values, as TFP's `parameters`.
#' @export
object_field_names.tfb_elementwise <- function(x) {
  c(NextMethod(), .subset2(x, "public_parameters"))
}

elementwise_public_value <- function(x, name) {
  k <- match(name, .subset2(x, "parameter_names"))
  if (is.na(k)) NULL else .subset2(.subset2(x, "parameters"), k)
}

#' @export
object_field.tfb_elementwise <- function(x, name) {
  public <- .subset2(x, "public_parameters")
  if (name %in% public) {
    return(elementwise_public_value(x, name))
  }
  NextMethod()
}

#' @export
format.tfb_elementwise <- function(x, ...) {
  names <- .subset2(x, "parameter_names")
  parameters <- .subset2(x, "parameters")
  c(NextMethod(), vapply(seq_along(names), function(k) {
    paste0("  ", names[[k]], ": ", format_values(parameters[[k]]))
  }, character(1)))
}
