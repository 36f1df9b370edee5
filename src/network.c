/* Multilayer perceptrons for the networks of the flows (MADE, Real NVP):
   dense layers as one matrix product each (bj_gemm(), gemm.h), then the
   bias and the activation in one pass over the layer's output. Masked
   kernels arrive already multiplied by their mask; given the masks, the
   products skip what the masks make zero (mask_extent, network.h), which
   changes no bit for finite values and saves about half the flops of
   MADE's default masks.

   The kernel mlp_forward() works on plain pointers and can keep every hidden
   layer's output (after the activation): a backward pass needs exactly those,
   since each activation's derivative can be written with its output.
   mlp_backward() is the reverse pass: two dgemm per layer (kernel gradient
   and the gradient sent down), the activation derivative in one pass. */

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "network.h"
#include "gemm.h"
#include "vector_math.h"

/* Activation codes, shared with R/network.R (network_activations). */
enum {
    ACTIVATION_LINEAR = 0,
    ACTIVATION_RELU = 1,
    ACTIVATION_TANH = 2,
    ACTIVATION_SIGMOID = 3,
    ACTIVATION_ELU = 4,
    ACTIVATION_SOFTPLUS = 5,
    N_ACTIVATIONS = NETWORK_ACTIVATION_COUNT
};

/* ---- kernels ------------------------------------------------------------ */

/* Activations go through the array functions of vector_math.h in blocks
   of this many values (a stack buffer of 2 kB that stays in L1). */
#define ACTIVATION_BLOCK 256

/* relu and its derivative as selects, not branches: the sign of a value is
   a coin flip that a branch predictor keeps losing. Two values at a time
   with SSE2 where the CPU is x86-64 (every one has it; the results are
   exact, so the width does not change a bit), one at a time for the rest
   and elsewhere. A NaN stays NaN; a negative value or -0 becomes +0. */
#if defined(__SSE2__)
#include <emmintrin.h>
#define RELU_SSE2 1
#endif
/* and four at a time with AVX, chosen at run time as gemm.c chooses its
   micro-kernel (R builds packages without -march): relu's pass is bound
   by its instructions, not by memory, so the width halves its time */
#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define RELU_AVX 1

static int relu_avx_state = -1;

static int relu_avx(void)
{
    if (relu_avx_state < 0)
        relu_avx_state = __builtin_cpu_supports("avx") ? 1 : 0;
    return relu_avx_state;
}

/* The first n - n % 4 values of relu_with_bias() and relu_derivative():
   !(v <= 0) is v > 0 or NaN, the SSE2 code's test in one comparison. */
__attribute__((target("avx")))
static R_xlen_t relu_with_bias_avx(double *column, R_xlen_t n, double b)
{
    const __m256d bias = _mm256_set1_pd(b), zero = _mm256_setzero_pd();
    R_xlen_t i = 0;
    for (; i + 4 <= n; i += 4) {
        __m256d v = _mm256_add_pd(_mm256_loadu_pd(column + i), bias);
        __m256d keep = _mm256_cmp_pd(v, zero, _CMP_NLE_UQ);
        _mm256_storeu_pd(column + i, _mm256_and_pd(v, keep));
    }
    return i;
}

__attribute__((target("avx")))
static R_xlen_t relu_derivative_avx(double *delta, const double *out,
                                    R_xlen_t count)
{
    const __m256d zero = _mm256_setzero_pd();
    R_xlen_t i = 0;
    for (; i + 4 <= count; i += 4) {
        __m256d keep = _mm256_cmp_pd(_mm256_loadu_pd(out + i), zero,
                                     _CMP_GT_OQ);
        _mm256_storeu_pd(delta + i,
                         _mm256_and_pd(_mm256_loadu_pd(delta + i), keep));
    }
    return i;
}

/* column[i] += b for the first n - n % 4 values (a linear layer's bias) */
__attribute__((target("avx")))
static R_xlen_t add_bias_avx(double *column, R_xlen_t n, double b)
{
    const __m256d bias = _mm256_set1_pd(b);
    R_xlen_t i = 0;
    for (; i + 4 <= n; i += 4)
        _mm256_storeu_pd(column + i,
                         _mm256_add_pd(_mm256_loadu_pd(column + i), bias));
    return i;
}
#endif

/* column[i] = relu(column[i] + b) */
static void relu_with_bias(double *column, R_xlen_t n, double b)
{
    R_xlen_t i = 0;
#ifdef RELU_AVX
    if (relu_avx())
        i = relu_with_bias_avx(column, n, b);
#endif
#ifdef RELU_SSE2
    const __m128d bias = _mm_set1_pd(b), zero = _mm_setzero_pd();
    for (; i + 2 <= n; i += 2) {
        __m128d v = _mm_add_pd(_mm_loadu_pd(column + i), bias);
        __m128d keep = _mm_or_pd(_mm_cmpgt_pd(v, zero), _mm_cmpunord_pd(v, v));
        _mm_storeu_pd(column + i, _mm_and_pd(v, keep));
    }
#endif
    for (; i < n; i++) {
        double v = column[i] + b;
        double positive = v > 0 ? v : 0.0;
        column[i] = v != v ? v : positive;
    }
}

/* delta's bits masked to +0 where out <= 0 */
static void relu_derivative(double *delta, const double *out, R_xlen_t count)
{
    R_xlen_t i = 0;
#ifdef RELU_AVX
    if (relu_avx())
        i = relu_derivative_avx(delta, out, count);
#endif
#ifdef RELU_SSE2
    const __m128d zero = _mm_setzero_pd();
    for (; i + 2 <= count; i += 2) {
        __m128d keep = _mm_cmpgt_pd(_mm_loadu_pd(out + i), zero);
        _mm_storeu_pd(delta + i, _mm_and_pd(_mm_loadu_pd(delta + i), keep));
    }
#endif
    for (; i < count; i++) {
        uint64_t bits;
        memcpy(&bits, delta + i, sizeof bits);
        bits &= -(uint64_t) (out[i] > 0);
        memcpy(delta + i, &bits, sizeof bits);
    }
}

/* g = g * mask where mask != 0 (NaN included), +0 where it is 0: without a
   branch, as the mask's pattern is one a predictor keeps missing */
static void apply_mask(double *g, const double *mask, R_xlen_t size)
{
    R_xlen_t i = 0;
#ifdef RELU_SSE2
    const __m128d zero = _mm_setzero_pd();
    for (; i + 2 <= size; i += 2) {
        __m128d m = _mm_loadu_pd(mask + i);
        __m128d v = _mm_mul_pd(_mm_loadu_pd(g + i), m);
        _mm_storeu_pd(g + i, _mm_and_pd(v, _mm_cmpneq_pd(m, zero)));
    }
#endif
    for (; i < size; i++) {
        double v = g[i] * mask[i];
        uint64_t bits;
        memcpy(&bits, &v, sizeof bits);
        bits &= -(uint64_t) (mask[i] != 0);
        memcpy(g + i, &bits, sizeof bits);
    }
}

/* column[i] = activation(column[i] + b), i < n */
static void activate_column(double *column, R_xlen_t n, double b,
                            int activation)
{
    switch (activation) {
    case ACTIVATION_RELU:
        relu_with_bias(column, n, b);
        break;
    case ACTIVATION_TANH:
        /* the bias added in tanh's own pass (the same sums), in place */
        bj_tanh_shift_array(column, b, column, n);
        break;
    case ACTIVATION_SIGMOID:
        /* exp() of -|v| only: no overflow; 1 / (1 + e) for v >= 0,
           e / (1 + e) below */
        for (R_xlen_t i0 = 0; i0 < n; i0 += ACTIVATION_BLOCK) {
            R_xlen_t len = n - i0 < ACTIVATION_BLOCK ? n - i0 :
                ACTIVATION_BLOCK;
            double *c = column + i0;
            double e[ACTIVATION_BLOCK];
            for (R_xlen_t i = 0; i < len; i++)
                e[i] = -fabs(c[i] + b);
            bj_exp_array(e, e, len);
            for (R_xlen_t i = 0; i < len; i++) {
                double v = c[i] + b;
                c[i] = v >= 0 ? 1.0 / (1.0 + e[i]) : e[i] / (1.0 + e[i]);
            }
        }
        break;
    case ACTIVATION_ELU:
        /* expm1() of min(v, 0) only (NaN stays NaN) */
        for (R_xlen_t i0 = 0; i0 < n; i0 += ACTIVATION_BLOCK) {
            R_xlen_t len = n - i0 < ACTIVATION_BLOCK ? n - i0 :
                ACTIVATION_BLOCK;
            double *c = column + i0;
            double e[ACTIVATION_BLOCK];
            for (R_xlen_t i = 0; i < len; i++) {
                double v = c[i] + b;
                c[i] = v;
                e[i] = v > 0 ? 0.0 : v;
            }
            bj_expm1_array(e, e, len);
            for (R_xlen_t i = 0; i < len; i++)
                c[i] = c[i] > 0 ? c[i] : e[i];
        }
        break;
    case ACTIVATION_SOFTPLUS:
        /* max(v, 0) + log1p(exp(-|v|)) */
        for (R_xlen_t i0 = 0; i0 < n; i0 += ACTIVATION_BLOCK) {
            R_xlen_t len = n - i0 < ACTIVATION_BLOCK ? n - i0 :
                ACTIVATION_BLOCK;
            double *c = column + i0;
            double e[ACTIVATION_BLOCK];
            for (R_xlen_t i = 0; i < len; i++) {
                double v = c[i] + b;
                c[i] = v;
                e[i] = -fabs(v);
            }
            bj_exp_array(e, e, len);
            bj_log1p_array(e, e, len);
            for (R_xlen_t i = 0; i < len; i++)
                c[i] = (c[i] > 0 ? c[i] : 0.0) + e[i];
        }
        break;
    default:                /* linear */
        if (b != 0) {
            R_xlen_t i = 0;
#ifdef RELU_AVX
            if (relu_avx())
                i = add_bias_avx(column, n, b);
#endif
            for (; i < n; i++)
                column[i] += b;
        }
        break;
    }
}

/* Layers with fewer values keep their activation on one thread (a tanh
   of this many takes ~16 us, waking a second thread a few). */
#define ACTIVATION_PARALLEL_MIN 8192

/* out[, j] = activation(out[, j] + bias[j]) for an n x units matrix. The
   columns of the costly activations (those through vector_math) are shared
   between the threads of the products (options(bijectors.threads)): each
   value is computed alone, so the bits do not depend on the threads. */
void add_bias_and_activate(double *out, R_xlen_t n, R_xlen_t units,
                           const double *bias, int activation)
{
    int threads = 1;
    if (activation != ACTIVATION_RELU && activation != ACTIVATION_LINEAR &&
        n * units >= ACTIVATION_PARALLEL_MIN) {
        threads = bj_gemm_thread_count();
        if (threads > units)
            threads = (int) units;
    }
#ifdef _OPENMP
    /* vector_math chooses its path on first use: done here, before the
       threads could race to it */
    if (threads > 1)
        (void) bj_tanh(0.0);
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
#endif
    for (R_xlen_t j = 0; j < units; j++)
        activate_column(out + j * n, n, bias[j], activation);
}

/* The bias and activation of a layer as the epilogue of its product
   (bj_epilogue, gemm.h): activate_column() on each segment of a column of
   the product as soon as it is final, while it is in L1, instead of a
   second pass over the layer's output (for relu, that pass cost about a
   fifth of a log_prob() of 256 rows through a MAF). The same operations on
   the same values, so the same bits. */
typedef struct {
    const double *bias;
    int activation;
} layer_finish;

static void finish_segment(double *c, int rows, int column, const void *data)
{
    const layer_finish *f = (const layer_finish *) data;
    activate_column(c, rows, f->bias[column], f->activation);
}

/* Whether a layer's bias and activation go into its product's epilogue:
   for the activations computed value by value (relu, linear, tanh, whose
   vector code gives every value the same operations wherever it sits in
   the array). tanh keeps its own pass with several threads, where that
   pass is shared between them even when the product is not. */
static int finish_in_product(int activation)
{
    return activation == ACTIVATION_RELU ||
        activation == ACTIVATION_LINEAR ||
        (activation == ACTIVATION_TANH && bj_gemm_thread_count() == 1);
}

/* out (n x n_out) = activation(input (n x n_in, leading dimension ld) %*%
   kernel + bias), the product skipping the terms outside the kernel's mask
   extent (when not NULL) */
static void dense_layer(const double *input, int n, int ld, int n_in,
                        const double *kernel, int n_out,
                        const mask_extent *extent, const double *bias,
                        int activation, double *out)
{
    const double one = 1.0, zero = 0.0;
    layer_finish finish = {bias, activation};
    bj_epilogue epilogue = {finish_segment, &finish};
    int fused = finish_in_product(activation);
#ifdef RELU_AVX
    /* the choice made here, before the product's threads could race to it */
    (void) relu_avx();
#endif
    if (extent)
        bj_gemm_masked_finish(BJ_SKIP_K, extent->column_first,
                              extent->column_end, 'N', 'N', n, n_out, n_in,
                              one, input, ld, kernel, n_in, zero, out, n,
                              fused ? &epilogue : NULL);
    else
        bj_gemm_masked_finish(0, NULL, NULL, 'N', 'N', n, n_out, n_in, one,
                              input, ld, kernel, n_in, zero, out, n,
                              fused ? &epilogue : NULL);
    if (!fused)
        add_bias_and_activate(out, n, n_out, bias, activation);
}

/* A whole MLP. `input` is n rows with leading dimension ld; layer k maps
   units[k] to units[k + 1] columns. hidden[k] (k < layers - 1) receives the
   output of hidden layer k; out the output of the last layer. */
void mlp_forward(const double *input, int n, int ld, int layers,
                 const int *units, const double *const *kernels,
                 const double *const *biases, const int *activations,
                 double *const *hidden, double *out)
{
    mlp_forward_masked(input, n, ld, layers, units, kernels, biases,
                       activations, NULL, hidden, out);
}

/* Rows per part of a forward pass cut between threads: a multiple of
   every micro-kernel's tile height and width (as gemm.c cuts one product),
   so that each part's products are tiled as the whole's and give its bits. */
#define FORWARD_QUANTUM 24
#define FORWARD_MAX_PARTS 8
/* Fewer rows stay on one thread: each part's products must be worth a
   thread's wake-up. */
#define FORWARD_PARALLEL_MIN_ROWS 96

/* Whether the whole forward pass may be cut by rows: the package's own
   products (the system BLAS may use threads of its own) and activations
   computed value by value (see finish_in_product()). */
static int forward_by_rows(int n, int layers, const int *activations)
{
    if (bj_gemm_thread_count() < 2 || n < FORWARD_PARALLEL_MIN_ROWS)
        return 0;
    for (int k = 0; k < layers; k++)
        if (activations[k] != ACTIVATION_RELU &&
            activations[k] != ACTIVATION_LINEAR &&
            activations[k] != ACTIVATION_TANH)
            return 0;
    return bj_gemm_is_own();
}

/* The forward pass on threads, each taking a contiguous part of the rows
   through every layer (rows are independent until the network's output),
   in one parallel region instead of one or two per layer. Each value is
   computed by the operations one thread would use (the products' tiling
   is the same, the bias and activation are per value), so the bits do not
   depend on the threads. */
static void mlp_forward_rows(const double *input, int n, int ld, int layers,
                             const int *units, const double *const *kernels,
                             const double *const *biases,
                             const int *activations,
                             const mask_extent *const *extents,
                             double *const *hidden, double *out)
{
    int parts = bj_gemm_thread_count();
    if (parts > n / FORWARD_QUANTUM)
        parts = n / FORWARD_QUANTUM;
    if (parts > FORWARD_MAX_PARTS)
        parts = FORWARD_MAX_PARTS;
    int start[FORWARD_MAX_PARTS + 1];
    int quanta = n / FORWARD_QUANTUM;
    for (int p = 0; p < parts; p++)
        start[p] = (int) ((long long) quanta * p / parts) * FORWARD_QUANTUM;
    start[parts] = n;
    /* each part's packing buffer, for its largest product; everything that
       may raise an R error or choose a code path happens here, before the
       threads */
    size_t offset[FORWARD_MAX_PARTS + 1];
    offset[0] = 0;
    for (int p = 0; p < parts; p++) {
        size_t need = 8;
        for (int k = 0; k < layers; k++) {
            size_t w = bj_dgemm_work_doubles(start[p + 1] - start[p],
                                             units[k + 1], units[k]);
            if (w > need)
                need = w;
        }
        offset[p + 1] = offset[p] + need;
    }
    double *work = bj_dgemm_scratch(offset[parts]);
#ifdef RELU_AVX
    (void) relu_avx();
#endif
    (void) bj_tanh(0.0);
#ifdef _OPENMP
#pragma omp parallel for num_threads(parts) schedule(static, 1)
#endif
    for (int p = 0; p < parts; p++) {
        int r0 = start[p], rows = start[p + 1] - start[p];
        const double *layer_input = input + r0;
        int layer_ld = ld;
        for (int k = 0; k < layers; k++) {
            double *layer_out = (k == layers - 1 ? out : hidden[k]) + r0;
            const mask_extent *extent = extents ? extents[k] : NULL;
            layer_finish finish = {biases[k], activations[k]};
            bj_epilogue epilogue = {finish_segment, &finish};
            bj_dgemm_masked_finish_in(
                work + offset[p], extent ? BJ_SKIP_K : 0,
                extent ? extent->column_first : NULL,
                extent ? extent->column_end : NULL, 'N', 'N', rows,
                units[k + 1], units[k], 1.0, layer_input, layer_ld,
                kernels[k], units[k], 0.0, layer_out, n, &epilogue);
            layer_input = layer_out;
            layer_ld = n;
        }
    }
}

/* See network.h. */
void mlp_forward_masked(const double *input, int n, int ld, int layers,
                        const int *units, const double *const *kernels,
                        const double *const *biases, const int *activations,
                        const mask_extent *const *extents,
                        double *const *hidden, double *out)
{
    if (forward_by_rows(n, layers, activations)) {
        mlp_forward_rows(input, n, ld, layers, units, kernels, biases,
                         activations, extents, hidden, out);
        return;
    }
    const double *layer_input = input;
    int layer_ld = ld;
    for (int k = 0; k < layers; k++) {
        double *layer_out = k == layers - 1 ? out : hidden[k];
        dense_layer(layer_input, n, layer_ld, units[k], kernels[k],
                    units[k + 1], extents ? extents[k] : NULL, biases[k],
                    activations[k], layer_out);
        layer_input = layer_out;
        layer_ld = n;
    }
}

/* delta *= activation'(pre-activation), written with the layer's output
   `out` (after the activation), over `count` values. */
void multiply_activation_derivative(double *delta, const double *out,
                                    R_xlen_t count, int activation)
{
    switch (activation) {
    case ACTIVATION_RELU:
        /* delta's bits masked to +0 where out <= 0, without a branch (see
           add_bias_and_activate()) */
        relu_derivative(delta, out, count);
        break;
    case ACTIVATION_TANH:
        for (R_xlen_t i = 0; i < count; i++)
            delta[i] *= 1.0 - out[i] * out[i];
        break;
    case ACTIVATION_SIGMOID:
        for (R_xlen_t i = 0; i < count; i++)
            delta[i] *= out[i] * (1.0 - out[i]);
        break;
    case ACTIVATION_ELU:
        for (R_xlen_t i = 0; i < count; i++)
            delta[i] *= out[i] > 0 ? 1.0 : out[i] + 1.0;
        break;
    case ACTIVATION_SOFTPLUS:
        /* softplus' = sigmoid = 1 - exp(-softplus) */
        for (R_xlen_t i = 0; i < count; i++)
            delta[i] *= -expm1(-out[i]);
        break;
    default:                /* linear */
        break;
    }
}

/* x *= activation''(pre-activation), written with the layer's output `out`
   as multiply_activation_derivative() does: what the exact derivatives of
   FFJORD's trace terms need (src/ffjord_network.c). relu's is 0 (its kink
   is a set of measure zero), linear's 0. */
void multiply_activation_second_derivative(double *x, const double *out,
                                           R_xlen_t count, int activation)
{
    switch (activation) {
    case ACTIVATION_TANH:
        for (R_xlen_t i = 0; i < count; i++)
            x[i] *= -2.0 * out[i] * (1.0 - out[i] * out[i]);
        break;
    case ACTIVATION_SIGMOID:
        for (R_xlen_t i = 0; i < count; i++)
            x[i] *= out[i] * (1.0 - out[i]) * (1.0 - 2.0 * out[i]);
        break;
    case ACTIVATION_ELU:
        /* exp(v) = out + 1 for v <= 0 */
        for (R_xlen_t i = 0; i < count; i++)
            x[i] = out[i] > 0 ? 0.0 : x[i] * (out[i] + 1.0);
        break;
    case ACTIVATION_SOFTPLUS:
        /* sigmoid' = s (1 - s), s = sigmoid(v) = 1 - exp(-softplus) */
        for (R_xlen_t i = 0; i < count; i++) {
            double s = -expm1(-out[i]);
            x[i] *= s * exp(-out[i]);
        }
        break;
    default:                /* linear, relu */
        for (R_xlen_t i = 0; i < count; i++)
            x[i] = 0.0;
        break;
    }
}

/* Column sums of an n x units matrix, four accumulators per column. */
void column_sums(const double *x, R_xlen_t n, R_xlen_t units,
                        double *out)
{
    for (R_xlen_t j = 0; j < units; j++) {
        const double *column = x + j * n;
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        R_xlen_t i = 0;
        for (; i + 4 <= n; i += 4) {
            s0 += column[i];
            s1 += column[i + 1];
            s2 += column[i + 2];
            s3 += column[i + 3];
        }
        for (; i < n; i++)
            s0 += column[i];
        out[j] = (s0 + s1) + (s2 + s3);
    }
}

/* The reverse pass of mlp_forward(). `delta` (n x units[layers]) holds
   dLoss/d(output) on entry and is used as scratch, with `scratch` (n x the
   widest hidden layer). hidden[k] and `output` are the forward pass's layer
   outputs. Writes dLoss/d(kernel k) (times masks[k] when masks and masks[k]
   are non-NULL) and dLoss/d(bias k), unless grad_kernels is NULL (an
   input-gradient-only pass skips one dgemm per layer); when grad_input is
   non-NULL, ADDS dLoss/d(input) into it (n rows, leading dimension
   ld_grad). `extra` NULL, or per layer NULL or n x units[k + 1] gradients
   with respect to the layer's pre-activation from elsewhere (added to the
   ones from above). */
static void mlp_backward(const double *input, int n, int ld, int layers,
                         const int *units, const double *const *kernels,
                         const int *activations, const double *const *hidden,
                         const double *output, const double *const *masks,
                         const mask_extent *const *extents,
                         double *delta, double *scratch,
                         double *const *grad_kernels,
                         double *const *grad_biases, double *grad_input,
                         int ld_grad, const double *const *extra)
{
    const double one = 1.0, zero = 0.0;
    double *current = delta, *next = scratch;
    for (int k = layers - 1; k >= 0; k--) {
        int n_in = units[k], n_out = units[k + 1];
        const double *layer_out = k == layers - 1 ? output : hidden[k];
        multiply_activation_derivative(current, layer_out,
                                       (R_xlen_t) n * n_out, activations[k]);
        if (extra && extra[k]) {
            R_xlen_t count = (R_xlen_t) n * n_out;
            for (R_xlen_t i = 0; i < count; i++)
                current[i] += extra[k][i];
        }
        const mask_extent *extent = extents ? extents[k] : NULL;
        if (grad_kernels) {
            const double *layer_in = k == 0 ? input : hidden[k - 1];
            int layer_ld = k == 0 ? ld : n;
            /* dLoss/dW_k = input_k^T delta_k, only the tiles holding
               entries inside the mask */
            if (extent)
                bj_gemm_masked(BJ_SKIP_C_ROWS, extent->column_first,
                               extent->column_end, 'T', 'N', n_in, n_out, n,
                               one, layer_in, layer_ld, current, n, zero,
                               grad_kernels[k], n_in);
            else
                bj_gemm('T', 'N', n_in, n_out, n, one, layer_in, layer_ld,
                        current, n, zero, grad_kernels[k], n_in);
            /* times the mask, with +0 wherever it is 0 (whether or not the
               product computed the entry, whatever its sign or value) */
            if (masks && masks[k])
                apply_mask(grad_kernels[k], masks[k], (R_xlen_t) n_in * n_out);
            column_sums(current, n, n_out, grad_biases[k]);
        }
        /* dLoss/d(input_k) = delta_k W_k^T: column p of W_k^T is row p of
           W_k, non-zero only in the row's extent */
        if (k > 0 || grad_input) {
            double *target = k > 0 ? next : grad_input;
            int ld_target = k > 0 ? n : ld_grad;
            double beta = k > 0 ? zero : one;
            if (extent)
                bj_gemm_masked(BJ_SKIP_K, extent->row_first, extent->row_end,
                               'N', 'T', n, n_in, n_out, one, current, n,
                               kernels[k], n_in, beta, target, ld_target);
            else
                bj_gemm('N', 'T', n, n_in, n_out, one, current, n, kernels[k],
                        n_in, beta, target, ld_target);
        }
        if (k > 0) {
            double *swap = current;
            current = next;
            next = swap;
        }
    }
}

/* ---- .Call entries ------------------------------------------------------ */

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

/* The layers of a network: checks `kernels` (a chain of double matrices)
   and `activations` (one known code per layer), and returns the number of
   layers with the units of each (units[0] inputs, units[k] outputs of
   layer k) and pointers to the kernels, in R_alloc'd arrays. */
int network_layers(SEXP kernels, SEXP activations, int **units_out,
                   const double ***kernel_out)
{
    if (TYPEOF(kernels) != VECSXP)
        Rf_error("`kernels` must be a list");
    R_xlen_t layers_long = XLENGTH(kernels);
    if (layers_long < 1 || layers_long > 10000)
        Rf_error("the network must have between 1 and 10000 layers");
    int layers = (int) layers_long;
    if (TYPEOF(activations) != INTSXP || XLENGTH(activations) != layers)
        Rf_error("`activations` must be an integer vector with one code per "
                 "layer (%d)", layers);
    int *units = (int *) R_alloc((size_t) layers + 1, sizeof(int));
    const double **kernel = (const double **) R_alloc((size_t) layers,
                                                      sizeof(double *));
    const int *activation = INTEGER_RO(activations);
    for (int k = 0; k < layers; k++) {
        int n_in, n_out;
        SEXP kernel_k = VECTOR_ELT(kernels, k);
        matrix_dims(kernel_k, "kernel", k + 1, &n_in, &n_out);
        if (k == 0)
            units[0] = n_in;
        else if (n_in != units[k])
            Rf_error("kernel %d has %d rows, but layer %d has %d units",
                     k + 1, n_in, k, units[k]);
        units[k + 1] = n_out;
        if (activation[k] < 0 || activation[k] >= N_ACTIVATIONS)
            Rf_error("activation code %d of layer %d is unknown",
                     activation[k], k + 1);
        kernel[k] = REAL_RO(kernel_k);
    }
    *units_out = units;
    *kernel_out = kernel;
    return layers;
}

/* C_mlp_forward(input, rows, first_column, kernels, biases, activations,
   masks, keep_hidden): the network applied to columns first_column + 1, ...,
   first_column + nrow(kernels[[1]]) of `input` seen as a `rows`-row matrix
   (any dim attribute is ignored, so arrays need no reshaping copy). Returns
   the rows x ncol(kernels[[L]]) output, or with keep_hidden
   list(output = , hidden = list(<rows x units> for each hidden layer)).
   masks is NULL or as C_mlp_backward()'s: the kernels must be zero where
   their masks are (they are stored multiplied by them), and the products
   skip what the masks' extents allow. */
SEXP C_mlp_forward(SEXP input, SEXP rows, SEXP first_column, SEXP kernels,
                   SEXP biases, SEXP activations, SEXP masks,
                   SEXP keep_hidden)
{
    int nprot = 0;
    if (TYPEOF(input) != REALSXP)
        Rf_error("`input` must be a double vector or array, not of type %s",
                 Rf_type2char(TYPEOF(input)));
    R_xlen_t n = whole_count(rows, "rows");
    R_xlen_t offset = whole_count(first_column, "first_column");
    int keep = scalar_logical(keep_hidden, "keep_hidden");
    int *units;
    const double **kernel;
    int layers = network_layers(kernels, activations, &units, &kernel);
    const double **bias = network_biases(biases, layers, units);
    const mask_extent **extents = network_mask_extents(
        network_masks(masks, layers, units), layers, units);
    if (n > INT_MAX)
        Rf_error("the network takes at most %d rows at a time, not %lld",
                 INT_MAX, (long long) n);
    const int *activation = INTEGER_RO(activations);
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
        mlp_forward_masked(REAL_RO(input) + offset * n, (int) n, (int) n,
                           layers, units, kernel, bias, activation,
                           (const mask_extent *const *) extents, hidden,
                           REAL(out));

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

/* The row count of a double matrix `x` must be n and its columns `columns`. */
static void check_layer_matrix(SEXP x, const char *what, int index, int n,
                               int columns)
{
    int rows, cols;
    matrix_dims(x, what, index, &rows, &cols);
    if (rows != n || cols != columns)
        Rf_error("%s %d must be a %d x %d matrix, not %d x %d", what, index,
                 n, columns, rows, cols);
}

/* See network.h. */
const double **network_biases(SEXP biases, int layers, const int *units)
{
    if (TYPEOF(biases) != VECSXP || XLENGTH(biases) != layers)
        Rf_error("`biases` must be a list with one vector per layer (%d)",
                 layers);
    const double **bias = (const double **) R_alloc((size_t) layers,
                                                    sizeof(double *));
    for (int k = 0; k < layers; k++) {
        SEXP bias_k = VECTOR_ELT(biases, k);
        if (TYPEOF(bias_k) != REALSXP || XLENGTH(bias_k) != units[k + 1])
            Rf_error("bias %d must be a double vector of length %d", k + 1,
                     units[k + 1]);
        bias[k] = REAL_RO(bias_k);
    }
    return bias;
}

/* See network.h. */
const double **network_masks(SEXP masks, int layers, const int *units)
{
    if (masks == R_NilValue)
        return NULL;
    if (TYPEOF(masks) != VECSXP || XLENGTH(masks) != layers)
        Rf_error("`masks` must be NULL or a list with one element per layer");
    const double **mask = (const double **) R_alloc((size_t) layers,
                                                    sizeof(double *));
    for (int k = 0; k < layers; k++) {
        SEXP m = VECTOR_ELT(masks, k);
        mask[k] = NULL;
        if (m != R_NilValue) {
            check_layer_matrix(m, "mask", k + 1, units[k], units[k + 1]);
            mask[k] = REAL_RO(m);
        }
    }
    return mask;
}

/* The ints the extent of a fan_in x fan_out mask takes. */
static R_xlen_t extent_size(int fan_in, int fan_out)
{
    return 2 * ((R_xlen_t) fan_in + fan_out);
}

/* The extent of a fan_in x fan_out mask into `storage` (extent_size()
   ints): any value other than 0 (NaN too) counts as non-zero. */
static mask_extent compute_extent(const double *mask, int fan_in,
                                  int fan_out, int *storage)
{
    int *column_first = storage, *column_end = column_first + fan_out;
    int *row_first = column_end + fan_out, *row_end = row_first + fan_in;
    for (int p = 0; p < fan_in; p++)
        row_first[p] = row_end[p] = 0;
    for (int j = 0; j < fan_out; j++) {
        const double *column = mask + (R_xlen_t) j * fan_in;
        int first = 0, end = 0;
        for (int p = 0; p < fan_in; p++) {
            if (column[p] == 0)
                continue;
            if (end == 0)
                first = p;
            end = p + 1;
            /* columns come in order: the first one seen is the row's
               first */
            if (row_end[p] == 0)
                row_first[p] = j;
            row_end[p] = j + 1;
        }
        column_first[j] = first;
        column_end[j] = end;
    }
    mask_extent extent = {column_first, column_end, row_first, row_end};
    return extent;
}

/* The extents of the masks into `storage` (the sum of extent_size() over
   the masked layers), the array of pointers R_alloc'd. */
static const mask_extent **fill_extents(const double *const *masks,
                                        int layers, const int *units,
                                        int *storage)
{
    const mask_extent **extents = (const mask_extent **) R_alloc(
        (size_t) layers, sizeof(mask_extent *));
    mask_extent *values = (mask_extent *) R_alloc((size_t) layers,
                                                  sizeof(mask_extent));
    for (int k = 0; k < layers; k++) {
        extents[k] = NULL;
        if (!masks[k])
            continue;
        values[k] = compute_extent(masks[k], units[k], units[k + 1], storage);
        storage += extent_size(units[k], units[k + 1]);
        extents[k] = values + k;
    }
    return extents;
}

static R_xlen_t extents_size(const double *const *masks, int layers,
                             const int *units)
{
    R_xlen_t size = 0;
    for (int k = 0; k < layers; k++)
        if (masks[k])
            size += extent_size(units[k], units[k + 1]);
    return size;
}

/* See network.h. */
const mask_extent **network_mask_extents(const double *const *masks,
                                         int layers, const int *units)
{
    if (!masks)
        return NULL;
    R_xlen_t size = extents_size(masks, layers, units);
    int *storage = (int *) R_alloc((size_t) size + 1, sizeof(int));
    return fill_extents(masks, layers, units, storage);
}

/* See network.h. The cache holds `mask_extents` (the ints) and
   `mask_extents_of` (the masks list, kept alive so that its address
   identifies it). */
const mask_extent **network_mask_extents_cached(SEXP masks,
                                                const double *const *mask,
                                                int layers, const int *units,
                                                SEXP cache)
{
    if (!mask)
        return NULL;
    if (TYPEOF(cache) != ENVSXP)
        Rf_error("internal error: the mask extents need an environment");
    SEXP values_symbol = Rf_install("mask_extents");
    SEXP of_symbol = Rf_install("mask_extents_of");
    SEXP values = Rf_findVarInFrame(cache, values_symbol);
    SEXP of = Rf_findVarInFrame(cache, of_symbol);
    R_xlen_t size = extents_size(mask, layers, units);
    if (of != masks || TYPEOF(values) != INTSXP || XLENGTH(values) != size) {
        values = PROTECT(Rf_allocVector(INTSXP, size));
        /* computed whole before either binding changes */
        const mask_extent **extents = fill_extents(mask, layers, units,
                                                   INTEGER(values));
        Rf_defineVar(values_symbol, values, cache);
        Rf_defineVar(of_symbol, masks, cache);
        UNPROTECT(1);
        return extents;
    }
    /* the stored ints, read back into pointers */
    const mask_extent **extents = (const mask_extent **) R_alloc(
        (size_t) layers, sizeof(mask_extent *));
    mask_extent *items = (mask_extent *) R_alloc((size_t) layers,
                                                 sizeof(mask_extent));
    const int *storage = INTEGER_RO(values);
    for (int k = 0; k < layers; k++) {
        extents[k] = NULL;
        if (!mask[k])
            continue;
        int fan_in = units[k], fan_out = units[k + 1];
        items[k].column_first = storage;
        items[k].column_end = storage + fan_out;
        items[k].row_first = storage + 2 * fan_out;
        items[k].row_end = storage + 2 * fan_out + fan_in;
        storage += extent_size(fan_in, fan_out);
        extents[k] = items + k;
    }
    return extents;
}

/* See network.h. */
network_trace check_network_trace(int n, SEXP kernels, SEXP activations,
                                  SEXP hidden, SEXP output, SEXP masks)
{
    network_trace trace;
    int *units;
    const double **kernel;
    int layers = network_layers(kernels, activations, &units, &kernel);
    if (TYPEOF(hidden) != VECSXP || XLENGTH(hidden) != layers - 1)
        Rf_error("`hidden` must be a list of the %d hidden layers' outputs",
                 layers - 1);
    const double **mask = network_masks(masks, layers, units);
    const double **hidden_out = (const double **) R_alloc((size_t) layers,
                                                          sizeof(double *));
    int widest = 1;
    for (int k = 0; k < layers; k++) {
        if (units[k + 1] > widest)
            widest = units[k + 1];
        hidden_out[k] = NULL;
        if (k < layers - 1) {
            SEXP h = VECTOR_ELT(hidden, k);
            check_layer_matrix(h, "hidden output", k + 1, n, units[k + 1]);
            hidden_out[k] = REAL_RO(h);
        }
    }
    check_layer_matrix(output, "output", 1, n, units[layers]);
    trace.n = n;
    trace.layers = layers;
    trace.widest = widest;
    trace.units = units;
    trace.kernels = kernel;
    trace.activations = INTEGER_RO(activations);
    trace.hidden = hidden_out;
    trace.output = REAL_RO(output);
    trace.masks = mask;
    trace.extents = network_mask_extents(mask, layers, units);
    return trace;
}

/* See network.h. */
/* list(kernels = , biases = , input = ): what every network backward entry
   point returns. Allocates; the result is not protected. */
SEXP network_backward_result(SEXP kernels, SEXP biases, SEXP input)
{
    SEXP result = PROTECT(Rf_allocVector(VECSXP, 3));
    SEXP names = PROTECT(Rf_allocVector(STRSXP, 3));
    SET_VECTOR_ELT(result, 0, kernels);
    SET_VECTOR_ELT(result, 1, biases);
    SET_VECTOR_ELT(result, 2, input);
    SET_STRING_ELT(names, 0, Rf_mkChar("kernels"));
    SET_STRING_ELT(names, 1, Rf_mkChar("biases"));
    SET_STRING_ELT(names, 2, Rf_mkChar("input"));
    Rf_setAttrib(result, R_NamesSymbol, names);
    UNPROTECT(2);
    return result;
}

SEXP network_gradient_lists(const network_trace *trace, double **grad_kernels,
                            double **grad_biases)
{
    const int *units = trace->units;
    SEXP kernel_list = PROTECT(Rf_allocVector(VECSXP, trace->layers));
    SEXP bias_list = PROTECT(Rf_allocVector(VECSXP, trace->layers));
    for (int k = 0; k < trace->layers; k++) {
        SEXP gk = Rf_allocMatrix(REALSXP, units[k], units[k + 1]);
        SET_VECTOR_ELT(kernel_list, k, gk);
        grad_kernels[k] = REAL(gk);
        SEXP gb = Rf_allocVector(REALSXP, units[k + 1]);
        SET_VECTOR_ELT(bias_list, k, gb);
        grad_biases[k] = REAL(gb);
    }
    SEXP result = PROTECT(Rf_allocVector(VECSXP, 2));
    SEXP names = PROTECT(Rf_allocVector(STRSXP, 2));
    SET_VECTOR_ELT(result, 0, kernel_list);
    SET_VECTOR_ELT(result, 1, bias_list);
    SET_STRING_ELT(names, 0, Rf_mkChar("kernels"));
    SET_STRING_ELT(names, 1, Rf_mkChar("biases"));
    Rf_setAttrib(result, R_NamesSymbol, names);
    UNPROTECT(4);
    return result;
}

/* See network.h. */
void network_backward(const network_trace *trace, const double *input,
                      int ld, double *delta, double *scratch,
                      double *const *grad_kernels, double *const *grad_biases,
                      double *grad_input, int ld_grad)
{
    mlp_backward(input, trace->n, ld, trace->layers, trace->units,
                 trace->kernels, trace->activations, trace->hidden,
                 trace->output, trace->masks, trace->extents, delta, scratch,
                 grad_kernels, grad_biases, grad_input, ld_grad, NULL);
}

/* See network.h. */
void network_backward_injected(const network_trace *trace,
                               const double *input, int ld, double *delta,
                               double *scratch, double *const *grad_kernels,
                               double *const *grad_biases, double *grad_input,
                               int ld_grad, const double *const *extra)
{
    mlp_backward(input, trace->n, ld, trace->layers, trace->units,
                 trace->kernels, trace->activations, trace->hidden,
                 trace->output, trace->masks, trace->extents, delta, scratch,
                 grad_kernels, grad_biases, grad_input, ld_grad, extra);
}

/* C_mlp_backward(input, rows, first_column, kernels, activations, hidden,
   output, grad_output, masks, input_gradient): the reverse pass of
   C_mlp_forward(input, rows, first_column, kernels, ...) whose keep_hidden
   result gave `hidden` and `output`. grad_output is dLoss/d(output) (rows x
   ncol(kernels[[L]])); masks is NULL or a list with, per layer, NULL or a
   0/1 matrix shaped like the kernel (the kernel gradient is multiplied by
   it). input_gradient is NULL (no input gradient) or a double vector like
   `input`: the result's `input` is then a copy of it (same dim) with
   dLoss/d(input) added into the network's input columns. Returns
   list(kernels = <one gradient per kernel>, biases = , input = ). */
SEXP C_mlp_backward(SEXP input, SEXP rows, SEXP first_column, SEXP kernels,
                    SEXP activations, SEXP hidden, SEXP output,
                    SEXP grad_output, SEXP masks, SEXP input_gradient)
{
    int nprot = 0;
    if (TYPEOF(input) != REALSXP)
        Rf_error("`input` must be a double vector or array, not of type %s",
                 Rf_type2char(TYPEOF(input)));
    R_xlen_t n_long = whole_count(rows, "rows");
    R_xlen_t offset = whole_count(first_column, "first_column");
    if (n_long < 1 || n_long > INT_MAX)
        Rf_error("`rows` must be between 1 and %d", INT_MAX);
    int n = (int) n_long;
    network_trace trace = check_network_trace(n, kernels, activations, hidden,
                                              output, masks);
    int layers = trace.layers;
    const int *units = trace.units;
    check_layer_matrix(grad_output, "grad_output", 1, n, units[layers]);
    R_xlen_t length = XLENGTH(input);
    if (length % n != 0 || offset + units[0] > length / n)
        Rf_error("`input` (%lld values in %d rows) has no columns "
                 "%lld..%lld for the network's %d inputs",
                 (long long) length, n, (long long) offset + 1,
                 (long long) offset + units[0], units[0]);
    int want_input = input_gradient != R_NilValue;
    if (want_input && (TYPEOF(input_gradient) != REALSXP ||
                       XLENGTH(input_gradient) != length))
        Rf_error("`input_gradient` must be NULL or a double vector of the "
                 "input's length (%lld)", (long long) length);

    double **grad_kernel = (double **) R_alloc((size_t) layers,
                                               sizeof(double *));
    double **grad_bias = (double **) R_alloc((size_t) layers,
                                             sizeof(double *));
    SEXP gradients = PROTECT(network_gradient_lists(&trace, grad_kernel,
                                                    grad_bias));
    nprot++;
    SEXP grad_input = R_NilValue;
    if (want_input) {
        grad_input = PROTECT(copy_double_vector(input_gradient));
        nprot++;
        copy_array_shape(grad_input, input_gradient);
    }

    /* both buffers hold any layer's delta: n x the widest layer */
    size_t buffer = (size_t) n * (size_t) trace.widest;
    double *delta = (double *) R_alloc(buffer, sizeof(double));
    double *scratch = (double *) R_alloc(buffer, sizeof(double));
    memcpy(delta, REAL_RO(grad_output),
           (size_t) n * (size_t) units[layers] * sizeof(double));
    network_backward(&trace, REAL_RO(input) + offset * n, n, delta, scratch,
                     grad_kernel, grad_bias,
                     want_input ? REAL(grad_input) + offset * n : NULL, n);

    SEXP result = network_backward_result(VECTOR_ELT(gradients, 0),
                                          VECTOR_ELT(gradients, 1),
                                          grad_input);
    UNPROTECT(nprot);
    return result;
}
