#include <R_ext/Rdynload.h>
#include <R_ext/Visibility.h>
#include "bijectors.h"
#include "gemm.h"

static const R_CallMethodDef call_methods[] = {
    {"C_copy_double",         (DL_FUNC) &C_copy_double,         1},
    {"C_all_finite",          (DL_FUNC) &C_all_finite,          1},
    {"C_bn_state_new",        (DL_FUNC) &C_bn_state_new,        4},
    {"C_bn_pointer_new",      (DL_FUNC) &C_bn_pointer_new,      1},
    {"C_bn_pointer_current",  (DL_FUNC) &C_bn_pointer_current,  2},
    {"C_bn_inverse_training", (DL_FUNC) &C_bn_inverse_training, 9},
    {"C_bn_inverse_training_quick", (DL_FUNC) &C_bn_inverse_training_quick, 2},
    {"C_bn_transform",        (DL_FUNC) &C_bn_transform,        8},
    {"C_bn_inverse_log_det",  (DL_FUNC) &C_bn_inverse_log_det,  6},
    {"C_bn_inverse_backward", (DL_FUNC) &C_bn_inverse_backward, 9},
    {"C_bn_forward_backward", (DL_FUNC) &C_bn_forward_backward, 9},
    {"C_bn_moments_update",   (DL_FUNC) &C_bn_moments_update,   4},
    {"C_mlp_forward",         (DL_FUNC) &C_mlp_forward,         8},
    {"C_affine_transform",    (DL_FUNC) &C_affine_transform,    7},
    {"C_mlp_backward",        (DL_FUNC) &C_mlp_backward,        10},
    {"C_affine_backward",     (DL_FUNC) &C_affine_backward,     10},
    {"C_maf_forward_backward", (DL_FUNC) &C_maf_forward_backward, 14},
    {"C_conv_network_forward", (DL_FUNC) &C_conv_network_forward, 6},
    {"C_conv_network_backward", (DL_FUNC) &C_conv_network_backward, 9},
    {"C_parameters_assign",   (DL_FUNC) &C_parameters_assign,   4},
    {"C_adam_step",           (DL_FUNC) &C_adam_step,           7},
    {"C_adam_symbols",        (DL_FUNC) &C_adam_symbols,        1},
    {"C_adam_avx2",           (DL_FUNC) &C_adam_avx2,           1},
    {"C_elementwise_map",     (DL_FUNC) &C_elementwise_map,     5},
    {"C_elementwise_backward", (DL_FUNC) &C_elementwise_backward, 7},
    {"C_cumsum_along",        (DL_FUNC) &C_cumsum_along,        4},
    {"C_softmax_centered_map", (DL_FUNC) &C_softmax_centered_map, 4},
    {"C_softmax_centered_backward", (DL_FUNC) &C_softmax_centered_backward, 6},
    {"C_iterated_sigmoid_centered_map", (DL_FUNC) &C_iterated_sigmoid_centered_map, 4},
    {"C_iterated_sigmoid_centered_backward", (DL_FUNC) &C_iterated_sigmoid_centered_backward, 7},
    {"C_cholesky_outer_product", (DL_FUNC) &C_cholesky_outer_product, 3},
    {"C_cholesky_outer_product_backward",
     (DL_FUNC) &C_cholesky_outer_product_backward, 5},
    {"C_matrix_inverse_tri_l", (DL_FUNC) &C_matrix_inverse_tri_l, 3},
    {"C_matrix_inverse_tri_l_backward",
     (DL_FUNC) &C_matrix_inverse_tri_l_backward, 5},
    {"C_cholesky_to_inv_cholesky", (DL_FUNC) &C_cholesky_to_inv_cholesky, 3},
    {"C_cholesky_to_inv_cholesky_backward",
     (DL_FUNC) &C_cholesky_to_inv_cholesky_backward, 5},
    {"C_lambert_w0",          (DL_FUNC) &C_lambert_w0,          1},
    {"C_linear_apply",        (DL_FUNC) &C_linear_apply,        5},
    {"C_linear_outer",        (DL_FUNC) &C_linear_outer,        3},
    {"C_linear_lu_factor",    (DL_FUNC) &C_linear_lu_factor,    1},
    {"C_rqs_map",             (DL_FUNC) &C_rqs_map,             9},
    {"C_rqs_backward",        (DL_FUNC) &C_rqs_backward,        11},
    {"C_dormand_prince_solve", (DL_FUNC) &C_dormand_prince_solve, 6},
    {"C_ffjord_network_derivative",
     (DL_FUNC) &C_ffjord_network_derivative, 8},
    {"C_ffjord_network_solve", (DL_FUNC) &C_ffjord_network_solve, 10},
    {"C_ffjord_network_backward",
     (DL_FUNC) &C_ffjord_network_backward, 10},
    {"C_gemm_test",           (DL_FUNC) &C_gemm_test,           10},
    {"C_gemm_masked_test",    (DL_FUNC) &C_gemm_masked_test,    12},
    {"C_gemm_kernel",         (DL_FUNC) &C_gemm_kernel,         0},
    {"C_gemm_backend",        (DL_FUNC) &C_gemm_backend,        1},
    {"C_gemm_threads",        (DL_FUNC) &C_gemm_threads,        1},
    {"C_gemm_calibrate",      (DL_FUNC) &C_gemm_calibrate,      0},
    {"C_vector_math_test",    (DL_FUNC) &C_vector_math_test,    3},
    {"C_vector_math_tanh_shift_test", (DL_FUNC) &C_vector_math_tanh_shift_test, 3},
    {"C_vector_math_pow_test", (DL_FUNC) &C_vector_math_pow_test, 6},
    {"C_plan_inverse",        (DL_FUNC) &C_plan_inverse,        2},
    {"C_plan_log_prob",       (DL_FUNC) &C_plan_log_prob,       5},
    {"C_plan_backward",       (DL_FUNC) &C_plan_backward,       6},
    {"C_plan_fit_step",       (DL_FUNC) &C_plan_fit_step,       4},
    {NULL, NULL, 0}
};

void attribute_visible R_init_bijectors(DllInfo *dll)
{
    R_registerRoutines(dll, NULL, call_methods, NULL, NULL);
    R_useDynamicSymbols(dll, FALSE);
    R_forceSymbols(dll, TRUE);
}

/* bj_dgemm's packing buffer is kept between calls; give it back when the
   package is unloaded. */
void attribute_visible R_unload_bijectors(DllInfo *dll)
{
    (void) dll;
    bj_dgemm_release();
}
