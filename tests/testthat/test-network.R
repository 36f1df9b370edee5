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
  made <- tfb_masked_autoregressive_default_template(c(64, 64),
                                                     hidden_degrees = "blocks")
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

# ---- tfprobability's dense-layer arguments in tfb_masked_dense() -----------

test_that("masked_dense with activation, initializers and bias matches plain R", {
  x <- matrix(c(0.5, -1, 2, 1.5, 0.25, -0.75), 2, 3)
  mask <- ref_made_mask(3, 3, 6, exclusive = FALSE)
  # a constant kernel and bias: every number is known
  out <- tfb_masked_dense(x, units = 6, num_blocks = 3,
                          kernel_initializer = "ones", bias_initializer = -0.5,
                          activation = "relu")
  expect_equal(out, pmax(x %*% mask - 0.5, 0), tolerance = 1e-12)
  # random initializers, drawn kernel first and then bias (Keras' order)
  normal_init <- function(shape) rnorm(prod(shape), sd = 0.7)
  set.seed(201)
  out <- tfb_masked_dense(x, units = 6, num_blocks = 3,
                          kernel_initializer = normal_init,
                          bias_initializer = normal_init, activation = "relu")
  set.seed(201)
  W <- matrix(rnorm(18, sd = 0.7), 3, 6)
  b <- rnorm(6, sd = 0.7)
  expect_equal(out, pmax(x %*% (W * mask) + matrix(b, 2, 6, byrow = TRUE), 0),
               tolerance = 1e-12)
  # the bias itself, under either name
  given <- c(0.1, -0.2, 0.3, -0.4, 0.5, -0.6)
  expected <- tanh(x %*% (W * mask) + matrix(given, 2, 6, byrow = TRUE))
  expect_equal(tfb_masked_dense(x, 6, 3, kernel_initializer = W,
                                bias_initializer = given, activation = "tanh"),
               expected, tolerance = 1e-12)
  expect_equal(tfb_masked_dense(x, 6, 3, kernel_initializer = W,
                                bias = given, activation = "tanh"),
               expected, tolerance = 1e-12)
  # a function of the bias shape gets the number of units
  seen <- NULL
  tfb_masked_dense(x, 6, 3, bias_initializer = function(shape) {
    seen <<- shape
    numeric(6)
  })
  expect_equal(seen, 6)
})

test_that("masked_dense's glorot initializers are reproducible under set.seed()", {
  x <- diag(4)
  mask <- ref_made_mask(2, 4, 5, exclusive = TRUE)
  set.seed(202)
  out <- tfb_masked_dense(x, units = 5, num_blocks = 2, exclusive = TRUE,
                          kernel_initializer = "glorot_uniform")
  set.seed(202)
  a <- sqrt(6 / (4 + 5))
  W <- matrix(runif(20, -a, a), 4, 5)
  expect_equal(out, W * mask, tolerance = 1e-12)
  # NULL and "glorot_normal" are the same truncated normal
  set.seed(203)
  by_default <- tfb_masked_dense(x, units = 5, num_blocks = 2)
  set.seed(203)
  by_name <- tfb_masked_dense(x, units = 5, num_blocks = 2,
                              kernel_initializer = "glorot_normal")
  expect_identical(by_default, by_name)
  set.seed(203)
  z <- rnorm(20)
  while (any(abs(z) > 2)) {
    outside <- abs(z) > 2
    z[outside] <- rnorm(sum(outside))
  }
  W <- matrix(z * sqrt(2 / 9) / 0.87962566103423978, 4, 5)
  expect_equal(by_default, W * ref_made_mask(2, 4, 5, FALSE),
               tolerance = 1e-12)
})

test_that("masked_dense with use_bias = FALSE adds no bias", {
  x <- matrix(c(1, 2, 3, 4, 5, 6), 2, 3)
  W <- matrix(seq(-1, 1, length.out = 12), 3, 4)
  mask <- ref_made_mask(3, 3, 4, exclusive = FALSE)
  expect_equal(tfb_masked_dense(x, 4, 3, kernel_initializer = W,
                                use_bias = FALSE, bias_initializer = "ones"),
               x %*% (W * mask), tolerance = 1e-12)
})

test_that("masked_dense accepts the Keras arguments that change nothing here", {
  x <- matrix(c(1, -2, 3, -4, 5, -6), 2, 3)
  W <- matrix(seq(-1, 1, length.out = 9), 3, 3)
  plain <- tfb_masked_dense(x, 3, kernel_initializer = W,
                            activation = "softplus")
  expect_identical(
    tfb_masked_dense(x, 3, kernel_initializer = W, activation = "softplus",
                     kernel_regularizer = "l2", bias_regularizer = list(0.1),
                     activity_regularizer = function(w) sum(w^2),
                     bias_constraint = function(w) pmax(w, 0),
                     trainable = FALSE),
    plain)
})

test_that("a tfprobability-style masked_dense call works verbatim", {
  x <- matrix(c(0.2, -0.4, 0.6, 0.8), 2, 2)
  set.seed(204)
  out <- tfb_masked_dense(inputs = x, units = 4L, num_blocks = 2L,
                          exclusive = TRUE, kernel_initializer = NULL,
                          reuse = NULL, name = "masked_dense",
                          activation = "relu", use_bias = TRUE,
                          bias_initializer = "zeros", kernel_regularizer = NULL,
                          bias_regularizer = NULL, activity_regularizer = NULL,
                          bias_constraint = NULL, trainable = TRUE)
  set.seed(204)
  expect_identical(out, tfb_masked_dense(x, 4, 2, exclusive = TRUE,
                                         activation = "relu"))
  # the first block of outputs sees nothing: exclusive
  expect_true(all(out[, 1:2] == 0))
})

test_that("masked_dense refuses bad dense-layer arguments with classed errors", {
  x <- matrix(1, 2, 3)
  unsupported <- "bijectors_error_unsupported"
  bad <- "bijectors_error_argument"
  expect_error(tfb_masked_dense(x, 3, foo = 1), class = unsupported)
  expect_error(tfb_masked_dense(x, 3, foo = 1, dtype = "float32"),
               "`foo`, `dtype`")
  expect_error(tfb_masked_dense(x, 3, NULL, FALSE, NULL, NULL, NULL, "relu"),
               "<unnamed>")
  expect_error(tfb_masked_dense(x, 3, kernel_constraint = function(w) w),
               class = unsupported)
  expect_error(tfb_masked_dense(x, 3, activation = "relu",
                                activation = "tanh"), class = bad)
  expect_error(tfb_masked_dense(x, 3, activation = "swish"),
               class = "bijectors_error_activation")
  expect_error(tfb_masked_dense(x, 3, use_bias = NA), class = bad)
  expect_error(tfb_masked_dense(x, 3, trainable = "yes"), class = bad)
  expect_error(tfb_masked_dense(x, 3, bias_initializer = "he_normal"),
               class = bad)
  expect_error(tfb_masked_dense(x, 3, bias_initializer = c(1, 2)),
               "vector of length 3")
  expect_error(tfb_masked_dense(x, 3, bias_initializer = Inf), class = bad)
  expect_error(tfb_masked_dense(x, 3, bias_initializer = function(s) 1:2),
               class = bad)
  expect_error(tfb_masked_dense(x, 3, bias_initializer = function(s) stop("no")),
               class = bad)
  expect_error(tfb_masked_dense(x, 3, bias_initializer = 0, bias = c(1, 2, 3)),
               class = bad)
  expect_error(tfb_masked_dense(x, 3, kernel_initializer = matrix(1, 2, 2)),
               "3 x 3 matrix")
  expect_snapshot(error = TRUE, tfb_masked_dense(x, 3, foo = 1))
})

# ---- dense-layer arguments of the templates --------------------------------

test_that("template initializers draw each layer's kernel then bias, reproducibly", {
  init <- function(shape) rnorm(prod(shape), sd = 0.5)
  bias_init <- function(shape) runif(shape, -0.1, 0.1)
  y <- matrix(c(0.3, -1.2, 0.8, 1.1, -0.4, 0.2), 2, 3)
  set.seed(210)
  made <- tfb_masked_autoregressive_default_template(
    hidden_layers = c(4, 5), activation = "tanh", kernel_initializer = init,
    bias_initializer = bias_init, hidden_degrees = "blocks")
  x <- tfb_masked_autoregressive_flow(made)$inverse(y)
  set.seed(210)
  sizes <- c(3, 4, 5, 6)
  masks <- ref_made_masks(3, c(4, 5))
  kernels <- biases <- list()
  for (k in 1:3) {
    kernels[[k]] <- matrix(rnorm(sizes[k] * sizes[k + 1], sd = 0.5),
                           sizes[k], sizes[k + 1]) * masks[[k]]
    biases[[k]] <- runif(sizes[k + 1], -0.1, 0.1)
  }
  params <- list(kernels = kernels, biases = biases)
  expect_equal(template_params(made), params, tolerance = 1e-12)
  expect_equal(x, ref_maf_inverse(y, function(v) ref_made(v, params, "tanh"))$x,
               tolerance = 1e-12)

  set.seed(211)
  nvp <- tfb_real_nvp_default_template(hidden_layers = 3,
                                       kernel_initializer = "ones",
                                       bias_initializer = 0.25)
  out <- tfb_real_nvp(1, nvp)$forward(y)
  params <- list(kernels = list(matrix(1, 1, 3), matrix(1, 3, 4)),
                 biases = list(rep(0.25, 3), rep(0.25, 4)))
  expect_equal(template_params(nvp), params, tolerance = 0)
  net <- function(v) ref_nvp_net(v, params, "relu", 2)
  expect_equal(out, ref_nvp_forward(y, 1, net)$y, tolerance = 1e-12)
  # glorot_normal for real NVP is the MADE default's draw
  set.seed(212)
  a <- tfb_real_nvp_default_template(4, kernel_initializer = "glorot_normal")
  tfb_real_nvp(2, a)$forward(matrix(0, 1, 4))
  set.seed(212)
  b <- tfb_masked_autoregressive_default_template(4, hidden_degrees = "blocks")
  tfb_masked_autoregressive_flow(b)$inverse(matrix(0, 1, 2))
  expect_equal(template_params(a)$kernels[[1]] * template_masks(b)[[1]],
               template_params(b)$kernels[[1]], tolerance = 0)
  # the templates' defaults are unchanged: glorot-uniform and zero biases
  set.seed(213)
  by_default <- tfb_real_nvp_default_template(c(3, 3))
  tfb_real_nvp(1, by_default)$forward(y)
  set.seed(213)
  by_name <- tfb_real_nvp_default_template(c(3, 3),
                                           kernel_initializer = "glorot_uniform",
                                           bias_initializer = "zeros")
  tfb_real_nvp(1, by_name)$forward(y)
  expect_identical(template_params(by_name), template_params(by_default))
})

test_that("use_bias = FALSE: no bias in the network, none trained", {
  set.seed(214)
  y <- gradient_data(30, 3)
  for (made in c(TRUE, FALSE)) {
    template <- if (made) {
      tfb_masked_autoregressive_default_template(c(6, 6), activation = "tanh",
                                                 use_bias = FALSE,
                                                 bias_initializer = "ones")
    } else {
      tfb_real_nvp_default_template(c(5), activation = "tanh",
                                    use_bias = FALSE, bias_initializer = "ones")
    }
    expect_false(template$use_bias)
    bijector <- if (made) tfb_masked_autoregressive_flow(template) else
      tfb_real_nvp(1, template)
    flow <- flow_on(bijector)
    invisible(flow$log_prob(y))
    expect_true(all(unlist(template_params(template)$biases) == 0))
    expect_identical(names(trainable_parameters(flow)),
                     sprintf("layer%d/kernel", seq_len(if (made) 3 else 2)))
    randomize_parameters(flow)
    expect_flow_gradients(flow, y[1:8, ], tolerance = 1e-5)
    before <- template_params(template)
    fit(flow, y, epochs = 3, batch_size = 10, verbose = FALSE)
    after <- template_params(template)
    expect_true(all(unlist(after$biases) == 0))
    expect_false(isTRUE(all.equal(after$kernels, before$kernels)))
  }
})

test_that("trainable = FALSE keeps a template's weights out of training", {
  set.seed(215)
  y <- gradient_data(30, 3)
  template <- tfb_masked_autoregressive_default_template(c(6), trainable = FALSE)
  expect_false(template$trainable)
  flow <- flow_on(tfb_chain(list(tfb_shift(c(0, 0, 0)),
                                 tfb_masked_autoregressive_flow(template))))
  invisible(flow$log_prob(y))
  expect_identical(names(trainable_parameters(flow)), "1_shift/shift")
  expect_flow_gradients(flow, y[1:8, ], tolerance = 1e-5)
  before <- template_params(template)
  fit(flow, y, epochs = 2, batch_size = 10, verbose = FALSE)
  expect_identical(template_params(template), before)
  expect_false(identical(trainable_parameters(flow)[[1]], c(0, 0, 0)))
})

test_that("templates with dense-layer arguments survive saveRDS() and keep training", {
  set.seed(216)
  y <- gradient_data(24, 3)
  template <- tfb_real_nvp_default_template(
    c(4), use_bias = FALSE, kernel_initializer = function(shape) {
      rnorm(prod(shape), sd = 0.1)
    })
  flow <- flow_on(tfb_real_nvp(1, template))
  # saved unbuilt: the initializer travels with the template
  copy <- round_trip_rds_flow(flow)
  set.seed(217)
  expected <- flow$log_prob(y)
  set.seed(217)
  expect_identical(copy$log_prob(y), expected)
  fit(flow, y, epochs = 1, batch_size = 8, verbose = FALSE)
  saved <- round_trip_rds_flow(flow)
  expect_identical(saved$log_prob(y), flow$log_prob(y))
  expect_false(saved$bijector$shift_and_log_scale_fn$use_bias)
  set.seed(3)
  fit(flow, y, epochs = 1, batch_size = 8, verbose = FALSE)
  set.seed(3)
  fit(saved, y, epochs = 1, batch_size = 8, verbose = FALSE)
  expect_identical(trainable_parameters(saved), trainable_parameters(flow))
})

test_that("templates accept the regularizers and ignore them", {
  make <- function(...) {
    set.seed(218)
    template <- tfb_real_nvp_default_template(c(3), ...)
    tfb_real_nvp(1, template)$forward(matrix(0.5, 2, 3))
  }
  expect_identical(make(kernel_regularizer = "l2", bias_regularizer = 0.1,
                        activity_regularizer = function(w) sum(w^2),
                        kernel_constraint = NULL, bias_constraint = NULL),
                   make())
})

test_that("templates refuse unknown and unsupported dense-layer arguments", {
  unsupported <- "bijectors_error_unsupported"
  bad <- "bijectors_error_argument"
  for (maker in list(tfb_masked_autoregressive_default_template,
                     tfb_real_nvp_default_template)) {
    expect_error(maker(4, units = 3), class = unsupported)
    expect_error(maker(4, dtype = "float64", foo = 1), "`dtype`, `foo`")
    expect_error(maker(4, kernel_constraint = function(w) w),
                 class = unsupported)
    expect_error(maker(4, bias_constraint = "non_neg"), class = unsupported)
    expect_error(maker(4, kernel_initializer = matrix(1, 2, 2)), class = bad)
    expect_error(maker(4, kernel_initializer = "he_normal"), class = bad)
    expect_error(maker(4, bias_initializer = c(0, 1)), class = bad)
    expect_error(maker(4, bias_initializer = NaN), class = bad)
    expect_error(maker(4, use_bias = "no"), class = bad)
    expect_error(maker(4, trainable = NA), class = bad)
    expect_error(maker(4, use_bias = TRUE, use_bias = FALSE), class = bad)
  }
  expect_snapshot(error = TRUE,
                  tfb_real_nvp_default_template(4, kernel_constraint = abs))
  expect_snapshot(error = TRUE, tfb_masked_autoregressive_default_template(
    4, kernel_constraint = abs))
})

test_that("an initializer that fails at the build leaves the template unbuilt", {
  template <- tfb_masked_autoregressive_default_template(
    c(4), bias_initializer = function(shape) numeric(shape + 1))
  b <- tfb_masked_autoregressive_flow(template)
  expect_error(b$inverse(matrix(0, 2, 2)), class = "bijectors_error_argument")
  expect_false(template$built)
  failing <- tfb_real_nvp_default_template(
    c(4), kernel_initializer = function(shape) stop("out of ideas"))
  expect_error(tfb_real_nvp(1, failing)$forward(matrix(0, 2, 2)),
               "out of ideas", class = "bijectors_error_argument")
  expect_false(failing$built)
})

test_that("hidden_layers may be a list, as tfprobability passes it", {
  y <- matrix(c(0.1, 0.2, -0.3, 0.4, 0.5, -0.6), 2, 3)
  for (maker in c("tfb_masked_autoregressive_default_template",
                  "tfb_real_nvp_default_template")) {
    set.seed(219)
    from_list <- do.call(maker, list(hidden_layers = list(8, 8L)))
    set.seed(219)
    from_vector <- do.call(maker, list(hidden_layers = c(8, 8)))
    expect_identical(from_list$hidden_layers, c(8L, 8L))
    expect_identical(from_vector$hidden_layers, c(8L, 8L))
    for (bad in list(list(8, "a"), list(c(8, 8)), list(list(8)), list(8, 0),
                     list(8, 2.5), list(8, NA), list(8, TRUE))) {
      expect_error(do.call(maker, list(hidden_layers = bad)),
                   class = "bijectors_error_argument")
    }
  }
  expect_error(tfb_masked_autoregressive_default_template(list()),
               class = "bijectors_error_argument")
  expect_identical(tfb_real_nvp_default_template(list())$hidden_layers,
                   integer(0))
})

test_that("tfprobability-style template calls work verbatim", {
  set.seed(220)
  made <- tfb_masked_autoregressive_default_template(
    hidden_layers = list(16, 16), shift_only = FALSE, activation = "relu",
    log_scale_min_clip = -5, log_scale_max_clip = 3,
    log_scale_clip_gradient = FALSE, name = NULL, kernel_initializer = NULL,
    bias_initializer = "zeros", use_bias = TRUE, kernel_regularizer = NULL,
    bias_regularizer = NULL, activity_regularizer = NULL,
    bias_constraint = NULL, trainable = TRUE)
  nvp <- tfb_real_nvp_default_template(
    hidden_layers = list(16, 16), shift_only = FALSE, activation = "tanh",
    name = NULL, kernel_initializer = "glorot_uniform", use_bias = TRUE,
    kernel_regularizer = NULL, kernel_constraint = NULL, trainable = TRUE)
  flow <- tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = c(0, 0)),
    tfb_chain(list(tfb_masked_autoregressive_flow(made), tfb_permute(list(2, 1)),
                   tfb_real_nvp(num_masked = 1, shift_and_log_scale_fn = nvp))))
  y <- matrix(c(0.5, -0.5, 1, 0.25), 2, 2)
  expect_length(flow$log_prob(y), 2)
  expect_true(all(is.finite(flow$log_prob(y))))
})

test_that("relu keeps NaN and sends -Inf to 0, as pmax() does not and does", {
  x <- matrix(c(NaN, -Inf, Inf, -2, 0, 3), 6, 1)
  out <- tfb_masked_dense(x, units = 1, num_blocks = 1, exclusive = FALSE,
                          kernel_initializer = function(shape) 1,
                          activation = "relu")
  expect_identical(is.nan(out[, 1]), c(TRUE, FALSE, FALSE, FALSE, FALSE, FALSE))
  expect_identical(out[-1, 1], c(0, Inf, 0, 0, 3))
})

test_that("relu and its derivative are exact selects, whatever the length", {
  # a 1 -> 1 layer with kernel 1 and bias b: relu(x + b) itself, and the
  # gradient sent down, g where the output is positive and +0 elsewhere
  ns <- asNamespace("bijectors")
  special <- c(-2, -0, 0, 1e-300, -1e-300, NaN, 3, -Inf, Inf, 5, -5,
               -0.25, 0.25, 2^-1074)
  for (n in c(1:9, 14, 37)) {
    x <- rep_len(special, n)
    b <- 0.25
    out <- .Call(ns$C_mlp_forward, matrix(x, ncol = 1), as.double(n), 0,
                 list(matrix(1, 1, 1)), list(b), 1L, NULL, TRUE)$output
    v <- x + b
    expected <- ifelse(is.nan(v), v, ifelse(v > 0, v, 0))
    expect_identical(as.vector(out), expected)
    # +0, never -0, where the value is not positive
    expect_true(all(1 / out[!is.nan(v) & v <= 0] == Inf))
    g <- matrix(-(seq_len(n) + 0.5), ncol = 1)
    down <- .Call(ns$C_mlp_backward, matrix(x, ncol = 1), as.double(n), 0,
                  list(matrix(1, 1, 1)), 1L, list(), out, g, NULL,
                  numeric(n))$input
    positive <- as.vector(!is.nan(out) & out > 0)
    expect_identical(as.vector(down), ifelse(positive, as.vector(g), 0))
    expect_true(all(1 / down[!positive] == Inf))
  }
})

test_that("the activations give the same bits on one and two threads", {
  skip_on_cran()
  ns <- asNamespace("bijectors")
  old <- options(bijectors.threads = 1L)
  on.exit({
    options(old)
    bijectors:::gemm_apply_option()
  })
  set.seed(4417)
  # 300 x 64 hidden values (over the threshold for two threads), then a
  # layer below it; every costly activation and relu
  n <- 300L
  x <- matrix(rnorm(n * 8, sd = 2), n, 8)
  kernels <- list(matrix(rnorm(8 * 64), 8, 64), matrix(rnorm(64 * 5), 64, 5))
  biases <- list(rnorm(64), rnorm(5))
  for (name in c("tanh", "sigmoid", "elu", "softplus", "relu")) {
    code <- ns$network_activations[[name]]
    results <- lapply(1:2, function(threads) {
      options(bijectors.threads = threads)
      bijectors:::gemm_apply_option()
      .Call(ns$C_mlp_forward, x, as.double(n), 0, kernels, biases,
            c(code, code), NULL, TRUE)
    })
    expect_identical(results[[1]], results[[2]], label = name)
    # and the hidden layer is the activation of the plain-R layer (the
    # product summed in another order: to a few ulps)
    pre <- sweep(x %*% kernels[[1]], 2L, biases[[1]], "+")
    plain <- switch(name, tanh = tanh(pre), sigmoid = plogis(pre),
                    elu = ifelse(pre > 0, pre, expm1(pre)),
                    softplus = log1p(exp(pre)), relu = pmax(pre, 0))
    expect_equal(results[[2]]$hidden[[1]], plain, tolerance = 1e-12,
                 label = name)
  }
})
