/* tfb_weibull_cdf() and tfb_weibull(): y = 1 - exp(-(x / scale)^k), k the
   concentration, TFP's WeibullCDF in double precision. p = {scale, k,
   1/k (high part), 1/k (low part), k - 1, 1/k - 1, log(k) - k log(scale),
   log(scale) - log(k)}. */
#include "elementwise.h"
#include "cdf_math.h"

static inline void weibull_cdf_prepare(const double *theta, double *p)
{
    p[0] = theta[0];
    p[1] = theta[1];
    p[2] = reciprocal_split(theta[1], &p[3]);
    p[4] = theta[1] - 1;
    p[5] = p[2] - 1;
    p[6] = log(theta[1]) - theta[1] * log(theta[0]);
    p[7] = log(theta[0]) - log(theta[1]);
}

static inline double weibull_cdf_forward(double x, const double *p)
{
    return -expm1(-pow(x / p[0], p[1]));
}

/* scale (-log1p(-y))^(1/k) with 1/k in two parts (pow_split): a rounded
   1/k would be hundreds of ulps off for tiny y. */
static inline double weibull_cdf_inverse(double y, const double *p)
{
    return p[0] * pow_split(-log1p(-y), p[2], p[3]);
}

static inline double weibull_cdf_fldj(double x, const double *p)
{
    return -pow(x / p[0], p[1]) + xlogy(p[4], x) + p[6];
}

static inline double weibull_cdf_ildj(double y, const double *p)
{
    double v = -log1p(-y);
    return v + xlogy(p[5], v) + p[7];
}

static inline double weibull_cdf_dforward_dx(double x, const double *p)
{
    double q = x / p[0];
    return exp(-pow(q, p[1])) * p[1] * pow(q, p[4]) / p[0];
}

static inline double weibull_cdf_dfldj_dx(double x, const double *p)
{
    return (p[4] - p[1] * pow(x / p[0], p[1])) / x;
}

/* u = (x/scale)^k: du/dscale = -k u / scale, du/dk = u log(x/scale). */
static inline void weibull_cdf_dforward_dparams(double x, const double *p,
                                                double *d)
{
    double q = x / p[0], u = pow(q, p[1]), e = exp(-u);
    d[0] = -e * p[1] * u / p[0];
    d[1] = e * u * log(q);
}

static inline void weibull_cdf_dfldj_dparams(double x, const double *p,
                                             double *d)
{
    double q = x / p[0], u = pow(q, p[1]);
    d[0] = p[1] * (u - 1) / p[0];
    d[1] = (1 - u) * log(q) + p[2];
}

ELEMENTWISE_KIND(weibull_cdf, 2, ELEMENTWISE_LOG_DET_VARYING)
