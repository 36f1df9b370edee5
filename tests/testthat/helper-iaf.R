# Plain-R references for inverse autoregressive flows, Invert(MAF), whose
# log_prob runs the MAF's sequential forward direction. Built on the MADE
# and MAF references of helper-flows.R; nothing here calls the package
# except template_params() and template_masks() to read a template's
# weights.

# The MADE's output at the rows of v before the clip:
# list(shift, log_scale) with the raw log-scale.
ref_made_raw <- function(v, params, activation) {
  out <- ref_mlp(v, params$kernels, params$biases, activation)
  D <- ncol(v)
  list(shift = out[, 2L * seq_len(D) - 1L, drop = FALSE],
       log_scale = out[, 2L * seq_len(D), drop = FALSE])
}

# The mean negative log-likelihood of the rows of x under an IAF on a
# diagonal normal base: z = MAF forward(x) (D passes from 0), log_prob =
# base(z) + sum(log_scale(z)) (Invert(MAF)'s inverse log-det is the MAF's
# forward log-det).
ref_iaf_loss <- function(x, made, loc, scale_diag) {
  z <- ref_maf_forward(x, made)
  -mean(ref_mvn_diag_log_prob(z, loc, scale_diag) +
          rowSums(made(z)$log_scale))
}

# The gradient of the IAF loss with the template's log_scale_clip_gradient
# = FALSE (TFP's clip_by_value_preserve_gradient: the value is clipped, the
# derivative is the unclipped one), by central differences of ref_iaf_loss().
# The clip is replaced by a fixed offset clip(raw) - raw, taken at the final
# z of each row: that is where every log-scale that reaches the result is
# evaluated (a pass computes column i from columns before i, which are final
# from pass i on). The offset has the clipped value and no derivative.
# Returns list(parameters = named like trainable_parameters() of a lone
# Invert(MAF) (layerK/kernel, layerK/bias), input = like x); masked kernel
# entries get 0.
ref_straight_through_gradient <- function(x, params, masks, activation,
                                          clip, loc, scale_diag,
                                          rel_step = 1e-5) {
  clipped_made <- function(p) {
    function(v) {
      raw <- ref_made_raw(v, p, activation)
      raw$log_scale <- pmin(pmax(raw$log_scale, clip[[1]]), clip[[2]])
      raw
    }
  }
  z <- ref_maf_forward(x, clipped_made(params))
  raw <- ref_made_raw(z, params, activation)$log_scale
  offset <- pmin(pmax(raw, clip[[1]]), clip[[2]]) - raw
  surrogate_made <- function(p) {
    function(v) {
      out <- ref_made_raw(v, p, activation)
      out$log_scale <- out$log_scale + offset
      out
    }
  }
  loss <- function(p, data) {
    ref_iaf_loss(data, surrogate_made(p), loc, scale_diag)
  }
  gradients <- list()
  for (k in seq_along(params$kernels)) {
    for (part in c("kernels", "biases")) {
      value <- params[[part]][[k]]
      allowed <- if (part == "kernels") masks[[k]] == 1 else
        rep(TRUE, length(value))
      gradient <- value * 0
      for (j in which(allowed)) {
        gradient[j] <- central_difference(function(v) {
          moved <- params
          moved[[part]][[k]][j] <- v
          loss(moved, x)
        }, value[j], rel_step)
      }
      name <- sprintf("layer%d/%s", k,
                      if (part == "kernels") "kernel" else "bias")
      gradients[[name]] <- gradient
    }
  }
  input <- x
  for (j in seq_along(x)) {
    input[j] <- central_difference(function(v) {
      moved <- x
      moved[j] <- v
      loss(params, moved)
    }, x[j], rel_step)
  }
  list(parameters = gradients, input = input)
}
