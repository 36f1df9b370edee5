# The evaluation protocol of flows with batch normalization: running
# statistics recomputed from a whole data set, and views of one flow in
# training or evaluation mode that share every layer and parameter.

#' Recompute the batch-normalization statistics of a flow
#'
#' Sets the running statistics (`moving_mean`, `moving_variance`) of every
#' batch-normalization layer of a flow to the mean and the biased variance of
#' that layer's input over the whole of `x`, layer after layer along the
#' density direction: the first layer sees `x` through the bijectors before
#' it, the next one sees the output of the first in evaluation mode (with its
#' new statistics), and so on. This is the protocol of the masked
#' autoregressive flow paper (Papamakarios et al., 2017): after training,
#' the running averages, which trail the parameters, are replaced by the
#' statistics of the training set before test log-likelihoods are reported.
#'
#' Nothing else changes: `gamma`, `beta` and the networks keep their values.
#' If any layer refuses its input (values that are not finite or overflow,
#' or a constant feature for a layer with `epsilon = 0`, error class
#' `bijectors_error_zero_variance`), no layer changes: those before it in
#' the flow are put back too.
#' Batch normalization inside [tfb_invert()] runs in its forward direction
#' when the flow computes densities; it keeps its statistics.
#'
#' **Data larger than memory.** `x` may be a generator function, as for
#' [fit()][fit.tfd_transformed_distribution()]: each call returns the next
#' batch of rows, `NULL` at the end of the data, and the next call starts
#' again from the first row ([batches_from_csv()] reads a file so). Since
#' the statistics of a layer depend on the final statistics of the layers
#' before it, the data are read once per batch-normalization layer (a flow
#' with three layers reads its source three times), and one batch of rows
#' at a time is held, regrouped in blocks of 4096 rows.
#'
#' **The same numbers either way.** From a matrix the rows are processed in
#' the same way: blocks of 4096 rows go through the flow, one pass per
#' layer, and each layer merges the moments of its input block after block
#' (per-block two-pass moments about the feature's first value, merged with
#' the update of Chan, Golub and LeVeque). The blocks are those of the rows
#' in order, whatever batches a generator returns them in, so the
#' statistics from a generator are identical, to the bit, to those from the
#' matrix of the same rows (a generator that returns the rows in another
#' order, or another order at each pass, gives them up to rounding). The
#' mean and variance are as accurate as a two-pass computation over all
#' the rows. After the last layer the whole
#' flow is evaluated once on the first block, so that a flow that cannot
#' evaluate its data is an error here and changes nothing.
#'
#' @param distribution A [tfd_transformed_distribution()] (or a bijector,
#'   whose inverse is then taken as the density direction).
#' @param x A numeric matrix or data frame, one event per row (for a
#'   distribution, as many columns as its event size), without `NA`, `NaN`
#'   or `Inf`: usually the whole training set. Or a generator function
#'   returning such matrices and `NULL` at the end of a pass; its batches
#'   are checked as they come (errors of class `bijectors_error_generator`
#'   and the specific class), and any error leaves every layer as it was.
#' @return `distribution`, invisibly; its layers are modified in place.
#' @family training
#' @seealso [evaluation_mode()], [fit.tfd_transformed_distribution()];
#'   `vignette("flow-training", package = "bijectors")`. In TFP one would
#'   run the data through the flow with a large batch and `momentum = 0`.
#' @examples
#' set.seed(1)
#' y <- scale(sample_two_moons(400))
#' flow <- tfd_transformed_distribution(
#'   tfd_multivariate_normal_diag(loc = c(0, 0)),
#'   tfb_chain(list(tfb_shift(c(1, -1)), tfb_batch_normalization()))
#' )
#' invisible(flow$log_prob(y[1:50, ]))   # running averages after one batch
#' recompute_batch_statistics(flow, y)
#' # the layer sees y - c(1, -1) (y is centred): its mean is c(-1, 1)
#' flow$bijector$bijectors[[2]]$batchnorm$moving_mean
#'
#' # the same from batches of 30 rows, as from a file
#' next_rows <- local({
#'   start <- 1
#'   function() {
#'     if (start > nrow(y)) {
#'       start <<- 1
#'       return(NULL)
#'     }
#'     rows <- start:min(start + 29, nrow(y))
#'     start <<- start + 30
#'     y[rows, ]
#'   }
#' })
#' before <- get_weights(flow$bijector$bijectors[[2]]$batchnorm)
#' recompute_batch_statistics(flow, next_rows)
#' identical(get_weights(flow$bijector$bijectors[[2]]$batchnorm), before)
#' @export
recompute_batch_statistics <- function(distribution, x) {
  is_distribution <- !inherits(distribution, "bijector")
  if (is_distribution) {
    check_trainable_distribution_object(distribution)
  }
  bijector <- if (is_distribution) .subset2(distribution, "bijector") else
    distribution
  if (is_batch_generator(x)) {
    stream <- new_batch_stream(x, "x")
    next_pass <- function() {
      statistics_blocks(generator_rows(stream, distribution, is_distribution))
    }
  } else {
    x <- if (is_distribution) check_training_data(distribution, x) else
      check_finite_input(x)
    if (!is_distribution && length(dim(x)) < 2L) {
      # a vector has no rows to read in blocks: one pass as it is
      with_statistics_rollback(
        distribution,
        bijector_statistics_pass(bijector, x, statistics_layer_count(bijector)),
        layers = object_batchnorm_layers(distribution))
      return(invisible(distribution))
    }
    next_pass <- function() statistics_blocks(matrix_rows(x))
  }
  # Layer after layer: if a later one refuses its input, the earlier ones
  # are put back too.
  with_statistics_rollback(
    distribution,
    recompute_over_passes(bijector, next_pass, is_batch_generator(x)),
    layers = object_batchnorm_layers(distribution))
  invisible(distribution)
}

check_trainable_distribution_object <- function(distribution) {
  if (!inherits(distribution, "tfd_transformed_distribution")) {
    abort_bijectors("distribution", sprintf(paste(
      "`distribution` must be a transformed distribution",
      "(tfd_transformed_distribution()) or a bijector, not %s."),
      describe_value(distribution)))
  }
  invisible(distribution)
}

check_finite_input <- function(x) {
  x <- as_input_array(x, "x")
  if (!.Call(C_all_finite, x)) {
    abort_bijectors("nonfinite", "`x` contains NA, NaN or Inf values.")
  }
  x
}

#' Evaluation and training views of a flow
#'
#' `evaluation_mode()` returns the same flow with every batch-normalization
#' bijector in evaluation mode (`training = FALSE`: it normalizes with the
#' running statistics and updates nothing), and `training_mode()` with every
#' one in training mode (batch statistics, running statistics updated by
#' each `log_prob()`). The result shares everything with its argument: the
#' batch-normalization layers, the networks and every other parameter, so
#' training one and evaluating the other works as TFP users do with a second
#' `tfb_batch_normalization(b$batchnorm, training = FALSE)` on the same
#' layer. Only the bijector objects around the layers are new.
#'
#' Use `evaluation_mode()` to report log-likelihoods (in nats) and to
#' sample: its `log_prob()` gives each event a density that does not depend
#' on the other rows of the batch, and the running statistics stay as they
#' are.
#'
#' @param distribution A [tfd_transformed_distribution()] or a bijector.
#' @return An object of the same kind: a transformed distribution with the
#'   same base distribution and name, or a bijector.
#' @family training
#' @seealso [recompute_batch_statistics()], [tfb_batch_normalization()],
#'   [fit.tfd_transformed_distribution()]; `vignette("flow-training",
#'   package = "bijectors")`.
#' @examples
#' set.seed(1)
#' y <- scale(sample_two_moons(200))
#' bn <- tfb_batch_normalization()
#' flow <- tfd_transformed_distribution(
#'   tfd_multivariate_normal_diag(loc = c(0, 0)),
#'   tfb_chain(list(bn, tfb_permute(2:1)))
#' )
#' invisible(flow$log_prob(y))           # training mode: statistics move
#' before <- bn$batchnorm$moving_mean
#' evaluation <- evaluation_mode(flow)
#' mean(evaluation$log_prob(y))           # nats per point
#' identical(bn$batchnorm$moving_mean, before)
#' evaluation$bijector$bijectors[[1]]$training
#' @export
evaluation_mode <- function(distribution) {
  with_mode(distribution, training = FALSE)
}

#' @rdname evaluation_mode
#' @export
training_mode <- function(distribution) {
  with_mode(distribution, training = TRUE)
}

with_mode <- function(x, training) {
  if (inherits(x, "bijector")) {
    return(bijector_with_mode(x, training))
  }
  if (!inherits(x, "tfd_transformed_distribution")) {
    abort_bijectors("distribution", sprintf(paste(
      "`distribution` must be a transformed distribution",
      "(tfd_transformed_distribution()) or a bijector, not %s."),
      describe_value(x)))
  }
  tfd_transformed_distribution(
    .subset2(x, "distribution"),
    bijector_with_mode(.subset2(x, "bijector"), training),
    validate_args = .subset2(x, "validate_args"),
    parameters = .subset2(x, "parameters"),
    name = .subset2(x, "name")
  )
}
