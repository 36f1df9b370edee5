/* The passes of a compiled plan (src/plan.c) that fit()'s fused step
   (src/fit_step.c) runs: see plan.c for the operations. */

#ifndef BIJECTORS_PLAN_H
#define BIJECTORS_PLAN_H

#include "bijectors.h"

/* `ops` must be a list of operations. */
void check_ops(SEXP ops);

/* The inverse pass of `ops` on `value` (a rows x d double matrix): returns
   the value after the last operation, adds the log-dets into acc (rows
   values) and leaves one cache per operation in `caches` (a list as long
   as ops). When a batch-normalization layer refuses the batch, *refusal is
   its code (an integer vector) and the result R_NilValue. With `reuse`
   (REUSE_WORKSPACE or REUSE_OWN), the networks' and permutations' results
   are matrices kept in the plan from the last call, overwritten, without
   dimnames: for a caller that never gives them to R (and, with
   REUSE_WORKSPACE, runs the backward pass before the next inverse pass).
   REUSE_WORKSPACE keeps a network's result in its workspace, REUSE_OWN in
   its operation's own environment (for plans whose networks share one
   workspace). */
enum { REUSE_NONE = 0, REUSE_WORKSPACE = 1, REUSE_OWN = 2 };
SEXP inverse_ops(SEXP ops, SEXP value, double *acc, R_xlen_t rows,
                 SEXP caches, SEXP *refusal, int reuse);

/* The backward pass of inverse_ops() whose caches are `caches`: the
   parameter gradients in slot order (a list of `count` double vectors),
   from dLoss/d(x), dLoss/d(log-det) per row (`per_row`, one value a row)
   and their sum; *input (if not NULL) is dLoss/d(input), *finite whether
   every gradient is finite. With `reuse`, the networks' gradients and the
   networks' and permutations' input gradients are arrays kept in the plan
   from the last call, overwritten: for a caller that never gives them to
   R. */
SEXP backward_gradients(SEXP plan, SEXP caches, SEXP grad_x, SEXP per_row,
                        SEXP grad_sum, R_xlen_t count, int reuse,
                        SEXP *input, int *finite);

/* The running statistics (moving_mean, moving_variance) of a list of
   batch-normalization layers, copied (R_alloc) before a pass that may move
   them, and put back (src/fit_step.c) where they differ: the all-or-nothing
   of the fused step and of the fused log_prob(). snapshot_restore()
   allocates nothing and raises no error, so it can run while an error
   unwinds. */
typedef struct {
    SEXP layers;
    R_xlen_t count;
    R_xlen_t *features;
    double *saved;
} statistics_snapshot;
void snapshot_take(statistics_snapshot *s, SEXP layers);
void snapshot_restore(const statistics_snapshot *s);

/* The base tfd_multivariate_normal_diag()'s squared distances of the rows
   of x (rows x d): sums[i] = sum over j of z^2, z = (x - loc) / scale,
   accumulated in long double column by column as R's rowSums(); with
   grad_x (not NULL, rows x d), also the gradient of minus the mean
   log-density over the rows, z / scale / rows. Shared by the fused step
   and the fused log_prob(), so the two compute the same bits. */
void base_squared_sums(const double *x, const double *loc,
                       const double *scale, R_xlen_t rows, R_xlen_t d,
                       long double *sums, double *grad_x);

#endif
