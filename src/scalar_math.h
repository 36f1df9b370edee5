/* TFP's careful scalar helpers in double precision, shared by the
   elementwise kinds (../shared/reference/tfp-elementwise.md, section 1).
   The cut-offs are TFP's float64 ones; each function says where it is used
   and why it has the form it has. */

#ifndef BIJECTORS_SCALAR_MATH_H
#define BIJECTORS_SCALAR_MATH_H

#include <math.h>
#include <float.h>

/* TF's softplus kernel threshold log(eps) + 2 in double precision. */
#define SCALAR_SOFTPLUS_THRESHOLD (-34.043653389117154)

/* sigmoid(x) without overflow and to an ulp or two: exp(x) / (1 + exp(x))
   for negative x. TFP's float64 form returns exp(x) itself below -20, off
   by a relative exp(x) (7e-10 at the cut, millions of ulps); see the
   README's departures. */
static inline double stable_sigmoid(double x)
{
    if (x < 0) {
        double e = exp(x);
        return e / (1.0 + e);
    }
    return 1.0 / (1.0 + exp(-x));
}

/* softplus(x) = log(1 + exp(x)): x itself above TF's cut -threshold, where
   log1p(exp(x)) rounds to x; log1p(exp(x)) below it, accurate down to the
   smallest doubles (TF's exp(x) below the threshold is within 4 ulps of it,
   this is within one). */
static inline double stable_softplus(double x)
{
    return x > -SCALAR_SOFTPLUS_THRESHOLD ? x : log1p(exp(x));
}

/* The inverse of softplus, log(exp(v) - 1), TFP's softplus_inverse:
   log(v) for tiny v, v for large v, else v + log(-expm1(-v)). */
static inline double softplus_inverse(double v)
{
    if (v < 1.640700042e-15)
        return log(v);
    if (v > -SCALAR_SOFTPLUS_THRESHOLD)
        return v;
    return v + log(-expm1(-v));
}

/* log(1 - exp(-|a|)), TFP's log1mexp: each branch where it does not
   cancel. */
static inline double log1mexp(double a)
{
    a = fabs(a);
    return a < M_LN2 ? log(-expm1(-a)) : log1p(-exp(-a));
}

/* log(cosh(x)). TFP's |x| + softplus(-2|x|) - log 2 cancels for small x
   (about 1e-16 absolute, so 100 ulps at x = 0.1), and its float64 small
   branch returns about |x| below 2.4e-50 (a bug; see the README's
   departures). Below 1, log1p(2 sinh(x/2)^2) keeps full relative
   precision; above, TFP's form is exact to an ulp. */
static inline double log_cosh(double x)
{
    double a = fabs(x);
    if (a < 1.0) {
        double s = sinh(0.5 * a);
        return log1p(2.0 * s * s);
    }
    return a + log1p(exp(-2.0 * a)) - M_LN2;
}

/* log(1 + x^2) without overflow: 2 log|x| once x^2 would swamp the 1. */
static inline double log1psquare(double x)
{
    double a = fabs(x);
    return a > 67108864.0 ? 2.0 * log(a) : log1p(a * a);
}

#endif
