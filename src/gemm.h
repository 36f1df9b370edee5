/* bj_dgemm(): the package's own matrix product for the small products of
   its networks (a few hundred rows by 8 to 64 columns), where the reference
   BLAS runs at 1-2 GFLOP/s. Same arguments and semantics as BLAS dgemm
   (column-major; transa/transb 'N' or 'T' (or 'C'), lower case accepted):

     C = alpha * op(A) %*% op(B) + beta * C,  op(A) m x k, op(B) k x n.

   beta == 0 means C is not read (NaN or Inf in C do not propagate); with
   alpha == 0 or k == 0, A and B are not read; m == 0 or n == 0 returns at
   once. The arguments are not checked: lda >= max(1, rows of A as stored)
   and so on are the caller's business, as with BLAS. Results can differ from
   the system BLAS in the last bits (another summation order, fused
   multiply-adds on CPUs that have them). Not to be called from several
   threads at once (one packing buffer, reused across calls). */

#ifndef BIJECTORS_GEMM_H
#define BIJECTORS_GEMM_H

#include <stddef.h>

void bj_dgemm(char transa, char transb, int m, int n, int k, double alpha,
              const double *A, int lda, const double *B, int ldb,
              double beta, double *C, int ldc);

/* The system BLAS's dgemm with the same arguments (for callers that let a
   size rule or an option choose). */
void bj_dgemm_system(char transa, char transb, int m, int n, int k,
                     double alpha, const double *A, int lda, const double *B,
                     int ldb, double beta, double *C, int ldc);

/* The micro-kernel in use: "avx2-fma" or "portable". */
const char *bj_dgemm_kernel_name(void);

/* What the package's kernels call: bj_dgemm() or the system BLAS, as the
   option bijectors.gemm says ("auto": whichever was faster on the networks'
   shapes when first used in the session). */
void bj_gemm(char transa, char transb, int m, int n, int k, double alpha,
             const double *A, int lda, const double *B, int ldb, double beta,
             double *C, int ldc);

/* Products with a masked matrix (the MADE kernels of src/network.c), which
   skip what the mask makes zero. `first` and `end` hold one entry per
   column j of C (n entries), a half-open range [first[j], end[j]) (empty
   when first[j] >= end[j]); each tile of C uses the union of its columns'
   ranges, so any ranges are exact, sorted ones skip the most.

   BJ_SKIP_K: column j of op(B) is zero outside rows [first[j], end[j])
   (0 <= first, end <= k), and those terms are not computed. For finite A
   and B this changes no bit of C: a skipped term is x * (+-0) = +-0, and
   adding +-0 leaves an accumulator unchanged unless it is -0, which a sum
   starting at +0 reaches only by a fused multiply-add underflowing to -0
   (then a zero result may differ from the full product's in its sign). A
   tile whose columns need no terms gets alpha * 0 + beta * C, as the full
   product would. Inf or NaN in A meets a skipped zero of B without making
   NaN: a non-finite value still reaches every entry of C whose terms use it
   through a non-zero, and may or may not (depending on the tiles) reach the
   ones that only the mask's zeros connect to it.

   BJ_SKIP_C_ROWS: only rows [first[j], end[j]) of column j of C are wanted
   (0 <= first, end <= m); a tile of C holding none is set to beta * C (0
   when beta == 0) without computing it. Other unwanted entries hold the
   product: the caller masks them (the kernel gradients do). */
enum { BJ_SKIP_K = 1, BJ_SKIP_C_ROWS = 2 };

void bj_dgemm_masked(int skip, const int *first, const int *end,
                     char transa, char transb, int m, int n, int k,
                     double alpha, const double *A, int lda, const double *B,
                     int ldb, double beta, double *C, int ldc);

/* bj_dgemm_masked() or, when the option bijectors.gemm chose it, the system
   BLAS's full product (the same numbers for finite operands, every wanted
   row computed). */
void bj_gemm_masked(int skip, const int *first, const int *end, char transa,
                    char transb, int m, int n, int k, double alpha,
                    const double *A, int lda, const double *B, int ldb,
                    double beta, double *C, int ldc);

/* An epilogue: what a product does to C's values once they are final,
   segment by segment while they are still in cache (the networks' bias
   and activation, written once instead of in a second pass over C).
   fn(c, rows, column, data) gets `rows` consecutive values of column
   `column` of C starting at c; every value of C is given exactly once, in
   no particular order (and from several threads with
   options(bijectors.threads)), so fn must be elementwise: its result for a
   value may depend on the value and its column only. */
typedef struct {
    void (*fn)(double *c, int rows, int column, const void *data);
    const void *data;
} bj_epilogue;

/* bj_dgemm_masked() and bj_gemm_masked() followed by `epilogue` (or none
   when NULL) on every value of C. */
void bj_dgemm_masked_finish(int skip, const int *first, const int *end,
                            char transa, char transb, int m, int n, int k,
                            double alpha, const double *A, int lda,
                            const double *B, int ldb, double beta, double *C,
                            int ldc, const bj_epilogue *epilogue);
void bj_gemm_masked_finish(int skip, const int *first, const int *end,
                           char transa, char transb, int m, int n, int k,
                           double alpha, const double *A, int lda,
                           const double *B, int ldb, double beta, double *C,
                           int ldc, const bj_epilogue *epilogue);

/* For callers that run several products at once, one per thread (the
   networks' forward pass cut by rows, src/network.c), all on the calling
   thread's choices: bj_gemm_is_own() says whether the package's own
   product is in use (it decides "auto" now, so call it first, on the
   main thread; when 0, use bj_gemm_masked_finish()); then
   bj_dgemm_work_doubles() is the packing buffer one product of m x n x k
   needs (a multiple of 8), bj_dgemm_scratch() the package's buffer of at
   least that many doubles (64-byte aligned; valid until the next product
   outside these calls; may raise an R error, so call it on the main
   thread), and bj_dgemm_masked_finish_in() bj_dgemm_masked_finish() on
   the calling thread alone, packing into `work` (64-byte aligned), with
   no R API call: safe on several threads at once with disjoint `work` and
   disjoint parts of C. The same bits as bj_dgemm_masked_finish(). */
int bj_gemm_is_own(void);
size_t bj_dgemm_work_doubles(int m, int n, int k);
double *bj_dgemm_scratch(size_t doubles);
void bj_dgemm_masked_finish_in(double *work, int skip, const int *first,
                               const int *end, char transa, char transb,
                               int m, int n, int k, double alpha,
                               const double *A, int lda, const double *B,
                               int ldb, double beta, double *C, int ldc,
                               const bj_epilogue *epilogue);

/* The threads one product may use (options(bijectors.threads)), which
   other per-layer work of the networks (their activations) uses too. */
int bj_gemm_thread_count(void);

/* Frees the packing buffer (R_unload_bijectors). */
void bj_dgemm_release(void);

#endif
