# Shared by bench/versus-torch/steps.R and epochs.R: the two-moons data, the
# package's flow (the same as flow.py's) and running flow.py.

library(bijectors)

python <- Sys.getenv("BIJECTORS_PYTHON", "/usr/bin/python3")
here <- local({
  file <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  if (length(file) == 1L) dirname(normalizePath(file)) else "bench/versus-torch"
})

# 8,000 training and 4,000 test points of two moons (noise 0.05),
# standardized with the training part's statistics, written to dir as CSV.
write_two_moons <- function(dir, seed, n_train = 8000L, n_test = 4000L) {
  set.seed(seed)
  moons <- sample_two_moons(n_train + n_test, noise = 0.05)
  train <- moons[seq_len(n_train), ]
  center <- colMeans(train)
  spread <- apply(train, 2L, stats::sd)
  standardize <- function(x) sweep(sweep(x, 2L, center), 2L, spread, "/")
  data <- list(train = standardize(train),
               test = standardize(moons[n_train + seq_len(n_test), ]))
  for (part in names(data)) {
    utils::write.csv(data[[part]], file.path(dir, paste0(part, ".csv")),
                     row.names = FALSE)
  }
  data
}

# K x [MAF(hidden, hidden, relu), batch normalization, reverse permute] in
# the density direction (tfb_chain() applies the inverse of the first member
# first), as flow.py. `...` goes to the MADE template.
package_flow <- function(event_size = 2L, hidden = 64L, blocks = 5L,
                         activation = "relu", ...) {
  members <- list()
  for (k in seq_len(blocks)) {
    members <- c(members, list(
      tfb_masked_autoregressive_flow(
        tfb_masked_autoregressive_default_template(c(hidden, hidden),
                                                   activation = activation,
                                                   ...)),
      tfb_batch_normalization(),
      tfb_permute(rev(seq_len(event_size)))))
  }
  tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = rep(0, event_size)),
    tfb_chain(members))
}

run_python <- function(args) {
  out <- system2(python, c(file.path(here, "flow.py"), args), stdout = TRUE,
                 stderr = TRUE)
  status <- attr(out, "status")
  if (!is.null(status) && status != 0L) {
    stop("flow.py failed:\n", paste(out, collapse = "\n"), call. = FALSE)
  }
  out
}
