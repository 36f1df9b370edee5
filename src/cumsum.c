/* tfb_cumsum(): cumulative sums along one axis of a column-major array, and
   the three maps its inverse and backward passes need. An array of dims
   (inner..., size, outer...) is walked as `outer` blocks of `size` slices of
   `inner` contiguous values; each of the `inner` lines along the axis has
   stride `inner`. */
#include "bijectors.h"

enum cumsum_mode {
    CUMSUM_FORWARD = 0,   /* y_k = x_1 + ... + x_k */
    CUMSUM_REVERSE = 1,   /* y_k = x_k + ... + x_K (the forward's VJP) */
    CUMSUM_DIFF = 2,      /* y_1 = x_1, y_k = x_k - x_{k-1} (the inverse) */
    CUMSUM_REVERSE_DIFF = 3 /* y_K = x_K, y_k = x_k - x_{k+1} (its VJP) */
};

static void cumsum_kernel(const double *x, double *y, R_xlen_t inner,
                          R_xlen_t size, R_xlen_t outer, int mode)
{
    R_xlen_t block = inner * size;
    for (R_xlen_t o = 0; o < outer; o++) {
        const double *xb = x + o * block;
        double *yb = y + o * block;
        switch (mode) {
        case CUMSUM_FORWARD:
            for (R_xlen_t i = 0; i < inner && size > 0; i++)
                yb[i] = xb[i];
            /* slice by slice, so that the inner loop is contiguous */
            for (R_xlen_t k = 1; k < size; k++)
                for (R_xlen_t i = 0; i < inner; i++)
                    yb[i + k * inner] = yb[i + (k - 1) * inner] +
                        xb[i + k * inner];
            break;
        case CUMSUM_REVERSE:
            if (size == 0)
                break;
            for (R_xlen_t i = 0; i < inner; i++)
                yb[i + (size - 1) * inner] = xb[i + (size - 1) * inner];
            for (R_xlen_t k = size - 2; k >= 0; k--)
                for (R_xlen_t i = 0; i < inner; i++)
                    yb[i + k * inner] = yb[i + (k + 1) * inner] +
                        xb[i + k * inner];
            break;
        case CUMSUM_DIFF:
            for (R_xlen_t i = 0; i < inner && size > 0; i++)
                yb[i] = xb[i];
            for (R_xlen_t k = 1; k < size; k++)
                for (R_xlen_t i = 0; i < inner; i++)
                    yb[i + k * inner] = xb[i + k * inner] -
                        xb[i + (k - 1) * inner];
            break;
        default: /* CUMSUM_REVERSE_DIFF */
            if (size == 0)
                break;
            for (R_xlen_t i = 0; i < inner; i++)
                yb[i + (size - 1) * inner] = xb[i + (size - 1) * inner];
            for (R_xlen_t k = 0; k < size - 1; k++)
                for (R_xlen_t i = 0; i < inner; i++)
                    yb[i + k * inner] = xb[i + k * inner] -
                        xb[i + (k + 1) * inner];
            break;
        }
    }
}

/* x: a double array; dims: its dims (double, as R may hold long ones);
   position: the 1-based axis; mode: one of cumsum_mode. The result keeps
   x's dim and dimnames. */
SEXP C_cumsum_along(SEXP x, SEXP dims, SEXP position, SEXP mode)
{
    check_double_array(x, "x");
    if (TYPEOF(dims) != REALSXP || XLENGTH(dims) < 1)
        Rf_error("`dims` must be a non-empty double vector");
    if (TYPEOF(position) != INTSXP || XLENGTH(position) != 1)
        Rf_error("`position` must be a single integer");
    if (TYPEOF(mode) != INTSXP || XLENGTH(mode) != 1 ||
        INTEGER(mode)[0] < CUMSUM_FORWARD ||
        INTEGER(mode)[0] > CUMSUM_REVERSE_DIFF)
        Rf_error("`mode` must be an integer in 0..3");
    R_xlen_t rank = XLENGTH(dims);
    int axis = INTEGER(position)[0];
    if (axis < 1 || axis > rank)
        Rf_error("`position` (%d) is outside 1..%d", axis, (int) rank);
    const double *d = REAL_RO(dims);
    double inner = 1, outer = 1, total = 1;
    for (R_xlen_t k = 0; k < rank; k++) {
        if (!(d[k] >= 0))
            Rf_error("`dims` must be non-negative");
        if (k < axis - 1)
            inner *= d[k];
        else if (k > axis - 1)
            outer *= d[k];
        total *= d[k];
    }
    if (total != (double) XLENGTH(x))
        Rf_error("`dims` (%.0f values) does not match the length of `x` "
                 "(%.0f)", total, (double) XLENGTH(x));
    SEXP out = PROTECT(Rf_allocVector(REALSXP, XLENGTH(x)));
    cumsum_kernel(REAL_RO(x), REAL(out), (R_xlen_t) inner,
                  (R_xlen_t) d[axis - 1], (R_xlen_t) outer, INTEGER(mode)[0]);
    copy_array_shape(out, x);
    UNPROTECT(1);
    return out;
}
