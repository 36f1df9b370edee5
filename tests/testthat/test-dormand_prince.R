# ode_dormand_prince(): TFP's step control, checked step for step against a
# plain-R implementation (helper-ffjord.R), and solutions against exact
# ones.

test_that("steps and states match a plain-R Dormand-Prince with TFP's controller", {
  f <- function(t, y) c(-y[1] + sin(3 * t) * y[2], 0.5 * y[1] - y[2]^3)
  for (settings in list(list(), list(rtol = 1e-6, atol = 1e-9),
                        list(rtol = 1e-2, atol = 1e-4, first_step = 0.5))) {
    reference <- do.call(reference_dormand_prince,
                         c(list(f, 0.3, c(1, -2), 2.5), settings))
    solver_args <- settings
    names(solver_args)[names(solver_args) == "first_step"] <- "first_step_size"
    solve <- do.call(ode_dormand_prince, solver_args)
    out <- solve(f, 0.3, c(1, -2), 2.5)
    expect_equal(out$states[[1]], reference$state, tolerance = 1e-13)
    expect_identical(out$diagnostics$num_steps, reference$num_steps)
    expect_identical(out$diagnostics$num_rejected_steps,
                     reference$num_rejected_steps)
    # six new evaluations per attempted step, plus the first derivative
    expect_identical(out$diagnostics$num_ode_fn_evaluations,
                     6 * reference$num_steps + 1)
  }
  # the rejections above are real: the big first step is refused
  expect_gt(reference$num_rejected_steps, 0)
})

test_that("solutions match exact ones, at every solution time", {
  solve <- ode_dormand_prince(rtol = 1e-10, atol = 1e-12)
  out <- solve(function(t, y) -y, 0, c(1, 2), solution_times = c(0.5, 1, 3))
  for (i in 1:3) {
    expect_equal(out$states[[i]], c(1, 2) * exp(-c(0.5, 1, 3)[i]),
                 tolerance = 1e-9)
  }
  expect_identical(out$times, c(0.5, 1, 3))
  # time-dependent: y' = cos(t) from t = 2 to 5
  out <- solve(function(t, y) cos(t), 2, 0.25, 5)
  expect_equal(out$states[[1]], 0.25 + sin(5) - sin(2), tolerance = 1e-9)
  # a linear system keeps the state's dims: y(t) = expm(t A) y0
  a <- rbind(c(-1, 2), c(-0.5, 0.3))
  y0 <- matrix(c(1, -1), 2, 1)
  out <- solve(function(t, y) a %*% y, 0, y0, 1.5)
  expect_equal(dim(out$states[[1]]), c(2L, 1L))
  expect_equal(out$states[[1]], reference_expm(1.5 * a) %*% y0,
               tolerance = 1e-9)
})

test_that("TFP's default tolerances keep the error within rtol", {
  out <- ode_dormand_prince()(function(t, y) -2 * y, 0, 1, 1)
  expect_lt(abs(out$states[[1]] - exp(-2)) / exp(-2), 1e-3)
  # and a solution time equal to the initial time is the initial state
  out <- ode_dormand_prince()(function(t, y) -2 * y, 1, 3, c(1, 2))
  expect_identical(out$states[[1]], 3)
})

test_that("the solver refuses bad settings and bad dynamics with classed errors", {
  expect_error(ode_dormand_prince(rtol = 0), class = "bijectors_error_argument")
  expect_error(ode_dormand_prince(atol = -1), class = "bijectors_error_argument")
  expect_error(ode_dormand_prince(first_step_size = NA),
               class = "bijectors_error_argument")
  expect_error(ode_dormand_prince(max_num_steps = 0.5),
               class = "bijectors_error_argument")
  solve <- ode_dormand_prince()
  expect_error(solve("f", 0, 1, 1), class = "bijectors_error_argument")
  expect_error(solve(function(t, y) -y, 0, 1, c(1, 0.5)),
               class = "bijectors_error_argument")
  expect_error(solve(function(t, y) -y, 1, 1, 0.5),
               class = "bijectors_error_argument")
  expect_error(solve(function(t, y) -y, 0, "a", 1),
               class = "bijectors_error_input")
  expect_error(solve(function(t, y) c(y, y), 0, 1, 1),
               "shaped like the state", class = "bijectors_error_ode")
  expect_error(solve(function(t, y) "a", 0, 1, 1),
               class = "bijectors_error_ode")
  expect_error(solve(function(t, y) stop("boom"), 0, 1, 1), "boom",
               class = "bijectors_error_ode")
  expect_error(ode_dormand_prince(max_num_steps = 3)(function(t, y) -y, 0, 1,
                                                     10),
               "max_num_steps", class = "bijectors_error_ode")
  # dynamics that blow up: the step size underflows instead of looping
  expect_error(solve(function(t, y) y^2, 0, 1, 2), "underflow",
               class = "bijectors_error_ode")
})

test_that("the C entry point checks what it is given", {
  run <- function(fn, state = 1, times = 1, controls = c(1e-3, 1e-6, 1e-3,
                                                         0.9, 0.1, 10, 0)) {
    .Call(bijectors:::C_dormand_prince_solve, fn, environment(), 0, state,
          times, controls)
  }
  expect_error(run(function(t, y) 1L), "double vector of length 1")
  expect_error(run(function(t, y) c(1, 2)), "double vector of length 1")
  expect_error(run(function(t, y) NULL), "double vector")
  expect_error(run("not a function"), "must be a function")
  expect_error(run(function(t, y) -y, state = 1L), "double vector")
  expect_error(run(function(t, y) -y, times = c(1, 0.5)), "increasing")
  expect_error(run(function(t, y) -y, controls = c(1e-3, 1e-6)),
               "length 7")
  expect_error(run(function(t, y) -y, controls = c(-1, 1e-6, 1e-3, 0.9, 0.1,
                                                   10, 0)), "rtol")
  # the state handed to the function is a fresh copy: writing into it
  # changes nothing in the solver
  out <- run(function(t, y) {
    d <- -y
    y[] <- 1e6
    d
  }, state = c(1, 2))
  expect_equal(out$states[[1]], c(1, 2) * exp(-1), tolerance = 1e-3)
})

test_that("the solver prints its settings", {
  expect_snapshot(print(ode_dormand_prince(rtol = 1e-6, max_num_steps = 100)))
})
