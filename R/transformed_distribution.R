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
#' **Shapes.** The batch shape is the base distribution's; the event shape
#' is the bijector's forward event shape of the base's event shape
#' ([tfb_forward_event_shape()]), so a [tfb_reshape()] in the flow changes
#' it. Bases of any event shape come from [tfd_independent()] and
#' [tfd_sample_distribution()]. A bijector that needs events of more
#' dimensions than the base's (batch normalization or a masked
#' autoregressive flow on a scalar [tfd_normal()], as tfprobability users
#' write) sees each event with trailing axes of size 1 added: an event of one
#' value is a vector of one value; the distribution's events stay the
#' base's.
#'
#' Event sizes are checked where they are known: a built batch-normalization
#' layer's feature count, a permutation's length and the length of a shift
#' or scale vector must match the size of the axis they act on, otherwise
#' an error of class `bijectors_error_event_size` is raised, when the
#' distribution is made or when a value is evaluated, before anything
#' changes.
#'
#' @param distribution The base distribution, such as one made by
#'   [tfd_multivariate_normal_diag()].
#' @param bijector A bijector, such as a [tfb_chain()] of flow layers.
#' @param batch_shape,event_shape `NULL` (the default, as current TFP), or,
#'   as TFP before 0.12 took them: `event_shape` makes a scalar base with no
#'   batch dimensions into iid draws of that shape (the same as a
#'   [tfd_sample_distribution()] base); otherwise each must equal the base's
#'   own shape.
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
  if (!is.null(kwargs_split_fn)) {
    abort_bijectors("unsupported", paste(
      "`kwargs_split_fn` is not supported by tfd_transformed_distribution():",
      "bijectors and distributions here take no keyword arguments."))
  }
  distribution <- override_base_shapes(distribution, batch_shape,
                                       event_shape)
  if (!is.null(parameters) && !is.list(parameters)) {
    abort_bijectors("argument", sprintf(
      "`parameters` must be NULL or a list, not %s.",
      describe_value(parameters)))
  }
  base_event_shape <- .subset2(distribution, "event_shape")
  lift <- event_rank_lift(bijector, base_event_shape, distribution)
  lifted_shape <- c(base_event_shape, rep(1L, lift))
  # the shapes mapped here are the base distribution's
  event_shape <- with_shape_argument("distribution", {
    check_event_shape_constraints(bijector, lifted_shape, distribution)
    if (lift > 0L) base_event_shape else
      as.integer(bijector_forward_event_shape(bijector, base_event_shape))
  })
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
    parameters = parameters,
    event_rank_lift = lift
  )
}

# TFP before 0.12 took batch_shape and event_shape to override a scalar
# base's shapes. An event shape over a scalar base is iid draws (a Sample
# base); anything else must restate the base's own shape.
override_base_shapes <- function(distribution, batch_shape, event_shape) {
  if (!is.null(event_shape)) {
    event_shape <- check_event_shape(event_shape, "event_shape")
    base_event <- .subset2(distribution, "event_shape")
    if (length(base_event) == 0L &&
        length(.subset2(distribution, "batch_shape")) == 0L &&
        length(event_shape) > 0L) {
      distribution <- tfd_sample_distribution(
        distribution, event_shape, name = .subset2(distribution, "name"))
    } else if (!identical(event_shape, base_event)) {
      abort_bijectors("unsupported", sprintf(paste(
        "`event_shape` %s can only restate the base distribution's event",
        "shape %s, or give a scalar base with no batch dimensions an event",
        "shape."), format_shape(event_shape), format_shape(base_event)))
    }
  }
  if (!is.null(batch_shape)) {
    batch_shape <- check_event_shape(batch_shape, "batch_shape")
    if (!identical(batch_shape, .subset2(distribution, "batch_shape"))) {
      abort_bijectors("unsupported", sprintf(paste(
        "`batch_shape` %s must equal the base distribution's batch shape",
        "%s: broadcasting a base to a new batch shape is not supported."),
        format_shape(batch_shape),
        format_shape(.subset2(distribution, "batch_shape"))))
    }
  }
  distribution
}

# A bijector whose events have more dimensions than the base's (batch
# normalization, a flow on vectors) over a base with scalar or smaller
# events sees each event with trailing axes of size 1 added: an event of
# one value is a vector of one value. This is how tfprobability users put
# tfb_batch_normalization() on a tfd_normal() base. The number of such axes,
# 0 when the ranks fit; a bijector that changes shapes must fit exactly.
event_rank_lift <- function(bijector, base_event_shape, distribution) {
  needed <- .subset2(bijector, "forward_min_event_ndims")
  lift <- max(0L, needed - length(base_event_shape))
  if (lift > 0L && bijector_changes_shape(bijector)) {
    abort_bijectors("event_ndims", sprintf(paste(
      "The bijector \"%s\" acts on events of at least %d dimension%s, but",
      "the events of the distribution \"%s\" have %d."),
      .subset2(bijector, "name"), needed, if (needed == 1L) "" else "s",
      .subset2(distribution, "name"), length(base_event_shape)))
  }
  as.integer(lift)
}

# Adds (or with `drop`, removes) the trailing size-1 axes of the event rank
# lift.
lift_event_rank <- function(x, lift, drop = FALSE) {
  if (lift == 0L) {
    return(x)
  }
  dims <- shape_of(x)
  if (drop) {
    with_shape(as.vector(x), dims[seq_len(length(dims) - lift)])
  } else {
    array(as.vector(x), c(dims, rep(1L, lift)))
  }
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

# Checks that the last dimensions of `value` are the distribution's event
# shape.
check_transformed_value <- function(distribution, value) {
  event_shape <- .subset2(distribution, "event_shape")
  event_ndims <- length(event_shape)
  if (event_ndims == 0L) {
    return(invisible())
  }
  dims <- input_dims(value)
  rank <- length(dims)
  value_event_shape <- if (rank >= event_ndims)
    dims[(rank - event_ndims + 1L):rank] else dims
  if (rank < event_ndims || any(value_event_shape != event_shape)) {
    abort_bijectors("event_size", sprintf(paste(
      "`value` must have the distribution's event shape %s in its last",
      "dimensions, but its shape is %s."), format_shape(event_shape),
      format_shape(dims)))
  }
  invisible()
}

# tfd_log_prob() of a transformed distribution whose flow has a compiled
# plan, for a matrix of events: the checks of the R path, then the plan's
# one .Call, which keeps the running statistics all or nothing itself, so
# that no snapshots are taken in R. NULL when the plan does not apply (the
# caller then takes the R path).
transformed_log_prob_through_plan <- function(distribution, value) {
  if (!inherits(distribution, "tfd_transformed_distribution") ||
      length(.subset2(distribution, "event_shape")) != 1L ||
      (.subset2(distribution, "event_rank_lift") %||% 0L) != 0L) {
    return(NULL)
  }
  check_transformed_value(distribution, value)
  plan_log_prob(distribution, value)
}

#' @export
distribution_log_prob.tfd_transformed_distribution <- function(distribution,
                                                               value) {
  base <- .subset2(distribution, "distribution")
  bijector <- .subset2(distribution, "bijector")
  event_ndims <- length(.subset2(distribution, "event_shape"))
  check_transformed_value(distribution, value)
  # The bijector checks `value` against the event sizes its members know
  # before any of them runs (see check_event_constraints()).
  lift <- .subset2(distribution, "event_rank_lift") %||% 0L
  # a flow of the kinds a compiled plan knows runs in C (R/plan.R)
  if (lift == 0L && event_ndims == 1L) {
    through_plan <- plan_log_prob(distribution, value)
    if (!is.null(through_plan)) {
      return(through_plan)
    }
  }
  inverse <- bijector_inverse_and_log_det(
    bijector, lift_event_rank(value, lift), event_ndims + lift)
  log_det <- inverse$log_det
  if (lift > 0L && length(log_det) > 1L) {
    log_det <- as.vector(log_det)
  }
  distribution_log_prob(base, lift_event_rank(inverse$x, lift, drop = TRUE)) +
    log_det
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
    return(with_shape(numeric(0), c(sample_shape,
                                    .subset2(distribution, "batch_shape"),
                                    .subset2(distribution, "event_shape"))))
  }
  lift <- .subset2(distribution, "event_rank_lift") %||% 0L
  lift_event_rank(
    bijector_forward(.subset2(distribution, "bijector"),
                     lift_event_rank(base_sample, lift)),
    lift, drop = TRUE)
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
