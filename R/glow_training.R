# Gradients through tfb_glow(): both passes of R/glow.R run again keeping
# what each operation's backward rule needs (a "tape", one entry per
# operation in the order they ran), then the tape is walked backwards.
# The rules: squeeze, expand and the latent reshape are permutations (the
# gradient goes through the inverse permutation); the couplings use the
# network's C backward pass (src/conv2d.c) and the chain rule below; the
# 1x1 convolutions and ActNorm use their own bijectors' backward passes on
# the channels they act on.
#
# Coupling with s = exp(l), l = log-scale of p = o_s + 2 (l = log sigmoid(p)
# or l = p), shift t = o_t, g the gradient of the coupling's output and w
# the weight of each image's log-det:
#   forward  y1 = x1 s + t:    dx1 = g s,  dt = g,      dl = g x1 s + w
#   inverse  x1 = (y1 - t)/s:  dy1 = g/s,  dt = -g/s,   dl = -g x1 - w
# and dp = dl * dl/dp, with dl/dp = 1 - sigmoid(p) or 1.

# The parameter gradients of a coupling's network and the gradient of its
# input images.
glow_coupling_backward <- function(op, cache, direction, grad, weights) {
  masked <- seq_len(op$masked)
  transformed <- op$masked + seq_len(op$transformed)
  g <- grad[, , , transformed, drop = FALSE]
  w <- rep_len(weights, length(g))
  if (op$affine) {
    scale <- cache$scale
    if (direction == "forward") {
      grad_part <- g * scale
      grad_shift <- g
      grad_log_scale <- grad_part * cache$original + w
    } else {
      grad_part <- g / scale
      grad_shift <- -grad_part
      grad_log_scale <- -g * cache$original - w
    }
    grad_pre <- if (op$scale_fn == "sigmoid") {
      grad_log_scale * exp(log_sigmoid(-cache$pre))
    } else {
      grad_log_scale
    }
    grad_output <- c(grad_pre, grad_shift)
  } else {
    grad_part <- g
    grad_output <- if (direction == "forward") g else -g
  }
  dims <- dim(g)
  dim(grad_output) <- c(dims[1:3], length(grad_output) %/% prod(dims[1:3]))
  network <- glow_network_backward(op$network, cache$conditioner, cache$run,
                                   grad_output)
  grad[, , , transformed] <- grad_part
  grad[, , , masked] <- grad[, , , masked, drop = FALSE] + network$input
  list(grad = grad, parameters = network$parameters)
}

# A bijector (1x1 convolution or ActNorm) on the first channels of x, with
# its cache; its log-det per image is one number.
glow_member_with_cache <- function(member, x, direction) {
  d <- dim(x)
  size <- if (inherits(member, "tfb_activation_normalization")) {
    .subset2(member, "nchan")
  } else {
    .subset2(member, "size")
  }
  channels <- seq_len(size)
  part <- x[, , , channels, drop = FALSE]
  pass <- if (direction == "forward") {
    bijector_forward_with_cache(member, part, 3L)
  } else {
    bijector_inverse_with_cache(member, part, 3L)
  }
  x[, , , channels] <- if (direction == "forward") pass$y else pass$x
  list(x = x, log_det = rep(pass$log_det, d[[1L]]), cache = pass$cache,
       channels = channels)
}

glow_member_backward <- function(member, entry, grad, weights) {
  channels <- entry$channels
  part <- grad[, , , channels, drop = FALSE]
  back <- if (entry$direction == "forward") {
    bijector_forward_backward(member, entry$cache, part, sum(weights))
  } else {
    bijector_inverse_backward(member, entry$cache, part, sum(weights))
  }
  grad[, , , channels] <- back$input
  list(grad = grad, parameters = back$parameters)
}

# The operations of one pass in the order they run, as list(id, kind, op,
# direction): `id` names the parameter group (see glow_parameter_groups()).
glow_schedule <- function(bijector, pass) {
  levels <- .subset2(bijector, "levels")
  entries <- list()
  add <- function(id, kind, op, direction) {
    entries[[length(entries) + 1L]] <<- list(id = id, kind = kind, op = op,
                                             direction = direction)
  }
  if (pass == "forward") {
    add(NA_character_, "reshape", NULL, "forward")
    for (i in seq_along(levels)) {
      level <- levels[[i]]
      if (!is.null(level$exit)) {
        add(sprintf("level%d/exit", i), "coupling", level$exit, "inverse")
      }
      for (j in seq_along(level$steps)) {
        step <- level$steps[[j]]
        id <- sprintf("level%d/step%d/", i, j)
        add(paste0(id, "coupling"), "coupling", step$coupling, "inverse")
        add(paste0(id, "convolution"), "member", step$convolution, "inverse")
        if (!is.null(step$actnorm)) {
          add(paste0(id, "actnorm"), "member", step$actnorm, "forward")
        }
      }
      add(NA_character_, "expand", NULL, "forward")
    }
  } else {
    for (i in rev(seq_along(levels))) {
      level <- levels[[i]]
      add(NA_character_, "expand", NULL, "inverse")
      for (j in rev(seq_along(level$steps))) {
        step <- level$steps[[j]]
        id <- sprintf("level%d/step%d/", i, j)
        if (!is.null(step$actnorm)) {
          add(paste0(id, "actnorm"), "member", step$actnorm, "inverse")
        }
        add(paste0(id, "convolution"), "member", step$convolution, "forward")
        add(paste0(id, "coupling"), "coupling", step$coupling, "forward")
      }
      if (!is.null(level$exit)) {
        add(sprintf("level%d/exit", i), "coupling", level$exit, "forward")
      }
    }
    add(NA_character_, "reshape", NULL, "inverse")
  }
  entries
}

# Runs a pass keeping the tape. `input`: latents (an N x D matrix) for the
# forward pass, images (c(N, H, W, C)) for the inverse one. Returns
# list(output, log_det per event, tape).
glow_pass_with_cache <- function(bijector, input, pass) {
  shape <- .subset2(bijector, "output_shape")
  n_blocks <- .subset2(bijector, "num_glow_blocks")
  coarse <- c(shape[1:2] %/% 2^n_blocks, shape[[3L]] * 4^n_blocks)
  schedule <- glow_schedule(bijector, pass)
  x <- input
  log_det <- numeric(nrow(input))
  tape <- vector("list", length(schedule))
  for (k in seq_along(schedule)) {
    entry <- schedule[[k]]
    if (entry$kind == "reshape") {
      x <- if (entry$direction == "forward") {
        glow_latent_to_image(x, coarse)
      } else {
        glow_image_to_latent(x)
      }
    } else if (entry$kind == "expand") {
      x <- if (entry$direction == "forward") glow_expand(x) else
        glow_squeeze(x)
    } else if (entry$kind == "coupling") {
      out <- glow_coupling_map(entry$op, x, entry$direction, keep = TRUE)
      x <- out$x
      log_det <- log_det + out$log_det
      entry$cache <- out$cache
    } else {
      out <- glow_member_with_cache(entry$op, x, entry$direction)
      x <- out$x
      log_det <- log_det + out$log_det
      entry$cache <- out$cache
      entry$channels <- out$channels
    }
    tape[[k]] <- entry
  }
  list(output = x, log_det = log_det, tape = tape)
}

# Walks the tape backwards from the gradient of the pass's output and the
# per-event weights of its log-det. Returns list(input = gradient of the
# pass's input, parameters = in the order of bijector_parameter_slots()).
glow_pass_backward <- function(bijector, tape, grad, weights) {
  shape <- .subset2(bijector, "output_shape")
  n_blocks <- .subset2(bijector, "num_glow_blocks")
  coarse <- c(shape[1:2] %/% 2^n_blocks, shape[[3L]] * 4^n_blocks)
  groups <- list()
  for (k in rev(seq_along(tape))) {
    entry <- tape[[k]]
    if (entry$kind == "reshape") {
      grad <- if (entry$direction == "forward") {
        glow_image_to_latent(grad)
      } else {
        glow_latent_to_image(grad, coarse)
      }
    } else if (entry$kind == "expand") {
      grad <- if (entry$direction == "forward") glow_squeeze(grad) else
        glow_expand(grad)
    } else if (entry$kind == "coupling") {
      back <- glow_coupling_backward(entry$op, entry$cache, entry$direction,
                                     grad, weights)
      grad <- back$grad
      groups[[entry$id]] <- back$parameters
    } else {
      back <- glow_member_backward(entry$op, entry, grad, weights)
      grad <- back$grad
      groups[[entry$id]] <- back$parameters
    }
  }
  parameters <- list()
  for (id in glow_parameter_groups(bijector)) {
    parameters <- c(parameters, unname(groups[[id]]))
  }
  list(input = grad, parameters = parameters)
}

# The parameter groups in the order of bijector_parameter_slots.tfb_glow().
glow_parameter_groups <- function(bijector) {
  ids <- character()
  levels <- .subset2(bijector, "levels")
  for (i in seq_along(levels)) {
    level <- levels[[i]]
    if (!is.null(level$exit)) {
      ids <- c(ids, sprintf("level%d/exit", i))
    }
    for (j in seq_along(level$steps)) {
      id <- sprintf("level%d/step%d/", i, j)
      ids <- c(ids, paste0(id, c("coupling", "convolution")))
      if (!is.null(level$steps[[j]]$actnorm)) {
        ids <- c(ids, paste0(id, "actnorm"))
      }
    }
  }
  ids
}

#' @export
bijector_inverse_with_cache.tfb_glow <- function(bijector, y, event_ndims) {
  input <- glow_image_input(bijector, y, "y")
  event_ndims <- check_event_ndims(event_ndims, 3L,
                                   length(input$batch) + 3L, "y")
  pass <- with_actnorm_rollback(bijector, glow_pass_with_cache(
    bijector, input$x, "inverse"))
  z <- if (length(input$batch) == 0L) as.vector(pass$output) else
    array(pass$output, c(input$batch, ncol(pass$output)))
  list(x = z,
       log_det = glow_reduce_log_det(pass$log_det, input$batch,
                                     event_ndims - 3L),
       cache = list(tape = pass$tape, input_dims = input_dims(y),
                    events = nrow(pass$output)))
}

#' @export
bijector_inverse_backward.tfb_glow <- function(bijector, cache, grad_x,
                                               grad_log_det) {
  grad <- matrix(as.double(grad_x), nrow = cache$events)
  weights <- rep_len(as.double(grad_log_det), cache$events)
  back <- glow_pass_backward(bijector, cache$tape, grad, weights)
  input <- back$input
  dim(input) <- cache$input_dims
  list(input = input, parameters = back$parameters)
}

#' @export
bijector_forward_with_cache.tfb_glow <- function(bijector, x, event_ndims) {
  input <- glow_latent_input(bijector, x, "x")
  event_ndims <- check_event_ndims(event_ndims, 1L,
                                   length(input$batch) + 1L, "x")
  pass <- with_actnorm_rollback(bijector, glow_pass_with_cache(
    bijector, input$z, "forward"))
  list(y = array(pass$output, c(input$batch,
                                .subset2(bijector, "output_shape"))),
       log_det = glow_reduce_log_det(pass$log_det, input$batch,
                                     event_ndims - 1L),
       cache = list(tape = pass$tape, input_dims = input_dims(x),
                    events = nrow(input$z)))
}

#' @export
bijector_forward_backward.tfb_glow <- function(bijector, cache, grad_y,
                                               grad_log_det) {
  shape <- .subset2(bijector, "output_shape")
  grad <- array(as.double(grad_y), c(cache$events, shape))
  weights <- rep_len(as.double(grad_log_det), cache$events)
  back <- glow_pass_backward(bijector, cache$tape, grad, weights)
  input <- back$input
  dim(input) <- if (length(cache$input_dims) == 1L) NULL else
    cache$input_dims
  list(input = input, parameters = back$parameters)
}
