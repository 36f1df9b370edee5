# The kinds whose maps and log-dets run a block at a time (src/elementwise.h,
# ELEMENTWISE_KIND_WITH) keep their scalar functions for the backward passes
# and the derived log-dets, and both must give the same doubles. Operations
# 4 to 7 of C_elementwise_map() run the scalar functions element by
# element; each is compared bit for bit with the blockwise run (0 to 3, at
# event_ndims = 0), and the reduced log-dets with the same sums taken in R
# in the kernel's order.

# Inputs mixed so that each block of 256 holds every branch of a kind: the
# special points in random positions among a spread of ordinary values.
mixed_inputs <- function(special, ordinary, n = 1200L) {
  set.seed(10)
  values <- c(special, ordinary(n - length(special)))
  sample(values)
}

block_cases <- function() {
  unit <- function(n) runif(n)
  near_ends <- c(0, 1, 5e-324, 1e-300, 1e-20, 1e-8, 0.5, 1 - 1e-16,
                 1 - 2^-53, 1 - 1e-10, 0.999, NaN)
  list(
    gumbel_cdf = list(
      bijector = tfb_gumbel_cdf(loc = c(0.5, -3), scale = c(2, 0.3)),
      x = mixed_inputs(c(-750, -700, -300, -40, 40, 300, 700, 750, 0, -0,
                         Inf, -Inf, NaN),
                       function(n) rnorm(n, sd = 5)),
      # next to 1/e the inverse takes its second form
      y = mixed_inputs(c(near_ends, exp(-1), exp(-1.25), exp(-0.75),
                         0.2865, 0.4724),
                       function(n) c(runif(n %/% 2, 0.25, 0.5), runif(n - n %/% 2)))),
    kumaraswamy_cdf = list(
      bijector = tfb_kumaraswamy_cdf(concentration1 = c(1.7, 0.3, 1),
                                     concentration0 = c(2.5, 0.6, 1)),
      # x^a next to 1/2 switches between the two forms of log(1 - x^a)
      x = mixed_inputs(c(near_ends, 0.5^(1 / 1.7), 0.5^(1 / 0.3), 0.6648,
                         -0.5, 1.5), unit),
      y = mixed_inputs(c(near_ends, -0.5, 1.5), unit)),
    softplus = list(
      bijector = tfb_softplus(hinge_softness = c(1, 0.7, 3), low = c(0, -0.5, 2)),
      x = mixed_inputs(c(-750, -700, -40, -34, 34, 35, 40, 700, 750, 0,
                         Inf, -Inf, NaN),
                       function(n) rnorm(n, sd = 20)),
      # v = (y - low) / c below 1.6e-15, in [0, 1), [1, 34] and above 34,
      # and next to log 2 ([0.35, 1) for each column's c and low)
      y = mixed_inputs(c(1e-300, 1e-16, 1e-15, 2.0000000000000001, 2 + 1e-15,
                         0.99, 1, 2.7, 3, 34, 34.05, 100, 103, 1e300, Inf,
                         NaN, log(2), 0.35, 0.7 * log(2) - 0.5,
                         3 * log(2) + 2, 3 * 0.35 + 2, 0.7 * 0.35 - 0.5),
                       function(n) c(runif(n %/% 2, 0, 4), runif(n - n %/% 2, 0, 120)))),
    gompertz_cdf = list(
      # with concentration 1e-5, expm1(r x) overflows before c expm1(r x)
      bijector = tfb_gompertz_cdf(concentration = c(0.5, 1e-5, 3),
                                  rate = c(1.5, 1.5, 0.01)),
      x = mixed_inputs(c(0, 1e-300, 1e-20, 470, 473.5, 475, 478, 480, 500,
                         1e5, Inf, NaN),
                       function(n) c(runif(n %/% 2, 0, 3), rexp(n - n %/% 2) * 50)),
      y = mixed_inputs(near_ends, unit)),
    shifted_gompertz_cdf = list(
      bijector = tfb_shifted_gompertz_cdf(concentration = c(0.5, 0.01, 4),
                                          rate = c(1, 3, 0.2)),
      x = mixed_inputs(c(0, 1e-300, 5e-324, 1e-20, 30, 700, 750, 1e300, Inf,
                         NaN),
                       function(n) rexp(n) * 3),
      y = mixed_inputs(near_ends, unit)),
    expm1 = list(
      # vector_math's hot range (|x| <= 708) and its fix-ups beyond, -1 and
      # below for log1p
      bijector = tfb_expm1(),
      x = mixed_inputs(c(0, -0, 5e-324, 1e-300, -1e-300, 708, -708, 709.5,
                         710, -746, -800, Inf, -Inf, NaN, NA),
                       function(n) rnorm(n, sd = 10)),
      y = mixed_inputs(c(-1, -1 + 2^-53, -2, 0, -0, 5e-324, 1e-300, 1e300,
                         .Machine$double.xmax, Inf, -Inf, NaN, NA),
                       function(n) c(runif(n %/% 2, -1, 3), exp(runif(n - n %/% 2, -700, 700))))),
    sinh_arcsinh = list(
      # the FLDJ's vector form up to |x| = 2^26 (|u| on both sides of 1)
      # and the general one beyond; the forward map and the ILDJ stay
      # scalar
      bijector = tfb_sinh_arcsinh(skewness = c(0.3, 0, -1),
                                  tailweight = c(1.5, 1, 7)),
      x = mixed_inputs(c(0, -0, 5e-324, 1e-300, 2^26, -2^26, 2^26 + 16,
                         -2^26 - 16, sinh(1 / 1.5 - 0.3), sinh(-1 / 1.5 - 0.3),
                         1e300, -1e300, Inf, -Inf, NaN, NA),
                       function(n) c(rnorm(n %/% 2, sd = 3), rnorm(n - n %/% 2, sd = 1e6))),
      # the inverse's Taylor branch, its power branch (E = 2|v| above |v|
      # = 1e8) and the general path beyond |v| = 1e300
      y = mixed_inputs(c(0, -0, 1e-300, 1e8, -1e8, 3e8, -1e12, 1e300,
                         -1e300, 1.7e308, Inf, -Inf, NaN, NA),
                       function(n) c(rnorm(n %/% 2, sd = 3), rnorm(n - n %/% 2, sd = 1e6)))),
    normal_cdf = list(
      # the inverse's central rational (|y - 1/2| <= 0.425), its tails from
      # DBL_MIN up, below DBL_MIN (qnorm and a Newton step in logs), and the
      # edges and outside; the forward map and its log-det stay scalar
      bijector = tfb_normal_cdf(),
      x = mixed_inputs(c(0, -40, 40, Inf, -Inf, NaN), rnorm),
      y = mixed_inputs(c(near_ends, 0.075, 0.925, 0.075 - 2^-56,
                         0.925 + 2^-53, 0.5 - 2^-54, 0.5 + 2^-53,
                         .Machine$double.xmin, 2 * .Machine$double.xmin,
                         1e-310, 5e-324, -0.5, 1.5, -Inf, Inf, NA),
                       function(n) c(runif(n %/% 2), 10^-runif(n - n %/% 2, 0, 300)))),
    power_transform = list(
      # power is one number: three cases. 1 + c x next to 0 (x at and just
      # past -1/c), results overflowing and underflowing; c x overflowing
      # (power 2, x = 1e308); power 0 (exp)
      bijector = tfb_power_transform(power = 0.3),
      x = mixed_inputs(c(-1 / 0.3, -10 / 3, -3.3333333333333339, -3.3, -4,
                         -1e-300, 0, 1e-20, 700, 1e100, 1e300, 1e308, Inf,
                         -Inf, NaN, NA),
                       function(n) c(runif(n %/% 2, -3.4, 3), rexp(n - n %/% 2) * 50)),
      y = mixed_inputs(c(near_ends, 1 + 1e-12, 2, 1e300, Inf, -1, -Inf,
                         NA), function(n) c(runif(n %/% 2, 0, 3), rexp(n - n %/% 2) * 100))),
    power_transform_2 = list(
      bijector = tfb_power_transform(power = 2),
      x = mixed_inputs(c(-0.5, -0.50000000000000011, -0.6, 1e154, 1e300,
                         1e308, .Machine$double.xmax, Inf, NaN),
                       function(n) c(runif(n %/% 2, -0.6, 3), exp(runif(n - n %/% 2, 0, 700)))),
      y = mixed_inputs(c(near_ends, 1e300, Inf),
                       function(n) exp(runif(n, -700, 700)))),
    power_transform_0 = list(
      bijector = tfb_power_transform(power = 0),
      x = mixed_inputs(c(-750, 700, 750, Inf, -Inf, NaN), function(n) rnorm(n, sd = 50)),
      y = mixed_inputs(c(near_ends, Inf), unit)),
    rayleigh_cdf = list(
      # z = (x / scale)^2 / 2 on both sides of log 2, and scales whose
      # products cannot be split
      bijector = tfb_rayleigh_cdf(scale = c(1.5, 0.2, 1e301)),
      x = mixed_inputs(c(0, 1e-300, 5e-324, 1e-20, 1.5 * sqrt(2 * log(2)),
                         0.2 * sqrt(2 * log(2)), 30, 1e300, Inf, NaN),
                       function(n) c(rexp(n %/% 2), runif(n - n %/% 2, 0, 0.4))),
      y = mixed_inputs(near_ends, unit)),
    sigmoid = list(
      # y on both sides of 1/2 and 1/4, and below 2^-1000, where the inverse
      # takes log(y) - log1p(-y)
      bijector = tfb_sigmoid(),
      x = mixed_inputs(c(0, -40, 40, 800, -800, Inf, -Inf, NaN),
                       function(n) rnorm(n, sd = 5)),
      y = mixed_inputs(c(near_ends, -0, 0.25, 0.5 - 2^-54, 0.5 + 2^-53,
                         2^-1000, 2^-1001, -0.5, 1.5, Inf, NA),
                       unit)),
    sinh = list(
      # the forward map's expm1 form and C99's sinh beyond |x| = 709
      bijector = tfb_sinh(),
      x = mixed_inputs(c(0, -0, 5e-324, 1e-300, -1e-8, 709, -709,
                         709.0000000000001, 710, -710.4, 711, Inf, -Inf,
                         NaN, NA),
                       function(n) rnorm(n, sd = 5)),
      # the inverse's log1p form up to |y| = 2^26, log(2 |y|) beyond
      y = mixed_inputs(c(0, -0, 5e-324, 1e-300, 2^26, -2^26, 2^26 + 16,
                         1e300, -1e300, 1.7e308, Inf, -Inf, NaN, NA),
                       function(n) c(rnorm(n %/% 2, sd = 100),
                                     rnorm(n - n %/% 2, sd = 1e8)))),
    tanh = list(
      bijector = tfb_tanh(),
      x = mixed_inputs(c(0, -0, 5e-324, 1e-300, 1e-8, 0.5, -0.5, 20, -20,
                         710, -710, Inf, -Inf, NaN),
                       function(n) rnorm(n, sd = 3)),
      y = mixed_inputs(c(0, 1e-300, -1e-300, 0.5, -0.5, 1 - 1e-16,
                         -1 + 1e-16, 1, -1, NaN),
                       function(n) runif(n, -1, 1))),
    weibull_cdf = list(
      bijector = tfb_weibull_cdf(scale = c(1.5, 0.2, 3),
                                 concentration = c(2, 0.7, 3.5)),
      x = mixed_inputs(c(0, 1e-300, 5e-324, 1e-20, 30, 1e3, 1e300, Inf,
                         NaN),
                       function(n) rexp(n) * 2),
      y = mixed_inputs(near_ends, unit))
  )
}

scalar_and_block <- function(b, input, operation) {
  kernel <- .subset2(b, "kernel")
  parameters <- .subset2(b, "parameters")
  list(block = .Call(bijectors:::C_elementwise_map, kernel, operation, input,
                     parameters, 0L),
       scalar = .Call(bijectors:::C_elementwise_map, kernel, operation + 4L,
                      input, parameters, 0L))
}

test_that("each kind's blockwise runs give its scalar functions' values", {
  for (kind in names(block_cases())) {
    case <- block_cases()[[kind]]
    b <- case$bijector
    parameters <- .subset2(b, "parameters")
    columns <- if (length(parameters)) length(parameters[[1]]) else 1L
    x <- matrix(case$x, ncol = columns)
    y <- matrix(case$y, ncol = columns)
    checks <- list(forward = list(x, 0L), inverse = list(y, 1L),
                   fldj = list(x, 2L), ildj = list(y, 3L))
    for (what in names(checks)) {
      r <- scalar_and_block(b, checks[[what]][[1]], checks[[what]][[2]])
      expect_identical(r$block, r$scalar, label = paste(kind, what))
      # the inputs reach more than one branch: some finite results
      expect_true(sum(is.finite(r$scalar)) > 100,
                  label = paste(kind, what, "finite results"))
    }
  }
})

test_that("the reduced log-dets add the scalar values in the kernel's order", {
  # event_ndims = 1 on a matrix: each row's sum, column by column from 0
  # (one run per column); event_ndims = 1 on a vector (scalar parameters):
  # four sums over the indices mod 4, then (s0 + s1) + (s2 + s3).
  in_order <- function(v) Reduce(`+`, v, 0)
  four_sums <- function(v) {
    s <- vapply(1:4, function(k) in_order(v[seq(k, length(v), by = 4)]), 0)
    (s[1] + s[2]) + (s[3] + s[4])
  }
  for (kind in names(block_cases())) {
    case <- block_cases()[[kind]]
    b <- case$bijector
    parameters <- .subset2(b, "parameters")
    columns <- if (length(parameters)) length(parameters[[1]]) else 1L
    for (direction in c("forward", "inverse")) {
      input <- matrix(if (direction == "forward") case$x else case$y,
                      ncol = columns)
      input[!is.finite(input)] <- 0.5   # finite sums to compare
      operation <- if (direction == "forward") 2L else 3L
      elementwise <- scalar_and_block(b, input, operation)$scalar
      reduced <- .Call(bijectors:::C_elementwise_map, .subset2(b, "kernel"),
                       operation, input, .subset2(b, "parameters"), 1L)
      by_row <- in_order(lapply(seq_len(columns), function(j) elementwise[, j]))
      expect_identical(reduced, by_row, label = paste(kind, direction, "rows"))
      # the first column's parameters alone, on a vector
      first <- lapply(.subset2(b, "parameters"), function(p) p[1])
      v <- input[, 1]
      v <- v[seq_len(length(v) - length(v) %% 4)]
      scalar_values <- .Call(bijectors:::C_elementwise_map,
                             .subset2(b, "kernel"), operation + 4L, v, first,
                             0L)
      total <- .Call(bijectors:::C_elementwise_map, .subset2(b, "kernel"),
                     operation, v, first, 1L)
      expect_identical(total, four_sums(scalar_values),
                       label = paste(kind, direction, "total"))
    }
  }
})
