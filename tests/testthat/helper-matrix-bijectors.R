# Shared by the tests of the bijectors on matrix events: plain-R pieces
# that never call the package's C code.

# log|det J| of `f` at the n x n matrix `x` through the free coordinates:
# the lower triangle of the input and of the output (TFP's rule).
free_log_det <- function(f, x, h = 1e-6) {
  n <- nrow(x)
  tri <- which(lower.tri(diag(n), diag = TRUE))
  jacobian <- sapply(tri, function(k) {
    e <- replace(matrix(0, n, n), k, h)
    (f(x + e)[tri] - f(x - e)[tri]) / (2 * h)
  })
  as.numeric(determinant(matrix(jacobian, length(tri)))$modulus)
}

# A random n x n Cholesky factor, diagonal in [0.8, 2].
random_factor <- function(n) {
  x <- matrix(0, n, n)
  x[lower.tri(x)] <- rnorm(n * (n - 1) / 2)
  diag(x) <- runif(n, 0.8, 2)
  x
}

# The events of a c(N, n, n) array as a list of matrices.
events_of <- function(y) {
  lapply(seq_len(dim(y)[[1L]]), function(k) {
    matrix(y[k, , ], dim(y)[[2L]], dim(y)[[3L]])
  })
}

# A flow on vectors of n(n+1)/2 values through the matrix bijector `b`:
# Cholesky factors from fill_scale_tri_l(exp), `b`, and back to vectors
# through the lower triangle.
vector_sandwich <- function(b, shift = 0.2) {
  tfb_chain(list(tfb_invert(tfb_fill_triangular()), b,
                 tfb_fill_scale_tri_l(tfb_exp(), shift)))
}
