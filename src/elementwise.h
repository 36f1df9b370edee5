/* Elementwise bijectors as data (DESIGN section 8). A kind is a file
   src/<stem>.c with static inline scalar functions, named <stem>_<what>:

     void   prepare(const double *theta, double *p)   raw parameters ->
                                                      working constants
     double forward(double x, const double *p)        y = f(x)
     double inverse(double y, const double *p)        x = f^-1(y)
     double fldj(double x, const double *p)           log|f'(x)|
     double ildj(double y, const double *p)           -log|f'(f^-1(y))|
     double dforward_dx(double x, const double *p)    f'(x)
     double dfldj_dx(double x, const double *p)       d log|f'(x)| / dx
     void   dforward_dparams(double x, const double *p, double *d)
                                                      d[k] = df / dtheta_k
     void   dfldj_dparams(double x, const double *p, double *d)
                                                      d[k] = d log|f'| / dtheta_k

   followed by ELEMENTWISE_KIND(stem, n_parameters, log_det), which builds
   the loops over a run of elements that share one parameter value, and the
   descriptor `elementwise_kind_<stem>` that src/elementwise.c lists in its
   table. The table is consulted once per run, so each loop below calls the
   inlined scalar functions directly and can be vectorised. `prepare` runs
   once per run, so that exp(log_scale) or log(high - low) is not
   recomputed per element. */

#ifndef BIJECTORS_ELEMENTWISE_H
#define BIJECTORS_ELEMENTWISE_H

#include <math.h>
#include "bijectors.h"

#define ELEMENTWISE_MAX_PARAMETERS 4
#define ELEMENTWISE_MAX_CONSTANTS 16

/* How the log-det depends on the input: varying with x (reduced over the
   event), constant in x (TFP's is_constant_jacobian: shaped like the
   parameters, as TFP returns it), or identically zero (a scalar 0). */
enum {
    ELEMENTWISE_LOG_DET_VARYING = 0,
    ELEMENTWISE_LOG_DET_CONSTANT = 1,
    ELEMENTWISE_LOG_DET_ZERO = 2
};

typedef void (*elementwise_prepare_fn)(const double *theta, double *p);
typedef void (*elementwise_run_fn)(const double *in, double *out, R_xlen_t n,
                                   const double *p);
typedef double (*elementwise_sum_fn)(const double *in, R_xlen_t n,
                                     const double *p);
/* g_ld[i * ld_step] is the log-det's upstream gradient for element i
   (ld_step 0: one value for the whole run). g_params[k] is added to. */
typedef void (*elementwise_backward_fn)(const double *x, const double *g_out,
                                        const double *g_ld, R_xlen_t ld_step,
                                        R_xlen_t n, const double *p,
                                        double *g_in, double *g_params);

/* Index 0 is the forward direction, 1 the inverse. */
typedef struct {
    const char *name;
    int n_parameters;
    int log_det;
    elementwise_prepare_fn prepare;
    elementwise_run_fn map[2];
    elementwise_run_fn log_det_write[2];
    elementwise_run_fn log_det_add[2];
    elementwise_sum_fn log_det_sum[2];
    elementwise_backward_fn backward[2];
    /* forward, inverse, fldj, ildj by the scalar functions one element at
       a time: the blockwise loops must give the same values (tested) */
    elementwise_run_fn scalar[4];
} elementwise_kind;

#define ELEMENTWISE_UNUSED(x) ((void) (x))

/* A map's loop has no dependence between elements, and OpenMP's simd
   pragma lets the compiler vectorise it at -O2 (whose cost model alone
   vectorises no loop of unknown length): division and the other IEEE
   operations give the same bits in vector registers, and a loop that
   calls a libm function stays scalar. Without OpenMP, a plain loop. */
#ifdef _OPENMP
#define ELEMENTWISE_SIMD _Pragma("omp simd")
#else
#define ELEMENTWISE_SIMD
#endif

/* A kind without parameters: nothing to prepare, no parameter derivatives.
   Put it before the kind's scalar functions. */
#define ELEMENTWISE_NO_PARAMETERS(S)                                         \
    static inline void S##_prepare(const double *theta, double *p)           \
    {                                                                        \
        ELEMENTWISE_UNUSED(theta);                                           \
        ELEMENTWISE_UNUSED(p);                                               \
    }                                                                        \
    static inline void S##_dforward_dparams(double x, const double *p,       \
                                            double *d)                       \
    {                                                                        \
        ELEMENTWISE_UNUSED(x);                                               \
        ELEMENTWISE_UNUSED(p);                                               \
        ELEMENTWISE_UNUSED(d);                                               \
    }                                                                        \
    static inline void S##_dfldj_dparams(double x, const double *p,          \
                                         double *d)                          \
    {                                                                        \
        ELEMENTWISE_UNUSED(x);                                               \
        ELEMENTWISE_UNUSED(p);                                               \
        ELEMENTWISE_UNUSED(d);                                               \
    }

/* TFP's derived inverse log-det, -FLDJ(inverse(y)), for kinds whose own
   ILDJ formula TFP does not have (or where this is the accurate form).
   Put it after S_inverse and S_fldj. */
#define ELEMENTWISE_ILDJ_THROUGH_INVERSE(S)                                  \
    static inline double S##_ildj(double y, const double *p)                 \
    {                                                                        \
        return -S##_fldj(S##_inverse(y, p), p);                              \
    }

/* out[i] = F(in[i]); out[i] += F(in[i]); and the sum with four
   accumulators (independent adds, and a smaller rounding error). */
#define ELEMENTWISE_RUNS_(S, F)                                              \
    static void S##_##F##_write_run(const double *restrict in,               \
                                    double *restrict out, R_xlen_t n,        \
                                    const double *restrict p)                \
    {                                                                        \
        ELEMENTWISE_SIMD                                                     \
        for (R_xlen_t i = 0; i < n; i++)                                     \
            out[i] = S##_##F(in[i], p);                                      \
    }                                                                        \
    static void S##_##F##_add_run(const double *restrict in,                 \
                                  double *restrict out, R_xlen_t n,          \
                                  const double *restrict p)                  \
    {                                                                        \
        ELEMENTWISE_SIMD                                                     \
        for (R_xlen_t i = 0; i < n; i++)                                     \
            out[i] += S##_##F(in[i], p);                                     \
    }                                                                        \
    static double S##_##F##_sum_run(const double *in, R_xlen_t n,            \
                                    const double *p)                         \
    {                                                                        \
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;                               \
        R_xlen_t i = 0;                                                      \
        for (; i + 4 <= n; i += 4) {                                         \
            s0 += S##_##F(in[i], p);                                         \
            s1 += S##_##F(in[i + 1], p);                                     \
            s2 += S##_##F(in[i + 2], p);                                     \
            s3 += S##_##F(in[i + 3], p);                                     \
        }                                                                    \
        for (; i < n; i++)                                                   \
            s0 += S##_##F(in[i], p);                                         \
        return (s0 + s1) + (s2 + s3);                                        \
    }

/* The backward passes from the four local derivatives.
   Forward, y = f(x), ld = log|f'(x)|:
     dL/dx = g_y f'(x) + g_ld dlog|f'|/dx
     dL/dtheta = sum g_y df/dtheta + g_ld dlog|f'|/dtheta
   Inverse, x = f^-1(y), ld = -log|f'(x)|, with dx/dy = 1/f'(x) and
   dx/dtheta = -(df/dtheta)/f'(x):
     u = dL/dy = (g_x - g_ld dlog|f'|/dx) / f'(x)
     dL/dtheta = sum -u df/dtheta - g_ld dlog|f'|/dtheta */
#define ELEMENTWISE_BACKWARD_(S, N)                                          \
    static void S##_forward_backward_run(                                    \
        const double *x, const double *g_out, const double *g_ld,            \
        R_xlen_t ld_step, R_xlen_t n, const double *p, double *g_in,         \
        double *g_params)                                                    \
    {                                                                        \
        double acc[(N) + 1] = {0}, df[(N) + 1] = {0}, dl[(N) + 1] = {0};     \
        for (R_xlen_t i = 0; i < n; i++) {                                   \
            double gl = g_ld[i * ld_step];                                   \
            g_in[i] = g_out[i] * S##_dforward_dx(x[i], p) +                  \
                gl * S##_dfldj_dx(x[i], p);                                  \
            S##_dforward_dparams(x[i], p, df);                               \
            S##_dfldj_dparams(x[i], p, dl);                                  \
            for (int k = 0; k < (N); k++)                                    \
                acc[k] += g_out[i] * df[k] + gl * dl[k];                     \
        }                                                                    \
        for (int k = 0; k < (N); k++)                                        \
            g_params[k] += acc[k];                                           \
    }                                                                        \
    static void S##_inverse_backward_run(                                    \
        const double *x, const double *g_out, const double *g_ld,            \
        R_xlen_t ld_step, R_xlen_t n, const double *p, double *g_in,         \
        double *g_params)                                                    \
    {                                                                        \
        double acc[(N) + 1] = {0}, df[(N) + 1] = {0}, dl[(N) + 1] = {0};     \
        for (R_xlen_t i = 0; i < n; i++) {                                   \
            double gl = g_ld[i * ld_step];                                   \
            double u = (g_out[i] - gl * S##_dfldj_dx(x[i], p)) /             \
                S##_dforward_dx(x[i], p);                                    \
            g_in[i] = u;                                                     \
            S##_dforward_dparams(x[i], p, df);                               \
            S##_dfldj_dparams(x[i], p, dl);                                  \
            for (int k = 0; k < (N); k++)                                    \
                acc[k] -= u * df[k] + gl * dl[k];                            \
        }                                                                    \
        for (int k = 0; k < (N); k++)                                        \
            g_params[k] += acc[k];                                           \
    }

/* `restrict`: the output is a fresh vector that overlaps neither the input
   nor the constants, so the constants stay in registers instead of being
   reloaded after every store (the memory-bound maps gain a little). */
#define ELEMENTWISE_MAP_RUN_(S, F)                                           \
    static void S##_##F##_run(const double *restrict in,                     \
                              double *restrict out, R_xlen_t n,              \
                              const double *restrict p)                      \
    {                                                                        \
        ELEMENTWISE_SIMD                                                     \
        for (R_xlen_t i = 0; i < n; i++)                                     \
            out[i] = S##_##F(in[i], p);                                      \
    }

/* Blockwise kernels. A kind may compute a map or a log-det a block at a
   time, as S_<what>_block(in, out, n, p) for n <= ELEMENTWISE_BLOCK: a few
   tight loops over the block, each with one kind of libm call or only
   arithmetic, pipeline better than one loop that mixes them (and a branch
   taken by part of the inputs costs less in a loop of its own). It names
   BLOCK instead of SCALAR for that function in ELEMENTWISE_KIND_WITH();
   the scalar function stays (the backward passes and the constant
   log-dets use it) and must give the same values. */
#define ELEMENTWISE_BLOCK 256

#define ELEMENTWISE_BLOCKS_(S, F, BODY)                                      \
    for (R_xlen_t b = 0; b < n; b += ELEMENTWISE_BLOCK) {                    \
        int m = (int) (n - b < ELEMENTWISE_BLOCK ? n - b : ELEMENTWISE_BLOCK); \
        BODY                                                                 \
    }

#define ELEMENTWISE_MAP_SCALAR(S, F) ELEMENTWISE_MAP_RUN_(S, F)
#define ELEMENTWISE_MAP_BLOCK(S, F)                                          \
    static void S##_##F##_run(const double *in, double *out, R_xlen_t n,     \
                              const double *p)                               \
    {                                                                        \
        ELEMENTWISE_BLOCKS_(S, F, S##_##F##_block(in + b, out + b, m, p);)   \
    }

#define ELEMENTWISE_LOG_DET_SCALAR(S, F) ELEMENTWISE_RUNS_(S, F)
#define ELEMENTWISE_LOG_DET_BLOCK(S, F)                                      \
    static void S##_##F##_write_run(const double *in, double *out,           \
                                    R_xlen_t n, const double *p)             \
    {                                                                        \
        ELEMENTWISE_BLOCKS_(S, F, S##_##F##_block(in + b, out + b, m, p);)   \
    }                                                                        \
    static void S##_##F##_add_run(const double *in, double *out,             \
                                  R_xlen_t n, const double *p)               \
    {                                                                        \
        double buffer[ELEMENTWISE_BLOCK];                                    \
        ELEMENTWISE_BLOCKS_(S, F,                                            \
            S##_##F##_block(in + b, buffer, m, p);                           \
            for (int i = 0; i < m; i++)                                      \
                out[b + i] += buffer[i];)                                    \
    }                                                                        \
    /* the scalar sum's order: four accumulators by index mod 4 */           \
    static double S##_##F##_sum_run(const double *in, R_xlen_t n,            \
                                    const double *p)                         \
    {                                                                        \
        double buffer[ELEMENTWISE_BLOCK];                                    \
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;                               \
        ELEMENTWISE_BLOCKS_(S, F,                                            \
            S##_##F##_block(in + b, buffer, m, p);                           \
            int i = 0;                                                       \
            for (; i + 4 <= m; i += 4) {                                     \
                s0 += buffer[i];                                             \
                s1 += buffer[i + 1];                                         \
                s2 += buffer[i + 2];                                         \
                s3 += buffer[i + 3];                                         \
            }                                                                \
            for (; i < m; i++)                                               \
                s0 += buffer[i];)                                            \
        return (s0 + s1) + (s2 + s3);                                        \
    }

/* S_F() one element at a time, whatever the kind's runs do. */
#define ELEMENTWISE_SCALAR_RUN_(S, F)                                        \
    static void S##_##F##_scalar_run(const double *in, double *out,          \
                                     R_xlen_t n, const double *p)            \
    {                                                                        \
        for (R_xlen_t i = 0; i < n; i++)                                     \
            out[i] = S##_##F(in[i], p);                                      \
    }

/* A kind with some blockwise functions: each of FORWARD, INVERSE, FLDJ,
   ILDJ is SCALAR or BLOCK. */
#define ELEMENTWISE_KIND_WITH(S, N, LOG_DET, FORWARD, INVERSE, FLDJ, ILDJ)  \
    ELEMENTWISE_MAP_##FORWARD(S, forward)                                    \
    ELEMENTWISE_MAP_##INVERSE(S, inverse)                                    \
    ELEMENTWISE_LOG_DET_##FLDJ(S, fldj)                                      \
    ELEMENTWISE_LOG_DET_##ILDJ(S, ildj)                                      \
    ELEMENTWISE_BACKWARD_(S, N)                                              \
    ELEMENTWISE_SCALAR_RUN_(S, forward)                                      \
    ELEMENTWISE_SCALAR_RUN_(S, inverse)                                      \
    ELEMENTWISE_SCALAR_RUN_(S, fldj)                                         \
    ELEMENTWISE_SCALAR_RUN_(S, ildj)                                         \
    const elementwise_kind elementwise_kind_##S = {                          \
        #S, (N), (LOG_DET), S##_prepare,                                     \
        {S##_forward_run, S##_inverse_run},                                  \
        {S##_fldj_write_run, S##_ildj_write_run},                            \
        {S##_fldj_add_run, S##_ildj_add_run},                                \
        {S##_fldj_sum_run, S##_ildj_sum_run},                                \
        {S##_forward_backward_run, S##_inverse_backward_run},                \
        {S##_forward_scalar_run, S##_inverse_scalar_run,                     \
         S##_fldj_scalar_run, S##_ildj_scalar_run}                           \
    };

#define ELEMENTWISE_KIND(S, N, LOG_DET)                                      \
    ELEMENTWISE_MAP_RUN_(S, forward)                                         \
    ELEMENTWISE_MAP_RUN_(S, inverse)                                         \
    ELEMENTWISE_RUNS_(S, fldj)                                               \
    ELEMENTWISE_RUNS_(S, ildj)                                               \
    ELEMENTWISE_BACKWARD_(S, N)                                              \
    const elementwise_kind elementwise_kind_##S = {                          \
        #S, (N), (LOG_DET), S##_prepare,                                     \
        {S##_forward_run, S##_inverse_run},                                  \
        {S##_fldj_write_run, S##_ildj_write_run},                            \
        {S##_fldj_add_run, S##_ildj_add_run},                                \
        {S##_fldj_sum_run, S##_ildj_sum_run},                                \
        {S##_forward_backward_run, S##_inverse_backward_run},                \
        {S##_forward_run, S##_inverse_run,                                   \
         S##_fldj_write_run, S##_ildj_write_run}                             \
    };

#endif
