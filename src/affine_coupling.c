/* The affine step shared by masked autoregressive flows and Real NVP: some
   columns of an n x D input are shifted and scaled by parameters that a
   network computed, one shift and one log-scale per transformed column:

     forward  y[, j] = x[, j] * exp(log_scale) + shift,   log-det  sum(log_scale)
     inverse  x[, j] = (y[, j] - shift) * exp(-log_scale), log-det -sum(log_scale)

   The log-scale is clipped to [clip_min, clip_max] first (MADE's default
   template clips; others pass -Inf, Inf). The other columns are copied.

   affine_columns_backward() is the reverse pass of either direction: from
   dLoss/d(output) and dLoss/d(log-det of each row) it gives dLoss/d(input)
   through the affine map alone (the network's share is added by
   mlp_backward()) and dLoss/d(network output). */

#include <math.h>
#include <string.h>
#include "affine_coupling.h"
#include "vector_math.h"

/* Rows are taken in blocks, so that exp() runs over a block at once
   (vector_math.h). */
#define AFFINE_BLOCK 256

static double clip_value(double v, double lo, double hi)
{
    /* NaN fails both tests and passes through, as in clip_by_value */
    return v < lo ? lo : (v > hi ? hi : v);
}

/* For rows i0 .. i0 + m - 1 of a log-scale column: the clipped log-scales
   and exp(sign * s). */
static void scales_of_block(const double *raw, R_xlen_t i0, int m,
                            double clip_min, double clip_max, double sign,
                            double *s, double *scale)
{
    for (int i = 0; i < m; i++) {
        s[i] = clip_value(raw[i0 + i], clip_min, clip_max);
        scale[i] = sign * s[i];
    }
    bj_exp_array(scale, scale, m);
}

/* See affine_coupling.h. */
void affine_columns(const double *in, R_xlen_t n, R_xlen_t d,
                           const double *params, R_xlen_t n_columns,
                           const int *columns, const int *shift_column,
                           const int *log_scale_column, double clip_min,
                           double clip_max, int direction, double *out,
                           double *log_det)
{
    if (n * d > 0)
        memcpy(out, in, (size_t) (n * d) * sizeof(double));
    for (R_xlen_t i = 0; i < n; i++)
        log_det[i] = 0;
    for (R_xlen_t k = 0; k < n_columns; k++) {
        const double *x = in + (R_xlen_t) columns[k] * n;
        double *y = out + (R_xlen_t) columns[k] * n;
        const double *shift = shift_column ?
            params + (R_xlen_t) shift_column[k] * n : NULL;
        const double *log_scale = log_scale_column ?
            params + (R_xlen_t) log_scale_column[k] * n : NULL;
        if (!log_scale) {
            for (R_xlen_t i = 0; i < n; i++)
                y[i] = !shift ? x[i] : direction > 0 ? x[i] + shift[i] :
                    x[i] - shift[i];
            continue;
        }
        double s[AFFINE_BLOCK], scale[AFFINE_BLOCK];
        for (R_xlen_t i0 = 0; i0 < n; i0 += AFFINE_BLOCK) {
            int m = (int) (n - i0 < AFFINE_BLOCK ? n - i0 : AFFINE_BLOCK);
            scales_of_block(log_scale, i0, m, clip_min, clip_max,
                            direction > 0 ? 1.0 : -1.0, s, scale);
            if (direction > 0) {
                for (int i = 0; i < m; i++) {
                    double v = x[i0 + i] * scale[i];
                    log_det[i0 + i] += s[i];
                    y[i0 + i] = shift ? v + shift[i0 + i] : v;
                }
            } else {
                for (int i = 0; i < m; i++) {
                    double v = shift ? x[i0 + i] - shift[i0 + i] : x[i0 + i];
                    y[i0 + i] = v * scale[i];
                    log_det[i0 + i] -= s[i];
                }
            }
        }
    }
}

/* 1-based column numbers from R, checked against `limit`, as 0-based. */
static const int *zero_based_columns(SEXP columns, R_xlen_t expected,
                                     R_xlen_t limit, const char *what)
{
    if (TYPEOF(columns) != INTSXP)
        Rf_error("`%s` must be an integer vector", what);
    if (XLENGTH(columns) == 0)
        return NULL;
    if (XLENGTH(columns) != expected)
        Rf_error("`%s` must have length %lld (or 0), not %lld", what,
                 (long long) expected, (long long) XLENGTH(columns));
    const int *p = INTEGER_RO(columns);
    int *out = (int *) R_alloc((size_t) expected, sizeof(int));
    for (R_xlen_t k = 0; k < expected; k++) {
        if (p[k] == NA_INTEGER || p[k] < 1 || p[k] > limit)
            Rf_error("`%s` has a column number outside 1..%lld", what,
                     (long long) limit);
        out[k] = p[k] - 1;
    }
    return out;
}

/* See affine_coupling.h. The reverse pass of affine_columns() with the same
   arguments plus grad_out (n x d, dLoss/d(out)), grad_log_det (n,
   dLoss/d(log_det)),
   clip_gradient (0: the gradient passes the clip unchanged, TFP's default
   clip_by_value_preserve_gradient; 1: it is 0 where the clip is active, as
   tf.clip_by_value). Writes grad_in (n x d) and grad_params (n x n_params;
   columns the step does not read get 0). */
void affine_columns_backward(const double *in, R_xlen_t n, R_xlen_t d,
                             const double *params, R_xlen_t n_params,
                             R_xlen_t n_columns, const int *columns,
                             const int *shift_column,
                             const int *log_scale_column,
                             double clip_min, double clip_max,
                             int clip_gradient, int direction,
                             const double *grad_out,
                             const double *grad_log_det,
                             double *grad_in, double *grad_params)
{
    if (n * d > 0)
        memcpy(grad_in, grad_out, (size_t) (n * d) * sizeof(double));
    for (R_xlen_t i = 0; i < n * n_params; i++)
        grad_params[i] = 0;
    for (R_xlen_t k = 0; k < n_columns; k++) {
        const double *x = in + (R_xlen_t) columns[k] * n;
        const double *g = grad_out + (R_xlen_t) columns[k] * n;
        double *gx = grad_in + (R_xlen_t) columns[k] * n;
        const double *shift = shift_column ?
            params + (R_xlen_t) shift_column[k] * n : NULL;
        double *g_shift = shift_column ?
            grad_params + (R_xlen_t) shift_column[k] * n : NULL;
        const double *raw = log_scale_column ?
            params + (R_xlen_t) log_scale_column[k] * n : NULL;
        double *g_log_scale = log_scale_column ?
            grad_params + (R_xlen_t) log_scale_column[k] * n : NULL;
        double sign = direction > 0 ? 1.0 : -1.0;
        double s_block[AFFINE_BLOCK], scale_block[AFFINE_BLOCK];
        for (R_xlen_t i = 0; i < n; i++) {
            double scale = 1.0, g_ls = 0.0;
            if (raw) {
                if (i % AFFINE_BLOCK == 0)
                    scales_of_block(raw, i, (int) (n - i < AFFINE_BLOCK ?
                                                   n - i : AFFINE_BLOCK),
                                    clip_min, clip_max, sign, s_block,
                                    scale_block);
                scale = scale_block[i % AFFINE_BLOCK];
                /* forward: y = x e^s + shift, log-det +s:
                     dL/ds = g x e^s + gld;
                   inverse: x = (y - shift) e^-s, log-det -s:
                     dL/ds = -g x_out - gld */
                if (direction > 0) {
                    g_ls = g[i] * x[i] * scale + grad_log_det[i];
                } else {
                    double centred = shift ? x[i] - shift[i] : x[i];
                    g_ls = -g[i] * centred * scale - grad_log_det[i];
                }
                if (clip_gradient && (raw[i] < clip_min || raw[i] > clip_max))
                    g_ls = 0.0;
                g_log_scale[i] += g_ls;
            }
            gx[i] = g[i] * scale;
            if (g_shift)
                g_shift[i] += direction > 0 ? g[i] : -g[i] * scale;
        }
    }
}

/* See affine_coupling.h: the shapes, and the columns as 0-based. */
affine_layout check_affine_layout(SEXP input, SEXP params, SEXP columns,
                                  SEXP shift_columns, SEXP log_scale_columns,
                                  SEXP clip)
{
    affine_layout layout;
    if (TYPEOF(input) != REALSXP)
        Rf_error("`input` must be a double vector or array, not of type %s",
                 Rf_type2char(TYPEOF(input)));
    if (TYPEOF(params) != REALSXP)
        Rf_error("`params` must be a double matrix, not of type %s",
                 Rf_type2char(TYPEOF(params)));
    SEXP dim = Rf_getAttrib(params, R_DimSymbol);
    if (TYPEOF(dim) != INTSXP || XLENGTH(dim) != 2)
        Rf_error("`params` must be a matrix");
    R_xlen_t n = INTEGER(dim)[0], n_params = INTEGER(dim)[1];
    R_xlen_t length = XLENGTH(input);
    if (n == 0 ? length != 0 : length % n != 0)
        Rf_error("`input` (%lld values) does not have %lld rows",
                 (long long) length, (long long) n);
    R_xlen_t d = n == 0 ? 0 : length / n;
    if (TYPEOF(clip) != REALSXP || XLENGTH(clip) != 2 || ISNAN(REAL(clip)[0]) ||
        ISNAN(REAL(clip)[1]) || REAL(clip)[0] > REAL(clip)[1])
        Rf_error("`clip` must be c(min, max) with min <= max");
    if (TYPEOF(columns) != INTSXP)
        Rf_error("`columns` must be an integer vector");
    layout.n = n;
    layout.d = d;
    layout.n_params = n_params;
    layout.n_columns = XLENGTH(columns);
    layout.clip_min = REAL(clip)[0];
    layout.clip_max = REAL(clip)[1];
    layout.direction = 1;
    layout.columns = layout.shift = layout.log_scale = NULL;
    if (n > 0 && layout.n_columns > 0) {
        R_xlen_t n_columns = layout.n_columns;
        const int *column = zero_based_columns(columns, n_columns, d, "columns");
        /* a repeated column would be transformed twice from its input */
        char *seen = (char *) R_alloc((size_t) d, 1);
        for (R_xlen_t j = 0; j < d; j++)
            seen[j] = 0;
        for (R_xlen_t k = 0; k < n_columns; k++) {
            if (seen[column[k]])
                Rf_error("`columns` must not repeat a column");
            seen[column[k]] = 1;
        }
        layout.columns = column;
        layout.shift = zero_based_columns(shift_columns, n_columns, n_params,
                                          "shift_columns");
        layout.log_scale = zero_based_columns(
            log_scale_columns, n_columns, n_params, "log_scale_columns");
    } else {
        layout.n_columns = 0;
    }
    return layout;
}

/* What both entries check: the layout and the direction. */
static affine_layout check_affine_arguments(SEXP input, SEXP params,
                                            SEXP columns, SEXP shift_columns,
                                            SEXP log_scale_columns, SEXP clip,
                                            SEXP direction)
{
    if (TYPEOF(direction) != INTSXP || XLENGTH(direction) != 1 ||
        (INTEGER(direction)[0] != 1 && INTEGER(direction)[0] != -1))
        Rf_error("`direction` must be 1L or -1L");
    affine_layout layout = check_affine_layout(input, params, columns,
                                               shift_columns,
                                               log_scale_columns, clip);
    layout.direction = INTEGER(direction)[0];
    return layout;
}

static SEXP named_pair(SEXP first, SEXP second, const char *first_name,
                       const char *second_name)
{
    SEXP result = PROTECT(Rf_allocVector(VECSXP, 2));
    SEXP names = PROTECT(Rf_allocVector(STRSXP, 2));
    SET_VECTOR_ELT(result, 0, first);
    SET_VECTOR_ELT(result, 1, second);
    SET_STRING_ELT(names, 0, Rf_mkChar(first_name));
    SET_STRING_ELT(names, 1, Rf_mkChar(second_name));
    Rf_setAttrib(result, R_NamesSymbol, names);
    UNPROTECT(2);
    return result;
}

/* C_affine_transform(input, params, columns, shift_columns,
   log_scale_columns, clip, direction): `input` is a double vector or array
   seen as nrow(params) rows; `params` the network output (a double matrix);
   `columns` the 1-based columns of `input` to transform (no repeats);
   `shift_columns`, `log_scale_columns` the 1-based columns of `params`
   (integer(0) for none); clip = c(min, max); direction 1 (forward) or -1
   (inverse). Returns list(output with the input's dim/dimnames, log_det: one
   value per row). */
SEXP C_affine_transform(SEXP input, SEXP params, SEXP columns,
                        SEXP shift_columns, SEXP log_scale_columns, SEXP clip,
                        SEXP direction)
{
    affine_layout layout = check_affine_arguments(
        input, params, columns, shift_columns, log_scale_columns, clip,
        direction);
    R_xlen_t n = layout.n, length = XLENGTH(input);
    SEXP out = PROTECT(Rf_allocVector(REALSXP, length));
    copy_array_shape(out, input);
    SEXP log_det = PROTECT(Rf_allocVector(REALSXP, n));
    if (layout.n_columns > 0) {
        affine_columns(REAL_RO(input), n, layout.d, REAL_RO(params),
                       layout.n_columns, layout.columns, layout.shift,
                       layout.log_scale, layout.clip_min, layout.clip_max,
                       layout.direction, REAL(out), REAL(log_det));
    } else {
        if (length > 0)
            memcpy(REAL(out), REAL_RO(input), (size_t) length * sizeof(double));
        for (R_xlen_t i = 0; i < n; i++)
            REAL(log_det)[i] = 0;
    }
    SEXP result = named_pair(out, log_det, "output", "log_det");
    UNPROTECT(2);
    return result;
}

/* C_affine_backward(input, params, columns, shift_columns,
   log_scale_columns, clip, direction, grad_output, grad_log_det,
   clip_gradient): the reverse pass of C_affine_transform() with the same
   first seven arguments. grad_output is dLoss/d(output) (like `input`),
   grad_log_det dLoss/d(log_det) (one value per row), clip_gradient TRUE to
   zero the log-scale gradient where the clip is active (FALSE passes it
   through, TFP's default). Returns list(input = dLoss/d(input) through the
   affine map alone, with the input's dim; params = dLoss/d(params), a matrix
   like params). */
SEXP C_affine_backward(SEXP input, SEXP params, SEXP columns,
                       SEXP shift_columns, SEXP log_scale_columns, SEXP clip,
                       SEXP direction, SEXP grad_output, SEXP grad_log_det,
                       SEXP clip_gradient)
{
    affine_layout layout = check_affine_arguments(
        input, params, columns, shift_columns, log_scale_columns, clip,
        direction);
    int clip_grad = scalar_logical(clip_gradient, "clip_gradient");
    R_xlen_t n = layout.n, length = XLENGTH(input);
    if (TYPEOF(grad_output) != REALSXP || XLENGTH(grad_output) != length)
        Rf_error("`grad_output` must be a double vector of the input's "
                 "length (%lld)", (long long) length);
    if (TYPEOF(grad_log_det) != REALSXP || XLENGTH(grad_log_det) != n)
        Rf_error("`grad_log_det` must be a double vector with one value per "
                 "row (%lld)", (long long) n);
    SEXP grad_in = PROTECT(Rf_allocVector(REALSXP, length));
    copy_array_shape(grad_in, input);
    SEXP grad_params = PROTECT(Rf_allocMatrix(REALSXP, (int) n,
                                              (int) layout.n_params));
    affine_columns_backward(REAL_RO(input), n, layout.d, REAL_RO(params),
                            layout.n_params, layout.n_columns, layout.columns,
                            layout.shift, layout.log_scale, layout.clip_min,
                            layout.clip_max, clip_grad, layout.direction,
                            REAL_RO(grad_output), REAL_RO(grad_log_det),
                            REAL(grad_in), REAL(grad_params));
    SEXP result = named_pair(grad_in, grad_params, "input", "params");
    UNPROTECT(2);
    return result;
}
