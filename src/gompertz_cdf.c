/* tfb_gompertz_cdf(): y = 1 - exp(-c (exp(r x) - 1)), c the concentration,
   r the rate, TFP's GompertzCDF in double precision. p = {c, r,
   log(c) + log(r), 1/c, 1/r}. */
#include "elementwise.h"

static inline void gompertz_cdf_prepare(const double *theta, double *p)
{
    p[0] = theta[0];
    p[1] = theta[1];
    p[2] = log(theta[0]) + log(theta[1]);
    p[3] = 1 / theta[0];
    p[4] = 1 / theta[1];
}

/* expm1(r x), with r x = hi + *lo exactly (fma): in the right tail
   c expm1(r x) is the log-det's leading term, and a rounded r x would put
   r x ulps of error into it. */
static inline double gompertz_expm1_rx(double x, const double *p,
                                       double *rx)
{
    *rx = p[1] * x;
    double lo = fma(p[1], x, -*rx), m = expm1(*rx);
    return isfinite(m) ? m + (m + 1) * lo : m;
}

static inline double gompertz_cdf_forward(double x, const double *p)
{
    double rx;
    return -expm1(-p[0] * gompertz_expm1_rx(x, p, &rx));
}

static inline double gompertz_cdf_inverse(double y, const double *p)
{
    return log1p(-log1p(-y) * p[3]) * p[4];
}

static inline double gompertz_cdf_fldj(double x, const double *p)
{
    double rx, m = gompertz_expm1_rx(x, p, &rx);
    return rx + p[2] - p[0] * m;
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

ELEMENTWISE_KIND(gompertz_cdf, 2, ELEMENTWISE_LOG_DET_VARYING)
