# The package's ODE solver, TFP's tfp.math.ode.DormandPrince in C
# (src/dormand_prince.c): what tfb_ffjord() uses when `ode_solve_fn` is
# NULL, and a solver with the contract tfb_ffjord() expects of its own.

#' Dormand-Prince ODE solver
#'
#' An adaptive Dormand-Prince 5(4) Runge-Kutta solver written in C, with the
#' step control of TFP's `tfp.math.ode.DormandPrince`. It is the default
#' `ode_solve_fn` of [tfb_ffjord()]; call it with other tolerances to make
#' an `ode_solve_fn` of your own, e.g. `tfb_ffjord(f, ode_solve_fn =
#' ode_dormand_prince(rtol = 1e-8, atol = 1e-10))`.
#'
#' Each step evaluates the derivative six times (the seventh stage is the
#' next step's first). With `y0` the state before and `y1` after a step of
#' size `h`, and `err` the difference of the 5th- and 4th-order solutions,
#' the step is accepted when
#' \deqn{r = \sqrt{\mathrm{mean}_i ((err_i / tol_i)^4)} \le 1,\quad
#'   tol_i = atol + rtol \max(|y0_i|, |y1_i|),}{r = sqrt(mean((err / tol)^4)) <= 1, tol = atol + rtol max(|y0|, |y1|),}
#' the mean running over every element of the state; after every attempt
#' the step becomes `h * min(max_step_size_factor, max(min_step_size_factor,
#' safety_factor * r^(-1/6)))`. These are TFP's rules, the norm included
#' (TFP squares the scaled error twice, so `r` is an L4-type norm rather than
#' a root mean square). One difference: the last step before each solution
#' time is shortened to land on it exactly, where TFP steps past it and
#' interpolates with its 4th-order dense output.
#'
#' The solver runs until every solution time is reached, unless
#' `max_num_steps` (attempted steps, rejected ones included) is exceeded or
#' the step size underflows (non-finite or very stiff dynamics): both are
#' errors. It can be interrupted.
#'
#' @param rtol,atol Positive numbers: the relative and absolute
#'   tolerances (TFP's defaults 1e-3 and 1e-6).
#' @param first_step_size Positive number: the first step tried (1e-3).
#' @param safety_factor Positive number (0.9).
#' @param min_step_size_factor,max_step_size_factor Positive numbers: the
#'   bounds of the factor that changes the step size (0.1 and 10).
#' @param max_num_steps `NULL` (no limit, TFP's default) or a positive
#'   whole number: the most steps to attempt in one solve.
#' @return A function of class `bijectors_ode_solver`,
#'   `function(ode_fn, initial_time, initial_state, solution_times)`:
#'   `ode_fn(time, state)` returns the derivative, a double array shaped like
#'   `state`; `initial_state` is a numeric vector or array; `solution_times`
#'   an increasing vector of times, none before `initial_time`. It returns
#'   a list with `times`, `states` (a list of one array per solution time,
#'   shaped like `initial_state`) and `diagnostics` (the numbers of
#'   attempted and rejected steps and of evaluations of `ode_fn`).
#' @family continuous flows
#' @seealso [tfb_ffjord()]; TFP's `tfp.math.ode.DormandPrince`.
#' @examples
#' solve <- ode_dormand_prince(rtol = 1e-8, atol = 1e-10)
#' # y' = -y, y(0) = 1: y(1) = exp(-1)
#' out <- solve(function(t, y) -y, 0, 1, solution_times = c(0.5, 1))
#' unlist(out$states) - exp(-c(0.5, 1))
#' out$diagnostics
#' @export
ode_dormand_prince <- function(rtol = 1e-3, atol = 1e-6,
                               first_step_size = 1e-3, safety_factor = 0.9,
                               min_step_size_factor = 0.1,
                               max_step_size_factor = 10,
                               max_num_steps = NULL) {
  positive <- function(x, arg) {
    check_number(x, arg, lower = 0, what = "a positive finite number")
    if (x <= 0) {
      abort_bijectors("argument", sprintf(
        "`%s` must be a positive finite number, not %s.", arg,
        describe_value(x)))
    }
    as.double(x)
  }
  controls <- c(
    rtol = positive(rtol, "rtol"), atol = positive(atol, "atol"),
    first_step_size = positive(first_step_size, "first_step_size"),
    safety_factor = positive(safety_factor, "safety_factor"),
    min_step_size_factor = positive(min_step_size_factor,
                                    "min_step_size_factor"),
    max_step_size_factor = positive(max_step_size_factor,
                                    "max_step_size_factor"),
    max_num_steps = if (is.null(max_num_steps)) 0 else
      check_count(max_num_steps, "max_num_steps"))
  solver <- function(ode_fn, initial_time, initial_state, solution_times) {
    dormand_prince_solve(ode_fn, initial_time, initial_state, solution_times,
                         controls)
  }
  structure(solver, class = c("bijectors_ode_solver", "function"),
            controls = controls)
}

# The checked call into C. The state handed to `ode_fn` has the dims of
# `initial_state`; its result is coerced to double here and its length
# checked again in C.
dormand_prince_solve <- function(ode_fn, initial_time, initial_state,
                                 solution_times, controls) {
  if (!is.function(ode_fn)) {
    abort_bijectors("argument", sprintf(
      "`ode_fn` must be a function of (time, state), not %s.",
      describe_value(ode_fn)))
  }
  initial_time <- check_number(initial_time, "initial_time")
  initial_state <- as_input_array(initial_state, "initial_state")
  solution_times <- as_input_array(solution_times, "solution_times")
  if (length(solution_times) == 0L || anyNA(solution_times) ||
      any(!is.finite(solution_times)) || is.unsorted(solution_times) ||
      solution_times[[1L]] < initial_time) {
    abort_bijectors("argument", paste(
      "`solution_times` must be a non-empty increasing vector of finite",
      "times, none before `initial_time`."))
  }
  dims <- dim(initial_state)
  size <- length(initial_state)
  derivative <- function(time, state) {
    dim(state) <- dims
    value <- ode_fn(time, state)
    if (!is.numeric(value) || is.object(value) || length(value) != size) {
      abort_bijectors("ode", sprintf(paste(
        "`ode_fn` must return numbers shaped like the state (%s values),",
        "not %s."), format(size), describe_input(value)))
    }
    as.double(value)
  }
  # the solver's own failures (too many steps, a step size that
  # underflows) and those of `ode_fn` come back as classed errors
  out <- tryCatch(
    .Call(C_dormand_prince_solve, derivative, environment(), initial_time,
          as.vector(initial_state), as.double(solution_times), controls),
    error = function(e) {
      if (inherits(e, "bijectors_error")) stop(e)
      abort_bijectors("ode", conditionMessage(e), parent = e)
    })
  list(times = as.vector(solution_times),
       states = lapply(out$states, function(state) {
         dim(state) <- dims
         state
       }),
       diagnostics = out[c("num_steps", "num_rejected_steps",
                           "num_ode_fn_evaluations")])
}

#' @export
format.bijectors_ode_solver <- function(x, ...) {
  controls <- attr(x, "controls")
  limit <- controls[["max_num_steps"]]
  c("<bijectors_ode_solver> Dormand-Prince 5(4)",
    sprintf("  rtol: %s, atol: %s, first_step_size: %s",
            format(controls[["rtol"]]), format(controls[["atol"]]),
            format(controls[["first_step_size"]])),
    sprintf("  safety_factor: %s, step size factors: [%s, %s], max_num_steps: %s",
            format(controls[["safety_factor"]]),
            format(controls[["min_step_size_factor"]]),
            format(controls[["max_step_size_factor"]]),
            if (limit == 0) "none" else format(limit)))
}

#' @export
print.bijectors_ode_solver <- function(x, ...) {
  cat(format(x, ...), sep = "\n")
  invisible(x)
}
