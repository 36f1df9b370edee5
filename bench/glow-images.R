# Glow on synthetic images (issue 13, item 3): a larger run than the
# vignette's, a few minutes on a two-core machine.
#
# Run by hand from the repository root, with the package installed:
#   Rscript bench/glow-images.R
#
# 8 x 8 grey images from sample_shapes_images() (8,000 for training, 1,000
# for validation, 1,000 for testing), dequantised with fresh uniform noise
# at every batch, mapped to the real line by RealNVP's logit (tfb_sigmoid()
# with low/high for alpha = 0.05, its log-det in the likelihood). A Glow of
# 2 levels of 4 steps with 32 hidden filters is trained with fit(), then at
# a lower learning rate; a full-covariance Gaussian is fitted by maximum
# likelihood to the same training pixels on the same logit scale. It prints
# the train/validation/test bits per dimension of both (bits_per_dim(): 8 is
# a uniform density), the training time, and, as a baseline measured in the
# same run, the time of one log_prob() pass over the training images, so
# that the training time reads as a number of such passes.

library(bijectors)
options(width = 120)

size <- 8L
n_train <- 8000L
n_validation <- 1000L
n_test <- 1000L
hidden <- 32L
steps <- 4L
batch_size <- 64L
schedule <- list(list(epochs = 16L, learning_rate = 5e-3),
                 list(epochs = 4L, learning_rate = 1e-3))
alpha <- 0.05

set.seed(1)
images <- sample_shapes_images(n_train + n_validation + n_test, size = size)
train <- images[seq_len(n_train), , , , drop = FALSE]
validation <- images[n_train + seq_len(n_validation), , , , drop = FALSE]
test <- images[n_train + n_validation + seq_len(n_test), , , , drop = FALSE]
train_unit <- dequantize(train)
validation_unit <- dequantize(validation)
test_unit <- dequantize(test)

to_unit <- tfb_sigmoid(low = -alpha / (1 - 2 * alpha),
                       high = (1 - alpha) / (1 - 2 * alpha))
dimension <- size * size

# The Gaussian: mean and covariance of the training vectors on the logit
# scale (row-major, as TF's reshape), as a flow with the same unit map.
to_vectors <- tfb_chain(list(to_unit, tfb_reshape(c(size, size, 1), dimension)))
vectors <- to_vectors$inverse(train_unit)
covariance <- cov(vectors) * (n_train - 1) / n_train
gaussian <- tfd_transformed_distribution(
  tfd_multivariate_normal_diag(loc = rep(0, dimension)),
  tfb_chain(list(to_unit, tfb_reshape(c(size, size, 1), dimension),
                 tfb_shift(colMeans(vectors)),
                 tfb_scale_matvec_tri_l(t(chol(covariance))))))

glow <- tfb_glow(output_shape = c(size, size, 1), num_glow_blocks = 2,
                 num_steps_per_block = steps,
                 coupling_bijector_fn = function(input_shape) {
                   glow_default_network(input_shape, num_hidden = hidden)
                 })
flow <- tfd_transformed_distribution(
  tfd_multivariate_normal_diag(loc = rep(0, dimension)),
  tfb_chain(list(to_unit, glow)))

dequantized_batches <- function(images, batch_size) {
  order <- NULL
  step <- 0
  function() {
    if (is.null(order)) order <<- sample.int(dim(images)[[1]])
    if (step * batch_size >= length(order)) {
      order <<- NULL
      step <<- 0
      return(NULL)
    }
    rows <- order[(step * batch_size + 1):min((step + 1) * batch_size,
                                              length(order))]
    step <<- step + 1
    dequantize(images[rows, , , , drop = FALSE])
  }
}

seconds <- 0
for (stage in schedule) {
  history <- fit(flow, dequantized_batches(train, batch_size),
                 epochs = stage$epochs, learning_rate = stage$learning_rate,
                 validation_data = validation_unit, verbose = 2)
  seconds <- seconds + history$seconds
}

# the baseline: one log_prob() pass over the training images, median of 3
pass <- median(vapply(1:3, function(i) {
  system.time(flow$log_prob(train_unit))[["elapsed"]]
}, numeric(1)))

bits <- function(distribution) {
  c(train = mean(bits_per_dim(distribution, train_unit)),
    validation = mean(bits_per_dim(distribution, validation_unit)),
    test = mean(bits_per_dim(distribution, test_unit)))
}
table <- rbind(Glow = bits(flow), "full-covariance Gaussian" = bits(gaussian))
cat(sprintf(paste(
  "\n%d x %d images; Glow of 2 levels x %d steps, %d hidden filters, %d",
  "parameters; %d epochs in batches of %d\n"), size, size, steps, hidden,
  sum(lengths(trainable_parameters(glow))),
  sum(vapply(schedule, `[[`, integer(1), "epochs")), batch_size))
cat("\nBits per dimension (8 = uniform; lower is better):\n")
print(round(table, 3))
cat(sprintf(paste(
  "\nTraining time: %.1f s = %.0f log_prob() passes over the %d training",
  "images (one pass: %.2f s)\n"), seconds, seconds / pass, n_train, pass))
cat(sprintf("Test gap, Gaussian - Glow: %.3f bits per dimension\n",
            table[2, "test"] - table[1, "test"]))
