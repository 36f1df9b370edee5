/* Scalar helpers of the CDF bijectors (gumbel_cdf, weibull_cdf, ...):
   TFP's xlogy, and three small pieces of double-double arithmetic that keep
   a rounded intermediate from being amplified in a tail (each user says
   where). */

#ifndef BIJECTORS_CDF_MATH_H
#define BIJECTORS_CDF_MATH_H

#include <math.h>

/* TFP's xlogy(a, y): 0 when a == 0 (so xlogy(0, 0) = 0), else a log(y). */
static inline double xlogy(double a, double y)
{
    return a == 0 ? 0 : a * log(y);
}

/* (x - a) / s = hi + *lo to about twice double precision: the difference
   exactly (Knuth's two-sum), then the quotient's exact remainder (fma). */
static inline double ratio_split(double x, double a, double s, double *lo)
{
    double d = x - a, v = d - x;
    double d_lo = (x - (d - v)) + (-a - v);
    double q = d / s;
    *lo = (fma(-q, s, d) + d_lo) / s;
    if (!isfinite(*lo))
        *lo = 0;
    return q;
}

/* 1 / k = hi + *lo, the remainder exact by fma. */
static inline double reciprocal_split(double k, double *lo)
{
    double hi = 1.0 / k;
    *lo = fma(-k, hi, 1.0) / k;
    return hi;
}

/* v^(hi + lo) for v >= 0: pow() is accurate for the exponent it is given,
   but a rounded exponent e (such as 1/k) would put |log v| e ulps of error
   into the result; the low part corrects it to first order. */
static inline double pow_split(double v, double hi, double lo)
{
    double r = pow(v, hi);
    if (lo == 0 || r == 0 || isinf(r))
        return r;
    return r + r * (lo * log(v));
}

#endif
