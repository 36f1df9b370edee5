# A plain-R transcription of the rational quadratic spline of the reference
# sheet (section 2.2: TFP's algorithm, identity tails), one spline given by
# vectors W (K widths), H (K heights), S (K - 1 interior slopes). Never calls
# the package.

ref_spline_knots <- function(W, H, S, range_min) {
  list(x = c(range_min, range_min + cumsum(W)),
       y = c(range_min, range_min + cumsum(H)),
       d = c(1, S, 1), K = length(W))
}

# The 1-based bin of v among `knots` (K + 1 values), or 0 outside.
ref_spline_bin <- function(knots, v, K) {
  if (K < 1 || is.na(v) || v <= knots[[1L]] || v >= knots[[K + 1L]]) {
    return(0L)
  }
  max(1L, findInterval(v, knots[seq_len(K)]))
}

ref_spline_forward <- function(W, H, S, range_min, x) {
  kn <- ref_spline_knots(W, H, S, range_min)
  vapply(x, function(v) {
    k <- ref_spline_bin(kn$x, v, kn$K)
    if (k == 0L) return(v)
    w <- kn$x[k + 1] - kn$x[k]; h <- kn$y[k + 1] - kn$y[k]; s <- h / w
    d0 <- kn$d[k]; d1 <- kn$d[k + 1]
    xi <- (v - kn$x[k]) / w
    kn$y[k] + h * (s * xi^2 + d0 * xi * (1 - xi)) /
      (s + (d0 + d1 - 2 * s) * xi * (1 - xi))
  }, numeric(1))
}

ref_spline_fldj <- function(W, H, S, range_min, x) {
  kn <- ref_spline_knots(W, H, S, range_min)
  vapply(x, function(v) {
    k <- ref_spline_bin(kn$x, v, kn$K)
    if (k == 0L) return(0)
    w <- kn$x[k + 1] - kn$x[k]; h <- kn$y[k + 1] - kn$y[k]; s <- h / w
    d0 <- kn$d[k]; d1 <- kn$d[k + 1]
    xi <- (v - kn$x[k]) / w
    u <- xi * (1 - xi)
    2 * log(s) + log(d1 * xi^2 + 2 * s * u + d0 * (1 - xi)^2) -
      2 * log(s + (d0 + d1 - 2 * s) * u)
  }, numeric(1))
}

ref_spline_inverse <- function(W, H, S, range_min, y) {
  kn <- ref_spline_knots(W, H, S, range_min)
  vapply(y, function(v) {
    k <- ref_spline_bin(kn$y, v, kn$K)
    if (k == 0L) return(v)
    w <- kn$x[k + 1] - kn$x[k]; h <- kn$y[k + 1] - kn$y[k]; s <- h / w
    d0 <- kn$d[k]; d1 <- kn$d[k + 1]
    r <- v - kn$y[k]; t <- r * (d0 + d1 - 2 * s)
    a <- h * (s - d0) + t; b <- h * d0 - t; c <- -s * r
    xi <- if (r == 0) 0 else 2 * c / (-b - sqrt(b^2 - 4 * a * c))
    kn$x[k] + xi * w
  }, numeric(1))
}

# Random positive spline parameters with equal sums (total `total`).
ref_random_spline <- function(K, total = 2) {
  W <- runif(K, 0.2, 1); W <- W / sum(W) * total
  H <- runif(K, 0.2, 1); H <- H / sum(H) * total
  list(W = W, H = H, S = runif(max(K - 1, 0), 0.3, 3))
}
