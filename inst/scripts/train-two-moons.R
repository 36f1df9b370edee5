# Train a normalizing flow on two moons, end to end.
#
# Run from the repository root after installing the package:
#   Rscript inst/scripts/train-two-moons.R
# or, once installed, from anywhere:
#   Rscript "$(Rscript -e 'cat(system.file("scripts", "train-two-moons.R", package = "bijectors"))')"
#
# The script draws the two-moons data set, standardizes it with the
# statistics of its training part and splits it into training, validation
# and test sets. It trains a masked autoregressive flow (5 blocks; in the
# density direction each block is a swap of the two coordinates, a MAF
# with two hidden layers of 32 relu units, then batch normalization with
# momentum 0.9) by maximum likelihood with Adam in minibatches of 512, in
# three stages of decreasing learning rate, showing a progress bar, and
# keeps the parameters of the best validation epoch of the last two stages.
# Then it recomputes the batch-normalization statistics on the training set
# (the MAF paper's protocol), prints the train/validation/test
# log-likelihood in nats per point in evaluation mode (about -1.21, -1.21
# and -1.18), and writes two-moons-density.png (the data, the learned
# density and samples of the flow) to the working directory. It takes
# about 40 s on two cores and stops with an error if training went wrong.

library(bijectors)

started <- proc.time()[["elapsed"]]
set.seed(20240501)

# ---- Data: 6000 points, split 4000 / 1000 / 1000 --------------------------
moons <- sample_two_moons(6000, noise = 0.05)
split <- rep(c("train", "validation", "test"), c(4000, 1000, 1000))
center <- colMeans(moons[split == "train", ])
spread <- apply(moons[split == "train", ], 2L, stats::sd)
standardize <- function(points) {
  sweep(sweep(points, 2L, center), 2L, spread, "/")
}
train <- standardize(moons[split == "train", ])
validation <- standardize(moons[split == "validation", ])
test <- standardize(moons[split == "test", ])
cat(sprintf("Two moons: %d training, %d validation and %d test points, standardized\n",
            nrow(train), nrow(validation), nrow(test)))

# ---- The flow ---------------------------------------------------------------
# tfb_chain() applies the inverse (the density direction) of the first
# bijector of its list first, so with the list reversed the data meet the
# last block first, and each block's members in reverse order: permute,
# MAF (one network pass), then batch normalization, which hands the next
# block (and, at the end, the standard normal base) normalized values.
# Batch normalization with momentum 0.9 (keras' convention, the weight of the
# old value): its running averages trail the parameters by about ten
# batches instead of a hundred, so the evaluation-mode validation loss that
# early stopping watches is close to the training-mode one. gamma is kept
# positive, as tfb_batch_normalization() does by default.
n_blocks <- 5L
blocks <- list()
for (block in seq_len(n_blocks)) {
  blocks <- c(blocks, list(
    tfb_batch_normalization(layer_batch_normalization(
      momentum = 0.9, gamma_constraint = function(gamma) pmax(gamma, 0) + 1e-6)),
    tfb_masked_autoregressive_flow(
      tfb_masked_autoregressive_default_template(
        hidden_layers = c(32, 32), activation = "relu")),
    tfb_permute(2:1)
  ))
}
flow <- tfd_transformed_distribution(
  distribution = tfd_multivariate_normal_diag(loc = c(0, 0)),
  bijector = tfb_chain(rev(blocks))
)

# ---- Training -----------------------------------------------------------------
# Adam with a decreasing learning rate, in minibatches of 512 points: the
# batch statistics that batch normalization trains with are then close to
# those of the whole training set, and training is much steadier than with
# 256 or fewer (with 64 the loss climbs back up). Early stopping watches
# only the last two stages and keeps the parameters of the best validation
# epoch.
batch_size <- 512L
stages <- list(
  list(learning_rate = 2e-3, epochs = 600L, patience = NULL),
  list(learning_rate = 5e-4, epochs = 60L, patience = 10L),
  list(learning_rate = 1e-4, epochs = 40L, patience = 10L)
)
for (stage in stages) {
  cat(sprintf("Training: Adam with learning rate %g, batch size %d, up to %d epochs\n",
              stage$learning_rate, batch_size, stage$epochs))
  history <- fit(flow, train, epochs = stage$epochs, batch_size = batch_size,
                 validation_data = validation,
                 learning_rate = stage$learning_rate,
                 patience = stage$patience, verbose = TRUE)
  print(history)
}

# ---- Evaluation: statistics from the training set, then log-likelihoods ----
recompute_batch_statistics(flow, train)
evaluation <- evaluation_mode(flow)
log_likelihood <- c(
  train = mean(evaluation$log_prob(train)),
  validation = mean(evaluation$log_prob(validation)),
  test = mean(evaluation$log_prob(test))
)
cat("\nLog-likelihood in nats per point (standardized data, evaluation mode):\n")
cat(sprintf("  %-10s %8.4f\n", names(log_likelihood), log_likelihood), sep = "")
base_line <- mean(tfd_multivariate_normal_diag(loc = c(0, 0))$log_prob(test))
cat(sprintf("  (a standard normal scores %.4f on the test set)\n", base_line))
if (!all(is.finite(log_likelihood)) || log_likelihood[["test"]] < base_line + 0.5) {
  stop("training failed: the flow is not clearly better than its base distribution")
}

# ---- Picture: data, learned density and samples -----------------------------
grid_size <- 200L
grid_x <- seq(-2.2, 2.2, length.out = grid_size)
grid_y <- seq(-2.4, 2.4, length.out = grid_size)
grid <- as.matrix(expand.grid(x1 = grid_x, x2 = grid_y))
density <- matrix(exp(evaluation$log_prob(grid)), grid_size, grid_size)
samples <- evaluation$sample(2000L)

file <- file.path(getwd(), "two-moons-density.png")
grDevices::png(file, width = 1500, height = 520, res = 110)
graphics::par(mfrow = c(1L, 3L), mar = c(4, 4, 3, 1))
limits <- list(xlim = range(grid_x), ylim = range(grid_y))
graphics::plot(test, pch = 20, cex = 0.4, col = "#2c7fb8", asp = 1,
               xlim = limits$xlim, ylim = limits$ylim,
               main = "Test data (standardized)", xlab = "x1", ylab = "x2")
graphics::image(grid_x, grid_y, density, col = grDevices::hcl.colors(64, "viridis"),
                asp = 1, main = sprintf("Learned density (test: %.3f nats)",
                                        log_likelihood[["test"]]),
                xlab = "x1", ylab = "x2")
graphics::contour(grid_x, grid_y, density, nlevels = 6, add = TRUE,
                  col = "white", drawlabels = FALSE, lwd = 0.6)
graphics::plot(samples, pch = 20, cex = 0.4, col = "#d95f0e", asp = 1,
               xlim = limits$xlim, ylim = limits$ylim,
               main = "Samples of the flow", xlab = "x1", ylab = "x2")
invisible(grDevices::dev.off())

cat(sprintf("\nWrote %s\n", file))
cat(sprintf("Done in %.0f s.\n", proc.time()[["elapsed"]] - started))
