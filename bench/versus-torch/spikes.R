# Loss spikes per step, from the per-step losses factorial.R writes
# (issue 14, item 3): a step is a spike when its loss exceeds the median of
# the 32 steps before it (one epoch) by more than `jump` nats.
#
#   Rscript bench/versus-torch/spikes.R DIR [jump]     (jump default 0.5)
#
# Prints, per side and cell, the mean number of spikes per run, the share
# of them at the last (64-row) batch of an epoch and at the first batch of
# an epoch, the largest jump, and, for the pairs of runs that had the same
# weights and batches, how many of the package's spikes torch also had at
# the same step.

arguments <- commandArgs(trailingOnly = TRUE)
if (length(arguments) < 1L) {
  stop("usage: Rscript bench/versus-torch/spikes.R DIR [jump]", call. = FALSE)
}
dir <- arguments[[1L]]
jump <- if (length(arguments) >= 2L) as.numeric(arguments[[2L]]) else 0.5
steps_per_epoch <- 32L   # 8,000 rows in batches of 256: 31 full and 64 rows

spike_steps <- function(loss) {
  n <- length(loss)
  base <- vapply(seq_len(n), function(t) {
    if (t <= steps_per_epoch) NA_real_ else
      stats::median(loss[(t - steps_per_epoch):(t - 1L)])
  }, numeric(1))
  list(steps = which(loss - base > jump),
       largest = max(loss - base, na.rm = TRUE))
}

files <- list.files(dir, "^losses-.*\\.txt$")
runs <- lapply(files, function(file) {
  parts <- strsplit(sub("^losses-(.*)\\.txt$", "\\1", file), "-")[[1L]]
  found <- spike_steps(as.numeric(readLines(file.path(dir, file))))
  list(side = parts[[1L]], weights = parts[[2L]], order = parts[[3L]],
       seed = parts[[4L]], steps = found$steps, largest = found$largest)
})
table <- do.call(rbind, lapply(runs, function(run) {
  data.frame(side = run$side, weights = run$weights, order = run$order,
             seed = run$seed, spikes = length(run$steps),
             at_last_batch = sum(run$steps %% steps_per_epoch == 0L),
             at_first_batch = sum(run$steps %% steps_per_epoch == 1L),
             largest = run$largest)
}))
summary <- do.call(rbind, lapply(split(table, list(table$side, table$weights,
                                                   table$order), drop = TRUE),
                                 function(cell) {
  data.frame(side = cell$side[[1L]], weights = cell$weights[[1L]],
             order = cell$order[[1L]], runs = nrow(cell),
             spikes_per_run = mean(cell$spikes),
             share_last_batch = sum(cell$at_last_batch) / sum(cell$spikes),
             share_first_batch = sum(cell$at_first_batch) / sum(cell$spikes),
             mean_largest = mean(cell$largest))
}))
cat(sprintf("Spikes (loss > median of the previous %d steps + %g nats):\n",
            steps_per_epoch, jump))
print(summary, digits = 3, row.names = FALSE)

key <- function(run) paste(run$weights, run$order, run$seed)
torch_runs <- Filter(function(run) run$side == "torch", runs)
names(torch_runs) <- vapply(torch_runs, key, "")
shared <- 0L
total <- 0L
for (run in Filter(function(run) run$side == "package", runs)) {
  other <- torch_runs[[key(run)]]
  if (is.null(other)) next
  total <- total + length(run$steps)
  shared <- shared + sum(run$steps %in% other$steps)
}
cat(sprintf(paste("\nOf the package's %d spikes, torch had %d at the same",
                  "step from the same weights and batches.\n"), total, shared))
