/* tfb_shifted_gompertz_cdf(): y = (1 - exp(-r x)) exp(-exp(-r x) / c), c the
   concentration, r the rate, TFP's ShiftedGompertzCDF in double precision
   (c divides, as in TFP's code: TFP's c is 1/eta of the textbook
   parameterisation). p = {c, r, 1/c, log(r), log(c), 1/r}. */
#include "elementwise.h"
#include "cdf_math.h"
#include "vector_math.h"

static inline void shifted_gompertz_cdf_prepare(const double *theta,
                                                double *p)
{
    p[0] = theta[0];
    p[1] = theta[1];
    p[2] = 1 / theta[0];
    p[3] = log(theta[1]);
    p[4] = log(theta[0]);
    p[5] = 1 / theta[1];
}

static inline double shifted_gompertz_cdf_forward(double x, const double *p)
{
    double z = p[1] * x;
    return -bj_expm1(-z) * bj_exp(-bj_exp(-z) / p[0]);
}

/* The forward map a block at a time, one vector_math call per exp():
   the same operations as the scalar function above. */
static void shifted_gompertz_cdf_forward_block(const double *in, double *out,
                                              int n, const double *p)
{
    double minus_z[ELEMENTWISE_BLOCK], e[ELEMENTWISE_BLOCK];
    for (int i = 0; i < n; i++)
        minus_z[i] = -(p[1] * in[i]);
    bj_expm1_array(minus_z, out, n);
    bj_exp_array(minus_z, e, n);
    for (int i = 0; i < n; i++)
        e[i] = -e[i] / p[0];
    bj_exp_array(e, e, n);
    for (int i = 0; i < n; i++)
        out[i] = -out[i] * e[i];
}

/* W0(exp(t)), Lambert's W at e^t without overflow for large t: Newton's
   method on w + log(w) = t from Winitzki's start (t <= 1) or t - log(t). */
static inline double lambert_w0_exp(double t)
{
    if (t < -40)
        return exp(t);
    double w;
    if (t > 1) {
        w = t - log(t);
    } else {
        double l = log1p(exp(t));
        w = l * (1 - log1p(l) / (2 + l));
    }
    for (int i = 0; i < 5; i++)
        w = w * (1 + t - log(w)) / (1 + w);
    return w;
}

/* TFP's closed form through Lambert's W, x = -log1p(-c W0(y e^(1/c) / c)) / r
   (here in log space, which does not overflow for small c), cancels as
   y -> 1, where 1 - c W is tiny. It is only the start: Newton steps on
   F(z) - y (y <= 1/2) or on 1 - F(z) - (1 - y), z = r x, both of full
   relative precision, make the result accurate to a few ulps. Near y = 1
   the start is the tail's first-order exp(-z) = (1 - y) / (1 + 1/c). */
static inline double shifted_gompertz_cdf_inverse(double y, const double *p)
{
    if (!(y > 0 && y < 1))   /* NaN as it came, so that NA stays NA */
        return y == 0 ? 0 : (y == 1 ? INFINITY : (y != y ? y : NAN));
    double c = p[0], ic = p[2];
    double cw = c * lambert_w0_exp(log(y) + ic - p[4]);
    double z = cw < 1 - 1e-6 ? -log1p(-cw) : log1p(ic) - log1p(-y);
    for (int i = 0; i < 8; i++) {
        double w = exp(-z), e = exp(-w * ic);
        double slope = w * e * (1 + -expm1(-z) * ic);
        if (!(slope > 0))
            break;
        double step = y <= 0.5 ? (-expm1(-z) * e - y) / slope :
            (1 - y + expm1(-w * ic) - w * e) / slope;
        z -= step;
        if (fabs(step) <= 1e-17 * z)
            break;
    }
    return z * p[5];
}

/* log f'(x) = log(r) - z - w/c + log1p((1 - w)/c), w = exp(-z). */
static inline double shifted_gompertz_cdf_fldj(double x, const double *p)
{
    double z = p[1] * x;
    return -z - exp(-z) / p[0] + log1p(-expm1(-z) / p[0]) + p[3];
}

/* The log-det a block at a time: the scalar function's libm calls and
   arithmetic in the same order (the same bits), one kind of call per loop,
   which pipelines better than the three calls mixed in one. */
static void shifted_gompertz_cdf_fldj_block(const double *in, double *out,
                                           int n, const double *p)
{
    double minus_z[ELEMENTWISE_BLOCK], w[ELEMENTWISE_BLOCK];
    for (int i = 0; i < n; i++)
        minus_z[i] = -(p[1] * in[i]);
    for (int i = 0; i < n; i++)
        w[i] = exp(minus_z[i]);
    for (int i = 0; i < n; i++)
        out[i] = expm1(minus_z[i]);
    for (int i = 0; i < n; i++)
        out[i] = log1p(-out[i] / p[0]);
    for (int i = 0; i < n; i++)
        out[i] = minus_z[i] - w[i] / p[0] + out[i] + p[3];
}

ELEMENTWISE_ILDJ_THROUGH_INVERSE(shifted_gompertz_cdf)

static inline double shifted_gompertz_cdf_dforward_dx(double x,
                                                      const double *p)
{
    return exp(shifted_gompertz_cdf_fldj(x, p));
}

/* With w = exp(-r x) and A = 1 + (1 - w)/c: d log A/dx = r w / (c A). */
static inline double shifted_gompertz_cdf_dfldj_dx(double x, const double *p)
{
    double w = exp(-p[1] * x), a = 1 + (1 - w) * p[2];
    return p[1] * (w * p[2] * (1 + 1 / a) - 1);
}

static inline void shifted_gompertz_cdf_dforward_dparams(double x,
                                                         const double *p,
                                                         double *d)
{
    double w = exp(-p[1] * x), e = exp(-w * p[2]);
    double a = 1 + (1 - w) * p[2];
    d[0] = (1 - w) * e * w * p[2] * p[2];
    d[1] = e * a * x * w;
}

static inline void shifted_gompertz_cdf_dfldj_dparams(double x,
                                                      const double *p,
                                                      double *d)
{
    double w = exp(-p[1] * x), a = 1 + (1 - w) * p[2];
    d[0] = (w - (1 - w) / a) * p[2] * p[2];
    d[1] = p[5] - x + x * w * p[2] * (1 + 1 / a);
}

ELEMENTWISE_KIND_WITH(shifted_gompertz_cdf, 2, ELEMENTWISE_LOG_DET_VARYING,
                      BLOCK, SCALAR, BLOCK, SCALAR)
