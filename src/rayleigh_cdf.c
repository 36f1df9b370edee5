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

/* Below log 2 the result is about z: add the rounding errors of q (x - q s
   is exact by Sterbenz) and of q^2, as z_lo times the slope exp(-z) = 1 - y,
   to y = -expm1(-z) */
static inline double rayleigh_correct_small(double x, double q, double y,
                                            const double *p)
{
    double qs = q * p[0], q_lo = p[3] == 0 ? 0 :
        ((x - qs) - product_error(q, p[0], qs)) / p[0];
    double z_lo = 0.5 * product_error(q, q, q * q) + q * q_lo;
    return y + z_lo * (1.0 - y);
}

/* y = -expm1(-z) everywhere (above log 2, exp(-z) <= 1/2 and the rounding
   of z costs nothing), corrected below log 2 */
static inline double rayleigh_cdf_forward(double x, const double *p)
{
    double q = x / p[0], z = 0.5 * q * q;
    double y = -bj_expm1(-z);
    return z < M_LN2 ? rayleigh_correct_small(x, q, y, p) : y;
}

/* The forward map a block at a time: expm1(-z) over the whole block by
   vector_math, then the correction where z < log 2, as the scalar
   function. Those elements are listed without a branch (about half of
   them in a typical block: a branch on each would be mispredicted often)
   and corrected over the list. */
static void rayleigh_cdf_forward_block(const double *in, double *out, int n,
                                       const double *p)
{
    double q[ELEMENTWISE_BLOCK];
    int small[ELEMENTWISE_BLOCK], m = 0;
    for (int i = 0; i < n; i++) {
        q[i] = in[i] / p[0];
        double z = 0.5 * q[i] * q[i];
        out[i] = -z;
        small[m] = i;
        m += z < M_LN2;
    }
    bj_expm1_array(out, out, n);
    for (int i = 0; i < n; i++)
        out[i] = -out[i];
    for (int j = 0; j < m; j++) {
        int i = small[j];
        out[i] = rayleigh_correct_small(in[i], q[i], out[i], p);
    }
}

static inline double rayleigh_cdf_inverse(double y, const double *p)
{
    return p[0] * sqrt(-2 * bj_log1p(-y));
}

/* The inverse a block at a time: log1p(-y) over the block by vector_math */
static void rayleigh_cdf_inverse_block(const double *in, double *out, int n,
                                       const double *p)
{
    for (int i = 0; i < n; i++)
        out[i] = -in[i];
    bj_log1p_array(out, out, n);
    for (int i = 0; i < n; i++)
        out[i] = p[0] * sqrt(-2 * out[i]);
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
                      BLOCK, SCALAR, SCALAR)
