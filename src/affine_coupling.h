/* The parts of src/affine_coupling.c that another kernel family reuses:
   the masked autoregressive flow's forward direction
   (src/masked_autoregressive.c) runs the affine step's reverse pass several
   times on one forward pass. Kernels and argument checks, not .Call
   entries. */

#ifndef BIJECTORS_AFFINE_COUPLING_H
#define BIJECTORS_AFFINE_COUPLING_H

#include "bijectors.h"

/* An affine step's arguments, checked: n rows of d columns of input, a
   network output `params` of n x n_params; the n_columns transformed
   columns of the input and the columns of params holding their shift and
   log-scale, all 0-based (shift or log_scale NULL: none); the clip range;
   direction 1 (forward) or -1 (inverse). */
typedef struct {
    R_xlen_t n, d, n_params, n_columns;
    const int *columns, *shift, *log_scale;
    double clip_min, clip_max;
    int direction;
} affine_layout;

/* Checks `input` (a double vector or array seen as nrow(params) rows),
   `params` (a double matrix), the 1-based `columns` (no repeats),
   `shift_columns` and `log_scale_columns` (integer(0) for none) and `clip`
   (c(min, max)); the layout's direction is 1. */
affine_layout check_affine_layout(SEXP input, SEXP params, SEXP columns,
                                  SEXP shift_columns, SEXP log_scale_columns,
                                  SEXP clip);

/* One affine step: out (n x d) is a copy of `in` with the transformed
   columns replaced, log_det (n) each row's log-det. columns[k],
   shift_column[k], log_scale_column[k] are 0-based; a NULL shift_column
   means no shift, a NULL log_scale_column no scaling. */
void affine_columns(const double *in, R_xlen_t n, R_xlen_t d,
                    const double *params, R_xlen_t n_columns,
                    const int *columns, const int *shift_column,
                    const int *log_scale_column, double clip_min,
                    double clip_max, int direction, double *out,
                    double *log_det);

/* The reverse pass of one affine step: from grad_out (n x d, dLoss/d(out))
   and grad_log_det (n, dLoss/d(log-det of each row)) writes grad_in (n x d,
   dLoss/d(in) through the affine map alone) and grad_params (n x n_params,
   dLoss/d(params); columns the step does not read get 0). clip_gradient 0
   passes the log-scale gradient through the clip (TFP's default), 1 zeroes
   it where the clip is active. */
void affine_columns_backward(const double *in, R_xlen_t n, R_xlen_t d,
                             const double *params, R_xlen_t n_params,
                             R_xlen_t n_columns, const int *columns,
                             const int *shift_column,
                             const int *log_scale_column,
                             double clip_min, double clip_max,
                             int clip_gradient, int direction,
                             const double *grad_out,
                             const double *grad_log_det,
                             double *grad_in, double *grad_params);

#endif
