/* The Dormand-Prince 5(4) solver of src/dormand_prince.c, for the kernels
   that integrate their own dynamics in C (src/ffjord_network.c) as well as
   R functions. */
#ifndef BIJECTORS_DORMAND_PRINCE_H
#define BIJECTORS_DORMAND_PRINCE_H

#include "bijectors.h"

/* A system y' = f(t, y) of n equations: evaluate() writes f(time, state)
   into derivative; it may call Rf_error(). */
typedef struct {
    void (*evaluate)(void *context, double time, const double *state,
                     R_xlen_t n, double *derivative);
    void *context;
    R_xlen_t n;
    double evaluations;
} ode_system;

/* TFP's step control. max_num_steps counts attempted steps; <= 0: none. */
typedef struct {
    double rtol, atol, first_step, safety, min_factor, max_factor;
    double max_num_steps;
} dp_controls;

/* A record of the accepted steps, for a backward pass through them: per
   step its start time, its size, the time of its stages at c = 1 (the
   target when the step landed on it, else time + step) and the first
   `recorded` values of its stage states Y_0 (the step's start) .. Y_5.
   Rejected attempts leave no trace. Grown by doubling, R_alloc'd. */
typedef struct {
    R_xlen_t recorded, count, capacity;
    double *pending;              /* 6 x recorded: the current attempt */
    double *times, *steps, *ends; /* count each */
    double *states;               /* count x 6 x recorded */
} dp_tape;

/* The solver's state between solution times: the current time, the state
   y, the stages k[0..6] (k[0] = f(time, y)), scratch, the next step size
   and the counts of attempted and rejected steps; tape NULL or where the
   accepted steps are recorded. R_alloc'd. */
typedef struct {
    double time, step, attempts, rejected;
    double *y, *trial, *error, *k[7];
    dp_tape *tape;
} dp_workspace;

/* The Dormand-Prince tableau: stage times c, stage weights a (row 6 holds
   the 5th-order weights of the new state, FSAL), as the solver uses them. */
extern const double dp_c[7];
extern const double dp_a[7][6];

/* An empty tape recording the first `recorded` values of each stage. */
void dp_tape_start(dp_tape *tape, R_xlen_t recorded);

/* Reads c(rtol, atol, first_step_size, safety_factor, min_step_size_factor,
   max_step_size_factor, max_num_steps) from a double vector, checked. */
dp_controls dp_read_controls(SEXP controls);

/* Starts at (time, initial_state): allocates the workspace, evaluates the
   first derivative. */
void dp_start(ode_system *system, const dp_controls *controls,
              dp_workspace *work, double time, const double *initial_state);

/* Integrates to target >= work->time; work->y is then the state there. */
void dp_integrate(ode_system *system, const dp_controls *controls,
                  dp_workspace *work, double target);

#endif
