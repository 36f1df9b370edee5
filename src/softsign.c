/* tfb_softsign(): y = x / (1 + |x|), TFP's Softsign. No parameters.
   FLDJ = -2 log1p(|x|), ILDJ = -2 log1p(-|y|), TFP's own forms. */
#include "elementwise.h"

ELEMENTWISE_NO_PARAMETERS(softsign)

/* TFP returns sign(x) from |x| >= 1e20 on, so that +-Inf give +-1, not
   NaN (x / (1 + |x|) rounds to +-1 there anyway). */
static inline double softsign_forward(double x, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    double a = fabs(x);
    return a >= 1e20 ? (x > 0 ? 1.0 : -1.0) : x / (1.0 + a);
}

static inline double softsign_inverse(double y, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    return y / (1.0 - fabs(y));
}

static inline double softsign_fldj(double x, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    return -2.0 * log1p(fabs(x));
}

static inline double softsign_ildj(double y, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    return -2.0 * log1p(-fabs(y));
}

static inline double softsign_dforward_dx(double x, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    double d = 1.0 + fabs(x);
    return 1.0 / (d * d);
}

static inline double softsign_dfldj_dx(double x, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    return (x > 0 ? -2.0 : x < 0 ? 2.0 : 0.0) / (1.0 + fabs(x));
}

ELEMENTWISE_KIND(softsign, 0, ELEMENTWISE_LOG_DET_VARYING)
