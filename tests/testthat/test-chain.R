# tfb_chain(): the list is applied last-first, as TFP; log-dets add up at the
# intermediate points.

# A real NVP bijector and a MAF with built networks, for non-constant
# log-dets in the chain.
built_nvp <- function(D, num_masked = 1, activation = "tanh", seed = 61) {
  set.seed(seed)
  template <- tfb_real_nvp_default_template(hidden_layers = c(5),
                                            activation = activation)
  b <- tfb_real_nvp(num_masked = num_masked, shift_and_log_scale_fn = template)
  b$forward(matrix(0, 1, D))
  b
}

test_that("chain(list(a, b))$forward(x) is a(b(x)) and inverse undoes it", {
  a <- tfb_shift(c(1, -2, 0.5))
  b <- tfb_scale(c(2, 3, -1))
  ch <- tfb_chain(list(a, b))
  set.seed(62)
  x <- matrix(rnorm(12), 4, 3)
  expect_identical(ch$forward(x), a$forward(b$forward(x)))
  expect_equal(ch$forward(x), sweep(sweep(x, 2, c(2, 3, -1), "*"), 2,
                                    c(1, -2, 0.5), "+"), tolerance = 1e-14)
  # the inverse applies a's inverse first
  expect_identical(ch$inverse(x), b$inverse(a$inverse(x)))
  expect_equal(ch$inverse(x), sweep(sweep(x, 2, c(1, -2, 0.5)), 2,
                                    c(2, 3, -1), "/"), tolerance = 1e-14)
  expect_identical(tfb_forward(ch, x), ch$forward(x))
  expect_identical(tfb_inverse(ch, x), ch$inverse(x))
})

test_that("chain log-dets add up at the intermediate points", {
  D <- 3
  a <- built_nvp(D, num_masked = 1, seed = 63)
  b <- built_nvp(D, num_masked = -1, seed = 64)
  p <- tfb_permute(c(3, 1, 2))
  ch <- tfb_chain(list(a, p, b))
  set.seed(65)
  x <- matrix(rnorm(15), 5, 3)
  mid1 <- b$forward(x)
  mid2 <- p$forward(mid1)
  y <- a$forward(mid2)
  expect_equal(ch$forward(x), y, tolerance = 1e-14)
  expected_fldj <- b$forward_log_det_jacobian(x, 1) +
    p$forward_log_det_jacobian(mid1, 1) + a$forward_log_det_jacobian(mid2, 1)
  expect_equal(ch$forward_log_det_jacobian(x, 1), expected_fldj,
               tolerance = 1e-12)
  expected_ildj <- a$inverse_log_det_jacobian(y, 1) +
    p$inverse_log_det_jacobian(mid2, 1) + b$inverse_log_det_jacobian(mid1, 1)
  expect_equal(ch$inverse_log_det_jacobian(y, 1), expected_ildj,
               tolerance = 1e-12)
  expect_length(ch$inverse_log_det_jacobian(y, 1), 5)
  expect_bijector_checks(ch, y)
})

test_that("elementwise members get the chain's event_ndims", {
  s <- c(2, 0.5, -3)
  ch <- tfb_chain(list(tfb_scale(s), tfb_shift(1), tfb_scale(4)))
  x <- array(rnorm(24), c(2, 4, 3))
  expect_equal(ch$forward_log_det_jacobian(x, 1),
               sum(log(abs(s))) + 3 * log(4), tolerance = 1e-14)
  expect_equal(ch$forward_log_det_jacobian(x, 2),
               4 * (sum(log(abs(s))) + 3 * log(4)), tolerance = 1e-14)
  expect_equal(ch$inverse_log_det_jacobian(ch$forward(x), 2),
               -4 * (sum(log(abs(s))) + 3 * log(4)), tolerance = 1e-14)
})

test_that("chain min event ndims is the max of the members'", {
  ch <- tfb_chain(list(tfb_shift(1), tfb_scale(2)))
  expect_identical(ch$forward_min_event_ndims, 0L)
  ch <- tfb_chain(list(tfb_shift(1), tfb_permute(c(2, 1)), tfb_scale(2)))
  expect_identical(ch$forward_min_event_ndims, 1L)
  expect_identical(ch$inverse_min_event_ndims, 1L)
  ch <- tfb_chain(list(tfb_permute(c(2, 1), axis = -2L), tfb_shift(1)))
  expect_identical(ch$forward_min_event_ndims, 2L)
})

test_that("the bijectors field is the list, and names follow TFP", {
  a <- tfb_shift(1)
  b <- tfb_scale(2)
  ch <- tfb_chain(list(a, b))
  expect_length(ch$bijectors, 2)
  expect_identical(ch$bijectors[[1]], a)
  expect_identical(ch$bijectors[[2]], b)
  # TFP's default name: "chain_of_" and the members' names joined by "_of_"
  expect_identical(ch$name, "chain_of_shift_of_scale")
  expect_identical(tfb_chain(list(a, b), name = "affine")$name, "affine")
})

test_that("an empty chain is the identity", {
  ch <- tfb_chain()
  x <- matrix(rnorm(6), 3, 2)
  expect_identical(ch$forward(x), x)
  expect_identical(ch$inverse(x), x)
  expect_log_det_events(ch$forward_log_det_jacobian(x, 1), rep(0, 3))
})

test_that("a chain with batch normalization in evaluation mode checks out", {
  set.seed(66)
  bn <- eval_batch_norm(4)
  ch <- tfb_chain(list(tfb_permute(c(4, 2, 1, 3)), bn$bijector,
                       tfb_shift(c(1, 2, 3, 4))))
  y <- matrix(rnorm(20), 5, 4)
  expect_bijector_checks(bn$bijector, y)
  x <- expect_bijector_checks(ch, y)
  ref <- ref_permute_inverse(y, c(4, 2, 1, 3))
  ref <- ref_bn_eval_inverse(ref, bn$weights, bn$epsilon)
  ref <- sweep(ref, 2, c(1, 2, 3, 4))
  expect_equal(x, ref, tolerance = 1e-12)
  expect_equal(ch$inverse_log_det_jacobian(y, 1),
               ref_ildj(bn$weights$gamma, bn$weights$moving_variance,
                        bn$epsilon), tolerance = 1e-12)
})

test_that("the one-pass inverse of a chain gives inverse and ILDJ", {
  D <- 3
  ch <- tfb_chain(list(built_nvp(D, 1, seed = 67), tfb_scale(c(1, 2, 3)),
                       built_nvp(D, 2, seed = 68)))
  set.seed(69)
  y <- matrix(rnorm(12), 4, 3)
  both <- bijectors:::bijector_inverse_and_log_det(ch, y, 1L)
  expect_equal(both$x, ch$inverse(y), tolerance = 1e-14)
  expect_equal(both$log_det, ch$inverse_log_det_jacobian(y, 1),
               tolerance = 1e-12)
})

test_that("a chain prints", {
  ch <- tfb_chain(list(tfb_shift(1), tfb_permute(c(2, 1)), tfb_scale(2)))
  expect_snapshot(print(ch))
})
