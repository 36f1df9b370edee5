# Neural spline coupling (Durkan et al. 2019) through tfb_real_nvp(): a
# template whose network gives each transformed unit of each event its own
# rational quadratic spline (TFP's RealNVP with a `bijector_fn` returning
# RationalQuadraticSpline, the sheet's section 2.5). The network is the
# package's dense network (R/network.R, src/network.c); the splines run in
# src/rational_quadratic_spline.c, one per element; the constraints from
# raw outputs to widths, heights and slopes, and their chain rule, are here.

#' Spline template of a Real NVP flow (neural spline coupling)
#'
#' A conditioner for [tfb_real_nvp()] that makes it a rational quadratic
#' spline coupling layer, the neural spline flow of Durkan et al. (2019), as
#' TFP's `RealNVP(bijector_fn = ...)` with a function returning
#' `RationalQuadraticSpline` (tfprobability has no R interface for it). Pass
#' it as `shift_and_log_scale_fn`: the masked units feed a dense network
#' whose outputs, for each of the `D - d` transformed units, are `K` raw
#' widths, `K` raw heights and `K - 1` raw slopes (`3K - 1` per unit), in
#' blocks: all widths (unit by unit, `K` each), then all heights, then all
#' slopes. Each transformed unit of each event then goes through its own
#' [tfb_rational_quadratic_spline()] on `[range_min, range_max]` (the
#' identity outside), with
#'
#' * `bin_widths = min_bin_width + (range_max - range_min - K *
#'   min_bin_width) * softmax(raw widths)`, heights likewise with
#'   `min_bin_height` (TFP's documented recipe, NFLOWS' form);
#' * `knot_slopes = min_slope + softplus(raw + log(expm1(1 - min_slope)))`,
#'   so that a zero output gives slope 1 (the sheet's identity
#'   initialisation tip; TFP's docstring has `softplus(raw) + min_slope`).
#'
#' A network that outputs zeros is therefore the identity. The log-det of an
#' event is the sum of the splines' over its transformed units. Both
#' directions take one network pass and have analytic gradients for the
#' input and every weight, so [fit()] trains the flow.
#'
#' The weights are drawn when the flow first sees data, as for
#' [tfb_real_nvp_default_template()] (glorot-uniform kernels, zero biases
#' unless `kernel_initializer` or `bias_initializer` say otherwise).
#'
#' @inheritParams tfb_real_nvp_default_template
#' @param num_bins Whole number >= 1: `K`, the bins of each spline (NSF's
#'   tabular default is 8).
#' @param range_min,range_max Numbers, `range_min < range_max`: the
#'   interval of the splines on both axes (NSF's tail bound `B = 3` gives
#'   `[-3, 3]`).
#' @param min_bin_width,min_bin_height Numbers >= 0 with `num_bins *
#'   min_bin_width < range_max - range_min`: the smallest bin.
#' @param min_slope Number in `[0, 1)`: the smallest knot slope.
#' @param name String or `NULL` (`"real_nvp_spline_template"`).
#' @return A template of class
#'   `c("tfb_real_nvp_spline_template", "bijectors_template")` to pass to
#'   [tfb_real_nvp()]. Fields: its arguments, `$built`, `$input_size`,
#'   `$output_units` and `$weights`.
#' @family networks
#' @seealso [tfb_real_nvp()], [tfb_rational_quadratic_spline()],
#'   [tfb_real_nvp_default_template()].
#' @examples
#' set.seed(1)
#' template <- tfb_real_nvp_spline_template(c(16), num_bins = 4)
#' nsf <- tfb_real_nvp(num_masked = 1, shift_and_log_scale_fn = template)
#' x <- matrix(rnorm(12), ncol = 3)
#' y <- nsf$forward(x)
#' all.equal(nsf$inverse(y), x)
#' nsf$forward_log_det_jacobian(x, event_ndims = 1)
#' @export
tfb_real_nvp_spline_template <- function(hidden_layers, num_bins = 8,
                                         range_min = -3, range_max = 3,
                                         min_bin_width = 1e-3,
                                         min_bin_height = 1e-3,
                                         min_slope = 1e-3,
                                         activation = "relu", name = NULL,
                                         ...) {
  dense <- check_template_dense_arguments(
    list(...), "tfb_real_nvp_spline_template", made = FALSE)
  hidden_layers <- check_hidden_layers(hidden_layers, allow_empty = TRUE)
  num_bins <- check_count(num_bins, "num_bins")
  range_min <- check_number(range_min, "range_min")
  range_max <- check_number(range_max, "range_max")
  if (range_max <= range_min) {
    abort_bijectors("argument", sprintf(
      "`range_max` (%s) must be greater than `range_min` (%s).",
      format(range_max), format(range_min)))
  }
  interval <- range_max - range_min
  min_bin_width <- check_number(min_bin_width, "min_bin_width", lower = 0)
  min_bin_height <- check_number(min_bin_height, "min_bin_height", lower = 0)
  for (arg in c("min_bin_width", "min_bin_height")) {
    if (num_bins * get(arg) >= interval) {
      abort_bijectors("argument", sprintf(paste(
        "`num_bins * %s` (%s) must be smaller than `range_max - range_min`",
        "(%s)."), arg, format(num_bins * get(arg)), format(interval)))
    }
  }
  min_slope <- check_number(min_slope, "min_slope", lower = 0)
  if (min_slope >= 1) {
    abort_bijectors("argument", sprintf(
      "`min_slope` must be in [0, 1), not %s.", format(min_slope)))
  }
  new_template("tfb_real_nvp_spline_template", list(
    hidden_layers = hidden_layers,
    num_bins = num_bins,
    range_min = range_min,
    range_max = range_max,
    min_bin_width = min_bin_width,
    min_bin_height = min_bin_height,
    min_slope = min_slope,
    activation = check_activation(activation),
    name = check_string(name %||% "real_nvp_spline_template", "name"),
    use_bias = dense$use_bias,
    trainable = dense$trainable,
    kernel_initializer = dense$kernel_initializer,
    bias_initializer = dense$bias_initializer
  ))
}

is_spline_template <- function(fn) {
  is_template(fn) && inherits(fn, "tfb_real_nvp_spline_template")
}

# What format_template_summary() shows of a spline template, before the
# line saying whether it is built; its print() adds the class and name.
spline_template_summary <- function(template) {
  hidden <- .subset2(template, "hidden_layers")
  c(sprintf("hidden_layers: %s; activation: %s",
            if (length(hidden)) paste(hidden, collapse = ", ") else "none",
            .subset2(template, "activation")),
    sprintf("%d bins on [%s, %s]; minimum width %s, height %s, slope %s",
            .subset2(template, "num_bins"),
            format(.subset2(template, "range_min")),
            format(.subset2(template, "range_max")),
            format(.subset2(template, "min_bin_width")),
            format(.subset2(template, "min_bin_height")),
            format(.subset2(template, "min_slope"))))
}

# ---- from network outputs to splines ----------------------------------------

# The `K` columns of block `block` (0 widths, 1 heights; slopes K - 1
# columns after both) of a rows x (3K - 1) units output, as a
# (rows * units) x columns matrix whose row n + (j - 1) rows is unit j of
# event n (the column-major order of the transformed block).
spline_output_block <- function(output, rows, units, offset, columns) {
  block <- output[, offset + seq_len(units * columns), drop = FALSE]
  matrix(aperm(array(block, c(rows, columns, units)), c(1L, 3L, 2L)),
         rows * units, columns)
}

# The inverse: a (rows * units) x columns gradient back to rows x
# (units * columns) output columns.
spline_block_output <- function(block, rows, units, columns) {
  matrix(aperm(array(block, c(rows, units, columns)), c(1L, 3L, 2L)),
         rows, units * columns)
}

spline_row_softmax <- function(raw) {
  e <- exp(raw - apply(raw, 1L, max))
  e / rowSums(e)
}

# Widths, heights and slopes of every element's spline, with the softmax
# probabilities and the slopes' softplus argument for the backward pass.
spline_template_splines <- function(fn, output, rows, units) {
  K <- .subset2(fn, "num_bins")
  interval <- .subset2(fn, "range_max") - .subset2(fn, "range_min")
  min_w <- .subset2(fn, "min_bin_width")
  min_h <- .subset2(fn, "min_bin_height")
  min_s <- .subset2(fn, "min_slope")
  p_w <- spline_row_softmax(spline_output_block(output, rows, units, 0L, K))
  p_h <- spline_row_softmax(spline_output_block(output, rows, units,
                                                units * K, K))
  slope_input <- spline_output_block(output, rows, units, 2L * units * K,
                                     K - 1L) + log(expm1(1 - min_s))
  list(widths = min_w + (interval - K * min_w) * p_w,
       heights = min_h + (interval - K * min_h) * p_h,
       slopes = min_s + ifelse(slope_input > 30, slope_input,
                               log1p(exp(pmin(slope_input, 30)))),
       p_w = p_w, p_h = p_h, slope_input = slope_input)
}

# The gradient of the network output from the gradients of the splines'
# widths, heights and slopes.
spline_template_output_gradient <- function(fn, splines, g_w, g_h, g_s,
                                            rows, units) {
  K <- .subset2(fn, "num_bins")
  interval <- .subset2(fn, "range_max") - .subset2(fn, "range_min")
  softmax_back <- function(p, g, scale) {
    scale * p * (g - rowSums(p * g))
  }
  a <- softmax_back(splines$p_w, g_w,
                    interval - K * .subset2(fn, "min_bin_width"))
  b <- softmax_back(splines$p_h, g_h,
                    interval - K * .subset2(fn, "min_bin_height"))
  c <- g_s * stats::plogis(splines$slope_input)
  cbind(spline_block_output(a, rows, units, K),
        spline_block_output(b, rows, units, K),
        spline_block_output(c, rows, units, K - 1L))
}

# ---- the coupling step ------------------------------------------------------

# One spline coupling step of `input` (a flow_input() list with the
# coupling's columns): direction 1 forward, -1 inverse. Returns
# list(output, log_det (one per row), cache).
spline_coupling_step <- function(fn, input, first_column, units, columns,
                                 direction) {
  network <- template_network(fn, input$x, input$rows, first_column,
                              keep_hidden = TRUE)
  rows <- input$rows
  splines <- spline_template_splines(fn, network$output, rows, units)
  values <- matrix(input$x, rows)[, columns, drop = FALSE]
  range_min <- .subset2(fn, "range_min")
  spline_rows <- rep(nrow(splines$widths), 3L)
  run <- function(v, operation) {
    .Call(C_rqs_map, as.vector(v), splines$widths, splines$heights,
          splines$slopes, spline_rows, TRUE, range_min,
          spline_operations[[operation]], 0L)
  }
  transformed <- run(values, if (direction > 0L) "forward" else "inverse")
  point <- if (direction > 0L) as.vector(values) else transformed
  element_log_det <- run(point, "forward_log_det")
  log_det <- rowSums(matrix(element_log_det, rows, units))
  if (direction < 0L) {
    log_det <- -log_det
  }
  output <- input$x
  flat <- matrix(output, rows)
  flat[, columns] <- transformed
  output[] <- flat
  list(output = output, log_det = log_det,
       cache = list(input = input, network = network, splines = splines,
                    point = point, first_column = first_column,
                    columns = columns, units = units, direction = direction))
}

spline_coupling_backward <- function(fn, cache, grad_output, grad_log_det) {
  input <- cache$input
  rows <- input$rows
  units <- cache$units
  splines <- cache$splines
  grad_flat <- matrix(as.double(grad_output), rows)
  grad_rows <- rep_len(as.double(grad_log_det), rows)
  spline_rows <- rep(nrow(splines$widths), 3L)
  backward <- .Call(C_rqs_backward, cache$point, splines$widths,
                    splines$heights, splines$slopes, spline_rows, TRUE,
                    .subset2(fn, "range_min"), cache$direction < 0L, 0L,
                    as.vector(grad_flat[, cache$columns, drop = FALSE]),
                    rep(grad_rows, units))
  K <- .subset2(fn, "num_bins")
  shaped <- function(g, columns) matrix(g, rows * units, columns)
  grad_network <- spline_template_output_gradient(
    fn, splines, shaped(backward$widths, K), shaped(backward$heights, K),
    shaped(backward$slopes, K - 1L), rows, units)
  grad_input <- grad_flat
  grad_input[, cache$columns] <- backward$input
  grad_input <- array(grad_input, input_dims(input$x))
  if (is.null(dim(input$x))) {
    grad_input <- as.vector(grad_input)
  }
  network <- .Call(C_mlp_backward, input$x, as.double(rows),
                   as.double(cache$first_column), .subset2(fn, "kernels"),
                   .subset2(fn, "activation_codes"), cache$network$hidden,
                   cache$network$output, grad_network, NULL, grad_input)
  layers <- length(network$kernels)
  parameters <- vector("list", 2L * layers)
  parameters[2L * seq_len(layers) - 1L] <- network$kernels
  parameters[2L * seq_len(layers)] <- network$biases
  list(input = network$input,
       parameters = parameters[template_trained_slots(fn, layers)])
}
