/* The elementwise bijectors' table and its two entry points (DESIGN section
   8). Each kind lives in its own file (src/exp.c, src/sigmoid.c, ...) and
   contributes a descriptor built by ELEMENTWISE_KIND() in elementwise.h.

   Parameters broadcast along the last axis of the input: each is a number or
   one value per index of the last axis. In column-major order the elements
   that share parameter values form contiguous runs, one per index of the
   last axis (or one run of the whole array when every parameter is a
   number); the table is consulted and the parameters prepared once per run.

   A log-det with event_ndims = k sums over the last k axes into an array of
   dims[1:(rank - k)]: element i of the input adds to element i mod M of the
   output, M = prod(dims[1:(rank - k)]). A run starts at a multiple of M when
   k >= 1, so it splits into blocks of M elements that add into the whole
   output in order. */

#include <string.h>
#include "elementwise.h"

extern const elementwise_kind elementwise_kind_exp;
/* group A */
extern const elementwise_kind elementwise_kind_absolute_value;
extern const elementwise_kind elementwise_kind_expm1;
extern const elementwise_kind elementwise_kind_normal_cdf;
extern const elementwise_kind elementwise_kind_reciprocal;
extern const elementwise_kind elementwise_kind_sinh;
extern const elementwise_kind elementwise_kind_softsign;
extern const elementwise_kind elementwise_kind_square;
extern const elementwise_kind elementwise_kind_tanh;
extern const elementwise_kind elementwise_kind_sigmoid;
/* group B */
extern const elementwise_kind elementwise_kind_sigmoid_bounded;
extern const elementwise_kind elementwise_kind_gumbel_cdf;
extern const elementwise_kind elementwise_kind_weibull_cdf;
extern const elementwise_kind elementwise_kind_rayleigh_cdf;
extern const elementwise_kind elementwise_kind_gompertz_cdf;
extern const elementwise_kind elementwise_kind_shifted_gompertz_cdf;
extern const elementwise_kind elementwise_kind_kumaraswamy_cdf;
/* group C */
extern const elementwise_kind elementwise_kind_sinh_arcsinh;
extern const elementwise_kind elementwise_kind_softplus_hinge;
extern const elementwise_kind elementwise_kind_power_transform;
extern const elementwise_kind elementwise_kind_lambert_w_tail;
extern const elementwise_kind elementwise_kind_affine_scalar;
extern const elementwise_kind elementwise_kind_shift;
extern const elementwise_kind elementwise_kind_scale;
extern const elementwise_kind elementwise_kind_log_scale;

static const elementwise_kind *const kinds[] = {
    &elementwise_kind_exp,
    /* group A */
    &elementwise_kind_absolute_value,
    &elementwise_kind_expm1,
    &elementwise_kind_normal_cdf,
    &elementwise_kind_reciprocal,
    &elementwise_kind_sinh,
    &elementwise_kind_softsign,
    &elementwise_kind_square,
    &elementwise_kind_tanh,
    &elementwise_kind_sigmoid,
    /* group B */
    &elementwise_kind_sigmoid_bounded,
    &elementwise_kind_gumbel_cdf,
    &elementwise_kind_weibull_cdf,
    &elementwise_kind_rayleigh_cdf,
    &elementwise_kind_gompertz_cdf,
    &elementwise_kind_shifted_gompertz_cdf,
    &elementwise_kind_kumaraswamy_cdf,
    /* group C */
    &elementwise_kind_sinh_arcsinh,
    &elementwise_kind_softplus_hinge,
    &elementwise_kind_power_transform,
    &elementwise_kind_lambert_w_tail,
    &elementwise_kind_affine_scalar,
    &elementwise_kind_shift,
    &elementwise_kind_scale,
    &elementwise_kind_log_scale
};

static const elementwise_kind *find_kind(SEXP kind)
{
    if (TYPEOF(kind) != STRSXP || XLENGTH(kind) != 1 ||
        STRING_ELT(kind, 0) == NA_STRING)
        Rf_error("internal error: the elementwise kernel must be a string");
    const char *name = CHAR(STRING_ELT(kind, 0));
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
        if (strcmp(kinds[k]->name, name) == 0)
            return kinds[k];
    Rf_error("internal error: no elementwise kernel \"%s\"", name);
    return NULL; /* not reached */
}

static int small_int(SEXP x, int lower, int upper, const char *what)
{
    if (TYPEOF(x) != INTSXP || XLENGTH(x) != 1 ||
        INTEGER(x)[0] == NA_INTEGER || INTEGER(x)[0] < lower ||
        INTEGER(x)[0] > upper)
        Rf_error("internal error: `%s` must be an integer in [%d, %d]",
                 what, lower, upper);
    return INTEGER(x)[0];
}

/* The input's shape: its dim attribute, or its length for a vector. */
typedef struct {
    int rank;
    R_xlen_t *dims;
    R_xlen_t n;
} layout;

static layout input_layout(SEXP x, const char *what)
{
    if (TYPEOF(x) != REALSXP)
        Rf_error("`%s` must be a double vector or array, not of type %s",
                 what, Rf_type2char(TYPEOF(x)));
    layout shape;
    shape.n = XLENGTH(x);
    SEXP dim = Rf_getAttrib(x, R_DimSymbol);
    if (dim == R_NilValue) {
        shape.rank = 1;
        shape.dims = (R_xlen_t *) R_alloc(1, sizeof(R_xlen_t));
        shape.dims[0] = shape.n;
        return shape;
    }
    if (TYPEOF(dim) != INTSXP || XLENGTH(dim) < 1)
        Rf_error("`%s` has an invalid dim attribute", what);
    shape.rank = (int) XLENGTH(dim);
    shape.dims = (R_xlen_t *) R_alloc((size_t) shape.rank, sizeof(R_xlen_t));
    double product = 1;
    for (int a = 0; a < shape.rank; a++) {
        if (INTEGER(dim)[a] == NA_INTEGER || INTEGER(dim)[a] < 0)
            Rf_error("`%s` has an invalid dim attribute", what);
        shape.dims[a] = INTEGER(dim)[a];
        product *= (double) shape.dims[a];
    }
    if (product != (double) shape.n)
        Rf_error("`%s` has dims that do not match its length", what);
    return shape;
}

/* The parameters: a list of n_parameters double vectors, each of length 1
   or of the input's last dimension. Returns the number of runs (that last
   dimension when some parameter is a vector, else 1): more than one run
   means that some parameter is a vector. */
static R_xlen_t check_parameters(const elementwise_kind *kind,
                                 SEXP parameters, layout shape)
{
    if (TYPEOF(parameters) != VECSXP ||
        XLENGTH(parameters) != kind->n_parameters)
        Rf_error("internal error: kernel \"%s\" takes a list of %d "
                 "parameters", kind->name, kind->n_parameters);
    R_xlen_t last = shape.dims[shape.rank - 1];
    R_xlen_t runs = 1;
    for (int k = 0; k < kind->n_parameters; k++) {
        SEXP value = VECTOR_ELT(parameters, k);
        if (TYPEOF(value) != REALSXP)
            Rf_error("internal error: parameter %d must be a double vector",
                     k + 1);
        R_xlen_t length = XLENGTH(value);
        if (length == 1)
            continue;
        if (length < 1 || length != last)
            Rf_error("a parameter has %lld values, but the input has %lld "
                     "along its last axis", (long long) length,
                     (long long) last);
        runs = last;
    }
    return runs;
}

/* The working constants of run `run`: each parameter's value there. */
static void run_constants(const elementwise_kind *kind, SEXP parameters,
                          R_xlen_t run, double *p)
{
    double theta[ELEMENTWISE_MAX_PARAMETERS];
    for (int k = 0; k < kind->n_parameters; k++) {
        SEXP value = VECTOR_ELT(parameters, k);
        theta[k] = REAL_RO(value)[XLENGTH(value) == 1 ? 0 : run];
    }
    kind->prepare(theta, p);
}

/* prod(dims[from:to]) (0-based, inclusive), 1 when empty. */
static R_xlen_t dims_product(layout shape, int from, int to)
{
    R_xlen_t product = 1;
    for (int a = from; a <= to; a++)
        product *= shape.dims[a];
    return product;
}

/* An output of dims[1:(rank - k)]: a vector when that is one axis, a number
   when it is none. */
static SEXP alloc_reduced(layout shape, int kept)
{
    R_xlen_t length = dims_product(shape, 0, kept - 1);
    SEXP out = PROTECT(Rf_allocVector(REALSXP, length));
    if (kept >= 2) {
        SEXP dim = PROTECT(Rf_allocVector(INTSXP, kept));
        for (int a = 0; a < kept; a++)
            INTEGER(dim)[a] = (int) shape.dims[a];
        Rf_setAttrib(out, R_DimSymbol, dim);
        UNPROTECT(1);
    }
    UNPROTECT(1);
    return out;
}

static void varying_log_det(const elementwise_kind *kind, int direction,
                            SEXP parameters, const double *in, layout shape,
                            R_xlen_t runs, int event_ndims, double *out,
                            R_xlen_t out_length)
{
    R_xlen_t run_length = runs > 0 ? shape.n / runs : 0;
    double p[ELEMENTWISE_MAX_CONSTANTS];
    if (event_ndims > 0)
        memset(out, 0, (size_t) out_length * sizeof(double));
    for (R_xlen_t r = 0; r < runs && run_length > 0; r++) {
        run_constants(kind, parameters, r, p);
        const double *run_in = in + r * run_length;
        if (event_ndims == 0) {
            kind->log_det_write[direction](run_in, out + r * run_length,
                                           run_length, p);
        } else if (out_length == 1) {
            out[0] += kind->log_det_sum[direction](run_in, run_length, p);
        } else {
            for (R_xlen_t b = 0; b < run_length; b += out_length)
                kind->log_det_add[direction](run_in + b, out, out_length, p);
        }
    }
}

/* TFP's constant log-det: log|f'| of the parameters, not broadcast over the
   batch: a number when every parameter is one, summed over the event (once
   per element of its last k axes); one value per run when some parameter
   is a vector, summed over the event when k >= 1, else an array of the
   input's shape. */
static SEXP constant_log_det(const elementwise_kind *kind, int direction,
                             SEXP parameters, layout shape, R_xlen_t runs,
                             int event_ndims, int vector_parameters)
{
    double p[ELEMENTWISE_MAX_CONSTANTS], zero = 0, value;
    if (kind->log_det == ELEMENTWISE_LOG_DET_ZERO)
        return Rf_ScalarReal(0);
    if (!vector_parameters) {
        run_constants(kind, parameters, 0, p);
        kind->log_det_write[direction](&zero, &value, 1, p);
        R_xlen_t count = dims_product(shape, shape.rank - event_ndims,
                                      shape.rank - 1);
        return Rf_ScalarReal(value * (double) count);
    }
    if (event_ndims >= 1) {
        double total = 0;
        for (R_xlen_t r = 0; r < runs; r++) {
            run_constants(kind, parameters, r, p);
            kind->log_det_write[direction](&zero, &value, 1, p);
            total += value;
        }
        R_xlen_t count = dims_product(shape, shape.rank - event_ndims,
                                      shape.rank - 2);
        return Rf_ScalarReal(total * (double) count);
    }
    SEXP out = PROTECT(alloc_reduced(shape, shape.rank));
    double *o = REAL(out);
    R_xlen_t run_length = shape.n / runs;
    for (R_xlen_t r = 0; r < runs; r++) {
        run_constants(kind, parameters, r, p);
        kind->log_det_write[direction](&zero, &value, 1, p);
        for (R_xlen_t i = 0; i < run_length; i++)
            o[r * run_length + i] = value;
    }
    UNPROTECT(1);
    return out;
}

/* C_elementwise_map(kind, operation, input, parameters, event_ndims):
   operation 0 forward, 1 inverse (results shaped and named like `input`),
   2 forward log-det, 3 inverse log-det (reduced over the last event_ndims
   axes; event_ndims is ignored by the maps). Operations 4 to 7 are 0 to 3
   by the kind's scalar functions, element by element and not reduced, for
   the tests that a kind's blockwise loops agree with them. */
SEXP C_elementwise_map(SEXP kind, SEXP operation, SEXP input,
                       SEXP parameters, SEXP event_ndims)
{
    const elementwise_kind *k = find_kind(kind);
    int op = small_int(operation, 0, 7, "operation");
    layout shape = input_layout(input, "input");
    int ndims = small_int(event_ndims, 0, shape.rank, "event_ndims");
    R_xlen_t runs = check_parameters(k, parameters, shape);
    int vector_parameters = runs > 1;
    const double *in = REAL_RO(input);
    int nprot = 0;
    SEXP out;
    if (op <= 1 || op >= 4) {
        out = PROTECT(Rf_allocVector(REALSXP, shape.n));
        nprot++;
        SHALLOW_DUPLICATE_ATTRIB(out, input);
        double *o = REAL(out);
        double p[ELEMENTWISE_MAX_CONSTANTS];
        R_xlen_t run_length = runs > 0 ? shape.n / runs : 0;
        elementwise_run_fn run = op <= 1 ? k->map[op] : k->scalar[op - 4];
        for (R_xlen_t r = 0; r < runs && run_length > 0; r++) {
            run_constants(k, parameters, r, p);
            run(in + r * run_length, o + r * run_length, run_length, p);
        }
    } else if (k->log_det != ELEMENTWISE_LOG_DET_VARYING) {
        out = PROTECT(constant_log_det(k, op - 2, parameters, shape, runs,
                                       ndims, vector_parameters));
        nprot++;
    } else {
        out = PROTECT(alloc_reduced(shape, shape.rank - ndims));
        nprot++;
        varying_log_det(k, op - 2, parameters, in, shape, runs, ndims,
                        REAL(out), XLENGTH(out));
    }
    UNPROTECT(nprot);
    return out;
}

/* The gradient of a constant log-det with respect to the parameters of run
   r: the log-det's upstream gradient times the number of times the run's
   log|f'| was counted, passed through the kind's backward pass at x = 0
   (where dlog|f'|/dx = 0, so only the parameter term remains). */
static double constant_log_det_weight(layout shape, R_xlen_t runs,
                                      R_xlen_t r, int event_ndims,
                                      int vector_parameters,
                                      const double *g_ld, R_xlen_t ld_length)
{
    if (vector_parameters && event_ndims == 0) {
        R_xlen_t run_length = shape.n / runs;
        if (ld_length == 1)
            return g_ld[0] * (double) run_length;
        double sum = 0;
        for (R_xlen_t i = 0; i < run_length; i++)
            sum += g_ld[r * run_length + i];
        return sum;
    }
    /* A number broadcast into the total log-det: every element of the
       total's gradient counts. */
    double sum = 0;
    for (R_xlen_t i = 0; i < ld_length; i++)
        sum += g_ld[i];
    R_xlen_t count = vector_parameters ?
        dims_product(shape, shape.rank - event_ndims, shape.rank - 2) :
        dims_product(shape, shape.rank - event_ndims, shape.rank - 1);
    return sum * (double) count;
}

/* C_elementwise_backward(kind, direction, x, parameters, event_ndims,
   grad_output, grad_log_det): the backward pass of the forward
   (direction 0, x the input) or inverse (direction 1, x the output) map and
   its log-det at event_ndims. grad_output is shaped like x; grad_log_det has
   one value, or one per element of the log-det. Returns list(input = the
   gradient with respect to the pass's input, parameters = one gradient per
   parameter, each of that parameter's length). */
SEXP C_elementwise_backward(SEXP kind, SEXP direction, SEXP x,
                            SEXP parameters, SEXP event_ndims,
                            SEXP grad_output, SEXP grad_log_det)
{
    const elementwise_kind *k = find_kind(kind);
    int dir = small_int(direction, 0, 1, "direction");
    layout shape = input_layout(x, "x");
    int ndims = small_int(event_ndims, 0, shape.rank, "event_ndims");
    R_xlen_t runs = check_parameters(k, parameters, shape);
    int vector_parameters = runs > 1;
    if (TYPEOF(grad_output) != REALSXP || XLENGTH(grad_output) != shape.n)
        Rf_error("internal error: `grad_output` must be a double vector of "
                 "the input's length");
    if (TYPEOF(grad_log_det) != REALSXP || XLENGTH(grad_log_det) < 1)
        Rf_error("internal error: `grad_log_det` must be a double vector");
    R_xlen_t ld_length = XLENGTH(grad_log_det);
    R_xlen_t reduced = dims_product(shape, 0, shape.rank - ndims - 1);
    int varying = k->log_det == ELEMENTWISE_LOG_DET_VARYING;
    if (varying && ld_length != 1 && ld_length != reduced)
        Rf_error("internal error: `grad_log_det` has %lld values, not 1 or "
                 "%lld", (long long) ld_length, (long long) reduced);
    if (k->log_det == ELEMENTWISE_LOG_DET_CONSTANT && vector_parameters &&
        ndims == 0 && ld_length != 1 &&
        ld_length != shape.n)
        Rf_error("internal error: `grad_log_det` has %lld values, not 1 or "
                 "%lld", (long long) ld_length, (long long) shape.n);

    int nprot = 0;
    SEXP result = PROTECT(Rf_allocVector(VECSXP, 2));
    nprot++;
    SEXP names = PROTECT(Rf_allocVector(STRSXP, 2));
    nprot++;
    SET_STRING_ELT(names, 0, Rf_mkChar("input"));
    SET_STRING_ELT(names, 1, Rf_mkChar("parameters"));
    Rf_setAttrib(result, R_NamesSymbol, names);
    SEXP grad_input = Rf_allocVector(REALSXP, shape.n);
    SET_VECTOR_ELT(result, 0, grad_input);
    SHALLOW_DUPLICATE_ATTRIB(grad_input, grad_output);
    SEXP grad_parameters = Rf_allocVector(VECSXP, k->n_parameters);
    SET_VECTOR_ELT(result, 1, grad_parameters);
    double *grads[ELEMENTWISE_MAX_PARAMETERS];
    for (int j = 0; j < k->n_parameters; j++) {
        R_xlen_t length = XLENGTH(VECTOR_ELT(parameters, j));
        SEXP g = Rf_allocVector(REALSXP, length);
        SET_VECTOR_ELT(grad_parameters, j, g);
        grads[j] = REAL(g);
        memset(grads[j], 0, (size_t) length * sizeof(double));
    }

    const double *xs = REAL_RO(x), *g_out = REAL_RO(grad_output);
    const double *g_ld = REAL_RO(grad_log_det);
    double *g_in = REAL(grad_input);
    double p[ELEMENTWISE_MAX_CONSTANTS], acc[ELEMENTWISE_MAX_PARAMETERS];
    double zero = 0, scratch = 0;
    R_xlen_t run_length = runs > 0 ? shape.n / runs : 0;
    for (R_xlen_t r = 0; r < runs; r++) {
        run_constants(k, parameters, r, p);
        for (int j = 0; j < k->n_parameters; j++)
            acc[j] = 0;
        R_xlen_t start = r * run_length;
        if (run_length > 0) {
            if (!varying) {
                k->backward[dir](xs + start, g_out + start, &zero, 0,
                                 run_length, p, g_in + start, acc);
            } else if (ld_length == 1) {
                k->backward[dir](xs + start, g_out + start, g_ld, 0,
                                 run_length, p, g_in + start, acc);
            } else if (ndims == 0) {
                k->backward[dir](xs + start, g_out + start, g_ld + start, 1,
                                 run_length, p, g_in + start, acc);
            } else {
                for (R_xlen_t b = 0; b < run_length; b += reduced)
                    k->backward[dir](xs + start + b, g_out + start + b, g_ld,
                                     1, reduced, p, g_in + start + b, acc);
            }
        }
        if (k->log_det == ELEMENTWISE_LOG_DET_CONSTANT) {
            double weight = constant_log_det_weight(
                shape, runs, r, ndims, vector_parameters, g_ld, ld_length);
            k->backward[dir](&zero, &zero, &weight, 0, 1, p, &scratch, acc);
        }
        for (int j = 0; j < k->n_parameters; j++)
            grads[j][XLENGTH(VECTOR_ELT(parameters, j)) == 1 ? 0 : r] +=
                acc[j];
    }
    UNPROTECT(nprot);
    return result;
}
