/* The affine step shared by masked autoregressive flows and Real NVP: some
   columns of an n x D input are shifted and scaled by parameters that a
   network computed, one shift and one log-scale per transformed column:

     forward  y[, j] = x[, j] * exp(log_scale) + shift,   log-det  sum(log_scale)
     inverse  x[, j] = (y[, j] - shift) * exp(-log_scale), log-det -sum(log_scale)

   The log-scale is clipped to [clip_min, clip_max] first (MADE's default
   template clips; others pass -Inf, Inf). The other columns are copied. */

#include <math.h>
#include <string.h>
#include "bijectors.h"

static double clip_value(double v, double lo, double hi)
{
    /* NaN fails both tests and passes through, as in clip_by_value */
    return v < lo ? lo : (v > hi ? hi : v);
}

/* out: n x d copy of `in` with the transformed columns replaced.
   columns[k], shift_column[k], log_scale_column[k] are 0-based; a NULL
   shift_column means no shift, a NULL log_scale_column no scaling. */
static void affine_columns(const double *in, R_xlen_t n, R_xlen_t d,
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
        if (direction > 0) {
            for (R_xlen_t i = 0; i < n; i++) {
                double v = x[i];
                if (log_scale) {
                    double s = clip_value(log_scale[i], clip_min, clip_max);
                    v *= exp(s);
                    log_det[i] += s;
                }
                y[i] = shift ? v + shift[i] : v;
            }
        } else {
            for (R_xlen_t i = 0; i < n; i++) {
                double v = shift ? x[i] - shift[i] : x[i];
                if (log_scale) {
                    double s = clip_value(log_scale[i], clip_min, clip_max);
                    v *= exp(-s);
                    log_det[i] -= s;
                }
                y[i] = v;
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
    int nprot = 0;
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
    if (TYPEOF(direction) != INTSXP || XLENGTH(direction) != 1 ||
        (INTEGER(direction)[0] != 1 && INTEGER(direction)[0] != -1))
        Rf_error("`direction` must be 1L or -1L");
    if (TYPEOF(columns) != INTSXP)
        Rf_error("`columns` must be an integer vector");
    R_xlen_t n_columns = XLENGTH(columns);

    SEXP out = PROTECT(Rf_allocVector(REALSXP, length));
    nprot++;
    copy_array_shape(out, input);
    SEXP log_det = PROTECT(Rf_allocVector(REALSXP, n));
    nprot++;
    if (n > 0 && n_columns > 0) {
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
        const int *shift = zero_based_columns(shift_columns, n_columns,
                                              n_params, "shift_columns");
        const int *log_scale = zero_based_columns(
            log_scale_columns, n_columns, n_params, "log_scale_columns");
        affine_columns(REAL_RO(input), n, d, REAL_RO(params), n_columns,
                       column, shift, log_scale, REAL(clip)[0], REAL(clip)[1],
                       INTEGER(direction)[0], REAL(out), REAL(log_det));
    } else {
        if (length > 0)
            memcpy(REAL(out), REAL_RO(input), (size_t) length * sizeof(double));
        for (R_xlen_t i = 0; i < n; i++)
            REAL(log_det)[i] = 0;
    }

    SEXP result = PROTECT(Rf_allocVector(VECSXP, 2));
    nprot++;
    SEXP names = PROTECT(Rf_allocVector(STRSXP, 2));
    nprot++;
    SET_VECTOR_ELT(result, 0, out);
    SET_VECTOR_ELT(result, 1, log_det);
    SET_STRING_ELT(names, 0, Rf_mkChar("output"));
    SET_STRING_ELT(names, 1, Rf_mkChar("log_det"));
    Rf_setAttrib(result, R_NamesSymbol, names);
    UNPROTECT(nprot);
    return result;
}
