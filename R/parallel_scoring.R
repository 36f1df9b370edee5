# Scoring a large data set across processes or machines: log-densities and
# samples computed chunk by chunk with the future framework (future.apply),
# which runs the same code on local processes, a cluster or an HPC
# scheduler, whichever future::plan() the user set.

#' Log-densities and samples of a model across processes or machines
#'
#' `tfd_log_prob_parallel()` splits the events of `value` (along its first
#' axis) into chunks of `chunk_size` and computes [tfd_log_prob()] of each
#' chunk in a future; `tfd_sample_parallel()` draws `n` samples as chunks of
#' `chunk_size` draws, each in a future. Where the futures run is set by
#' [future::plan()]: `sequential` (the default, in this process),
#' `multisession` (background R processes on this machine), `cluster`
#' (R processes on other machines), or a scheduler through
#' `future.batchtools`; the code does not change. They need the packages
#' `future` and `future.apply` (Suggests). These functions are not part of
#' tfprobability.
#'
#' **How the model travels.** Each future gets the distribution and its own
#' chunk, serialized with [serialize()] as any R object: the package keeps
#' every parameter and running statistic in plain R vectors (the C-side
#' pointers are caches, rebuilt on first use after [unserialize()] or
#' [readRDS()]), so the copy in a worker computes exactly what the original
#' does. Each worker must have `bijectors` installed (the
#' same version). Only the chunks assigned to a worker are sent to it, not
#' the whole data set; the model is sent once per future.
#'
#' **Batch normalization must be in evaluation mode.** In training mode a
#' batch-normalization layer normalizes each call's input with that input's
#' own statistics and moves its running averages: log-densities would then
#' depend on how the rows were chunked, and the running averages would move
#' in the workers' copies and be lost. Both functions therefore refuse a
#' model with any batch-normalization layer in training mode (error class
#' `bijectors_error_training_mode`) rather than warn and return numbers
#' that depend on the chunking; pass [evaluation_mode()] of the model (after
#' [recompute_batch_statistics()] if it was just trained). A model whose
#' networks or layers are not built yet (never fed data) is refused too
#' (class `bijectors_error_not_built`): each worker would build its own
#' random networks.
#'
#' **Reproducibility.** The log-densities do not depend on the plan or the
#' number of workers: they are the per-chunk results of [tfd_log_prob()]
#' joined in order, identical (to the bit) to computing the same chunks one
#' after the other in this process. Sampling uses future's parallel-safe
#' random numbers (`future.seed = TRUE`): each chunk gets its own
#' L'Ecuyer-CMRG stream, derived from the session's random seed, so after
#' [set.seed()] the samples are identical for the same `n`, `chunk_size`
#' and seed whatever the plan and the number of workers. They differ from
#' those of [tfd_sample()] in one process (another generator), and from
#' those with another `chunk_size` (other streams). As with [tfd_sample()],
#' `tfd_sample_parallel(d, n, seed = s)` derives the streams after
#' `set.seed(s)` and then puts R's generator back as it was: the same seed
#' gives the same sample, and the session's stream does not move.
#'
#' @param distribution A distribution, typically a trained
#'   [tfd_transformed_distribution()] in [evaluation_mode()].
#' @param value A numeric matrix, array or data frame of events, the events
#'   along its first axis (at least one axis more than the event shape).
#' @param n Whole number >= 0: the number of samples.
#' @param chunk_size Whole number >= 1: events (or draws) per future
#'   (default 10000). Futures are spread over the workers; a few chunks per
#'   worker balance the load.
#' @param ... `tfd_sample_parallel()`: `seed`, a single whole number (see
#'   Reproducibility), as [tfd_sample()] takes it; other arguments are an
#'   error.
#' @return `tfd_log_prob_parallel()`: what [tfd_log_prob()] returns for
#'   `value`, one log-density per event. `tfd_sample_parallel()`: an array
#'   of dimension `c(n, batch_shape, event_shape)` (a vector for scalar
#'   distributions), as `tfd_sample(distribution, n)`.
#' @family distributions
#' @seealso [tfd_log_prob()], [evaluation_mode()], [future::plan()],
#'   [future.apply::future_lapply()].
#' @examples
#' set.seed(1)
#' y <- scale(sample_two_moons(2000))
#' flow <- tfd_transformed_distribution(
#'   tfd_multivariate_normal_diag(loc = c(0, 0)),
#'   tfb_chain(list(tfb_shift(c(0.1, -0.1)), tfb_batch_normalization()))
#' )
#' fit(flow, y, epochs = 2, verbose = FALSE)
#' recompute_batch_statistics(flow, y)
#' scoring <- evaluation_mode(flow)
#' if (requireNamespace("future.apply", quietly = TRUE)) {
#'   # in this process (the default plan); the same code runs on workers
#'   lp <- tfd_log_prob_parallel(scoring, y, chunk_size = 500)
#'   print(identical(lp, tfd_log_prob(scoring, y)))
#'   set.seed(2)
#'   draws <- tfd_sample_parallel(scoring, 1000, chunk_size = 250)
#'   print(dim(draws))
#' }
#' \dontrun{
#' # Two machines with two R processes each (ssh access, bijectors installed)
#' future::plan(future::cluster,
#'              workers = c("node1", "node1", "node2", "node2"))
#' lp <- tfd_log_prob_parallel(scoring, y, chunk_size = 500)
#' # or local background processes
#' future::plan(future::multisession, workers = 4)
#' set.seed(2)
#' draws <- tfd_sample_parallel(scoring, 1000, chunk_size = 250)
#' future::plan(future::sequential)
#' }
#' @export
tfd_log_prob_parallel <- function(distribution, value, chunk_size = 10000L,
                                  ...) {
  check_distribution(distribution)
  check_no_extra_arguments(list(...))
  chunk_size <- check_count(chunk_size, "chunk_size")
  value <- as_input_array(value, "value")
  dims <- input_dims(value)
  event_rank <- length(.subset2(distribution, "event_shape"))
  if (length(dims) <= event_rank) {
    abort_bijectors("argument", sprintf(paste(
      "`value` must have its events along a first axis (rank at least %d",
      "for events of rank %d), not shape %s."), event_rank + 1L, event_rank,
      format_shape(dims)))
  }
  check_scoring_model(distribution)
  check_future_apply()
  if (length(dim(value)) < 2L) {
    dim(value) <- length(value)
  }
  rows <- dims[[1L]]
  starts <- seq(1, max(rows, 1), by = chunk_size)
  chunks <- lapply(starts, function(start) {
    batch_rows(value, start:min(start + chunk_size - 1, rows))
  })
  results <- future.apply::future_lapply(
    chunks, log_prob_of_chunk, distribution = distribution,
    future.seed = NULL, future.globals = FALSE,
    future.packages = "bijectors")
  join_chunk_results(results)
}

#' @rdname tfd_log_prob_parallel
#' @export
tfd_sample_parallel <- function(distribution, n, chunk_size = 10000L, ...) {
  check_distribution(distribution)
  extra <- list(...)
  seed <- extra[["seed"]]
  extra[["seed"]] <- NULL
  check_no_extra_arguments(extra)
  if (!is.null(seed)) {
    # tfd_sample()'s seed: the streams are derived after set.seed(seed),
    # and the caller's generator is put back afterwards
    seed <- check_seed(seed)
    return(with_seed(seed, tfd_sample_parallel(distribution, n, chunk_size)))
  }
  n <- check_sample_count(n)
  check_sample_size(distribution, n, "n")
  chunk_size <- check_count(chunk_size, "chunk_size")
  check_scoring_model(distribution)
  check_future_apply()
  sizes <- if (n == 0) integer(0) else
    diff(c(seq(0, n - 1, by = chunk_size), n))
  if (length(sizes) == 0L) {
    return(tfd_sample(distribution, 0L))
  }
  results <- future.apply::future_lapply(
    as.list(sizes), sample_chunk, distribution = distribution,
    future.seed = TRUE, future.globals = FALSE,
    future.packages = "bijectors")
  join_chunk_results(results)
}

# What each future runs; top-level functions of the namespace, so that the
# future carries only its arguments (a closure would carry its frame).
log_prob_of_chunk <- function(chunk, distribution) {
  tfd_log_prob(distribution, chunk)
}

sample_chunk <- function(size, distribution) {
  tfd_sample(distribution, size)
}

# Chunk results (vectors or arrays whose first axis indexes the events)
# joined along the first axis, in order.
join_chunk_results <- function(results) {
  if (length(results) == 1L) {
    return(results[[1L]])
  }
  if (is.null(dim(results[[1L]])) || length(dim(results[[1L]])) == 1L) {
    return(unlist(lapply(results, as.vector), use.names = FALSE))
  }
  bind_events(results)
}

check_sample_count <- function(n) {
  ok <- is.numeric(n) && !is.object(n) && length(n) == 1L && !is.na(n) &&
    is.finite(n) && n == round(n) && n >= 0 && n <= 2^52
  if (!ok) {
    abort_bijectors("argument", sprintf(
      "`n` must be a whole number >= 0, not %s.", describe_value(n)))
  }
  if (n <= .Machine$integer.max) as.integer(n) else as.double(n)
}

# Training-mode batch normalization gives chunk-dependent results and moves
# statistics in copies that are thrown away; unbuilt parameters would be
# drawn at random in each worker.
check_scoring_model <- function(distribution) {
  if (!inherits(distribution, "tfd_transformed_distribution")) {
    return(invisible())
  }
  bijector <- .subset2(distribution, "bijector")
  if (length(training_batchnorm_layers(bijector)) > 0L) {
    abort_bijectors("training_mode", paste(
      "`distribution` has batch normalization in training mode, whose",
      "log-densities would depend on how the rows are split into chunks",
      "and whose running statistics would move only in the workers' copies.",
      "Score evaluation_mode(distribution) instead (after",
      "recompute_batch_statistics() on the training data if it was just",
      "trained)."))
  }
  tryCatch(check_slots_built(parameter_slots_of(distribution)),
           bijectors_error_not_built = function(condition) {
             abort_bijectors("not_built", paste(
               "`distribution` is not built yet: its networks and",
               "batch-normalization layers are created on the first data it",
               "sees, and each worker would create its own at random. Train",
               "it, or call log_prob() once on some data, first."))
           })
  for (layer in bijector_batchnorm_layers(bijector)) {
    if (is.null(.subset2(layer, "state"))) {
      abort_bijectors("not_built", paste(
        "`distribution` has a batch-normalization layer that is not built",
        "yet (it has no running statistics); train the model first."))
    }
  }
  invisible()
}

check_future_apply <- function() {
  if (!requireNamespace("future.apply", quietly = TRUE)) {
    abort_bijectors("unsupported", paste(
      "Scoring across processes needs the packages 'future' and",
      "'future.apply': install.packages(\"future.apply\")."))
  }
  invisible()
}
