# Data sets the examples, the vignette and the README job train flows on,
# drawn with R's random number generator so set.seed() reproduces them.

#' Two interleaved half circles
#'
#' Draws `n` points from the "two moons" distribution, the usual first test
#' of a normalizing flow (as scikit-learn's `make_moons()`, with angles drawn
#' at random rather than evenly spaced): half of the points lie near the
#' upper half circle of radius 1 centred at (0, 0), the others near the lower
#' half circle centred at (1, 0.5), with independent Gaussian noise of
#' standard deviation `noise` added to both coordinates. The coordinates
#' span about \[-1, 2\] x \[-0.5, 1\]; standardize them (for example with
#' [scale()]) before training a flow whose base distribution is a standard
#' normal.
#'
#' @param n Whole number >= 1: the number of points. The upper moon gets
#'   `ceiling(n / 2)` of them, the lower one the rest.
#' @param noise Number >= 0: the standard deviation of the Gaussian noise.
#' @return An `n` x 2 double matrix with columns `x1` and `x2`, the points of
#'   the two moons in random order.
#' @family training
#' @seealso [sample_gaussian_mixture()] for a higher-dimensional data set;
#'   [fit.tfd_transformed_distribution()]; `vignette("flow-training",
#'   package = "bijectors")`.
#' `two_moons_log_density()` is the log-density of the same distribution
#' (for a data set of even size; an odd `n` puts one point more in the
#' upper moon), the best log-likelihood a flow can reach on its samples: the
#' Gaussian noise averaged over each half circle, an integral over the angle
#' computed with the midpoint rule on `nodes` angles per moon (its error is
#' far below 1e-10 in the log when the spacing `pi / nodes` is small against
#' `noise`).
#'
#' @param x A matrix with two columns: points at which to evaluate the
#'   log-density.
#' @param nodes Whole number >= 1: the angles per half circle of the
#'   integration rule.
#' @examples
#' set.seed(1)
#' y <- sample_two_moons(500, noise = 0.05)
#' dim(y)
#' plot(y, asp = 1, pch = 20, cex = 0.5)
#' mean(two_moons_log_density(y, noise = 0.05))   # the best mean log-likelihood
#' @export
sample_two_moons <- function(n, noise = 0.05) {
  n <- check_count(n, "n")
  noise <- check_number(noise, "noise", lower = 0)
  upper <- ceiling(n / 2)
  angle <- stats::runif(n, 0, pi)
  in_upper <- seq_len(n) <= upper
  x1 <- ifelse(in_upper, cos(angle), 1 - cos(angle))
  x2 <- ifelse(in_upper, sin(angle), 0.5 - sin(angle))
  points <- cbind(x1 = x1, x2 = x2) +
    matrix(stats::rnorm(2L * n, sd = noise), n, 2L)
  points[sample.int(n), , drop = FALSE]
}

#' @rdname sample_two_moons
#' @export
two_moons_log_density <- function(x, noise = 0.05, nodes = 2000L) {
  noise <- check_number(noise, "noise", lower = 0)
  if (noise == 0) {
    abort_bijectors("argument", paste(
      "`noise` must be positive: without noise the points lie on curves",
      "and have no density."))
  }
  nodes <- check_count(nodes, "nodes")
  x <- as_input_array(x, "x")
  if (length(dim(x)) != 2L || ncol(x) != 2L) {
    abort_bijectors("event_size",
                    "`x` must be a matrix with 2 columns (points of the plane).")
  }
  angle <- (seq_len(nodes) - 0.5) * pi / nodes
  centers_x1 <- c(cos(angle), 1 - cos(angle))
  centers_x2 <- c(sin(angle), 0.5 - sin(angle))
  # log of the mean over the 2 * nodes centres of the noise density, with
  # the largest term factored out so that far points do not underflow
  vapply(seq_len(nrow(x)), function(i) {
    exponent <- -((x[i, 1L] - centers_x1)^2 + (x[i, 2L] - centers_x2)^2) /
      (2 * noise^2)
    top <- max(exponent)
    top + log(mean(exp(exponent - top))) - log(2 * pi * noise^2)
  }, numeric(1))
}

#' A multivariate Gaussian mixture
#'
#' Draws `n` points from a mixture of multivariate normal distributions: each
#' point picks component `k` with probability `weights[k]` and is drawn from
#' the normal with mean `means[k, ]` and covariance `covariances[[k]]`.
#' With `means = NULL` (the default) it is a correlated mixture of three
#' components of unequal weights in 4 dimensions, the second example of
#' `vignette("flow-training", package = "bijectors")`: means `c(-2, -1, 0,
#' 1)`, `c(2, 1, -1, 0)` and `c(0, 2, 2, -2)`; covariances `1.5 * 0.8^|i -
#' j|`, `diag(c(0.5, 1, 0.5, 1))` and `0.3 * diag(4) + 0.1`; weights 0.5,
#' 0.3 and 0.2.
#'
#' `mixture_log_density()` is the log-density of the same mixture, the
#' best log-likelihood a flow can reach on its samples.
#'
#' @param n Whole number >= 1: the number of points.
#' @param means `NULL` for the default mixture, or a `K` x `D` numeric
#'   matrix: one component mean per row.
#' @param covariances `NULL` (the default mixture's covariances with
#'   `means = NULL`, identity matrices otherwise) or a list of `K` symmetric
#'   positive-definite `D` x `D` matrices.
#' @param weights `NULL` (the default mixture's weights with `means = NULL`,
#'   equal weights otherwise) or `K` non-negative numbers with a positive sum
#'   (normalised to sum to 1).
#' @param x A numeric matrix with `D` columns, one point per row.
#' @return `sample_gaussian_mixture()`: an `n` x `D` double matrix, with
#'   the component of each row in the attribute `"component"` (an integer
#'   vector). `mixture_log_density()`: a double vector with one log-density
#'   per row of `x`.
#' @family training
#' @seealso [sample_two_moons()]; [fit.tfd_transformed_distribution()];
#'   `vignette("flow-training", package = "bijectors")`.
#' @examples
#' set.seed(1)
#' y <- sample_gaussian_mixture(1000)
#' dim(y)
#' table(attr(y, "component"))
#' mean(mixture_log_density(y))   # the best a model can do, in nats
#'
#' y2 <- sample_gaussian_mixture(200, means = rbind(c(-2, 0), c(2, 0)))
#' plot(y2, col = attr(y2, "component"))
#' @export
sample_gaussian_mixture <- function(n, means = NULL, covariances = NULL,
                                    weights = NULL) {
  n <- check_count(n, "n")
  mixture <- check_mixture(means, covariances, weights)
  size <- ncol(mixture$means)
  component <- sample.int(nrow(mixture$means), n, replace = TRUE,
                          prob = mixture$weights)
  points <- matrix(0, n, size)
  for (k in seq_len(nrow(mixture$means))) {
    rows <- which(component == k)
    if (length(rows) == 0L) {
      next
    }
    draws <- matrix(stats::rnorm(length(rows) * size), length(rows), size)
    points[rows, ] <- draws %*% mixture$factors[[k]] +
      rep(mixture$means[k, ], each = length(rows))
  }
  colnames(points) <- paste0("x", seq_len(size))
  attr(points, "component") <- component
  points
}

#' @rdname sample_gaussian_mixture
#' @export
mixture_log_density <- function(x, means = NULL, covariances = NULL,
                                weights = NULL) {
  mixture <- check_mixture(means, covariances, weights)
  x <- as_input_array(x, "x")
  size <- ncol(mixture$means)
  if (length(dim(x)) != 2L || ncol(x) != size) {
    abort_bijectors("event_size", sprintf(
      "`x` must be a matrix with %d columns (the dimension of the mixture).",
      size))
  }
  terms <- vapply(seq_len(nrow(mixture$means)), function(k) {
    centred <- x - rep(mixture$means[k, ], each = nrow(x))
    # Solving with the upper Cholesky factor R (covariance = R'R) whitens
    # the points: z = centred R^-1.
    z <- t(backsolve(mixture$factors[[k]], t(centred), transpose = TRUE))
    log(mixture$weights[[k]]) - 0.5 * rowSums(z * z) -
      sum(log(diag(mixture$factors[[k]]))) - 0.5 * size * log(2 * pi)
  }, numeric(nrow(x)))
  terms <- matrix(terms, nrow = nrow(x))
  top <- apply(terms, 1L, max)
  top + log(rowSums(exp(terms - top)))
}

check_mixture <- function(means, covariances, weights) {
  if (is.null(means)) {
    means <- default_mixture$means
    covariances <- covariances %||% default_mixture$covariances
    weights <- weights %||% default_mixture$weights
  }
  if (!is.numeric(means) || is.object(means) || length(dim(means)) != 2L ||
      any(dim(means) == 0L) || !all(is.finite(means))) {
    abort_bijectors("argument", sprintf(paste(
      "`means` must be a numeric matrix of finite numbers with one",
      "component mean per row, not %s."), describe_value(means)))
  }
  components <- nrow(means)
  size <- ncol(means)
  if (is.null(covariances)) {
    covariances <- rep(list(diag(size)), components)
  }
  if (!is.list(covariances) || length(covariances) != components) {
    abort_bijectors("argument", sprintf(paste(
      "`covariances` must be NULL or a list of %d covariance matrices (one",
      "per row of `means`), not %s."), components,
      describe_value(covariances)))
  }
  factors <- lapply(seq_len(components), function(k) {
    covariance <- covariances[[k]]
    ok <- is.numeric(covariance) && identical(dim(covariance),
                                              c(size, size)) &&
      all(is.finite(covariance)) && isSymmetric(unname(covariance))
    factor <- if (ok) tryCatch(chol(covariance), error = function(e) NULL)
    if (is.null(factor)) {
      abort_bijectors("argument", sprintf(paste(
        "`covariances[[%d]]` must be a symmetric positive-definite %d x %d",
        "matrix."), k, size, size))
    }
    factor
  })
  if (is.null(weights)) {
    weights <- rep(1, components)
  }
  if (!is.numeric(weights) || is.object(weights) ||
      length(weights) != components || !all(is.finite(weights)) ||
      any(weights < 0) || sum(weights) <= 0) {
    abort_bijectors("argument", sprintf(paste(
      "`weights` must be NULL or %d non-negative numbers with a positive",
      "sum, not %s."), components, describe_value(weights)))
  }
  list(means = means, factors = factors, weights = weights / sum(weights))
}

# Three components in 4 dimensions: one elongated and correlated, one round,
# one small, at different distances from the origin.
default_mixture <- local({
  correlated <- 0.8 ^ abs(outer(1:4, 1:4, "-"))
  list(
    means = rbind(c(-2, -1, 0, 1), c(2, 1, -1, 0), c(0, 2, 2, -2)),
    covariances = list(
      correlated * 1.5,
      diag(c(0.5, 1, 0.5, 1)),
      diag(0.3, 4) + 0.1
    ),
    weights = c(0.5, 0.3, 0.2)
  )
})
