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

/* asinh(y) = sign(y) log1p(a + a^2 / (1 + sqrt(1 + a^2))), a = |y|, the
   correction term no larger than a (no cancellation), by vector_math's
   log1p a block at a time. Beyond a = 2^26, where a^2 would overflow and
   asinh(a) = log(2a) to within 2^-54 relative, C99's log (of 2a, or
   log(a) + log(2) where 2a overflows), and for NaN. */
#define SINH_INVERSE_BIG 0x1p26

static inline double sinh_inverse_t(double y)
{
    double a = fabs(y), square = a * a;
    return a + square / (1.0 + sqrt(1.0 + square));
}

static inline double sinh_inverse_big(double y)
{
    double a = fabs(y);
    double r = a < 0x1p1020 ? log(2.0 * a) : log(a) + M_LN2;
    return copysign(r, y);
}

static inline double sinh_inverse(double y, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    if (!(fabs(y) <= SINH_INVERSE_BIG))
        return sinh_inverse_big(y);
    return copysign(bj_log1p(sinh_inverse_t(y)), y);
}

static void sinh_inverse_block(const double *in, double *out, int n,
                               const double *p)
{
    ELEMENTWISE_UNUSED(p);
    for (int i = 0; i < n; i++)
        out[i] = sinh_inverse_t(in[i]);
    bj_log1p_array(out, out, n);
    for (int i = 0; i < n; i++)
        out[i] = copysign(out[i], in[i]);
    for (int i = 0; i < n; i++)
        if (!(fabs(in[i]) <= SINH_INVERSE_BIG))
            out[i] = sinh_inverse_big(in[i]);
}

static inline double sinh_fldj(double x, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    return log_cosh(x);
}

/* TFP's -log_cosh(asinh(y)) is -log(1 + y^2) / 2 in exact arithmetic, but
   through the rounded asinh(y) it doubles that rounding where the value is
   about -y^2 / 2 (4.5 ulps at y = 0.0376). Computed in y instead:
   -log1p(y^2) / 2 below |y| = 1, and -(log|y| + log1p(1 / y^2) / 2)
   above (two positive terms; y^2 may overflow there). */
static inline double sinh_ildj(double y, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    double a = fabs(y);
    if (a < 1)
        return -0.5 * log1p(a * a);
    return -(log(a) + 0.5 * log1p(1.0 / (a * a)));
}

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

ELEMENTWISE_KIND_WITH(sinh, 0, ELEMENTWISE_LOG_DET_VARYING, BLOCK, BLOCK,
                      SCALAR, SCALAR)
