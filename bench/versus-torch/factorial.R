# Which factor carries the gap? The package and torch, each trained from
# the same two kinds of initial weights and the same two kinds of minibatch
# order, every cell of the 2 x 2 on both sides (issue 14, item 3).
#
#   Rscript bench/versus-torch/factorial.R [epochs] [seeds]
#     epochs: comma separated epochs to report (default 10,30; the last is
#             the last trained); seeds: a range as 1:30 (default 1:30).
#   Rscript bench/versus-torch/factorial.R summary DIR
#     the summary of the factorial.csv in DIR (an earlier run's output).
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
# Prints the table of means with standard errors over the seeds and the
# main effects (summarise_factorial() below), and writes
# every run's test log-likelihoods and per-step losses to
# BIJECTORS_BENCH_OUT (default a temporary directory, printed):
# factorial.csv and losses-<side>-<weights>-<order>-<seed>.txt.

source(file.path(local({
  file <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  if (length(file) == 1L) dirname(normalizePath(file)) else "bench/versus-torch"
}), "common.R"))

# The table of means (standard errors over the seeds) of each cell and
# side, package - torch per cell (paired), and the main effects on the
# package side (each a paired difference of the means of two cells per
# seed): package's weights - torch's, numpy's order - R's; and torch's own
# settings - the package's maths, in torch from torch's weights and numpy's
# order.
summarise_factorial <- function(results) {
  se <- function(x) stats::sd(x) / sqrt(length(x))
  show <- function(x) sprintf("%.4f (%.4f)", mean(x), se(x))
  for (epoch in sort(unique(results$epoch))) {
    at <- results[results$epoch == epoch, ]
    value <- function(w, o, side) {
      cell <- at[at$weights == w & at$order == o & at$side == side, ]
      cell$loglik[order(cell$seed)]
    }
    seeds <- sort(unique(at$seed))
    cat(sprintf("\nEpoch %d, test log-likelihood, mean (se) over %d seeds:\n",
                epoch, length(seeds)))
    rows <- list()
    for (w in c("package", "torch")) {
      for (o in c("R", "numpy")) {
        p <- value(w, o, "package")
        t <- value(w, o, "torch")
        rows[[length(rows) + 1L]] <- data.frame(
          weights = w, order = o, package = show(p), torch = show(t),
          package_minus_torch = show(p - t))
      }
    }
    print(do.call(rbind, rows), row.names = FALSE)
    mean_of <- function(cells, side) {
      Reduce(`+`, lapply(cells, function(c) value(c[[1L]], c[[2L]], side))) /
        length(cells)
    }
    effects <- list(
      `weights: package's - torch's` = mean_of(
        list(c("package", "R"), c("package", "numpy")), "package") -
        mean_of(list(c("torch", "R"), c("torch", "numpy")), "package"),
      `order: numpy's - R's` = mean_of(
        list(c("package", "numpy"), c("torch", "numpy")), "package") -
        mean_of(list(c("package", "R"), c("torch", "R")), "package"),
      `torch: own settings - package's maths` =
        value("torch", "numpy", "torch_own") -
        value("torch", "numpy", "torch"),
      `package (own weights, R order) - torch (own weights, numpy order, own settings)` =
        value("package", "R", "package") -
        value("torch", "numpy", "torch_own"))
    for (name in names(effects)) {
      cat(sprintf("  %s: %s\n", name, show(effects[[name]])))
    }
  }
}

arguments <- commandArgs(trailingOnly = TRUE)
if (length(arguments) >= 1L && arguments[[1L]] == "summary") {
  # the summary of an earlier run's factorial.csv
  summarise_factorial(utils::read.csv(file.path(arguments[[2L]],
                                                "factorial.csv")))
  quit(save = "no")
}
report <- as.integer(strsplit(if (length(arguments) >= 1L) arguments[[1L]]
                              else "10,30", ",")[[1L]])
epochs <- max(report)
seeds <- if (length(arguments) >= 2L) parse_integers(arguments[[2L]]) else
  1:30
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

summarise_factorial(results)
cat("Wrote factorial.csv and the per-step losses to", out_dir, "\n")
