# tfb_ffjord() with a network template: the network's dynamics and trace
# terms in C against a plain-R network and numerical Jacobians, and the
# whole solve in C against the R path.

network_derivative <- function(template, state, time, noise = NULL,
                               with_trace = TRUE) {
  bijectors:::ffjord_network_derivative(template, state, nrow(state), time,
                                        noise, with_trace)
}

built_template <- function(hidden, activation, size, seed = 1) {
  set.seed(seed)
  template <- tfb_ffjord_default_template(hidden, activation = activation,
                                          bias_initializer = function(n) {
                                            stats::runif(n, -0.5, 0.5)
                                          })
  tfb_ffjord(template)$forward(matrix(0.1, 1, size))
  template
}

test_that("dynamics and exact trace terms match a plain-R network", {
  state <- matrix(c(0.3, -1.2, 0.8, 2, -0.4, 0.1, 1.1, -0.9, 0.5), 3, 3)
  for (activation in c("tanh", "relu", "sigmoid", "elu", "softplus",
                       "linear")) {
    template <- built_template(c(6, 5), activation, 3)
    reference <- reference_ffjord_network(template)
    out <- network_derivative(template, state, 0.7)
    expect_equal(out[1:9], as.vector(reference(0.7, state)),
                 tolerance = 1e-12, label = activation)
    diagonal <- t(vapply(1:3, function(r) {
      diag(numerical_event_jacobian(reference, 0.7, state[r, ]))
    }, numeric(3)))
    expect_equal(out[10:18], as.vector(diagonal), tolerance = 1e-7,
                 label = activation)
    expect_length(network_derivative(template, state, 0.7,
                                     with_trace = FALSE), 9L)
  }
  # no hidden layer: linear dynamics, the trace is the kernel's diagonal
  template <- built_template(integer(), "tanh", 3)
  kernel <- template$weights$output$kernel
  out <- network_derivative(template, state, 0.2)
  expect_equal(out[10:18], rep(diag(kernel[1:3, ]), each = 3),
               tolerance = 1e-15)
})

test_that("Hutchinson's terms are eps * (J eps) with the network's J", {
  template <- built_template(c(7), "tanh", 3)
  reference <- reference_ffjord_network(template)
  state <- matrix(c(0.3, -1.2, 0.8, 2, -0.4, 0.1), 2, 3)
  set.seed(4)
  noise <- rnorm(12)
  out <- network_derivative(template, state, 0.4, noise)
  expected <- matrix(0, 2, 3)
  for (s in 1:2) {
    eps <- matrix(noise[(s - 1) * 6 + 1:6], 2, 3)
    for (r in 1:2) {
      jacobian <- numerical_event_jacobian(reference, 0.4, state[r, ])
      expected[r, ] <- expected[r, ] + eps[r, ] * (jacobian %*% eps[r, ]) / 2
    }
  }
  expect_equal(out[7:12], as.vector(expected), tolerance = 1e-7)
})

test_that("the C solve matches the R path step for step", {
  template <- built_template(c(8, 8), "tanh", 2)
  reference <- reference_ffjord_network(template)
  x <- rbind(c(1, -0.5), c(0.2, 0.8), c(-1.5, 0.3))
  for (times in list(c(0, 1), c(0.5, 2))) {
    in_c <- tfb_ffjord(template, trace_augmentation_fn = trace_jacobian_exact,
                       initial_time = times[1], final_time = times[2])
    in_r <- tfb_ffjord(reference, trace_augmentation_fn = trace_jacobian_exact,
                       initial_time = times[1], final_time = times[2])
    y <- in_c$forward(x)
    expect_equal(y, in_r$forward(x), tolerance = 1e-10)
    expect_equal(in_c$forward_log_det_jacobian(x, 1),
                 in_r$forward_log_det_jacobian(x, 1), tolerance = 1e-8)
    expect_equal(in_c$inverse(y), in_r$inverse(y), tolerance = 1e-10)
    expect_equal(in_c$inverse_log_det_jacobian(y, 1),
                 in_r$inverse_log_det_jacobian(y, 1), tolerance = 1e-8)
  }
  # a vector is one event
  b <- tfb_ffjord(template, trace_augmentation_fn = trace_jacobian_exact)
  expect_equal(b$forward(x[2, ]), b$forward(x)[2, ], tolerance = 1e-12)
})

test_that("tightly solved, the network flow inverts and its log-det is exact", {
  template <- built_template(c(8), "softplus", 3)
  b <- tfb_ffjord(template, trace_augmentation_fn = trace_jacobian_exact,
                  ode_solve_fn = ode_dormand_prince(rtol = 1e-10, atol = 1e-12),
                  initial_time = 0.25, final_time = 1.25)
  x <- rbind(c(1, -0.5, 0.3), c(0.2, 0.8, -1))
  y <- b$forward(x)
  expect_equal(b$inverse(y), x, tolerance = 1e-8)
  fldj <- b$forward_log_det_jacobian(x, 1)
  for (r in 1:2) {
    jacobian <- numerical_event_jacobian(function(t, z) b$forward(z), 0,
                                         x[r, ])
    expect_equal(fldj[r], log(abs(det(jacobian))), tolerance = 1e-7)
  }
  expect_equal(b$inverse_log_det_jacobian(y, 1), -fldj, tolerance = 1e-8)
})

test_that("Hutchinson's estimator with a template: C solve = R solver", {
  template <- built_template(c(6), "tanh", 3)
  x <- rbind(c(1, -0.5, 0.3), c(0.2, 0.8, -1))
  in_c <- tfb_ffjord(template)
  via_r <- tfb_ffjord(template, ode_solve_fn = function(...) {
    ode_dormand_prince()(...)
  })
  set.seed(8)
  fldj <- in_c$forward_log_det_jacobian(x, 1)
  set.seed(8)
  expect_equal(via_r$forward_log_det_jacobian(x, 1), fldj, tolerance = 1e-10)
  set.seed(9)
  expect_false(identical(in_c$forward_log_det_jacobian(x, 1), fldj))
  # another trace function sees the network as an R function
  exact <- tfb_ffjord(template, trace_augmentation_fn = trace_jacobian_exact)
  custom <- tfb_ffjord(template, trace_augmentation_fn = function(f, s, d) {
    trace_jacobian_exact(f, s, d)
  })
  expect_equal(custom$forward_log_det_jacobian(x, 1),
               exact$forward_log_det_jacobian(x, 1), tolerance = 1e-8)
})

test_that("templates: errors, event sizes, fields, printing and saving", {
  expect_error(tfb_ffjord_default_template(c(4, -1)),
               class = "bijectors_error")
  expect_error(tfb_ffjord_default_template(4, activation = "swish"),
               class = "bijectors_error")
  expect_error(tfb_ffjord_default_template(4, kernel_constraint = "x"),
               class = "bijectors_error_unsupported")
  expect_error(tfb_ffjord(tfb_real_nvp_default_template(4)),
               class = "bijectors_error_argument")
  set.seed(2)
  template <- tfb_ffjord_default_template(c(4))
  expect_false(template$built)
  b <- tfb_ffjord(template, trace_augmentation_fn = trace_jacobian_exact)
  expect_error(b$forward(array(0, c(2, 2, 2))),
               class = "bijectors_error_input")
  expect_false(template$built)
  x <- matrix(c(0.5, -1, 2, 0.3), 2, 2)
  y <- b$forward(x)
  expect_true(template$built)
  expect_identical(template$input_size, 3L)
  expect_error(b$forward(matrix(0, 2, 3)),
               class = "bijectors_error_event_size")
  expect_snapshot({
    print(template)
    print(b)
  })
  copy <- unserialize(serialize(b, NULL))
  expect_identical(copy$forward(x), y)
  path <- tempfile(fileext = ".rds")
  saveRDS(b, path)
  expect_identical(readRDS(path)$forward(x), y)
  # trainable only with the package's trace estimators and solver
  base <- tfd_multivariate_normal_diag(loc = c(0, 0), scale_diag = c(1, 1))
  own_solver <- tfb_ffjord(template, ode_solve_fn = function(ode_fn, t0,
                                                             state, times) {
    list(states = list(state))
  }, trace_augmentation_fn = trace_jacobian_exact)
  expect_error(fit(tfd_transformed_distribution(base, own_solver), y,
                   epochs = 1, verbose = FALSE),
               "ode_dormand_prince", class = "bijectors_error_unsupported")
  own_trace <- tfb_ffjord(template, trace_augmentation_fn = function(...) {
    trace_jacobian_exact(...)
  })
  expect_error(fit(tfd_transformed_distribution(base, own_trace), y,
                   epochs = 1, verbose = FALSE),
               "trace_augmentation_fn", class = "bijectors_error_unsupported")
})

test_that("the C entry points check what they are given", {
  template <- built_template(c(4), "tanh", 2)
  kernels <- get("kernels", envir = template)
  biases <- get("biases", envir = template)
  codes <- get("activation_codes", envir = template)
  solve <- function(state = c(1, 2, 3, 4), rows = 2, times = c(0, 1),
                    noise = NULL, k = kernels, b = biases) {
    .Call(bijectors:::C_ffjord_network_solve, state, rows, k, b, codes,
          times, FALSE, noise, c(1e-3, 1e-6, 1e-3, 0.9, 0.1, 10, 0), FALSE)
  }
  expect_length(solve()$output, 4L)
  expect_error(solve(state = 1:4), "double")
  expect_error(solve(state = c(1, 2, 3)), "rows of 2")
  expect_error(solve(rows = 0), "rows")
  expect_error(solve(rows = 1.5), "rows")
  expect_error(solve(times = c(1, 0)), "increasing")
  expect_error(solve(noise = c(1, 2, 3)), "noise")
  expect_error(solve(b = biases[1]), "biases")
  expect_error(solve(k = list(kernels[[1]], matrix(0, 4, 3))), "D \\+ 1 inputs")
  expect_error(.Call(bijectors:::C_ffjord_network_derivative, c(1, 2),
                     1, kernels, biases, codes, "a", NULL, TRUE), "time")
})
