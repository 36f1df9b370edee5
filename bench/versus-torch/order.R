# Which minibatch order? The package's MAF (its own initial weights, drawn
# as epochs.R draws them) trained 30 epochs with numpy's minibatch order
# (flow.py's: np.random.RandomState(seed).permutation() per epoch) fed
# through a generator, against the same run with fit()'s sample.int() order.
#
#   Rscript bench/versus-torch/order.R [seeds]     (default 1:12)

source(file.path(local({
  file <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  if (length(file) == 1L) dirname(normalizePath(file)) else "bench/versus-torch"
}), "common.R"))

arguments <- commandArgs(trailingOnly = TRUE)
seeds <- if (length(arguments) >= 1L) parse_integers(arguments[[1L]]) else
  1:12
epochs <- 30L

numpy_orders <- function(seed, n) {
  out <- system2(python, c("-c", shQuote(sprintf(paste(
    "import numpy as np; r = np.random.RandomState(%d);",
    "print('\\n'.join(' '.join(str(i + 1) for i in r.permutation(%d))",
    "for _ in range(%d)))"), seed, n, epochs))), stdout = TRUE)
  lapply(strsplit(out, " ", fixed = TRUE), as.integer)
}

# the batches of 256 rows of each order in turn, NULL after each epoch
generator <- function(x, orders) {
  epoch <- 1L
  step <- 0L
  function() {
    order <- orders[[epoch]]
    if (step * 256L >= length(order)) {
      epoch <<- epoch + 1L
      step <<- 0L
      return(NULL)
    }
    rows <- order[(step * 256L + 1L):min((step + 1L) * 256L, length(order))]
    step <<- step + 1L
    x[rows, , drop = FALSE]
  }
}

rows <- list()
for (seed in seeds) {
  dir <- tempfile("versus-torch-")
  dir.create(dir)
  data <- write_two_moons(dir, seed)
  result <- c(r_order = NA, numpy_order = NA)
  for (order in names(result)) {
    set.seed(seed + 1000L)
    flow <- package_flow()
    if (order == "r_order") {
      fit(flow, data$train, epochs = epochs, batch_size = 256L,
          learning_rate = 1e-3, verbose = FALSE)
    } else {
      fit(flow, generator(data$train, numpy_orders(seed, nrow(data$train))),
          epochs = epochs, learning_rate = 1e-3, verbose = FALSE)
    }
    recompute_batch_statistics(flow, data$train)
    result[[order]] <- mean(evaluation_mode(flow)$log_prob(data$test))
  }
  rows[[length(rows) + 1L]] <- data.frame(seed = seed, t(result))
  unlink(dir, recursive = TRUE)
}
table <- do.call(rbind, rows)
print(table, digits = 4, row.names = FALSE)
se <- function(x) stats::sd(x) / sqrt(length(x))
cat(sprintf(paste("\nMeans after %d epochs: R's order %.4f (se %.4f), numpy's",
                  "%.4f (se %.4f); paired difference %.4f (se %.4f)\n"),
            epochs, mean(table$r_order), se(table$r_order),
            mean(table$numpy_order), se(table$numpy_order),
            mean(table$numpy_order - table$r_order),
            se(table$numpy_order - table$r_order)))
