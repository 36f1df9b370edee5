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

/* Frees the packing buffer (R_unload_bijectors). */
void bj_dgemm_release(void);

#endif
