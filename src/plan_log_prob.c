/* A transformed distribution's log_prob() through its compiled plan in one
   .Call: the plan's inverse pass (src/plan.c), then the base
   tfd_multivariate_normal_diag()'s log-density and the log-det, with the
   all-or-nothing of the running statistics kept in C (as the fused step,
   src/fit_step.c, keeps it). It replaces plan_log_prob()'s R work around
   C_plan_inverse() (R/plan.R): the snapshots of the statistics that
   with_statistics_rollback() took in R, and the base density in R, which
   together cost about as much as a fifth of the networks' products for a
   batch of 256. The operations are R's own on the same values in the same
   order, so the results are identical() to the R path
   (tests/testthat/test-plan.R). */

#include <string.h>
#include "bijectors.h"
#include "plan.h"

/* The most values (rows x event size) of a batch whose intermediate
   results are kept from call to call (128 kB a matrix). */
#define LOG_PROB_KEEP 16384

typedef struct {
    SEXP ops, value, base, layers;
    int per_row;
    statistics_snapshot snapshot;
    int committed;
} log_prob_context;

/* -0.5 * rowSums(z * z) - log_normalizer + log_det, z = (x - loc) / scale,
   as distribution_log_prob.tfd_multivariate_normal_diag() and plan_log_prob()
   compute it: rowSums accumulates in long double, column by column; the
   log-det is per row, or its first value for every row (one number in R) */
static void base_log_prob(SEXP base, const double *x, R_xlen_t rows,
                          R_xlen_t d, const double *log_det, int per_row,
                          double *out)
{
    if (TYPEOF(base) != VECSXP || XLENGTH(base) != 3)
        Rf_error("internal error: the base must be list(loc, scale, "
                 "log_normalizer)");
    SEXP loc_s = VECTOR_ELT(base, 0), scale_s = VECTOR_ELT(base, 1);
    if (TYPEOF(loc_s) != REALSXP || XLENGTH(loc_s) != d ||
        TYPEOF(scale_s) != REALSXP || XLENGTH(scale_s) != d)
        Rf_error("internal error: the base's loc and scale must be %lld "
                 "doubles", (long long) d);
    const double *loc = REAL_RO(loc_s), *scale = REAL_RO(scale_s);
    double normalizer = scalar_double(VECTOR_ELT(base, 2), "log_normalizer");
    long double *sums = (long double *) R_alloc((size_t) rows + 1,
                                                sizeof(long double));
    base_squared_sums(x, loc, scale, rows, d, sums, NULL);
    for (R_xlen_t i = 0; i < rows; i++)
        out[i] = (-0.5 * (double) sums[i] - normalizer) +
            log_det[per_row ? i : 0];
}

static SEXP log_prob_body(void *data)
{
    log_prob_context *c = (log_prob_context *) data;
    SEXP dim = Rf_getAttrib(c->value, R_DimSymbol);
    R_xlen_t rows = INTEGER(dim)[0], d = INTEGER(dim)[1];
    SEXP log_det = PROTECT(Rf_allocVector(REALSXP, rows));
    double *acc = REAL(log_det);
    for (R_xlen_t i = 0; i < rows; i++)
        acc[i] = 0;
    SEXP caches = PROTECT(Rf_allocVector(VECSXP, XLENGTH(c->ops)));
    SEXP refusal = R_NilValue;
    /* The networks' and permutations' results in matrices kept in their
       operations' own environments (the networks of a log_prob() plan
       share one workspace) and overwritten by the next call: nothing of
       the pass reaches R but the log-densities, and fresh ones (ten
       matrices for five MAF blocks) cost their allocation and, above all,
       the garbage collections they bring on (about 5% of a call on 256 x 8
       rows). Large batches get fresh ones, so that a plan does not keep
       their memory. */
    int reuse = rows * d <= LOG_PROB_KEEP ? REUSE_OWN : REUSE_NONE;
    SEXP x = PROTECT(inverse_ops(c->ops, c->value, acc, rows, caches,
                                 &refusal, reuse));
    if (refusal != R_NilValue) {
        snapshot_restore(&c->snapshot);
        c->committed = 1;
        UNPROTECT(3);
        return refusal;
    }
    SEXP x_dim = Rf_getAttrib(x, R_DimSymbol);
    if (TYPEOF(x) != REALSXP || TYPEOF(x_dim) != INTSXP ||
        XLENGTH(x_dim) != 2 || INTEGER(x_dim)[0] != rows ||
        INTEGER(x_dim)[1] != d)
        Rf_error("internal error: the plan's output is not like its input");
    SEXP out = PROTECT(Rf_allocVector(REALSXP, rows));
    base_log_prob(c->base, REAL_RO(x), rows, d, acc, c->per_row, REAL(out));
    /* names: the rows' names of x, as names(log_prob) <- rownames(x); every
       operation gives its result the dimnames of its input, so they are
       the input's (kept results have none) */
    SEXP dimnames = Rf_getAttrib(c->value, R_DimNamesSymbol);
    if (TYPEOF(dimnames) == VECSXP && XLENGTH(dimnames) == 2 &&
        VECTOR_ELT(dimnames, 0) != R_NilValue)
        Rf_setAttrib(out, R_NamesSymbol, VECTOR_ELT(dimnames, 0));
    c->committed = 1;
    UNPROTECT(4);
    return out;
}

static void log_prob_cleanup(void *data, Rboolean jump)
{
    log_prob_context *c = (log_prob_context *) data;
    if (jump && !c->committed)
        snapshot_restore(&c->snapshot);
}

/* C_plan_log_prob(ops, value, base, per_row, layers): the log-density of
   the rows of `value` (a double matrix with at least one row, checked
   against the event shape by the caller) under a transformed distribution
   whose plan is `ops` and whose base is list(loc, scale, log_normalizer);
   `layers` the batch-normalization layers in training mode whose running
   statistics the pass moves. Returns the log-densities, or, when a layer
   refused the batch, its refusal code (an integer; every layer's
   statistics as they were). An R error in the pass puts the statistics
   back before it goes on. */
SEXP C_plan_log_prob(SEXP ops, SEXP value, SEXP base, SEXP per_row,
                     SEXP layers)
{
    check_ops(ops);
    SEXP dim = Rf_getAttrib(value, R_DimSymbol);
    if (TYPEOF(value) != REALSXP || TYPEOF(dim) != INTSXP ||
        XLENGTH(dim) != 2 || INTEGER(dim)[0] < 1)
        Rf_error("`value` must be a double matrix with at least one row");
    log_prob_context c;
    c.ops = ops;
    c.value = value;
    c.base = base;
    c.per_row = scalar_logical(per_row, "per_row");
    c.committed = 0;
    snapshot_take(&c.snapshot, layers);
    SEXP token = PROTECT(R_MakeUnwindCont());
    SEXP result = R_UnwindProtect(log_prob_body, &c, log_prob_cleanup, &c,
                                  token);
    UNPROTECT(1);
    return result;
}
