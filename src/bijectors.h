#ifndef BIJECTORS_H
#define BIJECTORS_H

#define R_NO_REMAP
#include <R.h>
#include <Rinternals.h>

/* Helpers shared by the kernel families (utils.c). */
SEXP copy_double_vector(SEXP x);
void copy_array_shape(SEXP to, SEXP from);
void check_double_array(SEXP x, const char *what);
double scalar_double(SEXP x, const char *what);
int scalar_logical(SEXP x, const char *what);
SEXP copy_double_with_attributes(SEXP x);
SEXP owned_list_binding(SEXP owner, SEXP symbol);
SEXP owned_double_element(SEXP container, R_xlen_t index);

/* .Call entry points */
SEXP C_gemm_test(SEXP which, SEXP trans, SEXP dims, SEXP lds, SEXP alpha,
                 SEXP beta, SEXP A, SEXP B, SEXP C, SEXP repeats);
SEXP C_gemm_masked_test(SEXP which, SEXP skip, SEXP ranges, SEXP trans,
                        SEXP dims, SEXP lds, SEXP alpha, SEXP beta, SEXP A,
                        SEXP B, SEXP C, SEXP repeats);
SEXP C_gemm_kernel(void);
SEXP C_vector_math_test(SEXP name, SEXP x, SEXP path);
SEXP C_vector_math_tanh_shift_test(SEXP x, SEXP b, SEXP path);
SEXP C_vector_math_pow_test(SEXP name, SEXP xh, SEXP xl, SEXP e, SEXP s,
                            SEXP path);
SEXP C_gemm_backend(SEXP mode);
SEXP C_gemm_threads(SEXP threads);
SEXP C_gemm_calibrate(void);
SEXP C_copy_double(SEXP x);
SEXP C_all_finite(SEXP x);
/* A batch-normalization layer's state: list(gamma, beta, moving_mean,
   moving_variance), doubles of one length (src/batch_norm.c). */
enum { BN_GAMMA = 0, BN_BETA = 1, BN_MOVING_MEAN = 2, BN_MOVING_VARIANCE = 3,
       BN_STATE_SIZE = 4 };
/* The checked state of a layer environment; its length into `features`. */
SEXP bn_layer_state(SEXP layer, R_xlen_t *features);
SEXP C_bn_state_new(SEXP gamma, SEXP beta, SEXP moving_mean, SEXP moving_variance);
SEXP C_bn_pointer_new(SEXP layer);
SEXP C_bn_pointer_current(SEXP pointer, SEXP layer);
SEXP C_bn_inverse_training(SEXP pointer, SEXP y, SEXP dims, SEXP axes,
                           SEXP momentum, SEXP epsilon, SEXP center, SEXP scale,
                           SEXP with_log_det);
SEXP C_bn_inverse_training_quick(SEXP layer, SEXP y);
SEXP C_bn_transform(SEXP pointer, SEXP x, SEXP dims, SEXP axes,
                    SEXP epsilon, SEXP center, SEXP scale, SEXP direction);
SEXP C_bn_inverse_log_det(SEXP pointer, SEXP y, SEXP dims, SEXP axes,
                          SEXP epsilon, SEXP scale);
SEXP C_bn_inverse_backward(SEXP pointer, SEXP y, SEXP grad_x, SEXP dims,
                           SEXP axes, SEXP mean, SEXP variance, SEXP settings,
                           SEXP flags);
SEXP C_bn_forward_backward(SEXP pointer, SEXP x, SEXP grad_y, SEXP dims,
                           SEXP axes, SEXP mean, SEXP variance, SEXP settings,
                           SEXP flags);
SEXP C_bn_moments_update(SEXP y, SEXP dims, SEXP axes, SEXP totals);
SEXP C_mlp_forward(SEXP input, SEXP rows, SEXP first_column, SEXP kernels,
                   SEXP biases, SEXP activations, SEXP masks,
                   SEXP keep_hidden);
SEXP C_affine_transform(SEXP input, SEXP params, SEXP columns,
                        SEXP shift_columns, SEXP log_scale_columns, SEXP clip,
                        SEXP direction);
SEXP C_mlp_backward(SEXP input, SEXP rows, SEXP first_column, SEXP kernels,
                    SEXP activations, SEXP hidden, SEXP output,
                    SEXP grad_output, SEXP masks, SEXP input_gradient);
SEXP C_affine_backward(SEXP input, SEXP params, SEXP columns,
                       SEXP shift_columns, SEXP log_scale_columns, SEXP clip,
                       SEXP direction, SEXP grad_output, SEXP grad_log_det,
                       SEXP clip_gradient);
SEXP C_maf_forward_backward(SEXP x, SEXP network_input, SEXP kernels,
                            SEXP activations, SEXP hidden, SEXP output,
                            SEXP masks, SEXP columns, SEXP shift_columns,
                            SEXP log_scale_columns, SEXP clip,
                            SEXP clip_gradient, SEXP grad_y,
                            SEXP grad_log_det);

SEXP C_conv_network_forward(SEXP input, SEXP kernels, SEXP biases,
                            SEXP activations, SEXP keep_hidden,
                            SEXP scratch_limit);
SEXP C_conv_network_backward(SEXP input, SEXP kernels, SEXP biases,
                             SEXP activations, SEXP hidden, SEXP output,
                             SEXP grad_output, SEXP want_input,
                             SEXP scratch_limit);

SEXP C_parameters_assign(SEXP owners, SEXP fields, SEXP indices, SEXP values);
SEXP C_adam_step(SEXP owners, SEXP fields, SEXP indices, SEXP gradients,
                 SEXP constraints, SEXP settings, SEXP preview);

SEXP C_elementwise_map(SEXP kind, SEXP operation, SEXP input,
                       SEXP parameters, SEXP event_ndims);
SEXP C_elementwise_backward(SEXP kind, SEXP direction, SEXP x,
                            SEXP parameters, SEXP event_ndims,
                            SEXP grad_output, SEXP grad_log_det);
SEXP C_lambert_w0(SEXP z);

SEXP C_cumsum_along(SEXP x, SEXP dims, SEXP position, SEXP mode);

SEXP C_softmax_centered_map(SEXP input, SEXP rows, SEXP size, SEXP direction);
SEXP C_softmax_centered_backward(SEXP y, SEXP grad, SEXP grad_log_det,
                                 SEXP rows, SEXP size, SEXP direction);
SEXP C_iterated_sigmoid_centered_map(SEXP input, SEXP rows, SEXP size,
                                     SEXP direction);
SEXP C_iterated_sigmoid_centered_backward(SEXP x, SEXP y, SEXP grad,
                                          SEXP grad_log_det, SEXP rows,
                                          SEXP size, SEXP direction);
/* cholesky_outer_product.c, matrix_inverse_tri_l.c,
   cholesky_to_inv_cholesky.c */
SEXP C_cholesky_outer_product(SEXP values, SEXP n, SEXP operation);
SEXP C_cholesky_outer_product_backward(SEXP factor, SEXP gradient,
                                       SEXP grad_log_det, SEXP n,
                                       SEXP direction);
SEXP C_matrix_inverse_tri_l(SEXP values, SEXP n, SEXP operation);
SEXP C_matrix_inverse_tri_l_backward(SEXP input, SEXP output, SEXP gradient,
                                     SEXP grad_log_det, SEXP n);
SEXP C_cholesky_to_inv_cholesky(SEXP values, SEXP n, SEXP operation);
SEXP C_cholesky_to_inv_cholesky_backward(SEXP input, SEXP output,
                                         SEXP gradient, SEXP grad_log_det,
                                         SEXP n);

SEXP C_linear_apply(SEXP kind, SEXP values, SEXP permutation, SEXP x,
                    SEXP flags);
SEXP C_linear_outer(SEXP a, SEXP b, SEXP columns);
SEXP C_linear_lu_factor(SEXP matrix);

SEXP C_rqs_map(SEXP x, SEXP widths, SEXP heights, SEXP slopes, SEXP rows,
               SEXP per_element, SEXP range_min, SEXP operation,
               SEXP event_ndims);
SEXP C_rqs_backward(SEXP x, SEXP widths, SEXP heights, SEXP slopes,
                    SEXP rows, SEXP per_element, SEXP range_min,
                    SEXP direction, SEXP event_ndims, SEXP grad_output,
                    SEXP grad_log_det);

SEXP C_dormand_prince_solve(SEXP fn, SEXP rho, SEXP initial_time,
                            SEXP initial_state, SEXP solution_times,
                            SEXP controls);

SEXP C_ffjord_network_derivative(SEXP state, SEXP rows, SEXP kernels,
                                 SEXP biases, SEXP activations, SEXP time,
                                 SEXP noise, SEXP with_trace);
SEXP C_ffjord_network_solve(SEXP state, SEXP rows, SEXP kernels, SEXP biases,
                            SEXP activations, SEXP times, SEXP reverse,
                            SEXP noise, SEXP controls, SEXP record);
SEXP C_ffjord_network_backward(SEXP tape, SEXP rows, SEXP kernels,
                               SEXP biases, SEXP activations, SEXP times,
                               SEXP reverse, SEXP noise, SEXP grad_output,
                               SEXP grad_log_det);

/* src/plan.c: a flow's inverse pass and backward pass, compiled by
   R/plan.R */
SEXP C_plan_inverse(SEXP plan, SEXP y);
SEXP C_plan_log_prob(SEXP ops, SEXP value, SEXP base, SEXP per_row,
                     SEXP layers);
SEXP C_plan_fit_step(SEXP step, SEXP data, SEXP order, SEXP bounds);
SEXP C_adam_symbols(SEXP fields);
SEXP C_adam_avx2(SEXP enable);
SEXP C_plan_backward(SEXP plan, SEXP caches, SEXP grad_x, SEXP grad_rows,
                     SEXP grad_sum, SEXP count);

#endif
