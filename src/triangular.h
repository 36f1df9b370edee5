/* Small dense kernels on one n x n event, shared by the Cholesky kinds
   (cholesky_outer_product.c, matrix_inverse_tri_l.c,
   cholesky_to_inv_cholesky.c). Events are column-major n x n arrays
   (entry [i, j] at i + n * j); a batch of B events is R's B x n^2 matrix,
   so entry [i, j] of event b sits at b + B * (i + n * j). None of these
   touch a SEXP. */
#ifndef BIJECTORS_TRIANGULAR_H
#define BIJECTORS_TRIANGULAR_H

#define R_NO_REMAP
#include <R.h>
#include <Rinternals.h>
#include <math.h>

static inline void event_gather(const double *batch, R_xlen_t B, R_xlen_t b,
                                int n, double *event)
{
    R_xlen_t size = (R_xlen_t) n * n;
    for (R_xlen_t k = 0; k < size; k++) event[k] = batch[b + B * k];
}

static inline void event_scatter(const double *event, R_xlen_t B, R_xlen_t b,
                                 int n, double *batch)
{
    R_xlen_t size = (R_xlen_t) n * n;
    for (R_xlen_t k = 0; k < size; k++) batch[b + B * k] = event[k];
}

/* Z = L^{-1} for the lower triangle of L (the rest of L is not read), by
   forward substitution, column by column; Z's upper triangle is 0. */
static inline void lower_inverse(const double *L, int n, double *Z)
{
    for (int j = 0; j < n; j++) {
        for (int i = 0; i < j; i++) Z[i + (R_xlen_t) n * j] = 0.0;
        Z[j + (R_xlen_t) n * j] = 1.0 / L[j + (R_xlen_t) n * j];
        for (int i = j + 1; i < n; i++) {
            double sum = 0.0;
            for (int k = j; k < i; k++) {
                sum += L[i + (R_xlen_t) n * k] * Z[k + (R_xlen_t) n * j];
            }
            Z[i + (R_xlen_t) n * j] = -sum / L[i + (R_xlen_t) n * i];
        }
    }
}

/* The lower Cholesky factor of the symmetric matrix whose lower triangle is
   that of A (the upper triangle is not read), as TensorFlow's cholesky. A
   pivot that is not positive makes the rest of the factor NaN. */
static inline void lower_cholesky(const double *A, int n, double *L)
{
    int failed = 0;
    for (int j = 0; j < n; j++) {
        for (int i = 0; i < j; i++) L[i + (R_xlen_t) n * j] = 0.0;
        double pivot = A[j + (R_xlen_t) n * j];
        for (int k = 0; k < j; k++) {
            pivot -= L[j + (R_xlen_t) n * k] * L[j + (R_xlen_t) n * k];
        }
        if (failed || !(pivot > 0.0)) {
            failed = 1;
            for (int i = j; i < n; i++) L[i + (R_xlen_t) n * j] = R_NaN;
            continue;
        }
        double diagonal = sqrt(pivot);
        L[j + (R_xlen_t) n * j] = diagonal;
        for (int i = j + 1; i < n; i++) {
            double sum = A[i + (R_xlen_t) n * j];
            for (int k = 0; k < j; k++) {
                sum -= L[i + (R_xlen_t) n * k] * L[j + (R_xlen_t) n * k];
            }
            L[i + (R_xlen_t) n * j] = sum / diagonal;
        }
    }
}

/* C = op(A) op(B) for n x n matrices, op the transpose when the flag is
   set. */
static inline void matrix_product(const double *A, int transpose_a,
                                  const double *B, int transpose_b, int n,
                                  double *C)
{
    for (int j = 0; j < n; j++) {
        for (int i = 0; i < n; i++) {
            double sum = 0.0;
            for (int k = 0; k < n; k++) {
                double a = transpose_a ? A[k + (R_xlen_t) n * i] :
                    A[i + (R_xlen_t) n * k];
                double b = transpose_b ? B[j + (R_xlen_t) n * k] :
                    B[k + (R_xlen_t) n * j];
                sum += a * b;
            }
            C[i + (R_xlen_t) n * j] = sum;
        }
    }
}

/* The gradient of X through W = X^{-1} (X lower triangular), given the
   gradient G of W: dW = -W dX W, so grad_X = -tril(W^T G W^T). `scratch`
   holds n^2 doubles; G is read whole (callers zero what plays no part). */
static inline void lower_inverse_backward(const double *W, const double *G,
                                          int n, double *scratch,
                                          double *grad)
{
    matrix_product(W, 1, G, 0, n, scratch);
    matrix_product(scratch, 0, W, 1, n, grad);
    for (int j = 0; j < n; j++) {
        for (int i = 0; i < n; i++) {
            grad[i + n * (R_xlen_t) j] = i >= j ?
                -grad[i + n * (R_xlen_t) j] : 0.0;
        }
    }
}

/* The gradient of L = chol(A) with respect to a symmetric A, given G the
   gradient with respect to L (its lower triangle): the symmetric part of
   L^{-T} Phi(L^T tril(G)) L^{-1}, Phi taking the lower triangle with half
   the diagonal (Murray 2016, "Differentiation of the Cholesky
   decomposition"). `work` holds 3 n^2 doubles. */
static inline void cholesky_backward(const double *L, const double *G, int n,
                                     double *grad_A, double *work)
{
    R_xlen_t size = (R_xlen_t) n * n;
    double *lower_G = work, *Phi = work + size, *Linv = work + 2 * size;
    for (int j = 0; j < n; j++) {
        for (int i = 0; i < n; i++) {
            lower_G[i + (R_xlen_t) n * j] = i >= j ? G[i + (R_xlen_t) n * j]
                : 0.0;
        }
    }
    matrix_product(L, 1, lower_G, 0, n, Phi);
    for (int j = 0; j < n; j++) {
        for (int i = 0; i < j; i++) Phi[i + (R_xlen_t) n * j] = 0.0;
        Phi[j + (R_xlen_t) n * j] *= 0.5;
    }
    lower_inverse(L, n, Linv);
    /* grad_A = Linv^T Phi Linv, through lower_G as scratch */
    matrix_product(Linv, 1, Phi, 0, n, lower_G);
    matrix_product(lower_G, 0, Linv, 0, n, grad_A);
    for (int j = 0; j < n; j++) {
        for (int i = j + 1; i < n; i++) {
            double mean = 0.5 * (grad_A[i + (R_xlen_t) n * j] +
                                 grad_A[j + (R_xlen_t) n * i]);
            grad_A[i + (R_xlen_t) n * j] = mean;
            grad_A[j + (R_xlen_t) n * i] = mean;
        }
    }
}

/* The checks every entry of these kinds makes: a double matrix of B rows
   and n^2 columns. */
static inline R_xlen_t check_matrix_events(SEXP values, int n,
                                           const char *what)
{
    if (TYPEOF(values) != REALSXP || !Rf_isMatrix(values)) {
        Rf_error("%s must be a double matrix of events", what);
    }
    if (n < 0 || Rf_ncols(values) != n * n) {
        Rf_error("%s must have n^2 = %d columns, not %d", what, n * n,
                 Rf_ncols(values));
    }
    return Rf_nrows(values);
}

static inline int matrix_side(SEXP n)
{
    if (TYPEOF(n) != INTSXP || XLENGTH(n) != 1 || INTEGER(n)[0] < 0 ||
        INTEGER(n)[0] == NA_INTEGER) {
        Rf_error("n must be one integer >= 0");
    }
    return INTEGER(n)[0];
}

/* The operation code of a matrix kernel: one integer in [0, last]. */
static inline int matrix_operation(SEXP operation, int last)
{
    if (TYPEOF(operation) != INTSXP || XLENGTH(operation) != 1) {
        Rf_error("operation must be one integer");
    }
    int code = INTEGER(operation)[0];
    if (code < 0 || code > last) Rf_error("unknown operation");
    return code;
}

/* The arrays of an involution's backward pass: input, output and gradient
   with one row of n^2 values per event, one log-det gradient per event.
   Returns the number of events. */
static inline R_xlen_t check_backward_events(SEXP input, SEXP output,
                                             SEXP gradient,
                                             SEXP grad_log_det, int n)
{
    R_xlen_t B = check_matrix_events(input, n, "input");
    if (check_matrix_events(output, n, "output") != B ||
        check_matrix_events(gradient, n, "gradient") != B) {
        Rf_error("output and gradient must have one row per event");
    }
    if (TYPEOF(grad_log_det) != REALSXP || XLENGTH(grad_log_det) != B) {
        Rf_error("grad_log_det must be a double vector, one value per event");
    }
    return B;
}

#endif
