/* tfb_absolute_value(): y = |x|, TFP's AbsoluteValue, not injective. No
   parameters. The kernel's inverse is the branch x >= 0 (y itself; R adds
   the branch -y) and its log-det is TFP's scalar zero of each branch; the
   forward log-det is refused in R, as TFP refuses it. */
#include "elementwise.h"

ELEMENTWISE_NO_PARAMETERS(absolute_value)

static inline double absolute_value_forward(double x, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    return fabs(x);
}

static inline double absolute_value_inverse(double y, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    return y;
}

static inline double absolute_value_fldj(double x, const double *p)
{
    ELEMENTWISE_UNUSED(x);
    ELEMENTWISE_UNUSED(p);
    return 0.0;
}

static inline double absolute_value_ildj(double y, const double *p)
{
    ELEMENTWISE_UNUSED(y);
    ELEMENTWISE_UNUSED(p);
    return 0.0;
}

static inline double absolute_value_dforward_dx(double x, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    return x > 0 ? 1.0 : x < 0 ? -1.0 : 0.0;
}

static inline double absolute_value_dfldj_dx(double x, const double *p)
{
    ELEMENTWISE_UNUSED(x);
    ELEMENTWISE_UNUSED(p);
    return 0.0;
}

ELEMENTWISE_KIND(absolute_value, 0, ELEMENTWISE_LOG_DET_ZERO)
