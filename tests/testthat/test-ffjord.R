# tfb_ffjord(): TFP's test cases (ffjord_test.py) at their tolerances, the
# tfprobability test, and exact solutions of linear ODEs.

test_that("TFP Bijector: ones_like dynamics map zeros to ones (exact trace)", {
  b <- tfb_ffjord(function(t, z) array(1, dim(z)),
                  trace_augmentation_fn = trace_jacobian_exact)
  x <- matrix(0, 2, 5)
  y <- b$forward(x)
  expect_equal(y, matrix(1, 2, 5), tolerance = 1e-6)
  expect_equal(b$inverse(y), x, tolerance = 1e-6)
  expect_equal(b$forward_log_det_jacobian(x, event_ndims = 1), c(0, 0),
               tolerance = 1e-6)
  expect_equal(b$inverse_log_det_jacobian(y, event_ndims = 1), c(0, 0),
               tolerance = 1e-6)
})

test_that("tfprobability's test: ones_like on matrix(0, 2, 5), default trace", {
  b <- tfb_ffjord(function(t, z) array(1, dim(z)))
  y <- b$forward(matrix(0, 2, 5))
  expect_equal(y, matrix(1, 2, 5), tolerance = 1e-6)
  expect_equal(b$inverse(y), matrix(0, 2, 5), tolerance = 1e-6)
})

test_that("TFP ConditionKwargs, as a closure: dynamics ones * c^2", {
  condition <- matrix(2, 2, 5)
  b <- tfb_ffjord(function(t, z) array(1, dim(z)) * condition^2,
                  trace_augmentation_fn = trace_jacobian_exact)
  x <- matrix(0, 2, 5)
  y <- b$forward(x)
  expect_lt(max(abs(y - 4)), 1e-5)
  expect_lt(max(abs(b$inverse(y) - x)), 1e-5)
  expect_equal(b$forward_log_det_jacobian(x, 1), c(0, 0), tolerance = 1e-6)
  expect_equal(b$inverse_log_det_jacobian(y, 1), c(0, 0), tolerance = 1e-6)
})

test_that("TFP JacobianScaling: log(2) z doubles x, log-det log 2", {
  b <- tfb_ffjord(function(t, z) log(2) * z,
                  trace_augmentation_fn = trace_jacobian_exact)
  x <- matrix(c(0, 1), 2, 1)
  y <- b$forward(x)
  expect_lt(max(abs(y - matrix(c(0, 2), 2, 1))), 1e-4)
  expect_lt(max(abs(b$inverse(y) - x)), 1e-4)
  expect_equal(b$forward_log_det_jacobian(x, 1), rep(log(2), 2),
               tolerance = 1e-6)
  expect_equal(b$inverse_log_det_jacobian(y, 1), rep(log(0.5), 2),
               tolerance = 1e-6)
})

test_that("TFP JacobianDiagonalScaling: z diag(m), exact trace", {
  set.seed(11)
  m <- runif(10)
  b <- tfb_ffjord(function(t, z) z %*% diag(m),
                  trace_augmentation_fn = trace_jacobian_exact)
  x <- matrix(rnorm(30), 3, 10)
  y <- b$forward(x)
  expect_lt(max(abs(y - x %*% diag(exp(m)))), 1e-3)
  expect_lt(max(abs(b$inverse(y) - x)), 1e-3)
  expect_equal(b$forward_log_det_jacobian(x, 1), rep(sum(m), 3),
               tolerance = 1e-6)
  expect_equal(b$inverse_log_det_jacobian(y, 1), rep(-sum(m), 3),
               tolerance = 1e-6)
})

test_that("TFP HutchinsonsNormalEstimator: 128 samples, log-det within 0.7", {
  set.seed(12)
  m <- runif(10)
  b <- tfb_ffjord(function(t, z) z %*% diag(m),
                  trace_augmentation_fn = hutchinson_with(128))
  x <- matrix(rnorm(30), 3, 10)
  y <- b$forward(x)
  expect_lt(max(abs(y - x %*% diag(exp(m)))), 1e-3)
  expect_lt(max(abs(b$inverse(y) - x)), 1e-3)
  fldj <- b$forward_log_det_jacobian(x, 1)
  ildj <- b$inverse_log_det_jacobian(y, 1)
  expect_lt(max(abs(fldj - sum(m))), 0.7)
  expect_lt(max(abs(ildj + sum(m))), 0.7)
  # an estimate, not the exact value: a new draw per call
  expect_false(isTRUE(all.equal(fldj, rep(sum(m), 3), tolerance = 1e-6)))
  expect_false(identical(fldj, b$forward_log_det_jacobian(x, 1)))
})

test_that("Hutchinson's terms sum to eps' J eps for the drawn noise", {
  a <- rbind(c(1, 0.5, -2), c(0.3, -1, 0.7), c(2, 0.1, 0.4))
  f <- function(t, z) z %*% t(a)
  state <- matrix(c(0.5, -1, 2, 0.3, 1.5, -0.7), 2, 3)
  estimate <- trace_jacobian_hutchinson(f, c(2L, 3L), num_samples = 4,
                                        seed = 99)(0, state)
  expect_equal(estimate[[1]], f(0, state))
  # the same noise drawn here: columns are samples, rows the state's
  # elements in R's order
  set.seed(99)
  noise <- matrix(rnorm(24), 6, 4)
  expected <- vapply(1:2, function(n) {
    mean(vapply(1:4, function(s) {
      eps <- noise[c(n, n + 2, n + 4), s]
      sum(eps * (a %*% eps))
    }, numeric(1)))
  }, numeric(1))
  expect_equal(rowSums(estimate[[2]]), expected, tolerance = 1e-9)
  # many samples: near the trace (the standard error of the mean is
  # sqrt(2 / 5000) times the Frobenius norm of A's symmetric part, 0.033)
  many <- trace_jacobian_hutchinson(f, c(2L, 3L), num_samples = 5000,
                                    seed = 1)(0, state)
  expect_lt(max(abs(rowSums(many[[2]]) - sum(diag(a)))), 0.15)
})

test_that("Hutchinson's noise follows R's RNG; `seed` leaves it alone", {
  f <- function(t, z) sin(z)
  state <- matrix(c(0.1, 0.2, 0.3, 0.4), 2, 2)
  set.seed(5)
  first <- trace_jacobian_hutchinson(f, c(2L, 2L))(0, state)
  set.seed(5)
  again <- trace_jacobian_hutchinson(f, c(2L, 2L))(0, state)
  expect_identical(first, again)
  set.seed(6)
  before <- .Random.seed
  seeded <- trace_jacobian_hutchinson(f, c(2L, 2L), seed = 5)(0, state)
  expect_identical(.Random.seed, before)
  expect_identical(seeded, first)
  # Rademacher noise through sample_fn: eps_i^2 = 1, so for a diagonal
  # Jacobian every draw gives the exact trace
  rademacher <- function(n) sample(c(-1, 1), n, replace = TRUE)
  out <- trace_jacobian_hutchinson(f, c(2L, 2L), sample_fn = rademacher)(0,
                                                                          state)
  expect_equal(out[[2]], cos(state), tolerance = 1e-9)
  # and so does a bijector's forward(): same seed, same result
  b <- tfb_ffjord(function(t, z) tanh(z))
  set.seed(3)
  y1 <- b$forward(state)
  set.seed(3)
  expect_identical(b$forward(state), y1)
})

test_that("the exact trace is the Jacobian's diagonal to about 1e-10", {
  w <- rbind(c(0.8, -0.4, 0.3), c(0.2, 1.1, -0.6), c(-0.5, 0.7, 0.9))
  bias <- c(0.1, -0.2, 0.3)
  f <- function(t, z) tanh(z %*% w + matrix(t * bias, nrow(z), 3,
                                              byrow = TRUE))
  state <- matrix(c(0.5, -1.2, 2, 0.3, 1.5, -0.7, 3, -4, 0.1, 2.5, -2, 1), 4, 3)
  out <- trace_jacobian_exact(f, dim(state))(0.7, state)
  u <- state %*% w + matrix(0.7 * bias, 4, 3, byrow = TRUE)
  expected <- (1 - tanh(u)^2) * matrix(diag(w), 4, 3, byrow = TRUE)
  expect_equal(out[[2]], expected, tolerance = 1e-9)
  expect_equal(out[[1]], f(0.7, state))
  # a vector is one event: every element moves alone, so mixing is fine
  g <- function(t, z) c(z[1] * z[2], z[1] + 3 * z[2]^2)
  out <- trace_jacobian_exact(g, 2L)(0, c(2, -1))
  expect_equal(out[[2]], c(-1, -6), tolerance = 1e-9)
})

test_that("linear dynamics: y = x expm(A)^T and log-det tr(A), exactly", {
  a <- rbind(c(-0.5, 0.3, 0.1), c(0.2, 0.4, -0.3), c(0.6, -0.1, -0.2))
  tight <- ode_dormand_prince(rtol = 1e-10, atol = 1e-12)
  b <- tfb_ffjord(function(t, z) z %*% t(a), ode_solve_fn = tight,
                  trace_augmentation_fn = trace_jacobian_exact)
  x <- rbind(c(1, 2, -1), c(-1, 0.5, 3))
  y <- b$forward(x)
  expect_equal(y, x %*% t(reference_expm(a)), tolerance = 1e-9)
  expect_equal(b$inverse(y), x, tolerance = 1e-9)
  expect_equal(b$forward_log_det_jacobian(x, 1), rep(sum(diag(a)), 2),
               tolerance = 1e-9)
  expect_equal(b$inverse_log_det_jacobian(y, 1), rep(-sum(diag(a)), 2),
               tolerance = 1e-9)
  # event_ndims 0: one term per element, summing to the trace; 2: one sum
  at_zero <- b$forward_log_det_jacobian(x, 0)
  expect_equal(dim(at_zero), dim(x))
  expect_equal(rowSums(at_zero), rep(sum(diag(a)), 2), tolerance = 1e-9)
  expect_equal(b$forward_log_det_jacobian(x, 2), 2 * sum(diag(a)),
               tolerance = 1e-9)
  # a vector is one event
  expect_equal(b$forward(x[1, ]), drop(reference_expm(a) %*% x[1, ]),
               tolerance = 1e-9)
})

test_that("initial_time != 0: the inverse runs the true times backwards", {
  # dz/dt = t A z from t0 to t1: y = expm((t1^2 - t0^2) / 2 A) x
  a <- rbind(c(-0.5, 0.8), c(-0.3, 0.2))
  tight <- ode_dormand_prince(rtol = 1e-10, atol = 1e-12)
  t0 <- 0.5
  t1 <- 2
  b <- tfb_ffjord(function(t, z) t * z %*% t(a), ode_solve_fn = tight,
                  trace_augmentation_fn = trace_jacobian_exact,
                  initial_time = t0, final_time = t1)
  x <- rbind(c(1, 2), c(-1, 0.5))
  propagator <- reference_expm((t1^2 - t0^2) / 2 * a)
  y <- b$forward(x)
  expect_equal(y, x %*% t(propagator), tolerance = 1e-9)
  expect_equal(b$inverse(y), x, tolerance = 1e-9)
  expect_equal(b$inverse_log_det_jacobian(y, 1),
               rep(-(t1^2 - t0^2) / 2 * sum(diag(a)), 2), tolerance = 1e-9)
  # TFP's time argument (t1 - s for s from t0 to t1) would give another
  # map: expm(-A int_{t0}^{t1} (t1 - s) ds) y, which does not return x
  tfp_inverse <- y %*% t(reference_expm(-(t1 - t0)^2 / 2 * a))
  expect_gt(max(abs(tfp_inverse - x)), 0.1)
})

test_that("a user solver (fixed-step RK4 in R) works, in both result forms", {
  a <- rbind(c(-0.5, 0.3), c(0.2, 0.4))
  x <- rbind(c(1, 2), c(-1, 0.5))
  b <- tfb_ffjord(function(t, z) z %*% t(a), ode_solve_fn = rk4_solver(100),
                  trace_augmentation_fn = trace_jacobian_exact)
  y <- b$forward(x)
  # RK4's global error with h = 0.01 is about 1e-10 here
  expect_equal(y, x %*% t(reference_expm(a)), tolerance = 1e-8)
  expect_equal(b$inverse(y), x, tolerance = 1e-8)
  expect_equal(b$forward_log_det_jacobian(x, 1), rep(sum(diag(a)), 2),
               tolerance = 1e-8)
  # the solver saw the augmented system: state then trace terms
  seen <- NULL
  spy <- function(ode_fn, initial_time, initial_state, solution_times) {
    seen <<- list(initial_time, initial_state, solution_times,
                  ode_fn(initial_time, initial_state))
    rk4_solver(100)(ode_fn, initial_time, initial_state, solution_times)
  }
  tfb_ffjord(function(t, z) z %*% t(a), ode_solve_fn = spy,
             trace_augmentation_fn = trace_jacobian_exact,
             initial_time = 0.25, final_time = 2)$forward(x)
  expect_identical(seen[[1]], 0.25)
  expect_identical(seen[[2]], c(as.vector(x), numeric(4)))
  expect_identical(seen[[3]], 2)
  expect_equal(seen[[4]], c(as.vector(x %*% t(a)), rep(diag(a), each = 2)),
               tolerance = 1e-9)
  # states as a matrix with the solution times in rows
  as_rows <- function(ode_fn, initial_time, initial_state, solution_times) {
    out <- rk4_solver(100)(ode_fn, initial_time, initial_state,
                           solution_times)
    list(states = do.call(rbind, out$states))
  }
  b2 <- tfb_ffjord(function(t, z) z %*% t(a), ode_solve_fn = as_rows,
                   trace_augmentation_fn = trace_jacobian_exact)
  expect_identical(b2$forward(x), y)
})

test_that("a flow's log_prob with FFJORD matches the exact density", {
  a <- rbind(c(-0.5, 0.3), c(0.2, 0.4))
  b <- tfb_ffjord(function(t, z) z %*% t(a),
                  ode_solve_fn = ode_dormand_prince(rtol = 1e-10, atol = 1e-12),
                  trace_augmentation_fn = trace_jacobian_exact)
  flow <- tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = c(0, 0), scale_diag = c(1, 1)), b)
  y <- rbind(c(0.3, -1), c(2, 0.1))
  x <- y %*% t(reference_expm(-a))
  expected <- rowSums(dnorm(x, log = TRUE)) - sum(diag(a))
  expect_equal(flow$log_prob(y), expected, tolerance = 1e-9)
  # sampling runs the forward map
  set.seed(1)
  expect_equal(dim(flow$sample(3)), c(3L, 2L))
  # R dynamics cannot be differentiated: no training
  expect_error(fit(flow, y, epochs = 1, verbose = FALSE), "R function",
               class = "bijectors_error_unsupported")
})

test_that("bad arguments and bad dynamics give classed errors", {
  f <- function(t, z) -z
  expect_error(tfb_ffjord(), class = "bijectors_error_argument")
  expect_error(tfb_ffjord("f"), class = "bijectors_error_argument")
  expect_error(tfb_ffjord(f, ode_solve_fn = 1),
               class = "bijectors_error_argument")
  expect_error(tfb_ffjord(f, trace_augmentation_fn = NULL),
               class = "bijectors_error_argument")
  expect_error(tfb_ffjord(f, initial_time = 1, final_time = 1),
               "less than", class = "bijectors_error_argument")
  expect_error(tfb_ffjord(f, final_time = Inf),
               class = "bijectors_error_argument")
  expect_error(tfb_ffjord(f, dtype = "int32"),
               class = "bijectors_error_argument")
  expect_error(tfb_ffjord(f, validate_args = NA),
               class = "bijectors_error_argument")
  expect_silent(tfb_ffjord(f, dtype = "float32"))
  x <- matrix(1, 2, 3)
  wrong_length <- tfb_ffjord(function(t, z) 1:2)
  expect_error(wrong_length$forward(x), "shaped like",
               class = "bijectors_error_ffjord")
  failing <- tfb_ffjord(function(t, z) stop("no dynamics here"))
  expect_error(failing$forward(x), "no dynamics here",
               class = "bijectors_error_ffjord")
  bad_trace <- tfb_ffjord(f, trace_augmentation_fn = function(...) 1)
  expect_error(bad_trace$forward(x), class = "bijectors_error_ffjord")
  bad_terms <- tfb_ffjord(f, trace_augmentation_fn = function(...) {
    function(time, state) list(-state)
  })
  expect_error(bad_terms$forward(x), class = "bijectors_error_ffjord")
  failing_solver <- tfb_ffjord(f, ode_solve_fn = function(...) stop("oops"))
  expect_error(failing_solver$forward(x), "`ode_solve_fn` failed: oops",
               class = "bijectors_error_ffjord")
  failing_trace <- tfb_ffjord(f, trace_augmentation_fn = function(...) {
    function(time, state) stop("no trace")
  })
  expect_error(failing_trace$forward(x), "no trace",
               class = "bijectors_error_ffjord")
  bad_solver <- tfb_ffjord(f, ode_solve_fn = function(...) list(states = 1))
  expect_error(bad_solver$forward(x), class = "bijectors_error_ffjord")
  b <- tfb_ffjord(f, trace_augmentation_fn = trace_jacobian_exact)
  expect_error(b$forward("a"), class = "bijectors_error_input")
  expect_error(b$forward_log_det_jacobian(x, 3),
               class = "bijectors_error_event_ndims")
  expect_error(trace_jacobian_hutchinson(f, c(2, 3), num_samples = 0),
               class = "bijectors_error_argument")
  expect_error(trace_jacobian_hutchinson(f, c(2, 3), sample_fn = function(n) 1),
               class = "bijectors_error_argument")
  expect_error(trace_jacobian_exact(f, "a"),
               class = "bijectors_error_argument")
})

test_that("fields, printing and saving", {
  b <- tfb_ffjord(function(t, z) -z, initial_time = 0.5, final_time = 2,
                  trace_augmentation_fn = trace_jacobian_exact)
  expect_identical(b$initial_time, 0.5)
  expect_identical(b$final_time, 2)
  expect_identical(b$forward_min_event_ndims, 0L)
  expect_error(b$initial_time <- 1, class = "bijectors_error_read_only")
  expect_snapshot(print(b))
  x <- matrix(c(1, 2, 3, 4), 2, 2)
  copy <- unserialize(serialize(b, NULL))
  expect_identical(copy$forward(x), b$forward(x))
})
