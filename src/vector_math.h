/* Elementary functions over arrays of doubles: y[i] = f(x[i]) for i < n.
   `x` and `y` may be the same array (in place); otherwise they must not
   overlap. Results are the same on every machine (the SIMD and the
   portable paths do the same arithmetic), NaN in gives NaN out, and the
   special values (infinities, overflow, underflow, -0) follow C99's
   functions of the same names. Kernels that need one of these functions on
   many elements compute their arguments into a block and call these once
   per block. */

#ifndef BIJECTORS_VECTOR_MATH_H
#define BIJECTORS_VECTOR_MATH_H

#include "bijectors.h"

/* One value: the same result as the array functions give for it (the
   portable path's arithmetic), for scalar code that must agree with a
   blockwise loop. */
double bj_exp(double x);
double bj_expm1(double x);
double bj_log(double x);
double bj_log1p(double x);
double bj_tanh(double x);

void bj_exp_array(const double *x, double *y, R_xlen_t n);
void bj_expm1_array(const double *x, double *y, R_xlen_t n);
void bj_log_array(const double *x, double *y, R_xlen_t n);
void bj_log1p_array(const double *x, double *y, R_xlen_t n);
void bj_tanh_array(const double *x, double *y, R_xlen_t n);
/* y[i] = tanh(x[i] + b), the sum rounded first: the same bits as
   bj_tanh_array() on the sums, in one pass */
void bj_tanh_shift_array(const double *x, double b, double *y, R_xlen_t n);

/* s (xh + xl)^(eh + el) and s ((xh + xl)^(eh + el) - 1), s = sh + sl,
   for a base given as a double-double (xl = 0 for a plain double; |xl| at
   most about 2^-40 |xh|), an exponent and a factor too (el, sl = 0, or
   the rounding errors of eh, sh): the logarithm, its product with the
   exponent and the last product are carried to about 2^-68 relative and
   rounded once, so the results are within about 0.6 ulps (one more
   rounding where they are subnormal). s times C99's special values for xh
   >= 0; NaN for negative bases. In the arrays, xl may be NULL (no low
   parts) and y may be xh (not xl). */
double bj_pow_dd(double xh, double xl, double eh, double el, double sh,
                 double sl);
double bj_powm1_dd(double xh, double xl, double eh, double el, double sh,
                   double sl);
void bj_pow_dd_array(const double *xh, const double *xl, double eh,
                     double el, double sh, double sl, double *y, R_xlen_t n);
void bj_powm1_dd_array(const double *xh, const double *xl, double eh,
                       double el, double sh, double sl, double *y,
                       R_xlen_t n);

/* (eh + el) log(x) rounded once, the logarithm and the product carried
   as pow's are: within about 0.5 ulps. eh log(x) by C99's log for x not
   positive and finite; eh times 0 at x = 1. One value only. */
double bj_log_times_dd(double x, double eh, double el);

/* 1 + c x = hi + lo, with |lo| <= ulp(hi)/2, to about 2^-104 relative,
   and exactly for c x in [-1.5, -0.5] (next to -1, where the sum
   cancels); NaN in hi where c x is not finite. The base of a
   power computed in two parts for bj_pow_dd(). hi and lo must not
   overlap x. */
double bj_one_plus_product(double x, double c, double *lo);
void bj_one_plus_product_array(const double *x, double c, double *hi,
                               double *lo, R_xlen_t n);

#endif
