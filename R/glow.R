# tfb_glow(): TFP's Glow (Kingma and Dhariwal, 2018), the image flow, built
# as TFP builds it (glow.py; the reference sheet's section 3.2) but run as
# one kind: its components are internal operations on image arrays of dim
# c(N, h, w, c) rather than a chain of public bijectors, so that the whole
# pass stays on one array layout.
#
# Forward (latent vectors -> images), TFP's chain read from the start:
#   reshape [H W C] -> [H / 2^n, W / 2^n, 4^n C] (row-major, as TF)
#   for each level i = 1 .. n, coarse to fine:
#     the exit's inverse: an affine coupling of the grabbed channels
#       conditioned on the channels that continue (scale exp(o + 2))
#     the block's steps, each: coupling inverse (scale sigmoid(o + 2)),
#       1x1 convolution inverse (an LU matvec over the channels), ActNorm
#       forward
#     expand: 4 channels -> a 2 x 2 pixel block (R/glow_squeeze.R)
# The inverse (images -> latents, the paper's "forward") runs the same
# operations backwards. Exits and blocks act on the first nleave + ngrab
# channels of their level; the npass channels that left at finer levels
# pass through (TFP's Blockwise with an Identity).

#' Glow: a normalizing flow for images
#'
#' TFP's `Glow` bijector (`tfp$bijectors$Glow`; Kingma and Dhariwal, 2018)
#' with tfprobability's signature. Its **forward** map takes latent vectors
#' of length `H * W * C` to images of shape `output_shape = c(H, W, C)`
#' (channels last, as everywhere in this package); the inverse takes images
#' to latents (the Glow paper's "forward" direction). So a flow of images is
#' `tfd_transformed_distribution(<base of H * W * C values>, tfb_glow(...))`.
#'
#' The architecture is TFP's. The latent is reshaped (row-major, as TF's
#' reshape) to `H / 2^n x W / 2^n x 4^n C` with `n = num_glow_blocks`; then
#' for each of the `n` levels, from the coarsest: an exit, a block of
#' `num_steps_per_block` steps, and an expansion of each group of 4
#' channels into a 2 x 2 pixel block (channel `4q + 2a + b` goes to pixel
#' `(2i + a, 2j + b)`, channel `q`: TFP's order, so that latents are in
#' TFP's order). At each level the channels split into `nleave` (continue
#' to coarser levels), `ngrab` (leave the flow after this level, in the
#' data direction) and `npass` (left at a finer level), counted as TFP's
#' `_get_blockwise_splits()` from `grab_after_block`; exits and blocks act
#' on the first `nleave + ngrab` channels. A step, in the forward
#' direction: the inverse of an affine coupling of half the channels
#' conditioned on the other half (`scale = sigmoid(o + 2)`, `shift`, from
#' the coupling network's output `o`), the inverse of a 1x1 convolution (an
#' invertible channel-mixing matrix in LU form, [tfb_scale_matvec_lu()],
#' initialised as TFP from the QR of a uniform random matrix) and an
#' [tfb_activation_normalization()] (if `use_actnorm`). An exit is an
#' affine coupling of the grabbed channels on those that continue, with
#' `scale = exp(o + 2)`.
#'
#' Every network weight, 1x1 convolution (its LU factors, with the
#' log-absolute diagonal trained as for [tfb_scale_matvec_lu()]) and ActNorm
#' scale and shift is a trainable parameter, with analytic gradients in both
#' directions (the convolutions' backward passes in C), so [fit()] trains a
#' Glow flow.
#'
#' Log-dets: `forward_log_det_jacobian(z, event_ndims)` takes
#' `event_ndims >= 1` (latent vectors); `inverse_log_det_jacobian(x,
#' event_ndims)` takes `event_ndims >= 3` (images). Any leading batch dims
#' are allowed. The ActNorm layers initialise from the data of the first
#' call, in whichever direction it is (TFP's data-dependent
#' initialisation); a call that fails leaves them as they were.
#'
#' @section Networks:
#' `coupling_bijector_fn(input_shape)` is called once per step with the
#' shape `c(h, w, c / 2)` of the conditioning half and must return a network
#' template of this package taking `c / 2` channels: with `c` output
#' channels the coupling is affine (a scale and a shift per channel), with
#' `c / 2` additive (a shift only). `exit_bijector_fn(input_shape,
#' output_chan)` is called once per exit with `c(h, w, nleave)` and
#' `output_chan = ngrab`, and likewise returns `2 * ngrab` (affine) or
#' `ngrab` (additive) channels. `NULL` means [glow_default_network()] (400
#' hidden filters) and [glow_default_exit_network()], the functions TFP's
#' users pass; TFP fails with `NULL`. For a smaller coupling network pass
#' `function(input_shape) glow_default_network(input_shape, num_hidden =
#' 32)`.
#'
#' @section Departures from TFP:
#' * `NULL` networks mean the defaults (TFP calls `None` and fails).
#' * An exit slices the scale and shift of its network's output by the
#'   number of grabbed channels; TFP slices by `nleave`, which agrees only
#'   when `nleave == ngrab` (the default splits) and fails otherwise.
#' * `use_actnorm` defaults to `TRUE`, as TFP's signature (its
#'   documentation says `FALSE`).
#' * `seed` seeds R's random number generator for everything drawn at
#'   construction (the 1x1 convolutions and the he-normal network weights),
#'   restoring the generator's state afterwards; `NULL` uses the current
#'   state. Values differ from TFP's, whose generator is TensorFlow's.
#' * Networks returning bijectors (allowed by TFP) are not supported yet
#'   (error of class `bijectors_error_unsupported`).
#'
#' @param output_shape Three whole numbers `c(H, W, C)`: the shape of the
#'   images, channels last.
#' @param num_glow_blocks Whole number >= 1: the levels `n`; `H` and `W`
#'   must be divisible by `2^n`.
#' @param num_steps_per_block Whole number >= 1: the steps per level.
#' @param coupling_bijector_fn,exit_bijector_fn `NULL` or functions
#'   returning network templates: see the section Networks.
#' @param grab_after_block `NULL` (`c(rep(0.5, n - 1), 0)`) or `n` numbers in
#'   `[0, 1]`: the fraction of the remaining channels that leaves the flow
#'   after each block, from the finest level (in the data direction).
#' @param use_actnorm `TRUE` or `FALSE`: an ActNorm in every step.
#' @param seed `NULL` or a whole number: see the departures.
#' @param validate_args `TRUE` or `FALSE`; accepted for compatibility.
#' @param name String: the bijector's name.
#' @return A bijector of class `c("tfb_glow", "bijector")` with
#'   `forward_min_event_ndims = 1` and `inverse_min_event_ndims = 3`.
#'   Fields: `$output_shape`, `$num_glow_blocks`, `$num_steps_per_block`,
#'   `$grab_after_block`, `$blockwise_splits` (one `c(nleave, ngrab, npass)`
#'   per level, coarsest first, as TFP's) and `$use_actnorm`.
#' @family bijectors
#' @seealso [glow_default_network()], [glow_default_exit_network()],
#'   [tfb_activation_normalization()].
#' @examples
#' set.seed(1)
#' glow <- tfb_glow(output_shape = c(8, 8, 2), num_glow_blocks = 2,
#'                  num_steps_per_block = 1,
#'                  coupling_bijector_fn = function(input_shape) {
#'                    glow_default_network(input_shape, num_hidden = 8)
#'                  },
#'                  grab_after_block = c(0.5, 0.5))
#' glow
#' glow$blockwise_splits
#' images <- array(rnorm(3 * 8 * 8 * 2), c(3, 8, 8, 2))
#' z <- glow$inverse(images)          # initialises the ActNorm layers
#' dim(z)
#' max(abs(glow$forward(z) - images))
#' glow$inverse_log_det_jacobian(images, event_ndims = 3)
#' @export
tfb_glow <- function(output_shape = c(32, 32, 3), num_glow_blocks = 3,
                     num_steps_per_block = 32, coupling_bijector_fn = NULL,
                     exit_bijector_fn = NULL, grab_after_block = NULL,
                     use_actnorm = TRUE, seed = NULL, validate_args = FALSE,
                     name = "glow") {
  output_shape <- check_glow_shape(output_shape)
  n <- check_count(num_glow_blocks, "num_glow_blocks")
  steps <- check_count(num_steps_per_block, "num_steps_per_block")
  name <- check_string(name, "name")
  use_actnorm <- check_flag(use_actnorm, "use_actnorm")
  validate_args <- check_flag(validate_args, "validate_args")
  coupling_bijector_fn <- check_glow_network_fn(coupling_bijector_fn,
                                                "coupling_bijector_fn")
  exit_bijector_fn <- check_glow_network_fn(exit_bijector_fn,
                                            "exit_bijector_fn")
  if (!is.null(seed)) {
    seed <- check_number(seed, "seed", what = "NULL or a whole number")
  }
  h <- output_shape[[1L]]
  w <- output_shape[[2L]]
  if (w %% 2^n != 0) {
    abort_bijectors("argument", sprintf(paste(
      "The width (%d) of `output_shape` must be divisible by 2 at least",
      "`num_glow_blocks` (%d) times."), w, n))
  }
  if (h %% 2^n != 0) {
    abort_bijectors("argument", sprintf(paste(
      "The height (%d) of `output_shape` must be divisible by 2 at least",
      "`num_glow_blocks` (%d) times."), h, n))
  }
  grab_after_block <- check_grab_after_block(grab_after_block, n)
  splits <- glow_blockwise_splits(output_shape, grab_after_block)
  check_glow_splits(splits, grab_after_block)

  if (!is.null(seed)) {
    restore_rng <- local_seed(seed)
    on.exit(restore_rng())
  }
  levels <- vector("list", n)
  for (i in seq_len(n)) {
    split <- splits[[i]]
    size <- c(h, w) %/% 2^n * 2^(i - 1L)
    levels[[i]] <- glow_level(size, split, steps, coupling_bijector_fn,
                              exit_bijector_fn, use_actnorm)
  }
  new_bijector(
    "tfb_glow",
    name = name,
    forward_min_event_ndims = 1L,
    inverse_min_event_ndims = 3L,
    validate_args = validate_args,
    output_shape = output_shape,
    num_glow_blocks = n,
    num_steps_per_block = steps,
    grab_after_block = grab_after_block,
    blockwise_splits = splits,
    use_actnorm = use_actnorm,
    levels = levels
  )
}

# ---- construction -------------------------------------------------------------

check_glow_shape <- function(x) {
  shape <- unlist_shape(x)
  if (!is.numeric(shape) || is.object(shape) || length(shape) != 3L) {
    abort_bijectors("argument", sprintf(paste(
      "`output_shape` must have 3 dimensions for images, c(H, W, C), not",
      "%s."), describe_value(x)))
  }
  check_image_shape(shape, "output_shape")
}

check_glow_network_fn <- function(fn, arg) {
  if (!is.null(fn) && !is.function(fn)) {
    abort_bijectors("argument", sprintf(paste(
      "`%s` must be NULL (the default network) or a function returning a",
      "network template, such as glow_default_network, not %s."), arg,
      describe_value(fn)))
  }
  fn
}

check_grab_after_block <- function(grab, n) {
  if (is.null(grab)) {
    return(c(rep(0.5, n - 1L), 0))
  }
  grab <- unlist_shape(grab)
  ok <- is.numeric(grab) && !is.object(grab) && !anyNA(grab) &&
    all(is.finite(grab)) && all(grab >= 0 & grab <= 1)
  if (!ok) {
    abort_bijectors("argument", sprintf(paste(
      "`grab_after_block` must be NULL or numbers in [0, 1], not %s."),
      describe_value(grab)))
  }
  if (length(grab) != n) {
    abort_bijectors("argument", sprintf(paste(
      "`grab_after_block` has %d values; it must have one per block",
      "(`num_glow_blocks` = %d)."), length(grab), n))
  }
  as.double(grab)
}

# TFP's _get_blockwise_splits(): walking from the finest level (which uses
# grab_after_block[1]) to the coarsest, level k has 4^k C channels of which
# npass left at finer levels; ngrab = floor((channels - npass) * fraction)
# leave here, nleave continue. Returned coarsest first, as TFP's.
glow_blockwise_splits <- function(output_shape, grab_after_block) {
  channels <- output_shape[[3L]]
  npass <- 0
  splits <- list()
  for (k in seq_along(grab_after_block)) {
    nchan <- 4^k * channels
    ngrab <- floor((nchan - npass) * grab_after_block[[k]])
    nleave <- nchan - ngrab - npass
    splits[[k]] <- as.integer(c(nleave, ngrab, npass))
    npass <- 4 * (npass + ngrab)
  }
  rev(splits)
}

check_glow_splits <- function(splits, grab_after_block) {
  nleave <- vapply(splits, `[[`, numeric(1), 1L)
  ngrab <- vapply(splits, `[[`, numeric(1), 2L)
  if (any(nleave < 1)) {
    abort_bijectors("argument", sprintf(paste(
      "With this `grab_after_block`, an exit takes all of its channels and",
      "leaves none for the later blocks (at block %d from the finest): use",
      "a smaller fraction there."),
      length(splits) + 1L - which(nleave < 1)[[1L]]))
  }
  # TFP skips this check when some fraction is (close to) zero
  if (!any(abs(grab_after_block) < 1e-8) && any(ngrab < 1)) {
    abort_bijectors("argument", sprintf(paste(
      "With this `grab_after_block`, an exit takes no channel (at block %d",
      "from the finest): use a larger fraction there."),
      length(splits) + 1L - which(ngrab < 1)[[1L]]))
  }
  invisible(splits)
}

# Sets R's seed for the construction; the returned function puts the
# generator's state back.
local_seed <- function(seed) {
  had_seed <- exists(".Random.seed", envir = globalenv(), inherits = FALSE)
  old <- if (had_seed) get(".Random.seed", envir = globalenv())
  set.seed(seed)
  function() {
    if (had_seed) {
      assign(".Random.seed", old, envir = globalenv())
    } else if (exists(".Random.seed", envir = globalenv(), inherits = FALSE)) {
      rm(".Random.seed", envir = globalenv())
    }
  }
}

# One level: its exit (NULL for an identity) and its steps. `size` is the
# level's c(h, w).
glow_level <- function(size, split, steps, coupling_fn, exit_fn,
                       use_actnorm) {
  nleave <- split[[1L]]
  ngrab <- split[[2L]]
  channels <- nleave + ngrab
  exit <- NULL
  if (nleave > 0L && ngrab > 0L) {
    network <- if (is.null(exit_fn)) {
      glow_default_exit_network(c(size, nleave), output_chan = ngrab)
    } else {
      exit_fn(c(size, nleave), output_chan = ngrab)
    }
    exit <- glow_coupling(network, nleave, ngrab, "exp", "exit_bijector_fn")
  }
  half <- channels %/% 2L
  if (channels - half != half) {
    abort_bijectors("argument", sprintf(paste(
      "A Glow block has %d channels, an odd number: its couplings need an",
      "even split (TFP fails there too). Change `grab_after_block`."),
      channels))
  }
  block <- lapply(seq_len(steps), function(j) {
    network <- if (is.null(coupling_fn)) {
      glow_default_network(c(size, half))
    } else {
      coupling_fn(c(size, half))
    }
    list(coupling = glow_coupling(network, half, half, "sigmoid",
                                  "coupling_bijector_fn"),
         convolution = glow_one_by_one(channels),
         actnorm = if (use_actnorm) tfb_activation_normalization(channels))
  })
  list(size = as.integer(size), split = split, channels = channels,
       exit = exit, steps = block)
}

# An affine (or additive) coupling of `transformed` channels on `masked`
# channels through `network`, checked as TFP's make_bijector_fn() checks
# the network's output.
glow_coupling <- function(network, masked, transformed, scale_fn, arg) {
  if (inherits(network, "bijector")) {
    abort_bijectors("unsupported", sprintf(paste(
      "`%s` returned a bijector; only network templates (such as",
      "glow_default_network()) are supported so far."), arg))
  }
  if (!is_glow_network(network)) {
    abort_bijectors("template", sprintf(paste(
      "`%s` must return a network template (such as glow_default_network()),",
      "not %s."), arg, describe_value(network)))
  }
  inputs <- .subset2(network, "input_shape")[[3L]]
  outputs <- .subset2(network, "output_channels")
  if (inputs != masked || !outputs %in% c(transformed, 2L * transformed)) {
    abort_bijectors("template", sprintf(paste(
      "Shape inconsistent with input: the network from `%s` takes %d",
      "channels and outputs %d, but the coupling conditions on %d and",
      "needs %d (additive) or %d (affine)."), arg, inputs, outputs, masked,
      transformed, 2L * transformed))
  }
  list(network = network, masked = as.integer(masked),
       transformed = as.integer(transformed),
       affine = outputs == 2L * transformed, scale_fn = scale_fn)
}

# TFP's OneByOneConv initialisation: the LU factors (with partial pivoting)
# of the orthonormal Q of a uniform random matrix.
glow_one_by_one <- function(channels) {
  random <- matrix(stats::runif(channels * channels), channels, channels)
  orthonormal <- qr.Q(qr(random))
  factors <- .Call(C_linear_lu_factor, orthonormal)
  tfb_scale_matvec_lu(factors[[1L]], factors[[2L]])
}

# ---- the operations ---------------------------------------------------------------

# Each takes images x (dim c(N, h, w, c)) and returns list(x, log_det) with
# the log-det of that operation per image (a vector of length N). They act
# on the first channels of x and leave the rest.

per_image_sum <- function(values, n) {
  rowSums(matrix(values, nrow = n))
}

# log(sigmoid(v)) without overflow or cancellation.
log_sigmoid <- function(v) {
  -(pmax(-v, 0) + log1p(exp(-abs(v))))
}

# The coupling's RealNVP map: "forward" is x1 * scale + shift, "inverse"
# its inverse, with the scale and shift from the network on the masked
# channels. With `keep`, the result has `cache`, what
# glow_coupling_backward() needs.
glow_coupling_map <- function(op, x, direction, keep = FALSE) {
  n <- dim(x)[[1L]]
  masked <- seq_len(op$masked)
  transformed <- op$masked + seq_len(op$transformed)
  conditioner <- x[, , , masked, drop = FALSE]
  run <- glow_network_forward(op$network, conditioner, keep_hidden = keep)
  out <- if (keep) run$output else run
  part <- x[, , , transformed, drop = FALSE]
  t <- op$transformed
  log_scale <- NULL
  scale <- NULL
  if (op$affine) {
    pre <- out[, , , seq_len(t), drop = FALSE] + 2
    shift <- out[, , , t + seq_len(t), drop = FALSE]
    log_scale <- if (op$scale_fn == "sigmoid") log_sigmoid(pre) else pre
    scale <- exp(log_scale)
    if (direction == "forward") {
      result <- part * scale + shift
      log_det <- per_image_sum(log_scale, n)
    } else {
      result <- (part - shift) / scale
      log_det <- -per_image_sum(log_scale, n)
    }
  } else {
    shift <- out[, , , seq_len(t), drop = FALSE]
    result <- if (direction == "forward") part + shift else part - shift
    log_det <- numeric(n)
  }
  x[, , , transformed] <- result
  value <- list(x = x, log_det = log_det)
  if (keep) {
    # the transformed channels before (forward) or after (inverse) the map
    # are the ones the log-scale's gradient needs
    value$cache <- list(conditioner = conditioner, run = run,
                        scale = scale, pre = if (op$affine) pre,
                        original = if (direction == "forward") part else
                          result)
  }
  value
}

# The 1x1 convolution: y = W x over the channels at every pixel
# ("forward"), or the solve.
glow_convolution_map <- function(lu, x, direction) {
  d <- dim(x)
  channels <- seq_len(.subset2(lu, "size"))
  part <- linear_apply(lu, x[, , , channels, drop = FALSE], FALSE,
                       solve = direction == "inverse")
  x[, , , channels] <- part
  log_det <- linear_log_abs_det(lu) * d[[2L]] * d[[3L]]
  list(x = x, log_det = rep(if (direction == "forward") log_det else
    -log_det, d[[1L]]))
}

glow_actnorm_map <- function(actnorm, x, direction) {
  d <- dim(x)
  channels <- seq_len(.subset2(actnorm, "nchan"))
  part <- x[, , , channels, drop = FALSE]
  part <- if (direction == "forward") bijector_forward(actnorm, part) else
    bijector_inverse(actnorm, part)
  x[, , , channels] <- part
  log_det <- -sum(.subset2(actnorm, "parameters")[[2L]]) * d[[2L]] * d[[3L]]
  list(x = x, log_det = rep(if (direction == "forward") log_det else
    -log_det, d[[1L]]))
}

# ---- the passes ----------------------------------------------------------------------

glow_actnorms <- function(bijector) {
  out <- list()
  for (level in .subset2(bijector, "levels")) {
    for (step in level$steps) {
      if (!is.null(step$actnorm)) out[[length(out) + 1L]] <- step$actnorm
    }
  }
  out
}

# Runs `expr` (a pass) as one transaction for the ActNorm layers: if it
# does not complete, every layer gets back the state it had.
with_actnorm_rollback <- function(bijector, expr) {
  layers <- glow_actnorms(bijector)
  saved <- lapply(layers, function(layer) {
    list(parameters = .subset2(layer, "parameters"),
         initialized = .subset2(layer, "initialized"))
  })
  done <- FALSE
  on.exit(if (!done) {
    for (k in seq_along(layers)) {
      assign("parameters", saved[[k]]$parameters, envir = layers[[k]])
      assign("initialized", saved[[k]]$initialized, envir = layers[[k]])
    }
  })
  value <- expr
  done <- TRUE
  value
}

# Latents (an N x D matrix) to images (c(N, H, W, C)) with the forward
# log-det per event.
glow_forward_pass <- function(bijector, z) {
  shape <- .subset2(bijector, "output_shape")
  n_blocks <- .subset2(bijector, "num_glow_blocks")
  levels <- .subset2(bijector, "levels")
  coarse <- c(shape[1:2] %/% 2^n_blocks, shape[[3L]] * 4^n_blocks)
  x <- glow_latent_to_image(z, coarse)
  log_det <- numeric(dim(x)[[1L]])
  for (level in levels) {
    if (!is.null(level$exit)) {
      step <- glow_coupling_map(level$exit, x, "inverse")
      x <- step$x
      log_det <- log_det + step$log_det
    }
    for (step in level$steps) {
      out <- glow_coupling_map(step$coupling, x, "inverse")
      out2 <- glow_convolution_map(step$convolution, out$x, "inverse")
      log_det <- log_det + out$log_det + out2$log_det
      x <- out2$x
      if (!is.null(step$actnorm)) {
        out <- glow_actnorm_map(step$actnorm, x, "forward")
        x <- out$x
        log_det <- log_det + out$log_det
      }
    }
    x <- glow_expand(x)
  }
  list(x = x, log_det = log_det)
}

# Images (c(N, H, W, C)) to latents (an N x D matrix) with the inverse
# log-det per event.
glow_inverse_pass <- function(bijector, x) {
  levels <- .subset2(bijector, "levels")
  log_det <- numeric(dim(x)[[1L]])
  for (level in rev(levels)) {
    x <- glow_squeeze(x)
    for (step in rev(level$steps)) {
      if (!is.null(step$actnorm)) {
        out <- glow_actnorm_map(step$actnorm, x, "inverse")
        x <- out$x
        log_det <- log_det + out$log_det
      }
      out <- glow_convolution_map(step$convolution, x, "forward")
      out2 <- glow_coupling_map(step$coupling, out$x, "forward")
      log_det <- log_det + out$log_det + out2$log_det
      x <- out2$x
    }
    if (!is.null(level$exit)) {
      out <- glow_coupling_map(level$exit, x, "forward")
      x <- out$x
      log_det <- log_det + out$log_det
    }
  }
  list(z = glow_image_to_latent(x), log_det = log_det)
}

# ---- inputs ---------------------------------------------------------------------------

# Latents: a vector of length D = H W C (one event) or an array whose last
# axis has D values. Returns list(z = N x D matrix, batch = batch dims).
glow_latent_input <- function(bijector, z, arg) {
  z <- as_input_array(z, arg)
  dims <- input_dims(z)
  size <- prod(.subset2(bijector, "output_shape"))
  if (dims[[length(dims)]] != size) {
    abort_bijectors("event_size", sprintf(paste(
      "`%s` must hold latent vectors of length %d (H * W * C) along its",
      "last axis, not %s."), arg, size, format(dims[[length(dims)]])))
  }
  if (length(z) == 0L) {
    abort_bijectors("input", sprintf("`%s` has no events.", arg))
  }
  batch <- dims[-length(dims)]
  list(z = matrix(z, ncol = size), batch = batch)
}

# Images: an array whose last three dims are output_shape. Returns
# list(x = c(N, H, W, C) array, batch = batch dims).
glow_image_input <- function(bijector, x, arg) {
  x <- as_input_array(x, arg)
  dims <- input_dims(x)
  shape <- .subset2(bijector, "output_shape")
  rank <- length(dims)
  if (rank < 3L || any(dims[(rank - 2L):rank] != shape)) {
    abort_bijectors("event_size", sprintf(paste(
      "`%s` must be images of shape c(%s) in its last three dims (channels",
      "last), not an array of dim c(%s)."), arg,
      paste(shape, collapse = ", "), paste(dims, collapse = ", ")))
  }
  if (length(x) == 0L) {
    abort_bijectors("input", sprintf("`%s` has no images.", arg))
  }
  batch <- dims[seq_len(rank - 3L)]
  list(x = array(x, c(prod(batch), shape)), batch = batch)
}

# Per-event log-dets (one per latent or image) reduced over the event dims
# beyond the minimum: shaped as the remaining batch dims.
glow_reduce_log_det <- function(log_det, batch, extra) {
  kept <- batch[seq_len(length(batch) - extra)]
  if (extra > 0L) {
    log_det <- rowSums(matrix(log_det, nrow = prod(kept)))
  }
  if (length(kept) == 0L) {
    return(sum(log_det))
  }
  if (length(kept) > 1L) {
    dim(log_det) <- kept
  }
  log_det
}

# ---- the kind's methods ------------------------------------------------------------

#' @export
bijector_forward.tfb_glow <- function(bijector, x) {
  input <- glow_latent_input(bijector, x, "x")
  pass <- with_actnorm_rollback(bijector, glow_forward_pass(bijector,
                                                            input$z))
  array(pass$x, c(input$batch, .subset2(bijector, "output_shape")))
}

#' @export
bijector_inverse.tfb_glow <- function(bijector, y) {
  input <- glow_image_input(bijector, y, "y")
  pass <- with_actnorm_rollback(bijector, glow_inverse_pass(bijector,
                                                            input$x))
  if (length(input$batch) == 0L) {
    return(as.vector(pass$z))
  }
  array(pass$z, c(input$batch, ncol(pass$z)))
}

#' @export
bijector_forward_log_det_jacobian.tfb_glow <- function(bijector, x,
                                                       event_ndims) {
  input <- glow_latent_input(bijector, x, "x")
  pass <- with_actnorm_rollback(bijector, glow_forward_pass(bijector,
                                                            input$z))
  glow_reduce_log_det(pass$log_det, input$batch, event_ndims - 1L)
}

#' @export
bijector_inverse_log_det_jacobian.tfb_glow <- function(bijector, y,
                                                       event_ndims) {
  input <- glow_image_input(bijector, y, "y")
  pass <- with_actnorm_rollback(bijector, glow_inverse_pass(bijector,
                                                            input$x))
  glow_reduce_log_det(pass$log_det, input$batch, event_ndims - 3L)
}

#' @export
bijector_inverse_and_log_det.tfb_glow <- function(bijector, y, event_ndims) {
  input <- glow_image_input(bijector, y, "y")
  pass <- with_actnorm_rollback(bijector, glow_inverse_pass(bijector,
                                                            input$x))
  z <- if (length(input$batch) == 0L) as.vector(pass$z) else
    array(pass$z, c(input$batch, ncol(pass$z)))
  list(x = z, log_det = glow_reduce_log_det(pass$log_det, input$batch,
                                            event_ndims - 3L))
}

#' @export
bijector_forward_and_log_det.tfb_glow <- function(bijector, x, event_ndims) {
  input <- glow_latent_input(bijector, x, "x")
  pass <- with_actnorm_rollback(bijector, glow_forward_pass(bijector,
                                                            input$z))
  list(y = array(pass$x, c(input$batch, .subset2(bijector, "output_shape"))),
       log_det = glow_reduce_log_det(pass$log_det, input$batch,
                                     event_ndims - 1L))
}

#' @export
bijector_forward_event_shape.tfb_glow <- function(bijector, shape) {
  size <- prod(.subset2(bijector, "output_shape"))
  rank <- length(shape)
  if (shape[[rank]] != size) {
    abort_bijectors("event_shape", sprintf(
      "Glow's latent events have %d values (H * W * C), not %s.", size,
      format(shape[[rank]])))
  }
  c(shape[-rank], .subset2(bijector, "output_shape"))
}

#' @export
bijector_inverse_event_shape.tfb_glow <- function(bijector, shape) {
  output_shape <- .subset2(bijector, "output_shape")
  rank <- length(shape)
  if (any(shape[(rank - 2L):rank] != output_shape)) {
    abort_bijectors("event_shape", sprintf(
      "Glow's images have shape c(%s), not c(%s).",
      paste(output_shape, collapse = ", "),
      paste(shape[(rank - 2L):rank], collapse = ", ")))
  }
  c(shape[seq_len(rank - 3L)], prod(output_shape))
}

#' @export
bijector_changes_shape.tfb_glow <- function(bijector) {
  TRUE
}

# The trainable arrays, level by level (coarsest first) and step by step;
# R/glow_training.R returns their gradients in this order.
#' @export
bijector_parameter_slots.tfb_glow <- function(bijector) {
  slots <- list()
  add <- function(prefix, new_slots) {
    for (slot in new_slots) {
      slot$name <- paste0(prefix, slot$name)
      slots[[length(slots) + 1L]] <<- slot
    }
  }
  levels <- .subset2(bijector, "levels")
  for (i in seq_along(levels)) {
    level <- levels[[i]]
    if (!is.null(level$exit)) {
      add(sprintf("level%d/exit/", i),
          glow_network_parameter_slots(level$exit$network))
    }
    for (j in seq_along(level$steps)) {
      step <- level$steps[[j]]
      prefix <- sprintf("level%d/step%d/", i, j)
      add(paste0(prefix, "coupling/"),
          glow_network_parameter_slots(step$coupling$network))
      add(paste0(prefix, "convolution/"),
          bijector_parameter_slots(step$convolution))
      if (!is.null(step$actnorm)) {
        add(paste0(prefix, "actnorm/"), bijector_parameter_slots(step$actnorm))
      }
    }
  }
  slots
}

#' @export
object_field_names.tfb_glow <- function(x) {
  c(NextMethod(), "output_shape", "num_glow_blocks", "num_steps_per_block",
    "grab_after_block", "blockwise_splits", "use_actnorm")
}

#' @export
format.tfb_glow <- function(x, ...) {
  shape <- .subset2(x, "output_shape")
  splits <- vapply(.subset2(x, "blockwise_splits"), function(s) {
    sprintf("[%s]", paste(s, collapse = ", "))
  }, character(1))
  actnorms <- glow_actnorms(x)
  initialised <- if (length(actnorms) == 0L) "no ActNorm" else
    if (all(vapply(actnorms, .subset2, logical(1), "initialized")))
      "ActNorm initialised" else "ActNorm not initialised"
  c(NextMethod(),
    sprintf("  images %d x %d x %d (channels last) <- latents of %d",
            shape[[1L]], shape[[2L]], shape[[3L]], prod(shape)),
    sprintf("  %d blocks of %d steps; splits [nleave, ngrab, npass]: %s",
            .subset2(x, "num_glow_blocks"),
            .subset2(x, "num_steps_per_block"),
            paste(splits, collapse = " ")),
    sprintf("  %s", initialised))
}
