# Every error of the contract: its class, and that the layer's state is the
# same before and after the failed call (errors come before any change).

# A built layer with random weights and a training and evaluation bijector.
built_setup <- function(axis = -1L, dims = c(6, 3), momentum = 0.7) {
  set.seed(201)
  y <- array(rnorm(prod(dims)), dims)
  layer <- layer_batch_normalization(axis = axis, momentum = momentum)
  tfb_batch_normalization(layer)$inverse(y)
  set_weights(layer, random_weights(length(layer$gamma)))
  list(layer = layer, y = y,
       train = tfb_batch_normalization(layer),
       evaluate = tfb_batch_normalization(layer, training = FALSE))
}

all_methods <- function(b, event_ndims = 1) {
  list(
    inverse = function(v) b$inverse(v),
    forward = function(v) b$forward(v),
    ildj = function(v) b$inverse_log_det_jacobian(v, event_ndims),
    fldj = function(v) b$forward_log_det_jacobian(v, event_ndims),
    tfb_inverse = function(v) tfb_inverse(b, v),
    tfb_forward = function(v) tfb_forward(b, v),
    tfb_ildj = function(v) tfb_inverse_log_det_jacobian(b, v, event_ndims),
    tfb_fldj = function(v) tfb_forward_log_det_jacobian(b, v, event_ndims)
  )
}

bad_inputs <- list(
  character = matrix(c("a", "b", "c", "d", "e", "f"), 2, 3),
  logical = matrix(TRUE, 2, 3),
  # a nested list of numbers is a tensor (tfprobability's form); this is not
  list = list(1, "b", 3),
  ragged_list = list(c(1, 2, 3), 1),
  factor = factor(c("a", "b", "c")),
  complex = matrix(complex(real = 1:6, imaginary = 1), 2, 3),
  data_frame = data.frame(a = 1:2, b = c("x", "y"), c = 3:4),
  null = NULL
)

# ---- bijectors_error_input ---------------------------------------------------

test_that("non-numeric input is refused by every method, built layer", {
  s <- built_setup()
  for (b in list(s$train, s$evaluate)) {
    for (method in all_methods(b)) {
      for (input in bad_inputs) {
        expect_error_keeps_state(s$layer, method(input),
                                 "bijectors_error_input")
      }
    }
  }
})

test_that("non-numeric input is refused by an unbuilt layer, which stays unbuilt", {
  layer <- layer_batch_normalization()
  for (b in list(tfb_batch_normalization(layer),
                 tfb_batch_normalization(layer, training = FALSE))) {
    for (method in all_methods(b)) {
      for (input in bad_inputs) {
        expect_error_keeps_state(layer, method(input), "bijectors_error_input")
      }
    }
  }
  expect_identical(layer$built, FALSE)
})

test_that("error classes follow the package's hierarchy", {
  s <- built_setup()
  condition <- tryCatch(s$train$inverse("a"), error = function(e) e)
  expect_s3_class(condition, c("bijectors_error_input", "bijectors_error",
                               "error", "condition"), exact = TRUE)
  condition <- tryCatch(layer_batch_normalization(momentum = 2),
                        error = function(e) e)
  expect_s3_class(condition, c("bijectors_error_argument", "bijectors_error",
                               "error", "condition"), exact = TRUE)
})

# ---- bijectors_error_feature_dim --------------------------------------------

test_that("a feature dimension different from the built layer's is refused", {
  s <- built_setup()
  wrong <- matrix(rnorm(8), 2, 4)
  for (b in list(s$train, s$evaluate)) {
    for (method in all_methods(b)) {
      expect_error_keeps_state(s$layer, method(wrong),
                               "bijectors_error_feature_dim")
    }
  }
  expect_error_keeps_state(s$layer, s$train$inverse(1:4),
                           "bijectors_error_feature_dim")
})

test_that("feature dims must match axis by axis, not only in number", {
  s <- built_setup(axis = c(2, 3), dims = c(5, 2, 4))
  expect_equal(s$layer$feature_shape, c(2L, 4L))
  swapped <- array(rnorm(40), c(5, 4, 2))
  expect_error_keeps_state(s$layer, s$train$inverse(swapped),
                           "bijectors_error_feature_dim")
  expect_error_keeps_state(s$layer, s$evaluate$forward(swapped),
                           "bijectors_error_feature_dim")
  expect_error_keeps_state(
    s$layer, s$train$inverse_log_det_jacobian(swapped, 2),
    "bijectors_error_feature_dim"
  )
})

# ---- bijectors_error_axis ---------------------------------------------------

test_that("axis 0 and non-whole axes are refused at construction", {
  expect_error(layer_batch_normalization(axis = 0),
               class = "bijectors_error_axis")
  expect_error(layer_batch_normalization(axis = 0L),
               class = "bijectors_error_axis")
  expect_error(layer_batch_normalization(axis = c(1, 0)),
               class = "bijectors_error_axis")
  expect_error(layer_batch_normalization(axis = 1.5),
               class = "bijectors_error_axis")
  expect_error(layer_batch_normalization(axis = -0.5),
               class = "bijectors_error_axis")
})

test_that("an axis out of range for the input's rank is refused", {
  for (axis in list(3, -3, c(1, 3), 5)) {
    layer <- layer_batch_normalization(axis = axis)
    b <- tfb_batch_normalization(layer)
    for (method in all_methods(b, event_ndims = length(axis))) {
      expect_error_keeps_state(layer, method(matrix(1, 4, 2)),
                               "bijectors_error_axis")
    }
    expect_error_keeps_state(
      layer, tfb_batch_normalization(layer, training = FALSE)$inverse(1:3),
      "bijectors_error_axis"
    )
    expect_identical(layer$built, FALSE)
  }
})

test_that("repeated axes are refused, also after resolving negatives", {
  expect_error({
    layer <- layer_batch_normalization(axis = c(2, 2))
    tfb_batch_normalization(layer)$inverse(matrix(1, 3, 2))
  }, class = "bijectors_error_axis")

  layer <- layer_batch_normalization(axis = c(-1, 2))
  b <- tfb_batch_normalization(layer)
  y <- matrix(rnorm(6), 3, 2)
  for (method in all_methods(b, event_ndims = 2)) {
    expect_error_keeps_state(layer, method(y), "bijectors_error_axis")
  }
  expect_identical(layer$built, FALSE)

  layer <- layer_batch_normalization(axis = c(1, -3))
  expect_error_keeps_state(
    layer, tfb_batch_normalization(layer)$inverse(array(1, c(2, 3, 4))),
    "bijectors_error_axis"
  )
})

test_that("an axis out of range for a later input of lower rank is refused", {
  s <- built_setup(axis = 3, dims = c(4, 2, 3))
  expect_error_keeps_state(s$layer, s$train$inverse(matrix(1, 4, 2)),
                           "bijectors_error_axis")
  expect_error_keeps_state(s$layer, s$evaluate$forward(matrix(1, 4, 2)),
                           "bijectors_error_axis")
})

# ---- bijectors_error_event_ndims --------------------------------------------

test_that("event_ndims below the minimum, above the rank or not whole is refused", {
  s <- built_setup()
  for (b in list(s$train, s$evaluate)) {
    for (ndims in list(0, -1, 3, 1.5, NA_real_)) {
      expect_error_keeps_state(s$layer,
                               b$inverse_log_det_jacobian(s$y, ndims),
                               "bijectors_error_event_ndims")
      expect_error_keeps_state(s$layer,
                               b$forward_log_det_jacobian(s$y, ndims),
                               "bijectors_error_event_ndims")
      expect_error_keeps_state(s$layer,
                               tfb_inverse_log_det_jacobian(b, s$y, ndims),
                               "bijectors_error_event_ndims")
      expect_error_keeps_state(s$layer,
                               tfb_forward_log_det_jacobian(b, s$y, ndims),
                               "bijectors_error_event_ndims")
    }
  }
})

test_that("event_ndims is limited by the rank and the number of feature axes", {
  s <- built_setup(axis = c(2, 3), dims = c(5, 2, 4))
  expect_error_keeps_state(s$layer, s$train$inverse_log_det_jacobian(s$y, 1),
                           "bijectors_error_event_ndims")
  expect_error_keeps_state(s$layer, s$evaluate$forward_log_det_jacobian(s$y, 4),
                           "bijectors_error_event_ndims")
  expect_no_error(s$evaluate$forward_log_det_jacobian(s$y, 3))

  # A plain vector has rank 1.
  layer <- layer_batch_normalization()
  b <- tfb_batch_normalization(layer, training = FALSE)
  expect_error_keeps_state(layer, b$inverse_log_det_jacobian(c(1, 2, 3), 2),
                           "bijectors_error_event_ndims")
})

test_that("a missing event_ndims is refused", {
  s <- built_setup()
  expect_error_keeps_state(s$layer, s$train$inverse_log_det_jacobian(s$y),
                           "bijectors_error_event_ndims")
  expect_error_keeps_state(s$layer, s$train$forward_log_det_jacobian(s$y),
                           "bijectors_error_event_ndims")
  expect_error_keeps_state(s$layer, tfb_inverse_log_det_jacobian(s$train, s$y),
                           "bijectors_error_event_ndims")
  expect_error_keeps_state(s$layer, tfb_forward_log_det_jacobian(s$train, s$y),
                           "bijectors_error_event_ndims")
})

# ---- bijectors_error_argument -----------------------------------------------

test_that("bad layer arguments are refused", {
  arg <- "bijectors_error_argument"
  expect_error(layer_batch_normalization(momentum = 1.5), class = arg)
  expect_error(layer_batch_normalization(momentum = -0.1), class = arg)
  expect_error(layer_batch_normalization(momentum = NA), class = arg)
  expect_error(layer_batch_normalization(momentum = NA_real_), class = arg)
  expect_error(layer_batch_normalization(momentum = "0.9"), class = arg)
  expect_error(layer_batch_normalization(momentum = c(0.5, 0.9)), class = arg)
  expect_error(layer_batch_normalization(epsilon = -1e-3), class = arg)
  expect_error(layer_batch_normalization(epsilon = NA_real_), class = arg)
  expect_error(layer_batch_normalization(epsilon = "small"), class = arg)
  expect_error(layer_batch_normalization(center = "yes"), class = arg)
  expect_error(layer_batch_normalization(center = NA), class = arg)
  expect_error(layer_batch_normalization(center = c(TRUE, FALSE)), class = arg)
  expect_error(layer_batch_normalization(center = 1), class = arg)
  expect_error(layer_batch_normalization(scale = "no"), class = arg)
  expect_error(layer_batch_normalization(scale = NA), class = arg)
  expect_error(layer_batch_normalization(scale = logical(0)), class = arg)
  expect_error(layer_batch_normalization(name = 1), class = arg)
  expect_error(layer_batch_normalization(name = c("a", "b")), class = arg)
  expect_error(layer_batch_normalization(name = NA_character_), class = arg)
  expect_error(layer_batch_normalization(gamma_constraint = "relu"),
               class = arg)
  expect_error(layer_batch_normalization(gamma_constraint = 1), class = arg)
})

test_that("bad bijector arguments are refused", {
  arg <- "bijectors_error_argument"
  layer <- layer_batch_normalization()
  expect_error(tfb_batch_normalization(layer, training = "yes"), class = arg)
  expect_error(tfb_batch_normalization(layer, training = NA), class = arg)
  expect_error(tfb_batch_normalization(layer, training = c(TRUE, TRUE)),
               class = arg)
  expect_error(tfb_batch_normalization(layer, training = 1), class = arg)
  expect_error(tfb_batch_normalization(layer, name = 2), class = arg)
  expect_error(tfb_batch_normalization(layer, name = c("a", "b")), class = arg)
  expect_error(tfb_batch_normalization(layer, validate_args = "no"),
               class = arg)
  expect_identical(layer$built, FALSE)
})

test_that("bad set_weights() input is refused and changes nothing", {
  s <- built_setup()
  w <- get_weights(s$layer)
  arg <- "bijectors_error_argument"
  bad <- list(
    not_a_list = unlist(w),
    too_few = w[1:3],
    too_many = c(w, list(extra = 1:3)),
    wrong_names = setNames(w, c("gamma", "beta", "mean", "variance")),
    wrong_length = within(w, gamma <- c(1, 2)),
    too_long = within(w, beta <- rep(0, 4)),
    non_finite = within(w, beta <- c(0, NA, 0)),
    infinite = within(w, moving_mean <- c(0, Inf, 0)),
    nan = within(w, gamma <- c(1, NaN, 1)),
    negative_variance = within(w, moving_variance <- c(1, -0.1, 1)),
    character = within(w, gamma <- c("1", "1", "1")),
    null_entry = within(w, moving_mean <- NULL)
  )
  for (value in bad) {
    expect_error_keeps_state(s$layer, set_weights(s$layer, value), arg)
  }
  # A good value after all this still works.
  expect_no_error(set_weights(s$layer, w))
})

test_that("get_weights() on an unbuilt layer is an error", {
  layer <- layer_batch_normalization()
  expect_error(get_weights(layer), class = "bijectors_error")
  expect_identical(layer$built, FALSE)
})

# ---- bijectors_error_unsupported --------------------------------------------

test_that("unsupported initializers are refused", {
  unsupported <- "bijectors_error_unsupported"
  expect_error(layer_batch_normalization(gamma_initializer = "glorot_uniform"),
               class = unsupported)
  expect_error(layer_batch_normalization(beta_initializer = "random_normal"),
               class = unsupported)
  expect_error(layer_batch_normalization(moving_mean_initializer = "he_normal"),
               class = unsupported)
  expect_error(
    layer_batch_normalization(moving_variance_initializer = "identity"),
    class = unsupported
  )
})

test_that("unsupported Keras options are refused", {
  unsupported <- "bijectors_error_unsupported"
  expect_error(layer_batch_normalization(renorm = TRUE), class = unsupported)
  expect_error(layer_batch_normalization(virtual_batch_size = 8),
               class = unsupported)
  expect_error(layer_batch_normalization(beta_regularizer = "l2"),
               class = unsupported)
  expect_error(layer_batch_normalization(gamma_regularizer = function(w) 0),
               class = unsupported)
})

test_that("unknown argument names are refused", {
  expect_error(layer_batch_normalization(mometum = 0.9),
               class = "bijectors_error")
  expect_error(layer_batch_normalization(not_an_option = 1),
               class = "bijectors_error")
})

# ---- bijectors_error_layer --------------------------------------------------

test_that("a batchnorm_layer that is not this package's layer is refused", {
  cls <- "bijectors_error_layer"
  expect_error(tfb_batch_normalization(list()), class = cls)
  expect_error(tfb_batch_normalization(1), class = cls)
  expect_error(tfb_batch_normalization(new.env()), class = cls)
  expect_error(tfb_batch_normalization("batch_normalization"), class = cls)
  expect_error(tfb_batch_normalization(tfb_batch_normalization()), class = cls)
  fake <- structure(list(axis = -1), class = "layer_batch_normalization")
  expect_error(tfb_batch_normalization(fake), class = cls)
})

# ---- bijectors_error_empty_batch --------------------------------------------

test_that("a training batch with no rows is refused", {
  layer <- layer_batch_normalization()
  b <- tfb_batch_normalization(layer)
  expect_error_keeps_state(layer, b$inverse(matrix(numeric(0), 0, 3)),
                           "bijectors_error_empty_batch")
  expect_identical(layer$built, FALSE)

  s <- built_setup()
  expect_error_keeps_state(s$layer, s$train$inverse(matrix(numeric(0), 0, 3)),
                           "bijectors_error_empty_batch")
  expect_error_keeps_state(s$layer,
                           tfb_inverse(s$train, matrix(integer(0), 0, 3)),
                           "bijectors_error_empty_batch")

  s3 <- built_setup(axis = c(2, 3), dims = c(2, 2, 3))
  expect_error_keeps_state(s3$layer, s3$train$inverse(array(0, c(0, 2, 3))),
                           "bijectors_error_empty_batch")
})

# ---- bijectors_error_nonfinite ----------------------------------------------

test_that("a training batch with NA, NaN, Inf or -Inf is refused", {
  s <- built_setup()
  stats <- list(s$layer$moving_mean, s$layer$moving_variance)
  for (value in list(NA, NaN, Inf, -Inf)) {
    y <- s$y
    y[4, 2] <- value
    expect_error_keeps_state(s$layer, s$train$inverse(y),
                             "bijectors_error_nonfinite")
    expect_error_keeps_state(s$layer, tfb_inverse(s$train, y),
                             "bijectors_error_nonfinite")
    expect_identical(list(s$layer$moving_mean, s$layer$moving_variance),
                     stats)
  }
  y_int <- matrix(c(1L, NA, 3L, 4L), 2, 2)
  s2 <- built_setup(dims = c(5, 2))
  expect_error_keeps_state(s2$layer, s2$train$inverse(y_int),
                           "bijectors_error_nonfinite")
})

test_that("a non-finite first batch leaves an unbuilt layer unbuilt", {
  for (value in list(NA, NaN, Inf, -Inf)) {
    layer <- layer_batch_normalization()
    b <- tfb_batch_normalization(layer)
    y <- matrix(1:6 * 1, 3, 2)
    y[1, 1] <- value
    expect_error_keeps_state(layer, b$inverse(y), "bijectors_error_nonfinite")
    expect_identical(layer$built, FALSE)
    expect_null(layer$moving_mean)
  }
})

test_that("validate_args = TRUE refuses non-finite input everywhere", {
  s <- built_setup()
  checked_train <- tfb_batch_normalization(s$layer, validate_args = TRUE)
  checked_eval <- tfb_batch_normalization(s$layer, training = FALSE,
                                          validate_args = TRUE)
  for (value in list(NA, NaN, Inf, -Inf)) {
    y <- s$y
    y[1, 3] <- value
    expect_error_keeps_state(s$layer, checked_eval$inverse(y),
                             "bijectors_error_nonfinite")
    expect_error_keeps_state(s$layer, checked_eval$forward(y),
                             "bijectors_error_nonfinite")
    expect_error_keeps_state(s$layer, checked_train$forward(y),
                             "bijectors_error_nonfinite")
    expect_error_keeps_state(s$layer, checked_train$inverse(y),
                             "bijectors_error_nonfinite")
  }
})

test_that("validate_args = TRUE refuses a non-positive gamma", {
  s <- built_setup()
  w <- get_weights(s$layer)
  w$gamma[2] <- -0.5
  set_weights(s$layer, w)
  checked <- tfb_batch_normalization(s$layer, training = FALSE,
                                     validate_args = TRUE)
  expect_error_keeps_state(s$layer, checked$forward(s$y), "bijectors_error")
  expect_error_keeps_state(s$layer, checked$inverse(s$y), "bijectors_error")
  # Without validation the same call goes through.
  expect_no_error(s$evaluate$inverse(s$y))
})

# ---- messages ---------------------------------------------------------------

test_that("error messages name the argument", {
  s <- built_setup()
  expect_snapshot(error = TRUE, layer_batch_normalization(momentum = 1.5))
  expect_snapshot(error = TRUE, layer_batch_normalization(epsilon = -1))
  expect_snapshot(error = TRUE, layer_batch_normalization(axis = 0))
  expect_snapshot(error = TRUE, layer_batch_normalization(renorm = TRUE))
  expect_snapshot(error = TRUE, layer_batch_normalization(
    gamma_initializer = "glorot_uniform"
  ))
  expect_snapshot(error = TRUE, tfb_batch_normalization(list()))
  expect_snapshot(error = TRUE, s$train$inverse("a"))
  expect_snapshot(error = TRUE, s$train$inverse(matrix(1, 2, 4)))
  expect_snapshot(error = TRUE, s$train$inverse_log_det_jacobian(s$y, 0))
  expect_snapshot(error = TRUE, s$train$inverse(matrix(c(1, NA), 2, 3)))
  expect_snapshot(error = TRUE, s$train$inverse(matrix(numeric(0), 0, 3)))
})

test_that("a failed first call leaves an unbuilt layer unbuilt", {
  layer <- layer_batch_normalization()
  train <- tfb_batch_normalization(layer)
  evaluate <- tfb_batch_normalization(layer, training = FALSE)
  y <- matrix(rnorm(6), 3, 2)
  for (b in list(train, evaluate)) {
    expect_error_keeps_state(layer, b$inverse_log_det_jacobian(y, 0),
                             "bijectors_error_event_ndims")
    expect_error_keeps_state(layer, b$forward_log_det_jacobian(y, 3),
                             "bijectors_error_event_ndims")
    expect_error_keeps_state(layer, b$inverse_log_det_jacobian(y),
                             "bijectors_error_event_ndims")
  }
  expect_identical(layer$built, FALSE)

  # validate_args = TRUE: a non-positive initial gamma is refused at build
  # time, and the layer is left unbuilt.
  negative <- layer_batch_normalization(gamma_initializer = -1)
  checked <- tfb_batch_normalization(negative, training = FALSE,
                                     validate_args = TRUE)
  expect_error_keeps_state(negative, checked$forward(y), "bijectors_error")
  expect_error_keeps_state(negative, checked$inverse(y), "bijectors_error")
  checked_train <- tfb_batch_normalization(negative, validate_args = TRUE)
  expect_error_keeps_state(negative, checked_train$inverse(y),
                           "bijectors_error")
  expect_identical(negative$built, FALSE)
})
