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
#include "adam.h"
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

/* ---- Adam ---------------------------------------------------------------- */

/* One slot's update over n values with the previous moments m, v (the same
   IEEE operations in the same order whatever the path, so the same bits):
   with AVX2 four at a time, with SSE2 two at a time, then one at a time.
   The square root is the instruction (no C library errno check). No fused
   multiply-add may appear (it rounds once where these round twice): the
   baseline x86-64 target has none to contract into, and the AVX2 path is
   compiled for "avx2" alone, without "fma". */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define ADAM_AVX2 1
#include <immintrin.h>
__attribute__((target("avx2")))
static R_xlen_t adam_update_avx2(const double *p, const double *g,
                                 const double *m, const double *v,
                                 double *p_new, double *m_new, double *v_new,
                                 R_xlen_t n, double beta_1, double beta_2,
                                 double rate_t, double eps_t)
{
    const __m256d b1 = _mm256_set1_pd(beta_1), c1 = _mm256_set1_pd(1 - beta_1);
    const __m256d b2 = _mm256_set1_pd(beta_2), c2 = _mm256_set1_pd(1 - beta_2);
    const __m256d r = _mm256_set1_pd(rate_t), e = _mm256_set1_pd(eps_t);
    R_xlen_t i = 0;
    for (; i + 4 <= n; i += 4) {
        __m256d gi = _mm256_loadu_pd(g + i);
        __m256d mi = _mm256_add_pd(_mm256_mul_pd(b1, _mm256_loadu_pd(m + i)),
                                   _mm256_mul_pd(c1, gi));
        __m256d vi = _mm256_add_pd(_mm256_mul_pd(b2, _mm256_loadu_pd(v + i)),
                                   _mm256_mul_pd(_mm256_mul_pd(c2, gi), gi));
        __m256d step = _mm256_div_pd(_mm256_mul_pd(r, mi),
                                     _mm256_add_pd(_mm256_sqrt_pd(vi), e));
        _mm256_storeu_pd(m_new + i, mi);
        _mm256_storeu_pd(v_new + i, vi);
        _mm256_storeu_pd(p_new + i, _mm256_sub_pd(_mm256_loadu_pd(p + i), step));
    }
    return i;
}

/* -1 unknown, 0 no, 1 yes; options(bijectors.adam_avx2 = FALSE) is not
   offered: the bits are the same either way (tested). */
static int adam_avx2_state = -1;

static int adam_use_avx2(void)
{
    if (adam_avx2_state < 0) {
        __builtin_cpu_init();
        adam_avx2_state = __builtin_cpu_supports("avx2") ? 1 : 0;
    }
    return adam_avx2_state;
}

/* C_adam_avx2(enable): NA to ask, TRUE/FALSE to force the AVX2 path on (if
   the processor has it) or off; returns whether it is used. For tests. */
SEXP C_adam_avx2(SEXP enable)
{
    if (TYPEOF(enable) != LGLSXP || XLENGTH(enable) != 1)
        Rf_error("`enable` must be TRUE, FALSE or NA");
    int e = LOGICAL(enable)[0];
    int has = 0;
    __builtin_cpu_init();
    has = __builtin_cpu_supports("avx2");
    if (e != NA_LOGICAL)
        adam_avx2_state = e && has;
    return Rf_ScalarLogical(adam_use_avx2());
}
#else
SEXP C_adam_avx2(SEXP enable)
{
    (void) enable;
    return Rf_ScalarLogical(0);
}
#endif

static void adam_update(const double *p, const double *g, const double *m,
                        const double *v, double *p_new, double *m_new,
                        double *v_new, R_xlen_t n, double beta_1,
                        double beta_2, double rate_t, double eps_t)
{
    R_xlen_t i0 = 0;
    if (m != NULL) {
#ifdef ADAM_AVX2
        if (adam_use_avx2())
            i0 = adam_update_avx2(p, g, m, v, p_new, m_new, v_new, n, beta_1,
                                  beta_2, rate_t, eps_t);
#endif
#ifdef ADAM_SSE2
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
#endif
    }
    for (R_xlen_t i = i0; i < n; i++) {
        double m_prev = m == NULL ? 0 : m[i], v_prev = m == NULL ? 0 : v[i];
        m_new[i] = beta_1 * m_prev + (1 - beta_1) * g[i];
        v_new[i] = beta_2 * v_prev + (1 - beta_2) * g[i] * g[i];
        p_new[i] = p[i] - rate_t * m_new[i] / (sqrt(v_new[i]) + eps_t);
    }
}

/* C_adam_symbols(fields): each slot's four binding names (parameter,
   moments, step counts) as a list of symbols, 4 per slot, so that a caller
   with many steps (fit()'s fused step) names them once. */
SEXP C_adam_symbols(SEXP fields)
{
    if (TYPEOF(fields) != STRSXP)
        Rf_error("internal error: `fields` must be a character vector");
    R_xlen_t slots = XLENGTH(fields);
    SEXP out = PROTECT(Rf_allocVector(VECSXP, 4 * slots));
    for (R_xlen_t s = 0; s < slots; s++) {
        if (STRING_ELT(fields, s) == NA_STRING)
            Rf_error("internal error: parameter field %lld is NA",
                     (long long) s + 1);
        SET_VECTOR_ELT(out, 4 * s, field_symbol("", fields, s));
        SET_VECTOR_ELT(out, 4 * s + 1, field_symbol("adam_m_", fields, s));
        SET_VECTOR_ELT(out, 4 * s + 2, field_symbol("adam_v_", fields, s));
        SET_VECTOR_ELT(out, 4 * s + 3, field_symbol("adam_steps_", fields, s));
    }
    UNPROTECT(1);
    return out;
}

/* The symbols of C_adam_symbols() as a C array (R_alloc'd; the list keeps
   them, and symbols are never collected anyway). */
const SEXP *adam_symbol_array(SEXP symbols)
{
    if (TYPEOF(symbols) != VECSXP)
        Rf_error("internal error: Adam's binding names must be a list");
    R_xlen_t n = XLENGTH(symbols);
    SEXP *out = (SEXP *) R_alloc((size_t) (n > 0 ? n : 1), sizeof(SEXP));
    for (R_xlen_t k = 0; k < n; k++) {
        out[k] = VECTOR_ELT(symbols, k);
        if (TYPEOF(out[k]) != SYMSXP)
            Rf_error("internal error: Adam's binding names must be symbols");
    }
    return out;
}

void adam_problem_check(const adam_problem *a)
{
    R_xlen_t slots = a->slots;
    if (TYPEOF(a->owners) != VECSXP || XLENGTH(a->owners) != slots ||
        TYPEOF(a->indices) != INTSXP || XLENGTH(a->indices) != slots ||
        TYPEOF(a->constraints) != INTSXP ||
        XLENGTH(a->constraints) != slots)
        Rf_error("internal error: Adam's slot lists must have one length");
    for (R_xlen_t s = 0; s < slots; s++)
        if (TYPEOF(VECTOR_ELT(a->owners, s)) != ENVSXP)
            Rf_error("internal error: parameter owner %lld is not an "
                     "environment", (long long) s + 1);
    double rate = a->rate, beta_1 = a->beta_1, beta_2 = a->beta_2;
    if (!(rate > 0) || !(beta_1 >= 0 && beta_1 < 1) ||
        !(beta_2 >= 0 && beta_2 < 1) || !(a->eps >= 0))
        Rf_error("internal error: invalid Adam settings");
}

/* The new parameters, moments and step counts of every slot, into scratch
   memory (R_alloc'd in `out`, or, when `store` is an environment, a double
   vector kept there from call to call), nothing written. Returns 0, or the
   1-based number of the first slot whose new value leaves its domain. An
   error (a non-finite gradient, a parameter of the wrong shape) changes
   nothing. */
int adam_compute(const adam_problem *a, SEXP gradients, SEXP store,
                 adam_result *out)
{
    R_xlen_t slots = a->slots;
    if (TYPEOF(gradients) != VECSXP || XLENGTH(gradients) != slots)
        Rf_error("internal error: one gradient a slot");
    /* Checks first: an error changes nothing. */
    R_xlen_t total = 0;
    for (R_xlen_t s = 0; s < slots; s++) {
        SEXP gradient = VECTOR_ELT(gradients, s);
        if (TYPEOF(gradient) != REALSXP)
            Rf_error("value %lld must be a double vector", (long long) s + 1);
        R_xlen_t n = XLENGTH(gradient);
        const double *g = REAL_RO(gradient);
        /* isfinite(), inline, is R_FINITE() without a call per value */
        for (R_xlen_t i = 0; i < n; i++)
            if (!isfinite(g[i]))
                Rf_error("gradient %lld holds NA, NaN or Inf; no parameter "
                         "was changed", (long long) s + 1);
        slot_parameter_at(a->owners, a->symbols[4 * s], a->indices, s, n);
        total += 3 * n;
    }
    if (TYPEOF(store) == ENVSXP) {
        SEXP symbol = Rf_install("adam_scratch");
        SEXP kept = Rf_findVarInFrame(store, symbol);
        if (TYPEOF(kept) != REALSXP || XLENGTH(kept) < total + 1) {
            kept = PROTECT(Rf_allocVector(REALSXP, total + 1));
            Rf_defineVar(symbol, kept, store);
            UNPROTECT(1);
        }
        out->scratch = REAL(kept);
    } else {
        out->scratch = (double *) R_alloc((size_t) (total > 0 ? total : 1),
                                          sizeof(double));
    }
    out->steps = (double *) R_alloc((size_t) (slots > 0 ? slots : 1),
                                    sizeof(double));
    out->offsets = (R_xlen_t *) R_alloc((size_t) (slots > 0 ? slots : 1),
                                        sizeof(R_xlen_t));
    double *next = out->scratch;
    for (R_xlen_t s = 0; s < slots; s++) {
        SEXP owner = VECTOR_ELT(a->owners, s);
        SEXP gradient = VECTOR_ELT(gradients, s);
        R_xlen_t n = XLENGTH(gradient);
        int index = INTEGER(a->indices)[s];
        const SEXP *symbols = a->symbols + 4 * s;
        R_xlen_t list_length = XLENGTH(binding(owner, symbols[0]));
        SEXP m_list = binding(owner, symbols[1]);
        SEXP v_list = binding(owner, symbols[2]);
        SEXP counts = binding(owner, symbols[3]);
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
        out->steps[s] = step;
        out->offsets[s] = next - out->scratch;
        const double *p = REAL_RO(slot_parameter_at(a->owners, symbols[0],
                                                    a->indices, s, n));
        /* bias corrections folded into the step size, as Kingma and Ba do */
        double rate_t = a->rate * sqrt(1 - pow(a->beta_2, step)) /
            (1 - pow(a->beta_1, step));
        double eps_t = a->eps * sqrt(1 - pow(a->beta_2, step));
        double *p_new = next;
        adam_update(p, REAL_RO(gradient), fresh ? NULL : REAL_RO(m_old),
                    fresh ? NULL : REAL_RO(v_old), p_new, next + n,
                    next + 2 * n, n, a->beta_1, a->beta_2, rate_t, eps_t);
        int constraint = INTEGER(a->constraints)[s];
        for (R_xlen_t i = 0; i < n; i++)
            if (!satisfies(constraint, p_new[i]))
                return (int) s + 1;
        next += 3 * n;
    }
    return 0;
}

/* Where adam_compute()'s values go: per slot the parameter, its moments
   (3 pointers) and its step count, each in a vector made private first
   (this may allocate, which changes no value). */
double **adam_targets(const adam_problem *a, SEXP gradients)
{
    R_xlen_t slots = a->slots;
    double **targets = (double **) R_alloc((size_t) (slots > 0 ? 4 * slots : 1),
                                           sizeof(double *));
    for (R_xlen_t s = 0; s < slots; s++) {
        SEXP owner = VECTOR_ELT(a->owners, s);
        R_xlen_t n = XLENGTH(VECTOR_ELT(gradients, s));
        int index = INTEGER(a->indices)[s];
        const SEXP *symbols = a->symbols + 4 * s;
        R_xlen_t list_length = XLENGTH(binding(owner, symbols[0]));
        targets[4 * s] = REAL(owned_element(owner, symbols[0], index,
                                            list_length, n, 0));
        targets[4 * s + 1] = REAL(owned_element(
            owner, symbols[1], index, list_length, n, 1));
        targets[4 * s + 2] = REAL(owned_element(
            owner, symbols[2], index, list_length, n, 1));
        targets[4 * s + 3] = REAL(owned_step_counts(
            owner, symbols[3], list_length)) + (index - 1);
    }
    return targets;
}

/* The writes of adam_compute()'s values into adam_targets(): plain copies,
   which cannot fail. */
void adam_copy(const adam_problem *a, SEXP gradients, const adam_result *r,
               double *const *targets)
{
    for (R_xlen_t s = 0; s < a->slots; s++) {
        R_xlen_t n = XLENGTH(VECTOR_ELT(gradients, s));
        const double *next = r->scratch + r->offsets[s];
        for (int k = 0; k < 3; k++)
            if (n > 0)
                memcpy(targets[4 * s + k], next + k * n,
                       (size_t) n * sizeof(double));
        *targets[4 * s + 3] = r->steps[s];
    }
}

/* Element `index` (1-based) of the list bound to `symbol` in `owner`, a
   double vector of n values, made private (copied first when shared) for
   writing, as C_parameters_assign() writes. */
double *parameter_target(SEXP owner, SEXP symbol, int index, R_xlen_t n)
{
    if (TYPEOF(owner) != ENVSXP)
        Rf_error("internal error: the owner of `%s` must be an environment",
                 CHAR(PRINTNAME(symbol)));
    SEXP container = binding(owner, symbol);
    if (TYPEOF(container) != VECSXP || index < 1 ||
        index > XLENGTH(container))
        Rf_error("internal error: no parameter %d in `%s`", index,
                 CHAR(PRINTNAME(symbol)));
    SEXP element = VECTOR_ELT(container, index - 1);
    if (TYPEOF(element) != REALSXP || XLENGTH(element) != n)
        Rf_error("internal error: parameter %d of `%s` must be a double "
                 "vector of length %lld", index, CHAR(PRINTNAME(symbol)),
                 (long long) n);
    return REAL(owned_element(owner, symbol, index, 0, n, 0));
}

/* C_adam_step(owners, fields, indices, gradients, constraints, settings,
   preview): one Adam step (Kingma and Ba, 2015) on every parameter, each
   with its own step count, settings = c(learning_rate, beta_1, beta_2,
   epsilon). The new values are computed before anything is written; if one
   leaves its parameter's domain (`constraints`, codes as above) nothing is
   written and the 1-based number of that slot is returned, otherwise NULL.
   With `preview` TRUE nothing is ever written: the new parameters come back
   as a list of fresh vectors (what the step would write, bit for bit). */
SEXP C_adam_step(SEXP owners, SEXP fields, SEXP indices, SEXP gradients,
                 SEXP constraints, SEXP settings, SEXP preview)
{
    check_slot_lists(owners, fields, indices, gradients);
    R_xlen_t slots = XLENGTH(owners);
    if (TYPEOF(constraints) != INTSXP || XLENGTH(constraints) != slots)
        Rf_error("internal error: `constraints` must be one integer a slot");
    if (TYPEOF(settings) != REALSXP || XLENGTH(settings) != 4)
        Rf_error("internal error: `settings` must be 4 doubles");
    if (TYPEOF(preview) != LGLSXP || XLENGTH(preview) != 1 ||
        LOGICAL(preview)[0] == NA_LOGICAL)
        Rf_error("internal error: `preview` must be TRUE or FALSE");
    SEXP symbols = PROTECT(C_adam_symbols(fields));
    const double *set = REAL_RO(settings);
    adam_problem a = {slots, owners, indices, constraints,
                      adam_symbol_array(symbols), set[0], set[1], set[2],
                      set[3]};
    adam_problem_check(&a);
    adam_result r;
    int refused = adam_compute(&a, gradients, R_NilValue, &r);
    if (refused) {
        UNPROTECT(1);
        return Rf_ScalarInteger(refused);
    }
    if (LOGICAL(preview)[0]) {
        SEXP values = PROTECT(Rf_allocVector(VECSXP, slots));
        for (R_xlen_t s = 0; s < slots; s++) {
            R_xlen_t n = XLENGTH(VECTOR_ELT(gradients, s));
            SEXP value = Rf_allocVector(REALSXP, n);
            SET_VECTOR_ELT(values, s, value);
            if (n > 0)
                memcpy(REAL(value), r.scratch + r.offsets[s],
                       (size_t) n * sizeof(double));
        }
        UNPROTECT(2);
        return values;
    }
    adam_copy(&a, gradients, &r, adam_targets(&a, gradients));
    UNPROTECT(1);
    return R_NilValue;
}
