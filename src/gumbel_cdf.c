/* tfb_gumbel_cdf() and tfb_gumbel(): y = exp(-exp(-z)), z = (x - loc) /
   scale, TFP's GumbelCDF in double precision. p = {loc, scale, log(scale),
   1 / scale, scale split in two halves (veltkamp_split)}. */
#include "elementwise.h"
#include "cdf_math.h"

static inline void gumbel_cdf_prepare(const double *theta, double *p)
{
    p[0] = theta[0];
    p[1] = theta[1];
    p[2] = log(theta[1]);
    p[3] = 1.0 / theta[1];
    veltkamp_split(theta[1], &p[4], &p[5]);
}

/* exp(-z), and z in *z. z is carried to twice double precision: in the left
   tail exp(-z) is the log-det's leading term, and a z rounded to a double
   would put |z| ulps of error into it (700 at x = -700). */
static inline double gumbel_exp_minus_z(double x, const double *p, double *z)
{
    double lo;
    *z = ratio_split(x, p[0], p[1], p[3], p[4], p[5], &lo);
    double w = exp(-*z);
    return isinf(w) ? w : w - w * lo;
}

/* log(-log(y)). Next to y = 1/e, where -log(y) is near 1, log(t) of the
   rounded t = -log(y) keeps only its absolute precision (94 ulps off at
   y = 0.366); for t in [0.75, 1.25] (y between the two Y_ bounds) it is
   log1p(-log(e y)) instead, with e y exact in two parts (e = E_HIGH +
   E_LOW, E_HIGH split in halves for the product's error). Two logs either
   way. */
#define E_HIGH 2.718281828459045
#define E_LOW 1.4456468917292502e-16
#define E_HIGH_HI 2.7182818055152893
#define E_HIGH_LO 2.2943755784154973e-08
#define Y_LOW 0.28650479686019009   /* exp(-1.25) */
#define Y_HIGH 0.47236655274101469  /* exp(-0.75) */

static inline int gumbel_near_one_over_e(double y)
{
    return y > Y_LOW && y < Y_HIGH;
}

/* -log(e y) = -(log(hi) + lo / hi), hi + lo = e y, given log_hi. */
static inline double gumbel_minus_log_ey(double y, double log_hi)
{
    double hi = E_HIGH * y;
    double lo = product_error(E_HIGH_HI, E_HIGH_LO, y, hi) + E_LOW * y;
    return -(log_hi + lo / hi);
}

static inline double gumbel_log_minus_log(double y)
{
    if (!gumbel_near_one_over_e(y))
        return log(-log(y));
    return log1p_by_log(gumbel_minus_log_ey(y, log(E_HIGH * y)));
}

static inline double gumbel_cdf_forward(double x, const double *p)
{
    double z;
    return exp(-gumbel_exp_minus_z(x, p, &z));
}

static inline double gumbel_cdf_inverse(double y, const double *p)
{
    return p[0] - p[1] * gumbel_log_minus_log(y);
}

static inline double gumbel_cdf_fldj(double x, const double *p)
{
    double z, w = gumbel_exp_minus_z(x, p, &z);
    return -z - w - p[2];
}

/* TFP's log(scale / (-log(y) y)) as a sum of logs: the ratio overflows for
   the smallest y (y = 5e-324 gives Inf for a finite 739). */
static inline double gumbel_cdf_ildj(double y, const double *p)
{
    return p[2] - gumbel_log_minus_log(y) - log(y);
}

static inline double gumbel_cdf_dforward_dx(double x, const double *p)
{
    double z, w = gumbel_exp_minus_z(x, p, &z);
    return exp(-w - z) * p[3];
}

static inline double gumbel_cdf_dfldj_dx(double x, const double *p)
{
    double z, w = gumbel_exp_minus_z(x, p, &z);
    return (w - 1) * p[3];
}

/* dz/dloc = -1/scale, dz/dscale = -z/scale. */
static inline void gumbel_cdf_dforward_dparams(double x, const double *p,
                                               double *d)
{
    double z, w = gumbel_exp_minus_z(x, p, &z);
    double g = exp(-w - z) * p[3];
    d[0] = -g;
    d[1] = -z * g;
}

static inline void gumbel_cdf_dfldj_dparams(double x, const double *p,
                                            double *d)
{
    double z, w = gumbel_exp_minus_z(x, p, &z);
    d[0] = (1 - w) * p[3];
    d[1] = ((1 - w) * z - 1) * p[3];
}

ELEMENTWISE_KIND(gumbel_cdf, 2, ELEMENTWISE_LOG_DET_VARYING)
