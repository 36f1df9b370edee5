/* tfb_shift(): y = x + shift. The log-det is identically 0 (TFP returns a
   scalar zero whatever the shapes). p = {shift}. */
#include "elementwise.h"

static inline void shift_prepare(const double *theta, double *p)
{
    p[0] = theta[0];
}

static inline double shift_forward(double x, const double *p)
{
    return x + p[0];
}

static inline double shift_inverse(double y, const double *p)
{
    return y - p[0];
}

static inline double shift_fldj(double x, const double *p)
{
    ELEMENTWISE_UNUSED(x);
    ELEMENTWISE_UNUSED(p);
    return 0.0;
}

static inline double shift_ildj(double y, const double *p)
{
    ELEMENTWISE_UNUSED(y);
    ELEMENTWISE_UNUSED(p);
    return 0.0;
}

static inline double shift_dforward_dx(double x, const double *p)
{
    ELEMENTWISE_UNUSED(x);
    ELEMENTWISE_UNUSED(p);
    return 1.0;
}

static inline double shift_dfldj_dx(double x, const double *p)
{
    ELEMENTWISE_UNUSED(x);
    ELEMENTWISE_UNUSED(p);
    return 0.0;
}

static inline void shift_dforward_dparams(double x, const double *p, double *d)
{
    ELEMENTWISE_UNUSED(x);
    ELEMENTWISE_UNUSED(p);
    d[0] = 1.0;
}

static inline void shift_dfldj_dparams(double x, const double *p, double *d)
{
    ELEMENTWISE_UNUSED(x);
    ELEMENTWISE_UNUSED(p);
    d[0] = 0.0;
}

ELEMENTWISE_KIND(shift, 1, ELEMENTWISE_LOG_DET_ZERO)
