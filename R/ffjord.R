# FFJORD (Grathwohl et al. 2019), TFP's FFJORD bijector: a continuous
# normalizing flow. The forward map solves dz/dt = f(t, z) from
# initial_time to final_time; its log-det solves d(l)/dt = tr(df/dz) along
# with it, one value per element of z (TFP's per-element trace terms,
# which the event_ndims rule sums). The dynamics are an R function or a
# network template (run in C, src/ffjord_network.c); the trace terms come
# from trace_jacobian_exact() or trace_jacobian_hutchinson()
# (R/ffjord_trace.R). With a network template the bijector trains: the
# backward pass differentiates the solver's recorded steps in C.

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
#' [trace_jacobian_exact()]'s page). With a network template as dynamics,
#' both built-in estimators use the network's exact derivatives instead of
#' differences (Hutchinson's with one sample).
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
#' no condition arguments (close over them instead). TFP trains through
#' the solver by the adjoint method; the package differentiates the
#' solver's steps instead (see Training). `initial_time < final_time` is
#' required.
#'
#' **Training.** With a network template from
#' [tfb_ffjord_default_template()] as dynamics, [trace_jacobian_exact] or
#' [trace_jacobian_hutchinson] as the trace, and an [ode_dormand_prince()]
#' solver (any tolerances), the bijector is trainable: [fit()] and
#' [loss_and_gradient()] run through it in either direction, with gradients
#' with respect to the input and every kernel and bias of the network,
#' through the state and the log-determinant. They are computed in C by
#' discretise-then-optimise: the forward solve records its accepted steps
#' (start time, size and the stage states; rejected attempts leave no
#' trace), and the backward pass is the exact reverse-mode derivative of
#' those Runge-Kutta steps, through the network and through its
#' forward-mode trace terms (which needs the activations' second
#' derivatives). The step sizes are held fixed: they are chosen by the
#' error control from the data, and their own dependence on the parameters
#' is left out. At tight tolerances the gradients match central
#' differences of the loss to about 1e-9 (rtol 1e-10). At loose ones the
#' computed loss is only piecewise smooth in the parameters (the step sizes
#' move with them, accept/reject decisions flip), so central differences of
#' it say little; the gradients here then approximate the exact flow's
#' gradient to about the solver's accuracy (for a test network with stiff
#' dynamics, against rtol 1e-12: 1e-1 relative at rtol 1e-3, 1e-3 at 1e-4,
#' 2e-6 at 1e-6), which is what training needs. Unlike the adjoint method
#' (TFP's), this needs no second solve backwards in time, whose error would
#' make the gradient differ from the computed loss's, at the price of
#' memory: the stage states of every accepted step (6 copies of the input
#' per step). With Hutchinson's estimator the gradient is that of the loss
#' with the noise drawn in the same call (one draw per forward or inverse,
#' fixed across the solver's steps), an unbiased estimate of the exact
#' trace's gradient. Cost: a backward pass takes about 3 times the forward
#' solve (one vector-Jacobian product per stage, each re-running the
#' network and its tangents); the exact trace costs `D` tangents per
#' evaluation, Hutchinson's one, so prefer Hutchinson's in high dimensions.
#' A `"relu"` network has piecewise-constant trace terms (the log-det jumps
#' as units switch), so its log-det gradients miss those jumps; use a smooth
#' activation (`"tanh"`, `"softplus"`) to train. R-function dynamics, a
#' user `trace_augmentation_fn` or a user `ode_solve_fn` cannot be
#' differentiated: [fit()] and [loss_and_gradient()] stop with an error
#' saying so.
#'
#' @param state_time_derivative_fn A function of `(time, state)` returning
#'   the time derivative of the state, numbers shaped like `state`; or a
#'   network template from [tfb_ffjord_default_template()], whose dynamics
#'   and exact derivatives run in C (events in the rows of a matrix).
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
#' # training: a network template, fitted by maximum likelihood
#' set.seed(1)
#' flow <- tfd_transformed_distribution(
#'   tfd_multivariate_normal_diag(loc = c(0, 0)),
#'   tfb_ffjord(tfb_ffjord_default_template(c(8), activation = "tanh"),
#'              trace_augmentation_fn = trace_jacobian_exact))
#' data <- cbind(rnorm(200, 1), rnorm(200, sd = 0.5))
#' fit(flow, data, epochs = 2, batch_size = 100, learning_rate = 0.02,
#'     verbose = FALSE)
#' -mean(flow$log_prob(data))
#' @export
tfb_ffjord <- function(state_time_derivative_fn, ode_solve_fn = NULL,
                       trace_augmentation_fn = trace_jacobian_hutchinson,
                       initial_time = 0, final_time = 1,
                       validate_args = FALSE, dtype = NULL,
                       name = "ffjord") {
  if (missing(state_time_derivative_fn) ||
      !(is.function(state_time_derivative_fn) ||
        is_ffjord_template(state_time_derivative_fn))) {
    abort_bijectors("argument", sprintf(paste(
      "`state_time_derivative_fn` must be a function of (time, state) or a",
      "template from tfb_ffjord_default_template(), not %s."),
      if (missing(state_time_derivative_fn)) "missing" else
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
    # the package's own estimators run in C with a network template
    trace_mode = if (identical(trace_augmentation_fn, trace_jacobian_exact)) {
      "exact"
    } else if (identical(trace_augmentation_fn, trace_jacobian_hutchinson)) {
      "hutchinson"
    } else "function",
    initial_time = initial_time,
    final_time = final_time
  )
}

# The dynamics as the solver sees them: the user's function, with its
# errors and results checked. `reverse` gives the inverse's dynamics,
# -f(t0 + t1 - s, z) at solver time s in [t0, t1] (the true time runs from
# t1 back to t0).
ffjord_dynamics <- function(bijector, f, dims, reverse) {
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
  template <- .subset2(bijector, "dynamics")
  if (is_template(template)) {
    rows <- ffjord_template_rows(template, dims, if (reverse) "y" else "x")
    if (.subset2(bijector, "trace_mode") != "function" &&
        inherits(.subset2(bijector, "ode_solve_fn"), "bijectors_ode_solver")) {
      return(ffjord_network_solve(bijector, input, rows, reverse))
    }
  }
  augmented <- ffjord_user_call(ffjord_augmented(bijector, dims, reverse),
                                "trace_augmentation_fn")
  if (!is.function(augmented)) {
    abort_bijectors("ffjord", sprintf(paste(
      "`trace_augmentation_fn` must return a function of (time, state),",
      "not %s."), describe_value(augmented)))
  }
  state_positions <- seq_len(size)
  ode_fn <- function(time, state) {
    out <- ffjord_user_call(
      augmented(time, with_dims(state[state_positions], dims)),
      "trace_augmentation_fn")
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
  result <- ffjord_user_call(.subset2(bijector, "ode_solve_fn")(
    ode_fn, t0, c(as.vector(input), numeric(size)), t1), "ode_solve_fn")
  final <- ffjord_final_state(result, 2 * size)
  list(output = with_dims(final[state_positions], dim(input)),
       log_det = with_dims(final[size + state_positions], dims))
}

# The augmented dynamics (derivative and trace terms) for a solver in R:
# from the trace function over R dynamics, or, for a network template with
# one of the package's estimators, from the network's derivatives in C.
ffjord_augmented <- function(bijector, dims, reverse) {
  dynamics <- .subset2(bijector, "dynamics")
  mode <- .subset2(bijector, "trace_mode")
  if (is_template(dynamics)) {
    rows <- ffjord_template_rows(dynamics, dims, "x")
    if (mode != "function") {
      size <- prod(dims)
      noise <- if (mode == "hutchinson") stats::rnorm(size) else NULL
      t0 <- .subset2(bijector, "initial_time")
      t1 <- .subset2(bijector, "final_time")
      sign <- if (reverse) -1 else 1
      return(function(time, state) {
        out <- ffjord_network_derivative(
          dynamics, state, rows, if (reverse) t0 + t1 - time else time,
          noise, with_trace = TRUE)
        list(with_dims(sign * out[seq_len(size)], dims),
             with_dims(sign * out[size + seq_len(size)], dims))
      })
    }
    template <- dynamics
    dynamics <- function(time, state) {
      with_dims(ffjord_network_derivative(template, state, rows, time, NULL,
                                          with_trace = FALSE), dims)
    }
  }
  .subset2(bijector, "trace_augmentation_fn")(
    ffjord_dynamics(bijector, dynamics, dims, reverse), dims, "float64")
}

# Evaluates `expr`, a call of the user's function `fn_arg`: its errors come
# back classed, naming it (the package's own errors pass unchanged).
ffjord_user_call <- function(expr, fn_arg) {
  tryCatch(expr, error = function(e) {
    if (inherits(e, "bijectors_error")) stop(e)
    abort_bijectors("ffjord", sprintf("`%s` failed: %s", fn_arg,
                                      conditionMessage(e)), parent = e)
  })
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

# ---- network templates ---------------------------------------------------

#' Default network template of an FFJORD flow
#'
#' The dynamics of [tfb_ffjord()] as a fully connected network that runs in
#' C: for events of `D` values (the rows of an `N x D` input),
#' \eqn{f(t, z) = \mathrm{MLP}([z, t])}{f(t, z) = MLP(c(z, t))}, a network
#' with `D + 1` inputs (the state, then the time as an extra column),
#' hidden layers of `hidden_layers` units with the activation, and `D`
#' linear outputs. This is the package's template, not a TFP function (TFP
#' takes any Keras model); FFJORD's paper uses similar small networks with
#' the time concatenated to each layer's input.
#'
#' With this template, `trace_jacobian_exact` and `trace_jacobian_hutchinson`
#' (one noise sample) use the network's exact derivatives in forward mode,
#' and with the default solver the whole solve runs in C: the exact trace
#' costs `D` tangent passes per evaluation, Hutchinson's one. Another
#' `trace_augmentation_fn` or `ode_solve_fn` sees the network as an R
#' function of `(time, state)`.
#'
#' The weights are drawn when the bijector first sees data (the event size
#' `D` is then known), with R's random number generator: glorot-uniform
#' kernels and zero biases unless `kernel_initializer` or `bias_initializer`
#' is given (see [tfb_real_nvp_default_template()] for the dense-layer
#' arguments in `...`). A template serves one event size. Its kernels and
#' biases are trainable: [fit()] trains an FFJORD flow through the solver's
#' steps (see [tfb_ffjord()]'s Training section).
#'
#' @inheritParams tfb_real_nvp_default_template
#' @param hidden_layers Numeric vector or list of whole numbers >= 1: the
#'   units of each hidden layer (may be empty: linear dynamics in `z` and
#'   `t`).
#' @param activation String: the hidden layers' activation (`"tanh"`), one
#'   of `"relu"`, `"tanh"`, `"sigmoid"`, `"elu"`, `"softplus"` or
#'   `"linear"`.
#' @param name String or `NULL` (`"ffjord_default_template"`).
#' @return A template of class `c("tfb_ffjord_template",
#'   "bijectors_template")`, with the fields of
#'   [tfb_real_nvp_default_template()]'s but `shift_only`.
#' @family networks
#' @family continuous flows
#' @seealso [tfb_ffjord()].
#' @examples
#' set.seed(1)
#' template <- tfb_ffjord_default_template(c(8, 8))
#' b <- tfb_ffjord(template, trace_augmentation_fn = trace_jacobian_exact)
#' x <- matrix(rnorm(6), 3, 2)
#' y <- b$forward(x)            # builds the network for events of size 2
#' max(abs(b$inverse(y) - x))
#' b$forward_log_det_jacobian(x, event_ndims = 1)
#' template
#' @export
tfb_ffjord_default_template <- function(hidden_layers, activation = "tanh",
                                        name = NULL, ...) {
  dense <- check_template_dense_arguments(
    list(...), "tfb_ffjord_default_template", made = FALSE)
  new_template("tfb_ffjord_template", list(
    hidden_layers = check_hidden_layers(hidden_layers, allow_empty = TRUE),
    shift_only = TRUE,
    activation = check_activation(activation),
    name = check_string(name %||% "ffjord_default_template", "name"),
    use_bias = dense$use_bias,
    trainable = dense$trainable,
    kernel_initializer = dense$kernel_initializer,
    bias_initializer = dense$bias_initializer
  ))
}

is_ffjord_template <- function(x) {
  is_template(x) && inherits(x, "tfb_ffjord_template")
}

# The rows (events) of an input for a network template, which is built for
# its event size on first use: events are the last dim of a matrix, or a
# vector (one event).
ffjord_template_rows <- function(template, dims, arg) {
  if (length(dims) > 2L) {
    abort_bijectors("input", sprintf(paste(
      "`%s` must be a matrix (events in rows) or a vector (one event) for a",
      "network template's dynamics, not an array of rank %d."), arg,
      length(dims)))
  }
  size <- dims[[length(dims)]]
  rows <- if (length(dims) == 2L) dims[[1L]] else 1L
  if (size < 1L || rows < 1L) {
    abort_bijectors("input", sprintf(
      "`%s` must hold at least one event of at least one value.", arg))
  }
  if (!template_check_size(template, size + 1L, size, arg)) {
    template_build(template, size + 1L, size)
  }
  rows
}

ffjord_network_derivative <- function(template, state, rows, time, noise,
                                      with_trace) {
  .Call(C_ffjord_network_derivative, as.double(state), as.double(rows),
        .subset2(template, "kernels"), .subset2(template, "biases"),
        .subset2(template, "activation_codes"), as.double(time), noise,
        with_trace)
}

# The whole solve in C: the network, its trace terms and the solver. With
# `record`, also the accepted steps (`tape`) and the noise, for a backward
# pass.
ffjord_network_solve <- function(bijector, input, rows, reverse,
                                 record = FALSE) {
  template <- .subset2(bijector, "dynamics")
  noise <- if (.subset2(bijector, "trace_mode") == "hutchinson") {
    stats::rnorm(length(input))
  }
  out <- tryCatch(
    .Call(C_ffjord_network_solve, as.vector(input), as.double(rows),
          .subset2(template, "kernels"), .subset2(template, "biases"),
          .subset2(template, "activation_codes"),
          ffjord_times(bijector), reverse, noise,
          attr(.subset2(bijector, "ode_solve_fn"), "controls"), record),
    error = function(e) {
      if (inherits(e, "bijectors_error")) stop(e)
      abort_bijectors("ode", conditionMessage(e), parent = e)
    })
  list(output = with_dims(out$output, dim(input)),
       log_det = with_dims(out$log_det, input_dims(input)),
       tape = out$tape, noise = noise)
}

ffjord_times <- function(bijector) {
  c(.subset2(bijector, "initial_time"), .subset2(bijector, "final_time"))
}

# ---- training ------------------------------------------------------------

# Gradients go through the solver's accepted steps in C (discretise-then-
# optimise, src/ffjord_network.c), so training needs dynamics the package
# can differentiate: a network template, with one of the package's trace
# estimators and its own Dormand-Prince solver.
ffjord_trainable_template <- function(bijector) {
  template <- .subset2(bijector, "dynamics")
  why <- if (!is_template(template)) {
    paste("its dynamics are an R function, which the package cannot",
          "differentiate; use a tfb_ffjord_default_template() to train")
  } else if (.subset2(bijector, "trace_mode") == "function") {
    paste("its `trace_augmentation_fn` is a user function; use",
          "trace_jacobian_exact or trace_jacobian_hutchinson to train")
  } else if (!inherits(.subset2(bijector, "ode_solve_fn"),
                       "bijectors_ode_solver")) {
    paste("its `ode_solve_fn` is a user function; use ode_dormand_prince()",
          "(any tolerances) to train")
  }
  if (!is.null(why)) {
    abort_bijectors("unsupported", sprintf(paste(
      "The tfb_ffjord() bijector \"%s\" has no backward pass, so fit() and",
      "loss_and_gradient() cannot run through it: %s."),
      .subset2(bijector, "name"), why))
  }
  template
}

#' @export
bijector_parameter_slots.tfb_ffjord <- function(bijector) {
  template <- .subset2(bijector, "dynamics")
  if (!is_template(template)) {
    return(list())
  }
  template_parameter_slots(template)
}

# One recorded solve: the output, the reduced log-det, and the cache of the
# backward pass (the tape of accepted steps and the Hutchinson noise).
ffjord_with_cache <- function(bijector, value, event_ndims, reverse) {
  arg <- if (reverse) "y" else "x"
  template <- ffjord_trainable_template(bijector)
  input <- as_input_array(value, arg)
  dims <- input_dims(input)
  event_ndims <- check_event_ndims(event_ndims, 0L, length(dims), arg)
  rows <- ffjord_template_rows(template, dims, arg)
  solved <- ffjord_network_solve(bijector, input, rows, reverse,
                                 record = TRUE)
  list(output = solved$output,
       log_det = ffjord_reduce(solved$log_det, dims, event_ndims),
       cache = list(tape = solved$tape, noise = solved$noise, rows = rows,
                    dim = dim(input), size = length(input)))
}

# The reverse pass: the reduced log-det's gradient reaches each of its
# per-element terms unchanged (ffjord_reduce() sums element j into batch
# position (j - 1) %% prod(batch dims) + 1, so rep_len() spreads it back).
ffjord_backward <- function(bijector, cache, grad_output, grad_log_det,
                            reverse) {
  template <- ffjord_trainable_template(bijector)
  out <- .Call(C_ffjord_network_backward, cache$tape, as.double(cache$rows),
               .subset2(template, "kernels"), .subset2(template, "biases"),
               .subset2(template, "activation_codes"),
               ffjord_times(bijector), reverse, cache$noise,
               as.double(grad_output),
               rep_len(as.double(grad_log_det), cache$size))
  layers <- length(out$kernels)
  parameters <- vector("list", 2L * layers)
  parameters[2L * seq_len(layers) - 1L] <- out$kernels
  parameters[2L * seq_len(layers)] <- out$biases
  input <- out$input
  if (!is.null(cache$dim)) dim(input) <- cache$dim
  list(input = input,
       parameters = parameters[template_trained_slots(template, layers)])
}

#' @export
bijector_forward_with_cache.tfb_ffjord <- function(bijector, x,
                                                   event_ndims) {
  pass <- ffjord_with_cache(bijector, x, event_ndims, reverse = FALSE)
  list(y = pass$output, log_det = pass$log_det, cache = pass$cache)
}

#' @export
bijector_forward_backward.tfb_ffjord <- function(bijector, cache, grad_y,
                                                 grad_log_det) {
  ffjord_backward(bijector, cache, grad_y, grad_log_det, reverse = FALSE)
}

#' @export
bijector_inverse_with_cache.tfb_ffjord <- function(bijector, y,
                                                   event_ndims) {
  pass <- ffjord_with_cache(bijector, y, event_ndims, reverse = TRUE)
  list(x = pass$output, log_det = pass$log_det, cache = pass$cache)
}

#' @export
bijector_inverse_backward.tfb_ffjord <- function(bijector, cache, grad_x,
                                                 grad_log_det) {
  ffjord_backward(bijector, cache, grad_x, grad_log_det, reverse = TRUE)
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
    sprintf("  dynamics: %s", if (is_template(.subset2(x, "dynamics")))
      sprintf("network template \"%s\"", .subset2(.subset2(x, "dynamics"),
                                                 "name")) else
      "an R function"),
    sprintf("  ode_solve_fn: %s", if (inherits(solver, "bijectors_ode_solver"))
      "Dormand-Prince 5(4)" else "a user function"))
}
