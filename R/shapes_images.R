# A synthetic image data set for image flows (Glow): small pictures of one
# shape each on a flat background, quantised like 8-bit images, drawn with
# R's random number generator so that set.seed() reproduces them.

#' Small synthetic images of shapes
#'
#' Draws `n` square images of `size` x `size` pixels, each showing one shape
#' (a disc, a square or a bar) on a flat background, with a little Gaussian
#' noise, quantised to `levels` intensity levels as 8-bit images are. The
#' images are a data set for image flows such as [tfb_glow()] that needs no
#' download; `vignette("image-flows", package = "bijectors")` trains a Glow
#' on them.
#'
#' Each image draws, independently:
#' * a shape kind from `shapes`, with equal probabilities;
#' * a centre pixel `(row, col)`, whole numbers drawn uniformly from
#'   `1 + m` to `size - m` with `m = floor(size / 8)` (so the shape may be
#'   cut by the border, but its centre pixel is always in the image);
#' * an extent, uniform in `[size / 8, size / 4 + 1 / 2]`;
#' * for a bar, an orientation (horizontal or vertical, equally likely);
#' * a background intensity per channel, uniform in `[0, 0.3]`, and a shape
#'   intensity per channel, uniform in `[0.6, 1]`.
#'
#' Pixel `(i, j)` (row `i`, column `j`) belongs to the shape when
#' `(i - row)^2 + (j - col)^2 <= extent^2` for a disc; when `|i - row| <=
#' extent` and `|j - col| <= extent` for a square; when `|i - row| <=
#' extent / 2` (horizontal) or `|j - col| <= extent / 2` (vertical) for a
#' bar, which crosses the whole image. Its value in each channel is the
#' shape's intensity inside the shape and the background's outside, plus
#' Gaussian noise of standard deviation `noise`, clipped to `[0, 1]`, then
#' scaled and rounded to the whole numbers `0, ..., levels - 1`.
#'
#' @param n Whole number >= 1: the number of images.
#' @param size Whole number >= 2: the height and width of the images in
#'   pixels.
#' @param channels Whole number >= 1: the channels of each image (each
#'   channel has its own background and shape intensity, so several
#'   channels make coloured images).
#' @param shapes The kinds of shape to draw from: one or more of `"disc"`,
#'   `"square"` and `"bar"`.
#' @param noise Number >= 0: the standard deviation of the pixel noise, on
#'   the scale where intensities are in `[0, 1]`.
#' @param levels Whole number >= 2: the number of intensity levels (256 for
#'   8-bit images).
#' @return A double array of dim `c(n, size, size, channels)` (channels
#'   last: image `k` is `x[k, , , ]`, with rows first), whose values are
#'   whole numbers in `[0, levels - 1]`. Its attribute `"shapes"` is a data
#'   frame with one row per image and the columns `kind` (a character
#'   vector), `row`, `col` (the centre pixel), `extent`, `horizontal`
#'   (`TRUE` or `FALSE` for bars, `NA` otherwise), and `background` and
#'   `intensity`, matrices with one column per channel, the intensities
#'   before noise on the `[0, 1]` scale.
#' @family training
#' @seealso [tfb_glow()], [dequantize()] and [bits_per_dim()] to train a
#'   flow on the images and score it; `vignette("image-flows", package =
#'   "bijectors")`.
#' @examples
#' set.seed(1)
#' images <- sample_shapes_images(6, size = 8)
#' dim(images)
#' range(images)
#' attr(images, "shapes")[, c("kind", "row", "col", "extent")]
#' # the first image, row 1 at the top
#' plot(as.raster(images[1, , , 1] / 255))
#' @export
sample_shapes_images <- function(n, size = 8L, channels = 1L,
                                 shapes = c("disc", "square", "bar"),
                                 noise = 0.02, levels = 256L) {
  n <- check_count(n, "n")
  size <- check_count(size, "size")
  if (size < 2L) {
    abort_bijectors("argument", "`size` must be a whole number >= 2, not 1.")
  }
  channels <- check_count(channels, "channels")
  shapes <- check_shape_kinds(shapes)
  noise <- check_number(noise, "noise", lower = 0)
  levels <- check_count(levels, "levels")
  if (levels < 2L) {
    abort_bijectors("argument",
                    "`levels` must be a whole number >= 2, not 1.")
  }

  margin <- size %/% 8L
  centres <- seq.int(1L + margin, size - margin)
  kind <- shapes[sample.int(length(shapes), n, replace = TRUE)]
  row <- centres[sample.int(length(centres), n, replace = TRUE)]
  col <- centres[sample.int(length(centres), n, replace = TRUE)]
  extent <- stats::runif(n, size / 8, size / 4 + 0.5)
  horizontal <- ifelse(kind == "bar", stats::runif(n) < 0.5, NA)
  background <- matrix(stats::runif(n * channels, 0, 0.3), n, channels)
  intensity <- matrix(stats::runif(n * channels, 0.6, 1), n, channels)

  # rows i and columns j of every pixel of every image, as n x size x size
  # arrays, so that the masks of all images are computed at once
  i <- array(rep(seq_len(size), each = n), c(n, size, size))
  j <- array(rep(seq_len(size), each = n * size), c(n, size, size))
  di <- i - row
  dj <- j - col
  inside <- shape_masks(kind, di, dj, extent, horizontal)
  values <- array(0, c(n, size, size, channels))
  for (channel in seq_len(channels)) {
    values[, , , channel] <- ifelse(inside, intensity[, channel],
                                    background[, channel])
  }
  values <- values + stats::rnorm(length(values), sd = noise)
  values <- round(pmin(pmax(values, 0), 1) * (levels - 1L))

  info <- data.frame(kind = kind, row = row, col = col, extent = extent,
                     horizontal = horizontal, stringsAsFactors = FALSE)
  info$background <- background
  info$intensity <- intensity
  attr(values, "shapes") <- info
  values
}

# The pixels inside each image's shape: an n x size x size logical array
# from the offsets di = i - row and dj = j - col of every pixel. The
# per-image values (kind, extent, orientation) are recycled along the first
# axis, which is the image's.
shape_masks <- function(kind, di, dj, extent, horizontal) {
  cells <- length(di)
  kind <- rep_len(kind, cells)
  extent <- rep_len(extent, cells)
  horizontal <- rep_len(horizontal %in% TRUE, cells)
  inside <- logical(cells)
  disc <- kind == "disc"
  inside[disc] <- di[disc]^2 + dj[disc]^2 <= extent[disc]^2
  square <- kind == "square"
  inside[square] <- abs(di[square]) <= extent[square] &
    abs(dj[square]) <= extent[square]
  across <- kind == "bar" & horizontal
  inside[across] <- abs(di[across]) <= extent[across] / 2
  down <- kind == "bar" & !horizontal
  inside[down] <- abs(dj[down]) <= extent[down] / 2
  dim(inside) <- dim(di)
  inside
}

check_shape_kinds <- function(shapes) {
  known <- c("disc", "square", "bar")
  ok <- is.character(shapes) && length(shapes) >= 1L && !anyNA(shapes) &&
    all(shapes %in% known)
  if (!ok) {
    abort_bijectors("argument", sprintf(paste(
      "`shapes` must be one or more of \"disc\", \"square\" and \"bar\",",
      "not %s."), describe_value(shapes)))
  }
  unique(shapes)
}
