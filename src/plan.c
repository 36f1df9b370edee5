/* A compiled training plan: a flow's chain, described once per fit() by
   R/plan.R as a list of operations, walked here in one .Call for the
   inverse pass (with what the backward pass needs) and one for the backward
   pass. Each operation calls the same entry points the R path calls
   (C_mlp_forward, C_affine_transform, C_bn_inverse_training, their backward
   passes), with the same arguments in the same order, so the numbers are
   identical to the R path's; what the plan saves is the R interpreter's
   work between them (dispatch, list building, per-step shape checks).

   Operations (positional lists, see R/plan.R):
     MAF      list(1L, template, columns, shift_columns, log_scale_columns,
                   clip, clip_gradient, trained)
     batch normalization (training mode)
              list(2L, layer, axes, momentum, epsilon, center, scale,
                   multiplier)
     permute along the last axis
              list(3L, inverse_permutation, permutation)
     chain    list(4L, operations)

   The log-det is accumulated as the R path does: per chain, from 0, adding
   each member's (a number is added to every row), and a nested chain's
   total added to its parent's. */

#include <string.h>
#include "bijectors.h"

enum { OP_MAF = 1, OP_BATCH_NORM = 2, OP_PERMUTE = 3, OP_CHAIN = 4 };

/* The value of `name` in the environment `env`, which must exist. */
static SEXP env_value(SEXP env, const char *name)
{
    SEXP value = Rf_findVarInFrame(env, Rf_install(name));
    if (value == R_UnboundValue)
        Rf_error("internal error: the plan's environment has no `%s`", name);
    return value;
}

static int op_kind(SEXP op)
{
    if (TYPEOF(op) != VECSXP || XLENGTH(op) < 2)
        Rf_error("internal error: a plan operation must be a list");
    SEXP kind = VECTOR_ELT(op, 0);
    if (TYPEOF(kind) != INTSXP || XLENGTH(kind) != 1)
        Rf_error("internal error: a plan operation's kind must be an integer");
    int k = INTEGER(kind)[0];
    static const R_xlen_t lengths[] = {0, 8, 8, 3, 2};
    if (k < OP_MAF || k > OP_CHAIN || XLENGTH(op) != lengths[k])
        Rf_error("internal error: unknown plan operation %d", k);
    return k;
}

static void check_ops(SEXP ops)
{
    if (TYPEOF(ops) != VECSXP)
        Rf_error("`plan` must be a list of operations");
}

/* The current batch-normalization pointer of `layer`, made anew (and
   stored in the layer) when the one there is NULL or not the layer's, as
   bn_pointer() does in R. */
static SEXP layer_pointer(SEXP layer)
{
    SEXP symbol = Rf_install("pointer");
    SEXP pointer = Rf_findVarInFrame(layer, symbol);
    if (pointer != R_UnboundValue && pointer != R_NilValue &&
        LOGICAL(C_bn_pointer_current(pointer, layer))[0])
        return pointer;
    pointer = PROTECT(C_bn_pointer_new(layer));
    Rf_defineVar(symbol, pointer, layer);
    UNPROTECT(1);
    return pointer;
}

/* out[, j] = in[, index[j]] for an n x d matrix; index 1-based. */
static SEXP gather_columns(SEXP in, SEXP index)
{
    SEXP dim = Rf_getAttrib(in, R_DimSymbol);
    if (TYPEOF(in) != REALSXP || TYPEOF(dim) != INTSXP || XLENGTH(dim) != 2)
        Rf_error("internal error: a permutation needs a double matrix");
    R_xlen_t n = INTEGER(dim)[0], d = INTEGER(dim)[1];
    if (TYPEOF(index) != INTSXP || XLENGTH(index) != d)
        Rf_error("the permutation has length %lld but the input has %lld "
                 "columns", (long long) XLENGTH(index), (long long) d);
    const int *p = INTEGER_RO(index);
    SEXP out = PROTECT(Rf_allocVector(REALSXP, n * d));
    copy_array_shape(out, in);
    const double *x = REAL_RO(in);
    double *y = REAL(out);
    for (R_xlen_t j = 0; j < d; j++) {
        if (p[j] == NA_INTEGER || p[j] < 1 || p[j] > d)
            Rf_error("internal error: a permutation index is out of range");
        if (n > 0)
            memcpy(y + j * n, x + (R_xlen_t) (p[j] - 1) * n,
                   (size_t) n * sizeof(double));
    }
    UNPROTECT(1);
    return out;
}

/* acc[i] += log_det[i], or += log_det[0] for every row when it is one
   number (what R's `+` does with a length-one operand). */
static void add_log_det(double *acc, R_xlen_t rows, SEXP log_det)
{
    if (TYPEOF(log_det) != REALSXP)
        Rf_error("internal error: a log-det must be double");
    const double *l = REAL_RO(log_det);
    if (XLENGTH(log_det) == 1) {
        for (R_xlen_t i = 0; i < rows; i++)
            acc[i] += l[0];
    } else if (XLENGTH(log_det) == rows) {
        for (R_xlen_t i = 0; i < rows; i++)
            acc[i] += l[i];
    } else {
        Rf_error("internal error: a log-det has %lld values for %lld rows",
                 (long long) XLENGTH(log_det), (long long) rows);
    }
}

static R_xlen_t matrix_rows(SEXP x)
{
    SEXP dim = Rf_getAttrib(x, R_DimSymbol);
    if (TYPEOF(x) != REALSXP || TYPEOF(dim) != INTSXP || XLENGTH(dim) != 2)
        Rf_error("`y` must be a double matrix");
    return INTEGER(dim)[0];
}

/* The inverse pass of `ops` on `value` (a rows x d double matrix): the
   value after the last operation; the log-dets added into acc (rows
   values); one cache per operation in `caches` (a list as long as ops). A
   non-NULL result of type integer is a refusal of a batch-normalization
   layer (src/batch_norm.c's code), which stops the pass. */
static SEXP inverse_ops(SEXP ops, SEXP value, double *acc, R_xlen_t rows,
                        SEXP caches, SEXP *refusal)
{
    PROTECT_INDEX ipx;
    PROTECT_WITH_INDEX(value, &ipx);
    R_xlen_t count = XLENGTH(ops);
    for (R_xlen_t k = 0; k < count; k++) {
        SEXP op = VECTOR_ELT(ops, k);
        switch (op_kind(op)) {
        case OP_MAF: {
            SEXP template = VECTOR_ELT(op, 1);
            if (TYPEOF(template) != ENVSXP)
                Rf_error("internal error: a MAF operation needs its template");
            SEXP rows_sexp = PROTECT(Rf_ScalarReal((double) rows));
            SEXP zero = PROTECT(Rf_ScalarReal(0));
            SEXP network = PROTECT(C_mlp_forward(
                value, rows_sexp, zero, env_value(template, "kernels"),
                env_value(template, "biases"),
                env_value(template, "activation_codes"),
                Rf_ScalarLogical(1)));
            SEXP direction = PROTECT(Rf_ScalarInteger(-1));
            SEXP step = PROTECT(C_affine_transform(
                value, VECTOR_ELT(network, 0), VECTOR_ELT(op, 2),
                VECTOR_ELT(op, 3), VECTOR_ELT(op, 4), VECTOR_ELT(op, 5),
                direction));
            /* cache: the input, the hidden outputs, the network output */
            SEXP cache = PROTECT(Rf_allocVector(VECSXP, 3));
            SET_VECTOR_ELT(cache, 0, value);
            SET_VECTOR_ELT(cache, 1, VECTOR_ELT(network, 1));
            SET_VECTOR_ELT(cache, 2, VECTOR_ELT(network, 0));
            SET_VECTOR_ELT(caches, k, cache);
            add_log_det(acc, rows, VECTOR_ELT(step, 1));
            REPROTECT(value = VECTOR_ELT(step, 0), ipx);
            UNPROTECT(6);
            break;
        }
        case OP_BATCH_NORM: {
            SEXP layer = VECTOR_ELT(op, 1);
            if (TYPEOF(layer) != ENVSXP)
                Rf_error("internal error: a batch-normalization operation "
                         "needs its layer");
            SEXP pointer = PROTECT(layer_pointer(layer));
            SEXP dims = Rf_getAttrib(value, R_DimSymbol);
            SEXP out = PROTECT(C_bn_inverse_training(
                pointer, value, dims, VECTOR_ELT(op, 2), VECTOR_ELT(op, 3),
                VECTOR_ELT(op, 4), VECTOR_ELT(op, 5), VECTOR_ELT(op, 6),
                Rf_ScalarLogical(1)));
            if (TYPEOF(out) == INTSXP) {
                *refusal = out;
                UNPROTECT(3);
                return R_NilValue;
            }
            /* log-det times the event_ndims multiplier, as R does */
            double multiplier = scalar_double(VECTOR_ELT(op, 7), "multiplier");
            SEXP log_det = PROTECT(Rf_ScalarReal(
                REAL(VECTOR_ELT(out, 1))[0] * multiplier));
            /* cache: the input, the batch mean and variance, the pointer */
            SEXP cache = PROTECT(Rf_allocVector(VECSXP, 4));
            SET_VECTOR_ELT(cache, 0, value);
            SET_VECTOR_ELT(cache, 1, VECTOR_ELT(out, 2));
            SET_VECTOR_ELT(cache, 2, VECTOR_ELT(out, 3));
            SET_VECTOR_ELT(cache, 3, pointer);
            SET_VECTOR_ELT(caches, k, cache);
            add_log_det(acc, rows, log_det);
            REPROTECT(value = VECTOR_ELT(out, 0), ipx);
            UNPROTECT(4);
            break;
        }
        case OP_PERMUTE: {
            /* log-det 0, added as R adds it */
            for (R_xlen_t i = 0; i < rows; i++)
                acc[i] += 0.0;
            REPROTECT(value = gather_columns(value, VECTOR_ELT(op, 1)), ipx);
            break;
        }
        case OP_CHAIN: {
            SEXP members = VECTOR_ELT(op, 1);
            check_ops(members);
            SEXP member_caches = PROTECT(Rf_allocVector(
                VECSXP, XLENGTH(members)));
            SET_VECTOR_ELT(caches, k, member_caches);
            double *inner = (double *) R_alloc((size_t) rows + 1,
                                               sizeof(double));
            for (R_xlen_t i = 0; i < rows; i++)
                inner[i] = 0;
            SEXP out = inverse_ops(members, value, inner, rows,
                                   member_caches, refusal);
            if (*refusal != R_NilValue) {
                UNPROTECT(2);
                return R_NilValue;
            }
            for (R_xlen_t i = 0; i < rows; i++)
                acc[i] += inner[i];
            REPROTECT(value = out, ipx);
            UNPROTECT(1);
            break;
        }
        }
    }
    UNPROTECT(1);
    return value;
}

/* C_plan_inverse(plan, y): list(x, log_det (one value per row), caches),
   or, when a batch-normalization layer refused the batch (nothing written
   by it), its refusal code as an integer. */
SEXP C_plan_inverse(SEXP plan, SEXP y)
{
    check_ops(plan);
    R_xlen_t rows = matrix_rows(y);
    SEXP log_det = PROTECT(Rf_allocVector(REALSXP, rows));
    double *acc = REAL(log_det);
    for (R_xlen_t i = 0; i < rows; i++)
        acc[i] = 0;
    SEXP caches = PROTECT(Rf_allocVector(VECSXP, XLENGTH(plan)));
    SEXP refusal = R_NilValue;
    SEXP x = PROTECT(inverse_ops(plan, y, acc, rows, caches, &refusal));
    if (refusal != R_NilValue) {
        UNPROTECT(3);
        return refusal;
    }
    SEXP result = PROTECT(Rf_allocVector(VECSXP, 3));
    SET_VECTOR_ELT(result, 0, x);
    SET_VECTOR_ELT(result, 1, log_det);
    SET_VECTOR_ELT(result, 2, caches);
    UNPROTECT(4);
    return result;
}

/* The backward pass of inverse_ops(): from dLoss/d(value) after the last
   operation, returns dLoss/d(its input); writes the parameter gradients
   into `gradients` in slot order. grad_rows is dLoss/d(log-det) per row,
   grad_sum their sum (what a member whose log-det is one number gets). */
static SEXP backward_ops(SEXP ops, SEXP caches, SEXP grad, SEXP grad_rows,
                         SEXP grad_sum, SEXP gradients, R_xlen_t *used)
{
    PROTECT_INDEX ipx;
    PROTECT_WITH_INDEX(grad, &ipx);
    R_xlen_t count = XLENGTH(ops);
    if (TYPEOF(caches) != VECSXP || XLENGTH(caches) != count)
        Rf_error("internal error: the plan's caches do not match it");
    /* operations run in reverse, so each fills its slots from the end:
       *used is the number of slots before the current operation's end */
    for (R_xlen_t k = count - 1; k >= 0; k--) {
        SEXP op = VECTOR_ELT(ops, k);
        SEXP cache = VECTOR_ELT(caches, k);
        switch (op_kind(op)) {
        case OP_MAF: {
            SEXP template = VECTOR_ELT(op, 1);
            SEXP input = VECTOR_ELT(cache, 0);
            SEXP params = VECTOR_ELT(cache, 2);
            R_xlen_t rows = matrix_rows(input);
            SEXP direction = PROTECT(Rf_ScalarInteger(-1));
            SEXP affine = PROTECT(C_affine_backward(
                input, params, VECTOR_ELT(op, 2), VECTOR_ELT(op, 3),
                VECTOR_ELT(op, 4), VECTOR_ELT(op, 5), direction, grad,
                grad_rows, VECTOR_ELT(op, 6)));
            SEXP rows_sexp = PROTECT(Rf_ScalarReal((double) rows));
            SEXP zero = PROTECT(Rf_ScalarReal(0));
            SEXP network = PROTECT(C_mlp_backward(
                input, rows_sexp, zero, env_value(template, "kernels"),
                env_value(template, "activation_codes"),
                VECTOR_ELT(cache, 1), params, VECTOR_ELT(affine, 1),
                env_value(template, "masks"), VECTOR_ELT(affine, 0)));
            SEXP kernels = VECTOR_ELT(network, 0);
            SEXP biases = VECTOR_ELT(network, 1);
            SEXP trained = VECTOR_ELT(op, 7);
            R_xlen_t layers = XLENGTH(kernels);
            if (TYPEOF(trained) != LGLSXP || XLENGTH(trained) != 2 * layers)
                Rf_error("internal error: the MAF operation's trained slots "
                         "do not match its network");
            /* this operation's slots are the last ones before *used */
            R_xlen_t own = 0;
            for (R_xlen_t j = 0; j < 2 * layers; j++)
                own += LOGICAL(trained)[j] != 0;
            if (*used < own)
                Rf_error("internal error: fewer gradients than the plan "
                         "counted");
            R_xlen_t at = *used - own;
            for (R_xlen_t j = 0; j < layers; j++) {
                if (LOGICAL(trained)[2 * j])
                    SET_VECTOR_ELT(gradients, at++, VECTOR_ELT(kernels, j));
                if (LOGICAL(trained)[2 * j + 1])
                    SET_VECTOR_ELT(gradients, at++, VECTOR_ELT(biases, j));
            }
            *used -= own;
            REPROTECT(grad = VECTOR_ELT(network, 2), ipx);
            UNPROTECT(5);
            break;
        }
        case OP_BATCH_NORM: {
            SEXP layer = VECTOR_ELT(op, 1);
            SEXP input = VECTOR_ELT(cache, 0);
            SEXP settings = PROTECT(Rf_allocVector(REALSXP, 3));
            REAL(settings)[0] = scalar_double(VECTOR_ELT(op, 4), "epsilon");
            REAL(settings)[1] = scalar_double(VECTOR_ELT(op, 7), "multiplier");
            REAL(settings)[2] = scalar_double(grad_sum, "grad_sum");
            SEXP flags = PROTECT(Rf_allocVector(LGLSXP, 3));
            LOGICAL(flags)[0] = scalar_logical(VECTOR_ELT(op, 5), "center");
            LOGICAL(flags)[1] = scalar_logical(VECTOR_ELT(op, 6), "scale");
            LOGICAL(flags)[2] = 1;
            SEXP pointer = PROTECT(layer_pointer(layer));
            SEXP out = PROTECT(C_bn_inverse_backward(
                pointer, input, grad, Rf_getAttrib(input, R_DimSymbol),
                VECTOR_ELT(op, 2), VECTOR_ELT(cache, 1), VECTOR_ELT(cache, 2),
                settings, flags));
            R_xlen_t own = LOGICAL(flags)[0] + LOGICAL(flags)[1];
            if (*used < own)
                Rf_error("internal error: fewer gradients than the plan "
                         "counted");
            R_xlen_t at = *used - own;
            if (LOGICAL(flags)[1])
                SET_VECTOR_ELT(gradients, at++, VECTOR_ELT(out, 1));
            if (LOGICAL(flags)[0])
                SET_VECTOR_ELT(gradients, at++, VECTOR_ELT(out, 2));
            *used -= own;
            REPROTECT(grad = VECTOR_ELT(out, 0), ipx);
            UNPROTECT(4);
            break;
        }
        case OP_PERMUTE:
            REPROTECT(grad = gather_columns(grad, VECTOR_ELT(op, 2)), ipx);
            break;
        case OP_CHAIN:
            REPROTECT(grad = backward_ops(VECTOR_ELT(op, 1), cache, grad,
                                          grad_rows, grad_sum, gradients,
                                          used), ipx);
            break;
        }
    }
    UNPROTECT(1);
    return grad;
}

/* C_plan_backward(plan, caches, grad_x, grad_rows, grad_sum, count): the
   backward pass of C_plan_inverse() whose result held `caches`. grad_x is
   dLoss/d(x) (like y), grad_rows dLoss/d(log-det) per row, grad_sum their
   sum; count the number of parameter gradients. Returns list(input =
   dLoss/d(y), parameters = the gradients in slot order). */
SEXP C_plan_backward(SEXP plan, SEXP caches, SEXP grad_x, SEXP grad_rows,
                     SEXP grad_sum, SEXP count)
{
    check_ops(plan);
    R_xlen_t rows = matrix_rows(grad_x);
    if (TYPEOF(grad_rows) != REALSXP ||
        (XLENGTH(grad_rows) != rows && XLENGTH(grad_rows) != 1))
        Rf_error("`grad_rows` must be a double vector with one value per row");
    if (TYPEOF(grad_sum) != REALSXP || XLENGTH(grad_sum) != 1)
        Rf_error("`grad_sum` must be a number");
    if (TYPEOF(count) != INTSXP || XLENGTH(count) != 1 ||
        INTEGER(count)[0] < 0)
        Rf_error("`count` must be a count");
    /* the affine step wants one value per row */
    SEXP per_row = PROTECT(Rf_allocVector(REALSXP, rows));
    for (R_xlen_t i = 0; i < rows; i++)
        REAL(per_row)[i] = REAL(grad_rows)[XLENGTH(grad_rows) == 1 ? 0 : i];
    R_xlen_t used = INTEGER(count)[0];
    SEXP gradients = PROTECT(Rf_allocVector(VECSXP, used));
    SEXP input = PROTECT(backward_ops(plan, caches, grad_x, per_row, grad_sum,
                                      gradients, &used));
    if (used != 0)
        Rf_error("internal error: the plan counted %lld gradients too many",
                 (long long) used);
    SEXP result = PROTECT(Rf_allocVector(VECSXP, 2));
    SEXP names = PROTECT(Rf_allocVector(STRSXP, 2));
    SET_VECTOR_ELT(result, 0, input);
    SET_VECTOR_ELT(result, 1, gradients);
    SET_STRING_ELT(names, 0, Rf_mkChar("input"));
    SET_STRING_ELT(names, 1, Rf_mkChar("parameters"));
    Rf_setAttrib(result, R_NamesSymbol, names);
    UNPROTECT(5);
    return result;
}
