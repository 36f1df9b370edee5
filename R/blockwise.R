# The blockwise bijector: one bijector per block of the last axis, as TFP's
# Blockwise (a split, the members side by side, and a concatenation). A
# composite: its members are its children, so trainable members train, and
# its backward passes route each block's gradient to its member.

#' Blockwise bijector
#'
#' Applies each bijector of `bijectors` to its own block of the last axis,
#' as tfprobability's `tfb_blockwise()` (TFP's `Blockwise`): for blocks
#' \eqn{x = (x_1, \dots, x_J)}{x = c(x_1, ..., x_J)} of sizes `block_sizes`,
#' \deqn{y = (b_1(x_1), \dots, b_J(x_J)),}{y = c(b_1(x_1), ..., b_J(x_J)),}
#' and the inverse splits `y` by the members' output block sizes and applies
#' their inverses. The log-determinant is the sum of the members',
#' \eqn{\sum_j \log|\det J_{b_j}(x_j)|}{sum_j fldj_j(x_j)}, each taken with
#' the blockwise call's `event_ndims` (extra event dims are summed, TFP's
#' rule). Domain and range are the products of the members'.
#'
#' Members must be single-part bijectors that keep the event rank with
#' minimum event ndims 0 or 1 (scalar or vector bijectors); they may change
#' the size of their block (such as [tfb_softmax_centered()], allowed since
#' TFP 0.11), and the output block sizes are then the members' forward
#' event shapes of the input block sizes. The blockwise bijector's minimum
#' event ndims are 1.
#'
#' Events are vectors along the last axis: for an `N x 4` matrix and
#' `block_sizes = c(1, 2, 1)`, member 1 gets `x[, 1, drop = FALSE]`, member 2
#' `x[, 2:3]` and member 3 `x[, 4, drop = FALSE]` (TFP's row-major order
#' within an event, DESIGN 9).
#'
#' Members' trainable parameters are the blockwise bijector's, named
#' `"<k>_<member name>/<parameter>"` as in a [tfb_chain()], and
#' [fit()] trains them; the gradient of each block goes to its member.
#'
#' @param bijectors A list of bijectors (a single bijector is a list of one),
#'   not empty.
#' @param block_sizes `NULL` (TFP's default: every block has size 1) or the
#'   block sizes, one whole number >= 0 per bijector, as a vector or a list
#'   of numbers (tfprobability's `list(2, 1)`).
#' @param validate_args `TRUE` or `FALSE`; the block sizes are always
#'   checked.
#' @param name A string, or `NULL` for TFP's default: `"blockwise_of_"`
#'   followed by the members' names joined by `"_and_"`.
#' @section Reference semantics:
#' As a chain, the bijector shares its members: training through one name
#' changes what the others show. Use [deep_copy()] for an independent copy.
#' @return A bijector of class `c("tfb_blockwise", "bijector")` with
#'   `forward_min_event_ndims = inverse_min_event_ndims = 1` and the fields
#'   `$bijectors`, `$block_sizes` and `$inverse_block_sizes` (the output
#'   block sizes).
#' @family structural bijectors
#' @seealso `tfprobability::tfb_blockwise()`; [tfb_split()], [tfb_chain()].
#' @examples
#' b <- tfb_blockwise(list(tfb_exp(), tfb_shift(c(1, 2)), tfb_scale(0.5)),
#'                    block_sizes = c(1, 2, 1))
#' x <- matrix(c(0, 1, 2, 3, 1, 1, 1, 1), nrow = 2, byrow = TRUE)
#' b$forward(x)           # exp(x[, 1]), x[, 2:3] + c(1, 2), x[, 4] / 2
#' b$forward_log_det_jacobian(x, event_ndims = 1)   # x[, 1] + log(0.5)
#' b$inverse(b$forward(x))
#' # a member that changes the size of its block
#' s <- tfb_blockwise(list(tfb_exp(), tfb_softmax_centered()), c(1, 2))
#' s$forward_event_shape(3)   # 4
#' @export
tfb_blockwise <- function(bijectors, block_sizes = NULL,
                          validate_args = FALSE, name = NULL) {
  if (inherits(bijectors, "bijector")) {
    bijectors <- list(bijectors)
  }
  if (!is.list(bijectors) || is.object(bijectors)) {
    abort_bijectors("bijector", sprintf(
      "`bijectors` must be a list of bijectors, not %s.",
      describe_value(bijectors)))
  }
  if (length(bijectors) == 0L) {
    abort_bijectors("bijector", "`bijectors` must not be empty.")
  }
  for (k in seq_along(bijectors)) {
    member <- bijectors[[k]]
    check_bijector(member, sprintf("bijectors[[%d]]", k))
    fmin <- .subset2(member, "forward_min_event_ndims")
    imin <- .subset2(member, "inverse_min_event_ndims")
    if (length(fmin) != 1L || length(imin) != 1L) {
      abort_bijectors("bijector", sprintf(
        "Bijectors must all be single-part, but `bijectors[[%d]]` is not.",
        k))
    }
    if (fmin != imin) {
      abort_bijectors("bijector", sprintf(paste(
        "Rank-changing bijectors are not supported: `bijectors[[%d]]` has",
        "forward_min_event_ndims %d and inverse_min_event_ndims %d."), k,
        fmin, imin))
    }
    if (fmin > 1L) {
      abort_bijectors("bijector", sprintf(paste(
        "Only scalar and vector event-shape bijectors are supported at this",
        "time: `bijectors[[%d]]` has min event ndims %d."), k, fmin))
    }
  }
  block_sizes <- check_block_sizes(block_sizes, length(bijectors))
  validate_args <- check_flag(validate_args, "validate_args")
  member_names <- vapply(bijectors, function(b) .subset2(b, "name"),
                         character(1))
  name <- check_string(name, "name", null_ok = TRUE) %||%
    gsub("/", "", paste0("blockwise_of_",
                         paste(member_names, collapse = "_and_")),
         fixed = TRUE)
  inverse_block_sizes <- vapply(seq_along(bijectors), function(k) {
    shape <- with_shape_argument("block_sizes", bijector_forward_event_shape(
      bijectors[[k]], block_sizes[[k]]))
    as.integer(shape[[length(shape)]])
  }, integer(1))
  new_bijector(
    "tfb_blockwise",
    name = name,
    forward_min_event_ndims = 1L,
    validate_args = validate_args,
    bijectors = unname(bijectors),
    block_sizes = block_sizes,
    inverse_block_sizes = inverse_block_sizes
  )
}

check_block_sizes <- function(block_sizes, count) {
  if (is.null(block_sizes)) {
    return(rep(1L, count))
  }
  is_list <- is.list(block_sizes) && !is.object(block_sizes)
  values <- if (is_list) unlist(block_sizes) else block_sizes
  ok <- is.numeric(values) && !is.object(values) &&
    (!is_list || all(lengths(block_sizes) == 1L)) &&
    length(dim(values)) <= 1L && !anyNA(values) && all(is.finite(values)) &&
    all(values == round(values)) && all(values >= 0) &&
    all(values <= .Machine$integer.max)
  if (!ok) {
    abort_bijectors("argument", sprintf(paste(
      "`block_sizes` must be NULL or whole numbers >= 0, one per bijector,",
      "not %s."), describe_value(block_sizes)))
  }
  if (length(values) != count) {
    abort_bijectors("argument", sprintf(paste(
      "`block_sizes` must be `NULL`, or a vector of the same length as",
      "`bijectors`. Got %d block sizes and `bijectors` of length %d."),
      length(values), count))
  }
  as.integer(values)
}

# The blocks of x along its last axis, after checking its size.
blockwise_blocks <- function(x, sizes, arg, what) {
  dims <- input_dims(x)
  rank <- length(dims)
  if (dims[[rank]] != sum(sizes)) {
    abort_bijectors("event_size", sprintf(paste(
      "`%s` has size %s along its last axis, but the %s add up to %s."),
      arg, format(dims[[rank]]), what, format(sum(sizes))))
  }
  ends <- cumsum(sizes)
  lapply(seq_along(sizes), function(k) {
    slice_along(x, dims, rank, seq_len(sizes[[k]]) + ends[[k]] - sizes[[k]])
  })
}

# The blocks joined along the last axis (the leading dims are shared).
blockwise_join <- function(blocks) {
  first_dims <- input_dims(blocks[[1L]])
  rank <- length(first_dims)
  if (rank == 1L) {
    return(unlist(lapply(blocks, as.vector), use.names = FALSE))
  }
  lead <- first_dims[-rank]
  columns <- lapply(blocks, function(block) {
    matrix(as.vector(block), nrow = prod(as.double(lead)))
  })
  joined <- do.call(cbind, columns)
  dim(joined) <- c(lead, ncol(joined))
  joined
}

blockwise_sizes <- function(bijector, forward) {
  .subset2(bijector, if (forward) "block_sizes" else "inverse_block_sizes")
}

blockwise_map <- function(bijector, x, forward) {
  arg <- if (forward) "x" else "y"
  x <- as_input_array(x, arg)
  blocks <- blockwise_blocks(x, blockwise_sizes(bijector, forward), arg,
                             if (forward) "block sizes" else
                               "inverse block sizes")
  members <- .subset2(bijector, "bijectors")
  mapped <- lapply(seq_along(members), function(k) {
    if (forward) bijector_forward(members[[k]], blocks[[k]]) else
      bijector_inverse(members[[k]], blocks[[k]])
  })
  blockwise_join(mapped)
}

#' @export
bijector_forward.tfb_blockwise <- function(bijector, x) {
  blockwise_map(bijector, x, forward = TRUE)
}

#' @export
bijector_inverse.tfb_blockwise <- function(bijector, y) {
  blockwise_map(bijector, y, forward = FALSE)
}

# The members' log-dets, each at the blockwise call's event_ndims, summed.
blockwise_log_det <- function(bijector, x, event_ndims, forward) {
  arg <- if (forward) "x" else "y"
  x <- as_input_array(x, arg)
  event_ndims <- check_event_ndims(event_ndims, 1L, length(input_dims(x)),
                                   arg)
  blocks <- blockwise_blocks(x, blockwise_sizes(bijector, forward), arg,
                             if (forward) "block sizes" else
                               "inverse block sizes")
  members <- .subset2(bijector, "bijectors")
  log_det <- 0
  for (k in seq_along(members)) {
    log_det <- log_det + if (forward) {
      bijector_forward_log_det_jacobian(members[[k]], blocks[[k]],
                                        event_ndims)
    } else {
      bijector_inverse_log_det_jacobian(members[[k]], blocks[[k]],
                                        event_ndims)
    }
  }
  log_det
}

#' @export
bijector_forward_log_det_jacobian.tfb_blockwise <- function(bijector, x,
                                                            event_ndims) {
  blockwise_log_det(bijector, x, event_ndims, forward = TRUE)
}

#' @export
bijector_inverse_log_det_jacobian.tfb_blockwise <- function(bijector, y,
                                                            event_ndims) {
  blockwise_log_det(bijector, y, event_ndims, forward = FALSE)
}

# ---- shapes and checks ---------------------------------------------------

blockwise_event_shape <- function(bijector, shape, forward) {
  last <- length(shape)
  from <- blockwise_sizes(bijector, forward)
  if (shape[[last]] != sum(from)) {
    abort_bijectors("event_shape", sprintf(paste(
      "The event shape %s does not fit the %s, which add up to %d."),
      format_shape(shape), if (forward) "block sizes" else
        "inverse block sizes", sum(from)))
  }
  shape[[last]] <- sum(blockwise_sizes(bijector, !forward))
  shape
}

#' @export
bijector_forward_event_shape.tfb_blockwise <- function(bijector, shape) {
  blockwise_event_shape(bijector, shape, forward = TRUE)
}

#' @export
bijector_inverse_event_shape.tfb_blockwise <- function(bijector, shape) {
  blockwise_event_shape(bijector, shape, forward = FALSE)
}

#' @export
bijector_changes_shape.tfb_blockwise <- function(bijector) {
  any(.subset2(bijector, "block_sizes") !=
        .subset2(bijector, "inverse_block_sizes"))
}

# The blockwise bijector knows the size of the last axis; its members'
# own constraints (a shift's length) refer to their blocks, so they are
# checked block by block in bijector_check_dims() instead.
#' @export
bijector_event_constraints.tfb_blockwise <- function(bijector) {
  if (bijector_changes_shape(bijector)) {
    return(list())
  }
  event_constraint(bijector, -1L, sum(.subset2(bijector, "block_sizes")),
                   "the block sizes")
}

#' @export
bijector_check_dims.tfb_blockwise <- function(bijector, dims, arg) {
  forward <- arg != "y"
  sizes <- blockwise_sizes(bijector, forward)
  rank <- length(dims)
  if (rank == 0L || dims[[rank]] != sum(sizes)) {
    abort_bijectors("event_size", sprintf(paste(
      "`%s` has size %s along its last axis, but the %s of bijector",
      "\"%s\" add up to %s."), arg, if (rank == 0L) "0" else
        format(dims[[rank]]), if (forward) "block sizes" else
        "inverse block sizes", .subset2(bijector, "name"),
      format(sum(sizes))))
  }
  members <- .subset2(bijector, "bijectors")
  for (k in seq_along(members)) {
    block_dims <- dims
    block_dims[[rank]] <- sizes[[k]]
    check_event_constraints(members[[k]], block_dims, arg)
  }
  invisible()
}

# ---- composite -------------------------------------------------------------

#' @export
bijector_children.tfb_blockwise <- function(bijector) {
  .subset2(bijector, "bijectors")
}

#' @export
bijector_with_children.tfb_blockwise <- function(bijector, children) {
  tfb_blockwise(children, block_sizes = .subset2(bijector, "block_sizes"),
                validate_args = .subset2(bijector, "validate_args"),
                name = .subset2(bijector, "name"))
}

# Each member recomputes its batch-normalization statistics from its own
# block of y, along the density direction.
#' @export
bijector_recompute_statistics.tfb_blockwise <- function(bijector, y) {
  y <- as_input_array(y, "y")
  blocks <- blockwise_blocks(y, .subset2(bijector, "inverse_block_sizes"), "y",
                             "inverse block sizes")
  members <- .subset2(bijector, "bijectors")
  blockwise_join(lapply(seq_along(members), function(k) {
    bijector_recompute_statistics(members[[k]], blocks[[k]])
  }))
}

# ---- training --------------------------------------------------------------

#' @export
bijector_parameter_slots.tfb_blockwise <- function(bijector) {
  prefixed_slots(.subset2(bijector, "bijectors"))
}

# One pass: each member's pass on its block, with its cache and whether its
# log-det was a single number.
blockwise_pass_with_cache <- function(bijector, value, event_ndims,
                                      forward) {
  arg <- if (forward) "x" else "y"
  value <- as_input_array(value, arg)
  event_ndims <- check_event_ndims(event_ndims, 1L,
                                   length(input_dims(value)), arg)
  blocks <- blockwise_blocks(value, blockwise_sizes(bijector, forward), arg,
                             if (forward) "block sizes" else
                               "inverse block sizes")
  members <- .subset2(bijector, "bijectors")
  outputs <- vector("list", length(members))
  caches <- vector("list", length(members))
  single <- logical(length(members))
  log_det <- 0
  for (k in seq_along(members)) {
    if (forward) {
      step <- bijector_forward_with_cache(members[[k]], blocks[[k]],
                                          event_ndims)
      outputs[[k]] <- step$y
    } else {
      step <- bijector_inverse_with_cache(members[[k]], blocks[[k]],
                                          event_ndims)
      outputs[[k]] <- step$x
    }
    caches[k] <- list(step$cache)
    single[[k]] <- length(step$log_det) == 1L
    log_det <- log_det + step$log_det
  }
  list(output = blockwise_join(outputs), log_det = log_det,
       cache = list(caches = caches, single = single))
}

# The output gradient cut into the members' output blocks, each member's
# backward pass, and their input gradients joined.
blockwise_backward <- function(bijector, cache, gradient, grad_log_det,
                               forward) {
  blocks <- blockwise_blocks(as_input_array(gradient, "gradient"),
                             blockwise_sizes(bijector, !forward), "gradient",
                             "output block sizes")
  members <- .subset2(bijector, "bijectors")
  backward <- if (forward) bijector_forward_backward else
    bijector_inverse_backward
  inputs <- vector("list", length(members))
  gradients <- vector("list", length(members))
  for (k in seq_along(members)) {
    step <- backward(members[[k]], cache$caches[[k]], blocks[[k]],
                     member_grad_log_det(grad_log_det, cache$single[[k]]))
    inputs[k] <- list(step$input)
    gradients[k] <- list(step$parameters)
  }
  list(input = blockwise_join(inputs),
       parameters = flatten_member_gradients(gradients))
}

#' @export
bijector_forward_with_cache.tfb_blockwise <- function(bijector, x,
                                                      event_ndims) {
  pass <- blockwise_pass_with_cache(bijector, x, event_ndims, forward = TRUE)
  list(y = pass$output, log_det = pass$log_det, cache = pass$cache)
}

#' @export
bijector_forward_backward.tfb_blockwise <- function(bijector, cache, grad_y,
                                                    grad_log_det) {
  blockwise_backward(bijector, cache, grad_y, grad_log_det, forward = TRUE)
}

#' @export
bijector_inverse_with_cache.tfb_blockwise <- function(bijector, y,
                                                      event_ndims) {
  pass <- blockwise_pass_with_cache(bijector, y, event_ndims, forward = FALSE)
  list(x = pass$output, log_det = pass$log_det, cache = pass$cache)
}

#' @export
bijector_inverse_backward.tfb_blockwise <- function(bijector, cache, grad_x,
                                                    grad_log_det) {
  blockwise_backward(bijector, cache, grad_x, grad_log_det, forward = FALSE)
}

#' @export
object_field_names.tfb_blockwise <- function(x) {
  c(NextMethod(), "bijectors", "block_sizes", "inverse_block_sizes")
}

#' @export
format.tfb_blockwise <- function(x, ...) {
  members <- .subset2(x, "bijectors")
  sizes <- .subset2(x, "block_sizes")
  out_sizes <- .subset2(x, "inverse_block_sizes")
  member_lines <- lapply(seq_along(members), function(k) {
    c(sprintf("    block %d: size %d -> %d", k, sizes[[k]], out_sizes[[k]]),
      paste0("      ", format(members[[k]], ...)))
  })
  c(NextMethod(), sprintf("  bijectors (%d):", length(members)),
    unlist(member_lines, use.names = FALSE))
}

#' @export
bijector_is_constant_jacobian.tfb_blockwise <- function(bijector) {
  children_have_constant_jacobian(bijector)
}
