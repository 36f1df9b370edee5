/* tfb_normal_cdf(): y = Phi(x), the standard normal CDF, TFP's NormalCDF.
   No parameters. The forward map by R's pnorm5 (as accurate as TFP's
   ndtr); the inverse by rational approximations of our own, a block at a
   time, within 1.7 ulps where qnorm() is up to 5.5 off, and faster than
   it.
   FLDJ = log phi(x); ILDJ derived through the inverse, as TFP does. */
/* No contraction of a * b + c into an FMA: the scalar and the vectorised
   loops must round the same operations. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include <float.h>
#include <Rmath.h>
#include "elementwise.h"
#include "vector_math.h"

ELEMENTWISE_NO_PARAMETERS(normal_cdf)

static inline double normal_cdf_forward(double x, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    return Rf_pnorm5(x, 0.0, 1.0, 1, 0);
}

/* The central 85% of (0, 1), |q| <= 0.425 with q = y - 1/2 (exact
   there): x = q (A + r T(r)), r = q^2, A = sqrt(2 pi) as a sum of two
   doubles and T a rational of degree 8/8 fitted to (Phi^-1(1/2 + q) / q -
   A) / r against 256-bit references (within 6e-19 relative; the fit is in
   tools/fit-normal-quantile.R). T is evaluated in s = r - 0.180625 (<= 0),
   where each coefficient's term has the same sign: no cancellation, and
   r T is at most about a quarter of the result: within 1.68 ulps on a
   dense sweep (R's qnorm(): 5.5 here). Only arithmetic: the blockwise
   loop vectorises. */
#define NORMAL_CDF_CENTRAL 0.425
#define NORMAL_CDF_SHIFT 0.180625
/* a_high (sqrt(2 pi) rounded, below) as its 26 high bits and the rest */
#define NORMAL_CDF_A_HIGH_HIGH 0x1.40d932p+1
#define NORMAL_CDF_A_HIGH_LOW -0x1.3b1f4p-32

static inline double normal_cdf_central(double q)
{
    static const double a_high = 0x1.40d931ff62706p+1,
        a_low = -0x1.a6a0d6f814637p-53;
    double r = q * q, s = r - NORMAL_CDF_SHIFT;
    double num = 0x1.2e8029875f5f4p+2;
    num = num * s - 0x1.c5598397f700cp+8;
    num = num * s + 0x1.6d9bd66eda6c5p+10;
    num = num * s - 0x1.70b92673abf0cp+10;
    num = num * s + 0x1.4658564816709p+9;
    num = num * s - 0x1.2176d10910ad6p+7;
    num = num * s + 0x1.0b8716e02500dp+4;
    num = num * s - 0x1.eab80ef4e5578p-1;
    num = num * s + 0x1.5fcfd1eb2fb5p-6;
    double den = 0x1.da806f5365236p+7;
    den = den * s - 0x1.099188f7328a3p+10;
    den = den * s + 0x1.6d1d19567767ap+10;
    den = den * s - 0x1.bc73f91efd8c3p+9;
    den = den * s + 0x1.165df15eb9cbdp+8;
    den = den * s - 0x1.7eef420b02173p+5;
    den = den * s + 0x1.2309b9879437ap+2;
    den = den * s - 0x1.c901e5d42b397p-3;
    den = den * s + 0x1.20ae113140061p-8;
    /* q a_high exactly, as p_high + p_low (Veltkamp's split of q; a_high
       split below), so that it is rounded once, with the rest */
    double c = 134217729.0 * q, q_high = c - (c - q), q_low = q - q_high;
    double p_high = q * a_high;
    double p_low = ((q_high * NORMAL_CDF_A_HIGH_HIGH - p_high) +
                    q_high * NORMAL_CDF_A_HIGH_LOW +
                    q_low * NORMAL_CDF_A_HIGH_HIGH) +
        q_low * NORMAL_CDF_A_HIGH_LOW;
    return p_high + (p_low + q * (a_low + r * (num / den)));
}

/* The tails, p = min(y, 1 - y) < 0.075 (1 - y is exact there) and x =
   -+Phi^-1(p) by the upper tail Q(x) = p, for p a normal double. A start
   x0 = t S(t), t = sqrt(-log p), S a rational of degree 6/6 within 5e-12
   relative (fitted to t from 1.6 to 26.7), then one Newton step, x0 + (Q(x0)
   - p) / phi(x0), which leaves about x0^2 1e-23 relative, with Q(x) =
   exp(-x^2 / 2) K(x): x^2 carried as two doubles (Veltkamp's split; no
   FMA), and K(x) = Q(x) exp(x^2 / 2) a rational of degree 8/9 within 2e-17
   relative from x = 1.43 to 37.7, all of its coefficients positive (no
   cancellation). The residual is then good to about 3 ulps of p, which
   moves x by at most M(x)/x < 0.4 of that in ulps of x: within 1.48 ulps
   on a dense sweep (R's qnorm(): 4.9). The logarithm and the exponential by
   vector_math a block at a time, the rest only arithmetic. Both fits are
   in tools/fit-normal-quantile.R. */
static inline int normal_cdf_fast_tail(double p)
{
    return p >= DBL_MIN && p < 0.5;
}

/* t = sqrt(-log p) */
static inline double normal_cdf_tail_start(double t)
{
    double num = -0x1.40b11702d0b8ap-2;
    num = num * t - 0x1.32a8636790526p+4;
    num = num * t - 0x1.042fb68145b1dp+8;
    num = num * t - 0x1.cfb7c2724aad9p+9;
    num = num * t - 0x1.c44a6ad2c9986p+8;
    num = num * t + 0x1.95fbcf5022e0ap+9;
    num = num * t + 0x1.317b4187ef306p+8;
    double den = -0x1.c585d1b7796c4p-3;
    den = den * t - 0x1.b1b461e11e9d5p+3;
    den = den * t - 0x1.715e1e1a946c9p+7;
    den = den * t - 0x1.5757165d8953ap+9;
    den = den * t - 0x1.353385505bdcep+9;
    den = den * t - 0x1.9d571821e5b19p+6;
    den = den * t + 1.0;
    return t * (num / den);
}

/* the argument of the exponential: -x0^2 / 2 rounded */
static inline double normal_cdf_tail_exp_argument(double x0)
{
    return -0.5 * (x0 * x0);
}

/* x from x0, e = exp(-h / 2) with h = x0^2 rounded, and p */
static inline double normal_cdf_tail_finish(double x0, double e, double p)
{
    double c = 134217729.0 * x0, high = c - (c - x0), low = x0 - high;
    double h = x0 * x0;
    double h_low = ((high * high - h) + 2.0 * high * low) + low * low;
    double density = e * (1.0 - 0.5 * h_low);   /* exp(-x0^2 / 2) */
    double num = 0x1.2888a55eb6827p-16;
    num = num * x0 + 0x1.6222bf1080dcfp-12;
    num = num * x0 + 0x1.b3ce4c34f4015p-9;
    num = num * x0 + 0x1.58166c78ccf58p-6;
    num = num * x0 + 0x1.770f89e7de2a1p-4;
    num = num * x0 + 0x1.1ec3867c397eep-2;
    num = num * x0 + 0x1.2c26b23c843dbp-1;
    num = num * x0 + 0x1.8bad594937dc6p-1;
    num = num * x0 + 0x1.0000008259035p-1;
    double den = 0x1.73a66474892b9p-15;
    den = den * x0 + 0x1.bbd7e372a019bp-11;
    den = den * x0 + 0x1.128d7582db2ccp-7;
    den = den * x0 + 0x1.b62f55630e70cp-5;
    den = den * x0 + 0x1.e6f4c99eb5e6dp-3;
    den = den * x0 + 0x1.817dc991aaba3p-1;
    den = den * x0 + 0x1.aec9c419b50e1p+0;
    den = den * x0 + 0x1.456a48e2d7f17p+1;
    den = den * x0 + 0x1.2bf7c34e7c8c1p+1;
    den = den * x0 + 1.0;
    double residual = density * (num / den) - p;
    return x0 + residual / (density * M_1_SQRT_2PI);
}

static inline double normal_cdf_tail_p(double y)
{
    return y < 0.5 ? y : 1.0 - y;
}

static inline double normal_cdf_tail_fast(double y)
{
    double p = normal_cdf_tail_p(y);
    double x0 = normal_cdf_tail_start(sqrt(-bj_log(p)));
    double x = normal_cdf_tail_finish(
        x0, bj_exp(normal_cdf_tail_exp_argument(x0)), p);
    return y < 0.5 ? -x : x;
}

/* The rest: p below DBL_MIN, 0, 1, NaN and y outside [0, 1], by R's
   qnorm() (AS 241, its values at 0, 1 and outside), with one Newton step
   whose residual is taken in logs where pnorm() underflows. */
static inline double normal_cdf_tail_slow(double y)
{
    double x = Rf_qnorm5(y, 0.0, 1.0, 1, 0);
    if (!(y > 0.0 && y < DBL_MIN))
        return x;
    double residual = y * expm1(Rf_pnorm5(x, 0.0, 1.0, 1, 1) - log(y));
    return x - residual / Rf_dnorm4(x, 0.0, 1.0, 0);
}

static inline int normal_cdf_is_central(double y)
{
    return fabs(y - 0.5) <= NORMAL_CDF_CENTRAL;
}

static inline double normal_cdf_inverse(double y, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    if (normal_cdf_is_central(y))
        return normal_cdf_central(y - 0.5);
    if (normal_cdf_fast_tail(normal_cdf_tail_p(y)))
        return normal_cdf_tail_fast(y);
    return normal_cdf_tail_slow(y);
}

/* The central formula on the whole block (one vectorised loop without
   branches); the tails' p gathered into buffers of their own and taken
   through the same steps in loops over them, the log and exp by
   vector_math; the rest one at a time. */
static void normal_cdf_inverse_block(const double *in, double *out, int n,
                                     const double *p)
{
    ELEMENTWISE_UNUSED(p);
    double tail_p[ELEMENTWISE_BLOCK], x0[ELEMENTWISE_BLOCK],
        work[ELEMENTWISE_BLOCK];
    int where[ELEMENTWISE_BLOCK];
    int m = 0;
    ELEMENTWISE_SIMD
    for (int i = 0; i < n; i++)
        out[i] = normal_cdf_central(in[i] - 0.5);
    for (int i = 0; i < n; i++) {
        if (normal_cdf_is_central(in[i]))
            continue;
        double q = normal_cdf_tail_p(in[i]);
        if (normal_cdf_fast_tail(q)) {
            tail_p[m] = q;
            where[m++] = i;
        } else {
            out[i] = normal_cdf_tail_slow(in[i]);
        }
    }
    if (m == 0)
        return;
    bj_log_array(tail_p, work, m);
    /* sqrt() sets errno for negative arguments: a loop of its own, which
       stays scalar, so that the next one vectorises */
    for (int k = 0; k < m; k++)
        work[k] = sqrt(-work[k]);
    ELEMENTWISE_SIMD
    for (int k = 0; k < m; k++) {
        x0[k] = normal_cdf_tail_start(work[k]);
        work[k] = normal_cdf_tail_exp_argument(x0[k]);
    }
    bj_exp_array(work, work, m);
    ELEMENTWISE_SIMD
    for (int k = 0; k < m; k++)
        work[k] = normal_cdf_tail_finish(x0[k], work[k], tail_p[k]);
    for (int k = 0; k < m; k++)
        out[where[k]] = in[where[k]] < 0.5 ? -work[k] : work[k];
}

static inline double normal_cdf_fldj(double x, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    return -0.5 * x * x - M_LN_SQRT_2PI;
}

ELEMENTWISE_ILDJ_THROUGH_INVERSE(normal_cdf)

static void normal_cdf_ildj_block(const double *in, double *out, int n,
                                  const double *p)
{
    normal_cdf_inverse_block(in, out, n, p);
    for (int i = 0; i < n; i++)
        out[i] = -normal_cdf_fldj(out[i], p);
}

static inline double normal_cdf_dforward_dx(double x, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    return Rf_dnorm4(x, 0.0, 1.0, 0);
}

static inline double normal_cdf_dfldj_dx(double x, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    return -x;
}

ELEMENTWISE_KIND_WITH(normal_cdf, 0, ELEMENTWISE_LOG_DET_VARYING, SCALAR,
                      BLOCK, SCALAR, BLOCK)
