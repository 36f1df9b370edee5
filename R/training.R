# Training infrastructure: where trainable parameters live, the cache-
# carrying passes and backward passes each kind implements, the loss and its
# gradient, and Adam. The backward arithmetic of networks, batch
# normalization, the elementwise kinds (src/elementwise.c) and Adam is in
# C; index-only kinds (permute, reshape) and the composites do theirs in R.

# ---- per-kind generics -------------------------------------------------

# The inverse with what its backward pass needs:
# list(x = , log_det = , cache = ). A batch-normalization layer in training
# mode updates its running statistics here, once.
bijector_inverse_with_cache <- function(bijector, y, event_ndims) {
  UseMethod("bijector_inverse_with_cache")
}

# Given the cache of bijector_inverse_with_cache() and the gradients of the
# loss with respect to its x and log_det (same shapes), returns
# list(input = gradient with respect to y, parameters = named list shaped
# like bijector_parameter_slots()).
bijector_inverse_backward <- function(bijector, cache, grad_x, grad_log_det) {
  UseMethod("bijector_inverse_backward")
}

# The same pair for the forward direction (what tfb_invert() runs when a
# distribution computes log_prob): list(y = , log_det = , cache = ) with the
# forward log-det, and list(input = gradient with respect to x, parameters).
bijector_forward_with_cache <- function(bijector, x, event_ndims) {
  UseMethod("bijector_forward_with_cache")
}

bijector_forward_backward <- function(bijector, cache, grad_y, grad_log_det) {
  UseMethod("bijector_forward_backward")
}

# Where each trainable array lives: a list of slots, each
# list(name = , owner = <environment>, field = , index = , mask = NULL or
# a 0/1 array), meaning element `index` of the list `owner[[field]]`.
# Gradients are returned in this order and with these names.
bijector_parameter_slots <- function(bijector) {
  UseMethod("bijector_parameter_slots")
}

#' @export
bijector_parameter_slots.default <- function(bijector) {
  list()
}

no_gradient <- function(bijector, direction) {
  abort_bijectors("unsupported", sprintf(paste(
    "Gradients through the %s direction of a <%s> bijector are not",
    "implemented."), direction, class(bijector)[[1L]]))
}

#' @export
bijector_inverse_with_cache.default <- function(bijector, y, event_ndims) {
  no_gradient(bijector, "inverse")
}

#' @export
bijector_forward_with_cache.default <- function(bijector, x, event_ndims) {
  no_gradient(bijector, "forward")
}

# `constraint`: the parameter's domain, checked by trainable_parameters<-
# and by every optimizer step before anything is written: "real" (finite),
# "nonzero" (a scale), "log_positive" (a log-scale whose exp() must be a
# finite positive number), "positive" or "nonnegative". `assign_constraint`:
# a narrower domain that only trainable_parameters<- checks (NULL: the
# same): batch normalization's default gamma_constraint clamps gamma after
# each optimizer step, so a step may take it through zero, but a value set
# by hand may not.
parameter_slot <- function(name, owner, field, index, mask = NULL,
                           constraint = "real", assign_constraint = NULL) {
  list(name = name, owner = owner, field = field, index = as.integer(index),
       mask = mask, constraint = constraint,
       assign_constraint = assign_constraint)
}

# The constraint codes of src/parameters.c.
constraint_codes <- c(real = 0L, nonzero = 1L, log_positive = 2L,
                      positive = 3L, nonnegative = 4L)

constraint_description <- c(
  real = "finite numbers",
  nonzero = "finite non-zero numbers (a zero scale is not invertible)",
  log_positive = paste(
    "finite numbers whose exp() is a finite positive scale (between about",
    "-745 and 709)"),
  positive = "finite positive numbers",
  nonnegative = "finite non-negative numbers"
)

satisfies_constraint <- function(value, constraint) {
  if (!all(is.finite(value))) {
    return(FALSE)
  }
  switch(constraint,
    real = TRUE,
    nonzero = all(value != 0),
    log_positive = {
      multiplier <- exp(value)
      all(is.finite(multiplier) & multiplier > 0)
    },
    positive = all(value > 0),
    nonnegative = all(value >= 0)
  )
}

# The slots of members, their names prefixed by position and member name.
prefixed_slots <- function(members) {
  slots <- list()
  for (k in seq_along(members)) {
    member_slots <- bijector_parameter_slots(members[[k]])
    prefix <- sprintf("%d_%s/", k, .subset2(members[[k]], "name"))
    for (slot in member_slots) {
      slot$name <- paste0(prefix, slot$name)
      slots[[length(slots) + 1L]] <- slot
    }
  }
  slots
}

slot_value <- function(slot) {
  .subset2(.subset2(slot$owner, slot$field), slot$index)
}

slot_owners <- function(slots) {
  lapply(slots, function(slot) slot$owner)
}

slot_fields <- function(slots) {
  vapply(slots, function(slot) slot$field, character(1))
}

slot_indices <- function(slots) {
  vapply(slots, function(slot) slot$index, integer(1))
}

# ---- trainable_parameters() --------------------------------------------

# A template or layer used by two members of a flow gives two slots for one
# array: it is listed once, under its first name, and gets the sum of the
# gradients of its uses. slot_first_use() gives, for each slot, the position
# of the first slot of the same array (owners are environments, compared by
# identity; only slots with the same field and index can share an array).
slot_first_use <- function(slots) {
  keys <- paste(slot_fields(slots), slot_indices(slots))
  first_use <- seq_along(slots)
  for (k in which(duplicated(keys))) {
    for (j in which(keys[seq_len(k - 1L)] == keys[[k]])) {
      if (identical(slots[[j]]$owner, slots[[k]]$owner)) {
        first_use[[k]] <- first_use[[j]]
        break
      }
    }
  }
  first_use
}

unique_slots <- function(slots) {
  slots[slot_first_use(slots) == seq_along(slots)]
}

# What the steps of a fit need of its list of slots and does not depend on
# the data: which slots share an array, and the gradient's names. fit()
# computes it once, for all its steps; a single call computes it there.
slot_bookkeeping <- function(slots) {
  first_use <- slot_first_use(slots)
  first <- first_use == seq_along(slots)
  list(first_use = first_use, first = first,
       names = vapply(slots[first], function(slot) slot$name, character(1)))
}

sum_shared_gradients <- function(slots, gradients,
                                 bookkeeping = slot_bookkeeping(slots)) {
  first_use <- bookkeeping$first_use
  first <- bookkeeping$first
  if (all(first)) {
    return(gradients)
  }
  for (k in which(!first)) {
    j <- first_use[[k]]
    gradients[[j]] <- gradients[[j]] + gradients[[k]]
  }
  gradients[first]
}

parameter_slots_of <- function(x, arg = "x") {
  if (inherits(x, "tfd_transformed_distribution")) {
    return(unique_slots(bijector_parameter_slots(.subset2(x, "bijector"))))
  }
  if (inherits(x, "bijector")) {
    return(unique_slots(bijector_parameter_slots(x)))
  }
  if (inherits(x, "distribution")) {
    return(list())
  }
  abort_bijectors("argument", sprintf(paste(
    "`%s` must be a bijector or a distribution, not %s."), arg,
    describe_value(x)))
}

# Slots of bijectors not built yet have nothing to show; a flow builds on
# its first data.
check_slots_built <- function(slots) {
  for (slot in slots) {
    if (is.null(.subset2(slot$owner, slot$field))) {
      abort_bijectors("not_built", paste(
        "Some parameters do not exist yet: a flow builds its networks and",
        "batch-normalization layers on the first data it sees."))
    }
  }
  invisible(slots)
}

#' Trainable parameters of a bijector or distribution
#'
#' `trainable_parameters()` returns copies of every trainable array of a
#' bijector, a chain or a transformed distribution, by name, in a stable
#' order: `gamma` and `beta` of batch normalization, `shift`, `scale` (or
#' `log_scale`), and the kernels and biases of the networks of
#' [tfb_masked_autoregressive_flow()] and [tfb_real_nvp()]. Members of a
#' chain are prefixed by their position and name, such as
#' `"2_batch_normalization/gamma"`. The base distribution of a transformed
#' distribution is held fixed, as in TFP flows.
#'
#' `trainable_parameters(x) <- value` sets them: `value` is a list with the
#' same names, each element of the same length with finite values. Kernel
#' entries outside a MADE mask are set to 0.
#'
#' Networks and batch-normalization layers are created on the first data a
#' flow sees, so call `log_prob()` once (or `fit()`) before asking.
#'
#' Each value must lie in its parameter's domain, as the constructors
#' check it: finite numbers, a non-zero `scale`, a `log_scale` whose
#' `exp()` is a finite positive number, a positive `gamma` for a
#' batch-normalization layer whose `gamma_constraint` keeps it positive (the
#' default of [tfb_batch_normalization()]). A value outside it is an error of
#' class `bijectors_error_argument` and nothing is assigned.
#'
#' The assignment changes `x` in place (it is a reference object): a flow
#' passed to a function that assigns its parameters is changed for the
#' caller too. Use [deep_copy()] to work on an independent copy.
#'
#' @param x A bijector or a transformed distribution.
#' @param value A named list shaped like `trainable_parameters(x)`.
#' @return `trainable_parameters()`: a named list of double vectors and
#'   matrices (copies). The replacement form returns `x`.
#' @family training
#' @seealso [loss_and_gradient()].
#' @examples
#' flow <- tfd_transformed_distribution(
#'   tfd_multivariate_normal_diag(loc = c(0, 0)),
#'   tfb_chain(list(tfb_shift(c(1, 2)), tfb_batch_normalization()))
#' )
#' invisible(flow$log_prob(matrix(rnorm(20), ncol = 2)))
#' p <- trainable_parameters(flow)
#' names(p)
#' p[["1_shift/shift"]] <- c(0, 0)
#' trainable_parameters(flow) <- p
#' @export
trainable_parameters <- function(x) {
  slot_copies(check_slots_built(parameter_slots_of(x)))
}

# Copies of the slots' arrays, named as trainable_parameters() names them.
slot_copies <- function(slots) {
  values <- lapply(slots, function(slot) {
    value <- slot_value(slot)
    copy <- .Call(C_copy_double, value)
    dim(copy) <- dim(value)
    copy
  })
  names(values) <- vapply(slots, function(slot) slot$name, character(1))
  values
}

# `b$trainable_variables` (TFP's property): trainable_parameters() of what
# exists so far. A field never fails (as.list() and str() read every field),
# and TFP's tuple is empty too before a network or layer is built.
built_trainable_parameters <- function(x) {
  slots <- parameter_slots_of(x)
  built <- vapply(slots, function(slot) {
    !is.null(.subset2(slot$owner, slot$field))
  }, logical(1))
  slot_copies(slots[built])
}

#' @rdname trainable_parameters
#' @export
`trainable_parameters<-` <- function(x, value) {
  slots <- check_slots_built(parameter_slots_of(x))
  names <- vapply(slots, function(slot) slot$name, character(1))
  if (!is.list(value) || is.object(value) || is.null(names(value)) ||
      !setequal(names(value), names) || length(value) != length(names)) {
    abort_bijectors("argument", sprintf(paste(
      "`value` must be a list named like trainable_parameters(x): %s."),
      paste0("`", names, "`", collapse = ", ")))
  }
  value <- value[names]
  for (k in seq_along(slots)) {
    v <- value[[k]]
    current <- slot_value(slots[[k]])
    size <- length(current)
    constraint <- slots[[k]]$assign_constraint %||% slots[[k]]$constraint
    if (!is.numeric(v) || is.object(v) || length(v) != size ||
        !satisfies_constraint(v, constraint)) {
      abort_bijectors("argument", sprintf(
        "`value[[\"%s\"]]` must hold %d %s, not %s.", names[[k]], size,
        constraint_description[[constraint]], describe_parameter_value(v)))
    }
    check_parameter_dims(v, current, names[[k]])
    v <- as.double(v)
    if (!is.null(slots[[k]]$mask)) {
      v <- v * as.double(slots[[k]]$mask)
    }
    value[[k]] <- v
  }
  .Call(C_parameters_assign, slot_owners(slots), slot_fields(slots),
        slot_indices(slots), unname(value))
  x
}

# A value with a `dim` must have the parameter's shape, apart from axes of
# length 1: a transposed matrix has the right length but would be read in
# the wrong order. A plain vector is taken in the parameter's own order.
check_parameter_dims <- function(v, current, name) {
  if (is.null(dim(v))) {
    return(invisible())
  }
  without_ones <- function(d) d[d != 1L]
  expected <- dim(current) %||% length(current)
  if (!identical(as.integer(without_ones(dim(v))),
                 as.integer(without_ones(expected)))) {
    abort_bijectors("argument", sprintf(paste(
      "`value[[\"%s\"]]` must have the parameter's shape %s, not %s (a",
      "transposed matrix would be read in the wrong order); see",
      "dim(trainable_parameters(x)[[\"%s\"]])."), name,
      format_shape(expected), format_shape(dim(v)), name))
  }
  invisible()
}

# Short numeric values are shown, so the message says which one is wrong.
describe_parameter_value <- function(v) {
  if (is.numeric(v) && !is.object(v) && length(v) >= 1L && length(v) <= 6L) {
    return(format_values(v))
  }
  describe_value(v)
}

# ---- the loss and its gradient -------------------------------------------

# Log-density of each event of the base distribution and its gradient with
# respect to the value: list(log_prob = , gradient = ).
distribution_log_prob_gradient <- function(distribution, value) {
  UseMethod("distribution_log_prob_gradient")
}

#' @export
distribution_log_prob_gradient.default <- function(distribution, value) {
  abort_bijectors("unsupported", sprintf(paste(
    "Training needs the gradient of the base distribution's log-density;",
    "it is not implemented for <%s>."), class(distribution)[[1L]]))
}

#' @export
distribution_log_prob_gradient.tfd_multivariate_normal_diag <- function(
    distribution, value) {
  loc <- .subset2(distribution, "loc")
  scale <- .subset2(distribution, "scale_diag")
  size <- length(loc)
  rows <- length(value) %/% size
  z <- (value - rep(loc, each = rows)) / rep(scale, each = rows)
  log_prob <- -0.5 * rowSums(matrix(z * z, rows, size)) -
    .subset2(distribution, "log_normalizer")
  gradient <- -z / rep(scale, each = rows)
  dim(gradient) <- dim(value)
  list(log_prob = log_prob, gradient = gradient)
}

# Events `rows` of a batch: an array whose first axis indexes the events.
batch_rows <- function(x, rows) {
  dims <- dim(x)
  if (length(dims) == 2L) {
    return(x[rows, , drop = FALSE])
  }
  events <- matrix(x, dims[[1L]])[rows, , drop = FALSE]
  dim(events) <- c(length(rows), dims[-1L])
  events
}

check_training_data <- function(distribution, x, arg = "x") {
  if (!inherits(distribution, "tfd_transformed_distribution")) {
    abort_bijectors("distribution", sprintf(paste(
      "`distribution` must be a transformed distribution",
      "(tfd_transformed_distribution()), not %s."),
      describe_value(distribution)))
  }
  x <- as_input_array(x, arg)
  event_shape <- .subset2(distribution, "event_shape")
  dims <- dim(x)
  if (length(event_shape) < 1L || length(dims) != length(event_shape) + 1L ||
      any(dims[-1L] != event_shape)) {
    expected <- if (length(event_shape) == 1L) {
      sprintf(paste("a matrix with one row per event and %s columns (the",
                    "event size of the distribution)"), format(event_shape))
    } else {
      sprintf(paste("an array with one event of shape %s per index of its",
                    "first axis (the event shape of the distribution)"),
              format_shape(event_shape))
    }
    abort_bijectors("event_size", sprintf("`%s` must be %s, not of shape %s.",
                                          arg, expected,
                                          format_shape(input_dims(x))))
  }
  if (dims[[1L]] < 1L) {
    abort_bijectors("empty_batch", sprintf("`%s` has no rows.", arg))
  }
  if (!.Call(C_all_finite, x)) {
    abort_bijectors("nonfinite", sprintf(
      "`%s` contains NA, NaN or Inf values.", arg))
  }
  x
}

#' The loss of a flow and its gradient
#'
#' Computes the mean negative log-likelihood of the rows of `x` under a
#' transformed distribution and its gradient with respect to every
#' trainable parameter, analytically: one pass through the flow in the
#' density direction and one backward pass. An inverted masked
#' autoregressive flow (an inverse autoregressive flow) runs its forward map
#' there, which takes one network pass per dimension of the event, and as
#' many reverse passes. Batch-normalization layers in training mode use and update
#' their running statistics as `log_prob()` does; a call that fails (or is
#' interrupted) puts them back, so it changes nothing.
#'
#' @param distribution A [tfd_transformed_distribution()] whose base is
#'   [tfd_multivariate_normal_diag()].
#' @param x A numeric matrix (or data frame) with one event per row.
#' @param input_gradient `TRUE` to also return the gradient with respect to
#'   `x`.
#' @return A list with `loss` (a number), `gradient` (a named list shaped like
#'   [trainable_parameters()]) and, with `input_gradient = TRUE`, `input`
#'   (a matrix like `x`).
#' @family training
#' @examples
#' flow <- tfd_transformed_distribution(
#'   tfd_multivariate_normal_diag(loc = c(0, 0)),
#'   tfb_chain(list(tfb_shift(c(1, 2)), tfb_scale(c(2, 3))))
#' )
#' y <- matrix(rnorm(20), ncol = 2)
#' lg <- loss_and_gradient(flow, y)
#' lg$loss
#' lg$gradient
#' @export
loss_and_gradient <- function(distribution, x, input_gradient = FALSE) {
  check_trainable_distribution(distribution, "distribution")
  x <- check_training_data(distribution, x)
  input_gradient <- check_flag(input_gradient, "input_gradient")
  with_statistics_rollback(
    distribution, loss_and_gradient_unchecked(distribution, x, input_gradient))
}

# `slots`: the bijector's parameter slots, and `bookkeeping` their
# slot_bookkeeping(), when the caller (fit()) has them.
loss_and_gradient_unchecked <- function(distribution, x, input_gradient,
                                        slots = NULL, bookkeeping = NULL) {
  bijector <- .subset2(distribution, "bijector")
  event_ndims <- length(.subset2(distribution, "event_shape"))
  pass <- bijector_inverse_with_cache(bijector, x, event_ndims)
  base <- distribution_log_prob_gradient(.subset2(distribution,
                                                  "distribution"), pass$x)
  events <- length(base$log_prob)
  loss <- -mean(base$log_prob + pass$log_det)
  grad_log_det <- if (length(pass$log_det) == 1L) -1 else
    array(-1 / events, dim = dim(pass$log_det) %||% length(pass$log_det))
  backward <- bijector_inverse_backward(bijector, pass$cache,
                                        -base$gradient / events, grad_log_det)
  slots <- slots %||% bijector_parameter_slots(bijector)
  bookkeeping <- bookkeeping %||% slot_bookkeeping(slots)
  gradient <- sum_shared_gradients(slots, backward$parameters, bookkeeping)
  names(gradient) <- bookkeeping$names
  result <- list(loss = loss, gradient = gradient)
  if (input_gradient) {
    result$input <- backward$input
  }
  result
}

# ---- Adam -------------------------------------------------------------------

# Where adam_step() finds each slot's array and its domain; fit() computes
# it once for all its steps.
adam_arguments <- function(slots) {
  list(owners = slot_owners(slots), fields = slot_fields(slots),
       indices = slot_indices(slots),
       constraints = unname(constraint_codes[vapply(slots, function(slot) {
         slot$constraint
       }, character(1))]))
}

# One Adam step on every slot. Adam's moments and step counts live beside
# each parameter, in its owner (src/parameters.c), so that any object that
# holds the parameters (a view, a new distribution around a saved bijector)
# continues the same optimizer. A step that would take a parameter out of
# its domain writes nothing and is refused.
# With `preview = TRUE` it writes nothing and returns the new values of the
# parameters (a list), or NULL where the real step would refuse.
adam_step <- function(slots, gradients, learning_rate, beta_1 = 0.9,
                      beta_2 = 0.999, epsilon = 1e-7,
                      arguments = adam_arguments(slots), preview = FALSE) {
  refused <- .Call(C_adam_step, arguments$owners, arguments$fields,
                   arguments$indices, unname(gradients),
                   arguments$constraints,
                   c(learning_rate, beta_1, beta_2, epsilon), preview)
  if (preview) {
    return(if (is.list(refused)) refused)
  }
  if (!is.null(refused)) {
    abort_adam_domain(slots[[refused]])
  }
  invisible()
}

abort_adam_domain <- function(slot) {
  abort_bijectors("diverged", sprintf(paste(
    "The optimizer step would take `%s` out of its domain (%s); nothing",
    "was changed. Try a smaller `learning_rate`."), slot$name,
    constraint_description[[slot$constraint]]))
}
