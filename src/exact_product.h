/* The rounding error of a double product, exactly (Dekker's two-product),
   for kernels that carry a value as an unevaluated sum hi + lo. fma() where
   the compiler targets it as one instruction; elsewhere (baseline x86-64)
   fma() is a library call, and Veltkamp's split costs less. Needs
   |a|, |b| < 2^995 and a product error that does not underflow. */

#ifndef BIJECTORS_EXACT_PRODUCT_H
#define BIJECTORS_EXACT_PRODUCT_H

#include <math.h>

/* a * b - p for p = fl(a * b). */
static inline double product_error(double a, double b, double p)
{
#ifdef FP_FAST_FMA
    return fma(a, b, -p);
#else
    /* 2^27 + 1: splits a double into two halves of 26 bits */
    double ca = 134217729.0 * a, a_hi = ca - (ca - a), a_lo = a - a_hi;
    double cb = 134217729.0 * b, b_hi = cb - (cb - b), b_lo = b - b_hi;
    return ((a_hi * b_hi - p) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo;
#endif
}

#endif
