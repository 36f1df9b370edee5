# Speed of the package's own matrix product (bj_dgemm, src/gemm.c) against
# the system BLAS's dgemm, and what it does to a training step.
#
# Run by hand from the repository root, with the package installed:
#   Rscript bench/gemm.R
# and, to compare with OpenBLAS without changing the system's BLAS:
#   LD_PRELOAD="/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3 \
#     /usr/lib/x86_64-linux-gnu/openblas-pthread/liblapack.so.3" \
#     OPENBLAS_NUM_THREADS=1 Rscript bench/gemm.R
#
# 1. GFLOP/s of both on the products of a training step of the flow of
#    bench/train.R (5 x MAF(hidden 64, 64), D = 8, batch 256: each network
#    maps 8 -> 64 -> 64 -> 16) and on a few larger squares, the two
#    interleaved, CPU time (user + system), best of 5.
# 2. The time of one training step with options(bijectors.gemm = "blas")
#    ("before": the system BLAS) and "bijectors" ("after"), relu and tanh
#    networks, fit() over 40 batches, interleaved, best of 5, and the ratio.
# 3. The floor: the step's matrix products alone (per block, the forward
#    pass's 3, the kernel gradients' 3 and the input gradients' 3, times 5
#    blocks), timed in a loop in C, against the whole step.

library(bijectors)
options(width = 200)

gemm <- function(which, ta, tb, m, n, k, A, B, C, repeats) {
  .Call(bijectors:::C_gemm_test, as.integer(which), c(ta, tb),
        as.integer(c(m, n, k)),
        as.integer(c(if (ta == "N") m else k, if (tb == "N") k else n, m)),
        1, 0, A, B, C, as.integer(repeats))
}
cpu <- function(expr) {
  t <- system.time(expr, gcFirst = FALSE)
  t[["user.self"]] + t[["sys.self"]]
}

# The step's products: (transa, transb, m, n, k) per block.
step_shapes <- list(
  c("N", "N", 256, 64, 8), c("N", "N", 256, 64, 64), c("N", "N", 256, 16, 64),
  c("T", "N", 8, 64, 256), c("T", "N", 64, 64, 256), c("T", "N", 64, 16, 256),
  c("N", "T", 256, 64, 16), c("N", "T", 256, 64, 64), c("N", "T", 256, 8, 64))
large_shapes <- list(c("N", "N", 128, 128, 128), c("N", "N", 512, 512, 512),
                     c("T", "N", 512, 512, 512), c("N", "T", 512, 512, 512))

cat(sprintf("bijectors %s, R %s, micro-kernel %s, BLAS: %s\n\n",
            format(utils::packageVersion("bijectors")), getRversion(),
            .Call(bijectors:::C_gemm_kernel),
            basename(extSoftVersion()[["BLAS"]])))
if (nzchar(Sys.getenv("LD_PRELOAD")))
  cat("LD_PRELOAD:", Sys.getenv("LD_PRELOAD"), "\n\n")

set.seed(1)
shape_rows <- lapply(c(step_shapes, large_shapes), function(s) {
  ta <- s[1]; tb <- s[2]; m <- as.integer(s[3]); n <- as.integer(s[4])
  k <- as.integer(s[5])
  A <- rnorm(m * k); B <- rnorm(k * n); C <- numeric(m * n)
  flops <- 2 * m * n * k
  repeats <- max(1L, as.integer(1.5e9 / flops))   # ~40 ms at 40 GFLOP/s
  best <- c(Inf, Inf)
  for (trial in 1:5) for (which in 0:1) {
    best[which + 1] <- min(best[which + 1],
                           cpu(gemm(which, ta, tb, m, n, k, A, B, C, repeats)))
  }
  data.frame(op = paste0(ta, tb), m = m, n = n, k = k,
             bijectors_gflops = flops * repeats / best[1] / 1e9,
             blas_gflops = flops * repeats / best[2] / 1e9,
             us_bijectors = best[1] / repeats * 1e6,
             us_blas = best[2] / repeats * 1e6)
})
shape_table <- do.call(rbind, shape_rows)
shape_table$speedup <- shape_table$bijectors_gflops / shape_table$blas_gflops
cat("1. GFLOP/s (CPU time), bj_dgemm against the system BLAS\n")
print(shape_table, digits = 3, row.names = FALSE)

# The floor: one step's products, 5 blocks of the 9 shapes.
step_rows <- seq_along(step_shapes)
floor_ms <- 5 * c(bijectors = sum(shape_table$us_bijectors[step_rows]),
                  blas = sum(shape_table$us_blas[step_rows])) / 1e3

# 2. The training step, before and after.
event_size <- 8L
batch_size <- 256L
steps <- 40L
data <- matrix(rnorm(batch_size * steps * event_size), ncol = event_size)
make_flow <- function(activation) {
  blocks <- list()
  for (block in 1:5) {
    blocks <- c(blocks, list(
      tfb_masked_autoregressive_flow(
        tfb_masked_autoregressive_default_template(c(64L, 64L),
                                                   activation = activation)),
      tfb_batch_normalization(),
      tfb_permute(rev(seq_len(event_size)))))
  }
  blocks <- blocks[-length(blocks)]
  tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = rep(0, event_size)),
    tfb_chain(rev(blocks)))
}
step_ms <- function(flow, mode) {
  options(bijectors.gemm = mode)
  cpu(fit(flow, data, epochs = 1L, batch_size = batch_size,
          learning_rate = 1e-4, verbose = FALSE)) / steps * 1e3
}
step_rows <- list()
for (activation in c("relu", "tanh")) {
  flow <- make_flow(activation)
  invisible(flow$log_prob(data[1:batch_size, ]))
  best <- c(blas = Inf, bijectors = Inf)
  for (trial in 1:5) for (mode in names(best)) {
    best[[mode]] <- min(best[[mode]], step_ms(flow, mode))
  }
  step_rows[[activation]] <- data.frame(
    activation = activation, step_ms_blas = best[["blas"]],
    step_ms_bijectors = best[["bijectors"]],
    speedup = best[["blas"]] / best[["bijectors"]],
    floor_ms_blas = floor_ms[["blas"]],
    floor_ms_bijectors = floor_ms[["bijectors"]],
    step_over_floor_blas = best[["blas"]] / floor_ms[["blas"]],
    step_over_floor_bijectors = best[["bijectors"]] / floor_ms[["bijectors"]])
}
options(bijectors.gemm = NULL)
cat("\n2-3. Training step (CPU ms, fit() over", steps, "batches of",
    batch_size, "), before (system BLAS) and after (bj_dgemm),",
    "and the floor its 45 matrix products set\n")
print(do.call(rbind, step_rows), digits = 3, row.names = FALSE)
cat("\noptions(bijectors.gemm = \"auto\") chooses:",
    .Call(bijectors:::C_gemm_calibrate), "\n")
