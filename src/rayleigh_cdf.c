/* tfb_rayleigh_cdf(): y = 1 - exp(-(x / scale)^2 / 2), TFP's RayleighCDF in
   double precision. p = {scale, 2 log(scale), log(scale / sqrt(2)),
   1 where scale's products can be split exactly (exact_product.h)}. */
#include "elementwise.h"
#include "exact_product.h"
#include "vector_math.h"

static inline void rayleigh_cdf_prepare(const double *theta, double *p)
{
    p[0] = theta[0];
    p[1] = 2 * log(theta[0]);
    p[2] = log(theta[0]) - 0.5 * M_LN2;
    p[3] = theta[0] < 1e300;
}

/* -expm1(-z) for 0 <= z <= log 2: Taylor to z^16, remainder below 0.1 ulp;
   cheaper here than a call to expm1(). */
static inline double rayleigh_one_minus_exp_small(double z)
{
    double c = -1.0 / 20922789888000.0;
    c = 1.0 / 1307674368000.0 + z * c;
    c = -1.0 / 87178291200.0 + z * c;
    c = 1.0 / 6227020800.0 + z * c;
    c = -1.0 / 479001600.0 + z * c;
    c = 1.0 / 39916800.0 + z * c;
    c = -1.0 / 3628800.0 + z * c;
    c = 1.0 / 362880.0 + z * c;
    c = -1.0 / 40320.0 + z * c;
    c = 1.0 / 5040.0 + z * c;
    c = -1.0 / 720.0 + z * c;
    c = 1.0 / 120.0 + z * c;
    c = -1.0 / 24.0 + z * c;
    c = 1.0 / 6.0 + z * c;
    c = -0.5 + z * c;
    return z + z * (z * c);
}

/* Below log 2 the result is about z: add the rounding errors of q (x - q s
   is exact by Sterbenz) and of q^2, as z_lo times the slope exp(-z) = 1 - y */
static inline double rayleigh_forward_small(double x, double q, double z,
                                            const double *p)
{
    double qs = q * p[0], q_lo = p[3] == 0 ? 0 :
        ((x - qs) - product_error(q, p[0], qs)) / p[0];
    double z_lo = 0.5 * product_error(q, q, q * q) + q * q_lo;
    double y = rayleigh_one_minus_exp_small(z);
    return y + z_lo * (1.0 - y);
}

/* Above log 2, exp(-z) <= 1/2 and 1 - exp(-z) cancels nothing. */
static inline double rayleigh_cdf_forward(double x, const double *p)
{
    double q = x / p[0], z = 0.5 * q * q;
    if (z >= M_LN2 || isnan(z))
        return 1.0 - bj_exp(-z);
    return rayleigh_forward_small(x, q, z, p);
}

/* The forward map a block at a time: exp(-z) over the whole block by
   vector_math, then each element's branch, as the scalar function. */
static void rayleigh_cdf_forward_block(const double *in, double *out, int n,
                                       const double *p)
{
    double q[ELEMENTWISE_BLOCK], z[ELEMENTWISE_BLOCK];
    for (int i = 0; i < n; i++) {
        q[i] = in[i] / p[0];
        z[i] = 0.5 * q[i] * q[i];
        out[i] = -z[i];
    }
    bj_exp_array(out, out, n);
    for (int i = 0; i < n; i++)
        out[i] = z[i] >= M_LN2 || isnan(z[i]) ? 1.0 - out[i] :
            rayleigh_forward_small(in[i], q[i], z[i], p);
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

ELEMENTWISE_KIND_WITH(rayleigh_cdf, 1, ELEMENTWISE_LOG_DET_VARYING, BLOCK,
                      SCALAR, SCALAR, SCALAR)
