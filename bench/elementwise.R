# Speed and memory of every elementwise bijector, all run by the kernel
# table of src/elementwise.c.
#
# Run by hand from the repository root, with the package installed:
#   Rscript bench/elementwise.R            # every kind
#   Rscript bench/elementwise.R tanh sinh  # some kinds
#
# For each kind, forward, inverse and forward_log_det_jacobian(event_ndims =
# 1) on a 1e6 x 32 matrix are timed against base R's expression of the same
# formula on the same input, in the same run. Targets: a ratio of at most
# 1.1 where base R has the map as one call (exp, expm1, plogis, qlogis,
# tanh, sinh, pnorm, qnorm, log, log1p, ...), below 1 where base R needs
# several; memory at most 1.05 x the output (256 MB for a map, 8 MB for a
# log-det). The aliases tfb_gumbel(), tfb_weibull() and tfb_kumaraswamy()
# run the kernels of gumbel_cdf and kumaraswamy_cdf and are not timed
# again; nor are the constant log-dets (affine_scalar: one number).
#
# How the ratio is formed: the two calls are timed in pairs, one call of
# each, in alternating order (base R first in odd pairs, the package first
# in even ones: ABBA), with a full gc() outside the timing before every call
# so that neither side pays for freeing the other's output. Each pair gives
# one ratio, package time / base-R time; the table reports the median of
# those ratios (judged against the target) and their minimum, over at least
# `min_pairs` pairs and at most `max_pairs`, stopping once an operation has
# used `budget_seconds`. A change of machine load then hits both sides of a
# pair alike instead of biasing a whole block of one side's iterations.
# Memory is measured once per side by bench::bench_memory(), apart from the
# timings.

library(bijectors)
options(width = 200)

if (!requireNamespace("bench", quietly = TRUE)) {
  stop("bench/elementwise.R needs the 'bench' package: bash tools/install-deps.sh",
       call. = FALSE)
}

`%||%` <- function(x, y) if (is.null(x)) y else x

n_rows <- 1e6
n_features <- 32L
min_pairs <- 5L
max_pairs <- 25L
budget_seconds <- 12

# The principal branch of Lambert's W for z >= 0 in plain R: a start from
# log1p(z) and Halley steps, vectorised.
lambert_w0 <- function(z) {
  w <- log1p(z)
  w <- w * (1 - log1p(w) / (2 + w))
  for (i in 1:6) {
    ew <- exp(w)
    f <- w * ew - z
    w <- w - f / (ew * (w + 1) - (w + 2) * f / (2 * w + 2))
  }
  w
}

# One row per kind: the constructor, inputs in the forward and inverse
# domains, and base R's forward, inverse and elementwise log|f'(x)|; `one`
# names the maps that base R does in one call (target 1.1).
uniform <- function(lower, upper) {
  function() matrix(runif(n_rows * n_features, lower, upper),
                    ncol = n_features)
}
normal <- function() matrix(rnorm(n_rows * n_features), ncol = n_features)

kinds <- list(
  absolute_value = list(make = "tfb_absolute_value()", x = normal,
                        forward = function(x) abs(x), one = "forward"),
  affine_scalar = list(make = "tfb_affine_scalar(shift = 1, scale = 2)",
                       x = normal, y = normal,
                       forward = function(x) 2 * x + 1,
                       inverse = function(y) (y - 1) / 2),
  exp = list(make = "tfb_exp()", x = normal, y = uniform(0.01, 5),
             forward = exp, inverse = log, fldj = function(x) x,
             one = c("forward", "inverse")),
  expm1 = list(make = "tfb_expm1()", x = normal, y = uniform(-0.99, 5),
               forward = expm1, inverse = log1p, fldj = function(x) x,
               one = c("forward", "inverse")),
  gompertz_cdf = list(
    make = "tfb_gompertz_cdf(concentration = 0.5, rate = 1.5)",
    x = uniform(0, 3), y = uniform(0.01, 0.99),
    forward = function(x) -expm1(-0.5 * expm1(1.5 * x)),
    inverse = function(y) log1p(-log1p(-y) / 0.5) / 1.5,
    fldj = function(x) log(0.5) + log(1.5) + 1.5 * x - 0.5 * expm1(1.5 * x)),
  gumbel_cdf = list(
    make = "tfb_gumbel_cdf(loc = 0.5, scale = 2)",
    x = normal, y = uniform(0.01, 0.99),
    forward = function(x) exp(-exp(-(x - 0.5) / 2)),
    inverse = function(y) 0.5 - 2 * log(-log(y)),
    fldj = function(x) {
      z <- (x - 0.5) / 2
      -z - exp(-z) - log(2)
    }),
  kumaraswamy_cdf = list(
    make = "tfb_kumaraswamy_cdf(concentration1 = 1.7, concentration0 = 2.5)",
    x = uniform(0.01, 0.99), y = uniform(0.01, 0.99),
    forward = function(x) 1 - (1 - x^1.7)^2.5,
    inverse = function(y) (1 - (1 - y)^(1 / 2.5))^(1 / 1.7),
    fldj = function(x) log(1.7) + log(2.5) + 0.7 * log(x) + 1.5 * log1p(-x^1.7)),
  lambert_w_tail = list(
    make = "tfb_lambert_w_tail(shift = 0.5, scale = 2, tailweight = 0.2)",
    x = normal, y = normal,
    forward = function(x) {
      u <- (x - 0.5) / 2
      0.5 + 2 * u * exp(0.1 * u * u)
    },
    inverse = function(y) {
      z <- (y - 0.5) / 2
      0.5 + 2 * sign(z) * sqrt(lambert_w0(0.2 * z * z) / 0.2)
    },
    fldj = function(x) {
      u <- (x - 0.5) / 2
      0.1 * u * u + log1p(0.2 * u * u)
    }),
  normal_cdf = list(make = "tfb_normal_cdf()", x = normal,
                    y = uniform(0.01, 0.99), forward = pnorm,
                    inverse = qnorm,
                    fldj = function(x) dnorm(x, log = TRUE),
                    one = c("forward", "inverse")),
  shift = list(make = "tfb_shift(0.5)", x = normal, y = normal,
               forward = function(x) x + 0.5, inverse = function(y) y - 0.5,
               one = c("forward", "inverse")),
  scale = list(make = "tfb_scale(1.5)", x = normal, y = normal,
               forward = function(x) x * 1.5, inverse = function(y) y / 1.5,
               one = c("forward", "inverse")),
  power_transform = list(
    make = "tfb_power_transform(power = 0.3)",
    x = uniform(-3.3, 3), y = uniform(0.01, 3),
    forward = function(x) (1 + 0.3 * x)^(1 / 0.3),
    inverse = function(y) (y^0.3 - 1) / 0.3,
    fldj = function(x) (1 / 0.3 - 1) * log1p(0.3 * x)),
  rayleigh_cdf = list(
    make = "tfb_rayleigh_cdf(scale = 1.5)",
    x = uniform(0.01, 4), y = uniform(0.01, 0.99),
    forward = function(x) -expm1(-x^2 / 4.5),
    inverse = function(y) 1.5 * sqrt(-2 * log1p(-y)),
    fldj = function(x) log(x) - 2 * log(1.5) - x^2 / 4.5),
  reciprocal = list(make = "tfb_reciprocal()", x = uniform(0.1, 5),
                    y = uniform(0.1, 5), forward = function(x) 1 / x,
                    inverse = function(y) 1 / y,
                    fldj = function(x) -2 * log(abs(x)),
                    one = c("forward", "inverse")),
  shifted_gompertz_cdf = list(
    make = "tfb_shifted_gompertz_cdf(concentration = 0.5, rate = 2)",
    x = uniform(0, 3), y = uniform(0.01, 0.99),
    forward = function(x) {
      e <- exp(-2 * x)
      (1 - e) * exp(-e / 0.5)
    },
    inverse = function(y) {
      z <- pmax(-lambert_w0(2 * exp(2 + log(y))) * 0.5, -1)
      -log1p(z) / 2
    },
    fldj = function(x) {
      e <- exp(-2 * x)
      -2 * x - e / 0.5 + log1p((1 - e) / 0.5) + log(2)
    }),
  sigmoid = list(make = "tfb_sigmoid()", x = normal, y = uniform(0.01, 0.99),
                 forward = plogis, inverse = qlogis,
                 fldj = function(x) {
                   plogis(x, log.p = TRUE) + plogis(-x, log.p = TRUE)
                 },
                 one = c("forward", "inverse")),
  sinh = list(make = "tfb_sinh()", x = normal, y = normal, forward = sinh,
              inverse = asinh, fldj = function(x) log(cosh(x)),
              one = c("forward", "inverse")),
  sinh_arcsinh = list(
    make = "tfb_sinh_arcsinh(skewness = 0.3, tailweight = 1.5)",
    x = normal, y = normal,
    forward = function(x) sinh((asinh(x) + 0.3) * 1.5),
    inverse = function(y) sinh(asinh(y) / 1.5 - 0.3),
    fldj = function(x) {
      log(1.5) + log(cosh((asinh(x) + 0.3) * 1.5)) - 0.5 * log1p(x * x)
    }),
  softplus = list(make = "tfb_softplus()", x = normal, y = uniform(0.01, 5),
                  forward = function(x) log1p(exp(x)),
                  inverse = function(y) log(expm1(y)),
                  fldj = function(x) plogis(x, log.p = TRUE)),
  softsign = list(make = "tfb_softsign()", x = normal,
                  y = uniform(-0.99, 0.99),
                  forward = function(x) x / (1 + abs(x)),
                  inverse = function(y) y / (1 - abs(y)),
                  fldj = function(x) -2 * log1p(abs(x))),
  square = list(make = "tfb_square()", x = uniform(0, 3), y = uniform(0, 9),
                forward = function(x) x^2, inverse = sqrt,
                fldj = function(x) log(2) + log(x),
                one = c("forward", "inverse")),
  tanh = list(make = "tfb_tanh()", x = normal, y = uniform(-0.99, 0.99),
              forward = tanh, inverse = atanh,
              fldj = function(x) log1p(-tanh(x)^2),
              one = c("forward", "inverse")),
  weibull_cdf = list(
    make = "tfb_weibull_cdf(scale = 1.5, concentration = 2)",
    x = uniform(0.01, 4), y = uniform(0.01, 0.99),
    forward = function(x) -expm1(-(x / 1.5)^2),
    inverse = function(y) 1.5 * sqrt(-log1p(-y)),
    fldj = function(x) log(2) - log(1.5) + log(x / 1.5) - (x / 1.5)^2)
)

selected <- commandArgs(trailingOnly = TRUE)
if (length(selected) > 0L) {
  kinds <- kinds[intersect(names(kinds), selected)]
}

output_bytes <- 8 * n_rows * n_features
result_bytes <- 8 * n_rows
cat(sprintf(paste("bijectors %s, R %s, input %g x %d doubles (%.0f MB),",
                  "%d to %d interleaved pairs per operation\n\n"),
            format(utils::packageVersion("bijectors")), getRversion(),
            n_rows, n_features, output_bytes / 1e6, min_pairs, max_pairs))

# Seconds taken by one call, after a full collection (not timed) so that
# the call neither frees the previous output nor inherits a pending gc.
time_call <- function(f) {
  invisible(gc(verbose = FALSE))
  start <- bench::hires_time()
  result <- f()
  elapsed <- bench::hires_time() - start
  rm(result)
  elapsed
}

# One timed pair of calls, interleaved (see the header); returns a row of
# the table.
compare <- function(kind, operation, baseline, bijector, target, bytes) {
  base_s <- bijector_s <- numeric()
  started <- bench::hires_time()
  repeat {
    k <- length(base_s) + 1L
    if (k %% 2L == 1L) {
      base_s[k] <- time_call(baseline)
      bijector_s[k] <- time_call(bijector)
    } else {
      bijector_s[k] <- time_call(bijector)
      base_s[k] <- time_call(baseline)
    }
    spent <- bench::hires_time() - started
    if (k >= max_pairs || (k >= min_pairs && spent > budget_seconds)) break
  }
  ratios <- bijector_s / base_s
  invisible(gc(verbose = FALSE))
  alloc <- as.numeric(sum(bench::bench_memory(bijector())$mem_alloc)) / bytes
  ratio <- stats::median(ratios)
  row <- data.frame(kind = kind, operation = operation, pairs = length(ratios),
                    bijector_ms = 1000 * stats::median(bijector_s),
                    base_r_ms = 1000 * stats::median(base_s),
                    ratio = ratio, ratio_min = min(ratios), target = target,
                    speed = if (ratio <= target) "met" else "NOT met",
                    memory = alloc,
                    memory_target = if (alloc <= 1.05) "met" else "NOT met")
  print(row, row.names = FALSE, digits = 3)
  row
}

rows <- list()
for (kind in names(kinds)) {
  case <- kinds[[kind]]
  constructor <- sub("\\(.*", "", case$make)
  if (!exists(constructor, envir = asNamespace("bijectors"))) {
    cat(sprintf("%s: not in this version of the package\n", constructor))
    next
  }
  b <- suppressMessages(eval(parse(text = case$make)))
  set.seed(1)
  x <- case$x()
  one <- case$one %||% character()
  target <- function(operation) if (operation %in% one) 1.1 else 1
  rows[[length(rows) + 1L]] <- compare(
    kind, "forward", function() case$forward(x), function() b$forward(x),
    target("forward"), output_bytes)
  if (!is.null(case$inverse)) {
    y <- case$y()
    rows[[length(rows) + 1L]] <- compare(
      kind, "inverse", function() case$inverse(y), function() b$inverse(y),
      target("inverse"), output_bytes)
  }
  if (!is.null(case$fldj)) {
    rows[[length(rows) + 1L]] <- compare(
      kind, "fldj, event_ndims = 1", function() rowSums(case$fldj(x)),
      function() b$forward_log_det_jacobian(x, 1), 1, result_bytes)
  }
  rm(x)
  invisible(gc())
}

table <- do.call(rbind, rows)
cat("\nSummary\n")
print(table, row.names = FALSE, digits = 3)
cat(sprintf("\nspeed targets met: %d of %d; memory targets met: %d of %d\n",
            sum(table$speed == "met"), nrow(table),
            sum(table$memory_target == "met"), nrow(table)))

cat("\nper-call overhead on a 4 x 2 matrix\n")
small <- matrix(rnorm(8), 4, 2)
exp_b <- tfb_exp()
shift_b <- tfb_shift(seq(-1, 1, length.out = 32))
timings <- bench::mark(`exp(x)` = exp(small),
                       `tfb_exp()$forward` = exp_b$forward(small),
                       `tfb_forward(tfb_exp(), x)` = tfb_forward(exp_b, small),
                       `tfb_shift()$forward` = shift_b$forward(matrix(0, 4, 32)),
                       `fldj(x, 1)` = exp_b$forward_log_det_jacobian(small, 1),
                       iterations = 2000, check = FALSE)
print(timings[, c("expression", "median", "mem_alloc")])
