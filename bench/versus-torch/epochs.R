# Learning per epoch: the package's MAF against the same flow in torch on
# two moons (issue 14, item 3).
#
# Run from the repository root with the package installed and Debian's
# python3-torch (apt-get install python3-torch):
#   Rscript bench/versus-torch/epochs.R [epochs] [seeds] [setting ...]
# epochs: the epochs to report, comma separated (default 10,30); seeds:
# comma separated (default 1,2,3). Each seed draws its own data set (8,000
# training and 4,000 test points of two moons, standardized) and its own
# initial weights and minibatch order on each side. Both flows are
# 5 x [MAF(64, 64, relu), batch normalization, reverse permute], trained with
# Adam (learning rate 1e-3, batch size 256) on one thread; at each reported
# epoch the batch statistics are recomputed on the whole training set and
# the test log-likelihood (nats per point) is printed.
#
# The settings name the package's template arguments, as name=value:
# masks=default|blocks|equal (hidden_degrees of the template),
# init=default|glorot_normal|uniform_fan_in|kaiming (glorot_normal: TFP's,
# with zero biases; uniform_fan_in: nn.Linear's default, kernels and biases
# uniform on +-1/sqrt(fan_in); kaiming: the same through R functions given
# as initializers), clip=pass|zero (log_scale_clip_gradient FALSE|TRUE).
# `torch=...` does the same for the torch side (default: torch_maf.py's
# flow, torch=torch,kaiming,zero: its own masks, its initialisation, clamp).

source(file.path(local({
  file <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  if (length(file) == 1L) dirname(normalizePath(file)) else "bench/versus-torch"
}), "common.R"))

arguments <- commandArgs(trailingOnly = TRUE)
epochs <- as.integer(strsplit(if (length(arguments) >= 1L) arguments[[1L]] else
  "10,30", ",")[[1L]])
seeds <- as.integer(strsplit(if (length(arguments) >= 2L) arguments[[2L]] else
  "1,2,3", ",")[[1L]])
settings <- list(masks = "default", init = "default", clip = "pass",
                 torch = "torch,kaiming,zero")
for (setting in arguments[-(1:2)]) {
  parts <- strsplit(setting, "=", fixed = TRUE)[[1L]]
  settings[[parts[[1L]]]] <- parts[[2L]]
}
torch_setting <- strsplit(settings$torch, ",")[[1L]]   # "none": no torch run

# nn.Linear's default initialisation: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
# for the kernel (kaiming_uniform with a = sqrt(5)) and the bias.
kaiming <- function(fan_in) {
  function(shape) {
    bound <- 1 / sqrt(fan_in(shape))
    stats::runif(prod(shape), -bound, bound)
  }
}
template_arguments <- function() {
  arguments <- list(log_scale_clip_gradient = settings$clip == "zero")
  if (settings$masks != "default") {
    arguments$hidden_degrees <- settings$masks
  }
  if (settings$init %in% c("glorot_normal", "uniform_fan_in")) {
    arguments$kernel_initializer <- settings$init
    arguments$bias_initializer <- if (settings$init == "glorot_normal")
      "zeros" else settings$init
  } else if (settings$init == "kaiming") {
    # the bias's fan_in is the kernel's, the previous layer's width: Keras
    # draws a layer's kernel then its bias, so it is remembered in between
    fan <- 0
    arguments$kernel_initializer <- kaiming(function(shape) {
      fan <<- shape[[1L]]
      shape[[1L]]
    })
    arguments$bias_initializer <- kaiming(function(shape) fan)
  }
  arguments
}

package_run <- function(dir, seed) {
  data <- list(train = as.matrix(utils::read.csv(file.path(dir, "train.csv"))),
               test = as.matrix(utils::read.csv(file.path(dir, "test.csv"))))
  # not the data's seed: the weights would be drawn from the very uniforms
  # that drew the data's angles
  set.seed(seed + 1000L)
  flow <- do.call(package_flow, template_arguments())
  result <- numeric(0)
  done <- 0L
  for (epoch in epochs) {
    fit(flow, data$train, epochs = epoch - done, batch_size = 256L,
        learning_rate = 1e-3, verbose = FALSE)
    done <- epoch
    recompute_batch_statistics(flow, data$train)
    result[[as.character(epoch)]] <- mean(evaluation_mode(flow)$log_prob(data$test))
  }
  result
}

torch_run <- function(dir, seed) {
  out <- run_python(c("epochs", dir, paste(epochs, collapse = ","), "--seed",
                      seed, "--masks", torch_setting[[1L]], "--init",
                      torch_setting[[2L]], "--clip", torch_setting[[3L]]))
  fields <- strsplit(strsplit(out[[length(out)]], " ")[[1L]], ":")
  stats::setNames(as.numeric(vapply(fields, `[[`, "", 2L)),
                  vapply(fields, `[[`, "", 1L))
}

rows <- list()
for (seed in seeds) {
  dir <- tempfile("versus-torch-")
  dir.create(dir)
  write_two_moons(dir, seed)
  package_seconds <- system.time(ours <- package_run(dir, seed))[["elapsed"]]
  torch_seconds <- if (settings$torch == "none") NA else
    system.time(theirs <- torch_run(dir, seed))[["elapsed"]]
  if (settings$torch == "none") {
    theirs <- stats::setNames(rep(NA_real_, length(epochs)), epochs)
  }
  rows[[length(rows) + 1L]] <- data.frame(
    seed = seed, epoch = epochs, package = ours, torch = theirs[as.character(epochs)],
    package_s = package_seconds, torch_s = torch_seconds)
  unlink(dir, recursive = TRUE)
}
table <- do.call(rbind, rows)
cat(sprintf(paste("Test log-likelihood, two moons (8,000 training points), 5 x",
                  "[MAF(64, 64, relu), BN, reverse], Adam 1e-3, batch 256.\n",
                  "package: %s; torch: %s\n\n"),
            paste(names(settings)[names(settings) != "torch"],
                  unlist(settings[names(settings) != "torch"]), sep = "=",
                  collapse = ", "), settings$torch))
print(table, digits = 4, row.names = FALSE)
means <- stats::aggregate(cbind(package, torch) ~ epoch, table, mean,
                          na.action = stats::na.pass)
means$gap <- means$torch - means$package
cat("\nMeans over the seeds:\n")
print(means, digits = 4, row.names = FALSE)
