# The shared base of the elementwise bijectors (R/elementwise.R and the
# kernel table of src/elementwise.c): every kind through one set of checks
# against plain-R references and central differences.

cases <- elementwise_cases()

test_that("every kind's forward, inverse and elementwise log-dets match plain R", {
  set.seed(101)
  for (kind in names(cases)) {
    case <- cases[[kind]]
    b <- make_case(case)
    x <- case$x(7)
    y <- b$forward(x)
    expect_equal(y, case$forward(x, case$parameters), tolerance = 1e-13,
                 label = kind)
    expect_equal(b$inverse(y), x, tolerance = 1e-10, label = kind)
    fldj <- b$forward_log_det_jacobian(x, 0)
    expect_log_det_events(fldj, case$fldj(x, case$parameters),
                          tolerance = 1e-12)
    # log|f'| against the numerical derivative of the forward map
    numerical <- log(abs(numerical_elementwise_derivative(b$forward, x)))
    expect_log_det_events(fldj, numerical, tolerance = 1e-7)
    # ildj(y) = -fldj(x)
    expect_log_det_events(b$inverse_log_det_jacobian(y, 0),
                          -case$fldj(x, case$parameters), tolerance = 1e-9)
  }
})

test_that("log-dets sum over the last event_ndims axes, for 0 up to the rank", {
  set.seed(102)
  for (kind in c("exp", "sigmoid", "sigmoid_bounded")) {
    case <- cases[[kind]]
    b <- make_case(case)
    x <- array(case$x(8), c(2, 4, 3))
    elementwise <- array(case$fldj(matrix(x, 8, 3), case$parameters),
                         c(2, 4, 3))
    y <- b$forward(x)
    for (k in 0:3) {
      expected <- ref_reduce_last(elementwise, k)
      fldj <- b$forward_log_det_jacobian(x, k)
      expect_equal(fldj, expected, tolerance = 1e-12,
                   label = sprintf("%s fldj, event_ndims %d", kind, k))
      expect_equal(b$inverse_log_det_jacobian(y, k), -expected,
                   tolerance = 1e-9,
                   label = sprintf("%s ildj, event_ndims %d", kind, k))
    }
    # a plain vector is one axis
    v <- case$x(1)[1, ]
    expect_equal(b$forward_log_det_jacobian(v, 1),
                 sum(case$fldj(matrix(v, 1), case$parameters)),
                 tolerance = 1e-12)
  }
})

test_that("event_ndims outside 0..rank or not whole is a classed error", {
  b <- tfb_sigmoid()
  x <- matrix(0.5, 2, 3)
  for (bad in list(-1, 3, 1.5, NA, "1", NULL)) {
    expect_error(b$forward_log_det_jacobian(x, bad),
                 class = "bijectors_error_event_ndims")
    expect_error(b$inverse_log_det_jacobian(x, bad),
                 class = "bijectors_error_event_ndims")
  }
  expect_error(tfb_forward_log_det_jacobian(b, x),
               class = "bijectors_error_event_ndims")
})

test_that("backward passes match central differences in both directions", {
  set.seed(103)
  for (kind in names(cases)) {
    case <- cases[[kind]]
    b <- make_case(case)
    x <- array(case$x(4), c(2, 2, 3))
    for (direction in c("forward", "inverse")) {
      input <- if (direction == "forward") x else b$forward(x)
      for (k in 0:3) {
        ld_dims <- if (k == 3L) 1L else dim(x)[seq_len(3L - k)]
        g_out <- array(rnorm(length(x)), dim(x))
        g_ld <- array(rnorm(prod(ld_dims)), ld_dims)
        pass <- if (direction == "forward") {
          bijectors:::bijector_forward_with_cache(b, input, k)
        } else {
          bijectors:::bijector_inverse_with_cache(b, input, k)
        }
        # the whole backward, fixed parameters included
        analytic <- bijectors:::elementwise_backward(
          b, pass$cache, g_out, g_ld, if (direction == "forward") 0L else 1L)
        numerical <- numerical_pass_gradients(case, input, direction, k,
                                              g_out, g_ld)
        label <- sprintf("%s %s event_ndims %d", kind, direction, k)
        expect_relative_error_below(analytic$input, numerical$input, 1e-6,
                                    label = paste(label, "input"))
        expect_identical(dim(analytic$input), dim(x))
        for (j in seq_along(case$parameters)) {
          expect_relative_error_below(
            analytic$parameters[[j]], numerical$parameters[[j]], 1e-6,
            label = paste(label, names(case$parameters)[[j]]))
        }
      }
    }
  }
})

test_that("a scalar log-det gradient broadcasts over the pass", {
  set.seed(104)
  b <- tfb_sigmoid(low = -1, high = c(2, 3))
  x <- matrix(rnorm(6), 3, 2)
  pass <- bijectors:::bijector_forward_with_cache(b, x, 1L)
  g_out <- matrix(rnorm(6), 3, 2)
  one <- bijectors:::elementwise_backward(b, pass$cache, g_out, 0.7, 0L)
  all <- bijectors:::elementwise_backward(b, pass$cache, g_out,
                                          rep(0.7, 3), 0L)
  expect_equal(one, all, tolerance = 1e-15)
})

test_that("training a flow of exp and sigmoid matches central differences", {
  set.seed(105)
  flow <- flow_on(tfb_chain(list(
    tfb_sigmoid(low = c(-5, -4, -6), high = c(5, 6, 4)),
    tfb_shift(c(0.2, -0.1, 0.3)),
    tfb_scale(log_scale = c(0.1, -0.2, 0.05)))))
  y <- matrix(runif(30, -3, 3), 10, 3)
  expect_flow_gradients(flow, y, tolerance = 1e-6)
  flow <- flow_on(tfb_chain(list(tfb_exp(), tfb_scale(c(1.2, 0.8, -1.1)))))
  expect_flow_gradients(flow, matrix(rexp(30), 10, 3), tolerance = 1e-6)
  flow <- flow_on(tfb_invert(tfb_chain(list(tfb_sigmoid(), tfb_shift(0.3)))))
  expect_flow_gradients(flow, matrix(rnorm(30), 10, 3), tolerance = 1e-6)
})

test_that("a sigmoid flow with a shift and a scale fits bounded data", {
  set.seed(106)
  flow <- tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = c(0, 0)),
    tfb_chain(list(tfb_sigmoid(low = c(-5, -5), high = c(5, 5)),
                   tfb_shift(c(0, 0)), tfb_scale(c(1, 1)))))
  z <- matrix(rnorm(1000, mean = c(1, -0.5), sd = c(0.5, 0.8)), ncol = 2,
              byrow = TRUE)
  y <- -5 + 10 * plogis(z)
  before <- -mean(flow$log_prob(y))
  history <- fit(flow, y, epochs = 20, batch_size = 50, learning_rate = 0.05,
                 verbose = FALSE)
  after <- -mean(flow$log_prob(y))
  expect_lt(after, before - 0.5)
  params <- trainable_parameters(flow)
  expect_identical(names(params), c("2_shift/shift", "3_scale/scale"))
  # the latent data are normal with these means and sds
  expect_equal(params[["2_shift/shift"]], c(1, -0.5), tolerance = 0.15)
  expect_equal(abs(params[["3_scale/scale"]]), c(0.5, 0.8), tolerance = 0.15)
  # low and high are fixed
  expect_identical(flow$bijector$bijectors[[1]]$low, c(-5, -5))
})

test_that("saveRDS() and serialize() round trips give identical results", {
  set.seed(107)
  x <- matrix(runif(12, -2, 2), 4, 3)
  for (b in list(tfb_exp(), tfb_sigmoid(), tfb_sigmoid(low = -3, high = 3),
                 tfb_chain(list(tfb_sigmoid(low = c(-1, -2, -3), high = 4),
                                tfb_exp())))) {
    path <- tempfile(fileext = ".rds")
    saveRDS(b, path)
    restored <- readRDS(path)
    unlink(path)
    copy <- unserialize(serialize(b, NULL))
    for (other in list(restored, copy)) {
      expect_identical(other$forward(x), b$forward(x))
      expect_identical(other$inverse_log_det_jacobian(b$forward(x), 1),
                       b$inverse_log_det_jacobian(b$forward(x), 1))
      expect_identical(format(other), format(b))
    }
  }
})

test_that("bad inputs give classed errors and change nothing", {
  b <- tfb_sigmoid(low = c(-1, -2), high = c(1, 2))
  before <- as.list(b)
  expect_error(b$forward("a"), class = "bijectors_error_input")
  # a nested list of numbers is a tensor (tfprobability's form); others not
  expect_error(b$forward(list("a")), class = "bijectors_error_input")
  expect_error(b$forward(list(1, c(1, 2))), class = "bijectors_error_input")
  expect_error(b$forward(factor(1)), class = "bijectors_error_input")
  expect_error(b$forward(matrix(0, 2, 3)), class = "bijectors_error_event_size")
  expect_error(b$inverse_log_det_jacobian(matrix(0, 2, 3), 1),
               class = "bijectors_error_event_size")
  expect_error(b$forward_log_det_jacobian(matrix(0, 2, 2), 3),
               class = "bijectors_error_event_ndims")
  expect_identical(as.list(b), before)
  expect_error(b$low <- 3, class = "bijectors_error_read_only")
  expect_error(b$nope, class = "bijectors_error_field")
})

test_that("integer input gives double output; attributes are kept", {
  x <- matrix(1:6, 3, 2, dimnames = list(letters[1:3], c("u", "v")))
  for (b in list(tfb_exp(), tfb_sigmoid(), tfb_sigmoid(low = 0, high = 9),
                 tfb_shift(1L), tfb_scale(2L))) {
    y <- b$forward(x)
    expect_type(y, "double")
    expect_identical(dimnames(y), dimnames(x))
    expect_type(b$forward_log_det_jacobian(x, 1), "double")
  }
  expect_identical(tfb_exp()$forward(c(a = 0)), c(a = 1))
})

test_that("the vectorised arithmetic maps give base R's bits at every length", {
  # lengths around the vector width leave remainders for the scalar tail;
  # specials and subnormals go through the packed operations too
  set.seed(1207)
  special <- c(0, -0, Inf, -Inf, NaN, NA, 5e-324, -1e-310, 1e308, -1e308)
  for (n in c(1, 2, 3, 5, 7, 8, 9, 17, 1000)) {
    x <- sample(c(special, rnorm(n)), n)
    expect_identical(tfb_scale(1.5)$inverse(x), x / 1.5)
    expect_identical(tfb_scale(-3)$forward(x), x * -3)
    expect_identical(tfb_shift(0.1)$forward(x), x + 0.1)
    b <- suppressMessages(tfb_affine_scalar(shift = 0.3, scale = 1.7))
    expect_identical(b$forward(x), x * 1.7 + 0.3)
    expect_identical(b$inverse(x), (x - 0.3) / 1.7)
    m <- matrix(x, nrow = n, ncol = 3)
    expect_identical(tfb_scale(c(2, 3, 7))$inverse(m),
                     m / rep(c(2, 3, 7), each = n))
  }
})

test_that("empty inputs give empty outputs", {
  b <- tfb_sigmoid(low = c(-1, -2), high = 3)
  x <- matrix(numeric(0), 0, 2)
  expect_identical(dim(b$forward(x)), c(0L, 2L))
  expect_identical(b$forward_log_det_jacobian(x, 1), numeric(0))
  expect_identical(b$forward_log_det_jacobian(x, 2), 0)
  expect_identical(tfb_exp()$inverse_log_det_jacobian(numeric(0), 1), 0)
})

test_that("fields are copies and parameters appear in $parameters", {
  b <- tfb_sigmoid(low = c(-1, -2), high = 3)
  low <- b$low
  low[1] <- 100
  expect_identical(b$low, c(-1, -2))
  # in the order of the constructor's arguments (tfprobability's
  # signature puts validate_args and name first here)
  expect_identical(b$parameters,
                   list(validate_args = FALSE, name = "sigmoid",
                        low = c(-1, -2), high = 3))
  expect_identical(tfb_sigmoid()$parameters,
                   list(validate_args = FALSE, name = "sigmoid", low = NULL,
                        high = NULL))
  expect_null(tfb_sigmoid()$low)
  expect_identical(tfb_exp()$parameters,
                   list(validate_args = FALSE, name = "exp"))
  expect_identical(class(tfb_exp()), c("tfb_exp", "tfb_elementwise", "bijector"))
  expect_identical(trainable_parameters(b), setNames(list(), character()))
})

test_that("the C entries refuse malformed arguments without crashing", {
  map <- function(...) .Call(bijectors:::C_elementwise_map, ...)
  back <- function(...) .Call(bijectors:::C_elementwise_backward, ...)
  expect_error(map("nope", 0L, 1, list(), 0L), "no elementwise kernel")
  expect_error(map(NA_character_, 0L, 1, list(), 0L))
  expect_error(map("exp", 8L, 1, list(), 0L))
  expect_error(map("exp", -1L, 1, list(), 0L))
  expect_error(map("exp", 0L, 1L, list(), 0L))
  expect_error(map("exp", 2L, 1, list(), 2L))
  expect_error(map("shift", 0L, 1, list(), 0L))
  expect_error(map("shift", 0L, c(1, 2, 3), list(c(1, 2)), 0L))
  expect_error(map("shift", 0L, 1, list(numeric(0)), 0L))
  expect_error(map("shift", 0L, 1, list(1L), 0L))
  expect_error(map("sigmoid", 0L, structure(1, dim = c(2L, 2L)), list(), 0L))
  expect_error(back("exp", 0L, c(1, 2), list(), 0L, 1, 1))
  expect_error(back("exp", 0L, c(1, 2), list(), 0L, c(1, 2), c(1, 2, 3)))
  expect_error(back("exp", 2L, c(1, 2), list(), 0L, c(1, 2), 1))
  expect_error(back("exp", 0L, c(1, 2), list(), 0L, c(1, 2), numeric(0)))
})

test_that("elementwise bijectors print", {
  expect_snapshot(print(tfb_exp()))
  expect_snapshot(print(tfb_sigmoid()))
  expect_snapshot(print(tfb_sigmoid(low = c(-5, -5), high = 5, name = "box")))
})
