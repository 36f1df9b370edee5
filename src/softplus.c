/* tfb_softplus(): TFP's Softplus, y = c softplus(x / c) + low, with
   c = hinge_softness (1 for TFP's undivided path) and v = (y - low) / c:
   inverse c softplus_inverse(v), FLDJ -softplus(-x / c), ILDJ
   -log(-expm1(-v)). theta = {c, low}; p = {c, low, 1/c}.

   Where softplus is exp(x / c) (the left tail of the map, the right tail
   of the FLDJ) or the ILDJ is exp(-v), the rounding of x / c or of v is
   multiplied by |x / c| (350 ulps at x / c = -700); they are carried to
   double-double precision there. Same values as TFP's forms.

   The kernel is "softplus_hinge": scalar_math.h's softplus_inverse() has
   the name the kind "softplus" would give its inverse. */
#include "elementwise.h"
#include "scalar_math.h"

/* softplus(x / c), with exp(x / c) = exp(q) (1 + r), r = x / c - q;
   inverse_c = 1 / c. */
static inline double softplus_quotient(double x, double c, double inverse_c)
{
    double q = x / c;
    if (q > -SCALAR_SOFTPLUS_THRESHOLD)
        return q;
    return log1p(exp(q) * (1.0 + fma(-q, c, x) * inverse_c));
}

static inline void softplus_hinge_prepare(const double *theta, double *p)
{
    p[0] = theta[0];
    p[1] = theta[1];
    p[2] = 1.0 / theta[0];
}

static inline double softplus_hinge_forward(double x, const double *p)
{
    return p[0] * softplus_quotient(x, p[0], p[2]) + p[1];
}

static inline double softplus_hinge_inverse(double y, const double *p)
{
    return p[0] * softplus_inverse((y - p[1]) / p[0]);
}

static inline double softplus_hinge_fldj(double x, const double *p)
{
    return -softplus_quotient(-x, p[0], p[2]);
}

/* -log(1 - exp(-v)), v = (y - low) / c = hi + lo. */
static inline double softplus_hinge_ildj(double y, const double *p)
{
    double d = y - p[1], back = d - y;   /* d + d_lo = y - low exactly */
    double d_lo = (y - (d - back)) + (-p[1] - back);
    double v = d / p[0];
    if (v < M_LN2)
        return -log(-expm1(-v));
    double v_lo = (fma(-v, p[0], d) + d_lo) * p[2];
    return -log1p(-exp(-v) * (1.0 - v_lo));
}

static inline double softplus_hinge_dforward_dx(double x, const double *p)
{
    return stable_sigmoid(x / p[0]);
}

static inline double softplus_hinge_dfldj_dx(double x, const double *p)
{
    return stable_sigmoid(-x / p[0]) / p[0];
}

/* df/dc = softplus(q) - q sigmoid(q), d log f'/dc = -q sigmoid(-q) / c,
   q = x / c; df/dlow = 1. */
static inline void softplus_hinge_dforward_dparams(double x, const double *p,
                                             double *d)
{
    double q = x / p[0];
    d[0] = stable_softplus(q) - q * stable_sigmoid(q);
    d[1] = 1.0;
}

static inline void softplus_hinge_dfldj_dparams(double x, const double *p,
                                          double *d)
{
    double q = x / p[0];
    d[0] = -q * stable_sigmoid(-q) / p[0];
    d[1] = 0.0;
}

ELEMENTWISE_KIND(softplus_hinge, 2, ELEMENTWISE_LOG_DET_VARYING)
