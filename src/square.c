/* tfb_square(): y = x^2 on [0, inf), TFP's Square. No parameters. */
#include <float.h>
#include "elementwise.h"

ELEMENTWISE_NO_PARAMETERS(square)

static inline double square_forward(double x, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    return x * x;
}

static inline double square_inverse(double y, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    return sqrt(y);
}

/* TFP's log(2) + log(x), with one rounding: 2 x is exact below
   overflow. */
static inline double square_fldj(double x, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    return x < 0.5 * DBL_MAX ? log(2.0 * x) : M_LN2 + log(x);
}

/* TFP derives -log(2) - log(sqrt(y)), which cancels near y = 1/4 and
   keeps the rounding error of sqrt(y) there (1e15 ulps); -log(4 y) / 2 is
   the same value from an exact product. */
static inline double square_ildj(double y, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    return y < 0.25 * DBL_MAX ? -0.5 * log(4.0 * y) :
        -M_LN2 - 0.5 * log(y);
}

static inline double square_dforward_dx(double x, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    return 2.0 * x;
}

static inline double square_dfldj_dx(double x, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    return 1.0 / x;
}

ELEMENTWISE_KIND(square, 0, ELEMENTWISE_LOG_DET_VARYING)
