/* tfb_cholesky_outer_product(): Y = L L^T with L the lower triangle of X;
   the inverse is the lower Cholesky factor (reading Y's lower triangle).
   fldj = n log 2 + sum_j (n - j + 1) log L_jj (1-based j), through the
   free coordinates (the lower triangles of X and Y). */
#include "triangular.h"
#include "bijectors.h"

static void outer_product(const double *X, int n, double *Y)
{
    for (int j = 0; j < n; j++) {
        for (int i = j; i < n; i++) {
            double sum = 0.0;
            for (int k = 0; k <= j; k++) {
                sum += X[i + (R_xlen_t) n * k] * X[j + (R_xlen_t) n * k];
            }
            Y[i + (R_xlen_t) n * j] = sum;
            Y[j + (R_xlen_t) n * i] = sum;
        }
    }
}

static double outer_product_log_det(const double *X, int n)
{
    double sum = n * log(2.0);
    for (int j = 0; j < n; j++) {
        sum += (n - j) * log(X[j + (R_xlen_t) n * j]);
    }
    return sum;
}

/* operation 0: forward; 1: inverse (Cholesky); 2: fldj of each event. */
SEXP C_cholesky_outer_product(SEXP values, SEXP n_, SEXP operation_)
{
    int n = matrix_side(n_);
    R_xlen_t B = check_matrix_events(values, n, "values");
    int operation = matrix_operation(operation_, 2);
    const double *in = REAL(values);
    SEXP result = PROTECT(operation == 2 ? Rf_allocVector(REALSXP, B) :
                          Rf_allocMatrix(REALSXP, (int) B, n * n));
    double *out = REAL(result);
    double *event = (double *) R_alloc(2 * (size_t) n * n + 1, sizeof(double));
    double *mapped = event + (R_xlen_t) n * n;
    for (R_xlen_t b = 0; b < B; b++) {
        event_gather(in, B, b, n, event);
        if (operation == 2) {
            out[b] = outer_product_log_det(event, n);
            continue;
        }
        if (operation == 0) {
            outer_product(event, n, mapped);
        } else {
            lower_cholesky(event, n, mapped);
        }
        event_scatter(mapped, B, b, n, out);
    }
    UNPROTECT(1);
    return result;
}

/* Gradients with respect to the input of a pass. direction 0 (forward):
   `factor` is the pass's input L, `gradient` the gradient for Y; the
   result is the gradient for X (0 above the diagonal). direction 1
   (inverse): `factor` is the pass's output L = chol(Y), `gradient` the
   gradient for L; the result is the gradient for Y's lower triangle (0
   above, as the inverse reads only the lower triangle). grad_log_det holds
   one value per event for the pass's log-det (the fldj forward, the ildj
   = -fldj(L) inverse). */
SEXP C_cholesky_outer_product_backward(SEXP factor, SEXP gradient,
                                       SEXP grad_log_det, SEXP n_,
                                       SEXP direction_)
{
    int n = matrix_side(n_);
    R_xlen_t B = check_matrix_events(factor, n, "factor");
    if (check_matrix_events(gradient, n, "gradient") != B) {
        Rf_error("gradient must have one row per event");
    }
    if (TYPEOF(grad_log_det) != REALSXP || XLENGTH(grad_log_det) != B) {
        Rf_error("grad_log_det must be a double vector, one value per event");
    }
    if (TYPEOF(direction_) != INTSXP || XLENGTH(direction_) != 1) {
        Rf_error("direction must be one integer");
    }
    int direction = INTEGER(direction_)[0];
    const double *L_all = REAL(factor), *G_all = REAL(gradient);
    const double *g_ld = REAL(grad_log_det);
    SEXP result = PROTECT(Rf_allocMatrix(REALSXP, (int) B, n * n));
    double *out = REAL(result);
    R_xlen_t size = (R_xlen_t) n * n;
    double *L = (double *) R_alloc(6 * (size_t) size + 1, sizeof(double));
    double *G = L + size, *grad = L + 2 * size, *work = L + 3 * size;
    for (R_xlen_t b = 0; b < B; b++) {
        event_gather(L_all, B, b, n, L);
        event_gather(G_all, B, b, n, G);
        if (direction == 0) {
            /* dY = dL L^T + L dL^T: grad_L = (G + G^T) L on the lower
               triangle, plus the log-det's (n - j) / L_jj. */
            for (int j = 0; j < n; j++) {
                for (int i = 0; i < n; i++) {
                    double sum = 0.0;
                    if (i >= j) {
                        for (int k = j; k < n; k++) {
                            sum += (G[i + n * (R_xlen_t) k] +
                                    G[k + n * (R_xlen_t) i]) *
                                L[k + n * (R_xlen_t) j];
                        }
                    }
                    grad[i + n * (R_xlen_t) j] = sum;
                }
                grad[j + n * (R_xlen_t) j] += g_ld[b] * (n - j) /
                    L[j + n * (R_xlen_t) j];
            }
        } else {
            /* ildj = -fldj(L): its gradient joins G on the diagonal, then
               the Cholesky backward; Y's lower entry [i, j] stands for
               both [i, j] and [j, i]. */
            for (int j = 0; j < n; j++) {
                G[j + n * (R_xlen_t) j] -= g_ld[b] * (n - j) /
                    L[j + n * (R_xlen_t) j];
            }
            cholesky_backward(L, G, n, grad, work);
            for (int j = 0; j < n; j++) {
                for (int i = 0; i < j; i++) grad[i + n * (R_xlen_t) j] = 0.0;
                for (int i = j + 1; i < n; i++) {
                    grad[i + n * (R_xlen_t) j] *= 2.0;
                }
            }
        }
        event_scatter(grad, B, b, n, out);
    }
    UNPROTECT(1);
    return result;
}
