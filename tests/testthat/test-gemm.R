# bj_dgemm (src/gemm.c), the networks' matrix product, through the internal
# entry C_gemm_test: against R's %*% with an error bound, against exact
# integer arithmetic, on edge shapes, leading dimensions, alpha and beta.

# C = alpha op(A) op(B) + beta C by backend `which` (0 = bj_dgemm with the
# CPU's kernel, 2 = bj_dgemm with the portable kernel, 1 = system BLAS);
# the leading dimensions default to the stored matrices' row counts.
gemm <- function(which, ta, tb, m, n, k, A, B, C, alpha = 1, beta = 0,
                 lds = c(NROW(A), NROW(B), NROW(C)), repeats = 1L) {
  .Call(bijectors:::C_gemm_test, as.integer(which), c(ta, tb),
        as.integer(c(m, n, k)), as.integer(pmax(1L, lds)), alpha, beta,
        as.double(A), as.double(B), as.double(C), as.integer(repeats))
}

# op(A) stored as the BLAS expects it: m x k, or k x m when transposed.
stored <- function(op, trans) if (trans == "N") op else t(op)

# A matrix with entries from `draw`, any dims including 0.
filled <- function(rows, cols, draw = stats::rnorm) {
  matrix(draw(rows * cols), rows, cols)
}

kernels <- c(own = 0L, portable = 2L)

test_that("the micro-kernel in use is one of the two", {
  expect_true(.Call(bijectors:::C_gemm_kernel) %in% c("avx2-fma", "portable"))
})

test_that("all transposition cases match %*% within a k-scaled bound", {
  set.seed(2001)
  sizes <- c(1, 3, 7, 9, 17, 63, 65, 257)
  for (which in kernels) for (ta in c("N", "T")) for (tb in c("N", "T")) {
    for (trial in 1:12) {
      m <- sample(sizes, 1); n <- sample(sizes, 1); k <- sample(sizes, 1)
      opa <- filled(m, k); opb <- filled(k, n); C <- filled(m, n)
      alpha <- c(1, -0.75, 2.5)[trial %% 3 + 1]
      beta <- c(0, 1, -1.5, 0.5)[trial %% 4 + 1]
      got <- gemm(which, ta, tb, m, n, k, stored(opa, ta), stored(opb, tb),
                  C, alpha, beta)
      want <- alpha * (opa %*% opb) + beta * C
      # |error| <= k * eps-ish times the sum of absolute terms
      bound <- 1e-13 * k * (abs(alpha) * (abs(opa) %*% abs(opb)) +
                              abs(beta) * abs(C)) + 1e-300
      expect_true(all(abs(got - as.vector(want)) <= bound),
                  label = sprintf("%s%s m=%d n=%d k=%d kernel %d", ta, tb, m,
                                  n, k, which))
    }
  }
})

test_that("products of small integers are exact", {
  set.seed(2002)
  ints <- function(count) sample(-8:8, count, replace = TRUE)
  shapes <- rbind(c(1, 1, 1), c(3, 7, 9), c(9, 17, 3), c(63, 65, 17),
                  c(65, 63, 257), c(257, 9, 300), c(121, 7, 5), c(9, 500, 3),
                  # in-place and narrow column panels: 4, 6 + 4, 6 + 6 + 4
                  c(17, 4, 9), c(9, 10, 65), c(256, 16, 64), c(64, 16, 256),
                  c(256, 8, 64), c(8, 64, 256))
  for (which in kernels) for (ta in c("N", "T")) for (tb in c("N", "T")) {
    for (row in seq_len(nrow(shapes))) {
      m <- shapes[row, 1]; n <- shapes[row, 2]; k <- shapes[row, 3]
      opa <- filled(m, k, ints); opb <- filled(k, n, ints)
      C <- filled(m, n, ints)
      # the exact product, one column at a time with integer sums
      exact <- matrix(0, m, n)
      for (j in seq_len(n)) for (p in seq_len(k)) {
        exact[, j] <- exact[, j] + opa[, p] * opb[p, j]
      }
      got <- gemm(which, ta, tb, m, n, k, stored(opa, ta), stored(opb, tb),
                  C, alpha = 2, beta = -3)
      expect_identical(got, as.vector(2 * exact - 3 * C),
                       label = sprintf("%s%s %dx%dx%d kernel %d", ta, tb, m,
                                       n, k, which))
    }
  }
})

test_that("larger leading dimensions are honoured and only C's block is written", {
  set.seed(2003)
  for (which in kernels) for (ta in c("N", "T")) for (tb in c("N", "T")) {
    for (shape in list(c(7, 9, 17), c(65, 3, 63), c(17, 13, 1), c(9, 10, 17),
                       c(300, 4, 7), c(11, 12, 260))) {
      m <- shape[1]; n <- shape[2]; k <- shape[3]
      opa <- filled(m, k); opb <- filled(k, n)
      sa <- stored(opa, ta); sb <- stored(opb, tb)
      # embed each stored matrix in a taller one, padding rows with NaN
      pad <- function(x, extra) rbind(x, matrix(NaN, extra, ncol(x)))
      A <- pad(sa, 5); B <- pad(sb, 3)
      C <- matrix(-77.25, m + 4, n)
      C[seq_len(m), ] <- filled(m, n)
      got <- matrix(gemm(which, ta, tb, m, n, k, A, B, C, alpha = 1.5,
                         beta = 0.5), m + 4, n)
      want <- 1.5 * (opa %*% opb) + 0.5 * C[seq_len(m), , drop = FALSE]
      expect_equal(got[seq_len(m), , drop = FALSE], want, tolerance = 1e-13)
      expect_identical(got[-seq_len(m), , drop = FALSE],
                       C[-seq_len(m), , drop = FALSE])
    }
  }
})

test_that("beta = 0 does not read C, alpha = 0 and k = 0 do not read A or B", {
  set.seed(2004)
  for (which in kernels) {
    for (m in c(3, 9, 64)) {
      n <- 7; k <- 5
      A <- filled(m, k); B <- filled(k, n)
      C <- matrix(NaN, m, n)
      C[1, 1] <- Inf
      got <- gemm(which, "N", "N", m, n, k, A, B, C, beta = 0)
      expect_equal(got, as.vector(A %*% B), tolerance = 1e-14)
      expect_false(anyNA(got))
      # alpha = 0: C = beta C even when A and B hold NaN
      C2 <- filled(m, n)
      An <- A; An[] <- NaN
      expect_identical(gemm(which, "N", "N", m, n, k, An, B, C2, alpha = 0,
                            beta = 2), as.vector(2 * C2))
      expect_identical(gemm(which, "N", "N", m, n, k, An, B, C, alpha = 0,
                            beta = 0), rep(0, m * n))
      # alpha = 0, beta = 1 leaves C as it was, NaN included
      expect_identical(gemm(which, "N", "N", m, n, k, An, B, C, alpha = 0,
                            beta = 1), as.vector(C))
      # k = 0: op(A) op(B) is zero
      expect_identical(gemm(which, "N", "N", m, n, 0, numeric(0), numeric(0),
                            C2, beta = -1, lds = c(m, 1, m)),
                       as.vector(-C2))
      expect_identical(gemm(which, "T", "T", m, n, 0, numeric(0), numeric(0),
                            C, beta = 0, lds = c(1, n, m)), rep(0, m * n))
    }
    # m or n zero: nothing to do, nothing read
    expect_identical(gemm(which, "N", "N", 0, 4, 3, numeric(0), filled(3, 4),
                          numeric(0), lds = c(1, 3, 1)), numeric(0))
    expect_identical(gemm(which, "N", "T", 5, 0, 3, filled(5, 3), numeric(0),
                          numeric(0), lds = c(5, 1, 5)), numeric(0))
  }
})

test_that("bj_dgemm and the system BLAS agree on the networks' shapes", {
  set.seed(2005)
  shapes <- list(c("N", "N", 256, 64, 8), c("N", "N", 256, 16, 64),
                 c("T", "N", 64, 64, 256), c("T", "N", 8, 64, 256),
                 c("N", "T", 256, 64, 16), c("N", "T", 256, 8, 64))
  for (s in shapes) {
    ta <- s[1]; tb <- s[2]; m <- as.integer(s[3]); n <- as.integer(s[4])
    k <- as.integer(s[5])
    A <- stored(filled(m, k), ta); B <- stored(filled(k, n), tb)
    C <- filled(m, n)
    own <- gemm(0, ta, tb, m, n, k, A, B, C, beta = 1)
    blas <- gemm(1, ta, tb, m, n, k, A, B, C, beta = 1)
    expect_equal(own, blas, tolerance = 1e-13)
  }
})

test_that("the test entry checks its arguments", {
  A <- filled(3, 2); B <- filled(2, 4); C <- filled(3, 4)
  expect_error(gemm(0, "N", "N", 3, 4, 2, A[1:5], B, C), "`A` has 5 values")
  expect_error(gemm(0, "N", "N", 3, 4, 2, A, B, C, lds = c(2, 2, 3)),
               "leading dimension of `A` must be at least 3")
  expect_error(gemm(0, "X", "N", 3, 4, 2, A, B, C), "`trans`")
  expect_error(gemm(3, "N", "N", 3, 4, 2, A, B, C), "`which`")
  expect_error(gemm(0, "N", "N", 3, 4, 2, A, B, C, repeats = 0L),
               "`repeats`")
})

test_that("options(bijectors.gemm = ) chooses the product, checked", {
  old <- options(bijectors.gemm = "blas")
  on.exit({
    options(old)
    bijectors:::gemm_apply_option()
  })
  expect_identical(bijectors:::gemm_apply_option(), "blas")
  # unset: the package's own product, whatever the BLAS
  options(bijectors.gemm = NULL)
  expect_identical(bijectors:::gemm_apply_option(), "bijectors")
  options(bijectors.gemm = "bijectors")
  expect_identical(bijectors:::gemm_apply_option(), "bijectors")
  options(bijectors.gemm = "fast")
  expect_error(bijectors:::gemm_apply_option(), "bijectors.gemm")
  # auto decides by timing at the first product: one of the two
  options(bijectors.gemm = "auto")
  bijectors:::gemm_apply_option()
  expect_true(.Call(bijectors:::C_gemm_calibrate) %in% c("bijectors", "blas"))
})

test_that("products cut between threads give the same bits as on one", {
  # with OpenMP the large products below are cut into row or column parts;
  # without it the setting stays 1 and both runs are the same run
  on.exit(.Call(bijectors:::C_gemm_threads, 1L))
  set.seed(2024)
  shapes <- list(c(256, 64, 64), c(256, 8, 64), c(513, 130, 300),
                 c(48, 100, 600), c(8, 64, 256), c(300, 16, 70),
                 c(100, 49, 256))
  for (shape in shapes) {
    m <- shape[[1]]; n <- shape[[2]]; k <- shape[[3]]
    for (ta in c("N", "T")) for (tb in c("N", "T")) for (kernel in kernels) {
      A <- stored(filled(m, k), ta)
      B <- stored(filled(k, n), tb)
      C <- filled(m, n)
      .Call(bijectors:::C_gemm_threads, 1L)
      one <- gemm(kernel, ta, tb, m, n, k, A, B, C, alpha = 0.7, beta = 0.5)
      .Call(bijectors:::C_gemm_threads, 2L)
      two <- gemm(kernel, ta, tb, m, n, k, A, B, C, alpha = 0.7, beta = 0.5)
      expect_identical(two, one)
      # and both are the product
      reference <- 0.7 * stored(A, ta) %*% stored(B, tb) + 0.5 * C
      expect_lt(max(abs(one - reference)), 1e-12 * k * max(1, abs(reference)))
    }
  }
})

test_that("options(bijectors.threads = ) is checked and capped", {
  old <- options(bijectors.threads = 2L)
  on.exit({
    options(old)
    bijectors:::gemm_apply_option()
  })
  bijectors:::gemm_apply_option()
  in_force <- .Call(bijectors:::C_gemm_threads, NULL)
  expect_true(in_force %in% 1:2)
  options(bijectors.threads = 1e6)
  bijectors:::gemm_apply_option()
  expect_lte(.Call(bijectors:::C_gemm_threads, NULL), 8L)
  for (bad in list(0, -1, 1.5, NA, "2", c(1, 2))) {
    options(bijectors.threads = bad)
    expect_error(bijectors:::gemm_apply_option(), "bijectors.threads")
  }
  expect_error(.Call(bijectors:::C_gemm_threads, 0L), "`threads`")
})
