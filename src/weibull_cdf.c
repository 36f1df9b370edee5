/* tfb_weibull_cdf() and tfb_weibull(): y = 1 - exp(-(x / scale)^k), k the
   concentration, TFP's WeibullCDF in double precision. p = {scale, k,
   1/k (high part), 1/k (low part), k - 1, 1/k - 1, log(k) - k log(scale),
   log(scale) - log(k), 1/scale, scale split in halves (2)}.

   log1p(-y) is log1p_by_log(-y) (one log) except where a power 1/k > 1
   magnifies its error; k = 2, the Rayleigh-like case, squares and takes
   square roots instead of calling pow(). The maps and log-dets run a
   block at a time, each expm1, log or log1p one vector_math.h call over
   the block; the scalar functions call its scalar twins, so that both
   give the same values. */
#include "elementwise.h"
#include "cdf_math.h"

static inline void weibull_cdf_prepare(const double *theta, double *p)
{
    p[0] = theta[0];
    p[1] = theta[1];
    p[2] = reciprocal_split(theta[1], &p[3]);
    p[4] = theta[1] - 1;
    p[5] = p[2] - 1;
    p[6] = log(theta[1]) - theta[1] * log(theta[0]);
    p[7] = log(theta[0]) - log(theta[1]);
    p[8] = 1.0 / theta[0];
    veltkamp_split(theta[0], &p[9], &p[10]);
}

/* u = (x / scale)^k, with x / scale in two parts: a rounded quotient would
   put k/2 ulps of error into u (10 ulps with k = 20). vector_math's pow
   takes the two parts and is within 0.6 ulps. For k = 2 the square of the
   rounded quotient (one ulp, accurate enough); for x < 0 or NaN, outside
   the domain, C99's pow (TFP's value: finite for integer k). */
static inline double weibull_power(double x, const double *p)
{
    if (p[1] == 2) {
        double q = x / p[0];
        return q * q;
    }
    double lo, q = quotient_split(x, p[0], p[8], p[9], p[10], &lo);
    if (!(x >= 0))
        return pow(q, p[1]);
    return bj_pow_dd(q, lo, p[1], 0, 1, 0);
}

/* The same over a block: the quotients, one pow call, then the rare x
   outside the domain. */
static void weibull_power_block(const double *in, double *out, int n,
                                const double *p)
{
    if (p[1] == 2) {
        for (int i = 0; i < n; i++) {
            double q = in[i] / p[0];
            out[i] = q * q;
        }
        return;
    }
    double lo[ELEMENTWISE_BLOCK];
    for (int i = 0; i < n; i++)
        out[i] = quotient_split(in[i], p[0], p[8], p[9], p[10], &lo[i]);
    bj_pow_dd_array(out, lo, p[1], 0, 1, 0, out, n);
    for (int i = 0; i < n; i++)
        if (!(in[i] >= 0))
            out[i] = weibull_power(in[i], p);
}

static inline double weibull_cdf_forward(double x, const double *p)
{
    return -bj_expm1(-weibull_power(x, p));
}

/* The powers, then the expm1() calls, in loops of their own. */
static void weibull_cdf_forward_block(const double *in, double *out, int n,
                                      const double *p)
{
    weibull_power_block(in, out, n, p);
    for (int i = 0; i < n; i++)
        out[i] = -out[i];
    bj_expm1_array(out, out, n);
    for (int i = 0; i < n; i++)
        out[i] = -out[i];
}

/* v = -log1p(-y) over a block: log1p(), or log1p_by_log() by one log()
   call. */
static void weibull_minus_log1m_block(const double *in, double *out, int n,
                                      int by_log)
{
    log1m_block(in, out, n, by_log);
    for (int i = 0; i < n; i++)
        out[i] = -out[i];
}

/* The power magnifies v's error 1/k times: for k < 1 v comes from log1p()
   (half an ulp) rather than log1p_by_log() (about two). scale v^(1/k) by
   vector_math's pow with 1/k in two parts and the scale folded in, rounded
   once; for v < 0 or NaN (y outside [0, 1]) C99's pow, TFP's value. */
static inline double weibull_scaled_root(double v, const double *p)
{
    if (!(v >= 0))
        return p[0] * pow_split(v, p[2], p[3]);
    return bj_pow_dd(v, 0, p[2], p[3], p[0], 0);
}

static inline double weibull_cdf_inverse(double y, const double *p)
{
    double v = p[2] > 1 ? -bj_log1p(-y) : -bj_log1p_by_log(-y);
    return p[1] == 2 ? p[0] * sqrt(v) : weibull_scaled_root(v, p);
}

static void weibull_cdf_inverse_block(const double *in, double *out, int n,
                                      const double *p)
{
    weibull_minus_log1m_block(in, out, n, !(p[2] > 1));
    if (p[1] == 2) {
        for (int i = 0; i < n; i++)
            out[i] = p[0] * sqrt(out[i]);
    } else {
        double v[ELEMENTWISE_BLOCK];
        memcpy(v, out, (size_t) n * sizeof(double));
        bj_pow_dd_array(v, NULL, p[2], p[3], p[0], 0, out, n);
        for (int i = 0; i < n; i++)
            if (!(v[i] >= 0))
                out[i] = weibull_scaled_root(v[i], p);
    }
}

static inline double weibull_cdf_fldj(double x, const double *p)
{
    return -weibull_power(x, p) + bj_xlogy(p[4], x) + p[6];
}

/* xlogy(a, v) + c over a block, added to out[i]. */
static void weibull_add_xlogy_block(const double *v, double *out, int n,
                                    double a, double c)
{
    if (a == 0) {
        for (int i = 0; i < n; i++)
            out[i] = out[i] + 0.0 + c;
    } else {
        double log_v[ELEMENTWISE_BLOCK];
        bj_log_array(v, log_v, n);
        for (int i = 0; i < n; i++)
            out[i] = out[i] + a * log_v[i] + c;
    }
}

static void weibull_cdf_fldj_block(const double *in, double *out, int n,
                                   const double *p)
{
    weibull_power_block(in, out, n, p);
    for (int i = 0; i < n; i++)
        out[i] = -out[i];
    weibull_add_xlogy_block(in, out, n, p[4], p[6]);
}

static inline double weibull_cdf_ildj(double y, const double *p)
{
    double v = -bj_log1p_by_log(-y);
    return v + bj_xlogy(p[5], v) + p[7];
}

static void weibull_cdf_ildj_block(const double *in, double *out, int n,
                                   const double *p)
{
    double v[ELEMENTWISE_BLOCK];
    weibull_minus_log1m_block(in, v, n, 1);
    for (int i = 0; i < n; i++)
        out[i] = v[i];
    weibull_add_xlogy_block(v, out, n, p[5], p[7]);
}

static inline double weibull_cdf_dforward_dx(double x, const double *p)
{
    double q = x / p[0];
    return exp(-pow(q, p[1])) * p[1] * pow(q, p[4]) / p[0];
}

static inline double weibull_cdf_dfldj_dx(double x, const double *p)
{
    return (p[4] - p[1] * pow(x / p[0], p[1])) / x;
}

/* u = (x/scale)^k: du/dscale = -k u / scale, du/dk = u log(x/scale). */
static inline void weibull_cdf_dforward_dparams(double x, const double *p,
                                                double *d)
{
    double q = x / p[0], u = pow(q, p[1]), e = exp(-u);
    d[0] = -e * p[1] * u / p[0];
    d[1] = e * u * log(q);
}

static inline void weibull_cdf_dfldj_dparams(double x, const double *p,
                                             double *d)
{
    double q = x / p[0], u = pow(q, p[1]);
    d[0] = p[1] * (u - 1) / p[0];
    d[1] = (1 - u) * log(q) + p[2];
}

ELEMENTWISE_KIND_WITH(weibull_cdf, 2, ELEMENTWISE_LOG_DET_VARYING, BLOCK,
                      BLOCK, BLOCK, BLOCK)
