# Speed of the package's elementary functions over arrays (src/vector_math.c:
# exp, expm1, log, log1p, tanh, pow) against base R's, in the same run.
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
# 4. Nanoseconds per value of each SIMD path (AVX2 + FMA, AVX-512 where the
#    CPU has it) and of base R, on 256 x 64 doubles (a network layer's
#    activations, in cache) and on 1e7.
# Each row prints the ratio to base R (below 1: faster); the target of the
# task is 0.3 or less.

library(bijectors)
options(width = 200)

entry <- bijectors:::C_vector_math_test
pow_entry <- bijectors:::C_vector_math_pow_test
# pow(x, 1/0.3) as tfb_power_transform(0.3) uses it
pow_exponent <- 1 / 0.3
vm <- function(name, x, path) {
  if (name == "pow")
    .Call(pow_entry, "pow", x, NULL, c(pow_exponent, 0), path)
  else .Call(entry, name, x, path)
}
base_r <- list(exp = exp, expm1 = expm1, log = log, log1p = log1p,
               tanh = tanh, pow = function(x) x^pow_exponent)

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
  f <- base_r[[name]]
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
                log1p = c(-0.9, 10), tanh = c(-5, 5), pow = c(0.01, 3))
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

# 4. ns per value by path
paths <- c("simd", "avx512")
paths <- paths[vapply(paths, function(p) !is.null(vm("exp", 1, p)), TRUE)]
ns_per_value <- function(fn, x, loops) {
  cpu(function() for (i in seq_len(loops)) fn(x), 5) / loops / length(x) * 1e9
}
rows <- list()
for (name in names(domains)) {
  d <- domains[[name]]
  for (size in c("256x64", "1e7")) {
    n <- if (size == "1e7") 1e7 else 256 * 64
    loops <- if (size == "1e7") 1 else 1000
    x <- runif(n, d[1], d[2])
    base_ns <- ns_per_value(base_r[[name]], x, loops)
    row <- data.frame(f = name, size = size, base_r_ns = base_ns)
    for (p in paths) {
      ns <- ns_per_value(function(v) vm(name, v, p), x, loops)
      row[[paste0(p, "_ns")]] <- ns
      row[[paste0(p, "_ratio")]] <- ns / base_ns
    }
    rows[[length(rows) + 1L]] <- row
  }
}
cat("\nns per value (CPU time, best of 5) by path; ratio: to base R in the same run\n")
print(do.call(rbind, rows), digits = 3, row.names = FALSE)
