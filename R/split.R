# The split bijector: one array cut along an axis into a list of parts (a
# multipart bijector, DESIGN 9: multipart values are R lists of arrays),
# and the parts joined back. Index work only, in R.

#' Split bijector
#'
#' Cuts each input along `axis` into parts, as tfprobability's `tfb_split()`
#' (TFP's `Split`): the forward map returns an R **list** of arrays, the
#' inverse takes such a list and concatenates it along `axis`. Both
#' log-determinants are 0 (one number; the map only moves values).
#'
#' `num_or_size_splits` is either one whole number `k` (TFP's integer mode:
#' `k` equal parts, and the size along `axis` must be divisible by `k`) or
#' the sizes of the parts: a vector of two or more whole numbers, or a list
#' of numbers as tfprobability takes it (a list is always sizes, so
#' `list(3)` is one part of size 3). One size may be `-1`: it takes what the
#' others leave. With sizes `c(2, -1)` along `axis = -2` of a
#' `[N, 5, 12]` array, the parts have shapes `[N, 2, 12]` and `[N, 3, 12]`.
#'
#' `axis` is negative, counted from the end (TFP requires it); the minimum
#' event ndims are `-axis` forward and `-axis` for each part in the
#' inverse (`inverse_min_event_ndims` has one value per part), and the
#' inverse log-determinant takes `event_ndims` per part, as tfprobability's
#' `c(1L, 1L, 1L)` (one number is used for every part). As TFP's parts
#' interact, every part must have the same event ndims.
#'
#' Within an event, elements keep TFP's row-major order (DESIGN 9); for an
#' `N x 6` matrix and sizes `c(1, 2, 3)`, the parts are `x[, 1]`, `x[, 2:3]`
#' and `x[, 4:6]`, each an `N x size` matrix.
#'
#' @param num_or_size_splits A whole number >= 1 (the number of equal parts)
#'   or the part sizes (whole numbers >= 0, at most one `-1`), as a vector of
#'   length >= 2 or a list.
#' @param axis A negative whole number: the axis to split, from the end.
#' @param validate_args `TRUE` or `FALSE`; the sizes are always checked.
#' @param name A string: the bijector's name.
#' @return A bijector of class `c("tfb_split", "bijector")` with the fields
#'   `$num_or_size_splits` (as given, normalised to integers), `$split_sizes`
#'   (the part sizes, `NA` where not known before the input) and `$axis`.
#' @family structural bijectors
#' @seealso `tfprobability::tfb_split()`; [tfb_blockwise()] to apply a
#'   bijector to each block of the last axis.
#' @examples
#' b <- tfb_split(c(1, 2, 3))
#' x <- matrix(1:12, nrow = 2, byrow = TRUE)
#' parts <- b$forward(x)
#' parts[[3]]                          # x[, 4:6]
#' b$inverse(parts)
#' b$inverse_log_det_jacobian(parts, event_ndims = c(1, 1, 1))   # 0
#' tfb_split(3)$forward(1:6)           # three parts of size 2
#' tfb_split(list(2, -1), axis = -2)$forward_event_shape(c(5, 12))
#' @export
tfb_split <- function(num_or_size_splits, axis = -1, validate_args = FALSE,
                      name = "split") {
  splits <- check_split_sizes(num_or_size_splits)
  axis <- check_negative_axis(axis)
  parts <- length(splits$sizes)
  new_bijector(
    "tfb_split",
    name = check_string(name, "name"),
    forward_min_event_ndims = -axis,
    inverse_min_event_ndims = rep(-axis, parts),
    validate_args = check_flag(validate_args, "validate_args"),
    num_or_size_splits = splits$given,
    split_sizes = splits$sizes,
    equal_parts = splits$equal_parts,
    axis = axis
  )
}

# list(given = , sizes = ): sizes with NA where unknown (equal parts, or
# the -1).
check_split_sizes <- function(x) {
  arg <- "num_or_size_splits"
  is_list <- is.list(x) && !is.object(x)
  values <- if (is_list) unlist(x) else x
  ok <- is.numeric(values) && !is.object(values) && length(values) >= 1L &&
    (!is_list || all(lengths(x) == 1L)) && length(dim(values)) <= 1L &&
    !anyNA(values) && all(is.finite(values)) &&
    all(values == round(values)) && all(abs(values) <= .Machine$integer.max)
  if (!ok) {
    abort_bijectors("argument", sprintf(paste(
      "`%s` must be an integer or a vector (or list) of whole numbers,",
      "not %s."), arg, describe_value(x)))
  }
  values <- as.integer(values)
  if (!is_list && length(values) == 1L) {
    if (values < 1L) {
      abort_bijectors("argument", sprintf(
        "`%s` as a number of parts must be at least 1, not %d.", arg, values))
    }
    return(list(given = values, sizes = rep(NA_integer_, values),
                equal_parts = TRUE))
  }
  if (sum(values == -1L) > 1L) {
    abort_bijectors("argument", sprintf(
      "`%s` elements must have at most one `-1`.", arg))
  }
  if (any(values < -1L)) {
    abort_bijectors("argument", sprintf(
      "`%s` elements must be either non-negative integers or `-1`.", arg))
  }
  sizes <- values
  sizes[sizes == -1L] <- NA_integer_
  list(given = if (is_list) as.list(values) else values, sizes = sizes,
       equal_parts = FALSE)
}

# The part sizes for an axis of length `total` (the `-1` or the equal parts
# worked out), or an error that says why they do not fit.
split_sizes_for <- function(bijector, total, arg) {
  sizes <- .subset2(bijector, "split_sizes")
  parts <- length(sizes)
  if (.subset2(bijector, "equal_parts")) {
    if (total %% parts != 0) {
      abort_bijectors("event_size", sprintf(paste(
        "The number of splits (%d) must divide the `axis` dimension of",
        "`%s` (%s)."), parts, arg, format(total)))
    }
    return(rep(as.integer(total / parts), parts))
  }
  known <- sum(as.double(sizes), na.rm = TRUE)
  if (anyNA(sizes)) {
    if (total < known) {
      abort_bijectors("event_size", sprintf(paste(
        "The size of `%s` along `axis` (%s) must be at least the sum of",
        "the known `split_sizes` (%s)."), arg, format(total), format(known)))
    }
    sizes[is.na(sizes)] <- as.integer(total - known)
  } else if (total != known) {
    abort_bijectors("event_size", sprintf(paste(
      "The size of `%s` along `axis` (%s) must equal the sum of",
      "`split_sizes` (%s)."), arg, format(total), format(known)))
  }
  sizes
}

# The position of the split axis in an input of `rank` dims.
split_position <- function(bijector, rank, arg) {
  axis <- .subset2(bijector, "axis")
  if (rank < -axis) {
    abort_bijectors("input", sprintf(
      "`%s` has rank %d, too low for a split along axis %d.", arg, rank,
      axis))
  }
  rank + 1L + axis
}

# The slices `index` of x along dim `position`, keeping the rank.
slice_along <- function(x, dims, position, index) {
  if (length(dims) == 1L) {
    return(x[index])
  }
  subscripts <- rep(list(quote(expr = )), length(dims))
  subscripts[[position]] <- index
  out <- do.call(`[`, c(list(x), subscripts, list(drop = FALSE)))
  dimnames(out) <- NULL
  out
}

split_apply <- function(bijector, x, arg) {
  x <- as_input_array(x, arg)
  dims <- input_dims(x)
  position <- split_position(bijector, length(dims), arg)
  sizes <- split_sizes_for(bijector, dims[[position]], arg)
  ends <- cumsum(sizes)
  lapply(seq_along(sizes), function(k) {
    slice_along(x, dims, position, seq_len(sizes[[k]]) + ends[[k]] -
                  sizes[[k]])
  })
}

# The parts of y, checked (a list of arrays of one rank, matching sizes and
# equal dims off the axis), as list(parts = , dims = , position = ).
split_parts <- function(bijector, y, arg) {
  sizes <- .subset2(bijector, "split_sizes")
  if (!is.list(y) || is.object(y) || length(y) != length(sizes)) {
    abort_bijectors("input", sprintf(paste(
      "`%s` must be a list of %d arrays (one per part of the split), not",
      "%s."), arg, length(sizes), describe_value(y)))
  }
  parts <- lapply(seq_along(y), function(k) {
    as_input_array(y[[k]], sprintf("%s[[%d]]", arg, k))
  })
  part_dims <- lapply(parts, input_dims)
  rank <- length(part_dims[[1L]])
  position <- split_position(bijector, rank, sprintf("%s[[1]]", arg))
  along <- vapply(part_dims, function(d) as.double(d[position]), numeric(1))
  for (k in seq_along(parts)) {
    d <- part_dims[[k]]
    if (length(d) != rank ||
        any(d[-position] != part_dims[[1L]][-position])) {
      abort_bijectors("event_shape", sprintf(paste(
        "The parts of `%s` must have the same dims except along `axis`:",
        "`%s[[1]]` has %s and `%s[[%d]]` has %s."), arg, arg,
        format_shape(part_dims[[1L]]), arg, k, format_shape(d)))
    }
  }
  expected <- split_sizes_for(bijector, sum(along), arg)
  if (any(along != expected)) {
    k <- which(along != expected)[[1L]]
    abort_bijectors("event_size", sprintf(paste(
      "Inverse shape dimension (=%s) of `%s[[%d]]` does not match expected",
      "`split_size` dimension (=%s)."), format(along[[k]]), arg, k,
      format(expected[[k]])))
  }
  list(parts = parts, dims = part_dims[[1L]], position = position,
       sizes = expected)
}

join_apply <- function(bijector, y, arg) {
  input <- split_parts(bijector, y, arg)
  dims <- input$dims
  position <- input$position
  rank <- length(dims)
  if (rank == 1L) {
    return(unlist(input$parts, use.names = FALSE))
  }
  # the split axis moved last, the parts bound as columns, and back
  order <- c(seq_len(rank)[-position], position)
  columns <- lapply(input$parts, function(part) {
    matrix(aperm(part, order), nrow = prod(as.double(dims[-position])),
           ncol = dim(part)[[position]])
  })
  joined <- do.call(cbind, columns)
  out_dims <- dims
  out_dims[[position]] <- sum(input$sizes)
  aperm(array(joined, out_dims[order]), order(order))
}

#' @export
bijector_forward.tfb_split <- function(bijector, x) {
  split_apply(bijector, x, "x")
}

#' @export
bijector_inverse.tfb_split <- function(bijector, y) {
  join_apply(bijector, y, "y")
}

#' @export
bijector_forward_log_det_jacobian.tfb_split <- function(bijector, x,
                                                        event_ndims) {
  split_apply(bijector, x, "x")
  0
}

# The base hands the list of parts and event_ndims unchecked (the inverse
# minimum is one value per part): TFP's rule for interacting parts.
#' @export
bijector_inverse_log_det_jacobian.tfb_split <- function(bijector, y,
                                                        event_ndims) {
  input <- split_parts(bijector, y, "y")
  split_event_ndims(bijector, event_ndims, length(input$dims))
  0
}

split_event_ndims <- function(bijector, event_ndims, rank) {
  parts <- length(.subset2(bijector, "split_sizes"))
  if (is.null(event_ndims) || !is.numeric(event_ndims) ||
      !(length(event_ndims) %in% c(1L, parts))) {
    abort_bijectors("event_ndims", sprintf(paste(
      "`event_ndims` is required for the inverse of a split: one whole",
      "number per part (%d), such as c(%s), not %s."), parts,
      paste(rep(-.subset2(bijector, "axis"), parts), collapse = ", "),
      describe_value(event_ndims)))
  }
  if (length(unique(event_ndims)) != 1L) {
    abort_bijectors("event_ndims", paste(
      "`event_ndims` components to the left of `min_event_ndims` must be",
      "equal: the parts of a split interact, so every part needs the same",
      "event ndims."))
  }
  check_event_ndims(event_ndims[[1L]], -.subset2(bijector, "axis"), rank,
                    "y")
}

#' @export
bijector_forward_event_shape.tfb_split <- function(bijector, shape) {
  position <- split_position(bijector, length(shape), "input_shape")
  sizes <- split_sizes_for(bijector, shape[[position]], "input_shape")
  lapply(sizes, function(size) {
    out <- shape
    out[[position]] <- size
    as.integer(out)
  })
}

#' @export
bijector_inverse_event_shape.tfb_split <- function(bijector, shape) {
  if (!is.list(shape) || length(shape) == 0L) {
    abort_bijectors("event_shape", sprintf(
      "`output_shape` must be a list of %d event shapes, one per part.",
      length(.subset2(bijector, "split_sizes"))))
  }
  parts <- lapply(shape, function(s) as.integer(unlist(s)))
  rank <- length(parts[[1L]])
  position <- split_position(bijector, rank, "output_shape")
  along <- vapply(parts, function(s) as.double(s[[position]]), numeric(1))
  sizes <- split_sizes_for(bijector, sum(along), "output_shape")
  if (length(parts) != length(sizes) || any(along != sizes) ||
      any(vapply(parts, function(s) length(s) != rank ||
                   any(s[-position] != parts[[1L]][-position]), logical(1)))) {
    abort_bijectors("event_size", sprintf(
      "The part shapes do not match the split sizes %s.",
      format_shape(sizes)))
  }
  out <- parts[[1L]]
  out[[position]] <- as.integer(sum(sizes))
  out
}

#' @export
bijector_changes_shape.tfb_split <- function(bijector) {
  TRUE
}

# ---- training ------------------------------------------------------------

# No parameters, log-det 0: the gradient of a split is the gradients of the
# parts joined, and that of a join is the gradient split.

#' @export
bijector_forward_with_cache.tfb_split <- function(bijector, x, event_ndims) {
  log_det <- bijector_forward_log_det_jacobian(bijector, x, event_ndims)
  list(y = split_apply(bijector, x, "x"), log_det = log_det, cache = NULL)
}

#' @export
bijector_forward_backward.tfb_split <- function(bijector, cache, grad_y,
                                                grad_log_det) {
  list(input = join_apply(bijector, grad_y, "grad_y"), parameters = list())
}

#' @export
bijector_inverse_with_cache.tfb_split <- function(bijector, y, event_ndims) {
  log_det <- bijector_inverse_log_det_jacobian(bijector, y, event_ndims)
  list(x = join_apply(bijector, y, "y"), log_det = log_det, cache = NULL)
}

#' @export
bijector_inverse_backward.tfb_split <- function(bijector, cache, grad_x,
                                                grad_log_det) {
  list(input = split_apply(bijector, grad_x, "grad_x"), parameters = list())
}

#' @export
object_field_names.tfb_split <- function(x) {
  c(NextMethod(), "num_or_size_splits", "split_sizes", "axis")
}

#' @export
format.tfb_split <- function(x, ...) {
  sizes <- .subset2(x, "split_sizes")
  c(NextMethod(),
    sprintf("  split_sizes: %s, axis: %d",
            format_shape(ifelse(is.na(sizes), "?", sizes)),
            .subset2(x, "axis")))
}
