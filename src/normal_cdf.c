/* tfb_normal_cdf(): y = Phi(x), the standard normal CDF, TFP's NormalCDF.
   No parameters. R's own pnorm5/qnorm5 (as accurate as TFP's ndtr/ndtri,
   and as fast as base R's pnorm/qnorm). FLDJ = log phi(x); ILDJ derived
   through the inverse, as TFP does. */
#include <float.h>
#include <Rmath.h>
#include "elementwise.h"

ELEMENTWISE_NO_PARAMETERS(normal_cdf)

static inline double normal_cdf_forward(double x, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    return Rf_pnorm5(x, 0.0, 1.0, 1, 0);
}

/* R's qnorm() (AS 241) is up to 3 ulps off in its tail branches
   (|y - 1/2| > 0.425) and 5 in the far left tail, which the derived ILDJ
   doubles (x^2). There one Newton step brings x within an ulp: its
   residual is taken in the tail y is near (1 - y is exact), so that it is
   exact to an ulp of that tail's probability; where pnorm() underflows to
   0 (y < 2.26e-308), in logs. The central 85% of (0, 1) costs what qnorm()
   does. */
static inline double normal_cdf_inverse(double y, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    double x = Rf_qnorm5(y, 0.0, 1.0, 1, 0);
    if (fabs(y - 0.5) <= 0.425 || !(y >= DBL_MIN && y < 1.0))
        return x;
    double residual;
    if (y > 0.5) {
        residual = (1.0 - y) - Rf_pnorm5(x, 0.0, 1.0, 0, 0);
    } else {
        double lower = Rf_pnorm5(x, 0.0, 1.0, 1, 0);
        residual = lower > 0 ? lower - y :
            y * expm1(Rf_pnorm5(x, 0.0, 1.0, 1, 1) - log(y));
    }
    return x - residual / Rf_dnorm4(x, 0.0, 1.0, 0);
}

static inline double normal_cdf_fldj(double x, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    return -0.5 * x * x - M_LN_SQRT_2PI;
}

ELEMENTWISE_ILDJ_THROUGH_INVERSE(normal_cdf)

static inline double normal_cdf_dforward_dx(double x, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    return Rf_dnorm4(x, 0.0, 1.0, 0);
}

static inline double normal_cdf_dfldj_dx(double x, const double *p)
{
    ELEMENTWISE_UNUSED(p);
    return -x;
}

ELEMENTWISE_KIND(normal_cdf, 0, ELEMENTWISE_LOG_DET_VARYING)
