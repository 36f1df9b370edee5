# The multivariate normal distribution with a diagonal scale.

#' Multivariate normal distribution with a diagonal scale
#'
#' The multivariate normal distribution of `loc + scale * z`, with `z`
#' standard normal and `scale` a diagonal matrix, as tfprobability's
#' `tfd_multivariate_normal_diag()`: independent coordinates with means `loc`
#' and standard deviations the diagonal of `scale`. The event shape is `D`,
#' the batch shape is scalar.
#'
#' The diagonal of `scale` is `scale_diag + scale_identity_multiplier`, as in
#' TFP: `scale_diag` defaults to ones when both are `NULL`, and to zeros when
#' only `scale_identity_multiplier` is given. It must be positive (an error
#' of class `bijectors_error_scale` otherwise). `D` is the length of `loc`
#' or `scale_diag`; `loc = NULL` means zeros.
#'
#' `log_prob(value)` takes events along the last axis of `value`: a vector of
#' length `D` gives one number, a matrix with `dim = c(N, D)` a vector of
#' length `N`. `sample(sample_shape)` has `dim = c(sample_shape, D)`.
#'
#' @param loc `NULL` or a numeric vector of finite numbers: the mean.
#' @param scale_diag `NULL` or a numeric vector of finite numbers: the
#'   diagonal of the scale matrix.
#' @param scale_identity_multiplier `NULL` or a finite number added to the
#'   diagonal.
#' @param validate_args,allow_nan_stats `TRUE` or `FALSE`; accepted for
#'   compatibility with tfprobability (parameters are always checked).
#' @param name A string: the distribution's name.
#' @return A distribution of class
#'   `c("tfd_multivariate_normal_diag", "distribution")` with the methods
#'   `$log_prob(value)`, `$prob(value)` and `$sample(sample_shape)`, and the
#'   fields `$loc`, `$scale_diag` (the effective diagonal), `$name`,
#'   `$batch_shape` and `$event_shape`.
#' @family distributions
#' @seealso `tfprobability::tfd_multivariate_normal_diag()`;
#'   [tfd_transformed_distribution()] to use it as the base of a flow.
#' @examples
#' d <- tfd_multivariate_normal_diag(loc = c(1, -1), scale_diag = c(1, 3))
#' d$log_prob(c(1, -1))
#' sum(dnorm(c(1, -1), c(1, -1), c(1, 3), log = TRUE))
#' set.seed(1)
#' x <- d$sample(1000)
#' colMeans(x)
#' # standard normal in 3 dimensions
#' tfd_multivariate_normal_diag(scale_diag = rep(1, 3))
#' @export
tfd_multivariate_normal_diag <- function(loc = NULL, scale_diag = NULL,
                                         scale_identity_multiplier = NULL,
                                         validate_args = FALSE,
                                         allow_nan_stats = TRUE,
                                         name = "MultivariateNormalDiag") {
  loc <- check_mvn_vector(loc, "loc")
  scale_diag <- check_mvn_vector(scale_diag, "scale_diag")
  if (!is.null(scale_identity_multiplier)) {
    scale_identity_multiplier <- check_number(scale_identity_multiplier,
                                              "scale_identity_multiplier")
  }
  if (is.null(loc) && is.null(scale_diag)) {
    abort_bijectors("argument", paste(
      "Give `loc` or `scale_diag` to tfd_multivariate_normal_diag():",
      "the event size is their length."))
  }
  if (!is.null(loc) && !is.null(scale_diag) &&
      length(loc) != length(scale_diag)) {
    abort_bijectors("argument", sprintf(
      "`loc` (length %d) and `scale_diag` (length %d) must have the same length.",
      length(loc), length(scale_diag)))
  }
  size <- length(loc %||% scale_diag)
  diagonal <- scale_diag %||%
    rep(if (is.null(scale_identity_multiplier)) 1 else 0, size)
  if (!is.null(scale_identity_multiplier)) {
    diagonal <- diagonal + scale_identity_multiplier
  }
  if (any(diagonal <= 0)) {
    abort_bijectors("scale", sprintf(paste(
      "The diagonal of the scale (`scale_diag` plus",
      "`scale_identity_multiplier`) must be positive, but it is %s."),
      format_values(diagonal)))
  }
  new_distribution(
    "tfd_multivariate_normal_diag",
    name = check_string(name, "name"),
    batch_shape = integer(),
    event_shape = size,
    validate_args = check_flag(validate_args, "validate_args"),
    allow_nan_stats = check_flag(allow_nan_stats, "allow_nan_stats"),
    loc = loc %||% numeric(size),
    scale_diag = diagonal,
    scale_identity_multiplier = scale_identity_multiplier,
    log_normalizer = sum(log(diagonal)) + size * log(2 * pi) / 2
  )
}

# Checks that the last axis of `value` is the event.
check_event_axis <- function(value, size, arg = "value") {
  dims <- input_dims(value)
  if (dims[[length(dims)]] != size) {
    abort_bijectors("event_size", sprintf(paste(
      "`%s` has %s values along its last axis, but the distribution's",
      "events have size %d."), arg, format(dims[[length(dims)]]), size))
  }
  dims
}

#' @export
distribution_log_prob.tfd_multivariate_normal_diag <- function(distribution,
                                                               value) {
  size <- .subset2(distribution, "event_shape")
  dims <- check_event_axis(value, size)
  loc <- .subset2(distribution, "loc")
  scale <- .subset2(distribution, "scale_diag")
  rank <- length(dims)
  log_normalizer <- .subset2(distribution, "log_normalizer")
  if (rank == 1L) {
    return(-0.5 * sum(((value - loc) / scale)^2) - log_normalizer)
  }
  # The repeated vectors are temporaries that R reuses for the results.
  standardized <- (value - along_last_axis(loc, dims)) /
    along_last_axis(scale, dims)
  events <- prod(dims[-rank])
  squares <- standardized * standardized
  dim(squares) <- c(events, size)
  log_prob <- -0.5 * rowSums(squares) - log_normalizer
  if (rank > 2L) {
    dim(log_prob) <- dims[-rank]
  } else {
    names(log_prob) <- rownames(value)
  }
  log_prob
}

#' @export
distribution_sample.tfd_multivariate_normal_diag <- function(distribution,
                                                             sample_shape) {
  size <- .subset2(distribution, "event_shape")
  shape <- c(sample_shape, size)
  count <- prod(sample_shape)
  draws <- stats::rnorm(count * size) *
    rep(.subset2(distribution, "scale_diag"), each = count) +
    rep(.subset2(distribution, "loc"), each = count)
  with_shape(draws, shape)
}

#' @export
format.tfd_multivariate_normal_diag <- function(x, ...) {
  c(NextMethod(), sprintf("  loc: %s, scale_diag: %s",
                          format_values(.subset2(x, "loc")),
                          format_values(.subset2(x, "scale_diag"))))
}

#' @export
object_field_names.tfd_multivariate_normal_diag <- function(x) {
  c(NextMethod(), "loc", "scale_diag", "scale_identity_multiplier")
}
