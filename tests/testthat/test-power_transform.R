# tfb_power_transform(): TFP's PowerTransform, with the values of
# power_transform_test.py (spot values computed in R by the reference
# sheet).

test_that("power_transform matches TFP's test values", {
  b <- tfb_power_transform(power = 0.2, validate_args = TRUE)
  x <- array(c(-1, 2, -5 + 1e-4), c(1, 3, 1))
  y <- b$forward(x)
  expect_equal(as.vector(y), c(0.32768, 5.37824, 3.2e-24), tolerance = 1e-9)
  expect_equal(y, (1 + 0.2 * x)^5, tolerance = 1e-14)
  expect_equal(b$inverse(y), x, tolerance = 1e-12)
  ildj <- b$inverse_log_det_jacobian(y, event_ndims = 1)
  expect_equal(as.vector(ildj), c(0.8925742053, -1.345888946, 43.27911314),
               tolerance = 1e-9)
  expect_equal(b$forward_log_det_jacobian(x, event_ndims = 1), -ildj,
               tolerance = 1e-12)
  # tfprobability's test: power 2 is sqrt(1 + 2 x)
  expect_equal(tfb_power_transform(2)$forward(c(1, 2, 3)),
               c(1.732050808, 2.236067977, 2.645751311), tolerance = 1e-9)
})

test_that("power_transform is congruent, bijective and finite (TFP's cases)", {
  set.seed(601)
  b <- tfb_power_transform(0.2)
  expect_scalar_congruency(b, -2, 1.5, rtol = 0.05)
  x <- seq(-4.999, 10, length.out = 10)
  y <- 10^seq(0.001, 10, length.out = 10)
  expect_bijective_and_finite(b, x, y, rtol = 1e-3)
})

test_that("power 0 is tfb_exp(), to the last bit", {
  b <- tfb_power_transform()
  e <- tfb_exp()
  x <- c(-745, -700, -3, -1e-300, 0, 0.5, 1, 20, 709, 710)
  y <- c(0, 1e-300, 0.3, 1, 2, 1e300, Inf)
  expect_identical(b$forward(x), e$forward(x))
  expect_identical(b$forward_log_det_jacobian(x, 0),
                   e$forward_log_det_jacobian(x, 0))
  expect_identical(b$inverse(y), e$inverse(y))
  expect_identical(b$inverse_log_det_jacobian(y, 0),
                   e$inverse_log_det_jacobian(y, 0))
})

test_that("validate_args makes TFP's assertions", {
  b <- tfb_power_transform(0.2, validate_args = TRUE)
  expect_error(b$forward(c(0, -6)), class = "bijectors_error_domain")
  expect_error(b$forward_log_det_jacobian(-6, 0),
               class = "bijectors_error_domain")
  expect_error(b$inverse(c(1, -1)), class = "bijectors_error_domain")
  expect_error(b$inverse_log_det_jacobian(-1, 0),
               class = "bijectors_error_domain")
  expect_snapshot(b$forward(-6), error = TRUE)
  expect_snapshot(tfb_power_transform(0.3, validate_args = TRUE)$forward(-6),
                  error = TRUE)
  expect_snapshot(b$inverse(-1), error = TRUE)
  expect_identical(b$forward(-5), 0)
  expect_equal(tfb_power_transform(validate_args = TRUE)$forward(-100),
               exp(-100), tolerance = 1e-15)
  expect_true(is.nan(suppressWarnings(tfb_power_transform(0.2)$forward(-6))))
})

test_that("tfb_power_transform() checks its arguments; power is static", {
  expect_identical(names(formals(tfb_power_transform)),
                   c("power", "validate_args", "name"))
  b <- tfb_power_transform(0.5)
  expect_identical(b$name, "power_transform")
  expect_identical(b$power, 0.5)
  expect_identical(tfb_power_transform()$power, 0)
  expect_length(bijectors:::bijector_parameter_slots(b), 0L)
  for (bad in list(-1, NA_real_, c(1, 2), "a", Inf, NULL)) {
    expect_error(tfb_power_transform(bad), class = "bijectors_error_argument")
  }
  expect_snapshot(tfb_power_transform(-1), error = TRUE)
})

test_that("the power derivatives are those of central differences", {
  # power is static; its derivatives are still the kernel's (checked here,
  # as the conformance harness checks only trainable parameters)
  x <- c(-1.5, -0.2, 0, 0.7, 3)
  for (power in c(0, 0.4, 2)) {
    b <- tfb_power_transform(power)
    backward <- function(direction_ld) {
      bijectors:::elementwise_backward(
        b, list(x = x, event_ndims = 0L), if (direction_ld) 0 * x else 1 + 0 * x,
        if (direction_ld) 1 + 0 * x else 0, 0L)$parameters[[1]]
    }
    h <- 1e-6
    up <- tfb_power_transform(power + h)
    down <- if (power == 0) b else tfb_power_transform(power - h)
    width <- if (power == 0) h else 2 * h
    expect_equal(backward(FALSE), sum(up$forward(x) - down$forward(x)) / width,
                 tolerance = 1e-5)
    expect_equal(backward(TRUE),
                 sum(up$forward_log_det_jacobian(x, 0) -
                       down$forward_log_det_jacobian(x, 0)) / width,
                 tolerance = 1e-5)
  }
})

test_that("power_transform is accurate to 4 ulps across its domain", {
  skip_if_not_installed("Rmpfr")
  for (power in c(0.2, 0.7, 2)) {
    b <- tfb_power_transform(power)
    what <- sprintf("(power %g)", power)
    x <- accuracy_inputs(-1 / power, Inf)
    log_base <- log1p(mp(power) * mp(x))
    expect_ulps(b$forward(x), exp(log_base / power),
                label = paste("forward", what), inputs = x)
    expect_ulps(b$forward_log_det_jacobian(x, 0),
                (1 / mp(power) - 1) * log_base, label = paste("fldj", what),
                inputs = x)
    y <- accuracy_inputs(0, Inf)
    expect_ulps(b$inverse(y), (mp(y)^power - 1) / power,
                label = paste("inverse", what), inputs = y)
    expect_ulps(b$inverse_log_det_jacobian(y, 0), (power - 1) * log(mp(y)),
                label = paste("ildj", what), inputs = y)
  }
})

test_that("the inverse log-det is within 0.55 ulps, and C99's at the specials", {
  skip_if_not_installed("Rmpfr")
  set.seed(1204)
  # powers whose c - 1 is not a double (0.3, 0.01, 1e-5, 7.3) as well as
  # ones where it is; y from the subnormals up, and next to 1
  y <- c(accuracy_inputs(0, Inf), 4e-320, runif(500, 0, 5),
         exp(runif(500, -700, 700)), 1 + runif(200, -1e-6, 1e-6))
  for (power in c(1e-5, 0.01, 0.3, 0.7, 1, 2, 7.3)) {
    b <- tfb_power_transform(power)
    expect_ulps(b$inverse_log_det_jacobian(y, 0), (mp(power) - 1) * log(mp(y)),
                max_ulps = 0.55, label = sprintf("ildj (power %g)", power),
                inputs = y)
  }
  b <- tfb_power_transform(0.3)
  expect_identical(b$inverse_log_det_jacobian(c(0, Inf, 1, NaN, NA), 0),
                   c(Inf, -Inf, 0, NaN, NA))
  expect_identical(tfb_power_transform(0)$inverse_log_det_jacobian(
    c(0, exp(1)), 0), c(Inf, -1))
})

test_that("the forward map and the inverse are within 0.65 ulps (vector pow)", {
  skip_if_not_installed("Rmpfr")
  set.seed(1203)
  for (power in c(1e-3, 0.2, 0.3, 0.7, 2, 50)) {
    b <- tfb_power_transform(power)
    what <- sprintf("(power %g)", power)
    # the sweep, the domain's edge (tiny bases), bases near 1, and results
    # from the subnormal range to overflow
    x <- c(accuracy_inputs(-1 / power, Inf), runif(1000, -1 / power, 3 / power),
           exp(runif(500, -5, 700)), -1 / power + 2^seq(-60, -1, length.out = 60) / power,
           runif(200, -1e-6, 1e-6))
    x <- x[x > -1 / power]
    exact <- exp(log1p(mp(power) * mp(x)) / power)
    y <- b$forward(x)
    expect_ulps(y, exact, max_ulps = 0.65, label = paste("forward", what), inputs = x)
    e <- Rmpfr::asNumeric(exact)
    expect_identical(y[is.infinite(e)], e[is.infinite(e)])
    expect_identical(y[e == 0], e[e == 0])
    v <- c(accuracy_inputs(0, Inf), runif(1000, 0, 5), exp(runif(500, -700, 700)),
           1 + runif(200, -1e-6, 1e-6))
    expect_ulps(b$inverse(v), (mp(v)^power - 1) / power, max_ulps = 0.65,
                label = paste("inverse", what), inputs = v)
  }
  # 1 + 2 x beyond the doubles: sqrt(1 + 2 x) is not
  x <- c(1e308, .Machine$double.xmax)
  expect_ulps(tfb_power_transform(2)$forward(x), sqrt(1 + 2 * mp(x)),
              max_ulps = 1.5, label = "forward past 2 x = Inf", inputs = x)
  expect_identical(tfb_power_transform(0.2)$forward(c(Inf, 1e308)), c(Inf, Inf))
})
