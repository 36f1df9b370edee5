# Memory of training from a generator: resident memory over 100 epochs.
#
# Run by hand from the repository root, with the package installed:
#   Rscript bench/generator-memory.R
# (Linux only: it reads VmRSS from /proc/self/status.) About two minutes.
#
# The data set (1e5 rows x 8 columns, 6.4 MB as doubles) is written once to
# a CSV file on disk and never held in memory: fit() trains on it from
# batches_from_csv() in batches of 1e4 rows (0.64 MB), so the data set is
# 10 batches, for 100 epochs (1000 steps). The generator records the
# resident memory of the process each time it ends a pass (the end of an
# epoch). Target (issue 15): the resident memory stays flat over the
# epochs: after the first epochs, no growth beyond R's garbage-collection
# noise, and far below what holding the data (or the epochs' batches)
# would take.

library(bijectors)

resident_mb <- function() {
  status <- readLines("/proc/self/status")
  line <- grep("^VmRSS:", status, value = TRUE)
  as.numeric(gsub("[^0-9]", "", line)) / 1024
}

n_rows <- 1e5
n_columns <- 8L
batch_size <- 1e4
epochs <- 100L

set.seed(1)
path <- tempfile(fileext = ".csv")
# Written in pieces, so that the whole data set is never in memory either.
connection <- file(path, "w")
for (piece in seq_len(n_rows / batch_size)) {
  z <- matrix(rnorm(batch_size * n_columns), batch_size, n_columns)
  z[, 2] <- z[, 2] + 0.5 * z[, 1]^2
  write.table(z, connection, sep = ",", row.names = FALSE, col.names = FALSE)
}
close(connection)
rm(z)
invisible(gc())
cat(sprintf("data: %d rows x %d columns (%.1f MB as doubles, %.1f MB of CSV)\n",
            as.integer(n_rows), n_columns, n_rows * n_columns * 8 / 2^20,
            file.size(path) / 2^20))

flow <- tfd_transformed_distribution(
  tfd_multivariate_normal_diag(loc = rep(0, n_columns)),
  tfb_chain(list(
    tfb_masked_autoregressive_flow(
      tfb_masked_autoregressive_default_template(c(16L, 16L),
                                                 activation = "tanh")),
    tfb_batch_normalization(),
    tfb_permute(n_columns:1)
  ))
)

# The CSV generator, wrapped to note the resident memory at each end of a
# pass.
# Two figures per epoch: the resident memory as it is (with whatever
# garbage R has not collected yet), and after a full collection, with R's
# own count of the memory its objects use.
batches <- batches_from_csv(path, batch_size)
memory <- numeric(0)
memory_after_gc <- numeric(0)
heap_after_gc <- numeric(0)
generator <- function() {
  batch <- batches()
  if (is.null(batch)) {
    memory[[length(memory) + 1L]] <<- resident_mb()
    collected <- gc()
    memory_after_gc[[length(memory_after_gc) + 1L]] <<- resident_mb()
    heap_after_gc[[length(heap_after_gc) + 1L]] <<- sum(collected[, 2L])
  }
  batch
}

start_mb <- resident_mb()
seconds <- system.time(
  history <- fit(flow, generator, epochs = epochs, learning_rate = 1e-3,
                 verbose = FALSE)
)[["elapsed"]]
unlink(path)

cat(sprintf("trained %d epochs of %d steps in %.1f s; final loss %.4f\n",
            length(history$loss), history$settings$steps_per_epoch, seconds,
            history$loss[[length(history$loss)]]))
cat(sprintf("resident memory before fit(): %.1f MB\n", start_mb))
shown <- c(1, 2, 5, 10, 25, 50, 75, 100)
shown <- shown[shown <= length(memory)]
print(data.frame(epoch = shown, vmrss_mb = round(memory[shown], 1),
                 vmrss_after_gc_mb = round(memory_after_gc[shown], 1),
                 r_heap_after_gc_mb = round(heap_after_gc[shown], 1)),
      row.names = FALSE)
# The trend over epochs 6-100, fitted by least squares, in MB per 100
# epochs; the first epochs build the networks and warm R's heap up.
trend <- function(values) {
  later <- values[-(1:min(5L, length(values) - 1L))]
  100 * stats::coef(stats::lm(later ~ seq_along(later)))[[2L]]
}
describe <- function(label, values) {
  later <- values[-(1:min(5L, length(values) - 1L))]
  cat(sprintf(paste0("%-22s epochs 6-100: min %6.1f, max %6.1f MB; ",
                     "trend %+.2f MB per 100 epochs\n"),
              label, min(later), max(later), trend(values)))
}
describe("VmRSS", memory)
describe("VmRSS after gc()", memory_after_gc)
describe("R heap after gc()", heap_after_gc)
data_mb <- n_rows * n_columns * 8 / 2^20
cat(sprintf("one batch: %.2f MB; the data set: %.1f MB; 100 epochs of it: %.0f MB\n",
            batch_size * n_columns * 8 / 2^20, data_mb, 100 * data_mb))
# Flat: what R holds after a collection neither grows (a trend below one
# batch over 100 epochs) nor ever holds the data set (its spread stays
# below the data set's size). VmRSS without a collection swings by tens of
# MB with R's garbage-collection timing, which is noise, not growth.
later_heap <- heap_after_gc[-(1:5)]
flat <- abs(trend(heap_after_gc)) < batch_size * n_columns * 8 / 2^20 &&
  max(later_heap) - min(later_heap) < data_mb
cat(sprintf("target: memory flat over the epochs: %s\n",
            if (flat) "met" else "NOT met"))
