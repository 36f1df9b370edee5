# Train a normalizing flow on two moons, end to end.
#
# Run from the repository root after installing the package:
#   Rscript inst/scripts/train-two-moons.R
# or, once installed, from anywhere:
#   Rscript "$(Rscript -e 'cat(system.file("scripts", "train-two-moons.R", package = "bijectors"))')"
#
# The script draws the two-moons data set, standardizes it with the
# statistics of its training part and splits it into training, validation
# and test sets. It trains a masked autoregressive flow (5 blocks of MAF,
# batch normalization and a swap of the two coordinates, in the density
# direction, as the tfprobability blog post on flows does) by maximum
# likelihood with Adam in three stages of decreasing learning rate, showing
# a progress bar, and keeps the parameters of the best validation epoch of
# the last stages. Then it recomputes the batch-normalization
# statistics on the training set (the MAF paper's protocol), prints the
# train/validation/test log-likelihood in nats per point in evaluation mode,
# and writes two-moons-density.png (the data, the learned density and
# samples of the flow) to the working directory. It takes about a minute
# on two cores and stops with an error if training went wrong.

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
# In the density direction the data meet the last block of the list first:
# MAF (one network pass), batch normalization, permute, ... down to the
# standard normal base.
n_blocks <- 5L
blocks <- list()
for (block in seq_len(n_blocks)) {
  blocks <- c(blocks, list(
    tfb_masked_autoregressive_flow(
      tfb_masked_autoregressive_default_template(
        hidden_layers = c(64, 64), activation = "tanh")),
    tfb_batch_normalization(),
    tfb_permute(2:1)
  ))
}
flow <- tfd_transformed_distribution(
  distribution = tfd_multivariate_normal_diag(loc = c(0, 0)),
  bijector = tfb_chain(rev(blocks))
)

# ---- Training -----------------------------------------------------------------
# Adam with a decreasing learning rate. The validation loss is computed in
# evaluation mode, with running averages that trail the parameters, so it is
# noisy early on: early stopping watches only the last two stages, where it
# keeps the parameters of the best validation epoch.
stages <- list(
  list(learning_rate = 3e-3, epochs = 150L, patience = NULL),
  list(learning_rate = 1e-3, epochs = 30L, patience = 10L),
  list(learning_rate = 2e-4, epochs = 20L, patience = 10L)
)
for (stage in stages) {
  cat(sprintf("Training: Adam with learning rate %g, batch size 256, up to %d epochs\n",
              stage$learning_rate, stage$epochs))
  history <- fit(flow, train, epochs = stage$epochs, batch_size = 256L,
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
