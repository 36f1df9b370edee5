# Plain-R references for the flow toolkit (issue 3), written from the
# contract and TFP's source. Nothing here calls the package: networks are
# evaluated with %*% and R's arithmetic, masks are rebuilt from TFP's
# `_gen_slices()`/`_gen_mask()` rule, densities come from dnorm(). The only
# contact with the package is reading the weights a template created
# (template_params()), so that the reference can run the same network.

# ---- activations -------------------------------------------------------------

ref_activations <- list(
  relu = function(z) pmax(z, 0),
  tanh = function(z) tanh(z),
  sigmoid = function(z) 1 / (1 + exp(-z)),
  elu = function(z) ifelse(z > 0, z, expm1(pmin(z, 0))),
  softplus = function(z) ifelse(z > 30, z, log1p(exp(pmin(z, 30)))),
  linear = function(z) z
)

ref_activation <- function(name) {
  if (is.null(name)) {
    return(ref_activations$linear)
  }
  ref_activations[[name]]
}

# ---- dense networks ----------------------------------------------------------

# An MLP on the rows of x: act(x %*% W_k + b_k) for the hidden layers, no
# activation on the last one. Kernels are fan_in x fan_out (TF's layout).
ref_mlp <- function(x, kernels, biases, activation) {
  act <- ref_activation(activation)
  h <- x
  n_layers <- length(kernels)
  for (k in seq_len(n_layers)) {
    z <- h %*% kernels[[k]]
    z <- z + matrix(biases[[k]], nrow(z), ncol(z), byrow = TRUE)
    h <- if (k < n_layers) act(z) else z
  }
  h
}

# ---- MADE masks (TFP masked_autoregressive.py) -------------------------------
#
# TFP builds an [n_out, n_in] matrix of zeros; with d_in = n_in %/% blocks and
# d_out = n_out %/% blocks, block b (0-based) sets rows from
# (b + exclusive) * d_out to the end and columns b * d_in .. (b + 1) * d_in - 1
# to one; the kernel's mask is the transpose, [n_in, n_out].
ref_made_mask <- function(num_blocks, n_in, n_out, exclusive) {
  d_in <- n_in %/% num_blocks
  d_out <- n_out %/% num_blocks
  mask <- matrix(0, n_out, n_in)
  row <- if (exclusive) d_out else 0
  col <- 0
  for (b in seq_len(num_blocks)) {
    if (row < n_out && d_in > 0) {
      mask[(row + 1):n_out, (col + 1):(col + d_in)] <- 1
    }
    col <- col + d_in
    row <- row + d_out
  }
  t(mask)
}

# The masks of a whole MADE for an event of size D: exclusive first layer,
# inclusive after, output layer of (1 or 2) * D units.
ref_made_masks <- function(D, hidden_layers, shift_only = FALSE) {
  sizes <- c(D, hidden_layers, (if (shift_only) 1 else 2) * D)
  lapply(seq_len(length(sizes) - 1L), function(k) {
    ref_made_mask(D, sizes[k], sizes[k + 1L], exclusive = k == 1L)
  })
}

# The MADE of tfb_masked_autoregressive_default_template(): outputs are
# interleaved per input dimension (column 2i-1 shift_i, 2i log_scale_i),
# log_scale clipped.
ref_made <- function(y, params, activation, shift_only = FALSE,
                     min_clip = -5, max_clip = 3) {
  y <- matrix(y, ncol = if (is.matrix(y)) ncol(y) else length(y))
  out <- ref_mlp(y, params$kernels, params$biases, activation)
  D <- ncol(y)
  if (shift_only) {
    return(list(shift = out, log_scale = matrix(0, nrow(y), D)))
  }
  shift <- out[, 2L * seq_len(D) - 1L, drop = FALSE]
  log_scale <- out[, 2L * seq_len(D), drop = FALSE]
  log_scale <- pmin(pmax(log_scale, min_clip), max_clip)
  list(shift = shift, log_scale = log_scale)
}

# MAF inverse (density direction) in one pass, and its ILDJ per event.
ref_maf_inverse <- function(y, made) {
  p <- made(y)
  list(x = (y - p$shift) * exp(-p$log_scale), ildj = -rowSums(p$log_scale))
}

# MAF forward (sampling direction): D passes starting from y = 0.
ref_maf_forward <- function(x, made) {
  y <- x * 0
  for (i in seq_len(ncol(x))) {
    p <- made(y)
    y <- x * exp(p$log_scale) + p$shift
  }
  y
}

ref_maf_fldj <- function(x, made) {
  rowSums(made(ref_maf_forward(x, made))$log_scale)
}

# ---- Real NVP ----------------------------------------------------------------

# Which columns pass through and which are transformed, for num_masked d
# (negative: the last |d| columns pass through, as TFP's reverse mask).
ref_nvp_split <- function(D, num_masked) {
  if (num_masked > 0) {
    list(keep = seq_len(num_masked), change = (num_masked + 1):D)
  } else {
    list(keep = (D + num_masked + 1):D, change = seq_len(D + num_masked))
  }
}

# tfb_real_nvp_default_template(): shift = first half of the outputs,
# log_scale = second half (tf.split); shift_only gives log_scale 0.
ref_nvp_net <- function(x1, params, activation, units, shift_only = FALSE) {
  out <- ref_mlp(x1, params$kernels, params$biases, activation)
  if (shift_only) {
    return(list(shift = out, log_scale = matrix(0, nrow(out), units)))
  }
  list(shift = out[, seq_len(units), drop = FALSE],
       log_scale = out[, units + seq_len(units), drop = FALSE])
}

ref_nvp_forward <- function(x, num_masked, net) {
  s <- ref_nvp_split(ncol(x), num_masked)
  p <- net(x[, s$keep, drop = FALSE])
  y <- x
  y[, s$change] <- x[, s$change, drop = FALSE] * exp(p$log_scale) + p$shift
  list(y = y, fldj = rowSums(p$log_scale))
}

ref_nvp_inverse <- function(y, num_masked, net) {
  s <- ref_nvp_split(ncol(y), num_masked)
  p <- net(y[, s$keep, drop = FALSE])
  x <- y
  x[, s$change] <- (y[, s$change, drop = FALSE] - p$shift) * exp(-p$log_scale)
  list(x = x, ildj = -rowSums(p$log_scale))
}

# ---- permutation -------------------------------------------------------------

# Forward of tfb_permute on the last axis: y[, i] = x[, perm[i]].
ref_permute_forward <- function(x, perm) x[, perm, drop = FALSE]
ref_permute_inverse <- function(y, perm) y[, order(perm), drop = FALSE]

# ---- densities ---------------------------------------------------------------

ref_mvn_diag_log_prob <- function(x, loc, scale_diag) {
  x <- matrix(x, ncol = length(scale_diag))
  z <- sweep(sweep(x, 2, loc), 2, scale_diag, "/")
  rowSums(dnorm(z, log = TRUE)) - sum(log(scale_diag))
}

# ---- numerical Jacobians -----------------------------------------------------

# log|det J| of a map of one event (a 1 x D row), by central differences.
numerical_log_det <- function(f, v, h = 1e-5) {
  jac <- numerical_jacobian(function(u) f(matrix(u, nrow = 1)), v, h)
  log_abs_det(jac)
}

# Round trip, opposite log-dets, and both log-dets against numerical
# Jacobians of the first `n_events` events (rows of the matrix y).
expect_bijector_checks <- function(b, y, event_ndims = 1, tolerance = 1e-6,
                                   n_events = 2) {
  x <- b$inverse(y)
  expect_equal(b$forward(x), y, tolerance = 1e-10)
  ildj <- b$inverse_log_det_jacobian(y, event_ndims)
  fldj <- b$forward_log_det_jacobian(x, event_ndims)
  expect_equal(ildj, -fldj, tolerance = 1e-10)
  n <- nrow(y)
  ildj_events <- rep_len(as.vector(ildj), n)
  fldj_events <- rep_len(as.vector(fldj), n)
  for (i in seq_len(min(n_events, n))) {
    expect_equal(
      ildj_events[i],
      numerical_log_det(function(v) b$inverse(v), y[i, ]),
      tolerance = tolerance
    )
    expect_equal(
      fldj_events[i],
      numerical_log_det(function(v) b$forward(v), x[i, ]),
      tolerance = tolerance
    )
  }
  invisible(x)
}

# ---- reading the package's networks ----------------------------------------

# The kernels and biases a built template holds, as
# list(kernels = list(fan_in x fan_out ...), biases = list(...)), read from
# the template's `$weights` (one list(kernel, bias[, mask]) per layer).
template_params <- function(template) {
  w <- template$weights
  list(kernels = unname(lapply(w, function(layer) layer$kernel)),
       biases = unname(lapply(w, function(layer) layer$bias)))
}

# The masks a built MADE template holds, one per layer.
template_masks <- function(template) {
  unname(lapply(template$weights, function(layer) layer$mask))
}

# ---- batch normalization in evaluation mode with random statistics ----------

eval_batch_norm <- function(D, momentum = 0.99, epsilon = 1e-3) {
  layer <- layer_batch_normalization(momentum = momentum, epsilon = epsilon)
  b <- tfb_batch_normalization(layer, training = FALSE)
  b$forward(matrix(0, 1, D))
  w <- random_weights(D)
  set_weights(layer, w)
  list(layer = layer, bijector = b, weights = w, epsilon = epsilon)
}

# Plain-R batch normalization as a map of rows, from the layer's weights.
ref_bn_eval_inverse <- function(y, w, eps) {
  ref_bn_inverse(y, -1L, w$gamma, w$beta, w$moving_mean, w$moving_variance,
                 eps)
}

# ---- miscellaneous -----------------------------------------------------------

round_trip_rds_flow <- function(object) {
  path <- tempfile(fileext = ".rds")
  on.exit(unlink(path))
  saveRDS(object, path)
  readRDS(path)
}

# The scalar-or-per-event log-det `actual` compared with per-event values.
expect_log_det_events <- function(actual, expected, tolerance = 1e-10) {
  if (length(actual) == 1L && length(expected) > 1L) {
    expect_equal(rep_len(as.vector(actual), length(expected)),
                 as.vector(expected), tolerance = tolerance)
  } else {
    expect_equal(as.vector(actual), as.vector(expected), tolerance = tolerance)
  }
}

# Jacobian of f: R^n -> R^m at v by central differences (m x n).
numerical_jacobian_rect <- function(f, v, h = 1e-5) {
  columns <- lapply(seq_along(v), function(k) {
    up <- v
    down <- v
    up[k] <- up[k] + h
    down[k] <- down[k] - h
    (as.vector(f(up)) - as.vector(f(down))) / (2 * h)
  })
  do.call(cbind, columns)
}

# Everything training changes in a flow, as copies: its trainable
# parameters and the weights of each batch-normalization layer.
flow_state <- function(flow) {
  list(
    parameters = trainable_parameters(flow),
    layers = lapply(bijectors:::bijector_batchnorm_layers(flow$bijector),
                    get_weights)
  )
}

# The smallest |pre-activation| of the hidden layers at the rows of v:
# relu's kink is at 0, so central differences with steps much smaller than
# this never cross one.
ref_kink_margin <- function(v, params) {
  h <- v
  smallest <- Inf
  for (k in seq_len(length(params$kernels) - 1L)) {
    z <- h %*% params$kernels[[k]] +
      matrix(params$biases[[k]], nrow(h), ncol(params$kernels[[k]]),
             byrow = TRUE)
    smallest <- min(smallest, abs(z))
    h <- pmax(z, 0)
  }
  smallest
}
