/* tfb_sinh(): y = sinh(x), TFP's Sinh. No parameters. FLDJ = log cosh(x)
   (scalar_math.h's accurate log_cosh, not TFP's float64 small branch);
   ILDJ derived through the inverse, as TFP does. */
#include "elementwise.h"
#include "scalar_math.h"
#include "vector_math.h"

ELEMENTWISE_NO_PARAMETERS(sinh)

/* sinh(x) = sign(x) (e + e / (e + 1)) / 2 with e = expm1(|x|): two
   positive terms, so no cancellation next to 0, and e by vector_math a
   block at a time (within about 1.5 ulps). Beyond |x| = 709, where e
   overflows before sinh(x) does, and for NaN, C99's sinh. */
#define SINH_FORWARD_BIG 709.0

static inline double sinh_from_expm1(double x, double e)
{
    return copysign(0.5 * (e + e / (e + 1.0)), x);
}

static inline double sinh_forward(double x, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    if (!(fabs(x) <= SINH_FORWARD_BIG))
        return sinh(x);
    return sinh_from_expm1(x, bj_expm1(fabs(x)));
}

static void sinh_forward_block(const double *in, double *out, int n,
                               const double *p)
{
    ELEMENTWISE_UNUSED(p);
    for (int i = 0; i < n; i++)
        out[i] = fabs(in[i]);
    bj_expm1_array(out, out, n);
    for (int i = 0; i < n; i++)
        out[i] = sinh_from_expm1(in[i], out[i]);
    for (int i = 0; i < n; i++)
        if (!(fabs(in[i]) <= SINH_FORWARD_BIG))
            out[i] = sinh(in[i]);
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

ELEMENTWISE_KIND_WITH(sinh, 0, ELEMENTWISE_LOG_DET_VARYING, BLOCK, SCALAR,
                      SCALAR, SCALAR)
