/* tfb_reciprocal(): y = 1 / x, TFP's Reciprocal, its own inverse. No
   parameters. FLDJ = ILDJ = -2 log|t| at the method's own input. */
#include "elementwise.h"

ELEMENTWISE_NO_PARAMETERS(reciprocal)

static inline double reciprocal_forward(double x, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    return 1.0 / x;
}

static inline double reciprocal_inverse(double y, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    return 1.0 / y;
}

static inline double reciprocal_fldj(double x, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    return -2.0 * log(fabs(x));
}

static inline double reciprocal_ildj(double y, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    return -2.0 * log(fabs(y));
}

static inline double reciprocal_dforward_dx(double x, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    return -1.0 / (x * x);
}

static inline double reciprocal_dfldj_dx(double x, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    return -2.0 / x;
}

ELEMENTWISE_KIND(reciprocal, 0, ELEMENTWISE_LOG_DET_VARYING)
