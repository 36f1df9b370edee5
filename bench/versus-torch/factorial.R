# Which factor carries the gap? The package and torch, each trained from
# the same two kinds of initial weights and the same two kinds of minibatch
# order, every cell of the 2 x 2 on both sides (issue 14, item 3).
#
#   Rscript bench/versus-torch/factorial.R [epochs] [seeds]
#     epochs: comma separated epochs to report (default 10,30; the last is
#             the last trained); seeds: a range as 1:30 (default 1:30).
#
# For each seed: two moons as in epochs.R (write_two_moons(dir, seed)), and
#   weights  package: the package's own draw (set.seed(seed + 1000),
#                     package_flow(), networks built on the first 256 rows)
#            torch:   flow.py's nn.Linear draw (--masks equal, the package's
#                     masks and output layout; torch seed seed + 5000)
#   order    R:       sample.int(8000) per epoch after set.seed(seed + 3000),
#                     as fit() draws it
#            numpy:   np.random.RandomState(seed + 7000).permutation(8000)
#                     per epoch, as flow.py draws it
# Each of the 4 (weights, order) cells is trained in the package (through a
# generator yielding those batches of 256 rows) and in torch (flow.py
# --init-csv --orders-csv) with the package's maths exactly (Adam epsilon
# 1e-7, log-scale clip passing the gradient, gamma constrained after each
# step), and once more in torch with torch's own settings (epsilon 1e-8,
# clamp's zero gradient, gamma free) from torch's weights and numpy's order.
# The cells' inputs are identical on the two sides, so package - torch in a
# cell is the effect of the maths alone (with chaos); the cell means show
# the effect of each input.
#
# Prints the table of means with standard errors over the seeds and writes
# every run's test log-likelihoods and per-step losses to
# BIJECTORS_BENCH_OUT (default a temporary directory, printed):
# factorial.csv and losses-<side>-<weights>-<order>-<seed>.txt.

source(file.path(local({
  file <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  if (length(file) == 1L) dirname(normalizePath(file)) else "bench/versus-torch"
}), "common.R"))

arguments <- commandArgs(trailingOnly = TRUE)
report <- as.integer(strsplit(if (length(arguments) >= 1L) arguments[[1L]]
                              else "10,30", ",")[[1L]])
epochs <- max(report)
seeds <- if (length(arguments) >= 2L) {
  ends <- as.integer(strsplit(arguments[[2L]], ":", fixed = TRUE)[[1L]])
  seq(ends[[1L]], ends[[length(ends)]])
} else 1:30
out_dir <- Sys.getenv("BIJECTORS_BENCH_OUT", tempfile("versus-torch-factorial-"))
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)

record_step_losses()
results <- list()
for (seed in seeds) {
  dir <- tempfile("versus-torch-")
  dir.create(dir)
  inputs <- cell_inputs(dir, seed, epochs)
  data <- inputs$data
  weights <- inputs$weights
  orders <- inputs$orders
  for (w in names(weights)) {
    init_path <- file.path(dir, paste0("init-", w, ".csv"))
    write_init(weights[[w]], init_path)
    for (o in names(orders)) {
      orders_path <- file.path(dir, paste0("orders-", o, ".txt"))
      write_orders(orders[[o]], orders_path)
      losses <- function(side) file.path(out_dir, sprintf(
        "losses-%s-%s-%s-%d.txt", side, w, o, seed))
      t0 <- proc.time()[["elapsed"]]
      ours <- package_cell(data, weights[[w]], orders[[o]], report,
                           losses("package"))
      t1 <- proc.time()[["elapsed"]]
      theirs <- torch_cell(dir, init_path, orders_path, report,
                         losses("torch"), seed)
      t2 <- proc.time()[["elapsed"]]
      sides <- list(package = ours, torch = theirs)
      if (w == "torch" && o == "numpy") {
        sides$torch_own <- torch_cell(dir, init_path, orders_path, report,
                                      losses("torch_own"), seed,
                                      package_maths = FALSE)
      }
      for (side in names(sides)) {
        results[[length(results) + 1L]] <- data.frame(
          seed = seed, weights = w, order = o, side = side, epoch = report,
          loglik = sides[[side]])
      }
      cat(sprintf("seed %d %s/%s: package %s (%.0f s), torch %s (%.0f s)\n",
                  seed, w, o, paste(sprintf("%.4f", ours), collapse = " "),
                  t1 - t0, paste(sprintf("%.4f", theirs), collapse = " "),
                  t2 - t1))
    }
  }
  unlink(dir, recursive = TRUE)
  utils::write.csv(do.call(rbind, results), file.path(out_dir, "factorial.csv"),
                   row.names = FALSE)
}
results <- do.call(rbind, results)

se <- function(x) stats::sd(x) / sqrt(length(x))
cat(sprintf("\nTest log-likelihood, mean (se) over %d seeds:\n", length(seeds)))
for (epoch in report) {
  at <- results[results$epoch == epoch, ]
  cells <- unique(at[, c("weights", "order")])
  rows <- lapply(seq_len(nrow(cells)), function(i) {
    cell <- at[at$weights == cells$weights[[i]] & at$order == cells$order[[i]], ]
    p <- cell$loglik[cell$side == "package"]
    t <- cell$loglik[cell$side == "torch"]
    data.frame(epoch = epoch, weights = cells$weights[[i]],
               order = cells$order[[i]],
               package = sprintf("%.4f (%.4f)", mean(p), se(p)),
               torch = sprintf("%.4f (%.4f)", mean(t), se(t)),
               package_minus_torch = sprintf("%.4f (%.4f)", mean(p - t),
                                             se(p - t)))
  })
  print(do.call(rbind, rows), row.names = FALSE)
  own <- at$loglik[at$side == "torch_own"]
  cat(sprintf("torch's own settings, torch weights, numpy order: %.4f (%.4f)\n\n",
              mean(own), se(own)))
}
cat("Wrote factorial.csv and the per-step losses to", out_dir, "\n")
