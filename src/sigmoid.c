/* tfb_sigmoid(): TFP's Sigmoid in double precision. Kind "sigmoid" maps R
   to (0, 1); kind "sigmoid_bounded" maps R to (low, high), p = {low, high,
   high - low, log(high - low), 1 / (high - low)}. */
#include "elementwise.h"
#include "scalar_math.h"
#include "vector_math.h"

/* log sigmoid'(x) = log sigmoid(x) + log sigmoid(-x). */
static inline double log_sigmoid_derivative(double x)
{
    return -stable_softplus(-x) - stable_softplus(x);
}

ELEMENTWISE_NO_PARAMETERS(sigmoid)

static inline double sigmoid_forward(double x, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    return stable_sigmoid(x);
}

/* logit(y) = log(y) - log1p(-y) in TFP; that difference cancels next to
   y = 1/2 (millions of ulps for |logit(y)| of 1e-8). Here one log1p of a
   ratio whose parts are exact where it matters: for y >= 1/2, 2y - 1 and
   1 - y are exact and logit(y) = log1p((2y - 1) / (1 - y)); for y < 1/2,
   logit(y) = -log1p((1 - 2y) / y), 1 - 2y exact for y >= 1/4 (below, the
   result is beyond log(3) and its rounding counts for little): within
   about 1.6 ulps. Below 2^-1000 (the ratio overflows), at 0, for negative
   y and NaN, TFP's form, which is log(y) there. */
#define SIGMOID_INVERSE_TINY 0x1p-1000

/* The ratio's numerator is |2y - 1| and its denominator the smaller of
   y and 1 - y on either side, so the loop over a block has no branch (a
   compiler does not speculate a division) and the sign is 2y - 1's. */
static inline double sigmoid_inverse_ratio(double y, double *d)
{
    *d = 2.0 * y - 1.0;
    double other = 1.0 - y;
    return fabs(*d) / (y < other ? y : other);
}

static inline double sigmoid_inverse(double y, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    if (!(y >= SIGMOID_INVERSE_TINY))
        return log(y) - log1p(-y);
    double d, t = sigmoid_inverse_ratio(y, &d);
    return copysign(bj_log1p(t), d);
}

/* The same a block at a time: the ratios, one log1p call, the signs, then
   the rare tiny, zero, negative or NaN y. */
static void sigmoid_inverse_block(const double *in, double *out, int n,
                                  const double *p)
{
    ELEMENTWISE_UNUSED(p);
    double t[ELEMENTWISE_BLOCK], d[ELEMENTWISE_BLOCK];
    for (int i = 0; i < n; i++)
        t[i] = sigmoid_inverse_ratio(in[i], &d[i]);
    bj_log1p_array(t, out, n);
    for (int i = 0; i < n; i++)
        out[i] = copysign(out[i], d[i]);
    for (int i = 0; i < n; i++)
        if (!(in[i] >= SIGMOID_INVERSE_TINY))
            out[i] = log(in[i]) - log1p(-in[i]);
}

static inline double sigmoid_fldj(double x, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    return log_sigmoid_derivative(x);
}

/* TFP derives the ILDJ through the inverse on purpose: it is more accurate
   than -log(y) - log1p(-y). */
ELEMENTWISE_ILDJ_THROUGH_INVERSE(sigmoid)

static inline double sigmoid_dforward_dx(double x, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    return stable_sigmoid(x) * stable_sigmoid(-x);
}

static inline double sigmoid_dfldj_dx(double x, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    return stable_sigmoid(-x) - stable_sigmoid(x);
}

ELEMENTWISE_KIND_WITH(sigmoid, 0, ELEMENTWISE_LOG_DET_VARYING, SCALAR, BLOCK,
                      SCALAR, SCALAR)

static inline void sigmoid_bounded_prepare(const double *theta, double *p)
{
    p[0] = theta[0];
    p[1] = theta[1];
    p[2] = theta[1] - theta[0];
    p[3] = log(p[2]);
    p[4] = 1.0 / p[2];
}

/* Each half is computed from the bound it approaches, so that the result
   never exceeds `high` (TFP's form). */
static inline double sigmoid_bounded_forward(double x, const double *p)
{
    return x < 0 ? p[0] + p[2] * stable_sigmoid(x) :
        p[1] - p[2] * stable_sigmoid(-x);
}

static inline double sigmoid_bounded_inverse(double y, const double *p)
{
    return log(y - p[0]) - log(p[1] - y);
}

static inline double sigmoid_bounded_fldj(double x, const double *p)
{
    return log_sigmoid_derivative(x) + p[3];
}

ELEMENTWISE_ILDJ_THROUGH_INVERSE(sigmoid_bounded)

static inline double sigmoid_bounded_dforward_dx(double x, const double *p)
{
    return p[2] * stable_sigmoid(x) * stable_sigmoid(-x);
}

static inline double sigmoid_bounded_dfldj_dx(double x, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    return stable_sigmoid(-x) - stable_sigmoid(x);
}

/* f = low + (high - low) sigmoid(x): df/dlow = sigmoid(-x),
   df/dhigh = sigmoid(x); log|f'| has + log(high - low). */
static inline void sigmoid_bounded_dforward_dparams(double x, const double *p,
                                                    double *d)
{
    ELEMENTWISE_UNUSED(p);
    d[0] = stable_sigmoid(-x);
    d[1] = stable_sigmoid(x);
}

static inline void sigmoid_bounded_dfldj_dparams(double x, const double *p,
                                                 double *d)
{
    ELEMENTWISE_UNUSED(x);
    d[0] = -p[4];
    d[1] = p[4];
}

ELEMENTWISE_KIND(sigmoid_bounded, 2, ELEMENTWISE_LOG_DET_VARYING)
