# tfb_masked_autoregressive_flow() with the MADE of
# tfb_masked_autoregressive_default_template(), against the plain-R MADE run
# with the template's weights and TFP's masks.

maf_case <- function(D, hidden = c(8, 8), activation = "tanh",
                     shift_only = FALSE, seed = 91, n = 6, ...) {
  set.seed(seed)
  template <- tfb_masked_autoregressive_default_template(
    hidden_layers = hidden, shift_only = shift_only, activation = activation,
    ...)
  b <- tfb_masked_autoregressive_flow(shift_and_log_scale_fn = template)
  y <- matrix(rnorm(n * D), n, D)
  x <- b$inverse(y)
  params <- template_params(template)
  clip <- list(...)
  made <- function(v) {
    ref_made(v, params, activation, shift_only,
             min_clip = if (is.null(clip$log_scale_min_clip)) -5 else
               clip$log_scale_min_clip,
             max_clip = if (is.null(clip$log_scale_max_clip)) 3 else
               clip$log_scale_max_clip)
  }
  list(b = b, template = template, x = x, y = y, params = params,
       made = made)
}

test_that("the MAF inverse is one MADE pass, as the plain-R reference", {
  case <- maf_case(D = 4)
  ref <- ref_maf_inverse(case$y, case$made)
  expect_equal(case$x, ref$x, tolerance = 1e-12)
  expect_equal(case$b$inverse_log_det_jacobian(case$y, 1), ref$ildj,
               tolerance = 1e-12)
  expect_identical(case$b$forward_min_event_ndims, 1L)
  expect_identical(case$b$inverse_min_event_ndims, 1L)
})

test_that("the MAF forward takes D passes and inverts the inverse", {
  case <- maf_case(D = 5, seed = 92)
  y <- case$b$forward(case$x)
  expect_equal(y, case$y, tolerance = 1e-12)
  set.seed(93)
  x <- matrix(rnorm(15), 3, 5)
  expect_equal(case$b$forward(x), ref_maf_forward(x, case$made),
               tolerance = 1e-12)
  expect_equal(case$b$forward_log_det_jacobian(x, 1),
               ref_maf_fldj(x, case$made), tolerance = 1e-12)
})

test_that("the template's weights are masked as TFP's masked_dense", {
  D <- 3
  hidden <- c(7, 6)
  case <- maf_case(D = D, hidden = hidden, seed = 94, hidden_degrees = "blocks")
  masks <- ref_made_masks(D, hidden)
  params <- case$params
  expect_length(params$kernels, 3)
  expect_identical(lapply(params$kernels, dim),
                   list(c(3L, 7L), c(7L, 6L), c(6L, 6L)))
  expect_identical(lengths(params$biases), c(7L, 6L, 6L))
  expect_equal(template_masks(case$template), masks)
  for (k in 1:3) {
    expect_true(all(params$kernels[[k]][masks[[k]] == 0] == 0))
    expect_true(all(params$kernels[[k]][masks[[k]] == 1] != 0))
    expect_true(all(params$biases[[k]] == 0))
  }
  # the mask rule itself, worked out by hand for D = 3 and 7 hidden units:
  # d_out = 2, exclusive: input i feeds hidden units from 2 * i + 1 on
  expect_equal(masks[[1]], rbind(c(0, 0, 1, 1, 1, 1, 1),
                                 c(0, 0, 0, 0, 1, 1, 1),
                                 c(0, 0, 0, 0, 0, 0, 1)))
  # output layer (inclusive, 2 units per block, d_in = 2): shift_i and
  # log_scale_i (columns 2i - 1, 2i) see hidden blocks before i only
  expect_equal(masks[[3]][, 1:2], matrix(c(1, 1, 0, 0, 0, 0), 6, 2))
})

test_that("the MADE is autoregressive: the inverse Jacobian is triangular", {
  case <- maf_case(D = 4, seed = 95)
  jac <- numerical_jacobian(function(v) case$b$inverse(matrix(v, 1)),
                            case$y[1, ])
  expect_true(all(abs(jac[upper.tri(jac)]) < 1e-9))
  # the diagonal is exp(-log_scale)
  p <- case$made(case$y[1, , drop = FALSE])
  expect_equal(diag(jac), as.vector(exp(-p$log_scale)), tolerance = 1e-6)
  # the first shift and log-scale do not depend on the data: they are the
  # output layer's first two biases
  q <- case$made(case$y[2, , drop = FALSE])
  bias <- case$params$biases[[3]]
  expect_equal(c(p$shift[1, 1], p$log_scale[1, 1]), bias[1:2], tolerance = 0)
  expect_equal(c(q$shift[1, 1], q$log_scale[1, 1]), bias[1:2], tolerance = 0)
})

test_that("MAF passes the round trip and numerical Jacobian checks", {
  for (D in c(2, 5)) {
    case <- maf_case(D = D, seed = 96 + D)
    expect_bijector_checks(case$b, case$y, n_events = 3)
  }
  relu <- maf_case(D = 3, activation = "relu", seed = 98)
  expect_bijector_checks(relu$b, relu$y, n_events = 2)
})

test_that("log_scale is clipped to [log_scale_min_clip, log_scale_max_clip]", {
  case <- maf_case(D = 3, hidden = c(6), activation = "linear", seed = 99,
                   log_scale_min_clip = -0.01, log_scale_max_clip = 0.02)
  set.seed(100)
  y <- matrix(rnorm(30, sd = 20), 10, 3)
  p <- case$made(y)
  expect_true(all(p$log_scale >= -0.01 & p$log_scale <= 0.02))
  expect_true(any(p$log_scale == 0.02) || any(p$log_scale == -0.01))
  ref <- ref_maf_inverse(y, case$made)
  expect_equal(case$b$inverse(y), ref$x, tolerance = 1e-12)
  expect_equal(case$b$inverse_log_det_jacobian(y, 1), ref$ildj,
               tolerance = 1e-12)
})

test_that("shift_only gives a volume-preserving MAF", {
  case <- maf_case(D = 3, hidden = c(6), shift_only = TRUE, seed = 101)
  expect_identical(lapply(case$params$kernels, dim),
                   list(c(3L, 6L), c(6L, 3L)))
  ref <- ref_maf_inverse(case$y, case$made)
  expect_equal(case$x, ref$x, tolerance = 1e-12)
  expect_log_det_events(case$b$inverse_log_det_jacobian(case$y, 1),
                        rep(0, nrow(case$y)))
  expect_equal(case$b$forward(case$x), case$y, tolerance = 1e-12)
})

test_that("MAF log-dets are per event and sum over extra event dims", {
  case <- maf_case(D = 3, seed = 102)
  set.seed(103)
  arr <- array(rnorm(2 * 5 * 3), c(2, 5, 3))
  ildj1 <- case$b$inverse_log_det_jacobian(arr, 1)
  expect_identical(dim(ildj1), c(2L, 5L))
  for (i in 1:2) {
    ref <- ref_maf_inverse(arr[i, , ], case$made)
    expect_equal(as.vector(ildj1[i, ]), ref$ildj, tolerance = 1e-12)
    expect_equal(case$b$inverse(arr)[i, , ], ref$x, tolerance = 1e-12)
  }
  expect_equal(as.vector(case$b$inverse_log_det_jacobian(arr, 2)),
               rowSums(ildj1), tolerance = 1e-12)
  v <- arr[2, 3, ]
  expect_equal(case$b$inverse(v),
               as.vector(ref_maf_inverse(matrix(v, 1), case$made)$x),
               tolerance = 1e-12)
  expect_equal(case$b$inverse_log_det_jacobian(v, 1), ildj1[2, 3],
               tolerance = 1e-12)
})

test_that("the forward direction builds the same network under the same seed", {
  build <- function(direction) {
    set.seed(105)
    template <- tfb_masked_autoregressive_default_template(c(6, 6))
    b <- tfb_masked_autoregressive_flow(template)
    x <- matrix(c(0.1, -0.4, 0.7, 1.2, 0.3, -2), 2, 3)
    if (direction == "forward") b$forward(x) else b$inverse(x)
    template_params(template)
  }
  expect_identical(build("forward"), build("inverse"))
  set.seed(106)
  template <- tfb_masked_autoregressive_default_template(c(6, 6))
  b <- tfb_masked_autoregressive_flow(template)
  x <- matrix(rnorm(9), 3, 3)
  fldj <- b$forward_log_det_jacobian(x, 1)
  made <- function(v) ref_made(v, template_params(template), "relu")
  expect_equal(fldj, ref_maf_fldj(x, made), tolerance = 1e-12)
})

test_that("MAF prints", {
  set.seed(104)
  template <- tfb_masked_autoregressive_default_template(
    hidden_layers = c(8, 8), activation = "tanh")
  b <- tfb_masked_autoregressive_flow(template)
  expect_snapshot(print(b))
  b$inverse(matrix(0, 2, 3))
  expect_snapshot(print(b))
})

test_that("a MAF whose template has tfprobability's dense-layer arguments is still a bijection", {
  set.seed(230)
  template <- tfb_masked_autoregressive_default_template(
    hidden_layers = list(6, 6), activation = "tanh", use_bias = FALSE,
    kernel_initializer = "glorot_uniform", kernel_regularizer = NULL)
  b <- tfb_masked_autoregressive_flow(template)
  y <- matrix(rnorm(12), 4, 3)
  x <- b$inverse(y)
  made <- function(v) ref_made(v, template_params(template), "tanh")
  expect_equal(x, ref_maf_inverse(y, made)$x, tolerance = 1e-12)
  expect_equal(b$forward(x), y, tolerance = 1e-10)
  expect_bijector_checks(b, y)
})
