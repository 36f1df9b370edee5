# tfb_normal_cdf(): TFP's NormalCDF, with the values of normal_cdf_test.py
# (computed in the reference sheet).

# Phi(x) = erfc(-x / sqrt(2)) / 2 and its density, in 256 bits.
mp_pnorm <- function(q) Rmpfr::erfc(-q / sqrt(mp(2))) / 2
mp_dnorm <- function(q) exp(-q^2 / 2) / sqrt(2 * Rmpfr::Const("pi", 256L))

# The true quantile in 256 bits: Newton's method on mp_pnorm(q) = y from
# base R's qnorm() (only a starting point: each step doubles the correct
# digits), until the relative residual is below 1e-40.
mp_qnorm <- function(y) {
  inner <- y > 0 & y < 1
  q <- mp(qnorm(y))
  z <- q[inner]
  target <- mp(y[inner])
  converged <- FALSE
  for (step in 1:6) {
    p <- mp_pnorm(z)
    converged <- Rmpfr::asNumeric(max(abs(p / target - 1))) < 1e-40
    if (converged) break
    z <- z - (p - target) / mp_dnorm(z)
  }
  stopifnot(converged)
  q[inner] <- z
  q
}

test_that("the normal CDF maps as TFP's test says", {
  b <- tfb_normal_cdf(validate_args = TRUE)
  x <- array(c(-3, 0, 0.5, 4.2, 5), c(1, 5, 1))
  y <- b$forward(x)
  expect_allclose(y, array(c(0.001349898032, 0.5, 0.6914624613, 0.9999866543,
                             0.9999997133), c(1, 5, 1)), rtol = 1e-9, atol = 0)
  fldj <- matrix(c(-5.418938533, -0.9189385332, -1.043938533, -9.738938533,
                   -13.41893853), 1, 5)
  expect_allclose(b$forward_log_det_jacobian(x, 1), fldj, rtol = 1e-9,
                  atol = 0)
  # y near 1 carries x to only 1e-16 / dnorm(x) (1e-10 at x = 5)
  expect_allclose(b$inverse(y), x, rtol = 1e-9, atol = 1e-16)
  expect_allclose(-b$inverse_log_det_jacobian(y, 1), fldj, rtol = 1e-9,
                  atol = 0)
  expect_identical(b$forward(x), pnorm(x))
  expect_equal(b$forward_log_det_jacobian(x, 0), dnorm(x, log = TRUE),
               tolerance = 1e-15)
})

test_that("the normal CDF is congruent on [0, 1] and bijective and finite", {
  set.seed(1001)
  b <- tfb_normal_cdf()
  expect_scalar_congruency(b, 0, 1, rtol = 0.02)
  # TFP's x = linspace(-10, 10) round-trips only through TFP's cache of
  # forward results: pnorm(x) rounds to 1 from x = 8.3 on (qnorm(1) =
  # Inf), and qnorm() of the rounded pnorm(x) is 1e-4 off from about
  # x = 7.5. Without a cache, the grid stops at 6.
  x <- seq(-10, 10, length.out = 10)
  expect_bijective_and_finite(b, x[x < 6],
                              seq(0.1, 0.9, length.out = 10), rtol = 1e-4)
})

test_that("validate_args checks 0 <= y <= 1 in the inverse", {
  b <- tfb_normal_cdf(validate_args = TRUE)
  expect_error(b$inverse(-1), class = "bijectors_error_domain")
  expect_error(b$inverse_log_det_jacobian(-1, 0),
               class = "bijectors_error_domain")
  expect_error(b$inverse(2), class = "bijectors_error_domain")
  expect_error(b$inverse_log_det_jacobian(2, 0),
               class = "bijectors_error_domain")
  expect_snapshot(b$inverse(-1), error = TRUE)
  expect_snapshot(b$inverse(2), error = TRUE)
  expect_identical(b$inverse(c(0, 1)), c(-Inf, Inf))
  expect_identical(b$forward(c(-Inf, Inf)), c(0, 1))
})

test_that("tfb_normal_cdf() has tfprobability's signature and checks its arguments", {
  expect_identical(formals(tfb_normal_cdf),
                   as.pairlist(alist(validate_args = FALSE, name = "normal")))
  expect_identical(tfb_normal_cdf()$name, "normal")
  expect_error(tfb_normal_cdf(validate_args = "no"),
               class = "bijectors_error_argument")
  expect_error(tfb_normal_cdf(name = 0), class = "bijectors_error_argument")
})

test_that("the normal CDF is accurate to 4 ulps across its domain", {
  skip_if_not_installed("Rmpfr")
  b <- tfb_normal_cdf()
  x <- accuracy_inputs()
  expect_ulps(b$forward(x), mp_pnorm(mp(x)), label = "forward", inputs = x)
  expect_ulps(b$forward_log_det_jacobian(x, 0), log(mp_dnorm(mp(x))),
              label = "fldj", inputs = x)
  # both tails densely, where qnorm()'s rational approximations are least
  # accurate and the derived ILDJ (x^2 / 2) doubles their error
  y <- c(accuracy_inputs(0, 1), 10^seq(-307, -1, length.out = 150),
         1 - 10^seq(-16, -1, length.out = 60), .Machine$double.xmin)
  q <- mp_qnorm(y)
  expect_ulps(b$inverse(y), q, label = "inverse", inputs = y)
  expect_ulps(b$inverse_log_det_jacobian(y, 0), -log(mp_dnorm(q)),
              label = "ildj", inputs = y)
})

test_that("the inverse is within 2 ulps on a dense sweep, where qnorm() is not", {
  skip_if_not_installed("Rmpfr")
  b <- tfb_normal_cdf()
  set.seed(1010)
  # the central rational and the tails' start and Newton step, each side
  # of their seam (|y - 1/2| = 0.425), next to 1/2 and 1, the tails down
  # to DBL_MIN and below, and where qnorm() is over 4 ulps (y = 0.954)
  y <- c(runif(1500), runif(500, 0.9, 0.99), runif(500, 0.01, 0.1),
         10^-runif(300, 1, 307.6), 1 - 10^-runif(200, 1, 16),
         0.5 + 2^-(1:52), 0.5 - 2^-(2:53), 0.075 + (-8:8) * 2^-56,
         0.925 + (-8:8) * 2^-53, 1 - (1:8) * 2^-53, 0.954,
         .Machine$double.xmin * c(0.5, 1, 1.5), 1e-310)
  q <- mp_qnorm(y)
  expect_ulps(b$inverse(y), q, max_ulps = 2, label = "inverse", inputs = y)
  expect_ulps(b$inverse_log_det_jacobian(y, 0), -log(mp_dnorm(q)),
              label = "ildj", inputs = y)
  # the sweep does reach qnorm()'s errors of more than 4 ulps
  expect_gt(max(ulp_errors(qnorm(y), q), na.rm = TRUE), 4)
})
