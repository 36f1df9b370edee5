# The passes of recompute_batch_statistics(): the data, from a matrix or a
# generator, regrouped into blocks of fixed size, and one pass over them per
# batch-normalization layer, each layer gathering the moments of its input
# block by block (src/batch_norm.c, C_bn_moments_update).

# Rows are regrouped into blocks of this many before they enter the flow,
# whatever batches they came in, so that every layer sees the same blocks
# from a matrix and from any generator, and its statistics, merged block
# by block, are the same to the bit. (4096 rows: the chunk of the moments
# kernel of src/batch_norm.c for a feature column.)
statistics_block_rows <- 4096L

# The layers' statistics depend on those of the layers before them, so each
# layer takes one pass over the data: the layers before it run in
# evaluation mode with their new statistics, it gathers the moments of its
# input block by block, and the traversal of each block stops there.
#
# The first block is kept, and at the end the whole flow is evaluated on it
# with the new statistics: members after the last layer are never reached
# by the passes, and a flow that cannot evaluate its data (a failing
# network) is then an error, with every layer put back by the caller.
# Without any layer a generator is not read at all.
recompute_over_passes <- function(bijector, next_pass, generator) {
  count <- statistics_layer_count(bijector)
  first_block <- NULL
  if (count == 0L && !generator) {
    first_block <- next_pass()()
  }
  for (target in seq_len(count)) {
    next_block <- next_pass()
    pass <- new_statistics_pass(target)
    blocks <- 0L
    repeat {
      block <- next_block()
      if (is.null(block)) {
        break
      }
      blocks <- blocks + 1L
      if (target == 1L && blocks == 1L) {
        first_block <- block
      }
      with_statistics_pass(pass, bijector_recompute_statistics(bijector,
                                                               block))
      pass$seen <- 0L
    }
    if (blocks == 0L) {
      abort_bijectors("empty_batch", "`x` has no rows.")
    }
    if (is.null(pass$totals)) {
      abort_bijectors("internal", paste(
        "Internal error: a pass of recompute_batch_statistics() did not",
        "reach its batch-normalization layer."))
    }
    bn_finish_statistics_pass(pass)
  }
  if (!is.null(first_block)) {
    with_statistics_pass(new_statistics_pass(Inf),
                         bijector_recompute_statistics(bijector, first_block))
  }
  invisible(bijector)
}

# One pass over data held whole (a bare vector given with a bijector).
bijector_statistics_pass <- function(bijector, y, count) {
  for (target in seq_len(count)) {
    pass <- new_statistics_pass(target)
    with_statistics_pass(pass, bijector_recompute_statistics(bijector, y))
    bn_finish_statistics_pass(pass)
  }
  with_statistics_pass(new_statistics_pass(Inf),
                       bijector_recompute_statistics(bijector, y))
  invisible(bijector)
}

# The batch-normalization layers a pass over a bijector meets, counted as
# the bijector_recompute_statistics() methods traverse: chains and
# blockwise bijectors pass the data to each member; tfb_invert() and every
# other kind evaluate (batch normalization inside them keeps its
# statistics). A layer used twice counts twice, and is recomputed twice,
# as a single pass over all the data would do.
statistics_layer_count <- function(bijector) {
  if (inherits(bijector, "tfb_batch_normalization")) {
    return(1L)
  }
  if (inherits(bijector, c("tfb_chain", "tfb_blockwise"))) {
    return(sum(vapply(.subset2(bijector, "bijectors"),
                      statistics_layer_count, integer(1))))
  }
  0L
}

statistics_pass_state <- new.env(parent = emptyenv())

new_statistics_pass <- function(target) {
  pass <- new.env(parent = emptyenv())
  pass$target <- target
  pass$seen <- 0L
  pass$totals <- NULL
  pass$layer <- NULL
  pass
}

# Runs the traversal of one block with `pass` as the current pass, until
# the target layer ends it.
with_statistics_pass <- function(pass, expr) {
  previous <- statistics_pass_state$current
  statistics_pass_state$current <- pass
  on.exit(statistics_pass_state$current <- previous)
  tryCatch(expr, bijectors_statistics_target_reached = function(condition) {
    NULL
  })
  invisible()
}

statistics_target_reached <- function() {
  stop(structure(class = c("bijectors_statistics_target_reached",
                           "condition"),
                 list(message = "statistics gathered", call = NULL)))
}

# ---- rows in, blocks out -----------------------------------------------------

# A function returning the rows of a checked matrix (or array, events along
# its first axis) in one piece, then NULL.
matrix_rows <- function(x) {
  done <- FALSE
  function() {
    if (done) {
      return(NULL)
    }
    done <<- TRUE
    x
  }
}

# A function returning the checked batches of one pass of a generator, then
# NULL.
generator_rows <- function(stream, distribution, is_distribution) {
  k <- 0L
  function() {
    k <<- k + 1L
    where <- sprintf("batch %d", k)
    batch <- stream_next(stream, where)
    if (is.null(batch)) {
      return(NULL)
    }
    if (is_distribution) {
      return(check_generator_batch(distribution, batch, stream, where))
    }
    tryCatch(check_finite_input(batch), bijectors_error = function(e) {
      what <- sub("^bijectors_error_", "", class(e)[[1L]])
      abort_bijectors(c("generator", what), sprintf(
        "The generator `x` returned a bad batch (%s): %s", where,
        conditionMessage(e)), parent = e)
    })
  }
}

# Regroups the pieces `next_rows()` returns into blocks of
# statistics_block_rows rows (the last one smaller), without dimnames.
# Pieces are gathered in a list and joined once per block.
statistics_blocks <- function(next_rows) {
  pieces <- list()
  held <- 0
  ended <- FALSE
  function() {
    while (!ended && held < statistics_block_rows) {
      rows <- next_rows()
      if (is.null(rows)) {
        ended <<- TRUE
      } else {
        pieces[[length(pieces) + 1L]] <<- rows
        held <<- held + dim(rows)[[1L]]
      }
    }
    if (held == 0) {
      return(NULL)
    }
    all <- if (length(pieces) == 1L) pieces[[1L]] else bind_events(pieces)
    if (held <= statistics_block_rows) {
      block <- all
      pieces <<- list()
      held <<- 0
    } else {
      block <- batch_rows(all, seq_len(statistics_block_rows))
      pieces <<- list(batch_rows(all, (statistics_block_rows + 1L):held))
      held <<- held - statistics_block_rows
    }
    dimnames(block) <- NULL
    block
  }
}

# Arrays of events joined along their first axis.
bind_events <- function(pieces) {
  event_dims <- dim(pieces[[1L]])[-1L]
  for (piece in pieces[-1L]) {
    if (length(dim(piece)) != length(event_dims) + 1L ||
        any(dim(piece)[-1L] != event_dims)) {
      abort_bijectors(c("generator", "event_size"), sprintf(paste(
        "The generator `x` returned batches of different event shapes: %s",
        "and %s."), format_shape(event_dims), format_shape(dim(piece)[-1L])))
    }
  }
  rows <- vapply(pieces, function(piece) dim(piece)[[1L]], numeric(1))
  joined <- do.call(rbind, lapply(pieces, function(piece) {
    matrix(piece, dim(piece)[[1L]])
  }))
  dim(joined) <- c(sum(rows), event_dims)
  joined
}
