# Generics that walk a flow's structure: a composite's children, its
# batch-normalization layers, the same flow in training or evaluation mode,
# and the evaluation protocol that recomputes the layers' statistics. The
# defaults walk the children (bijector_children()), so only batch
# normalization and composites with an order of their own (invert's
# reversed layers, a chain's sequential recomputation) have methods.

# The bijectors a composite (a chain, an invert) is made of, in the order
# its inverse (density) pass visits them, and the same composite rebuilt
# around other children with its own settings. The walkers below (layers,
# modes, event constraints, shape checks) go through these two generics,
# so a new composite kind gets them by saying what its children are.
bijector_children <- function(bijector) {
  UseMethod("bijector_children")
}

#' @export
bijector_children.default <- function(bijector) {
  list()
}

bijector_with_children <- function(bijector, children) {
  UseMethod("bijector_with_children")
}

#' @export
bijector_with_children.default <- function(bijector, children) {
  bijector
}

# The distinct batch-normalization layers in the flow, in inverse (density)
# order.
bijector_batchnorm_layers <- function(bijector) {
  UseMethod("bijector_batchnorm_layers")
}

#' @export
bijector_batchnorm_layers.default <- function(bijector) {
  layers <- list()
  for (child in bijector_children(bijector)) {
    for (layer in bijector_batchnorm_layers(child)) {
      known <- vapply(layers, identical, logical(1), layer)
      if (!any(known)) {
        layers[[length(layers) + 1L]] <- layer
      }
    }
  }
  layers
}

# The same bijector with every batch-normalization bijector in it in
# training (TRUE) or evaluation (FALSE) mode, sharing the layers, templates
# and parameter owners. A composite whose children do not change is
# returned as it is.
bijector_with_mode <- function(bijector, training) {
  UseMethod("bijector_with_mode")
}

#' @export
bijector_with_mode.default <- function(bijector, training) {
  children <- bijector_children(bijector)
  if (length(children) == 0L) {
    return(bijector)
  }
  converted <- lapply(children, bijector_with_mode, training = training)
  same <- vapply(seq_along(children), function(k) {
    identical(converted[[k]], children[[k]])
  }, logical(1))
  if (all(same)) {
    return(bijector)
  }
  bijector_with_children(bijector, converted)
}

# The inverse of y in evaluation mode after setting each batch-normalization
# layer's running statistics to the mean and biased variance of its input
# over all of y, layer after layer along the density direction.
bijector_recompute_statistics <- function(bijector, y) {
  UseMethod("bijector_recompute_statistics")
}

#' @export
bijector_recompute_statistics.default <- function(bijector, y) {
  bijector_inverse(bijector_with_mode(bijector, FALSE), y)
}

# ---- statistics transactions -----------------------------------------------

# The batch-normalization layers of a bijector or a transformed
# distribution; none for anything else.
object_batchnorm_layers <- function(object) {
  if (inherits(object, "tfd_transformed_distribution")) {
    return(bijector_batchnorm_layers(.subset2(object, "bijector")))
  }
  if (inherits(object, "bijector")) {
    return(bijector_batchnorm_layers(object))
  }
  list()
}

# The layers whose statistics a call on `object` may move and then fail to
# finish: those of training-mode batch normalization inside a composite or
# a distribution. A lone bijector needs none: each kind changes its state
# only once nothing can fail any more (batch normalization refuses a batch
# before writing), so a call on it alone is its own transaction, and
# snapshots would only cost time on every call.
statistics_at_risk <- function(object) {
  # the common leaves first, without the children generic's dispatch (a
  # lone batch normalization keeps its own statistics consistent)
  if (inherits(object, statistics_free_kinds)) {
    return(list())
  }
  # A composite's layers follow from its structure, which never changes
  # once it is made (its members are fixed, and so is each batch
  # normalization's mode): the answer for the last composite asked is kept,
  # since walking a chain costs more than a small batch's log_prob().
  cache <- statistics_at_risk_cache
  if (identical(cache$object, object)) {
    return(cache$layers)
  }
  if (inherits(object, "tfd_transformed_distribution")) {
    root <- .subset2(object, "bijector")
  } else if (inherits(object, c("tfb_chain", "tfb_invert")) ||
             (inherits(object, "bijector") &&
                length(bijector_children(object)) > 0L)) {
    root <- object
  } else {
    return(list())
  }
  layers <- training_batchnorm_layers(root)
  if (is.environment(object)) {
    cache$object <- object
    cache$layers <- layers
  }
  layers
}

# The last composite statistics_at_risk() walked, and its layers. It keeps
# that object referenced until another composite replaces it.
statistics_at_risk_cache <- new.env(parent = emptyenv())

# Kinds that never put running statistics at risk: elementwise maps, and a
# lone batch normalization (its kernel refuses a batch before writing).
statistics_free_kinds <- c("tfb_elementwise", "tfb_batch_normalization")

training_batchnorm_layers <- function(bijector) {
  if (inherits(bijector, "tfb_elementwise")) {
    return(list())
  }
  if (inherits(bijector, "tfb_batch_normalization")) {
    return(if (.subset2(bijector, "training"))
      list(.subset2(bijector, "batchnorm")) else list())
  }
  layers <- list()
  for (child in bijector_children(bijector)) {
    for (layer in training_batchnorm_layers(child)) {
      if (!any(vapply(layers, identical, logical(1), layer))) {
        layers[[length(layers) + 1L]] <- layer
      }
    }
  }
  layers
}

# A layer's running statistics, or NULL while it is not built.
layer_statistics_snapshot <- function(layer) {
  if (is.null(.subset2(layer, "state"))) NULL else bn_moving_statistics(layer)
}

# Puts snapshots back as they were taken, without set_weights()' checks:
# they held once, and a layer that was not built is unbuilt again.
restore_layer_statistics <- function(layers, statistics) {
  for (k in seq_along(layers)) {
    # a layer the failed call did not move is left exactly as it is
    if (identical(layer_statistics_snapshot(layers[[k]]), statistics[[k]])) {
      next
    }
    if (is.null(statistics[[k]])) {
      bn_unbuild(layers[[k]])
    } else {
      bn_replace_moving_statistics(layers[[k]], statistics[[k]]$mean,
                                   statistics[[k]]$variance)
    }
  }
  invisible()
}

# Evaluates `expr`, which may move the running statistics of the
# batch-normalization layers of `object` (or build them), as one
# transaction: if it does not complete (an error, an interrupt, any other
# jump), every layer gets back the statistics and the built-ness it had.
# With `commit`, a function, `commit(value)` runs after `expr` with
# interrupts suspended, and the transaction counts as done in the same
# uninterruptible block, so an interrupt lands either before the commit
# (everything is put back) or after it (nothing is). Snapshots are copies
# of per-feature vectors, taken once per call.
with_statistics_rollback <- function(object, expr, commit = NULL,
                                     layers = statistics_at_risk(object)) {
  if (length(layers) == 0L && is.null(commit)) {
    return(expr)
  }
  statistics <- lapply(layers, layer_statistics_snapshot)
  committed <- FALSE
  on.exit(if (!committed) {
    suspendInterrupts(restore_layer_statistics(layers, statistics))
  })
  value <- expr
  suspendInterrupts({
    if (!is.null(commit)) {
      commit(value)
    }
    committed <- TRUE
  })
  value
}
