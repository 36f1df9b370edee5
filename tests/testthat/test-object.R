# The object model: public fields only, each a copy; nothing a user can
# reach (a field, a binding read with get(), a copied environment) is ever
# written into by a later training step.

every_kind_flow <- function() {
  maf_template <- tfb_masked_autoregressive_default_template(c(6, 6),
                                                             activation = "tanh")
  nvp_template <- tfb_real_nvp_default_template(c(5), activation = "relu")
  layer <- layer_batch_normalization(momentum = 0.8,
                                     gamma_constraint = function(g) pmax(g, 0.1))
  bijector <- tfb_chain(list(
    tfb_masked_autoregressive_flow(maf_template),
    tfb_batch_normalization(layer),
    tfb_permute(2:1),
    tfb_invert(tfb_scale(log_scale = c(0.1, -0.2))),
    tfb_shift(c(0.5, -0.5)),
    tfb_real_nvp(num_masked = 1, shift_and_log_scale_fn = nvp_template),
    tfb_identity(),
    tfb_scale(scale = c(1.5, 0.8))
  ))
  list(
    flow = tfd_transformed_distribution(
      tfd_multivariate_normal_diag(loc = c(0, 0), scale_diag = c(1, 1)),
      bijector),
    layer = layer, maf_template = maf_template, nvp_template = nvp_template,
    bijector = bijector
  )
}

object_data <- function(n = 120) {
  set.seed(11)
  scale(sample_two_moons(n))
}

# Every value a user can get hold of from `x`: each public field (walking
# into the objects and lists they return), and, as a hostile user would,
# every binding of every environment reached (get(), as.list.environment()).
reachable_values <- function(x, seen = new.env()) {
  out <- list()
  if (is.environment(x)) {
    if (!is.null(seen[[format.default(x)]])) {
      return(out)
    }
    for (key in ls(seen, all.names = TRUE)) {
      if (identical(seen[[key]], x)) return(out)
    }
    assign(paste0("e", length(ls(seen, all.names = TRUE))), x, envir = seen)
    if (inherits(x, c("bijector", "distribution", "layer_batch_normalization",
                      "bijectors_template"))) {
      for (name in utils:::.DollarNames(x, "")) {
        value <- x[[name]]
        out <- c(out, list(value), reachable_values(value, seen))
      }
      raw <- as.list.environment(x, all.names = TRUE)
      for (name in names(raw)) {
        out <- c(out, list(raw[[name]]), reachable_values(raw[[name]], seen))
      }
    }
    return(out)
  }
  if (is.list(x)) {
    for (element in x) {
      out <- c(out, reachable_values(element, seen))
    }
  }
  out
}

# Independent copies of the atomic parts, to compare with later.
frozen_copy <- function(values) {
  unserialize(serialize(atomic_parts(values), NULL))
}

test_that("no value a user was handed changes afterwards, for any object kind", {
  parts <- every_kind_flow()
  y <- object_data()
  history <- fit(parts$flow, y, epochs = 2, batch_size = 30,
                 learning_rate = 0.01, validation_split = 0.25,
                 patience = 3, verbose = FALSE)
  objects <- c(list(parts$flow, parts$flow$distribution, parts$bijector,
                    parts$layer, parts$maf_template, parts$nvp_template,
                    history, tfd_normal(loc = 1, scale = 2)),
               parts$bijector$bijectors)
  handed <- reachable_values(objects)
  expect_gt(length(handed), 100)
  before <- frozen_copy(handed)

  # everything that changes state: training, assignment, recomputation
  fit(parts$flow, y, epochs = 2, batch_size = 30, learning_rate = 0.05,
      verbose = FALSE)
  invisible(parts$flow$log_prob(y))
  trainable_parameters(parts$flow) <- lapply(
    trainable_parameters(parts$flow), function(p) p * 0.9)
  recompute_batch_statistics(parts$flow, y)

  expect_identical(atomic_parts(handed), before)
  # and the model did change
  expect_false(identical(frozen_copy(reachable_values(objects)), before))
})

test_that("internal state is not reachable through $, [[ or completion", {
  b <- tfb_shift(c(1, 2))
  flow <- tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = c(0, 0)), b)
  fit(flow, object_data(60), epochs = 1, verbose = FALSE)
  completions <- utils:::.DollarNames(b, "")
  expect_setequal(completions, c(
    "forward", "inverse", "forward_log_det_jacobian",
    "inverse_log_det_jacobian", "forward_event_shape", "inverse_event_shape",
    "forward_event_shape_tensor", "inverse_event_shape_tensor",
    "forward_event_ndims", "inverse_event_ndims", "forward_dtype",
    "inverse_dtype", "name", "forward_min_event_ndims",
    "inverse_min_event_ndims", "validate_args", "is_constant_jacobian",
    "trainable_variables", "dtype", "parameters", "shift"))
  for (internal in c("adam_m_parameters", "adam_v_parameters",
                     "adam_steps_parameters")) {
    expect_error(b[[internal]], class = "bijectors_error_field")
    expect_error(b$adam_m_parameters, class = "bijectors_error_field")
  }
  expect_false(any(grepl("adam|pointer|state", utils:::.DollarNames(
    flow$bijector, ""))))
  layer <- layer_batch_normalization()
  invisible(tfb_batch_normalization(layer)$inverse(object_data(20)))
  expect_error(layer$state, class = "bijectors_error_field")
  expect_error(layer$pointer, class = "bijectors_error_field")
  expect_error(flow$adam_step, class = "bijectors_error_field")
  expect_error(b[[1]], class = "bijectors_error_field")
  expect_error(b$shift <- 3, class = "bijectors_error_read_only")
  expect_error(layer[["gamma"]] <- 3, class = "bijectors_error_read_only")
})

test_that("a state list read with get() is never written through", {
  layer <- layer_batch_normalization(momentum = 0.5)
  b <- tfb_batch_normalization(layer)
  y <- object_data(40)
  invisible(b$inverse(y))
  state <- get("state", envir = layer)
  kept <- unserialize(serialize(state, NULL))
  invisible(b$inverse(y * 3 + 1))
  expect_identical(state, kept)
  expect_false(identical(layer$moving_mean, kept$moving_mean))

  shift <- tfb_shift(c(0, 0))
  flow <- tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = c(0, 0)), shift)
  parameters <- get("parameters", envir = shift)
  fit(flow, y, epochs = 1, verbose = FALSE)
  moments <- get("adam_m_parameters", envir = shift)
  kept_moments <- unserialize(serialize(moments, NULL))
  fit(flow, y, epochs = 1, verbose = FALSE)
  expect_identical(parameters, list(c(0, 0)))
  expect_identical(moments, kept_moments)
  expect_false(identical(shift$shift, c(0, 0)))
})

test_that("a copied environment does not share its state with the original", {
  # what rlang::env_clone() does: the same bindings in a new environment
  clone_environment <- function(x) {
    clone <- list2env(as.list.environment(x, all.names = TRUE),
                      parent = emptyenv())
    attributes(clone) <- attributes(x)
    clone
  }
  layer <- layer_batch_normalization(momentum = 0.5)
  y <- object_data(40)
  invisible(tfb_batch_normalization(layer)$inverse(y))
  original <- get_weights(layer)
  clone <- clone_environment(layer)
  invisible(tfb_batch_normalization(clone)$inverse(y * 2 + 5))
  expect_identical(get_weights(layer), original)
  expect_false(identical(get_weights(clone), original))
  # and training the original leaves the clone alone
  cloned <- get_weights(clone)
  invisible(tfb_batch_normalization(layer)$inverse(y - 3))
  expect_identical(get_weights(clone), cloned)

  shift <- tfb_shift(c(0, 0))
  twin <- clone_environment(shift)
  fit(tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = c(0, 0)), twin), y + 2,
    epochs = 1, learning_rate = 0.1, verbose = FALSE)
  expect_identical(shift$shift, c(0, 0))
  expect_false(identical(twin$shift, c(0, 0)))
})

test_that("summary(), as.list() and [[ of every object kind", {
  parts <- every_kind_flow()
  invisible(parts$flow$log_prob(object_data(30)))
  for (x in list(parts$layer, parts$maf_template, parts$nvp_template,
                 parts$flow, parts$bijector, parts$flow$distribution,
                 tfd_normal(0, 1))) {
    fields <- as.list(x)
    expect_type(fields, "list")
    expect_true(length(fields) > 0)
    expect_identical(fields[["name"]], x$name)
    s <- summary(x)
    expect_s3_class(s, "bijectors_summary")
    expect_identical(s$fields, names(fields))
    out <- capture.output(print(s))
    expect_identical(out[[1L]], format(x)[[1L]])
    expect_true(any(grepl("^Fields: ", out)))
  }
  fields <- as.list(parts$layer)
  expect_identical(fields$moving_mean, parts$layer$moving_mean)
  expect_true(fields$built)
  expect_identical(names(as.list(tfb_shift(1))),
                   c("name", "forward_min_event_ndims",
                     "inverse_min_event_ndims", "validate_args",
                     "is_constant_jacobian", "trainable_variables", "dtype",
                     "parameters", "shift"))
  expect_error(parts$layer[[1]], "field or method \\(a string\\)",
               class = "bijectors_error_field")
})

test_that("every bijector method is reached by `$` and gives the function's result", {
  b <- tfb_chain(list(tfb_shift(1), tfb_scale(2)))
  for (method in bijectors:::bijector_methods) {
    expect_true(is.function(eval(call("$", b, method))), info = method)
  }
  y <- matrix(c(1, -2, 3.5, 0.25), 2, 2)
  expect_identical(b$inverse(y), (y - 1) / 2)
  expect_identical(b$forward(y), 2 * y + 1)
  expect_equal(b$forward_log_det_jacobian(y, event_ndims = 1),
               2 * log(2))
  expect_identical(b$forward_event_shape(c(3L, 2L)), c(3L, 2L))
  # a field read through `$` and a name that is neither
  expect_identical(b$name, "chain_of_shift_of_scale")
  expect_error(b$no_such_thing, class = "bijectors_error_field")
})

test_that("the permutation's inverse undoes it on every axis layout", {
  set.seed(7)
  for (d in c(1L, 2L, 5L, 9L)) {
    p <- sample.int(d)
    b <- tfb_permute(p)
    x <- matrix(rnorm(3 * d), 3, d)
    expect_identical(b$forward(x), x[, p, drop = FALSE])
    expect_identical(b$inverse(b$forward(x)), x)
    rows <- tfb_permute(p, axis = -2)
    z <- matrix(rnorm(2 * d), d, 2)
    expect_identical(rows$inverse(z), z[order(p), , drop = FALSE])
  }
})

# TFP's Bijector.is_constant_jacobian; the conformance table checks it for
# every kind, these the composites' rule and the user's promises.
test_that("every bijector has is_constant_jacobian, TFP's property", {
  # Composition: all of its parts'; an empty chain is the identity
  expect_true(tfb_chain()$is_constant_jacobian)
  expect_true(tfb_chain(list(tfb_shift(1), tfb_chain(list(
    tfb_scale(2), tfb_permute(2:1)))))$is_constant_jacobian)
  expect_false(tfb_chain(list(tfb_shift(1), tfb_exp()))$is_constant_jacobian)
  expect_true(tfb_invert(tfb_scale_matvec_diag(c(2, 3)))$is_constant_jacobian)
  expect_false(tfb_invert(tfb_softplus())$is_constant_jacobian)
  expect_true(tfb_blockwise(list(tfb_shift(1), tfb_scale(2)),
                            c(1, 2))$is_constant_jacobian)
  expect_false(tfb_blockwise(list(tfb_shift(1), tfb_exp()),
                             c(1, 2))$is_constant_jacobian)
  expect_true(tfb_transform_diagonal(tfb_shift(1))$is_constant_jacobian)
  expect_false(tfb_transform_diagonal(tfb_exp())$is_constant_jacobian)
  # FillScaleTriL is a Chain of TransformDiagonal(diag_bijector) and
  # FillTriangular
  expect_false(tfb_fill_scale_tri_l()$is_constant_jacobian)
  expect_true(tfb_fill_scale_tri_l(tfb_identity(),
                                   diag_shift = NULL)$is_constant_jacobian)
  # the user's promise
  template <- tfb_masked_autoregressive_default_template(c(4L))
  expect_false(tfb_masked_autoregressive_flow(template)$is_constant_jacobian)
  expect_true(tfb_masked_autoregressive_flow(
    template, is_constant_jacobian = TRUE)$is_constant_jacobian)
  expect_true(tfb_real_nvp(1, tfb_real_nvp_default_template(c(4L)),
                           is_constant_jacobian = TRUE)$is_constant_jacobian)
  expect_false(tfb_inline(forward_fn = exp,
                          forward_min_event_ndims = 0)$is_constant_jacobian)
  expect_true(tfb_inline(forward_fn = function(x) 2 * x,
                         is_constant_jacobian = TRUE,
                         forward_min_event_ndims = 0)$is_constant_jacobian)
  # TFP does not declare these, although their log-dets are constant
  expect_false(tfb_absolute_value()$is_constant_jacobian)
  expect_false(tfb_activation_normalization(2)$is_constant_jacobian)
  # a field like the others: listed, read with [[, and read-only
  b <- tfb_shift(c(1, 2))
  expect_true(b[["is_constant_jacobian"]])
  expect_true("is_constant_jacobian" %in% names(as.list(b)))
  expect_true("is_constant_jacobian" %in% summary(b)$fields)
  expect_error(b$is_constant_jacobian <- FALSE,
               class = "bijectors_error_read_only")
  expect_true(b$is_constant_jacobian)
  expect_identical(sum(names(as.list(tfb_real_nvp(
    1, tfb_real_nvp_default_template(c(4L))))) == "is_constant_jacobian"), 1L)
})

# TFP's other public members that tfprobability code reads from a bijector.
test_that("trainable_variables, the _tensor shapes and the event ndims methods", {
  # trainable_variables: trainable_parameters() of what exists so far
  set.seed(3)
  maf <- tfb_masked_autoregressive_flow(
    tfb_masked_autoregressive_default_template(c(4L)))
  expect_identical(maf$trainable_variables, setNames(list(), character()))
  expect_true("trainable_variables" %in% names(as.list(maf)))
  invisible(maf$inverse(matrix(c(0.1, 0.2, -0.3, 0.4, 0.5, -0.6), 2, 3)))
  expect_identical(maf$trainable_variables, trainable_parameters(maf))
  expect_identical(names(maf$trainable_variables),
                   c("layer1/kernel", "layer1/bias", "layer2/kernel",
                     "layer2/bias"))
  chain <- tfb_chain(list(tfb_shift(c(1, 2)), tfb_exp(),
                          tfb_scale(log_scale = 0.5)))
  expect_identical(chain$trainable_variables,
                   list(`1_shift/shift` = c(1, 2),
                        `3_scale/log_scale` = 0.5))
  expect_identical(tfb_exp()$trainable_variables,
                   setNames(list(), character()))
  # a copy: changing it changes nothing
  held <- chain$trainable_variables
  held[[1]][1] <- 100
  # (the chain applies the last member first: exp(0 * e^0.5) + shift)
  expect_identical(chain$forward(c(0, 0)), c(2, 3))
  expect_identical(chain$trainable_variables[[1]], c(1, 2))

  # the _tensor forms are the same shapes
  reshape <- tfb_reshape(c(2, 3))
  expect_identical(reshape$forward_event_shape_tensor(6), c(2L, 3L))
  expect_identical(reshape$inverse_event_shape_tensor(c(2, 3)), 6L)

  # event ndims after the map: TFP's rule, event_ndims plus the change of
  # rank (fill_triangular: vectors to matrices)
  fill <- tfb_fill_triangular()
  expect_identical(fill$forward_event_ndims(1), 2L)
  expect_identical(fill$forward_event_ndims(3), 4L)
  expect_identical(fill$inverse_event_ndims(2), 1L)
  expect_identical(tfb_exp()$forward_event_ndims(0), 0L)
  # a 2 x 3 event flattened to 6 values, then filled into a 3 x 3 matrix
  flatten_fill <- tfb_chain(list(fill, tfb_reshape(6, event_shape_in = c(2, 3))))
  expect_identical(flatten_fill$forward_event_ndims(2), 2L)
  expect_identical(flatten_fill$forward_event_ndims(3), 3L)
  expect_identical(dim(flatten_fill$forward(array(1:24, c(4, 2, 3)))),
                   c(4L, 3L, 3L))
  expect_error(fill$inverse_event_ndims(1), "at least the bijector's inverse minimum event ndims \\(2\\)",
               class = "bijectors_error_event_ndims")
  expect_error(fill$forward_event_ndims(1.5), class = "bijectors_error_event_ndims")
  expect_error(fill$forward_event_ndims(NA), class = "bijectors_error_event_ndims")
  split <- tfb_split(c(1, 2))
  expect_identical(split$forward_event_ndims(2), c(2L, 2L))
  expect_identical(split$inverse_event_ndims(c(1, 1)), 1L)
  expect_error(split$inverse_event_ndims(c(1, 2)), "all the same number above it",
               class = "bijectors_error_event_ndims")
  expect_error(split$inverse_event_ndims(1), "2 whole numbers",
               class = "bijectors_error_event_ndims")
})
