/* Elementary functions over arrays (vector_math.h): range reduction and
   polynomials in vector_math_core.h, expanded here twice, for doubles (the
   portable path) and for four-lane AVX2 + FMA vectors chosen at run time.
   Each function has a hot path without branches for the common inputs and
   a scalar fix-up, in both paths, for the rare lanes outside it (NaN,
   infinities, overflow, underflow, subnormals, the domain's edges). The
   scalar fix-ups give C99's special values; NaN in gives the same NaN out
   (R's NA stays NA). */

/* No contraction of a * b + c into an FMA behind our back: the two paths
   must round the same operations (GCC contracts vector code too). */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include <math.h>
#include <stdint.h>
#include <string.h>
#include "vector_math.h"
#include "vector_math_log_table.h"

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define BJ_VMATH_X86
#include <immintrin.h>
#endif

static inline uint64_t bits_of(double x)
{
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static inline double double_of(uint64_t u)
{
    double x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* ---- the scalar expansion ---------------------------------------------- */

#define V double
#define I uint64_t
#define M int
#define VSET(c) ((double) (c))
#define ISET(c) ((uint64_t) (c))
#define VADD(a, b) ((a) + (b))
#define VSUB(a, b) ((a) - (b))
#define VMUL(a, b) ((a) * (b))
#define VDIV(a, b) ((a) / (b))
#define VFMA(a, b, c) fma((a), (b), (c))
#define VFNMA(a, b, c) fma(-(a), (b), (c))
#define VFMS(a, b, c) fma((a), (b), -(c))
#define VMIN(a, b) ((a) < (b) ? (a) : (b))
#define VABS(a) fabs(a)
#define VEQ(a, b) ((a) == (b))
#define VNAN(a) ((a) != (a))
#define VSEL(m, a, b) ((m) ? (a) : (b))
#define ASI(v) bits_of(v)
#define ASD(i) double_of(i)
#define IADD(a, b) ((a) + (b))
#define ISUB(a, b) ((a) - (b))
#define IAND(a, b) ((a) & (b))
#define IOR(a, b) ((a) | (b))
#define ISRL(a, n) ((a) >> (n))
#define ISLL(a, n) ((a) << (n))
#define VLOOKUP(table, i) ((table)[(i)])

/* Compiled twice: plainly (fma() from the C library), and, on x86, for
   CPUs with FMA so that scalar calls there use the instruction; the same
   roundings either way. */
#define NS(name) name##_s
#define ATTR
#include "vector_math_core.h"
#undef NS
#undef ATTR
#ifdef BJ_VMATH_X86
#define NS(name) name##_sf
#define ATTR __attribute__((target("avx2,fma")))
#include "vector_math_core.h"
#undef NS
#undef ATTR
#endif

#include "vector_math_undef.h"

/* ---- scalar functions with their special cases --------------------------
   Each is written once as a macro over the hot-path expansion it uses. The
   hot ranges: |x| <= 708 for exp and expm1 (2^k normal), positive normal
   finite x for log, -1 < x < Inf for log1p, all but NaN for tanh. */

#define HOT_EXP(x) (fabs(x) <= 708.0)
#define HOT_EXPM1(x) (fabs(x) <= 708.0)
#define HOT_LOG(x) ((x) >= 0x1p-1022 && (x) < INFINITY)
#define HOT_LOG1P(x) ((x) > -1.0 && (x) < INFINITY)

#define DEFINE_SCALARS(SUF, ATTRS)                                          \
    ATTRS static double exp##SUF(double x)                                  \
    {                                                                       \
        if (HOT_EXP(x))                                                     \
            return exp_hot##SUF(x);                                         \
        if (x != x)                                                         \
            return x;                                                       \
        if (x > 710.0)                                                      \
            return INFINITY;                                                \
        if (x < -746.0)                                                     \
            return 0.0;                                                     \
        /* overflow or a subnormal result: one rounding by ldexp */         \
        double hi, lo;                                                      \
        double k = exp_parts##SUF(x, &hi, &lo);                             \
        return ldexp(hi + lo, (int) k);                                     \
    }                                                                       \
    ATTRS static double expm1##SUF(double x)                                \
    {                                                                       \
        if (HOT_EXPM1(x))                                                   \
            return expm1_hot##SUF(x);                                       \
        if (x != x)                                                         \
            return x;                                                       \
        /* beyond 708, e^x - 1 rounds as e^x does */                       \
        return x > 0 ? exp##SUF(x) : -1.0;                                  \
    }                                                                       \
    ATTRS static double log##SUF(double x)                                  \
    {                                                                       \
        if (HOT_LOG(x))                                                     \
            return log_hot##SUF(x);                                         \
        if (x != x)                                                         \
            return x;                                                       \
        if (x < 0)                                                          \
            return NAN;                                                     \
        if (x == 0)                                                         \
            return -INFINITY;                                               \
        if (x == INFINITY)                                                  \
            return x;                                                       \
        /* subnormal: scaled by 2^54 into the normal range */              \
        double f;                                                           \
        double k = log_reduce##SUF(x * 0x1p54, &f);                         \
        return log_finish##SUF(k - 54.0, f, 0.0);                           \
    }                                                                       \
    ATTRS static double log1p##SUF(double x)                                \
    {                                                                       \
        if (HOT_LOG1P(x))                                                   \
            return log1p_hot##SUF(x);                                       \
        if (x != x)                                                         \
            return x;                                                       \
        if (x == -1.0)                                                      \
            return -INFINITY;                                               \
        if (x < -1.0)                                                       \
            return NAN;                                                     \
        return x;                       /* +Inf */                          \
    }                                                                       \
    ATTRS static double tanh##SUF(double x)                                 \
    {                                                                       \
        return tanh_hot##SUF(x);                                            \
    }

DEFINE_SCALARS(_s, )
#ifdef BJ_VMATH_X86
DEFINE_SCALARS(_sf, __attribute__((target("avx2,fma"))))
#endif

/* s pow and s powm1 of x + xl (xl = 0, or the rounding error of a base
   computed as a double-double) to the power eh + el, s = sh + sl. The hot
   range: positive normal finite x and |e log x| <= 708. Outside it, for x
   >= 0, s times C99's pow() (pow(x, 0) = pow(1, e) = 1, pow(0, e > 0) = 0,
   ...); for negative x, NaN (no integer powers of negative bases). */
#define DEFINE_POW_SCALARS(SUF, ATTRS)                                      \
    /* s exp(ph + pl) (or minus 1) for |ph| > 708, NaN, or an infinity:     \
       through ldexp while |ph| < 1400 (k ln2_hi exact), as s may bring     \
       the result back into range */                                        \
    ATTRS static double pow_big##SUF(double ph, double pl, int minus_one,   \
                                     double sh, double sl)                  \
    {                                                                       \
        if (ph != ph)                                                       \
            return ph;                                                      \
        if (minus_one && ph < 0)                                            \
            return -sh;                 /* e^ph below 2^-1021 */            \
        if (ph > 1400.0)                                                    \
            return INFINITY * sh;                                           \
        if (ph < -1400.0)                                                   \
            return 0.0 * sh;                                                \
        /* beyond 708, e^ph - 1 rounds as e^ph does */                      \
        double r, rl, hi, lo;                                               \
        double k = exp_reduce_dd##SUF(ph, pl, &r, &rl);                     \
        exp_join##SUF(r, rl, &hi, &lo);                                     \
        return ldexp(scale_dd##SUF(hi, lo, sh, sl), (int) k);               \
    }                                                                       \
    ATTRS static double pow_cold##SUF(double x, double xl, double eh,       \
                                      double el, double sh, double sl,      \
                                      int minus_one)                        \
    {                                                                       \
        double one = minus_one ? 0.0 : 1.0, zero = minus_one ? -1.0 : 0.0;  \
        if ((eh == 0 && el == 0) || (x == 1 && xl == 0))                    \
            return one * sh;                                                \
        if (x != x || eh != eh)                                             \
            return x + eh;                                                  \
        if (x < 0)                                                          \
            return NAN;                                                     \
        if (x == 0)                                                         \
            return (eh > 0 ? zero : INFINITY) * sh;                         \
        if (x == INFINITY)                                                  \
            return (eh > 0 ? INFINITY : zero) * sh;                         \
        double z, ll, pl;                                                   \
        uint64_t i;                                                         \
        double k = x < 0x1p-1022 ?                                          \
            pow_reduce##SUF(x * 0x1p54, &z, &i) - 54.0 :                    \
            pow_reduce##SUF(x, &z, &i);                                     \
        double lh = pow_log##SUF(k, z, i, xl / x, &ll);                     \
        double ph = pow_product##SUF(lh, ll, eh, el, &pl);                  \
        if (fabs(ph) <= 708.0)                                              \
            return minus_one ? powm1_finish##SUF(ph, pl, sh, sl) :          \
                pow_finish##SUF(ph, pl, sh, sl);                            \
        return pow_big##SUF(ph, pl, minus_one, sh, sl);                     \
    }                                                                       \
    ATTRS static double pow_dd##SUF(double x, double xl, double eh,         \
                                    double el, double sh, double sl)        \
    {                                                                       \
        if (x >= 0x1p-1022 && x < INFINITY) {                               \
            double pl, ph = pow_exponent##SUF(x, xl / x, eh, el, &pl);      \
            if (fabs(ph) <= 708.0)                                          \
                return pow_finish##SUF(ph, pl, sh, sl);                     \
        }                                                                   \
        return pow_cold##SUF(x, xl, eh, el, sh, sl, 0);                     \
    }                                                                       \
    ATTRS static double powm1_dd##SUF(double x, double xl, double eh,       \
                                      double el, double sh, double sl)      \
    {                                                                       \
        if (x >= 0x1p-1022 && x < INFINITY) {                               \
            double pl, ph = pow_exponent##SUF(x, xl / x, eh, el, &pl);      \
            if (fabs(ph) <= 708.0)                                          \
                return powm1_finish##SUF(ph, pl, sh, sl);                   \
        }                                                                   \
        return pow_cold##SUF(x, xl, eh, el, sh, sl, 1);                     \
    }

DEFINE_POW_SCALARS(_s, )
#ifdef BJ_VMATH_X86
DEFINE_POW_SCALARS(_sf, __attribute__((target("avx2,fma"))))
#endif

/* (eh + el) log x rounded once: pow's double-double logarithm and exact
   product, without the exp. C99's log times eh outside the positive
   finite doubles, and a zero of eh's sign at x = 1. */
#define DEFINE_LOG_TIMES_SCALARS(SUF, ATTRS)                                \
    ATTRS static double log_times_dd##SUF(double x, double eh, double el)   \
    {                                                                       \
        if (!(x > 0) || x == INFINITY)                                      \
            return eh * log(x);                                             \
        if (x == 1)                                                         \
            return eh * 0.0;                                                \
        double z, ll, pl;                                                   \
        uint64_t i;                                                         \
        double k = x < 0x1p-1022 ?                                          \
            pow_reduce##SUF(x * 0x1p54, &z, &i) - 54.0 :                    \
            pow_reduce##SUF(x, &z, &i);                                     \
        double lh = pow_log##SUF(k, z, i, 0.0, &ll);                        \
        double ph = pow_product##SUF(lh, ll, eh, el, &pl);                  \
        return ph + pl;                                                     \
    }

DEFINE_LOG_TIMES_SCALARS(_s, )
#ifdef BJ_VMATH_X86
DEFINE_LOG_TIMES_SCALARS(_sf, __attribute__((target("avx2,fma"))))
#endif

/* ---- the AVX2 + FMA expansion ------------------------------------------- */

#ifdef BJ_VMATH_X86

#define V __m256d
#define I __m256i
#define M __m256d
#define VSET(c) _mm256_set1_pd((double) (c))
#define ISET(c) _mm256_set1_epi64x((long long) (c))
#define VADD(a, b) _mm256_add_pd((a), (b))
#define VSUB(a, b) _mm256_sub_pd((a), (b))
#define VMUL(a, b) _mm256_mul_pd((a), (b))
#define VDIV(a, b) _mm256_div_pd((a), (b))
#define VFMA(a, b, c) _mm256_fmadd_pd((a), (b), (c))
#define VFNMA(a, b, c) _mm256_fnmadd_pd((a), (b), (c))
#define VFMS(a, b, c) _mm256_fmsub_pd((a), (b), (c))
/* min_pd(a, b) is a < b ? a : b, as VMIN asks */
#define VMIN(a, b) _mm256_min_pd((a), (b))
#define VABS(a) _mm256_andnot_pd(_mm256_set1_pd(-0.0), (a))
#define VEQ(a, b) _mm256_cmp_pd((a), (b), _CMP_EQ_OQ)
#define VNAN(a) _mm256_cmp_pd((a), (a), _CMP_UNORD_Q)
#define VSEL(m, a, b) _mm256_blendv_pd((b), (a), (m))
#define ASI(v) _mm256_castpd_si256(v)
#define ASD(i) _mm256_castsi256_pd(i)
#define IADD(a, b) _mm256_add_epi64((a), (b))
#define ISUB(a, b) _mm256_sub_epi64((a), (b))
#define IAND(a, b) _mm256_and_si256((a), (b))
#define IOR(a, b) _mm256_or_si256((a), (b))
#define ISRL(a, n) _mm256_srli_epi64((a), (n))
#define ISLL(a, n) _mm256_slli_epi64((a), (n))
#define VLOOKUP(table, i) _mm256_i64gather_pd((table), (i), 8)

/* always inlined: the array loops interleave two vectors' dependency
   chains, which a call per vector would serialise */
#define NS(name) name##_v
#define ATTR __attribute__((target("avx2,fma"), always_inline))
#include "vector_math_core.h"
#undef NS
#undef ATTR

/* masks of the lanes outside each hot range (NaN counts as outside) */
__attribute__((target("avx2,fma")))
static inline __m256d cold_abs708(__m256d x)
{
    return _mm256_cmp_pd(VABS(x), _mm256_set1_pd(708.0), _CMP_NLE_UQ);
}
__attribute__((target("avx2,fma")))
static inline __m256d cold_log(__m256d x)
{
    __m256d ok = _mm256_and_pd(
        _mm256_cmp_pd(x, _mm256_set1_pd(0x1p-1022), _CMP_GE_OQ),
        _mm256_cmp_pd(x, _mm256_set1_pd(INFINITY), _CMP_LT_OQ));
    return _mm256_xor_pd(ok, _mm256_castsi256_pd(_mm256_set1_epi64x(-1)));
}
__attribute__((target("avx2,fma")))
static inline __m256d cold_log1p(__m256d x)
{
    __m256d ok = _mm256_and_pd(
        _mm256_cmp_pd(x, _mm256_set1_pd(-1.0), _CMP_GT_OQ),
        _mm256_cmp_pd(x, _mm256_set1_pd(INFINITY), _CMP_LT_OQ));
    return _mm256_xor_pd(ok, _mm256_castsi256_pd(_mm256_set1_epi64x(-1)));
}
__attribute__((target("avx2,fma")))
static inline __m256d cold_none(__m256d x)
{
    (void) x;
    return _mm256_setzero_pd();
}

/* Four lanes at a time; lanes outside the hot range recomputed by the
   scalar function (the inputs kept aside first: y may be x). The last
   n % 4 values go through a padded buffer, so nothing past the arrays is
   read or written. */
#define DEFINE_AVX2_ARRAY(FN, COLD)                                         \
    __attribute__((target("avx2,fma")))                                     \
    static void FN##_array_avx2(const double *x, double *y, R_xlen_t n)     \
    {                                                                       \
        R_xlen_t i = 0;                                                     \
        /* two vectors at a time: their dependency chains interleave */     \
        for (; i + 8 <= n; i += 8) {                                        \
            __m256d v0 = _mm256_loadu_pd(x + i);                            \
            __m256d v1 = _mm256_loadu_pd(x + i + 4);                        \
            __m256d r0 = FN##_hot_v(v0), r1 = FN##_hot_v(v1);               \
            int cold = _mm256_movemask_pd(COLD(v0)) |                       \
                (_mm256_movemask_pd(COLD(v1)) << 4);                        \
            _mm256_storeu_pd(y + i, r0);                                    \
            _mm256_storeu_pd(y + i + 4, r1);                                \
            if (cold) {                                                     \
                double in[8];                                               \
                _mm256_storeu_pd(in, v0);                                   \
                _mm256_storeu_pd(in + 4, v1);                               \
                for (int j = 0; j < 8; j++)                                 \
                    if (cold & (1 << j))                                    \
                        y[i + j] = FN##_sf(in[j]);                          \
            }                                                               \
        }                                                                   \
        for (; i + 4 <= n; i += 4) {                                        \
            __m256d v = _mm256_loadu_pd(x + i);                             \
            __m256d r = FN##_hot_v(v);                                      \
            int cold = _mm256_movemask_pd(COLD(v));                         \
            _mm256_storeu_pd(y + i, r);                                     \
            if (cold) {                                                     \
                double in[4];                                               \
                _mm256_storeu_pd(in, v);                                    \
                for (int j = 0; j < 4; j++)                                 \
                    if (cold & (1 << j))                                    \
                        y[i + j] = FN##_sf(in[j]);                          \
            }                                                               \
        }                                                                   \
        if (i < n) {                                                        \
            double in[4] = {1.0, 1.0, 1.0, 1.0}, out[4];                    \
            int rest = (int) (n - i);                                       \
            for (int j = 0; j < rest; j++)                                  \
                in[j] = x[i + j];                                           \
            __m256d v = _mm256_loadu_pd(in);                                \
            _mm256_storeu_pd(out, FN##_hot_v(v));                           \
            int cold = _mm256_movemask_pd(COLD(v));                         \
            for (int j = 0; j < rest; j++)                                  \
                y[i + j] = (cold & (1 << j)) ? FN##_sf(in[j]) : out[j];     \
        }                                                                   \
    }

DEFINE_AVX2_ARRAY(exp, cold_abs708)
DEFINE_AVX2_ARRAY(expm1, cold_abs708)
DEFINE_AVX2_ARRAY(log, cold_log)
DEFINE_AVX2_ARRAY(log1p, cold_log1p)
DEFINE_AVX2_ARRAY(tanh, cold_none)

/* y[i] = tanh(x[i] + b): the sum rounded as a separate addition would be,
   so the same bits as adding b first, in one pass instead of two (the
   hidden layers' bias and activation). tanh has no cold lanes. */
__attribute__((target("avx2,fma")))
static void tanh_shift_array_avx2(const double *x, double b, double *y,
                                  R_xlen_t n)
{
    const __m256d shift = _mm256_set1_pd(b);
    R_xlen_t i = 0;
    /* four independent vectors in flight (see tanh_shift_array_avx512()) */
    for (; i + 16 <= n; i += 16) {
        __m256d v0 = _mm256_add_pd(_mm256_loadu_pd(x + i), shift);
        __m256d v1 = _mm256_add_pd(_mm256_loadu_pd(x + i + 4), shift);
        __m256d v2 = _mm256_add_pd(_mm256_loadu_pd(x + i + 8), shift);
        __m256d v3 = _mm256_add_pd(_mm256_loadu_pd(x + i + 12), shift);
        __m256d r0 = tanh_hot_v(v0), r1 = tanh_hot_v(v1);
        __m256d r2 = tanh_hot_v(v2), r3 = tanh_hot_v(v3);
        _mm256_storeu_pd(y + i, r0);
        _mm256_storeu_pd(y + i + 4, r1);
        _mm256_storeu_pd(y + i + 8, r2);
        _mm256_storeu_pd(y + i + 12, r3);
    }
    for (; i + 8 <= n; i += 8) {
        __m256d v0 = _mm256_add_pd(_mm256_loadu_pd(x + i), shift);
        __m256d v1 = _mm256_add_pd(_mm256_loadu_pd(x + i + 4), shift);
        __m256d r0 = tanh_hot_v(v0), r1 = tanh_hot_v(v1);
        _mm256_storeu_pd(y + i, r0);
        _mm256_storeu_pd(y + i + 4, r1);
    }
    while (i < n) {
        double in[4] = {0.0, 0.0, 0.0, 0.0}, out[4];
        int rest = (int) (n - i < 4 ? n - i : 4);
        for (int j = 0; j < rest; j++)
            in[j] = x[i + j];
        _mm256_storeu_pd(out, tanh_hot_v(_mm256_add_pd(_mm256_loadu_pd(in),
                                                       shift)));
        for (int j = 0; j < rest; j++)
            y[i + j] = out[j];
        i += rest;
    }
}

/* pow and powm1: as above, two vectors at a time, with the base's low
   parts (when xl is not NULL) entering as xl / x; the cold lanes are
   those outside positive normal finite x or beyond |e log x| <= 708. */
__attribute__((target("avx2,fma")))
static inline __m256d cold_pow(__m256d x, __m256d ph)
{
    __m256d ok = _mm256_and_pd(
        _mm256_and_pd(_mm256_cmp_pd(x, _mm256_set1_pd(0x1p-1022), _CMP_GE_OQ),
                      _mm256_cmp_pd(x, _mm256_set1_pd(INFINITY), _CMP_LT_OQ)),
        _mm256_cmp_pd(VABS(ph), _mm256_set1_pd(708.0), _CMP_LE_OQ));
    return _mm256_xor_pd(ok, _mm256_castsi256_pd(_mm256_set1_epi64x(-1)));
}

#define DEFINE_AVX2_POW(FN)                                                 \
    __attribute__((target("avx2,fma"), always_inline))                      \
    static inline __m256d FN##_lanes(__m256d v, __m256d c, __m256d eh,      \
                                     __m256d el, __m256d sh, __m256d sl,    \
                                     int *cold)                             \
    {                                                                       \
        __m256d pl, ph = pow_exponent_v(v, c, eh, el, &pl);                 \
        *cold = _mm256_movemask_pd(cold_pow(v, ph));                        \
        return FN##_finish_v(ph, pl, sh, sl);                               \
    }                                                                       \
    __attribute__((target("avx2,fma")))                                     \
    static void FN##_dd_array_avx2(const double *xh, const double *xl,      \
                                   double eh, double el, double sh,         \
                                   double sl, double *y, R_xlen_t n)        \
    {                                                                       \
        __m256d veh = _mm256_set1_pd(eh), vel = _mm256_set1_pd(el);         \
        __m256d vsh = _mm256_set1_pd(sh), vsl = _mm256_set1_pd(sl);         \
        __m256d zero = _mm256_setzero_pd();                                 \
        R_xlen_t i = 0;                                                     \
        for (; i + 8 <= n; i += 8) {                                        \
            __m256d v0 = _mm256_loadu_pd(xh + i);                           \
            __m256d v1 = _mm256_loadu_pd(xh + i + 4);                       \
            __m256d c0 = zero, c1 = zero;                                   \
            if (xl) {                                                       \
                c0 = _mm256_div_pd(_mm256_loadu_pd(xl + i), v0);            \
                c1 = _mm256_div_pd(_mm256_loadu_pd(xl + i + 4), v1);        \
            }                                                               \
            int cold0, cold1;                                               \
            __m256d r0 = FN##_lanes(v0, c0, veh, vel, vsh, vsl, &cold0);    \
            __m256d r1 = FN##_lanes(v1, c1, veh, vel, vsh, vsl, &cold1);    \
            int cold = cold0 | (cold1 << 4);                                \
            if (cold) {                                                     \
                double in[8], lo[8] = {0};                                  \
                _mm256_storeu_pd(in, v0);                                   \
                _mm256_storeu_pd(in + 4, v1);                               \
                for (int j = 0; j < 8; j++)                                 \
                    lo[j] = xl ? xl[i + j] : 0.0;                           \
                _mm256_storeu_pd(y + i, r0);                                \
                _mm256_storeu_pd(y + i + 4, r1);                            \
                for (int j = 0; j < 8; j++)                                 \
                    if (cold & (1 << j))                                    \
                        y[i + j] = FN##_dd_sf(in[j], lo[j], eh, el, sh, sl);        \
            } else {                                                        \
                _mm256_storeu_pd(y + i, r0);                                \
                _mm256_storeu_pd(y + i + 4, r1);                            \
            }                                                               \
        }                                                                   \
        while (i < n) {                                                     \
            double in[4] = {1.0, 1.0, 1.0, 1.0}, lo[4] = {0}, out[4];       \
            int rest = (int) (n - i < 4 ? n - i : 4);                       \
            for (int j = 0; j < rest; j++) {                                \
                in[j] = xh[i + j];                                          \
                lo[j] = xl ? xl[i + j] : 0.0;                               \
            }                                                               \
            __m256d v = _mm256_loadu_pd(in);                                \
            __m256d c = xl ? _mm256_div_pd(_mm256_loadu_pd(lo), v) : zero;  \
            int cold;                                                       \
            _mm256_storeu_pd(out, FN##_lanes(v, c, veh, vel, vsh, vsl, &cold)); \
            for (int j = 0; j < rest; j++)                                  \
                y[i + j] = (cold & (1 << j)) ?                              \
                    FN##_dd_sf(in[j], lo[j], eh, el, sh, sl) : out[j];              \
            i += rest;                                                      \
        }                                                                   \
    }

DEFINE_AVX2_POW(pow)
DEFINE_AVX2_POW(powm1)

__attribute__((target("avx2,fma")))
static void one_plus_product_array_avx2(const double *x, double c, double *hi,
                                        double *lo, R_xlen_t n)
{
    __m256d vc = _mm256_set1_pd(c);
    R_xlen_t i = 0;
    for (; i + 4 <= n; i += 4) {
        __m256d l, h = one_plus_product_v(_mm256_loadu_pd(x + i), vc, &l);
        _mm256_storeu_pd(hi + i, h);
        _mm256_storeu_pd(lo + i, l);
    }
    for (; i < n; i++)
        hi[i] = one_plus_product_sf(x[i], c, &lo[i]);
}

/* ---- the AVX-512 expansion ----------------------------------------------
   The same operations on eight lanes: fewer instructions per value and
   twice the registers, so fewer spills; the same bits as the other paths
   (tested). */

#include "vector_math_undef.h"

#define V __m512d
#define I __m512i
#define M __mmask8
#define VSET(c) _mm512_set1_pd((double) (c))
#define ISET(c) _mm512_set1_epi64((long long) (c))
#define VADD(a, b) _mm512_add_pd((a), (b))
#define VSUB(a, b) _mm512_sub_pd((a), (b))
#define VMUL(a, b) _mm512_mul_pd((a), (b))
#define VDIV(a, b) _mm512_div_pd((a), (b))
#define VFMA(a, b, c) _mm512_fmadd_pd((a), (b), (c))
#define VFNMA(a, b, c) _mm512_fnmadd_pd((a), (b), (c))
#define VFMS(a, b, c) _mm512_fmsub_pd((a), (b), (c))
/* as _mm256_min_pd: a < b ? a : b */
#define VMIN(a, b) _mm512_min_pd((a), (b))
#define VABS(a) _mm512_abs_pd(a)
#define VEQ(a, b) _mm512_cmp_pd_mask((a), (b), _CMP_EQ_OQ)
#define VNAN(a) _mm512_cmp_pd_mask((a), (a), _CMP_UNORD_Q)
#define VSEL(m, a, b) _mm512_mask_blend_pd((m), (b), (a))
#define ASI(v) _mm512_castpd_si512(v)
#define ASD(i) _mm512_castsi512_pd(i)
#define IADD(a, b) _mm512_add_epi64((a), (b))
#define ISUB(a, b) _mm512_sub_epi64((a), (b))
#define IAND(a, b) _mm512_and_si512((a), (b))
#define IOR(a, b) _mm512_or_si512((a), (b))
#define ISRL(a, n) _mm512_srli_epi64((a), (n))
#define ISLL(a, n) _mm512_slli_epi64((a), (n))
#define VLOOKUP(table, i) _mm512_i64gather_pd((i), (table), 8)

#define AVX512_TARGET __attribute__((target("avx512f,avx2,fma")))
#define NS(name) name##_w
#define ATTR __attribute__((target("avx512f,avx2,fma"), always_inline))
#include "vector_math_core.h"
#undef NS
#undef ATTR

/* masks of the lanes outside each hot range (NaN counts as outside) */
AVX512_TARGET static inline __mmask8 cold512_abs708(__m512d x)
{
    return _mm512_cmp_pd_mask(VABS(x), VSET(708.0), _CMP_NLE_UQ);
}
AVX512_TARGET static inline __mmask8 cold512_log(__m512d x)
{
    return (__mmask8) ~(_mm512_cmp_pd_mask(x, VSET(0x1p-1022), _CMP_GE_OQ) &
                        _mm512_cmp_pd_mask(x, VSET(INFINITY), _CMP_LT_OQ));
}
AVX512_TARGET static inline __mmask8 cold512_log1p(__m512d x)
{
    return (__mmask8) ~(_mm512_cmp_pd_mask(x, VSET(-1.0), _CMP_GT_OQ) &
                        _mm512_cmp_pd_mask(x, VSET(INFINITY), _CMP_LT_OQ));
}
AVX512_TARGET static inline __mmask8 cold512_none(__m512d x)
{
    (void) x;
    return 0;
}
AVX512_TARGET static inline __mmask8 cold512_pow(__m512d x, __m512d ph)
{
    return (__mmask8) ~(_mm512_cmp_pd_mask(x, VSET(0x1p-1022), _CMP_GE_OQ) &
                        _mm512_cmp_pd_mask(x, VSET(INFINITY), _CMP_LT_OQ) &
                        _mm512_cmp_pd_mask(VABS(ph), VSET(708.0), _CMP_LE_OQ));
}

/* As DEFINE_AVX2_ARRAY, eight lanes a vector; the last n % 8 values
   through a padded buffer. */
#define DEFINE_AVX512_ARRAY(FN, COLD)                                       \
    AVX512_TARGET                                                           \
    static void FN##_array_avx512(const double *x, double *y, R_xlen_t n)   \
    {                                                                       \
        R_xlen_t i = 0;                                                     \
        for (; i + 16 <= n; i += 16) {                                      \
            __m512d v0 = _mm512_loadu_pd(x + i);                            \
            __m512d v1 = _mm512_loadu_pd(x + i + 8);                        \
            __m512d r0 = FN##_hot_w(v0), r1 = FN##_hot_w(v1);               \
            unsigned cold = (unsigned) COLD(v0) |                           \
                ((unsigned) COLD(v1) << 8);                                 \
            _mm512_storeu_pd(y + i, r0);                                    \
            _mm512_storeu_pd(y + i + 8, r1);                                \
            if (cold) {                                                     \
                double in[16];                                              \
                _mm512_storeu_pd(in, v0);                                   \
                _mm512_storeu_pd(in + 8, v1);                               \
                for (int j = 0; j < 16; j++)                                \
                    if (cold & (1u << j))                                   \
                        y[i + j] = FN##_sf(in[j]);                          \
            }                                                               \
        }                                                                   \
        while (i < n) {                                                     \
            double in[8] = {1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0}, out[8]; \
            int rest = (int) (n - i < 8 ? n - i : 8);                       \
            for (int j = 0; j < rest; j++)                                  \
                in[j] = x[i + j];                                           \
            __m512d v = _mm512_loadu_pd(in);                                \
            _mm512_storeu_pd(out, FN##_hot_w(v));                           \
            unsigned cold = COLD(v);                                        \
            for (int j = 0; j < rest; j++)                                  \
                y[i + j] = (cold & (1u << j)) ? FN##_sf(in[j]) : out[j];    \
            i += rest;                                                      \
        }                                                                   \
    }

DEFINE_AVX512_ARRAY(exp, cold512_abs708)
DEFINE_AVX512_ARRAY(expm1, cold512_abs708)
DEFINE_AVX512_ARRAY(log, cold512_log)
DEFINE_AVX512_ARRAY(log1p, cold512_log1p)
DEFINE_AVX512_ARRAY(tanh, cold512_none)

/* tanh(x[i] + b), as tanh_shift_array_avx2(); the last n % 8 values
   through masked loads and stores */
AVX512_TARGET
static void tanh_shift_array_avx512(const double *x, double b, double *y,
                                    R_xlen_t n)
{
    const __m512d shift = _mm512_set1_pd(b);
    R_xlen_t i = 0;
    /* four independent vectors in flight: tanh's long chain of dependent
       operations leaves the units idle with fewer */
    for (; i + 32 <= n; i += 32) {
        __m512d v0 = _mm512_add_pd(_mm512_loadu_pd(x + i), shift);
        __m512d v1 = _mm512_add_pd(_mm512_loadu_pd(x + i + 8), shift);
        __m512d v2 = _mm512_add_pd(_mm512_loadu_pd(x + i + 16), shift);
        __m512d v3 = _mm512_add_pd(_mm512_loadu_pd(x + i + 24), shift);
        __m512d r0 = tanh_hot_w(v0), r1 = tanh_hot_w(v1);
        __m512d r2 = tanh_hot_w(v2), r3 = tanh_hot_w(v3);
        _mm512_storeu_pd(y + i, r0);
        _mm512_storeu_pd(y + i + 8, r1);
        _mm512_storeu_pd(y + i + 16, r2);
        _mm512_storeu_pd(y + i + 24, r3);
    }
    for (; i + 16 <= n; i += 16) {
        __m512d v0 = _mm512_add_pd(_mm512_loadu_pd(x + i), shift);
        __m512d v1 = _mm512_add_pd(_mm512_loadu_pd(x + i + 8), shift);
        __m512d r0 = tanh_hot_w(v0), r1 = tanh_hot_w(v1);
        _mm512_storeu_pd(y + i, r0);
        _mm512_storeu_pd(y + i + 8, r1);
    }
    while (i < n) {
        int rest = (int) (n - i < 8 ? n - i : 8);
        __mmask8 lanes = (__mmask8) ((1u << rest) - 1u);
        __m512d v = _mm512_add_pd(_mm512_maskz_loadu_pd(lanes, x + i), shift);
        _mm512_mask_storeu_pd(y + i, lanes, tanh_hot_w(v));
        i += rest;
    }
}

#define DEFINE_AVX512_POW(FN)                                               \
    __attribute__((target("avx512f,avx2,fma"), always_inline))             \
    static inline __m512d FN##_lanes512(__m512d v, __m512d c, __m512d eh,   \
                                        __m512d el, __m512d sh, __m512d sl, \
                                        unsigned *cold)                     \
    {                                                                       \
        __m512d pl, ph = pow_exponent_w(v, c, eh, el, &pl);                 \
        *cold = cold512_pow(v, ph);                                         \
        return FN##_finish_w(ph, pl, sh, sl);                               \
    }                                                                       \
    AVX512_TARGET                                                           \
    static void FN##_dd_array_avx512(const double *xh, const double *xl,    \
                                     double eh, double el, double sh,       \
                                     double sl, double *y, R_xlen_t n)      \
    {                                                                       \
        __m512d veh = _mm512_set1_pd(eh), vel = _mm512_set1_pd(el);         \
        __m512d vsh = _mm512_set1_pd(sh), vsl = _mm512_set1_pd(sl);         \
        __m512d zero = _mm512_setzero_pd();                                 \
        R_xlen_t i = 0;                                                     \
        for (; i + 16 <= n; i += 16) {                                      \
            __m512d v0 = _mm512_loadu_pd(xh + i);                           \
            __m512d v1 = _mm512_loadu_pd(xh + i + 8);                       \
            __m512d c0 = zero, c1 = zero;                                   \
            if (xl) {                                                       \
                c0 = _mm512_div_pd(_mm512_loadu_pd(xl + i), v0);            \
                c1 = _mm512_div_pd(_mm512_loadu_pd(xl + i + 8), v1);        \
            }                                                               \
            unsigned cold0, cold1;                                          \
            __m512d r0 = FN##_lanes512(v0, c0, veh, vel, vsh, vsl, &cold0); \
            __m512d r1 = FN##_lanes512(v1, c1, veh, vel, vsh, vsl, &cold1); \
            unsigned cold = cold0 | (cold1 << 8);                           \
            double in[16], lo[16];                                          \
            if (cold) {                                                     \
                _mm512_storeu_pd(in, v0);                                   \
                _mm512_storeu_pd(in + 8, v1);                               \
                for (int j = 0; j < 16; j++)                                \
                    lo[j] = xl ? xl[i + j] : 0.0;                           \
            }                                                               \
            _mm512_storeu_pd(y + i, r0);                                    \
            _mm512_storeu_pd(y + i + 8, r1);                                \
            if (cold)                                                       \
                for (int j = 0; j < 16; j++)                                \
                    if (cold & (1u << j))                                   \
                        y[i + j] = FN##_dd_sf(in[j], lo[j], eh, el, sh, sl);        \
        }                                                                   \
        while (i < n) {                                                     \
            double in[8] = {1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0};        \
            double lo[8] = {0}, out[8];                                     \
            int rest = (int) (n - i < 8 ? n - i : 8);                       \
            for (int j = 0; j < rest; j++) {                                \
                in[j] = xh[i + j];                                          \
                lo[j] = xl ? xl[i + j] : 0.0;                               \
            }                                                               \
            __m512d v = _mm512_loadu_pd(in);                                \
            __m512d c = xl ? _mm512_div_pd(_mm512_loadu_pd(lo), v) : zero;  \
            unsigned cold;                                                  \
            _mm512_storeu_pd(out, FN##_lanes512(v, c, veh, vel, vsh, vsl,   \
                                                &cold));                    \
            for (int j = 0; j < rest; j++)                                  \
                y[i + j] = (cold & (1u << j)) ?                             \
                    FN##_dd_sf(in[j], lo[j], eh, el, sh, sl) : out[j];              \
            i += rest;                                                      \
        }                                                                   \
    }

DEFINE_AVX512_POW(pow)
DEFINE_AVX512_POW(powm1)

AVX512_TARGET
static void one_plus_product_array_avx512(const double *x, double c,
                                          double *hi, double *lo, R_xlen_t n)
{
    __m512d vc = _mm512_set1_pd(c);
    R_xlen_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m512d l, h = one_plus_product_w(_mm512_loadu_pd(x + i), vc, &l);
        _mm512_storeu_pd(hi + i, h);
        _mm512_storeu_pd(lo + i, l);
    }
    for (; i < n; i++)
        hi[i] = one_plus_product_sf(x[i], c, &lo[i]);
}

#endif /* BJ_VMATH_X86 */

/* ---- dispatch ------------------------------------------------------------ */

/* -1 not yet known, 0 portable, 1 AVX2 + FMA, 2 AVX-512 too; a benign
   race if two threads ask at once (both write the same answer) */
static int simd_state = -1;

static int simd_level(void)
{
    if (simd_state < 0) {
#ifdef BJ_VMATH_X86
        __builtin_cpu_init();
        int avx2 = __builtin_cpu_supports("avx2") &&
            __builtin_cpu_supports("fma");
        simd_state = avx2 ? 1 + !!__builtin_cpu_supports("avx512f") : 0;
#else
        simd_state = 0;
#endif
    }
    return simd_state;
}

static int simd_available(void)
{
    return simd_level() > 0;
}

#define DEFINE_PUBLIC(FN)                                                   \
    static void FN##_array_portable(const double *x, double *y,             \
                                    R_xlen_t n)                             \
    {                                                                       \
        for (R_xlen_t i = 0; i < n; i++)                                    \
            y[i] = FN##_s(x[i]);                                            \
    }                                                                       \
    void bj_##FN##_array(const double *x, double *y, R_xlen_t n)            \
    {                                                                       \
        FN##_array_dispatch(x, y, n);                                       \
    }                                                                       \
    double bj_##FN(double x)                                                \
    {                                                                       \
        return FN##_scalar_dispatch(x);                                     \
    }

#ifdef BJ_VMATH_X86
#define DISPATCHERS(FN)                                                     \
    static void FN##_array_portable(const double *, double *, R_xlen_t);    \
    static inline void FN##_array_dispatch(const double *x, double *y,      \
                                           R_xlen_t n)                      \
    {                                                                       \
        int level = simd_level();                                           \
        if (level == 2)                                                     \
            FN##_array_avx512(x, y, n);                                     \
        else if (level == 1)                                                \
            FN##_array_avx2(x, y, n);                                       \
        else                                                                \
            FN##_array_portable(x, y, n);                                   \
    }                                                                       \
    static inline double FN##_scalar_dispatch(double x)                     \
    {                                                                       \
        return simd_available() ? FN##_sf(x) : FN##_s(x);                   \
    }
#else
#define DISPATCHERS(FN)                                                     \
    static void FN##_array_portable(const double *, double *, R_xlen_t);    \
    static inline void FN##_array_dispatch(const double *x, double *y,      \
                                           R_xlen_t n)                      \
    {                                                                       \
        FN##_array_portable(x, y, n);                                       \
    }                                                                       \
    static inline double FN##_scalar_dispatch(double x)                     \
    {                                                                       \
        return FN##_s(x);                                                   \
    }
#endif

DISPATCHERS(exp)
DISPATCHERS(expm1)
DISPATCHERS(log)
DISPATCHERS(log1p)
DISPATCHERS(tanh)
DEFINE_PUBLIC(exp)
DEFINE_PUBLIC(expm1)
DEFINE_PUBLIC(log)
DEFINE_PUBLIC(log1p)
DEFINE_PUBLIC(tanh)

#define DEFINE_PUBLIC_POW(FN)                                               \
    static void FN##_dd_array_portable(const double *xh, const double *xl,  \
                                       double eh, double el, double sh,     \
                                       double sl, double *y, R_xlen_t n)    \
    {                                                                       \
        for (R_xlen_t i = 0; i < n; i++)                                    \
            y[i] = FN##_dd_s(xh[i], xl ? xl[i] : 0.0, eh, el, sh, sl);      \
    }                                                                       \
    void bj_##FN##_dd_array(const double *xh, const double *xl, double eh,  \
                            double el, double sh, double sl, double *y,     \
                            R_xlen_t n)                                     \
    {                                                                       \
        POW_DISPATCH(FN##_dd_array, (xh, xl, eh, el, sh, sl, y, n));        \
    }                                                                       \
    double bj_##FN##_dd(double xh, double xl, double eh, double el,         \
                        double sh, double sl)                               \
    {                                                                       \
        return POW_SCALAR_DISPATCH(FN##_dd, (xh, xl, eh, el, sh, sl));      \
    }

#ifdef BJ_VMATH_X86
#define POW_DISPATCH(F, ARGS)                                               \
    do {                                                                    \
        int level = simd_level();                                           \
        if (level == 2)                                                     \
            F##_avx512 ARGS;                                                \
        else if (level == 1)                                                \
            F##_avx2 ARGS;                                                  \
        else                                                                \
            F##_portable ARGS;                                              \
    } while (0)
#define POW_SCALAR_DISPATCH(F, ARGS) \
    (simd_available() ? F##_sf ARGS : F##_s ARGS)
#else
#define POW_DISPATCH(F, ARGS) F##_portable ARGS
#define POW_SCALAR_DISPATCH(F, ARGS) F##_s ARGS
#endif

DEFINE_PUBLIC_POW(pow)
DEFINE_PUBLIC_POW(powm1)

static void tanh_shift_array_portable(const double *x, double b, double *y,
                                      R_xlen_t n)
{
    for (R_xlen_t i = 0; i < n; i++)
        y[i] = tanh_s(x[i] + b);
}

void bj_tanh_shift_array(const double *x, double b, double *y, R_xlen_t n)
{
    POW_DISPATCH(tanh_shift_array, (x, b, y, n));
}

double bj_log_times_dd(double x, double eh, double el)
{
    return POW_SCALAR_DISPATCH(log_times_dd, (x, eh, el));
}

static void one_plus_product_array_portable(const double *x, double c,
                                            double *hi, double *lo,
                                            R_xlen_t n)
{
    for (R_xlen_t i = 0; i < n; i++)
        hi[i] = one_plus_product_s(x[i], c, &lo[i]);
}

void bj_one_plus_product_array(const double *x, double c, double *hi,
                               double *lo, R_xlen_t n)
{
    POW_DISPATCH(one_plus_product_array, (x, c, hi, lo, n));
}

double bj_one_plus_product(double x, double c, double *lo)
{
    return POW_SCALAR_DISPATCH(one_plus_product, (x, c, lo));
}

/* ---- test entries --------------------------------------------------------
   The paths: "portable" 0, "simd" (AVX2 + FMA) 1, "scalar" 2, "auto" 3,
   "avx512" 4; -1 for anything else. */
static int path_mode(const char *pt)
{
    static const char *paths[] = {"portable", "simd", "scalar", "auto",
                                  "avx512"};
    for (int i = 0; i < 5; i++)
        if (strcmp(pt, paths[i]) == 0)
            return i;
    return -1;
}

/* .Call(C_vector_math_test, name, x, path): f(x) for f one of "exp",
   "expm1", "log", "log1p", "tanh", through path "portable" (the scalar
   arithmetic, element by element), "simd" (the AVX2 + FMA arrays; NULL
   when the CPU has no AVX2 + FMA), "avx512" (the AVX-512 arrays; NULL
   without AVX-512F), "scalar" (bj_f() per element) or "auto"
   (bj_f_array()). Not exported: for the tests. */

typedef void (*array_fn)(const double *, double *, R_xlen_t);
typedef double (*scalar_fn)(double);

SEXP C_vector_math_test(SEXP name, SEXP x, SEXP path)
{
    if (!Rf_isString(name) || XLENGTH(name) != 1 ||
        STRING_ELT(name, 0) == NA_STRING)
        Rf_error("`name` must be one string");
    if (!Rf_isString(path) || XLENGTH(path) != 1 ||
        STRING_ELT(path, 0) == NA_STRING)
        Rf_error("`path` must be one string");
    if (!Rf_isReal(x))
        Rf_error("`x` must be a double vector");
    const char *nm = CHAR(STRING_ELT(name, 0));
    const char *pt = CHAR(STRING_ELT(path, 0));
    static const char *names[] = {"exp", "expm1", "log", "log1p", "tanh"};
    static const array_fn autos[] = {bj_exp_array, bj_expm1_array,
                                     bj_log_array, bj_log1p_array,
                                     bj_tanh_array};
    static const scalar_fn portables[] = {exp_s, expm1_s, log_s, log1p_s,
                                          tanh_s};
    static const scalar_fn scalars[] = {bj_exp, bj_expm1, bj_log, bj_log1p,
                                        bj_tanh};
#ifdef BJ_VMATH_X86
    static const array_fn simds[] = {exp_array_avx2, expm1_array_avx2,
                                     log_array_avx2, log1p_array_avx2,
                                     tanh_array_avx2};
    static const array_fn simd512s[] = {exp_array_avx512, expm1_array_avx512,
                                        log_array_avx512, log1p_array_avx512,
                                        tanh_array_avx512};
#endif
    int which = -1;
    for (int i = 0; i < 5; i++)
        if (strcmp(nm, names[i]) == 0)
            which = i;
    if (which < 0)
        Rf_error("`name` must be one of \"exp\", \"expm1\", \"log\", \"log1p\", "
              "\"tanh\", not \"%s\"", nm);
    int mode = path_mode(pt);
    if (mode < 0)
        Rf_error("`path` must be one of \"portable\", \"simd\", \"avx512\", "
                 "\"scalar\", \"auto\", not \"%s\"", pt);
    if ((mode == 1 && simd_level() < 1) || (mode == 4 && simd_level() < 2))
        return R_NilValue;
    R_xlen_t n = XLENGTH(x);
    SEXP y = PROTECT(Rf_allocVector(REALSXP, n));
    const double *px = REAL_RO(x);
    double *py = REAL(y);
    switch (mode) {
    case 0:
        for (R_xlen_t i = 0; i < n; i++)
            py[i] = portables[which](px[i]);
        break;
    case 1:
#ifdef BJ_VMATH_X86
        simds[which](px, py, n);
#endif
        break;
    case 4:
#ifdef BJ_VMATH_X86
        simd512s[which](px, py, n);
#endif
        break;
    case 2:
        for (R_xlen_t i = 0; i < n; i++)
            py[i] = scalars[which](px[i]);
        break;
    default:
        autos[which](px, py, n);
    }
    UNPROTECT(1);
    return y;
}

/* .Call(C_vector_math_tanh_shift_test, x, b, path): tanh(x + b) through
   the paths of C_vector_math_test ("scalar": bj_tanh() of each sum). Not
   exported: for the tests. */
SEXP C_vector_math_tanh_shift_test(SEXP x, SEXP b, SEXP path)
{
    if (!Rf_isReal(x))
        Rf_error("`x` must be a double vector");
    if (!Rf_isReal(b) || XLENGTH(b) != 1)
        Rf_error("`b` must be one double");
    if (!Rf_isString(path) || XLENGTH(path) != 1 ||
        STRING_ELT(path, 0) == NA_STRING)
        Rf_error("`path` must be one string");
    int mode = path_mode(CHAR(STRING_ELT(path, 0)));
    if (mode < 0)
        Rf_error("`path` must be one of \"portable\", \"simd\", \"avx512\", "
                 "\"scalar\", \"auto\", not \"%s\"",
                 CHAR(STRING_ELT(path, 0)));
    if ((mode == 1 && simd_level() < 1) || (mode == 4 && simd_level() < 2))
        return R_NilValue;
    R_xlen_t n = XLENGTH(x);
    double shift = REAL_RO(b)[0];
    SEXP y = PROTECT(Rf_allocVector(REALSXP, n));
    const double *px = REAL_RO(x);
    double *py = REAL(y);
    switch (mode) {
    case 0:
        tanh_shift_array_portable(px, shift, py, n);
        break;
    case 1:
#ifdef BJ_VMATH_X86
        tanh_shift_array_avx2(px, shift, py, n);
#endif
        break;
    case 4:
#ifdef BJ_VMATH_X86
        tanh_shift_array_avx512(px, shift, py, n);
#endif
        break;
    case 2:
        for (R_xlen_t i = 0; i < n; i++)
            py[i] = bj_tanh(px[i] + shift);
        break;
    default:
        bj_tanh_shift_array(px, shift, py, n);
    }
    UNPROTECT(1);
    return y;
}

/* 1 + c x as c(hi, lo) through path `mode` */
static SEXP one_plus_product_test(SEXP x, double c, int mode)
{
    R_xlen_t n = XLENGTH(x);
    SEXP y = PROTECT(Rf_allocVector(REALSXP, 2 * n));
    const double *px = REAL_RO(x);
    double *hi = REAL(y), *lo = REAL(y) + n;
    switch (mode) {
    case 0:
        one_plus_product_array_portable(px, c, hi, lo, n);
        break;
    case 1:
#ifdef BJ_VMATH_X86
        one_plus_product_array_avx2(px, c, hi, lo, n);
#endif
        break;
    case 4:
#ifdef BJ_VMATH_X86
        one_plus_product_array_avx512(px, c, hi, lo, n);
#endif
        break;
    case 2:
        for (R_xlen_t i = 0; i < n; i++)
            hi[i] = bj_one_plus_product(px[i], c, &lo[i]);
        break;
    default:
        bj_one_plus_product_array(px, c, hi, lo, n);
    }
    UNPROTECT(1);
    return y;
}

/* .Call(C_vector_math_pow_test, name, xh, xl, e, s, path): (s[1] + s[2])
   times "pow" or "powm1" of xh + xl (xl NULL: no low parts) to the power
   e[1] + e[2], or "one_plus_product": 1 + e[1] xh as c(hi, lo); through
   the paths of C_vector_math_test. Not exported: for the tests. */
SEXP C_vector_math_pow_test(SEXP name, SEXP xh, SEXP xl, SEXP e, SEXP s,
                            SEXP path)
{
    if (!Rf_isString(name) || XLENGTH(name) != 1 ||
        STRING_ELT(name, 0) == NA_STRING)
        Rf_error("`name` must be one string");
    if (!Rf_isString(path) || XLENGTH(path) != 1 ||
        STRING_ELT(path, 0) == NA_STRING)
        Rf_error("`path` must be one string");
    if (!Rf_isReal(xh))
        Rf_error("`xh` must be a double vector");
    if (xl != R_NilValue && (!Rf_isReal(xl) || XLENGTH(xl) != XLENGTH(xh)))
        Rf_error("`xl` must be NULL or a double vector as long as `xh`");
    if (!Rf_isReal(e) || XLENGTH(e) != 2)
        Rf_error("`e` must be a double vector of length 2");
    if (!Rf_isReal(s) || XLENGTH(s) != 2)
        Rf_error("`s` must be a double vector of length 2");
    const char *nm = CHAR(STRING_ELT(name, 0));
    const char *pt = CHAR(STRING_ELT(path, 0));
    int minus_one = strcmp(nm, "powm1") == 0;
    int base = strcmp(nm, "one_plus_product") == 0;
    if (!minus_one && !base && strcmp(nm, "pow") != 0)
        Rf_error("`name` must be \"pow\", \"powm1\" or \"one_plus_product\", "
                 "not \"%s\"", nm);
    int mode = path_mode(pt);
    if (mode < 0)
        Rf_error("`path` must be one of \"portable\", \"simd\", \"avx512\", "
                 "\"scalar\", \"auto\", not \"%s\"", pt);
    if ((mode == 1 && simd_level() < 1) || (mode == 4 && simd_level() < 2))
        return R_NilValue;
    R_xlen_t n = XLENGTH(xh);
    if (base)
        return one_plus_product_test(xh, REAL_RO(e)[0], mode);
    SEXP y = PROTECT(Rf_allocVector(REALSXP, n));
    const double *ph = REAL_RO(xh);
    const double *pl = xl == R_NilValue ? NULL : REAL_RO(xl);
    double eh = REAL_RO(e)[0], el = REAL_RO(e)[1];
    double sh = REAL_RO(s)[0], sl = REAL_RO(s)[1];
    double *py = REAL(y);
    switch (mode) {
    case 0:
        for (R_xlen_t i = 0; i < n; i++)
            py[i] = (minus_one ? powm1_dd_s : pow_dd_s)(ph[i], pl ? pl[i] : 0.0,
                                                       eh, el, sh, sl);
        break;
    case 1:
#ifdef BJ_VMATH_X86
        (minus_one ? powm1_dd_array_avx2 : pow_dd_array_avx2)(ph, pl, eh, el,
                                                             sh, sl, py, n);
#endif
        break;
    case 4:
#ifdef BJ_VMATH_X86
        (minus_one ? powm1_dd_array_avx512 : pow_dd_array_avx512)(ph, pl, eh,
                                                                 el, sh, sl,
                                                                 py, n);
#endif
        break;
    case 2:
        for (R_xlen_t i = 0; i < n; i++)
            py[i] = (minus_one ? bj_powm1_dd : bj_pow_dd)(ph[i],
                                                         pl ? pl[i] : 0.0,
                                                         eh, el, sh, sl);
        break;
    default:
        (minus_one ? bj_powm1_dd_array : bj_pow_dd_array)(ph, pl, eh, el, sh,
                                                         sl, py, n);
    }
    UNPROTECT(1);
    return y;
}
