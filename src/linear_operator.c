/* The linear bijectors (tfb_scale_matvec_diag, _tri_l, _lu,
   _linear_operator and the deprecated kinds built on them): products and
   solves of a batch of events with a k x k operator, and the outer product
   their backward passes need. Events are the rows of an N x k column-major
   matrix, so every operation is a right multiplication of that matrix,
   which BLAS does in one call (dtrmm, dtrsm, dgemm).

   Operators (kind codes shared with R/linear_operator.R):
     diagonal: `values` holds the k diagonal entries;
     lower triangular: `values` is k x k, read on and below the diagonal;
     LU: `values` is TFP's lower_upper (unit-lower L strictly below the
       diagonal, U on and above it) and `permutation` is 1-based with
       W[permutation, ] = L U. */
#include <limits.h>
#include <math.h>
#include <string.h>
#include <R_ext/BLAS.h>
#include "bijectors.h"

#ifndef FCONE
#define FCONE
#endif

enum linear_kind { LINEAR_DIAGONAL = 0, LINEAR_LOWER = 1, LINEAR_LU = 2 };

/* out = in with out[, to[j]] = in[, from[j]] (1-based column indices):
   a permutation of columns, either as a gather or as a scatter. */
static void permute_columns(const double *in, double *out, R_xlen_t rows,
                            int k, const int *permutation, int scatter)
{
    for (int j = 0; j < k; j++) {
        R_xlen_t source = scatter ? j : permutation[j] - 1;
        R_xlen_t target = scatter ? permutation[j] - 1 : j;
        const double *from = in + source * rows;
        double *to = out + target * rows;
        for (R_xlen_t n = 0; n < rows; n++)
            to[n] = from[n];
    }
}

/* x (rows x k) := x op(T) or x op(T)^-1 for the triangle of `values`. */
static void triangular_right(double *x, R_xlen_t rows, int k,
                             const double *values, char uplo, char trans,
                             char unit, int solve)
{
    int m = (int) rows;
    double one = 1.0;
    char side = 'R';
    if (m == 0 || k == 0)
        return;
    if (solve)
        F77_CALL(dtrsm)(&side, &uplo, &trans, &unit, &m, &k, &one, values,
                        &k, x, &m FCONE FCONE FCONE FCONE);
    else
        F77_CALL(dtrmm)(&side, &uplo, &trans, &unit, &m, &k, &one, values,
                        &k, x, &m FCONE FCONE FCONE FCONE);
}

/* The kernel: out = x A^T (transpose = 0) or x A (transpose = 1), the rows
   of x being the events; with solve, A^-1 or A^-T instead. `out` may not
   alias `x`; `scratch` holds rows * k doubles (used by LU only). */
static void linear_apply(int kind, const double *values,
                         const int *permutation, const double *x, double *out,
                         double *scratch, R_xlen_t rows, int k, int transpose,
                         int solve)
{
    R_xlen_t size = rows * (R_xlen_t) k;
    switch (kind) {
    case LINEAR_DIAGONAL:
        for (int j = 0; j < k; j++) {
            const double *from = x + j * rows;
            double *to = out + j * rows;
            double d = values[j];
            if (solve)
                for (R_xlen_t n = 0; n < rows; n++)
                    to[n] = from[n] / d;
            else
                for (R_xlen_t n = 0; n < rows; n++)
                    to[n] = from[n] * d;
        }
        break;
    case LINEAR_LOWER:
        for (R_xlen_t i = 0; i < size; i++)
            out[i] = x[i];
        /* y = L x is, row-wise, y^T = x^T L^T */
        triangular_right(out, rows, k, values, 'L', transpose ? 'N' : 'T',
                         'N', solve);
        break;
    default: /* LINEAR_LU: W = P^T L U with W[perm, ] = L U */
        if (!transpose && !solve) {
            /* y[perm] = L (U x) */
            for (R_xlen_t i = 0; i < size; i++)
                scratch[i] = x[i];
            triangular_right(scratch, rows, k, values, 'U', 'T', 'N', 0);
            triangular_right(scratch, rows, k, values, 'L', 'T', 'U', 0);
            permute_columns(scratch, out, rows, k, permutation, 1);
        } else if (transpose && !solve) {
            /* y = U^T L^T x[perm] */
            permute_columns(x, out, rows, k, permutation, 0);
            triangular_right(out, rows, k, values, 'L', 'N', 'U', 0);
            triangular_right(out, rows, k, values, 'U', 'N', 'N', 0);
        } else if (!transpose) {
            /* L U x = y[perm] */
            permute_columns(x, out, rows, k, permutation, 0);
            triangular_right(out, rows, k, values, 'L', 'T', 'U', 1);
            triangular_right(out, rows, k, values, 'U', 'T', 'N', 1);
        } else {
            /* U^T L^T (x[perm]) = y */
            for (R_xlen_t i = 0; i < size; i++)
                scratch[i] = x[i];
            triangular_right(scratch, rows, k, values, 'U', 'N', 'N', 1);
            triangular_right(scratch, rows, k, values, 'L', 'N', 'U', 1);
            permute_columns(scratch, out, rows, k, permutation, 1);
        }
        break;
    }
}

static int scalar_int(SEXP x, const char *what)
{
    if (TYPEOF(x) != INTSXP || XLENGTH(x) != 1 || INTEGER(x)[0] == NA_INTEGER)
        Rf_error("`%s` must be one integer", what);
    return INTEGER(x)[0];
}

/* .Call entry: the rows of `x` (a double matrix of k columns, or a vector
   of k values) through the operator; `flags` = c(transpose, solve). The
   result has x's attributes. */
SEXP C_linear_apply(SEXP kind, SEXP values, SEXP permutation, SEXP x,
                    SEXP flags)
{
    int code = scalar_int(kind, "kind");
    if (code < LINEAR_DIAGONAL || code > LINEAR_LU)
        Rf_error("unknown linear operator kind %d", code);
    if (TYPEOF(values) != REALSXP)
        Rf_error("the operator's values must be a double vector");
    if (TYPEOF(x) != REALSXP)
        Rf_error("`x` must be a double vector or matrix");
    if (TYPEOF(flags) != INTSXP || XLENGTH(flags) != 2)
        Rf_error("`flags` must be two integers");
    R_xlen_t count = XLENGTH(values);
    int k;
    if (code == LINEAR_DIAGONAL) {
        if (count > INT_MAX)
            Rf_error("the operator is too large");
        k = (int) count;
    } else {
        double root = floor(sqrt((double) count) + 0.5);
        if (root * root != (double) count || root > 46340)
            Rf_error("the operator's values must form a square matrix");
        k = (int) root;
    }
    if (k == 0 || XLENGTH(x) % k != 0)
        Rf_error("the input's last axis must have %d values", k);
    R_xlen_t rows = XLENGTH(x) / k;
    if (rows > INT_MAX)
        Rf_error("too many events for one call (at most %d)", INT_MAX);
    const int *perm = NULL;
    if (code == LINEAR_LU) {
        if (TYPEOF(permutation) != INTSXP || XLENGTH(permutation) != k)
            Rf_error("`permutation` must be %d integers", k);
        perm = INTEGER(permutation);
        for (int j = 0; j < k; j++)
            if (perm[j] < 1 || perm[j] > k)
                Rf_error("`permutation` must hold indices in 1..%d", k);
    }
    SEXP out = PROTECT(Rf_allocVector(REALSXP, XLENGTH(x)));
    double *scratch = code == LINEAR_LU ?
        (double *) R_alloc((size_t) XLENGTH(x), sizeof(double)) : NULL;
    linear_apply(code, REAL(values), perm, REAL(x), REAL(out), scratch, rows,
                 k, INTEGER(flags)[0] != 0, INTEGER(flags)[1] != 0);
    DUPLICATE_ATTRIB(out, x);
    UNPROTECT(1);
    return out;
}

/* .Call entry: t(a) %*% b for two N x k matrices (as vectors of N * k
   values), the sum over events of the outer products a_n b_n^T, which is
   the gradient of the loss with respect to a dense operator. */
SEXP C_linear_outer(SEXP a, SEXP b, SEXP columns)
{
    int k = scalar_int(columns, "columns");
    if (TYPEOF(a) != REALSXP || TYPEOF(b) != REALSXP ||
        XLENGTH(a) != XLENGTH(b))
        Rf_error("`a` and `b` must be double vectors of one length");
    if (k < 1 || XLENGTH(a) % k != 0)
        Rf_error("the inputs must have %d columns", k);
    R_xlen_t rows = XLENGTH(a) / k;
    if (rows > INT_MAX)
        Rf_error("too many events for one call (at most %d)", INT_MAX);
    int m = (int) rows;
    SEXP out = PROTECT(Rf_allocMatrix(REALSXP, k, k));
    double *result = REAL(out);
    for (R_xlen_t i = 0; i < (R_xlen_t) k * k; i++)
        result[i] = 0.0;
    if (m > 0) {
        double one = 1.0, zero = 0.0;
        char trans_a = 'T', trans_b = 'N';
        F77_CALL(dgemm)(&trans_a, &trans_b, &k, &k, &m, &one, REAL(a), &m,
                        REAL(b), &m, &zero, result, &k FCONE FCONE);
    }
    UNPROTECT(1);
    return out;
}

/* The kernel: a (k x k, column-major) overwritten by its LU factors with
   partial pivoting, p (1-based) by the row order; 0 when a pivot is
   exactly zero or not finite (a singular matrix), 1 otherwise. */
static int lu_factor(double *a, int *p, int k)
{
    for (int i = 0; i < k; i++)
        p[i] = i + 1;
    for (int j = 0; j < k; j++) {
        int pivot = j;
        double largest = fabs(a[j + (R_xlen_t) j * k]);
        for (int i = j + 1; i < k; i++) {
            double v = fabs(a[i + (R_xlen_t) j * k]);
            if (v > largest) {
                largest = v;
                pivot = i;
            }
        }
        if (largest == 0.0 || !R_FINITE(largest))
            return 0;
        if (pivot != j) {
            for (int c = 0; c < k; c++) {
                double t = a[j + (R_xlen_t) c * k];
                a[j + (R_xlen_t) c * k] = a[pivot + (R_xlen_t) c * k];
                a[pivot + (R_xlen_t) c * k] = t;
            }
            int t = p[j];
            p[j] = p[pivot];
            p[pivot] = t;
        }
        double diagonal = a[j + (R_xlen_t) j * k];
        for (int i = j + 1; i < k; i++)
            a[i + (R_xlen_t) j * k] /= diagonal;
        /* the trailing update, column by column (contiguous) */
        const double *l = a + (R_xlen_t) j * k;
        for (int c = j + 1; c < k; c++) {
            double u = a[j + (R_xlen_t) c * k];
            if (u == 0.0)
                continue;
            double *column = a + (R_xlen_t) c * k;
            for (int i = j + 1; i < k; i++)
                column[i] -= l[i] * u;
        }
    }
    return 1;
}

/* .Call entry: the LU factorisation with partial pivoting of a square
   matrix, as list(lower_upper, permutation) with
   matrix[permutation, ] == L U (TFP's convention, 1-based); NULL when a
   pivot is exactly zero (the matrix is singular). */
SEXP C_linear_lu_factor(SEXP matrix)
{
    if (TYPEOF(matrix) != REALSXP)
        Rf_error("the matrix must be double");
    double root = floor(sqrt((double) XLENGTH(matrix)) + 0.5);
    if (root * root != (double) XLENGTH(matrix) || root < 1 || root > 46340)
        Rf_error("the matrix must be square");
    int k = (int) root;
    int nprot = 0;
    SEXP lu = PROTECT(Rf_allocMatrix(REALSXP, k, k));
    nprot++;
    SEXP perm = PROTECT(Rf_allocVector(INTSXP, k));
    nprot++;
    memcpy(REAL(lu), REAL(matrix), sizeof(double) * (size_t) k * (size_t) k);
    SEXP result = R_NilValue;
    if (lu_factor(REAL(lu), INTEGER(perm), k)) {
        result = PROTECT(Rf_allocVector(VECSXP, 2));
        nprot++;
        SET_VECTOR_ELT(result, 0, lu);
        SET_VECTOR_ELT(result, 1, perm);
    }
    UNPROTECT(nprot);
    return result;
}
