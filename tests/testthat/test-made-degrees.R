# The MADE template's hidden_degrees ("equal": TFP AutoregressiveNetwork's
# masks, the default; "blocks": TFP masked_dense()'s) and its default
# initialisation ("uniform_fan_in", nn.Linear's, with "equal"; TFP's with
# "blocks").

build_made <- function(D, hidden, seed = 1, ...) {
  set.seed(seed)
  template <- tfb_masked_autoregressive_default_template(hidden, ...)
  tfb_masked_autoregressive_flow(template)$inverse(matrix(0.5, 2, D))
  template
}

test_that("equal degrees: the masks worked out by hand for D = 3", {
  template <- build_made(3, c(5, 4), activation = "tanh")
  expect_identical(template$hidden_degrees, "equal")
  masks <- template_masks(template)
  # hidden degrees ceiling(k * (D - 1) / (units + 1)): layer 1 (5 units)
  # 1, 1, 1, 2, 2; layer 2 (4 units) 1, 1, 2, 2. A unit reads inputs (or
  # units) of degree at most its own; output unit i (columns 2i - 1, 2i)
  # reads the hidden units of degree below i.
  expect_equal(masks[[1]], rbind(c(1, 1, 1, 1, 1),
                                 c(0, 0, 0, 1, 1),
                                 c(0, 0, 0, 0, 0)))
  expect_equal(masks[[2]], rbind(c(1, 1, 1, 1), c(1, 1, 1, 1), c(1, 1, 1, 1),
                                 c(0, 0, 1, 1), c(0, 0, 1, 1)))
  expect_equal(masks[[3]], rbind(c(0, 0, 1, 1, 1, 1), c(0, 0, 1, 1, 1, 1),
                                 c(0, 0, 0, 0, 1, 1), c(0, 0, 0, 0, 1, 1)))
})

test_that("equal degrees for D = 2 are the masks of PyTorch's usual MADE", {
  # torch_maf.py: hidden degree k %% (D - 1) + 1 = 1 for every unit
  template <- build_made(2, c(64, 64))
  masks <- template_masks(template)
  expect_equal(masks[[1]], rbind(rep(1, 64), rep(0, 64)))
  expect_equal(masks[[2]], matrix(1, 64, 64))
  expect_equal(masks[[3]], cbind(matrix(0, 64, 2), matrix(1, 64, 2)))
  # TFP's blocks leave half the first layer without an input
  blocks <- template_masks(build_made(2, c(64, 64), hidden_degrees = "blocks"))
  expect_equal(sum(colSums(blocks[[1]]) == 0), 32)
})

test_that("equal degrees: every hidden unit has an input, and the flow is autoregressive", {
  for (D in 2:6) {
    template <- build_made(D, c(D + 3, 2 * D), seed = D, activation = "tanh")
    masks <- template_masks(template)
    expect_true(all(colSums(masks[[1]]) > 0))
    expect_true(all(colSums(masks[[2]]) > 0))
    # the whole network's connectivity: output unit i reads inputs before i
    reach <- (masks[[1]] %*% masks[[2]] %*% masks[[3]]) > 0
    for (i in seq_len(D)) {
      expect_false(any(reach[i:D, 2 * i - (1:0)]))
    }
  }
  # numerically: the inverse's Jacobian is lower triangular
  D <- 4
  set.seed(7)
  template <- tfb_masked_autoregressive_default_template(c(6, 5),
                                                         activation = "tanh")
  maf <- tfb_masked_autoregressive_flow(template)
  y <- rnorm(D)
  h <- 1e-6
  jacobian <- sapply(seq_len(D), function(j) {
    e <- replace(numeric(D), j, h)
    (maf$inverse(y + e) - maf$inverse(y - e)) / (2 * h)
  })
  expect_true(all(jacobian[upper.tri(jacobian)] == 0))
  expect_true(all(abs(diag(jacobian)) > 0))
  expect_true(any(abs(jacobian[lower.tri(jacobian)]) > 1e-3))
  expect_equal(maf$forward(maf$inverse(y)), y, tolerance = 1e-10)
})

test_that("the default draws kernels and biases as nn.Linear: U(-1/sqrt(fan_in), 1/sqrt(fan_in))", {
  template <- build_made(3, c(4, 5), seed = 31)
  # the same draws by hand: each layer's kernel (column-major, then masked),
  # then its bias, with the layer's input width as fan_in
  set.seed(31)
  sizes <- c(3, 4, 5, 6)
  masks <- template_masks(template)
  for (k in 1:3) {
    bound <- 1 / sqrt(sizes[k])
    kernel <- matrix(runif(sizes[k] * sizes[k + 1], -bound, bound),
                     sizes[k], sizes[k + 1])
    bias <- runif(sizes[k + 1], -bound, bound)
    expect_equal(template$weights[[k]]$kernel, kernel * masks[[k]],
                 tolerance = 0, ignore_attr = TRUE)
    expect_equal(template$weights[[k]]$bias, bias, tolerance = 0,
                 ignore_attr = TRUE)
  }
  # and the distribution on a wide layer: uniform with variance b^2 / 3
  wide <- build_made(2, c(200, 200), seed = 32)
  kernel <- wide$weights[[2]]$kernel
  expect_true(all(abs(kernel) <= 1 / sqrt(200)))
  expect_equal(sd(as.vector(kernel)), 1 / sqrt(200) / sqrt(3),
               tolerance = 0.02)
  expect_true(all(wide$weights[[1]]$bias != 0))
  expect_true(all(abs(wide$weights[[1]]$bias) <= 1 / sqrt(2)))
})

test_that("hidden_degrees = \"blocks\" is TFP's template: its masks and initialisation", {
  blocks <- build_made(3, c(7, 6), seed = 41, hidden_degrees = "blocks")
  expect_equal(template_masks(blocks), ref_made_masks(3, c(7, 6)))
  explicit <- build_made(3, c(7, 6), seed = 41, hidden_degrees = "blocks",
                         kernel_initializer = "glorot_normal",
                         bias_initializer = "zeros")
  expect_identical(blocks$weights, explicit$weights)
  expect_true(all(unlist(lapply(blocks$weights, `[[`, "bias")) == 0))
  # an initializer given by name applies with either kind of mask
  equal <- build_made(3, c(7, 6), seed = 41,
                      kernel_initializer = "glorot_normal",
                      bias_initializer = "zeros")
  sizes <- c(3, 7, 6, 6)
  for (k in 1:3) {
    # truncated at two standard deviations of the untruncated normal
    limit <- 2 * sqrt(2 / (sizes[k] + sizes[k + 1])) / 0.87962566103423978
    expect_true(all(abs(equal$weights[[k]]$kernel) <= limit))
    expect_true(all(equal$weights[[k]]$bias == 0))
  }
  expect_equal(template_masks(equal), template_masks(build_made(3, c(7, 6))))
})

test_that("a template saved before hidden_degrees existed keeps TFP's blocks", {
  set.seed(51)
  template <- tfb_masked_autoregressive_default_template(c(4, 4))
  rm("hidden_degrees", envir = template)
  tfb_masked_autoregressive_flow(template)$inverse(matrix(0.5, 2, 2))
  expect_equal(template_masks(template), ref_made_masks(2, c(4, 4)))
  expect_true(all(template$weights[[1]]$bias == 0))
})

test_that("hidden_degrees is checked", {
  expect_error(tfb_masked_autoregressive_default_template(4, hidden_degrees = "random"),
               "`hidden_degrees` must be one of \"equal\", \"blocks\"",
               class = "bijectors_error_argument")
  expect_error(tfb_masked_autoregressive_default_template(4, hidden_degrees = NA),
               class = "bijectors_error_argument")
})

test_that("masked_dense's \"uniform_fan_in\" bias uses the input width", {
  x <- matrix(0, 2, 4)
  set.seed(61)
  out <- tfb_masked_dense(x, units = 6, num_blocks = 2,
                          kernel_initializer = "zeros",
                          bias_initializer = "uniform_fan_in")
  set.seed(61)
  expect_equal(out[1, ], runif(6, -1 / 2, 1 / 2), tolerance = 0)
})
