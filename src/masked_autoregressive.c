/* The reverse pass of a masked autoregressive flow's forward (sampling)
   direction, which is what an inverse autoregressive flow, Invert(MAF),
   runs to compute log_prob.

   The forward pass (R/masked_autoregressive.R) starts from y = 0 and makes
   D passes of y = x * exp(s(y)) + t(y), with s (clipped) and t the MADE's
   outputs. Output i of a MADE reads only y_1..y_{i-1}, so after pass i
   column i is final, and at the end y is the solution of

     y = G(x, y) = x * exp(s(y)) + t(y),     log-det l(y) = sum_i s_i(y).

   The last pass's network trace is the network at that y (its input differs
   from y only in column D, which reaches no output). The gradient of the
   whole sequential computation is therefore that of the implicit function
   (the unrolled passes give the same numbers: each pass's derivative at the
   columns it finalises is the implicit one). With the upstream gradients
   g_y = dL/dy and g_l = dL/d(log-det) and A = dG/dy at fixed x (strictly
   lower triangular: row i reads columns before i), the adjoint lambda solves

     lambda = g_y + A^T lambda + g_l * dl/dy,

   and then dL/dx = lambda * exp(s) and dL/dtheta = lambda^T dG/dtheta +
   g_l * dl/dtheta. The right-hand side of the adjoint equation is one
   reverse pass of the affine step and of the network (cotangents lambda on
   G and g_l on the log-det, gradient taken with respect to the network's
   input). Iterating it from lambda = g_y solves the triangular system by
   back substitution, one column per sweep: column D is exact from the start
   (no output and no log-scale reads y_D), and a sweep makes column i exact
   once columns after i are. So D - 1 input-gradient-only sweeps give
   lambda, and one full reverse pass then gives dL/dx and the parameter
   gradients: D network reverse passes in all, the first D - 1 without the
   kernel gradients. */

#include <limits.h>
#include <string.h>
#include "affine_coupling.h"
#include "network.h"

/* The kernel: `x` and `network_input` are n x d, `trace` the network's last
   forward pass (its output is the affine parameters), `layout` the affine
   step (direction 1). `adjoint`, `next` (n x d) and `delta`, `scratch`
   (n x trace->widest) are scratch. Writes grad_x (n x d) and the parameter
   gradients. */
static void maf_forward_backward(const double *x, const double *network_input,
                                 const network_trace *trace,
                                 const affine_layout *layout,
                                 int clip_gradient, const double *grad_y,
                                 const double *grad_log_det, double *adjoint,
                                 double *next, double *delta, double *scratch,
                                 double *grad_x, double *const *grad_kernels,
                                 double *const *grad_biases)
{
    R_xlen_t n = layout->n, d = layout->d;
    size_t size = (size_t) (n * d) * sizeof(double);
    memcpy(adjoint, grad_y, size);
    for (R_xlen_t sweep = 1; sweep < d; sweep++) {
        /* grad_x is only scratch here; delta receives dL/d(params) */
        affine_columns_backward(x, n, d, trace->output, layout->n_params,
                                layout->n_columns, layout->columns,
                                layout->shift, layout->log_scale,
                                layout->clip_min, layout->clip_max,
                                clip_gradient, 1, adjoint, grad_log_det,
                                grad_x, delta);
        memcpy(next, grad_y, size);
        network_backward(trace, network_input, (int) n, delta, scratch, NULL,
                         NULL, next, (int) n);
        double *swap = adjoint;
        adjoint = next;
        next = swap;
    }
    affine_columns_backward(x, n, d, trace->output, layout->n_params,
                            layout->n_columns, layout->columns, layout->shift,
                            layout->log_scale, layout->clip_min,
                            layout->clip_max, clip_gradient, 1, adjoint,
                            grad_log_det, grad_x, delta);
    network_backward(trace, network_input, (int) n, delta, scratch,
                     grad_kernels, grad_biases, NULL, (int) n);
}

/* C_maf_forward_backward(x, network_input, kernels, activations, hidden,
   output, masks, columns, shift_columns, log_scale_columns, clip,
   clip_gradient, grad_y, grad_log_det): `x` is the forward pass's input
   (a double vector or array of nrow(output) rows of D values),
   `network_input` the input of its last network pass (D values per row),
   `kernels`, `activations`, `masks` the MADE's and `hidden`, `output` what
   C_mlp_forward(keep_hidden = TRUE) returned on that pass; `columns` must
   be 1..D, and `shift_columns`, `log_scale_columns`, `clip` are the affine
   step's arguments as in C_affine_transform(). grad_y is dLoss/dy (like x),
   grad_log_det dLoss/d(log-det) (one value per row), clip_gradient as in
   C_affine_backward(). Returns list(input = dLoss/dx with x's dim,
   kernels = , biases = ). */
SEXP C_maf_forward_backward(SEXP x, SEXP network_input, SEXP kernels,
                            SEXP activations, SEXP hidden, SEXP output,
                            SEXP masks, SEXP columns, SEXP shift_columns,
                            SEXP log_scale_columns, SEXP clip,
                            SEXP clip_gradient, SEXP grad_y,
                            SEXP grad_log_det)
{
    int nprot = 0;
    affine_layout layout = check_affine_layout(x, output, columns,
                                               shift_columns,
                                               log_scale_columns, clip);
    R_xlen_t n = layout.n, d = layout.d, length = XLENGTH(x);
    if (n < 1 || n > INT_MAX)
        Rf_error("`output` must have between 1 and %d rows", INT_MAX);
    if (layout.n_columns != d)
        Rf_error("`columns` must list every one of the %lld columns",
                 (long long) d);
    int clip_grad = scalar_logical(clip_gradient, "clip_gradient");
    if (TYPEOF(network_input) != REALSXP || XLENGTH(network_input) != length)
        Rf_error("`network_input` must be a double vector of the length of "
                 "`x` (%lld)", (long long) length);
    if (TYPEOF(grad_y) != REALSXP || XLENGTH(grad_y) != length)
        Rf_error("`grad_y` must be a double vector of the length of `x` "
                 "(%lld)", (long long) length);
    if (TYPEOF(grad_log_det) != REALSXP || XLENGTH(grad_log_det) != n)
        Rf_error("`grad_log_det` must be a double vector with one value per "
                 "row (%lld)", (long long) n);
    network_trace trace = check_network_trace((int) n, kernels, activations,
                                              hidden, output, masks);
    if (trace.units[0] != d)
        Rf_error("the network reads %d inputs, but the events have %lld",
                 trace.units[0], (long long) d);

    double **grad_kernel = (double **) R_alloc((size_t) trace.layers,
                                               sizeof(double *));
    double **grad_bias = (double **) R_alloc((size_t) trace.layers,
                                             sizeof(double *));
    SEXP gradients = PROTECT(network_gradient_lists(&trace, grad_kernel,
                                                    grad_bias));
    nprot++;
    SEXP grad_x = PROTECT(Rf_allocVector(REALSXP, length));
    nprot++;
    copy_array_shape(grad_x, x);

    size_t values = (size_t) length;
    size_t buffer = (size_t) n * (size_t) trace.widest;
    double *adjoint = (double *) R_alloc(values, sizeof(double));
    double *next = (double *) R_alloc(values, sizeof(double));
    double *delta = (double *) R_alloc(buffer, sizeof(double));
    double *scratch = (double *) R_alloc(buffer, sizeof(double));
    maf_forward_backward(REAL_RO(x), REAL_RO(network_input), &trace, &layout,
                         clip_grad, REAL_RO(grad_y), REAL_RO(grad_log_det),
                         adjoint, next, delta, scratch, REAL(grad_x),
                         grad_kernel, grad_bias);

    SEXP result = PROTECT(Rf_allocVector(VECSXP, 3));
    nprot++;
    SEXP names = PROTECT(Rf_allocVector(STRSXP, 3));
    nprot++;
    SET_VECTOR_ELT(result, 0, grad_x);
    SET_VECTOR_ELT(result, 1, VECTOR_ELT(gradients, 0));
    SET_VECTOR_ELT(result, 2, VECTOR_ELT(gradients, 1));
    SET_STRING_ELT(names, 0, Rf_mkChar("input"));
    SET_STRING_ELT(names, 1, Rf_mkChar("kernels"));
    SET_STRING_ELT(names, 2, Rf_mkChar("biases"));
    Rf_setAttrib(result, R_NamesSymbol, names);
    UNPROTECT(nprot);
    return result;
}
