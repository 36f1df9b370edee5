#include <string.h>
#include "bijectors.h"

/* A fresh, unshared, non-ALTREP copy: Rf_duplicate() of a compact sequence
   would give another ALTREP object, which the kernels must not write into. */
SEXP copy_double_vector(SEXP x)
{
    if (TYPEOF(x) != REALSXP)
        Rf_error("internal error: expected a double vector, got %s",
                 Rf_type2char(TYPEOF(x)));
    R_xlen_t n = XLENGTH(x);
    SEXP out = PROTECT(Rf_allocVector(REALSXP, n));
    if (n > 0)
        memcpy(REAL(out), REAL_RO(x), (size_t) n * sizeof(double));
    UNPROTECT(1);
    return out;
}

/* Outputs keep the input's dim, dimnames and names, nothing else. */
void copy_array_shape(SEXP to, SEXP from)
{
    SEXP dim = Rf_getAttrib(from, R_DimSymbol);
    if (dim != R_NilValue) {
        Rf_setAttrib(to, R_DimSymbol, dim);
        SEXP dimnames = Rf_getAttrib(from, R_DimNamesSymbol);
        if (dimnames != R_NilValue)
            Rf_setAttrib(to, R_DimNamesSymbol, dimnames);
    } else {
        SEXP names = Rf_getAttrib(from, R_NamesSymbol);
        if (names != R_NilValue)
            Rf_setAttrib(to, R_NamesSymbol, names);
    }
}

void check_double_array(SEXP x, const char *what)
{
    if (TYPEOF(x) != REALSXP)
        Rf_error("`%s` must be a double vector or array, not of type %s",
                 what, Rf_type2char(TYPEOF(x)));
}

double scalar_double(SEXP x, const char *what)
{
    if (TYPEOF(x) != REALSXP || XLENGTH(x) != 1 || ISNAN(REAL(x)[0]))
        Rf_error("`%s` must be a single non-missing double", what);
    return REAL(x)[0];
}

int scalar_logical(SEXP x, const char *what)
{
    if (TYPEOF(x) != LGLSXP || XLENGTH(x) != 1 || LOGICAL(x)[0] == NA_LOGICAL)
        Rf_error("`%s` must be TRUE or FALSE", what);
    return LOGICAL(x)[0];
}

SEXP C_copy_double(SEXP x)
{
    return copy_double_vector(x);
}

SEXP C_all_finite(SEXP x)
{
    check_double_array(x, "x");
    const double *p = REAL_RO(x);
    R_xlen_t n = XLENGTH(x);
    for (R_xlen_t i = 0; i < n; i++)
        if (!R_FINITE(p[i]))
            return Rf_ScalarLogical(FALSE);
    return Rf_ScalarLogical(TRUE);
}

/* A fresh, unshared, non-ALTREP copy that keeps the attributes (a kernel's
   dim): what replaces a shared parameter before it is written into. */
SEXP copy_double_with_attributes(SEXP x)
{
    SEXP out = PROTECT(copy_double_vector(x));
    SHALLOW_DUPLICATE_ATTRIB(out, x);
    UNPROTECT(1);
    return out;
}

/* The list bound to `symbol` in the environment `owner`, safe to modify:
   if anything else refers to it (a user's variable, a cloned environment,
   another list) it is replaced in `owner` by a shallow copy first. Its
   elements then count as shared, so owned_double_element() copies each one
   before it is written. */
SEXP owned_list_binding(SEXP owner, SEXP symbol)
{
    if (TYPEOF(owner) != ENVSXP)
        Rf_error("internal error: the owner of a parameter list must be an "
                 "environment");
    SEXP container = Rf_findVarInFrame(owner, symbol);
    if (TYPEOF(container) != VECSXP)
        Rf_error("internal error: `%s` of the owner is not a list",
                 CHAR(PRINTNAME(symbol)));
    if (MAYBE_SHARED(container)) {
        container = PROTECT(Rf_shallow_duplicate(container));
        Rf_defineVar(symbol, container, owner);
        UNPROTECT(1);
    }
    return container;
}

/* Element `index` (0-based) of an owned list, a double vector, safe to
   write into: a shared or ALTREP element is replaced by a private copy. */
SEXP owned_double_element(SEXP container, R_xlen_t index)
{
    SEXP element = VECTOR_ELT(container, index);
    if (TYPEOF(element) != REALSXP)
        Rf_error("internal error: a parameter must be a double vector");
    if (MAYBE_SHARED(element) || ALTREP(element)) {
        element = PROTECT(copy_double_with_attributes(element));
        SET_VECTOR_ELT(container, index, element);
        UNPROTECT(1);
    }
    return element;
}
