/* tfb_rational_quadratic_spline(): TFP's rational quadratic spline (Durkan
   et al. 2019, with identity tails), elementwise on an array whose last
   axis indexes features. Widths, heights and slopes are each either shared
   (one row) or given per feature (one row per index of the last axis), as
   column-major matrices rows x K (slopes rows x (K - 1)). The R side turns
   the trained logits into these values and back (R/rational_quadratic_
   spline.R); everything per element happens here.

   In column-major order the elements of one feature form a contiguous run
   (the whole array when every parameter is shared), so the knots are built
   once per run. */

#include <limits.h>
#include <math.h>
#include "bijectors.h"

enum rqs_operation {
    RQS_FORWARD = 0,
    RQS_INVERSE = 1,
    RQS_FORWARD_LOG_DET = 2,
    RQS_INVERSE_LOG_DET = 3
};

/* The knots of one spline: K + 1 positions on x and y, K + 1 slopes with
   slope 1 at both ends. */
typedef struct {
    int bins;
    double *kx, *ky, *kd;
} spline_knots;

typedef struct {
    const double *widths, *heights, *slopes;
    int rows_w, rows_h, rows_s, bins;
    double range_min;
} spline_parameters;

static void build_knots(const spline_parameters *p, R_xlen_t feature,
                        spline_knots *knots)
{
    int K = p->bins;
    R_xlen_t rw = p->rows_w > 1 ? feature : 0;
    R_xlen_t rh = p->rows_h > 1 ? feature : 0;
    R_xlen_t rs = p->rows_s > 1 ? feature : 0;
    knots->kx[0] = p->range_min;
    knots->ky[0] = p->range_min;
    double sum_w = 0, sum_h = 0;
    for (int k = 0; k < K; k++) {
        sum_w += p->widths[rw + k * (R_xlen_t) p->rows_w];
        sum_h += p->heights[rh + k * (R_xlen_t) p->rows_h];
        knots->kx[k + 1] = p->range_min + sum_w;
        knots->ky[k + 1] = p->range_min + sum_h;
    }
    knots->kd[0] = 1;
    knots->kd[K] = 1;
    for (int k = 1; k < K; k++)
        knots->kd[k] = p->slopes[rs + (k - 1) * (R_xlen_t) p->rows_s];
}

/* The bin (0-based) of v among `knots` (K + 1 increasing values), or -1
   outside [knots[0], knots[K]] (closed: the ends are identity points, as
   TFP's mask). The last k in 0..K-1 with knots[k] <= v. */
static int find_bin(const double *knots, int K, double v)
{
    if (K < 1 || !(v > knots[0] && v < knots[K]))
        return -1;
    int low = 0, high = K - 1;
    while (low < high) {
        int middle = (low + high + 1) / 2;
        if (knots[middle] <= v)
            low = middle;
        else
            high = middle - 1;
    }
    return low;
}

/* The quantities of bin k at a point with relative position xi. */
typedef struct {
    double w, h, s, d0, d1, xi, u, beta, D, M;
} bin_state;

static void bin_at(const spline_knots *knots, int k, double x, bin_state *b)
{
    b->w = knots->kx[k + 1] - knots->kx[k];
    b->h = knots->ky[k + 1] - knots->ky[k];
    b->s = b->h / b->w;
    b->d0 = knots->kd[k];
    b->d1 = knots->kd[k + 1];
    b->xi = (x - knots->kx[k]) / b->w;
    b->u = b->xi * (1 - b->xi);
    b->beta = b->d0 + b->d1 - 2 * b->s;
    b->D = b->s + b->beta * b->u;
    double one_minus = 1 - b->xi;
    b->M = b->d1 * b->xi * b->xi + 2 * b->s * b->u +
        b->d0 * one_minus * one_minus;
}

static double spline_forward(const spline_knots *knots, double x)
{
    if (ISNAN(x))
        return x;
    int k = find_bin(knots->kx, knots->bins, x);
    if (k < 0)
        return x;
    bin_state b;
    bin_at(knots, k, x, &b);
    return knots->ky[k] + b.h * (b.s * b.xi * b.xi + b.d0 * b.u) / b.D;
}

/* log dy/dx at x: 0 outside the range (identity tails). */
static double spline_log_det(const spline_knots *knots, double x)
{
    if (ISNAN(x))
        return x;
    int k = find_bin(knots->kx, knots->bins, x);
    if (k < 0)
        return 0;
    bin_state b;
    bin_at(knots, k, x, &b);
    return 2 * log(b.s) + log(b.M) - 2 * log(b.D);
}

/* The root of the quadratic that lies in the bin, in the form of the
   paper's appendix A.3 that stays accurate as a -> 0. */
static double spline_inverse(const spline_knots *knots, double y)
{
    if (ISNAN(y))
        return y;
    int k = find_bin(knots->ky, knots->bins, y);
    if (k < 0)
        return y;
    double w = knots->kx[k + 1] - knots->kx[k];
    double h = knots->ky[k + 1] - knots->ky[k];
    double s = h / w;
    double d0 = knots->kd[k], d1 = knots->kd[k + 1];
    double beta = d0 + d1 - 2 * s;
    double r = y - knots->ky[k];
    double t = r * beta;
    double a = h * (s - d0) + t;
    double b = h * d0 - t;
    double c = -s * r;
    double xi = r == 0 ? 0 : 2 * c / (-b - sqrt(b * b - 4 * a * c));
    return knots->kx[k] + xi * w;
}

static void check_parameters(SEXP widths, SEXP heights, SEXP slopes,
                             SEXP rows, SEXP range_min,
                             spline_parameters *p)
{
    if (TYPEOF(widths) != REALSXP || TYPEOF(heights) != REALSXP ||
        TYPEOF(slopes) != REALSXP)
        Rf_error("the spline's widths, heights and slopes must be doubles");
    if (TYPEOF(rows) != INTSXP || XLENGTH(rows) != 3)
        Rf_error("`rows` must be three integers");
    const int *r = INTEGER(rows);
    if (r[0] < 1 || r[1] < 1 || r[2] < 1)
        Rf_error("`rows` must be positive");
    R_xlen_t K = XLENGTH(widths) / r[0];
    if (K * r[0] != XLENGTH(widths) || K * r[1] != XLENGTH(heights) ||
        (K > 0 && (K - 1) * r[2] != XLENGTH(slopes)) || K > INT_MAX - 1)
        Rf_error("the spline's widths (%lld), heights (%lld) and slopes "
                 "(%lld) do not fit %d, %d and %d rows of K, K and K - 1",
                 (long long) XLENGTH(widths), (long long) XLENGTH(heights),
                 (long long) XLENGTH(slopes), r[0], r[1], r[2]);
    p->widths = REAL_RO(widths);
    p->heights = REAL_RO(heights);
    p->slopes = REAL_RO(slopes);
    p->rows_w = r[0];
    p->rows_h = r[1];
    p->rows_s = r[2];
    p->bins = (int) K;
    p->range_min = scalar_double(range_min, "range_min");
}

/* The number of runs of elements that share one spline. Per element (a
   coupling or autoregressive flow, whose network gives every element its
   own spline): one run per element, every parameter with one row per
   element. Otherwise the size of the last axis of x (its length for a
   vector) when some parameter has one row per feature, else 1. */
static R_xlen_t feature_runs(SEXP x, const spline_parameters *p,
                             SEXP per_element)
{
    if (scalar_logical(per_element, "per_element")) {
        R_xlen_t n = XLENGTH(x);
        if (p->rows_w != n || p->rows_h != n || (p->bins > 1 &&
                                                  p->rows_s != n))
            Rf_error("per-element splines need one row of parameters per "
                     "element of the input (%lld)", (long long) n);
        return n;
    }
    int features = p->rows_w > 1 || p->rows_h > 1 || p->rows_s > 1;
    if (!features)
        return 1;
    SEXP dim = Rf_getAttrib(x, R_DimSymbol);
    R_xlen_t last = dim == R_NilValue ? XLENGTH(x) :
        (R_xlen_t) INTEGER(dim)[XLENGTH(dim) - 1];
    int rows[3] = {p->rows_w, p->rows_h, p->rows_s};
    for (int a = 0; a < 3; a++)
        if (rows[a] > 1 && rows[a] != last)
            Rf_error("the input's last axis has %lld features, but the "
                     "spline has %d rows of parameters", (long long) last,
                     rows[a]);
    return last;
}

/* Elements of x per element of a log-det reduced over the last
   `event_ndims` axes: the product of the leading dims. */
static R_xlen_t leading_size(SEXP x, int event_ndims, int *kept)
{
    SEXP dim = Rf_getAttrib(x, R_DimSymbol);
    int rank = dim == R_NilValue ? 1 : (int) XLENGTH(dim);
    if (event_ndims < 0 || event_ndims > rank)
        Rf_error("`event_ndims` must be in 0..%d", rank);
    *kept = rank - event_ndims;
    if (dim == R_NilValue)
        return *kept == 1 ? XLENGTH(x) : 1;
    R_xlen_t size = 1;
    for (int a = 0; a < *kept; a++)
        size *= INTEGER(dim)[a];
    return size;
}

static SEXP alloc_log_det(SEXP x, int event_ndims, R_xlen_t *size)
{
    int kept;
    *size = leading_size(x, event_ndims, &kept);
    SEXP out = PROTECT(Rf_allocVector(REALSXP, *size));
    if (event_ndims == 0) {
        copy_array_shape(out, x);
    } else if (kept >= 2) {
        SEXP dim = Rf_getAttrib(x, R_DimSymbol);
        SEXP kept_dim = PROTECT(Rf_allocVector(INTSXP, kept));
        for (int a = 0; a < kept; a++)
            INTEGER(kept_dim)[a] = INTEGER(dim)[a];
        Rf_setAttrib(out, R_DimSymbol, kept_dim);
        UNPROTECT(1);
    }
    UNPROTECT(1);
    return out;
}

static spline_knots alloc_knots(int K)
{
    spline_knots knots;
    knots.bins = K;
    knots.kx = (double *) R_alloc((size_t) K + 1, sizeof(double));
    knots.ky = (double *) R_alloc((size_t) K + 1, sizeof(double));
    knots.kd = (double *) R_alloc((size_t) K + 1, sizeof(double));
    return knots;
}

/* C_rqs_map(x, widths, heights, slopes, rows, per_element, range_min,
   operation, event_ndims): one of rqs_operation. The maps keep x's shape; the
   log-dets are summed over the last event_ndims axes. */
SEXP C_rqs_map(SEXP x, SEXP widths, SEXP heights, SEXP slopes, SEXP rows,
               SEXP per_element, SEXP range_min, SEXP operation,
               SEXP event_ndims)
{
    check_double_array(x, "x");
    spline_parameters p;
    check_parameters(widths, heights, slopes, rows, range_min, &p);
    if (TYPEOF(operation) != INTSXP || XLENGTH(operation) != 1 ||
        INTEGER(operation)[0] < RQS_FORWARD ||
        INTEGER(operation)[0] > RQS_INVERSE_LOG_DET)
        Rf_error("`operation` must be an integer in 0..3");
    if (TYPEOF(event_ndims) != INTSXP || XLENGTH(event_ndims) != 1)
        Rf_error("`event_ndims` must be a single integer");
    int op = INTEGER(operation)[0];
    R_xlen_t runs = feature_runs(x, &p, per_element);
    R_xlen_t n = XLENGTH(x);
    R_xlen_t run_length = runs > 0 ? n / runs : 0;
    const double *in = REAL_RO(x);
    spline_knots knots = alloc_knots(p.bins);
    SEXP out;
    R_xlen_t size = n;
    if (op == RQS_FORWARD || op == RQS_INVERSE) {
        out = PROTECT(Rf_allocVector(REALSXP, n));
        copy_array_shape(out, x);
    } else {
        out = PROTECT(alloc_log_det(x, INTEGER(event_ndims)[0], &size));
        for (R_xlen_t i = 0; i < size; i++)
            REAL(out)[i] = 0;
    }
    double *o = REAL(out);
    for (R_xlen_t r = 0; r < runs; r++) {
        build_knots(&p, r, &knots);
        R_xlen_t start = r * run_length;
        for (R_xlen_t i = start; i < start + run_length; i++) {
            switch (op) {
            case RQS_FORWARD:
                o[i] = spline_forward(&knots, in[i]);
                break;
            case RQS_INVERSE:
                o[i] = spline_inverse(&knots, in[i]);
                break;
            case RQS_FORWARD_LOG_DET:
                o[i % size] += spline_log_det(&knots, in[i]);
                break;
            default: /* TFP's: -fldj(inverse(y)) */
                o[i % size] -= spline_log_det(&knots,
                                              spline_inverse(&knots, in[i]));
                break;
            }
        }
        if ((r & 0xFF) == 0xFF)
            R_CheckUserInterrupt();
    }
    UNPROTECT(1);
    return out;
}

/* Per-bin sums of the local partials of one run, turned into gradients of
   the raw widths, heights and slopes at the end of the run. */
typedef struct {
    double *knot_x, *width, *knot_y, *height, *slope;
} bin_gradients;

/* C_rqs_backward(x, widths, heights, slopes, rows, per_element, range_min,
   direction, event_ndims, grad_output, grad_log_det): x is the forward-domain point
   (the forward pass's input, the inverse pass's output). direction 0: the
   loss depends on y = f(x) and the forward log-det; 1: on x = f^-1(y) and
   the inverse log-det. grad_output is shaped like x; grad_log_det has one
   value per element of the reduced log-det (or one for all). Returns
   list(input = , widths = , heights = , slopes = ), the parameter gradients
   shaped like the parameters (without their dims). */
SEXP C_rqs_backward(SEXP x, SEXP widths, SEXP heights, SEXP slopes,
                    SEXP rows, SEXP per_element, SEXP range_min,
                    SEXP direction, SEXP event_ndims, SEXP grad_output,
                    SEXP grad_log_det)
{
    check_double_array(x, "x");
    check_double_array(grad_output, "grad_output");
    check_double_array(grad_log_det, "grad_log_det");
    spline_parameters p;
    check_parameters(widths, heights, slopes, rows, range_min, &p);
    int inverse = scalar_logical(direction, "direction");
    if (TYPEOF(event_ndims) != INTSXP || XLENGTH(event_ndims) != 1)
        Rf_error("`event_ndims` must be a single integer");
    R_xlen_t n = XLENGTH(x);
    if (XLENGTH(grad_output) != n)
        Rf_error("`grad_output` has %lld values, `x` %lld",
                 (long long) XLENGTH(grad_output), (long long) n);
    int kept;
    R_xlen_t size = leading_size(x, INTEGER(event_ndims)[0], &kept);
    R_xlen_t gl_length = XLENGTH(grad_log_det);
    if (gl_length != 1 && gl_length != size)
        Rf_error("`grad_log_det` has %lld values, expected 1 or %lld",
                 (long long) gl_length, (long long) size);
    R_xlen_t runs = feature_runs(x, &p, per_element);
    R_xlen_t run_length = runs > 0 ? n / runs : 0;
    int K = p.bins;

    SEXP result = PROTECT(Rf_allocVector(VECSXP, 4));
    SEXP names = PROTECT(Rf_allocVector(STRSXP, 4));
    const char *labels[4] = {"input", "widths", "heights", "slopes"};
    for (int a = 0; a < 4; a++)
        SET_STRING_ELT(names, a, Rf_mkChar(labels[a]));
    Rf_setAttrib(result, R_NamesSymbol, names);
    SEXP grad_input = Rf_allocVector(REALSXP, n);
    SET_VECTOR_ELT(result, 0, grad_input);
    copy_array_shape(grad_input, x);
    SEXP grads[3] = {widths, heights, slopes};
    for (int a = 0; a < 3; a++) {
        SEXP g = Rf_allocVector(REALSXP, XLENGTH(grads[a]));
        SET_VECTOR_ELT(result, a + 1, g);
        for (R_xlen_t i = 0; i < XLENGTH(g); i++)
            REAL(g)[i] = 0;
    }
    double *g_in = REAL(grad_input);
    double *g_w = REAL(VECTOR_ELT(result, 1));
    double *g_h = REAL(VECTOR_ELT(result, 2));
    double *g_s = REAL(VECTOR_ELT(result, 3));
    const double *in = REAL_RO(x);
    const double *g_out = REAL_RO(grad_output);
    const double *g_ld = REAL_RO(grad_log_det);

    spline_knots knots = alloc_knots(K);
    bin_gradients acc;
    double *scratch = (double *) R_alloc(5 * ((size_t) K + 1), sizeof(double));
    acc.knot_x = scratch;
    acc.width = scratch + (K + 1);
    acc.knot_y = scratch + 2 * (K + 1);
    acc.height = scratch + 3 * (K + 1);
    acc.slope = scratch + 4 * (K + 1);

    for (R_xlen_t r = 0; r < runs; r++) {
        build_knots(&p, r, &knots);
        for (R_xlen_t j = 0; j < 5 * ((R_xlen_t) K + 1); j++)
            scratch[j] = 0;
        R_xlen_t start = r * run_length;
        for (R_xlen_t i = start; i < start + run_length; i++) {
            double gl = g_ld[gl_length == 1 ? 0 : i % size];
            int k = ISNAN(in[i]) ? -1 : find_bin(knots.kx, K, in[i]);
            if (k < 0) {
                /* identity: dy/dx = 1, log-det 0, no parameter gradient */
                g_in[i] = g_out[i];
                continue;
            }
            bin_state b;
            bin_at(&knots, k, in[i], &b);
            double xi = b.xi, om = 1 - xi, u = b.u, s = b.s, h = b.h,
                w = b.w, D = b.D, M = b.M, D2 = b.D * b.D;
            double dydx = s * s * M / D2;
            double M_xi = 2 * b.d1 * xi + 2 * s * (1 - 2 * xi) -
                2 * b.d0 * om;
            double L_xi = M_xi / M - 2 * b.beta * (1 - 2 * xi) / D;
            double L_x = L_xi / w;
            /* the loss's weights on y and on L at this element */
            double cy, cl;
            if (!inverse) {
                cy = g_out[i];
                cl = gl;
                g_in[i] = cy * dydx + cl * L_x;
            } else {
                cy = (-g_out[i] + gl * L_x) / dydx;
                cl = -gl;
                g_in[i] = -cy;
            }
            double y_rel = h * (s * xi * xi + b.d0 * u) / D; /* y - y_k */
            double y_s = h * u * (b.d1 * xi * xi - b.d0 * om * om) / D2;
            double L_s = 2 / s + 2 * u / M - 2 * (1 - 2 * u) / D;
            double y_d0 = h * xi * om * om * (s * om + b.d1 * xi) / D2;
            double L_d0 = om * om / M - 2 * u / D;
            double y_d1 = -h * xi * xi * om * (s * xi + b.d0 * om) / D2;
            double L_d1 = xi * xi / M - 2 * u / D;
            acc.knot_x[k] += cy * (-dydx) + cl * (-L_x);
            acc.width[k] += cy * (-xi * dydx - (s / w) * y_s) +
                cl * (-(xi / w) * L_xi - (s / w) * L_s);
            acc.knot_y[k] += cy;
            acc.height[k] += cy * (y_rel / h + y_s / w) + cl * (L_s / w);
            acc.slope[k] += cy * y_d0 + cl * L_d0;
            acc.slope[k + 1] += cy * y_d1 + cl * L_d1;
        }
        /* knot k is range_min plus the widths (heights) of bins before k */
        R_xlen_t rw = p.rows_w > 1 ? r : 0;
        R_xlen_t rh = p.rows_h > 1 ? r : 0;
        R_xlen_t rs = p.rows_s > 1 ? r : 0;
        double later_x = 0, later_y = 0;
        for (int j = K - 1; j >= 0; j--) {
            g_w[rw + j * (R_xlen_t) p.rows_w] += acc.width[j] + later_x;
            g_h[rh + j * (R_xlen_t) p.rows_h] += acc.height[j] + later_y;
            later_x += acc.knot_x[j];
            later_y += acc.knot_y[j];
        }
        for (int j = 1; j < K; j++)
            g_s[rs + (j - 1) * (R_xlen_t) p.rows_s] += acc.slope[j];
        if ((r & 0xFF) == 0xFF)
            R_CheckUserInterrupt();
    }
    UNPROTECT(2);
    return result;
}
