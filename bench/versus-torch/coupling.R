# Does flow.py's single seed help torch? (issue 14, item 3)
#
#   Rscript bench/versus-torch/coupling.R [seeds] [runs]
#     seeds: a range as 1:30 (default 1:30); runs: "both" (default) or
#     "decoupled" (only the second run below, to compare with the torch
#     column of an epochs.R run over the same seeds).
#
# flow.py seeds torch's generator (initial weights) and numpy's RandomState
# (minibatch order) with the same number. Both are MT19937 seeded by
# init_genrand(), so they produce the same stream of 32-bit words (torch
# uses every other one): the first epoch's permutation is computed from the
# words that drew the weights. For each seed (two moons as in epochs.R),
# torch's own flow is trained 30 epochs coupled (--seed S, as epochs.R
# runs it) and decoupled (--order-seed S + 7000); it prints the test
# log-likelihood of each, their means and the paired difference.

source(file.path(local({
  file <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  if (length(file) == 1L) dirname(normalizePath(file)) else "bench/versus-torch"
}), "common.R"))

arguments <- commandArgs(trailingOnly = TRUE)
seeds <- if (length(arguments) >= 1L) parse_integers(arguments[[1L]]) else
  1:30
runs <- if (length(arguments) >= 2L) arguments[[2L]] else "both"
stopifnot(runs %in% c("both", "decoupled"))

torch_epochs <- function(dir, seed, more = NULL) {
  out <- run_python(c("epochs", dir, "10,30", "--seed", seed, more))
  fields <- strsplit(strsplit(out[[length(out)]], " ")[[1L]], ":")
  stats::setNames(as.numeric(vapply(fields, `[[`, "", 2L)),
                  vapply(fields, `[[`, "", 1L))
}

rows <- list()
for (seed in seeds) {
  dir <- tempfile("versus-torch-")
  dir.create(dir)
  write_two_moons(dir, seed)
  coupled <- if (runs == "both") torch_epochs(dir, seed) else c(NA, NA)
  decoupled <- torch_epochs(dir, seed, c("--order-seed", seed + 7000L))
  rows[[length(rows) + 1L]] <- data.frame(
    seed = seed, epoch = c(10L, 30L), coupled = unname(coupled),
    decoupled = unname(decoupled))
  cat(sprintf("seed %d: coupled %s, decoupled %s\n", seed,
              paste(sprintf("%.4f", coupled), collapse = " "),
              paste(sprintf("%.4f", decoupled), collapse = " ")))
  unlink(dir, recursive = TRUE)
}
table <- do.call(rbind, rows)
se <- function(x) stats::sd(x) / sqrt(length(x))
for (epoch in c(10L, 30L)) {
  at <- table[table$epoch == epoch, ]
  cat(sprintf(paste("epoch %d: coupled %.4f (se %.4f), decoupled %.4f",
                    "(se %.4f), coupled - decoupled %.4f (se %.4f)\n"),
              epoch, mean(at$coupled), se(at$coupled), mean(at$decoupled),
              se(at$decoupled), mean(at$coupled - at$decoupled),
              se(at$coupled - at$decoupled)))
}
out_dir <- Sys.getenv("BIJECTORS_BENCH_OUT", tempfile("versus-torch-coupling-"))
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)
utils::write.csv(table, file.path(out_dir, "coupling.csv"), row.names = FALSE)
