/* tfb_cholesky_to_inv_cholesky(): Y = chol((X X^T)^{-1}) for a Cholesky
   factor X (its lower triangle is read), computed as Z = X^{-1} and
   Y = chol(Z^T Z); an involution. fldj = sum_j j (log Y_jj - log X_jj)
   (1-based j): TFP's difference of two Cholesky-outer-product log-dets,
   simplified. */
#include "triangular.h"
#include "bijectors.h"

static void inverse_cholesky(const double *X, int n, double *Z, double *M,
                             double *Y)
{
    lower_inverse(X, n, Z);
    matrix_product(Z, 1, Z, 0, n, M);
    lower_cholesky(M, n, Y);
}

/* operation 0: the map; 1: the log-det of each event. */
SEXP C_cholesky_to_inv_cholesky(SEXP values, SEXP n_, SEXP operation_)
{
    int n = matrix_side(n_);
    R_xlen_t B = check_matrix_events(values, n, "values");
    int operation = matrix_operation(operation_, 1);
    const double *in = REAL(values);
    SEXP result = PROTECT(operation == 1 ? Rf_allocVector(REALSXP, B) :
                          Rf_allocMatrix(REALSXP, (int) B, n * n));
    double *out = REAL(result);
    R_xlen_t size = (R_xlen_t) n * n;
    double *X = (double *) R_alloc(4 * (size_t) size + 1, sizeof(double));
    double *Z = X + size, *M = X + 2 * size, *Y = X + 3 * size;
    for (R_xlen_t b = 0; b < B; b++) {
        event_gather(in, B, b, n, X);
        inverse_cholesky(X, n, Z, M, Y);
        if (operation == 1) {
            double sum = 0.0;
            for (int j = 0; j < n; j++) {
                sum += (j + 1.0) * (log(Y[j + n * (R_xlen_t) j]) -
                                    log(X[j + n * (R_xlen_t) j]));
            }
            out[b] = sum;
            continue;
        }
        event_scatter(Y, B, b, n, out);
    }
    UNPROTECT(1);
    return result;
}

/* The same for both directions: `input` X and `output` Y of the pass,
   `gradient` for Y. Backward through Y = chol(M), M = Z^T Z, Z = X^{-1}:
   grad_M from the Cholesky backward (with the log-det's j / Y_jj on G's
   diagonal), grad_Z = tril(2 Z grad_M), grad_X = -tril(Z^T grad_Z Z^T), and the
   log-det's -j / X_jj on the diagonal. */
SEXP C_cholesky_to_inv_cholesky_backward(SEXP input, SEXP output,
                                         SEXP gradient, SEXP grad_log_det,
                                         SEXP n_)
{
    int n = matrix_side(n_);
    R_xlen_t B = check_backward_events(input, output, gradient, grad_log_det,
                                       n);
    const double *X_all = REAL(input), *Y_all = REAL(output);
    const double *G_all = REAL(gradient), *g_ld = REAL(grad_log_det);
    SEXP result = PROTECT(Rf_allocMatrix(REALSXP, (int) B, n * n));
    double *out = REAL(result);
    R_xlen_t size = (R_xlen_t) n * n;
    double *X = (double *) R_alloc(10 * (size_t) size + 1, sizeof(double));
    double *Y = X + size, *G = X + 2 * size, *Z = X + 3 * size,
        *grad_M = X + 4 * size, *grad_Z = X + 5 * size, *scratch = X + 6 * size,
        *work = X + 7 * size;
    for (R_xlen_t b = 0; b < B; b++) {
        event_gather(X_all, B, b, n, X);
        event_gather(Y_all, B, b, n, Y);
        event_gather(G_all, B, b, n, G);
        lower_inverse(X, n, Z);
        for (int j = 0; j < n; j++) {
            G[j + n * (R_xlen_t) j] += g_ld[b] * (j + 1.0) /
                Y[j + n * (R_xlen_t) j];
        }
        cholesky_backward(Y, G, n, grad_M, work);
        matrix_product(Z, 0, grad_M, 0, n, grad_Z);
        /* Z is lower triangular: only its lower triangle varies */
        for (int j = 0; j < n; j++) {
            for (int i = 0; i < n; i++) {
                grad_Z[i + n * (R_xlen_t) j] = i >= j ?
                    2.0 * grad_Z[i + n * (R_xlen_t) j] : 0.0;
            }
        }
        lower_inverse_backward(Z, grad_Z, n, scratch, grad_M);
        for (int j = 0; j < n; j++) {
            grad_M[j + n * (R_xlen_t) j] -= g_ld[b] * (j + 1.0) /
                X[j + n * (R_xlen_t) j];
        }
        event_scatter(grad_M, B, b, n, out);
    }
    UNPROTECT(1);
    return result;
}
