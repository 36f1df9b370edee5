# What the second hostile pass left alone, decided and fixed. Each test pins
# one defect, with values computed independently of the package (plain R,
# Rmpfr) or the exact error expected.

# A batch-normalization layer whose default gamma_constraint keeps gamma
# positive took a negative gamma by hand, and its log-det was then NaN.
test_that("a gamma that the layer keeps positive cannot be set non-positive by hand", {
  set.seed(3)
  flow <- tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = c(0, 0)),
    tfb_batch_normalization(training = FALSE))
  y <- matrix(rnorm(20), 10, 2)
  invisible(tfd_log_prob(tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = c(0, 0)),
    tfb_batch_normalization(flow$bijector$batchnorm)), y))
  log_prob_before <- tfd_log_prob(flow, y)
  p <- trainable_parameters(flow)
  w <- get_weights(flow$bijector)
  for (gamma in list(c(-1, 1), c(0, 2))) {
    bad <- p
    bad[["gamma"]] <- gamma
    expect_error(trainable_parameters(flow) <- bad,
                 "`value\\[\\[\"gamma\"\\]\\]` must hold 2 finite positive numbers",
                 class = "bijectors_error_argument")
    expect_identical(trainable_parameters(flow), p)
    bad_weights <- w
    bad_weights$gamma <- gamma
    expect_error(set_weights(flow$bijector, bad_weights),
                 "`weights\\$gamma` must be positive",
                 class = "bijectors_error_argument")
    expect_identical(get_weights(flow$bijector), w)
  }
  expect_identical(tfd_log_prob(flow, y), log_prob_before)

  # a positive gamma is taken; the log-density is the base's at
  # x = gamma (y - m) / sqrt(v + eps) + beta, plus sum(log(gamma)) -
  # sum(log(v + eps)) / 2, by hand
  good <- p
  good[["gamma"]] <- c(0.5, 2)
  trainable_parameters(flow) <- good
  m <- w$moving_mean
  v <- w$moving_variance + 1e-3
  x <- sweep(sweep(y, 2, m), 2, c(0.5, 2) / sqrt(v), `*`)
  x <- sweep(x, 2, w$beta, `+`)
  expected <- rowSums(dnorm(x, log = TRUE)) + sum(log(c(0.5, 2))) -
    0.5 * sum(log(v))
  expect_equal(tfd_log_prob(flow, y), expected, tolerance = 1e-13)

  # a layer without a constraint takes any finite gamma, as Keras does
  layer <- layer_batch_normalization()
  free <- tfb_batch_normalization(layer)
  invisible(free$inverse(y))
  loose <- get_weights(layer)
  loose$gamma <- c(-1, 1)
  set_weights(layer, loose)
  expect_identical(get_weights(layer)$gamma, c(-1, 1))
  q <- trainable_parameters(free)
  q[["gamma"]] <- c(-2, 1)
  trainable_parameters(free) <- q
  expect_identical(trainable_parameters(free)[["gamma"]], c(-2, 1))
})

# tfd_sample(d, 1e10) failed in the allocator with R's unclassed "cannot
# allocate vector of size 149 Gb".
test_that("a sample that cannot exist is refused before anything is drawn", {
  d <- tfd_multivariate_normal_diag(loc = c(0, 0))
  set.seed(1)
  seed_before <- .Random.seed
  # a dimension of an R array is an integer
  expect_error(tfd_sample(d, 1e10),
               "`sample_shape` must be whole numbers from 0 to 2147483647.*not 1e\\+10",
               class = "bijectors_error_sample_shape")
  expect_error(d$sample(c(3, 2^31)), "not 2147483648\\.",
               class = "bijectors_error_sample_shape")
  expect_error(tfd_sample_distribution(tfd_normal(0, 1), 3e9),
               "`sample_shape` must be whole numbers from 0 to 2147483647",
               class = "bijectors_error_sample_shape")
  # more values than an R vector holds: 2^26 * 2^26 * 2 * 2 = 2^54
  expect_error(tfd_sample(d, c(2^26, 2^26, 2)),
               "asks for 1.80144e\\+16 values, more than an R vector",
               class = "bijectors_error_sample_shape")
  # fractional, negative, missing and infinite sizes
  for (bad in list(1.5, -1, NA, NaN, Inf, "3")) {
    expect_error(tfd_sample(d, bad), "`sample_shape` must be",
                 class = "bijectors_error_sample_shape")
  }
  expect_identical(.Random.seed, seed_before)
  # more bytes than the machine has: 2e12 doubles are 16 TB
  skip_if_not(file.exists("/proc/meminfo"))
  expect_error(tfd_sample(d, c(1e6, 1e6)),
               "`sample_shape` asks for 2e\\+12 values \\(16 GB as doubles\\)|more than this machine's memory",
               class = "bijectors_error_sample_shape")
  expect_error(d$sample(list(1e6, 1e6)), "more than this machine's memory",
               class = "bijectors_error_sample_shape")
  expect_error(tfd_sample_parallel(d, 1e15),
               "`n` asks for 2e\\+15 values .* more than this machine's memory",
               class = "bijectors_error_sample_shape")
  expect_identical(.Random.seed, seed_before)
  # a sample that fits is drawn as before
  expect_identical(dim(tfd_sample(d, c(2, 3))), c(2L, 3L, 2L))
})

# Zero bins are TFP's degenerate spline (its testDegenerateSplines builds
# RationalQuadraticSpline([], [], 1, validate_args=True) and checks the
# identity), so they stay; a matrix with no rows (no features) was an
# unclassed "missing value where TRUE/FALSE needed" for bin_heights.
test_that("tfb_rational_quadratic_spline() refuses matrices with no rows", {
  expect_error(tfb_rational_quadratic_spline(c(1, 1), matrix(1, 0, 2), 1),
               "`bin_heights` must have at least one row.*not a 0 x 2 matrix",
               class = "bijectors_error_argument")
  expect_error(tfb_rational_quadratic_spline(matrix(1, 0, 2), c(1, 1), 1),
               "`bin_widths` must have at least one row",
               class = "bijectors_error_argument")
  expect_error(tfb_rational_quadratic_spline(c(1, 1), c(1, 1),
                                             matrix(1, 0, 1)),
               "`knot_slopes` must have at least one row",
               class = "bijectors_error_argument")
  # zero bins: the identity, as TFP's test
  b <- tfb_rational_quadratic_spline(numeric(0), numeric(0), 1)
  expect_identical(b$forward(c(-2, -1, 0.25, 3)), c(-2, -1, 0.25, 3))
})

# tfb_reshape()'s event-shape errors named `x` whatever the user passed.
test_that("tfb_reshape()'s event-shape errors name the argument the user passed", {
  b <- tfb_reshape(event_shape_out = c(2, 3), event_shape_in = 6)
  expect_error(tfb_forward_event_shape(b, 5),
               "The event shape \\[5\\] of `input_shape` does not match `event_shape_in` \\[6\\]",
               class = "bijectors_error_event_shape")
  expect_error(b$forward_event_shape(5), "of `input_shape`",
               class = "bijectors_error_event_shape")
  expect_error(tfb_inverse_event_shape(b, c(3, 3)),
               "The event shape \\[3, 3\\] of `output_shape` does not match `event_shape_out` \\[2, 3\\]",
               class = "bijectors_error_event_shape")
  # through a chain, the argument of the call
  chain <- tfb_chain(list(tfb_exp(), b))
  expect_error(chain$forward_event_shape(5), "of `input_shape`",
               class = "bijectors_error_event_shape")
  expect_error(chain$forward(matrix(0, 2, 5)), "of `x`",
               class = "bijectors_error_event_shape")
  expect_error(chain$inverse(array(0, c(2, 3, 3))), "of `y`",
               class = "bijectors_error_event_shape")
  expect_error(tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = rep(0, 5)), b), "of `distribution`",
    class = "bijectors_error_event_shape")
  # after an error, data paths name `x` again
  expect_error(b$forward(matrix(0, 2, 5)), "of `x`",
               class = "bijectors_error_event_shape")
  expect_identical(tfb_forward_event_shape(chain, 6), c(2L, 3L))
})

# tfd_independent() said "between 0 and the number of batch dimensions of
# `distribution` (0)", which read as if 0 were a limit to pass.
test_that("tfd_independent() says which batch dimensions can be reinterpreted", {
  mvn <- tfd_multivariate_normal_diag(loc = c(0, 0))
  expect_error(tfd_independent(mvn, 1), paste0(
    "`reinterpreted_batch_ndims` must be NULL or 0: `distribution` has no ",
    "batch dimensions \\(its batch shape is \\[\\]\\), so none can become ",
    "event dimensions; not 1\\."), class = "bijectors_error_argument")
  normal <- tfd_normal(loc = c(0, 1, 2), scale = 1)
  expect_identical(normal$batch_shape, 3L)
  for (bad in list(2, -1, 0.5, "1")) {
    expect_error(tfd_independent(normal, bad), paste0(
      "must be NULL or a whole number from 0 to 1, the number of batch ",
      "dimensions of `distribution` \\(its batch shape is \\[3\\]\\)"),
      class = "bijectors_error_argument")
  }
  expect_identical(tfd_independent(normal, 1)$event_shape, 3L)
})

# tfprobability's $dtype, $parameters (every kind, not just the elementwise
# ones) and forward_dtype()/inverse_dtype() were missing.
test_that("$parameters gives the constructor's arguments, as copies, for every kind", {
  b <- tfb_reshape(event_shape_out = c(2, 3))
  expect_identical(b$parameters, list(event_shape_out = c(2L, 3L),
                                      event_shape_in = -1L,
                                      validate_args = FALSE, name = "reshape"))
  # the current values of trained parameters, as the elementwise kinds
  spline <- tfb_rational_quadratic_spline(c(0.5, 1, 0.5), c(1, 0.5, 0.5),
                                          c(0.5, 2))
  p <- trainable_parameters(spline)
  p[["bin_width_logits"]] <- log(c(1, 1, 2))
  trainable_parameters(spline) <- p
  expect_equal(spline$parameters$bin_widths, c(0.5, 0.5, 1), tolerance = 1e-15)
  expect_identical(spline$parameters$range_min, -1)
  # a copy: changing it changes nothing in the bijector
  parameters <- spline$parameters
  parameters$bin_heights[1] <- 100
  expect_identical(spline$parameters$bin_heights, c(1, 0.5, 0.5))
  # members are the objects themselves (TFP's too)
  inner <- tfb_shift(2)
  chain <- tfb_chain(list(tfb_exp(), inner))
  expect_identical(chain$parameters$bijectors[[2L]], inner)
  expect_identical(tfb_invert(inner)$parameters$bijector, inner)
  # called with do.call() or bijectors::
  expect_identical(do.call(tfb_shift, list(3))$parameters,
                   list(shift = 3, validate_args = FALSE, name = "shift"))
  expect_identical(bijectors::tfb_exp()$parameters,
                   list(validate_args = FALSE, name = "exp"))
  # a kind built as a chain gives its own arguments (TFP's FillScaleTriL)
  expect_identical(names(tfb_fill_scale_tri_l()$parameters),
                   c("diag_bijector", "diag_shift", "validate_args", "name"))
  # distributions
  expect_identical(tfd_normal(loc = 1, scale = 2)$parameters,
                   list(loc = 1, scale = 2, validate_args = FALSE,
                        allow_nan_stats = TRUE, name = "Normal"))
  base <- tfd_normal(0, 1)
  flow <- tfd_transformed_distribution(base, tfb_exp())
  expect_identical(flow$parameters$distribution, base)
  expect_identical(flow$parameters$name, "expNormal")
  # a bijector saved before arguments were recorded gives its public fields
  old <- tfb_reshape(c(3, 2))
  rm("constructor_arguments", envir = old)
  expect_identical(old$parameters$event_shape_out, c(3L, 2L))
  expect_identical(old$parameters$name, "reshape")
})

test_that("$dtype, forward_dtype() and inverse_dtype() say float64", {
  expect_identical(tfb_exp()$dtype, "float64")
  expect_identical(tfd_normal(0, 1)$dtype, "float64")
  expect_identical(tfb_exp()$forward_dtype(), "float64")
  expect_identical(tfb_exp()$inverse_dtype("float64"), "float64")
  # a multipart side has one dtype per part
  expect_identical(tfb_split(3)$forward_dtype(), list("float64", "float64",
                                                      "float64"))
  expect_identical(tfb_split(3)$inverse_dtype(), "float64")
  expect_error(tfb_exp()$forward_dtype("float32"),
               "`dtype` must be NULL or \"float64\".*not \"float32\"",
               class = "bijectors_error_argument")
})
