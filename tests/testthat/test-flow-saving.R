# A whole transformed distribution (networks, batch-normalization layers)
# survives saveRDS()/readRDS(), in this process and in a new one.

# A flow with every kind of state: a MAF and a real NVP with built networks,
# batch normalization in training and in evaluation mode with moved
# statistics, permute, shift and scale.
saved_flow <- function(D = 4, seed = 161) {
  set.seed(seed)
  maf <- tfb_masked_autoregressive_flow(
    tfb_masked_autoregressive_default_template(c(8, 8), activation = "tanh"))
  nvp <- tfb_real_nvp(2, tfb_real_nvp_default_template(c(6)))
  layer1 <- layer_batch_normalization(momentum = 0.7)
  layer2 <- layer_batch_normalization()
  bn_train <- tfb_batch_normalization(layer1)
  bn_eval <- tfb_batch_normalization(layer2, training = FALSE)
  flow <- tfb_chain(list(
    maf, bn_train, tfb_permute(c(4, 1, 3, 2)), nvp, bn_eval,
    tfb_shift(c(1, 0, -1, 2)), tfb_scale(c(0.5, 2, 1, 3))))
  td <- tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = rep(0, D), scale_diag = rep(1.5, D)),
    flow)
  td$log_prob(matrix(rnorm(20 * D, 1, 2), 20, D))
  set_weights(layer2, random_weights(D))
  list(td = td, layer1 = layer1, layer2 = layer2, D = D)
}

# What the tests compare: log_prob twice (the training-mode layer moves
# between the calls), then samples under a seed, then log_prob again.
flow_outputs <- function(td, y) {
  lp1 <- td$log_prob(y)
  lp2 <- td$log_prob(y)
  set.seed(99)
  s <- td$sample(6)
  list(lp1 = lp1, lp2 = lp2, samples = s, lp3 = td$log_prob(s))
}

test_that("a transformed distribution read back in this process is identical", {
  case <- saved_flow()
  copy <- round_trip_rds_flow(case$td)
  expect_s3_class(copy, class(case$td), exact = TRUE)
  set.seed(162)
  y <- matrix(rnorm(5 * case$D), 5, case$D)
  expected <- flow_outputs(case$td, y)
  expect_identical(flow_outputs(copy, y), expected)
})

test_that("the copy's layers are independent of the original's", {
  case <- saved_flow(seed = 163)
  copy <- round_trip_rds_flow(case$td)
  before <- get_weights(case$layer1)
  copy$log_prob(matrix(rnorm(8 * case$D, 5), 8, case$D))
  expect_identical(get_weights(case$layer1), before)
})

test_that("a transformed distribution survives saveRDS() in a new process", {
  skip_on_cran()
  case <- saved_flow(seed = 164)
  set.seed(165)
  y <- matrix(rnorm(5 * case$D), 5, case$D)
  dir <- withr::local_tempdir()
  model_path <- file.path(dir, "flow.rds")
  input_path <- file.path(dir, "y.rds")
  output_path <- file.path(dir, "out.rds")
  script_path <- file.path(dir, "run.R")
  saveRDS(case$td, model_path)
  saveRDS(y, input_path)
  writeLines(c(
    "suppressPackageStartupMessages(library(bijectors))",
    sprintf("td <- readRDS(%s)", deparse(model_path)),
    sprintf("y <- readRDS(%s)", deparse(input_path)),
    "lp1 <- td$log_prob(y)",
    "lp2 <- td$log_prob(y)",
    "set.seed(99)",
    "s <- td$sample(6)",
    "out <- list(lp1 = lp1, lp2 = lp2, samples = s, lp3 = td$log_prob(s))",
    sprintf("saveRDS(out, %s)", deparse(output_path))
  ), script_path)
  expected <- flow_outputs(case$td, y)
  libs <- paste(.libPaths(), collapse = .Platform$path.sep)
  status <- system2(file.path(R.home("bin"), "Rscript"),
                    c("--vanilla", shQuote(script_path)),
                    env = paste0("R_LIBS=", shQuote(libs)),
                    stdout = TRUE, stderr = TRUE)
  expect_null(attr(status, "status"))
  expect_true(file.exists(output_path))
  expect_identical(readRDS(output_path), expected)
})

test_that("an unbuilt flow saved and read back builds the same networks", {
  set.seed(166)
  template <- tfb_masked_autoregressive_default_template(c(5))
  td <- tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = c(0, 0, 0)),
    tfb_masked_autoregressive_flow(template))
  copy <- round_trip_rds_flow(td)
  y <- matrix(rnorm(9), 3, 3)
  set.seed(167)
  a <- td$log_prob(y)
  set.seed(167)
  expect_identical(copy$log_prob(y), a)
})
