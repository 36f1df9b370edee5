# Every C entry point registered in src/init.c runs once under
# gctorture(TRUE) (a garbage collection at every allocation, which exposes
# a missing PROTECT) and must give what it gives without it. Inputs are tiny
# and the fixtures are built outside the torture: gctorture is slow.

# Under valgrind (tools/valgrind.sh) each collection is itself slow enough
# that this file would take hours; the valgrind run covers the same calls.
skip_if(nzchar(Sys.getenv("BIJECTORS_VALGRIND")),
        "gctorture is skipped under valgrind")

# Runs call(fixture) on two fixtures made alike, the second under
# gctorture; returns both results.
torture_compare <- function(setup, call) {
  # R's just-in-time compiler would compile closures it first meets under
  # the torture, which takes minutes and tests nothing of ours.
  jit_level <- compiler::enableJIT(0)
  on.exit(compiler::enableJIT(jit_level), add = TRUE)
  set.seed(11)
  plain <- setup()
  expected <- call(plain)
  set.seed(11)
  tortured <- setup()
  gctorture(TRUE)
  on.exit(gctorture(FALSE), add = TRUE)
  actual <- call(tortured)
  gctorture(FALSE)
  list(expected = expected, actual = actual, plain = plain,
       tortured = tortured)
}

expect_torture_identical <- function(setup, call, state = NULL) {
  out <- torture_compare(setup, call)
  expect_identical(out$actual, out$expected)
  if (!is.null(state)) {
    expect_identical(state(out$tortured), state(out$plain))
  }
  invisible(out)
}

# Runs .Call()s given as list(routine, arguments...), where routine is a
# registered routine or its name; returns their results.
replay_calls <- function(calls) {
  ns <- asNamespace("bijectors")
  lapply(calls, function(call) {
    routine <- call[[1L]]
    if (is.character(routine)) {
      routine <- ns[[routine]]
    }
    do.call(.Call, c(list(routine), call[-1L]))
  })
}

# Direct .Call()s of registered routines, with arguments made outside the
# torture.
torture_calls <- function(calls) {
  expect_torture_identical(function() calls, replay_calls)
}

# The .Call()s that run(ns) makes, as list(routine, arguments...): `ns` is a
# copy of the package's namespace whose functions record each .Call() before
# making it. Replaying the record under torture exercises the C code with
# the arguments the R code gives it, without the R code's own allocations,
# which would make each test take minutes under gctorture.
record_entry_calls <- function(run) {
  ns <- asNamespace("bijectors")
  recorder <- new.env(parent = ns)
  calls <- list()
  recorder$.Call <- function(.NAME, ...) {
    calls[[length(calls) + 1L]] <<- list(.NAME, ...)
    .Call(.NAME, ...)
  }
  for (name in ls(ns, all.names = TRUE)) {
    f <- get(name, envir = ns, inherits = FALSE)
    if (is.function(f) && identical(environment(f), ns)) {
      environment(f) <- recorder
      assign(name, f, envir = recorder)
    }
  }
  run(recorder)
  calls
}

call_names <- function(calls) {
  vapply(calls, function(call) call[[1L]]$name, character(1))
}

torture_data <- function() {
  matrix(c(0.5, -1, 2, 0.25, 1.5, -0.75, 3, 1), 4, 2)
}

# A flow with every kind of trainable C kernel: MADE, Real NVP, batch
# normalization in both directions (the inverted one runs forward).
torture_flow <- function() {
  y <- torture_data()
  bn <- tfb_batch_normalization()
  maf <- tfb_masked_autoregressive_flow(
    tfb_masked_autoregressive_default_template(hidden_layers = 2))
  nvp <- tfb_real_nvp(1, tfb_real_nvp_default_template(hidden_layers = 2))
  inverted <- tfb_invert(tfb_batch_normalization(training = FALSE))
  flow <- tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = c(0, 0)),
    tfb_chain(list(maf, bn, nvp, inverted)))
  invisible(tfd_log_prob(flow, y))
  list(y = y, flow = flow, bn = bn, maf = maf, nvp = nvp)
}

# An inverse autoregressive flow: its density runs the MAF forward, whose
# backward pass is C_maf_forward_backward.
torture_iaf <- function() {
  y <- torture_data()
  flow <- tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = c(0, 0)),
    tfb_invert(tfb_masked_autoregressive_flow(
      tfb_masked_autoregressive_default_template(hidden_layers = 2))))
  invisible(tfd_log_prob(flow, y))
  list(y = y, flow = flow)
}

torture_layer <- function() {
  b <- tfb_batch_normalization(layer_batch_normalization(momentum = 0.5))
  list(y = torture_data(), b = b)
}

test_that("batch-normalization entry points survive gctorture", {
  skip_on_cran()
  weights <- function(f) get_weights(f$b)
  # C_bn_state_new, C_bn_pointer_new, C_bn_pointer_current,
  # C_bn_inverse_training (the layer builds on its first input)
  expect_torture_identical(torture_layer, function(f) f$b$inverse(f$y),
                           weights)
  # C_bn_inverse_training with its log-det (log_prob's path)
  expect_torture_identical(
    torture_layer,
    function(f) bijectors:::bijector_inverse_and_log_det(f$b, f$y, 1L),
    weights)
  built <- function() {
    f <- torture_layer()
    invisible(f$b$inverse(f$y))
    f
  }
  # C_bn_inverse_training_quick (the training inverse of a built layer)
  expect_torture_identical(built, function(f) f$b$inverse(f$y), weights)
  # C_bn_transform (forward and evaluation inverse)
  expect_torture_identical(built, function(f) f$b$forward(f$y))
  expect_torture_identical(built, function(f) {
    tfb_batch_normalization(f$b$batchnorm, training = FALSE)$inverse(f$y)
  })
  # C_bn_inverse_log_det, training and evaluation
  expect_torture_identical(built, function(f) {
    f$b$inverse_log_det_jacobian(f$y, 1)
  })
  expect_torture_identical(built, function(f) {
    f$b$forward_log_det_jacobian(f$y, 1)
  })
  # C_copy_double (accessors hand out copies)
  expect_torture_identical(built, function(f) get_weights(f$b))
  expect_torture_identical(built, function(f) f$b$batchnorm$moving_mean)
  # C_bn_state_new again (set_weights copies in)
  expect_torture_identical(built, function(f) {
    w <- get_weights(f$b)
    w$moving_mean <- c(1, 2)
    set_weights(f$b, w)
    get_weights(f$b)
  })
  # C_all_finite (validate_args)
  expect_torture_identical(
    function() {
      b <- tfb_batch_normalization(validate_args = TRUE)
      list(y = torture_data(), b = b)
    },
    function(f) f$b$inverse(f$y), weights)
  # C_bn_moments_update (recompute_batch_statistics)
  expect_torture_identical(built, function(f) {
    recompute_batch_statistics(f$b, f$y)
    get_weights(f$b)
  })
  # ... directly, a first block and a second merged into its totals
  y <- torture_data()
  totals <- .Call(bijectors:::C_bn_moments_update, y, dim(y), 2L, NULL)
  torture_calls(list(
    list("C_bn_moments_update", y, dim(y), 2L, NULL),
    list("C_bn_moments_update", y * 3, dim(y), 2L, totals)
  ))
})

test_that("network, coupling and training entry points survive gctorture", {
  skip_on_cran()
  # One loss and gradient through each flow, and a masked dense layer, as
  # recorded calls. C_bn_inverse_training also updates the moving
  # statistics: the first block runs it through its R wrapper.
  flow <- torture_flow()
  iaf <- torture_iaf()
  calls <- c(
    record_entry_calls(function(ns) {
      ns$loss_and_gradient(flow$flow, flow$y, input_gradient = TRUE)
    }),
    record_entry_calls(function(ns) {
      ns$loss_and_gradient(iaf$flow, iaf$y, input_gradient = TRUE)
    }),
    record_entry_calls(function(ns) {
      ns$tfb_masked_dense(flow$y, 3, kernel_initializer = "glorot_uniform")
    }))
  calls <- calls[call_names(calls) != "C_bn_inverse_training"]
  expect_true(all(c("C_mlp_forward", "C_affine_transform", "C_mlp_backward",
                    "C_affine_backward", "C_bn_inverse_backward",
                    "C_bn_forward_backward", "C_maf_forward_backward") %in%
                    call_names(calls)))
  torture_calls(calls)
  # C_parameters_assign and C_adam_step write into the parameters' owners:
  # each run records on a fresh flow and replays, and the parameters must
  # end alike.
  parameters <- function(f) trainable_parameters(f$flow$flow)
  updating <- function() {
    flow <- torture_flow()
    value <- lapply(trainable_parameters(flow$flow), function(p) p * 0.5)
    slots <- bijectors:::bijector_parameter_slots(flow$flow$bijector)
    gradient <- loss_and_gradient(flow$flow, flow$y)$gradient
    calls <- c(
      record_entry_calls(function(ns) {
        ns$`trainable_parameters<-`(flow$flow, value = value)
      }),
      record_entry_calls(function(ns) {
        ns$adam_step(slots, gradient, 0.01, preview = TRUE)
      }),
      record_entry_calls(function(ns) ns$adam_step(slots, gradient, 0.01)))
    list(flow = flow, calls = calls)
  }
  out <- expect_torture_identical(updating, function(f) {
    replay_calls(f$calls)
  }, parameters)
  expect_setequal(call_names(out$plain$calls),
                  c("C_parameters_assign", "C_adam_step"))
})

test_that("the elementwise entry points survive gctorture", {
  skip_on_cran()
  elementwise_fixture <- function() {
    list(x = array(c(0.5, -1, 2, 0.25, 1.5, -0.75, 3, 1), c(2, 2, 2),
                   dimnames = list(c("a", "b"), NULL, NULL)),
         bijectors = list(tfb_sigmoid(low = c(-4, -5), high = 6),
                          tfb_scale(c(2, -0.5)), tfb_shift(1), tfb_exp()))
  }
  # C_elementwise_map: maps and log-dets at every reduction
  expect_torture_identical(elementwise_fixture, function(f) {
    lapply(f$bijectors, function(b) {
      list(b$forward(f$x), b$inverse(b$forward(f$x)),
           lapply(0:3, function(k) b$forward_log_det_jacobian(f$x, k)),
           b$inverse_log_det_jacobian(b$forward(f$x), 2))
    })
  })
  # C_elementwise_backward, both directions
  expect_torture_identical(elementwise_fixture, function(f) {
    lapply(f$bijectors, function(b) {
      forward <- bijectors:::bijector_forward_with_cache(b, f$x, 1L)
      inverse <- bijectors:::bijector_inverse_with_cache(b, forward$y, 0L)
      list(bijectors:::elementwise_backward(b, forward$cache, f$x,
                                            c(1, -1, 0.5, 2), 0L),
           bijectors:::elementwise_backward(b, inverse$cache, f$x,
                                            f$x * 0.5, 1L))
    })
  })
})

test_that("the rational quadratic spline's entry points survive gctorture", {
  skip_on_cran()
  # direct calls: the R wrappers would make this slow under torture
  spline_fixture <- function() {
    list(x = matrix(c(-0.9, 0.3, -0.4, 0.8, 1.5, -0.2), 3, 2,
                    dimnames = list(NULL, c("a", "b"))),
         widths = rbind(c(0.5, 1, 0.5), c(1, 0.5, 0.5)),
         heights = c(1, 0.5, 0.5), slopes = c(0.5, 2))
  }
  # C_rqs_map and C_rqs_backward: per feature and per element
  f <- spline_fixture()
  rows <- c(2L, 1L, 1L)
  torture_calls(c(
    lapply(0:3, function(op) {
      list("C_rqs_map", f$x, f$widths, f$heights, f$slopes, rows, FALSE, -1,
           op, if (op >= 2L) 1L else 0L)
    }),
    list(list("C_rqs_backward", f$x, f$widths, f$heights, f$slopes, rows,
              FALSE, -1, FALSE, 2L, f$x, 1),
         list("C_rqs_map", c(-0.5, 0.4), f$widths, f$widths[, 3:1],
              rbind(f$slopes, 1), c(2L, 2L, 2L), TRUE, -1, 0L, 0L),
         list("C_rqs_backward", c(-0.5, 0.4), f$widths, f$widths[, 3:1],
              rbind(f$slopes, 1), c(2L, 2L, 2L), TRUE, -1, TRUE, 0L, c(1, 2),
              c(0.5, 1)))))
})

test_that("the structural and linear kinds' entry points survive gctorture", {
  skip_on_cran()
  # Direct calls with arguments made outside the torture, as the kinds'
  # R code makes them (the R wrappers would make this slow under torture).
  ns <- asNamespace("bijectors")
  x <- torture_data()
  modes <- ns$cumsum_modes
  torture_calls(lapply(modes, function(mode) {
    list("C_cumsum_along", x, as.double(dim(x)), 2L, mode)
  }))
  simplex <- ns$simplex_input(x, "x", TRUE)
  size <- as.double(simplex$size)
  on_simplex <- .Call(ns$C_softmax_centered_map, simplex$x, simplex$rows,
                      size, TRUE)[[1L]]
  ones <- rep(1, simplex$rows)
  torture_calls(list(
    list("C_softmax_centered_map", simplex$x, simplex$rows, size, TRUE),
    list("C_softmax_centered_backward", on_simplex, on_simplex, ones,
         simplex$rows, size, TRUE),
    list("C_iterated_sigmoid_centered_map", simplex$x, simplex$rows, size,
         TRUE),
    list("C_iterated_sigmoid_centered_backward", simplex$x, on_simplex,
         on_simplex, ones, simplex$rows, size, TRUE),
    list("C_softmax_centered_backward", on_simplex, simplex$x, ones,
         simplex$rows, size, FALSE),
    list("C_iterated_sigmoid_centered_backward", numeric(0), on_simplex,
         simplex$x, ones, simplex$rows, size, FALSE)))
  events <- ns$matrix_events(array(c(1.5, 2, 0.3, -0.4, 0, 0, 1.2, 0.8),
                                   c(2, 2, 2)), "x")
  v <- events$values
  n <- events$n
  torture_calls(c(
    lapply(0:2, function(op) list("C_cholesky_outer_product", v, n, op)),
    lapply(0:1, function(direction) {
      list("C_cholesky_outer_product_backward", v, v, c(1, -1), n, direction)
    }),
    lapply(0:1, function(op) list("C_matrix_inverse_tri_l", v, n, op)),
    list(list("C_matrix_inverse_tri_l_backward", v, v, v, c(1, 0.5), n)),
    lapply(0:1, function(op) list("C_cholesky_to_inv_cholesky", v, n, op)),
    list(list("C_cholesky_to_inv_cholesky_backward", v, v, v, c(1, 0.5), n))))
  lu <- tfb_scale_matvec_lu(rbind(c(2, 0.5), c(1, 3)), c(2, 1))
  code <- ns$linear_kind_codes[[.subset2(lu, "operator")]]
  torture_calls(c(
    lapply(list(c(0L, 0L), c(1L, 0L), c(0L, 1L), c(1L, 1L)), function(flags) {
      list("C_linear_apply", code, ns$linear_values(lu),
           ns$linear_permutation(lu), x, flags)
    }),
    list(list("C_linear_outer", x, x * 2, 2L),
         list("C_linear_lu_factor", rbind(c(1, 2), c(3, 4))))))
  # Lambert's W, the internal entry point of tfb_lambert_w_tail()
  expect_torture_identical(function() c(-0.2, 0, 0.5, 3, 1e10), function(z) {
    .Call(bijectors:::C_lambert_w0, z)
  })
})

test_that("the ODE solver and FFJORD's network entry points survive gctorture", {
  ns <- asNamespace("bijectors")
  controls <- c(1e-2, 1e-4, 1e-2, 0.9, 0.1, 10, 0)
  decay <- function(t, y) -y
  torture_calls(list(
    list("C_dormand_prince_solve", decay, environment(), 0, c(1, 2),
         c(0.5, 1), controls)))
  set.seed(3)
  template <- tfb_ffjord_default_template(3)
  invisible(tfb_ffjord(template)$forward(torture_data()))
  network <- list(get("kernels", envir = template),
                  get("biases", envir = template),
                  get("activation_codes", envir = template))
  x <- torture_data()
  noise <- as.double(seq_along(x)) / 8 - 0.5
  torture_calls(list(
    c(list("C_ffjord_network_derivative", x, 4), network,
      list(0.5, NULL, TRUE)),
    c(list("C_ffjord_network_derivative", x, 4), network,
      list(0.5, noise, FALSE)),
    c(list("C_ffjord_network_solve", x, 4), network,
      list(c(0, 1), FALSE, NULL, controls, FALSE)),
    c(list("C_ffjord_network_solve", x, 4), network,
      list(c(0.5, 1), TRUE, noise, controls, TRUE))))
  # the backward pass of recorded solves (exact trace and Hutchinson's)
  exact <- do.call(.Call, c(list(ns$C_ffjord_network_solve, x, 4), network,
                            list(c(0, 1), FALSE, NULL, controls, TRUE)))
  noisy <- do.call(.Call, c(list(ns$C_ffjord_network_solve, x, 4), network,
                            list(c(0.5, 1), TRUE, noise, controls, TRUE)))
  torture_calls(list(
    c(list("C_ffjord_network_backward", exact$tape, 4), network,
      list(c(0, 1), FALSE, NULL, x / 2, rep(0.3, length(x)))),
    c(list("C_ffjord_network_backward", noisy$tape, 4), network,
      list(c(0.5, 1), TRUE, noise, x / 2, rep(0.3, length(x))))))
})

test_that("the convolutional network entry points survive gctorture", {
  skip_on_cran()
  set.seed(3)
  x <- array(rnorm(2 * 3 * 2 * 2), c(2, 3, 2, 2))
  kernels <- list(array(rnorm(3 * 3 * 2 * 3), c(3, 3, 2, 3)),
                  array(rnorm(1 * 1 * 3 * 2), c(1, 1, 3, 2)))
  biases <- list(rnorm(3), rnorm(2))
  codes <- c(1L, 0L)
  run <- .Call(bijectors:::C_conv_network_forward, x, kernels, biases, codes,
               TRUE, 2^22)
  grad <- array(rnorm(2 * 3 * 2 * 2), c(2, 3, 2, 2))
  torture_calls(list(
    list("C_conv_network_forward", x, kernels, biases, codes, TRUE, 2^22),
    list("C_conv_network_forward", x, kernels, biases, codes, FALSE, 1),
    list("C_conv_network_backward", x, kernels, biases, codes, run$hidden,
         run$output, grad, TRUE, 2^22),
    list("C_conv_network_backward", x, kernels, biases, codes, run$hidden,
         run$output, grad, FALSE, 1)))
})

test_that("the matrix product's entry points survive gctorture", {
  skip_on_cran()
  set.seed(29)
  A <- matrix(rnorm(5 * 3), 5, 3)
  B <- matrix(rnorm(3 * 4), 3, 4)
  C <- matrix(rnorm(5 * 4), 5, 4)
  product <- function(which, trans, a, b) {
    list("C_gemm_test", which, trans, c(5L, 4L, 3L),
         c(nrow(a), nrow(b), 5L), 1.5, 0.5, a, b, C, 2L)
  }
  torture_calls(list(
    product(0L, c("N", "N"), A, B), product(2L, c("N", "N"), A, B),
    product(1L, c("N", "N"), A, B), product(0L, c("T", "T"), t(A), t(B)),
    list("C_gemm_masked_test", 0L, 1L, c(0L, 1L, 0L, 2L, 3L, 3L, 1L, 3L),
         c("N", "N"), c(5L, 4L, 3L), c(5L, 3L, 5L), 1.5, 0.5, A, B, C, 2L),
    list("C_gemm_masked_test", 2L, 2L, c(0L, 2L, 5L, 1L, 4L, 5L, 5L, 3L),
         c("N", "N"), c(5L, 4L, 3L), c(5L, 3L, 5L), 1.5, 0.5, A, B, C, 2L),
    list("C_gemm_kernel"), list("C_gemm_backend", NULL),
    list("C_gemm_threads", NULL)))
  # the calibration and a change of backend have no value to compare (a
  # timing decides the first), so they only have to survive
  old <- options(bijectors.gemm = "auto")
  on.exit({
    options(old)
    bijectors:::gemm_apply_option()
  })
  gctorture(TRUE)
  chosen <- .Call(bijectors:::C_gemm_calibrate)
  set_back <- .Call(bijectors:::C_gemm_backend, "bijectors")
  gctorture(FALSE)
  expect_true(chosen %in% c("bijectors", "blas"))
  expect_identical(set_back, "bijectors")
})

test_that("the vector functions' test entry survives gctorture", {
  skip_on_cran()
  x <- c(-800, -1, -1e-300, 0, 0.5, 3, 700, NaN, Inf)
  calls <- list()
  for (name in c("exp", "expm1", "log", "log1p", "tanh")) {
    for (path in c("portable", "simd", "avx512", "scalar", "auto")) {
      calls[[length(calls) + 1L]] <- list("C_vector_math_test", name, x,
                                          path)
    }
  }
  for (path in c("portable", "simd", "avx512", "scalar", "auto")) {
    calls[[length(calls) + 1L]] <- list("C_vector_math_tanh_shift_test", x,
                                        0.5, path)
  }
  for (name in c("pow", "powm1", "one_plus_product")) {
    for (path in c("portable", "simd", "avx512", "scalar", "auto")) {
      calls[[length(calls) + 1L]] <- list("C_vector_math_pow_test", name,
                                          abs(x), abs(x) * 1e-17,
                                          c(0.3, 1e-18), c(2, 0), path)
    }
  }
  torture_calls(calls)
})

test_that("the compiled plan's entry points survive gctorture", {
  skip_on_cran()
  # MAF, training and evaluation batch normalization, permute, a nested
  # chain: a loss and gradient through a fit's plan (C_plan_inverse, then
  # C_plan_backward), and a log_prob() through a plan, with the running
  # statistics they move.
  setup <- function() {
    flow <- tfd_transformed_distribution(
      tfd_multivariate_normal_diag(loc = c(0, 0)),
      tfb_chain(list(
        tfb_masked_autoregressive_flow(
          tfb_masked_autoregressive_default_template(c(3, 3))),
        tfb_batch_normalization(),
        tfb_chain(list(tfb_permute(2:1),
                       tfb_batch_normalization(training = FALSE))))))
    y <- matrix(c(0.1, -0.4, 0.7, 1.2, -0.3, 0.5, 0.2, -1), 4, 2)
    invisible(flow$log_prob(y))
    list(flow = flow, y = y)
  }
  call <- function(f) {
    ns <- asNamespace("bijectors")
    slots <- ns$bijector_parameter_slots(f$flow$bijector)
    plan <- ns$compile_plan(f$flow, length(slots))
    list(ns$plan_loss_and_gradient(plan, f$flow, f$y, slots,
                                   ns$slot_bookkeeping(slots)),
         ns$plan_log_prob(f$flow, f$y))
  }
  statistics <- function(f) {
    lapply(bijectors:::bijector_batchnorm_layers(f$flow$bijector),
           get_weights)
  }
  out <- expect_torture_identical(setup, call, statistics)
  expect_true(is.numeric(out$expected[[2L]]))
})

test_that("fit()'s fused step survives gctorture", {
  skip_on_cran()
  # Two fused steps (C_plan_fit_step, which names Adam's bindings with
  # C_adam_symbols) on rows of a matrix, after a first step on the R path
  # that builds the networks; a flow with the default gamma constraint.
  setup <- function() {
    flow <- tfd_transformed_distribution(
      tfd_multivariate_normal_diag(loc = c(0, 0)),
      tfb_chain(list(
        tfb_masked_autoregressive_flow(
          tfb_masked_autoregressive_default_template(c(3, 3))),
        tfb_batch_normalization(),
        tfb_chain(list(tfb_permute(2:1), tfb_batch_normalization())))))
    y <- matrix(c(0.1, -0.4, 0.7, 1.2, -0.3, 0.5, 0.2, -1, 0.9, -0.6), 5, 2)
    ns <- asNamespace("bijectors")
    settings <- ns$check_fit_settings(1L, 5L, 0, FALSE, FALSE, 0.01, NULL)
    run <- ns$new_fit_run(flow, list(training = y, validation = NULL),
                          settings)
    ns$fit_step(run, y)
    run$order <- c(5L, 2L, 4L, 1L, 3L)
    list(flow = flow, run = run, step = ns$fused_fit_spec(run), y = y)
  }
  call <- function(f) {
    ns <- asNamespace("bijectors")
    c(ns$fused_fit_step(f$run, f$step, f$y, f$run$order, c(1L, 4L)),
      ns$fused_fit_step(f$run, f$step, f$y, NULL, NULL))
  }
  state <- function(f) {
    list(trainable_parameters(f$flow),
         lapply(bijectors:::bijector_batchnorm_layers(f$flow$bijector),
                get_weights), f$run$steps)
  }
  out <- expect_torture_identical(setup, call, state)
  expect_true(all(is.finite(out$expected)))
  expect_identical(out$plain$run$steps, 3L)
  torture_calls(list(list("C_adam_avx2", NA)))
})

test_that("every registered entry point is covered above", {
  skip_on_cran()
  registered <- names(getDLLRegisteredRoutines("bijectors")$.Call)
  covered <- c(
    "C_copy_double", "C_all_finite", "C_bn_pointer_current", "C_bn_state_new",
    "C_bn_pointer_new", "C_bn_inverse_training",
    "C_bn_inverse_training_quick", "C_bn_transform",
    "C_bn_inverse_log_det", "C_bn_inverse_backward", "C_bn_forward_backward",
    "C_bn_moments_update", "C_mlp_forward", "C_affine_transform", "C_mlp_backward",
    "C_affine_backward", "C_maf_forward_backward", "C_parameters_assign",
    "C_adam_step", "C_elementwise_map", "C_elementwise_backward",
    "C_cumsum_along", "C_softmax_centered_map", "C_softmax_centered_backward",
    "C_iterated_sigmoid_centered_map", "C_iterated_sigmoid_centered_backward",
    "C_cholesky_outer_product", "C_cholesky_outer_product_backward",
    "C_matrix_inverse_tri_l", "C_matrix_inverse_tri_l_backward",
    "C_cholesky_to_inv_cholesky", "C_cholesky_to_inv_cholesky_backward",
    "C_lambert_w0", "C_linear_apply", "C_linear_outer", "C_linear_lu_factor",
    "C_rqs_map", "C_rqs_backward", "C_dormand_prince_solve",
    "C_ffjord_network_derivative", "C_ffjord_network_solve",
    "C_ffjord_network_backward",
    "C_conv_network_forward", "C_conv_network_backward",
    "C_gemm_test", "C_gemm_masked_test", "C_gemm_kernel", "C_gemm_backend",
    "C_gemm_calibrate",
    "C_gemm_threads", "C_vector_math_test", "C_vector_math_pow_test",
    "C_vector_math_tanh_shift_test",
    "C_plan_inverse", "C_plan_log_prob", "C_plan_backward", "C_plan_fit_step",
    "C_adam_symbols",
    "C_adam_avx2"
  )
  expect_setequal(registered, covered)
})
