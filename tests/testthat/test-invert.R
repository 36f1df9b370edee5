# tfb_invert(): swaps the directions, the log-dets and the min event ndims.

test_that("invert swaps forward and inverse", {
  b <- tfb_scale(c(2, -4))
  inv <- tfb_invert(b)
  set.seed(51)
  x <- matrix(rnorm(6), 3, 2)
  expect_identical(inv$forward(x), b$inverse(x))
  expect_identical(inv$inverse(x), b$forward(x))
  expect_identical(inv$forward_log_det_jacobian(x, 1),
                   b$inverse_log_det_jacobian(x, 1))
  expect_identical(inv$inverse_log_det_jacobian(x, 1),
                   b$forward_log_det_jacobian(x, 1))
  expect_equal(inv$forward_log_det_jacobian(x, 1), -log(8), tolerance = 1e-14)
  expect_identical(inv$name, "invert_scale")
  expect_identical(tfb_invert(b, name = "halve")$name, "halve")
  expect_identical(tfb_forward(inv, x), b$inverse(x))
})

test_that("invert swaps the min event ndims", {
  b <- tfb_permute(c(2, 1), axis = -2L)
  inv <- tfb_invert(b)
  expect_identical(inv$forward_min_event_ndims, b$inverse_min_event_ndims)
  expect_identical(inv$inverse_min_event_ndims, b$forward_min_event_ndims)
  expect_identical(tfb_invert(inv)$forward_min_event_ndims, 2L)
  # a bijector whose two minimums differ (made with the internal constructor)
  lopsided <- bijectors:::new_bijector(
    "tfb_identity", "lopsided", forward_min_event_ndims = 1L,
    inverse_min_event_ndims = 0L
  )
  flipped <- tfb_invert(lopsided)
  expect_identical(flipped$forward_min_event_ndims, 0L)
  expect_identical(flipped$inverse_min_event_ndims, 1L)
})

test_that("inverting twice gives the original map", {
  b <- tfb_shift(c(1, 2, 3))
  twice <- tfb_invert(tfb_invert(b))
  x <- matrix(rnorm(9), 3, 3)
  expect_identical(twice$forward(x), b$forward(x))
  expect_identical(twice$inverse(x), b$inverse(x))
})

test_that("inverted bijectors pass the round trip and Jacobian checks", {
  set.seed(52)
  y <- matrix(rnorm(12), 4, 3)
  expect_bijector_checks(tfb_invert(tfb_scale(c(0.5, 2, -3))), y)
  expect_bijector_checks(tfb_invert(tfb_permute(c(3, 1, 2))), y)
  expect_bijector_checks(tfb_invert(tfb_shift(1.5)), y)
  bn <- eval_batch_norm(3)
  expect_bijector_checks(tfb_invert(bn$bijector), y)
})

test_that("an inverted MAF is an inverse autoregressive flow", {
  set.seed(53)
  template <- tfb_masked_autoregressive_default_template(
    hidden_layers = c(6, 6), activation = "tanh")
  maf <- tfb_masked_autoregressive_flow(template)
  iaf <- tfb_invert(maf)
  y <- matrix(rnorm(12), 4, 3)
  x <- iaf$forward(y)
  expect_identical(x, maf$inverse(y))
  params <- template_params(template)
  made <- function(v) ref_made(v, params, "tanh")
  ref <- ref_maf_inverse(y, made)
  expect_equal(x, ref$x, tolerance = 1e-12)
  expect_equal(iaf$forward_log_det_jacobian(y, 1), ref$ildj,
               tolerance = 1e-12)
  expect_bijector_checks(iaf, y)
})

test_that("invert prints", {
  expect_snapshot(print(tfb_invert(tfb_scale(2))))
})
