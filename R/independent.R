# Distributions whose events are made of other distributions' values:
# Independent (batch dims read as event dims) and Sample (iid draws as one
# event). They give flows on matrices and images a base of the right event
# shape.

#' Independent distribution: batch dimensions read as event dimensions
#'
#' As tfprobability's `tfd_independent()`: the rightmost
#' `reinterpreted_batch_ndims` batch dimensions of `distribution` become
#' event dimensions, so that the log-density of an event is the sum of the
#' log-densities of its independent components. For example
#' `tfd_independent(tfd_normal(loc = matrix(0, 2, 3), scale = 1))` is a
#' distribution over 2 x 3 matrices with independent standard normal
#' entries.
#'
#' @param distribution A distribution, such as [tfd_normal()] with a vector
#'   or array of parameters.
#' @param reinterpreted_batch_ndims `NULL` (all batch dimensions, as current
#'   TFP) or a whole number between 0 and the number of batch dimensions.
#' @param validate_args `TRUE` or `FALSE`; accepted for compatibility.
#' @param name A string: the distribution's name.
#' @return A distribution of class `c("tfd_independent", "distribution")`
#'   with `$log_prob()`, `$prob()` and `$sample()`, and the fields
#'   `$distribution` and `$reinterpreted_batch_ndims`.
#' @family distributions
#' @seealso `tfprobability::tfd_independent()`; [tfd_sample_distribution()].
#' @examples
#' d <- tfd_independent(tfd_normal(loc = matrix(0, 2, 3), scale = 1))
#' d$event_shape
#' x <- array(rnorm(12), c(2, 2, 3))   # two 2 x 3 events
#' d$log_prob(x)
#' sum(dnorm(x[1, , ], log = TRUE))     # the first one by hand
#' dim(d$sample(5))
#' @export
tfd_independent <- function(distribution, reinterpreted_batch_ndims = NULL,
                            validate_args = FALSE,
                            name = paste0("Independent",
                                          .subset2(distribution, "name"))) {
  check_distribution(distribution)
  batch_shape <- .subset2(distribution, "batch_shape")
  ndims <- reinterpreted_batch_ndims %||% length(batch_shape)
  ok <- is.numeric(ndims) && !is.object(ndims) && length(ndims) == 1L &&
    !is.na(ndims) && ndims == round(ndims) && ndims >= 0 &&
    ndims <= length(batch_shape)
  if (!ok) {
    # say what the batch dims are: the inner distribution's batch shape is
    # what may be reinterpreted, and it is often empty
    expected <- if (length(batch_shape) == 0L) {
      paste("NULL or 0: `distribution` has no batch dimensions (its batch",
            "shape is []), so none can become event dimensions")
    } else {
      sprintf(paste(
        "NULL or a whole number from 0 to %d, the number of batch",
        "dimensions of `distribution` (its batch shape is %s)"),
        length(batch_shape), format_shape(batch_shape))
    }
    abort_bijectors("argument", sprintf(
      "`reinterpreted_batch_ndims` must be %s; not %s.", expected,
      describe_value(reinterpreted_batch_ndims)))
  }
  ndims <- as.integer(ndims)
  kept <- length(batch_shape) - ndims
  new_distribution(
    "tfd_independent",
    name = check_string(name, "name"),
    batch_shape = batch_shape[seq_len(kept)],
    event_shape = c(batch_shape[kept + seq_len(ndims)],
                    .subset2(distribution, "event_shape")),
    validate_args = check_flag(validate_args, "validate_args"),
    allow_nan_stats = .subset2(distribution, "allow_nan_stats"),
    distribution = distribution,
    reinterpreted_batch_ndims = ndims
  )
}

#' @export
object_field_names.tfd_independent <- function(x) {
  c(NextMethod(), "distribution", "reinterpreted_batch_ndims")
}

# Sums an array of log-densities over its trailing `ndims` dimensions.
sum_trailing <- function(values, ndims) {
  if (ndims == 0L) {
    return(values)
  }
  dims <- shape_of(values)
  rank <- length(dims)
  if (ndims >= rank) {
    return(sum(values))
  }
  lead <- dims[seq_len(rank - ndims)]
  summed <- rowSums(matrix(values, nrow = prod(lead)))
  with_shape(summed, lead)
}

#' @export
distribution_log_prob.tfd_independent <- function(distribution, value) {
  base <- .subset2(distribution, "distribution")
  sum_trailing(distribution_log_prob(base, value),
               .subset2(distribution, "reinterpreted_batch_ndims"))
}

#' @export
distribution_sample.tfd_independent <- function(distribution, sample_shape) {
  distribution_sample(.subset2(distribution, "distribution"), sample_shape)
}

#' @export
distribution_log_prob_gradient.tfd_independent <- function(distribution,
                                                           value) {
  inner <- distribution_log_prob_gradient(.subset2(distribution,
                                                   "distribution"), value)
  list(log_prob = sum_trailing(inner$log_prob,
                               .subset2(distribution,
                                        "reinterpreted_batch_ndims")),
       gradient = inner$gradient)
}

#' @export
format.tfd_independent <- function(x, ...) {
  inner <- format(.subset2(x, "distribution"), ...)
  c(NextMethod(),
    sprintf("  reinterpreted_batch_ndims: %d",
            .subset2(x, "reinterpreted_batch_ndims")),
    paste0("  distribution: ", inner[[1L]]),
    paste0("  ", inner[-1L]))
}

#' Sample distribution: iid draws of a distribution as one event
#'
#' As tfprobability's `tfd_sample_distribution()`: an event is
#' `sample_shape` independent draws of `distribution`, so its event shape is
#' `c(sample_shape, event_shape of distribution)` and its log-density the sum
#' of the draws' log-densities. `tfd_sample_distribution(tfd_normal(0, 1),
#' c(4, 4))` is a distribution over 4 x 4 matrices of independent standard
#' normals: a base for a flow on matrices.
#'
#' @param distribution A distribution.
#' @param sample_shape Whole numbers >= 0 (a vector, or a list of numbers):
#'   the shape of the draws that make one event.
#' @param validate_args `TRUE` or `FALSE`; accepted for compatibility.
#' @param name A string, or `NULL` for `"Sample"` followed by the
#'   distribution's name.
#' @return A distribution of class
#'   `c("tfd_sample_distribution", "distribution")` with `$log_prob()`,
#'   `$prob()` and `$sample()`, and the fields `$distribution` and
#'   `$sample_shape`.
#' @family distributions
#' @seealso `tfprobability::tfd_sample_distribution()`; [tfd_independent()].
#' @examples
#' d <- tfd_sample_distribution(tfd_normal(0, 1), c(2, 3))
#' d$event_shape
#' x <- d$sample(4)
#' dim(x)
#' all.equal(d$log_prob(x), apply(dnorm(x, log = TRUE), 1, sum))
#' @export
tfd_sample_distribution <- function(distribution, sample_shape = list(),
                                    validate_args = FALSE, name = NULL) {
  check_distribution(distribution)
  sample_shape <- as.integer(check_sample_shape(sample_shape))
  new_distribution(
    "tfd_sample_distribution",
    name = check_string(name %||% paste0("Sample",
                                         .subset2(distribution, "name")),
                        "name"),
    batch_shape = .subset2(distribution, "batch_shape"),
    event_shape = c(sample_shape, .subset2(distribution, "event_shape")),
    validate_args = check_flag(validate_args, "validate_args"),
    allow_nan_stats = .subset2(distribution, "allow_nan_stats"),
    distribution = distribution,
    sample_shape = sample_shape
  )
}

#' @export
object_field_names.tfd_sample_distribution <- function(x) {
  c(NextMethod(), "distribution", "sample_shape")
}

# An array with dims c(lead, batch, draws, event) (TFP's layout of a Sample
# value) reordered to c(lead, draws, batch, event), which the inner
# distribution reads as draws of its batch (`to_inner`), or back. Nothing
# moves when the inner distribution has no batch dimensions.
sample_layout <- function(x, lead, batch, draws, event, to_inner) {
  if (length(batch) == 0L || length(draws) == 0L) {
    return(x)
  }
  first <- if (to_inner) length(batch) else length(draws)
  second <- if (to_inner) length(draws) else length(batch)
  at <- length(lead)
  aperm(x, c(seq_len(at), at + first + seq_len(second), at + seq_len(first),
             at + first + second + seq_along(event)))
}

# The leading (sample) dims of a value of `distribution`'s full shape.
split_value_dims <- function(distribution, value) {
  dims <- shape_of(value)
  batch <- .subset2(distribution, "batch_shape")
  draws <- .subset2(distribution, "sample_shape")
  event <- .subset2(.subset2(distribution, "distribution"), "event_shape")
  tail <- length(batch) + length(draws) + length(event)
  if (length(dims) < tail) {
    abort_bijectors("event_size", sprintf(paste(
      "`value` of shape %s is too short for the distribution's batch and",
      "event shape %s."), format_shape(dims),
      format_shape(c(batch, draws, event))))
  }
  list(lead = dims[seq_len(length(dims) - tail)], batch = batch,
       draws = draws, event = event)
}

sample_distribution_inner <- function(distribution, value) {
  parts <- split_value_dims(distribution, value)
  inner_value <- sample_layout(value, parts$lead, parts$batch, parts$draws,
                               parts$event, to_inner = TRUE)
  list(parts = parts, value = inner_value)
}

# Inner log-densities, of dims c(lead, draws, batch), summed over the draws.
sum_draws <- function(log_prob, parts) {
  if (length(parts$draws) == 0L) {
    return(log_prob)
  }
  if (length(parts$batch) > 0L) {
    log_prob <- with_shape(log_prob, c(parts$lead, parts$draws, parts$batch))
    log_prob <- aperm(log_prob, c(
      seq_along(parts$lead),
      length(parts$lead) + length(parts$draws) + seq_along(parts$batch),
      length(parts$lead) + seq_along(parts$draws)))
  }
  lead <- c(parts$lead, parts$batch)
  summed <- rowSums(matrix(log_prob, nrow = prod(lead)))
  if (length(lead) == 0L) summed[[1L]] else with_shape(summed, lead)
}

#' @export
distribution_log_prob.tfd_sample_distribution <- function(distribution,
                                                          value) {
  inner <- sample_distribution_inner(distribution, value)
  log_prob <- distribution_log_prob(.subset2(distribution, "distribution"),
                                    inner$value)
  sum_draws(log_prob, inner$parts)
}

#' @export
distribution_log_prob_gradient.tfd_sample_distribution <- function(
    distribution, value) {
  inner <- sample_distribution_inner(distribution, value)
  result <- distribution_log_prob_gradient(
    .subset2(distribution, "distribution"), inner$value)
  parts <- inner$parts
  gradient <- sample_layout(with_shape(result$gradient, shape_of(inner$value)),
                            parts$lead, parts$batch, parts$draws, parts$event,
                            to_inner = FALSE)
  list(log_prob = sum_draws(result$log_prob, parts),
       gradient = with_shape(gradient, shape_of(value)))
}

#' @export
distribution_sample.tfd_sample_distribution <- function(distribution,
                                                        sample_shape) {
  draws <- .subset2(distribution, "sample_shape")
  inner <- distribution_sample(.subset2(distribution, "distribution"),
                               c(sample_shape, draws))
  batch <- .subset2(distribution, "batch_shape")
  event <- .subset2(.subset2(distribution, "distribution"), "event_shape")
  if (length(batch) == 0L || length(draws) == 0L) {
    return(inner)
  }
  sample_layout(with_shape(inner, c(sample_shape, draws, batch, event)),
                sample_shape, batch, draws, event, to_inner = FALSE)
}

#' @export
format.tfd_sample_distribution <- function(x, ...) {
  inner <- format(.subset2(x, "distribution"), ...)
  c(NextMethod(),
    sprintf("  sample_shape: %s", format_shape(.subset2(x, "sample_shape"))),
    paste0("  distribution: ", inner[[1L]]),
    paste0("  ", inner[-1L]))
}
