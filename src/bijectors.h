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

/* .Call entry points */
SEXP C_copy_double(SEXP x);
SEXP C_all_finite(SEXP x);
SEXP C_pointer_is_null(SEXP pointer);
SEXP C_bn_state_new(SEXP gamma, SEXP beta, SEXP moving_mean, SEXP moving_variance);
SEXP C_bn_pointer_new(SEXP state);
SEXP C_bn_inverse_training(SEXP pointer, SEXP y, SEXP dims, SEXP axes,
                           SEXP momentum, SEXP epsilon, SEXP center, SEXP scale,
                           SEXP with_log_det);
SEXP C_bn_transform(SEXP pointer, SEXP x, SEXP dims, SEXP axes,
                    SEXP epsilon, SEXP center, SEXP scale, SEXP direction);
SEXP C_bn_inverse_log_det(SEXP pointer, SEXP y, SEXP dims, SEXP axes,
                          SEXP epsilon, SEXP scale);
SEXP C_mlp_forward(SEXP input, SEXP rows, SEXP first_column, SEXP kernels,
                   SEXP biases, SEXP activations, SEXP keep_hidden);
SEXP C_affine_transform(SEXP input, SEXP params, SEXP columns,
                        SEXP shift_columns, SEXP log_scale_columns, SEXP clip,
                        SEXP direction);

SEXP C_parameters_assign(SEXP containers, SEXP indices, SEXP values);
SEXP C_adam_step(SEXP containers, SEXP indices, SEXP gradients,
                 SEXP first_moments, SEXP second_moments, SEXP settings);

#endif
