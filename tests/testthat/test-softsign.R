# tfb_softsign(): TFP's Softsign, with the checks of softsign_test.py
# (random inputs against the formula) and spot values.

test_that("softsign maps as TFP's test says", {
  set.seed(701)
  b <- tfb_softsign()
  x <- matrix(2 * rnorm(20), 2, 10)
  expect_allclose(b$forward(x), x / (1 + abs(x)), rtol = 1e-15, atol = 0)
  expect_allclose(b$forward_log_det_jacobian(x, 0), -2 * log1p(abs(x)),
                  rtol = 1e-15, atol = 0)
  y <- matrix(runif(20), 2, 10)
  ildj <- -2 * log1p(-abs(y))
  expect_allclose(b$inverse(y), y / (1 - abs(y)), rtol = 1e-15, atol = 0)
  expect_allclose(b$inverse_log_det_jacobian(y, 0), ildj, rtol = 1e-15,
                  atol = 0)
  expect_allclose(b$inverse_log_det_jacobian(y, 1), rowSums(ildj),
                  rtol = 1e-14, atol = 0)
  x <- c(-3, -0.5, 0, 2)
  expect_allclose(b$forward(x), c(-0.75, -0.3333333333, 0, 0.6666666667),
                  rtol = 1e-9, atol = 0)
  expect_allclose(b$forward_log_det_jacobian(x, 0),
                  c(-2.772588722, -0.8109302162, 0, -2.197224577),
                  rtol = 1e-9, atol = 0)
  # sign(x) from |x| >= 1e20 on, so that +-Inf do not give NaN
  expect_identical(b$forward(c(-Inf, -1e20, 1e20, Inf)), c(-1, -1, 1, 1))
  expect_identical(b$inverse(c(-1, 1)), c(-Inf, Inf))
})

test_that("softsign is congruent on [-20, 20] and bijective and finite", {
  set.seed(702)
  b <- tfb_softsign()
  expect_scalar_congruency(b, -20, 20, rtol = 0.05)
  expect_bijective_and_finite(b, seq(-20, 20, length.out = 100),
                              seq(-0.99, 0.99, length.out = 100),
                              rtol = 1e-3, atol = 1e-3)
})

test_that("validate_args checks -1 <= y <= 1 in the inverse", {
  b <- tfb_softsign(validate_args = TRUE)
  expect_error(b$inverse(-3), class = "bijectors_error_domain")
  expect_error(b$inverse(3), class = "bijectors_error_domain")
  expect_error(b$inverse_log_det_jacobian(-3, 0),
               class = "bijectors_error_domain")
  expect_error(b$inverse_log_det_jacobian(c(0, 3), 1),
               class = "bijectors_error_domain")
  expect_snapshot(b$inverse(-3), error = TRUE)
  expect_snapshot(b$inverse(3), error = TRUE)
  # inclusive bounds since TFP 0.11
  expect_identical(b$inverse(c(-1, 1)), c(-Inf, Inf))
  expect_identical(b$forward(30), 30 / 31)
  # without validate_args, tfprobability's test: the formula's value
  expect_identical(tfb_softsign()$inverse(c(1, 2)), c(Inf, -2))
})

test_that("tfb_softsign() has tfprobability's signature and checks its arguments", {
  expect_identical(formals(tfb_softsign),
                   as.pairlist(alist(validate_args = FALSE,
                                     name = "softsign")))
  expect_error(tfb_softsign(validate_args = c(TRUE, FALSE)),
               class = "bijectors_error_argument")
  expect_error(tfb_softsign(name = 2), class = "bijectors_error_argument")
})

test_that("softsign is accurate to 4 ulps across its domain", {
  skip_if_not_installed("Rmpfr")
  b <- tfb_softsign()
  x <- accuracy_inputs()
  expect_ulps(b$forward(x), mp(x) / (1 + abs(mp(x))), label = "forward",
              inputs = x)
  expect_ulps(b$forward_log_det_jacobian(x, 0), -2 * log1p(abs(mp(x))),
              label = "fldj", inputs = x)
  y <- accuracy_inputs(-1, 1)
  expect_ulps(b$inverse(y), mp(y) / (1 - abs(mp(y))), label = "inverse",
              inputs = y)
  expect_ulps(b$inverse_log_det_jacobian(y, 0), -2 * log1p(-abs(mp(y))),
              label = "ildj", inputs = y)
})
