/* tfb_rayleigh_cdf(): y = 1 - exp(-(x / scale)^2 / 2), TFP's RayleighCDF in
   double precision. p = {scale, 2 log(scale), log(scale / sqrt(2))}. */
#include "elementwise.h"

static inline void rayleigh_cdf_prepare(const double *theta, double *p)
{
    p[0] = theta[0];
    p[1] = 2 * log(theta[0]);
    p[2] = log(theta[0]) - 0.5 * M_LN2;
}

static inline double rayleigh_cdf_forward(double x, const double *p)
{
    double q = x / p[0];
    return -expm1(-0.5 * q * q);
}

static inline double rayleigh_cdf_inverse(double y, const double *p)
{
    return p[0] * sqrt(-2 * log1p(-y));
}

static inline double rayleigh_cdf_fldj(double x, const double *p)
{
    double q = x / p[0];
    return -0.5 * q * q + log(x) - p[1];
}

static inline double rayleigh_cdf_ildj(double y, const double *p)
{
    double v = -log1p(-y);
    return v - 0.5 * log(v) + p[2];
}

static inline double rayleigh_cdf_dforward_dx(double x, const double *p)
{
    double q = x / p[0];
    return exp(-0.5 * q * q) * q / p[0];
}

static inline double rayleigh_cdf_dfldj_dx(double x, const double *p)
{
    return 1 / x - x / (p[0] * p[0]);
}

static inline void rayleigh_cdf_dforward_dparams(double x, const double *p,
                                                 double *d)
{
    double q = x / p[0];
    d[0] = -exp(-0.5 * q * q) * q * q / p[0];
}

static inline void rayleigh_cdf_dfldj_dparams(double x, const double *p,
                                              double *d)
{
    double q = x / p[0];
    d[0] = (q * q - 2) / p[0];
}

ELEMENTWISE_KIND(rayleigh_cdf, 1, ELEMENTWISE_LOG_DET_VARYING)
