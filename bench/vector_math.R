# Speed of the package's elementary functions over arrays (src/vector_math.c:
# exp, expm1, log, log1p, tanh) against base R's, in the same run.
#
# Run by hand from the repository root, with the package installed:
#   Rscript bench/vector_math.R
#
# 1. On 1e7 doubles: base R's f(x) against the package's array function
#    (through the internal test entry, which allocates its result as base R
#    does), CPU time (user + system), the two interleaved, best of 5.
# 2. The same on 1e5 doubles repeated 100 times (in cache: the arithmetic
#    without the page faults of a fresh 80 MB result).
# 3. The portable path (what a CPU without AVX2 + FMA gets, the same
#    results) on 1e7 doubles, against base R.
# Each row prints the ratio to base R (below 1: faster); the target of the
# task is 0.3 or less.

library(bijectors)
options(width = 200)

entry <- bijectors:::C_vector_math_test
vm <- function(name, x, path) .Call(entry, name, x, path)

cpu <- function(expr_fn, reps = 5) {
  best <- Inf
  for (r in seq_len(reps)) {
    gc()
    t <- system.time(expr_fn())
    best <- min(best, t[["user.self"]] + t[["sys.self"]])
  }
  best
}

# interleaved: base, ours, base, ours, ... so that load from other jobs
# hits both alike
compare <- function(name, x, path, loops = 1, reps = 5) {
  f <- match.fun(name)
  tb <- to <- Inf
  for (r in seq_len(reps)) {
    tb <- min(tb, cpu(function() for (i in seq_len(loops)) f(x), 1))
    to <- min(to, cpu(function() for (i in seq_len(loops)) vm(name, x, path),
                      1))
  }
  c(base = tb, ours = to, ratio = to / tb)
}

set.seed(1)
domains <- list(exp = c(-20, 20), expm1 = c(-5, 5), log = c(1e-3, 1e3),
                log1p = c(-0.9, 10), tanh = c(-5, 5))
simd <- !is.null(vm("exp", 1, "simd"))
cat(sprintf("SIMD path (AVX2 + FMA) available: %s\n\n", simd))
rows <- list()
for (name in names(domains)) {
  d <- domains[[name]]
  big <- runif(1e7, d[1], d[2])
  small <- runif(1e5, d[1], d[2])
  a <- compare(name, big, "auto")
  b <- compare(name, small, "auto", loops = 100)
  p <- compare(name, big, "portable", reps = 3)
  rows[[name]] <- data.frame(
    f = name,
    base_1e7_s = a[["base"]], ours_1e7_s = a[["ours"]],
    ratio_1e7 = a[["ratio"]],
    ratio_in_cache = b[["ratio"]],
    ratio_portable = p[["ratio"]])
}
out <- do.call(rbind, rows)
rownames(out) <- NULL
print(out, digits = 3)
cat("\nratio_1e7: 1e7 doubles, result allocated (as base R's);",
    "ratio_in_cache: 1e5 doubles x 100;",
    "ratio_portable: the portable path on 1e7 doubles. Target <= 0.3.\n")
