# Event shapes and event ranks: how a bijector maps the shape of one event,
# and how a chain carries event ranks and shapes from member to member
# (TFP's forward_event_shape, inverse_event_shape and Chain's
# min_event_ndims rule), so that members may change the rank and the size
# of events.

# The event shape of a bijector's output for events of shape `shape` (the
# forward direction), and of its input for outputs of shape `shape`.
# Kinds that change shapes (reshape) add methods; the default keeps it.
bijector_forward_event_shape <- function(bijector, shape) {
  UseMethod("bijector_forward_event_shape")
}

#' @export
bijector_forward_event_shape.default <- function(bijector, shape) {
  shape
}

bijector_inverse_event_shape <- function(bijector, shape) {
  UseMethod("bijector_inverse_event_shape")
}

#' @export
bijector_inverse_event_shape.default <- function(bijector, shape) {
  shape
}

# TRUE for a bijector whose outputs can differ in shape from its inputs;
# chains compare the axis sizes their members know only between such
# members.
bijector_changes_shape <- function(bijector) {
  UseMethod("bijector_changes_shape")
}

#' @export
bijector_changes_shape.default <- function(bijector) {
  .subset2(bijector, "forward_min_event_ndims") !=
    .subset2(bijector, "inverse_min_event_ndims")
}

#' Event shapes of a bijector's outputs and inputs
#'
#' `tfb_forward_event_shape()` is the shape of one event of
#' `bijector$forward(x)` when the events of `x` have shape `input_shape`;
#' `tfb_inverse_event_shape()` is the shape of one event of
#' `bijector$inverse(y)` for events of `y` of shape `output_shape`. They are
#' the methods `bijector$forward_event_shape(input_shape)` and
#' `bijector$inverse_event_shape(output_shape)` of TensorFlow Probability.
#' Most bijectors keep the shape; [tfb_reshape()] changes it, and a
#' [tfb_chain()] composes its members' shapes.
#'
#' Shapes list the event's dimensions in TensorFlow's order (the same order
#' as R's `dim()`): `c(2, 3)` is an event of 2 x 3 values, `integer(0)` a
#' scalar event. Batch dimensions are not part of it.
#'
#' @param bijector A bijector.
#' @param input_shape,output_shape Whole numbers >= 0 (a vector, or a list
#'   of numbers as tfprobability takes it): the event's shape, at least
#'   as long as the bijector's minimum event ndims in that direction.
#' @return An integer vector: the event shape after the map.
#' @family bijector methods
#' @seealso `tfprobability`'s `bijector$forward_event_shape()`;
#'   [tfb_reshape()].
#' @examples
#' b <- tfb_reshape(event_shape_out = c(2, 3))
#' tfb_forward_event_shape(b, 6)
#' b$inverse_event_shape(c(2, 3))
#' tfb_forward_event_shape(tfb_shift(1), c(4, 5))
#' @export
tfb_forward_event_shape <- function(bijector, input_shape) {
  check_bijector(bijector)
  shape <- check_event_shape(input_shape, "input_shape",
                             .subset2(bijector, "forward_min_event_ndims"))
  shape <- with_shape_argument("input_shape",
                               bijector_forward_event_shape(bijector, shape))
  # a multipart output (tfb_split) has one shape per part
  if (is.list(shape)) lapply(shape, as.integer) else as.integer(shape)
}

#' @rdname tfb_forward_event_shape
#' @export
tfb_inverse_event_shape <- function(bijector, output_shape) {
  check_bijector(bijector)
  if (length(.subset2(bijector, "inverse_min_event_ndims")) != 1L) {
    # a multipart input (tfb_split): a list of shapes, checked by the kind
    return(as.integer(with_shape_argument(
      "output_shape", bijector_inverse_event_shape(bijector, output_shape))))
  }
  shape <- check_event_shape(output_shape, "output_shape",
                             .subset2(bijector, "inverse_min_event_ndims"))
  as.integer(with_shape_argument(
    "output_shape", bijector_inverse_event_shape(bijector, shape)))
}

# The argument that the shapes reaching bijector_forward_event_shape() and
# bijector_inverse_event_shape() came from, for their messages:
# tfb_forward_event_shape() and the constructors that map shapes say
# which; otherwise the shapes are those of data, `x` or `y`.
shape_argument <- new.env(parent = emptyenv())

with_shape_argument <- function(arg, expr) {
  previous <- shape_argument$name
  shape_argument$name <- arg
  on.exit(shape_argument$name <- previous)
  expr
}

event_shape_argument <- function(forward) {
  shape_argument$name %||% if (forward) "x" else "y"
}

# The dims of an input after a bijector maps its trailing event dims
# (`event_ndims` of them): the batch dims are kept.
map_event_dims <- function(bijector, dims, event_ndims, forward) {
  rank <- length(dims)
  if (event_ndims > rank) {
    return(dims)
  }
  event <- dims[seq_len(event_ndims) + rank - event_ndims]
  mapped <- if (forward) bijector_forward_event_shape(bijector, event) else
    bijector_inverse_event_shape(bijector, event)
  c(dims[seq_len(rank - event_ndims)], mapped)
}

# ---- chains -----------------------------------------------------------------

# How much a member changes the event rank in the forward direction.
rank_change <- function(bijector) {
  .subset2(bijector, "inverse_min_event_ndims") -
    .subset2(bijector, "forward_min_event_ndims")
}

# The smallest event rank of a chain's input (forward, members applied from
# the last to the first) at which every member gets at least its own
# minimum, and the matching rank of its output: TFP's Chain rule. For
# members that keep the rank this is the largest of their minimums.
chain_min_event_ndims <- function(members) {
  order <- rev(seq_along(members))
  needed <- 0L
  change <- 0L
  for (k in order) {
    needed <- max(needed,
                  .subset2(members[[k]], "forward_min_event_ndims") - change)
    change <- change + rank_change(members[[k]])
  }
  c(forward = needed, inverse = needed + change)
}

# The event rank each member sees when the chain is called with
# `event_ndims` in the forward direction (`inverse = FALSE`: at x) or the
# inverse direction (at y), by member position.
chain_member_event_ndims <- function(members, event_ndims, inverse) {
  ndims <- integer(length(members))
  order <- if (inverse) seq_along(members) else rev(seq_along(members))
  current <- as.integer(event_ndims)
  for (k in order) {
    ndims[[k]] <- current
    current <- current + if (inverse) -rank_change(members[[k]]) else
      rank_change(members[[k]])
  }
  ndims
}

#' @export
bijector_forward_event_shape.tfb_chain <- function(bijector, shape) {
  for (member in rev(.subset2(bijector, "bijectors"))) {
    shape <- map_event_dims(member, shape,
                            .subset2(member, "forward_min_event_ndims"),
                            forward = TRUE)
  }
  shape
}

#' @export
bijector_inverse_event_shape.tfb_chain <- function(bijector, shape) {
  for (member in .subset2(bijector, "bijectors")) {
    shape <- map_event_dims(member, shape,
                            .subset2(member, "inverse_min_event_ndims"),
                            forward = FALSE)
  }
  shape
}

#' @export
bijector_changes_shape.tfb_chain <- function(bijector) {
  any(vapply(.subset2(bijector, "bijectors"), bijector_changes_shape,
             logical(1)))
}

#' @export
bijector_forward_event_shape.tfb_invert <- function(bijector, shape) {
  bijector_inverse_event_shape(.subset2(bijector, "bijector"), shape)
}

#' @export
bijector_inverse_event_shape.tfb_invert <- function(bijector, shape) {
  bijector_forward_event_shape(.subset2(bijector, "bijector"), shape)
}

#' @export
bijector_changes_shape.tfb_invert <- function(bijector) {
  bijector_changes_shape(.subset2(bijector, "bijector"))
}
