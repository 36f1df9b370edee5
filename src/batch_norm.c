/* Batch normalization kernels: per-feature moments, the per-feature affine
   map shared by forward and inverse, and the in-place update of the running
   statistics that the layer owns. */

#include <math.h>
#include <string.h>
#include "bijectors.h"

/* Statistics are taken in chunks small enough to stay in cache, two passes
   over each chunk, and the chunks are merged with Chan et al.'s formula:
   one pass over memory, with the accuracy of the two-pass algorithm. All of
   it is done on y minus the first value of each feature. */
#define CHUNK 4096

enum { GAMMA = BN_GAMMA, BETA = BN_BETA, MOVING_MEAN = BN_MOVING_MEAN,
       MOVING_VARIANCE = BN_MOVING_VARIANCE, N_STATE = BN_STATE_SIZE };

/* Why C_bn_inverse_training refused a batch (returned instead of the
   output; shared with R/batch_normalization.R, bn_refusal_errors). */
enum {
    BN_REFUSED_NONFINITE = 1,
    BN_REFUSED_OVERFLOW = 2,
    BN_REFUSED_ZERO_VARIANCE = 3
};

static const char *state_names[N_STATE] = {
    "gamma", "beta", "moving_mean", "moving_variance"
};

/* ---- layout ------------------------------------------------------------ */

/* The input seen as blocks of consecutive axes of one kind (feature or
   reduction), innermost first. Element j belongs to feature
   sum_b index_b(j) * stride[b], with stride 0 for reduction blocks. */
typedef struct {
    int nblocks;
    R_xlen_t *size;
    R_xlen_t *stride;
    R_xlen_t total;
    R_xlen_t features;
} bn_layout;

static void layout_from_dims(SEXP dims, SEXP axes, R_xlen_t length,
                             bn_layout *layout)
{
    if (TYPEOF(dims) != INTSXP && TYPEOF(dims) != REALSXP)
        Rf_error("internal error: `dims` must be numeric");
    if (TYPEOF(axes) != INTSXP)
        Rf_error("internal error: `axes` must be an integer vector");
    int rank = (int) XLENGTH(dims);
    int naxes = (int) XLENGTH(axes);
    const int *axis = INTEGER_RO(axes);
    if (naxes < 1)
        Rf_error("internal error: no feature axes");
    for (int k = 0; k < naxes; k++) {
        if (axis[k] < 1 || axis[k] > rank || (k > 0 && axis[k] <= axis[k - 1]))
            Rf_error("internal error: feature axes must be increasing and "
                     "within 1..%d", rank);
    }

    layout->size = (R_xlen_t *) R_alloc((size_t) rank + 1, sizeof(R_xlen_t));
    layout->stride = (R_xlen_t *) R_alloc((size_t) rank + 1, sizeof(R_xlen_t));
    layout->nblocks = 0;
    layout->total = 1;
    layout->features = 1;

    int next_axis = 0, last_kind = -1;
    for (int d = 0; d < rank; d++) {
        double extent = TYPEOF(dims) == INTSXP ?
            (INTEGER_RO(dims)[d] == NA_INTEGER ? -1.0 : INTEGER_RO(dims)[d]) :
            REAL_RO(dims)[d];
        if (!(extent >= 0) || extent != floor(extent) || extent > 4.5e15)
            Rf_error("internal error: invalid dimension");
        R_xlen_t n = (R_xlen_t) extent;
        int is_feature = next_axis < naxes && axis[next_axis] == d + 1;
        if (is_feature)
            next_axis++;
        /* no signed overflow: the product must fit an R_xlen_t */
        if (n > 0 && (layout->total > R_XLEN_T_MAX / n ||
                      layout->features > R_XLEN_T_MAX / n))
            Rf_error("internal error: dims do not match the length of the input");
        layout->total *= n;
        if (is_feature)
            layout->features *= n;
        if (n == 1)
            continue;           /* a unit axis changes no index */
        if (layout->nblocks > 0 && is_feature == last_kind) {
            layout->size[layout->nblocks - 1] *= n;
        } else {
            layout->size[layout->nblocks] = n;
            layout->stride[layout->nblocks] = is_feature;   /* fixed below */
            layout->nblocks++;
            last_kind = is_feature;
        }
    }
    if (layout->total != length)
        Rf_error("internal error: dims do not match the length of the input");
    if (layout->nblocks == 0) {         /* a single element */
        layout->size[0] = 1;
        layout->stride[0] = 0;
        layout->nblocks = 1;
    }
    R_xlen_t feature_stride = 1;
    for (int b = 0; b < layout->nblocks; b++) {
        if (layout->stride[b]) {
            layout->stride[b] = feature_stride;
            feature_stride *= layout->size[b];
        }
    }
}

/* A run is one pass over block 0: size[0] consecutive elements whose
   features are first_feature + i * stride[0]. */
typedef struct {
    R_xlen_t start;
    R_xlen_t first_feature;
    R_xlen_t *index;
} run_cursor;

static void cursor_start(run_cursor *cursor, const bn_layout *layout)
{
    cursor->start = 0;
    cursor->first_feature = 0;
    cursor->index = (R_xlen_t *) R_alloc((size_t) layout->nblocks,
                                         sizeof(R_xlen_t));
    memset(cursor->index, 0, (size_t) layout->nblocks * sizeof(R_xlen_t));
}

static void cursor_copy(run_cursor *to, const run_cursor *from,
                        const bn_layout *layout)
{
    to->start = from->start;
    to->first_feature = from->first_feature;
    memcpy(to->index, from->index, (size_t) layout->nblocks * sizeof(R_xlen_t));
}

static void cursor_next(run_cursor *cursor, const bn_layout *layout)
{
    cursor->start += layout->size[0];
    for (int b = 1; b < layout->nblocks; b++) {
        cursor->index[b]++;
        cursor->first_feature += layout->stride[b];
        if (cursor->index[b] < layout->size[b])
            return;
        cursor->first_feature -= layout->stride[b] * layout->size[b];
        cursor->index[b] = 0;
    }
}

/* ---- moments ----------------------------------------------------------- */

static int any_nonfinite(const double *p, R_xlen_t n)
{
    for (R_xlen_t i = 0; i < n; i++)
        if (!R_FINITE(p[i]))
            return 1;
    return 0;
}

static double shifted_sum(const double *p, R_xlen_t n, double shift)
{
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    R_xlen_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += p[i] - shift;
        s1 += p[i + 1] - shift;
        s2 += p[i + 2] - shift;
        s3 += p[i + 3] - shift;
    }
    for (; i < n; i++)
        s0 += p[i] - shift;
    return (s0 + s1) + (s2 + s3);
}

/* Mean and sum of squared deviations of one contiguous chunk of
   y - shift, in two passes. Returns 1 if the chunk holds NA, NaN or Inf. */
static int chunk_moments(const double *p, R_xlen_t n, double shift,
                         double *mean, double *m2)
{
    double sum = shifted_sum(p, n, shift), center;
    if (R_FINITE(sum)) {
        center = sum / (double) n;
    } else {
        if (any_nonfinite(p, n))
            return 1;
        center = 0;             /* finite values whose sum overflows */
        for (R_xlen_t i = 0; i < n; i++)
            center += (p[i] - shift) / (double) n;
    }
    double c0 = 0, c1 = 0, q0 = 0, q1 = 0;
    R_xlen_t i = 0;
    for (; i + 2 <= n; i += 2) {
        double d0 = (p[i] - shift) - center, d1 = (p[i + 1] - shift) - center;
        c0 += d0;
        c1 += d1;
        q0 += d0 * d0;
        q1 += d1 * d1;
    }
    for (; i < n; i++) {
        double d = (p[i] - shift) - center;
        c0 += d;
        q0 += d * d;
    }
    double c = c0 + c1;
    /* The corrected two-pass algorithm: c is the rounding error of center. */
    *mean = center + c / (double) n;
    double q = q0 + q1 - c * c / (double) n;
    *m2 = q < 0 ? 0 : q;       /* rounding below 0; NaN stays NaN */
    return 0;
}

/* Merge the moments (n_b, mean_b, m2_b) of a part into a running total. */
static void merge_moments(double *n_a, double *mean_a, double *m2_a,
                          double n_b, double mean_b, double m2_b)
{
    if (n_b == 0)
        return;
    if (*n_a == 0) {
        *n_a = n_b;
        *mean_a = mean_b;
        *m2_a = m2_b;
        return;
    }
    double n = *n_a + n_b;
    double delta = mean_b - *mean_a;
    *m2_a += m2_b + delta * delta * (*n_a * n_b / n);
    *mean_a += delta * (n_b / n);
    *n_a = n;
}

/* Long runs of a single feature (features after a large reduction block,
   e.g. a matrix with features in columns): chunk each run. */
static int moments_long_runs(const double *y, const bn_layout *layout,
                             const double *shift, double *count,
                             double *mean, double *m2)
{
    run_cursor cursor;
    cursor_start(&cursor, layout);
    R_xlen_t run = layout->size[0];
    for (; cursor.start < layout->total; cursor_next(&cursor, layout)) {
        R_xlen_t f = cursor.first_feature;
        for (R_xlen_t s = 0; s < run; s += CHUNK) {
            R_xlen_t n = run - s < CHUNK ? run - s : CHUNK;
            double chunk_mean, chunk_m2;
            if (chunk_moments(y + cursor.start + s, n, shift[f], &chunk_mean,
                              &chunk_m2))
                return 1;
            merge_moments(count + f, mean + f, m2 + f, (double) n,
                          chunk_mean, chunk_m2);
        }
    }
    return 0;
}

/* Every other layout: groups of whole runs, about CHUNK elements each, with
   per-feature partial moments for the features the group touches. */
static int moments_grouped(const double *y, const bn_layout *layout,
                           const double *shift, double *count, double *mean,
                           double *m2)
{
    R_xlen_t features = layout->features, run = layout->size[0];
    R_xlen_t step = layout->stride[0];
    double *group_sum = (double *) R_alloc((size_t) features, sizeof(double));
    double *group_count = (double *) R_alloc((size_t) features, sizeof(double));
    double *group_c = (double *) R_alloc((size_t) features, sizeof(double));
    double *group_q = (double *) R_alloc((size_t) features, sizeof(double));
    R_xlen_t *touched = (R_xlen_t *) R_alloc((size_t) features, sizeof(R_xlen_t));
    memset(group_sum, 0, (size_t) features * sizeof(double));
    memset(group_count, 0, (size_t) features * sizeof(double));
    memset(group_c, 0, (size_t) features * sizeof(double));
    memset(group_q, 0, (size_t) features * sizeof(double));

    run_cursor cursor, group_start, again;
    cursor_start(&cursor, layout);
    cursor_start(&group_start, layout);
    cursor_start(&again, layout);
    while (cursor.start < layout->total) {
        cursor_copy(&group_start, &cursor, layout);
        R_xlen_t n_touched = 0, runs = 0;

        /* pass 1: sums */
        do {
            const double *p = y + cursor.start;
            R_xlen_t f = cursor.first_feature;
            if (step == 0) {
                if (group_count[f] == 0)
                    touched[n_touched++] = f;
                group_sum[f] += shifted_sum(p, run, shift[f]);
                group_count[f] += (double) run;
            } else {
                for (R_xlen_t i = 0; i < run; i++, f += step) {
                    if (group_count[f] == 0)
                        touched[n_touched++] = f;
                    group_sum[f] += p[i] - shift[f];
                    group_count[f] += 1;
                }
            }
            runs++;
            cursor_next(&cursor, layout);
        } while (cursor.start < layout->total && runs * run < CHUNK);
        R_xlen_t group_end = cursor.start;

        int overflow = 0;
        for (R_xlen_t t = 0; t < n_touched; t++)
            if (!R_FINITE(group_sum[touched[t]]))
                overflow = 1;
        if (overflow) {
            if (any_nonfinite(y + group_start.start, group_end - group_start.start))
                return 1;
        }
        for (R_xlen_t t = 0; t < n_touched; t++) {
            R_xlen_t f = touched[t];
            group_sum[f] = overflow ? 0 : group_sum[f] / group_count[f];
        }
        if (overflow) {         /* finite values whose sum overflows */
            for (cursor_copy(&again, &group_start, layout);
                 again.start < group_end; cursor_next(&again, layout)) {
                const double *p = y + again.start;
                R_xlen_t f = again.first_feature;
                for (R_xlen_t i = 0; i < run; i++, f += step)
                    group_sum[f] += (p[i] - shift[f]) / group_count[f];
            }
        }

        /* pass 2: deviations from the group means, now held in group_sum */
        for (cursor_copy(&again, &group_start, layout);
             again.start < group_end; cursor_next(&again, layout)) {
            const double *p = y + again.start;
            R_xlen_t f = again.first_feature;
            if (step == 0) {
                /* one feature: its sums in registers, not through memory
                   on every value (a store and a reload per addition); the
                   same additions in the same order */
                double sh = shift[f], center = group_sum[f];
                double c = group_c[f], q = group_q[f];
                for (R_xlen_t i = 0; i < run; i++) {
                    double d = (p[i] - sh) - center;
                    c += d;
                    q += d * d;
                }
                group_c[f] = c;
                group_q[f] = q;
                continue;
            }
            for (R_xlen_t i = 0; i < run; i++, f += step) {
                double d = (p[i] - shift[f]) - group_sum[f];
                group_c[f] += d;
                group_q[f] += d * d;
            }
        }
        for (R_xlen_t t = 0; t < n_touched; t++) {
            R_xlen_t f = touched[t];
            double n = group_count[f], c = group_c[f];
            double q = group_q[f] - c * c / n;
            merge_moments(count + f, mean + f, m2 + f, n,
                          group_sum[f] + c / n, q < 0 ? 0 : q);
            group_sum[f] = group_count[f] = group_c[f] = group_q[f] = 0;
        }
    }
    return 0;
}

/* The first element of each feature. Moments are taken of y - shift, so
   that chunk means are small numbers whose rounding does not swamp the
   spread when the data sit far from zero. */
static void first_values(const double *y, const bn_layout *layout,
                         double *shift)
{
    R_xlen_t features = layout->features, run = layout->size[0];
    R_xlen_t step = layout->stride[0], found = 0;
    char *seen = R_alloc((size_t) features, 1);
    memset(seen, 0, (size_t) features);
    run_cursor cursor;
    cursor_start(&cursor, layout);
    for (; cursor.start < layout->total && found < features;
         cursor_next(&cursor, layout)) {
        R_xlen_t f = cursor.first_feature;
        R_xlen_t n = step == 0 ? 1 : run;
        for (R_xlen_t i = 0; i < n; i++, f += step) {
            if (!seen[f]) {
                seen[f] = 1;
                found++;
                shift[f] = R_FINITE(y[cursor.start + i]) ? y[cursor.start + i] : 0;
            }
        }
    }
}

/* Merges the moments of y - shift into the running (count, mean, m2) per
   feature. Returns 1 if y holds NA, NaN or Inf. */
static int moments_accumulate(const double *y, const bn_layout *layout,
                              const double *shift, double *count,
                              double *mean, double *m2)
{
    return layout->stride[0] == 0 && layout->size[0] >= CHUNK ?
        moments_long_runs(y, layout, shift, count, mean, m2) :
        moments_grouped(y, layout, shift, count, mean, m2);
}

/* Per-feature mean and biased variance over the reduction axes.
   Returns 1, with the outputs undefined, if y holds NA, NaN or Inf. */
static int moments_by_feature(const double *y, const bn_layout *layout,
                              double *mean, double *variance)
{
    R_xlen_t features = layout->features;
    double *count = (double *) R_alloc((size_t) features, sizeof(double));
    double *shift = (double *) R_alloc((size_t) features, sizeof(double));
    memset(count, 0, (size_t) features * sizeof(double));
    memset(mean, 0, (size_t) features * sizeof(double));
    memset(variance, 0, (size_t) features * sizeof(double));
    first_values(y, layout, shift);
    if (moments_accumulate(y, layout, shift, count, mean, variance))
        return 1;
    for (R_xlen_t f = 0; f < features; f++) {
        mean[f] += shift[f];
        variance[f] /= count[f];
    }
    return 0;
}

/* ---- the per-feature affine map ---------------------------------------- */

/* out = (in - center[f]) * factor[f] + offset[f] */
static void affine_by_feature(const double *in, double *out,
                              const bn_layout *layout, const double *center,
                              const double *factor, const double *offset)
{
    R_xlen_t run = layout->size[0], step = layout->stride[0];
    run_cursor cursor;
    cursor_start(&cursor, layout);
    for (; cursor.start < layout->total; cursor_next(&cursor, layout)) {
        const double *p = in + cursor.start;
        double *q = out + cursor.start;
        R_xlen_t f = cursor.first_feature;
        if (step == 0) {
            double a = center[f], k = factor[f], b = offset[f];
            for (R_xlen_t i = 0; i < run; i++)
                q[i] = (p[i] - a) * k + b;
        } else {
            const double *a = center + f, *k = factor + f, *b = offset + f;
            for (R_xlen_t i = 0; i < run; i++)
                q[i] = (p[i] - a[i]) * k[i] + b[i];
        }
    }
}

/* ---- backward kernels ---------------------------------------------------- */

/* Per feature, over the reduction axes: sum[f] = sum of grad, and
   weighted[f] = sum of grad * (in - center[f]). These are the only
   reductions a backward pass needs; the rest is per feature or elementwise. */
static void gradient_sums(const double *in, const double *grad,
                          const bn_layout *layout, const double *center,
                          double *sum, double *weighted)
{
    R_xlen_t features = layout->features, run = layout->size[0];
    R_xlen_t step = layout->stride[0];
    memset(sum, 0, (size_t) features * sizeof(double));
    memset(weighted, 0, (size_t) features * sizeof(double));
    run_cursor cursor;
    cursor_start(&cursor, layout);
    for (; cursor.start < layout->total; cursor_next(&cursor, layout)) {
        const double *p = in + cursor.start, *g = grad + cursor.start;
        R_xlen_t f = cursor.first_feature;
        if (step == 0) {
            double c = center[f], s0 = 0, s1 = 0, w0 = 0, w1 = 0;
            R_xlen_t i = 0;
            for (; i + 2 <= run; i += 2) {
                s0 += g[i];
                s1 += g[i + 1];
                w0 += g[i] * (p[i] - c);
                w1 += g[i + 1] * (p[i + 1] - c);
            }
            for (; i < run; i++) {
                s0 += g[i];
                w0 += g[i] * (p[i] - c);
            }
            sum[f] += s0 + s1;
            weighted[f] += w0 + w1;
        } else {
            for (R_xlen_t i = 0; i < run; i++, f += step) {
                sum[f] += g[i];
                weighted[f] += g[i] * (p[i] - center[f]);
            }
        }
    }
}

/* out = a[f] * grad + b[f] * (in - center[f]) + d[f] */
static void backward_by_feature(const double *in, const double *grad,
                                double *out, const bn_layout *layout,
                                const double *center, const double *a,
                                const double *b, const double *d)
{
    R_xlen_t run = layout->size[0], step = layout->stride[0];
    run_cursor cursor;
    cursor_start(&cursor, layout);
    for (; cursor.start < layout->total; cursor_next(&cursor, layout)) {
        const double *p = in + cursor.start, *g = grad + cursor.start;
        double *q = out + cursor.start;
        R_xlen_t f = cursor.first_feature;
        if (step == 0) {
            double af = a[f], bf = b[f], cf = center[f], df = d[f];
            for (R_xlen_t i = 0; i < run; i++)
                q[i] = af * g[i] + bf * (p[i] - cf) + df;
        } else {
            for (R_xlen_t i = 0; i < run; i++, f += step)
                q[i] = a[f] * g[i] + b[f] * (p[i] - center[f]) + d[f];
        }
    }
}

/* ---- the state and its external pointer -------------------------------- */

typedef struct {
    R_xlen_t features;
} bn_handle;

static SEXP handle_tag(void)
{
    return Rf_install("bijectors_batch_norm");
}

static void handle_finalize(SEXP pointer)
{
    bn_handle *handle = (bn_handle *) R_ExternalPtrAddr(pointer);
    if (handle == NULL)
        return;
    R_Free(handle);
    R_ClearExternalPtr(pointer);
}

SEXP C_bn_state_new(SEXP gamma, SEXP beta, SEXP moving_mean,
                    SEXP moving_variance)
{
    SEXP parts[N_STATE] = { gamma, beta, moving_mean, moving_variance };
    for (int k = 0; k < N_STATE; k++) {
        if (TYPEOF(parts[k]) != REALSXP)
            Rf_error("`%s` must be a double vector", state_names[k]);
        if (XLENGTH(parts[k]) != XLENGTH(gamma) || XLENGTH(gamma) < 1)
            Rf_error("`%s` must have the same positive length as `gamma`",
                     state_names[k]);
    }
    SEXP state = PROTECT(Rf_allocVector(VECSXP, N_STATE));
    SEXP names = PROTECT(Rf_allocVector(STRSXP, N_STATE));
    for (int k = 0; k < N_STATE; k++) {
        SET_VECTOR_ELT(state, k, copy_double_vector(parts[k]));
        SET_STRING_ELT(names, k, Rf_mkChar(state_names[k]));
    }
    Rf_setAttrib(state, R_NamesSymbol, names);
    UNPROTECT(2);
    return state;
}

static R_xlen_t check_state(SEXP state)
{
    if (TYPEOF(state) != VECSXP || XLENGTH(state) != N_STATE)
        Rf_error("the batch-normalization state must be a list of %d vectors",
                 N_STATE);
    R_xlen_t features = -1;
    for (int k = 0; k < N_STATE; k++) {
        SEXP part = VECTOR_ELT(state, k);
        if (TYPEOF(part) != REALSXP)
            Rf_error("the layer's `%s` must be a double vector", state_names[k]);
        if (features < 0)
            features = XLENGTH(part);
        if (XLENGTH(part) != features || features < 1)
            Rf_error("the layer's `%s` has length %lld, expected %lld",
                     state_names[k], (long long) XLENGTH(part),
                     (long long) features);
    }
    return features;
}

/* The pointer's protected slot holds the layer environment, which owns the
   state: C finds the state list there on each call, so a pointer never
   keeps a second reference to it (which would make it look shared), and a
   pointer copied into another environment (a cloned layer) is seen not to
   belong to it. */
static SEXP state_symbol(void)
{
    return Rf_install("state");
}

/* See bijectors.h. */
SEXP bn_layer_state(SEXP layer, R_xlen_t *features)
{
    if (TYPEOF(layer) != ENVSXP)
        Rf_error("internal error: a batch-normalization layer must be an "
                 "environment");
    SEXP state = Rf_findVarInFrame(layer, state_symbol());
    *features = check_state(state);
    return state;
}

SEXP C_bn_pointer_new(SEXP layer)
{
    if (TYPEOF(layer) != ENVSXP)
        Rf_error("internal error: `layer` must be an environment");
    R_xlen_t features = check_state(Rf_findVarInFrame(layer, state_symbol()));
    /* The pointer and its finalizer exist before the handle is allocated:
       an allocation error in either cannot leak the handle. */
    SEXP pointer = PROTECT(R_MakeExternalPtr(NULL, handle_tag(), layer));
    R_RegisterCFinalizerEx(pointer, handle_finalize, TRUE);
    bn_handle *handle = R_Calloc(1, bn_handle);
    handle->features = features;
    R_SetExternalPtrAddr(pointer, handle);
    UNPROTECT(1);
    return pointer;
}

/* TRUE when `pointer` is a live handle made for `layer` (not NULL after
   readRDS(), not copied over from another layer). */
static int pointer_is_current(SEXP pointer, SEXP layer)
{
    return TYPEOF(pointer) == EXTPTRSXP &&
        R_ExternalPtrTag(pointer) == handle_tag() &&
        R_ExternalPtrAddr(pointer) != NULL &&
        R_ExternalPtrProtected(pointer) == layer;
}

SEXP C_bn_pointer_current(SEXP pointer, SEXP layer)
{
    return Rf_ScalarLogical(pointer_is_current(pointer, layer));
}

/* The state behind a pointer, checked against the layout. With `writable`,
   the state list and the moving statistics are made private first (copied
   if anything else refers to them, or if ALTREP), so an in-place update
   never reaches a user's variable or another layer. */
static SEXP pointer_state(SEXP pointer, R_xlen_t features, int writable)
{
    if (TYPEOF(pointer) != EXTPTRSXP || R_ExternalPtrTag(pointer) != handle_tag())
        Rf_error("`pointer` is not a batch-normalization state pointer");
    bn_handle *handle = (bn_handle *) R_ExternalPtrAddr(pointer);
    if (handle == NULL)
        Rf_error("the batch-normalization state pointer is NULL (restored "
                 "from a file?); it is rebuilt from R before each call");
    SEXP layer = R_ExternalPtrProtected(pointer);
    if (TYPEOF(layer) != ENVSXP)
        Rf_error("internal error: the state pointer has no layer");
    SEXP state = Rf_findVarInFrame(layer, state_symbol());
    R_xlen_t have = check_state(state);
    if (have != handle->features || have != features)
        Rf_error("the input has %lld features but the layer was built for %lld",
                 (long long) features, (long long) have);
    if (writable) {
        state = owned_list_binding(layer, state_symbol());
        for (int k = MOVING_MEAN; k <= MOVING_VARIANCE; k++)
            owned_double_element(state, k);
    }
    return state;
}

/* sum(log(gamma)) - 0.5 * sum(log(variance + epsilon)) */
static double inverse_log_det(const double *gamma, const double *variance,
                              R_xlen_t features, double eps, int use_gamma)
{
    double log_gamma = 0, log_variance = 0;
    for (R_xlen_t f = 0; f < features; f++) {
        if (use_gamma)
            log_gamma += log(gamma[f]);
        log_variance += log(variance[f] + eps);
    }
    return log_gamma - 0.5 * log_variance;
}

/* ---- entry points ------------------------------------------------------ */

static SEXP double_vector(const double *values, R_xlen_t n)
{
    SEXP out = Rf_allocVector(REALSXP, n);
    if (n > 0)
        memcpy(REAL(out), values, (size_t) n * sizeof(double));
    return out;
}

/* With `with_log_det`, returns list(x, log_det, mean, variance): the log-det
   from the same batch variance, so that log_prob() takes one pass, and the
   batch statistics a backward pass differentiates through. */
static SEXP inverse_training(SEXP pointer, SEXP y, SEXP dims, SEXP axes,
                             double rho, double eps, int use_beta,
                             int use_gamma, int both)
{
    bn_layout layout;
    layout_from_dims(dims, axes, XLENGTH(y), &layout);
    R_xlen_t features = layout.features;
    if (features < 1 || layout.total / features < 1)
        Rf_error("a training batch must have at least one row");
    SEXP state = pointer_state(pointer, features, 1);

    double *mean = (double *) R_alloc((size_t) features, sizeof(double));
    double *variance = (double *) R_alloc((size_t) features, sizeof(double));
    if (moments_by_feature(REAL_RO(y), &layout, mean, variance))
        return Rf_ScalarInteger(BN_REFUSED_NONFINITE);
    /* Refusals come before anything is written, so R can report them with
       nothing changed. */
    double *new_mean = (double *) R_alloc((size_t) features, sizeof(double));
    double *new_variance = (double *) R_alloc((size_t) features,
                                              sizeof(double));
    const double *old_mean = REAL_RO(VECTOR_ELT(state, MOVING_MEAN));
    const double *old_variance = REAL_RO(VECTOR_ELT(state, MOVING_VARIANCE));
    for (R_xlen_t f = 0; f < features; f++) {
        new_mean[f] = rho * old_mean[f] + (1 - rho) * mean[f];
        new_variance[f] = rho * old_variance[f] + (1 - rho) * variance[f];
        if (!R_FINITE(mean[f]) || !R_FINITE(variance[f]) ||
            !R_FINITE(new_mean[f]) || !R_FINITE(new_variance[f]))
            return Rf_ScalarInteger(BN_REFUSED_OVERFLOW);
        if (variance[f] + eps == 0)
            return Rf_ScalarInteger(BN_REFUSED_ZERO_VARIANCE);
    }

    const double *gamma = REAL_RO(VECTOR_ELT(state, GAMMA));
    const double *beta = REAL_RO(VECTOR_ELT(state, BETA));
    double *factor = (double *) R_alloc((size_t) features, sizeof(double));
    double *offset = (double *) R_alloc((size_t) features, sizeof(double));
    for (R_xlen_t f = 0; f < features; f++) {
        factor[f] = (use_gamma ? gamma[f] : 1.0) / sqrt(variance[f] + eps);
        offset[f] = use_beta ? beta[f] : 0.0;
    }
    SEXP out = PROTECT(Rf_allocVector(REALSXP, XLENGTH(y)));
    copy_array_shape(out, y);
    affine_by_feature(REAL_RO(y), REAL(out), &layout, mean, factor, offset);

    /* Only now, with the output complete, do the running statistics move. */
    double *moving_mean = REAL(VECTOR_ELT(state, MOVING_MEAN));
    double *moving_variance = REAL(VECTOR_ELT(state, MOVING_VARIANCE));
    for (R_xlen_t f = 0; f < features; f++) {
        moving_mean[f] = new_mean[f];
        moving_variance[f] = new_variance[f];
    }
    if (!both) {
        UNPROTECT(1);
        return out;
    }
    SEXP result = PROTECT(Rf_allocVector(VECSXP, 4));
    SET_VECTOR_ELT(result, 0, out);
    SET_VECTOR_ELT(result, 1, Rf_ScalarReal(
        inverse_log_det(gamma, variance, features, eps, use_gamma)));
    SET_VECTOR_ELT(result, 2, double_vector(mean, features));
    SET_VECTOR_ELT(result, 3, double_vector(variance, features));
    UNPROTECT(2);
    return result;
}

SEXP C_bn_inverse_training(SEXP pointer, SEXP y, SEXP dims, SEXP axes,
                           SEXP momentum, SEXP epsilon, SEXP center, SEXP scale,
                           SEXP with_log_det)
{
    check_double_array(y, "y");
    double rho = scalar_double(momentum, "momentum");
    double eps = scalar_double(epsilon, "epsilon");
    int use_beta = scalar_logical(center, "center");
    int use_gamma = scalar_logical(scale, "scale");
    int both = scalar_logical(with_log_det, "with_log_det");
    if (!(rho >= 0 && rho <= 1))
        Rf_error("`momentum` must be in [0, 1]");
    if (!(eps >= 0))
        Rf_error("`epsilon` must be non-negative");
    return inverse_training(pointer, y, dims, axes, rho, eps, use_beta,
                            use_gamma, both);
}

/* A field of the layer environment, if it has the type and length asked. */
static SEXP layer_field(SEXP layer, const char *name, SEXPTYPE type,
                        R_xlen_t length)
{
    SEXP value = Rf_findVarInFrame(layer, Rf_install(name));
    if (TYPEOF(value) != type || XLENGTH(value) != length)
        return R_NilValue;
    return value;
}

/* The training inverse (no log-det) of the common case in one call, for
   small batches in loops: `y` a plain double matrix with at least one row
   whose columns are the features of the built layer (axis -1 or 2), the
   layer's pointer live. Returns NULL in every other case, and when the
   kernel refuses the batch (it refuses before writing anything), so that R
   takes the checked path, which builds, validates or reports. */
SEXP C_bn_inverse_training_quick(SEXP layer, SEXP y)
{
    if (TYPEOF(layer) != ENVSXP || TYPEOF(y) != REALSXP || OBJECT(y))
        return R_NilValue;
    SEXP dims = Rf_getAttrib(y, R_DimSymbol);
    if (TYPEOF(dims) != INTSXP || XLENGTH(dims) != 2 ||
        INTEGER_RO(dims)[0] < 1)
        return R_NilValue;
    SEXP axis = layer_field(layer, "axis", INTSXP, 1);
    SEXP shape = layer_field(layer, "feature_shape", INTSXP, 1);
    SEXP momentum = layer_field(layer, "momentum", REALSXP, 1);
    SEXP epsilon = layer_field(layer, "epsilon", REALSXP, 1);
    SEXP center = layer_field(layer, "center", LGLSXP, 1);
    SEXP scale = layer_field(layer, "scale", LGLSXP, 1);
    SEXP pointer = Rf_findVarInFrame(layer, Rf_install("pointer"));
    if (axis == R_NilValue || shape == R_NilValue || momentum == R_NilValue ||
        epsilon == R_NilValue || center == R_NilValue || scale == R_NilValue)
        return R_NilValue;
    int a = INTEGER_RO(axis)[0];
    if ((a != -1 && a != 2) || INTEGER_RO(shape)[0] != INTEGER_RO(dims)[1])
        return R_NilValue;
    if (!pointer_is_current(pointer, layer))
        return R_NilValue;
    double rho = REAL_RO(momentum)[0], eps = REAL_RO(epsilon)[0];
    int use_beta = LOGICAL_RO(center)[0], use_gamma = LOGICAL_RO(scale)[0];
    if (!(rho >= 0 && rho <= 1) || !(eps >= 0) || use_beta == NA_LOGICAL ||
        use_gamma == NA_LOGICAL)
        return R_NilValue;
    SEXP axes = PROTECT(Rf_ScalarInteger(2));
    SEXP out = inverse_training(pointer, y, dims, axes, rho, eps, use_beta,
                                use_gamma, 0);
    UNPROTECT(1);
    return TYPEOF(out) == REALSXP ? out : R_NilValue;
}

/* direction 1: forward (de-normalize); -1: inverse with the moving
   statistics (evaluation mode). */
SEXP C_bn_transform(SEXP pointer, SEXP x, SEXP dims, SEXP axes,
                    SEXP epsilon, SEXP center, SEXP scale, SEXP direction)
{
    check_double_array(x, "x");
    double eps = scalar_double(epsilon, "epsilon");
    int use_beta = scalar_logical(center, "center");
    int use_gamma = scalar_logical(scale, "scale");
    if (TYPEOF(direction) != INTSXP || XLENGTH(direction) != 1 ||
        (INTEGER(direction)[0] != 1 && INTEGER(direction)[0] != -1))
        Rf_error("internal error: `direction` must be 1L or -1L");
    int forward = INTEGER(direction)[0] == 1;
    bn_layout layout;
    layout_from_dims(dims, axes, XLENGTH(x), &layout);
    R_xlen_t features = layout.features;
    SEXP state = pointer_state(pointer, features, 0);
    const double *gamma = REAL_RO(VECTOR_ELT(state, GAMMA));
    const double *beta = REAL_RO(VECTOR_ELT(state, BETA));
    const double *moving_mean = REAL_RO(VECTOR_ELT(state, MOVING_MEAN));
    const double *moving_variance = REAL_RO(VECTOR_ELT(state, MOVING_VARIANCE));

    double *center_by = (double *) R_alloc((size_t) features, sizeof(double));
    double *factor = (double *) R_alloc((size_t) features, sizeof(double));
    double *offset = (double *) R_alloc((size_t) features, sizeof(double));
    for (R_xlen_t f = 0; f < features; f++) {
        double g = use_gamma ? gamma[f] : 1.0, b = use_beta ? beta[f] : 0.0;
        double sd = sqrt(moving_variance[f] + eps);
        if (forward) {
            center_by[f] = b;
            factor[f] = sd / g;
            offset[f] = moving_mean[f];
        } else {
            center_by[f] = moving_mean[f];
            factor[f] = g / sd;
            offset[f] = b;
        }
    }
    SEXP out = PROTECT(Rf_allocVector(REALSXP, XLENGTH(x)));
    copy_array_shape(out, x);
    affine_by_feature(REAL_RO(x), REAL(out), &layout, center_by, factor, offset);
    UNPROTECT(1);
    return out;
}

/* sum(log(gamma)) - 0.5 * sum(log(v + epsilon)), with v the batch variance
   of y, or the moving variance when y is NULL. */
SEXP C_bn_inverse_log_det(SEXP pointer, SEXP y, SEXP dims, SEXP axes,
                          SEXP epsilon, SEXP scale)
{
    double eps = scalar_double(epsilon, "epsilon");
    int use_gamma = scalar_logical(scale, "scale");
    SEXP state;
    const double *variance;
    R_xlen_t features;
    if (y == R_NilValue) {
        /* the tag first: another package's pointer is no bn_handle */
        if (TYPEOF(pointer) != EXTPTRSXP ||
            R_ExternalPtrTag(pointer) != handle_tag() ||
            R_ExternalPtrAddr(pointer) == NULL)
            Rf_error("`pointer` is not a live batch-normalization state pointer");
        features = ((bn_handle *) R_ExternalPtrAddr(pointer))->features;
        state = pointer_state(pointer, features, 0);
        variance = REAL_RO(VECTOR_ELT(state, MOVING_VARIANCE));
    } else {
        check_double_array(y, "y");
        bn_layout layout;
        layout_from_dims(dims, axes, XLENGTH(y), &layout);
        features = layout.features;
        if (features < 1 || layout.total / features < 1)
            Rf_error("the batch must have at least one row");
        state = pointer_state(pointer, features, 0);
        double *mean = (double *) R_alloc((size_t) features, sizeof(double));
        double *batch_variance = (double *) R_alloc((size_t) features,
                                                    sizeof(double));
        if (moments_by_feature(REAL_RO(y), &layout, mean, batch_variance))
            return Rf_ScalarReal(R_NaN);
        variance = batch_variance;
    }
    const double *gamma = REAL_RO(VECTOR_ELT(state, GAMMA));
    return Rf_ScalarReal(inverse_log_det(gamma, variance, features, eps,
                                         use_gamma));
}

/* ---- backward passes and moments ---------------------------------------- */

/* The per-feature vectors and settings shared by the two backward entries. */
typedef struct {
    bn_layout layout;
    R_xlen_t features;
    double eps, multiplier, grad_log_det;
    int use_beta, use_gamma;
    const double *gamma, *beta, *mean, *variance;
} bn_backward_args;

static void backward_args(SEXP pointer, SEXP input, SEXP grad, SEXP dims,
                          SEXP axes, SEXP mean, SEXP variance, SEXP settings,
                          SEXP flags, int nflags, bn_backward_args *args)
{
    check_double_array(input, "input");
    check_double_array(grad, "grad");
    if (XLENGTH(grad) != XLENGTH(input))
        Rf_error("the gradient has %lld values but the input has %lld",
                 (long long) XLENGTH(grad), (long long) XLENGTH(input));
    layout_from_dims(dims, axes, XLENGTH(input), &args->layout);
    R_xlen_t features = args->layout.features;
    if (features < 1)
        Rf_error("the input has no features");
    args->features = features;
    SEXP state = pointer_state(pointer, features, 0);
    if (TYPEOF(mean) != REALSXP || XLENGTH(mean) != features ||
        TYPEOF(variance) != REALSXP || XLENGTH(variance) != features)
        Rf_error("internal error: `mean` and `variance` must be double "
                 "vectors with one value per feature (%lld)",
                 (long long) features);
    if (TYPEOF(settings) != REALSXP || XLENGTH(settings) != 3)
        Rf_error("internal error: `settings` must be c(epsilon, multiplier, "
                 "grad_log_det)");
    if (TYPEOF(flags) != LGLSXP || XLENGTH(flags) != nflags)
        Rf_error("internal error: `flags` must be %d logical values", nflags);
    for (int k = 0; k < nflags; k++)
        if (LOGICAL_RO(flags)[k] == NA_LOGICAL)
            Rf_error("internal error: `flags` must not be NA");
    args->eps = REAL_RO(settings)[0];
    args->multiplier = REAL_RO(settings)[1];
    args->grad_log_det = REAL_RO(settings)[2];
    if (!(args->eps >= 0) || !R_FINITE(args->multiplier))
        Rf_error("internal error: invalid `epsilon` or multiplier");
    args->use_beta = LOGICAL_RO(flags)[0];
    args->use_gamma = LOGICAL_RO(flags)[1];
    args->gamma = REAL_RO(VECTOR_ELT(state, GAMMA));
    args->beta = REAL_RO(VECTOR_ELT(state, BETA));
    args->mean = REAL_RO(mean);
    args->variance = REAL_RO(variance);
}

/* list(input gradient, gamma gradient or NULL, beta gradient or NULL) */
static SEXP backward_result(SEXP input_gradient, const bn_backward_args *args,
                            const double *gamma_gradient,
                            const double *beta_gradient)
{
    SEXP result = PROTECT(Rf_allocVector(VECSXP, 3));
    SET_VECTOR_ELT(result, 0, input_gradient);
    if (args->use_gamma)
        SET_VECTOR_ELT(result, 1, double_vector(gamma_gradient, args->features));
    if (args->use_beta)
        SET_VECTOR_ELT(result, 2, double_vector(beta_gradient, args->features));
    UNPROTECT(1);
    return result;
}

/* C_bn_inverse_backward(pointer, y, grad_x, dims, axes, mean, variance,
   settings, flags): the backward pass of the inverse
   x = gamma * (y - m) / s + beta, s = sqrt(v + epsilon), with log-det
   multiplier * (sum(log(gamma)) - 0.5 * sum(log(v + epsilon))). mean and
   variance are the statistics the inverse used: the batch's (training,
   differentiated through) or the moving ones (evaluation, constants).
   settings = c(epsilon, multiplier, grad_log_det);
   flags = c(center, scale, training). */
SEXP C_bn_inverse_backward(SEXP pointer, SEXP y, SEXP grad_x, SEXP dims,
                           SEXP axes, SEXP mean, SEXP variance, SEXP settings,
                           SEXP flags)
{
    bn_backward_args args;
    backward_args(pointer, y, grad_x, dims, axes, mean, variance, settings,
                  flags, 3, &args);
    int training = LOGICAL_RO(flags)[2];
    R_xlen_t features = args.features;
    if (training && args.layout.total / features < 1)
        Rf_error("a training batch must have at least one row");
    double n = (double) (args.layout.total / features);
    double gld = args.grad_log_det, multiplier = args.multiplier;

    double *sum = (double *) R_alloc((size_t) features, sizeof(double));
    double *weighted = (double *) R_alloc((size_t) features, sizeof(double));
    gradient_sums(REAL_RO(y), REAL_RO(grad_x), &args.layout, args.mean, sum,
                  weighted);

    double *gamma_gradient = (double *) R_alloc((size_t) features, sizeof(double));
    double *a = (double *) R_alloc((size_t) features, sizeof(double));
    double *b = (double *) R_alloc((size_t) features, sizeof(double));
    double *d = (double *) R_alloc((size_t) features, sizeof(double));
    for (R_xlen_t f = 0; f < features; f++) {
        double g = args.use_gamma ? args.gamma[f] : 1.0;
        double s = sqrt(args.variance[f] + args.eps);
        double xhat_sum = weighted[f] / s;   /* sum of grad_x * xhat */
        gamma_gradient[f] = xhat_sum + gld * multiplier / g;
        a[f] = g / s;
        if (training) {
            /* through m and v, and the log-det's -0.5 * log(v + epsilon) */
            b[f] = -(g * xhat_sum + multiplier * gld) / (n * s * s);
            d[f] = -g * sum[f] / (n * s);
        } else {
            b[f] = 0;
            d[f] = 0;
        }
    }
    SEXP input_gradient = PROTECT(Rf_allocVector(REALSXP, XLENGTH(y)));
    copy_array_shape(input_gradient, y);
    backward_by_feature(REAL_RO(y), REAL_RO(grad_x), REAL(input_gradient),
                        &args.layout, args.mean, a, b, d);
    SEXP result = backward_result(input_gradient, &args, gamma_gradient, sum);
    UNPROTECT(1);
    return result;
}

/* C_bn_forward_backward(pointer, x, grad_y, dims, axes, mean, variance,
   settings, flags): the backward pass of the forward map
   y = (x - beta) / gamma * sd + mean, sd = sqrt(variance + epsilon), with
   log-det -multiplier * (sum(log(gamma)) - 0.5 * sum(log(variance +
   epsilon))); mean and variance are the moving statistics it used.
   settings = c(epsilon, multiplier, grad_log_det); flags = c(center, scale). */
SEXP C_bn_forward_backward(SEXP pointer, SEXP x, SEXP grad_y, SEXP dims,
                           SEXP axes, SEXP mean, SEXP variance, SEXP settings,
                           SEXP flags)
{
    bn_backward_args args;
    backward_args(pointer, x, grad_y, dims, axes, mean, variance, settings,
                  flags, 2, &args);
    R_xlen_t features = args.features;
    double gld = args.grad_log_det, multiplier = args.multiplier;

    double *center = (double *) R_alloc((size_t) features, sizeof(double));
    for (R_xlen_t f = 0; f < features; f++)
        center[f] = args.use_beta ? args.beta[f] : 0.0;
    double *sum = (double *) R_alloc((size_t) features, sizeof(double));
    double *weighted = (double *) R_alloc((size_t) features, sizeof(double));
    gradient_sums(REAL_RO(x), REAL_RO(grad_y), &args.layout, center, sum,
                  weighted);

    double *gamma_gradient = (double *) R_alloc((size_t) features, sizeof(double));
    double *beta_gradient = (double *) R_alloc((size_t) features, sizeof(double));
    double *a = (double *) R_alloc((size_t) features, sizeof(double));
    double *zero = (double *) R_alloc((size_t) features, sizeof(double));
    for (R_xlen_t f = 0; f < features; f++) {
        double g = args.use_gamma ? args.gamma[f] : 1.0;
        double sd = sqrt(args.variance[f] + args.eps);
        a[f] = sd / g;
        beta_gradient[f] = -sum[f] * sd / g;
        gamma_gradient[f] = -weighted[f] * sd / (g * g) - multiplier * gld / g;
        zero[f] = 0;
    }
    SEXP input_gradient = PROTECT(Rf_allocVector(REALSXP, XLENGTH(x)));
    copy_array_shape(input_gradient, x);
    backward_by_feature(REAL_RO(x), REAL_RO(grad_y), REAL(input_gradient),
                        &args.layout, center, a, zero, zero);
    SEXP result = backward_result(input_gradient, &args, gamma_gradient,
                                  beta_gradient);
    UNPROTECT(1);
    return result;
}

/* C_bn_moments_update(y, dims, axes, totals): the running moments of a data
   set that arrives in blocks. `totals` is NULL for the first block, or what
   the previous call returned: list(shift, count, mean, m2), per feature,
   of y - shift (shift: the first value of each feature in the first
   block). The block's moments are merged in (Chan et al.), in fresh
   vectors; the mean is shift + mean and the biased variance m2 / count.
   NULL if y holds NA, NaN or Inf. A single block gives exactly the moments
   the layer's training pass takes of a batch (moments_by_feature); the
   same blocks give the same bits however the data were read. */
SEXP C_bn_moments_update(SEXP y, SEXP dims, SEXP axes, SEXP totals)
{
    check_double_array(y, "y");
    bn_layout layout;
    layout_from_dims(dims, axes, XLENGTH(y), &layout);
    R_xlen_t features = layout.features;
    if (features < 1 || layout.total / features < 1)
        Rf_error("the batch must have at least one row");
    SEXP result = PROTECT(Rf_allocVector(VECSXP, 4));
    for (int k = 0; k < 4; k++)
        SET_VECTOR_ELT(result, k, Rf_allocVector(REALSXP, features));
    double *shift = REAL(VECTOR_ELT(result, 0));
    double *count = REAL(VECTOR_ELT(result, 1));
    double *mean = REAL(VECTOR_ELT(result, 2));
    double *m2 = REAL(VECTOR_ELT(result, 3));
    if (Rf_isNull(totals)) {
        first_values(REAL_RO(y), &layout, shift);
        memset(count, 0, (size_t) features * sizeof(double));
        memset(mean, 0, (size_t) features * sizeof(double));
        memset(m2, 0, (size_t) features * sizeof(double));
    } else {
        if (TYPEOF(totals) != VECSXP || XLENGTH(totals) != 4)
            Rf_error("internal error: `totals` must be a list of 4 vectors");
        double *to[4] = { shift, count, mean, m2 };
        for (int k = 0; k < 4; k++) {
            SEXP part = VECTOR_ELT(totals, k);
            if (TYPEOF(part) != REALSXP || XLENGTH(part) != features)
                Rf_error("internal error: the running moments have %lld "
                         "features, the block %lld",
                         (long long) XLENGTH(part), (long long) features);
            memcpy(to[k], REAL_RO(part), (size_t) features * sizeof(double));
        }
    }
    if (moments_accumulate(REAL_RO(y), &layout, shift, count, mean, m2)) {
        UNPROTECT(1);
        return R_NilValue;
    }
    SEXP names = PROTECT(Rf_allocVector(STRSXP, 4));
    const char *labels[4] = { "shift", "count", "mean", "m2" };
    for (int k = 0; k < 4; k++)
        SET_STRING_ELT(names, k, Rf_mkChar(labels[k]));
    Rf_setAttrib(result, R_NamesSymbol, names);
    UNPROTECT(2);
    return result;
}
