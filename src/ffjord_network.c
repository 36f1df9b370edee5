/* tfb_ffjord() with a network template as its dynamics, all in C: for each
   event (row) z of D values at time t, f(t, z) = MLP([z, t]), the network
   taking the time as its last input column. The trace terms of the log-det
   ODE come from forward-mode derivatives of the network (no differences):
   exactly, one tangent per event dimension (the Jacobian's diagonal), or by
   Hutchinson's estimator, one tangent per noise sample, eps * (J eps). The
   solver is the Dormand-Prince of src/dormand_prince.c. */
#include <limits.h>
#include <string.h>
#include "network.h"
#include "dormand_prince.h"
#include "gemm.h"

typedef struct {
    int rows, size;            /* events, and values per event (D) */
    int layers;
    const int *units;          /* units[0] = D + 1, units[layers] = D */
    const double *const *kernels;
    const double *const *biases;
    const int *activations;
    double **hidden;           /* rows x units[k + 1], k < layers - 1 */
    double *output;            /* rows x D */
    double *input;             /* rows x (D + 1): the state, then the time */
    double *tangent, *next;    /* rows x widest: forward-mode scratch */
    int samples;               /* 0: the exact trace; else Hutchinson's */
    const double *noise;       /* rows x D x samples */
    double initial_time, final_time;
    int reverse;               /* the inverse's dynamics, see evaluate */
    int with_trace;            /* also the trace terms after the state */
} network_dynamics;

/* tangent (rows x units[1]) = direction (rows x D) %*% kernel_1[1:D, ]: the
   time column has no tangent. */
static void first_layer_tangent(const network_dynamics *d,
                                const double *direction)
{
    const double one = 1.0, zero = 0.0;
    int n = d->rows, inner = d->size, m = d->units[1], ld = d->units[0];
    bj_gemm('N', 'N', n, m, inner, one, direction, n, d->kernels[0], ld, zero,
            d->tangent, n);
}

/* Carries the first layer's pre-activation tangent (in d->tangent) through
   the activations and the later layers; returns the buffer holding the
   output's tangent (rows x D). Needs the forward pass's outputs. */
static const double *propagate_tangent(network_dynamics *d)
{
    double *current = d->tangent, *other = d->next;
    int n = d->rows;
    const double one = 1.0, zero = 0.0;
    for (int k = 0; k < d->layers; k++) {
        const double *layer_out = k == d->layers - 1 ? d->output :
            d->hidden[k];
        multiply_activation_derivative(current, layer_out,
                                       (R_xlen_t) n * d->units[k + 1],
                                       d->activations[k]);
        if (k == d->layers - 1)
            break;
        int inner = d->units[k + 1], m = d->units[k + 2];
        bj_gemm('N', 'N', n, m, inner, one, current, n, d->kernels[k + 1],
                inner, zero, other, n);
        double *swap = current;
        current = other;
        other = swap;
    }
    return current;
}

/* The ode_system's derivative at solver time s. Forward: f(s, z). Reverse
   (the inverse map): -f(t0 + t1 - s, z), the dynamics run backwards from
   t1 to t0 as s goes from t0 to t1; its trace terms change sign too. */
static void network_evaluate(void *context, double s, const double *state,
                             R_xlen_t length, double *derivative)
{
    network_dynamics *d = (network_dynamics *) context;
    int n = d->rows, size = d->size;
    R_xlen_t values = (R_xlen_t) n * size;
    double time = d->reverse ? d->initial_time + d->final_time - s : s;
    double sign = d->reverse ? -1.0 : 1.0;
    (void) length;
    memcpy(d->input, state, (size_t) values * sizeof(double));
    for (int r = 0; r < n; r++)
        d->input[values + r] = time;
    mlp_forward(d->input, n, n, d->layers, d->units, d->kernels, d->biases,
                d->activations, d->hidden, d->output);
    for (R_xlen_t i = 0; i < values; i++)
        derivative[i] = sign * d->output[i];
    if (!d->with_trace)
        return;
    double *terms = derivative + values;
    if (d->samples == 0) {
        /* the tangent along z_i: row i of the first kernel in every row */
        int ld = d->units[0];
        for (int i = 0; i < size; i++) {
            for (int j = 0; j < d->units[1]; j++) {
                double weight = d->kernels[0][i + (R_xlen_t) j * ld];
                double *column = d->tangent + (R_xlen_t) j * n;
                for (int r = 0; r < n; r++)
                    column[r] = weight;
            }
            const double *out = propagate_tangent(d);
            for (int r = 0; r < n; r++)
                terms[r + (R_xlen_t) i * n] = sign * out[r + (R_xlen_t) i * n];
        }
        return;
    }
    for (R_xlen_t i = 0; i < values; i++)
        terms[i] = 0.0;
    for (int sample = 0; sample < d->samples; sample++) {
        const double *noise = d->noise + (R_xlen_t) sample * values;
        first_layer_tangent(d, noise);
        const double *out = propagate_tangent(d);
        for (R_xlen_t i = 0; i < values; i++)
            terms[i] += noise[i] * out[i];
    }
    double scale = sign / d->samples;
    for (R_xlen_t i = 0; i < values; i++)
        terms[i] *= scale;
}

/* Checks the network and the sizes, and allocates the scratch. The network
   maps D + 1 inputs to D outputs; `state_length` must be rows * D. */
static void network_setup(network_dynamics *d, SEXP rows, SEXP kernels,
                          SEXP biases, SEXP activations, SEXP noise,
                          R_xlen_t state_length)
{
    double rows_value = scalar_double(rows, "rows");
    if (!(rows_value >= 1) || rows_value > INT_MAX ||
        rows_value != (double) (int) rows_value)
        Rf_error("`rows` must be a whole number between 1 and %d", INT_MAX);
    int n = (int) rows_value;
    int *units;
    const double **kernel;
    int layers = network_layers(kernels, activations, &units, &kernel);
    int size = units[0] - 1;
    if (size < 1 || units[layers] != size)
        Rf_error("the network must map D + 1 inputs (the state and the "
                 "time) to D outputs, not %d to %d", units[0],
                 units[layers]);
    if ((double) n * units[0] > (double) R_XLEN_T_MAX ||
        (R_xlen_t) n * size != state_length)
        Rf_error("the state must hold %d rows of %d values",
                 n, size);
    if (TYPEOF(biases) != VECSXP || XLENGTH(biases) != layers)
        Rf_error("`biases` must be a list with one vector per layer (%d)",
                 layers);
    const double **bias = (const double **) R_alloc((size_t) layers,
                                                    sizeof(double *));
    int widest = 0;
    for (int k = 0; k < layers; k++) {
        SEXP bias_k = VECTOR_ELT(biases, k);
        if (TYPEOF(bias_k) != REALSXP || XLENGTH(bias_k) != units[k + 1])
            Rf_error("bias %d must be a double vector of length %d", k + 1,
                     units[k + 1]);
        bias[k] = REAL_RO(bias_k);
        if (units[k + 1] > widest)
            widest = units[k + 1];
    }
    d->samples = 0;
    d->noise = NULL;
    if (noise != R_NilValue) {
        R_xlen_t values = (R_xlen_t) n * size;
        if (TYPEOF(noise) != REALSXP || XLENGTH(noise) < values ||
            XLENGTH(noise) % values != 0 || XLENGTH(noise) / values > INT_MAX)
            Rf_error("`noise` must be NULL or a double vector of whole "
                     "samples of %.0f values", (double) values);
        d->samples = (int) (XLENGTH(noise) / values);
        d->noise = REAL_RO(noise);
    }
    d->rows = n;
    d->size = size;
    d->layers = layers;
    d->units = units;
    d->kernels = kernel;
    d->biases = bias;
    d->activations = INTEGER_RO(activations);
    d->hidden = (double **) R_alloc((size_t) layers, sizeof(double *));
    for (int k = 0; k < layers - 1; k++)
        d->hidden[k] = (double *) R_alloc((size_t) n * units[k + 1],
                                          sizeof(double));
    d->output = (double *) R_alloc((size_t) n * size, sizeof(double));
    d->input = (double *) R_alloc((size_t) n * units[0], sizeof(double));
    d->tangent = (double *) R_alloc((size_t) n * widest, sizeof(double));
    d->next = (double *) R_alloc((size_t) n * widest, sizeof(double));
    d->reverse = 0;
    d->with_trace = 1;
    d->initial_time = 0.0;
    d->final_time = 0.0;
}

/* C_ffjord_network_derivative(state, rows, kernels, biases, activations,
   time, noise, with_trace): the network's dynamics at `time` for the rows x
   D state, and with with_trace its trace terms (exact when noise is NULL):
   a vector c(f, terms) of 2 rows D values (rows D without the trace). */
SEXP C_ffjord_network_derivative(SEXP state, SEXP rows, SEXP kernels,
                                 SEXP biases, SEXP activations, SEXP time,
                                 SEXP noise, SEXP with_trace)
{
    if (TYPEOF(state) != REALSXP)
        Rf_error("`state` must be a double vector");
    network_dynamics d;
    network_setup(&d, rows, kernels, biases, activations, noise,
                  XLENGTH(state));
    double t = scalar_double(time, "time");
    d.with_trace = scalar_logical(with_trace, "with_trace");
    R_xlen_t values = XLENGTH(state);
    SEXP result = PROTECT(Rf_allocVector(REALSXP, (d.with_trace ? 2 : 1) *
                                         values));
    network_evaluate(&d, t, REAL_RO(state), XLENGTH(result), REAL(result));
    UNPROTECT(1);
    return result;
}

/* C_ffjord_network_solve(state, rows, kernels, biases, activations, times,
   reverse, noise, controls): the forward map (reverse FALSE) from x or the
   inverse map (TRUE) from y, over times = c(initial_time, final_time), with
   the per-element log-det terms: list(output, log_det, num_steps,
   num_rejected_steps, num_ode_fn_evaluations). */
SEXP C_ffjord_network_solve(SEXP state, SEXP rows, SEXP kernels, SEXP biases,
                            SEXP activations, SEXP times, SEXP reverse,
                            SEXP noise, SEXP controls)
{
    if (TYPEOF(state) != REALSXP)
        Rf_error("`state` must be a double vector");
    network_dynamics d;
    network_setup(&d, rows, kernels, biases, activations, noise,
                  XLENGTH(state));
    if (TYPEOF(times) != REALSXP || XLENGTH(times) != 2 ||
        !R_FINITE(REAL(times)[0]) || !R_FINITE(REAL(times)[1]) ||
        !(REAL(times)[0] < REAL(times)[1]))
        Rf_error("`times` must be c(initial_time, final_time), finite and "
                 "increasing");
    d.initial_time = REAL(times)[0];
    d.final_time = REAL(times)[1];
    d.reverse = scalar_logical(reverse, "reverse");
    dp_controls ctl = dp_read_controls(controls);
    R_xlen_t values = XLENGTH(state);
    double *initial = (double *) R_alloc((size_t) (2 * values),
                                         sizeof(double));
    memcpy(initial, REAL_RO(state), (size_t) values * sizeof(double));
    for (R_xlen_t i = 0; i < values; i++)
        initial[values + i] = 0.0;
    ode_system system = {network_evaluate, &d, 2 * values, 0.0};
    dp_workspace work;
    dp_start(&system, &ctl, &work, d.initial_time, initial);
    dp_integrate(&system, &ctl, &work, d.final_time);

    SEXP result = PROTECT(Rf_allocVector(VECSXP, 5));
    SEXP names = PROTECT(Rf_allocVector(STRSXP, 5));
    SEXP output = Rf_allocVector(REALSXP, values);
    SET_VECTOR_ELT(result, 0, output);
    memcpy(REAL(output), work.y, (size_t) values * sizeof(double));
    SEXP log_det = Rf_allocVector(REALSXP, values);
    SET_VECTOR_ELT(result, 1, log_det);
    memcpy(REAL(log_det), work.y + values, (size_t) values * sizeof(double));
    SET_VECTOR_ELT(result, 2, Rf_ScalarReal(work.attempts));
    SET_VECTOR_ELT(result, 3, Rf_ScalarReal(work.rejected));
    SET_VECTOR_ELT(result, 4, Rf_ScalarReal(system.evaluations));
    const char *labels[5] = {"output", "log_det", "num_steps",
                             "num_rejected_steps", "num_ode_fn_evaluations"};
    for (int i = 0; i < 5; i++)
        SET_STRING_ELT(names, i, Rf_mkChar(labels[i]));
    Rf_setAttrib(result, R_NamesSymbol, names);
    UNPROTECT(2);
    return result;
}
