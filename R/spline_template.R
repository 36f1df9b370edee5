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
  new_spline_template(
    "tfb_real_nvp_spline_template",
    check_hidden_layers(hidden_layers, allow_empty = TRUE), num_bins,
    range_min, range_max, min_bin_width, min_bin_height, min_slope,
    activation, name %||% "real_nvp_spline_template", dense)
}

#' Spline template of a masked autoregressive flow (neural spline MAF)
#'
#' A conditioner for [tfb_masked_autoregressive_flow()] that makes it a
#' rational quadratic spline autoregressive flow (the autoregressive neural
#' spline flow of Durkan et al. 2019), as TFP's
#' `MaskedAutoregressiveFlow(bijector_fn = ...)` with a function returning
#' `RationalQuadraticSpline`. Pass it as `shift_and_log_scale_fn`. The
#' network is a MADE as in [tfb_masked_autoregressive_default_template()]
#' (masked dense layers, each hidden layer at least `D` units), with
#' `3K - 1` outputs per unit: for unit `i`, `K` raw widths, `K` raw heights
#' and `K - 1` raw slopes, contiguous (MADE's masks give each unit a
#' contiguous output block), so unit `i`'s spline depends only on the units
#' before it. Each unit of each event goes through its own
#' [tfb_rational_quadratic_spline()] on `[range_min, range_max]`, with the
#' widths, heights and slopes constrained as for
#' [tfb_real_nvp_spline_template()] (a zero network is the identity).
#'
#' The inverse (density) direction is one network pass, the forward
#' direction `D` passes; both have analytic gradients (the forward one
#' solves the implicit equation `y = g(x; MADE(y))` in `D` reverse network
#' passes), so [fit()] trains the flow, and an inverted one (an inverse
#' autoregressive spline flow).
#'
#' @inheritParams tfb_real_nvp_spline_template
#' @inheritParams tfb_masked_autoregressive_default_template
#' @param name String or `NULL` (`"masked_autoregressive_spline_template"`).
#' @return A template of class `c("tfb_masked_autoregressive_spline_template",
#'   "tfb_masked_autoregressive_template", "bijectors_template")` to pass to
#'   [tfb_masked_autoregressive_flow()]. Fields: its arguments, `$built`,
#'   `$input_size`, `$output_units` and `$weights` (with the MADE masks).
#' @family networks
#' @seealso [tfb_masked_autoregressive_flow()],
#'   [tfb_rational_quadratic_spline()], [tfb_real_nvp_spline_template()].
#' @examples
#' set.seed(1)
#' made <- tfb_masked_autoregressive_spline_template(c(8, 8), num_bins = 4)
#' maf <- tfb_masked_autoregressive_flow(made)
#' y <- matrix(rnorm(12), ncol = 3)
#' x <- maf$inverse(y)
#' all.equal(maf$forward(x), y)
#' maf$inverse_log_det_jacobian(y, event_ndims = 1)
#' @export
tfb_masked_autoregressive_spline_template <- function(
    hidden_layers, num_bins = 8, range_min = -3, range_max = 3,
    min_bin_width = 1e-3, min_bin_height = 1e-3, min_slope = 1e-3,
    activation = "relu", name = NULL, ...) {
  dense <- check_template_dense_arguments(
    list(...), "tfb_masked_autoregressive_spline_template", made = TRUE)
  template <- new_spline_template(
    "tfb_masked_autoregressive_spline_template",
    check_hidden_layers(hidden_layers, allow_empty = FALSE), num_bins,
    range_min, range_max, min_bin_width, min_bin_height, min_slope,
    activation, name %||% "masked_autoregressive_spline_template", dense)
  class(template) <- c("tfb_masked_autoregressive_spline_template",
                       "tfb_masked_autoregressive_template",
                       "bijectors_template")
  template
}

new_spline_template <- function(kind, hidden_layers, num_bins, range_min,
                                range_max, min_bin_width, min_bin_height,
                                min_slope, activation, name, dense) {
  num_bins <- check_count(num_bins, "num_bins")
  range_min <- check_number(range_min, "range_min")
  range_max <- check_number(range_max, "range_max")
  if (range_max <= range_min) {
    abort_bijectors("argument", sprintf(
      "`range_max` (%s) must be greater than `range_min` (%s).",
      format(range_max), format(range_min)))
  }
  interval <- range_max - range_min
  minimums <- list(
    min_bin_width = check_number(min_bin_width, "min_bin_width", lower = 0),
    min_bin_height = check_number(min_bin_height, "min_bin_height",
                                  lower = 0))
  for (arg in names(minimums)) {
    if (num_bins * minimums[[arg]] >= interval) {
      abort_bijectors("argument", sprintf(paste(
        "`num_bins * %s` (%s) must be smaller than `range_max - range_min`",
        "(%s)."), arg, format(num_bins * minimums[[arg]]), format(interval)))
    }
  }
  min_slope <- check_number(min_slope, "min_slope", lower = 0)
  if (min_slope >= 1) {
    abort_bijectors("argument", sprintf(
      "`min_slope` must be in [0, 1), not %s.", format(min_slope)))
  }
  new_template(kind, list(
    hidden_layers = hidden_layers,
    num_bins = num_bins,
    range_min = range_min,
    range_max = range_max,
    min_bin_width = minimums$min_bin_width,
    min_bin_height = minimums$min_bin_height,
    min_slope = min_slope,
    activation = check_activation(activation),
    name = check_string(name, "name"),
    use_bias = dense$use_bias,
    trainable = dense$trainable,
    kernel_initializer = dense$kernel_initializer,
    bias_initializer = dense$bias_initializer
  ))
}

is_spline_template <- function(fn) {
  is_template(fn) && inherits(fn, c("tfb_real_nvp_spline_template",
                                    "tfb_masked_autoregressive_spline_template"))
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

# Which of a network's rows x (3K - 1) units outputs feed each element's
# spline. A coupling network gives all widths (unit by unit, K each), then
# all heights, then all slopes (TFP's docstring: three dense heads); a MADE
# gives unit i's 3K - 1 values together (widths, heights, slopes), since its
# masks assign contiguous output blocks to units. The result: three matrices
# (rows * units) x K, K, K - 1 whose row n + (j - 1) rows is unit j of row
# n, the column-major order of the transformed values.
spline_output_parts <- function(output, rows, units, K, made) {
  per_unit <- 3L * K - 1L
  columns <- c(K, K, K - 1L)
  starts <- c(0L, K, 2L * K)
  lapply(1:3, function(part) {
    if (made) {
      block <- array(output, c(rows, per_unit, units))[
        , starts[[part]] + seq_len(columns[[part]]), , drop = FALSE]
    } else {
      block <- array(output[, starts[[part]] * units +
                              seq_len(units * columns[[part]]),
                            drop = FALSE],
                     c(rows, columns[[part]], units))
    }
    matrix(aperm(block, c(1L, 3L, 2L)), rows * units, columns[[part]])
  })
}

# The inverse of spline_output_parts(): gradients of the three parts back to
# a rows x (3K - 1) units gradient of the network output.
spline_parts_output <- function(parts, rows, units, K, made) {
  columns <- c(K, K, K - 1L)
  blocks <- lapply(1:3, function(part) {
    aperm(array(parts[[part]], c(rows, units, columns[[part]])),
          c(1L, 3L, 2L))
  })
  if (!made) {
    return(matrix(unlist(blocks, use.names = FALSE), rows))
  }
  output <- array(0, c(rows, 3L * K - 1L, units))
  starts <- c(0L, K, 2L * K)
  for (part in 1:3) {
    output[, starts[[part]] + seq_len(columns[[part]]), ] <- blocks[[part]]
  }
  matrix(output, rows)
}

spline_row_softmax <- function(raw) {
  # the row maxima by columns (apply() over rows was a quarter of a step)
  row_max <- raw[, 1L]
  for (j in seq_len(ncol(raw))[-1L]) {
    row_max <- pmax(row_max, raw[, j])
  }
  e <- exp(raw - row_max)
  e / rowSums(e)
}

# Widths, heights and slopes of every element's spline, with the softmax
# probabilities and the slopes' softplus argument for the backward pass.
spline_template_splines <- function(fn, output, rows, units, made) {
  K <- .subset2(fn, "num_bins")
  interval <- .subset2(fn, "range_max") - .subset2(fn, "range_min")
  min_w <- .subset2(fn, "min_bin_width")
  min_h <- .subset2(fn, "min_bin_height")
  min_s <- .subset2(fn, "min_slope")
  parts <- spline_output_parts(output, rows, units, K, made)
  p_w <- spline_row_softmax(parts[[1L]])
  p_h <- spline_row_softmax(parts[[2L]])
  slope_input <- parts[[3L]] + log(expm1(1 - min_s))
  list(widths = min_w + (interval - K * min_w) * p_w,
       heights = min_h + (interval - K * min_h) * p_h,
       slopes = min_s + ifelse(slope_input > 30, slope_input,
                               log1p(exp(pmin(slope_input, 30)))),
       p_w = p_w, p_h = p_h, slope_input = slope_input)
}

# The gradient of the network output from the gradients of the splines'
# widths, heights and slopes (vectors in the parts' order).
spline_template_output_gradient <- function(fn, splines, g_w, g_h, g_s,
                                            rows, units, made) {
  K <- .subset2(fn, "num_bins")
  interval <- .subset2(fn, "range_max") - .subset2(fn, "range_min")
  softmax_back <- function(p, g, scale) {
    g <- matrix(g, nrow(p))
    scale * p * (g - rowSums(p * g))
  }
  spline_parts_output(list(
    softmax_back(splines$p_w, g_w,
                 interval - K * .subset2(fn, "min_bin_width")),
    softmax_back(splines$p_h, g_h,
                 interval - K * .subset2(fn, "min_bin_height")),
    g_s * stats::plogis(splines$slope_input)), rows, units, K, made)
}

# ---- one spline step -----------------------------------------------------------

# The network on `network_input` (columns first_column + 1, ... seen as
# `rows` rows), then each element of `values` (rows x units) through its
# spline: direction 1 forward, -1 inverse. Returns list(output (rows x
# units), log_det (one per row, of this direction), cache).
spline_step <- function(fn, network_input, rows, first_column, values,
                        direction, made) {
  units <- ncol(values)
  network <- template_network(fn, network_input, rows, first_column,
                              keep_hidden = TRUE)
  splines <- spline_template_splines(fn, network$output, rows, units, made)
  range_min <- .subset2(fn, "range_min")
  spline_rows <- rep(nrow(splines$widths), 3L)
  run <- function(v, operation) {
    .Call(C_rqs_map, as.vector(v), splines$widths, splines$heights,
          splines$slopes, spline_rows, TRUE, range_min,
          spline_operations[[operation]], 0L)
  }
  transformed <- run(values, if (direction > 0L) "forward" else "inverse")
  point <- if (direction > 0L) as.vector(values) else transformed
  log_det <- rowSums(matrix(run(point, "forward_log_det"), rows, units))
  list(output = matrix(transformed, rows, units),
       log_det = if (direction < 0L) -log_det else log_det,
       cache = list(network_input = network_input, rows = rows,
                    first_column = first_column, network = network,
                    splines = splines, point = point, units = units,
                    direction = direction, made = made))
}

# The spline part of a step's backward pass: given dLoss/d(output) (rows x
# units) and dLoss/d(log_det) per row, list(values = dLoss/d(values),
# network_output = dLoss/d(network output)).
spline_step_backward <- function(fn, cache, grad_output, grad_rows) {
  splines <- cache$splines
  spline_rows <- rep(nrow(splines$widths), 3L)
  backward <- .Call(C_rqs_backward, cache$point, splines$widths,
                    splines$heights, splines$slopes, spline_rows, TRUE,
                    .subset2(fn, "range_min"), cache$direction < 0L, 0L,
                    as.double(grad_output), rep(grad_rows, cache$units))
  list(values = matrix(backward$input, cache$rows, cache$units),
       network_output = spline_template_output_gradient(
         fn, splines, backward$widths, backward$heights, backward$slopes,
         cache$rows, cache$units, cache$made))
}

# The network's backward pass: list(input = input_gradient plus the
# network's share, parameters = in the order of the template's slots).
spline_network_backward <- function(fn, cache, grad_network, input_gradient) {
  network <- .Call(C_mlp_backward, cache$network_input, as.double(cache$rows),
                   as.double(cache$first_column), .subset2(fn, "kernels"),
                   .subset2(fn, "activation_codes"), cache$network$hidden,
                   cache$network$output, grad_network, .subset2(fn, "masks"),
                   input_gradient)
  layers <- length(network$kernels)
  parameters <- vector("list", 2L * layers)
  parameters[2L * seq_len(layers) - 1L] <- network$kernels
  parameters[2L * seq_len(layers)] <- network$biases
  list(input = network$input,
       parameters = parameters[template_trained_slots(fn, layers)])
}

# ---- the coupling step (tfb_real_nvp) -------------------------------------------

# One spline coupling step of `input` (a flow_input() list): the columns
# `columns` are transformed, conditioned on the others. Returns
# list(output, log_det (one per row), cache).
spline_coupling_step <- function(fn, input, first_column, units, columns,
                                 direction) {
  rows <- input$rows
  values <- matrix(input$x, rows)[, columns, drop = FALSE]
  step <- spline_step(fn, input$x, rows, first_column, values, direction,
                      made = FALSE)
  output <- input$x
  flat <- matrix(output, rows)
  flat[, columns] <- step$output
  output[] <- flat
  step$cache$columns <- columns
  step$cache$dims <- input_dims(input$x)
  list(output = output, log_det = step$log_det, cache = step$cache)
}

spline_coupling_backward <- function(fn, cache, grad_output, grad_log_det) {
  rows <- cache$rows
  grad_flat <- matrix(as.double(grad_output), rows)
  spline <- spline_step_backward(
    fn, cache, grad_flat[, cache$columns, drop = FALSE],
    rep_len(as.double(grad_log_det), rows))
  grad_input <- grad_flat
  grad_input[, cache$columns] <- spline$values
  grad_input <- as.vector(grad_input)
  if (length(cache$dims) > 1L) {
    dim(grad_input) <- cache$dims
  }
  spline_network_backward(fn, cache, spline$network_output, grad_input)
}

# ---- the autoregressive step (tfb_masked_autoregressive_flow) -------------------

# The inverse (density) direction: one pass, x_i = g_i^-1(y_i; MADE(y)_i).
maf_spline_inverse <- function(fn, input) {
  rows <- input$rows
  step <- spline_step(fn, input$x, rows, 0L, matrix(input$x, rows), -1L,
                      made = TRUE)
  output <- input$x
  output[] <- step$output
  step$cache$dims <- input_dims(input$x)
  list(output = output, log_det = step$log_det, cache = step$cache)
}

# The forward direction: D passes, y_i = g_i(x_i; MADE(y)_i). The last
# pass's network input is y after D - 1 passes, whose columns 1..D-1 are
# final; column D reaches no output, so that pass is the step at the final
# y.
maf_spline_forward <- function(fn, input) {
  rows <- input$rows
  values <- matrix(input$x, rows)
  network_input <- numeric(length(input$x))
  for (pass in seq_len(input$event_size)) {
    step <- spline_step(fn, network_input, rows, 0L, values, 1L, made = TRUE)
    if (pass < input$event_size) {
      network_input <- as.vector(step$output)
    }
  }
  output <- input$x
  output[] <- step$output
  step$cache$dims <- input_dims(input$x)
  list(output = output, log_det = step$log_det, cache = step$cache)
}

shape_like_input <- function(values, dims) {
  values <- as.vector(values)
  if (length(dims) > 1L) {
    dim(values) <- dims
  }
  values
}

maf_spline_inverse_backward <- function(fn, cache, grad_x, grad_log_det) {
  spline <- spline_step_backward(fn, cache, matrix(as.double(grad_x),
                                                   cache$rows),
                                 rep_len(as.double(grad_log_det), cache$rows))
  spline_network_backward(fn, cache, spline$network_output,
                          shape_like_input(spline$values, cache$dims))
}

# y = g(x; MADE(y)) is implicit. With the direct gradient G of y (the
# loss's), the total one solves Y = G + J^T T(Y), where T(Y) is the
# gradient of the network output given Y (the splines' local partials) and
# J the network's Jacobian at y, strictly lower triangular in the units: D
# - 1 rounds of substitution are exact (round k fixes unit D - k). Then
# x's gradient and the weights' follow from Y.
maf_spline_forward_backward <- function(fn, cache, grad_y, grad_log_det) {
  rows <- cache$rows
  direct <- matrix(as.double(grad_y), rows)
  grad_rows <- rep_len(as.double(grad_log_det), rows)
  total <- direct
  zero_input <- numeric(length(direct))
  for (round in seq_len(cache$units - 1L)) {
    spline <- spline_step_backward(fn, cache, total, grad_rows)
    through_network <- spline_network_backward(fn, cache,
                                               spline$network_output,
                                               zero_input)$input
    total <- direct + matrix(through_network, rows)
  }
  spline <- spline_step_backward(fn, cache, total, grad_rows)
  network <- spline_network_backward(fn, cache, spline$network_output,
                                     zero_input)
  list(input = shape_like_input(spline$values, cache$dims),
       parameters = network$parameters)
}
