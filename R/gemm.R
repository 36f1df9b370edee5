# The choice of matrix product for the networks (src/gemm.c): the package's
# own dgemm or the system BLAS, from options(bijectors.gemm = ). See
# ?bijectors (section "Matrix products").

gemm_modes <- c("auto", "bijectors", "blas")
gemm_state <- new.env(parent = emptyenv())
gemm_state$option <- "bijectors"
gemm_state$threads <- 1L

# Sets the C side's choice from the option when the option changed; returns
# the choice in force ("auto" until the first product decides). An unset
# option means "bijectors": the package's own product, deterministic and
# independent of the system's BLAS; an invalid option is an error naming it.
gemm_apply_option <- function() {
  mode <- getOption("bijectors.gemm", "bijectors")
  if (!is.character(mode) || length(mode) != 1L || !mode %in% gemm_modes) {
    stop("`options(bijectors.gemm = )` must be one of \"auto\", ",
         "\"bijectors\" or \"blas\"", call. = FALSE)
  }
  threads <- getOption("bijectors.threads", 1L)
  if (!is.numeric(threads) || length(threads) != 1L || is.na(threads) ||
      threads < 1 || threads != round(threads)) {
    stop("`options(bijectors.threads = )` must be a whole number >= 1",
         call. = FALSE)
  }
  # "auto" keeps the decision already timed in this session
  if (!identical(mode, gemm_state$option)) {
    .Call(C_gemm_backend, mode)
    gemm_state$option <- mode
  }
  threads <- as.integer(min(threads, .Machine$integer.max))
  if (!identical(threads, gemm_state$threads)) {
    .Call(C_gemm_threads, threads)
    gemm_state$threads <- threads
  }
  invisible(.Call(C_gemm_backend, NULL))
}

.onLoad <- function(libname, pkgname) {
  # an invalid option must not stop the package from loading
  try(gemm_apply_option(), silent = TRUE)
}
