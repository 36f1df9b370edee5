/* tfb_sigmoid(): TFP's Sigmoid in double precision. Kind "sigmoid" maps R
   to (0, 1); kind "sigmoid_bounded" maps R to (low, high), p = {low, high,
   high - low, log(high - low), 1 / (high - low)}. */
#include "elementwise.h"
#include "scalar_math.h"

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

static inline double sigmoid_inverse(double y, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    return log(y) - log1p(-y);
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

ELEMENTWISE_KIND(sigmoid, 0, ELEMENTWISE_LOG_DET_VARYING)

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
