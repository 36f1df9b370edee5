/* tfb_ffjord() with a network template as its dynamics, all in C: for each
   event (row) z of D values at time t, f(t, z) = MLP([z, t]), the network
   taking the time as its last input column. The trace terms of the log-det
   ODE come from forward-mode derivatives of the network (no differences):
   exactly, one tangent per event dimension (the Jacobian's diagonal), or by
   Hutchinson's estimator, one tangent per noise sample, eps * (J eps). The
   solver is the Dormand-Prince of src/dormand_prince.c; a recorded solve
   keeps its accepted steps for the backward pass at the end of this file. */
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
    const double **bias = network_biases(biases, layers, units);
    int widest = 0;
    for (int k = 0; k < layers; k++) {
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

static void read_times(network_dynamics *d, SEXP times)
{
    if (TYPEOF(times) != REALSXP || XLENGTH(times) != 2 ||
        !R_FINITE(REAL(times)[0]) || !R_FINITE(REAL(times)[1]) ||
        !(REAL(times)[0] < REAL(times)[1]))
        Rf_error("`times` must be c(initial_time, final_time), finite and "
                 "increasing");
    d->initial_time = REAL(times)[0];
    d->final_time = REAL(times)[1];
}

/* The tape of a recorded solve as an R list(times, steps, ends, states):
   the accepted steps' start times, sizes, times of their c = 1 stages, and
   their stage states Y_0 .. Y_5 (the state part only), values x 6 x steps. */
static SEXP tape_list(const dp_tape *tape)
{
    R_xlen_t count = tape->count, block = 6 * tape->recorded;
    SEXP result = PROTECT(Rf_allocVector(VECSXP, 4));
    SEXP names = PROTECT(Rf_allocVector(STRSXP, 4));
    const double *sources[3] = {tape->times, tape->steps, tape->ends};
    for (int j = 0; j < 3; j++) {
        SEXP v = Rf_allocVector(REALSXP, count);
        SET_VECTOR_ELT(result, j, v);
        if (count > 0)
            memcpy(REAL(v), sources[j], (size_t) count * sizeof(double));
    }
    SEXP states = Rf_allocVector(REALSXP, count * block);
    SET_VECTOR_ELT(result, 3, states);
    if (count > 0)
        memcpy(REAL(states), tape->states,
               (size_t) (count * block) * sizeof(double));
    const char *labels[4] = {"times", "steps", "ends", "states"};
    for (int i = 0; i < 4; i++)
        SET_STRING_ELT(names, i, Rf_mkChar(labels[i]));
    Rf_setAttrib(result, R_NamesSymbol, names);
    UNPROTECT(2);
    return result;
}

/* C_ffjord_network_solve(state, rows, kernels, biases, activations, times,
   reverse, noise, controls, record): the forward map (reverse FALSE) from x
   or the inverse map (TRUE) from y, over times = c(initial_time,
   final_time), with the per-element log-det terms: list(output, log_det,
   num_steps, num_rejected_steps, num_ode_fn_evaluations, tape), the tape
   (tape_list()) with record TRUE, else NULL. */
SEXP C_ffjord_network_solve(SEXP state, SEXP rows, SEXP kernels, SEXP biases,
                            SEXP activations, SEXP times, SEXP reverse,
                            SEXP noise, SEXP controls, SEXP record)
{
    if (TYPEOF(state) != REALSXP)
        Rf_error("`state` must be a double vector");
    network_dynamics d;
    network_setup(&d, rows, kernels, biases, activations, noise,
                  XLENGTH(state));
    read_times(&d, times);
    d.reverse = scalar_logical(reverse, "reverse");
    dp_controls ctl = dp_read_controls(controls);
    int recording = scalar_logical(record, "record");
    R_xlen_t values = XLENGTH(state);
    double *initial = (double *) R_alloc((size_t) (2 * values),
                                         sizeof(double));
    memcpy(initial, REAL_RO(state), (size_t) values * sizeof(double));
    for (R_xlen_t i = 0; i < values; i++)
        initial[values + i] = 0.0;
    ode_system system = {network_evaluate, &d, 2 * values, 0.0};
    dp_workspace work;
    dp_start(&system, &ctl, &work, d.initial_time, initial);
    dp_tape tape;
    if (recording) {
        dp_tape_start(&tape, values);
        work.tape = &tape;
    }
    dp_integrate(&system, &ctl, &work, d.final_time);

    SEXP result = PROTECT(Rf_allocVector(VECSXP, 6));
    SEXP names = PROTECT(Rf_allocVector(STRSXP, 6));
    SEXP output = Rf_allocVector(REALSXP, values);
    SET_VECTOR_ELT(result, 0, output);
    memcpy(REAL(output), work.y, (size_t) values * sizeof(double));
    SEXP log_det = Rf_allocVector(REALSXP, values);
    SET_VECTOR_ELT(result, 1, log_det);
    memcpy(REAL(log_det), work.y + values, (size_t) values * sizeof(double));
    SET_VECTOR_ELT(result, 2, Rf_ScalarReal(work.attempts));
    SET_VECTOR_ELT(result, 3, Rf_ScalarReal(work.rejected));
    SET_VECTOR_ELT(result, 4, Rf_ScalarReal(system.evaluations));
    if (recording)
        SET_VECTOR_ELT(result, 5, tape_list(&tape));
    const char *labels[6] = {"output", "log_det", "num_steps",
                             "num_rejected_steps", "num_ode_fn_evaluations",
                             "tape"};
    for (int i = 0; i < 6; i++)
        SET_STRING_ELT(names, i, Rf_mkChar(labels[i]));
    Rf_setAttrib(result, R_NamesSymbol, names);
    UNPROTECT(2);
    return result;
}

/* ---- gradients: the reverse pass through the recorded steps -------------

   Discretise-then-optimise: the backward pass is the exact reverse-mode
   derivative of the accepted Dormand-Prince steps the forward solve took
   (their times and sizes held fixed), so it is the gradient of the numbers
   the forward pass computed, up to how the step sizes themselves move with
   the parameters (a term of the order of the solver's local error).

   Per step, y1 = y0 + h sum_j a[6][j] k_j with k_s = F(t_s, Y_s), Y_s =
   y0 + h sum_{j<s} a[s][j] k_j; in reverse, with Ybar_s the gradient with
   respect to Y_s, kbar_s = h a[6][s] ybar1 + h sum_{s'>s} a[s'][s] Ybar_s'
   and Ybar_s = J_F(Y_s)^T kbar_s, and ybar0 = ybar1 + sum_s Ybar_s. The
   augmented state (z, l): l enters nothing, so its gradient stays the
   log-det's throughout and only z's stage states are recorded.

   The vector-Jacobian product of F = (f, trace terms) differentiates the
   trace terms' forward-mode tangents in reverse: the tangent pass is
   tdot_0 = v W_1 (v a unit direction for the exact trace, a noise sample
   for Hutchinson's), adot_k = act'(pre_k) tdot_k, tdot_{k+1} = adot_k
   W_{k+1}; its reverse gives kernel gradients adot_{k-1}^T q_k and, through
   act'(pre_k), extra gradients act''(pre_k) rho_k tdot_k on each layer's
   pre-activation, which the network's own backward pass (network.c) then
   carries down with the gradient of f. */

typedef struct {
    network_dynamics *d;
    network_trace trace;
    double **tangent_pre;     /* per layer: n x units[k + 1], tdot_k */
    double **tangent_out;     /* per hidden layer: adot_k */
    double **injected;        /* per layer: extra pre-activation gradients */
    double *rho, *q, *product;          /* n x widest */
    double *delta, *scratch;            /* n x widest */
    double *grad_input;                 /* n x (D + 1) */
    double **grad_kernels, **grad_biases;   /* accumulated */
    double **step_kernels, **step_biases;   /* one backward pass's */
} network_vjp;

static double *zeroed(size_t count)
{
    double *x = (double *) R_alloc(count > 0 ? count : 1, sizeof(double));
    memset(x, 0, (count > 0 ? count : 1) * sizeof(double));
    return x;
}

static void vjp_setup(network_vjp *v, network_dynamics *d)
{
    int n = d->rows, layers = d->layers;
    const int *units = d->units;
    int widest = units[0];
    for (int k = 1; k <= layers; k++)
        if (units[k] > widest)
            widest = units[k];
    v->d = d;
    v->trace.n = n;
    v->trace.layers = layers;
    v->trace.widest = widest;
    v->trace.units = units;
    v->trace.kernels = d->kernels;
    v->trace.activations = d->activations;
    v->trace.hidden = (const double *const *) d->hidden;
    v->trace.output = d->output;
    v->trace.masks = NULL;
    v->trace.extents = NULL;
    size_t each = (size_t) layers;
    v->tangent_pre = (double **) R_alloc(each, sizeof(double *));
    v->tangent_out = (double **) R_alloc(each, sizeof(double *));
    v->injected = (double **) R_alloc(each, sizeof(double *));
    v->grad_kernels = (double **) R_alloc(each, sizeof(double *));
    v->grad_biases = (double **) R_alloc(each, sizeof(double *));
    v->step_kernels = (double **) R_alloc(each, sizeof(double *));
    v->step_biases = (double **) R_alloc(each, sizeof(double *));
    for (int k = 0; k < layers; k++) {
        size_t cells = (size_t) n * units[k + 1];
        size_t weights = (size_t) units[k] * units[k + 1];
        v->tangent_pre[k] = zeroed(cells);
        v->tangent_out[k] = k < layers - 1 ? zeroed(cells) : NULL;
        v->injected[k] = zeroed(cells);
        v->grad_kernels[k] = zeroed(weights);
        v->grad_biases[k] = zeroed((size_t) units[k + 1]);
        v->step_kernels[k] = zeroed(weights);
        v->step_biases[k] = zeroed((size_t) units[k + 1]);
    }
    size_t buffer = (size_t) n * widest;
    v->rho = zeroed(buffer);
    v->q = zeroed(buffer);
    v->product = zeroed(buffer);
    v->delta = zeroed(buffer);
    v->scratch = zeroed(buffer);
    v->grad_input = zeroed((size_t) n * units[0]);
}

/* The tangent pass from tdot_0 (in tangent_pre[0]), keeping every layer's
   tangents; needs the forward pass's outputs. */
static void tangent_forward(network_vjp *v)
{
    network_dynamics *d = v->d;
    int n = d->rows;
    const double one = 1.0, zero = 0.0;
    for (int k = 0; k < d->layers - 1; k++) {
        R_xlen_t cells = (R_xlen_t) n * d->units[k + 1];
        memcpy(v->tangent_out[k], v->tangent_pre[k],
               (size_t) cells * sizeof(double));
        multiply_activation_derivative(v->tangent_out[k], d->hidden[k],
                                       cells, d->activations[k]);
        int inner = d->units[k + 1], m = d->units[k + 2];
        bj_gemm('N', 'N', n, m, inner, one, v->tangent_out[k], n,
                d->kernels[k + 1], inner, zero, v->tangent_pre[k + 1], n);
    }
}

/* The reverse of tangent_forward() from rho (n x D, the gradient with
   respect to the output's tangent): adds the kernel gradients of layers
   after the first into grad_kernels, the extra pre-activation gradients
   into injected, and returns q_1 (in v->q), the gradient with respect to
   tdot_0, for the caller to turn into the first kernel's gradient. */
static const double *tangent_backward(network_vjp *v)
{
    network_dynamics *d = v->d;
    int n = d->rows;
    const double one = 1.0, zero = 0.0;
    double *rho = v->rho, *q = v->q;
    for (int k = d->layers - 1; k >= 0; k--) {
        int n_in = d->units[k], n_out = d->units[k + 1];
        R_xlen_t cells = (R_xlen_t) n * n_out;
        const double *layer_out = k == d->layers - 1 ? d->output :
            d->hidden[k];
        memcpy(q, rho, (size_t) cells * sizeof(double));
        multiply_activation_derivative(q, layer_out, cells,
                                       d->activations[k]);
        for (R_xlen_t i = 0; i < cells; i++)
            v->product[i] = rho[i] * v->tangent_pre[k][i];
        multiply_activation_second_derivative(v->product, layer_out, cells,
                                              d->activations[k]);
        for (R_xlen_t i = 0; i < cells; i++)
            v->injected[k][i] += v->product[i];
        if (k == 0)
            break;
        /* kernel k: tdot_k = adot_{k-1} W_k */
        bj_gemm('T', 'N', n_in, n_out, n, one, v->tangent_out[k - 1], n, q, n,
                one, v->grad_kernels[k], n_in);
        bj_gemm('N', 'T', n, n_in, n_out, one, q, n, d->kernels[k], n_in, zero,
                rho, n);
    }
    return q;
}

/* Adds into the parameter gradients, and writes into grad_state (n x D),
   the vector-Jacobian product of the augmented dynamics F(t, z) = sign (f,
   trace terms) at solver time s with the cotangents cot_f and cot_trace
   (n x D each; cot_trace NULL for zero). */
static void augmented_vjp(network_vjp *v, double s, const double *state,
                          const double *cot_f, const double *cot_trace,
                          double *grad_state)
{
    network_dynamics *d = v->d;
    int n = d->rows, size = d->size, layers = d->layers;
    const int *units = d->units;
    R_xlen_t values = (R_xlen_t) n * size;
    double time = d->reverse ? d->initial_time + d->final_time - s : s;
    double sign = d->reverse ? -1.0 : 1.0;
    memcpy(d->input, state, (size_t) values * sizeof(double));
    for (int r = 0; r < n; r++)
        d->input[values + r] = time;
    mlp_forward(d->input, n, n, layers, units, d->kernels, d->biases,
                d->activations, d->hidden, d->output);
    for (int k = 0; k < layers; k++)
        memset(v->injected[k], 0, (size_t) n * units[k + 1] *
               sizeof(double));
    int ld = units[0];
    double *grad_first = v->grad_kernels[0];
    if (cot_trace && d->samples == 0) {
        /* direction e_i: tdot_0 is row i of the first kernel in every row,
           and the term's gradient lives in column i only */
        for (int i = 0; i < size; i++) {
            for (int j = 0; j < units[1]; j++) {
                double weight = d->kernels[0][i + (R_xlen_t) j * ld];
                double *column = v->tangent_pre[0] + (R_xlen_t) j * n;
                for (int r = 0; r < n; r++)
                    column[r] = weight;
            }
            tangent_forward(v);
            memset(v->rho, 0, (size_t) values * sizeof(double));
            for (int r = 0; r < n; r++)
                v->rho[r + (R_xlen_t) i * n] =
                    sign * cot_trace[r + (R_xlen_t) i * n];
            const double *q = tangent_backward(v);
            for (int j = 0; j < units[1]; j++) {
                const double *column = q + (R_xlen_t) j * n;
                double total = 0.0;
                for (int r = 0; r < n; r++)
                    total += column[r];
                grad_first[i + (R_xlen_t) j * ld] += total;
            }
        }
    } else if (cot_trace) {
        const double one = 1.0, zero = 0.0;
        double scale = sign / d->samples;
        for (int sample = 0; sample < d->samples; sample++) {
            const double *noise = d->noise + (R_xlen_t) sample * values;
            bj_gemm('N', 'N', n, units[1], size, one, noise, n, d->kernels[0],
                    ld, zero, v->tangent_pre[0], n);
            tangent_forward(v);
            for (R_xlen_t i = 0; i < values; i++)
                v->rho[i] = scale * cot_trace[i] * noise[i];
            const double *q = tangent_backward(v);
            /* the first D rows of the first kernel: noise^T q */
            bj_gemm('T', 'N', size, units[1], n, one, noise, n, q, n, one,
                    grad_first, ld);
        }
    }
    for (R_xlen_t i = 0; i < values; i++)
        v->delta[i] = sign * cot_f[i];
    memset(v->grad_input, 0, (size_t) n * units[0] * sizeof(double));
    network_backward_injected(&v->trace, d->input, n, v->delta, v->scratch,
                              v->step_kernels, v->step_biases,
                              v->grad_input, n,
                              (const double *const *) v->injected);
    for (int k = 0; k < layers; k++) {
        R_xlen_t weights = (R_xlen_t) units[k] * units[k + 1];
        for (R_xlen_t i = 0; i < weights; i++)
            v->grad_kernels[k][i] += v->step_kernels[k][i];
        for (int j = 0; j < units[k + 1]; j++)
            v->grad_biases[k][j] += v->step_biases[k][j];
    }
    memcpy(grad_state, v->grad_input, (size_t) values * sizeof(double));
}

static SEXP tape_element(SEXP tape, int index, const char *name)
{
    SEXP x = VECTOR_ELT(tape, index);
    if (TYPEOF(x) != REALSXP)
        Rf_error("the tape's `%s` must be a double vector", name);
    return x;
}

/* C_ffjord_network_backward(tape, rows, kernels, biases, activations, times,
   reverse, noise, grad_output, grad_log_det): the reverse pass of the
   recorded C_ffjord_network_solve() with the same network, times, direction
   and noise. grad_output is dLoss/d(output) and grad_log_det dLoss/d(the
   per-element log-det terms), rows x D each. Returns list(kernels = ,
   biases = , input = dLoss/d(the solve's input state)). */
SEXP C_ffjord_network_backward(SEXP tape, SEXP rows, SEXP kernels,
                               SEXP biases, SEXP activations, SEXP times,
                               SEXP reverse, SEXP noise, SEXP grad_output,
                               SEXP grad_log_det)
{
    if (TYPEOF(grad_output) != REALSXP)
        Rf_error("`grad_output` must be a double vector");
    network_dynamics d;
    network_setup(&d, rows, kernels, biases, activations, noise,
                  XLENGTH(grad_output));
    read_times(&d, times);
    d.reverse = scalar_logical(reverse, "reverse");
    R_xlen_t values = XLENGTH(grad_output);
    if (TYPEOF(grad_log_det) != REALSXP || XLENGTH(grad_log_det) != values)
        Rf_error("`grad_log_det` must be a double vector of %.0f values",
                 (double) values);
    if (TYPEOF(tape) != VECSXP || XLENGTH(tape) != 4)
        Rf_error("`tape` must be the list a recorded solve returned");
    SEXP step_times = tape_element(tape, 0, "times");
    SEXP step_sizes = tape_element(tape, 1, "steps");
    SEXP step_ends = tape_element(tape, 2, "ends");
    SEXP stage_states = tape_element(tape, 3, "states");
    R_xlen_t count = XLENGTH(step_times);
    if (XLENGTH(step_sizes) != count || XLENGTH(step_ends) != count ||
        XLENGTH(stage_states) != count * 6 * values)
        Rf_error("`tape` does not match the state's %.0f values",
                 (double) values);
    const double *t_steps = REAL_RO(step_times), *h_steps =
        REAL_RO(step_sizes), *end_steps = REAL_RO(step_ends);
    const double *states = REAL_RO(stage_states);
    const double *grad_terms = REAL_RO(grad_log_det);

    network_vjp v;
    vjp_setup(&v, &d);
    int nprot = 0;
    SEXP grad_input = PROTECT(Rf_allocVector(REALSXP, values));
    nprot++;
    double *ybar = REAL(grad_input);
    memcpy(ybar, REAL_RO(grad_output), (size_t) values * sizeof(double));
    double *stage_bar[6];
    for (int s = 0; s < 6; s++)
        stage_bar[s] = zeroed((size_t) values);
    double *cot_f = zeroed((size_t) values);
    double *cot_trace = zeroed((size_t) values);
    for (R_xlen_t m = count - 1; m >= 0; m--) {
        double t = t_steps[m], h = h_steps[m], end = end_steps[m];
        const double *step_states = states + m * 6 * values;
        for (int s = 5; s >= 0; s--) {
            double weight = h * dp_a[6][s];
            for (R_xlen_t i = 0; i < values; i++)
                cot_f[i] = weight * ybar[i];
            for (int later = s + 1; later < 6; later++) {
                double a = h * dp_a[later][s];
                if (a == 0.0)
                    continue;
                for (R_xlen_t i = 0; i < values; i++)
                    cot_f[i] += a * stage_bar[later][i];
            }
            /* the log-det's gradient reaches stage s only through its
               weight in the new state */
            const double *trace_cot = NULL;
            if (weight != 0.0) {
                for (R_xlen_t i = 0; i < values; i++)
                    cot_trace[i] = weight * grad_terms[i];
                trace_cot = cot_trace;
            }
            double stage_time = dp_c[s] == 1.0 ? end : t + dp_c[s] * h;
            augmented_vjp(&v, stage_time, step_states + s * values, cot_f,
                          trace_cot, stage_bar[s]);
        }
        for (int s = 0; s < 6; s++)
            for (R_xlen_t i = 0; i < values; i++)
                ybar[i] += stage_bar[s][i];
        R_CheckUserInterrupt();
    }

    double **out_kernels = (double **) R_alloc((size_t) d.layers,
                                               sizeof(double *));
    double **out_biases = (double **) R_alloc((size_t) d.layers,
                                              sizeof(double *));
    SEXP gradients = PROTECT(network_gradient_lists(&v.trace, out_kernels,
                                                    out_biases));
    nprot++;
    for (int k = 0; k < d.layers; k++) {
        memcpy(out_kernels[k], v.grad_kernels[k], (size_t) d.units[k] *
               d.units[k + 1] * sizeof(double));
        memcpy(out_biases[k], v.grad_biases[k], (size_t) d.units[k + 1] *
               sizeof(double));
    }
    SEXP result = network_backward_result(VECTOR_ELT(gradients, 0),
                                          VECTOR_ELT(gradients, 1),
                                          grad_input);
    UNPROTECT(nprot);
    return result;
}
