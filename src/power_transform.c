/* tfb_power_transform(): TFP's PowerTransform, y = (1 + c x)^(1/c) for
   c > 0 and exp(x) for c = 0 (then every function is tfb_exp()'s). theta =
   {c}; p = {c, 1/c, the rounding error of 1/c, (1 - c)/c, c - 1}.

   TFP's exp(log1p(c x) / c) and expm1(c log y) / c lose |log y| rounding
   errors of their exponent (hundreds of ulps for large y), and log1p(c x)
   the rounding of c x near x = -1/c. Here 1 + c x and 1/c are carried to
   double-double precision into pow(), and the inverse is
   (y^c - 1) / c where |c log y| > 1/2: the same values, a few ulps. */
#include "elementwise.h"

/* 1 + c x = *hi + *lo exactly (two-product and two-sum). */
static inline void power_base(double x, double c, double *hi, double *lo)
{
    double product = c * x, product_lo = fma(c, x, -product);
    double sum = 1.0 + product, back = sum - 1.0;
    double error = ((1.0 - (sum - back)) + (product - back)) + product_lo;
    *hi = sum + error;   /* renormalised: near x = -1/c, error ~ sum */
    *lo = error - (*hi - sum);
}

/* At x = -1/c rounded down, 1 + c x is slightly negative but rounds to
   0 (TFP's value, and validate_args accepts it): it counts as 0 there. */
static inline int power_base_is_edge(double x, double c, double hi)
{
    return hi == 0 || 1.0 + c * x >= 0;
}

/* log(1 + c x) */
static inline double power_log_base(double x, double c)
{
    double hi, lo;
    if (fabs(c * x) < 0.5)
        return log1p(c * x);
    power_base(x, c, &hi, &lo);
    if (hi <= 0)
        return power_base_is_edge(x, c, hi) ? -INFINITY : NAN;
    return log(hi) + lo / hi;
}

/* log(b) to about 3 decimal places, enough for the tiny correction
   (1/c - p[1]) log(b): b = m 2^k, log m ~ 2 (m - 1) / (m + 1). */
static inline double rough_log(double b)
{
    int k;
    double m = frexp(b, &k);
    return k * M_LN2 + 2.0 * (m - 1.0) / (m + 1.0);
}

static inline void power_transform_prepare(const double *theta, double *p)
{
    double c = theta[0];
    p[0] = c;
    p[1] = c == 0 ? 0 : 1.0 / c;
    p[2] = c == 0 ? 0 : fma(-c, p[1], 1.0) / c;
    p[3] = c == 0 ? 0 : (1.0 - c) / c;
    p[4] = c - 1.0;
}

static inline double power_transform_forward(double x, const double *p)
{
    double hi, lo;
    if (p[0] == 0)
        return exp(x);
    /* TFP's form where its error, about |exponent| ulps, is small */
    double product = p[0] * x, exponent = log1p(product) / p[0];
    if (fabs(product) < 0.5 && fabs(exponent) <= 1)
        return exp(exponent);
    power_base(x, p[0], &hi, &lo);
    if (hi <= 0)
        return power_base_is_edge(x, p[0], hi) ? 0.0 : NAN;
    return pow(hi, p[1]) * (1.0 + p[2] * rough_log(hi) + p[1] * (lo / hi));
}

static inline double power_transform_inverse(double y, const double *p)
{
    if (p[0] == 0)
        return log(y);
    double t = p[0] * log(y);
    return fabs(t) < 0.5 ? expm1(t) / p[0] : (pow(y, p[0]) - 1.0) / p[0];
}

static inline double power_transform_fldj(double x, const double *p)
{
    return p[0] == 0 ? x : p[3] * power_log_base(x, p[0]);
}

static inline double power_transform_ildj(double y, const double *p)
{
    return p[4] * log(y);
}

static inline double power_transform_dforward_dx(double x, const double *p)
{
    return exp(power_transform_fldj(x, p));
}

static inline double power_transform_dfldj_dx(double x, const double *p)
{
    return p[0] == 0 ? 1.0 : (1.0 - p[0]) / (1.0 + p[0] * x);
}

/* With l = log(1 + c x): df/dc = f (x / (c (1 + c x)) - l / c^2), and
   d fldj/dc = (1/c - 1) x / (1 + c x) - l / c^2; at c = 0 their limits
   -x^2 e^x / 2 and -x - x^2 / 2. (power is static: these are for
   completeness.) */
static inline void power_transform_dforward_dparams(double x, const double *p,
                                                    double *d)
{
    if (p[0] == 0) {
        d[0] = -0.5 * x * x * exp(x);
        return;
    }
    double b = 1.0 + p[0] * x, l = power_log_base(x, p[0]);
    d[0] = power_transform_forward(x, p) * (x / (p[0] * b) - l * p[1] * p[1]);
}

static inline void power_transform_dfldj_dparams(double x, const double *p,
                                                 double *d)
{
    if (p[0] == 0) {
        d[0] = -x - 0.5 * x * x;
        return;
    }
    double b = 1.0 + p[0] * x, l = power_log_base(x, p[0]);
    d[0] = p[3] * x / b - l * p[1] * p[1];
}

ELEMENTWISE_KIND(power_transform, 1, ELEMENTWISE_LOG_DET_VARYING)
