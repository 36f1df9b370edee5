# tfb_sigmoid(): TFP's Sigmoid in double precision, with the values of
# sigmoid_test.py (spot values computed in R by the reference sheet).

test_that("sigmoid matches the spot values and plain R", {
  b <- tfb_sigmoid()
  x <- c(-10, -1, 0, 1, 10)
  expect_equal(b$forward(x), c(4.53978687e-05, 0.2689414214, 0.5,
                               0.7310585786, 0.9999546021), tolerance = 1e-9)
  expect_equal(b$forward_log_det_jacobian(x, 0),
               c(-10.0000908, -1.626523375, -1.386294361, -1.626523375,
                 -10.0000908), tolerance = 1e-9)
  x <- array(seq(-10, 10, length.out = 100), c(2, 5, 10))
  y <- plogis(x)
  ildj <- -log(y) - log1p(-y)
  expect_equal(b$forward(x), y, tolerance = 1e-14)
  expect_equal(b$inverse(y), x, tolerance = 1e-12)
  expect_equal(b$inverse_log_det_jacobian(y, 0), ildj, tolerance = 1e-10)
  expect_equal(b$forward_log_det_jacobian(x, 0), -ildj, tolerance = 1e-12)
})

test_that("sigmoid is congruent on [-7, 7], bijective and finite", {
  set.seed(301)
  b <- tfb_sigmoid()
  expect_scalar_congruency(b, -7, 7, rtol = 0.1)
  x <- seq(-100, 100, length.out = 100)
  y <- seq(1e-3, 1 - 1e-3, length.out = 100)
  values <- list(b$forward(x), b$inverse(y), b$forward_log_det_jacobian(x, 0),
                 b$inverse_log_det_jacobian(y, 0))
  expect_true(all(vapply(values, function(v) all(is.finite(v)), logical(1))))
  expect_equal(b$forward(b$inverse(y)), y, tolerance = 1e-4)
  expect_equal(-b$inverse_log_det_jacobian(y, 0),
               b$forward_log_det_jacobian(b$inverse(y), 0), tolerance = 1e-4)
  expect_equal(-b$inverse_log_det_jacobian(b$forward(x[abs(x) < 30]), 0),
               b$forward_log_det_jacobian(x[abs(x) < 30], 0),
               tolerance = 1e-4)
})

test_that("the left tail is exp(x) / (1 + exp(x)), accurate to the last place", {
  b <- tfb_sigmoid()
  x <- seq(-50, -8, length.out = 1000)
  expect_equal(log(b$forward(x)), -log1p(exp(-x)), tolerance = 1e-3)
  # more accurate than TFP's float64 cut at -20 (exp(x), off by a relative
  # exp(x)): R's plogis() agrees to rounding
  expect_equal(b$forward(x), plogis(x), tolerance = 1e-15)
  expect_identical(b$forward(-745), exp(-745))
  # far tails of the log-det follow -|x| (TFP's stable softplus)
  expect_equal(b$forward_log_det_jacobian(c(-800, 800), 0), c(-800, -800),
               tolerance = 1e-15)
})

test_that("low and high: TFP's shifted case equals a chain of shift, scale, sigmoid", {
  # TFP's low = [[-3], [0], [5]] against x = [1, 2, -5, -0.3] along the last
  # axis; here the three bounds run along the last axis instead.
  low <- c(-3, 0, 5)
  high <- 12
  x <- matrix(c(1, 2, -5, -0.3), 4, 3)
  b <- tfb_sigmoid(low = low, high = high)
  chain <- tfb_chain(list(tfb_shift(low), tfb_scale(high - low), tfb_sigmoid()))
  y <- b$forward(x)
  expect_equal(y, chain$forward(x), tolerance = 1e-12)
  expect_equal(y, ref_sigmoid_bounded(x, matrix(low, 4, 3, byrow = TRUE), high),
               tolerance = 1e-14)
  expect_equal(t(y), rbind(
    c(7.965878679, 10.21195617, -2.899607236, 3.383362248),
    c(8.772702944, 10.56956494, 0.08031421109, 5.106689798),
    c(10.11741005, 11.16557955, 5.046849956, 7.978902382)), tolerance = 1e-9)
  expect_equal(b$inverse(y), x, tolerance = 1e-10)
  expect_equal(b$inverse(y), chain$inverse(y), tolerance = 1e-10)
  fldj <- colSums(b$forward_log_det_jacobian(x, 0))
  expect_equal(fldj, c(0.5296802214, -0.3628939839, -2.518879987),
               tolerance = 1e-9)
  expect_equal(b$forward_log_det_jacobian(x, 1),
               chain$forward_log_det_jacobian(x, 1), tolerance = 1e-12)
  expect_equal(b$inverse_log_det_jacobian(y, 1),
               chain$inverse_log_det_jacobian(y, 1), tolerance = 1e-10)
})

test_that("the bounded forward never exceeds high", {
  b <- tfb_sigmoid(low = -0.08587775, high = 0.12498104)
  y <- b$forward(c(-5, 3, 17, 23))
  expect_equal(y, c(-0.08446650355, 0.1149808778, 0.1249810313, 0.12498104),
               tolerance = 1e-9)
  expect_true(all(y <= 0.12498104))
  set.seed(302)
  high <- 0.010499111 + runif(100, 0, 1e-8)
  b <- tfb_sigmoid(low = 0.010489981, high = high)
  x <- matrix(9.814646 + runif(100 * 100, 0, 1e-5), 100, 100)
  expect_true(all(sweep(b$forward(x), 2, high, "<=")))
})

test_that("low and high must come together and satisfy low < high", {
  expect_error(tfb_sigmoid(low = 1), class = "bijectors_error_argument")
  expect_error(tfb_sigmoid(high = 1), class = "bijectors_error_argument")
  expect_error(tfb_sigmoid(low = c(1, 1, 1), high = c(1, 2, 3)),
               class = "bijectors_error_argument")
  expect_error(tfb_sigmoid(low = 2, high = 1), class = "bijectors_error_argument")
  expect_error(tfb_sigmoid(low = c(0, 0), high = c(1, 2, 3)),
               class = "bijectors_error_event_size")
  expect_error(tfb_sigmoid(low = NA_real_, high = 1),
               class = "bijectors_error_argument")
  expect_snapshot(tfb_sigmoid(low = 1), error = TRUE)
  expect_snapshot(tfb_sigmoid(low = c(1, 1, 1), high = c(1, 2, 3)),
                  error = TRUE)
})

test_that("sigmoid's signature is tfprobability's, then TFP's low and high", {
  expect_identical(names(formals(tfb_sigmoid)),
                   c("validate_args", "name", "low", "high"))
  b <- tfb_sigmoid(FALSE, "s", -1, 1)
  expect_identical(b$name, "s")
  expect_identical(b$high, 1)
})

test_that("sigmoid is accurate to 4 ulps across its domain", {
  skip_if_not_installed("Rmpfr")
  b <- tfb_sigmoid()
  x <- accuracy_inputs()
  ex <- exp(-mp(x))
  expect_ulps(b$forward(x), 1 / (1 + ex), label = "forward", inputs = x)
  # log sigmoid'(x) = -x - 2 log(1 + exp(-x))
  expect_ulps(b$forward_log_det_jacobian(x, 0), -mp(x) - 2 * log1p(ex),
              label = "fldj", inputs = x)
  y <- accuracy_inputs(0, 1)
  expect_ulps(b$inverse(y), log(mp(y) / (1 - mp(y))), label = "inverse",
              inputs = y)
  expect_ulps(b$inverse_log_det_jacobian(y, 0), -log(mp(y) * (1 - mp(y))),
              label = "ildj", inputs = y)
})

test_that("sigmoid's inverse is within 1.2 ulps next to 1/2, where TFP's form cancels", {
  skip_if_not_installed("Rmpfr")
  set.seed(1205)
  # log(y) - log1p(-y) is ~2e4 ulps off at y = 0.5 + 6e-6; the ratio's
  # branches meet at 1/2 and its numerator stops being exact below 1/4
  y <- c(0.5 + runif(400, -1e-3, 1e-3), 0.5 + runif(200, -1e-10, 1e-10),
         0.5 + c(-1, 1) * 2^-54, 0.25 + runif(200, -1e-3, 1e-3), runif(600),
         1 - runif(100, 0, 1e-6), 2^-(990:1010), 2^-1074)
  b <- tfb_sigmoid()
  expect_ulps(b$inverse(y), log(mp(y) / (1 - mp(y))), max_ulps = 1.2,
              label = "inverse", inputs = y)
  expect_ulps(b$inverse_log_det_jacobian(y, 0), -log(mp(y) * (1 - mp(y))),
              label = "ildj", inputs = y)
  expect_identical(b$inverse(c(0, -0, 0.5, 1, 2, -1, Inf, NaN, NA)),
                   c(-Inf, -Inf, 0, Inf, NaN, NaN, NaN, NaN, NA))
})
