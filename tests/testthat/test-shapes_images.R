# sample_shapes_images(): shape, range, reproducibility, and each shape where
# its recorded parameters put it (masks recomputed here pixel by pixel).

# The mask of one image from its row of attr(, "shapes"), with loops over
# the pixels (a second implementation of the definitions in the docs).
mask_by_hand <- function(info, size) {
  mask <- matrix(FALSE, size, size)
  for (i in seq_len(size)) {
    for (j in seq_len(size)) {
      di <- i - info$row
      dj <- j - info$col
      mask[i, j] <- switch(
        info$kind,
        disc = sqrt(di^2 + dj^2) <= info$extent,
        square = max(abs(di), abs(dj)) <= info$extent,
        bar = if (info$horizontal) abs(di) <= info$extent / 2 else
          abs(dj) <= info$extent / 2)
    }
  }
  mask
}

test_that("images have dim c(n, size, size, channels) and levels 0..255", {
  set.seed(1)
  x <- sample_shapes_images(50, size = 8, channels = 3)
  expect_equal(dim(x), c(50L, 8L, 8L, 3L))
  expect_type(x, "double")
  expect_true(all(x == round(x)))
  expect_gte(min(x), 0)
  expect_lte(max(x), 255)
  # the noise and the intensities use most of the range
  expect_lt(min(x), 20)
  expect_gt(max(x), 240)
  info <- attr(x, "shapes")
  expect_equal(nrow(info), 50)
  expect_equal(dim(info$intensity), c(50L, 3L))
  expect_setequal(unique(info$kind), c("disc", "square", "bar"))
  expect_true(all(is.na(info$horizontal[info$kind != "bar"])))
  expect_true(all(!is.na(info$horizontal[info$kind == "bar"])))
  # centres within 1 + size %/% 8 .. size - size %/% 8; extents in range
  expect_true(all(info$row >= 2 & info$row <= 7 & info$col >= 2 &
                    info$col <= 7))
  expect_true(all(info$extent >= 1 & info$extent <= 2.5))
  # other levels
  y <- sample_shapes_images(20, size = 4, levels = 4, noise = 0.3)
  expect_setequal(unique(as.vector(y)), 0:3)
})

test_that("set.seed() reproduces the images; shapes restricts the kinds", {
  set.seed(3)
  a <- sample_shapes_images(10, size = 6)
  set.seed(3)
  b <- sample_shapes_images(10, size = 6)
  expect_identical(a, b)
  c <- sample_shapes_images(10, size = 6)
  expect_false(identical(a, c))
  discs <- sample_shapes_images(30, size = 6, shapes = "disc")
  expect_true(all(attr(discs, "shapes")$kind == "disc"))
})

test_that("without noise, each shape is exactly where its parameters say", {
  set.seed(4)
  levels <- 1000L
  x <- sample_shapes_images(60, size = 9, channels = 2, noise = 0,
                            levels = levels)
  info <- attr(x, "shapes")
  for (k in seq_len(60)) {
    mask <- mask_by_hand(info[k, ], 9)
    # the centre pixel is always inside
    expect_true(mask[info$row[[k]], info$col[[k]]])
    for (channel in 1:2) {
      expected <- ifelse(mask, info$intensity[k, channel],
                         info$background[k, channel])
      expect_equal(x[k, , , channel], round(expected * (levels - 1)),
                   ignore_attr = TRUE)
    }
  }
  # a square of extent e centred inside covers (2 floor(e) + 1)^2 pixels
  squares <- which(info$kind == "square" & info$row > 3 & info$row < 7 &
                     info$col > 3 & info$col < 7)
  expect_gt(length(squares), 0)
  for (k in squares) {
    inside <- sum(x[k, , , 1] == round(info$intensity[k, 1] * (levels - 1)))
    expect_equal(inside, (2 * floor(info$extent[[k]]) + 1)^2)
  }
  # with noise, the pixels vary around the noiseless values (sd 0.02 * 255)
  set.seed(4)
  noisy <- sample_shapes_images(60, size = 9, channels = 2, noise = 0.02)
  set.seed(4)
  clean <- sample_shapes_images(60, size = 9, channels = 2, noise = 0)
  inner <- clean > 20 & clean < 235
  expect_equal(sd(noisy[inner] - clean[inner]), 0.02 * 255, tolerance = 0.05)
})

test_that("bad arguments are refused with the argument's name", {
  expect_error(sample_shapes_images(0), "`n`",
               class = "bijectors_error_argument")
  expect_error(sample_shapes_images(2, size = 1), "`size`",
               class = "bijectors_error_argument")
  expect_error(sample_shapes_images(2, size = 2.5), "`size`",
               class = "bijectors_error_argument")
  expect_error(sample_shapes_images(2, channels = NA), "`channels`",
               class = "bijectors_error_argument")
  expect_error(sample_shapes_images(2, shapes = "triangle"), "`shapes`",
               class = "bijectors_error_argument")
  expect_error(sample_shapes_images(2, shapes = character(0)), "`shapes`",
               class = "bijectors_error_argument")
  expect_error(sample_shapes_images(2, noise = -1), "`noise`",
               class = "bijectors_error_argument")
  expect_error(sample_shapes_images(2, levels = 1), "`levels`",
               class = "bijectors_error_argument")
})
