/* fit()'s fused training step: one .Call that cuts the batch out of the
   training rows, runs a compiled plan's inverse pass (src/plan.c), the
   base distribution's log-density and the loss, the backward pass, Adam
   (src/parameters.c) and the default gamma constraint of the
   batch-normalization layers, and writes the step, all or nothing.

   It replaces, for flows with a plan, what R/fit.R's step does in R around
   the plan's two calls (fit_step() and the functions it calls): the same
   operations on the same values in the same order, so losses, gradients,
   parameters and running statistics are identical() to that path
   (tests/testthat/test-plan.R).

   All or nothing: the inverse pass moves the running statistics of the
   batch-normalization layers in training mode before anything else is
   known. Their values are copied first; when the step then fails (a layer
   refuses the batch, the loss or a gradient is not finite, Adam would
   leave a parameter's domain) they are copied back and a code is returned
   for R to raise the error; when an R error jumps out of the step (an
   allocation that fails, a malformed state) a cleanup copies them back
   before the jump goes on. Parameters, moments, step counts and gammas are
   written last, after every allocation, by copies that cannot fail; and
   nothing in the step looks for interrupts, so an interrupt waits for the
   step to end.

   The step (a list built once per fit by R/fit.R's fused_fit_spec()):
     1 operations   the plan's operations
     2 loc, 3 scale, 4 log_normalizer
                    the base tfd_multivariate_normal_diag()
     5 per_row      whether some operation has a log-det per row
     6 count        the number of parameter gradients
     7 owners, 8 symbols, 9 indices, 10 constraints
                    Adam's slots (src/adam.h); symbols from C_adam_symbols()
     11 settings    c(learning_rate, beta_1, beta_2, epsilon)
     12 layers      the batch-normalization layers whose running statistics
                    a step may move (fit()'s run$layers)
     13 gamma_layers, 14 gamma_slots
                    the layers with the default gamma constraint, and the
                    1-based Adam slot of each one's gamma
     15 run         fit()'s run environment (its `steps` is counted here)
     16 work        an environment for the batch buffer */

#include <math.h>
#include <string.h>
#include "bijectors.h"
#include "plan.h"
#include "adam.h"

enum {
    STEP_OPERATIONS, STEP_LOC, STEP_SCALE, STEP_LOG_NORMALIZER, STEP_PER_ROW,
    STEP_COUNT, STEP_OWNERS, STEP_SYMBOLS, STEP_INDICES, STEP_CONSTRAINTS,
    STEP_SETTINGS, STEP_LAYERS, STEP_GAMMA_LAYERS, STEP_GAMMA_SLOTS,
    STEP_RUN, STEP_WORK, STEP_LENGTH
};

/* Why a step failed, returned to R as c(code, detail). */
enum {
    STEP_REFUSED = 1,     /* a batch-normalization layer: detail its code */
    STEP_NONFINITE = 2,   /* the loss or a gradient */
    STEP_DOMAIN = 3       /* Adam: detail the slot */
};

/* the layers' moving_mean and moving_variance (plan.h) */
void snapshot_take(statistics_snapshot *s, SEXP layers)
{
    if (TYPEOF(layers) != VECSXP)
        Rf_error("internal error: the layers must be a list");
    s->layers = layers;
    s->count = XLENGTH(layers);
    s->features = (R_xlen_t *) R_alloc((size_t) s->count + 1,
                                       sizeof(R_xlen_t));
    R_xlen_t total = 0;
    for (R_xlen_t k = 0; k < s->count; k++) {
        bn_layer_state(VECTOR_ELT(layers, k), &s->features[k]);
        total += 2 * s->features[k];
    }
    s->saved = (double *) R_alloc((size_t) total + 1, sizeof(double));
    double *next = s->saved;
    for (R_xlen_t k = 0; k < s->count; k++) {
        R_xlen_t f;
        SEXP state = bn_layer_state(VECTOR_ELT(layers, k), &f);
        memcpy(next, REAL_RO(VECTOR_ELT(state, BN_MOVING_MEAN)),
               (size_t) f * sizeof(double));
        memcpy(next + f, REAL_RO(VECTOR_ELT(state, BN_MOVING_VARIANCE)),
               (size_t) f * sizeof(double));
        next += 2 * f;
    }
}

/* Puts the copied values back where they differ. A vector that differs was
   written by this step's inverse pass, which made it private first, so
   writing into it reaches nothing else; one that does not differ is left
   alone (it may be shared). Allocates nothing and raises no error, so it
   can run while an error unwinds. */
void snapshot_restore(const statistics_snapshot *s)
{
    const double *next = s->saved;
    SEXP symbol = Rf_install("state");
    for (R_xlen_t k = 0; k < s->count; k++) {
        R_xlen_t f = s->features[k];
        SEXP state = Rf_findVarInFrame(VECTOR_ELT(s->layers, k), symbol);
        if (TYPEOF(state) == VECSXP && XLENGTH(state) == BN_STATE_SIZE) {
            for (int j = 0; j < 2; j++) {
                SEXP v = VECTOR_ELT(state, BN_MOVING_MEAN + j);
                const double *old = next + j * f;
                if (TYPEOF(v) == REALSXP && XLENGTH(v) == f &&
                    memcmp(REAL_RO(v), old, (size_t) f * sizeof(double)) != 0)
                    memcpy(REAL(v), old, (size_t) f * sizeof(double));
            }
        }
        next += 2 * f;
    }
}

typedef struct {
    SEXP step, batch;
    statistics_snapshot snapshot;
    int committed;
} step_context;

static SEXP failure(int code, int detail)
{
    SEXP out = Rf_allocVector(INTSXP, 2);
    INTEGER(out)[0] = code;
    INTEGER(out)[1] = detail;
    return out;
}

static const double *double_vector(SEXP x, R_xlen_t length, const char *what)
{
    if (TYPEOF(x) != REALSXP || (length >= 0 && XLENGTH(x) != length))
        Rf_error("internal error: the step's `%s` must be %lld doubles", what,
                 (long long) length);
    return REAL_RO(x);
}

void base_squared_sums(const double *x, const double *loc,
                       const double *scale, R_xlen_t rows, R_xlen_t d,
                       long double *sums, double *grad_x)
{
    for (R_xlen_t i = 0; i < rows; i++)
        sums[i] = 0;
    double events = (double) rows;
    for (R_xlen_t j = 0; j < d; j++) {
        const double *xj = x + j * rows;
        if (grad_x == NULL) {
            for (R_xlen_t i = 0; i < rows; i++) {
                double z = (xj[i] - loc[j]) / scale[j];
                sums[i] += z * z;
            }
            continue;
        }
        double *gj = grad_x + j * rows;
        for (R_xlen_t i = 0; i < rows; i++) {
            double z = (xj[i] - loc[j]) / scale[j];
            sums[i] += z * z;
            double g = -z / scale[j];
            gj[i] = -g / events;
        }
    }
}

/* The base distribution's log-density and the mean negative log-likelihood,
   as R/training.R's distribution_log_prob_gradient() and
   loss_and_gradient_unchecked() compute them: z = (x - loc) / scale,
   log_prob = -0.5 * rowSums(z * z) - log_normalizer (rowSums accumulates
   in long double), loss = -mean(log_prob + log_det) (mean: a long double
   sum, divided, then corrected by the mean of the deviations), and
   grad_x = -((-z) / scale) / rows. */
static double base_loss(SEXP step, const double *x, const double *log_det,
                        R_xlen_t rows, R_xlen_t d, double *grad_x)
{
    const double *loc = double_vector(VECTOR_ELT(step, STEP_LOC), d, "loc");
    const double *scale = double_vector(VECTOR_ELT(step, STEP_SCALE), d,
                                        "scale");
    double normalizer = scalar_double(VECTOR_ELT(step, STEP_LOG_NORMALIZER),
                                      "log_normalizer");
    long double *sums = (long double *) R_alloc((size_t) rows, sizeof(long double));
    base_squared_sums(x, loc, scale, rows, d, sums, grad_x);
    double *terms = (double *) R_alloc((size_t) rows, sizeof(double));
    long double total = 0;
    for (R_xlen_t i = 0; i < rows; i++) {
        double log_prob = -0.5 * (double) sums[i] - normalizer;
        terms[i] = log_prob + log_det[i];
        total += terms[i];
    }
    if (R_FINITE((double) total)) {
        total /= rows;
    } else {
        /* as R: a sum beyond double range may have overflowed only */
        long double t = 0;
        for (R_xlen_t i = 0; i < rows; i++)
            t += terms[i] / rows;
        total = t;
    }
    if (R_FINITE((double) total)) {
        long double t = 0;
        for (R_xlen_t i = 0; i < rows; i++)
            t += terms[i] - total;
        total += t / rows;
    }
    return -(double) total;
}

/* The batch: rows order[from..to] (1-based positions, 1-based rows) of
   `data`, into the work environment's buffer (kept from step to step while
   the number of rows stays), or `data` itself when order is NULL. The
   buffer is overwritten although its reference count says shared: only the
   work environment and the caches of past steps (dead lists) ever refer to
   it; R code never sees it. */
static SEXP step_batch(SEXP step, SEXP data, SEXP order, SEXP bounds)
{
    SEXP dim = Rf_getAttrib(data, R_DimSymbol);
    if (TYPEOF(data) != REALSXP || TYPEOF(dim) != INTSXP ||
        XLENGTH(dim) != 2)
        Rf_error("`data` must be a double matrix");
    if (order == R_NilValue)
        return data;
    R_xlen_t total = INTEGER(dim)[0], d = INTEGER(dim)[1];
    if (TYPEOF(order) != INTSXP || TYPEOF(bounds) != INTSXP ||
        XLENGTH(bounds) != 2)
        Rf_error("`order` and `bounds` must be integer vectors");
    int from = INTEGER(bounds)[0], to = INTEGER(bounds)[1];
    if (from == NA_INTEGER || to == NA_INTEGER || from < 1 || to < from ||
        to > XLENGTH(order))
        Rf_error("`bounds` must be positions in `order`");
    R_xlen_t rows = (R_xlen_t) to - from + 1;
    const int *o = INTEGER_RO(order) + (from - 1);
    for (R_xlen_t i = 0; i < rows; i++)
        if (o[i] == NA_INTEGER || o[i] < 1 || o[i] > total)
            Rf_error("`order` holds a row number out of range");
    SEXP work = VECTOR_ELT(step, STEP_WORK);
    if (TYPEOF(work) != ENVSXP)
        Rf_error("internal error: the step needs its work environment");
    SEXP symbol = Rf_install("batch");
    SEXP batch = Rf_findVarInFrame(work, symbol);
    SEXP batch_dim = batch == R_UnboundValue ? R_NilValue :
        Rf_getAttrib(batch, R_DimSymbol);
    if (TYPEOF(batch) != REALSXP || TYPEOF(batch_dim) != INTSXP ||
        XLENGTH(batch_dim) != 2 || INTEGER(batch_dim)[0] != rows ||
        INTEGER(batch_dim)[1] != d) {
        batch = PROTECT(Rf_allocMatrix(REALSXP, (int) rows, (int) d));
        Rf_defineVar(symbol, batch, work);
        UNPROTECT(1);
    }
    const double *x = REAL_RO(data);
    double *y = REAL(batch);
    for (R_xlen_t j = 0; j < d; j++) {
        const double *xj = x + j * total;
        double *yj = y + j * rows;
        for (R_xlen_t i = 0; i < rows; i++)
            yj[i] = xj[o[i] - 1];
    }
    return batch;
}

/* The step proper, run under R_UnwindProtect(). */
static SEXP step_body(void *data)
{
    step_context *c = (step_context *) data;
    SEXP step = c->step, batch = c->batch;
    SEXP ops = VECTOR_ELT(step, STEP_OPERATIONS);
    check_ops(ops);
    R_xlen_t rows = INTEGER(Rf_getAttrib(batch, R_DimSymbol))[0];
    R_xlen_t d = INTEGER(Rf_getAttrib(batch, R_DimSymbol))[1];
    if (rows < 1)
        Rf_error("internal error: an empty batch");

    /* the inverse pass */
    SEXP log_det = PROTECT(Rf_allocVector(REALSXP, rows));
    double *acc = REAL(log_det);
    for (R_xlen_t i = 0; i < rows; i++)
        acc[i] = 0;
    SEXP caches = PROTECT(Rf_allocVector(VECSXP, XLENGTH(ops)));
    SEXP refusal = R_NilValue;
    SEXP x = PROTECT(inverse_ops(ops, batch, acc, rows, caches, &refusal,
                                 REUSE_WORKSPACE));
    if (refusal != R_NilValue) {
        int code = INTEGER(refusal)[0];
        snapshot_restore(&c->snapshot);
        UNPROTECT(3);
        return failure(STEP_REFUSED, code);
    }
    SEXP x_dim = Rf_getAttrib(x, R_DimSymbol);
    if (TYPEOF(x) != REALSXP || TYPEOF(x_dim) != INTSXP ||
        XLENGTH(x_dim) != 2 || INTEGER(x_dim)[0] != rows ||
        INTEGER(x_dim)[1] != d)
        Rf_error("internal error: the plan's output is not like its input");

    /* the loss and its gradient with respect to x */
    SEXP grad_x = PROTECT(Rf_allocMatrix(REALSXP, (int) rows, (int) d));
    double loss = base_loss(step, REAL_RO(x), acc, rows, d, REAL(grad_x));

    /* the backward pass: dLoss/d(log-det) is -1 for a log-det of one
       number, otherwise -1 / rows for each row */
    int per_row = scalar_logical(VECTOR_ELT(step, STEP_PER_ROW), "per_row");
    SEXP count = VECTOR_ELT(step, STEP_COUNT);
    if (TYPEOF(count) != INTSXP || XLENGTH(count) != 1 ||
        INTEGER(count)[0] < 0)
        Rf_error("internal error: the step's `count` must be a count");
    SEXP grad_rows = PROTECT(Rf_allocVector(REALSXP, rows));
    double each = per_row && rows != 1 ? -1 / (double) rows : -1;
    long double sum = 0;
    double *grad_rows_p = REAL(grad_rows);
    for (R_xlen_t i = 0; i < rows; i++)
        grad_rows_p[i] = each;
    if (per_row && rows != 1) {
        for (R_xlen_t i = 0; i < rows; i++)
            sum += each;
    } else {
        sum = each;
    }
    SEXP grad_sum = PROTECT(Rf_ScalarReal((double) sum));
    int finite;
    SEXP gradients = PROTECT(backward_gradients(
        ops, caches, grad_x, grad_rows, grad_sum, INTEGER(count)[0], 1, NULL,
        &finite));
    if (!finite || !R_FINITE(loss)) {
        snapshot_restore(&c->snapshot);
        UNPROTECT(7);
        return failure(STEP_NONFINITE, 0);
    }

    /* Adam's new values, nothing written */
    SEXP settings = VECTOR_ELT(step, STEP_SETTINGS);
    const double *set = double_vector(settings, 4, "settings");
    adam_problem a = {XLENGTH(VECTOR_ELT(step, STEP_OWNERS)),
                      VECTOR_ELT(step, STEP_OWNERS),
                      VECTOR_ELT(step, STEP_INDICES),
                      VECTOR_ELT(step, STEP_CONSTRAINTS),
                      adam_symbol_array(VECTOR_ELT(step, STEP_SYMBOLS)),
                      set[0], set[1], set[2], set[3]};
    if (XLENGTH(VECTOR_ELT(step, STEP_SYMBOLS)) != 4 * a.slots)
        Rf_error("internal error: four binding names a slot");
    adam_problem_check(&a);
    adam_result r;
    int refused = adam_compute(&a, gradients, VECTOR_ELT(step, STEP_WORK),
                               &r);
    if (refused) {
        snapshot_restore(&c->snapshot);
        UNPROTECT(7);
        return failure(STEP_DOMAIN, refused);
    }

    /* each constrained layer's gamma after the step: Adam's value, then
       pmax(gamma, 0) + 1e-6 (R/batch_normalization.R's
       positive_gamma_constraint()) */
    SEXP gamma_layers = VECTOR_ELT(step, STEP_GAMMA_LAYERS);
    SEXP gamma_slots = VECTOR_ELT(step, STEP_GAMMA_SLOTS);
    if (TYPEOF(gamma_layers) != VECSXP || TYPEOF(gamma_slots) != INTSXP ||
        XLENGTH(gamma_slots) != XLENGTH(gamma_layers))
        Rf_error("internal error: one gamma slot a constrained layer");
    R_xlen_t n_gammas = XLENGTH(gamma_layers);
    double **gammas = (double **) R_alloc((size_t) n_gammas + 1,
                                          sizeof(double *));
    R_xlen_t *gamma_lengths = (R_xlen_t *) R_alloc((size_t) n_gammas + 1,
                                                   sizeof(R_xlen_t));
    for (R_xlen_t j = 0; j < n_gammas; j++) {
        int k = INTEGER(gamma_slots)[j];
        if (k == NA_INTEGER || k < 1 || k > a.slots)
            Rf_error("internal error: a gamma slot out of range");
        R_xlen_t n = XLENGTH(VECTOR_ELT(gradients, k - 1));
        const double *adam_gamma = r.scratch + r.offsets[k - 1];
        double *value = (double *) R_alloc((size_t) n + 1, sizeof(double));
        for (R_xlen_t i = 0; i < n; i++) {
            double g = adam_gamma[i];
            value[i] = (0 > g ? 0 : g) + 1e-6;
        }
        gammas[j] = value;
        gamma_lengths[j] = n;
    }

    /* Every allocation before the first write: the private vectors to
       write into and the new step count. */
    double **targets = adam_targets(&a, gradients);
    double **gamma_targets = (double **) R_alloc((size_t) n_gammas + 1,
                                                 sizeof(double *));
    SEXP state_symbol = Rf_install("state");
    for (R_xlen_t j = 0; j < n_gammas; j++)
        gamma_targets[j] = parameter_target(VECTOR_ELT(gamma_layers, j),
                                            state_symbol, BN_GAMMA + 1,
                                            gamma_lengths[j]);
    SEXP run = VECTOR_ELT(step, STEP_RUN);
    if (TYPEOF(run) != ENVSXP)
        Rf_error("internal error: the step needs fit()'s run");
    SEXP steps_symbol = Rf_install("steps");
    SEXP steps = Rf_findVarInFrame(run, steps_symbol);
    if (TYPEOF(steps) != INTSXP || XLENGTH(steps) != 1 ||
        INTEGER(steps)[0] == NA_INTEGER || INTEGER(steps)[0] == INT_MAX)
        Rf_error("internal error: the run's step count");
    SEXP next_steps = PROTECT(Rf_ScalarInteger(INTEGER(steps)[0] + 1));
    SEXP result = PROTECT(Rf_ScalarReal(loss));

    /* the writes */
    adam_copy(&a, gradients, &r, targets);
    for (R_xlen_t j = 0; j < n_gammas; j++)
        if (gamma_lengths[j] > 0)
            memcpy(gamma_targets[j], gammas[j],
                   (size_t) gamma_lengths[j] * sizeof(double));
    Rf_defineVar(steps_symbol, next_steps, run);
    c->committed = 1;
    UNPROTECT(9);
    return result;
}

static void step_cleanup(void *data, Rboolean jump)
{
    step_context *c = (step_context *) data;
    if (jump && !c->committed)
        snapshot_restore(&c->snapshot);
}

/* C_plan_fit_step(step, data, order, bounds): one training step on the
   rows order[bounds[1]..bounds[2]] of the double matrix `data` (or on
   `data` itself when order is NULL). Returns the batch's loss, or, when the
   step failed and changed nothing, c(code, detail) (see above). */
SEXP C_plan_fit_step(SEXP step, SEXP data, SEXP order, SEXP bounds)
{
    if (TYPEOF(step) != VECSXP || XLENGTH(step) != STEP_LENGTH)
        Rf_error("internal error: `step` must be a list of %d", STEP_LENGTH);
    step_context c;
    c.step = step;
    c.batch = PROTECT(step_batch(step, data, order, bounds));
    c.committed = 0;
    snapshot_take(&c.snapshot, VECTOR_ELT(step, STEP_LAYERS));
    SEXP token = PROTECT(R_MakeUnwindCont());
    SEXP result = R_UnwindProtect(step_body, &c, step_cleanup, &c, token);
    UNPROTECT(2);
    return result;
}
