/* Multilayer perceptrons for the networks of the flows (MADE, Real NVP):
   dense layers as one BLAS dgemm each, then the bias and the activation in
   one pass over the layer's output. Masked kernels arrive already multiplied
   by their mask, so a masked layer is an ordinary dense layer here.

   The kernel mlp_forward() works on plain pointers and can keep every hidden
   layer's output (after the activation): a backward pass needs exactly those,
   since each activation's derivative can be written with its output. */

#define USE_FC_LEN_T
#include <limits.h>
#include <math.h>
#include "bijectors.h"
#include <R_ext/BLAS.h>
#ifndef FCONE
#define FCONE
#endif

/* Activation codes, shared with R/network.R (network_activations). */
enum {
    ACTIVATION_LINEAR = 0,
    ACTIVATION_RELU = 1,
    ACTIVATION_TANH = 2,
    ACTIVATION_SIGMOID = 3,
    ACTIVATION_ELU = 4,
    ACTIVATION_SOFTPLUS = 5,
    N_ACTIVATIONS = 6
};

/* ---- kernels ------------------------------------------------------------ */

/* out[, j] = activation(out[, j] + bias[j]) for an n x units matrix. */
static void add_bias_and_activate(double *out, R_xlen_t n, R_xlen_t units,
                                  const double *bias, int activation)
{
    for (R_xlen_t j = 0; j < units; j++) {
        double *column = out + j * n;
        double b = bias[j];
        switch (activation) {
        case ACTIVATION_RELU:
            for (R_xlen_t i = 0; i < n; i++) {
                double v = column[i] + b;
                column[i] = v > 0 ? v : (ISNAN(v) ? v : 0.0);
            }
            break;
        case ACTIVATION_TANH:
            for (R_xlen_t i = 0; i < n; i++)
                column[i] = tanh(column[i] + b);
            break;
        case ACTIVATION_SIGMOID:
            for (R_xlen_t i = 0; i < n; i++) {
                double v = column[i] + b;
                /* exp() of a non-positive number only: no overflow */
                if (v >= 0) {
                    column[i] = 1.0 / (1.0 + exp(-v));
                } else {
                    double e = exp(v);
                    column[i] = e / (1.0 + e);
                }
            }
            break;
        case ACTIVATION_ELU:
            for (R_xlen_t i = 0; i < n; i++) {
                double v = column[i] + b;
                column[i] = v > 0 ? v : expm1(v);
            }
            break;
        case ACTIVATION_SOFTPLUS:
            for (R_xlen_t i = 0; i < n; i++) {
                double v = column[i] + b;
                column[i] = (v > 0 ? v : 0.0) + log1p(exp(-fabs(v)));
            }
            break;
        default:                /* linear */
            if (b != 0)
                for (R_xlen_t i = 0; i < n; i++)
                    column[i] += b;
            break;
        }
    }
}

/* out (n x n_out) = input (n x n_in, leading dimension ld) %*% kernel */
static void dense_product(const double *input, int n, int ld, int n_in,
                          const double *kernel, int n_out, double *out)
{
    const double one = 1.0, zero = 0.0;
    F77_CALL(dgemm)("N", "N", &n, &n_out, &n_in, &one, input, &ld,
                    kernel, &n_in, &zero, out, &n FCONE FCONE);
}

/* A whole MLP. `input` is n rows with leading dimension ld; layer k maps
   units[k] to units[k + 1] columns. hidden[k] (k < layers - 1) receives the
   output of hidden layer k; out the output of the last layer. */
static void mlp_forward(const double *input, int n, int ld, int layers,
                        const int *units, const double *const *kernels,
                        const double *const *biases, const int *activations,
                        double *const *hidden, double *out)
{
    const double *layer_input = input;
    int layer_ld = ld;
    for (int k = 0; k < layers; k++) {
        double *layer_out = k == layers - 1 ? out : hidden[k];
        dense_product(layer_input, n, layer_ld, units[k], kernels[k],
                      units[k + 1], layer_out);
        add_bias_and_activate(layer_out, n, units[k + 1], biases[k],
                              activations[k]);
        layer_input = layer_out;
        layer_ld = n;
    }
}

/* ---- .Call entry -------------------------------------------------------- */

static R_xlen_t whole_count(SEXP x, const char *what)
{
    double value;
    if (TYPEOF(x) == INTSXP && XLENGTH(x) == 1 && INTEGER(x)[0] != NA_INTEGER)
        value = INTEGER(x)[0];
    else if (TYPEOF(x) == REALSXP && XLENGTH(x) == 1)
        value = REAL(x)[0];
    else
        Rf_error("`%s` must be a single whole number", what);
    if (!(value >= 0) || value != floor(value) || value > 4.5e15)
        Rf_error("`%s` must be a single whole number >= 0", what);
    return (R_xlen_t) value;
}

/* The (rows, columns) of a double matrix, checked. */
static void matrix_dims(SEXP x, const char *what, int index, int *rows,
                        int *columns)
{
    if (TYPEOF(x) != REALSXP)
        Rf_error("%s %d must be a double matrix, not of type %s", what,
                 index, Rf_type2char(TYPEOF(x)));
    SEXP dim = Rf_getAttrib(x, R_DimSymbol);
    if (TYPEOF(dim) != INTSXP || XLENGTH(dim) != 2)
        Rf_error("%s %d must be a matrix", what, index);
    *rows = INTEGER(dim)[0];
    *columns = INTEGER(dim)[1];
    if (*rows < 1 || *columns < 1)
        Rf_error("%s %d must have at least one row and one column", what,
                 index);
}

/* C_mlp_forward(input, rows, first_column, kernels, biases, activations,
   keep_hidden): the network applied to columns first_column + 1, ...,
   first_column + nrow(kernels[[1]]) of `input` seen as a `rows`-row matrix
   (any dim attribute is ignored, so arrays need no reshaping copy). Returns
   the rows x ncol(kernels[[L]]) output, or with keep_hidden
   list(output = , hidden = list(<rows x units> for each hidden layer)). */
SEXP C_mlp_forward(SEXP input, SEXP rows, SEXP first_column, SEXP kernels,
                   SEXP biases, SEXP activations, SEXP keep_hidden)
{
    int nprot = 0;
    if (TYPEOF(input) != REALSXP)
        Rf_error("`input` must be a double vector or array, not of type %s",
                 Rf_type2char(TYPEOF(input)));
    R_xlen_t n = whole_count(rows, "rows");
    R_xlen_t offset = whole_count(first_column, "first_column");
    int keep = scalar_logical(keep_hidden, "keep_hidden");
    if (TYPEOF(kernels) != VECSXP || TYPEOF(biases) != VECSXP)
        Rf_error("`kernels` and `biases` must be lists");
    R_xlen_t layers_long = XLENGTH(kernels);
    if (layers_long < 1 || layers_long > 10000)
        Rf_error("the network must have between 1 and 10000 layers");
    int layers = (int) layers_long;
    if (XLENGTH(biases) != layers)
        Rf_error("`biases` must have one vector per layer (%d), not %lld",
                 layers, (long long) XLENGTH(biases));
    if (TYPEOF(activations) != INTSXP || XLENGTH(activations) != layers)
        Rf_error("`activations` must be an integer vector with one code per "
                 "layer (%d)", layers);
    if (n > INT_MAX)
        Rf_error("the network takes at most %d rows at a time, not %lld",
                 INT_MAX, (long long) n);

    int *units = (int *) R_alloc((size_t) layers + 1, sizeof(int));
    const double **kernel = (const double **) R_alloc((size_t) layers,
                                                      sizeof(double *));
    const double **bias = (const double **) R_alloc((size_t) layers,
                                                    sizeof(double *));
    const int *activation = INTEGER_RO(activations);
    for (int k = 0; k < layers; k++) {
        int n_in, n_out;
        SEXP kernel_k = VECTOR_ELT(kernels, k), bias_k = VECTOR_ELT(biases, k);
        matrix_dims(kernel_k, "kernel", k + 1, &n_in, &n_out);
        if (k == 0)
            units[0] = n_in;
        else if (n_in != units[k])
            Rf_error("kernel %d has %d rows, but layer %d has %d units",
                     k + 1, n_in, k, units[k]);
        units[k + 1] = n_out;
        if (TYPEOF(bias_k) != REALSXP || XLENGTH(bias_k) != n_out)
            Rf_error("bias %d must be a double vector of length %d", k + 1,
                     n_out);
        if (activation[k] < 0 || activation[k] >= N_ACTIVATIONS)
            Rf_error("activation code %d of layer %d is unknown",
                     activation[k], k + 1);
        kernel[k] = REAL_RO(kernel_k);
        bias[k] = REAL_RO(bias_k);
    }
    /* the input must hold the columns the first layer reads */
    R_xlen_t length = XLENGTH(input);
    if (n == 0) {
        if (length != 0)
            Rf_error("`input` has %lld values but `rows` is 0",
                     (long long) length);
    } else if (length % n != 0 || offset + units[0] > length / n) {
        Rf_error("`input` (%lld values in %lld rows) has no columns "
                 "%lld..%lld for the network's %d inputs",
                 (long long) length, (long long) n, (long long) offset + 1,
                 (long long) offset + units[0], units[0]);
    }

    SEXP out = PROTECT(Rf_allocMatrix(REALSXP, (int) n, units[layers]));
    nprot++;
    SEXP hidden_list = R_NilValue;
    double **hidden = (double **) R_alloc((size_t) layers, sizeof(double *));
    if (keep) {
        hidden_list = PROTECT(Rf_allocVector(VECSXP, layers - 1));
        nprot++;
    }
    for (int k = 0; k < layers - 1; k++) {
        if (keep) {
            SEXP h = Rf_allocMatrix(REALSXP, (int) n, units[k + 1]);
            SET_VECTOR_ELT(hidden_list, k, h);
            hidden[k] = REAL(h);
        } else {
            hidden[k] = (double *) R_alloc((size_t) n * (size_t) units[k + 1] + 1,
                                           sizeof(double));
        }
    }
    if (n > 0)
        mlp_forward(REAL_RO(input) + offset * n, (int) n, (int) n, layers,
                    units, kernel, bias, activation, hidden, REAL(out));

    if (!keep) {
        UNPROTECT(nprot);
        return out;
    }
    SEXP result = PROTECT(Rf_allocVector(VECSXP, 2));
    nprot++;
    SEXP names = PROTECT(Rf_allocVector(STRSXP, 2));
    nprot++;
    SET_VECTOR_ELT(result, 0, out);
    SET_VECTOR_ELT(result, 1, hidden_list);
    SET_STRING_ELT(names, 0, Rf_mkChar("output"));
    SET_STRING_ELT(names, 1, Rf_mkChar("hidden"));
    Rf_setAttrib(result, R_NamesSymbol, names);
    UNPROTECT(nprot);
    return result;
}
