/* Trainable parameters: R vectors owned by the package, held as elements of
   lists bound in an owner environment (a bijector, a layer, a template).
   C reaches them through (owner, field, index), never through a list R
   handed over, and before writing makes sure that neither the list nor the
   element is shared with anything else (a user's variable, a cloned
   environment): a shared one is replaced by a private copy first. Adam's
   moments and step counts live beside each parameter, in the fields
   `adam_m_<field>`, `adam_v_<field>` (lists like the parameter's) and
   `adam_steps_<field>` (one count per element of the parameter's list), so
   that any object holding the parameters continues the same optimizer. */

#include <math.h>
#include <stdio.h>
#include <string.h>
#include "bijectors.h"
#if defined(__SSE2__)
#include <emmintrin.h>
#define ADAM_SSE2 1
#endif

/* Parameter constraints, as codes from R (training.R). */
enum {
    CONSTRAINT_NONE = 0,
    CONSTRAINT_NONZERO = 1,
    CONSTRAINT_LOG_POSITIVE = 2,
    CONSTRAINT_POSITIVE = 3,
    CONSTRAINT_NONNEGATIVE = 4
};

static SEXP field_symbol(const char *prefix, SEXP fields, R_xlen_t s)
{
    const char *field = CHAR(STRING_ELT(fields, s));
    char name[256];
    int written = snprintf(name, sizeof name, "%s%s", prefix, field);
    if (written < 0 || (size_t) written >= sizeof name)
        Rf_error("internal error: parameter field name too long");
    return Rf_install(name);
}

/* The list bound to `symbol` in `owner`, or R_NilValue when unbound. */
static SEXP binding(SEXP owner, SEXP symbol)
{
    SEXP value = Rf_findVarInFrame(owner, symbol);
    return value == R_UnboundValue ? R_NilValue : value;
}

static void check_slot_lists(SEXP owners, SEXP fields, SEXP indices,
                             SEXP values)
{
    R_xlen_t n = XLENGTH(owners);
    if (TYPEOF(owners) != VECSXP || TYPEOF(fields) != STRSXP ||
        TYPEOF(indices) != INTSXP || TYPEOF(values) != VECSXP ||
        XLENGTH(fields) != n || XLENGTH(indices) != n || XLENGTH(values) != n)
        Rf_error("internal error: `owners`, `fields`, `indices` and the "
                 "values must be vectors of one length");
    for (R_xlen_t s = 0; s < n; s++) {
        if (TYPEOF(VECTOR_ELT(owners, s)) != ENVSXP)
            Rf_error("internal error: parameter owner %lld is not an "
                     "environment", (long long) s + 1);
        if (STRING_ELT(fields, s) == NA_STRING)
            Rf_error("internal error: parameter field %lld is NA",
                     (long long) s + 1);
        if (TYPEOF(VECTOR_ELT(values, s)) != REALSXP)
            Rf_error("value %lld must be a double vector", (long long) s + 1);
    }
}

/* The parameter of slot s, checked: element `index` of the list bound to
   `field` in the owner, a double vector of `length` values. */
static SEXP slot_parameter_at(SEXP owners, SEXP symbol, SEXP indices,
                              R_xlen_t s, R_xlen_t length)
{
    SEXP container = binding(VECTOR_ELT(owners, s), symbol);
    if (TYPEOF(container) != VECSXP)
        Rf_error("internal error: parameter container %lld is not a list",
                 (long long) s + 1);
    int index = INTEGER(indices)[s];
    if (index < 1 || index > XLENGTH(container))
        Rf_error("internal error: parameter index %d out of range", index);
    SEXP element = VECTOR_ELT(container, index - 1);
    if (TYPEOF(element) != REALSXP || XLENGTH(element) != length)
        Rf_error("parameter %lld must be a double vector of length %lld",
                 (long long) s + 1, (long long) length);
    return element;
}

static SEXP slot_parameter(SEXP owners, SEXP fields, SEXP indices,
                           R_xlen_t s, R_xlen_t length)
{
    return slot_parameter_at(owners, field_symbol("", fields, s), indices, s,
                             length);
}

/* The double vector at `index` (1-based) of the list bound to `symbol`,
   made private: the list and the element are copied first when shared.
   With `create`, a missing list (or one of the wrong length) is made with
   `list_length` elements and a missing element as `length` zeros. */
static SEXP owned_element(SEXP owner, SEXP symbol, int index,
                          R_xlen_t list_length, R_xlen_t length, int create)
{
    SEXP container = binding(owner, symbol);
    if (create && (TYPEOF(container) != VECSXP ||
                   XLENGTH(container) != list_length)) {
        container = PROTECT(Rf_allocVector(VECSXP, list_length));
        Rf_defineVar(symbol, container, owner);
        UNPROTECT(1);
    }
    container = owned_list_binding(owner, symbol);
    SEXP element = VECTOR_ELT(container, index - 1);
    if (create && (TYPEOF(element) != REALSXP || XLENGTH(element) != length)) {
        element = PROTECT(Rf_allocVector(REALSXP, length));
        if (length > 0)
            memset(REAL(element), 0, (size_t) length * sizeof(double));
        SET_VECTOR_ELT(container, index - 1, element);
        UNPROTECT(1);
        return element;
    }
    return owned_double_element(container, index - 1);
}

/* The step counts of the list bound to `field`: a private double vector
   with one count per element of that list. */
static SEXP owned_step_counts(SEXP owner, SEXP symbol, R_xlen_t list_length)
{
    SEXP counts = binding(owner, symbol);
    if (TYPEOF(counts) != REALSXP || XLENGTH(counts) != list_length ||
        ALTREP(counts)) {
        counts = PROTECT(Rf_allocVector(REALSXP, list_length));
        for (R_xlen_t i = 0; i < list_length; i++)
            REAL(counts)[i] = 0;
        Rf_defineVar(symbol, counts, owner);
        UNPROTECT(1);
    } else if (MAYBE_SHARED(counts)) {
        counts = PROTECT(copy_double_with_attributes(counts));
        Rf_defineVar(symbol, counts, owner);
        UNPROTECT(1);
    }
    return counts;
}

/* C_parameters_assign(owners, fields, indices, values): copies each value
   into the parameter its slot names. Every slot is checked first. */
SEXP C_parameters_assign(SEXP owners, SEXP fields, SEXP indices, SEXP values)
{
    check_slot_lists(owners, fields, indices, values);
    R_xlen_t slots = XLENGTH(values);
    for (R_xlen_t s = 0; s < slots; s++)
        slot_parameter(owners, fields, indices, s,
                       XLENGTH(VECTOR_ELT(values, s)));
    for (R_xlen_t s = 0; s < slots; s++) {
        SEXP value = VECTOR_ELT(values, s);
        R_xlen_t n = XLENGTH(value);
        SEXP target = owned_element(VECTOR_ELT(owners, s),
                                    field_symbol("", fields, s),
                                    INTEGER(indices)[s], 0, n, 0);
        if (n > 0)
            memcpy(REAL(target), REAL_RO(value), (size_t) n * sizeof(double));
    }
    return R_NilValue;
}

static inline int satisfies(int constraint, double value)
{
    switch (constraint) {
    case CONSTRAINT_NONZERO:
        return isfinite(value) && value != 0;
    case CONSTRAINT_LOG_POSITIVE: {
        double e = exp(value);
        return isfinite(value) && isfinite(e) && e != 0;
    }
    case CONSTRAINT_POSITIVE:
        return isfinite(value) && value > 0;
    case CONSTRAINT_NONNEGATIVE:
        return isfinite(value) && value >= 0;
    default:
        return isfinite(value);
    }
}

/* C_adam_step(owners, fields, indices, gradients, constraints, settings):
   one Adam step (Kingma and Ba, 2015) on every parameter, each with its own
   step count, settings = c(learning_rate, beta_1, beta_2, epsilon). The new
   values are computed before anything is written; if one leaves its
   parameter's domain (`constraints`, codes as above) nothing is written and
   the 1-based number of that slot is returned, otherwise NULL. With
   `preview` TRUE nothing is ever written: the new parameters come back as a
   list of fresh vectors (what the step would write, bit for bit). */
SEXP C_adam_step(SEXP owners, SEXP fields, SEXP indices, SEXP gradients,
                 SEXP constraints, SEXP settings, SEXP preview)
{
    check_slot_lists(owners, fields, indices, gradients);
    R_xlen_t slots = XLENGTH(owners);
    if (TYPEOF(constraints) != INTSXP || XLENGTH(constraints) != slots)
        Rf_error("internal error: `constraints` must be one integer a slot");
    if (TYPEOF(settings) != REALSXP || XLENGTH(settings) != 4)
        Rf_error("internal error: `settings` must be 4 doubles");
    const double *set = REAL_RO(settings);
    double rate = set[0], beta_1 = set[1], beta_2 = set[2], eps = set[3];
    if (!(rate > 0) || !(beta_1 >= 0 && beta_1 < 1) ||
        !(beta_2 >= 0 && beta_2 < 1) || !(eps >= 0))
        Rf_error("internal error: invalid Adam settings");
    if (TYPEOF(preview) != LGLSXP || XLENGTH(preview) != 1 ||
        LOGICAL(preview)[0] == NA_LOGICAL)
        Rf_error("internal error: `preview` must be TRUE or FALSE");

    /* Each slot's four bindings (parameter, moments, step counts), named
       once per call (symbols are never collected). */
    SEXP *symbols = (SEXP *) R_alloc((size_t) (slots > 0 ? 4 * slots : 1),
                                     sizeof(SEXP));
    for (R_xlen_t s = 0; s < slots; s++) {
        symbols[4 * s] = field_symbol("", fields, s);
        symbols[4 * s + 1] = field_symbol("adam_m_", fields, s);
        symbols[4 * s + 2] = field_symbol("adam_v_", fields, s);
        symbols[4 * s + 3] = field_symbol("adam_steps_", fields, s);
    }

    /* Checks first: an error changes nothing. */
    R_xlen_t total = 0;
    for (R_xlen_t s = 0; s < slots; s++) {
        SEXP gradient = VECTOR_ELT(gradients, s);
        R_xlen_t n = XLENGTH(gradient);
        const double *g = REAL_RO(gradient);
        /* isfinite(), inline, is R_FINITE() without a call per value */
        for (R_xlen_t i = 0; i < n; i++)
            if (!isfinite(g[i]))
                Rf_error("gradient %lld holds NA, NaN or Inf; no parameter "
                         "was changed", (long long) s + 1);
        slot_parameter_at(owners, symbols[4 * s], indices, s, n);
        total += 3 * n;
    }

    /* The new parameters and moments, into scratch memory. */
    double *scratch = (double *) R_alloc((size_t) (total > 0 ? total : 1),
                                         sizeof(double));
    double *steps = (double *) R_alloc((size_t) (slots > 0 ? slots : 1),
                                       sizeof(double));
    double *next = scratch;
    for (R_xlen_t s = 0; s < slots; s++) {
        SEXP owner = VECTOR_ELT(owners, s);
        SEXP gradient = VECTOR_ELT(gradients, s);
        R_xlen_t n = XLENGTH(gradient);
        int index = INTEGER(indices)[s];
        R_xlen_t list_length = XLENGTH(binding(owner, symbols[4 * s]));
        SEXP m_list = binding(owner, symbols[4 * s + 1]);
        SEXP v_list = binding(owner, symbols[4 * s + 2]);
        SEXP counts = binding(owner, symbols[4 * s + 3]);
        SEXP m_old = TYPEOF(m_list) == VECSXP && XLENGTH(m_list) == list_length
            ? VECTOR_ELT(m_list, index - 1) : R_NilValue;
        SEXP v_old = TYPEOF(v_list) == VECSXP && XLENGTH(v_list) == list_length
            ? VECTOR_ELT(v_list, index - 1) : R_NilValue;
        double step = 1;
        if (TYPEOF(counts) == REALSXP && XLENGTH(counts) == list_length &&
            R_FINITE(REAL_RO(counts)[index - 1]))
            step = REAL_RO(counts)[index - 1] + 1;
        /* A moment missing or of the wrong length starts at zero, as it
           does for a parameter that was never trained. */
        int fresh = TYPEOF(m_old) != REALSXP || XLENGTH(m_old) != n ||
            TYPEOF(v_old) != REALSXP || XLENGTH(v_old) != n;
        if (fresh)
            step = 1;
        steps[s] = step;
        const double *m = fresh ? NULL : REAL_RO(m_old);
        const double *v = fresh ? NULL : REAL_RO(v_old);
        const double *p = REAL_RO(slot_parameter_at(owners, symbols[4 * s],
                                                    indices, s, n));
        const double *g = REAL_RO(gradient);
        /* bias corrections folded into the step size, as Kingma and Ba do */
        double rate_t = rate * sqrt(1 - pow(beta_2, step)) /
            (1 - pow(beta_1, step));
        double eps_t = eps * sqrt(1 - pow(beta_2, step));
        int constraint = INTEGER(constraints)[s];
        double *p_new = next, *m_new = next + n, *v_new = next + 2 * n;
        /* the update without a branch, then the domain; with SSE2 two at
           a time (the same IEEE operations in the same order, so the same
           bits, and a square root without the C library's errno check) */
        R_xlen_t i0 = 0;
#ifdef ADAM_SSE2
        if (!fresh) {
            const __m128d b1 = _mm_set1_pd(beta_1), c1 = _mm_set1_pd(1 - beta_1);
            const __m128d b2 = _mm_set1_pd(beta_2), c2 = _mm_set1_pd(1 - beta_2);
            const __m128d r = _mm_set1_pd(rate_t), e = _mm_set1_pd(eps_t);
            for (; i0 + 2 <= n; i0 += 2) {
                __m128d gi = _mm_loadu_pd(g + i0);
                __m128d mi = _mm_add_pd(_mm_mul_pd(b1, _mm_loadu_pd(m + i0)),
                                        _mm_mul_pd(c1, gi));
                __m128d vi = _mm_add_pd(_mm_mul_pd(b2, _mm_loadu_pd(v + i0)),
                                        _mm_mul_pd(_mm_mul_pd(c2, gi), gi));
                __m128d step_i = _mm_div_pd(_mm_mul_pd(r, mi),
                                            _mm_add_pd(_mm_sqrt_pd(vi), e));
                _mm_storeu_pd(m_new + i0, mi);
                _mm_storeu_pd(v_new + i0, vi);
                _mm_storeu_pd(p_new + i0,
                              _mm_sub_pd(_mm_loadu_pd(p + i0), step_i));
            }
        }
#endif
        for (R_xlen_t i = i0; i < n; i++) {
            double m_prev = fresh ? 0 : m[i], v_prev = fresh ? 0 : v[i];
            m_new[i] = beta_1 * m_prev + (1 - beta_1) * g[i];
            v_new[i] = beta_2 * v_prev + (1 - beta_2) * g[i] * g[i];
            p_new[i] = p[i] - rate_t * m_new[i] / (sqrt(v_new[i]) + eps_t);
        }
        for (R_xlen_t i = 0; i < n; i++)
            if (!satisfies(constraint, p_new[i]))
                return Rf_ScalarInteger((int) s + 1);
        next += 3 * n;
    }

    if (LOGICAL(preview)[0]) {
        SEXP values = PROTECT(Rf_allocVector(VECSXP, slots));
        next = scratch;
        for (R_xlen_t s = 0; s < slots; s++) {
            R_xlen_t n = XLENGTH(VECTOR_ELT(gradients, s));
            SEXP value = Rf_allocVector(REALSXP, n);
            SET_VECTOR_ELT(values, s, value);
            if (n > 0)
                memcpy(REAL(value), next, (size_t) n * sizeof(double));
            next += 3 * n;
        }
        UNPROTECT(1);
        return values;
    }

    /* Then private vectors to write into (this may allocate, which changes
       no value), and only then the writes, which cannot fail. */
    double **targets = (double **) R_alloc((size_t) (slots > 0 ? 3 * slots : 1),
                                           sizeof(double *));
    double **count_targets = (double **) R_alloc((size_t) (slots > 0 ? slots : 1),
                                                 sizeof(double *));
    for (R_xlen_t s = 0; s < slots; s++) {
        SEXP owner = VECTOR_ELT(owners, s);
        R_xlen_t n = XLENGTH(VECTOR_ELT(gradients, s));
        int index = INTEGER(indices)[s];
        SEXP field = symbols[4 * s];
        R_xlen_t list_length = XLENGTH(binding(owner, field));
        targets[3 * s] = REAL(owned_element(owner, field, index, list_length,
                                            n, 0));
        targets[3 * s + 1] = REAL(owned_element(
            owner, symbols[4 * s + 1], index, list_length, n, 1));
        targets[3 * s + 2] = REAL(owned_element(
            owner, symbols[4 * s + 2], index, list_length, n, 1));
        count_targets[s] = REAL(owned_step_counts(
            owner, symbols[4 * s + 3], list_length)) + (index - 1);
    }
    next = scratch;
    for (R_xlen_t s = 0; s < slots; s++) {
        R_xlen_t n = XLENGTH(VECTOR_ELT(gradients, s));
        for (int k = 0; k < 3; k++)
            if (n > 0)
                memcpy(targets[3 * s + k], next + k * n,
                       (size_t) n * sizeof(double));
        next += 3 * n;
        *count_targets[s] = steps[s];
    }
    return R_NilValue;
}
