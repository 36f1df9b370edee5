/* tfb_expm1(): y = exp(x) - 1, TFP's Expm1. No parameters. FLDJ = x;
   ILDJ = -log1p(y), TFP's own form. */
#include "elementwise.h"

ELEMENTWISE_NO_PARAMETERS(expm1)

static inline double expm1_forward(double x, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    return expm1(x);
}

static inline double expm1_inverse(double y, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    return log1p(y);
}

static inline double expm1_fldj(double x, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    return x;
}

static inline double expm1_ildj(double y, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    return -log1p(y);
}

static inline double expm1_dforward_dx(double x, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    return exp(x);
}

static inline double expm1_dfldj_dx(double x, const double *p)
{
    ELEMENTWISE_UNUSED(x);
    ELEMENTWISE_UNUSED(p);
    return 1.0;
}

ELEMENTWISE_KIND(expm1, 0, ELEMENTWISE_LOG_DET_VARYING)
