# tfb_real_nvp() with tfb_real_nvp_default_template(), against the plain-R
# reference run with the weights the template created.

nvp_case <- function(D, num_masked, hidden = c(6, 5), activation = "tanh",
                     shift_only = FALSE, seed = 71) {
  set.seed(seed)
  template <- tfb_real_nvp_default_template(
    hidden_layers = hidden, shift_only = shift_only, activation = activation)
  b <- tfb_real_nvp(num_masked = num_masked, shift_and_log_scale_fn = template)
  x <- matrix(rnorm(6 * D), 6, D)
  y <- b$forward(x)
  units <- D - abs(num_masked)
  params <- template_params(template)
  net <- function(v) ref_nvp_net(v, params, activation, units, shift_only)
  list(b = b, template = template, x = x, y = y, net = net)
}

test_that("real NVP matches the plain-R reference (first units masked)", {
  case <- nvp_case(D = 5, num_masked = 2)
  ref <- ref_nvp_forward(case$x, 2, case$net)
  expect_equal(case$y, ref$y, tolerance = 1e-12)
  expect_identical(case$y[, 1:2], case$x[, 1:2])
  expect_equal(case$b$forward_log_det_jacobian(case$x, 1), ref$fldj,
               tolerance = 1e-12)
  inv <- ref_nvp_inverse(case$y, 2, case$net)
  expect_equal(case$b$inverse(case$y), inv$x, tolerance = 1e-12)
  expect_equal(case$b$inverse(case$y), case$x, tolerance = 1e-12)
  expect_equal(case$b$inverse_log_det_jacobian(case$y, 1), inv$ildj,
               tolerance = 1e-12)
  expect_equal(inv$ildj, -ref$fldj, tolerance = 1e-12)
  expect_identical(case$b$forward_min_event_ndims, 1L)
})

test_that("a negative num_masked masks the last units", {
  case <- nvp_case(D = 5, num_masked = -2, seed = 72)
  ref <- ref_nvp_forward(case$x, -2, case$net)
  expect_equal(case$y, ref$y, tolerance = 1e-12)
  expect_identical(case$y[, 4:5], case$x[, 4:5])
  expect_false(isTRUE(all.equal(case$y[, 1:3], case$x[, 1:3])))
  expect_equal(case$b$forward_log_det_jacobian(case$x, 1), ref$fldj,
               tolerance = 1e-12)
  expect_equal(case$b$inverse(case$y), case$x, tolerance = 1e-12)
})

test_that("the template's network has TFP's shapes and glorot-uniform init", {
  case <- nvp_case(D = 5, num_masked = 2, hidden = c(6, 5), seed = 73)
  params <- template_params(case$template)
  expect_length(params$kernels, 3)
  expect_identical(lapply(params$kernels, dim),
                   list(c(2L, 6L), c(6L, 5L), c(5L, 6L)))
  expect_identical(lengths(params$biases), c(6L, 5L, 6L))
  for (k in 1:3) {
    fan <- dim(params$kernels[[k]])
    expect_true(all(abs(params$kernels[[k]]) <= sqrt(6 / sum(fan))))
    expect_true(all(params$biases[[k]] == 0))
  }
  shift_only <- nvp_case(D = 4, num_masked = 1, hidden = 3, shift_only = TRUE)
  expect_identical(lapply(template_params(shift_only$template)$kernels, dim),
                   list(c(1L, 3L), c(3L, 3L)))
})

test_that("shift_only gives a volume-preserving map (NICE)", {
  case <- nvp_case(D = 4, num_masked = 1, hidden = 3, shift_only = TRUE,
                   activation = "relu", seed = 74)
  ref <- ref_nvp_forward(case$x, 1, case$net)
  expect_equal(case$y, ref$y, tolerance = 1e-12)
  expect_log_det_events(case$b$forward_log_det_jacobian(case$x, 1),
                        rep(0, nrow(case$x)))
  expect_log_det_events(case$b$inverse_log_det_jacobian(case$y, 1),
                        rep(0, nrow(case$x)))
  expect_equal(case$b$inverse(case$y), case$x, tolerance = 1e-12)
})

test_that("real NVP passes the round trip and numerical Jacobian checks", {
  for (d in c(1, 3, -1, -3)) {
    case <- nvp_case(D = 4, num_masked = d, seed = 75 + d)
    expect_bijector_checks(case$b, case$y, n_events = 2)
  }
})

test_that("log-dets are per event and sum over extra event dims", {
  case <- nvp_case(D = 3, num_masked = 1, seed = 81)
  set.seed(82)
  arr <- array(rnorm(2 * 4 * 3), c(2, 4, 3))
  fldj1 <- case$b$forward_log_det_jacobian(arr, 1)
  expect_identical(dim(fldj1), c(2L, 4L))
  for (i in 1:2) {
    ref <- ref_nvp_forward(arr[i, , ], 1, case$net)
    expect_equal(as.vector(fldj1[i, ]), ref$fldj, tolerance = 1e-12)
    expect_equal(case$b$forward(arr)[i, , ], ref$y, tolerance = 1e-12)
  }
  fldj2 <- case$b$forward_log_det_jacobian(arr, 2)
  expect_equal(as.vector(fldj2), rowSums(fldj1), tolerance = 1e-12)
  fldj3 <- case$b$forward_log_det_jacobian(arr, 3)
  expect_equal(fldj3, sum(fldj1), tolerance = 1e-12)
  # one event as a plain vector
  v <- arr[1, 1, ]
  expect_equal(case$b$forward(v), as.vector(ref_nvp_forward(
    matrix(v, 1), 1, case$net)$y), tolerance = 1e-12)
  expect_equal(case$b$forward_log_det_jacobian(v, 1), fldj1[1, 1],
               tolerance = 1e-12)
})

test_that("a template builds once and is reused", {
  case <- nvp_case(D = 3, num_masked = 1, seed = 83)
  before <- template_params(case$template)
  case$b$forward(matrix(rnorm(9), 3, 3))
  case$b$inverse(matrix(rnorm(9), 3, 3))
  expect_identical(template_params(case$template), before)
  expect_true(case$template$built)
})

test_that("real NVP prints", {
  set.seed(84)
  template <- tfb_real_nvp_default_template(hidden_layers = c(4, 4))
  b <- tfb_real_nvp(num_masked = 2, shift_and_log_scale_fn = template)
  expect_snapshot(print(b))
  b$forward(matrix(0, 2, 5))
  expect_snapshot(print(b))
})

test_that("real NVP with tfprobability's dense-layer arguments matches plain R", {
  set.seed(231)
  template <- tfb_real_nvp_default_template(
    hidden_layers = list(5), use_bias = TRUE,
    bias_initializer = function(shape) rnorm(shape, sd = 0.3),
    activity_regularizer = NULL)
  b <- tfb_real_nvp(num_masked = 2, shift_and_log_scale_fn = template)
  x <- matrix(rnorm(16), 4, 4)
  y <- b$forward(x)
  params <- template_params(template)
  expect_true(all(params$biases[[1]] != 0))
  net <- function(v) ref_nvp_net(v, params, "relu", 2)
  expect_equal(y, ref_nvp_forward(x, 2, net)$y, tolerance = 1e-12)
  expect_equal(b$inverse(y), x, tolerance = 1e-12)
})
