# Learning per epoch: the package's MAF against the same flow in torch on
# two moons (issue 14, item 3).
#
# Run from the repository root with the package installed and Debian's
# python3-torch (apt-get install python3-torch):
#   Rscript bench/versus-torch/epochs.R [epochs] [seeds] [setting ...]
# epochs: the last epoch (default 30), or a comma separated list of the
# epochs to report (the last of them is the last epoch); seeds: comma
# separated, or a range as 1:10 (default 1:10). Each seed draws its own data
# set (8,000 training and 4,000 test points of two moons, standardized) and
# its own initial weights and minibatch order on each side. Both flows are
# 5 x [MAF(64, 64, relu), batch normalization, reverse permute], trained
# with Adam (learning rate 1e-3, batch size 256) on one thread; after every
# epoch the batch statistics are recomputed on the whole training set and
# the test log-likelihood (nats per point) is measured.
#
# It prints the test log-likelihood of each seed at the reported epochs
# (10, 30, 100 and the last, when run that long), then the mean over the
# seeds of each side with its standard error, and the gap torch - package
# with the standard error of the seeds' paired differences (both sides of a
# seed share its data set). Then the curves per epoch, means over the seeds,
# which it also writes, with every seed's values, as versus-torch-epochs.csv
# and a plot versus-torch-epochs.png (mean and +-1 standard error band of
# each side) into the directory BIJECTORS_BENCH_OUT (default: a temporary
# directory, printed).
#
# The settings, as name=value, change one factor at a time:
#   masks=default|blocks|equal   the package's hidden_degrees
#   init=default|glorot_normal|uniform_fan_in|kaiming   the package's
#     initializers (glorot_normal: TFP's, with zero biases; uniform_fan_in:
#     nn.Linear's rule, kernels and biases uniform on +-1/sqrt(fan_in);
#     kaiming: the same through R functions given as initializers)
#   clip=pass|zero               the package's log_scale_clip_gradient
#                                FALSE|TRUE
#   start=own|torch              torch: the package starts from the initial
#                                weights of a torch flow drawn with another
#                                torch seed (seed + 5000), so R draws only
#                                the minibatch order
#   torch=MASKS,INIT,CLIP        flow.py's --masks, --init, --clip (default
#                                torch,kaiming,zero: torch_maf.py's flow;
#                                "none": no torch run)
#   torch_eps=E                  torch's Adam epsilon (default torch's 1e-8;
#                                the package's is 1e-7)
#   torch_gamma=free|constraint  constraint: torch keeps gamma >= 1e-6 after
#                                each step, as the package's layer does

source(file.path(local({
  file <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  if (length(file) == 1L) dirname(normalizePath(file)) else "bench/versus-torch"
}), "common.R"))

arguments <- commandArgs(trailingOnly = TRUE)
report <- parse_integers(if (length(arguments) >= 1L) arguments[[1L]] else "30")
last_epoch <- max(report)
if (length(report) == 1L) {
  report <- c(intersect(c(10L, 30L, 100L), seq_len(last_epoch)), last_epoch)
}
report <- sort(unique(report))
seeds <- parse_integers(if (length(arguments) >= 2L) arguments[[2L]] else "1:10")
settings <- list(masks = "default", init = "default", clip = "pass",
                 start = "own", torch = "torch,kaiming,zero",
                 torch_eps = "1e-8", torch_gamma = "free")
for (setting in arguments[-(1:2)]) {
  parts <- strsplit(setting, "=", fixed = TRUE)[[1L]]
  if (length(parts) != 2L || !parts[[1L]] %in% names(settings)) {
    stop("unknown setting '", setting, "'; the settings are ",
         paste(names(settings), collapse = ", "), call. = FALSE)
  }
  settings[[parts[[1L]]]] <- parts[[2L]]
}
run_torch <- settings$torch != "none"
torch_setting <- strsplit(settings$torch, ",")[[1L]]

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

# The package's flow gets the initial weights of a torch flow drawn with
# torch seed `seed` (flow.py with the package's masks and output order).
load_torch_weights <- function(flow, dir, seed, train) {
  run_python(c("steps", dir, 1, "--masks", "equal", "--init", "kaiming",
               "--seed", seed))
  invisible(flow$log_prob(train[1:256, ]))   # builds the networks
  init <- utils::read.csv(file.path(dir, "init.csv"), stringsAsFactors = FALSE)
  torch_names <- unique(init$name)
  parameters <- trainable_parameters(flow)
  stopifnot(length(parameters) == length(torch_names))
  for (k in seq_along(parameters)) {
    parameters[[k]][] <- init$value[init$name == torch_names[[k]]]
  }
  trainable_parameters(flow) <- parameters
  invisible(flow)
}

package_run <- function(dir, seed) {
  data <- list(train = as.matrix(utils::read.csv(file.path(dir, "train.csv"))),
               test = as.matrix(utils::read.csv(file.path(dir, "test.csv"))))
  # not the data's seed: the weights would be drawn from the very uniforms
  # that drew the data's angles
  set.seed(seed + 1000L)
  flow <- do.call(package_flow, template_arguments())
  if (settings$start == "torch") {
    load_torch_weights(flow, dir, seed + 5000L, data$train)
  }
  vapply(seq_len(last_epoch), function(epoch) {
    fit(flow, data$train, epochs = 1L, batch_size = 256L,
        learning_rate = 1e-3, verbose = FALSE)
    recompute_batch_statistics(flow, data$train)
    mean(evaluation_mode(flow)$log_prob(data$test))
  }, numeric(1))
}

torch_run <- function(dir, seed) {
  out <- run_python(c(
    "epochs", dir, paste(seq_len(last_epoch), collapse = ","), "--seed", seed,
    "--masks", torch_setting[[1L]], "--init", torch_setting[[2L]], "--clip",
    torch_setting[[3L]], "--adam-eps", settings$torch_eps,
    if (settings$torch_gamma == "constraint") "--gamma-constraint"))
  fields <- strsplit(strsplit(out[[length(out)]], " ")[[1L]], ":")
  values <- as.numeric(vapply(fields, `[[`, "", 2L))
  values[match(seq_len(last_epoch), as.integer(vapply(fields, `[[`, "", 1L)))]
}

curves <- list()
for (seed in seeds) {
  dir <- tempfile("versus-torch-")
  dir.create(dir)
  write_two_moons(dir, seed)
  package_seconds <- system.time(ours <- package_run(dir, seed))[["elapsed"]]
  theirs <- rep(NA_real_, last_epoch)
  torch_seconds <- NA_real_
  if (run_torch) {
    torch_seconds <- system.time(theirs <- torch_run(dir, seed))[["elapsed"]]
  }
  curves[[length(curves) + 1L]] <- data.frame(
    seed = seed, epoch = seq_len(last_epoch), package = ours, torch = theirs)
  cat(sprintf("seed %d: package %.1f s, torch %.1f s\n", seed,
              package_seconds, torch_seconds))
  unlink(dir, recursive = TRUE)
}
curves <- do.call(rbind, curves)

cat(sprintf(paste("\nTest log-likelihood, two moons (8,000 training points),",
                  "5 x [MAF(64, 64, relu), BN, reverse], Adam 1e-3, batch",
                  "256.\npackage: %s\ntorch: %s, adam eps %s, gamma %s\n\n"),
            paste(c("masks", "init", "clip", "start"),
                  unlist(settings[c("masks", "init", "clip", "start")]),
                  sep = "=", collapse = ", "),
            settings$torch, settings$torch_eps, settings$torch_gamma))
options(width = 120)
per_seed <- curves[curves$epoch %in% report, ]
print(per_seed[order(per_seed$epoch, per_seed$seed), ], digits = 4,
      row.names = FALSE)

standard_error <- function(x) stats::sd(x) / sqrt(length(x))
summarise <- function(epochs) {
  do.call(rbind, lapply(epochs, function(epoch) {
    at <- curves[curves$epoch == epoch, ]
    gap <- at$torch - at$package
    data.frame(epoch = epoch, package = mean(at$package),
               package_se = standard_error(at$package),
               torch = mean(at$torch), torch_se = standard_error(at$torch),
               gap = mean(gap), gap_se = standard_error(gap),
               median_package = stats::median(at$package),
               median_torch = stats::median(at$torch),
               median_gap = stats::median(gap))
  }))
}
# A single test point mapped far into the base density's tail can take one
# seed's mean to -1e3 or below for an epoch (on either side), so the
# medians are printed too.
cat(sprintf("\nMeans over %d seeds (se: standard error; gap = torch - package, se of the paired differences), and medians:\n",
            length(seeds)))
print(summarise(report), digits = 3, row.names = FALSE)

means <- summarise(seq_len(last_epoch))
cat("\nCurves (means over the seeds):\n")
print(means[, c("epoch", "package", "torch", "gap")], digits = 4,
      row.names = FALSE)

out_dir <- Sys.getenv("BIJECTORS_BENCH_OUT", tempfile("versus-torch-out-"))
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)
utils::write.csv(curves, file.path(out_dir, "versus-torch-epochs.csv"),
                 row.names = FALSE)
grDevices::png(file.path(out_dir, "versus-torch-epochs.png"), width = 800,
               height = 550)
sides <- c(package = "#1b6ca8", torch = "#d95f02")
shown <- if (run_torch) names(sides) else "package"
first <- min(last_epoch, 3L)   # the first epochs are far below the rest
drawn <- means[means$epoch >= first, ]
range_y <- range(unlist(lapply(shown, function(side) {
  c(drawn[[side]] - drawn[[paste0(side, "_se")]],
    drawn[[side]] + drawn[[paste0(side, "_se")]])
})), na.rm = TRUE)
plot(NA, xlim = c(first, last_epoch), ylim = range_y,
     log = if (last_epoch >= 10L) "x" else "", xlab = "epoch",
     ylab = "test log-likelihood (nats per point)",
     main = sprintf("Two moons, 5 x [MAF(64, 64), BN, reverse]: mean of %d seeds +-1 se",
                    length(seeds)))
for (side in shown) {
  se <- means[[paste0(side, "_se")]]
  graphics::polygon(c(means$epoch, rev(means$epoch)),
                    c(means[[side]] - se, rev(means[[side]] + se)),
                    col = grDevices::adjustcolor(sides[[side]], 0.25),
                    border = NA)
  graphics::lines(means$epoch, means[[side]], col = sides[[side]], lwd = 2)
}
graphics::legend("bottomright", legend = shown, col = sides[shown], lwd = 2,
                 bty = "n")
invisible(grDevices::dev.off())
cat("\nWrote versus-torch-epochs.csv and versus-torch-epochs.png to", out_dir,
    "\n")
