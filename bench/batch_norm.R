# Speed and memory of the batch-normalization bijector.
#
# Run by hand from the repository root, with the package installed:
#   Rscript bench/batch_norm.R
#
# Every time is compared with `y * 2` on the same matrix in the same run: that
# is one read of the input and one write of a full-size output, the least any
# elementwise transform can do. Memory is compared with the size of the output.
# Targets (from the issue) are printed beside each figure.

library(bijectors)
options(width = 200)

if (!requireNamespace("bench", quietly = TRUE)) {
  stop("bench/batch_norm.R needs the 'bench' package: bash tools/install-deps.sh",
       call. = FALSE)
}

n_rows <- 1e6
n_features <- 32L
iterations <- 15L

set.seed(1)
y <- matrix(rnorm(n_rows * n_features, mean = 3, sd = 2), ncol = n_features)
output_bytes <- 8 * n_rows * n_features

# One layer, trained on a first batch so that it is built and its running
# statistics are not the initial ones; two views of it.
layer <- layer_batch_normalization()
train_bijector <- tfb_batch_normalization(layer)
invisible(tfb_inverse(train_bijector, y[seq_len(1000), ]))
eval_bijector <- tfb_batch_normalization(layer, training = FALSE)

cat(sprintf("bijectors %s, R %s, input %g x %d doubles (%.0f MB), %d iterations each\n\n",
            format(utils::packageVersion("bijectors")), getRversion(),
            n_rows, n_features, output_bytes / 1e6, iterations))

timings <- bench::mark(
  "y * 2" = y * 2,
  "forward (eval)" = tfb_forward(eval_bijector, y),
  "inverse (train)" = tfb_inverse(train_bijector, y),
  "inverse (eval)" = tfb_inverse(eval_bijector, y),
  "inverse log-det (train)" = tfb_inverse_log_det_jacobian(train_bijector, y, 1L),
  "inverse log-det (eval)" = tfb_inverse_log_det_jacobian(eval_bijector, y, 1L),
  "forward log-det (train)" = tfb_forward_log_det_jacobian(train_bijector, y, 1L),
  "forward log-det (eval)" = tfb_forward_log_det_jacobian(eval_bijector, y, 1L),
  iterations = iterations,
  check = FALSE,
  memory = TRUE,
  filter_gc = FALSE
)

labels <- as.character(timings$expression)
median_seconds <- as.numeric(timings$median)
memory_bytes <- as.numeric(timings$mem_alloc)
baseline_seconds <- median_seconds[labels == "y * 2"]

time_targets <- c("forward (eval)" = 1.1, "inverse (train)" = 1.3)
memory_targets <- c("forward (eval)" = 1.05, "inverse (train)" = 1.05,
                    "inverse (eval)" = 1.05)

verdict <- function(value, target) {
  ifelse(is.na(target), "", ifelse(value <= target, "ok", "MISSED"))
}
time_target <- unname(time_targets[labels])
memory_target <- unname(memory_targets[labels])
time_ratio <- median_seconds / baseline_seconds
memory_ratio <- memory_bytes / output_bytes

report <- data.frame(
  operation = labels,
  median_ms = sprintf("%.2f", median_seconds * 1e3),
  x_baseline = sprintf("%.2f", time_ratio),
  time_target = ifelse(is.na(time_target), "", sprintf("<= %.2fx", time_target)),
  time = verdict(time_ratio, time_target),
  mem_alloc_MB = sprintf("%.2f", memory_bytes / 1e6),
  x_output = sprintf("%.3f", memory_ratio),
  memory_target = ifelse(is.na(memory_target), "", sprintf("<= %.2fx", memory_target)),
  memory = verdict(memory_ratio, memory_target)
)
cat("Full-size matrix (median time; memory allocated by one call; output = ",
    sprintf("%.0f MB", output_bytes / 1e6), "):\n", sep = "")
print(report, row.names = FALSE, right = FALSE)

# The evaluation log-det reads only the running variance and gamma, so its
# cost must not grow with the number of rows.
small_y <- y[seq_len(1000), ]
logdet_rows <- bench::mark(
  "1e3 rows" = tfb_inverse_log_det_jacobian(eval_bijector, small_y, 1L),
  "1e6 rows" = tfb_inverse_log_det_jacobian(eval_bijector, y, 1L),
  iterations = 200L,
  check = FALSE,
  filter_gc = FALSE
)
logdet_us <- as.numeric(logdet_rows$median) * 1e6
cat(sprintf(paste0("\nEvaluation inverse log-det: %.1f us on 1e3 rows, %.1f us on 1e6 rows ",
                   "(ratio %.2f; target: independent of rows, about 1) %s\n"),
            logdet_us[1], logdet_us[2], logdet_us[2] / logdet_us[1],
            verdict(logdet_us[2] / logdet_us[1], 2)))

# Per-call overhead: a training inverse on a tiny batch is dominated by
# argument checking and dispatch, not arithmetic.
tiny_y <- matrix(rnorm(64 * 2), ncol = 2L)
tiny_bijector <- tfb_batch_normalization(layer_batch_normalization())
invisible(tfb_inverse(tiny_bijector, tiny_y))
tiny <- bench::mark(
  tfb_inverse(tiny_bijector, tiny_y),
  iterations = 5000L,
  check = FALSE,
  filter_gc = TRUE
)
tiny_us <- as.numeric(tiny$median) * 1e6
cat(sprintf("\nOne training inverse on a 64 x 2 input: %.1f us median (target <= 10 us) %s\n",
            tiny_us, verdict(tiny_us, 10)))
