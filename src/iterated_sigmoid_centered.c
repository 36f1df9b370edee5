/* tfb_iterated_sigmoid_centered(): Stan's stick-breaking map from R^(K-1)
   onto the open simplex in R^K. z_k = sigmoid(x_k - log(K - k)) (1-based
   k), y_k = z_k * prod_{i<k} (1 - z_i), y_K the stick left, with
   1 - z_i = sigmoid(-t_i) so that a stick nearly used up keeps its
   relative accuracy; the log-det in logs. Events
   are rows of a column-major matrix (M rows): element k of event m sits at
   m + k * M. The log-dets are with respect to the free coordinates, no
   0.5 log K (TFP's). */
#include "bijectors.h"
#include "scalar_math.h"

/* The centring offset of 0-based coordinate k of K - 1: log(K - 1 - k). */
static inline double stick_offset(R_xlen_t inputs, R_xlen_t k)
{
    return log((double) (inputs - k));
}

/* x: M x (K-1) -> y: M x K and the forward log-det sum(log y). */
static void stick_forward(const double *x, double *y, double *log_det,
                          R_xlen_t rows, R_xlen_t size)
{
    R_xlen_t inputs = size - 1;
    for (R_xlen_t m = 0; m < rows; m++) {
        /* y as a product of sigmoid(t) and sigmoid(-t) = 1 - z, each exact
           to an ulp with no cancellation, so a stick nearly used up keeps
           its relative accuracy; exp() of the summed logs lost |log y| ulps
           (87 ulps on [-30, 30]). The log-det is the sum of the logs. */
        double left = 1.0, log_left = 0.0, total = 0.0;
        for (R_xlen_t k = 0; k < inputs; k++) {
            double t = x[m + k * rows] - stick_offset(inputs, k);
            y[m + k * rows] = stable_sigmoid(t) * left;
            total += log_left - stable_softplus(-t);
            left *= stable_sigmoid(-t);
            log_left -= stable_softplus(t);
        }
        y[m + inputs * rows] = left;
        log_det[m] = total + log_left;
    }
}

/* y: M x K -> x: M x (K-1), x_k = log y_k - log(sum_{i>k} y_i) +
   log(K - k), the sums taken from the end; the inverse log-det
   -sum(log y). */
static void stick_inverse(const double *y, double *x, double *log_det,
                          R_xlen_t rows, R_xlen_t size)
{
    R_xlen_t inputs = size - 1;
    for (R_xlen_t m = 0; m < rows; m++) {
        double tail = y[m + inputs * rows];
        double sum_log = log(tail);
        for (R_xlen_t k = inputs - 1; k >= 0; k--) {
            double log_y = log(y[m + k * rows]);
            x[m + k * rows] = log_y - log(tail) + stick_offset(inputs, k);
            sum_log += log_y;
            tail += y[m + k * rows];
        }
        log_det[m] = -sum_log;
    }
}

/* The VJP of the forward map at x (with y = forward(x)):
   d log y_j / dx_k is 1 - z_k for j = k, -z_k for j > k, so
   dL/dx_k = g_k y_k (1 - z_k) - z_k sum_{j>k} g_j y_j, and the log-det's
   derivative is 1 - (K - k + 1) z_k (1-based k). */
static void stick_forward_vjp(const double *x, const double *y,
                              const double *grad_y,
                              const double *grad_log_det, double *grad_x,
                              R_xlen_t rows, R_xlen_t size)
{
    R_xlen_t inputs = size - 1;
    for (R_xlen_t m = 0; m < rows; m++) {
        double later = grad_y[m + inputs * rows] * y[m + inputs * rows];
        for (R_xlen_t k = inputs - 1; k >= 0; k--) {
            double t = x[m + k * rows] - stick_offset(inputs, k);
            double z = stable_sigmoid(t), one_minus_z = stable_sigmoid(-t);
            double own = grad_y[m + k * rows] * y[m + k * rows];
            grad_x[m + k * rows] = own * one_minus_z - z * later +
                grad_log_det[m] * (1.0 - (double) (size - k) * z);
            later += own;
        }
    }
}

/* The VJP of the inverse map at y: dx_k/dy_j = delta_jk / y_k -
   [j > k] / T_k with T_k = sum_{i>k} y_i, and d ildj / dy_j = -1 / y_j.
   `tails`: scratch for the T_k of one event. */
static void stick_inverse_vjp(const double *y, const double *grad_x,
                              const double *grad_log_det, double *grad_y,
                              double *tails, R_xlen_t rows, R_xlen_t size)
{
    R_xlen_t inputs = size - 1;
    for (R_xlen_t m = 0; m < rows; m++) {
        double tail = y[m + inputs * rows];
        for (R_xlen_t k = inputs - 1; k >= 0; k--) {
            tails[k] = tail;
            tail += y[m + k * rows];
        }
        double earlier = 0.0;  /* sum_{k<j} grad_x_k / T_k */
        for (R_xlen_t j = 0; j < size; j++) {
            double own = j < inputs ? grad_x[m + j * rows] : 0.0;
            grad_y[m + j * rows] = (own - grad_log_det[m]) / y[m + j * rows] -
                earlier;
            if (j < inputs)
                earlier += own / tails[j];
        }
    }
}

static void stick_check(SEXP values, R_xlen_t rows, R_xlen_t columns,
                        const char *what)
{
    check_double_array(values, what);
    if ((double) XLENGTH(values) != (double) rows * (double) columns)
        Rf_error("`%s` must have %.0f x %.0f values, not %.0f", what,
                 (double) rows, (double) columns, (double) XLENGTH(values));
}

/* forward TRUE: x (M x (K-1)) -> list(y, log_det); FALSE: y (M x K) ->
   list(x, log_det). */
SEXP C_iterated_sigmoid_centered_map(SEXP input, SEXP rows, SEXP size,
                                     SEXP direction)
{
    int forward = scalar_logical(direction, "forward");
    double rows_value = scalar_double(rows, "rows");
    double size_value = scalar_double(size, "size");
    if (rows_value < 0 || size_value < 1)
        Rf_error("`rows` must be >= 0 and `size` >= 1");
    R_xlen_t m = (R_xlen_t) rows_value, k = (R_xlen_t) size_value;
    stick_check(input, m, forward ? k - 1 : k, "input");
    SEXP output = PROTECT(Rf_allocVector(REALSXP, m * (forward ? k : k - 1)));
    SEXP log_det = PROTECT(Rf_allocVector(REALSXP, m));
    if (forward)
        stick_forward(REAL_RO(input), REAL(output), REAL(log_det), m, k);
    else
        stick_inverse(REAL_RO(input), REAL(output), REAL(log_det), m, k);
    SEXP result = PROTECT(Rf_allocVector(VECSXP, 2));
    SET_VECTOR_ELT(result, 0, output);
    SET_VECTOR_ELT(result, 1, log_det);
    UNPROTECT(3);
    return result;
}

/* forward TRUE: the forward map's VJP at x (M x (K-1)) with y its output,
   for grad (M x K); FALSE: the inverse map's VJP at y (x unused) for grad
   (M x (K-1)). grad_log_det: one value per row. */
SEXP C_iterated_sigmoid_centered_backward(SEXP x, SEXP y, SEXP grad,
                                          SEXP grad_log_det, SEXP rows,
                                          SEXP size, SEXP direction)
{
    int forward = scalar_logical(direction, "forward");
    double rows_value = scalar_double(rows, "rows");
    double size_value = scalar_double(size, "size");
    if (rows_value < 0 || size_value < 1)
        Rf_error("`rows` must be >= 0 and `size` >= 1");
    R_xlen_t m = (R_xlen_t) rows_value, k = (R_xlen_t) size_value;
    stick_check(y, m, k, "y");
    stick_check(grad, m, forward ? k : k - 1, "grad");
    stick_check(grad_log_det, m, 1, "grad_log_det");
    if (forward)
        stick_check(x, m, k - 1, "x");
    SEXP out = PROTECT(Rf_allocVector(REALSXP, m * (forward ? k - 1 : k)));
    if (forward) {
        stick_forward_vjp(REAL_RO(x), REAL_RO(y), REAL_RO(grad),
                          REAL_RO(grad_log_det), REAL(out), m, k);
    } else {
        double *tails = (double *) R_alloc(k, sizeof(double));
        stick_inverse_vjp(REAL_RO(y), REAL_RO(grad), REAL_RO(grad_log_det),
                          REAL(out), tails, m, k);
    }
    UNPROTECT(1);
    return out;
}
