# Chain: bijectors composed, applied last to first in the forward direction
# as TFP. Also the event-size constraints that let a chain and a transformed
# distribution refuse mismatched inputs before any member changes state.

#' Chain bijectors
#'
#' Composes bijectors, as tfprobability's `tfb_chain()`. The list is in
#' reverse order of application, as in TFP:
#' `tfb_chain(list(a, b))$forward(x)` is `a$forward(b$forward(x))`, and the
#' inverse applies `a`'s inverse first. The log-determinants add up, each
#' member's taken at its own intermediate point with the same `event_ndims`
#' (all bijectors of this package keep the shape of their input).
#'
#' The chain's minimum event ndims are the largest of its members'. An empty
#' chain is the identity.
#'
#' A transformed distribution's `log_prob()` asks the chain for the inverse
#' and its log-determinant together: one inverse pass through the members,
#' so a batch-normalization member in training mode updates its running
#' statistics once per call. `$inverse_log_det_jacobian()` also has to run
#' the inverse of every member but the last one in the list (to reach their
#' intermediate points), so it updates the running statistics of
#' training-mode batch-normalization members among them, as would
#' `$inverse()`.
#'
#' Before any member runs, the input is checked against the event sizes
#' that the members already know (a built batch-normalization layer's
#' feature count, a permutation's length, the length of a shift or scale
#' vector), so a mismatch changes nothing.
#'
#' @param bijectors A list of bijectors (a single bijector is taken as a list
#'   of one), or `NULL` for an empty chain.
#' @param validate_args `TRUE` or `FALSE`; accepted for compatibility.
#' @param validate_event_size `TRUE` to check when the chain is made that the
#'   event sizes the members know agree with each other (an error of class
#'   `bijectors_error_event_size` if not); `FALSE` to skip that check.
#'   Inputs are checked against the members either way.
#' @param parameters `NULL` or a list; accepted for compatibility with
#'   tfprobability and unused.
#' @param name A string, or `NULL` for TFP's default: `"chain_of_"` followed
#'   by the members' names joined by `"_of_"` (`"identity"` for no members).
#' @section Reference semantics:
#' The chain, with its members, is a reference object (an environment), as keras models are:
#' `copy <- x` makes a second name for the same object, and training or
#' assigning parameters through one name changes what the other shows. Use
#' [deep_copy()] for an independent copy. Fields read with `$` are copies.
#' @return A bijector of class `c("tfb_chain", "bijector")` with the methods
#'   `$forward(x)`, `$inverse(y)`, `$forward_log_det_jacobian(x, event_ndims)`
#'   and `$inverse_log_det_jacobian(y, event_ndims)` and the field
#'   `$bijectors` (the list, in the order given).
#' @family bijectors
#' @seealso `tfprobability::tfb_chain()`; [tfd_transformed_distribution()].
#' @examples
#' # y = 2 * x + 1: the scale applies first
#' b <- tfb_chain(list(tfb_shift(1), tfb_scale(2)))
#' b$forward(c(0, 1, 2))
#' b$inverse(c(1, 3, 5))
#' b$forward_log_det_jacobian(c(0, 1, 2), event_ndims = 1)  # 3 * log(2)
#' b$bijectors
#' b
#' @export
tfb_chain <- function(bijectors = NULL, validate_args = FALSE,
                      validate_event_size = TRUE, parameters = NULL,
                      name = NULL) {
  if (inherits(bijectors, "bijector")) {
    bijectors <- list(bijectors)
  }
  if (is.null(bijectors)) {
    bijectors <- list()
  }
  if (!is.list(bijectors) || is.object(bijectors)) {
    abort_bijectors("bijector", sprintf(
      "`bijectors` must be a list of bijectors or NULL, not %s.",
      describe_value(bijectors)))
  }
  for (k in seq_along(bijectors)) {
    check_bijector(bijectors[[k]], sprintf("bijectors[[%d]]", k))
    if (length(.subset2(bijectors[[k]], "forward_min_event_ndims")) != 1L ||
        length(.subset2(bijectors[[k]], "inverse_min_event_ndims")) != 1L) {
      abort_bijectors("bijector", sprintf(paste(
        "`bijectors[[%d]]` is a multipart bijector (such as tfb_split()),",
        "which tfb_chain() does not take; use tfb_blockwise() to apply",
        "bijectors to blocks of the last axis."), k))
    }
  }
  validate_args <- check_flag(validate_args, "validate_args")
  validate_event_size <- check_flag(validate_event_size,
                                    "validate_event_size")
  if (!is.null(parameters) && !is.list(parameters)) {
    abort_bijectors("argument", sprintf(
      "`parameters` must be NULL or a list, not %s.",
      describe_value(parameters)))
  }
  member_names <- vapply(bijectors, function(b) .subset2(b, "name"),
                         character(1))
  name <- check_string(name, "name", null_ok = TRUE) %||%
    if (length(bijectors) == 0L) "identity" else
      paste(c("chain", member_names), collapse = "_of_")
  if (validate_event_size) {
    for (segment in shape_keeping_segments(bijectors)) {
      check_constraints_agree(bijector_event_constraints_of(segment))
    }
  }
  min_event_ndims <- chain_min_event_ndims(bijectors)
  new_bijector(
    "tfb_chain",
    name = name,
    forward_min_event_ndims = min_event_ndims[["forward"]],
    inverse_min_event_ndims = min_event_ndims[["inverse"]],
    validate_args = validate_args,
    bijectors = unname(bijectors),
    validate_event_size = validate_event_size,
    parameters = parameters
  )
}

# Checks the input and event_ndims against the chain before any member runs.
# `inverse`: the direction of the pass (the inverse walks the list in
# order). With `min_field`, event_ndims is checked and each member's own
# event rank is worked out (`member_ndims`, by position).
chain_input <- function(bijector, x, arg, event_ndims = NULL,
                        min_field = NULL, inverse = arg == "y") {
  x <- as_input_array(x, arg)
  dims <- input_dims(x)
  member_ndims <- NULL
  if (!is.null(min_field)) {
    event_ndims <- check_event_ndims(event_ndims, .subset2(bijector, min_field),
                                     length(dims), arg)
    member_ndims <- chain_member_event_ndims(.subset2(bijector, "bijectors"),
                                             event_ndims, inverse)
  }
  check_chain_dims(bijector, dims, arg, inverse)
  list(x = x, event_ndims = event_ndims, member_ndims = member_ndims)
}

# The members' event constraints and shape checks against the dims each one
# will see, carried through the members' event shapes in the direction of
# the pass.
check_chain_dims <- function(bijector, dims, arg, inverse) {
  members <- .subset2(bijector, "bijectors")
  order <- if (inverse) seq_along(members) else rev(seq_along(members))
  for (k in order) {
    member <- members[[k]]
    check_event_constraints(member, dims, arg)
    # scalar maps keep every shape: nothing to carry through
    if (inherits(member, "tfb_elementwise")) {
      next
    }
    min_ndims <- .subset2(member, if (inverse) "inverse_min_event_ndims" else
      "forward_min_event_ndims")
    dims <- map_event_dims(member, dims, min_ndims, forward = !inverse)
  }
  invisible()
}

# The runs of members between those that change shapes: within one, axis
# sizes are comparable.
shape_keeping_segments <- function(bijectors) {
  segments <- list()
  current <- list()
  for (member in bijectors) {
    if (bijector_changes_shape(member)) {
      segments[[length(segments) + 1L]] <- current
      current <- list()
    } else {
      current[[length(current) + 1L]] <- member
    }
  }
  segments[[length(segments) + 1L]] <- current
  segments
}

#' @export
bijector_forward.tfb_chain <- function(bijector, x) {
  x <- chain_input(bijector, x, "x")$x
  for (member in rev(.subset2(bijector, "bijectors"))) {
    x <- bijector_forward(member, x)
  }
  x
}

#' @export
bijector_inverse.tfb_chain <- function(bijector, y) {
  y <- chain_input(bijector, y, "y")$x
  for (member in .subset2(bijector, "bijectors")) {
    y <- bijector_inverse(member, y)
  }
  y
}

#' @export
bijector_forward_log_det_jacobian.tfb_chain <- function(bijector, x,
                                                        event_ndims) {
  # One forward pass through the members, each giving its map and log-det
  # together. The outermost member's map is not needed; computing it anyway
  # keeps one walker, at the cost of that one map.
  bijector_forward_and_log_det(bijector, x, event_ndims)$log_det
}

#' @export
bijector_inverse_log_det_jacobian.tfb_chain <- function(bijector, y,
                                                        event_ndims) {
  input <- chain_input(bijector, y, "y", event_ndims,
                       "inverse_min_event_ndims")
  y <- input$x
  members <- .subset2(bijector, "bijectors")
  log_det <- 0
  for (k in seq_along(members)) {
    if (k < length(members)) {
      step <- bijector_inverse_and_log_det(members[[k]], y,
                                           input$member_ndims[[k]])
      y <- step$x
      log_det <- log_det + step$log_det
    } else {
      log_det <- log_det + bijector_inverse_log_det_jacobian(
        members[[k]], y, input$member_ndims[[k]])
    }
  }
  log_det
}

#' @export
bijector_forward_and_log_det.tfb_chain <- function(bijector, x, event_ndims) {
  input <- chain_input(bijector, x, "x", event_ndims,
                       "forward_min_event_ndims")
  x <- input$x
  members <- .subset2(bijector, "bijectors")
  log_det <- 0
  for (k in rev(seq_along(members))) {
    step <- bijector_forward_and_log_det(members[[k]], x,
                                         input$member_ndims[[k]])
    x <- step$y
    log_det <- log_det + step$log_det
  }
  list(y = x, log_det = log_det)
}

# One inverse pass through the members, each giving its inverse and log-det
# together (batch normalization in training mode updates once).
#' @export
bijector_inverse_and_log_det.tfb_chain <- function(bijector, y, event_ndims) {
  input <- chain_input(bijector, y, "y", event_ndims,
                       "inverse_min_event_ndims")
  y <- input$x
  log_det <- 0
  members <- .subset2(bijector, "bijectors")
  for (k in seq_along(members)) {
    step <- bijector_inverse_and_log_det(members[[k]], y,
                                         input$member_ndims[[k]])
    y <- step$x
    log_det <- log_det + step$log_det
  }
  list(x = y, log_det = log_det)
}

#' @export
format.tfb_chain <- function(x, ...) {
  members <- .subset2(x, "bijectors")
  if (length(members) == 0L) {
    return(c(NextMethod(), "  bijectors: none (the identity)"))
  }
  member_lines <- lapply(members, function(member) {
    paste0("    ", format(member, ...))
  })
  c(NextMethod(),
    sprintf("  bijectors (%d, the forward map applies the last first):",
            length(members)),
    unlist(member_lines, use.names = FALSE))
}

# Training -----------------------------------------------------------------

# Members' parameters, prefixed by position and name, in list order.
#' @export
bijector_parameter_slots.tfb_chain <- function(bijector) {
  prefixed_slots(.subset2(bijector, "bijectors"))
}

# The gradient of a sum of log-dets with respect to one member's log-det:
# the upstream gradient itself when that log-det has one value per event,
# and its sum when it was a single number broadcast over the events.
member_grad_log_det <- function(grad_log_det, single) {
  if (single) sum(grad_log_det) else grad_log_det
}

# Gradients of the members, flattened in member order (their slots' order).
flatten_member_gradients <- function(gradients) {
  unname(do.call(c, c(list(list()), gradients)))
}

# One inverse pass through the members (batch normalization in training
# mode updates once).
#' @export
bijector_inverse_with_cache.tfb_chain <- function(bijector, y, event_ndims) {
  pass <- chain_pass_with_cache(bijector, y, event_ndims, inverse = TRUE)
  list(x = pass$value, log_det = pass$log_det, cache = pass$cache)
}

#' @export
bijector_inverse_backward.tfb_chain <- function(bijector, cache, grad_x,
                                                grad_log_det) {
  chain_backward(bijector, cache, grad_x, grad_log_det, inverse = TRUE)
}

#' @export
bijector_forward_with_cache.tfb_chain <- function(bijector, x, event_ndims) {
  pass <- chain_pass_with_cache(bijector, x, event_ndims, inverse = FALSE)
  list(y = pass$value, log_det = pass$log_det, cache = pass$cache)
}

#' @export
bijector_forward_backward.tfb_chain <- function(bijector, cache, grad_y,
                                                grad_log_det) {
  chain_backward(bijector, cache, grad_y, grad_log_det, inverse = FALSE)
}

# One pass through the members keeping each one's cache, by member position,
# and whether its log-det was a single number. The inverse walks the list in
# order, the forward from the last member to the first.
chain_pass_with_cache <- function(bijector, value, event_ndims, inverse) {
  input <- chain_input(
    bijector, value, if (inverse) "y" else "x", event_ndims,
    if (inverse) "inverse_min_event_ndims" else "forward_min_event_ndims")
  value <- input$x
  members <- .subset2(bijector, "bijectors")
  caches <- vector("list", length(members))
  single <- logical(length(members))
  log_det <- 0
  order <- if (inverse) seq_along(members) else rev(seq_along(members))
  for (k in order) {
    if (inverse) {
      step <- bijector_inverse_with_cache(members[[k]], value,
                                          input$member_ndims[[k]])
      value <- step$x
    } else {
      step <- bijector_forward_with_cache(members[[k]], value,
                                          input$member_ndims[[k]])
      value <- step$y
    }
    caches[k] <- list(step$cache)
    single[[k]] <- length(step$log_det) == 1L
    log_det <- log_det + step$log_det
  }
  list(value = value, log_det = log_det,
       cache = list(caches = caches, single = single))
}

# The members in the reverse of the pass's order: each takes the input
# gradient of the member after it and the total log-det's upstream gradient.
chain_backward <- function(bijector, cache, gradient, grad_log_det, inverse) {
  members <- .subset2(bijector, "bijectors")
  gradients <- vector("list", length(members))
  order <- if (inverse) rev(seq_along(members)) else seq_along(members)
  backward <- if (inverse) bijector_inverse_backward else
    bijector_forward_backward
  for (k in order) {
    step <- backward(members[[k]], cache$caches[[k]], gradient,
                     member_grad_log_det(grad_log_det, cache$single[[k]]))
    gradient <- step$input
    gradients[k] <- list(step$parameters)
  }
  list(input = gradient, parameters = flatten_member_gradients(gradients))
}

#' @export
bijector_children.tfb_chain <- function(bijector) {
  .subset2(bijector, "bijectors")
}

#' @export
bijector_with_children.tfb_chain <- function(bijector, children) {
  tfb_chain(children,
            validate_args = .subset2(bijector, "validate_args"),
            validate_event_size = .subset2(bijector, "validate_event_size"),
            parameters = .subset2(bijector, "parameters"),
            name = .subset2(bijector, "name"))
}

# Along the density direction, each member recomputes its layers' statistics
# from its own input over all of y and passes its evaluation-mode inverse on.
#' @export
bijector_recompute_statistics.tfb_chain <- function(bijector, y) {
  y <- chain_input(bijector, y, "y")$x
  for (member in .subset2(bijector, "bijectors")) {
    y <- bijector_recompute_statistics(member, y)
  }
  y
}

# Event-size constraints -------------------------------------------------

# What a bijector already knows about the sizes of its input's axes, as a
# list of list(axis =, size =, what =, bijector =): `axis` as the user gave it
# (negative from the end, positive from the start), `size` the required
# length along it, `what` and `bijector` (its name) for messages. Kinds that know nothing return
# list(); a kind whose size is fixed once it has seen data (a network
# template) can add a method.
bijector_event_constraints <- function(bijector) {
  UseMethod("bijector_event_constraints")
}

# A composite states its children's sizes, unless they change shapes: each
# then refers to the shape that child sees (a chain checks those member by
# member, check_chain_dims()).
#' @export
bijector_event_constraints.default <- function(bijector) {
  children <- bijector_children(bijector)
  if (length(children) == 0L || bijector_changes_shape(bijector)) {
    return(list())
  }
  bijector_event_constraints_of(children)
}

event_constraint <- function(bijector, axis, size, what) {
  list(list(axis = as.integer(axis), size = size, what = what,
            bijector = .subset2(bijector, "name")))
}

constraint_source <- function(constraint) {
  sprintf("%s of bijector \"%s\"", constraint$what, constraint$bijector)
}

#' @export
bijector_event_constraints.tfb_permute <- function(bijector) {
  event_constraint(bijector, .subset2(bijector, "axis"),
                   length(.subset2(bijector, "permutation")),
                   "the permutation")
}

# A built layer with one feature axis knows its feature count.
#' @export
bijector_event_constraints.tfb_batch_normalization <- function(bijector) {
  layer <- .subset2(bijector, "batchnorm")
  feature_shape <- .subset2(layer, "feature_shape")
  axis <- .subset2(layer, "axis")
  if (is.null(feature_shape) || length(axis) != 1L) {
    return(list())
  }
  event_constraint(bijector, axis, prod(feature_shape),
                   "the built batch-normalization layer")
}

bijector_event_constraints_of <- function(bijectors) {
  unlist(lapply(bijectors, bijector_event_constraints), recursive = FALSE)
}

# Constraints on the same axis must ask for the same size.
check_constraints_agree <- function(constraints) {
  for (k in seq_along(constraints)) {
    for (j in seq_len(k - 1L)) {
      first <- constraints[[j]]
      second <- constraints[[k]]
      if (first$axis == second$axis && first$size != second$size) {
        abort_bijectors("event_size", sprintf(paste(
          "The bijectors disagree on the size of axis %d: %s needs %s,",
          "but %s needs %s."), first$axis, constraint_source(first),
          format(first$size), constraint_source(second),
          format(second$size)))
      }
    }
  }
  invisible()
}

# Shape checks that a bijector can make before anything runs, beyond its
# event constraints (a network's width against the event size, RealNVP's
# num_masked), so that a chain fails before any member changes state.
bijector_check_dims <- function(bijector, dims, arg) {
  UseMethod("bijector_check_dims")
}

#' @export
bijector_check_dims.default <- function(bijector, dims, arg) {
  for (child in bijector_children(bijector)) {
    bijector_check_dims(child, dims, arg)
  }
  invisible()
}

#' @export
bijector_check_dims.tfb_chain <- function(bijector, dims, arg) {
  check_chain_dims(bijector, dims, arg, inverse = arg == "y")
}

# An input with dims `dims` against the constraints of `bijector`; axes
# outside the input's rank are left to the members' own checks.
check_event_constraints <- function(bijector, dims, arg) {
  rank <- length(dims)
  for (constraint in bijector_event_constraints(bijector)) {
    position <- if (constraint$axis < 0L) rank + 1L + constraint$axis else
      constraint$axis
    if (position >= 1L && position <= rank &&
        dims[[position]] != constraint$size) {
      abort_bijectors("event_size", sprintf(paste(
        "`%s` has size %s along axis %d, but %s needs %s."),
        arg, format(dims[[position]]), constraint$axis,
        constraint_source(constraint), format(constraint$size)))
    }
  }
  # elementwise kinds have no members and no checks of their own
  if (!inherits(bijector, "tfb_elementwise")) {
    bijector_check_dims(bijector, dims, arg)
  }
  invisible()
}

#' @export
object_field_names.tfb_chain <- function(x) {
  c(NextMethod(), "bijectors", "validate_event_size", "parameters")
}

#' @export
bijector_is_constant_jacobian.tfb_chain <- function(bijector) {
  children_have_constant_jacobian(bijector)
}
