/* tfb_affine_scalar() (deprecated): TFP's AffineScalar, y = x * scale +
   shift, when both are given (R/affine_scalar.R uses the shift and scale
   kernels for one alone). theta = {shift, scale}; p = {shift, scale,
   log|scale|}. The log-det is constant in x, as TFP's. */
#include "elementwise.h"

static inline void affine_scalar_prepare(const double *theta, double *p)
{
    p[0] = theta[0];
    p[1] = theta[1];
    p[2] = log(fabs(theta[1]));
}

static inline double affine_scalar_forward(double x, const double *p)
{
    return x * p[1] + p[0];
}

static inline double affine_scalar_inverse(double y, const double *p)
{
    return (y - p[0]) / p[1];
}

static inline double affine_scalar_fldj(double x, const double *p)
{
    ELEMENTWISE_UNUSED(x);
    return p[2];
}

static inline double affine_scalar_ildj(double y, const double *p)
{
    ELEMENTWISE_UNUSED(y);
    return -p[2];
}

static inline double affine_scalar_dforward_dx(double x, const double *p)
{
    ELEMENTWISE_UNUSED(x);
    return p[1];
}

static inline double affine_scalar_dfldj_dx(double x, const double *p)
{
    ELEMENTWISE_UNUSED(x);
    ELEMENTWISE_UNUSED(p);
    return 0.0;
}

static inline void affine_scalar_dforward_dparams(double x, const double *p,
                                                  double *d)
{
    ELEMENTWISE_UNUSED(p);
    d[0] = 1.0;
    d[1] = x;
}

static inline void affine_scalar_dfldj_dparams(double x, const double *p,
                                               double *d)
{
    ELEMENTWISE_UNUSED(x);
    d[0] = 0.0;
    d[1] = 1.0 / p[1];
}

ELEMENTWISE_KIND(affine_scalar, 2, ELEMENTWISE_LOG_DET_CONSTANT)
