/* A small-matrix dgemm (see gemm.h), organised as in Goto and van de
   Geijn's "Anatomy of high-performance matrix multiplication": op(B) is
   copied in blocks of KC rows x NC columns into panels NR columns wide, op(A)
   in blocks of MC x KC into panels MR rows tall, both zero-padded to whole
   panels, and a register-blocked micro-kernel multiplies one A panel by one
   B panel into an MR x NR tile of C. Packing makes every operand contiguous
   whatever the transposition, so one micro-kernel serves all cases.

   Two micro-kernels: 8 x 6 with AVX2 and FMA intrinsics (twelve 4-wide
   accumulators), compiled for that target only and chosen at run time when
   the CPU has both, and a portable 4 x 4 one in plain C that gcc -O2
   vectorises with SSE2 (or whatever the target has). R builds packages with
   no -march flag, so the AVX2 code is reached only through the target
   attribute and the run-time check. */

#define USE_FC_LEN_T
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "bijectors.h"
#include "gemm.h"
#ifdef _OPENMP
#include <omp.h>
#endif
#include <R_ext/BLAS.h>
#ifndef FCONE
#define FCONE
#endif

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define BJ_GEMM_X86 1
#include <immintrin.h>
#endif

/* Block sizes: a KC x NR panel of B (12 KB) stays in L1 while the A block
   (MC x KC, 256 KB) streams from L2. MC and NC are multiples of every MR and
   NR below. */
#define KC 256
#define MC 120
#define NC 480
#define MR_MAX 8
#define NR_MAX 6
/* the most threads one product is cut for */
#define BJ_MAX_THREADS 8

/* A micro-kernel: tile = alpha * op(A)[rows, ] %*% op(B)[, cols] over kc
   steps, for MR rows and its width of columns; then c = tile (beta == 0, c
   not read) or c = beta * c + tile. The MR values of step p start at
   a + p * as (contiguous); column j of step p is b[p * bp + j * bj]. So a
   packed panel is (as, bp, bj) = (MR, NR, 1), and an operand read in place
   is a column-major A (as = lda), B (bp = 1, bj = ldb) or B transposed
   (bp = ldb, bj = 1): small products skip most packing. */
typedef void (*micro_kernel)(int kc, const double *a, R_xlen_t as,
                             const double *b, R_xlen_t bp, R_xlen_t bj,
                             double *c, R_xlen_t ldc, double alpha,
                             double beta);

/* ---- portable micro-kernel --------------------------------------------- */

#define PMR 4
#define PNR 4

/* Written out in scalars so that the 16 accumulators live in registers
   (an accumulator array stays in memory at -O2); gcc pairs them into SSE2
   vectors where it can. */
#define P_STEP(j) do { \
        double bv = bpp[j * bj]; \
        c0##j += a0 * bv; c1##j += a1 * bv; \
        c2##j += a2 * bv; c3##j += a3 * bv; \
    } while (0)
#define P_STORE(j) do { \
        double *cj = c + j * ldc; \
        if (beta == 0.0) { \
            cj[0] = alpha * c0##j; cj[1] = alpha * c1##j; \
            cj[2] = alpha * c2##j; cj[3] = alpha * c3##j; \
        } else { \
            cj[0] = beta * cj[0] + alpha * c0##j; \
            cj[1] = beta * cj[1] + alpha * c1##j; \
            cj[2] = beta * cj[2] + alpha * c2##j; \
            cj[3] = beta * cj[3] + alpha * c3##j; \
        } \
    } while (0)

static void kernel_portable(int kc, const double *restrict a, R_xlen_t as,
                            const double *restrict b, R_xlen_t bp,
                            R_xlen_t bj, double *restrict c, R_xlen_t ldc,
                            double alpha, double beta)
{
    double c00 = 0, c10 = 0, c20 = 0, c30 = 0, c01 = 0, c11 = 0, c21 = 0,
        c31 = 0, c02 = 0, c12 = 0, c22 = 0, c32 = 0, c03 = 0, c13 = 0,
        c23 = 0, c33 = 0;
    for (int p = 0; p < kc; p++) {
        const double *ap = a + p * as, *bpp = b + p * bp;
        double a0 = ap[0], a1 = ap[1], a2 = ap[2], a3 = ap[3];
        P_STEP(0); P_STEP(1); P_STEP(2); P_STEP(3);
    }
    P_STORE(0); P_STORE(1); P_STORE(2); P_STORE(3);
}

/* ---- AVX2 + FMA micro-kernels: 8 x 6, and 8 x 4 for narrow edges -------- */

#ifdef BJ_GEMM_X86
#define AMR 8
#define ANR 6
#define ANR_NARROW 4

/* c[0..7] = alpha * (top, bottom), or beta * c + that. */
__attribute__((target("avx2,fma"), always_inline))
static inline void avx2_store(double *c, __m256d top, __m256d bottom,
                              double alpha, double beta)
{
    __m256d va = _mm256_set1_pd(alpha);
    top = _mm256_mul_pd(va, top);
    bottom = _mm256_mul_pd(va, bottom);
    if (beta != 0.0) {
        __m256d vb = _mm256_set1_pd(beta);
        top = _mm256_add_pd(_mm256_mul_pd(vb, _mm256_loadu_pd(c)), top);
        bottom = _mm256_add_pd(_mm256_mul_pd(vb, _mm256_loadu_pd(c + 4)),
                               bottom);
    }
    _mm256_storeu_pd(c, top);
    _mm256_storeu_pd(c + 4, bottom);
}

#define AVX2_ZERO(j) \
    __m256d c0##j = _mm256_setzero_pd(), c1##j = _mm256_setzero_pd()
#define AVX2_STEP(j) do { \
        __m256d bv = _mm256_broadcast_sd(b##j + off); \
        c0##j = _mm256_fmadd_pd(a0, bv, c0##j); \
        c1##j = _mm256_fmadd_pd(a1, bv, c1##j); \
    } while (0)
#define AVX2_STORE(j) avx2_store(c + j * ldc, c0##j, c1##j, alpha, beta)

__attribute__((target("avx2,fma")))
static void kernel_avx2(int kc, const double *a, R_xlen_t as,
                        const double *b, R_xlen_t bp, R_xlen_t bj, double *c,
                        R_xlen_t ldc, double alpha, double beta)
{
    const double *b0 = b, *b1 = b + bj, *b2 = b + 2 * bj, *b3 = b + 3 * bj,
        *b4 = b + 4 * bj, *b5 = b + 5 * bj;
    AVX2_ZERO(0); AVX2_ZERO(1); AVX2_ZERO(2);
    AVX2_ZERO(3); AVX2_ZERO(4); AVX2_ZERO(5);
    R_xlen_t off = 0;
    for (int p = 0; p < kc; p++) {
        __m256d a0 = _mm256_loadu_pd(a), a1 = _mm256_loadu_pd(a + 4);
        AVX2_STEP(0); AVX2_STEP(1); AVX2_STEP(2);
        AVX2_STEP(3); AVX2_STEP(4); AVX2_STEP(5);
        a += as;
        off += bp;
    }
    AVX2_STORE(0); AVX2_STORE(1); AVX2_STORE(2);
    AVX2_STORE(3); AVX2_STORE(4); AVX2_STORE(5);
}

__attribute__((target("avx2,fma")))
static void kernel_avx2_narrow(int kc, const double *a, R_xlen_t as,
                               const double *b, R_xlen_t bp, R_xlen_t bj,
                               double *c, R_xlen_t ldc, double alpha,
                               double beta)
{
    const double *b0 = b, *b1 = b + bj, *b2 = b + 2 * bj, *b3 = b + 3 * bj;
    AVX2_ZERO(0); AVX2_ZERO(1); AVX2_ZERO(2); AVX2_ZERO(3);
    R_xlen_t off = 0;
    for (int p = 0; p < kc; p++) {
        __m256d a0 = _mm256_loadu_pd(a), a1 = _mm256_loadu_pd(a + 4);
        AVX2_STEP(0); AVX2_STEP(1); AVX2_STEP(2); AVX2_STEP(3);
        a += as;
        off += bp;
    }
    AVX2_STORE(0); AVX2_STORE(1); AVX2_STORE(2); AVX2_STORE(3);
}
#endif

/* ---- the kernels in use, chosen once ----------------------------------- */

/* mr rows; `full` nr columns wide; `narrow` (or NULL) narrow_nr wide, for
   the last few columns. */
typedef struct {
    micro_kernel full, narrow;
    int mr, nr, narrow_nr;
    const char *name;
} kernel_set;

static const kernel_set portable_set = {kernel_portable, NULL, PMR, PNR, 0,
                                        "portable"};
static kernel_set chosen;

static void choose_kernel(void)
{
#ifdef BJ_GEMM_X86
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        kernel_set avx2 = {kernel_avx2, kernel_avx2_narrow, AMR, ANR,
                           ANR_NARROW, "avx2-fma"};
        chosen = avx2;
        return;
    }
#endif
    chosen = portable_set;
}

const char *bj_dgemm_kernel_name(void)
{
    if (!chosen.full)
        choose_kernel();
    return chosen.name;
}

/* ---- packing ------------------------------------------------------------ */

/* op(A)[i0 + (0..mc-1), p0 + (0..kc-1)] into panels mr rows tall:
   panel r holds, for each p, rows r*mr .. r*mr + mr - 1 (zero past mc). */
static void pack_a(int trans, int mc, int kc, const double *A, R_xlen_t lda,
                   int i0, int p0, int mr, double *dst)
{
    if (!trans) {
        /* a column of A at a time, read once from start to end into every
           panel (reading a panel's rows of each column in turn strides by
           lda, often a power of two, and waits on every line) */
        const R_xlen_t panel_size = (R_xlen_t) kc * mr;
        for (int p = 0; p < kc; p++) {
            const double *col = A + i0 + (R_xlen_t) (p0 + p) * lda;
            double *d = dst + (R_xlen_t) p * mr;
            int i = 0;
            /* whole panels in fixed-size copies */
            if (mr == 8)
                for (; i + 8 <= mc; i += 8, d += panel_size)
                    memcpy(d, col + i, 8 * sizeof(double));
            else if (mr == 4)
                for (; i + 4 <= mc; i += 4, d += panel_size)
                    memcpy(d, col + i, 4 * sizeof(double));
            for (; i < mc; i += mr, d += panel_size) {
                int rows = mc - i < mr ? mc - i : mr, ii = 0;
                for (; ii < rows; ii++)
                    d[ii] = col[i + ii];
                for (; ii < mr; ii++)
                    d[ii] = 0.0;
            }
        }
        return;
    }
    /* op(A)[i, p] = A[p, i]: row i of op(A) is column i of A */
    for (int i = 0; i < mc; i += mr) {
        int rows = mc - i < mr ? mc - i : mr;
        {
            int ii = 0;
#if defined(BJ_GEMM_X86) && defined(__SSE2__)
            /* two columns of A at a time, two steps of p at a time: a 2 x 2
               transpose in SSE2 registers (a copy, so the same values) */
            for (; ii + 2 <= rows; ii += 2) {
                const double *c0 = A + p0 + (R_xlen_t) (i0 + i + ii) * lda;
                const double *c1 = c0 + lda;
                double *d = dst + ii;
                int p = 0;
                for (; p + 2 <= kc; p += 2) {
                    __m128d x = _mm_loadu_pd(c0 + p), y = _mm_loadu_pd(c1 + p);
                    _mm_storeu_pd(d + (R_xlen_t) p * mr, _mm_unpacklo_pd(x, y));
                    _mm_storeu_pd(d + (R_xlen_t) (p + 1) * mr,
                                  _mm_unpackhi_pd(x, y));
                }
                for (; p < kc; p++) {
                    d[(R_xlen_t) p * mr] = c0[p];
                    d[(R_xlen_t) p * mr + 1] = c1[p];
                }
            }
#endif
            for (; ii < mr; ii++) {
                if (ii < rows) {
                    const double *col = A + p0 + (R_xlen_t) (i0 + i + ii) * lda;
                    for (int p = 0; p < kc; p++)
                        dst[p * mr + ii] = col[p];
                } else {
                    for (int p = 0; p < kc; p++)
                        dst[p * mr + ii] = 0.0;
                }
            }
            dst += (R_xlen_t) kc * mr;
        }
    }
}

/* op(B)[p0 + (0..kc-1), j0 + (0..nc-1)] into panels nr columns wide:
   panel s holds, for each p, columns s*nr .. s*nr + nr - 1 (zero past nc). */
static void pack_b(int trans, int kc, int nc, const double *B, R_xlen_t ldb,
                   int p0, int j0, int nr, double *dst)
{
    for (int j = 0; j < nc; j += nr) {
        int cols = nc - j < nr ? nc - j : nr;
        if (!trans) {
            for (int jj = 0; jj < nr; jj++) {
                if (jj < cols) {
                    const double *col = B + p0 + (R_xlen_t) (j0 + j + jj) * ldb;
                    for (int p = 0; p < kc; p++)
                        dst[p * nr + jj] = col[p];
                } else {
                    for (int p = 0; p < kc; p++)
                        dst[p * nr + jj] = 0.0;
                }
            }
        } else {
            /* op(B)[p, j] = B[j, p]: contiguous along j */
            const double *src = B + (j0 + j) + (R_xlen_t) p0 * ldb;
            for (int p = 0; p < kc; p++) {
                const double *col = src + p * ldb;
                int jj = 0;
                for (; jj < cols; jj++)
                    dst[p * nr + jj] = col[jj];
                for (; jj < nr; jj++)
                    dst[p * nr + jj] = 0.0;
            }
        }
        dst += (R_xlen_t) kc * nr;
    }
}

/* ---- scratch ------------------------------------------------------------ */

/* One buffer for the packed blocks, kept between calls (it is at most
   (MC + NC) * KC doubles, under 1.2 MB) and aligned to 64 bytes. */
static void *scratch_raw;
static size_t scratch_doubles;

static double *scratch(size_t doubles)
{
    if (doubles > scratch_doubles) {
        free(scratch_raw);
        scratch_raw = NULL;
        scratch_doubles = 0;
        scratch_raw = malloc(doubles * sizeof(double) + 64);
        if (!scratch_raw)
            Rf_error("bj_dgemm: cannot allocate %.0f bytes of scratch",
                     (double) doubles * sizeof(double) + 64);
        scratch_doubles = doubles;
    }
    uintptr_t address = (uintptr_t) scratch_raw;
    return (double *) ((address + 63) & ~(uintptr_t) 63);
}

void bj_dgemm_release(void)
{
    free(scratch_raw);
    scratch_raw = NULL;
    scratch_doubles = 0;
}

/* ---- the product -------------------------------------------------------- */

static int is_trans(char t)
{
    return t == 'T' || t == 't' || t == 'C' || t == 'c';
}

/* C[, 0..n-1] (m rows) = beta * C, not reading C when beta == 0. */
static void scale_c(int m, int n, double beta, double *C, R_xlen_t ldc)
{
    for (int j = 0; j < n; j++) {
        double *cj = C + j * ldc;
        if (beta == 0.0)
            for (int i = 0; i < m; i++)
                cj[i] = 0.0;
        else
            for (int i = 0; i < m; i++)
                cj[i] *= beta;
    }
}

/* What a product may skip (bj_gemm_masked(), gemm.h): nothing (kind 0),
   the terms outside column j of op(B)'s rows [first[j], end[j])
   (BJ_SKIP_K), or the tiles of C holding none of column j's wanted rows
   [first[j], end[j]) (BJ_SKIP_C_ROWS). first and end index the columns of
   this product's C; row_offset is the row of the ranges that this
   product's row 0 is (a part of a product split by rows). */
typedef struct {
    int kind;
    const int *first, *end;
    int row_offset;
    /* the epilogue (none when NULL), and the column of the whole product's
       C that this product's column 0 is (a part split by columns) */
    const bj_epilogue *epilogue;
    int column_offset;
} skip_ranges;

static const skip_ranges no_skip = {0, NULL, NULL, 0, NULL, 0};

/* The epilogue on rows [i0, i0 + rows) of columns [j0, j0 + cols) of C,
   once they hold their final values: each column's segment while it is
   still in L1, instead of a pass over the whole of C afterwards. */
static void finish_columns(const skip_ranges *s, double *C, R_xlen_t ldc,
                           int i0, int rows, int j0, int cols)
{
    const bj_epilogue *e = s->epilogue;
    if (!e || rows <= 0)
        return;
    for (int j = j0; j < j0 + cols; j++)
        e->fn(C + i0 + (R_xlen_t) j * ldc, rows, s->column_offset + j,
              e->data);
}

/* The union of the ranges of columns j0 .. j0 + cols - 1 clipped to
   [0, limit), as [*lo, *hi) (0, 0 when empty). A tile takes the union of
   its columns' ranges, so unsorted ranges are still exact, only with less
   to skip. */
static void range_union(const skip_ranges *s, int j0, int cols, int shift,
                        int limit, int *lo, int *hi)
{
    int l = limit, h = 0;
    for (int j = j0; j < j0 + cols; j++) {
        int f = s->first[j] - shift, e = s->end[j] - shift;
        if (f < 0)
            f = 0;
        if (e > limit)
            e = limit;
        if (f >= e)
            continue;
        if (f < l)
            l = f;
        if (e > h)
            h = e;
    }
    if (l >= h)
        l = h = 0;
    *lo = l;
    *hi = h;
}

/* For the tile panel of C's columns j0 .. j0 + cols - 1 of a product with
   inner dimension k and m rows: the terms [*k_lo, *k_hi) it needs and the
   rows [*row_lo, *row_hi) of C it must compute (everything for no_skip). */
static void panel_ranges(const skip_ranges *s, int j0, int cols, int k, int m,
                         int *k_lo, int *k_hi, int *row_lo, int *row_hi)
{
    *k_lo = 0;
    *k_hi = k;
    *row_lo = 0;
    *row_hi = m;
    if (s->kind == BJ_SKIP_K)
        range_union(s, j0, cols, 0, k, k_lo, k_hi);
    else if (s->kind == BJ_SKIP_C_ROWS)
        range_union(s, j0, cols, s->row_offset, m, row_lo, row_hi);
}

/* One mr x w tile of C (w the full or the narrow width) from operands
   valid for all mr rows and w columns (in place or zero-padded): straight
   into C when the tile is whole, else through a local tile of which only
   rows x cols go to C. */
static void run_tile(const kernel_set *ks, int w, int kc, const double *a,
                     R_xlen_t as, const double *b, R_xlen_t bp, R_xlen_t bj,
                     int rows, int cols, double *c, R_xlen_t ldc,
                     double alpha, double beta)
{
    micro_kernel kernel = w == ks->nr ? ks->full : ks->narrow;
    if (rows == ks->mr && cols == w) {
        kernel(kc, a, as, b, bp, bj, c, ldc, alpha, beta);
        return;
    }
    double tile[MR_MAX * NR_MAX];
    kernel(kc, a, as, b, bp, bj, tile, ks->mr, alpha, 0.0);
    for (int j = 0; j < cols; j++) {
        double *cj = c + j * ldc;
        const double *tj = tile + j * ks->mr;
        if (beta == 0.0)
            for (int i = 0; i < rows; i++)
                cj[i] = tj[i];
        else
            for (int i = 0; i < rows; i++)
                cj[i] = beta * cj[i] + tj[i];
    }
}

#define NARROW_FINISH 48

/* A narrow product (n <= 16, m > n) as C^T = op(B)^T op(A)^T: the n
   columns become the micro-kernel's rows, so that 8 or 16 columns fill
   whole tiles, op(B)^T (small) is the packed operand and op(A) is read in
   place; the tiles go into C transposed. */
static void gemm_narrow(const kernel_set *ks, int ta, int tb, int m, int n,
                        int k, double alpha, const double *A, R_xlen_t lda,
                        const double *B, R_xlen_t ldb, double beta,
                        double *C, R_xlen_t ldc, double *work,
                        const skip_ranges *skip)
{
    const int mr = ks->mr;
    const int n_round = (n + mr - 1) / mr * mr;
    size_t a_size = (size_t) k * (size_t) n_round;
    size_t a_round = (a_size + 7) / 8 * 8;
    double *a_buf = work;
    double *b_edge = a_buf + a_round;
    double tile[MR_MAX * NR_MAX];
    /* op(B)^T[i, p] = op(B)[p, i] */
    pack_a(!tb, n, k, B, ldb, 0, 0, mr, a_buf);
    /* the ranges of each block of mr columns of C, once (this path has
       n <= 16, so at most 16 blocks) */
    int k_lo[16], k_hi[16], row_lo[16], row_hi[16];
    for (int ir = 0, block = 0; ir < n && block < 16; ir += mr, block++)
        panel_ranges(skip, ir, n - ir < mr ? n - ir : mr, k, m, k_lo + block,
                     k_hi + block, row_lo + block, row_hi + block);
    /* rows of C before `finished` have had the epilogue, which runs on
       blocks of about NARROW_FINISH rows (NARROW_FINISH x n values stay in
       L1), not on each tile's few rows */
    int jr = 0, finished = 0;
    while (jr < m) {
        int rest = m - jr;
        int w = ks->narrow && rest <= ks->narrow_nr ? ks->narrow_nr : ks->nr;
        int cols = rest < w ? rest : w;
        /* op(A)^T[p, j] = op(A)[j, p] */
        const double *b;
        R_xlen_t bp, bj;
        if (cols < w) {
            pack_b(!ta, k, cols, A, lda, 0, jr, w, b_edge);
            b = b_edge;
            bp = w;
            bj = 1;
        } else if (ta) {
            b = A + jr * lda;
            bp = 1;
            bj = lda;
        } else {
            b = A + jr;
            bp = lda;
            bj = 1;
        }
        micro_kernel kernel = w == ks->nr ? ks->full : ks->narrow;
        for (int ir = 0; ir < n; ir += mr) {
            int rows = n - ir < mr ? n - ir : mr;
            /* the tile is C's rows jr.. and columns ir.. */
            int block = ir / mr;
            if (jr + cols <= row_lo[block] || jr >= row_hi[block]) {
                scale_c(cols, rows, beta, C + jr + (R_xlen_t) ir * ldc, ldc);
                continue;
            }
            int lo = k_lo[block];
            kernel(k_hi[block] - lo,
                   a_buf + (R_xlen_t) ir * k + (R_xlen_t) lo * mr, mr,
                   b + lo * bp, bp, bj, tile, mr, alpha, 0.0);
            /* tile[i, j] is C[jr + j, ir + i] */
            for (int i = 0; i < rows; i++) {
                double *ci = C + jr + (ir + i) * ldc;
                if (beta == 0.0)
                    for (int j = 0; j < cols; j++)
                        ci[j] = tile[i + j * mr];
                else
                    for (int j = 0; j < cols; j++)
                        ci[j] = beta * ci[j] + tile[i + j * mr];
            }
        }
        jr += cols;
        if (jr - finished >= NARROW_FINISH || jr == m) {
            finish_columns(skip, C, ldc, finished, jr - finished, 0, n);
            finished = jr;
        }
    }
}

/* Products whose k fits one block and whose op(A) fits L2 (at most 64K
   values): no blocking; op(A) is packed whole (in place, a leading
   dimension that is a power of two would map its columns onto a few cache
   sets), op(B) is read in place except its last partial column panel,
   packed with zero padding. */
static void gemm_small(const kernel_set *ks, int ta, int tb, int m, int n,
                       int k, double alpha, const double *A, R_xlen_t lda,
                       const double *B, R_xlen_t ldb, double beta, double *C,
                       R_xlen_t ldc, double *work, const skip_ranges *skip)
{
    const int mr = ks->mr;
    const int m_round = (m + mr - 1) / mr * mr;
    size_t a_size = (size_t) k * (size_t) m_round;
    size_t a_round = (a_size + 7) / 8 * 8;
    double *a_buf = work;
    double *b_edge = a_buf + a_round;
    pack_a(ta, m, k, A, lda, 0, 0, mr, a_buf);
    int jr = 0;
    while (jr < n) {
        int rest = n - jr;
        int w = ks->narrow && rest <= ks->narrow_nr ? ks->narrow_nr : ks->nr;
        int cols = rest < w ? rest : w;
        const double *b;
        R_xlen_t bp, bj;
        if (cols < w) {
            pack_b(tb, k, cols, B, ldb, 0, jr, w, b_edge);
            b = b_edge;
            bp = w;
            bj = 1;
        } else if (!tb) {
            b = B + jr * ldb;
            bp = 1;
            bj = ldb;
        } else {
            b = B + jr;
            bp = ldb;
            bj = 1;
        }
        int k_lo, k_hi, row_lo, row_hi;
        panel_ranges(skip, jr, cols, k, m, &k_lo, &k_hi, &row_lo, &row_hi);
        for (int ir = 0; ir < m; ir += mr) {
            int rows = m - ir < mr ? m - ir : mr;
            if (ir + rows <= row_lo || ir >= row_hi) {
                scale_c(rows, cols, beta, C + ir + jr * ldc, ldc);
                continue;
            }
            run_tile(ks, w, k_hi - k_lo,
                     a_buf + (R_xlen_t) ir * k + (R_xlen_t) k_lo * mr, mr,
                     b + k_lo * bp, bp, bj, rows, cols, C + ir + jr * ldc,
                     ldc, alpha, beta);
        }
        /* the panel's columns are final (k is one block) */
        finish_columns(skip, C, ldc, 0, m, jr, cols);
        jr += cols;
    }
}

/* The three ways of computing a product, by size. */
enum { PATH_NARROW, PATH_SMALL, PATH_BLOCKED };

static int product_path(int m, int n, int k)
{
    if (k <= KC && n <= 16 && m > n && (double) n * k <= 65536)
        return PATH_NARROW;
    if (k <= KC && (double) m * k <= 65536)
        return PATH_SMALL;
    return PATH_BLOCKED;
}

/* The doubles of packing buffer a product of m x n x k needs (each path
   packs one operand whole, or blocks of both). */
static size_t work_doubles(const kernel_set *ks, int path, int m, int n,
                           int k)
{
    const int mr = ks->mr, nr = ks->nr;
    switch (path) {
    case PATH_NARROW:
        return ((size_t) k * (size_t) ((n + mr - 1) / mr * mr) + 7) / 8 * 8 +
            (size_t) k * NR_MAX;
    case PATH_SMALL:
        return ((size_t) k * (size_t) ((m + mr - 1) / mr * mr) + 7) / 8 * 8 +
            (size_t) k * NR_MAX;
    default: {
        const int kc_max = k < KC ? k : KC;
        const int mc_max = m < MC ? m : MC;
        const int nc_max = n < NC ? n : NC;
        size_t a_size = (size_t) kc_max *
            (size_t) ((mc_max + mr - 1) / mr * mr);
        size_t b_size = (size_t) kc_max *
            (size_t) ((nc_max + nr - 1) / nr * nr);
        return (b_size + 7) / 8 * 8 + a_size;
    }
    }
}

/* bj_dgemm() with a given set of micro-kernels and path, packing into
   `work` (at least work_doubles() long, 64-byte aligned). Every path is
   exact for every shape; the path only decides the speed. */
static void gemm_path(const kernel_set *ks, int path, char transa,
                      char transb, int m, int n, int k, double alpha,
                      const double *A, int lda, const double *B, int ldb,
                      double beta, double *C, int ldc, double *work,
                      const skip_ranges *skip)
{
    if (m <= 0 || n <= 0)
        return;
    if (alpha == 0.0 || k <= 0) {
        if (beta != 1.0)
            scale_c(m, n, beta, C, ldc);
        finish_columns(skip, C, ldc, 0, m, 0, n);
        return;
    }
    const int ta = is_trans(transa), tb = is_trans(transb);
    switch (path) {
    case PATH_NARROW:
        gemm_narrow(ks, ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc,
                    work, skip);
        return;
    case PATH_SMALL:
        gemm_small(ks, ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc,
                   work, skip);
        return;
    default:
        break;
    }
    const int mr = ks->mr, nr = ks->nr;
    const int kc_max = k < KC ? k : KC;
    const int mc_max = m < MC ? m : MC;
    const int nc_max = n < NC ? n : NC;
    size_t b_size = (size_t) kc_max * (size_t) ((nc_max + nr - 1) / nr * nr);
    /* b first, a after it at a 64-byte boundary */
    size_t b_round = (b_size + 7) / 8 * 8;
    double *b_pack = work;
    double *a_pack = b_pack + b_round;

    for (int jc = 0; jc < n; jc += NC) {
        int nc = n - jc < NC ? n - jc : NC;
        for (int pc = 0; pc < k; pc += KC) {
            int kc = k - pc < KC ? k - pc : KC;
            /* the first block of k applies beta, the next ones add */
            double beta_block = pc == 0 ? beta : 1.0;
            pack_b(tb, kc, nc, B, ldb, pc, jc, nr, b_pack);
            for (int ic = 0; ic < m; ic += MC) {
                int mc = m - ic < MC ? m - ic : MC;
                pack_a(ta, mc, kc, A, lda, ic, pc, mr, a_pack);
                for (int jr = 0; jr < nc; jr += nr) {
                    int cols = nc - jr < nr ? nc - jr : nr;
                    const double *bp = b_pack + (R_xlen_t) jr * kc;
                    /* this block's part of the panel's terms */
                    int k_lo, k_hi, row_lo, row_hi;
                    panel_ranges(skip, jc + jr, cols, k, m, &k_lo, &k_hi,
                                 &row_lo, &row_hi);
                    k_lo = k_lo > pc ? k_lo - pc : 0;
                    k_hi = k_hi < pc + kc ? k_hi - pc : kc;
                    if (k_hi < k_lo)
                        k_lo = k_hi = 0;
                    for (int ir = 0; ir < mc; ir += mr) {
                        int rows = mc - ir < mr ? mc - ir : mr;
                        double *c = C + (ic + ir) + (R_xlen_t) (jc + jr) * ldc;
                        if (ic + ir + rows <= row_lo || ic + ir >= row_hi) {
                            if (pc == 0)
                                scale_c(rows, cols, beta, c, ldc);
                            continue;
                        }
                        run_tile(ks, nr, k_hi - k_lo,
                                 a_pack + (R_xlen_t) ir * kc +
                                 (R_xlen_t) k_lo * mr, mr,
                                 bp + (R_xlen_t) k_lo * nr, nr, 1, rows, cols,
                                 c, ldc, alpha, beta_block);
                    }
                    /* after the last block of k, these rows are final */
                    if (pc + kc >= k)
                        finish_columns(skip, C, ldc, ic, mc, jc + jr, cols);
                }
            }
        }
    }
}

/* ---- one product, on one or several threads ----------------------------- */

/* Threads for one product (options(bijectors.threads), R/gemm.R). */
static int gemm_threads = 1;

/* Products of fewer flops stay on one thread: waking a second one costs
   more than it saves. */
#define PARALLEL_MIN_FLOPS 400000.0
/* Where products are cut between threads: a multiple of every kernel's
   tile height and width, so that each part is tiled exactly as the whole
   and gives the same bits. */
#define SPLIT_QUANTUM 24

/* One product on `threads` threads: the rows of C (or, when there are too
   few, its columns) in contiguous parts, each a product of its own with the
   path of the whole, into its own packing buffer. Each element of C is
   computed by the same operations in the same order as on one thread. */
static void gemm_with(const kernel_set *ks, int threads, char transa,
                      char transb, int m, int n, int k, double alpha,
                      const double *A, int lda, const double *B, int ldb,
                      double beta, double *C, int ldc,
                      const skip_ranges *skip)
{
    const int path = product_path(m, n, k);
    int parts = 1, by_rows = 1;
    if (threads > 1 && m > 0 && n > 0 && k > 0 && alpha != 0.0 &&
        2.0 * m * n * k >= PARALLEL_MIN_FLOPS) {
        if (m >= 2 * SPLIT_QUANTUM) {
            parts = m / SPLIT_QUANTUM;
        } else if (n >= 2 * SPLIT_QUANTUM) {
            parts = n / SPLIT_QUANTUM;
            by_rows = 0;
        }
        if (parts > threads)
            parts = threads;
    }
    if (parts <= 1) {
        gemm_path(ks, path, transa, transb, m, n, k, alpha, A, lda, B, ldb,
                  beta, C, ldc, scratch(work_doubles(ks, path, m, n, k)),
                  skip);
        return;
    }
    /* part p covers [start[p], start[p + 1]) of the rows or columns, in
       whole quanta but the last */
    int start[BJ_MAX_THREADS + 1];
    int extent = by_rows ? m : n, quanta = extent / SPLIT_QUANTUM;
    for (int p = 0; p < parts; p++)
        start[p] = (int) ((long long) quanta * p / parts) * SPLIT_QUANTUM;
    start[parts] = extent;
    size_t offset[BJ_MAX_THREADS + 1];
    offset[0] = 0;
    for (int p = 0; p < parts; p++) {
        int size = start[p + 1] - start[p];
        size_t need = by_rows ? work_doubles(ks, path, size, n, k) :
            work_doubles(ks, path, m, size, k);
        offset[p + 1] = offset[p] + (need + 7) / 8 * 8;
    }
    double *work = scratch(offset[parts]);
    const int ta = is_trans(transa), tb = is_trans(transb);
#ifdef _OPENMP
#pragma omp parallel for num_threads(parts) schedule(static, 1)
#endif
    for (int p = 0; p < parts; p++) {
        int first = start[p], size = start[p + 1] - start[p];
        /* the part's ranges: its columns' (the same ones when split by
           rows, its rows starting `first` rows further) */
        skip_ranges part = *skip;
        if (by_rows) {
            part.row_offset += first;
            /* rows of op(A): columns of A when transposed */
            const double *a = A + (ta ? (R_xlen_t) first * lda : first);
            gemm_path(ks, path, transa, transb, size, n, k, alpha, a, lda, B,
                      ldb, beta, C + first, ldc, work + offset[p], &part);
        } else {
            if (part.kind) {
                part.first += first;
                part.end += first;
            }
            part.column_offset += first;
            /* columns of op(B): rows of B when transposed */
            const double *b = B + (tb ? first : (R_xlen_t) first * ldb);
            gemm_path(ks, path, transa, transb, m, size, k, alpha, A, lda, b,
                      ldb, beta, C + (R_xlen_t) first * ldc, ldc,
                      work + offset[p], &part);
        }
    }
}

int bj_gemm_thread_count(void)
{
    return gemm_threads;
}

void bj_dgemm(char transa, char transb, int m, int n, int k, double alpha,
              const double *A, int lda, const double *B, int ldb,
              double beta, double *C, int ldc)
{
    if (!chosen.full)
        choose_kernel();
    gemm_with(&chosen, gemm_threads, transa, transb, m, n, k, alpha, A, lda,
              B, ldb, beta, C, ldc, &no_skip);
}

void bj_dgemm_masked(int skip, const int *first, const int *end,
                     char transa, char transb, int m, int n, int k,
                     double alpha, const double *A, int lda, const double *B,
                     int ldb, double beta, double *C, int ldc)
{
    bj_dgemm_masked_finish(skip, first, end, transa, transb, m, n, k, alpha,
                           A, lda, B, ldb, beta, C, ldc, NULL);
}

size_t bj_dgemm_work_doubles(int m, int n, int k)
{
    if (!chosen.full)
        choose_kernel();
    if (m <= 0 || n <= 0 || k <= 0)
        return 8;
    return (work_doubles(&chosen, product_path(m, n, k), m, n, k) + 7) /
        8 * 8;
}

double *bj_dgemm_scratch(size_t doubles)
{
    return scratch(doubles);
}

void bj_dgemm_masked_finish_in(double *work, int skip, const int *first,
                               const int *end, char transa, char transb,
                               int m, int n, int k, double alpha,
                               const double *A, int lda, const double *B,
                               int ldb, double beta, double *C, int ldc,
                               const bj_epilogue *epilogue)
{
    int kind = skip == BJ_SKIP_K || skip == BJ_SKIP_C_ROWS ? skip : 0;
    skip_ranges ranges = {kind, kind ? first : NULL, kind ? end : NULL, 0,
                          epilogue, 0};
    gemm_path(&chosen, product_path(m, n, k), transa, transb, m, n, k, alpha,
              A, lda, B, ldb, beta, C, ldc, work, &ranges);
}

void bj_dgemm_masked_finish(int skip, const int *first, const int *end,
                            char transa, char transb, int m, int n, int k,
                            double alpha, const double *A, int lda,
                            const double *B, int ldb, double beta, double *C,
                            int ldc, const bj_epilogue *epilogue)
{
    if (!chosen.full)
        choose_kernel();
    int kind = skip == BJ_SKIP_K || skip == BJ_SKIP_C_ROWS ? skip : 0;
    skip_ranges ranges = {kind, kind ? first : NULL, kind ? end : NULL, 0,
                          epilogue, 0};
    gemm_with(&chosen, gemm_threads, transa, transb, m, n, k, alpha, A, lda,
              B, ldb, beta, C, ldc, &ranges);
}

/* C_gemm_threads(threads): sets the threads of one product (NULL leaves
   them), at most BJ_MAX_THREADS and the processors OpenMP sees; 1 when
   the package was built without OpenMP. Returns the number in force. */
SEXP C_gemm_threads(SEXP threads)
{
    if (threads != R_NilValue) {
        if (TYPEOF(threads) != INTSXP || XLENGTH(threads) != 1 ||
            INTEGER(threads)[0] == NA_INTEGER || INTEGER(threads)[0] < 1)
            Rf_error("`threads` must be a whole number >= 1");
        int t = INTEGER(threads)[0];
#ifdef _OPENMP
        int limit = omp_get_num_procs();
        if (omp_get_thread_limit() < limit)
            limit = omp_get_thread_limit();
        if (t > limit)
            t = limit;
#else
        t = 1;
#endif
        gemm_threads = t < BJ_MAX_THREADS ? t : BJ_MAX_THREADS;
    }
    return Rf_ScalarInteger(gemm_threads);
}

void bj_dgemm_system(char transa, char transb, int m, int n, int k,
                     double alpha, const double *A, int lda, const double *B,
                     int ldb, double beta, double *C, int ldc)
{
    char ta[2] = {transa, 0}, tb[2] = {transb, 0};
    F77_CALL(dgemm)(ta, tb, &m, &n, &k, &alpha, A, &lda, B, &ldb, &beta, C,
                    &ldc FCONE FCONE);
}

/* ---- the package's choice: bj_dgemm or the system BLAS ----------------- */

/* GEMM_AUTO until the first product decides; R sets it from the option
   bijectors.gemm (R/gemm.R). */
enum { GEMM_AUTO = 0, GEMM_OWN = 1, GEMM_SYSTEM = 2 };
/* the package's own product unless R says otherwise: the same bits with
   any system BLAS, and no timing that could choose differently per run */
static int gemm_mode = GEMM_OWN;

/* CPU seconds for `rounds` of the nine products of one block of a
   training step of a MAF network 8 -> 64 -> 64 -> 16 on 256 rows (forward,
   kernel gradients, input gradients) by one backend. x and y are 256 x 64,
   w and g 64 x 64, z 256 x 64; inputs and outputs never overlap. */
static double time_backend(int own, int rounds, const double *x,
                           const double *w, double *y, double *g, double *z)
{
    void (*f)(char, char, int, int, int, double, const double *, int,
              const double *, int, double, double *, int) =
        own ? bj_dgemm : bj_dgemm_system;
    clock_t start = clock();
    for (int r = 0; r < rounds; r++) {
        f('N', 'N', 256, 64, 8, 1.0, x, 256, w, 8, 0.0, y, 256);
        f('N', 'N', 256, 64, 64, 1.0, x, 256, w, 64, 0.0, y, 256);
        f('N', 'N', 256, 16, 64, 1.0, x, 256, w, 64, 0.0, y, 256);
        f('T', 'N', 8, 64, 256, 1.0, x, 256, y, 256, 0.0, g, 8);
        f('T', 'N', 64, 64, 256, 1.0, x, 256, y, 256, 0.0, g, 64);
        f('T', 'N', 64, 16, 256, 1.0, x, 256, y, 256, 0.0, g, 64);
        f('N', 'T', 256, 64, 16, 1.0, y, 256, w, 64, 0.0, z, 256);
        f('N', 'T', 256, 64, 64, 1.0, y, 256, w, 64, 0.0, z, 256);
        f('N', 'T', 256, 8, 64, 1.0, y, 256, w, 8, 0.0, z, 256);
    }
    return (double) (clock() - start) / CLOCKS_PER_SEC;
}

/* "auto": time both backends on the networks' shapes, interleaved, five
   times each, and keep the faster by its best time (a shared machine's
   noise only ever adds). About 15 ms with the reference BLAS, once. */
static void calibrate(void)
{
    size_t sizes[5] = {256 * 64, 64 * 64, 256 * 64, 64 * 64, 256 * 64};
    double *x = malloc((sizes[0] + sizes[1] + sizes[2] + sizes[3] +
                        sizes[4]) * sizeof(double));
    if (!x) {
        gemm_mode = GEMM_OWN;
        return;
    }
    double *w = x + sizes[0], *y = w + sizes[1], *g = y + sizes[2];
    double *z = g + sizes[3];
    for (size_t i = 0; i < sizes[0]; i++)
        x[i] = (double) (i % 17) / 17.0 - 0.5;
    for (size_t i = 0; i < sizes[1]; i++)
        w[i] = (double) (i % 13) / 104.0 - 0.06;
    double best_own = 1e300, best_system = 1e300;
    for (int trial = 0; trial < 5; trial++) {
        double t = time_backend(1, 4, x, w, y, g, z);
        if (t < best_own)
            best_own = t;
        t = time_backend(0, 4, x, w, y, g, z);
        if (t < best_system)
            best_system = t;
    }
    free(x);
    gemm_mode = best_system < best_own ? GEMM_SYSTEM : GEMM_OWN;
}

void bj_gemm(char transa, char transb, int m, int n, int k, double alpha,
             const double *A, int lda, const double *B, int ldb, double beta,
             double *C, int ldc)
{
    if (gemm_mode == GEMM_AUTO)
        calibrate();
    if (gemm_mode == GEMM_SYSTEM)
        bj_dgemm_system(transa, transb, m, n, k, alpha, A, lda, B, ldb, beta,
                        C, ldc);
    else
        bj_dgemm(transa, transb, m, n, k, alpha, A, lda, B, ldb, beta, C,
                 ldc);
}

int bj_gemm_is_own(void)
{
    if (gemm_mode == GEMM_AUTO)
        calibrate();
    if (!chosen.full)
        choose_kernel();
    return gemm_mode == GEMM_OWN;
}

void bj_gemm_masked(int skip, const int *first, const int *end, char transa,
                    char transb, int m, int n, int k, double alpha,
                    const double *A, int lda, const double *B, int ldb,
                    double beta, double *C, int ldc)
{
    bj_gemm_masked_finish(skip, first, end, transa, transb, m, n, k, alpha,
                          A, lda, B, ldb, beta, C, ldc, NULL);
}

void bj_gemm_masked_finish(int skip, const int *first, const int *end,
                           char transa, char transb, int m, int n, int k,
                           double alpha, const double *A, int lda,
                           const double *B, int ldb, double beta, double *C,
                           int ldc, const bj_epilogue *epilogue)
{
    if (gemm_mode == GEMM_AUTO)
        calibrate();
    /* the system BLAS multiplies everything: the same numbers for finite
       operands, and wanted rows are all computed; the epilogue then runs
       on whole columns */
    if (gemm_mode == GEMM_SYSTEM) {
        bj_dgemm_system(transa, transb, m, n, k, alpha, A, lda, B, ldb, beta,
                        C, ldc);
        if (epilogue && m > 0)
            for (int j = 0; j < n; j++)
                epilogue->fn(C + (R_xlen_t) j * ldc, m, j, epilogue->data);
    } else {
        bj_dgemm_masked_finish(skip, first, end, transa, transb, m, n, k,
                               alpha, A, lda, B, ldb, beta, C, ldc, epilogue);
    }
}

/* C_gemm_backend(mode): mode "auto", "bijectors" or "blas" sets the choice
   (auto decides again at the next product); NULL leaves it. Returns the
   choice in force as "auto" (not decided yet), "bijectors" or "blas". */
SEXP C_gemm_backend(SEXP mode)
{
    if (mode != R_NilValue) {
        if (TYPEOF(mode) != STRSXP || XLENGTH(mode) != 1 ||
            STRING_ELT(mode, 0) == NA_STRING)
            Rf_error("`mode` must be \"auto\", \"bijectors\" or \"blas\"");
        const char *s = CHAR(STRING_ELT(mode, 0));
        if (strcmp(s, "auto") == 0)
            gemm_mode = GEMM_AUTO;
        else if (strcmp(s, "bijectors") == 0)
            gemm_mode = GEMM_OWN;
        else if (strcmp(s, "blas") == 0)
            gemm_mode = GEMM_SYSTEM;
        else
            Rf_error("`mode` must be \"auto\", \"bijectors\" or \"blas\", "
                     "not \"%s\"", s);
    }
    static const char *names[3] = {"auto", "bijectors", "blas"};
    return Rf_mkString(names[gemm_mode]);
}

/* C_gemm_calibrate(): decides "auto" now (for the benchmark) and returns
   the choice. */
SEXP C_gemm_calibrate(void)
{
    calibrate();
    return C_gemm_backend(R_NilValue);
}

/* ---- .Call entry for the tests and bench/gemm.R ------------------------- */

/* The stored length a column-major matrix of rows x cols with leading
   dimension ld needs, as a double (no overflow). */
static double needed_length(int rows, int cols, int ld)
{
    if (rows == 0 || cols == 0)
        return 0;
    return (double) ld * (cols - 1) + rows;
}

static void check_operand(SEXP x, const char *what, int rows, int cols,
                          int ld)
{
    if (TYPEOF(x) != REALSXP)
        Rf_error("`%s` must be a double vector, not of type %s", what,
                 Rf_type2char(TYPEOF(x)));
    if (ld < (rows > 1 ? rows : 1))
        Rf_error("the leading dimension of `%s` must be at least %d, not %d",
                 what, rows > 1 ? rows : 1, ld);
    if ((double) XLENGTH(x) < needed_length(rows, cols, ld))
        Rf_error("`%s` has %.0f values; a %d x %d matrix with leading "
                 "dimension %d needs %.0f", what, (double) XLENGTH(x), rows,
                 cols, ld, needed_length(rows, cols, ld));
}

/* The products of C_gemm_test() and C_gemm_masked_test(): skip NULL for
   the full product, else the ranges to skip by (with which 0 or 2). */
static SEXP gemm_test(SEXP which, const skip_ranges *skip, SEXP trans,
                      SEXP dims, SEXP lds, SEXP alpha, SEXP beta, SEXP A,
                      SEXP B, SEXP C, SEXP repeats, SEXP ranges)
{
    if (TYPEOF(which) != INTSXP || XLENGTH(which) != 1 ||
        INTEGER(which)[0] < 0 || INTEGER(which)[0] > 2 ||
        (skip && INTEGER(which)[0] == 1))
        Rf_error(skip ? "`which` must be 0L (bj_dgemm) or 2L (bj_dgemm, "
                 "portable kernel)" : "`which` must be 0L (bj_dgemm), 1L "
                 "(system BLAS) or 2L (bj_dgemm, portable kernel)");
    if (TYPEOF(trans) != STRSXP || XLENGTH(trans) != 2)
        Rf_error("`trans` must be a character vector of length 2");
    char t[2];
    for (int i = 0; i < 2; i++) {
        SEXP s = STRING_ELT(trans, i);
        const char *c = s == NA_STRING ? "" : CHAR(s);
        if (strlen(c) != 1 || !(c[0] == 'N' || c[0] == 'T' || c[0] == 'n' ||
                                c[0] == 't'))
            Rf_error("`trans` must hold \"N\" or \"T\", twice");
        t[i] = c[0];
    }
    if (TYPEOF(dims) != INTSXP || XLENGTH(dims) != 3 ||
        TYPEOF(lds) != INTSXP || XLENGTH(lds) != 3)
        Rf_error("`dims` and `lds` must be integer vectors of length 3");
    const int *d = INTEGER(dims), *ld = INTEGER(lds);
    for (int i = 0; i < 3; i++) {
        if (d[i] == NA_INTEGER || d[i] < 0)
            Rf_error("`dims` must be whole numbers >= 0");
        if (ld[i] == NA_INTEGER)
            Rf_error("`lds` must not be NA");
    }
    int m = d[0], n = d[1], k = d[2];
    int ta = is_trans(t[0]), tb = is_trans(t[1]);
    double a = scalar_double(alpha, "alpha"), b = scalar_double(beta, "beta");
    check_operand(A, "A", ta ? k : m, ta ? m : k, ld[0]);
    check_operand(B, "B", tb ? n : k, tb ? k : n, ld[1]);
    check_operand(C, "C", m, n, ld[2]);
    if (TYPEOF(repeats) != INTSXP || XLENGTH(repeats) != 1 ||
        INTEGER(repeats)[0] == NA_INTEGER || INTEGER(repeats)[0] < 1)
        Rf_error("`repeats` must be a whole number >= 1");
    skip_ranges checked;
    if (skip) {
        /* c(first, end), 0-based, each within the dimension skipped */
        int limit = skip->kind == BJ_SKIP_K ? k : m;
        if (TYPEOF(ranges) != INTSXP || XLENGTH(ranges) != 2 * (R_xlen_t) n)
            Rf_error("`ranges` must be an integer vector c(first, end) of "
                     "2 * n = %d values", 2 * n);
        const int *r = INTEGER_RO(ranges);
        for (R_xlen_t i = 0; i < 2 * (R_xlen_t) n; i++)
            if (r[i] == NA_INTEGER || r[i] < 0 || r[i] > limit)
                Rf_error("`ranges` must hold whole numbers in [0, %d]",
                         limit);
        checked = *skip;
        checked.first = r;
        checked.end = r + n;
        skip = &checked;
    }
    int times = INTEGER(repeats)[0];
    if (!chosen.full)
        choose_kernel();
    SEXP out = PROTECT(copy_double_vector(C));
    const double *pa = REAL_RO(A), *pb = REAL_RO(B);
    double *pc = REAL(out);
    for (int r = 0; r < times; r++) {
        if (INTEGER(which)[0] == 0)
            gemm_with(&chosen, gemm_threads, t[0], t[1], m, n, k, a, pa, ld[0], pb,
                      ld[1], b, pc, ld[2], skip ? skip : &no_skip);
        else if (INTEGER(which)[0] == 2)
            gemm_with(&portable_set, gemm_threads, t[0], t[1], m, n, k, a,
                      pa, ld[0], pb, ld[1], b, pc, ld[2],
                      skip ? skip : &no_skip);
        else
            bj_dgemm_system(t[0], t[1], m, n, k, a, pa, ld[0], pb, ld[1], b,
                            pc, ld[2]);
    }
    UNPROTECT(1);
    return out;
}

/* C_gemm_test(which, trans, dims, lds, alpha, beta, A, B, C, repeats):
   a copy of C after `repeats` calls (at least 1) of
   C = alpha op(A) op(B) + beta C, by bj_dgemm (which = 0), the system
   BLAS's dgemm (which = 1) or bj_dgemm with the portable micro-kernel
   whatever the CPU (which = 2); trans = c(transa, transb), dims = c(m, n, k),
   lds = c(lda, ldb, ldc). Only for the tests and the benchmark: the
   repeats time the products without R's call overhead. */
SEXP C_gemm_test(SEXP which, SEXP trans, SEXP dims, SEXP lds, SEXP alpha,
                 SEXP beta, SEXP A, SEXP B, SEXP C, SEXP repeats)
{
    return gemm_test(which, NULL, trans, dims, lds, alpha, beta, A, B, C,
                     repeats, R_NilValue);
}

/* C_gemm_masked_test(which, skip, ranges, trans, dims, lds, alpha, beta, A,
   B, C, repeats): as C_gemm_test() (which 0 or 2), by bj_dgemm_masked()
   with skip 1L (BJ_SKIP_K) or 2L (BJ_SKIP_C_ROWS) and ranges c(first, end)
   (n values each, 0-based, end exclusive). */
SEXP C_gemm_masked_test(SEXP which, SEXP skip, SEXP ranges, SEXP trans,
                        SEXP dims, SEXP lds, SEXP alpha, SEXP beta, SEXP A,
                        SEXP B, SEXP C, SEXP repeats)
{
    if (TYPEOF(skip) != INTSXP || XLENGTH(skip) != 1 ||
        (INTEGER(skip)[0] != BJ_SKIP_K && INTEGER(skip)[0] != BJ_SKIP_C_ROWS))
        Rf_error("`skip` must be 1L (terms) or 2L (rows of C)");
    skip_ranges s = {INTEGER(skip)[0], NULL, NULL, 0};
    return gemm_test(which, &s, trans, dims, lds, alpha, beta, A, B, C,
                     repeats, ranges);
}

/* C_gemm_kernel(): the micro-kernel's name. */
SEXP C_gemm_kernel(void)
{
    return Rf_mkString(bj_dgemm_kernel_name());
}
