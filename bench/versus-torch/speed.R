# Speed of a training step and of a forward log_prob: the package against
# the same flow in torch (flow.py, the package's default masks), measured in
# one run on this machine's BLAS (issue 14, item 1).
#
#   Rscript bench/versus-torch/speed.R
#
# The flow of the issue: 5 x [MAF(64, 64), batch normalization, reverse
# permute], D = 8, batch 256, float64, Adam, with relu and with tanh hidden
# units. The package's step is an epoch of fit() on 25,600 rows divided by its
# 100 steps (batch slicing and all bookkeeping included), the median of 3
# epochs; torch's is the median of 200 steps; each with 1 and with 2 threads
# (the package's: options(bijectors.threads = )).
# Ratios above 1 mean the package is faster. Target: 3 (step and log_prob).
# Also the floor the step's matrix products set: the 45 products of one step
# (5 blocks x 3 layers x forward, kernel gradient, input gradient) timed alone
# in a loop in C with the package's own dgemm, whole and masked (what the
# networks compute); target: step within 1.5x of the masked floor.
#
# Without arguments the script runs itself once per BLAS this machine has
# (the system's, and the other of reference BLAS / OpenBLAS through
# LD_PRELOAD), so that both are in one report; `--this-blas` runs only the
# BLAS of the current process.

source(file.path(local({
  file <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  if (length(file) == 1L) dirname(normalizePath(file)) else "bench/versus-torch"
}), "common.R"))

blas_libraries <- c(
  reference = "/usr/lib/x86_64-linux-gnu/blas/libblas.so.3 /usr/lib/x86_64-linux-gnu/lapack/liblapack.so.3",
  openblas = "/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3 /usr/lib/x86_64-linux-gnu/openblas-pthread/liblapack.so.3")
if (!"--this-blas" %in% commandArgs(TRUE)) {
  script <- file.path(here, "speed.R")
  for (blas in names(blas_libraries)) {
    files <- strsplit(blas_libraries[[blas]], " ")[[1]]
    if (!all(file.exists(files))) {
      cat(sprintf("(%s BLAS not installed here: skipped)\n\n", blas))
      next
    }
    cat(sprintf("==== %s BLAS ====\n", blas))
    status <- system2(file.path(R.home("bin"), "Rscript"),
                      c(shQuote(script), "--this-blas"),
                      env = paste0("LD_PRELOAD=", shQuote(blas_libraries[[blas]])))
    if (status != 0L) stop("speed.R --this-blas failed", call. = FALSE)
    cat("\n")
  }
  quit(save = "no")
}

n_rows <- 25600L
event_size <- 8L
batch_size <- 256L
dir <- tempfile("versus-torch-speed")
dir.create(dir)
set.seed(1)
data <- matrix(rnorm(n_rows * event_size), ncol = event_size)
data <- data %*% chol(0.5 ^ abs(outer(seq_len(event_size),
                                       seq_len(event_size), "-")))
utils::write.csv(data, file.path(dir, "train.csv"), row.names = FALSE)
utils::write.csv(data[1:10, ], file.path(dir, "test.csv"), row.names = FALSE)
batch <- data[seq_len(batch_size), ]

cat(sprintf("BLAS: %s; matrix products: %s\n\n", extSoftVersion()[["BLAS"]],
            getOption("bijectors.gemm", "bijectors")))

# The floors: one step's 45 products with the package's dgemm, elapsed, best
# of 5 (per block: the forward pass, the kernel gradients, the input
# gradients, each over the three layers 8 -> 64 -> 64 -> 16). `full`
# multiplies whole kernels (what the package did before the masked products,
# and what torch does); `masked` skips what the MADE masks of the flow
# (hidden_degrees = "equal") make zero, as the networks now do
# (bj_dgemm_masked(), src/gemm.c): the forward product's and the input
# gradient's terms outside each column tile's mask extent, the kernel
# gradient's tiles outside the mask.
masks <- bijectors:::made_degree_masks(event_size, c(64L, 64L), 2L)
# 0-based [first, end) of the non-zeros of each column of m (of each row of
# m with rows = TRUE), c(first, end), as src/network.c computes them
extent <- function(m, rows = FALSE) {
  if (rows) m <- t(m)
  nonzero <- apply(m != 0, 2L, which, simplify = FALSE)
  first <- vapply(nonzero, function(i) if (length(i)) min(i) - 1L else 0L, 1L)
  end <- vapply(nonzero, function(i) if (length(i)) max(i) else 0L, 1L)
  as.integer(c(first, end))
}
# trans, m, n, k, skip (0 none, 1 terms, 2 tiles of C), ranges
step_products <- unlist(lapply(seq_along(masks), function(layer) {
  mask <- masks[[layer]]
  fan_in <- nrow(mask); fan_out <- ncol(mask)
  list(list(c("N", "N"), batch_size, fan_out, fan_in, 1L, extent(mask)),
       list(c("T", "N"), fan_in, fan_out, batch_size, 2L, extent(mask)),
       list(c("N", "T"), batch_size, fan_in, fan_out, 1L,
            extent(mask, rows = TRUE)))
}), recursive = FALSE)
product_floor <- function(masked) {
  5 * sum(vapply(step_products, function(p) {
    trans <- p[[1]]
    m <- as.integer(p[[2]]); n <- as.integer(p[[3]]); k <- as.integer(p[[4]])
    a <- rnorm(m * k); b <- rnorm(k * n); out <- numeric(m * n)
    lds <- c(if (trans[[1]] == "N") m else k, if (trans[[2]] == "N") k else n,
             m)
    repeats <- 2000L
    best <- Inf
    for (trial in 1:5) {
      best <- min(best, system.time(if (masked) {
        .Call(bijectors:::C_gemm_masked_test, 0L, p[[5]], p[[6]], trans,
              c(m, n, k), lds, 1, 0, a, b, out, repeats)
      } else {
        .Call(bijectors:::C_gemm_test, 0L, trans, c(m, n, k), lds, 1, 0, a,
              b, out, repeats)
      })[["elapsed"]])
    }
    best / repeats * 1e6
  }, numeric(1)))
}
floor_us <- product_floor(masked = FALSE)
masked_floor_us <- product_floor(masked = TRUE)
cat(sprintf(paste("Floor of a step's 45 products: %.0f us whole, %.0f us",
                  "masked (%.2f)\n\n"), floor_us, masked_floor_us,
            masked_floor_us / floor_us))
rows <- list()
for (activation in c("relu", "tanh")) {
  for (threads in 1:2) {
    # the package's products on `threads` threads (options(bijectors.threads),
    # read at the start of fit())
    options(bijectors.threads = threads)
    bijectors:::gemm_apply_option()
    set.seed(2)
    flow <- package_flow(event_size, activation = activation)
    invisible(flow$log_prob(batch))
    epoch <- vapply(1:3, function(i) {
      system.time(fit(flow, data, epochs = 1L, batch_size = batch_size,
                      learning_rate = 1e-4, verbose = FALSE))[["elapsed"]]
    }, numeric(1))
    step_us <- stats::median(epoch) / (n_rows / batch_size) * 1e6
    log_prob_us <- stats::median(as.numeric(
      bench::mark(flow$log_prob(batch), iterations = 200,
                  check = FALSE)$time[[1]])) * 1e6
    out <- run_python(c("speed", dir, "200", "--masks", "equal",
                        "--threads", threads, "--activation", activation))
    torch_us <- as.numeric(strsplit(out[[length(out)]], " ")[[1]])
    rows[[length(rows) + 1L]] <- data.frame(
      activation = activation, threads = threads,
      package_step_us = round(step_us), torch_step_us = round(torch_us[[1]]),
      step_ratio = round(torch_us[[1]] / step_us, 2),
      package_log_prob_us = round(log_prob_us),
      torch_log_prob_us = round(torch_us[[2]]),
      log_prob_ratio = round(torch_us[[2]] / log_prob_us, 2),
      floor_us = round(floor_us), masked_floor_us = round(masked_floor_us),
      step_over_masked_floor = round(step_us / masked_floor_us, 2))
  }
}
options(bijectors.threads = 1L)
table <- do.call(rbind, rows)
print(table, row.names = FALSE)
# each framework at its best thread count, per activation
best <- do.call(rbind, lapply(split(table, table$activation), function(t) {
  data.frame(activation = t$activation[[1]],
             best_step_ratio = round(min(t$torch_step_us) /
                                       min(t$package_step_us), 2),
             best_log_prob_ratio = round(min(t$torch_log_prob_us) /
                                           min(t$package_log_prob_us), 2))
}))
cat("\nEach at its best thread count (target 3):\n")
print(best, row.names = FALSE)

