# The masked products (bj_dgemm_masked(), src/gemm.c) and the networks that
# use them (src/network.c): skipping what a mask makes zero must change no
# bit of a product with finite operands, on every path (narrow, small,
# blocked), both micro-kernels and any thread count, and the networks must
# still match plain R arithmetic with the mask applied.

# C = alpha op(A) op(B) + beta C by bj_dgemm (which 0: the CPU's kernel, 2:
# the portable one), skipping by `skip` (1: terms outside column j of
# op(B)'s rows [first[j], end[j]); 2: tiles of C outside rows
# [first[j], end[j]) of column j), ranges 0-based with end exclusive; or,
# with skip = 0, the full product.
masked_gemm <- function(which, skip, first, end, ta, tb, m, n, k, A, B, C,
                        alpha = 1, beta = 0) {
  lds <- as.integer(pmax(1L, c(NROW(A), NROW(B), NROW(C))))
  if (skip == 0L) {
    return(.Call(bijectors:::C_gemm_test, as.integer(which), c(ta, tb),
                 as.integer(c(m, n, k)), lds, alpha, beta, as.double(A),
                 as.double(B), as.double(C), 1L))
  }
  .Call(bijectors:::C_gemm_masked_test, as.integer(which), as.integer(skip),
        as.integer(c(first, end)), c(ta, tb), as.integer(c(m, n, k)), lds,
        alpha, beta, as.double(A), as.double(B), as.double(C), 1L)
}

stored_as <- function(op, trans) if (trans == "N") op else t(op)

# The 0/1 matrix (rows x length(first)) of the ranges.
range_mask <- function(rows, first, end) {
  outer(seq_len(rows) - 1L, seq_along(first),
        function(p, j) p >= first[j] & p < end[j]) * 1
}

# Random ranges over `rows` for `cols` columns, with empty and full ones
# and, when `sorted`, as MADE's default degrees give them (growing
# prefixes).
random_ranges <- function(rows, cols, sorted) {
  if (sorted) {
    end <- sort(sample(0:rows, cols, replace = TRUE))
    first <- integer(cols)
  } else {
    first <- sample(0:rows, cols, replace = TRUE)
    end <- pmin(rows, first + sample(0:rows, cols, replace = TRUE))
  }
  if (cols >= 3L) {
    # degenerate columns: empty (first == end, and first > end), full
    first[1:3] <- c(0L, min(2L, rows), 0L)
    end[1:3] <- c(0L, 0L, rows)
  }
  list(first = as.integer(first), end = as.integer(end))
}

shapes_masked <- rbind(
  # narrow (n <= 16 < m), small, blocked (m k > 65536, k > 256)
  c(256, 16, 64), c(256, 8, 64), c(64, 16, 256), c(37, 5, 11),
  c(256, 64, 64), c(64, 64, 256), c(8, 64, 256), c(13, 29, 7), c(1, 7, 3),
  c(7, 1, 9), c(1100, 70, 64), c(130, 70, 600), c(300, 13, 300))

test_that("skipping the terms a mask zeroes changes no bit, on every path", {
  set.seed(7101)
  for (which in c(0L, 2L)) for (ta in c("N", "T")) for (tb in c("N", "T")) {
    for (row in seq_len(nrow(shapes_masked))) {
      m <- shapes_masked[row, 1]; n <- shapes_masked[row, 2]
      k <- shapes_masked[row, 3]
      for (sorted in c(TRUE, FALSE)) {
        r <- random_ranges(k, n, sorted)
        opb <- matrix(rnorm(k * n), k, n) * range_mask(k, r$first, r$end)
        opa <- matrix(rnorm(m * k), m, k)
        C <- matrix(rnorm(m * n), m, n)
        alpha <- sample(c(1, -0.5), 1); beta <- sample(c(0, 1, 0.25), 1)
        A <- stored_as(opa, ta); B <- stored_as(opb, tb)
        label <- sprintf("%s%s %dx%dx%d kernel %d sorted %s", ta, tb, m, n, k,
                         which, sorted)
        got <- masked_gemm(which, 1L, r$first, r$end, ta, tb, m, n, k, A, B,
                           C, alpha, beta)
        full <- masked_gemm(which, 0L, NULL, NULL, ta, tb, m, n, k, A, B, C,
                            alpha, beta)
        expect_identical(got, full, label = label)
        want <- alpha * (opa %*% opb) + beta * C
        bound <- 1e-13 * k * (abs(alpha) * (abs(opa) %*% abs(opb)) +
                                abs(beta) * abs(C)) + 1e-300
        expect_true(all(abs(got - as.vector(want)) <= bound), label = label)
      }
    }
  }
})

test_that("columns that need no terms get alpha * 0 + beta * C", {
  for (which in c(0L, 2L)) {
    for (shape in list(c(256, 16, 64), c(256, 64, 64), c(1100, 70, 64))) {
      m <- shape[[1]]; n <- shape[[2]]; k <- shape[[3]]
      A <- matrix(rnorm(m * k), m, k)
      B <- matrix(0, k, n)
      C <- matrix(rnorm(m * n), m, n)
      got <- masked_gemm(which, 1L, integer(n), integer(n), "N", "N", m, n,
                         k, A, B, C, 2, 0.5)
      expect_identical(got, as.vector(0.5 * C))
      got <- masked_gemm(which, 1L, integer(n), integer(n), "N", "N", m, n,
                         k, A, B, C, 2, 0)
      expect_identical(got, numeric(m * n))
      expect_true(all(1 / got == Inf))
    }
  }
})

test_that("the tiles of C outside the wanted rows are skipped, the rest exact", {
  set.seed(7102)
  for (which in c(0L, 2L)) for (ta in c("N", "T")) for (tb in c("N", "T")) {
    for (row in seq_len(nrow(shapes_masked))) {
      m <- shapes_masked[row, 1]; n <- shapes_masked[row, 2]
      k <- shapes_masked[row, 3]
      for (sorted in c(TRUE, FALSE)) {
        r <- random_ranges(m, n, sorted)
        wanted <- range_mask(m, r$first, r$end) == 1
        opa <- matrix(rnorm(m * k), m, k); opb <- matrix(rnorm(k * n), k, n)
        C <- matrix(rnorm(m * n), m, n)
        beta <- sample(c(0, 1, 0.25), 1)
        A <- stored_as(opa, ta); B <- stored_as(opb, tb)
        got <- masked_gemm(which, 2L, r$first, r$end, ta, tb, m, n, k, A, B,
                           C, 1, beta)
        full <- masked_gemm(which, 0L, NULL, NULL, ta, tb, m, n, k, A, B, C,
                            1, beta)
        label <- sprintf("%s%s %dx%dx%d kernel %d", ta, tb, m, n, k, which)
        expect_identical(got[wanted], full[wanted], label = label)
        # the others: the product, or beta * C where the tile was skipped
        other <- !wanted
        expect_true(all(got[other] == full[other] |
                          got[other] == (beta * C)[other]), label = label)
        # with every column's range empty, nothing is computed
        none <- masked_gemm(which, 2L, integer(n), integer(n), ta, tb, m, n,
                            k, A, B, C, 1, beta)
        expect_identical(none, as.vector(beta * C), label = label)
      }
    }
  }
})

test_that("masked products give the same bits on one and two threads", {
  skip_on_cran()
  set.seed(7103)
  old <- options(bijectors.threads = 1L)
  on.exit({
    options(old)
    bijectors:::gemm_apply_option()
  })
  # split by rows (m >= 48), by columns (m < 48 <= n), blocked and small
  shapes <- rbind(c(256, 64, 64), c(1100, 70, 64), c(40, 200, 300),
                  c(300, 13, 300), c(256, 16, 64))
  for (row in seq_len(nrow(shapes))) {
    m <- shapes[row, 1]; n <- shapes[row, 2]; k <- shapes[row, 3]
    for (skip in 1:2) {
      r <- random_ranges(if (skip == 1L) k else m, n, sorted = row %% 2 == 0)
      A <- matrix(rnorm(m * k), m, k); B <- matrix(rnorm(k * n), k, n)
      if (skip == 1L) B <- B * range_mask(k, r$first, r$end)
      C <- matrix(rnorm(m * n), m, n)
      results <- lapply(1:2, function(threads) {
        options(bijectors.threads = threads)
        bijectors:::gemm_apply_option()
        masked_gemm(0L, skip, r$first, r$end, "N", "N", m, n, k, A, B, C, 1,
                    0.5)
      })
      expect_identical(results[[1]], results[[2]],
                       label = sprintf("%dx%dx%d skip %d", m, n, k, skip))
    }
  }
})

test_that("the masked product's entry checks its ranges", {
  A <- matrix(1, 3, 2); B <- matrix(1, 2, 4); C <- matrix(0, 3, 4)
  call <- function(skip, ranges, which = 0L) {
    .Call(bijectors:::C_gemm_masked_test, which, skip, ranges, c("N", "N"),
          c(3L, 4L, 2L), c(3L, 2L, 3L), 1, 0, A, B, C, 1L)
  }
  expect_error(call(1L, c(0L, 0L, 0L, 0L, 2L, 2L, 2L, 3L)), "\\[0, 2\\]")
  expect_error(call(2L, c(0L, 0L, 0L, 0L, 3L, 3L, 3L, 4L)), "\\[0, 3\\]")
  expect_error(call(1L, c(0L, 0L, 0L)), "2 \\* n = 8")
  expect_error(call(1L, c(0L, 0L, 0L, NA, 2L, 2L, 2L, 2L)), "whole numbers")
  expect_error(call(3L, integer(8)), "`skip`")
  expect_error(call(1L, integer(8), which = 1L), "`which`")
  expect_identical(call(1L, c(0L, 0L, 0L, 0L, 2L, 2L, 2L, 2L)), rep(2, 12))
})

# ---- the networks -------------------------------------------------------------

# A network whose kernels are multiplied by `masks` (fan_in x fan_out 0/1
# matrices): the C forward pass with the masks, without them, and the plain
# R reference.
masked_network <- function(units, masks, activation, rows, seed) {
  set.seed(seed)
  layers <- length(units) - 1L
  kernels <- lapply(seq_len(layers), function(k) {
    matrix(rnorm(units[k] * units[k + 1L]), units[k], units[k + 1L]) *
      masks[[k]]
  })
  biases <- lapply(seq_len(layers), function(k) rnorm(units[k + 1L]))
  codes <- c(rep(bijectors:::network_activations[[activation]], layers - 1L),
             0L)
  x <- matrix(rnorm(rows * units[1]), rows, units[1])
  list(kernels = kernels, biases = biases, codes = codes, x = x,
       masks = masks, activation = activation, rows = rows)
}

network_forward <- function(net, masks) {
  .Call(bijectors:::C_mlp_forward, net$x, as.double(net$rows), 0,
        net$kernels, net$biases, net$codes, masks, TRUE)
}

network_backward <- function(net, forward, grad_output, masks) {
  .Call(bijectors:::C_mlp_backward, net$x, as.double(net$rows), 0,
        net$kernels, net$codes, forward$hidden, forward$output, grad_output,
        masks, numeric(length(net$x)))
}

# The gradients of sum(grad_output * network(x)) in plain R: the kernel
# gradients times the masks, the bias gradients, the input gradient.
reference_backward <- function(net, grad_output) {
  layers <- length(net$kernels)
  act <- ref_activation(net$activation)
  derivative <- list(
    relu = function(h) (h > 0) * 1, tanh = function(h) 1 - h^2,
    sigmoid = function(h) h * (1 - h), elu = function(h) ifelse(h > 0, 1, h + 1),
    softplus = function(h) -expm1(-h))[[net$activation]]
  h <- list(net$x)
  for (k in seq_len(layers)) {
    z <- h[[k]] %*% net$kernels[[k]] +
      matrix(net$biases[[k]], net$rows, ncol(net$kernels[[k]]), byrow = TRUE)
    h[[k + 1L]] <- if (k < layers) act(z) else z
  }
  delta <- grad_output
  kernels <- biases <- vector("list", layers)
  for (k in layers:1) {
    if (k < layers) delta <- delta * derivative(h[[k + 1L]])
    kernels[[k]] <- (t(h[[k]]) %*% delta) * net$masks[[k]]
    biases[[k]] <- colSums(delta)
    delta <- delta %*% t(net$kernels[[k]])
  }
  list(output = h[[layers + 1L]], kernels = kernels, biases = biases,
       input = delta)
}

# Masks to test: MADE's default degrees and TFP's blocks (sorted), a random
# 0/1 pattern (unsorted, any column may be empty or full), and masks with
# all-zero and all-one columns and rows.
test_masks <- function(units, kind) {
  layers <- length(units) - 1L
  lapply(seq_len(layers), function(k) {
    n_in <- units[k]; n_out <- units[k + 1L]
    switch(kind,
      degrees = bijectors:::made_degree_masks(units[1], units[2:layers],
                                              units[layers + 1L] %/%
                                                units[1])[[k]],
      blocks = bijectors:::made_mask(units[1], n_in, n_out, k == 1L),
      random = matrix(rbinom(n_in * n_out, 1, 0.5), n_in, n_out) * 1,
      degenerate = {
        m <- matrix(rbinom(n_in * n_out, 1, 0.3), n_in, n_out) * 1
        m[, 1] <- 0
        m[, n_out] <- 1
        m[1, ] <- 0
        m
      })
  })
}

test_that("masked networks: forward and backward as with the full products and as plain R", {
  set.seed(7104)
  # D = 8 with MADE's widths, and odd ones
  configurations <- list(
    list(units = c(8, 64, 64, 16), rows = 256),
    list(units = c(3, 9, 9, 6), rows = 50),
    list(units = c(5, 23, 17, 10), rows = 37),
    list(units = c(2, 7, 4), rows = 301))
  for (config in configurations) {
    units <- config$units
    for (kind in c("degrees", "blocks", "random", "degenerate")) {
      for (activation in c("relu", "tanh")) {
        masks <- test_masks(units, kind)
        net <- masked_network(units, masks, activation, config$rows,
                              seed = sum(units))
        label <- sprintf("%s %s %s", paste(units, collapse = "-"), kind,
                         activation)
        masked <- network_forward(net, masks)
        full <- network_forward(net, NULL)
        expect_identical(masked, full, label = label)
        grad_output <- matrix(rnorm(config$rows * units[length(units)]),
                              config$rows)
        back_masked <- network_backward(net, masked, grad_output, masks)
        back_full <- network_backward(net, full, grad_output, NULL)
        expect_identical(back_masked$input, back_full$input, label = label)
        expect_identical(back_masked$biases, back_full$biases, label = label)
        for (k in seq_along(masks)) {
          # the full product's gradient times the mask; masked entries +0
          expect_identical(back_masked$kernels[[k]],
                           back_full$kernels[[k]] * masks[[k]], label = label)
          zero <- masks[[k]] == 0
          expect_true(all(1 / back_masked$kernels[[k]][zero] == Inf),
                      label = label)
        }
        want <- reference_backward(net, grad_output)
        expect_equal(masked$output, want$output, tolerance = 1e-12,
                     label = label)
        expect_equal(back_masked$kernels, want$kernels, tolerance = 1e-12,
                     label = label)
        expect_equal(back_masked$biases, want$biases, tolerance = 1e-12,
                     label = label)
        expect_equal(as.vector(back_masked$input), as.vector(want$input),
                     tolerance = 1e-12, label = label)
      }
    }
  }
})

test_that("a value that only masked weights read does not reach the outputs", {
  # MADE's first layer reads input D nowhere: Inf there stays out of every
  # hidden unit (the full product's Inf * 0 would make them all NaN)
  units <- c(4, 8, 8, 8)
  masks <- test_masks(units, "degrees")
  net <- masked_network(units, masks, "relu", 20, seed = 3)
  expect_true(all(masks[[1]][4, ] == 0))
  net$x[5, 4] <- Inf
  masked <- network_forward(net, masks)
  expect_true(all(is.finite(masked$output)))
  finite <- net
  finite$x[5, 4] <- 0
  expect_identical(masked, network_forward(finite, masks))
  expect_true(all(is.nan(network_forward(net, NULL)$output[5, ])))
})

test_that("a MAF's log_prob and gradient match the system BLAS's full products", {
  old <- options(bijectors.gemm = "bijectors")
  on.exit({
    options(old)
    bijectors:::gemm_apply_option()
  })
  for (degrees in c("equal", "blocks")) {
    set.seed(11)
    make <- function() {
      set.seed(12)
      tfd_transformed_distribution(
        tfd_multivariate_normal_diag(loc = rep(0, 5)),
        tfb_chain(list(
          tfb_masked_autoregressive_flow(
            tfb_masked_autoregressive_default_template(
              c(13, 11), activation = "tanh", hidden_degrees = degrees)),
          tfb_permute(5:1),
          tfb_masked_autoregressive_flow(
            tfb_masked_autoregressive_default_template(
              c(7, 9), hidden_degrees = degrees)))))
    }
    x <- matrix(rnorm(70 * 5), 70, 5)
    results <- lapply(c("bijectors", "blas"), function(backend) {
      options(bijectors.gemm = backend)
      bijectors:::gemm_apply_option()
      flow <- make()
      list(log_prob = flow$log_prob(x),
           gradient = loss_and_gradient(flow, x)$gradient)
    })
    expect_equal(results[[1]], results[[2]], tolerance = 1e-12,
                 label = degrees)
  }
})

test_that("a layer's bias and activation in its product's epilogue give the bits of a separate pass", {
  skip_on_cran()
  set.seed(7107)
  old <- options(bijectors.threads = 1L)
  on.exit({
    options(old)
    bijectors:::gemm_apply_option()
  })
  # the layer as two steps in R: the product alone (masked as the network
  # masks it), then the bias added and the activation applied column by
  # column (relu with +0 below zero and NaN kept; tanh through the
  # package's own array tanh, which the tests of vector_math check)
  separate <- function(x, kernel, bias, activation, ranges) {
    m <- nrow(x); n <- ncol(kernel); k <- nrow(kernel)
    p <- if (is.null(ranges)) {
      masked_gemm(0L, 0L, NULL, NULL, "N", "N", m, n, k, x, kernel,
                  matrix(0, m, n))
    } else {
      masked_gemm(0L, 1L, ranges$first, ranges$end, "N", "N", m, n, k, x,
                  kernel, matrix(0, m, n))
    }
    p <- matrix(p, m, n)
    for (j in seq_len(n)) {
      p[, j] <- switch(activation,
        linear = p[, j] + bias[[j]],
        relu = {
          v <- p[, j] + bias[[j]]
          ifelse(v > 0 | is.nan(v), v, 0)
        },
        tanh = .Call(bijectors:::C_vector_math_tanh_shift_test, p[, j],
                     bias[[j]], "auto"))
    }
    p
  }
  codes <- c(linear = 0L, relu = 1L, tanh = 2L)
  # narrow (n <= 16 < m), small, blocked (k > 256; m k > 65536), split by
  # rows and by columns on two threads
  shapes <- rbind(c(256, 16, 64), c(256, 64, 8), c(256, 64, 64),
                  c(37, 5, 11), c(1, 7, 3), c(130, 70, 600), c(1100, 70, 64),
                  c(40, 200, 30), c(300, 13, 300))
  for (threads in 1:2) {
    options(bijectors.threads = threads)
    bijectors:::gemm_apply_option()
    for (row in seq_len(nrow(shapes))) {
      m <- shapes[row, 1]; n <- shapes[row, 2]; k <- shapes[row, 3]
      x <- matrix(rnorm(m * k), m, k)
      x[sample(length(x), 3)] <- c(NaN, Inf, -Inf)[seq_len(min(3, length(x)))]
      for (masked in c(FALSE, TRUE)) {
        kernel <- matrix(rnorm(k * n), k, n)
        bias <- rnorm(n)
        ranges <- NULL
        masks <- NULL
        if (masked) {
          ranges <- random_ranges(k, n, sorted = TRUE)
          mask <- range_mask(k, ranges$first, ranges$end)
          kernel <- kernel * mask
          masks <- list(mask)
          # a finite input: a non-finite one meets skipped zeros
          x[!is.finite(x)] <- 1
        }
        for (activation in names(codes)) {
          fused <- .Call(bijectors:::C_mlp_forward, x, as.double(m), 0,
                         list(kernel), list(bias),
                         codes[[activation]], masks, FALSE)
          # bit for bit, the sign of zeros included
          expect_true(identical(
            unname(fused), separate(x, kernel, bias, activation, ranges),
            num.eq = FALSE),
            label = sprintf("%s %dx%dx%d masked %s, %d threads", activation,
                            m, n, k, masked, threads))
        }
      }
    }
  }
})

test_that("a network's forward pass cut by rows between two threads gives one thread's bits", {
  skip_on_cran()
  set.seed(7109)
  old <- options(bijectors.threads = 1L)
  on.exit({
    options(old)
    bijectors:::gemm_apply_option()
  })
  # three layers 8 -> 64 -> 64 -> 16 (MADE-like masks or none), rows below
  # and above the cut's minimum, with a remainder; input read at a column
  # offset (its leading dimension is the batch's rows)
  units <- c(8L, 64L, 64L, 16L)
  for (rows in c(50L, 96L, 100L, 256L, 1001L)) {
    for (masked in c(FALSE, TRUE)) {
      for (activation in list(c(1L, 1L, 0L), c(2L, 2L, 0L), c(1L, 2L, 1L),
                              c(3L, 1L, 0L))) {
        kernels <- lapply(1:3, function(k) {
          matrix(rnorm(units[k] * units[k + 1]), units[k], units[k + 1])
        })
        masks <- NULL
        if (masked) {
          masks <- lapply(1:3, function(k) {
            r <- random_ranges(units[k], units[k + 1], sorted = TRUE)
            range_mask(units[k], r$first, r$end)
          })
          kernels <- Map(`*`, kernels, masks)
        }
        biases <- lapply(units[-1], rnorm)
        input <- matrix(rnorm(rows * 10), rows, 10)
        results <- lapply(1:2, function(threads) {
          options(bijectors.threads = threads)
          bijectors:::gemm_apply_option()
          .Call(bijectors:::C_mlp_forward, input, as.double(rows), 2, kernels,
                biases, activation, masks, TRUE)
        })
        expect_true(identical(results[[1]], results[[2]], num.eq = FALSE),
                    label = sprintf("%d rows, masked %s, activations %s",
                                    rows, masked,
                                    paste(activation, collapse = ",")))
      }
    }
  }
})
