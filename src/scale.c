/* tfb_scale(): y = x * scale, given as `scale` (kind "scale", p = {scale,
   log|scale|}) or as `log_scale` (kind "log_scale", p = {log_scale,
   exp(log_scale)}). The log-det is constant in x: log|scale|, shaped like
   the parameter as TFP returns it. Derivatives are with respect to the
   parameter as given. */
#include "elementwise.h"

static inline void scale_prepare(const double *theta, double *p)
{
    p[0] = theta[0];
    p[1] = log(fabs(theta[0]));
}

static inline double scale_forward(double x, const double *p)
{
    return x * p[0];
}

static inline double scale_inverse(double y, const double *p)
{
    return y / p[0];
}

static inline double scale_fldj(double x, const double *p)
{
    ELEMENTWISE_UNUSED(x);
    return p[1];
}

static inline double scale_ildj(double y, const double *p)
{
    ELEMENTWISE_UNUSED(y);
    return -p[1];
}

static inline double scale_dforward_dx(double x, const double *p)
{
    ELEMENTWISE_UNUSED(x);
    return p[0];
}

static inline double scale_dfldj_dx(double x, const double *p)
{
    ELEMENTWISE_UNUSED(x);
    ELEMENTWISE_UNUSED(p);
    return 0.0;
}

static inline void scale_dforward_dparams(double x, const double *p, double *d)
{
    ELEMENTWISE_UNUSED(p);
    d[0] = x;
}

static inline void scale_dfldj_dparams(double x, const double *p, double *d)
{
    ELEMENTWISE_UNUSED(x);
    d[0] = 1.0 / p[0];
}

ELEMENTWISE_KIND(scale, 1, ELEMENTWISE_LOG_DET_CONSTANT)

static inline void log_scale_prepare(const double *theta, double *p)
{
    p[0] = theta[0];
    p[1] = exp(theta[0]);
}

static inline double log_scale_forward(double x, const double *p)
{
    return x * p[1];
}

static inline double log_scale_inverse(double y, const double *p)
{
    return y / p[1];
}

static inline double log_scale_fldj(double x, const double *p)
{
    ELEMENTWISE_UNUSED(x);
    return p[0];
}

static inline double log_scale_ildj(double y, const double *p)
{
    ELEMENTWISE_UNUSED(y);
    return -p[0];
}

static inline double log_scale_dforward_dx(double x, const double *p)
{
    ELEMENTWISE_UNUSED(x);
    return p[1];
}

static inline double log_scale_dfldj_dx(double x, const double *p)
{
    ELEMENTWISE_UNUSED(x);
    ELEMENTWISE_UNUSED(p);
    return 0.0;
}

static inline void log_scale_dforward_dparams(double x, const double *p,
                                              double *d)
{
    d[0] = x * p[1];
}

static inline void log_scale_dfldj_dparams(double x, const double *p,
                                           double *d)
{
    ELEMENTWISE_UNUSED(x);
    ELEMENTWISE_UNUSED(p);
    d[0] = 1.0;
}

ELEMENTWISE_KIND(log_scale, 1, ELEMENTWISE_LOG_DET_CONSTANT)
