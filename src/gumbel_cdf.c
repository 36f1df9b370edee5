/* tfb_gumbel_cdf() and tfb_gumbel(): y = exp(-exp(-z)), z = (x - loc) /
   scale, TFP's GumbelCDF in double precision. p = {loc, scale, log(scale),
   1 / scale, scale split in two halves (veltkamp_split)}.

   The forward map, the inverse and the FLDJ run a block at a time, each
   exp() or log() one vector_math.h call over the block; the scalar
   functions call its scalar twins, so that both give the same values. */
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
    double w = bj_exp(-*z);
    return isinf(w) ? w : w - w * lo;
}

/* gumbel_exp_minus_z() over a block: w[i] = exp(-z[i]), z[i] = z. */
static void gumbel_exp_minus_z_block(const double *in, double *w, double *z,
                                     int n, const double *p)
{
    double lo[ELEMENTWISE_BLOCK];
    for (int i = 0; i < n; i++) {
        z[i] = ratio_split(in[i], p[0], p[1], p[3], p[4], p[5], &lo[i]);
        w[i] = -z[i];
    }
    bj_exp_array(w, w, n);
    for (int i = 0; i < n; i++)
        w[i] = isinf(w[i]) ? w[i] : w[i] - w[i] * lo[i];
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
        return bj_log(-bj_log(y));
    return bj_log1p_by_log(gumbel_minus_log_ey(y, bj_log(E_HIGH * y)));
}

/* gumbel_log_minus_log() over a block: the first logs (of y, or of e y
   next to 1/e), then the second (of -log(y), or of 1 + u with u =
   -log(e y)), each one call. The y next to 1/e are listed (without a
   branch) and their steps done over the list. */
static void gumbel_log_minus_log_block(const double *y, double *out, int n)
{
    double a[ELEMENTWISE_BLOCK], t[ELEMENTWISE_BLOCK];
    int near[ELEMENTWISE_BLOCK], m = 0;
    for (int i = 0; i < n; i++) {
        int flag = gumbel_near_one_over_e(y[i]);
        near[m] = i;
        m += flag;
        a[i] = flag ? E_HIGH * y[i] : y[i];
    }
    bj_log_array(a, t, n);
    for (int i = 0; i < n; i++)
        a[i] = -t[i];
    for (int j = 0; j < m; j++) {
        int i = near[j];
        t[i] = gumbel_minus_log_ey(y[i], t[i]);   /* u */
        a[i] = 1.0 + t[i];
    }
    bj_log_array(a, out, n);
    for (int j = 0; j < m; j++) {
        int i = near[j];
        out[i] = log1p_by_log_finish(t[i], a[i], out[i]);
    }
}

static inline double gumbel_cdf_forward(double x, const double *p)
{
    double z;
    return bj_exp(-gumbel_exp_minus_z(x, p, &z));
}

static void gumbel_cdf_forward_block(const double *in, double *out, int n,
                                     const double *p)
{
    double z[ELEMENTWISE_BLOCK];
    gumbel_exp_minus_z_block(in, out, z, n, p);
    for (int i = 0; i < n; i++)
        out[i] = -out[i];
    bj_exp_array(out, out, n);
}

static inline double gumbel_cdf_inverse(double y, const double *p)
{
    return p[0] - p[1] * gumbel_log_minus_log(y);
}

static void gumbel_cdf_inverse_block(const double *in, double *out, int n,
                                     const double *p)
{
    gumbel_log_minus_log_block(in, out, n);
    for (int i = 0; i < n; i++)
        out[i] = p[0] - p[1] * out[i];
}

static inline double gumbel_cdf_fldj(double x, const double *p)
{
    double z, w = gumbel_exp_minus_z(x, p, &z);
    return -z - w - p[2];
}

static void gumbel_cdf_fldj_block(const double *in, double *out, int n,
                                  const double *p)
{
    double z[ELEMENTWISE_BLOCK];
    gumbel_exp_minus_z_block(in, out, z, n, p);
    for (int i = 0; i < n; i++)
        out[i] = -z[i] - out[i] - p[2];
}

/* TFP's log(scale / (-log(y) y)) as a sum of logs: the ratio overflows for
   the smallest y (y = 5e-324 gives Inf for a finite 739). */
static inline double gumbel_cdf_ildj(double y, const double *p)
{
    return p[2] - gumbel_log_minus_log(y) - bj_log(y);
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

ELEMENTWISE_KIND_WITH(gumbel_cdf, 2, ELEMENTWISE_LOG_DET_VARYING, BLOCK,
                      BLOCK, BLOCK, SCALAR)
