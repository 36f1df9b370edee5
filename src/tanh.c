/* tfb_tanh(): y = tanh(x), TFP's Tanh. No parameters. The forward map is
   vector_math's tanh (within 0.55 ulps; glibc's reaches about 2), a block
   at a time. */
#include "elementwise.h"
#include "scalar_math.h"
#include "vector_math.h"

ELEMENTWISE_NO_PARAMETERS(tanh)

static inline double tanh_forward(double x, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    return bj_tanh(x);
}

static void tanh_forward_block(const double *in, double *out, int n,
                               const double *p)
{
    ELEMENTWISE_UNUSED(p);
    bj_tanh_array(in, out, n);
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
    return -2.0 * bj_tanh(x);
}

ELEMENTWISE_KIND_WITH(tanh, 0, ELEMENTWISE_LOG_DET_VARYING, BLOCK, SCALAR,
                      SCALAR, SCALAR)
