# trainable_parameters() and `trainable_parameters<-`: names in a stable
# order, copies that never change behind the caller's back, checked
# replacement that changes nothing on error, and round trips.

# A chain with every trainable kind, built on 20 x 3 data.
parameter_flow <- function(seed = 421) {
  set.seed(seed)
  maf_template <- tfb_masked_autoregressive_default_template(
    c(5, 5), activation = "tanh")
  nvp_template <- tfb_real_nvp_default_template(c(4), activation = "tanh")
  layer <- layer_batch_normalization(momentum = 0.9)
  td <- tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = c(0, 0, 0)),
    tfb_chain(list(
      tfb_shift(c(1, 2, 3)),
      tfb_scale(c(0.5, 2, 1.5)),
      tfb_batch_normalization(layer),
      tfb_masked_autoregressive_flow(maf_template),
      tfb_permute(c(2L, 3L, 1L)),
      tfb_real_nvp(1L, nvp_template),
      tfb_scale(log_scale = c(0.1, -0.2, 0.3), name = "log_scale")
    )))
  x <- matrix(rnorm(60), 20, 3)
  td$log_prob(x)
  list(td = td, x = x, layer = layer, maf_template = maf_template,
       nvp_template = nvp_template)
}

test_that("names are prefixed by position and member name, in chain order", {
  case <- parameter_flow()
  p <- trainable_parameters(case$td)
  expect_type(p, "list")
  nm <- names(p)
  expect_false(anyDuplicated(nm) > 0)
  expect_identical(nm[1:4], c("1_shift/shift", "2_scale/scale",
                              "3_batch_normalization/gamma",
                              "3_batch_normalization/beta"))
  expect_identical(nm[length(nm)], "7_log_scale/log_scale")
  maf <- nm[startsWith(nm, "4_masked_autoregressive_flow/")]
  nvp <- nm[startsWith(nm, "6_")]
  # three layers of kernels and biases each for the MAF, two for the NVP
  expect_length(maf, 6L)
  expect_length(nvp, 4L)
  expect_identical(nm, c(nm[1:4], maf, nvp, nm[length(nm)]))
  # stable: the same names in the same order after training and saving
  loss_and_gradient(case$td, case$x)
  expect_identical(names(trainable_parameters(case$td)), nm)
  expect_identical(names(trainable_parameters(round_trip_rds_flow(case$td))),
                   nm)
  # a bijector gives the same list as the distribution made from it
  expect_identical(trainable_parameters(case$td$bijector),
                   trainable_parameters(case$td))
})

test_that("values are those of the bijectors, layers and templates", {
  case <- parameter_flow(seed = 422)
  p <- trainable_parameters(case$td)
  expect_identical(p[["1_shift/shift"]], c(1, 2, 3))
  expect_identical(p[["2_scale/scale"]], c(0.5, 2, 1.5))
  expect_identical(p[["7_log_scale/log_scale"]], c(0.1, -0.2, 0.3))
  w <- get_weights(case$layer)
  expect_identical(p[["3_batch_normalization/gamma"]], w$gamma)
  expect_identical(p[["3_batch_normalization/beta"]], w$beta)
  maf <- p[startsWith(names(p), "4_")]
  maf_params <- template_params(case$maf_template)
  expect_equal(unname(maf[vapply(maf, is.matrix, logical(1))]),
               maf_params$kernels)
  expect_equal(unname(maf[!vapply(maf, is.matrix, logical(1))]),
               maf_params$biases)
  nvp <- p[startsWith(names(p), "6_")]
  nvp_params <- template_params(case$nvp_template)
  expect_equal(unname(nvp[vapply(nvp, is.matrix, logical(1))]),
               nvp_params$kernels)
  expect_true(all(vapply(p, is.double, logical(1))))
})

test_that("a bijector without parameters has an empty list", {
  expect_length(trainable_parameters(tfb_permute(c(2L, 1L))), 0L)
  expect_length(trainable_parameters(tfb_identity()), 0L)
  expect_length(trainable_parameters(tfd_multivariate_normal_diag(c(0, 0))),
                0L)
})

test_that("values are copies: changing them, a setter or fit() leaves a held copy alone", {
  case <- parameter_flow(seed = 423)
  held <- trainable_parameters(case$td)
  snapshot <- unserialize(serialize(held, NULL))
  mine <- trainable_parameters(case$td)
  mine[["1_shift/shift"]][1] <- 100
  mine[[5]][] <- 0
  expect_identical(trainable_parameters(case$td), snapshot)

  # values passed in are copied too: training does not write into them
  given <- randomize_parameters(case$td)
  given_snapshot <- unserialize(serialize(given, NULL))
  loss_and_gradient(case$td, case$x)
  fit(case$td, case$x, epochs = 2, batch_size = 10, verbose = FALSE)
  expect_identical(held, snapshot)
  expect_identical(given, given_snapshot)
  expect_false(identical(trainable_parameters(case$td), given))
  # nor do layer fields read with `$`
  gamma <- case$layer$gamma
  gamma_snapshot <- gamma + 0
  fit(case$td, case$x, epochs = 1, batch_size = 10, verbose = FALSE)
  expect_identical(gamma, gamma_snapshot)
})

test_that("the replacement round-trips and changes the model", {
  case <- parameter_flow(seed = 424)
  p <- trainable_parameters(case$td)
  lp <- case$td$log_prob(case$x)
  trainable_parameters(case$td) <- p
  expect_identical(trainable_parameters(case$td), p)
  # in another order of names: matched by name
  trainable_parameters(case$td) <- rev(p)
  expect_identical(trainable_parameters(case$td), p)

  set.seed(425)
  new <- lapply(p, function(v) {
    v[] <- v + runif(length(v), 0.1, 0.2)
    v
  })
  trainable_parameters(case$td) <- new
  got <- trainable_parameters(case$td)
  for (name in names(p)) {
    if (startsWith(name, "4_") && is.matrix(p[[name]])) next
    expect_identical(got[[name]], new[[name]])
  }
  expect_identical(case$td$bijector$bijectors[[1]]$forward(c(0, 0, 0)),
                   new[["1_shift/shift"]])
  expect_identical(get_weights(case$layer)$beta,
                   new[["3_batch_normalization/beta"]])

  # kernel entries outside the MADE mask are set to 0
  masks <- template_masks(case$maf_template)
  maf_kernels <- names(p)[startsWith(names(p), "4_") &
                            vapply(p, is.matrix, logical(1))]
  for (k in seq_along(masks)) {
    expect_identical(got[[maf_kernels[[k]]]],
                     new[[maf_kernels[[k]]]] * masks[[k]])
  }
  expect_equal(template_params(case$maf_template)$kernels,
               unname(got[maf_kernels]))
  # plain vectors of the right length are accepted for matrices
  flat <- lapply(new, as.vector)
  trainable_parameters(case$td) <- flat
  expect_identical(trainable_parameters(case$td), got)
  expect_false(isTRUE(all.equal(case$td$log_prob(case$x), lp)))
  # the replacement function returns the object
  expect_identical(`trainable_parameters<-`(case$td, value = p), case$td)
})

test_that("the replacement checks names, lengths and finiteness; nothing changes on error", {
  case <- parameter_flow(seed = 426)
  td <- case$td
  p <- trainable_parameters(td)
  before <- p
  weights <- get_weights(case$layer)
  expect_unchanged <- function() {
    expect_identical(trainable_parameters(td), before)
    expect_identical(get_weights(case$layer), weights)
  }
  # every element but the last is valid and would be set first
  bad <- p
  bad[["7_log_scale/log_scale"]] <- c(1, NA, 2)
  bad[["1_shift/shift"]] <- c(9, 9, 9)
  expect_error(trainable_parameters(td) <- bad,
               class = "bijectors_error_argument")
  expect_unchanged()
  bad[["7_log_scale/log_scale"]] <- c(1, Inf, 2)
  expect_error(trainable_parameters(td) <- bad,
               class = "bijectors_error_argument")
  bad[["7_log_scale/log_scale"]] <- c(1, NaN, 2)
  expect_error(trainable_parameters(td) <- bad,
               class = "bijectors_error_argument")
  bad[["7_log_scale/log_scale"]] <- c(1, 2)
  expect_error(trainable_parameters(td) <- bad,
               class = "bijectors_error_argument")
  bad[["7_log_scale/log_scale"]] <- c("1", "2", "3")
  expect_error(trainable_parameters(td) <- bad,
               class = "bijectors_error_argument")
  expect_unchanged()
  # names: one missing, one extra, one renamed, none
  expect_error(trainable_parameters(td) <- p[-2],
               class = "bijectors_error_argument")
  expect_error(trainable_parameters(td) <- c(p, list(extra = 1)),
               class = "bijectors_error_argument")
  renamed <- p
  names(renamed)[1] <- "shift"
  expect_error(trainable_parameters(td) <- renamed,
               class = "bijectors_error_argument")
  expect_error(trainable_parameters(td) <- unname(p),
               class = "bijectors_error_argument")
  expect_error(trainable_parameters(td) <- unlist(p),
               class = "bijectors_error_argument")
  expect_error(trainable_parameters(td) <- c(p, p),
               class = "bijectors_error_argument")
  expect_unchanged()
  # a MADE kernel of the wrong size
  maf_kernel <- names(p)[startsWith(names(p), "4_") &
                           vapply(p, is.matrix, logical(1))][1]
  bad <- p
  bad[[maf_kernel]] <- bad[[maf_kernel]][, -1]
  expect_error(trainable_parameters(td) <- bad,
               class = "bijectors_error_argument")
  expect_unchanged()
  expect_snapshot(trainable_parameters(td) <- p[-2], error = TRUE)
})

test_that("unbuilt flows and other objects are refused with classed errors", {
  maf <- tfb_masked_autoregressive_flow(
    tfb_masked_autoregressive_default_template(c(4)))
  expect_error(trainable_parameters(maf), class = "bijectors_error_not_built")
  expect_error(trainable_parameters(tfb_batch_normalization()),
               class = "bijectors_error_not_built")
  expect_error(trainable_parameters(maf) <- list(),
               class = "bijectors_error_not_built")
  expect_error(trainable_parameters(list(shift = 1)),
               class = "bijectors_error_argument")
  expect_error(trainable_parameters(1), class = "bijectors_error_argument")
  # a bijector with no parameter is already "built"
  expect_identical(names(trainable_parameters(tfb_shift(2))), "shift")
})

test_that("a template used twice in a flow is one parameter with the summed gradient", {
  set.seed(1)
  x <- cbind(rnorm(20), rnorm(20))
  template <- tfb_masked_autoregressive_default_template(c(3), activation = "tanh")
  flow <- tfd_transformed_distribution(
    tfd_multivariate_normal_diag(c(0, 0)),
    tfb_chain(list(tfb_masked_autoregressive_flow(template), tfb_permute(2:1),
                   tfb_masked_autoregressive_flow(template)))
  )
  flow$log_prob(x)
  parameters <- trainable_parameters(flow)
  expect_length(parameters, 4L)
  gradient <- loss_and_gradient(flow, x)$gradient
  expect_identical(names(gradient), names(parameters))
  # central difference of the loss in one bias entry, by hand
  loss_at <- function(value) {
    moved <- parameters
    moved[[2L]][[1L]] <- value
    trainable_parameters(flow) <- moved
    -mean(flow$log_prob(x))
  }
  h <- 1e-5
  start <- parameters[[2L]][[1L]]
  numeric_gradient <- (loss_at(start + h) - loss_at(start - h)) / (2 * h)
  trainable_parameters(flow) <- parameters
  expect_equal(gradient[[2L]][[1L]], numeric_gradient, tolerance = 1e-6)
})

test_that("fit() refuses one-row batches for a flow with batch normalization", {
  flow <- tfd_transformed_distribution(
    tfd_multivariate_normal_diag(c(0, 0)),
    tfb_batch_normalization()
  )
  expect_error(fit(flow, matrix(rnorm(20), ncol = 2), batch_size = 1,
                   verbose = FALSE),
               class = "bijectors_error_argument")
})
