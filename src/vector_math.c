/* Elementary functions over arrays (vector_math.h). For now each calls the
   C library per element; faster implementations replace these bodies
   without changing the interface. */

#include <math.h>
#include "vector_math.h"

void bj_exp_array(const double *x, double *y, R_xlen_t n)
{
    for (R_xlen_t i = 0; i < n; i++)
        y[i] = exp(x[i]);
}

void bj_expm1_array(const double *x, double *y, R_xlen_t n)
{
    for (R_xlen_t i = 0; i < n; i++)
        y[i] = expm1(x[i]);
}

void bj_log_array(const double *x, double *y, R_xlen_t n)
{
    for (R_xlen_t i = 0; i < n; i++)
        y[i] = log(x[i]);
}

void bj_log1p_array(const double *x, double *y, R_xlen_t n)
{
    for (R_xlen_t i = 0; i < n; i++)
        y[i] = log1p(x[i]);
}

void bj_tanh_array(const double *x, double *y, R_xlen_t n)
{
    for (R_xlen_t i = 0; i < n; i++)
        y[i] = tanh(x[i]);
}

double bj_exp(double x) { return exp(x); }
double bj_expm1(double x) { return expm1(x); }
double bj_log(double x) { return log(x); }
double bj_log1p(double x) { return log1p(x); }
double bj_tanh(double x) { return tanh(x); }
