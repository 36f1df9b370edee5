/* tfb_sinh(): y = sinh(x), TFP's Sinh. No parameters. FLDJ = log cosh(x)
   (scalar_math.h's accurate log_cosh, not TFP's float64 small branch);
   ILDJ derived through the inverse, as TFP does. */
#include "elementwise.h"
#include "scalar_math.h"

ELEMENTWISE_NO_PARAMETERS(sinh)

static inline double sinh_forward(double x, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    return sinh(x);
}

static inline double sinh_inverse(double y, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    return asinh(y);
}

static inline double sinh_fldj(double x, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    return log_cosh(x);
}

/* TFP's -log_cosh(asinh(y)), deliberately not -0.5 log1psquare(y). */
ELEMENTWISE_ILDJ_THROUGH_INVERSE(sinh)

static inline double sinh_dforward_dx(double x, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    return cosh(x);
}

static inline double sinh_dfldj_dx(double x, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    return tanh(x);
}

ELEMENTWISE_KIND(sinh, 0, ELEMENTWISE_LOG_DET_VARYING)
