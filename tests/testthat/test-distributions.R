# tfd_normal(), tfd_multivariate_normal_diag(), tfd_transformed_distribution()
# against dnorm() and the change-of-variables formula.

# ---- normal ------------------------------------------------------------------

test_that("normal log_prob and prob are dnorm's, elementwise", {
  d <- tfd_normal(loc = 1, scale = 2)
  v <- c(-1, 0.5, 3, 10)
  expect_equal(d$log_prob(v), dnorm(v, 1, 2, log = TRUE), tolerance = 1e-14)
  expect_equal(tfd_log_prob(d, v), dnorm(v, 1, 2, log = TRUE),
               tolerance = 1e-14)
  expect_equal(d$prob(v), dnorm(v, 1, 2), tolerance = 1e-14)
  expect_equal(tfd_prob(d, v), dnorm(v, 1, 2), tolerance = 1e-14)
  m <- matrix(v, 2, 2)
  expect_equal(d$log_prob(m), dnorm(m, 1, 2, log = TRUE), tolerance = 1e-14)
  expect_identical(d$event_shape, integer())
  expect_identical(d$name, "Normal")
})

test_that("normal batch shape is the broadcast of loc and scale", {
  d <- tfd_normal(loc = c(0, 1, 2), scale = 2)
  expect_equal(d$batch_shape, 3L)
  expect_equal(d$log_prob(c(0.5, 0.5, 0.5)),
               dnorm(0.5, c(0, 1, 2), 2, log = TRUE), tolerance = 1e-14)
  expect_equal(d$log_prob(matrix(0.25, 4, 3)),
               matrix(dnorm(0.25, c(0, 1, 2), 2, log = TRUE), 4, 3,
                      byrow = TRUE), tolerance = 1e-14, ignore_attr = TRUE)
  s <- d$sample(5)
  expect_identical(dim(s), c(5L, 3L))
  s <- tfd_sample(d, c(2, 4))
  expect_identical(dim(s), c(2L, 4L, 3L))
})

test_that("normal samples have the right shapes and moments", {
  d <- tfd_normal(loc = -1.5, scale = 0.5)
  expect_length(d$sample(), 1)
  expect_null(dim(d$sample()))
  expect_length(tfd_sample(d), 1)
  expect_length(d$sample(7), 7)
  expect_identical(dim(d$sample(c(3, 2))), c(3L, 2L))
  set.seed(121)
  n <- 1e5
  s <- d$sample(n)
  expect_lt(abs(mean(s) + 1.5), 5 * 0.5 / sqrt(n))
  expect_lt(abs(sd(s) - 0.5), 5 * 0.5 / sqrt(2 * n))
  expect_length(d$sample(0), 0)
})

test_that("samples are reproducible under set.seed()", {
  d <- tfd_normal(0, 1)
  set.seed(122)
  a <- d$sample(10)
  set.seed(122)
  expect_identical(d$sample(10), a)
  set.seed(122)
  expect_identical(tfd_sample(d, 10), a)
})

# ---- multivariate normal diag ------------------------------------------------

test_that("MVN diag log_prob is the sum of dnorm over the event", {
  loc <- c(1, -2, 0.5)
  scale_diag <- c(0.5, 2, 1.5)
  d <- tfd_multivariate_normal_diag(loc = loc, scale_diag = scale_diag)
  set.seed(123)
  x <- matrix(rnorm(15), 5, 3)
  expected <- vapply(1:5, function(i) {
    sum(dnorm(x[i, ], loc, scale_diag, log = TRUE))
  }, numeric(1))
  expect_equal(d$log_prob(x), expected, tolerance = 1e-13)
  expect_equal(tfd_log_prob(d, x), expected, tolerance = 1e-13)
  expect_equal(d$prob(x), exp(expected), tolerance = 1e-13)
  expect_equal(d$log_prob(x[2, ]), expected[2], tolerance = 1e-13)
  expect_length(d$log_prob(x[2, ]), 1)
  expect_identical(d$event_shape, 3L)
  expect_identical(d$name, "MultivariateNormalDiag")
  arr <- array(rnorm(24), c(2, 4, 3))
  lp <- d$log_prob(arr)
  expect_identical(dim(lp), c(2L, 4L))
  expect_equal(lp[2, 3], sum(dnorm(arr[2, 3, ], loc, scale_diag, log = TRUE)),
               tolerance = 1e-13)
})

test_that("MVN diag defaults: loc 0, scale 1, identity multiplier", {
  d <- tfd_multivariate_normal_diag(loc = c(0, 0))
  expect_equal(d$log_prob(c(1, 2)), sum(dnorm(c(1, 2), log = TRUE)),
               tolerance = 1e-14)
  d <- tfd_multivariate_normal_diag(scale_diag = c(2, 3))
  expect_equal(d$log_prob(c(1, 2)), sum(dnorm(c(1, 2), 0, c(2, 3),
                                              log = TRUE)), tolerance = 1e-14)
  d <- tfd_multivariate_normal_diag(loc = c(1, 2),
                                    scale_identity_multiplier = 2)
  expect_equal(d$log_prob(c(0, 0)), sum(dnorm(0, c(1, 2), 2, log = TRUE)),
               tolerance = 1e-14)
  # TFP: scale = diag(scale_diag + scale_identity_multiplier)
  d <- tfd_multivariate_normal_diag(scale_diag = c(1, 2),
                                    scale_identity_multiplier = 0.5)
  expect_equal(d$log_prob(c(0.3, 0.3)),
               sum(dnorm(0.3, 0, c(1.5, 2.5), log = TRUE)), tolerance = 1e-14)
})

test_that("MVN diag samples have the right shapes and moments", {
  loc <- c(1, -2, 0.5)
  scale_diag <- c(0.5, 2, 1.5)
  d <- tfd_multivariate_normal_diag(loc = loc, scale_diag = scale_diag)
  expect_length(d$sample(), 3)
  expect_identical(dim(d$sample(4)), c(4L, 3L))
  expect_identical(dim(tfd_sample(d, c(2, 5))), c(2L, 5L, 3L))
  set.seed(124)
  n <- 1e5
  s <- d$sample(n)
  expect_true(all(abs(colMeans(s) - loc) < 5 * scale_diag / sqrt(n)))
  expect_true(all(abs(apply(s, 2, sd) - scale_diag) <
                    5 * scale_diag / sqrt(2 * n)))
  expect_true(abs(cor(s[, 1], s[, 2])) < 5 / sqrt(n))
})

# ---- transformed distribution ------------------------------------------------

test_that("log_prob of a transformed distribution is base + ILDJ", {
  base <- tfd_multivariate_normal_diag(loc = c(0.5, -1), scale_diag = c(1, 2))
  s <- c(2, -0.5)
  td <- tfd_transformed_distribution(
    base, tfb_chain(list(tfb_shift(c(3, 1)), tfb_scale(s))))
  set.seed(125)
  y <- matrix(rnorm(10), 5, 2)
  x <- sweep(sweep(y, 2, c(3, 1)), 2, s, "/")
  expected <- ref_mvn_diag_log_prob(x, c(0.5, -1), c(1, 2)) -
    sum(log(abs(s)))
  expect_equal(td$log_prob(y), expected, tolerance = 1e-13)
  expect_equal(tfd_log_prob(td, y), expected, tolerance = 1e-13)
  expect_equal(td$prob(y), exp(expected), tolerance = 1e-13)
  expect_equal(tfd_prob(td, y), exp(expected), tolerance = 1e-13)
  expect_equal(td$log_prob(y[3, ]), expected[3], tolerance = 1e-13)
  expect_identical(td$event_shape, 2L)
  # the same as the MVN diag with the transformed parameters
  direct <- tfd_multivariate_normal_diag(loc = c(3, 1) + s * c(0.5, -1),
                                         scale_diag = abs(s) * c(1, 2))
  expect_equal(td$log_prob(y), direct$log_prob(y), tolerance = 1e-13)
})

test_that("a transformed normal has an elementwise log_prob", {
  td <- tfd_transformed_distribution(tfd_normal(0, 1), tfb_scale(3))
  v <- c(-2, 0, 1.5)
  expect_equal(td$log_prob(v), dnorm(v, 0, 3, log = TRUE), tolerance = 1e-14)
  expect_length(td$sample(6), 6)
})

test_that("sample moments follow the base and the forward map", {
  loc <- c(1, -2, 0.5)
  scale_diag <- c(0.5, 2, 1.5)
  shift <- c(10, 0, -3)
  scale <- c(2, -0.25, 3)
  td <- tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = loc, scale_diag = scale_diag),
    tfb_chain(list(tfb_shift(shift), tfb_scale(scale))))
  set.seed(126)
  n <- 1e5
  s <- td$sample(n)
  expect_identical(dim(s), c(as.integer(n), 3L))
  sd_true <- abs(scale) * scale_diag
  expect_true(all(abs(colMeans(s) - (shift + scale * loc)) <
                    5 * sd_true / sqrt(n)))
  expect_true(all(abs(apply(s, 2, sd) - sd_true) < 5 * sd_true / sqrt(2 * n)))
  expect_identical(dim(tfd_sample(td, c(2, 3))), c(2L, 3L, 3L))
  expect_length(td$sample(), 3)
})

test_that("samples of a flow with MAF are forward() of base samples", {
  set.seed(127)
  D <- 3
  template <- tfb_masked_autoregressive_default_template(c(8, 8),
                                                         activation = "tanh")
  maf <- tfb_masked_autoregressive_flow(template)
  maf$inverse(matrix(0, 1, D))
  flow <- tfb_chain(list(maf, tfb_permute(c(3, 1, 2)), tfb_shift(c(1, 2, 3))))
  base <- tfd_multivariate_normal_diag(loc = c(0, 0, 0),
                                       scale_diag = c(1, 1, 1))
  td <- tfd_transformed_distribution(base, flow)
  n <- 2e4
  set.seed(128)
  s <- td$sample(n)
  set.seed(128)
  by_hand <- flow$forward(base$sample(n))
  expect_equal(s, by_hand, tolerance = 1e-12)
  # against the plain-R flow on independent base draws
  params <- template_params(template)
  made <- function(v) ref_made(v, params, "tanh")
  set.seed(129)
  z <- matrix(rnorm(n * D), n, D)
  ref <- ref_maf_forward(ref_permute_forward(sweep(z, 2, c(1, 2, 3), "+"),
                                             c(3, 1, 2)), made)
  se <- sqrt(apply(s, 2, var) / n + apply(ref, 2, var) / n)
  expect_true(all(abs(colMeans(s) - colMeans(ref)) < 5 * se))
})

# ---- flows of (MAF, batch normalization, permute) blocks ---------------------

# Five blocks of (MAF, batch normalization in evaluation mode with random
# statistics, permute), as the blog's flow, and the same flow in plain R.
five_block_flow <- function(D, seed) {
  set.seed(seed)
  blocks <- list()
  ref_steps <- list()
  for (k in 1:5) {
    template <- tfb_masked_autoregressive_default_template(
      hidden_layers = c(2 * D + 2), activation = "tanh")
    maf <- tfb_masked_autoregressive_flow(template)
    maf$inverse(matrix(0, 1, D))
    bn <- eval_batch_norm(D)
    perm <- rev(seq_len(D))
    if (D > 2) perm <- c(perm[-1], perm[1])
    blocks <- c(blocks, list(maf, bn$bijector, tfb_permute(perm)))
    ref_steps <- c(ref_steps, list(list(
      params = template_params(template), bn = bn, perm = perm)))
  }
  flow <- tfb_chain(blocks)
  # the inverse of the chain applies its list first-to-last
  ref_inverse <- function(y) {
    ildj <- rep(0, nrow(y))
    for (step in ref_steps) {
      made <- function(v) ref_made(v, step$params, "tanh")
      m <- ref_maf_inverse(y, made)
      ildj <- ildj + m$ildj
      y <- ref_bn_eval_inverse(m$x, step$bn$weights, step$bn$epsilon)
      ildj <- ildj + ref_ildj(step$bn$weights$gamma,
                              step$bn$weights$moving_variance,
                              step$bn$epsilon)
      y <- ref_permute_inverse(y, step$perm)
    }
    list(x = y, ildj = ildj)
  }
  list(flow = flow, ref_inverse = ref_inverse)
}

for (D in c(2, 5)) {
  test_that(sprintf("a chain of five (MAF, BN, permute) blocks, D = %d", D), {
    case <- five_block_flow(D, seed = 130 + D)
    loc <- seq(-1, 1, length.out = D)
    scale_diag <- seq(0.5, 2, length.out = D)
    base <- tfd_multivariate_normal_diag(loc = loc, scale_diag = scale_diag)
    td <- tfd_transformed_distribution(base, case$flow)
    set.seed(140 + D)
    y <- matrix(rnorm(8 * D), 8, D)
    lp <- td$log_prob(y)
    expect_length(lp, 8)
    # plain-R flow: MAF, batch normalization and permute references
    ref <- case$ref_inverse(y)
    expect_equal(lp, ref_mvn_diag_log_prob(ref$x, loc, scale_diag) + ref$ildj,
                 tolerance = 1e-10)
    # change of variables with a numerical Jacobian of the whole flow
    for (i in 1:2) {
      x_i <- case$flow$inverse(matrix(y[i, ], 1))
      log_det <- numerical_log_det(function(v) case$flow$inverse(v), y[i, ])
      expect_equal(lp[i], ref_mvn_diag_log_prob(x_i, loc, scale_diag) +
                     log_det, tolerance = 1e-6)
    }
    expect_bijector_checks(case$flow, y, n_events = 1)
    # sampling inverts the density direction
    set.seed(150)
    s <- td$sample(4)
    expect_equal(case$flow$inverse(s), {
      set.seed(150)
      base$sample(4)
    }, tolerance = 1e-9)
  })
}

test_that("MAF's log_prob matches the plain-R reference", {
  set.seed(151)
  D <- 4
  template <- tfb_masked_autoregressive_default_template(c(10, 10))
  td <- tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = rep(0, D)),
    tfb_masked_autoregressive_flow(template))
  y <- matrix(rnorm(40), 10, D)
  lp <- td$log_prob(y)
  params <- template_params(template)
  made <- function(v) ref_made(v, params, "relu")
  ref <- ref_maf_inverse(y, made)
  expected <- rowSums(dnorm(ref$x, log = TRUE)) + ref$ildj
  expect_equal(lp, expected, tolerance = 1e-12)
})

test_that("training-mode batch normalization updates once per log_prob call", {
  set.seed(152)
  D <- 3
  layer <- layer_batch_normalization(momentum = 0.5, epsilon = 0.01)
  bn <- tfb_batch_normalization(layer)
  maf_template <- tfb_masked_autoregressive_default_template(c(7))
  maf <- tfb_masked_autoregressive_flow(maf_template)
  td <- tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = rep(0, D)),
    tfb_chain(list(tfb_shift(c(1, 2, 3)), bn, maf)))
  y <- matrix(rnorm(30, 2, 3), 10, D)
  lp <- td$log_prob(y)
  # the batch normalization sees y - shift (the chain's inverse applies the
  # shift's inverse first); moving statistics start at 0 and 1
  z <- sweep(y, 2, c(1, 2, 3))
  moments <- ref_moments(z, -1L)
  w <- get_weights(layer)
  expect_equal(w$moving_mean, ref_update(0, moments$mean, 0.5),
               tolerance = 1e-12)
  expect_equal(w$moving_variance, ref_update(1, moments$variance, 0.5),
               tolerance = 1e-12)
  # and log_prob used the batch statistics once, as the reference
  x_bn <- ref_bn_inverse(z, -1L, rep(1, D), rep(0, D), moments$mean,
                         moments$variance, 0.01)
  made <- function(v) ref_made(v, template_params(maf_template), "relu")
  m <- ref_maf_inverse(x_bn, made)
  expected <- rowSums(dnorm(m$x, log = TRUE)) + m$ildj +
    ref_ildj(rep(1, D), moments$variance, 0.01)
  expect_equal(lp, expected, tolerance = 1e-10)
  # a second call moves the statistics once more
  td$log_prob(y)
  expect_equal(get_weights(layer)$moving_mean,
               ref_update(ref_update(0, moments$mean, 0.5), moments$mean, 0.5),
               tolerance = 1e-12)
})

test_that("sampling and evaluation-mode log_prob leave the statistics alone", {
  set.seed(153)
  layer <- layer_batch_normalization(momentum = 0.5)
  train <- tfb_batch_normalization(layer)
  train$inverse(matrix(rnorm(12, 3), 4, 3))
  state <- get_weights(layer)
  td <- tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = rep(0, 3)),
    tfb_chain(list(tfb_shift(1), train)))
  td$sample(10)
  expect_identical(get_weights(layer), state)
  td_eval <- tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = rep(0, 3)),
    tfb_batch_normalization(layer, training = FALSE))
  y <- matrix(rnorm(12), 4, 3)
  lp <- td_eval$log_prob(y)
  expect_identical(get_weights(layer), state)
  x <- ref_bn_inverse(y, -1L, state$gamma, state$beta, state$moving_mean,
                      state$moving_variance, 1e-3)
  expect_equal(lp, rowSums(dnorm(x, log = TRUE)) +
                 ref_ildj(state$gamma, state$moving_variance, 1e-3),
               tolerance = 1e-12)
})

test_that("distributions print", {
  expect_snapshot(print(tfd_normal(loc = 0, scale = 1)))
  expect_snapshot(print(tfd_normal(loc = c(0, 1), scale = 2)))
  expect_snapshot(print(tfd_multivariate_normal_diag(loc = c(1, 2, 3))))
  expect_snapshot(print(tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = c(0, 0)),
    tfb_chain(list(tfb_shift(1), tfb_scale(2))))))
})

test_that("tfd_sample(seed = ) draws after set.seed(seed) and leaves R's stream unmoved", {
  d <- tfd_normal(loc = c(0, 10), scale = c(1, 2))
  set.seed(501)
  before <- .Random.seed
  a <- tfd_sample(d, 3, seed = 42)
  expect_identical(.Random.seed, before)
  set.seed(42)
  z <- matrix(stats::rnorm(6), 3, 2)   # the sample axis varies fastest
  expect_equal(a, sweep(sweep(z, 2, c(1, 2), "*"), 2, c(0, 10), "+"),
               tolerance = 1e-15)
  expect_identical(d$sample(3, seed = 42), a)
  expect_identical(tfd_sample(d, 3, seed = 42L), a)
  expect_false(identical(tfd_sample(d, 3, seed = 43), a))
  # no generator state yet: none afterwards either
  rm(".Random.seed", envir = globalenv())
  tfd_sample(d, 2, seed = 1)
  expect_false(exists(".Random.seed", envir = globalenv(), inherits = FALSE))
  set.seed(502)
})

test_that("a bad seed is refused naming the argument, before anything is drawn", {
  d <- tfd_normal(0, 1)
  set.seed(503)
  before <- .Random.seed
  for (bad in list(1.5, NA_real_, c(1, 2), "1", Inf, 2^31)) {
    expect_error(tfd_sample(d, 2, seed = bad), "`seed` must be a single whole number",
                 class = "bijectors_error")
  }
  expect_identical(.Random.seed, before)
  expect_error(tfd_log_prob(d, 0, seed = 1), "seed")
})
