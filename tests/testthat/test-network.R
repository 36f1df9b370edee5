# The networks: templates, masks, activations, initialisation under
# set.seed(), and tfb_masked_dense().

activation_names <- c("relu", "tanh", "sigmoid", "elu", "softplus", "linear")

test_that("every activation of the real NVP template matches plain R", {
  set.seed(111)
  x <- matrix(rnorm(24, sd = 2), 8, 3)
  for (act in activation_names) {
    template <- tfb_real_nvp_default_template(hidden_layers = c(5, 4),
                                              activation = act)
    b <- tfb_real_nvp(num_masked = 1, shift_and_log_scale_fn = template)
    y <- b$forward(x)
    params <- template_params(template)
    net <- function(v) ref_nvp_net(v, params, act, 2)
    expect_equal(y, ref_nvp_forward(x, 1, net)$y, tolerance = 1e-12,
                 label = act)
  }
})

test_that("every activation of the MADE template matches plain R", {
  set.seed(112)
  y <- matrix(rnorm(24, sd = 2), 8, 3)
  for (act in activation_names) {
    template <- tfb_masked_autoregressive_default_template(
      hidden_layers = c(6), activation = act)
    b <- tfb_masked_autoregressive_flow(template)
    x <- b$inverse(y)
    params <- template_params(template)
    made <- function(v) ref_made(v, params, act)
    expect_equal(x, ref_maf_inverse(y, made)$x, tolerance = 1e-12,
                 label = act)
  }
})

test_that("activation NULL is the identity", {
  set.seed(113)
  template <- tfb_real_nvp_default_template(hidden_layers = 3,
                                            activation = NULL)
  b <- tfb_real_nvp(num_masked = 1, shift_and_log_scale_fn = template)
  x <- matrix(rnorm(8), 4, 2)
  y <- b$forward(x)
  params <- template_params(template)
  net <- function(v) ref_nvp_net(v, params, "linear", 1)
  expect_equal(y, ref_nvp_forward(x, 1, net)$y, tolerance = 1e-12)
})

test_that("templates are built on first data, reproducibly under set.seed()", {
  make <- function(seed) {
    set.seed(seed)
    template <- tfb_real_nvp_default_template(hidden_layers = c(4, 4))
    expect_false(template$built)
    b <- tfb_real_nvp(num_masked = 2, shift_and_log_scale_fn = template)
    b$forward(matrix(1, 2, 5))
    expect_true(template$built)
    template_params(template)
  }
  expect_identical(make(1), make(1))
  expect_false(identical(make(1), make(2)))
  make_maf <- function(seed) {
    set.seed(seed)
    template <- tfb_masked_autoregressive_default_template(c(6, 6))
    expect_false(template$built)
    tfb_masked_autoregressive_flow(template)$inverse(matrix(1, 2, 3))
    expect_true(template$built)
    template_params(template)
  }
  expect_identical(make_maf(5), make_maf(5))
  expect_false(identical(make_maf(5), make_maf(6)))
})

test_that("template weights are copies: changing them leaves the net alone", {
  set.seed(114)
  template <- tfb_real_nvp_default_template(hidden_layers = 3)
  b <- tfb_real_nvp(num_masked = 1, shift_and_log_scale_fn = template)
  x <- matrix(rnorm(6), 3, 2)
  y <- b$forward(x)
  w <- template$weights
  w[[1]]$kernel[] <- 0
  expect_identical(b$forward(x), y)
})

test_that("glorot initialisation has the variance TFP's initialisers give", {
  set.seed(115)
  template <- tfb_real_nvp_default_template(hidden_layers = c(64, 64))
  b <- tfb_real_nvp(num_masked = 32, shift_and_log_scale_fn = template)
  b$forward(matrix(0, 1, 64))
  kernel <- template_params(template)$kernels[[2]]
  # glorot uniform: U(-a, a), a = sqrt(6 / (64 + 64)), variance a^2 / 3
  a <- sqrt(6 / 128)
  expect_true(all(abs(kernel) <= a))
  expect_equal(sd(as.vector(kernel)), a / sqrt(3), tolerance = 0.05)
  set.seed(116)
  made <- tfb_masked_autoregressive_default_template(c(64, 64))
  tfb_masked_autoregressive_flow(made)$inverse(matrix(0, 1, 2))
  kernel <- template_params(made)$kernels[[2]]
  mask <- ref_made_mask(2, 64, 64, exclusive = FALSE)
  # glorot normal: variance 2 / (fan_in + fan_out), before the mask
  expect_equal(sd(kernel[mask == 1]), sqrt(2 / 128), tolerance = 0.1)
})

test_that("a built template refuses data of another event size", {
  set.seed(117)
  template <- tfb_masked_autoregressive_default_template(c(6))
  b <- tfb_masked_autoregressive_flow(template)
  b$inverse(matrix(0, 2, 3))
  before <- template_params(template)
  expect_error(b$inverse(matrix(0, 2, 4)), class = "bijectors_error")
  expect_identical(template_params(template), before)
})

test_that("masked_dense keeps TFP's autoregressive connectivity", {
  set.seed(118)
  D <- 3
  units <- 7
  x <- matrix(rnorm(2 * D), 2, D)
  for (exclusive in c(TRUE, FALSE)) {
    kernel <- matrix(rnorm(D * units), D, units)
    given <- function(shape) {
      expect_equal(as.vector(shape), c(D, units))
      kernel
    }
    layer <- function(v) {
      tfb_masked_dense(v, units = units, num_blocks = D,
                       exclusive = exclusive, kernel_initializer = given)
    }
    mask <- ref_made_mask(D, D, units, exclusive)
    out <- layer(x)
    expect_identical(dim(out), c(2L, 7L))
    expect_equal(out, x %*% (kernel * mask), tolerance = 1e-12)
    # the Jacobian of the linear layer is the masked kernel, transposed
    jac <- numerical_jacobian_rect(function(v) layer(matrix(v, 1)), x[1, ])
    expect_equal(jac, t(kernel * mask), tolerance = 1e-8)
    relu <- tfb_masked_dense(x, units = units, num_blocks = D,
                             exclusive = exclusive, kernel_initializer = given,
                             activation = "relu")
    expect_equal(relu, pmax(x %*% (kernel * mask), 0), tolerance = 1e-12)
  }
})

test_that("masked_dense applies a given kernel matrix and bias", {
  set.seed(128)
  x <- matrix(rnorm(6), 2, 3)
  kernel <- matrix(rnorm(12), 3, 4)
  bias <- rnorm(4)
  mask <- ref_made_mask(3, 3, 4, exclusive = FALSE)
  out <- tfb_masked_dense(x, units = 4, num_blocks = 3,
                          kernel_initializer = kernel, bias = bias)
  expect_equal(out, x %*% (kernel * mask) +
                 matrix(bias, 2, 4, byrow = TRUE), tolerance = 1e-12)
  # a vector is one row, an array keeps its leading dims
  expect_equal(tfb_masked_dense(x[2, ], units = 4, num_blocks = 3,
                                kernel_initializer = kernel, bias = bias),
               out[2, ], tolerance = 1e-12)
  arr <- array(rnorm(18), c(2, 3, 3))
  out3 <- tfb_masked_dense(arr, units = 4, num_blocks = 3,
                           kernel_initializer = kernel, bias = bias)
  expect_identical(dim(out3), c(2L, 3L, 4L))
  expect_equal(out3[2, 1, ], as.vector(arr[2, 1, ] %*% (kernel * mask)) + bias,
               tolerance = 1e-12)
})

test_that("masked_dense without weights draws fresh masked weights", {
  set.seed(119)
  x <- diag(3)
  out <- tfb_masked_dense(x, units = 6, num_blocks = 3, exclusive = TRUE)
  expect_identical(dim(out), c(3L, 6L))
  # with zero biases, the rows of an identity input are the kernel's rows
  mask <- ref_made_mask(3, 3, 6, exclusive = TRUE)
  expect_true(all(out[mask == 0] == 0))
  expect_true(all(out[mask == 1] != 0))
  set.seed(119)
  expect_identical(tfb_masked_dense(x, units = 6, num_blocks = 3,
                                    exclusive = TRUE), out)
})

test_that("templates print, before and after building", {
  set.seed(120)
  nvp <- tfb_real_nvp_default_template(hidden_layers = c(16, 16),
                                       activation = "tanh")
  made <- tfb_masked_autoregressive_default_template(hidden_layers = c(8))
  expect_snapshot(print(nvp))
  expect_snapshot(print(made))
  tfb_real_nvp(2, nvp)$forward(matrix(0, 1, 4))
  tfb_masked_autoregressive_flow(made)$inverse(matrix(0, 1, 4))
  expect_snapshot(print(nvp))
  expect_snapshot(print(made))
})
