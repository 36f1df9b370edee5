/* A compiled training plan: a flow's chain, described once per fit() by
   R/plan.R as a list of operations, walked here in one .Call for the
   inverse pass (with what the backward pass needs) and one for the backward
   pass. Each operation runs the kernels the R path runs (mlp_forward(),
   affine_columns(), network_backward() and affine_columns_backward(), and
   batch normalization's entry points), on the same arguments in the same
   order, so the numbers are identical to the R path's. What the plan saves
   is the R interpreter's work between them (dispatch, list building,
   per-step shape checks) and, for the networks, the allocation of their
   hidden outputs and deltas on every step: a MAF keeps them in a workspace
   (a double vector in its operation's environment) from the inverse pass
   to the backward pass, so a plan's inverse pass must be followed by its
   backward pass before the next inverse pass.

   Operations (positional lists, see R/plan.R):
     MAF      list(1L, template, columns, shift_columns, log_scale_columns,
                   clip, clip_gradient, trained, workspace), the columns
                   0-based
     batch normalization
              list(2L, layer, axes, momentum, epsilon, center, scale,
                   multiplier, training)
     permute along the last axis
              list(3L, inverse_permutation, permutation, workspace)
     chain    list(4L, operations)

   The log-det is accumulated as the R path does: per chain, from 0, adding
   each member's (a number is added to every row), and a nested chain's
   total added to its parent's. */

#include <math.h>
#include <string.h>
#include "bijectors.h"
#include "network.h"
#include "affine_coupling.h"
#include "plan.h"

enum { OP_MAF = 1, OP_BATCH_NORM = 2, OP_PERMUTE = 3, OP_CHAIN = 4 };

/* The value of `name` in the environment `env`, which must exist. */
static SEXP env_value(SEXP env, const char *name)
{
    SEXP value = Rf_findVarInFrame(env, Rf_install(name));
    if (value == R_UnboundValue)
        Rf_error("internal error: the plan's environment has no `%s`", name);
    return value;
}

static int op_kind(SEXP op)
{
    if (TYPEOF(op) != VECSXP || XLENGTH(op) < 2)
        Rf_error("internal error: a plan operation must be a list");
    SEXP kind = VECTOR_ELT(op, 0);
    if (TYPEOF(kind) != INTSXP || XLENGTH(kind) != 1)
        Rf_error("internal error: a plan operation's kind must be an integer");
    int k = INTEGER(kind)[0];
    static const R_xlen_t lengths[] = {0, 10, 9, 4, 2};
    if (k < OP_MAF || k > OP_CHAIN || XLENGTH(op) != lengths[k])
        Rf_error("internal error: unknown plan operation %d", k);
    return k;
}

void check_ops(SEXP ops)
{
    if (TYPEOF(ops) != VECSXP)
        Rf_error("`plan` must be a list of operations");
}

/* The current batch-normalization pointer of `layer`, made anew (and
   stored in the layer) when the one there is NULL or not the layer's, as
   bn_pointer() does in R. */
static SEXP layer_pointer(SEXP layer)
{
    SEXP symbol = Rf_install("pointer");
    SEXP pointer = Rf_findVarInFrame(layer, symbol);
    if (pointer != R_UnboundValue && pointer != R_NilValue &&
        LOGICAL(C_bn_pointer_current(pointer, layer))[0])
        return pointer;
    pointer = PROTECT(C_bn_pointer_new(layer));
    Rf_defineVar(symbol, pointer, layer);
    UNPROTECT(1);
    return pointer;
}

/* ---- MAF: the network and affine kernels on workspaces ------------------ */

/* A MAF operation's network and affine layout, checked against events of
   d values. The network's arrays are read from the template on every call
   (trainable_parameters<- may replace them). */
typedef struct {
    network_trace trace;
    const double *const *biases;
    R_xlen_t d, n_params;
    const int *columns, *shift, *log_scale;
    double clip_min, clip_max;
    int clip_gradient;
    SEXP workspace;
} maf_operation;

/* 0-based column numbers below `limit`, d of them (or none when `optional`
   and empty: NULL). */
static const int *plan_columns(SEXP columns, R_xlen_t d, R_xlen_t limit,
                               int optional, const char *what)
{
    if (TYPEOF(columns) != INTSXP)
        Rf_error("internal error: the plan's %s must be integers", what);
    if (optional && XLENGTH(columns) == 0)
        return NULL;
    if (XLENGTH(columns) != d)
        Rf_error("internal error: the plan has %lld %s for %lld columns",
                 (long long) XLENGTH(columns), what, (long long) d);
    const int *p = INTEGER_RO(columns);
    for (R_xlen_t k = 0; k < d; k++)
        if (p[k] == NA_INTEGER || p[k] < 0 || p[k] >= limit)
            Rf_error("internal error: the plan's %s are out of range", what);
    return p;
}

static maf_operation maf_unpack(SEXP op, R_xlen_t d)
{
    maf_operation m;
    SEXP template = VECTOR_ELT(op, 1);
    if (TYPEOF(template) != ENVSXP)
        Rf_error("internal error: a MAF operation needs its template");
    SEXP kernels = env_value(template, "kernels");
    SEXP biases = env_value(template, "biases");
    SEXP activations = env_value(template, "activation_codes");
    SEXP masks = env_value(template, "masks");
    int *units;
    const double **kernel;
    int layers = network_layers(kernels, activations, &units, &kernel);
    if (units[0] != d)
        Rf_error("the network of a MAF takes %d inputs, but the events have "
                 "%lld values", units[0], (long long) d);
    const double **bias = network_biases(biases, layers, units);
    const double **mask = network_masks(masks, layers, units);
    int widest = 1;
    for (int k = 0; k < layers; k++) {
        if (units[k + 1] > widest)
            widest = units[k + 1];
    }
    m.trace.n = 0;
    m.trace.layers = layers;
    m.trace.widest = widest;
    m.trace.units = units;
    m.trace.kernels = kernel;
    m.trace.activations = INTEGER_RO(activations);
    m.trace.hidden = NULL;
    m.trace.output = NULL;
    m.trace.masks = mask;
    m.biases = bias;
    m.d = d;
    m.n_params = units[layers];
    m.columns = plan_columns(VECTOR_ELT(op, 2), d, d, 0, "columns");
    m.shift = plan_columns(VECTOR_ELT(op, 3), d, m.n_params, 1,
                           "shift columns");
    m.log_scale = plan_columns(VECTOR_ELT(op, 4), d, m.n_params, 1,
                               "log-scale columns");
    SEXP clip = VECTOR_ELT(op, 5);
    if (TYPEOF(clip) != REALSXP || XLENGTH(clip) != 2 ||
        ISNAN(REAL(clip)[0]) || ISNAN(REAL(clip)[1]) ||
        REAL(clip)[0] > REAL(clip)[1])
        Rf_error("internal error: the plan's clip must be c(min, max)");
    m.clip_min = REAL(clip)[0];
    m.clip_max = REAL(clip)[1];
    m.clip_gradient = scalar_logical(VECTOR_ELT(op, 6), "clip_gradient");
    m.workspace = VECTOR_ELT(op, 8);
    if (TYPEOF(m.workspace) != ENVSXP)
        Rf_error("internal error: a MAF operation needs a workspace");
    /* the masks' extents, once per plan (as the R path's, from the masks),
       in the operation's own environment: the buffers' workspace may be
       shared by every MAF of a log_prob() plan */
    SEXP extents_cache = VECTOR_ELT(op, 9);
    if (TYPEOF(extents_cache) != ENVSXP)
        Rf_error("internal error: a MAF operation needs an extents cache");
    m.trace.extents = network_mask_extents_cached(masks, mask, layers, units,
                                                  extents_cache);
    return m;
}

/* Values per row of the workspace: the hidden outputs and the network
   output (kept from the inverse pass for the backward pass), the log-det,
   two delta buffers and the gradient of the network output. */
static R_xlen_t maf_row_size(const maf_operation *m)
{
    R_xlen_t size = 1 + 2 * (R_xlen_t) m->trace.widest + m->n_params;
    for (int k = 1; k <= m->trace.layers; k++)
        size += m->trace.units[k];
    return size;
}

typedef struct {
    double **hidden, *output, *log_det, *delta, *scratch, *grad_params;
} maf_buffers;

/* The workspace for n rows, carved out of one double vector kept in the
   operation's environment; a larger one replaces it when n needs it
   (allocate = 1, the inverse pass), or it must already fit (backward). */
static maf_buffers maf_workspace(const maf_operation *m, R_xlen_t n,
                                 int allocate)
{
    SEXP symbol = Rf_install("buffer");
    SEXP buffer = Rf_findVarInFrame(m->workspace, symbol);
    R_xlen_t row_size = maf_row_size(m);
    R_xlen_t need = n * row_size;
    if (buffer == R_UnboundValue || TYPEOF(buffer) != REALSXP ||
        XLENGTH(buffer) < need) {
        if (!allocate)
            Rf_error("internal error: the MAF workspace does not match its "
                     "inverse pass");
        buffer = PROTECT(Rf_allocVector(REALSXP, need));
        Rf_defineVar(symbol, buffer, m->workspace);
        UNPROTECT(1);
    }
    maf_buffers b;
    double *p = REAL(buffer);
    int layers = m->trace.layers;
    b.hidden = (double **) R_alloc((size_t) layers, sizeof(double *));
    for (int k = 0; k < layers - 1; k++) {
        b.hidden[k] = p;
        p += n * m->trace.units[k + 1];
    }
    b.output = p;
    p += n * m->n_params;
    b.log_det = p;
    p += n;
    b.delta = p;
    p += n * m->trace.widest;
    b.scratch = p;
    p += n * m->trace.widest;
    b.grad_params = p;
    return b;
}

/* An operation's n x d result shaped like `like`: a fresh one, or with
   `reuse` (fit()'s fused step, which never hands the passes' values to R)
   the one kept under `name` in the operation's environment `env` from the
   last step, overwritten (a new one when missing or of another shape). */
static SEXP result_matrix(SEXP like, R_xlen_t n, R_xlen_t d, SEXP env,
                          const char *name, int reuse)
{
    if (!reuse) {
        SEXP out = PROTECT(Rf_allocVector(REALSXP, XLENGTH(like)));
        copy_array_shape(out, like);
        UNPROTECT(1);
        return out;
    }
    if (TYPEOF(env) != ENVSXP)
        Rf_error("internal error: a plan operation without its workspace");
    SEXP symbol = Rf_install(name);
    SEXP kept = Rf_findVarInFrame(env, symbol);
    SEXP dim = kept == R_UnboundValue ? R_NilValue :
        Rf_getAttrib(kept, R_DimSymbol);
    if (TYPEOF(kept) != REALSXP || TYPEOF(dim) != INTSXP ||
        XLENGTH(dim) != 2 || INTEGER(dim)[0] != n || INTEGER(dim)[1] != d) {
        kept = PROTECT(Rf_allocMatrix(REALSXP, (int) n, (int) d));
        Rf_defineVar(symbol, kept, env);
        UNPROTECT(1);
    }
    return kept;
}

/* The inverse step of a MAF on `value` (n x d): the network and the affine
   step exactly as C_mlp_forward() and C_affine_transform() do them. */
static SEXP maf_inverse(SEXP op, SEXP value, R_xlen_t n, R_xlen_t d,
                        double *acc, int reuse)
{
    maf_operation m = maf_unpack(op, d);
    maf_buffers b = maf_workspace(&m, n, 1);
    mlp_forward_masked(REAL_RO(value), (int) n, (int) n, m.trace.layers,
                       m.trace.units, m.trace.kernels, m.biases,
                       m.trace.activations, m.trace.extents, b.hidden,
                       b.output);
    /* kept in the workspace (fit) or, for log_prob()'s plan, whose MAFs
       share one workspace, in the operation's own environment */
    SEXP out = PROTECT(result_matrix(value, n, d,
                                     reuse == REUSE_OWN ? VECTOR_ELT(op, 9) :
                                     m.workspace, "inverse", reuse));
    affine_columns(REAL_RO(value), n, d, b.output, d, m.columns, m.shift,
                   m.log_scale, m.clip_min, m.clip_max, -1, REAL(out),
                   b.log_det);
    for (R_xlen_t i = 0; i < n; i++)
        acc[i] += b.log_det[i];
    UNPROTECT(1);
    return out;
}

/* The network's kernel and bias gradient arrays (network_gradient_lists()'s
   list), with pointers to their data: fresh ones, or with `reuse` (fit()'s
   fused step, which hands them to Adam and never to R) the ones kept in
   the operation's workspace from the last step, which the backward pass
   overwrites whole. */
static SEXP maf_gradient_lists(const maf_operation *m, double **grad_kernel,
                               double **grad_bias, int reuse)
{
    if (!reuse)
        return network_gradient_lists(&m->trace, grad_kernel, grad_bias);
    SEXP symbol = Rf_install("gradients");
    SEXP kept = Rf_findVarInFrame(m->workspace, symbol);
    int layers = m->trace.layers;
    const int *units = m->trace.units;
    int fits = TYPEOF(kept) == VECSXP && XLENGTH(kept) == 2 &&
        TYPEOF(VECTOR_ELT(kept, 0)) == VECSXP &&
        TYPEOF(VECTOR_ELT(kept, 1)) == VECSXP &&
        XLENGTH(VECTOR_ELT(kept, 0)) == layers &&
        XLENGTH(VECTOR_ELT(kept, 1)) == layers;
    for (int k = 0; fits && k < layers; k++) {
        SEXP gk = VECTOR_ELT(VECTOR_ELT(kept, 0), k);
        SEXP gb = VECTOR_ELT(VECTOR_ELT(kept, 1), k);
        fits = TYPEOF(gk) == REALSXP && TYPEOF(gb) == REALSXP &&
            XLENGTH(gk) == (R_xlen_t) units[k] * units[k + 1] &&
            XLENGTH(gb) == units[k + 1];
    }
    if (!fits) {
        kept = PROTECT(network_gradient_lists(&m->trace, grad_kernel,
                                              grad_bias));
        Rf_defineVar(symbol, kept, m->workspace);
        UNPROTECT(1);
        return kept;
    }
    for (int k = 0; k < layers; k++) {
        grad_kernel[k] = REAL(VECTOR_ELT(VECTOR_ELT(kept, 0), k));
        grad_bias[k] = REAL(VECTOR_ELT(VECTOR_ELT(kept, 1), k));
    }
    return kept;
}

/* The backward step of maf_inverse() on its input: as C_affine_backward()
   then C_mlp_backward() with the affine input gradient as the network's
   input gradient. Writes the kernel and bias gradients (those `trained`)
   into gradients before *used (arrays kept from step to step with
   `reuse`); returns dLoss/d(input). */
static SEXP maf_backward(SEXP op, SEXP input, SEXP grad, SEXP grad_rows,
                         SEXP gradients, R_xlen_t *used, int reuse)
{
    SEXP dim = Rf_getAttrib(input, R_DimSymbol);
    if (TYPEOF(input) != REALSXP || TYPEOF(dim) != INTSXP ||
        XLENGTH(dim) != 2)
        Rf_error("internal error: a MAF cache must be a double matrix");
    R_xlen_t n = INTEGER(dim)[0], d = INTEGER(dim)[1];
    if (TYPEOF(grad) != REALSXP || XLENGTH(grad) != n * d)
        Rf_error("internal error: a MAF gradient has the wrong length");
    maf_operation m = maf_unpack(op, d);
    maf_buffers b = maf_workspace(&m, n, 0);
    m.trace.n = (int) n;
    m.trace.hidden = (const double *const *) b.hidden;
    m.trace.output = b.output;
    SEXP grad_in = PROTECT(result_matrix(input, n, d, m.workspace,
                                         "grad_input", reuse));
    affine_columns_backward(REAL_RO(input), n, d, b.output, m.n_params, d,
                            m.columns, m.shift, m.log_scale, m.clip_min,
                            m.clip_max, m.clip_gradient, -1, REAL_RO(grad),
                            REAL_RO(grad_rows), REAL(grad_in), b.grad_params);
    int layers = m.trace.layers;
    double **grad_kernel = (double **) R_alloc((size_t) layers,
                                               sizeof(double *));
    double **grad_bias = (double **) R_alloc((size_t) layers,
                                             sizeof(double *));
    SEXP network = PROTECT(maf_gradient_lists(&m, grad_kernel, grad_bias,
                                              reuse));
    memcpy(b.delta, b.grad_params, (size_t) (n * m.n_params) * sizeof(double));
    network_backward(&m.trace, REAL_RO(input), (int) n, b.delta, b.scratch,
                     grad_kernel, grad_bias, REAL(grad_in), (int) n);

    SEXP trained = VECTOR_ELT(op, 7);
    if (TYPEOF(trained) != LGLSXP || XLENGTH(trained) != 2 * layers)
        Rf_error("internal error: the MAF operation's trained slots do not "
                 "match its network");
    /* this operation's slots are the last ones before *used */
    R_xlen_t own = 0;
    for (R_xlen_t j = 0; j < 2 * layers; j++)
        own += LOGICAL(trained)[j] != 0;
    if (*used < own)
        Rf_error("internal error: fewer gradients than the plan counted");
    R_xlen_t at = *used - own;
    for (int j = 0; j < layers; j++) {
        if (LOGICAL(trained)[2 * j])
            SET_VECTOR_ELT(gradients, at++,
                           VECTOR_ELT(VECTOR_ELT(network, 0), j));
        if (LOGICAL(trained)[2 * j + 1])
            SET_VECTOR_ELT(gradients, at++,
                           VECTOR_ELT(VECTOR_ELT(network, 1), j));
    }
    *used -= own;
    UNPROTECT(2);
    return grad_in;
}

/* out[, j] = in[, index[j]] for an n x d matrix; index 1-based. The
   result is kept under `name` in `env` with `reuse` (result_matrix()). */
static SEXP gather_columns(SEXP in, SEXP index, SEXP env, const char *name,
                           int reuse)
{
    SEXP dim = Rf_getAttrib(in, R_DimSymbol);
    if (TYPEOF(in) != REALSXP || TYPEOF(dim) != INTSXP || XLENGTH(dim) != 2)
        Rf_error("internal error: a permutation needs a double matrix");
    R_xlen_t n = INTEGER(dim)[0], d = INTEGER(dim)[1];
    if (TYPEOF(index) != INTSXP || XLENGTH(index) != d)
        Rf_error("the permutation has length %lld but the input has %lld "
                 "columns", (long long) XLENGTH(index), (long long) d);
    const int *p = INTEGER_RO(index);
    SEXP out = PROTECT(result_matrix(in, n, d, env, name, reuse));
    const double *x = REAL_RO(in);
    double *y = REAL(out);
    for (R_xlen_t j = 0; j < d; j++) {
        if (p[j] == NA_INTEGER || p[j] < 1 || p[j] > d)
            Rf_error("internal error: a permutation index is out of range");
        if (n > 0)
            memcpy(y + j * n, x + (R_xlen_t) (p[j] - 1) * n,
                   (size_t) n * sizeof(double));
    }
    UNPROTECT(1);
    return out;
}

/* acc[i] += log_det[i], or += log_det[0] for every row when it is one
   number (what R's `+` does with a length-one operand). */
static void add_log_det(double *acc, R_xlen_t rows, SEXP log_det)
{
    if (TYPEOF(log_det) != REALSXP)
        Rf_error("internal error: a log-det must be double");
    const double *l = REAL_RO(log_det);
    if (XLENGTH(log_det) == 1) {
        for (R_xlen_t i = 0; i < rows; i++)
            acc[i] += l[0];
    } else if (XLENGTH(log_det) == rows) {
        for (R_xlen_t i = 0; i < rows; i++)
            acc[i] += l[i];
    } else {
        Rf_error("internal error: a log-det has %lld values for %lld rows",
                 (long long) XLENGTH(log_det), (long long) rows);
    }
}

static R_xlen_t matrix_rows(SEXP x)
{
    SEXP dim = Rf_getAttrib(x, R_DimSymbol);
    if (TYPEOF(x) != REALSXP || TYPEOF(dim) != INTSXP || XLENGTH(dim) != 2)
        Rf_error("`y` must be a double matrix");
    return INTEGER(dim)[0];
}

/* The inverse pass of `ops` on `value` (a rows x d double matrix): the
   value after the last operation; the log-dets added into acc (rows
   values); one cache per operation in `caches` (a list as long as ops). A
   non-NULL result of type integer is a refusal of a batch-normalization
   layer (src/batch_norm.c's code), which stops the pass. */
SEXP inverse_ops(SEXP ops, SEXP value, double *acc, R_xlen_t rows,
                 SEXP caches, SEXP *refusal, int reuse)
{
    PROTECT_INDEX ipx;
    PROTECT_WITH_INDEX(value, &ipx);
    R_xlen_t count = XLENGTH(ops);
    for (R_xlen_t k = 0; k < count; k++) {
        SEXP op = VECTOR_ELT(ops, k);
        switch (op_kind(op)) {
        case OP_MAF: {
            SEXP dim = Rf_getAttrib(value, R_DimSymbol);
            if (TYPEOF(value) != REALSXP || TYPEOF(dim) != INTSXP ||
                XLENGTH(dim) != 2 || INTEGER(dim)[0] != rows)
                Rf_error("internal error: a MAF needs a double matrix");
            SEXP out = PROTECT(maf_inverse(op, value, rows, INTEGER(dim)[1],
                                           acc, reuse));
            /* cache: the input (the rest is in the workspace) */
            SET_VECTOR_ELT(caches, k, value);
            REPROTECT(value = out, ipx);
            UNPROTECT(1);
            break;
        }
        case OP_BATCH_NORM: {
            SEXP layer = VECTOR_ELT(op, 1);
            if (TYPEOF(layer) != ENVSXP)
                Rf_error("internal error: a batch-normalization operation "
                         "needs its layer");
            SEXP pointer = PROTECT(layer_pointer(layer));
            SEXP dims = Rf_getAttrib(value, R_DimSymbol);
            double multiplier = scalar_double(VECTOR_ELT(op, 7), "multiplier");
            SEXP x, log_det, mean, variance;
            if (scalar_logical(VECTOR_ELT(op, 8), "training")) {
                SEXP out = PROTECT(C_bn_inverse_training(
                    pointer, value, dims, VECTOR_ELT(op, 2),
                    VECTOR_ELT(op, 3), VECTOR_ELT(op, 4), VECTOR_ELT(op, 5),
                    VECTOR_ELT(op, 6), Rf_ScalarLogical(1)));
                if (TYPEOF(out) == INTSXP) {
                    *refusal = out;
                    UNPROTECT(3);
                    return R_NilValue;
                }
                /* log-det times the event_ndims multiplier, as R does */
                log_det = PROTECT(Rf_ScalarReal(
                    REAL(VECTOR_ELT(out, 1))[0] * multiplier));
                x = VECTOR_ELT(out, 0);
                mean = VECTOR_ELT(out, 2);
                variance = VECTOR_ELT(out, 3);
            } else {
                /* evaluation mode: the running statistics, copied (as
                   bn_moving_statistics() does) for the backward pass */
                SEXP direction = PROTECT(Rf_ScalarInteger(-1));
                SEXP out = PROTECT(Rf_allocVector(VECSXP, 3));
                SET_VECTOR_ELT(out, 0, C_bn_transform(
                    pointer, value, dims, VECTOR_ELT(op, 2),
                    VECTOR_ELT(op, 4), VECTOR_ELT(op, 5), VECTOR_ELT(op, 6),
                    direction));
                R_xlen_t features;
                SEXP state = bn_layer_state(layer, &features);
                SET_VECTOR_ELT(out, 1, C_copy_double(
                    VECTOR_ELT(state, BN_MOVING_MEAN)));
                SET_VECTOR_ELT(out, 2, C_copy_double(
                    VECTOR_ELT(state, BN_MOVING_VARIANCE)));
                SEXP ildj = PROTECT(C_bn_inverse_log_det(
                    pointer, R_NilValue, dims, VECTOR_ELT(op, 2),
                    VECTOR_ELT(op, 4), VECTOR_ELT(op, 6)));
                log_det = Rf_ScalarReal(multiplier * REAL(ildj)[0]);
                UNPROTECT(3);
                PROTECT(out);
                PROTECT(log_det);
                x = VECTOR_ELT(out, 0);
                mean = VECTOR_ELT(out, 1);
                variance = VECTOR_ELT(out, 2);
            }
            /* cache: the input, the statistics used, the pointer */
            SEXP cache = PROTECT(Rf_allocVector(VECSXP, 4));
            SET_VECTOR_ELT(cache, 0, value);
            SET_VECTOR_ELT(cache, 1, mean);
            SET_VECTOR_ELT(cache, 2, variance);
            SET_VECTOR_ELT(cache, 3, pointer);
            SET_VECTOR_ELT(caches, k, cache);
            add_log_det(acc, rows, log_det);
            REPROTECT(value = x, ipx);
            UNPROTECT(4);
            break;
        }
        case OP_PERMUTE: {
            /* log-det 0, added as R adds it */
            for (R_xlen_t i = 0; i < rows; i++)
                acc[i] += 0.0;
            REPROTECT(value = gather_columns(value, VECTOR_ELT(op, 1),
                                             VECTOR_ELT(op, 3), "inverse",
                                             reuse), ipx);
            break;
        }
        case OP_CHAIN: {
            SEXP members = VECTOR_ELT(op, 1);
            check_ops(members);
            SEXP member_caches = PROTECT(Rf_allocVector(
                VECSXP, XLENGTH(members)));
            SET_VECTOR_ELT(caches, k, member_caches);
            double *inner = (double *) R_alloc((size_t) rows + 1,
                                               sizeof(double));
            for (R_xlen_t i = 0; i < rows; i++)
                inner[i] = 0;
            SEXP out = inverse_ops(members, value, inner, rows,
                                   member_caches, refusal, reuse);
            if (*refusal != R_NilValue) {
                UNPROTECT(2);
                return R_NilValue;
            }
            for (R_xlen_t i = 0; i < rows; i++)
                acc[i] += inner[i];
            REPROTECT(value = out, ipx);
            UNPROTECT(1);
            break;
        }
        }
    }
    UNPROTECT(1);
    return value;
}

/* C_plan_inverse(plan, y): list(x, log_det (one value per row), caches),
   or, when a batch-normalization layer refused the batch (nothing written
   by it), its refusal code as an integer. */
SEXP C_plan_inverse(SEXP plan, SEXP y)
{
    check_ops(plan);
    R_xlen_t rows = matrix_rows(y);
    SEXP log_det = PROTECT(Rf_allocVector(REALSXP, rows));
    double *acc = REAL(log_det);
    for (R_xlen_t i = 0; i < rows; i++)
        acc[i] = 0;
    SEXP caches = PROTECT(Rf_allocVector(VECSXP, XLENGTH(plan)));
    SEXP refusal = R_NilValue;
    SEXP x = PROTECT(inverse_ops(plan, y, acc, rows, caches, &refusal, 0));
    if (refusal != R_NilValue) {
        UNPROTECT(3);
        return refusal;
    }
    SEXP result = PROTECT(Rf_allocVector(VECSXP, 3));
    SET_VECTOR_ELT(result, 0, x);
    SET_VECTOR_ELT(result, 1, log_det);
    SET_VECTOR_ELT(result, 2, caches);
    UNPROTECT(4);
    return result;
}

/* The backward pass of inverse_ops(): from dLoss/d(value) after the last
   operation, returns dLoss/d(its input); writes the parameter gradients
   into `gradients` in slot order. grad_rows is dLoss/d(log-det) per row,
   grad_sum their sum (what a member whose log-det is one number gets). */
static SEXP backward_ops(SEXP ops, SEXP caches, SEXP grad, SEXP grad_rows,
                         SEXP grad_sum, SEXP gradients, R_xlen_t *used,
                         int reuse)
{
    PROTECT_INDEX ipx;
    PROTECT_WITH_INDEX(grad, &ipx);
    R_xlen_t count = XLENGTH(ops);
    if (TYPEOF(caches) != VECSXP || XLENGTH(caches) != count)
        Rf_error("internal error: the plan's caches do not match it");
    /* operations run in reverse, so each fills its slots from the end:
       *used is the number of slots before the current operation's end */
    for (R_xlen_t k = count - 1; k >= 0; k--) {
        SEXP op = VECTOR_ELT(ops, k);
        SEXP cache = VECTOR_ELT(caches, k);
        switch (op_kind(op)) {
        case OP_MAF:
            REPROTECT(grad = maf_backward(op, cache, grad, grad_rows,
                                          gradients, used, reuse), ipx);
            break;
        case OP_BATCH_NORM: {
            SEXP layer = VECTOR_ELT(op, 1);
            SEXP input = VECTOR_ELT(cache, 0);
            SEXP settings = PROTECT(Rf_allocVector(REALSXP, 3));
            REAL(settings)[0] = scalar_double(VECTOR_ELT(op, 4), "epsilon");
            REAL(settings)[1] = scalar_double(VECTOR_ELT(op, 7), "multiplier");
            REAL(settings)[2] = scalar_double(grad_sum, "grad_sum");
            SEXP flags = PROTECT(Rf_allocVector(LGLSXP, 3));
            LOGICAL(flags)[0] = scalar_logical(VECTOR_ELT(op, 5), "center");
            LOGICAL(flags)[1] = scalar_logical(VECTOR_ELT(op, 6), "scale");
            LOGICAL(flags)[2] = scalar_logical(VECTOR_ELT(op, 8), "training");
            SEXP pointer = PROTECT(layer_pointer(layer));
            SEXP out = PROTECT(C_bn_inverse_backward(
                pointer, input, grad, Rf_getAttrib(input, R_DimSymbol),
                VECTOR_ELT(op, 2), VECTOR_ELT(cache, 1), VECTOR_ELT(cache, 2),
                settings, flags));
            R_xlen_t own = LOGICAL(flags)[0] + LOGICAL(flags)[1];
            if (*used < own)
                Rf_error("internal error: fewer gradients than the plan "
                         "counted");
            R_xlen_t at = *used - own;
            if (LOGICAL(flags)[1])
                SET_VECTOR_ELT(gradients, at++, VECTOR_ELT(out, 1));
            if (LOGICAL(flags)[0])
                SET_VECTOR_ELT(gradients, at++, VECTOR_ELT(out, 2));
            *used -= own;
            REPROTECT(grad = VECTOR_ELT(out, 0), ipx);
            UNPROTECT(4);
            break;
        }
        case OP_PERMUTE:
            REPROTECT(grad = gather_columns(grad, VECTOR_ELT(op, 2),
                                            VECTOR_ELT(op, 3), "grad_input",
                                            reuse), ipx);
            break;
        case OP_CHAIN:
            REPROTECT(grad = backward_ops(VECTOR_ELT(op, 1), cache, grad,
                                          grad_rows, grad_sum, gradients,
                                          used, reuse), ipx);
            break;
        }
    }
    UNPROTECT(1);
    return grad;
}

/* The parameter gradients of the backward pass of inverse_ops() (a list of
   `count` double vectors in slot order), from dLoss/d(x) and dLoss/d(log-det)
   per row (one value per row); *finite says whether all are finite. */
SEXP backward_gradients(SEXP plan, SEXP caches, SEXP grad_x, SEXP per_row,
                        SEXP grad_sum, R_xlen_t count, int reuse,
                        SEXP *input, int *finite)
{
    R_xlen_t used = count;
    SEXP gradients = PROTECT(Rf_allocVector(VECSXP, used));
    SEXP in = backward_ops(plan, caches, grad_x, per_row, grad_sum, gradients,
                           &used, reuse);
    if (used != 0)
        Rf_error("internal error: the plan counted %lld gradients too many",
                 (long long) used);
    if (input != NULL)
        *input = in;
    /* whether every gradient is finite, so that fit() need not ask R */
    *finite = 1;
    for (R_xlen_t j = 0; j < XLENGTH(gradients) && *finite; j++) {
        SEXP g = VECTOR_ELT(gradients, j);
        if (TYPEOF(g) != REALSXP)
            Rf_error("internal error: a gradient is not a double vector");
        const double *p = REAL_RO(g);
        R_xlen_t length = XLENGTH(g);
        for (R_xlen_t i = 0; i < length; i++)
            if (!isfinite(p[i])) {
                *finite = 0;
                break;
            }
    }
    UNPROTECT(1);
    return gradients;
}

/* C_plan_backward(plan, caches, grad_x, grad_rows, grad_sum, count): the
   backward pass of C_plan_inverse() whose result held `caches`. grad_x is
   dLoss/d(x) (like y), grad_rows dLoss/d(log-det) per row, grad_sum their
   sum; count the number of parameter gradients. Returns list(input =
   dLoss/d(y), parameters = the gradients in slot order, finite = whether
   they are all finite). */
SEXP C_plan_backward(SEXP plan, SEXP caches, SEXP grad_x, SEXP grad_rows,
                     SEXP grad_sum, SEXP count)
{
    check_ops(plan);
    R_xlen_t rows = matrix_rows(grad_x);
    if (TYPEOF(grad_rows) != REALSXP ||
        (XLENGTH(grad_rows) != rows && XLENGTH(grad_rows) != 1))
        Rf_error("`grad_rows` must be a double vector with one value per row");
    if (TYPEOF(grad_sum) != REALSXP || XLENGTH(grad_sum) != 1)
        Rf_error("`grad_sum` must be a number");
    if (TYPEOF(count) != INTSXP || XLENGTH(count) != 1 ||
        INTEGER(count)[0] < 0)
        Rf_error("`count` must be a count");
    /* the affine step wants one value per row */
    SEXP per_row = PROTECT(Rf_allocVector(REALSXP, rows));
    for (R_xlen_t i = 0; i < rows; i++)
        REAL(per_row)[i] = REAL(grad_rows)[XLENGTH(grad_rows) == 1 ? 0 : i];
    SEXP input = R_NilValue;
    int finite;
    SEXP gradients = PROTECT(backward_gradients(
        plan, caches, grad_x, per_row, grad_sum, INTEGER(count)[0], 0, &input,
        &finite));
    PROTECT(input);
    SEXP result = PROTECT(Rf_allocVector(VECSXP, 3));
    SEXP names = PROTECT(Rf_allocVector(STRSXP, 3));
    SET_VECTOR_ELT(result, 0, input);
    SET_VECTOR_ELT(result, 1, gradients);
    SET_VECTOR_ELT(result, 2, Rf_ScalarLogical(finite));
    SET_STRING_ELT(names, 0, Rf_mkChar("input"));
    SET_STRING_ELT(names, 1, Rf_mkChar("parameters"));
    SET_STRING_ELT(names, 2, Rf_mkChar("finite"));
    Rf_setAttrib(result, R_NamesSymbol, names);
    UNPROTECT(5);
    return result;
}
