/* tfb_lambert_w_tail(): TFP's LambertWTail, the heavy-tail Lambert W x F
   transform around a location and scale: with u = (x - shift) / scale,
   y = shift + scale u exp(d u^2 / 2), d = tailweight >= 0. theta = {shift,
   scale, d}; p = {shift, scale, d, d / 2, log d}.

   The inverse takes w = W0(d z^2), z = (y - shift) / scale: TFP's
   sign(z) sqrt(w / d) equals z exp(-w / 2) (since w e^w = d z^2), which is
   used where w < 1 (and gives z at d = 0, where TFP switches to z), and
   TFP's ILDJ log|W_d(z)| - log|z| - log1p(w) is -w/2 - log1p(w) exactly,
   with no cancellation. TFP derives the FLDJ through the inverse; here it
   is log H'(u) = d u^2 / 2 + log1p(d u^2) directly. The forward map
   carries u and d u^2 / 2 to double-double precision, since exp()
   multiplies the exponent's rounding error by its size. */
#include "elementwise.h"
#include "bijectors.h"

/* W0(z), the principal branch of Lambert's W, for z >= -1/e: TFP's
   Halley iteration (special.py) from Winitzki's start, stopped when a
   step is below 2e-15 of the iterate. */
static double lambert_w0(double z)
{
    if (isnan(z) || z < -0.36787944117144233)
        return NAN;
    if (isinf(z))
        return z;
    double l = log1p(z);
    double w = z > -0.36787944117144233 ? l * (1.0 - log1p(l) / (2.0 + l)) : z;
    for (int k = 0; k < 100; k++) {
        double f = w - z * exp(-w);
        double step = f / (w + 1.0 - 0.5 * (w + 2.0) * f / (w + 1.0));
        if (!isfinite(step))
            break;
        w -= step;
        if (fabs(step) <= 2e-15 * fabs(w))
            break;
    }
    return w;
}

/* W0(exp(l)) for l > 690, where exp(l) may overflow: Newton's method on
   w + log(w) = l from w = l - log(l). */
static double lambert_w0_of_log(double l)
{
    double w = l - log(l);
    for (int k = 0; k < 8; k++)
        w -= (w + log(w) - l) * w / (w + 1.0);
    return w;
}

/* w = W0(d z^2) and z = (y - shift) / scale; from log(d z^2) where d z^2
   is beyond the doubles. */
static inline double lambert_w_tail_w(double y, const double *p, double *z)
{
    double difference = y - p[0], a;
    *z = difference / p[1];
    a = p[2] * *z * *z;
    if (p[2] == 0)
        return 0;
    return a < 1e300 ? lambert_w0(a) :
        lambert_w0_of_log(p[4] + 2 * (log(fabs(difference)) - log(p[1])));
}

static inline void lambert_w_tail_prepare(const double *theta, double *p)
{
    p[0] = theta[0];
    p[1] = theta[1];
    p[2] = theta[2];
    p[3] = 0.5 * theta[2];
    p[4] = theta[2] > 0 ? log(theta[2]) : -INFINITY;
}

static inline double lambert_w_tail_forward(double x, const double *p)
{
    double d = x - p[0], back = d - x;   /* d + d_lo = x - shift */
    double d_lo = (x - (d - back)) + (-p[0] - back);
    double u = d / p[1], u_lo = (fma(-u, p[1], d) + d_lo) / p[1];
    double square = u * u, square_lo = fma(u, u, -square) + 2 * u * u_lo;
    double a = p[3] * square;
    if (p[2] == 0)
        return p[0] + (d + d_lo);
    if (!(a <= 710))   /* exp(a) overflows (or x is NaN) */
        return p[0] + d * INFINITY;
    double a_lo = fma(p[3], square, -a) + p[3] * square_lo;
    double growth = exp(a) * (1.0 + a_lo);
    return p[0] + (d * growth + d_lo * growth);
}

static inline double lambert_w_tail_inverse(double y, const double *p)
{
    double z, w = lambert_w_tail_w(y, p, &z);
    double heavy = w < 1 ? z * exp(-0.5 * w) : copysign(sqrt(w / p[2]), z);
    return p[0] + p[1] * heavy;
}

static inline double lambert_w_tail_fldj(double x, const double *p)
{
    double u = (x - p[0]) / p[1], v = p[2] * u * u;
    return 0.5 * v + log1p(v);
}

static inline double lambert_w_tail_ildj(double y, const double *p)
{
    double z, w = lambert_w_tail_w(y, p, &z);
    return -0.5 * w - log1p(w);
}

static inline double lambert_w_tail_dforward_dx(double x, const double *p)
{
    double u = (x - p[0]) / p[1], v = p[2] * u * u;
    return exp(0.5 * v) * (1.0 + v);
}

/* d/du of d u^2 / 2 + log1p(d u^2) */
static inline double lambert_w_tail_dfldj_du(double u, const double *p)
{
    double v = p[2] * u * u;
    return p[2] * u * (1.0 + 2.0 / (1.0 + v));
}

static inline double lambert_w_tail_dfldj_dx(double x, const double *p)
{
    return lambert_w_tail_dfldj_du((x - p[0]) / p[1], p) / p[1];
}

/* y = shift + scale H(u): dy/dshift = 1 - H'(u), dy/dscale = H - u H' =
   -d u^3 e, dy/dd = scale u^3 e / 2, with e = exp(d u^2 / 2). */
static inline void lambert_w_tail_dforward_dparams(double x, const double *p,
                                                   double *d)
{
    double u = (x - p[0]) / p[1], v = p[2] * u * u, e = exp(0.5 * v);
    d[0] = 1.0 - e * (1.0 + v);
    d[1] = -v * u * e;
    d[2] = 0.5 * p[1] * u * u * u * e;
}

static inline void lambert_w_tail_dfldj_dparams(double x, const double *p,
                                                double *d)
{
    double u = (x - p[0]) / p[1], g = lambert_w_tail_dfldj_du(u, p);
    d[0] = -g / p[1];
    d[1] = -g * u / p[1];
    d[2] = u * u * (0.5 + 1.0 / (1.0 + p[2] * u * u));
}

ELEMENTWISE_KIND(lambert_w_tail, 3, ELEMENTWISE_LOG_DET_VARYING)

/* C_lambert_w0(z): W0 of each element, for the tests. */
SEXP C_lambert_w0(SEXP z)
{
    if (TYPEOF(z) != REALSXP)
        Rf_error("internal error: `z` must be a double vector");
    R_xlen_t n = XLENGTH(z);
    SEXP out = PROTECT(Rf_allocVector(REALSXP, n));
    const double *in = REAL_RO(z);
    double *o = REAL(out);
    for (R_xlen_t i = 0; i < n; i++)
        o[i] = lambert_w0(in[i]);
    UNPROTECT(1);
    return out;
}
