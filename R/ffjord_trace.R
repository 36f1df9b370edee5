# The trace terms of tfb_ffjord()'s log-det ODE, TFP's
# tfp.bijectors.ffjord.trace_jacobian_exact and trace_jacobian_hutchinson.
# TFP differentiates the dynamics with TensorFlow's autodiff; an R function
# cannot be, so both use central differences of f. The step for an
# element of size |z| is h = eps^(1/3) max(1, |z|) (eps the double
# precision's 2.2e-16), which balances the truncation error, about
# h^2 |f'''| / 6, against the rounding error, about eps |f| / h: both near
# 1e-11 relative for dynamics whose derivatives are of the order of f.

# The central-difference step for values `z`.
central_difference_step <- function(z) {
  .Machine$double.eps^(1 / 3) * pmax(1, abs(z))
}

#' Trace estimators for FFJORD
#'
#' The two `trace_augmentation_fn`s of [tfb_ffjord()], TFP's
#' `tfp.bijectors.ffjord.trace_jacobian_exact` and
#' `trace_jacobian_hutchinson` under the same names. Each takes the
#' dynamics `ode_fn(time, state)` and the shape of the state, and returns
#' the augmented dynamics: a function of `(time, state)` returning
#' `list(derivative, trace)`, two arrays shaped like `state`, where
#' `derivative = ode_fn(time, state)` and `trace` holds one term per element
#' whose sum over an event is (an estimate of) the trace of the Jacobian
#' of `ode_fn` for that event. Write a function with the same contract to
#' supply a trace known in closed form.
#'
#' **Exact.** `trace_jacobian_exact()` returns the diagonal of the Jacobian,
#' \eqn{\partial f_i / \partial z_i}{df_i/dz_i}, by central differences:
#' each element `z_i` moves by \eqn{\pm h_i}{+-h_i} with \eqn{h_i =
#' \epsilon^{1/3} \max(1, |z_i|)}{h_i = eps^(1/3) max(1, |z_i|)} (for double
#' precision, about 6e-6 for values up to 1). The error is of the order of
#' \eqn{h^2 |f'''| + \epsilon |f| / h}{h^2 |f'''| + eps |f| / h}, about
#' 1e-10 relative for smooth dynamics whose derivatives are of the size of
#' `f` (linear dynamics are differentiated to rounding). For a state of
#' rank 2 or more, the first axis is a batch axis, as in TFP: one element
#' position moves in every event at once, so the cost is 2 evaluations of
#' `ode_fn` per element of one event; the dynamics must not mix events. A
#' vector state is one event: 2 evaluations per element.
#'
#' **Hutchinson.** `trace_jacobian_hutchinson()` draws `num_samples` noise
#' arrays \eqn{\epsilon}{eps} shaped like the state **once**, when called
#' (so once per call of the bijector's `forward()` or `inverse()`, fixed
#' across the solver's steps, as in TFP), and returns the terms
#' \eqn{\mathrm{mean}_s(\epsilon_s \circ (J \epsilon_s))}{mean_s(eps_s * (J eps_s))}
#' whose sum over an event is \eqn{\epsilon^T J \epsilon}{eps' J eps},
#' unbiased for the trace when the noise has mean 0 and identity covariance.
#' The Jacobian-vector product is a central difference along
#' \eqn{\epsilon}{eps} (2 evaluations of `ode_fn` per sample). TFP uses a
#' vector-Jacobian product, \eqn{\epsilon \circ (J^T \epsilon)}{eps * (t(J) eps)}:
#' its terms differ element by element, but their sum over an event, the
#' estimate, is the same. The noise comes from R's random number
#' generator: [set.seed()] makes it reproducible, or give `seed`, which
#' draws with that seed and leaves the generator's state as it was.
#'
#' @param ode_fn A function of `(time, state)` returning the derivative,
#'   shaped like `state`.
#' @param state_shape An integer vector: the dims of the state (its length
#'   for a vector).
#' @param dtype `NULL` or a floating-point dtype name; ignored (double
#'   precision).
#' @param sample_fn A function of `n` returning `n` draws of the noise,
#'   mean 0 and variance 1: [stats::rnorm()] (TFP's default), or for
#'   Rademacher noise `function(n) sample(c(-1, 1), n, replace = TRUE)`.
#' @param num_samples A whole number >= 1: noise samples averaged (1).
#' @param seed `NULL` or a number for [set.seed()].
#' @return A function of `(time, state)` returning `list(derivative,
#'   trace)`.
#' @family continuous flows
#' @seealso [tfb_ffjord()].
#' @examples
#' f <- function(t, z) z %*% diag(c(1, 2, 3))
#' exact <- trace_jacobian_exact(f, c(2L, 3L))
#' exact(0, matrix(1, 2, 3))[[2]]         # 1 2 3 in each row
#' set.seed(1)
#' hutchinson <- trace_jacobian_hutchinson(f, c(2L, 3L), num_samples = 500)
#' rowSums(hutchinson(0, matrix(1, 2, 3))[[2]])   # near 6
#' # more samples: a closure for tfb_ffjord()
#' b <- tfb_ffjord(f, trace_augmentation_fn = function(ode_fn, shape, dtype) {
#'   trace_jacobian_hutchinson(ode_fn, shape, dtype, num_samples = 16)
#' })
#' b$forward_log_det_jacobian(matrix(1, 2, 3), event_ndims = 1) # near 6
#' @export
trace_jacobian_exact <- function(ode_fn, state_shape, dtype = NULL) {
  check_trace_arguments(ode_fn, state_shape, dtype)
  function(time, state) {
    derivative <- ode_fn(time, state)
    dims <- input_dims(state)
    size <- length(state)
    rows <- if (length(dims) >= 2L) dims[[1L]] else 1L
    trace <- numeric(size)
    for (position in seq_len(size %/% max(rows, 1L))) {
      moved <- (position - 1L) * rows + seq_len(rows)
      step <- central_difference_step(state[moved])
      up <- state
      down <- state
      up[moved] <- state[moved] + step
      down[moved] <- state[moved] - step
      # divide by the steps as represented, not as intended
      trace[moved] <- (as.vector(ode_fn(time, up))[moved] -
                         as.vector(ode_fn(time, down))[moved]) /
        (up[moved] - down[moved])
    }
    list(derivative, with_dims(trace, dims))
  }
}

#' @rdname trace_jacobian_exact
#' @export
trace_jacobian_hutchinson <- function(ode_fn, state_shape, dtype = NULL,
                                      sample_fn = stats::rnorm,
                                      num_samples = 1, seed = NULL) {
  check_trace_arguments(ode_fn, state_shape, dtype)
  if (!is.function(sample_fn)) {
    abort_bijectors("argument", sprintf(
      "`sample_fn` must be a function of n returning n draws, not %s.",
      describe_value(sample_fn)))
  }
  num_samples <- check_count(num_samples, "num_samples")
  size <- prod(as.double(state_shape))
  draw <- function() sample_fn(num_samples * size)
  noise <- if (is.null(seed)) draw() else
    with_seed(check_number(seed, "seed"), draw())
  if (!is.numeric(noise) || length(noise) != num_samples * size ||
      any(!is.finite(noise))) {
    abort_bijectors("argument", sprintf(
      "`sample_fn` must return %s finite numbers, not %s of length %s.",
      format(num_samples * size), describe_input(noise),
      format(length(noise))))
  }
  noise <- matrix(as.double(noise), nrow = size)
  function(time, state) {
    derivative <- ode_fn(time, state)
    values <- as.vector(state)
    scale <- .Machine$double.eps^(1 / 3) * max(1, abs(values))
    terms <- numeric(length(values))
    for (s in seq_len(num_samples)) {
      direction <- noise[, s]
      step <- scale / max(abs(direction), .Machine$double.xmin)
      up <- values + step * direction
      down <- values - step * direction
      jvp <- (as.vector(ode_fn(time, with_dims(up, dim(state)))) -
                as.vector(ode_fn(time, with_dims(down, dim(state))))) /
        (2 * step)
      terms <- terms + direction * jvp
    }
    list(derivative, with_dims(terms / num_samples, dim(state)))
  }
}

check_trace_arguments <- function(ode_fn, state_shape, dtype) {
  if (!is.function(ode_fn)) {
    abort_bijectors("argument", sprintf(
      "`ode_fn` must be a function of (time, state), not %s.",
      describe_value(ode_fn)))
  }
  ok <- is.numeric(state_shape) && !is.object(state_shape) &&
    length(state_shape) >= 1L && !anyNA(state_shape) &&
    all(state_shape >= 0) && all(state_shape == round(state_shape))
  if (!ok) {
    abort_bijectors("argument", sprintf(
      "`state_shape` must be a vector of whole numbers >= 0, not %s.",
      describe_value(state_shape)))
  }
  check_dtype(dtype)
  invisible(NULL)
}
