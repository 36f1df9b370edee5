/* The parts of src/network.c that another kernel family reuses: the
   masked autoregressive flow's forward direction (src/masked_autoregressive.c)
   runs the network's reverse pass several times on one forward pass. These
   are kernels and argument checks, not .Call entries. */

#ifndef BIJECTORS_NETWORK_H
#define BIJECTORS_NETWORK_H

#include "bijectors.h"

/* Where a masked kernel (fan_in x fan_out) can be non-zero: column j in
   rows [column_first[j], column_end[j]), row p in columns
   [row_first[p], row_end[p]) (first == end == 0 when none). The products
   with the kernel skip the rest (bj_gemm_masked(), gemm.h): the forward
   product's terms by the columns, the input gradient's by the rows, the
   kernel gradient's tiles by the columns. With MADE's default degrees the
   extents are prefixes and suffixes, and about half of each kernel is
   skipped. */
typedef struct {
    const int *column_first, *column_end, *row_first, *row_end;
} mask_extent;

/* What a forward pass with keep_hidden left, checked against the network:
   n rows; units[0] inputs and units[k] outputs of layer k; the hidden
   layers' outputs (after the activation) and the last layer's output;
   masks NULL (none) or, per layer, NULL or a 0/1 matrix shaped like the
   kernel; widest the largest of units[1..layers]. The pointers point into R
   vectors that the caller keeps alive; the arrays are R_alloc'd. */
typedef struct {
    int n, layers, widest;
    const int *units;
    const double *const *kernels;
    const int *activations;
    const double *const *hidden;
    const double *output;
    const double *const *masks;
    const mask_extent *const *extents;
} network_trace;

/* The layers of a network, checked: returns their number, with units[0]
   inputs and units[k] outputs of layer k and the kernels' data (R_alloc'd
   arrays pointing into `kernels`). */
int network_layers(SEXP kernels, SEXP activations, int **units_out,
                   const double ***kernel_out);

/* The whole MLP on n rows of `input` (leading dimension ld): hidden[k]
   receives hidden layer k's output (after its activation), out the last
   layer's. */
void mlp_forward(const double *input, int n, int ld, int layers,
                 const int *units, const double *const *kernels,
                 const double *const *biases, const int *activations,
                 double *const *hidden, double *out);

/* mlp_forward() with, per layer, NULL or the extent of the layer's mask
   (`extents` NULL: none); the kernels must be zero outside them. */
void mlp_forward_masked(const double *input, int n, int ld, int layers,
                        const int *units, const double *const *kernels,
                        const double *const *biases, const int *activations,
                        const mask_extent *const *extents,
                        double *const *hidden, double *out);

/* delta *= activation'(pre-activation), from the layer's output `out`. */
void multiply_activation_derivative(double *delta, const double *out,
                                    R_xlen_t count, int activation);

/* The extents of a network's masks (network_masks()' result, or NULL):
   NULL when there are none, else per layer NULL or the mask's extent, in
   R_alloc'd memory. */
const mask_extent **network_mask_extents(const double *const *masks,
                                         int layers, const int *units);

/* The same, computed once and kept in the environment `cache` (as an
   integer vector, with the `masks` list it was computed from: a new list
   computes them anew). */
const mask_extent **network_mask_extents_cached(SEXP masks,
                                                const double *const *mask,
                                                int layers, const int *units,
                                                SEXP cache);

network_trace check_network_trace(int n, SEXP kernels, SEXP activations,
                                  SEXP hidden, SEXP output, SEXP masks);

/* A network's biases (a list with one double vector of units[k + 1] values
   per layer) and masks (NULL, or a list with, per layer, NULL or a double
   units[k] x units[k + 1] matrix) as pointers, checked; the masks' array is
   NULL when `masks` is, and holds NULL for a layer without one. R_alloc'd. */
const double **network_biases(SEXP biases, int layers, const int *units);
const double **network_masks(SEXP masks, int layers, const int *units);

/* list(kernels = , biases = ) of fresh gradient arrays shaped like the
   network's, their data pointers in grad_kernels and grad_biases (arrays of
   trace->layers pointers). The result is not protected. */
SEXP network_gradient_lists(const network_trace *trace, double **grad_kernels,
                            double **grad_biases);

/* list(kernels = , biases = , input = ), unprotected. */
SEXP network_backward_result(SEXP kernels, SEXP biases, SEXP input);

/* The reverse pass of the traced forward pass on `input` (n rows, leading
   dimension ld). `delta` (n x trace->widest) holds dLoss/d(output) on entry
   and is overwritten, as is `scratch` (same size). With grad_kernels and
   grad_biases non-NULL, writes the parameter gradients (kernels times their
   masks); with both NULL, skips them (an input-gradient-only pass). With
   grad_input non-NULL, ADDS dLoss/d(input) into it (leading dimension
   ld_grad). */
void network_backward(const network_trace *trace, const double *input,
                      int ld, double *delta, double *scratch,
                      double *const *grad_kernels, double *const *grad_biases,
                      double *grad_input, int ld_grad);

/* network_backward() with, in `extra` (NULL, or per layer NULL or an n x
   units[k + 1] matrix), gradients with respect to each layer's
   pre-activation that come from elsewhere than the output: added to the
   ones the pass sends down. */
void network_backward_injected(const network_trace *trace,
                               const double *input, int ld, double *delta,
                               double *scratch, double *const *grad_kernels,
                               double *const *grad_biases, double *grad_input,
                               int ld_grad, const double *const *extra);

/* x *= activation''(pre-activation), from the layer's output `out`. */
void multiply_activation_second_derivative(double *x, const double *out,
                                           R_xlen_t count, int activation);

/* The number of activation codes (0 .. count - 1) of R/network.R. */
#define NETWORK_ACTIVATION_COUNT 6

/* Layer arithmetic shared with the convolutional networks (src/conv2d.c).
   add_bias_and_activate(): out[, j] = activation(out[, j] + bias[j]) for an
   n x units matrix; activation codes as in R/network.R.
   multiply_activation_derivative(): delta *= activation'(pre-activation),
   written with the layer's output `out`, over `count` values.
   column_sums(): the column sums of an n x units matrix. */
void add_bias_and_activate(double *out, R_xlen_t n, R_xlen_t units,
                           const double *bias, int activation);
void multiply_activation_derivative(double *delta, const double *out,
                                    R_xlen_t count, int activation);
void column_sums(const double *x, R_xlen_t n, R_xlen_t units, double *out);

#endif
