/* tfb_softplus(): TFP's Softplus, y = c softplus(x / c) + low, with
   c = hinge_softness (1 for TFP's undivided path) and v = (y - low) / c:
   inverse c softplus_inverse(v), FLDJ -softplus(-x / c), ILDJ
   -log(-expm1(-v)). theta = {c, low}; p = {c, low, 1/c, c split in
   halves (2)}.

   Where softplus is exp(x / c) (the left tail of the map, the right tail
   of the FLDJ) or the ILDJ is exp(-v), the rounding of x / c or of v is
   multiplied by |x / c| (350 ulps at x / c = -700); they are carried to
   double-double precision there. Same values as TFP's forms.

   The forward map, the inverse and the FLDJ run a block at a time, each
   exp, expm1 or log one vector_math.h call over the block; the scalar
   functions call its scalar twins, so that both give the same values.

   The kernel is "softplus_hinge": scalar_math.h's softplus_inverse() has
   the name the kind "softplus" would give its inverse. */
#include "elementwise.h"
#include "scalar_math.h"
#include "cdf_math.h"

/* softplus(x / c), with x / c = q + r in two parts (quotient_split; for
   c = 1, q = x and r = 0) and exp(x / c) = exp(q) (1 + r); log1p of it by
   one log (log1p_by_log). */
static inline double softplus_quotient(double x, const double *p)
{
    double r = 0, q = p[0] == 1 ? x :
        quotient_split(x, p[0], p[2], p[3], p[4], &r);
    if (q > -SCALAR_SOFTPLUS_THRESHOLD)
        return q;
    return bj_log1p_by_log(bj_exp(q) * (1.0 + r));
}

/* softplus_quotient(sign x) over a block: the exp() calls, then the log()
   calls, then the selection (the exp overflows harmlessly where q is
   kept). */
static void softplus_quotient_block(const double *in, double sign,
                                    double *out, int n, const double *p)
{
    double q[ELEMENTWISE_BLOCK], r[ELEMENTWISE_BLOCK], w[ELEMENTWISE_BLOCK];
    if (p[0] == 1) {
        for (int i = 0; i < n; i++) {
            q[i] = sign * in[i];
            r[i] = 0;
        }
    } else {
        for (int i = 0; i < n; i++)
            q[i] = quotient_split(sign * in[i], p[0], p[2], p[3], p[4],
                                  &r[i]);
    }
    bj_exp_array(q, out, n);
    for (int i = 0; i < n; i++) {
        out[i] = out[i] * (1.0 + r[i]);   /* u */
        w[i] = 1.0 + out[i];
    }
    bj_log_array(w, r, n);
    for (int i = 0; i < n; i++)
        out[i] = q[i] > -SCALAR_SOFTPLUS_THRESHOLD ? q[i] :
            log1p_by_log_finish(out[i], w[i], r[i]);
}

static inline void softplus_hinge_prepare(const double *theta, double *p)
{
    p[0] = theta[0];
    p[1] = theta[1];
    p[2] = 1.0 / theta[0];
    veltkamp_split(theta[0], &p[3], &p[4]);
}

static inline double softplus_hinge_forward(double x, const double *p)
{
    return p[0] * softplus_quotient(x, p) + p[1];
}

static void softplus_hinge_forward_block(const double *in, double *out,
                                         int n, const double *p)
{
    softplus_quotient_block(in, 1.0, out, n, p);
    for (int i = 0; i < n; i++)
        out[i] = p[0] * out[i] + p[1];
}

/* The rounding error of v = d / c, d = y - low (d's own error included),
   divided by v: (y - low) / c = v (1 + lo). 0 where not finite. */
static inline double softplus_v_low(double y, double d, double v,
                                    const double *p)
{
    double back = d - y;   /* d + d_lo = y - low exactly */
    double d_lo = (y - (d - back)) + (-p[1] - back);
    double v_lo = ((d - v * p[0]) - product_error(p[3], p[4], v, v * p[0]) +
                   d_lo) * p[2];
    return isfinite(v_lo) ? v_lo : 0;
}

/* Next to the inverse's zero at v = log 2, v + log(-expm1(-v)) cancels
   (78 ulps at y = 0.6956). There log(e^v - 1) = log1p(2 expm1(delta)),
   delta = v - log 2 from v's two parts and log 2's (0x1.62e42fefa39efp-1
   + 0x1.abc9e3b39803fp-56, to 6e-34; v - the high part is exact here):
   no cancellation, within about 2 ulps. Used for v in [0.35, 1) (v - the
   high part is exact from log(2)/2 up), where 1 + 2 expm1(delta) =
   e^v - 1 >= 0.41; v's low part also helps on the way down to 0.35. */
#define SOFTPLUS_LN2_HI 0x1.62e42fefa39efp-1
#define SOFTPLUS_LN2_LO 0x1.abc9e3b39803fp-56

/* & rather than &&: no branch in the loop that lists these */
static inline int softplus_near_zero(double v)
{
    return (v >= 0.35) & (v < 1.0);
}

static inline double softplus_delta(double y, const double *p)
{
    double d = y - p[1];
    double v = p[0] == 1 ? d : d / p[0];
    double v_lo = p[0] == 1 ? softplus_v_low(y, d, d, p) :
        softplus_v_low(y, d, v, p);
    return (v - SOFTPLUS_LN2_HI) + (v_lo - SOFTPLUS_LN2_LO);
}

/* TFP's softplus_inverse(v) = v + log(-expm1(-v)), where v >= 1 as
   v + log1p(-exp(-v)) (exp(-v) < 1/2): an exp and a log instead of expm1
   and log. Not below 1: next to the zero at v = log 2 the sum cancels, and
   log1p_by_log's two ulps would be magnified four times more than TFP's
   form's error. */
static inline int softplus_middle(double v)
{
    return v >= 1.0 && v <= -SCALAR_SOFTPLUS_THRESHOLD;
}

/* Outside [1, 34], scalar_math.h's softplus_inverse(): log(v) for tiny v,
   v for large v, else v + log(-expm1(-v)). */
#define SOFTPLUS_TINY 1.640700042e-15

static inline double softplus_hinge_inverse(double y, const double *p)
{
    double v = p[0] == 1 ? y - p[1] : (y - p[1]) / p[0];
    if (softplus_near_zero(v))
        return p[0] * bj_log1p(2.0 * bj_expm1(softplus_delta(y, p)));
    if (softplus_middle(v))
        return p[0] * (v + bj_log1p_by_log(-bj_exp(-v)));
    if (v < SOFTPLUS_TINY)
        return p[0] * bj_log(v);
    if (v > -SCALAR_SOFTPLUS_THRESHOLD)
        return p[0] * v;
    return p[0] * (v + bj_log(-bj_expm1(-v)));
}

/* softplus_hinge_inverse() over a block: exp(-v) for all, expm1(-v) for
   the v outside [1, 34] (listed without a branch and gathered), then one
   log() call for both forms' logs, then the finishing steps. */
static void softplus_hinge_inverse_block(const double *in, double *out,
                                         int n, const double *p)
{
    double v[ELEMENTWISE_BLOCK], u[ELEMENTWISE_BLOCK], w[ELEMENTWISE_BLOCK];
    int other[ELEMENTWISE_BLOCK], m = 0;
    for (int i = 0; i < n; i++) {
        v[i] = p[0] == 1 ? in[i] - p[1] : (in[i] - p[1]) / p[0];
        u[i] = -v[i];
        other[m] = i;
        m += !softplus_middle(v[i]);
    }
    bj_exp_array(u, u, n);
    for (int i = 0; i < n; i++) {
        u[i] = -u[i];
        w[i] = 1.0 + u[i];
    }
    for (int j = 0; j < m; j++)   /* gathered into out[0 .. m - 1] */
        out[j] = -v[other[j]];
    bj_expm1_array(out, out, m);
    for (int j = 0; j < m; j++) {
        double vj = v[other[j]];
        w[other[j]] = vj < SOFTPLUS_TINY ? vj :
            vj > -SCALAR_SOFTPLUS_THRESHOLD ? 1.0 : -out[j];
    }
    bj_log_array(w, out, n);
    for (int j = 0; j < m; j++) {   /* the others' results, kept in w */
        double vj = v[other[j]], lj = out[other[j]];
        w[other[j]] = vj < SOFTPLUS_TINY ? lj :
            vj > -SCALAR_SOFTPLUS_THRESHOLD ? vj : vj + lj;
    }
    for (int i = 0; i < n; i++)
        out[i] = p[0] * (v[i] + log1p_by_log_finish(u[i], w[i], out[i]));
    for (int j = 0; j < m; j++)
        out[other[j]] = p[0] * w[other[j]];
    /* the v next to log 2, listed without a branch and redone */
    m = 0;
    for (int i = 0; i < n; i++) {
        other[m] = i;
        m += softplus_near_zero(v[i]);
    }
    for (int j = 0; j < m; j++)
        w[j] = softplus_delta(in[other[j]], p);
    bj_expm1_array(w, w, m);
    for (int j = 0; j < m; j++)
        w[j] = 2.0 * w[j];
    bj_log1p_array(w, w, m);
    for (int j = 0; j < m; j++)
        out[other[j]] = p[0] * w[j];
}

static inline double softplus_hinge_fldj(double x, const double *p)
{
    return -softplus_quotient(-x, p);
}

static void softplus_hinge_fldj_block(const double *in, double *out, int n,
                                      const double *p)
{
    softplus_quotient_block(in, -1.0, out, n, p);
    for (int i = 0; i < n; i++)
        out[i] = -out[i];
}

/* -log(1 - exp(-v)), v = (y - low) / c = hi + lo. */
static inline double softplus_hinge_ildj(double y, const double *p)
{
    double d = y - p[1];
    double v = d / p[0];
    if (v < M_LN2)
        return -log(-expm1(-v));
    double v_lo = softplus_v_low(y, d, v, p);
    return -log1p_by_log(-exp(-v) * (1.0 - v_lo));
}

static inline double softplus_hinge_dforward_dx(double x, const double *p)
{
    return stable_sigmoid(x / p[0]);
}

static inline double softplus_hinge_dfldj_dx(double x, const double *p)
{
    return stable_sigmoid(-x / p[0]) / p[0];
}

/* df/dc = softplus(q) - q sigmoid(q), d log f'/dc = -q sigmoid(-q) / c,
   q = x / c; df/dlow = 1. */
static inline void softplus_hinge_dforward_dparams(double x, const double *p,
                                             double *d)
{
    double q = x / p[0];
    d[0] = stable_softplus(q) - q * stable_sigmoid(q);
    d[1] = 1.0;
}

static inline void softplus_hinge_dfldj_dparams(double x, const double *p,
                                          double *d)
{
    double q = x / p[0];
    d[0] = -q * stable_sigmoid(-q) / p[0];
    d[1] = 0.0;
}

ELEMENTWISE_KIND_WITH(softplus_hinge, 2, ELEMENTWISE_LOG_DET_VARYING, BLOCK,
                      BLOCK, BLOCK, SCALAR)
