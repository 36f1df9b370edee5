/* tfb_sinh_arcsinh(): TFP's SinhArcsinh, y = m sinh((asinh(x) + s) t) with
   m = 2 / sinh(asinh(2) t). theta = {skewness s, tailweight t}; p = {s, t,
   m, log(t) + log(m), m/2 e^(ts), m/2 e^(-ts), e^(-s)/2, e^s/2}.

   Both directions are the map c sinh(e asinh(v) + b): forward (v = x, e = t,
   b = ts, c = m), inverse (v = y/m, e = 1/t, b = -s, c = 1). TFP evaluates
   sinh of u = e asinh(v) + b, which is off by |u| rounding errors of u
   (250 ulps at x = 1e300). For |u| > 1 this file uses instead
   e^(sign(u) u) = E^e e^(sign(u) b) with E = exp(asinh(sign(u) v)) =
   |v| + sqrt(1 + v^2) (or its reciprocal), whose error does not grow with
   |u|; the log-dets likewise write log cosh(u) - log sqrt(1 + v^2) without
   its large cancelling terms. Same values, a few ulps everywhere.

   Speed: the maps decide |u| <= 1 on the input against thresholds from
   prepare(), so that neither branch calls asinh(). For |u| <= 1, asinh is
   log of E = |v| + sqrt(1 + v^2) carried as a double-double, and sinh a
   Taylor polynomial; for |u| > 1, c sinh(u) = k+ E^(+-e) - k- E^(-+e) has
   no cancellation. p[8..13] = {forward thresholds on x, inverse thresholds
   on v = y/m, 1/t and its rounding error}. */
/* No contraction of a * b + c into an FMA: the FLDJ's vectorised loops and
   its scalar function must round the same operations. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include "elementwise.h"
#include "scalar_math.h"
#include "exact_product.h"
#include "vector_math.h"
#include <float.h>

/* asinh(2) = log(2 + sqrt(5)) as an unevaluated sum hi + lo. */
#define ASINH2_HI 1.4436354751788103
#define ASINH2_LO 4.1248851422127449e-17

/* sqrt(1 + v^2) for v >= 0, and its log, without overflow. */
static inline double sa_hypot1(double v)
{
    return v > 1e8 ? v : sqrt(fma(v, v, 1.0));
}

/* asinh(a) for a >= 0: log(E) + E_lo / E with E + E_lo = a + sqrt(1 + a^2)
   to about 2^-100, so that E's rounding does not swamp small results. */
static inline double sa_asinh_abs(double a)
{
    if (a > 1e8)
        return log(a) + M_LN2;
    double sq = a * a, sq_lo = product_error(a, a, sq), q = 1.0 + sq;
    double q_lo = (sq > 1.0 ? (sq - q) + 1.0 : (1.0 - q) + sq) + sq_lo;
    /* q - r^2: q - fl(r^2) is exact (Sterbenz) */
    double r = sqrt(q), rr = r * r;
    double r_lo = ((q - rr) - product_error(r, r, rr) + q_lo) / (2.0 * r);
    double e = r + a, e_lo = (a - (e - r)) + r_lo;
    return log(e) + e_lo / e;
}

/* sinh(u) for |u| <= 1 (and a little beyond): Taylor to u^19, whose
   remainder is below 1e-19 relative. */
static inline double sa_sinh_small(double u)
{
    double u2 = u * u;
    double c = 1.0 / 355687428096000.0 + u2 * (1.0 / 121645100408832000.0);
    c = 1.0 / 1307674368000.0 + u2 * c;
    c = 1.0 / 6227020800.0 + u2 * c;
    c = 1.0 / 39916800.0 + u2 * c;
    c = 1.0 / 362880.0 + u2 * c;
    c = 1.0 / 5040.0 + u2 * c;
    c = 1.0 / 120.0 + u2 * c;
    c = 1.0 / 6.0 + u2 * c;
    return u + u * u2 * c;
}

/* E^e for E = exp(asinh(w)) = |w| + sqrt(1 + w^2) (or its reciprocal for
   w < 0), e_lo the rounding error of the exponent e; E = 2 w, taken in two
   factors, where it would overflow. */
static inline double sa_power(double w, double e, double e_lo)
{
    double h = sa_hypot1(fabs(w)), power, log_base;
    if (w > 1e300) {
        power = pow(w, e) * pow(2.0, e);
        log_base = e_lo == 0 ? 0 : log(w) + M_LN2;
    } else {
        double base = w >= 0 ? w + h : 1.0 / (h - w);
        power = pow(base, e);
        log_base = e_lo == 0 ? 0 : log(base);
    }
    return power * (1.0 + e_lo * log_base);
}

/* sign(u) c sinh(u) for |u| > 1 from power = e^(sign(u) u - sign(u) b),
   k_same, k_other = c/2 e^(+-sign(u) b); where power overflows but the
   result need not, k_same^(1/e) is folded into the base. */
static inline double sa_combine(double power, double w, double e,
                                double k_same, double k_other)
{
    if (isinf(power) && k_same < 1) {
        double k = pow(k_same, 1.0 / e);
        return w > 1e300 ? pow(w * k, e) * pow(2.0, e) :
            pow((w + sa_hypot1(w)) * k, e);
    }
    return k_same * power - k_other / power;
}

/* log cosh(u) - log sqrt(1 + v^2) + shift, u = e asinh(v) + b. */
static inline double sa_log_det(double v, double u, double e, double b,
                                double shift)
{
    if (fabs(u) <= 1)
        return log_cosh(u) - 0.5 * log1psquare(v) + shift;
    double a = fabs(v), h = sa_hypot1(a);
    double log_h = a > 1e8 ? log(a) : 0.5 * log1p(a * a);
    double l = log1p(a / h), sigma = u > 0 ? 1.0 : -1.0;
    /* e sign(u) asinh(v) - log h, asinh(|v|) = log h + l */
    double core = (sigma * v >= 0) ? (e - 1) * log_h + e * l :
        -((e + 1) * log_h + e * l);
    return core + ((sigma * b - M_LN2) + shift) + log1p(exp(-2 * fabs(u)));
}

static inline void sinh_arcsinh_prepare(const double *theta, double *p)
{
    double s = theta[0], t = theta[1];
    double w = t * ASINH2_HI, w_lo = fma(t, ASINH2_HI, -w) + t * ASINH2_LO;
    double ts = t * s, ts_lo = fma(t, s, -ts);
    /* m = 1 exactly at t = 1, so that the default is exactly the identity
       (sinh(asinh(2)) is 1 ulp low in libm) */
    double m = t == 1 ? 1.0 : 2.0 / (sinh(w) + cosh(w) * w_lo);
    p[0] = s;
    p[1] = t;
    p[2] = m;
    p[3] = log(t) + log(m);
    p[4] = 0.5 * m * (exp(ts) * (1.0 + ts_lo));
    p[5] = 0.5 * m * (exp(-ts) * (1.0 - ts_lo));
    p[6] = 0.5 * exp(-s);
    p[7] = 0.5 * exp(s);
    /* |u| <= 1 between these (the Taylor branch); finite, so that
       infinite inputs take the general path */
    p[8] = fmax(sinh(-1.0 / t - s), -DBL_MAX);
    p[9] = fmin(sinh(1.0 / t - s), DBL_MAX);
    p[10] = fmax(sinh(t * (s - 1.0)), -DBL_MAX);
    p[11] = fmin(sinh(t * (s + 1.0)), DBL_MAX);
    p[12] = 1.0 / t;
    p[13] = fma(-t, p[12], 1.0) / t;
}

/* The maps as before this file's fast paths: |u| > 1 where E^e overflows. */
static inline double sa_forward_general(double x, const double *p)
{
    double u = (asinh(x) + p[0]) * p[1];
    if (fabs(u) <= 1)
        return p[2] * sinh(u);
    double w = u > 0 ? x : -x, power = sa_power(w, p[1], 0);
    return u > 0 ? sa_combine(power, w, p[1], p[4], p[5]) :
        -sa_combine(power, w, p[1], p[5], p[4]);
}

/* y / m overflows only for |y| near the largest doubles (m < 1): there
   E^e = (2 |y| / m)^e is taken in two factors (and the
   fallback of sa_combine() does not apply). */
static inline double sa_inverse_general(double y, const double *p)
{
    double v = y / p[2], u = asinh(v) / p[1] - p[0];
    if (fabs(u) <= 1)
        return sinh(u);
    double e = p[12], e_lo = p[13];
    double w = u > 0 ? v : -v;
    double power = isinf(v) ? pow(fabs(y), e) * pow(2.0 / p[2], e) :
        sa_power(w, e, e_lo);
    return u > 0 ? sa_combine(power, w, e, p[6], p[7]) :
        -sa_combine(power, w, e, p[7], p[6]);
}

/* For |u| > 1, c sinh(u) = k_plus E^(sign(v) e) - k_minus E^(-sign(v) e);
   NaN when that overflows (or v is not finite), for the general path. */
static inline double sa_tail(double v, double power, double k_plus,
                             double k_minus)
{
    double c1 = v >= 0 ? k_plus : -k_minus, c2 = v >= 0 ? k_minus : -k_plus;
    return power < INFINITY ? c1 * power - c2 / power : NAN;
}

static inline double sinh_arcsinh_forward(double x, const double *p)
{
    if (x >= p[8] && x <= p[9]) {
        double u = (copysign(sa_asinh_abs(fabs(x)), x) + p[0]) * p[1];
        return p[2] * sa_sinh_small(u);
    }
    double a = fabs(x), y = sa_tail(x, pow(a + sa_hypot1(a), p[1]), p[4],
                                    p[5]);
    return isnan(y) ? sa_forward_general(x, p) : y;
}

/* The inverse for |v| <= 1e300, v = y / m: E = |v| + sqrt(1 + v^2) as a
   double-double e + e_lo (2|v| above 1e8, where the rest is below 2^-53
   relative); for |u| <= 1, x = sinh(u) with u = sign(v) log(E) / t - s
   (log(e) + e_lo / e, the Taylor sinh); beyond, x from E^(1/t) by the
   package's pow() with 1/t and E both in two parts (within 0.6 ulps).
   The logarithms and the powers are taken a block at a time, each over
   the elements of its branch; NaN, infinities, |v| > 1e300 and overflow
   take the general path. */
#define SA_INVERSE_HOT 1e300

static inline double sa_inverse_base(double v, double *e_lo)
{
    double a = fabs(v);
    if (a > 1e8) {
        *e_lo = 0;
        return 2.0 * a;
    }
    double sq = a * a, sq_lo = product_error(a, a, sq), q = 1.0 + sq;
    double q_lo = (sq > 1.0 ? (sq - q) + 1.0 : (1.0 - q) + sq) + sq_lo;
    double r = sqrt(q), rr = r * r;
    double r_lo = ((q - rr) - product_error(r, r, rr) + q_lo) / (2.0 * r);
    double e = r + a;
    *e_lo = (a - (e - r)) + r_lo;
    return e;
}

static inline int sa_inverse_small(double v, const double *p)
{
    return v >= p[10] && v <= p[11];
}

static inline double sa_inverse_small_finish(double v, double log_e,
                                             double e, double e_lo,
                                             const double *p)
{
    return sa_sinh_small(copysign(log_e + e_lo / e, v) / p[1] - p[0]);
}

static inline double sinh_arcsinh_inverse(double y, const double *p)
{
    double v = y / p[2];
    if (!(fabs(v) <= SA_INVERSE_HOT))
        return sa_inverse_general(y, p);
    double e_lo, e = sa_inverse_base(v, &e_lo);
    if (sa_inverse_small(v, p))
        return sa_inverse_small_finish(v, bj_log(e), e, e_lo, p);
    double x = sa_tail(v, bj_pow_dd(e, e_lo, p[12], p[13], 1.0, 0.0), p[6],
                       p[7]);
    return isnan(x) ? sa_inverse_general(y, p) : x;
}

static void sinh_arcsinh_inverse_block(const double *in, double *out, int n,
                                       const double *p)
{
    double e[ELEMENTWISE_BLOCK], e_lo[ELEMENTWISE_BLOCK],
        small_e[ELEMENTWISE_BLOCK], big_e[ELEMENTWISE_BLOCK],
        big_lo[ELEMENTWISE_BLOCK];
    int small[ELEMENTWISE_BLOCK], big[ELEMENTWISE_BLOCK];
    int n_small = 0, n_big = 0;
    for (int i = 0; i < n; i++) {
        double v = in[i] / p[2];
        if (!(fabs(v) <= SA_INVERSE_HOT)) {
            out[i] = sa_inverse_general(in[i], p);
            continue;
        }
        e[i] = sa_inverse_base(v, &e_lo[i]);
        if (sa_inverse_small(v, p)) {
            small_e[n_small] = e[i];
            small[n_small++] = i;
        } else {
            big_e[n_big] = e[i];
            big_lo[n_big] = e_lo[i];
            big[n_big++] = i;
        }
    }
    bj_log_array(small_e, small_e, n_small);
    for (int k = 0; k < n_small; k++) {
        int i = small[k];
        out[i] = sa_inverse_small_finish(in[i] / p[2], small_e[k], e[i],
                                         e_lo[i], p);
    }
    bj_pow_dd_array(big_e, big_lo, p[12], p[13], 1.0, 0.0, big_e, n_big);
    for (int k = 0; k < n_big; k++) {
        int i = big[k];
        double x = sa_tail(in[i] / p[2], big_e[k], p[6], p[7]);
        out[i] = isnan(x) ? sa_inverse_general(in[i], p) : x;
    }
}

/* The FLDJ as before: NaN, infinities and |x| > 2^26. */
static inline double sa_fldj_general(double x, const double *p)
{
    double u = (asinh(x) + p[0]) * p[1];
    return sa_log_det(x, u, p[1], p[1] * p[0], p[3]);
}

/* For |x| <= 2^26, log cosh(u) - log(1 + x^2) / 2 + log(t m) with its
   logs and exponential by vector_math, so that a block at a time runs as
   a few vector passes (each in its own loop): asinh|x| = log1p(a + a^2 /
   (1 + sqrt(1 + a^2))) (as tfb_sinh()'s inverse), log cosh(u) =
   log1p(2 sinh(|u|/2)^2) below |u| = 1 (sinh by its Taylor polynomial)
   and |u| + log1p(e^(-2|u|)) - log 2 above, and log1p(x^2). The terms are
   each within a few ulps, and the log-det within a few ulps of their
   sizes (it may cancel, as it does for the identity). */
#define SA_FLDJ_HOT 0x1p26

static inline double sa_asinh_argument(double a, double square, double root)
{
    return a + square / (1.0 + root);
}

static inline double sa_log_cosh_argument(double au, double e)
{
    double h = sa_sinh_small(0.5 * au);
    return au < 1.0 ? 2.0 * h * h : e;
}

static inline double sa_fldj_finish(double au, double log_cosh_term,
                                    double log1p_square, const double *p)
{
    double lc = au < 1.0 ? log_cosh_term : (au + log_cosh_term) - M_LN2;
    return (lc - 0.5 * log1p_square) + p[3];
}

static inline double sinh_arcsinh_fldj(double x, const double *p)
{
    if (!(fabs(x) <= SA_FLDJ_HOT))
        return sa_fldj_general(x, p);
    double square = x * x, root = sqrt(1.0 + square);
    double as = bj_log1p(sa_asinh_argument(fabs(x), square, root));
    double au = fabs((copysign(as, x) + p[0]) * p[1]);
    double e = bj_exp(-2.0 * au);
    double lc = bj_log1p(sa_log_cosh_argument(au, e));
    return sa_fldj_finish(au, lc, bj_log1p(square), p);
}

static void sinh_arcsinh_fldj_block(const double *in, double *out, int n,
                                    const double *p)
{
    double square[ELEMENTWISE_BLOCK], work[ELEMENTWISE_BLOCK],
        au[ELEMENTWISE_BLOCK];
    ELEMENTWISE_SIMD
    for (int i = 0; i < n; i++) {
        square[i] = in[i] * in[i];
        work[i] = 1.0 + square[i];
    }
    /* sqrt() may set errno: a scalar loop of its own */
    for (int i = 0; i < n; i++)
        work[i] = sqrt(work[i]);
    ELEMENTWISE_SIMD
    for (int i = 0; i < n; i++)
        work[i] = sa_asinh_argument(fabs(in[i]), square[i], work[i]);
    bj_log1p_array(work, work, n);
    ELEMENTWISE_SIMD
    for (int i = 0; i < n; i++) {
        au[i] = fabs((copysign(work[i], in[i]) + p[0]) * p[1]);
        work[i] = -2.0 * au[i];
    }
    bj_exp_array(work, work, n);
    ELEMENTWISE_SIMD
    for (int i = 0; i < n; i++)
        work[i] = sa_log_cosh_argument(au[i], work[i]);
    bj_log1p_array(work, work, n);
    bj_log1p_array(square, square, n);
    ELEMENTWISE_SIMD
    for (int i = 0; i < n; i++)
        out[i] = sa_fldj_finish(au[i], work[i], square[i], p);
    for (int i = 0; i < n; i++)
        if (!(fabs(in[i]) <= SA_FLDJ_HOT))
            out[i] = sa_fldj_general(in[i], p);
}

static inline double sinh_arcsinh_ildj(double y, const double *p)
{
    double v = y / p[2], u = asinh(v) / p[1] - p[0], e = 1.0 / p[1];
    if (isinf(v)) /* log sqrt(1 + v^2) = log|y| - log m, asinh|v| - that = log 2 */
        return (e - 1) * (log(fabs(y)) - log(p[2])) + e * M_LN2 +
            (((y > 0 ? 1 : -1) * -p[0] - M_LN2) - p[3]);
    return sa_log_det(v, u, e, -p[0], -p[3]);
}

static inline double sinh_arcsinh_dforward_dx(double x, const double *p)
{
    double u = (asinh(x) + p[0]) * p[1];
    return p[2] * p[1] * cosh(u) / sa_hypot1(fabs(x));
}

static inline double sinh_arcsinh_dfldj_dx(double x, const double *p)
{
    double u = (asinh(x) + p[0]) * p[1], h = sa_hypot1(fabs(x));
    return (p[1] * tanh(u) - x / h) / h;
}

/* dm/dt = -m A coth(A t), A = asinh(2). */
static inline void sinh_arcsinh_dforward_dparams(double x, const double *p,
                                                 double *d)
{
    double a = asinh(x) + p[0], u = a * p[1];
    double a_coth = ASINH2_HI / tanh(ASINH2_HI * p[1]);
    d[0] = p[2] * p[1] * cosh(u);
    d[1] = p[2] * (a * cosh(u) - a_coth * sinh(u));
}

static inline void sinh_arcsinh_dfldj_dparams(double x, const double *p,
                                              double *d)
{
    double a = asinh(x) + p[0], u = a * p[1];
    double a_coth = ASINH2_HI / tanh(ASINH2_HI * p[1]);
    d[0] = p[1] * tanh(u);
    d[1] = a * tanh(u) + 1.0 / p[1] - a_coth;
}

ELEMENTWISE_KIND_WITH(sinh_arcsinh, 2, ELEMENTWISE_LOG_DET_VARYING, SCALAR,
                      BLOCK, BLOCK, SCALAR)
