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

/* readRDS() restores external pointers with a NULL address. */
SEXP C_pointer_is_null(SEXP pointer)
{
    if (TYPEOF(pointer) != EXTPTRSXP)
        return Rf_ScalarLogical(TRUE);
    return Rf_ScalarLogical(R_ExternalPtrAddr(pointer) == NULL);
}
