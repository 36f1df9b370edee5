/* tfb_expm1(): y = exp(x) - 1, TFP's Expm1. No parameters. FLDJ = x;
   ILDJ = -log1p(y), TFP's own form. expm1 and log1p by vector_math, a
   block at a time (C99's special values; within about an ulp), which is
   faster than the C library's scalar calls that base R makes. */
#include "elementwise.h"
#include "vector_math.h"

ELEMENTWISE_NO_PARAMETERS(expm1)

static inline double expm1_forward(double x, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    return bj_expm1(x);
}

static void expm1_forward_block(const double *in, double *out, int n,
                                const double *p)
{
    ELEMENTWISE_UNUSED(p);
    bj_expm1_array(in, out, n);
}

static inline double expm1_inverse(double y, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    return bj_log1p(y);
}

static void expm1_inverse_block(const double *in, double *out, int n,
                                const double *p)
{
    ELEMENTWISE_UNUSED(p);
    bj_log1p_array(in, out, n);
}

static inline double expm1_fldj(double x, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    return x;
}

static inline double expm1_ildj(double y, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    return -bj_log1p(y);
}

static void expm1_ildj_block(const double *in, double *out, int n,
                             const double *p)
{
    ELEMENTWISE_UNUSED(p);
    bj_log1p_array(in, out, n);
    for (int i = 0; i < n; i++)
        out[i] = -out[i];
}

static inline double expm1_dforward_dx(double x, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    return exp(x);
}

static inline double expm1_dfldj_dx(double x, const double *p)
{
    ELEMENTWISE_UNUSED(x);
    ELEMENTWISE_UNUSED(p);
    return 1.0;
}

ELEMENTWISE_KIND_WITH(expm1, 0, ELEMENTWISE_LOG_DET_VARYING, BLOCK, BLOCK,
                      SCALAR, BLOCK)
