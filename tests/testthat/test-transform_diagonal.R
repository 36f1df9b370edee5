# tfb_transform_diagonal(): a bijector on the diagonal of matrix events.

test_that("TFP's tests: exp on the diagonal, the rest unchanged", {
  b <- tfb_transform_diagonal(tfb_exp())
  expect_equal(b$forward(diag(2)), exp(1) * diag(2), tolerance = 1e-7)
  set.seed(1)
  x <- array(rnorm(48), c(3, 4, 4))
  y <- b$forward(x)
  for (k in 1:3) {
    expected <- x[k, , ]
    diag(expected) <- exp(diag(expected))
    expect_identical(y[k, , ], expected)
    expect_equal(b$forward_log_det_jacobian(x, 2)[[k]], sum(diag(x[k, , ])))
  }
  expect_equal(b$inverse(y), x, tolerance = 1e-14)
  expect_equal(b$inverse_log_det_jacobian(y, 2),
               -b$forward_log_det_jacobian(x, 2))
  expect_equal(b$forward_log_det_jacobian(x, 3),
               sum(b$forward_log_det_jacobian(x, 2)))
  expect_identical(b$forward_min_event_ndims, 2L)
  expect_identical(b$inverse_min_event_ndims, 2L)
  expect_identical(b$forward_event_shape(c(4, 4)), c(4L, 4L))
})

test_that("log-dets against numerical Jacobians, n = 2 to 6", {
  set.seed(2)
  b <- tfb_transform_diagonal(tfb_chain(list(tfb_scale(2), tfb_sigmoid())))
  for (n in 2:6) {
    x <- matrix(rnorm(n * n), n, n)
    jacobian <- sapply(seq_len(n * n), function(k) {
      e <- replace(numeric(n * n), k, 1e-6)
      as.vector(b$forward(x + e) - b$forward(x - e)) / 2e-6
    })
    expect_equal(b$forward_log_det_jacobian(x, 2),
                 as.numeric(determinant(jacobian)$modulus), tolerance = 1e-7)
    expect_equal(b$inverse_log_det_jacobian(b$forward(x), 2),
                 -b$forward_log_det_jacobian(x, 2), tolerance = 1e-12)
  }
})

test_that("argument and shape errors", {
  expect_error(tfb_transform_diagonal(), class = "error")
  expect_error(tfb_transform_diagonal(exp), class = "bijectors_error_bijector")
  expect_error(tfb_transform_diagonal(tfb_fill_triangular()),
               class = "bijectors_error_bijector")
  expect_error(tfb_transform_diagonal(tfb_exp(), validate_args = 1),
               class = "bijectors_error_argument")
  b <- tfb_transform_diagonal(tfb_exp())
  expect_error(b$forward(1:3), class = "bijectors_error_event_shape")
  expect_error(b$forward(matrix(0, 2, 3)), "square",
               class = "bijectors_error_event_shape")
  expect_error(b$forward_log_det_jacobian(diag(2), 1),
               class = "bijectors_error_event_ndims")
  # the diagonal bijector's own checks apply to the diagonal
  expect_error(tfb_transform_diagonal(tfb_exp(validate_args = TRUE))$inverse(
    -diag(2)), class = "bijectors_error_domain")
})

test_that("children, saving and training of a parameterised diagonal", {
  shift <- tfb_shift(c(0.5, -1, 2))
  b <- tfb_transform_diagonal(shift)
  expect_length(bijectors:::bijector_children(b), 1L)
  expect_s3_class(b$diag_bijector, "tfb_shift")
  # a flow on vectors: fill, transform the diagonal, read the triangle back
  sandwich <- tfb_chain(list(tfb_invert(tfb_fill_triangular()),
                             tfb_transform_diagonal(tfb_chain(list(
                               tfb_shift(c(0.5, -1, 2)),
                               tfb_scale(log_scale = c(0.2, -0.3, 0.1))))),
                             tfb_transform_diagonal(tfb_exp()),
                             tfb_fill_triangular()))
  set.seed(3)
  x <- matrix(rnorm(30), 5, 6)
  flow <- flow_on(sandwich, D = 6)
  expect_length(trainable_parameters(flow), 2L)
  randomize_parameters(flow)
  expect_flow_gradients(flow, flow$bijector$forward(x))
  flow <- flow_on(tfb_invert(sandwich), D = 6)
  randomize_parameters(flow)
  expect_flow_gradients(flow, x)
  copy <- unserialize(serialize(sandwich, NULL))
  expect_identical(copy$forward(x), sandwich$forward(x))
})

test_that("in a transformed distribution over matrix events", {
  base <- tfd_sample_distribution(tfd_normal(0, 1), c(2, 2))
  d <- tfd_transformed_distribution(base, tfb_transform_diagonal(tfb_exp()))
  expect_identical(d$event_shape, c(2L, 2L))
  set.seed(4)
  s <- d$sample(5)
  expect_identical(dim(s), c(5L, 2L, 2L))
  expect_true(all(s[, 1, 1] > 0 & s[, 2, 2] > 0))
  by_hand <- sapply(1:5, function(k) {
    y <- s[k, , ]
    x <- y
    diag(x) <- log(diag(y))
    sum(dnorm(x, log = TRUE)) - sum(log(diag(y)))
  })
  expect_equal(d$log_prob(s), by_hand, tolerance = 1e-12)
})
