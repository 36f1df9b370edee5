# Shared by the scripts of bench/versus-torch/: the two-moons data, the
# package's flow (the same as flow.py's) and running flow.py.

library(bijectors)

python <- Sys.getenv("BIJECTORS_PYTHON", "/usr/bin/python3")
here <- local({
  file <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  if (length(file) == 1L) dirname(normalizePath(file)) else "bench/versus-torch"
})

# Whole numbers from a command-line argument: a range "a:b" or a comma
# separated list ("5" is one number).
parse_integers <- function(text) {
  if (grepl(":", text, fixed = TRUE)) {
    ends <- as.integer(strsplit(text, ":", fixed = TRUE)[[1L]])
    return(seq(ends[[1L]], ends[[2L]]))
  }
  as.integer(strsplit(text, ",", fixed = TRUE)[[1L]])
}

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

# For factorial.R and divergence.R: the same initial weights and minibatch
# orders on both sides.

# flow.py's parameter names in the package's order (trainable_parameters())
torch_names <- unlist(lapply(1:5, function(k) c(
  sprintf("maf%d/layer%d/%s", k, rep(1:3, each = 2), c("kernel", "bias")),
  sprintf("bn%d/%s", k, c("gamma", "beta")))))

# trainable_parameters() as flow.py's init.csv (--init-csv)
write_init <- function(parameters, path) {
  stopifnot(length(parameters) == length(torch_names))
  rows <- do.call(rbind, lapply(seq_along(parameters), function(k) {
    v <- as.double(parameters[[k]])
    data.frame(name = torch_names[[k]], index = seq_along(v),
               value = sprintf("%.17g", v), mask = 1L)
  }))
  utils::write.csv(rows, path, row.names = FALSE, quote = FALSE)
}

# flow.py's init.csv as trainable_parameters() of `flow`
read_init <- function(flow, path) {
  init <- utils::read.csv(path, stringsAsFactors = FALSE)
  parameters <- trainable_parameters(flow)
  for (k in seq_along(parameters)) {
    parameters[[k]][] <- init$value[init$name == torch_names[[k]]]
  }
  parameters
}

# one line of 1-based rows per epoch (flow.py --orders-csv)
write_orders <- function(orders, path) {
  writeLines(vapply(orders, paste, "", collapse = " "), path)
}

# The package's flow with its networks built (weights drawn from R's
# generator).
new_flow <- function(train) {
  flow <- package_flow()
  invisible(flow$log_prob(train[1:256, ]))   # builds the networks
  flow
}

# the batches of `batch` rows of each order in turn, NULL after each epoch
generator <- function(x, orders, batch = 256L) {
  epoch <- 1L
  step <- 0L
  function() {
    order <- orders[[epoch]]
    if (step * batch >= length(order)) {
      epoch <<- epoch + 1L
      step <<- 0L
      return(NULL)
    }
    rows <- order[(step * batch + 1L):min((step + 1L) * batch, length(order))]
    step <<- step + 1L
    x[rows, , drop = FALSE]
  }
}

# every step's loss, recorded at the exit of fit()'s step once
# record_step_losses() has been called
step_losses <- new.env()
step_losses$values <- numeric(0)
record_step_losses <- function() {
  suppressMessages(trace(
    "fit_step", where = asNamespace("bijectors"), print = FALSE,
    exit = quote(step_losses$values <- c(step_losses$values, returnValue()))))
  invisible()
}

# The package's flow from `parameters`, trained on the batches of 256 rows
# of `orders` (one order per epoch) through a generator; the test
# log-likelihood after each epoch of `report` (batch statistics recomputed
# on the training set), the steps' losses written to losses_path.
package_cell <- function(data, parameters, orders, report, losses_path) {
  epochs <- max(report)
  flow <- new_flow(data$train)
  trainable_parameters(flow) <- parameters
  step_losses$values <- numeric(0)
  next_batch <- generator(data$train, orders)
  out <- numeric(0)
  for (epoch in seq_len(epochs)) {
    fit(flow, next_batch, epochs = 1L, learning_rate = 1e-3, verbose = FALSE)
    if (epoch %in% report) {
      recompute_batch_statistics(flow, data$train)
      out <- c(out, mean(evaluation_mode(flow)$log_prob(data$test)))
    }
  }
  writeLines(sprintf("%.17g", step_losses$values), losses_path)
  out
}

# flow.py's flow from init_path's weights on orders_path's batches, with
# the package's maths (Adam epsilon 1e-7, the clip passing the gradient,
# gamma constrained) or torch's own settings; as package_cell().
torch_cell <- function(dir, init_path, orders_path, report, losses_path, seed,
                       package_maths = TRUE, more = NULL) {
  out <- run_python(c(
    "epochs", dir, paste(report, collapse = ","), "--seed", seed,
    "--masks", "equal", "--init-csv", init_path, "--orders-csv", orders_path,
    "--losses", losses_path,
    if (package_maths) c("--adam-eps", "1e-7", "--clip", "pass",
                         "--gamma-constraint"), more))
  fields <- strsplit(strsplit(out[[length(out)]], " ")[[1L]], ":")
  as.numeric(vapply(fields, `[[`, "", 2L))
}

# Two moons of `seed` written to dir and read back (the CSV's values, as
# torch reads them); two kinds of initial weights (the package's draw after
# set.seed(seed + 1000); flow.py's nn.Linear draw with torch seed seed +
# 5000) and two kinds of minibatch order over `epochs` epochs (R's
# sample.int() after set.seed(seed + 3000); numpy's RandomState(seed +
# 7000).permutation()).
cell_inputs <- function(dir, seed, epochs) {
  write_two_moons(dir, seed)
  data <- lapply(c(train = "train.csv", test = "test.csv"), function(file) {
    unname(as.matrix(utils::read.csv(file.path(dir, file))))
  })
  n <- nrow(data$train)
  set.seed(seed + 1000L)
  weights <- list(package = trainable_parameters(new_flow(data$train)))
  run_python(c("steps", dir, 1, "--masks", "equal", "--init", "kaiming",
               "--seed", seed + 5000L))
  weights$torch <- read_init(new_flow(data$train), file.path(dir, "init.csv"))
  set.seed(seed + 3000L)
  orders <- list(R = lapply(seq_len(epochs), function(e) sample.int(n)))
  orders$numpy <- lapply(strsplit(system2(python, c("-c", shQuote(sprintf(paste(
    "import numpy as np; r = np.random.RandomState(%d);",
    "print('\\n'.join(' '.join(str(i + 1) for i in r.permutation(%d))",
    "for _ in range(%d)))"), seed + 7000L, n, epochs))), stdout = TRUE),
    " ", fixed = TRUE), as.integer)
  list(data = data, weights = weights, orders = orders)
}
