# Plain-R reference implementation of batch normalization, written from the
# contract (DESIGN section 4). Nothing here calls the package's C code: the
# statistics are taken with aperm() and elementwise R arithmetic, so the
# tests compare two independent implementations.

# Resolve R-style axes (1-based, negative from the end) for an input of
# rank `rank`, sorted, as the contract says the feature index is
# column-major over the sorted feature axes.
ref_axes <- function(axis, rank) {
  axis <- as.integer(axis)
  resolved <- ifelse(axis < 0L, rank + 1L + axis, axis)
  sort(resolved)
}

ref_dim <- function(y) {
  if (is.null(dim(y))) length(y) else dim(y)
}

# Rearrange y into a matrix with one row per reduction position and one
# column per feature (features column-major over the sorted feature axes).
ref_to_matrix <- function(y, axes) {
  dims <- ref_dim(y)
  rank <- length(dims)
  feature_axes <- ref_axes(axes, rank)
  reduction_axes <- setdiff(seq_len(rank), feature_axes)
  arr <- array(as.double(y), dim = dims)
  permuted <- aperm(arr, c(reduction_axes, feature_axes))
  matrix(as.vector(permuted),
         nrow = prod(dims[reduction_axes]),
         ncol = prod(dims[feature_axes]))
}

# Inverse of ref_to_matrix(): put a (reduction x feature) matrix back into the
# shape of `like`.
ref_from_matrix <- function(m, like, axes) {
  dims <- ref_dim(like)
  rank <- length(dims)
  feature_axes <- ref_axes(axes, rank)
  reduction_axes <- setdiff(seq_len(rank), feature_axes)
  order_used <- c(reduction_axes, feature_axes)
  permuted <- array(as.vector(m), dim = dims[order_used])
  back <- aperm(permuted, order(order_used))
  if (is.null(dim(like))) {
    as.vector(back)
  } else {
    array(as.vector(back), dim = dims)
  }
}

# Batch mean and biased variance per feature, by two passes in plain R.
ref_moments <- function(y, axes) {
  m <- ref_to_matrix(y, axes)
  n <- nrow(m)
  mean <- vapply(seq_len(ncol(m)), function(j) sum(m[, j]) / n, numeric(1))
  variance <- vapply(seq_len(ncol(m)), function(j) {
    deviation <- m[, j] - mean[j]
    sum(deviation * deviation) / n
  }, numeric(1))
  list(mean = mean, variance = variance)
}

# Apply a per-feature affine map a * y + b (a, b of length = #features).
ref_per_feature <- function(y, axes, fun) {
  m <- ref_to_matrix(y, axes)
  out <- m
  for (j in seq_len(ncol(m))) out[, j] <- fun(m[, j], j)
  ref_from_matrix(out, y, axes)
}

ref_bn_inverse <- function(y, axes, gamma, beta, mean, var, eps) {
  ref_per_feature(y, axes, function(column, j) {
    gamma[j] * (column - mean[j]) / sqrt(var[j] + eps) + beta[j]
  })
}

ref_bn_forward <- function(x, axes, gamma, beta, mean, var, eps) {
  ref_per_feature(x, axes, function(column, j) {
    (column - beta[j]) / gamma[j] * sqrt(var[j] + eps) + mean[j]
  })
}

# Inverse log-det as a scalar for the minimum event ndims.
ref_ildj <- function(gamma, var, eps) {
  sum(log(gamma)) - 0.5 * sum(log(var + eps))
}

# Factor by which a scalar log-det is multiplied when event_ndims exceeds the
# minimum: the product of dim(y) over the extra event positions.
ref_event_factor <- function(dims, event_ndims, min_event_ndims) {
  rank <- length(dims)
  if (event_ndims == min_event_ndims) return(1)
  prod(dims[(rank - event_ndims + 1):(rank - min_event_ndims)])
}

ref_update <- function(moving, batch, momentum) {
  momentum * moving + (1 - momentum) * batch
}

# Training inverse of the reference: output and the updated statistics.
ref_train_step <- function(y, axes, weights, momentum, eps) {
  moments <- ref_moments(y, axes)
  x <- ref_bn_inverse(y, axes, weights$gamma, weights$beta,
                      moments$mean, moments$variance, eps)
  list(
    x = x,
    moments = moments,
    weights = list(
      gamma = weights$gamma,
      beta = weights$beta,
      moving_mean = ref_update(weights$moving_mean, moments$mean, momentum),
      moving_variance = ref_update(weights$moving_variance,
                                   moments$variance, momentum)
    )
  )
}

# Jacobian of f at v by central differences, f mapping R^n -> R^n.
numerical_jacobian <- function(f, v, h = 1e-5) {
  n <- length(v)
  jac <- matrix(0, n, n)
  for (k in seq_len(n)) {
    up <- v
    down <- v
    up[k] <- up[k] + h
    down[k] <- down[k] - h
    jac[, k] <- (as.vector(f(up)) - as.vector(f(down))) / (2 * h)
  }
  jac
}

log_abs_det <- function(m) {
  as.numeric(determinant(m, logarithm = TRUE)$modulus)
}

# The numbers 0..(n-1) laid out row by row (C order), as numpy's
# arange(n).reshape(dims) in TFP's tests.
c_order_array <- function(dims) {
  n <- prod(dims)
  reversed <- array(seq_len(n) - 1, dim = rev(dims))
  array(aperm(reversed), dim = dims)
}

# Weights of random values, with a positive gamma and variance.
random_weights <- function(n) {
  list(
    gamma = runif(n, 0.5, 2),
    beta = rnorm(n),
    moving_mean = rnorm(n),
    moving_variance = runif(n, 0.5, 3)
  )
}

# Everything about a layer's state that a failed call must leave alone.
layer_state <- function(layer) {
  built <- layer$built
  list(
    built = built,
    feature_shape = layer$feature_shape,
    weights = if (isTRUE(built)) get_weights(layer) else NULL
  )
}

# Expect `expr` to fail with `class` and leave `layer`'s state identical.
expect_error_keeps_state <- function(layer, expr, class) {
  before <- layer_state(layer)
  expect_error(expr, class = class)
  expect_identical(layer_state(layer), before)
}
