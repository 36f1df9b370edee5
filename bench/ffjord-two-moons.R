# FFJORD against the MAF main job on two moons (issue 13, item 5).
#
# Run by hand from the repository root, with the package installed:
#   Rscript bench/ffjord-two-moons.R            # both flows, one run
#   Rscript bench/ffjord-two-moons.R ffjord     # the FFJORD flow only
#
# The data are those of inst/scripts/train-two-moons.R: 27,000 points of
# sample_two_moons(noise = 0.05) from seed 20240501, standardized with the
# training part's statistics, split 20,000 / 2,000 / 5,000. The MAF is that
# script's `maf` flow (5 blocks of batch normalization, affine MAF with two
# hidden layers of 32 relu units, swap), trained with its three stages. The
# FFJORD flow is one tfb_ffjord() with a network template, trained with
# fit() through the gradients of the solver's steps, at a looser solver
# tolerance than it is evaluated with. The script prints both test
# log-likelihoods (nats per point) and both training times, and the target:
# FFJORD within 0.1 nats of the MAF.

library(bijectors)

arguments <- commandArgs(trailingOnly = TRUE)
run_maf <- !identical(arguments, "ffjord")

# ---- Data, as inst/scripts/train-two-moons.R prepares them -----------------
set.seed(20240501)
noise <- 0.05
moons <- sample_two_moons(27000, noise = noise)
split <- rep(c("train", "validation", "test"), c(20000, 2000, 5000))
center <- colMeans(moons[split == "train", ])
spread <- apply(moons[split == "train", ], 2L, stats::sd)
standardize <- function(points) {
  sweep(sweep(points, 2L, center), 2L, spread, "/")
}
train <- standardize(moons[split == "train", ])
validation <- standardize(moons[split == "validation", ])
test <- standardize(moons[split == "test", ])
truth <- mean(two_moons_log_density(moons[split == "test", ],
                                    noise = noise)) + sum(log(spread))

train_stages <- function(flow, stages, batch_size) {
  started <- proc.time()[["elapsed"]]
  for (stage in stages) {
    history <- fit(flow, train, epochs = stage$epochs,
                   batch_size = batch_size, validation_data = validation,
                   learning_rate = stage$learning_rate,
                   patience = stage$patience, verbose = FALSE)
    cat(sprintf("  learning rate %g: %d epochs, validation loss %.4f (%.0f s so far)\n",
                stage$learning_rate, length(history$loss),
                utils::tail(history$val_loss, 1),
                proc.time()[["elapsed"]] - started))
  }
  proc.time()[["elapsed"]] - started
}

# ---- The MAF of the main job -------------------------------------------------
if (run_maf) {
  # the random stream continues from the data, as in the script
  cat("MAF (inst/scripts/train-two-moons.R maf):\n")
  blocks <- list()
  for (block in 1:5) {
    blocks <- c(blocks, list(
      tfb_batch_normalization(layer_batch_normalization(
        momentum = 0.9,
        gamma_constraint = function(gamma) pmax(gamma, 0) + 1e-6)),
      tfb_masked_autoregressive_flow(
        tfb_masked_autoregressive_default_template(
          hidden_layers = c(32, 32), activation = "relu")),
      tfb_permute(2:1)
    ))
  }
  maf <- tfd_transformed_distribution(
    distribution = tfd_multivariate_normal_diag(loc = c(0, 0)),
    bijector = tfb_chain(rev(blocks)))
  maf_time <- train_stages(maf, list(
    list(learning_rate = 2e-3, epochs = 48L, patience = NULL),
    list(learning_rate = 5e-4, epochs = 10L, patience = NULL),
    list(learning_rate = 1e-4, epochs = 6L, patience = 4L)), 512L)
  recompute_batch_statistics(maf, train)
  maf_test <- mean(evaluation_mode(maf)$log_prob(test))
}

# ---- FFJORD ------------------------------------------------------------------
# One continuous flow, f(t, z) = MLP([z, t]) with two hidden layers of 32
# tanh units and the exact trace (two tangents per evaluation in two
# dimensions: no noise in the gradients). Trained at rtol 1e-3, atol 1e-5,
# in small minibatches (64 rows: the cost of a step is about proportional
# to the batch, and more steps help more than larger batches here), in
# three stages of decreasing learning rate; evaluated with the same network
# at rtol 1e-6, atol 1e-8.
cat("FFJORD:\n")
set.seed(7)
template <- tfb_ffjord_default_template(c(32, 32), activation = "tanh")
ffjord <- tfd_transformed_distribution(
  distribution = tfd_multivariate_normal_diag(loc = c(0, 0)),
  bijector = tfb_ffjord(template,
                        ode_solve_fn = ode_dormand_prince(rtol = 1e-3,
                                                          atol = 1e-5),
                        trace_augmentation_fn = trace_jacobian_exact))
ffjord_time <- train_stages(ffjord, list(
  list(learning_rate = 5e-3, epochs = 4L, patience = NULL),
  list(learning_rate = 1e-3, epochs = 2L, patience = NULL),
  list(learning_rate = 2e-4, epochs = 1L, patience = NULL)), 64L)
evaluation <- tfd_transformed_distribution(
  distribution = tfd_multivariate_normal_diag(loc = c(0, 0)),
  bijector = tfb_ffjord(template,
                        ode_solve_fn = ode_dormand_prince(rtol = 1e-6,
                                                          atol = 1e-8),
                        trace_augmentation_fn = trace_jacobian_exact))
ffjord_test <- mean(evaluation$log_prob(test))

# ---- Report ------------------------------------------------------------------
cat(sprintf("\nTest log-likelihood, nats per point (true density %.4f):\n",
            truth))
if (run_maf) {
  cat(sprintf("  MAF     %8.4f   training %6.0f s\n", maf_test, maf_time))
}
cat(sprintf("  FFJORD  %8.4f   training %6.0f s\n", ffjord_test, ffjord_time))
if (run_maf) {
  gap <- maf_test - ffjord_test
  cat(sprintf("FFJORD - MAF: %+.4f nats (target: within 0.1): %s; training time ratio %.1f\n",
              -gap, if (gap <= 0.1) "met" else "NOT met",
              ffjord_time / maf_time))
}
