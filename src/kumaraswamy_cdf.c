/* tfb_kumaraswamy_cdf() (and, inverted, tfb_kumaraswamy()):
   y = 1 - (1 - x^a)^b on [0, 1], a = concentration1, b = concentration0,
   TFP's KumaraswamyCDF in double precision. p = {a, b, log(a) + log(b),
   a - 1, b - 1, 1/a (high part), 1/a (low part), (b - 1)/b}.

   The blockwise functions make each exp, expm1, log or log1p one
   vector_math.h call over the block; the scalar functions they replace
   call its scalar twins, so that both give the same values. */
#include "elementwise.h"
#include "cdf_math.h"

static inline void kumaraswamy_cdf_prepare(const double *theta, double *p)
{
    p[0] = theta[0];
    p[1] = theta[1];
    p[2] = log(theta[0]) + log(theta[1]);
    p[3] = theta[0] - 1;
    p[4] = theta[1] - 1;
    p[5] = reciprocal_split(theta[0], &p[6]);
    p[7] = p[4] / theta[1];
}

/* x^a by vector_math's pow (within 0.6 ulps); for x < 0 or NaN, outside
   the domain, C99's pow (TFP's value: finite for an integer a). */
static inline double kumaraswamy_pow(double x, const double *p)
{
    return x >= 0 ? bj_pow_dd(x, 0, p[0], 0, 1, 0) : pow(x, p[0]);
}

/* log(1 - x^a). TFP's log1p(-x^a) loses everything next to x = 1, where
   1 - x^a cancels; there -expm1(a log(x)) is exact to an ulp or two.
   log1p by one log (log1p_by_log). */
static inline double kumaraswamy_log1m_pow(double x, const double *p)
{
    double xa = kumaraswamy_pow(x, p);
    return xa < 0.5 ? bj_log1p_by_log(-xa) :
        bj_log(-bj_expm1(p[0] * bj_log(x)));
}

static inline double kumaraswamy_cdf_forward(double x, const double *p)
{
    return -bj_expm1(p[1] * kumaraswamy_log1m_pow(x, p));
}

/* kumaraswamy_log1m_pow() in loops of their own, the x with x^a >= 1/2
   listed (without a branch) and finished in loops over the list. */
static void kumaraswamy_log1m_pow_block(const double *in, double *out, int n,
                                        const double *p)
{
    double w[ELEMENTWISE_BLOCK], log_w[ELEMENTWISE_BLOCK];
    int far[ELEMENTWISE_BLOCK], m = 0;
    bj_pow_dd_array(in, NULL, p[0], 0, 1, 0, out, n);
    for (int i = 0; i < n; i++)
        if (!(in[i] >= 0))
            out[i] = pow(in[i], p[0]);
    for (int i = 0; i < n; i++) {
        int flag = !(out[i] < 0.5);
        far[m] = i;
        m += flag;
        w[i] = flag ? in[i] : 1.0 + -out[i];
    }
    bj_log_array(w, log_w, n);
    for (int i = 0; i < n; i++)   /* log1p_by_log(-x^a), in parts */
        out[i] = log1p_by_log_finish(-out[i], w[i], log_w[i]);
    /* the far ones gathered into w: -expm1(a log(x)), then its log */
    for (int j = 0; j < m; j++)
        w[j] = p[0] * log_w[far[j]];
    bj_expm1_array(w, w, m);
    for (int j = 0; j < m; j++)
        w[j] = -w[j];
    bj_log_array(w, w, m);
    for (int j = 0; j < m; j++)
        out[far[j]] = w[j];
}

static void kumaraswamy_cdf_forward_block(const double *in, double *out,
                                          int n, const double *p)
{
    kumaraswamy_log1m_pow_block(in, out, n, p);
    for (int i = 0; i < n; i++)
        out[i] = p[1] * out[i];
    bj_expm1_array(out, out, n);
    for (int i = 0; i < n; i++)
        out[i] = -out[i];
}

/* (1 - (1 - y)^(1/b))^(1/a), with 1/a in two parts (vector_math's pow,
   or pow_split outside the domain): a rounded 1/a would be hundreds of
   ulps off for tiny y. log1p(-y) by one log
   (log1p_by_log, about two ulps) unless a power 1/a > 1 magnifies it. */
static inline double kumaraswamy_root(double q, const double *p)
{
    return q >= 0 ? bj_pow_dd(q, 0, p[5], p[6], 1, 0) :
        pow_split(q, p[5], p[6]);
}

static inline double kumaraswamy_cdf_inverse(double y, const double *p)
{
    double l = p[5] > 1 ? bj_log1p(-y) : bj_log1p_by_log(-y);
    return kumaraswamy_root(-bj_expm1(l / p[1]), p);
}

/* kumaraswamy_cdf_inverse() in loops of their own: each element is a
   chain of three libm calls, which one loop cannot overlap. */
static void kumaraswamy_cdf_inverse_block(const double *in, double *out,
                                          int n, const double *p)
{
    log1m_block(in, out, n, !(p[5] > 1));
    for (int i = 0; i < n; i++)
        out[i] = out[i] / p[1];
    bj_expm1_array(out, out, n);
    double q[ELEMENTWISE_BLOCK];
    for (int i = 0; i < n; i++)
        q[i] = -out[i];
    bj_pow_dd_array(q, NULL, p[5], p[6], 1, 0, out, n);
    for (int i = 0; i < n; i++)
        if (!(q[i] >= 0))
            out[i] = kumaraswamy_root(q[i], p);
}

/* TFP's log(a) + log(b) + xlogy(a - 1, x) + xlog1py(b - 1, -x^a). */
static inline double kumaraswamy_cdf_fldj(double x, const double *p)
{
    double tail = p[4] == 0 ? 0 : p[4] * kumaraswamy_log1m_pow(x, p);
    return p[2] + bj_xlogy(p[3], x) + tail;
}

static void kumaraswamy_cdf_fldj_block(const double *in, double *out, int n,
                                       const double *p)
{
    if (p[4] == 0) {
        for (int i = 0; i < n; i++)
            out[i] = 0;
    } else {
        kumaraswamy_log1m_pow_block(in, out, n, p);
        for (int i = 0; i < n; i++)
            out[i] *= p[4];
    }
    if (p[3] == 0) {   /* xlogy(0, x) = 0 */
        for (int i = 0; i < n; i++)
            out[i] = p[2] + 0.0 + out[i];
    } else {
        double log_x[ELEMENTWISE_BLOCK];
        bj_log_array(in, log_x, n);
        for (int i = 0; i < n; i++)
            out[i] = p[2] + p[3] * log_x[i] + out[i];
    }
}

/* TFP derives the ILDJ as -fldj(inverse(y)), which is infinite where the
   inverse rounds to 0 or 1 (y = 1e-300 with a < 1, y = 1 - 1e-5 with b <
   1) and thousands of ulps off next to y = 1. The same value in y: with q =
   1 - (1 - y)^(1/b) = x^a, log(x) = log(q)/a and log(1 - x^a) =
   log1p(-y)/b. */
static inline double kumaraswamy_cdf_ildj(double y, const double *p)
{
    double l = log1p(-y) / p[1];
    double tail = p[7] == 0 ? 0 : p[7] * log1p(-y);
    return -p[2] - xlogy(1 - p[5], -expm1(l)) - tail;
}

static inline double kumaraswamy_cdf_dforward_dx(double x, const double *p)
{
    return p[0] * p[1] * pow(x, p[3]) *
        exp(p[4] * kumaraswamy_log1m_pow(x, p));
}

static inline double kumaraswamy_cdf_dfldj_dx(double x, const double *p)
{
    double xa = pow(x, p[0]);
    return p[3] / x - p[4] * p[0] * xa / (x * (1 - xa));
}

/* With xa = x^a and l = log(1 - xa): dxa/da = xa log(x), dl/da =
   -xa log(x) / (1 - xa); y = 1 - exp(b l). */
static inline void kumaraswamy_cdf_dforward_dparams(double x, const double *p,
                                                    double *d)
{
    double xa = pow(x, p[0]), l = kumaraswamy_log1m_pow(x, p);
    double e = exp(p[1] * l);
    d[0] = e * p[1] * xa * log(x) / (1 - xa);
    d[1] = -e * l;
}

static inline void kumaraswamy_cdf_dfldj_dparams(double x, const double *p,
                                                 double *d)
{
    double xa = pow(x, p[0]), l = kumaraswamy_log1m_pow(x, p);
    d[0] = 1 / p[0] + log(x) - p[4] * xa * log(x) / (1 - xa);
    d[1] = 1 / p[1] + l;
}

ELEMENTWISE_KIND_WITH(kumaraswamy_cdf, 2, ELEMENTWISE_LOG_DET_VARYING,
                      BLOCK, BLOCK, BLOCK, SCALAR)
