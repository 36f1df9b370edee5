# The rational quadratic spline bijector (TFP's RationalQuadraticSpline),
# elementwise with parameters shared by every feature or given per feature
# (one row per index of the last axis). The arithmetic per element is in
# src/rational_quadratic_spline.c; here are the checks, the trained
# parameterisation (softmax logits for widths and heights, log slopes) and
# its chain rule, which cost O(rows x K) per call.

#' Rational quadratic spline bijector
#'
#' The monotone rational quadratic spline of Durkan et al. (2019), as
#' tfprobability's `tfb_rational_quadratic_spline()` (TFP's
#' `RationalQuadraticSpline`): on `[range_min, range_min + sum(bin_widths)]`
#' a spline of `K` bins whose knots are
#' \eqn{x_k = \mathrm{range\_min} + \sum_{j \le k} w_j}{x[k] = range_min +
#' cumsum(bin_widths)[k]} and
#' \eqn{y_k = \mathrm{range\_min} + \sum_{j \le k} h_j}{y[k] = range_min +
#' cumsum(bin_heights)[k]}, with derivative `knot_slopes` at the `K - 1`
#' interior knots and 1 at both ends; the identity outside that interval
#' (the ends included), so the map is continuously differentiable. Within
#' bin `k`, with \eqn{\xi = (x - x_k)/w_k}{xi = (x - x[k]) / w[k]},
#' \eqn{s = h_k / w_k}{s = h[k] / w[k]} and slopes \eqn{d_0, d_1}{d0, d1} at
#' its knots,
#' \deqn{y = y_k + \frac{h_k (s \xi^2 + d_0 \xi (1 - \xi))}{s + (d_0 + d_1 -
#'   2 s) \xi (1 - \xi)}.}{y = y[k] + h[k] (s xi^2 + d0 xi (1 - xi)) / (s +
#'   (d0 + d1 - 2 s) xi (1 - xi)).}
#' The inverse solves the quadratic in its well-conditioned form (the
#' paper's appendix A.3); the forward log-determinant is TFP's
#' \eqn{\log(s^2 (d_1 \xi^2 + 2 s \xi (1-\xi) + d_0 (1-\xi)^2)) - 2 \log(s +
#' (d_0 + d_1 - 2s)\xi(1-\xi))}{2 log(s) + log(d1 xi^2 + 2 s xi (1 - xi) +
#' d0 (1 - xi)^2) - 2 log(s + (d0 + d1 - 2 s) xi (1 - xi))} (0 outside),
#' the inverse one `-fldj(inverse(y))`. Minimum event ndims 0; a log-det
#' with `event_ndims = e` is summed over the last `e` axes.
#'
#' **Shapes.** Each of `bin_widths`, `bin_heights` (`K` values) and
#' `knot_slopes` (`K - 1` values) is a vector, one spline shared by every
#' element of the input, or a matrix with one row per feature (`D x K`,
#' `D x (K - 1)`): row `d` is the spline of index `d` of the input's last
#' axis, as TFP's broadcasting of `[D, K]` parameters against `[N, D]`
#' inputs. Vectors and matrices can be mixed (a shared vector is used for
#' every row); every matrix must have the same `D`. Parameters of rank 3 or
#' more (TFP's extra batch axes) are refused. A single `knot_slopes` value
#' (or a one-column matrix) is recycled to `K - 1`; TFP pads it to 3 knots,
#' which works only for `K = 2` (a departure).
#'
#' **Checks.** A matrix parameter needs at least one row. Zero bins are
#' allowed, as TFP allows them (`tfb_rational_quadratic_spline(numeric(0),
#' numeric(0), 1)`, a case of TFP's tests): the interval is the single point
#' `range_min` and the map is the identity. Widths, heights and slopes must
#' be finite and positive, and
#' each row of `bin_widths` must have the sum of the matching row of
#' `bin_heights` (to a relative `1e-8`), whatever `validate_args` is: TFP
#' checks these only with `validate_args = TRUE` and otherwise builds a map
#' that is not a bijection (a departure). The checks run once, here, since
#' the parameters cannot change except by training, which keeps them.
#'
#' **Training.** The trainable parameters are unconstrained:
#' `bin_width_logits` and `bin_height_logits` (shaped like `bin_widths` and
#' `bin_heights`), with `bin_widths = T * softmax(bin_width_logits)` by row
#' where `T` is the row sum given to the constructor (likewise heights), so
#' the interval and the equal sums stay fixed; and `log_knot_slopes` (shaped
#' like the recycled `knot_slopes`), with `knot_slopes =
#' exp(log_knot_slopes)`. They start at the logs of the given values;
#' `range_min` is fixed. `$bin_widths`, `$bin_heights` and `$knot_slopes`
#' give the current values. Inputs outside the interval get no parameter
#' gradient.
#'
#' @param bin_widths A vector of `K` positive widths, or a `D x K` matrix
#'   of them (one spline per feature).
#' @param bin_heights Positive heights shaped like `bin_widths` (or a vector
#'   when `bin_widths` is a matrix, or the reverse), with the same sums.
#' @param knot_slopes Positive slopes at the interior knots: `K - 1` values,
#'   one value (recycled), or a matrix with `K - 1` (or 1) columns.
#' @param range_min A finite number: the first knot on both axes. The last
#'   is `range_min + sum(bin_widths)`.
#' @param validate_args `TRUE` or `FALSE`; accepted for compatibility (the
#'   parameters are always checked).
#' @param name A string: the bijector's name; `NULL` (the default, as
#'   tfprobability) names it `"rational_quadratic_spline"`, TFP's default.
#' @return A bijector of class `c("tfb_rational_quadratic_spline",
#'   "bijector")` with the usual methods and the fields `$bin_widths`,
#'   `$bin_heights`, `$knot_slopes` and `$range_min`.
#' @family linear bijectors
#' @seealso `tfprobability::tfb_rational_quadratic_spline()`;
#'   [trainable_parameters()], [fit()].
#' @examples
#' b <- tfb_rational_quadratic_spline(bin_widths = c(0.5, 1, 0.5),
#'                                    bin_heights = c(1, 0.5, 0.5),
#'                                    knot_slopes = c(0.5, 2))
#' x <- c(-1.5, -0.9, -0.4, 0, 0.3, 0.8, 1.2)
#' y <- b$forward(x)
#' b$inverse(y)
#' b$forward_log_det_jacobian(x, event_ndims = 0)
#' # one spline per column of a matrix input
#' w <- rbind(c(1, 1), c(0.5, 1.5))
#' s <- tfb_rational_quadratic_spline(w, w[, 2:1], knot_slopes = rbind(1, 2))
#' s$forward(matrix(c(-0.5, 0.2, 0.1, 0.4), 2))
#' @export
tfb_rational_quadratic_spline <- function(bin_widths, bin_heights,
                                          knot_slopes, range_min = -1,
                                          validate_args = FALSE,
                                          name = NULL) {
  widths <- check_spline_parameter(bin_widths, "bin_widths")
  heights <- check_spline_parameter(bin_heights, "bin_heights")
  slopes <- check_spline_parameter(knot_slopes, "knot_slopes")
  range_min <- check_number(range_min, "range_min")
  validate_args <- check_flag(validate_args, "validate_args")
  name <- check_string(name %||% "rational_quadratic_spline", "name")
  bins <- spline_columns(widths)
  if (spline_columns(heights) != bins) {
    abort_bijectors("argument", sprintf(paste(
      "`bin_widths` and `bin_heights` must have the same number of bins",
      "(values per row), not %d and %d."), bins, spline_columns(heights)))
  }
  if (spline_columns(slopes) == 1L && bins != 2L) {
    slopes <- spline_recycle_slopes(slopes, bins)
  }
  if (spline_columns(slopes) != max(bins - 1L, 0L)) {
    abort_bijectors("argument", sprintf(paste(
      "`knot_slopes` must have one value per interior knot, K - 1 = %d",
      "(or a single value), not %d."), max(bins - 1L, 0L),
      spline_columns(slopes)))
  }
  rows <- c(spline_rows(widths), spline_rows(heights), spline_rows(slopes))
  if (length(unique(rows[rows > 1L])) > 1L) {
    abort_bijectors("argument", sprintf(paste(
      "The rows (features) of `bin_widths`, `bin_heights` and `knot_slopes`",
      "must agree: %d, %d and %d rows."), rows[[1L]], rows[[2L]], rows[[3L]]))
  }
  width_totals <- spline_row_sums(widths)
  height_totals <- spline_row_sums(heights)
  features <- max(rows)
  if (!spline_sums_match(rep_len(width_totals, features),
                         rep_len(height_totals, features))) {
    abort_bijectors("argument", paste(
      "`sum(bin_widths, axis=-1)` must equal `sum(bin_heights, axis=-1)`",
      "(the spline maps an interval onto one of the same length); the row",
      "sums are", format_values(width_totals), "and",
      paste0(format_values(height_totals), ".")))
  }
  logits <- list(log(widths), log(heights), log(slopes))
  bijector <- new_bijector(
    "tfb_rational_quadratic_spline",
    name = name,
    forward_min_event_ndims = 0L,
    validate_args = validate_args,
    range_min = range_min,
    rows = as.integer(rows),
    width_totals = width_totals,
    height_totals = height_totals,
    parameters = logits,
    # the values as given, valid while the logits are those they came from
    given_values = list(widths, heights, slopes),
    given_logits = lapply(logits, copy_value)
  )
  bijector
}

# ---- argument helpers --------------------------------------------------

check_spline_parameter <- function(x, arg) {
  x <- list_parameter_as_array(x)
  rank <- length(dim(x))
  ok <- is.numeric(x) && !is.object(x) && rank <= 2L && !anyNA(x) &&
    all(is.finite(x))
  if (!ok) {
    abort_bijectors("argument", sprintf(paste(
      "`%s` must be a vector of finite numbers (one spline for every",
      "feature) or a matrix of them (one row per feature), not %s."), arg,
      if (rank > 2L) sprintf("an array of rank %d", rank) else
        describe_value(x)))
  }
  if (any(x <= 0)) {
    abort_bijectors("argument", sprintf(
      "`%s` must be positive, not %s.", arg,
      format_values(as.vector(x)[x <= 0])))
  }
  if (rank == 2L && nrow(x) == 0L) {
    abort_bijectors("argument", sprintf(paste(
      "`%s` must have at least one row (one per feature), not a 0 x %d",
      "matrix."), arg, ncol(x)))
  }
  if (rank == 2L) {
    storage.mode(x) <- "double"
    dimnames(x) <- NULL
    return(x)
  }
  as.double(x)
}

spline_rows <- function(x) {
  if (is.matrix(x)) nrow(x) else 1L
}

spline_columns <- function(x) {
  if (is.matrix(x)) ncol(x) else length(x)
}

spline_recycle_slopes <- function(slopes, bins) {
  if (is.matrix(slopes)) {
    return(matrix(slopes, nrow(slopes), max(bins - 1L, 0L)))
  }
  rep_len(slopes, max(bins - 1L, 0L))
}

spline_row_sums <- function(x) {
  if (is.matrix(x)) rowSums(x) else sum(x)
}

spline_sums_match <- function(a, b) {
  all(abs(a - b) <= 1e-8 * pmax(abs(a), abs(b), 1e-300))
}

# ---- values from the trained parameters ----------------------------------

# `totals * softmax(logits)` by row, as a vector or a rows x K matrix.
spline_softmax <- function(logits, totals) {
  if (length(logits) == 0L) {
    return(logits)
  }
  if (!is.matrix(logits)) {
    e <- exp(logits - max(logits))
    return(totals * (e / sum(e)))
  }
  e <- exp(logits - apply(logits, 1L, max))
  totals * (e / rowSums(e))
}

# The widths, heights and slopes the spline uses now: the given ones until
# the logits move.
spline_values <- function(bijector) {
  logits <- .subset2(bijector, "parameters")
  if (identical(logits, .subset2(bijector, "given_logits"))) {
    return(.subset2(bijector, "given_values"))
  }
  list(spline_softmax(logits[[1L]], .subset2(bijector, "width_totals")),
       spline_softmax(logits[[2L]], .subset2(bijector, "height_totals")),
       exp(logits[[3L]]))
}

# ---- the passes ----------------------------------------------------------

spline_input <- function(bijector, x, arg) {
  x <- as_input_array(x, arg)
  features <- max(.subset2(bijector, "rows"))
  if (features > 1L) {
    dims <- input_dims(x)
    if (dims[[length(dims)]] != features) {
      abort_bijectors("event_size", sprintf(paste(
        "`%s` has %s features along its last axis, but the spline has %d",
        "rows of parameters (one per feature)."), arg,
        format(dims[[length(dims)]]), features))
    }
  }
  x
}

spline_operations <- c(forward = 0L, inverse = 1L, forward_log_det = 2L,
                       inverse_log_det = 3L)

spline_map <- function(bijector, x, operation, event_ndims = 0L,
                       values = spline_values(bijector)) {
  .Call(C_rqs_map, x, values[[1L]], values[[2L]], values[[3L]],
        .subset2(bijector, "rows"), FALSE, .subset2(bijector, "range_min"),
        spline_operations[[operation]], as.integer(event_ndims))
}

spline_log_det <- function(bijector, x, event_ndims, arg, operation) {
  x <- spline_input(bijector, x, arg)
  event_ndims <- check_event_ndims(event_ndims, 0L, length(input_dims(x)),
                                   arg)
  spline_map(bijector, x, operation, event_ndims)
}

#' @export
bijector_forward.tfb_rational_quadratic_spline <- function(bijector, x) {
  spline_map(bijector, spline_input(bijector, x, "x"), "forward")
}

#' @export
bijector_inverse.tfb_rational_quadratic_spline <- function(bijector, y) {
  spline_map(bijector, spline_input(bijector, y, "y"), "inverse")
}

#' @export
bijector_forward_log_det_jacobian.tfb_rational_quadratic_spline <- function(
    bijector, x, event_ndims) {
  spline_log_det(bijector, x, event_ndims, "x", "forward_log_det")
}

#' @export
bijector_inverse_log_det_jacobian.tfb_rational_quadratic_spline <- function(
    bijector, y, event_ndims) {
  spline_log_det(bijector, y, event_ndims, "y", "inverse_log_det")
}

# ---- training ------------------------------------------------------------

# Both directions cache the forward-domain point x; the backward pass in C
# rebuilds the bin and every partial from it.
spline_with_cache <- function(bijector, input, event_ndims, arg) {
  input <- spline_input(bijector, input, arg)
  event_ndims <- check_event_ndims(event_ndims, 0L, length(input_dims(input)),
                                   arg)
  values <- spline_values(bijector)
  if (arg == "x") {
    output <- spline_map(bijector, input, "forward", values = values)
    log_det <- spline_map(bijector, input, "forward_log_det", event_ndims,
                          values)
    x <- input
  } else {
    output <- spline_map(bijector, input, "inverse", values = values)
    log_det <- -spline_map(bijector, output, "forward_log_det", event_ndims,
                           values)
    x <- output
  }
  list(output = output, log_det = log_det,
       cache = list(x = x, event_ndims = event_ndims, values = values))
}

#' @export
bijector_forward_with_cache.tfb_rational_quadratic_spline <- function(
    bijector, x, event_ndims) {
  pass <- spline_with_cache(bijector, x, event_ndims, "x")
  list(y = pass$output, log_det = pass$log_det, cache = pass$cache)
}

#' @export
bijector_inverse_with_cache.tfb_rational_quadratic_spline <- function(
    bijector, y, event_ndims) {
  pass <- spline_with_cache(bijector, y, event_ndims, "y")
  list(x = pass$output, log_det = pass$log_det, cache = pass$cache)
}

# The gradient of totals * softmax(a) by row: W * (g - rowSums(p * g)).
spline_softmax_backward <- function(values, gradient, totals) {
  if (length(values) == 0L) {
    return(values)
  }
  if (!is.matrix(values)) {
    return(values * (gradient - sum(values * gradient) / totals))
  }
  values * (gradient - rowSums(values * gradient) / totals)
}

spline_backward <- function(bijector, cache, grad_output, grad_log_det,
                            inverse) {
  storage.mode(grad_output) <- "double"
  storage.mode(grad_log_det) <- "double"
  values <- cache$values
  backward <- .Call(C_rqs_backward, cache$x, values[[1L]], values[[2L]],
                    values[[3L]], .subset2(bijector, "rows"), FALSE,
                    .subset2(bijector, "range_min"), inverse,
                    cache$event_ndims, grad_output, grad_log_det)
  shaped <- function(gradient, like) {
    dim(gradient) <- dim(like)
    gradient
  }
  g_w <- shaped(backward$widths, values[[1L]])
  g_h <- shaped(backward$heights, values[[2L]])
  g_s <- shaped(backward$slopes, values[[3L]])
  parameters <- list(
    bin_width_logits = spline_softmax_backward(
      values[[1L]], g_w, .subset2(bijector, "width_totals")),
    bin_height_logits = spline_softmax_backward(
      values[[2L]], g_h, .subset2(bijector, "height_totals")),
    log_knot_slopes = values[[3L]] * g_s
  )
  list(input = backward$input, parameters = parameters)
}

#' @export
bijector_forward_backward.tfb_rational_quadratic_spline <- function(
    bijector, cache, grad_y, grad_log_det) {
  spline_backward(bijector, cache, grad_y, grad_log_det, FALSE)
}

#' @export
bijector_inverse_backward.tfb_rational_quadratic_spline <- function(
    bijector, cache, grad_x, grad_log_det) {
  spline_backward(bijector, cache, grad_x, grad_log_det, TRUE)
}

spline_slot_names <- c("bin_width_logits", "bin_height_logits",
                       "log_knot_slopes")

#' @export
bijector_parameter_slots.tfb_rational_quadratic_spline <- function(bijector) {
  constraints <- c("real", "real", "log_positive")
  lapply(seq_along(spline_slot_names), function(k) {
    parameter_slot(spline_slot_names[[k]], bijector, "parameters", k,
                   constraint = constraints[[k]])
  })
}

#' @export
bijector_event_constraints.tfb_rational_quadratic_spline <- function(
    bijector) {
  features <- max(.subset2(bijector, "rows"))
  if (features == 1L) {
    return(list())
  }
  event_constraint(bijector, -1L, features,
                   "the rows (one per feature) of the spline's parameters")
}

# ---- fields and printing -------------------------------------------------

#' @export
object_field_names.tfb_rational_quadratic_spline <- function(x) {
  c(NextMethod(), "bin_widths", "bin_heights", "knot_slopes", "range_min")
}

#' @export
object_field.tfb_rational_quadratic_spline <- function(x, name) {
  k <- match(name, c("bin_widths", "bin_heights", "knot_slopes"))
  if (!is.na(k)) {
    return(spline_values(x)[[k]])
  }
  NextMethod()
}

#' @export
format.tfb_rational_quadratic_spline <- function(x, ...) {
  values <- spline_values(x)
  features <- max(.subset2(x, "rows"))
  range_min <- .subset2(x, "range_min")
  totals <- .subset2(x, "width_totals")
  c(NextMethod(),
    sprintf("  bins: %d, %s, range_min: %s, range_max: %s",
            spline_columns(values[[1L]]),
            if (features > 1L) sprintf("one spline per feature (%d)", features)
            else "one spline for every feature",
            format(range_min, digits = 4L),
            format_values(unique(range_min + totals))))
}
