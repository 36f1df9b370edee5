# The pad bijector: tf.pad() on some of the rightmost axes of each event;
# the inverse slices the padding off. Index work only, in R.

#' Pad bijector
#'
#' Pads the input along one or more of its rightmost axes, as
#' tfprobability's `tfb_pad()` (TensorFlow's `tf.pad()`): along `axis[i]`,
#' `paddings[[i]][1]` values are added before and `paddings[[i]][2]` after.
#' The inverse drops them again (without looking at them unless
#' `validate_args = TRUE`). The map adds coordinates, so both
#' log-determinants are taken with respect to the free coordinates (the
#' input's, and the unpadded part of the output), TFP's rule: they are 0.
#'
#' `mode` is `"CONSTANT"` (pad with `constant_values`), `"REFLECT"` (mirror
#' without the edge value; each pad at most the axis length minus 1) or
#' `"SYMMETRIC"` (mirror with the edge; each pad at most the axis length),
#' in any case. With the defaults, `x[n, 1:K]` becomes
#' `y[n, ] = c(x[n, ], 0)`; for a matrix event padded on both axes, the
#' corner values follow TensorFlow's `tf.pad()` (row-major order within an
#' event, DESIGN 9: `y[n, i, j]` is row `i`, column `j` of event `n`). The
#' outputs have no `dimnames`.
#'
#' @param paddings A list of pairs `c(before, after)` of non-negative
#'   whole numbers, one per padded axis (or a matrix with two columns). A bare pair
#'   `c(0, 1)` is refused, as in tfprobability: wrap it in `list()`.
#' @param mode `"CONSTANT"`, `"REFLECT"` or `"SYMMETRIC"` (case ignored).
#' @param constant_values A number: the padding value in `"CONSTANT"` mode.
#' @param axis `NULL` (the rightmost `length(paddings)` axes, in order) or
#'   distinct negative whole numbers, one per pair: the padded axes,
#'   counted from the end (`-1` is the last).
#' @param validate_args `TRUE` or `FALSE`: with `TRUE` the inverse refuses
#'   `y` whose padding is not what the forward map would put there (an error
#'   of class `bijectors_error_domain`).
#' @param name A string, or `NULL` for `"pad"`.
#' @return A bijector of class `c("tfb_pad", "bijector")` with
#'   `forward_min_event_ndims = inverse_min_event_ndims = max(-axis)` and the
#'   fields `$paddings`, `$mode`, `$constant_values` and `$axis`.
#' @family structural bijectors
#' @seealso `tfprobability::tfb_pad()`; [tfb_reshape()],
#'   [tfb_forward_event_shape()].
#' @examples
#' tfb_pad()$forward(rbind(c(1, 2), c(3, 4)))          # a column of zeros
#' tfb_pad()$inverse(c(3, 4, 0))
#' tfb_pad(axis = -2)$forward(array(c(3, 4), c(1, 1, 2)))[1, , ]
#' tfb_pad(list(c(2, 1)), mode = "reflect")$forward(c(1, 2, 3))  # 3 2 1 2 3 2
#' tfb_pad(list(c(1, 2), c(3, 4)))$forward_event_shape(c(1, 2))  # 4 9
#' @export
tfb_pad <- function(paddings = list(c(0, 1)), mode = "CONSTANT",
                    constant_values = 0, axis = NULL, validate_args = FALSE,
                    name = NULL) {
  paddings <- check_paddings(paddings)
  modes <- c("CONSTANT", "REFLECT", "SYMMETRIC")
  if (!is.character(mode) || length(mode) != 1L || is.na(mode) ||
      !toupper(mode) %in% modes) {
    abort_bijectors("argument", sprintf(
      "`mode` must be \"CONSTANT\", \"REFLECT\" or \"SYMMETRIC\", not %s.",
      describe_value(mode)))
  }
  ok <- is.numeric(constant_values) && !is.object(constant_values) &&
    length(constant_values) == 1L && !is.na(constant_values)
  if (!ok) {
    abort_bijectors("argument", sprintf(
      "`constant_values` must be a single number, not %s.",
      describe_value(constant_values)))
  }
  if (is.null(axis)) {
    axis <- -rev(seq_len(nrow(paddings)))
  } else {
    ok <- is.numeric(axis) && !is.object(axis) && length(axis) >= 1L &&
      length(dim(axis)) <= 1L && !anyNA(axis) && all(is.finite(axis)) &&
      all(axis == round(axis)) && all(abs(axis) <= .Machine$integer.max)
    if (!ok) {
      abort_bijectors("axis", sprintf(
        "`axis` must be a vector of negative whole numbers, not %s.",
        describe_value(axis)))
    }
    if (any(axis >= 0)) {
      abort_bijectors("axis", paste(
        "`axis` must be negative (counted from the end: -1 is the last",
        "axis): the padded axes belong to the event."))
    }
    if (anyDuplicated(axis)) {
      abort_bijectors("axis", "`axis` must not repeat an axis.")
    }
    if (length(axis) != nrow(paddings)) {
      abort_bijectors("argument", sprintf(paste(
        "`axis` and `paddings` must have the same number of elements, not",
        "%d and %d."), length(axis), nrow(paddings)))
    }
  }
  axis <- as.integer(axis)
  new_bijector(
    "tfb_pad",
    name = check_string(name %||% "pad", "name"),
    forward_min_event_ndims = max(-axis),
    validate_args = check_flag(validate_args, "validate_args"),
    paddings = paddings,
    mode = toupper(mode),
    constant_values = as.double(constant_values),
    axis = axis
  )
}

# Pairs c(before, after) as an integer matrix with one row per axis.
check_paddings <- function(paddings) {
  pair <- function(p) {
    is.numeric(p) && !is.object(p) && length(p) == 2L &&
      length(dim(p)) <= 1L && !anyNA(p) && all(is.finite(p)) &&
      all(p == round(p)) && all(abs(p) <= .Machine$integer.max)
  }
  if (is.list(paddings) && !is.object(paddings) && length(paddings) >= 1L &&
      all(vapply(paddings, pair, logical(1)))) {
    paddings <- do.call(rbind, lapply(paddings, as.double))
  } else if (is.matrix(paddings) && is.numeric(paddings) &&
             ncol(paddings) == 2L && nrow(paddings) >= 1L &&
             all(apply(paddings, 1L, pair))) {
    paddings <- unname(paddings)
  } else {
    # a list names its first bad pair (describing the whole list as "an
    # object of class <list>" did not say what was wrong with it)
    bad <- if (is.list(paddings) && !is.object(paddings) &&
               length(paddings) >= 1L) {
      first <- which(!vapply(paddings, pair, logical(1)))[[1L]]
      sprintf("`paddings[[%d]]` is %s", first,
              describe_parameter_value(paddings[[first]]))
    } else {
      paste("not", describe_value(paddings))
    }
    abort_bijectors("argument", sprintf(paste(
      "`paddings` must be a list of pairs of whole numbers, one",
      "c(before, after) per padded axis, such as list(c(0, 1)); %s."),
      bad))
  }
  if (any(paddings < 0)) {
    abort_bijectors("argument", "`paddings` must be non-negative.")
  }
  storage.mode(paddings) <- "integer"
  paddings
}

#' @export
object_field_names.tfb_pad <- function(x) {
  c(NextMethod(), "paddings", "mode", "constant_values", "axis")
}

#' @export
bijector_changes_shape.tfb_pad <- function(bijector) {
  TRUE
}

# For each padded axis of an input of dims `dims`: its position, the pads
# and the input and output sizes along it, checked. `forward`: dims are the
# input's (x); otherwise the output's (y).
pad_plan <- function(bijector, dims, forward, arg) {
  axis <- .subset2(bijector, "axis")
  paddings <- .subset2(bijector, "paddings")
  mode <- .subset2(bijector, "mode")
  rank <- length(dims)
  if (rank < max(-axis)) {
    abort_bijectors("input", sprintf(
      "`%s` has rank %d, too low to pad along axis %d.", arg, rank,
      min(axis)))
  }
  lapply(seq_along(axis), function(i) {
    position <- rank + 1L + axis[[i]]
    before <- paddings[i, 1L]
    after <- paddings[i, 2L]
    size <- dims[[position]]
    inner <- if (forward) size else size - before - after
    if (inner < 0) {
      abort_bijectors("event_shape", sprintf(paste(
        "Invalid inverse shape: `%s` has size %s along axis %d, less than",
        "its padding %d + %d."), arg, format(size), axis[[i]], before,
        after))
    }
    limit <- switch(mode, CONSTANT = Inf, REFLECT = inner - 1, SYMMETRIC = inner)
    if (max(before, after) > limit) {
      abort_bijectors("event_size", sprintf(paste(
        "In \"%s\" mode each padding must be at most %s along axis %d",
        "(of size %s), not %d."), mode, format(max(limit, 0)), axis[[i]],
        format(inner), max(before, after)))
    }
    list(position = position, before = before, after = after, inner = inner,
         outer = inner + before + after)
  })
}

# For a mirrored pad, the input index (1-based) of each output position.
pad_source_index <- function(step, mode) {
  t <- seq_len(step$outer) - step$before
  n <- step$inner
  if (mode == "REFLECT") {
    t <- ifelse(t < 1L, 2L - t, ifelse(t > n, 2L * n - t, t))
  } else {
    t <- ifelse(t < 1L, 1L - t, ifelse(t > n, 2L * n + 1L - t, t))
  }
  as.integer(t)
}

index_along <- function(x, position, index) {
  if (length(dim(x)) <= 1L) {
    return(as.vector(x)[index])
  }
  subscripts <- rep(list(quote(expr = )), length(dim(x)))
  subscripts[[position]] <- index
  do.call(`[`, c(list(x), subscripts, list(drop = FALSE)))
}

# Pads `x` (its values, no dimnames) step by step along each axis.
pad_values <- function(x, plan, mode, constant) {
  for (step in plan) {
    if (mode == "CONSTANT") {
      dims <- input_dims(x)
      out_dims <- dims
      out_dims[[step$position]] <- step$outer
      out <- array(constant, out_dims)
      interior <- step$before + seq_len(step$inner)
      if (length(dims) == 1L) {
        out <- as.vector(out)
        out[interior] <- x
      } else {
        subscripts <- rep(list(quote(expr = )), length(dims))
        subscripts[[step$position]] <- interior
        out <- do.call(`[<-`, c(list(out), subscripts, list(value = x)))
      }
      x <- out
    } else {
      x <- index_along(x, step$position, pad_source_index(step, mode))
    }
  }
  x
}

# Drops the padding of `y` along each axis.
unpad_values <- function(y, plan) {
  for (step in plan) {
    y <- index_along(y, step$position, step$before + seq_len(step$inner))
  }
  y
}

# The transpose of a mirrored pad along one axis: the gradient of each
# output position is added to its source position.
unpad_sum <- function(g, step, mode) {
  source <- pad_source_index(step, mode)
  dims <- input_dims(g)
  rank <- length(dims)
  if (rank == 1L) {
    return(as.vector(rowsum(as.vector(g), source, reorder = TRUE)))
  }
  order <- c(step$position, seq_len(rank)[-step$position])
  moved <- aperm(g, order)
  summed <- rowsum(matrix(moved, nrow = dims[[step$position]]), source,
                   reorder = TRUE)
  out_dims <- dims
  out_dims[[step$position]] <- step$inner
  aperm(array(summed, out_dims[order]), order(order))
}

strip_dimnames <- function(x) {
  dimnames(x) <- NULL
  names(x) <- NULL
  x
}

pad_apply <- function(bijector, x, arg, forward) {
  x <- strip_dimnames(as_input_array(x, arg))
  plan <- pad_plan(bijector, input_dims(x), forward, arg)
  if (forward) {
    return(pad_values(x, plan, .subset2(bijector, "mode"),
                      .subset2(bijector, "constant_values")))
  }
  out <- unpad_values(x, plan)
  if (.subset2(bijector, "validate_args")) {
    padded <- pad_values(out, pad_plan(bijector, input_dims(out), TRUE, arg),
                         .subset2(bijector, "mode"),
                         .subset2(bijector, "constant_values"))
    if (!isTRUE(all(padded == x))) {
      abort_bijectors("domain", sprintf(paste(
        "`%s` was not padded as the forward map pads (with",
        "`constant_values` in \"CONSTANT\" mode)."), arg))
    }
  }
  out
}

#' @export
bijector_forward.tfb_pad <- function(bijector, x) {
  pad_apply(bijector, x, "x", forward = TRUE)
}

#' @export
bijector_inverse.tfb_pad <- function(bijector, y) {
  pad_apply(bijector, y, "y", forward = FALSE)
}

pad_event_shape <- function(bijector, shape, forward) {
  plan <- pad_plan(bijector, shape, forward,
                   if (forward) "input_shape" else "output_shape")
  for (step in plan) {
    shape[[step$position]] <- if (forward) step$outer else step$inner
  }
  shape
}

#' @export
bijector_forward_event_shape.tfb_pad <- function(bijector, shape) {
  pad_event_shape(bijector, shape, forward = TRUE)
}

#' @export
bijector_inverse_event_shape.tfb_pad <- function(bijector, shape) {
  pad_event_shape(bijector, shape, forward = FALSE)
}

# Log-dets: 0 with respect to the free coordinates, whatever the mode.
pad_log_det <- function(bijector, x, event_ndims, arg, forward) {
  x <- as_input_array(x, arg)
  check_event_ndims(event_ndims, .subset2(bijector, "forward_min_event_ndims"),
                    length(input_dims(x)), arg)
  pad_plan(bijector, input_dims(x), forward, arg)
  0
}

#' @export
bijector_forward_log_det_jacobian.tfb_pad <- function(bijector, x,
                                                      event_ndims) {
  pad_log_det(bijector, x, event_ndims, "x", forward = TRUE)
}

#' @export
bijector_inverse_log_det_jacobian.tfb_pad <- function(bijector, y,
                                                      event_ndims) {
  pad_log_det(bijector, y, event_ndims, "y", forward = FALSE)
}

# Training: no parameters, log-det 0. The VJP of the slice (the inverse)
# pads the gradient with zeros; that of the pad is the slice in "CONSTANT"
# mode, and adds the mirrored positions' gradients back in the other modes.

#' @export
bijector_forward_with_cache.tfb_pad <- function(bijector, x, event_ndims) {
  log_det <- pad_log_det(bijector, x, event_ndims, "x", forward = TRUE)
  list(y = pad_apply(bijector, x, "x", forward = TRUE), log_det = log_det,
       cache = NULL)
}

#' @export
bijector_forward_backward.tfb_pad <- function(bijector, cache, grad_y,
                                              grad_log_det) {
  g <- strip_dimnames(as_input_array(grad_y, "grad_y"))
  plan <- pad_plan(bijector, input_dims(g), FALSE, "grad_y")
  mode <- .subset2(bijector, "mode")
  if (mode == "CONSTANT") {
    g <- unpad_values(g, plan)
  } else {
    for (step in rev(plan)) {
      g <- unpad_sum(g, step, mode)
    }
  }
  list(input = g, parameters = list())
}

#' @export
bijector_inverse_with_cache.tfb_pad <- function(bijector, y, event_ndims) {
  log_det <- pad_log_det(bijector, y, event_ndims, "y", forward = FALSE)
  list(x = pad_apply(bijector, y, "y", forward = FALSE), log_det = log_det,
       cache = NULL)
}

#' @export
bijector_inverse_backward.tfb_pad <- function(bijector, cache, grad_x,
                                              grad_log_det) {
  g <- strip_dimnames(as_input_array(grad_x, "grad_x"))
  plan <- pad_plan(bijector, input_dims(g), TRUE, "grad_x")
  list(input = pad_values(g, plan, "CONSTANT", 0), parameters = list())
}

#' @export
format.tfb_pad <- function(x, ...) {
  paddings <- .subset2(x, "paddings")
  pairs <- paste0("c(", paddings[, 1L], ", ", paddings[, 2L], ")",
                  collapse = ", ")
  c(NextMethod(), sprintf("  paddings: list(%s), axis: %s, mode: %s%s",
                          pairs,
                          format_values(.subset2(x, "axis"), max = 10L),
                          .subset2(x, "mode"),
                          if (.subset2(x, "mode") == "CONSTANT")
                            sprintf(", constant_values: %s",
                                    format(.subset2(x, "constant_values")))
                          else ""))
}
