/* tfb_tanh(): y = tanh(x), TFP's Tanh. No parameters. The forward map is
   vector_math's tanh (within 0.55 ulps; glibc's reaches about 2) and the
   inverse its log1p, a block at a time. */
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

/* atanh(y) = sign(y) log1p(t) / 2, t = 2a / (1 - a), a = |y|, by
   vector_math's log1p a block at a time. For a < 1/2, t = 2a + 2a^2 /
   (1 - a), whose correction term is the smaller one (so 1 - a's rounding
   counts for less); for a >= 1/2, 1 - a is exact. One division after
   selects, so a loop of these has no branch. a = 1 gives t = Inf (atanh
   = Inf), a > 1 a t below -1 (NaN). */
static inline double tanh_inverse_t(double y)
{
    double a = fabs(y), twice = 2.0 * a;
    int small = a < 0.5;
    double r = (small ? twice * a : twice) / (1.0 - a);
    return (small ? twice : 0.0) + r;
}

static inline double tanh_inverse(double y, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    return copysign(0.5 * bj_log1p(tanh_inverse_t(y)), y);
}

static void tanh_inverse_block(const double *in, double *out, int n,
                               const double *p)
{
    ELEMENTWISE_UNUSED(p);
    for (int i = 0; i < n; i++)
        out[i] = tanh_inverse_t(in[i]);
    bj_log1p_array(out, out, n);
    for (int i = 0; i < n; i++)
        out[i] = copysign(0.5 * out[i], in[i]);
}

/* log(1 - tanh(x)^2) = -2 log cosh(x). TFP's 2 (log 2 - x - softplus(-2x))
   is the same value, but cancels to about 1e-16 absolute for small |x|
   (its true value is about -x^2). */
static inline double tanh_fldj(double x, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    return -2.0 * log_cosh(x);
}

/* TFP's -FLDJ(atanh(y)) is -log(1 - y^2) in exact arithmetic, but through
   the rounded atanh(y) it doubles that rounding where the value is about
   y^2 (4.6 ulps at y = -0.00276). Computed in y instead: -log1p(-y^2)
   for |y| < 1/2, and next to +-1, where 1 - y^2 cancels, -(log1p(-|y|) +
   log1p(|y|)) with 1 - |y| exact. */
static inline double tanh_ildj(double y, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    double a = fabs(y);
    if (a < 0.5)
        return -log1p(-y * y);
    return -(log1p(-a) + log1p(a));
}

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

ELEMENTWISE_KIND_WITH(tanh, 0, ELEMENTWISE_LOG_DET_VARYING, BLOCK, BLOCK,
                      SCALAR, SCALAR)
