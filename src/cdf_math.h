/* Scalar helpers of the CDF bijectors (gumbel_cdf, weibull_cdf, ...):
   TFP's xlogy, small pieces of double-double arithmetic that keep a rounded
   intermediate from being amplified in a tail (each user says where), and
   cheaper stand-ins for log1p() and for a log() that only scales a
   correction. */

#ifndef BIJECTORS_CDF_MATH_H
#define BIJECTORS_CDF_MATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>
#include "vector_math.h"

/* TFP's xlogy(a, y): 0 when a == 0 (so xlogy(0, 0) = 0), else a log(y). */
static inline double xlogy(double a, double y)
{
    return a == 0 ? 0 : a * log(y);
}

/* Veltkamp's split: a = *hi + *lo, each half of 26 bits, so that products
   of halves are exact. For |a| < 2^995 (beyond, 2^27 a overflows). */
static inline void veltkamp_split(double a, double *hi, double *lo)
{
    double t = 134217729.0 * a;
    *hi = t - (t - a);
    *lo = a - *hi;
}

/* a b - p exactly, p = a b rounded, with a = a_hi + a_lo split beforehand
   (Dekker's two-product). Without -mfma, fma() is a library call of about
   3 ns; this is a few flops that pipeline. NaN when 2^27 b overflows. */
static inline double product_error(double a_hi, double a_lo, double b,
                                   double p)
{
    double b_hi, b_lo;
    veltkamp_split(b, &b_hi, &b_lo);
    return ((a_hi * b_hi - p) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo;
}

/* x / s = q + *lo to about twice double precision: q = x inverse_s
   (inverse_s = 1/s rounded, s = s_hi + s_lo split beforehand), and the
   exact remainder x - q s over s. *lo is 0 where it is not finite. */
static inline double quotient_split(double x, double s, double inverse_s,
                                    double s_hi, double s_lo, double *lo)
{
    double q = x * inverse_s, qs = q * s;
    *lo = ((x - qs) - product_error(s_hi, s_lo, q, qs)) * inverse_s;
    if (!isfinite(*lo))
        *lo = 0;
    return q;
}

/* (x - a) / s = hi + *lo to about twice double precision: the difference
   exactly (Knuth's two-sum), then the exact remainder d - q s of the
   quotient (two-product, s = s_hi + s_lo split beforehand). q is d times
   inverse_s = 1/s rounded, not the rounded quotient: the remainder
   corrects it all the same, and a product is cheaper than a division. */
static inline double ratio_split(double x, double a, double s,
                                 double inverse_s, double s_hi, double s_lo,
                                 double *lo)
{
    double d = x - a, v = d - x;
    double d_lo = (x - (d - v)) + (-a - v);
    double q = d * inverse_s;
    double r = ((d - q * s) - product_error(s_hi, s_lo, q, q * s)) + d_lo;
    *lo = r * inverse_s;
    if (!isfinite(*lo))
        *lo = 0;
    return q;
}

/* log(1 + u) for u >= -1 by one log: log(w) u / (w - 1) with w = 1 + u
   rounded, which corrects w's rounding to first order (Goldberg 1991,
   theorem 4; w - 1 is exact). About two ulps, where a log costs about half
   of a log1p. */
static inline double log1p_by_log(double u)
{
    double w = 1.0 + u;
    if (w == 1.0 || isinf(w))
        return w == 1.0 ? u : w;
    return log(w) * (u / (w - 1.0));
}

/* log1p_by_log()'s last step, given w = 1 + u and log_w = log(w): a
   blockwise loop computes the w, takes their logs in one bj_log_array()
   call and finishes with this. */
static inline double log1p_by_log_finish(double u, double w, double log_w)
{
    if (w == 1.0 || isinf(w))
        return w == 1.0 ? u : w;
    return log_w * (u / (w - 1.0));
}

/* log1p_by_log() by vector_math.h's log: the value of the blockwise form
   above, for the scalar functions of a kind that has one. */
static inline double bj_log1p_by_log(double u)
{
    double w = 1.0 + u;
    return log1p_by_log_finish(u, w, bj_log(w));
}

/* out[i] = log(1 - in[i]) over a block of n <= ELEMENTWISE_BLOCK values:
   by vector_math's log1p, or with `by_log` by its log and
   log1p_by_log_finish() (bj_log1p_by_log() per element). */
static inline void log1m_block(const double *in, double *out, int n,
                               int by_log)
{
    if (!by_log) {
        for (int i = 0; i < n; i++)
            out[i] = -in[i];
        bj_log1p_array(out, out, n);
        return;
    }
    double w[ELEMENTWISE_BLOCK];
    for (int i = 0; i < n; i++)
        w[i] = 1.0 + -in[i];
    bj_log_array(w, out, n);
    for (int i = 0; i < n; i++)
        out[i] = log1p_by_log_finish(-in[i], w[i], out[i]);
}

/* xlogy() by vector_math.h's log. */
static inline double bj_xlogy(double a, double y)
{
    return a == 0 ? 0 : a * bj_log(y);
}

/* log(b) to within 0.007, for b > 0: enough where it multiplies a
   correction of order 2^-53 (pow_split). b = (1 + f) 2^k from the bits,
   log1p(f) by a least-squares quadratic on [0, 1) (no libm call, no
   division); k is made a double by the bits of 2^52 + k (int-to-double
   conversion is slow). */
static inline double rough_log(double b)
{
    uint64_t bits, k_bits;
    double k, m, scaled = 0;
    if (b < 0x1p-1022) {   /* subnormal: scale to a normal number first */
        b *= 0x1p54;
        scaled = 54;
    }
    memcpy(&bits, &b, sizeof bits);
    k_bits = 0x4330000000000000ULL | (bits >> 52);
    memcpy(&k, &k_bits, sizeof k);
    k -= 0x1p52 + 1023 + scaled;
    bits = (bits & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL;
    memcpy(&m, &bits, sizeof m);
    double f = m - 1.0;
    return k * M_LN2 + (0.0062584686 + f * (0.9157441736 - 0.2335087034 * f));
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
   into the result; the low part corrects it to first order. |lo| < 2^-53
   |hi|, so log(v) is needed to a few percent only (rough_log). */
static inline double pow_split(double v, double hi, double lo)
{
    double r = pow(v, hi);
    if (lo == 0 || r == 0 || isinf(r) || !(v > 0))
        return r;
    return r + r * (lo * rough_log(v));
}

#endif
