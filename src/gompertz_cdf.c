/* tfb_gompertz_cdf(): y = 1 - exp(-c (exp(r x) - 1)), c the concentration,
   r the rate, TFP's GompertzCDF in double precision. p = {c, r,
   log(c) + log(r), 1/c, 1/r, r split in halves (2), log(c)}.

   log1p is log1p_by_log (one log): the inverse does not magnify its
   error. The forward map, the inverse and the FLDJ run a block at a time,
   each expm1 or log one vector_math.h call over the block; the scalar
   functions call its scalar twins, so that both give the same values. */
#include "elementwise.h"
#include "cdf_math.h"

static inline void gompertz_cdf_prepare(const double *theta, double *p)
{
    p[0] = theta[0];
    p[1] = theta[1];
    p[2] = log(theta[0]) + log(theta[1]);
    p[3] = 1 / theta[0];
    p[4] = 1 / theta[1];
    veltkamp_split(theta[1], &p[5], &p[6]);
    p[7] = log(theta[0]);
}

/* The low part of r x = rx + lo (two-product; 0 where x is too large to
   split, and r x has overflowed or nearly). */
static inline double gompertz_rx_lo(double x, double rx, const double *p)
{
    double lo = product_error(p[5], p[6], x, rx);
    return isfinite(lo) ? lo : 0;
}

/* expm1(r x), with r x = hi + lo exactly: in the right tail c expm1(r x)
   is the log-det's leading term, and a rounded r x would put r x ulps of
   error into it. */
static inline double gompertz_expm1_rx(double x, const double *p,
                                       double *rx)
{
    *rx = p[1] * x;
    double lo = gompertz_rx_lo(x, *rx, p), m = bj_expm1(*rx);
    return isfinite(m) ? m + (m + 1) * lo : m;
}

/* c expm1(r x) for the log-det: where expm1(r x) overflows (r x > 709.78)
   but c expm1(r x) may not, exp(r x + log c) with the sum in two parts
   (log c's own rounding costs about |log c| / 4 ulps there). */
static inline double gompertz_c_expm1_rx(double x, const double *p,
                                         double *rx)
{
    double m = gompertz_expm1_rx(x, p, rx);
    if (!isinf(m) || isinf(*rx) || isnan(*rx))
        return p[0] * m;
    double lo = gompertz_rx_lo(x, *rx, p);
    double s = *rx + p[7], v = s - *rx;
    double s_lo = (*rx - (s - v)) + (p[7] - v) + lo;
    double e = bj_exp(s);
    return isinf(e) ? e : e + e * s_lo;
}

static inline double gompertz_cdf_forward(double x, const double *p)
{
    double rx;
    return -bj_expm1(-p[0] * gompertz_expm1_rx(x, p, &rx));
}

static inline double gompertz_cdf_inverse(double y, const double *p)
{
    return bj_log1p_by_log(-bj_log1p_by_log(-y) * p[3]) * p[4];
}

static inline double gompertz_cdf_fldj(double x, const double *p)
{
    double rx, cm = gompertz_c_expm1_rx(x, p, &rx);
    return rx + p[2] - cm;
}

/* gompertz_expm1_rx() over a block: out[i] = expm1(r x), rx[i] = r x. */
static void gompertz_expm1_rx_block(const double *in, double *out,
                                    double *rx, int n, const double *p)
{
    double lo[ELEMENTWISE_BLOCK];
    for (int i = 0; i < n; i++) {
        rx[i] = p[1] * in[i];
        lo[i] = gompertz_rx_lo(in[i], rx[i], p);
    }
    bj_expm1_array(rx, out, n);
    for (int i = 0; i < n; i++) {
        double m = out[i];
        out[i] = isfinite(m) ? m + (m + 1) * lo[i] : m;
    }
}

static void gompertz_cdf_forward_block(const double *in, double *out, int n,
                                       const double *p)
{
    double rx[ELEMENTWISE_BLOCK];
    gompertz_expm1_rx_block(in, out, rx, n, p);
    for (int i = 0; i < n; i++)
        out[i] = -p[0] * out[i];
    bj_expm1_array(out, out, n);
    for (int i = 0; i < n; i++)
        out[i] = -out[i];
}

/* The two log1p_by_log() steps, each one log() call over the block. */
static void gompertz_cdf_inverse_block(const double *in, double *out, int n,
                                       const double *p)
{
    double u[ELEMENTWISE_BLOCK], w[ELEMENTWISE_BLOCK];
    for (int i = 0; i < n; i++) {
        u[i] = -in[i];
        w[i] = 1.0 + u[i];
    }
    bj_log_array(w, out, n);
    for (int i = 0; i < n; i++) {
        u[i] = -log1p_by_log_finish(u[i], w[i], out[i]) * p[3];
        w[i] = 1.0 + u[i];
    }
    bj_log_array(w, out, n);
    for (int i = 0; i < n; i++)
        out[i] = log1p_by_log_finish(u[i], w[i], out[i]) * p[4];
}

/* Where expm1(r x) overflows but r x does not, c expm1(r x) is the
   scalar function's exp() form: rare, done element by element. */
static void gompertz_cdf_fldj_block(const double *in, double *out, int n,
                                    const double *p)
{
    double rx[ELEMENTWISE_BLOCK];
    gompertz_expm1_rx_block(in, out, rx, n, p);
    for (int i = 0; i < n; i++) {
        if (isinf(out[i]) && isfinite(rx[i]))
            out[i] = gompertz_cdf_fldj(in[i], p);
        else
            out[i] = rx[i] + p[2] - p[0] * out[i];
    }
}

ELEMENTWISE_ILDJ_THROUGH_INVERSE(gompertz_cdf)

static inline double gompertz_cdf_dforward_dx(double x, const double *p)
{
    double rx, m = gompertz_expm1_rx(x, p, &rx);
    return exp(rx + p[2] - p[0] * m);
}

static inline double gompertz_cdf_dfldj_dx(double x, const double *p)
{
    return p[1] * (1 - p[0] * exp(p[1] * x));
}

/* u = c expm1(r x): du/dc = expm1(r x), du/dr = c exp(r x) x. */
static inline void gompertz_cdf_dforward_dparams(double x, const double *p,
                                                 double *d)
{
    double rx, m = gompertz_expm1_rx(x, p, &rx);
    double e = exp(-p[0] * m);
    d[0] = e * m;
    d[1] = e * p[0] * (m + 1) * x;
}

static inline void gompertz_cdf_dfldj_dparams(double x, const double *p,
                                              double *d)
{
    double rx, m = gompertz_expm1_rx(x, p, &rx);
    d[0] = p[3] - m;
    d[1] = p[4] + x * (1 - p[0] * (m + 1));
}

ELEMENTWISE_KIND_WITH(gompertz_cdf, 2, ELEMENTWISE_LOG_DET_VARYING, BLOCK,
                      BLOCK, BLOCK, SCALAR)
