/* tfb_power_transform(): TFP's PowerTransform, y = (1 + c x)^(1/c) for
   c > 0 and exp(x) for c = 0 (then every function is tfb_exp()'s). theta =
   {c}; p = {c, 1/c, the rounding error of 1/c, (1 - c)/c, c - 1 and its
   rounding error}.

   TFP's exp(log1p(c x) / c) and expm1(c log y) / c lose |log y| rounding
   errors of their exponent (hundreds of ulps for large y), and log1p(c x)
   the rounding of c x near x = -1/c. Here 1 + c x and 1/c are carried to
   double-double precision into vector_math's pow (whose logarithm and
   product are double-doubles too), and the inverse is y^c - 1 by its
   powm1 times 1/c, rounded once: both within about 0.6 ulps. The forward
   map, the inverse and the FLDJ (log(hi) + lo / hi) run a block at a time,
   a few vector_math calls per block; the scalar functions call the same
   functions' scalar forms. */
#include "elementwise.h"
#include "vector_math.h"

/* At x = -1/c rounded down, 1 + c x is slightly negative but rounds to
   0 (TFP's value, and validate_args accepts it): it counts as 0 there. */
static inline int power_base_is_edge(double x, double c, double hi)
{
    return hi == 0 || 1.0 + c * x >= 0;
}

static inline int power_base_is_ordinary(double hi)
{
    return hi > 0 && hi < INFINITY;
}

/* Where 1 + c x is not a positive finite double (hi), log(1 + c x): NaN
   for NaN (NA kept), -Inf at the domain's edge, and for an infinite c x
   (x = Inf, or c > 1 and c x beyond the doubles) log(c) + log(x), as 1 is
   negligible next to c x there. */
static double power_log_special(double x, double hi, const double *p)
{
    if (x != x)
        return x;
    if (hi == hi)
        return power_base_is_edge(x, p[0], hi) ? -INFINITY : NAN;
    if (x == INFINITY)
        return INFINITY;
    if (!(x > 0))
        return NAN;
    return bj_log(p[0]) + bj_log(x);
}

/* log(1 + c x) = log(hi) + lo / hi, 1 + c x = hi + lo by vector_math (to
   2^-104; exact next to x = -1/c) */
static inline double power_log_base(double x, const double *p)
{
    double lo, hi = bj_one_plus_product(x, p[0], &lo);
    if (!power_base_is_ordinary(hi))
        return power_log_special(x, hi, p);
    return bj_log(hi) + lo / hi;
}

/* The same over a block: the bases, one log, then the rare specials. */
static void power_log_base_block(const double *in, double *out, int n,
                                 const double *p)
{
    double hi[ELEMENTWISE_BLOCK], lo[ELEMENTWISE_BLOCK];
    bj_one_plus_product_array(in, p[0], hi, lo, n);
    bj_log_array(hi, out, n);
    for (int i = 0; i < n; i++)
        out[i] = power_base_is_ordinary(hi[i]) ? out[i] + lo[i] / hi[i] :
            power_log_special(in[i], hi[i], p);
}

static inline void power_transform_prepare(const double *theta, double *p)
{
    double c = theta[0];
    p[0] = c;
    p[1] = c == 0 ? 0 : 1.0 / c;
    p[2] = c == 0 ? 0 : fma(-c, p[1], 1.0) / c;
    p[3] = c == 0 ? 0 : (1.0 - c) / c;
    p[4] = c - 1.0;
    /* Knuth's two-sum: c - 1 = p[4] + p[5] exactly */
    double back = p[4] - c;
    p[5] = (c - (p[4] - back)) + (-1.0 - back);
}

/* Where 1 + c x is not a positive finite double (hi), the forward map's
   value: NaN for NaN (NA kept), 0 at the domain's edge, and for an
   infinite c x (x = Inf, or c > 1 and c x beyond the doubles), x^(1/c)
   c^(1/c), as 1 is negligible next to c x there. */
static double power_forward_special(double x, double hi, const double *p)
{
    if (x != x)
        return x;
    if (hi == hi)
        return power_base_is_edge(x, p[0], hi) ? 0.0 : NAN;
    if (x == INFINITY)
        return INFINITY;
    if (!(x > 0))
        return NAN;
    return bj_pow_dd(x, 0, p[1], p[2], bj_pow_dd(p[0], 0, p[1], p[2], 1, 0),
                     0);
}

/* (hi + lo)^(1/c + its rounding error), 1 + c x = hi + lo exactly (by
   vector_math, with an FMA where the CPU has one: the same bits as the
   block's) */
static inline double power_transform_forward(double x, const double *p)
{
    if (p[0] == 0)
        return exp(x);
    double lo, hi = bj_one_plus_product(x, p[0], &lo);
    if (!power_base_is_ordinary(hi))
        return power_forward_special(x, hi, p);
    return bj_pow_dd(hi, lo, p[1], p[2], 1, 0);
}

/* The same a block at a time: the bases, one pow over the block, then the
   rare special elements. */
static void power_transform_forward_block(const double *in, double *out,
                                          int n, const double *p)
{
    if (p[0] == 0) {
        for (int i = 0; i < n; i++)
            out[i] = exp(in[i]);
        return;
    }
    double hi[ELEMENTWISE_BLOCK], lo[ELEMENTWISE_BLOCK];
    bj_one_plus_product_array(in, p[0], hi, lo, n);
    bj_pow_dd_array(hi, lo, p[1], p[2], 1, 0, out, n);
    for (int i = 0; i < n; i++)
        if (!power_base_is_ordinary(hi[i]))
            out[i] = power_forward_special(in[i], hi[i], p);
}

/* (y^c - 1) / c as powm1 times 1/c (a double-double), rounded once:
   accurate next to y = 1 as well. For a subnormal c, whose 1/c is
   infinite, divided by c instead. */
static inline double power_transform_inverse(double y, const double *p)
{
    if (p[0] == 0)
        return log(y);
    if (!isfinite(p[1]))
        return bj_powm1_dd(y, 0, p[0], 0, 1, 0) / p[0];
    return bj_powm1_dd(y, 0, p[0], 0, p[1], p[2]);
}

static void power_transform_inverse_block(const double *in, double *out,
                                          int n, const double *p)
{
    if (p[0] == 0) {
        for (int i = 0; i < n; i++)
            out[i] = log(in[i]);
        return;
    }
    if (!isfinite(p[1])) {
        bj_powm1_dd_array(in, NULL, p[0], 0, 1, 0, out, n);
        for (int i = 0; i < n; i++)
            out[i] /= p[0];
        return;
    }
    bj_powm1_dd_array(in, NULL, p[0], 0, p[1], p[2], out, n);
}

static inline double power_transform_fldj(double x, const double *p)
{
    return p[0] == 0 ? x : p[3] * power_log_base(x, p);
}

static void power_transform_fldj_block(const double *in, double *out, int n,
                                       const double *p)
{
    if (p[0] == 0) {
        for (int i = 0; i < n; i++)
            out[i] = in[i];
        return;
    }
    power_log_base_block(in, out, n, p);
    for (int i = 0; i < n; i++)
        out[i] *= p[3];
}

/* (c - 1) log(y) with c - 1 as a double-double, by vector_math's
   double-double logarithm and exact product, rounded once: within about
   0.5 ulps (glibc's log times the rounded c - 1 was up to 1.8 ulps, for
   c = 0.3). */
static inline double power_transform_ildj(double y, const double *p)
{
    return bj_log_times_dd(y, p[4], p[5]);
}

static inline double power_transform_dforward_dx(double x, const double *p)
{
    return exp(power_transform_fldj(x, p));
}

static inline double power_transform_dfldj_dx(double x, const double *p)
{
    return p[0] == 0 ? 1.0 : (1.0 - p[0]) / (1.0 + p[0] * x);
}

/* With l = log(1 + c x): df/dc = f (x / (c (1 + c x)) - l / c^2), and
   d fldj/dc = (1/c - 1) x / (1 + c x) - l / c^2; at c = 0 their limits
   -x^2 e^x / 2 and -x - x^2 / 2. (power is static: these are for
   completeness.) */
static inline void power_transform_dforward_dparams(double x, const double *p,
                                                    double *d)
{
    if (p[0] == 0) {
        d[0] = -0.5 * x * x * exp(x);
        return;
    }
    double b = 1.0 + p[0] * x, l = power_log_base(x, p);
    d[0] = power_transform_forward(x, p) * (x / (p[0] * b) - l * p[1] * p[1]);
}

static inline void power_transform_dfldj_dparams(double x, const double *p,
                                                 double *d)
{
    if (p[0] == 0) {
        d[0] = -x - 0.5 * x * x;
        return;
    }
    double b = 1.0 + p[0] * x, l = power_log_base(x, p);
    d[0] = p[3] * x / b - l * p[1] * p[1];
}

ELEMENTWISE_KIND_WITH(power_transform, 1, ELEMENTWISE_LOG_DET_VARYING, BLOCK,
                      BLOCK, BLOCK, SCALAR)
