# Which initial weights? The package's MAF trained with fit() (its own
# minibatch order) from torch's initial weights and from its own draws.
#
#   Rscript bench/versus-torch/init.R [seeds]     (default 1,2,3)
#
# For each seed: two moons as in epochs.R, torch's nn.Linear weights for the
# flow with hidden_degrees = "equal" masks (flow.py, seed + 1000), then two
# package runs of 30 epochs (Adam 1e-3, batch 256): one from torch's weights
# loaded with `trainable_parameters<-`, one from the package's own draws
# (seed + 2000); the minibatch order is drawn with seed + 3000 in both. It
# prints the test log-likelihood of each.

source(file.path(local({
  file <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  if (length(file) == 1L) dirname(normalizePath(file)) else "bench/versus-torch"
}), "common.R"))

arguments <- commandArgs(trailingOnly = TRUE)
seeds <- as.integer(strsplit(if (length(arguments) >= 1L) arguments[[1L]] else
  "1,2,3", ",")[[1L]])
rows <- list()
for (seed in seeds) {
  dir <- tempfile("versus-torch-")
  dir.create(dir)
  data <- write_two_moons(dir, seed)
  run_python(c("steps", dir, 1, "--masks", "equal", "--init", "kaiming",
               "--seed", seed + 1000L))
  init <- utils::read.csv(file.path(dir, "init.csv"), stringsAsFactors = FALSE)
  torch_names <- unique(init$name)
  result <- c(torch_weights = NA, package_weights = NA)
  for (start in names(result)) {
    set.seed(seed + 2000L)
    flow <- package_flow()
    invisible(flow$log_prob(data$train[1:256, ]))   # builds the networks
    if (start == "torch_weights") {
      parameters <- trainable_parameters(flow)
      for (k in seq_along(parameters)) {
        parameters[[k]][] <- init$value[init$name == torch_names[[k]]]
      }
      trainable_parameters(flow) <- parameters
    }
    set.seed(seed + 3000L)
    fit(flow, data$train, epochs = 30L, batch_size = 256L,
        learning_rate = 1e-3, verbose = FALSE)
    recompute_batch_statistics(flow, data$train)
    result[[start]] <- mean(evaluation_mode(flow)$log_prob(data$test))
  }
  rows[[length(rows) + 1L]] <- data.frame(seed = seed, t(result))
  unlink(dir, recursive = TRUE)
}
table <- do.call(rbind, rows)
print(table, digits = 4, row.names = FALSE)
cat(sprintf("\nMeans: from torch's weights %.4f, from the package's %.4f\n",
            mean(table$torch_weights), mean(table$package_weights)))
