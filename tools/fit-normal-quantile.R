# The rational approximations of src/normal_cdf.c's inverse (the normal
# quantile), fitted with Rmpfr at 256 bits and printed as C99 hexadecimal
# doubles, lowest degree first:
#
#   central  T(s), s = q^2 - 0.180625, with Phi^-1(1/2 + q) = q (A + q^2 T)
#            for |q| <= 0.425 (A = sqrt(2 pi)); degree 8/8
#   start    S(t), t = sqrt(-log p), with Phi^-1(1 - p) ~ t S(t) for t in
#            [1.6, 26.7]; degree 6/6, only a Newton step's start
#   mills    K(x) = Q(x) exp(x^2 / 2), Q the upper tail, for x in
#            [1.43, 37.7]; degree 8/9
#
# Each is a linearised least-squares fit of relative error on 160 (120)
# Chebyshev nodes, reweighted (Loeb's weights 1/Q, Lawson's |error|) over
# a few passes, keeping the pass with the smallest largest error; the
# normal equations are solved in 256 bits. The references are Newton's
# method on erf / erfc in 256 bits. About four minutes:
#   Rscript tools/fit-normal-quantile.R
suppressMessages(library(Rmpfr))
bits <- 256L
mp <- function(x) mpfr(x, bits)
sqrt2 <- sqrt(mp(2))
sqrt2pi <- sqrt(2 * Const("pi", bits))
density <- function(x) exp(-x^2 / 2) / sqrt2pi

chebyshev_nodes <- function(lower, upper, n) {
  lower + (upper - lower) * (1 - cos(pi * (seq_len(n) - 0.5) / n)) / 2
}

# Gaussian elimination with partial pivoting, in mpfr.
solve_mp <- function(a, b) {
  n <- length(b)
  for (k in seq_len(n)) {
    pivot <- which.max(abs(asNumeric(a[k:n, k]))) + k - 1L
    if (pivot != k) {
      row <- a[k, ]; a[k, ] <- a[pivot, ]; a[pivot, ] <- row
      value <- b[k]; b[k] <- b[pivot]; b[pivot] <- value
    }
    if (k < n) {
      for (i in (k + 1L):n) {
        factor <- a[i, k] / a[k, k]
        a[i, ] <- a[i, ] - factor * a[k, ]
        b[i] <- b[i] - factor * b[k]
      }
    }
  }
  x <- mp(rep(0, n))
  for (k in n:1L) {
    s <- b[k]
    if (k < n) s <- s - sum(a[k, (k + 1L):n] * x[(k + 1L):n])
    x[k] <- s / a[k, k]
  }
  x
}

horner <- function(coefficients, t) {
  s <- coefficients[length(coefficients)] + 0 * t
  for (k in rev(seq_len(length(coefficients) - 1L))) s <- s * t + coefficients[k]
  s
}

# P / Q with Q's constant term 1, fitted to g at the nodes t.
fit_rational <- function(t, g, m, n, passes = 20L) {
  nodes <- length(t)
  previous_q <- mp(rep(1, nodes))
  lawson <- rep(1, nodes)
  best <- NULL
  for (pass in seq_len(passes)) {
    columns <- c(lapply(0:m, function(k) t^k),
                 lapply(seq_len(n), function(k) -g * t^k))
    weight <- sqrt(mp(lawson)) / (g * previous_q)
    design <- mpfr2array(mp(rep(0, nodes * length(columns))),
                         dim = c(nodes, length(columns)))
    for (k in seq_along(columns)) design[, k] <- columns[[k]] * weight
    solution <- solve_mp(crossprod(design),
                         mp(rep(0, length(columns))) +
                           crossprod(design, g * weight)[, 1])
    p <- solution[1:(m + 1L)]
    q <- c(mp(1), solution[(m + 2L):length(solution)])
    q_values <- horner(q, t)
    error <- asNumeric((horner(p, t) / q_values - g) / g)
    worst <- max(abs(error))
    if (is.null(best) || worst < best$worst) {
      best <- list(p = p, q = q, worst = worst)
    }
    previous_q <- q_values
    lawson <- lawson * abs(error)
    lawson <- lawson / sum(lawson)
  }
  best
}

# Coefficients of c(t / a) (c in t / a) as coefficients in t.
rescale <- function(coefficients, a) {
  coefficients / a^(seq_along(coefficients) - 1L)
}

# Coefficients of c(s + a) in s.
shift <- function(coefficients, a) {
  n <- length(coefficients)
  for (j in seq_len(n - 1L)) {
    for (k in (n - 1L):j) {
      coefficients[k] <- coefficients[k] + a * coefficients[k + 1L]
    }
  }
  coefficients
}

show <- function(name, fit, p, q) {
  cat(sprintf("%s: largest relative error %.3g\n", name, fit$worst))
  cat("  numerator  ", sprintf("%a", asNumeric(p)), "\n")
  cat("  denominator", sprintf("%a", asNumeric(q)), "\n")
}

# central: g(r) = (Phi^-1(1/2 + q) / q - A) / r, r = q^2
r_max <- 0.180625
# nodes on [0, 0.425^2] (0.425^2 rounded to a double, a hair below
# r_max), from the cosines' doubles: these give the shipped coefficients
r <- mp(0.425^2) * ((1 - cos(pi * (seq_len(160) - 0.5) / 160)) / 2)
q <- sqrt(r)
x <- mp(qnorm(0.5 + asNumeric(q)))
for (i in 1:8) x <- x - (erf(x / sqrt2) / 2 - q) / density(x)
central <- fit_rational(r, (x / q - sqrt2pi) / r, 8L, 8L, passes = 25L)
cat(sprintf("A = %a + %a\n", asNumeric(sqrt2pi),
            asNumeric(sqrt2pi - mp(asNumeric(sqrt2pi)))))
show("central T(s)", central, shift(central$p, mp(r_max)),
     shift(central$q, mp(r_max)))

# start: x / t for p = exp(-t^2)
t <- mp(chebyshev_nodes(1.6, 26.7, 120))
log_p <- -t^2
x <- mp(-qnorm(asNumeric(log_p), log.p = TRUE))
for (i in 1:8) x <- x + (erfc(x / sqrt2) / 2 - exp(log_p)) / density(x)
start <- fit_rational(t / 26.7, x / t, 6L, 6L, passes = 15L)
show("start S(t)", start, rescale(start$p, mp(26.7)), rescale(start$q, mp(26.7)))

# mills: Q(x) exp(x^2 / 2) = M(x) / sqrt(2 pi), fitted as M in x / 37.7
x <- mp(chebyshev_nodes(1.43, 37.7, 160))
mills <- erfc(x / sqrt2) / 2 * sqrt2pi * exp(x^2 / 2)
fit <- fit_rational(x / 37.7, mills, 8L, 9L)
show("mills K(x)", fit, rescale(fit$p / sqrt2pi, mp(37.7)),
     rescale(fit$q, mp(37.7)))
