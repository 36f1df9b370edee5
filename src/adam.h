/* Adam's step as parts (src/parameters.c), for C_adam_step() and for
   fit()'s fused step (src/plan.c): compute every slot's new parameter,
   moments and step count into scratch memory, look at them (a gamma
   constraint), then write them all. */

#ifndef BIJECTORS_ADAM_H
#define BIJECTORS_ADAM_H

#include "bijectors.h"

/* The slots: owners (a list of environments), indices (1-based, integer),
   constraints (codes of parameters.c, integer), and per slot the four
   binding names (parameter, first and second moments, step counts). */
typedef struct {
    R_xlen_t slots;
    SEXP owners, indices, constraints;
    const SEXP *symbols;
    double rate, beta_1, beta_2, eps;
} adam_problem;

/* What adam_compute() computed: per slot, at scratch + offsets[s], the new
   parameter, first moment and second moment (n values each), and its new
   step count steps[s]. */
typedef struct {
    double *scratch, *steps;
    R_xlen_t *offsets;
} adam_result;

const SEXP *adam_symbol_array(SEXP symbols);
void adam_problem_check(const adam_problem *a);
int adam_compute(const adam_problem *a, SEXP gradients, SEXP store,
                 adam_result *out);
double **adam_targets(const adam_problem *a, SEXP gradients);
void adam_copy(const adam_problem *a, SEXP gradients, const adam_result *r,
               double *const *targets);
double *parameter_target(SEXP owner, SEXP symbol, int index, R_xlen_t n);

#endif
