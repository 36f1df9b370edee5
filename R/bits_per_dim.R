# Likelihoods of quantised images: uniform dequantisation onto the unit
# scale, and the bits per dimension of a continuous density there, the
# figure image flows are compared by.

#' Dequantise images onto the unit scale
#'
#' Turns quantised pixel values (whole numbers `0, ..., levels - 1`, as
#' [sample_shapes_images()] draws and 8-bit images hold) into continuous
#' values in `(0, 1)` by adding uniform noise and dividing by `levels`:
#' `(x + u) / levels` with `u` uniform on `(0, 1)`, one draw per pixel (R's
#' [runif()], so [set.seed()] reproduces it). Each value then falls in its
#' own bin of width `1 / levels`, and a continuous density `p` on the unit
#' scale gives the discrete image the probability `P(x)`, whose logarithm
#' is bounded below (in expectation over `u`) by `log p((x + u) / levels) -
#' D log(levels)` for `D` pixel values (Theis et al., 2016; Ho et al.,
#' 2019): training a flow on dequantised images maximises a lower bound of
#' the discrete log-likelihood. Drawing new noise at each epoch keeps the
#' flow from fitting the noise.
#'
#' @param x A numeric array (or vector) of whole numbers in `[0, levels -
#'   1]`.
#' @param levels Whole number >= 2: the number of intensity levels (256 for
#'   8-bit images).
#' @return A double array with the dim of `x` (other attributes dropped)
#'   and values in `(0, 1)`.
#' @family training
#' @seealso [bits_per_dim()] to score a flow on the result,
#'   [sample_shapes_images()]; `vignette("image-flows", package =
#'   "bijectors")`.
#' @examples
#' set.seed(1)
#' pixels <- c(0, 1, 254, 255)
#' dequantize(pixels)
#' floor(dequantize(pixels) * 256)   # the bins give the pixels back
#' @export
dequantize <- function(x, levels = 256L) {
  levels <- check_count(levels, "levels")
  if (levels < 2L) {
    abort_bijectors("argument",
                    "`levels` must be a whole number >= 2, not 1.")
  }
  ok <- is.numeric(x) && !is.object(x) && length(x) >= 1L && !anyNA(x) &&
    all(is.finite(x)) && all(x == round(x)) && all(x >= 0) &&
    all(x <= levels - 1L)
  if (!ok) {
    abort_bijectors("argument", sprintf(paste(
      "`x` must hold whole numbers in [0, %d] (pixel values with `levels` =",
      "%d), not %s."), levels - 1L, levels, describe_value(x)))
  }
  out <- (as.double(x) + stats::runif(length(x))) / levels
  dim(out) <- dim(x)
  out
}

#' Bits per dimension of images under a flow
#'
#' The score image flows are usually compared by: the negative
#' log-likelihood of each image in bits, divided by its number of values
#' `D` (pixels times channels). For a distribution with a density `p` over
#' dequantised images on the unit scale ([dequantize()]), whose bins have
#' width `1 / L` for `L = levels`, it is
#' \deqn{-\log p(x) / (D \log 2) + \log_2 L,}{-log p(x) / (D log 2) + log2(L),}
#' an upper bound (in expectation over the dequantisation noise) of the
#' bits per dimension of the discrete images: 8 bits per dimension is the
#' uniform distribution over 8-bit images, lower is better. The density
#' must be that of the unit-scale values: a flow that works on another
#' scale (a logit, a standardization) includes that map, with its
#' log-determinant, as its last bijector (as in the vignette), and so does
#' any baseline compared with it.
#'
#' @param distribution A distribution with a `log_prob()` (such as a
#'   [tfd_transformed_distribution()] of images); for a flow with batch
#'   normalization, its [evaluation_mode()] view.
#' @param x Dequantised images on the unit scale: an array with one event
#'   of the distribution's event shape per index of its first axis (or one
#'   event).
#' @param levels Whole number >= 2: the number of intensity levels the
#'   images were quantised to.
#' @return A double vector: the bits per dimension of each image.
#' @family training
#' @seealso [dequantize()], [sample_shapes_images()], [tfb_glow()];
#'   `vignette("image-flows", package = "bijectors")`.
#' @examples
#' # A normal base through its own CDF is uniform on (0, 1)^D: exactly
#' # log2(256) = 8 bits per dimension for 8-bit images.
#' uniform <- tfd_transformed_distribution(
#'   tfd_sample_distribution(tfd_normal(0, 1), c(4, 4, 1)),
#'   tfb_normal_cdf())
#' set.seed(1)
#' images <- dequantize(sample_shapes_images(3, size = 4))
#' bits_per_dim(uniform, images)
#' @export
bits_per_dim <- function(distribution, x, levels = 256L) {
  levels <- check_count(levels, "levels")
  if (levels < 2L) {
    abort_bijectors("argument",
                    "`levels` must be a whole number >= 2, not 1.")
  }
  if (!inherits(distribution, "distribution")) {
    abort_bijectors("distribution", sprintf(paste(
      "`distribution` must be a distribution of this package (such as",
      "tfd_transformed_distribution()), not %s."),
      describe_value(distribution)))
  }
  event_size <- prod(.subset2(distribution, "event_shape"))
  log_prob <- tfd_log_prob(distribution, x)
  -as.vector(log_prob) / (event_size * log(2)) + log2(levels)
}
