/* Trainable parameters: owned R vectors, held as elements of lists that the
   bijectors own, updated in place here (Adam) or copied into. Writing goes
   through the container list so that an element R may share is replaced by
   a private copy first, never written into. */

#include <math.h>
#include <string.h>
#include "bijectors.h"

/* The element `index` (1-based) of `container`, checked. */
static SEXP check_element(SEXP container, SEXP index_list, R_xlen_t s,
                          R_xlen_t length, const char *what)
{
    if (TYPEOF(container) != VECSXP)
        Rf_error("internal error: parameter container %lld is not a list",
                 (long long) s + 1);
    int index = INTEGER(index_list)[s];
    if (index < 1 || index > XLENGTH(container))
        Rf_error("internal error: parameter index %d out of range", index);
    SEXP element = VECTOR_ELT(container, index - 1);
    if (TYPEOF(element) != REALSXP || XLENGTH(element) != length)
        Rf_error("%s %lld must be a double vector of length %lld", what,
                 (long long) s + 1, (long long) length);
    return element;
}

/* The same element, safe to write into. */
static SEXP owned_element(SEXP container, SEXP index_list, R_xlen_t s,
                          R_xlen_t length, const char *what)
{
    SEXP element = check_element(container, index_list, s, length, what);
    int index = INTEGER(index_list)[s];
    if (MAYBE_SHARED(element) || ALTREP(element)) {
        element = copy_double_vector(element);
        SET_VECTOR_ELT(container, index - 1, element);
    }
    return element;
}

static void check_slot_lists(SEXP containers, SEXP indices, SEXP values)
{
    if (TYPEOF(containers) != VECSXP || TYPEOF(indices) != INTSXP ||
        TYPEOF(values) != VECSXP || XLENGTH(indices) != XLENGTH(containers) ||
        XLENGTH(values) != XLENGTH(containers))
        Rf_error("internal error: `containers`, `indices` and the values "
                 "must be lists (and an integer vector) of one length");
    for (R_xlen_t s = 0; s < XLENGTH(values); s++)
        if (TYPEOF(VECTOR_ELT(values, s)) != REALSXP)
            Rf_error("value %lld must be a double vector", (long long) s + 1);
}

/* C_parameters_assign(containers, indices, values): copies each value into
   the owned parameter it names. */
SEXP C_parameters_assign(SEXP containers, SEXP indices, SEXP values)
{
    check_slot_lists(containers, indices, values);
    for (R_xlen_t s = 0; s < XLENGTH(values); s++)
        check_element(VECTOR_ELT(containers, s), indices, s,
                      XLENGTH(VECTOR_ELT(values, s)), "parameter");
    for (R_xlen_t s = 0; s < XLENGTH(values); s++) {
        SEXP value = VECTOR_ELT(values, s);
        SEXP target = owned_element(VECTOR_ELT(containers, s), indices, s,
                                    XLENGTH(value), "parameter");
        if (XLENGTH(value) > 0)
            memcpy(REAL(target), REAL_RO(value),
                   (size_t) XLENGTH(value) * sizeof(double));
    }
    return R_NilValue;
}

/* C_adam_step(containers, indices, gradients, first_moments,
   second_moments, settings): one Adam step (Kingma and Ba, 2015) on every
   parameter, in place, with moment lists laid out like `containers`.
   settings = c(learning_rate, beta_1, beta_2, epsilon, step), step >= 1. */
SEXP C_adam_step(SEXP containers, SEXP indices, SEXP gradients,
                 SEXP first_moments, SEXP second_moments, SEXP settings)
{
    check_slot_lists(containers, indices, gradients);
    if (TYPEOF(first_moments) != VECSXP || TYPEOF(second_moments) != VECSXP ||
        XLENGTH(first_moments) != XLENGTH(containers) ||
        XLENGTH(second_moments) != XLENGTH(containers))
        Rf_error("internal error: the moment containers must be lists like "
                 "`containers`");
    if (TYPEOF(settings) != REALSXP || XLENGTH(settings) != 5)
        Rf_error("internal error: `settings` must be 5 doubles");
    const double *set = REAL_RO(settings);
    double rate = set[0], beta_1 = set[1], beta_2 = set[2], eps = set[3];
    double step = set[4];
    if (!(rate > 0) || !(beta_1 >= 0 && beta_1 < 1) ||
        !(beta_2 >= 0 && beta_2 < 1) || !(eps >= 0) || !(step >= 1))
        Rf_error("internal error: invalid Adam settings");
    /* bias corrections folded into the step size, as Kingma and Ba do */
    double rate_t = rate * sqrt(1 - pow(beta_2, step)) / (1 - pow(beta_1, step));
    double eps_t = eps * sqrt(1 - pow(beta_2, step));

    R_xlen_t slots = XLENGTH(containers);
    /* Every check before the first write: an error changes nothing. */
    for (R_xlen_t s = 0; s < slots; s++) {
        SEXP gradient = VECTOR_ELT(gradients, s);
        R_xlen_t n = XLENGTH(gradient);
        const double *g = REAL_RO(gradient);
        for (R_xlen_t i = 0; i < n; i++)
            if (!R_FINITE(g[i]))
                Rf_error("gradient %lld holds NA, NaN or Inf; no parameter "
                         "was changed", (long long) s + 1);
        check_element(VECTOR_ELT(containers, s), indices, s, n, "parameter");
        check_element(VECTOR_ELT(first_moments, s), indices, s, n,
                      "first moment");
        check_element(VECTOR_ELT(second_moments, s), indices, s, n,
                      "second moment");
    }
    for (R_xlen_t s = 0; s < slots; s++) {
        SEXP gradient = VECTOR_ELT(gradients, s);
        R_xlen_t n = XLENGTH(gradient);
        double *p = REAL(owned_element(VECTOR_ELT(containers, s), indices, s,
                                       n, "parameter"));
        double *m = REAL(owned_element(VECTOR_ELT(first_moments, s), indices,
                                       s, n, "first moment"));
        double *v = REAL(owned_element(VECTOR_ELT(second_moments, s), indices,
                                       s, n, "second moment"));
        const double *g = REAL_RO(gradient);
        for (R_xlen_t i = 0; i < n; i++) {
            m[i] = beta_1 * m[i] + (1 - beta_1) * g[i];
            v[i] = beta_2 * v[i] + (1 - beta_2) * g[i] * g[i];
            p[i] -= rate_t * m[i] / (sqrt(v[i]) + eps_t);
        }
    }
    return R_NilValue;
}
