# Speed of training a normalizing flow with fit().
#
# Run by hand from the repository root, with the package installed:
#   Rscript bench/train.R
#
# A chain of 5 blocks of (masked autoregressive flow with hidden layers
# c(64, 64), batch normalization, permute) under a standard normal base,
# trained on 1e5 x 8 data with batch size 256 (391 steps per epoch). It
# prints the time per epoch of fit() and the time per training step (one
# inverse pass with caches, the backward pass, one Adam step and the gamma
# constraint, plus the loop's bookkeeping: the epoch time divided by its
# steps), and the ratio of that step to a forward-only log_prob() of one
# batch of 256 rows, measured in the same run. Target (issue 4): a training
# step at most 3.5x a log_prob of the same batch.

library(bijectors)
options(width = 200)

if (!requireNamespace("bench", quietly = TRUE)) {
  stop("bench/train.R needs the 'bench' package: bash tools/install-deps.sh",
       call. = FALSE)
}

n_rows <- 1e5
event_size <- 8L
hidden <- c(64L, 64L)
n_blocks <- 5L
batch_size <- 256L
epochs <- 3L
iterations <- 200L

set.seed(1)
data <- matrix(rnorm(n_rows * event_size), ncol = event_size)
data <- data %*% chol(0.5 ^ abs(outer(seq_len(event_size), seq_len(event_size), "-")))

blocks <- list()
for (block in seq_len(n_blocks)) {
  blocks <- c(blocks, list(
    tfb_masked_autoregressive_flow(
      tfb_masked_autoregressive_default_template(hidden, activation = "tanh")),
    tfb_batch_normalization(),
    tfb_permute(rev(seq_len(event_size)))
  ))
}
blocks <- blocks[-length(blocks)]          # no permute after the last block
flow <- tfd_transformed_distribution(
  tfd_multivariate_normal_diag(loc = rep(0, event_size)),
  tfb_chain(rev(blocks))
)
batch <- data[seq_len(batch_size), ]
invisible(flow$log_prob(batch))            # builds every network

cat(sprintf(paste(
  "bijectors %s, R %s; %d blocks of MAF(hidden %s) + batch normalization +",
  "permute; fit() on %g x %d, batch size %d, %d epochs; log_prob of one",
  "batch, %d iterations\n\n"),
  format(utils::packageVersion("bijectors")), getRversion(), n_blocks,
  paste(hidden, collapse = ", "), n_rows, event_size, batch_size, epochs,
  iterations))

# Training: whole epochs of fit(), timed one by one.
epoch_seconds <- numeric(epochs)
for (epoch in seq_len(epochs)) {
  epoch_seconds[[epoch]] <- system.time(
    history <- fit(flow, data, epochs = 1L, batch_size = batch_size,
                   learning_rate = 1e-4, verbose = FALSE)
  )[["elapsed"]]
}
steps <- history$settings$steps_per_epoch
epoch_median <- stats::median(epoch_seconds)
step_seconds <- epoch_median / steps

# The forward-only log_prob of one batch, and the step's two passes alone.
timings <- bench::mark(
  "log_prob(batch)" = flow$log_prob(batch),
  "loss_and_gradient(batch)" = loss_and_gradient(flow, batch),
  iterations = iterations,
  check = FALSE,
  memory = FALSE,
  filter_gc = FALSE
)
log_prob_seconds <- as.numeric(timings$median[[1L]])
gradient_seconds <- as.numeric(timings$median[[2L]])

rows <- data.frame(
  measure = c("epoch of fit()", "training step (epoch / steps)",
              "loss_and_gradient(batch)", "log_prob(batch)"),
  median_ms = c(epoch_median, step_seconds, gradient_seconds,
                log_prob_seconds) * 1e3,
  ratio_to_log_prob = c(NA, step_seconds / log_prob_seconds,
                        gradient_seconds / log_prob_seconds, 1),
  target = c("-", "<= 3.5", "-", "-")
)
rows$met <- c("-", if (rows$ratio_to_log_prob[[2L]] <= 3.5) "yes" else "NO",
              "-", "-")
print(rows, digits = 3, row.names = FALSE)
cat(sprintf("\n%d steps per epoch; epochs took %s s\n", steps,
            paste(formatC(epoch_seconds, digits = 2, format = "f"),
                  collapse = ", ")))
