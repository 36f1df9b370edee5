# Batch normalization as a bijector, end to end.
#
# Run from the repository root after installing the package:
#   Rscript inst/scripts/normalize-demo.R
# or, once installed, from anywhere:
#   Rscript "$(Rscript -e 'cat(system.file("scripts", "normalize-demo.R", package = "bijectors"))')"
#
# The script streams a correlated three-feature data set through a
# batch-normalization bijector in training mode, shows the layer's running
# statistics settling on the data's mean and variance, then switches to an
# evaluation view of the same layer and checks that forward() undoes
# inverse(), that the log-determinants agree with each other, and that the
# model survives saveRDS()/readRDS(). It stops with an error if a check fails.

library(bijectors)

set.seed(20260101)

# ---- Data: 5000 events, 3 correlated features on very different scales ----
n_events <- 5000L
feature_means <- c(income = 10, temperature = -3, ratio = 0.5)
feature_sds <- c(5, 0.5, 2)
correlation <- matrix(c(
  1.0, 0.6, -0.3,
  0.6, 1.0, 0.2,
  -0.3, 0.2, 1.0
), nrow = 3, byrow = TRUE)
covariance <- correlation * outer(feature_sds, feature_sds)
standard_draws <- matrix(rnorm(n_events * 3L), ncol = 3L)
y <- standard_draws %*% chol(covariance)
y <- sweep(y, 2L, feature_means, `+`)
colnames(y) <- names(feature_means)

# The layer tracks the biased (divide-by-n) variance, so compare against that.
true_mean <- colMeans(y)
true_variance <- colMeans(sweep(y, 2L, true_mean)^2)

cat("Data: ", n_events, " events x ", ncol(y), " features\n", sep = "")
print(rbind(mean = true_mean, variance = true_variance), digits = 4)

# ---- Training mode: running statistics follow the minibatches ----
momentum <- 0.9
batch_size <- 100L
n_epochs <- 2L
report_every <- 10L

b <- tfb_batch_normalization(layer_batch_normalization(momentum = momentum))
cat("\n")
print(b)

batches_per_epoch <- n_events %/% batch_size
progress <- data.frame(
  epoch = integer(0), batch = integer(0),
  max_abs_mean_error = numeric(0), max_abs_variance_error = numeric(0)
)
step <- 0L
for (epoch in seq_len(n_epochs)) {
  order <- sample.int(n_events)
  for (batch in seq_len(batches_per_epoch)) {
    rows <- order[((batch - 1L) * batch_size + 1L):(batch * batch_size)]
    x_batch <- tfb_inverse(b, y[rows, , drop = FALSE])
    step <- step + 1L
    if (step %% report_every == 0L || step == 1L) {
      layer <- b$batchnorm
      progress[nrow(progress) + 1L, ] <- list(
        epoch, step,
        max(abs(layer$moving_mean - true_mean)),
        max(abs(layer$moving_variance - true_variance))
      )
    }
  }
}
cat("\nRunning statistics while training (momentum ", momentum,
    ", batches of ", batch_size, "):\n", sep = "")
print(progress, row.names = FALSE, digits = 4)

layer <- b$batchnorm
cat("\nAfter training:\n")
print(rbind(
  moving_mean = layer$moving_mean, true_mean = true_mean,
  moving_variance = layer$moving_variance, true_variance = true_variance
), digits = 4)

failures <- character(0)
check <- function(ok, what) {
  status <- if (isTRUE(ok)) "ok  " else "FAIL"
  cat(sprintf("  [%s] %s\n", status, what))
  if (!isTRUE(ok)) failures <<- c(failures, what)
  invisible(ok)
}

cat("\nChecks:\n")
# With momentum 0.9 and batches of 100 the running mean wanders by a few
# hundredths of a standard deviation and the running variance by a few
# percent; the bounds below leave room for that noise, not for a wrong update.
check(
  all(abs(layer$moving_mean - true_mean) <= 0.15 * sqrt(true_variance)),
  "moving mean within 0.15 standard deviations of the data mean"
)
check(
  all(abs(layer$moving_variance / true_variance - 1) <= 0.15),
  "moving variance within 15% of the data variance"
)

# ---- Evaluation mode: a second bijector on the same layer ----
eval <- tfb_batch_normalization(b$batchnorm, training = FALSE)
check(
  identical(eval$batchnorm$moving_mean, b$batchnorm$moving_mean),
  "the evaluation bijector sees the training bijector's layer"
)

moving_mean_before <- layer$moving_mean
moving_variance_before <- layer$moving_variance
x <- tfb_inverse(eval, y)
check(identical(dim(x), dim(y)) && identical(dimnames(x), dimnames(y)),
      "inverse() keeps dim and dimnames")
check(
  max(abs(colMeans(x))) < 0.1 && all(abs(apply(x, 2L, var) - 1) < 0.1),
  "normalized data has mean near 0 and variance near 1"
)
check(
  identical(layer$moving_mean, moving_mean_before) &&
    identical(layer$moving_variance, moving_variance_before),
  "evaluation-mode inverse() leaves the running statistics alone"
)

round_trip_error <- max(abs(tfb_forward(eval, tfb_inverse(eval, y)) - y))
cat(sprintf("  max |forward(inverse(y)) - y| in evaluation mode: %.3g\n",
            round_trip_error))
check(round_trip_error < 1e-10 * max(1, max(abs(y))),
      "forward() undoes inverse() in evaluation mode")

# ---- Log-determinants ----
epsilon <- layer$epsilon
ildj_eval <- tfb_inverse_log_det_jacobian(eval, y, event_ndims = 1L)
fldj_eval <- tfb_forward_log_det_jacobian(eval, x, event_ndims = 1L)
ildj_train <- tfb_inverse_log_det_jacobian(b, y, event_ndims = 1L)
ildj_train_2 <- tfb_inverse_log_det_jacobian(b, y, event_ndims = 2L)
expected_eval <- sum(log(layer$gamma)) -
  0.5 * sum(log(b$batchnorm$moving_variance + epsilon))
expected_train <- sum(log(layer$gamma)) -
  0.5 * sum(log(colMeans(sweep(y, 2L, colMeans(y))^2) + epsilon))

cat("\nLog-determinants (one scalar, shared by all events):\n")
cat(sprintf("  inverse, evaluation (event_ndims = 1): %12.6f\n", ildj_eval))
cat(sprintf("  forward, evaluation (event_ndims = 1): %12.6f\n", fldj_eval))
cat(sprintf("  inverse, training   (event_ndims = 1): %12.6f\n", ildj_train))
cat(sprintf("  inverse, training   (event_ndims = 2): %12.6f  (= %d x the line above)\n",
            ildj_train_2, n_events))
check(abs(ildj_eval + fldj_eval) < 1e-12 * max(1, abs(ildj_eval)),
      "forward log-det is minus the inverse log-det in evaluation mode")
check(abs(ildj_eval - expected_eval) < 1e-10,
      "evaluation log-det uses the moving variance")
check(abs(ildj_train - expected_train) < 1e-10,
      "training log-det uses the variance of the batch")
check(abs(ildj_train_2 - n_events * ildj_train) < 1e-8 * abs(ildj_train_2),
      "event_ndims = 2 multiplies the log-det by the number of events")

# ---- Saving: the layer's state is plain R data ----
path <- tempfile(fileext = ".rds")
saveRDS(eval, path)
restored <- readRDS(path)
unlink(path)
check(identical(tfb_inverse(restored, y), x),
      "a bijector read back with readRDS() gives identical results")

# ---- Training mode is not an exact inverse ----
# inverse() in training mode normalizes with the statistics of the batch it is
# given, while forward() always uses the running statistics, so the round trip
# is only approximate. (This call also updates the running statistics.)
train_gap <- max(abs(tfb_forward(eval, tfb_inverse(b, y)) - y))
cat(sprintf("\nmax |forward(inverse(y)) - y| with a training-mode inverse: %.3g\n",
            train_gap))

if (length(failures) > 0L) {
  stop(sprintf("%d check(s) failed:\n%s", length(failures),
               paste0("  - ", failures, collapse = "\n")), call. = FALSE)
}
cat("\nAll checks passed.\n")
