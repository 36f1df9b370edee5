# A distribution pushed through a bijector: the normalizing flow.

#' Transformed distribution: a normalizing flow
#'
#' The distribution of `bijector$forward(x)` with `x` drawn from
#' `distribution`, as tfprobability's `tfd_transformed_distribution()`.
#'
#' * `log_prob(y)` is `distribution$log_prob(x) + ildj` where `x` and `ildj`
#'   are the inverse of `y` and the inverse log-determinant of the Jacobian at
#'   `y`, with `event_ndims` the number of dimensions of the base
#'   distribution's events. Both come from **one** inverse pass through the
#'   bijector (for a chain, one pass through its members), so a
#'   batch-normalization bijector in training mode normalizes with the
#'   batch's statistics and updates its running statistics once per call.
#' * `sample(sample_shape)` is `bijector$forward()` of samples of
#'   `distribution`. The forward map of batch normalization always uses the
#'   running statistics.
#'
#' This is the likelihood of the masked autoregressive flow paper and of
#' TensorFlow Probability up to version 0.16. TFP 0.17 and later compute
#' `distribution$log_prob(x) - forward_log_det_jacobian(x)` instead. The two
#' agree for every bijector whose forward and inverse are exact inverses, but
#' not for batch normalization in training mode: there TFP's newer formula
#' mixes the batch statistics (in `x`) with the running statistics (in the
#' forward log-determinant), whereas this package uses the batch statistics
#' in both.
#'
#' The bijector must keep its input's shape (all bijectors of this package
#' do), so the event and batch shapes are those of `distribution`. Event
#' sizes are checked where they are known: a built batch-normalization
#' layer's feature count, a permutation's length and the length of a shift
#' or scale vector must match the base distribution's event size, otherwise
#' an error of class `bijectors_error_event_size` is raised, when the
#' distribution is made or when a value is evaluated, before anything
#' changes.
#'
#' @param distribution The base distribution, such as one made by
#'   [tfd_multivariate_normal_diag()].
#' @param bijector A bijector, such as a [tfb_chain()] of flow layers.
#' @param batch_shape,event_shape `NULL`: overriding the shapes (TFP before
#'   0.12) is not supported.
#' @param kwargs_split_fn `NULL`: not supported.
#' @param validate_args `TRUE` or `FALSE`; accepted for compatibility.
#' @param parameters `NULL` or a list; accepted for compatibility and unused.
#' @param name A string, or `NULL` for TFP's default: the bijector's name
#'   followed by the distribution's.
#' @section Reference semantics:
#' The distribution, with its bijectors, is a reference object (an environment), as keras models are:
#' `copy <- x` makes a second name for the same object, and training or
#' assigning parameters through one name changes what the other shows. Use
#' [deep_copy()] for an independent copy. Fields read with `$` are copies.
#' @return A distribution of class
#'   `c("tfd_transformed_distribution", "distribution")` with the methods
#'   `$log_prob(value)`, `$prob(value)` and `$sample(sample_shape)`, and the
#'   fields `$distribution`, `$bijector`, `$name`, `$batch_shape` and
#'   `$event_shape`.
#' @family distributions
#' @seealso `tfprobability::tfd_transformed_distribution()`; [tfb_chain()],
#'   [tfb_batch_normalization()].
#' @examples
#' base <- tfd_multivariate_normal_diag(scale_diag = c(1, 1))
#' flow <- tfd_transformed_distribution(
#'   base,
#'   tfb_chain(list(tfb_shift(c(1, 2)), tfb_scale(c(2, 0.5))))
#' )
#' flow
#' y <- matrix(c(1, 2, 3, 2.5), ncol = 2, byrow = TRUE)
#' flow$log_prob(y)
#' # the change of variables by hand
#' x <- sweep(sweep(y, 2, c(1, 2)), 2, c(2, 0.5), "/")
#' base$log_prob(x) - sum(log(c(2, 0.5)))
#' set.seed(1)
#' colMeans(flow$sample(1000))
#'
#' # a flow with batch normalization: log_prob() updates the running
#' # statistics once per call
#' bn <- tfb_batch_normalization()
#' flow <- tfd_transformed_distribution(base, tfb_chain(list(bn, tfb_permute(2:1))))
#' lp <- flow$log_prob(matrix(rnorm(20, mean = 3), ncol = 2))
#' bn$batchnorm$moving_mean
#' @export
tfd_transformed_distribution <- function(distribution, bijector,
                                         batch_shape = NULL,
                                         event_shape = NULL,
                                         kwargs_split_fn = NULL,
                                         validate_args = FALSE,
                                         parameters = NULL, name = NULL) {
  check_distribution(distribution)
  check_bijector(bijector)
  for (arg in c("batch_shape", "event_shape", "kwargs_split_fn")) {
    if (!is.null(get(arg))) {
      abort_bijectors("unsupported", sprintf(paste(
        "`%s` is not supported by tfd_transformed_distribution(): the",
        "shapes are those of the base distribution."), arg))
    }
  }
  if (!is.null(parameters) && !is.list(parameters)) {
    abort_bijectors("argument", sprintf(
      "`parameters` must be NULL or a list, not %s.",
      describe_value(parameters)))
  }
  event_shape <- .subset2(distribution, "event_shape")
  event_ndims <- length(event_shape)
  min_event_ndims <- .subset2(bijector, "inverse_min_event_ndims")
  if (min_event_ndims > event_ndims) {
    abort_bijectors("event_ndims", sprintf(paste(
      "The bijector \"%s\" acts on events of at least %d dimension%s, but",
      "the events of the distribution \"%s\" have %d."),
      .subset2(bijector, "name"), min_event_ndims,
      if (min_event_ndims == 1L) "" else "s", .subset2(distribution, "name"),
      event_ndims))
  }
  check_event_shape_constraints(bijector, event_shape, distribution)
  name <- check_string(name, "name", null_ok = TRUE) %||%
    paste0(.subset2(bijector, "name"), .subset2(distribution, "name"))
  new_distribution(
    "tfd_transformed_distribution",
    name = name,
    batch_shape = .subset2(distribution, "batch_shape"),
    event_shape = event_shape,
    validate_args = check_flag(validate_args, "validate_args"),
    allow_nan_stats = .subset2(distribution, "allow_nan_stats"),
    distribution = distribution,
    bijector = bijector,
    parameters = parameters
  )
}

# The constraints on axes counted from the end that fall inside the event
# must match the base distribution's event shape.
check_event_shape_constraints <- function(bijector, event_shape,
                                          distribution) {
  event_ndims <- length(event_shape)
  for (constraint in bijector_event_constraints(bijector)) {
    axis <- constraint$axis
    if (axis < 0L && -axis <= event_ndims &&
        event_shape[[event_ndims + 1L + axis]] != constraint$size) {
      abort_bijectors("event_size", sprintf(paste(
        "The distribution \"%s\" has events of shape %s, but %s needs",
        "size %s along axis %d."), .subset2(distribution, "name"),
        format_shape(event_shape), constraint_source(constraint),
        format(constraint$size), axis))
    }
  }
  invisible()
}

#' @export
distribution_log_prob.tfd_transformed_distribution <- function(distribution,
                                                               value) {
  base <- .subset2(distribution, "distribution")
  bijector <- .subset2(distribution, "bijector")
  event_shape <- .subset2(distribution, "event_shape")
  event_ndims <- length(event_shape)
  dims <- input_dims(value)
  rank <- length(dims)
  if (event_ndims > 0L) {
    value_event_shape <- if (rank >= event_ndims)
      dims[(rank - event_ndims + 1L):rank] else dims
    if (rank < event_ndims || any(value_event_shape != event_shape)) {
      abort_bijectors("event_size", sprintf(paste(
        "`value` must have the distribution's event shape %s in its last",
        "dimensions, but its shape is %s."), format_shape(event_shape),
        format_shape(dims)))
    }
  }
  # The bijector checks `value` against the event sizes its members know
  # before any of them runs (see check_event_constraints()).
  inverse <- bijector_inverse_and_log_det(bijector, value, event_ndims)
  distribution_log_prob(base, inverse$x) + inverse$log_det
}

#' @export
distribution_sample.tfd_transformed_distribution <- function(distribution,
                                                             sample_shape) {
  base_sample <- distribution_sample(.subset2(distribution, "distribution"),
                                     sample_shape)
  # No draws: nothing to map, and a batch-normalization layer that the
  # forward map normalizes with (under tfb_invert()) must not see an empty
  # batch, nor build on one.
  if (length(base_sample) == 0L) {
    return(base_sample)
  }
  bijector_forward(.subset2(distribution, "bijector"), base_sample)
}

#' @export
format.tfd_transformed_distribution <- function(x, ...) {
  base_lines <- format(.subset2(x, "distribution"), ...)
  bijector_lines <- format(.subset2(x, "bijector"), ...)
  c(NextMethod(),
    paste0("  distribution: ", base_lines[[1L]]),
    paste0("  ", base_lines[-1L]),
    paste0("  bijector: ", bijector_lines[[1L]]),
    paste0("  ", bijector_lines[-1L]))
}

#' @export
object_field_names.tfd_transformed_distribution <- function(x) {
  c(NextMethod(), "distribution", "bijector", "parameters")
}
