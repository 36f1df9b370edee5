# Glow's squeeze and expand: moving 2 x 2 pixel blocks into channels and
# back, in TFP's channel order (Expand in glow.py, a reshape-transpose-
# reshape chain on row-major events). With 0-based indices, channel
# 4 q + 2 a + b of the coarse image at pixel (i, j) is channel q of the fine
# image at pixel (2 i + a, 2 j + b). So squeezing turns each fine channel q
# into the four consecutive coarse channels 4q .. 4q + 3, and latents come
# out in TFP's order.
#
# Both work on R arrays of dim c(N, H, W, C). In R's column-major storage
# the coarse channel index 4q + 2a + b splits as (b, a, q), and the fine
# row 2i + a as (a, i), the column 2j + b as (b, j): each map is one
# aperm() of a 6-dimensional view.

# c(N, h, w, c) -> c(N, 2h, 2w, c / 4)
glow_expand <- function(x) {
  d <- dim(x)
  n <- d[[1L]]
  h <- d[[2L]]
  w <- d[[3L]]
  q <- d[[4L]] %/% 4L
  # view: [n, i, j, b, a, q] -> [n, a, i, b, j, q]
  out <- aperm(array(x, c(n, h, w, 2L, 2L, q)), c(1L, 5L, 2L, 4L, 3L, 6L))
  dim(out) <- c(n, 2L * h, 2L * w, q)
  out
}

# c(N, H, W, C) -> c(N, H / 2, W / 2, 4 C), the inverse of glow_expand().
glow_squeeze <- function(x) {
  d <- dim(x)
  n <- d[[1L]]
  h <- d[[2L]] %/% 2L
  w <- d[[3L]] %/% 2L
  q <- d[[4L]]
  # view: [n, a, i, b, j, q] -> [n, i, j, b, a, q]
  out <- aperm(array(x, c(n, 2L, h, 2L, w, q)), c(1L, 3L, 5L, 4L, 2L, 6L))
  dim(out) <- c(n, h, w, 4L * q)
  out
}

# TFP's Reshape([H * W * C] -> [h, w, c]) of latent vectors: each event is
# read in row-major order, as TF's reshape. `z` is an N x (h w c) matrix;
# returns c(N, h, w, c).
glow_latent_to_image <- function(z, shape) {
  n <- length(z) %/% prod(shape)
  out <- aperm(array(z, c(n, shape[[3L]], shape[[2L]], shape[[1L]])),
               c(1L, 4L, 3L, 2L))
  out
}

# The inverse: c(N, h, w, c) -> an N x (h w c) matrix, row-major events.
glow_image_to_latent <- function(x) {
  d <- dim(x)
  out <- aperm(x, c(1L, 4L, 3L, 2L))
  dim(out) <- c(d[[1L]], prod(d[-1L]))
  out
}
