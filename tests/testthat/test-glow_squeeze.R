# Glow's squeeze and expand (R/glow_squeeze.R): TFP's channel order, checked
# two independent ways: the sheet's index rule written as loops, and TFP's
# own definition of Expand (a reshape-transpose-reshape chain) built from
# the package's tfb_reshape() and tfb_transpose().

test_that("expand follows the index rule: channel 4q + 2a + b -> pixel (2i + a, 2j + b)", {
  set.seed(1)
  n <- 2; h <- 2; w <- 3; q <- 2
  coarse <- array(rnorm(n * h * w * 4 * q), c(n, h, w, 4 * q))
  fine <- bijectors:::glow_expand(coarse)
  expect_equal(dim(fine), c(n, 2 * h, 2 * w, q))
  expected <- array(NA_real_, dim(fine))
  for (m in 1:n) for (i in 0:(h - 1)) for (j in 0:(w - 1)) for (k in 0:(q - 1)) {
    for (a in 0:1) for (b in 0:1) {
      expected[m, 2 * i + a + 1, 2 * j + b + 1, k + 1] <-
        coarse[m, i + 1, j + 1, 4 * k + 2 * a + b + 1]
    }
  }
  expect_identical(fine, expected)
  expect_identical(bijectors:::glow_squeeze(fine), coarse)
})

test_that("expand equals TFP's Reshape . Transpose . Reshape chain", {
  set.seed(2)
  h <- 2; w <- 2; c <- 12
  coarse <- array(rnorm(3 * h * w * c), c(3, h, w, c))
  tfp_expand <- tfb_chain(list(
    tfb_reshape(event_shape_out = c(2 * h, 2 * w, c / 4),
                event_shape_in = c(h, 2, w, 2, c / 4)),
    tfb_transpose(perm = c(1, 4, 2, 5, 3)),
    tfb_reshape(event_shape_out = c(h, w, c / 4, 2, 2),
                event_shape_in = c(h, w, c))))
  expect_equal(bijectors:::glow_expand(coarse), tfp_expand$forward(coarse))
  fine <- tfp_expand$forward(coarse)
  expect_equal(bijectors:::glow_squeeze(fine), tfp_expand$inverse(fine))
})

test_that("latent vectors become images in TF's row-major order", {
  z <- matrix(seq_len(2 * 24), 2, 24, byrow = TRUE) + 0
  image <- bijectors:::glow_latent_to_image(z, c(2, 3, 4))
  expect_equal(dim(image), c(2, 2, 3, 4))
  # element (i, j, k) of event m is z[m, (i * 3 + j) * 4 + k + 1] (0-based)
  expect_equal(image[2, 2, 3, 1], z[2, (1 * 3 + 2) * 4 + 0 + 1])
  expect_equal(image, tfb_reshape(c(2, 3, 4), c(24))$forward(z))
  expect_identical(bijectors:::glow_image_to_latent(image), z)
})
