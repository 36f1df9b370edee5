/* tfb_tanh(): y = tanh(x), TFP's Tanh. No parameters. */
#include "elementwise.h"
#include "scalar_math.h"

ELEMENTWISE_NO_PARAMETERS(tanh)

static inline double tanh_forward(double x, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    return tanh(x);
}

static inline double tanh_inverse(double y, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    return atanh(y);
}

/* log(1 - tanh(x)^2) = -2 log cosh(x). TFP's 2 (log 2 - x - softplus(-2x))
   is the same value, but cancels to about 1e-16 absolute for small |x|
   (its true value is about -x^2). */
static inline double tanh_fldj(double x, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    return -2.0 * log_cosh(x);
}

/* TFP's -FLDJ(atanh(y)), deliberately not -log1p(-y^2). */
ELEMENTWISE_ILDJ_THROUGH_INVERSE(tanh)

/* 1 - tanh(x)^2 = 4 e / (1 + e)^2 with e = exp(-2|x|): no cancellation
   where tanh(x) rounds to +-1. */
static inline double tanh_dforward_dx(double x, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    double e = exp(-2.0 * fabs(x));
    return 4.0 * e / ((1.0 + e) * (1.0 + e));
}

static inline double tanh_dfldj_dx(double x, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    return -2.0 * tanh(x);
}

ELEMENTWISE_KIND(tanh, 0, ELEMENTWISE_LOG_DET_VARYING)
