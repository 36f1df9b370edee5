/* tfb_softmax_centered(): R^(K-1) onto the open simplex in R^K,
   y = softmax(c(x, 0)). Events are rows of a column-major matrix (M rows),
   so element k of event m sits at m + k * M. The log-dets include TFP's
   embedding volume 0.5 * log(K) (TFP >= 0.8). */
#include "bijectors.h"
#include "scalar_math.h"

/* x: M x (K-1) -> y: M x K, and the forward log-det per event:
   0.5 log K + sum(x) - K * logsumexp(c(x, 0)) = 0.5 log K + sum(log y). */
static void softmax_centered_forward(const double *x, double *y,
                                     double *log_det, R_xlen_t rows,
                                     R_xlen_t size)
{
    R_xlen_t inputs = size - 1;
    double half_log_size = 0.5 * log((double) size);
    for (R_xlen_t m = 0; m < rows; m++) {
        double top = 0.0, total = 0.0, sum_x = 0.0;
        for (R_xlen_t k = 0; k < inputs; k++)
            if (x[m + k * rows] > top)
                top = x[m + k * rows];
        for (R_xlen_t k = 0; k < inputs; k++) {
            total += exp(x[m + k * rows] - top);
            sum_x += x[m + k * rows];
        }
        total += exp(-top);
        double normalizer = top + log(total);
        /* exp(x - top) / total, as a softmax is computed: exp(x - normalizer)
           loses the bits that top + log(total) rounds away (0.5 + 5.5e-14
           for c(800, 800); up to 89 ulps on [-60, 60]) */
        for (R_xlen_t k = 0; k < inputs; k++)
            y[m + k * rows] = exp(x[m + k * rows] - top) / total;
        y[m + inputs * rows] = exp(-top) / total;
        log_det[m] = half_log_size + sum_x - (double) size * normalizer;
    }
}

/* y: M x K -> x: M x (K-1), x_k = log y_k - log y_K, and the inverse
   log-det -0.5 log K - sum(log y). */
static void softmax_centered_inverse(const double *y, double *x,
                                     double *log_det, R_xlen_t rows,
                                     R_xlen_t size)
{
    R_xlen_t inputs = size - 1;
    double half_log_size = 0.5 * log((double) size);
    for (R_xlen_t m = 0; m < rows; m++) {
        double log_last = log(y[m + inputs * rows]);
        double sum_log = log_last;
        for (R_xlen_t k = 0; k < inputs; k++) {
            double log_y = log(y[m + k * rows]);
            x[m + k * rows] = log_y - log_last;
            sum_log += log_y;
        }
        log_det[m] = -half_log_size - sum_log;
    }
}

/* The VJP of the forward map at y = forward(x): dy_j/dx_k =
   y_j (delta_jk - y_k), and d fldj / dx_k = 1 - K y_k. */
static void softmax_centered_forward_vjp(const double *y, const double *grad_y,
                                         const double *grad_log_det,
                                         double *grad_x, R_xlen_t rows,
                                         R_xlen_t size)
{
    R_xlen_t inputs = size - 1;
    for (R_xlen_t m = 0; m < rows; m++) {
        double weighted = 0.0;
        for (R_xlen_t j = 0; j < size; j++)
            weighted += grad_y[m + j * rows] * y[m + j * rows];
        for (R_xlen_t k = 0; k < inputs; k++) {
            double yk = y[m + k * rows];
            grad_x[m + k * rows] = yk * (grad_y[m + k * rows] - weighted) +
                grad_log_det[m] * (1.0 - (double) size * yk);
        }
    }
}

/* The VJP of the inverse map at y: dx_k/dy_j = delta_jk / y_k -
   delta_jK / y_K, and d ildj / dy_j = -1 / y_j. */
static void softmax_centered_inverse_vjp(const double *y, const double *grad_x,
                                         const double *grad_log_det,
                                         double *grad_y, R_xlen_t rows,
                                         R_xlen_t size)
{
    R_xlen_t inputs = size - 1;
    for (R_xlen_t m = 0; m < rows; m++) {
        double total = 0.0;
        for (R_xlen_t k = 0; k < inputs; k++) {
            double yk = y[m + k * rows];
            total += grad_x[m + k * rows];
            grad_y[m + k * rows] = (grad_x[m + k * rows] - grad_log_det[m]) / yk;
        }
        grad_y[m + inputs * rows] = (-total - grad_log_det[m]) /
            y[m + inputs * rows];
    }
}

/* Checks an M x (K - 1) or M x K matrix given as a double vector with its
   row count and event size K >= 1. */
static void simplex_check(SEXP values, SEXP rows, SEXP size, R_xlen_t columns,
                          const char *what)
{
    check_double_array(values, what);
    if (TYPEOF(rows) != REALSXP || XLENGTH(rows) != 1 || !(REAL(rows)[0] >= 0))
        Rf_error("`rows` must be a single non-negative double");
    if (TYPEOF(size) != REALSXP || XLENGTH(size) != 1 || !(REAL(size)[0] >= 1))
        Rf_error("`size` must be a single double >= 1");
    if ((double) XLENGTH(values) != REAL(rows)[0] * (double) columns)
        Rf_error("`%s` must have %.0f x %.0f values, not %.0f", what,
                 REAL(rows)[0], (double) columns, (double) XLENGTH(values));
}

/* direction 0: x -> list(y, log_det); 1: y -> list(x, log_det). */
SEXP C_softmax_centered_map(SEXP input, SEXP rows, SEXP size, SEXP direction)
{
    int forward = scalar_logical(direction, "forward");
    R_xlen_t m = (R_xlen_t) scalar_double(rows, "rows");
    R_xlen_t k = (R_xlen_t) scalar_double(size, "size");
    simplex_check(input, rows, size, forward ? k - 1 : k, "input");
    SEXP output = PROTECT(Rf_allocVector(REALSXP, m * (forward ? k : k - 1)));
    SEXP log_det = PROTECT(Rf_allocVector(REALSXP, m));
    if (forward)
        softmax_centered_forward(REAL_RO(input), REAL(output), REAL(log_det),
                                 m, k);
    else
        softmax_centered_inverse(REAL_RO(input), REAL(output), REAL(log_det),
                                 m, k);
    SEXP result = PROTECT(Rf_allocVector(VECSXP, 2));
    SET_VECTOR_ELT(result, 0, output);
    SET_VECTOR_ELT(result, 1, log_det);
    UNPROTECT(3);
    return result;
}

/* forward TRUE: the forward map's VJP at its output y (M x K) for grad_y
   (M x K), giving M x (K-1); FALSE: the inverse map's at its input y for
   grad_x (M x (K-1)), giving M x K. grad_log_det: one value per row. */
SEXP C_softmax_centered_backward(SEXP y, SEXP grad, SEXP grad_log_det,
                                 SEXP rows, SEXP size, SEXP direction)
{
    int forward = scalar_logical(direction, "forward");
    R_xlen_t m = (R_xlen_t) scalar_double(rows, "rows");
    R_xlen_t k = (R_xlen_t) scalar_double(size, "size");
    simplex_check(y, rows, size, k, "y");
    simplex_check(grad, rows, size, forward ? k : k - 1, "grad");
    check_double_array(grad_log_det, "grad_log_det");
    if (XLENGTH(grad_log_det) != m)
        Rf_error("`grad_log_det` must have one value per row");
    SEXP out = PROTECT(Rf_allocVector(REALSXP, m * (forward ? k - 1 : k)));
    if (forward)
        softmax_centered_forward_vjp(REAL_RO(y), REAL_RO(grad),
                                     REAL_RO(grad_log_det), REAL(out), m, k);
    else
        softmax_centered_inverse_vjp(REAL_RO(y), REAL_RO(grad),
                                     REAL_RO(grad_log_det), REAL(out), m, k);
    UNPROTECT(1);
    return out;
}
