# Plain-R references for the linear bijectors (linear-L1): the dense
# operator from its parts, products and solves by %*%, solve(),
# forwardsolve() and backsolve(), log-dets by determinant(). Nothing here
# calls the package's C code.

# W with W[permutation, ] == L %*% U from TFP's packed lower_upper.
ref_lu_reconstruct <- function(lower_upper, permutation) {
  lower <- lower_upper
  lower[upper.tri(lower, diag = TRUE)] <- 0
  diag(lower) <- 1
  upper <- lower_upper
  upper[lower.tri(upper)] <- 0
  w <- matrix(0, nrow(lower_upper), ncol(lower_upper))
  w[permutation, ] <- lower %*% upper
  w
}

# LU factors of `a` with partial pivoting, written out in R, as TFP's
# (lower_upper, permutation), the permutation 1-based.
ref_lu_factor <- function(a) {
  k <- nrow(a)
  permutation <- seq_len(k)
  for (j in seq_len(k)) {
    pivot <- j - 1L + which.max(abs(a[j:k, j]))
    a[c(j, pivot), ] <- a[c(pivot, j), ]
    permutation[c(j, pivot)] <- permutation[c(pivot, j)]
    if (j < k) {
      below <- (j + 1L):k
      a[below, j] <- a[below, j] / a[j, j]
      a[below, below] <- a[below, below] -
        outer(a[below, j], a[j, below])
    }
  }
  list(lower_upper = a, permutation = permutation)
}

# Events in the rows of x (a vector is one event).
ref_linear_forward <- function(a, x, adjoint = FALSE) {
  op <- if (adjoint) t(a) else a
  if (is.null(dim(x))) return(as.vector(op %*% x))
  x %*% t(op)
}

ref_linear_inverse <- function(a, y, adjoint = FALSE) {
  op <- if (adjoint) t(a) else a
  if (is.null(dim(y))) return(as.vector(solve(op, y)))
  t(solve(op, t(y)))
}

ref_log_abs_det <- function(a) {
  as.numeric(determinant(a, logarithm = TRUE)$modulus)
}

# A random k x k lower-triangular matrix with diagonal entries of both
# signs away from 0.
random_tril <- function(k) {
  l <- matrix(rnorm(k * k, sd = 0.5), k)
  l[upper.tri(l)] <- 0
  diag(l) <- sample(c(-1, 1), k, TRUE) * runif(k, 0.5, 2)
  l
}

# A flow that learns data through `bijector`, trained a few epochs: the loss
# must go down and the parameters stay finite.
expect_linear_fit_improves <- function(bijector, y, epochs = 20) {
  flow <- tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = rep(0, ncol(y))), bijector)
  before <- -mean(flow$log_prob(y))
  history <- fit(flow, y, epochs = epochs, batch_size = nrow(y) %/% 4,
                 learning_rate = 0.05, verbose = FALSE)
  after <- -mean(flow$log_prob(y))
  expect_lt(after, before)
  expect_lt(history$loss[[epochs]], history$loss[[1]])
  expect_true(all(vapply(trainable_parameters(flow),
                         function(p) all(is.finite(p)), logical(1))))
  invisible(flow)
}
