# Are the two sides' initial weights drawn from the same distribution?
#
#   Rscript bench/versus-torch/init-distribution.R [seeds]   (default 1:10)
#
# For each seed, torch's initial flow (flow.py's default MADE and
# nn.Linear's initialisation, torch seed = seed) and the package's default
# flow (set.seed(seed + 1000), as epochs.R) are drawn; per layer of the MADE
# (pooled over the 5 blocks and the seeds) it prints the count, min, max,
# mean and standard deviation of the kernels' entries on the mask and of
# the biases, the batch normalization's gamma and beta, and the bound that
# nn.Linear's rule gives (1 / sqrt(fan_in)). It also checks that the masks
# are the same (flow.py's --masks equal has the package's output order; its
# default torch masks are the same for D = 2 up to that order).

source(file.path(local({
  file <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  if (length(file) == 1L) dirname(normalizePath(file)) else "bench/versus-torch"
}), "common.R"))

arguments <- commandArgs(trailingOnly = TRUE)
seeds <- if (length(arguments) >= 1L) parse_integers(arguments[[1L]]) else
  1:10

# "maf3/layer2/kernel" and "3_masked_autoregressive_flow/layer2/kernel"
# both become "layer2/kernel"; batch normalization: "gamma", "beta".
short_name <- function(name) sub("^[^/]*/", "", name)

values <- list()
add <- function(side, name, x) {
  key <- paste(side, short_name(name))
  values[[key]] <<- c(values[[key]], x)
}
masks_same <- TRUE
for (seed in seeds) {
  dir <- tempfile("versus-torch-")
  dir.create(dir)
  data <- write_two_moons(dir, seed)
  for (masks in c("torch", "equal")) {
    run_python(c("steps", dir, 1, "--masks", masks, "--seed", seed))
    init <- utils::read.csv(file.path(dir, "init.csv"), stringsAsFactors = FALSE)
    if (masks == "torch") {
      for (name in unique(init$name)) {
        rows <- init[init$name == name & init$mask == 1, ]
        add("torch", name, rows$value)
      }
    } else {
      torch_masks <- split(init$mask, factor(init$name, unique(init$name)))
    }
  }
  set.seed(seed + 1000L)
  flow <- package_flow()
  invisible(flow$log_prob(data$train[1:256, ]))   # builds the networks
  parameters <- trainable_parameters(flow)
  slots <- bijectors:::parameter_slots_of(flow)
  for (k in seq_along(parameters)) {
    mask <- slots[[k]]$mask
    x <- as.double(parameters[[k]])
    if (!is.null(mask)) {
      masks_same <- masks_same &&
        identical(as.double(mask), as.double(torch_masks[[k]]))
      x <- x[as.double(mask) == 1]
    }
    add("package", names(parameters)[[k]], x)
  }
  unlink(dir, recursive = TRUE)
}

fan_in <- c("layer1/kernel" = 2, "layer1/bias" = 2, "layer2/kernel" = 64,
            "layer2/bias" = 64, "layer3/kernel" = 64, "layer3/bias" = 64)
rows <- lapply(names(values), function(key) {
  x <- values[[key]]
  parts <- strsplit(key, " ", fixed = TRUE)[[1L]]
  data.frame(parameter = parts[[2L]], side = parts[[1L]], n = length(x),
             min = min(x), max = max(x), mean = mean(x), sd = stats::sd(x),
             bound = if (parts[[2L]] %in% names(fan_in))
               1 / sqrt(fan_in[[parts[[2L]]]]) else NA)
})
table <- do.call(rbind, rows)
table <- table[order(table$parameter, table$side), ]
cat(sprintf("Initial parameters over %d seeds x 5 blocks (kernels: entries on the mask).\n",
            length(seeds)))
cat("U(-b, b) has sd b / sqrt(3) =", "0.4082 for b = 1/sqrt(2), 0.0722 for b = 1/8.\n\n")
print(table, digits = 4, row.names = FALSE)
cat("\nMasks identical to flow.py's (--masks equal):", masks_same, "\n")
