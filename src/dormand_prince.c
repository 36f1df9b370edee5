/* The Dormand-Prince 5(4) Runge-Kutta solver behind tfb_ffjord()'s default
   `ode_solve_fn` (ode_dormand_prince()), with the step control of TFP's
   tfp.math.ode.DormandPrince: per-element tolerance atol + rtol max(|y0|,
   |y1|), error ratio r = sqrt(mean((err / tol)^4)) over every element,
   accept when r <= 1, next step h clamp(safety r^(-1/6), min, max) after
   every attempt. One departure: steps are shortened to land exactly on each
   solution time (TFP steps past it and interpolates at 4th order).

   The system is an ode_system (dormand_prince.h): an R function of (time,
   state) called back for every stage by the .Call entry here, or dynamics
   written in C (src/ffjord_network.c). An R function receives a fresh
   vector as the state, so it may keep or modify it without touching the
   solver's own memory. */
#include "dormand_prince.h"
#include <math.h>
#include <string.h>

/* Dormand and Prince (1980), Butcher tableau of RK5(4)7M. */
const double dp_c[7] = {0.0, 1.0 / 5.0, 3.0 / 10.0, 4.0 / 5.0,
                               8.0 / 9.0, 1.0, 1.0};
const double dp_a[7][6] = {
    {0.0, 0.0, 0.0, 0.0, 0.0, 0.0},
    {1.0 / 5.0, 0.0, 0.0, 0.0, 0.0, 0.0},
    {3.0 / 40.0, 9.0 / 40.0, 0.0, 0.0, 0.0, 0.0},
    {44.0 / 45.0, -56.0 / 15.0, 32.0 / 9.0, 0.0, 0.0, 0.0},
    {19372.0 / 6561.0, -25360.0 / 2187.0, 64448.0 / 6561.0,
     -212.0 / 729.0, 0.0, 0.0},
    {9017.0 / 3168.0, -355.0 / 33.0, 46732.0 / 5247.0, 49.0 / 176.0,
     -5103.0 / 18656.0, 0.0},
    /* the 5th-order weights: the last stage is f at the new point (FSAL) */
    {35.0 / 384.0, 0.0, 500.0 / 1113.0, 125.0 / 192.0, -2187.0 / 6784.0,
     11.0 / 84.0}};
/* 5th-order weights minus 4th-order weights: the local error estimate */
static const double dp_e[7] = {71.0 / 57600.0, 0.0, -71.0 / 16695.0,
                               71.0 / 1920.0, -17253.0 / 339200.0,
                               22.0 / 525.0, -1.0 / 40.0};

/* The R function of the .Call entry as an ode_system. */
typedef struct {
    SEXP fn;         /* the R function of (time, state) */
    SEXP rho;        /* where to evaluate the call */
} r_dynamics;

/* derivative <- fn(time, state), checked to be a double vector of length n.
   A non-finite value makes the step fail, so that the controller shrinks
   it (see dp_integrate()). */
static void r_dynamics_evaluate(void *context, double time,
                                const double *state, R_xlen_t n,
                                double *derivative)
{
    r_dynamics *dynamics = (r_dynamics *) context;
    SEXP time_value = PROTECT(Rf_ScalarReal(time));
    SEXP state_value = PROTECT(Rf_allocVector(REALSXP, n));
    if (n > 0)
        memcpy(REAL(state_value), state, (size_t) n * sizeof(double));
    SEXP call = PROTECT(Rf_lang3(dynamics->fn, time_value, state_value));
    SEXP result = PROTECT(R_forceAndCall(call, 2, dynamics->rho));
    if (TYPEOF(result) != REALSXP || XLENGTH(result) != n) {
        Rf_error("`ode_fn` must return a double vector of length %.0f (the "
                 "state's), but returned a %s vector of length %.0f.",
                 (double) n, Rf_type2char(TYPEOF(result)),
                 (double) Rf_xlength(result));
    }
    if (n > 0)
        memcpy(derivative, REAL(result), (size_t) n * sizeof(double));
    UNPROTECT(4);
}

static void system_evaluate(ode_system *system, double time,
                            const double *state, double *derivative)
{
    system->evaluate(system->context, time, state, system->n, derivative);
    system->evaluations++;
}

/* TFP's error ratio: the root mean square of (err / tol)^2. NaN when any
   value is not finite. */
static double dp_error_ratio(const double *y0, const double *y1,
                             const double *error, R_xlen_t n, double rtol,
                             double atol)
{
    if (n == 0)
        return 0.0;
    /* four accumulators: independent adds, and a smaller rounding error */
    double sum[4] = {0.0, 0.0, 0.0, 0.0};
    for (R_xlen_t i = 0; i < n; i++) {
        double scale = atol + rtol * fmax(fabs(y0[i]), fabs(y1[i]));
        double ratio = error[i] / scale;
        double squared = ratio * ratio;
        sum[i & 3] += squared * squared;
    }
    return sqrt((sum[0] + sum[1] + sum[2] + sum[3]) / (double) n);
}

static double control_value(SEXP controls, int index, const char *what)
{
    double value = REAL(controls)[index];
    if (!R_FINITE(value) || !(value > 0.0))
        Rf_error("`%s` must be a positive number, not %g.", what, value);
    return value;
}

void dp_tape_start(dp_tape *tape, R_xlen_t recorded)
{
    tape->recorded = recorded;
    tape->count = 0;
    tape->capacity = 0;
    tape->pending = (double *) R_alloc((size_t) (6 * recorded),
                                       sizeof(double));
    tape->times = tape->steps = tape->ends = tape->states = NULL;
}

/* Appends the pending attempt as an accepted step; R_alloc'd storage
   doubles when full (the old blocks are freed with the .Call). */
static void dp_tape_accept(dp_tape *tape, double time, double step,
                           double end)
{
    R_xlen_t block = 6 * tape->recorded;
    if (tape->count == tape->capacity) {
        R_xlen_t capacity = tape->capacity ? 2 * tape->capacity : 16;
        double *times = (double *) R_alloc((size_t) capacity, sizeof(double));
        double *steps = (double *) R_alloc((size_t) capacity, sizeof(double));
        double *ends = (double *) R_alloc((size_t) capacity, sizeof(double));
        double *states = (double *) R_alloc((size_t) (capacity * block),
                                            sizeof(double));
        if (tape->count > 0) {
            size_t count = (size_t) tape->count;
            memcpy(times, tape->times, count * sizeof(double));
            memcpy(steps, tape->steps, count * sizeof(double));
            memcpy(ends, tape->ends, count * sizeof(double));
            memcpy(states, tape->states, count * (size_t) block *
                   sizeof(double));
        }
        tape->times = times;
        tape->steps = steps;
        tape->ends = ends;
        tape->states = states;
        tape->capacity = capacity;
    }
    R_xlen_t at = tape->count;
    tape->times[at] = time;
    tape->steps[at] = step;
    tape->ends[at] = end;
    memcpy(tape->states + at * block, tape->pending,
           (size_t) block * sizeof(double));
    tape->count++;
}

dp_controls dp_read_controls(SEXP controls)
{
    if (TYPEOF(controls) != REALSXP || XLENGTH(controls) != 7)
        Rf_error("`controls` must be a double vector of length 7.");
    dp_controls ctl;
    ctl.rtol = control_value(controls, 0, "rtol");
    ctl.atol = control_value(controls, 1, "atol");
    ctl.first_step = control_value(controls, 2, "first_step_size");
    ctl.safety = control_value(controls, 3, "safety_factor");
    ctl.min_factor = control_value(controls, 4, "min_step_size_factor");
    ctl.max_factor = control_value(controls, 5, "max_step_size_factor");
    ctl.max_num_steps = REAL(controls)[6];
    if (ISNAN(ctl.max_num_steps))
        Rf_error("`max_num_steps` must be a number.");
    return ctl;
}

void dp_start(ode_system *system, const dp_controls *controls,
              dp_workspace *work, double time, const double *initial_state)
{
    size_t count = (size_t) (system->n > 0 ? system->n : 1);
    work->y = (double *) R_alloc(count, sizeof(double));
    work->trial = (double *) R_alloc(count, sizeof(double));
    work->error = (double *) R_alloc(count, sizeof(double));
    for (int s = 0; s < 7; s++)
        work->k[s] = (double *) R_alloc(count, sizeof(double));
    if (system->n > 0)
        memcpy(work->y, initial_state, (size_t) system->n * sizeof(double));
    work->time = time;
    work->step = controls->first_step;
    work->attempts = 0.0;
    work->rejected = 0.0;
    work->tape = NULL;
    system_evaluate(system, time, work->y, work->k[0]);
}

void dp_integrate(ode_system *system, const dp_controls *ctl,
                  dp_workspace *work, double target)
{
    R_xlen_t n = system->n;
    double *y = work->y, *trial = work->trial, *error = work->error;
    double **k = work->k;
    while (work->time < target) {
        R_CheckUserInterrupt();
        if (ctl->max_num_steps > 0 && work->attempts >= ctl->max_num_steps) {
            Rf_error("The Dormand-Prince solver exceeded `max_num_steps` "
                     "(%.0f) at time %g before reaching %g.",
                     ctl->max_num_steps, work->time, target);
        }
        double h = work->step;
        int lands = (work->time + h >= target);
        if (lands)
            h = target - work->time;
        if (!(work->time + h > work->time)) {
            Rf_error("The Dormand-Prince solver's step size underflowed "
                     "(%g) at time %g: the dynamics are too stiff or not "
                     "finite there.", h, work->time);
        }
        dp_tape *tape = work->tape;
        if (tape)
            memcpy(tape->pending, y, (size_t) tape->recorded *
                   sizeof(double));
        for (int s = 1; s < 7; s++) {
            for (R_xlen_t i = 0; i < n; i++) {
                double increment = 0.0;
                for (int j = 0; j < s; j++)
                    increment += dp_a[s][j] * k[j][i];
                trial[i] = y[i] + h * increment;
            }
            if (tape && s < 6)
                memcpy(tape->pending + s * tape->recorded, trial,
                       (size_t) tape->recorded * sizeof(double));
            /* stages at c = 1 sit exactly on the target when landing */
            double stage_time = (dp_c[s] == 1.0 && lands) ? target :
                work->time + dp_c[s] * h;
            system_evaluate(system, stage_time, trial, k[s]);
        }
        /* trial now holds the 5th-order solution (stage 7's point) */
        for (R_xlen_t i = 0; i < n; i++) {
            double estimate = 0.0;
            for (int j = 0; j < 7; j++)
                estimate += dp_e[j] * k[j][i];
            error[i] = h * estimate;
        }
        double ratio = dp_error_ratio(y, trial, error, n, ctl->rtol,
                                      ctl->atol);
        work->attempts++;
        double factor;
        if (ISNAN(ratio)) {
            factor = ctl->min_factor;
        } else {
            factor = ctl->safety * pow(ratio, -1.0 / 6.0);
            factor = fmin(ctl->max_factor, fmax(ctl->min_factor, factor));
        }
        if (!ISNAN(ratio) && ratio <= 1.0) {
            if (tape)
                dp_tape_accept(tape, work->time, h,
                               lands ? target : work->time + h);
            memcpy(y, trial, (size_t) n * sizeof(double));
            memcpy(k[0], k[6], (size_t) n * sizeof(double));
            work->time = lands ? target : work->time + h;
        } else {
            work->rejected++;
        }
        work->step = h * factor;
    }
}

/* .Call entry: solve y' = fn(t, y), y(initial_time) = initial_state, and
   return the states at the increasing `solution_times` (each >=
   initial_time) as a list of double vectors, with the counts of attempted
   and rejected steps and of evaluations of fn. `controls` = c(rtol, atol,
   first_step_size, safety_factor, min_step_size_factor,
   max_step_size_factor, max_num_steps (0 for none)). */
SEXP C_dormand_prince_solve(SEXP fn, SEXP rho, SEXP initial_time,
                            SEXP initial_state, SEXP solution_times,
                            SEXP controls)
{
    if (!Rf_isFunction(fn))
        Rf_error("`ode_fn` must be a function.");
    if (!Rf_isEnvironment(rho))
        Rf_error("`rho` must be an environment.");
    double time = scalar_double(initial_time, "initial_time");
    if (!R_FINITE(time))
        Rf_error("`initial_time` must be finite.");
    if (TYPEOF(initial_state) != REALSXP)
        Rf_error("`initial_state` must be a double vector.");
    if (TYPEOF(solution_times) != REALSXP || XLENGTH(solution_times) < 1)
        Rf_error("`solution_times` must be a non-empty double vector.");
    dp_controls ctl = dp_read_controls(controls);
    R_xlen_t count = XLENGTH(solution_times);
    const double *targets = REAL(solution_times);
    for (R_xlen_t j = 0; j < count; j++) {
        double previous = j == 0 ? time : targets[j - 1];
        if (!R_FINITE(targets[j]) || targets[j] < previous)
            Rf_error("`solution_times` must be finite, increasing and at "
                     "least `initial_time`.");
    }

    R_xlen_t n = XLENGTH(initial_state);
    r_dynamics dynamics = {fn, rho};
    ode_system system = {r_dynamics_evaluate, &dynamics, n, 0.0};
    dp_workspace work;
    SEXP states = PROTECT(Rf_allocVector(VECSXP, count));
    dp_start(&system, &ctl, &work, time, REAL(initial_state));
    for (R_xlen_t j = 0; j < count; j++) {
        dp_integrate(&system, &ctl, &work, targets[j]);
        SEXP state = Rf_allocVector(REALSXP, n);
        SET_VECTOR_ELT(states, j, state);
        if (n > 0)
            memcpy(REAL(state), work.y, (size_t) n * sizeof(double));
    }

    SEXP result = PROTECT(Rf_allocVector(VECSXP, 4));
    SEXP names = PROTECT(Rf_allocVector(STRSXP, 4));
    SET_VECTOR_ELT(result, 0, states);
    SET_VECTOR_ELT(result, 1, Rf_ScalarReal(work.attempts));
    SET_VECTOR_ELT(result, 2, Rf_ScalarReal(work.rejected));
    SET_VECTOR_ELT(result, 3, Rf_ScalarReal(system.evaluations));
    SET_STRING_ELT(names, 0, Rf_mkChar("states"));
    SET_STRING_ELT(names, 1, Rf_mkChar("num_steps"));
    SET_STRING_ELT(names, 2, Rf_mkChar("num_rejected_steps"));
    SET_STRING_ELT(names, 3, Rf_mkChar("num_ode_fn_evaluations"));
    Rf_setAttrib(result, R_NamesSymbol, names);
    UNPROTECT(3);
    return result;
}
