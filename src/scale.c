/* tfb_scale(): y = x * scale, given as `scale` (kind "scale") or as
   `log_scale` (kind "log_scale"). Both prepare p = {multiplier,
   log|multiplier|} and share the map and log-det; they differ only in the
   derivatives with respect to the parameter as given. The log-det is
   constant in x: log|scale|, shaped like the parameter as TFP returns it. */
#include "elementwise.h"

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

static inline void scale_prepare(const double *theta, double *p)
{
    p[0] = theta[0];
    p[1] = log(fabs(theta[0]));
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

/* The log_scale kind reuses the map (the pasted names below expand to the
   scale kind's functions). */
#define log_scale_forward scale_forward
#define log_scale_inverse scale_inverse
#define log_scale_fldj scale_fldj
#define log_scale_ildj scale_ildj
#define log_scale_dforward_dx scale_dforward_dx
#define log_scale_dfldj_dx scale_dfldj_dx

static inline void log_scale_prepare(const double *theta, double *p)
{
    p[0] = exp(theta[0]);
    p[1] = theta[0];
}

/* d(x e^t)/dt = x e^t; d(t)/dt = 1. */
static inline void log_scale_dforward_dparams(double x, const double *p,
                                              double *d)
{
    d[0] = x * p[0];
}

static inline void log_scale_dfldj_dparams(double x, const double *p,
                                           double *d)
{
    ELEMENTWISE_UNUSED(x);
    ELEMENTWISE_UNUSED(p);
    d[0] = 1.0;
}

ELEMENTWISE_KIND(log_scale, 1, ELEMENTWISE_LOG_DET_CONSTANT)
