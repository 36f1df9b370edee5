# tfb_inline(): bijectors from R functions, TFP's Inline semantics (the
# unreduced log-dets, the fallbacks between directions, the min event ndims
# rule), and its refusal of gradients.

inline_exp <- function(...) {
  tfb_inline(forward_fn = exp, inverse_fn = log,
             inverse_log_det_jacobian_fn = function(y) -log(y),
             forward_min_event_ndims = 0, ...)
}

test_that("TFP's test: Exp as Inline", {
  b <- inline_exp()
  expect_identical(b$forward_min_event_ndims, 0L)
  expect_identical(b$inverse_min_event_ndims, 0L)
  expect_false(b$is_constant_jacobian)
  # x = [[[1, 2], [3, 4], [5, 6]]], shape [1, 3, 2]
  x <- aperm(array(c(1, 2, 3, 4, 5, 6), c(2, 3, 1)), c(3, 2, 1))
  y <- b$forward(x)
  expect_identical(y, exp(x))
  expect_equal(b$inverse(y), x, tolerance = 1e-15)
  expect_equal(b$inverse_log_det_jacobian(y, event_ndims = 1),
               matrix(c(-3, -7, -11), 1), tolerance = 1e-14)
  # the forward log-det falls back to -ildj(forward(x))
  expect_equal(b$forward_log_det_jacobian(x, event_ndims = 1),
               matrix(c(3, 7, 11), 1), tolerance = 1e-14)
  expect_equal(b$forward_log_det_jacobian(x, event_ndims = 3), 21,
               tolerance = 1e-14)
  expect_equal(b$forward_log_det_jacobian(x, event_ndims = 0), x,
               tolerance = 1e-14)
})

test_that("TFP's test: a shape-only Inline", {
  b <- tfb_inline(forward_event_shape_fn = function(shape) c(shape, 1L),
                  inverse_event_shape_fn = function(shape) {
                    shape[-length(shape)]
                  },
                  forward_min_event_ndims = 0)
  expect_identical(b$forward_event_shape(c(1, 2, 3)), c(1L, 2L, 3L, 1L))
  expect_identical(b$inverse_event_shape(c(1, 2, 3, 1)), c(1L, 2L, 3L))
  # the tensor variants stand in for the static ones
  b <- tfb_inline(forward_event_shape_tensor_fn = function(shape) c(shape, 1L),
                  forward_min_event_ndims = 0)
  expect_identical(b$forward_event_shape(c(1, 2, 3)), c(1L, 2L, 3L, 1L))
  expect_identical(b$inverse_event_shape(c(1, 2, 3)), c(1L, 2L, 3L))
  expect_error(b$forward(1), "forward_fn", class = "bijectors_error_unsupported")
})

test_that("min event ndims: TFP's unspecified rule", {
  expect_error(tfb_inline(forward_fn = exp), "at least one",
               class = "bijectors_error_argument")
  b <- tfb_inline(forward_fn = identity, inverse_min_event_ndims = 2)
  expect_identical(b$forward_min_event_ndims, 2L)
  expect_identical(b$inverse_min_event_ndims, 2L)
  b <- tfb_inline(forward_fn = identity, forward_min_event_ndims = 1,
                  inverse_min_event_ndims = 2)
  expect_identical(c(b$forward_min_event_ndims, b$inverse_min_event_ndims),
                   c(1L, 2L))
  expect_error(tfb_inline(forward_min_event_ndims = -1),
               class = "bijectors_error_argument")
  expect_error(tfb_inline(forward_min_event_ndims = 1.5),
               class = "bijectors_error_argument")
})

test_that("argument errors and missing functions", {
  expect_error(tfb_inline(forward_fn = "exp", forward_min_event_ndims = 0),
               "`forward_fn` is not a callable function",
               class = "bijectors_error_argument")
  expect_error(tfb_inline(inverse_event_shape_tensor_fn = 1,
                          forward_min_event_ndims = 0),
               class = "bijectors_error_argument")
  expect_error(tfb_inline(is_constant_jacobian = NA,
                          forward_min_event_ndims = 0),
               class = "bijectors_error_argument")
  expect_error(tfb_inline(name = NULL, forward_min_event_ndims = 0),
               class = "bijectors_error_argument")
  b <- tfb_inline(forward_fn = exp, forward_min_event_ndims = 0)
  expect_error(b$inverse(1), "`inverse_fn`",
               class = "bijectors_error_unsupported")
  expect_error(b$forward_log_det_jacobian(1, 0), "neither",
               class = "bijectors_error_unsupported")
  # the ildj fallback needs inverse_fn
  b <- tfb_inline(forward_fn = exp,
                  forward_log_det_jacobian_fn = function(x) x,
                  forward_min_event_ndims = 0)
  expect_equal(b$forward_log_det_jacobian(c(1, 2), 1), 3)
  expect_error(b$inverse_log_det_jacobian(c(1, 2), 1), "`inverse_fn`",
               class = "bijectors_error_unsupported")
  # errors and bad values of user functions are classed and named
  b <- tfb_inline(forward_fn = function(x) stop("no"),
                  inverse_fn = function(y) "a",
                  forward_log_det_jacobian_fn = function(x) c(1, 2, 3),
                  forward_min_event_ndims = 1)
  expect_error(b$forward(1:2), "`forward_fn` failed: no",
               class = "bijectors_error_inline")
  expect_error(b$inverse(1:2), "must return numbers",
               class = "bijectors_error_inline")
  expect_error(b$forward_log_det_jacobian(matrix(0, 2, 2), 1),
               "one log-det per element", class = "bijectors_error_inline")
  expect_error(b$forward_log_det_jacobian(matrix(0, 2, 2), 3),
               class = "bijectors_error_event_ndims")
  expect_error(b$forward("a"), class = "bijectors_error_input")
})

test_that("log-dets against numerical Jacobians for sizes 2 to 6", {
  set.seed(1)
  for (size in 2:6) {
    a <- matrix(rnorm(size^2), size) + diag(size) * 3
    b <- tfb_inline(forward_fn = function(x) tanh(x) %*% t(a),
                    inverse_fn = function(y) atanh(y %*% t(solve(a))),
                    forward_log_det_jacobian_fn = function(x) {
                      log(abs(det(a))) + rowSums(log1p(-tanh(x)^2))
                    },
                    forward_min_event_ndims = 1)
    x <- matrix(rnorm(3 * size, sd = 0.5), 3)
    fldj <- b$forward_log_det_jacobian(x, 1)
    for (n in 1:3) {
      jacobian <- ref_jacobian(function(v) b$forward(matrix(v, 1)), x[n, ])
      expect_equal(fldj[[n]], ref_log_abs_det(jacobian), tolerance = 1e-7)
    }
    y <- b$forward(x)
    expect_equal(b$inverse(y), x, tolerance = 1e-10)
    # the inverse log-det is the fallback -fldj(inverse(y))
    expect_equal(b$inverse_log_det_jacobian(y, 1), -fldj, tolerance = 1e-10)
    expect_equal(b$inverse_log_det_jacobian(y, 2), -sum(fldj),
                 tolerance = 1e-10)
  }
})

test_that("a dimension-changing Inline: log-dets through the free coordinates", {
  # x in R^(K-1) to c(x, -sum(x)): the free coordinates are the first K - 1,
  # where the map is the identity, so the log-det is 0 in both directions
  b <- tfb_inline(forward_fn = function(x) cbind(x, -rowSums(x)),
                  inverse_fn = function(y) y[, -ncol(y), drop = FALSE],
                  forward_log_det_jacobian_fn = function(x) 0,
                  forward_event_shape_fn = function(s) s + 1L,
                  inverse_event_shape_fn = function(s) s - 1L,
                  forward_min_event_ndims = 1, is_constant_jacobian = TRUE)
  x <- matrix(rnorm(6), 2)
  y <- b$forward(x)
  expect_equal(rowSums(y), c(0, 0), tolerance = 1e-15)
  expect_identical(b$forward_event_shape(3), 4L)
  expect_identical(b$inverse(y), x)
  jacobian <- ref_jacobian(function(v) b$forward(matrix(v, 1))[1:3], x[1, ])
  expect_equal(ref_log_abs_det(jacobian), 0, tolerance = 1e-8)
  expect_identical(b$inverse_log_det_jacobian(y, 1), 0)
  expect_identical(b$inverse_log_det_jacobian(y, 2), 0)
})

test_that("inside a chain and a transformed distribution; no gradients", {
  b <- inline_exp(name = "inline_exp")
  chain <- tfb_chain(list(tfb_shift(c(1, 2)), b, tfb_scale(c(0.5, 2))))
  x <- matrix(c(0.1, -0.3, 0.4, 0.2, 1, -1), 3)
  expect_equal(chain$forward(x), exp(x * rep(c(0.5, 2), each = 3)) +
                 rep(c(1, 2), each = 3), tolerance = 1e-15)
  expect_equal(chain$forward_log_det_jacobian(x, 1),
               rowSums(x * rep(c(0.5, 2), each = 3)) + log(0.5 * 2),
               tolerance = 1e-14)
  base <- tfd_multivariate_normal_diag(loc = c(0.2, -0.1),
                                       scale_diag = c(1, 1.5))
  flow <- tfd_transformed_distribution(base, chain)
  y <- chain$forward(x)
  by_hand <- vapply(1:3, function(n) {
    z <- log(y[n, ] - c(1, 2))
    u <- z / c(0.5, 2)
    sum(dnorm(u, c(0.2, -0.1), c(1, 1.5), log = TRUE)) - sum(z) - log(1)
  }, numeric(1))
  expect_equal(flow$log_prob(y), by_hand, tolerance = 1e-12)
  set.seed(2)
  expect_identical(dim(flow$sample(5)), c(5L, 2L))
  expect_identical(dim(flow$sample(c(2, 4))), c(2L, 4L, 2L))
  # not trainable: a clear error
  expect_error(loss_and_gradient(flow, y), "not trainable",
               class = "bijectors_error_unsupported")
  expect_error(fit(flow, y, epochs = 1, verbose = FALSE),
               class = "bijectors_error")
  expect_length(trainable_parameters(b), 0L)
})

test_that("saving keeps the functions", {
  offset <- 3
  b <- tfb_inline(forward_fn = function(x) x + offset,
                  inverse_fn = function(y) y - offset,
                  forward_log_det_jacobian_fn = function(x) 0,
                  forward_min_event_ndims = 0)
  path <- tempfile(fileext = ".rds")
  saveRDS(b, path)
  copy <- readRDS(path)
  expect_identical(copy$forward(1:3), c(4, 5, 6))
  expect_identical(copy$inverse_log_det_jacobian(1:3, 1), 0)
  expect_snapshot(print(b))
})
