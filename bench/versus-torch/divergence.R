# How fast do the package and torch part, from the same start on the same
# minibatches, against the chaos of training itself? (issue 14, item 3)
#
#   Rscript bench/versus-torch/divergence.R [epochs] [seeds]
#     (default 100 epochs, 3,200 steps; seeds 1:6)
#
# For each seed: two moons, torch's initial weights and numpy's minibatch
# order (cell_inputs() in common.R). Four runs of the same flow with the
# package's maths: P (package) and T (torch, flow.py) from those weights,
# and P' and T' from the same weights each multiplied by (1 + 1e-12 u), u
# uniform on (-1, 1). |P - T| is the difference the two implementations
# make; |T - T'| and |P - P'| are what a rounding-sized change of the start
# does by itself (the chaos baseline). If |P - T| grew much faster than the
# baselines, the two would differ by more than rounding somewhere.
#
# Prints, for each pair, the median over the seeds of the largest relative
# loss difference within windows of steps, and of the first step at which
# the relative difference passes 1e-10, 1e-6, 1e-3 and 1e-1; and the test
# log-likelihood of each run at the end. Per-step losses are written to
# BIJECTORS_BENCH_OUT (default a temporary directory) as
# divergence-<run>-<seed>.txt.

source(file.path(local({
  file <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  if (length(file) == 1L) dirname(normalizePath(file)) else "bench/versus-torch"
}), "common.R"))

arguments <- commandArgs(trailingOnly = TRUE)
epochs <- if (length(arguments) >= 1L) as.integer(arguments[[1L]]) else 100L
seeds <- if (length(arguments) >= 2L) parse_integers(arguments[[2L]]) else
  1:6
out_dir <- Sys.getenv("BIJECTORS_BENCH_OUT", tempfile("versus-torch-divergence-"))
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)
record_step_losses()

pairs <- list(`P-T` = c("P", "T"), `T-T'` = c("T", "T'"),
              `P-P'` = c("P", "P'"), `P'-T'` = c("P'", "T'"))
windows <- list(c(1, 10), c(11, 100), c(101, 300), c(301, 1000),
                c(1001, 3000), c(3001, Inf))
thresholds <- c(1e-10, 1e-6, 1e-3, 1e-1)
rows <- list()
finals <- list()
for (seed in seeds) {
  dir <- tempfile("versus-torch-")
  dir.create(dir)
  inputs <- cell_inputs(dir, seed, epochs)
  start <- inputs$weights$torch
  set.seed(seed + 9000L)
  perturbed <- lapply(start, function(w) {
    w * (1 + 1e-12 * stats::runif(length(w), -1, 1))
  })
  orders_path <- file.path(dir, "orders.txt")
  write_orders(inputs$orders$numpy, orders_path)
  losses <- list()
  test <- list()
  for (run in c("P", "T", "P'", "T'")) {
    weights <- if (run %in% c("P", "T")) start else perturbed
    path <- file.path(out_dir, sprintf("divergence-%s-%d.txt",
                                       sub("'", "p", run, fixed = TRUE), seed))
    test[[run]] <- if (startsWith(run, "P")) {
      package_cell(inputs$data, weights, inputs$orders$numpy, epochs, path)
    } else {
      init_path <- file.path(dir, "init.csv")
      write_init(weights, init_path)
      torch_cell(dir, init_path, orders_path, epochs, path, seed)
    }
    losses[[run]] <- as.numeric(readLines(path))
  }
  finals[[length(finals) + 1L]] <- data.frame(seed = seed, t(unlist(test)),
                                              check.names = FALSE)
  for (pair in names(pairs)) {
    a <- losses[[pairs[[pair]][[1L]]]]
    b <- losses[[pairs[[pair]][[2L]]]]
    d <- abs(a - b) / abs(b)
    steps <- seq_along(d)
    in_window <- vapply(windows, function(w) {
      at <- steps >= w[[1L]] & steps <= w[[2L]]
      if (any(at)) max(d[at]) else NA_real_
    }, numeric(1))
    first <- vapply(thresholds, function(t) {
      k <- which(d > t)
      if (length(k)) k[[1L]] else NA_real_
    }, numeric(1))
    rows[[length(rows) + 1L]] <- data.frame(
      seed = seed, pair = pair, t(in_window), t(first))
  }
  cat(sprintf("seed %d: test log-likelihood %s\n", seed,
              paste(names(test), sprintf("%.4f", unlist(test)), sep = " ",
                    collapse = ", ")))
  unlink(dir, recursive = TRUE)
}
table <- do.call(rbind, rows)
window_names <- vapply(windows, function(w) sprintf("max %g-%g", w[[1L]], w[[2L]]), "")
names(table) <- c("seed", "pair", window_names,
                  paste("first >", format(thresholds)))
cat(sprintf(paste("\nRelative loss difference per step, %d steps, median over",
                  "%d seeds (P package, T torch; ' from a start perturbed by",
                  "1e-12):\n"), epochs * 32L, length(seeds)))
options(width = 200)
summary_rows <- lapply(names(pairs), function(pair) {
  at <- table[table$pair == pair, -(1:2)]
  data.frame(pair = pair, t(vapply(at, stats::median, numeric(1),
                                   na.rm = TRUE)), check.names = FALSE)
})
print(do.call(rbind, summary_rows), digits = 3, row.names = FALSE)
cat("\nPer seed:\n")
print(table, digits = 3, row.names = FALSE)
cat("\nTest log-likelihood at the end:\n")
print(do.call(rbind, finals), digits = 5, row.names = FALSE)
utils::write.csv(table, file.path(out_dir, "divergence.csv"), row.names = FALSE)
cat("Per-step losses in", out_dir, "\n")
