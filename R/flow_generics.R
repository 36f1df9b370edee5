# Generics of the training loop that walk a flow's structure: its
# batch-normalization layers, the same flow in training or evaluation mode,
# and the evaluation protocol that recomputes the layers' statistics. Kinds
# that hold or contain batch normalization implement them (batch
# normalization, chain, invert); the defaults fit every other kind.

# The distinct batch-normalization layers in the flow, in inverse (density)
# order.
bijector_batchnorm_layers <- function(bijector) {
  UseMethod("bijector_batchnorm_layers")
}

#' @export
bijector_batchnorm_layers.default <- function(bijector) {
  list()
}

# The same bijector with every batch-normalization bijector in it in
# training (TRUE) or evaluation (FALSE) mode, sharing the layers, templates
# and parameter owners.
bijector_with_mode <- function(bijector, training) {
  UseMethod("bijector_with_mode")
}

#' @export
bijector_with_mode.default <- function(bijector, training) {
  bijector
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
