/* tfb_matrix_inverse_tri_l(): Y = X^{-1} for lower-triangular X (its lower
   triangle is read); an involution. fldj = -(n + 1) sum_j log|X_jj|, the
   log-det through the n(n+1)/2 free coordinates (TFP >= 0.7). */
#include "triangular.h"
#include "bijectors.h"

/* operation 0: the map; 1: the log-det of each event. */
SEXP C_matrix_inverse_tri_l(SEXP values, SEXP n_, SEXP operation_)
{
    int n = matrix_side(n_);
    R_xlen_t B = check_matrix_events(values, n, "values");
    int operation = matrix_operation(operation_, 1);
    const double *in = REAL(values);
    SEXP result = PROTECT(operation == 1 ? Rf_allocVector(REALSXP, B) :
                          Rf_allocMatrix(REALSXP, (int) B, n * n));
    double *out = REAL(result);
    double *event = (double *) R_alloc(2 * (size_t) n * n + 1, sizeof(double));
    double *mapped = event + (R_xlen_t) n * n;
    for (R_xlen_t b = 0; b < B; b++) {
        event_gather(in, B, b, n, event);
        if (operation == 1) {
            double sum = 0.0;
            for (int j = 0; j < n; j++) {
                sum += log(fabs(event[j + (R_xlen_t) n * j]));
            }
            out[b] = -(n + 1.0) * sum;
            continue;
        }
        lower_inverse(event, n, mapped);
        event_scatter(mapped, B, b, n, out);
    }
    UNPROTECT(1);
    return result;
}

/* The same for both directions: `input` and `output` of the pass (Y =
   X^{-1}), `gradient` for the output; dY = -Y dX Y gives the gradient
   -tril(Y^T tril(G) Y^T) for X, plus the log-det's -(n + 1) / X_jj. */
SEXP C_matrix_inverse_tri_l_backward(SEXP input, SEXP output, SEXP gradient,
                                     SEXP grad_log_det, SEXP n_)
{
    int n = matrix_side(n_);
    R_xlen_t B = check_backward_events(input, output, gradient, grad_log_det,
                                       n);
    const double *X_all = REAL(input), *Y_all = REAL(output);
    const double *G_all = REAL(gradient), *g_ld = REAL(grad_log_det);
    SEXP result = PROTECT(Rf_allocMatrix(REALSXP, (int) B, n * n));
    double *out = REAL(result);
    R_xlen_t size = (R_xlen_t) n * n;
    double *X = (double *) R_alloc(5 * (size_t) size + 1, sizeof(double));
    double *Y = X + size, *G = X + 2 * size, *YtG = X + 3 * size,
        *grad = X + 4 * size;
    for (R_xlen_t b = 0; b < B; b++) {
        event_gather(X_all, B, b, n, X);
        event_gather(Y_all, B, b, n, Y);
        event_gather(G_all, B, b, n, G);
        /* Y's upper triangle is a constant 0: its gradient plays no part */
        for (int j = 0; j < n; j++) {
            for (int i = 0; i < j; i++) G[i + n * (R_xlen_t) j] = 0.0;
        }
        lower_inverse_backward(Y, G, n, YtG, grad);
        for (int j = 0; j < n; j++) {
            grad[j + n * (R_xlen_t) j] -= g_ld[b] * (n + 1.0) /
                X[j + n * (R_xlen_t) j];
        }
        event_scatter(grad, B, b, n, out);
    }
    UNPROTECT(1);
    return result;
}
