# Speed of a normalizing flow built from the network bijectors.
#
# Run by hand from the repository root, with the package installed:
#   Rscript bench/flows.R
#
# A chain of 5 blocks of (masked autoregressive flow with hidden layers
# c(64, 64), batch normalization, permute) under a standard normal base, on
# 1e5 x 8 data. Times are printed per event and as a ratio to the matrix
# products the networks need, measured in the same run with R's `%*%` on
# the same BLAS: log_prob takes one network pass per block, so its baseline
# is `x %*% W` for the three layers of each of the 5 networks on the data;
# sample(n) takes D = 8 passes per block (TFP's forward loop), so its
# baseline is 8 times that on n rows. Target (issue 3): log_prob at most 2x
# its matrix products.

library(bijectors)
options(width = 200)

if (!requireNamespace("bench", quietly = TRUE)) {
  stop("bench/flows.R needs the 'bench' package: bash tools/install-deps.sh",
       call. = FALSE)
}

n_rows <- 1e5
n_sample <- 1e4
event_size <- 8L
hidden <- c(64L, 64L)
n_blocks <- 5L
iterations <- 10L

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
invisible(flow$log_prob(data[seq_len(1000), ]))   # builds every network

# The same products with random weights of the networks' shapes.
units <- c(event_size, hidden, 2L * event_size)
weights <- lapply(seq_len(length(units) - 1L), function(k) {
  matrix(rnorm(units[[k]] * units[[k + 1L]]), units[[k]], units[[k + 1L]])
})
network_products <- function(x, blocks) {
  for (block in seq_len(blocks)) {
    h <- x
    for (w in weights) h <- h %*% w
  }
  invisible(h)
}
data_sample <- data[seq_len(n_sample), ]

cat(sprintf(paste(
  "bijectors %s, R %s; %d blocks of MAF(hidden %s) + batch normalization +",
  "permute; log_prob on %g x %d, sample(%g); %d iterations each\n\n"),
  format(utils::packageVersion("bijectors")), getRversion(), n_blocks,
  paste(hidden, collapse = ", "), n_rows, event_size, n_sample, iterations))

timings <- bench::mark(
  "matrix products of log_prob" = network_products(data, n_blocks),
  "log_prob" = flow$log_prob(data),
  "matrix products of sample" = network_products(data_sample,
                                                 n_blocks * event_size),
  "sample" = flow$sample(n_sample),
  iterations = iterations,
  check = FALSE,
  memory = FALSE,
  filter_gc = FALSE
)

labels <- c("matrix products of log_prob", "log_prob",
            "matrix products of sample", "sample")
median_of <- function(label) {
  as.numeric(timings$median[[match(label, labels)]])
}
products_log_prob <- median_of("matrix products of log_prob")
products_sample <- median_of("matrix products of sample")
rows <- data.frame(
  operation = c("log_prob", "sample"),
  events = c(n_rows, n_sample),
  median_ms = c(median_of("log_prob"), median_of("sample")) * 1e3,
  us_per_event = c(median_of("log_prob") / n_rows,
                   median_of("sample") / n_sample) * 1e6,
  products_ms = c(products_log_prob, products_sample) * 1e3,
  ratio = c(median_of("log_prob") / products_log_prob,
            median_of("sample") / products_sample),
  target = c("<= 2", "-")
)
rows$met <- c(if (rows$ratio[[1L]] <= 2) "yes" else "NO", "-")
print(rows, digits = 3, row.names = FALSE)
