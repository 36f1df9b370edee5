# Speed and memory of the elementwise bijectors (tfb_exp, tfb_sigmoid,
# tfb_shift, tfb_scale), all run by the kernel table of src/elementwise.c.
#
# Run by hand from the repository root, with the package installed:
#   Rscript bench/elementwise.R
#
# Each map is compared, in the same run, with base R's own vectorised form
# on the same 1e6 x 32 matrix: exp(x), plogis(x), x + s and x * s (with s
# repeated along the last axis, as the bijectors broadcast it). Targets: a
# ratio of at most 1.1 for exp and sigmoid; a log-det with event_ndims = 1
# allocates only its result (1e6 doubles), no full-size temporary.

library(bijectors)
options(width = 200)

if (!requireNamespace("bench", quietly = TRUE)) {
  stop("bench/elementwise.R needs the 'bench' package: bash tools/install-deps.sh",
       call. = FALSE)
}

n_rows <- 1e6
n_features <- 32L
iterations <- 7L

set.seed(1)
x <- matrix(rnorm(n_rows * n_features), ncol = n_features)
shift <- seq(-1, 1, length.out = n_features)
scale <- seq(0.5, 2, length.out = n_features)
shift_full <- rep(shift, each = n_rows)
scale_full <- rep(scale, each = n_rows)
output_bytes <- 8 * n_rows * n_features
result_bytes <- 8 * n_rows

exp_b <- tfb_exp()
sigmoid_b <- tfb_sigmoid()
shift_b <- tfb_shift(shift)
scale_b <- tfb_scale(scale)

cat(sprintf("bijectors %s, R %s, input %g x %d doubles (%.0f MB), %d iterations each\n\n",
            format(utils::packageVersion("bijectors")), getRversion(),
            n_rows, n_features, output_bytes / 1e6, iterations))

median_time <- function(t) as.numeric(t$median)

# Baseline and bijector in one bench::mark() call each, alternating, so that
# both see the same machine state.
compare <- function(label, baseline, bijector, target) {
  timings <- bench::mark(baseline = baseline(), bijector = bijector(),
                         iterations = iterations, check = FALSE,
                         filter_gc = FALSE)
  ratio <- median_time(timings[2, ]) / median_time(timings[1, ])
  cat(sprintf("%-42s %8.1f ms vs %8.1f ms  ratio %5.2f  (target <= %s: %s)  alloc %6.1f MB\n",
              label, 1000 * median_time(timings[2, ]),
              1000 * median_time(timings[1, ]), ratio,
              format(target), if (ratio <= target) "met" else "NOT met",
              as.numeric(timings$mem_alloc[[2]]) / 1e6))
  invisible(ratio)
}

compare("tfb_exp()$forward(x) vs exp(x)",
        function() exp(x), function() exp_b$forward(x), 1.1)
compare("tfb_sigmoid()$forward(x) vs plogis(x)",
        function() plogis(x), function() sigmoid_b$forward(x), 1.1)
compare("tfb_shift(s)$forward(x) vs x + s",
        function() x + shift_full, function() shift_b$forward(x), 1.1)
compare("tfb_scale(s)$forward(x) vs x * s",
        function() x * scale_full, function() scale_b$forward(x), 1.1)
# y made once outside the timed calls: log(abs(x)) would let R reuse the
# temporary abs(x) for its result, which no bijector can do.
y_positive <- abs(x)
compare("tfb_exp()$inverse(y) vs log(y)",
        function() log(y_positive), function() exp_b$inverse(y_positive), 1.1)

cat("\nlog-dets with event_ndims = 1 (result: 1e6 doubles, 8 MB)\n")
for (case in list(list("tfb_exp()", exp_b, function() rowSums(x)),
                  list("tfb_sigmoid()", sigmoid_b,
                       function() rowSums(plogis(x, log.p = TRUE) +
                                            plogis(-x, log.p = TRUE))))) {
  b <- case[[2]]
  timings <- bench::mark(baseline = case[[3]](),
                         bijector = b$forward_log_det_jacobian(x, 1),
                         iterations = iterations, check = FALSE,
                         filter_gc = FALSE)
  alloc <- as.numeric(timings$mem_alloc[[2]])
  cat(sprintf("%-14s fldj: %8.1f ms (plain R: %8.1f ms), allocates %.2f MB = %.3f x the result (target: only the result: %s)\n",
              case[[1]], 1000 * median_time(timings[2, ]),
              1000 * median_time(timings[1, ]), alloc / 1e6,
              alloc / result_bytes,
              if (alloc <= result_bytes * 1.01) "met" else "NOT met"))
}

cat("\nper-call overhead on a 4 x 2 matrix\n")
small <- matrix(rnorm(8), 4, 2)
timings <- bench::mark(`exp(x)` = exp(small),
                       `tfb_exp()$forward` = exp_b$forward(small),
                       `tfb_forward(tfb_exp(), x)` = tfb_forward(exp_b, small),
                       `tfb_shift()$forward` = shift_b$forward(matrix(0, 4, 32)),
                       `fldj(x, 1)` = exp_b$forward_log_det_jacobian(small, 1),
                       iterations = 2000, check = FALSE)
print(timings[, c("expression", "median", "mem_alloc")])
