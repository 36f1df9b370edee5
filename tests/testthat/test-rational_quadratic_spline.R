# tfb_rational_quadratic_spline(): the reference sheet's values (section
# 2.7), a plain-R transcription of TFP's algorithm (helper-spline.R) on
# random splines, the sheet's derivatives against central differences,
# errors, and training in a flow.

spline_raw_backward <- function(x, W, H, S, range_min = -1, inverse = FALSE,
                                grad_output = 1, grad_log_det = 0) {
  .Call(bijectors:::C_rqs_backward, as.double(x), as.double(W),
        as.double(H), as.double(S), c(1L, 1L, 1L), FALSE,
        as.double(range_min),
        inverse, 0L, rep_len(as.double(grad_output), length(x)),
        as.double(grad_log_det))
}

test_that("the sheet's 3-bin spline: values, log-dets, round trip", {
  b <- tfb_rational_quadratic_spline(c(.5, 1, .5), c(1, .5, .5), c(.5, 2))
  x <- c(-1.5, -0.9, -0.4, 0, 0.3, 0.8, 1.2)
  y <- c(-1.5, -0.85, 0.0393700787402, 0.1428571428571, 0.2702702702703,
         0.8387096774194, 1.2)
  fldj <- c(0, 0.7086513670959, -1.1416221792594, -1.2527629684954,
            -0.4056477398318, -0.2818027541156, 0)
  expect_equal(b$forward(x), y, tolerance = 1e-12)
  expect_equal(b$forward_log_det_jacobian(x, event_ndims = 0), fldj,
               tolerance = 1e-12)
  expect_equal(b$forward_log_det_jacobian(x, event_ndims = 1), sum(fldj),
               tolerance = 1e-12)
  expect_equal(b$inverse(b$forward(x)), x, tolerance = 1e-15)
  expect_equal(b$inverse_log_det_jacobian(b$forward(x), event_ndims = 0),
               -fldj, tolerance = 1e-12)
  # the values as given, exactly, until training moves them
  expect_identical(b$bin_widths, c(.5, 1, .5))
  expect_identical(b$knot_slopes, c(.5, 2))
  expect_identical(b$range_min, -1)
})

test_that("TFP's testTheoreticalFldjSimple configuration (sheet values)", {
  b <- tfb_rational_quadratic_spline(c(1, 1), c(sqrt(.5), 2 - sqrt(.5)), 1)
  x <- seq(-1.05, 1.05, length.out = 10)
  expect_equal(b$forward(x), c(
    -1.05, -0.8456551363, -0.6954959106, -0.5572005454, -0.3967100255,
    -0.1663304030, 0.1373321629, 0.4746276848, 0.7927640556, 1.05),
    tolerance = 1e-9)
  expect_equal(b$forward_log_det_jacobian(x, 0), c(
    0, -0.3256400587, -0.5204907918, -0.4883524029, -0.2261168401,
    0.1542522687, 0.3426726541, 0.3664590563, 0.2245641282, 0),
    tolerance = 1e-9)
  expect_equal(b$inverse(b$forward(x)), x, tolerance = 1e-14)
})

test_that("the sheet's partial derivatives at x = 0.3", {
  W <- c(.5, 1, .5); H <- c(1, .5, .5); S <- c(.5, 2)
  dy <- spline_raw_backward(0.3, W, H, S, grad_output = 1, grad_log_det = 0)
  dl <- spline_raw_backward(0.3, W, H, S, grad_output = 0, grad_log_det = 1)
  expect_equal(dy$input, 0.6665449233, tolerance = 1e-9)
  expect_equal(dl$input, 4.076268049, tolerance = 1e-9)
  expect_equal(dy$widths, c(-0.6665449233, -0.6252739226, 0), tolerance = 1e-9)
  expect_equal(dy$heights, c(1, 0.7246165084, 0), tolerance = 1e-9)
  expect_equal(dy$slopes, c(0.04967129291, -0.05843681519), tolerance = 1e-9)
  expect_equal(dl$widths, c(-4.076268049, -4.451684561, 0), tolerance = 1e-9)
  expect_equal(dl$heights, c(0, 2.381340244, 0), tolerance = 1e-9)
  expect_equal(dl$slopes, c(-0.4050351722, 0.005923731951), tolerance = 1e-9)
})

test_that("a plain-R transcription agrees on random splines of several sizes", {
  set.seed(101)
  for (K in c(1, 2, 3, 5, 8, 32)) {
    p <- ref_random_spline(K, total = 4)
    b <- tfb_rational_quadratic_spline(p$W, p$H, p$S, range_min = -2)
    x <- c(runif(200, -2.5, 2.5), -2, 2, -2 + cumsum(p$W))
    y <- b$forward(x)
    expect_equal(y, ref_spline_forward(p$W, p$H, p$S, -2, x),
                 tolerance = 1e-13)
    expect_equal(b$forward_log_det_jacobian(x, 0),
                 ref_spline_fldj(p$W, p$H, p$S, -2, x), tolerance = 1e-12)
    expect_equal(b$inverse(y), ref_spline_inverse(p$W, p$H, p$S, -2, y),
                 tolerance = 1e-13)
    expect_equal(b$inverse(y), x, tolerance = 1e-12)
    expect_equal(b$inverse_log_det_jacobian(y, 0),
                 -ref_spline_fldj(p$W, p$H, p$S, -2, x), tolerance = 1e-11)
    # dy/dx = exp(fldj), by central differences
    inside <- seq_along(x) <= 200 & x > -1.99 & x < 1.99
    h <- 1e-6
    numeric <- (b$forward(x + h) - b$forward(x - h)) / (2 * h)
    expect_equal(log(numeric[inside]),
                 b$forward_log_det_jacobian(x, 0)[inside], tolerance = 1e-7)
  }
})

test_that("per-feature parameters: row d is the spline of column d", {
  set.seed(102)
  D <- 4; K <- 5
  ps <- lapply(seq_len(D), function(d) ref_random_spline(K, total = 3))
  W <- t(vapply(ps, `[[`, numeric(K), "W"))
  H <- t(vapply(ps, `[[`, numeric(K), "H"))
  S <- t(vapply(ps, `[[`, numeric(K - 1), "S"))
  b <- tfb_rational_quadratic_spline(W, H, S, range_min = -1.5)
  x <- matrix(runif(40, -2, 2), 10, D)
  y <- b$forward(x)
  for (d in seq_len(D)) {
    expect_equal(y[, d], ref_spline_forward(W[d, ], H[d, ], S[d, ], -1.5,
                                            x[, d]), tolerance = 1e-13)
  }
  expect_equal(b$inverse(y), x, tolerance = 1e-12)
  ld <- vapply(seq_len(D), function(d) {
    ref_spline_fldj(W[d, ], H[d, ], S[d, ], -1.5, x[, d])
  }, numeric(10))
  expect_equal(b$forward_log_det_jacobian(x, 0), ld, tolerance = 1e-12)
  expect_equal(b$forward_log_det_jacobian(x, 1), rowSums(ld),
               tolerance = 1e-12)
  expect_equal(b$forward_log_det_jacobian(x, 2), sum(ld), tolerance = 1e-12)
  # a shared vector mixed with per-feature matrices
  b2 <- tfb_rational_quadratic_spline(W[1, ], H[1, ], S)
  y2 <- b2$forward(x)
  expect_equal(y2[, 3], ref_spline_forward(W[1, ], H[1, ], S[3, ], -1, x[, 3]),
               tolerance = 1e-13)
  # arrays of rank 3: features along the last axis
  a <- array(runif(2 * 3 * D, -2, 2), c(2, 3, D))
  expect_equal(b$forward(a)[, , 2],
               matrix(ref_spline_forward(W[2, ], H[2, ], S[2, ], -1.5,
                                         a[, , 2]), 2, 3),
               tolerance = 1e-13)
  expect_equal(dim(b$forward_log_det_jacobian(a, 1)), c(2L, 3L))
  expect_error(b$forward(matrix(0, 2, 3)), class = "bijectors_error_event_size")
})

test_that("raw partials match central differences in both directions", {
  set.seed(103)
  K <- 4
  p <- ref_random_spline(K)
  x <- runif(6, -0.95, 0.95)
  gy <- rnorm(6); gl <- rnorm(6)
  loss_forward <- function(W, H, S, x) {
    sum(gy * ref_spline_forward(W, H, S, -1, x)) +
      sum(gl * ref_spline_fldj(W, H, S, -1, x))
  }
  y <- ref_spline_forward(p$W, p$H, p$S, -1, x)
  loss_inverse <- function(W, H, S, y) {
    xx <- ref_spline_inverse(W, H, S, -1, y)
    sum(gy * xx) - sum(gl * ref_spline_fldj(W, H, S, -1, xx))
  }
  numeric_gradient <- function(f, v) {
    vapply(seq_along(v), function(k) {
      up <- v; down <- v; h <- 1e-6
      up[k] <- up[k] + h; down[k] <- down[k] - h
      (f(up) - f(down)) / (2 * h)
    }, numeric(1))
  }
  for (inverse in c(FALSE, TRUE)) {
    f <- if (inverse) loss_inverse else loss_forward
    at <- if (inverse) y else x
    g <- .Call(bijectors:::C_rqs_backward, if (inverse)
      ref_spline_inverse(p$W, p$H, p$S, -1, y) else x, p$W, p$H, p$S,
      c(1L, 1L, 1L), FALSE, -1, inverse, 0L, gy, gl)
    expect_equal(g$input, numeric_gradient(function(v) f(p$W, p$H, p$S, v),
                                           at), tolerance = 1e-6)
    expect_equal(g$widths, numeric_gradient(function(v) f(v, p$H, p$S, at),
                                            p$W), tolerance = 1e-6)
    expect_equal(g$heights, numeric_gradient(function(v) f(p$W, v, p$S, at),
                                             p$H), tolerance = 1e-6)
    expect_equal(g$slopes, numeric_gradient(function(v) f(p$W, p$H, v, at),
                                            p$S), tolerance = 1e-6)
  }
})

test_that("TFP's degenerate splines are the identity", {
  x <- c(-3, -1, -0.5, 0.2, 1, 4)
  # no bins: every point is outside; one bin: the formula, to rounding
  for (b in list(tfb_rational_quadratic_spline(numeric(0), numeric(0), 1),
                 tfb_rational_quadratic_spline(2, 2, numeric(0)))) {
    expect_equal(b$forward(x), x, tolerance = 1e-15)
    expect_equal(b$inverse(x), x, tolerance = 1e-15)
    expect_equal(b$forward_log_det_jacobian(x, 0), rep(0, 6),
                 tolerance = 1e-15)
  }
})

test_that("a single knot slope is recycled to K - 1 (TFP: only K = 2)", {
  b <- tfb_rational_quadratic_spline(c(.5, 1, .5), c(1, .5, .5), 0.7)
  expect_identical(b$knot_slopes, c(0.7, 0.7))
  x <- c(-0.6, 0.1, 0.7)
  expect_equal(b$forward(x), ref_spline_forward(c(.5, 1, .5), c(1, .5, .5),
                                                c(.7, .7), -1, x),
               tolerance = 1e-14)
  m <- tfb_rational_quadratic_spline(rbind(c(1, 1, 1), c(1, 1, 1)),
                                     c(1, 1, 1), matrix(c(2, 3), 2, 1))
  expect_identical(m$knot_slopes, matrix(c(2, 3, 2, 3), 2, 2))
})

test_that("TFP's invalid parameters are refused, naming the argument", {
  expect_error(tfb_rational_quadratic_spline(c(.2, .1, .5), c(.1, .3, 5.4),
                                             c(.3, .5), validate_args = TRUE),
               "must equal `sum\\(bin_heights", class = "bijectors_error_argument")
  # without validate_args too (a departure: TFP builds a non-bijection)
  expect_error(tfb_rational_quadratic_spline(c(.2, .1, .5), c(.1, .3, 5.4),
                                             c(.3, .5)),
               class = "bijectors_error_argument")
  expect_error(tfb_rational_quadratic_spline(c(.3, .2, -.1), c(.1, .2, .1),
                                             c(.3, .5), validate_args = TRUE),
               "`bin_widths` must be positive", class = "bijectors_error_argument")
  expect_error(tfb_rational_quadratic_spline(c(.3, .2, .1), c(.5, 0, .1),
                                             c(.3, .5), validate_args = TRUE),
               "`bin_heights` must be positive", class = "bijectors_error_argument")
  expect_error(tfb_rational_quadratic_spline(c(.3, .2, .1), c(.1, .2, .3),
                                             c(-.5, 1), validate_args = TRUE),
               "`knot_slopes` must be positive", class = "bijectors_error_argument")
  expect_error(tfb_rational_quadratic_spline(c(.3, .2, .1), c(.1, .2, .3),
                                             c(1, 0), validate_args = TRUE),
               "`knot_slopes` must be positive", class = "bijectors_error_argument")
})

test_that("argument errors are classed and name the argument", {
  w <- c(.5, .5)
  expect_error(tfb_rational_quadratic_spline("a", w, 1), "`bin_widths`",
               class = "bijectors_error_argument")
  expect_error(tfb_rational_quadratic_spline(w, c(.5, NA), 1), "`bin_heights`",
               class = "bijectors_error_argument")
  expect_error(tfb_rational_quadratic_spline(w, w, array(1, c(1, 1, 1))),
               "`knot_slopes`.*rank 3", class = "bijectors_error_argument")
  expect_error(tfb_rational_quadratic_spline(w, c(.2, .3, .5), 1),
               "same number of bins", class = "bijectors_error_argument")
  expect_error(tfb_rational_quadratic_spline(c(.2, .3, .5), c(.2, .3, .5),
                                             c(1, 2, 3)),
               "K - 1 = 2", class = "bijectors_error_argument")
  expect_error(tfb_rational_quadratic_spline(matrix(.5, 2, 2),
                                             matrix(.5, 3, 2), 1),
               "rows", class = "bijectors_error_argument")
  expect_error(tfb_rational_quadratic_spline(w, w, 1, range_min = NA),
               "`range_min`", class = "bijectors_error_argument")
  expect_error(tfb_rational_quadratic_spline(w, w, 1, validate_args = "yes"),
               "`validate_args`", class = "bijectors_error_argument")
  expect_error(tfb_rational_quadratic_spline(w, w, 1, name = 1),
               "`name`", class = "bijectors_error_argument")
  b <- tfb_rational_quadratic_spline(w, w, 1)
  expect_error(b$forward("a"), class = "bijectors_error_input")
  expect_error(b$forward_log_det_jacobian(1, event_ndims = 2),
               class = "bijectors_error_event_ndims")
})

test_that("trainable parameters: softmax logits and log slopes", {
  b <- tfb_rational_quadratic_spline(rbind(c(1, 2, 1), c(2, 1, 1)),
                                     c(1, 1, 2), c(0.5, 3), range_min = -2)
  p <- trainable_parameters(b)
  expect_named(p, c("bin_width_logits", "bin_height_logits",
                    "log_knot_slopes"))
  expect_equal(p$bin_width_logits, log(rbind(c(1, 2, 1), c(2, 1, 1))))
  p$bin_width_logits[1, ] <- c(0, 0, log(2))
  p$log_knot_slopes <- c(0, 0)
  trainable_parameters(b) <- p
  expect_equal(b$bin_widths, rbind(c(1, 1, 2), c(2, 1, 1)), tolerance = 1e-15)
  expect_equal(b$knot_slopes, c(1, 1))
  expect_equal(rowSums(b$bin_widths), c(4, 4))
  p$log_knot_slopes <- c(0, 1e4)
  expect_error(trainable_parameters(b) <- p, class = "bijectors_error_argument")
})

test_that("in a chain and a transformed distribution, fit() lowers the loss", {
  set.seed(104)
  n <- 400
  data <- cbind(rnorm(n, sd = 0.6) + 0.5 * sign(rnorm(n)), rexp(n) - 1)
  spline <- tfb_rational_quadratic_spline(matrix(0.8, 2, 5),
                                          matrix(0.8, 2, 5),
                                          matrix(1, 2, 4), range_min = -2)
  flow <- tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = c(0, 0)),
    tfb_chain(list(tfb_shift(c(0.1, -0.1)), spline)))
  before <- -mean(flow$log_prob(data))
  history <- fit(flow, data, epochs = 15, batch_size = 50,
                 learning_rate = 0.05, verbose = FALSE)
  after <- -mean(flow$log_prob(data))
  expect_lt(after, before - 0.05)
  expect_lt(history$loss[[15]], history$loss[[1]])
  expect_equal(rowSums(spline$bin_widths), c(4, 4), tolerance = 1e-12)
  expect_equal(rowSums(spline$bin_heights), c(4, 4), tolerance = 1e-12)
  expect_true(all(spline$bin_widths > 0) && all(spline$knot_slopes > 0))
  # still a bijection after training
  expect_equal(spline$inverse(spline$forward(data)), data, tolerance = 1e-12)
  # saved and restored, the trained spline is the same
  copy <- unserialize(serialize(flow, NULL))
  expect_identical(copy$log_prob(data), flow$log_prob(data))
})
