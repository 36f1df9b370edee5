/* tfb_exp(): y = exp(x), TFP's Exp (PowerTransform with power 0). No
   parameters. FLDJ = x; ILDJ = -log(y), TFP's own form. */
#include "elementwise.h"

ELEMENTWISE_NO_PARAMETERS(exp)

static inline double exp_forward(double x, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    return exp(x);
}

static inline double exp_inverse(double y, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    return log(y);
}

static inline double exp_fldj(double x, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    return x;
}

static inline double exp_ildj(double y, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    return -log(y);
}

static inline double exp_dforward_dx(double x, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    return exp(x);
}

static inline double exp_dfldj_dx(double x, const double *p)
{
    ELEMENTWISE_UNUSED(x);
    ELEMENTWISE_UNUSED(p);
    return 1.0;
}

ELEMENTWISE_KIND(exp, 0, ELEMENTWISE_LOG_DET_VARYING)
