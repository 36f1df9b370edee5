# FFJORD (Grathwohl et al. 2019), TFP's FFJORD bijector: a continuous
# normalizing flow. The forward map solves dz/dt = f(t, z) from
# initial_time to final_time; its log-det solves d(l)/dt = tr(df/dz) along
# with it, one value per element of z (TFP's per-element trace terms,
# which the event_ndims rule sums). The dynamics are an R function; the
# trace terms come from trace_jacobian_exact() or
# trace_jacobian_hutchinson() (R/ffjord_trace.R).

#' Continuous normalizing flow (FFJORD)
#'
#' A bijector defined by an ordinary differential equation, as
#' tfprobability's `tfb_ffjord()` (TFP's `FFJORD`, Grathwohl et al. 2019).
#' With dynamics \eqn{f(t, z)}, the forward map solves
#' \deqn{\frac{dz}{dt} = f(t, z),\quad z(t_0) = x,\quad y = z(t_1),}{dz/dt = f(t, z), z(t0) = x, y = z(t1),}
#' and the log-determinant of its Jacobian solves, alongside,
#' \deqn{\frac{d\ell}{dt} = \mathrm{tr}\,\frac{\partial f}{\partial z}(t, z),
#'   \quad \ell(t_0) = 0,\quad \log|\det J| = \ell(t_1).}{dl/dt = tr(df/dz)(t, z), l(t0) = 0, log|det J| = l(t1).}
#' As in TFP, \eqn{\ell} has one component per element of the state (its
#' element's term of the trace), the minimum event ndims is 0, and the
#' log-determinant at `event_ndims` sums those components over the event
#' dims. The inverse solves the same equations backwards in time, from
#' `final_time` to `initial_time`, starting at `y`.
#'
#' **Dynamics.** `state_time_derivative_fn(time, state)` receives the time
#' (a number) and the state, a double array with the shape of the input
#' (the whole batch: `N x D` for `N` events of `D` values), and returns the
#' derivative, numbers of the same shape. As in TFP, the first axis of an
#' input of rank 2 or more is a batch axis: the dynamics must not mix
#' events. To condition the dynamics on other values (TFP's
#' `condition_kwargs`), close over them in the function (see the examples).
#'
#' **Trace.** `trace_augmentation_fn` computes the trace terms. The
#' package cannot differentiate an R function, so the two built-in
#' estimators use central differences of `f` (see
#' [trace_jacobian_exact()]): `trace_jacobian_exact` gives the diagonal of
#' the Jacobian, exact to about 1e-10 relative for smooth dynamics, at the
#' cost of 2 evaluations of `f` per element of one event;
#' `trace_jacobian_hutchinson` (the default, as in TFP) gives Hutchinson's
#' unbiased estimate \eqn{\epsilon^T J \epsilon}{eps' J eps} with one
#' Gaussian draw per call of `forward()` or `inverse()`, fixed across the
#' solver's steps, at 2 evaluations per sample. When the trace is known in
#' closed form, pass your own `trace_augmentation_fn` (the contract is on
#' [trace_jacobian_exact()]'s page).
#'
#' **Solver.** `ode_solve_fn = NULL` uses [ode_dormand_prince()] with TFP's
#' settings (rtol 1e-3, atol 1e-6), in C. Any function
#' `function(ode_fn, initial_time, initial_state, solution_times)` can
#' replace it: `ode_fn(time, state)` is the augmented system (state and
#' log-det together, a double vector of twice the input's length: the state
#' in R's order, then the trace components), `initial_time` and
#' `solution_times` (here the one time `final_time`, always after
#' `initial_time`) are numbers, and the result is a list whose `states` is
#' either a list of states, one per solution time, or a matrix or array
#' with one row (first index) per solution time. The last state is used.
#'
#' **Differences from TFP.** TFP's inverse integrates the reversed
#' dynamics with the time argument `final_time - s` for `s` running from
#' `initial_time` to `final_time`, which is the true time only when
#' `initial_time = 0`; here the reversed dynamics get `initial_time +
#' final_time - s`, so the inverse undoes the forward map for any pair of
#' times. TFP's solver steps past `final_time` and interpolates; the
#' package's lands on it (see [ode_dormand_prince()]). `dtype` is accepted
#' and changes nothing: all arithmetic is in double precision. There are
#' no condition arguments (close over them instead). The bijector is not
#' trainable: [fit()] cannot run through R dynamics.
#'
#' @param state_time_derivative_fn A function of `(time, state)` returning
#'   the time derivative of the state, numbers shaped like `state`.
#' @param ode_solve_fn `NULL` (the default [ode_dormand_prince()] solver)
#'   or a solver function with the contract described in Details.
#' @param trace_augmentation_fn A function of `(ode_fn, state_shape, dtype)`
#'   returning the augmented dynamics: [trace_jacobian_hutchinson] (the
#'   default), [trace_jacobian_exact], or your own.
#' @param initial_time,final_time Finite numbers with `initial_time <
#'   final_time`: the interval of integration (0 and 1).
#' @param validate_args `TRUE` or `FALSE`; stored.
#' @param dtype `NULL` or a floating-point dtype name; all arithmetic is in
#'   double precision.
#' @param name A string: the bijector's name.
#' @return A bijector of class `c("tfb_ffjord", "bijector")`, with
#'   `forward_min_event_ndims = inverse_min_event_ndims = 0` and the fields
#'   `$initial_time` and `$final_time`.
#' @family bijectors
#' @family continuous flows
#' @seealso `tfprobability::tfb_ffjord()`; [ode_dormand_prince()],
#'   [trace_jacobian_exact()].
#' @references Grathwohl, W., Chen, R. T. Q., Bettencourt, J., Sutskever,
#'   I. and Duvenaud, D. (2019). FFJORD: Free-form continuous dynamics for
#'   scalable reversible generative models. ICLR.
#' @examples
#' # dz/dt = A z: y = expm(A) x and log|det J| = tr(A) exactly
#' A <- rbind(c(-0.5, 0.3), c(0.2, 0.4))
#' b <- tfb_ffjord(function(t, z) z %*% t(A),
#'                 trace_augmentation_fn = trace_jacobian_exact)
#' x <- rbind(c(1, 2), c(-1, 0.5))
#' y <- b$forward(x)
#' b$inverse(y) - x          # about 1e-5 at the default rtol = 1e-3
#' b$forward_log_det_jacobian(x, event_ndims = 1) # tr(A) = -0.1 per event
#' # conditioning: close over the extra value
#' scale <- 2
#' b2 <- tfb_ffjord(function(t, z) array(scale^2, dim(z)),
#'                  trace_augmentation_fn = trace_jacobian_exact)
#' b2$forward(matrix(0, 2, 3))                    # all 4
#' @export
tfb_ffjord <- function(state_time_derivative_fn, ode_solve_fn = NULL,
                       trace_augmentation_fn = trace_jacobian_hutchinson,
                       initial_time = 0, final_time = 1,
                       validate_args = FALSE, dtype = NULL,
                       name = "ffjord") {
  if (missing(state_time_derivative_fn) ||
      !is.function(state_time_derivative_fn)) {
    abort_bijectors("argument", sprintf(paste(
      "`state_time_derivative_fn` must be a function of (time, state), not",
      "%s."), if (missing(state_time_derivative_fn)) "missing" else
        describe_value(state_time_derivative_fn)))
  }
  if (!is.null(ode_solve_fn) && !is.function(ode_solve_fn)) {
    abort_bijectors("argument", sprintf(paste(
      "`ode_solve_fn` must be NULL or a function of (ode_fn, initial_time,",
      "initial_state, solution_times), not %s."),
      describe_value(ode_solve_fn)))
  }
  if (!is.function(trace_augmentation_fn)) {
    abort_bijectors("argument", sprintf(paste(
      "`trace_augmentation_fn` must be a function of (ode_fn, state_shape,",
      "dtype), such as trace_jacobian_exact, not %s."),
      describe_value(trace_augmentation_fn)))
  }
  initial_time <- check_number(initial_time, "initial_time")
  final_time <- check_number(final_time, "final_time")
  if (!(initial_time < final_time)) {
    abort_bijectors("argument", sprintf(paste(
      "`initial_time` (%s) must be less than `final_time` (%s)."),
      format(initial_time), format(final_time)))
  }
  validate_args <- check_flag(validate_args, "validate_args")
  check_dtype(dtype)
  new_bijector(
    "tfb_ffjord",
    name = check_string(name, "name"),
    forward_min_event_ndims = 0L,
    validate_args = validate_args,
    dynamics = state_time_derivative_fn,
    ode_solve_fn = ode_solve_fn %||% ode_dormand_prince(),
    trace_augmentation_fn = trace_augmentation_fn,
    initial_time = initial_time,
    final_time = final_time
  )
}

# The dynamics as the solver sees them: the user's function, with its
# errors and results checked. `reverse` gives the inverse's dynamics,
# -f(t0 + t1 - s, z) at solver time s in [t0, t1] (the true time runs from
# t1 back to t0).
ffjord_dynamics <- function(bijector, dims, reverse) {
  f <- .subset2(bijector, "dynamics")
  t0 <- .subset2(bijector, "initial_time")
  t1 <- .subset2(bijector, "final_time")
  size <- prod(dims)
  function(time, state) {
    value <- tryCatch(
      if (reverse) f(t0 + t1 - time, state) else f(time, state),
      error = function(e) {
        if (inherits(e, "bijectors_error")) stop(e)
        abort_bijectors("ffjord", sprintf(
          "`state_time_derivative_fn` failed: %s", conditionMessage(e)),
          parent = e)
      })
    if (!is.numeric(value) || is.object(value) || length(value) != size) {
      abort_bijectors("ffjord", sprintf(paste(
        "`state_time_derivative_fn` must return numbers shaped like the",
        "state (%s values), but returned %s of length %s."), format(size),
        describe_input(value), format(length(value))))
    }
    value <- as.double(value)
    if (reverse) value <- -value
    with_dims(value, dims)
  }
}

with_dims <- function(values, dims) {
  if (length(dims) >= 2L) dim(values) <- dims
  values
}

# One solve of the augmented system from `input`: the mapped array and the
# per-element log-det (forward: the forward log-det at x; reverse: the
# inverse log-det at y).
ffjord_solve <- function(bijector, input, reverse) {
  dims <- input_dims(input)
  size <- length(input)
  dynamics <- ffjord_dynamics(bijector, dims, reverse)
  augmented <- .subset2(bijector, "trace_augmentation_fn")(
    dynamics, dims, "float64")
  if (!is.function(augmented)) {
    abort_bijectors("ffjord", sprintf(paste(
      "`trace_augmentation_fn` must return a function of (time, state),",
      "not %s."), describe_value(augmented)))
  }
  state_positions <- seq_len(size)
  ode_fn <- function(time, state) {
    out <- augmented(time, with_dims(state[state_positions], dims))
    if (!is.list(out) || length(out) != 2L ||
        length(out[[1L]]) != size || length(out[[2L]]) != size ||
        !is.numeric(out[[1L]]) || !is.numeric(out[[2L]])) {
      abort_bijectors("ffjord", sprintf(paste(
        "The augmented dynamics from `trace_augmentation_fn` must return a",
        "list of two numeric arrays shaped like the state (%s values each):",
        "the derivative and the trace terms."), format(size)))
    }
    c(as.double(out[[1L]]), as.double(out[[2L]]))
  }
  t0 <- .subset2(bijector, "initial_time")
  t1 <- .subset2(bijector, "final_time")
  result <- .subset2(bijector, "ode_solve_fn")(
    ode_fn, t0, c(as.vector(input), numeric(size)), t1)
  final <- ffjord_final_state(result, 2 * size)
  list(output = with_dims(final[state_positions], dim(input)),
       log_det = with_dims(final[size + state_positions], dims))
}

# The last state of a solver's result: `states` as a list of states or an
# array with the solution times along its first dim.
ffjord_final_state <- function(result, length_needed) {
  states <- if (is.list(result)) result[["states"]] else NULL
  if (is.list(states) && length(states) >= 1L) {
    final <- states[[length(states)]]
  } else if (is.numeric(states) && length(states) >= length_needed &&
             length(states) %% length_needed == 0) {
    times <- length(states) / length_needed
    final <- matrix(states, nrow = times)[times, ]
  } else {
    abort_bijectors("ffjord", paste(
      "`ode_solve_fn` must return a list whose `states` is a list of states",
      "or an array with the solution times along its first dim."))
  }
  if (!is.numeric(final) || length(final) != length_needed ||
      anyNA(final)) {
    abort_bijectors("ffjord", sprintf(paste(
      "The final state from `ode_solve_fn` must be %s numbers (state and",
      "log-det), not %s of length %s."), format(length_needed),
      describe_input(final), format(length(final))))
  }
  as.double(final)
}

ffjord_reduce <- function(log_det, dims, event_ndims) {
  rank <- length(dims)
  lead <- dims[seq_len(rank - event_ndims)]
  summed <- rowSums(matrix(as.vector(log_det),
                           nrow = prod(as.double(lead))))
  with_shape(if (length(lead) == 0L) sum(summed) else summed, lead)
}

#' @export
bijector_forward.tfb_ffjord <- function(bijector, x) {
  ffjord_solve(bijector, as_input_array(x, "x"), reverse = FALSE)$output
}

#' @export
bijector_inverse.tfb_ffjord <- function(bijector, y) {
  ffjord_solve(bijector, as_input_array(y, "y"), reverse = TRUE)$output
}

ffjord_log_det <- function(bijector, input, event_ndims, reverse) {
  arg <- if (reverse) "y" else "x"
  input <- as_input_array(input, arg)
  dims <- input_dims(input)
  event_ndims <- check_event_ndims(event_ndims, 0L, length(dims), arg)
  solved <- ffjord_solve(bijector, input, reverse)
  list(output = solved$output,
       log_det = ffjord_reduce(solved$log_det, dims, event_ndims))
}

#' @export
bijector_forward_log_det_jacobian.tfb_ffjord <- function(bijector, x,
                                                         event_ndims) {
  ffjord_log_det(bijector, x, event_ndims, reverse = FALSE)$log_det
}

# The reversed solve gives the inverse log-det directly (the trace of the
# negated dynamics), as TFP's inverse does.
#' @export
bijector_inverse_log_det_jacobian.tfb_ffjord <- function(bijector, y,
                                                         event_ndims) {
  ffjord_log_det(bijector, y, event_ndims, reverse = TRUE)$log_det
}

# One solve gives both, as TFP's cache does.
#' @export
bijector_forward_and_log_det.tfb_ffjord <- function(bijector, x,
                                                    event_ndims) {
  solved <- ffjord_log_det(bijector, x, event_ndims, reverse = FALSE)
  list(y = solved$output, log_det = solved$log_det)
}

#' @export
bijector_inverse_and_log_det.tfb_ffjord <- function(bijector, y,
                                                    event_ndims) {
  solved <- ffjord_log_det(bijector, y, event_ndims, reverse = TRUE)
  list(x = solved$output, log_det = solved$log_det)
}

# ---- training ------------------------------------------------------------

ffjord_no_gradient <- function(bijector) {
  abort_bijectors("unsupported", sprintf(paste(
    "tfb_ffjord() bijectors with R dynamics (here \"%s\") are not trainable",
    "and have no backward pass: the package cannot differentiate an R",
    "function through the ODE solver, so fit() and loss_and_gradient()",
    "cannot run through them."), .subset2(bijector, "name")))
}

#' @export
bijector_forward_with_cache.tfb_ffjord <- function(bijector, x,
                                                   event_ndims) {
  ffjord_no_gradient(bijector)
}

#' @export
bijector_inverse_with_cache.tfb_ffjord <- function(bijector, y,
                                                   event_ndims) {
  ffjord_no_gradient(bijector)
}

#' @export
object_field_names.tfb_ffjord <- function(x) {
  c(NextMethod(), "initial_time", "final_time")
}

#' @export
format.tfb_ffjord <- function(x, ...) {
  solver <- .subset2(x, "ode_solve_fn")
  c(NextMethod(),
    sprintf("  time: [%s, %s]", format(.subset2(x, "initial_time")),
            format(.subset2(x, "final_time"))),
    sprintf("  ode_solve_fn: %s", if (inherits(solver, "bijectors_ode_solver"))
      "Dormand-Prince 5(4)" else "a user function"))
}
