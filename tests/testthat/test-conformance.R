# One row per kind of bijector; expect_conformance() (helper-conformance.R)
# runs every check of DESIGN 11 on each: round trips, log-dets against
# numerical Jacobians, ildj = -fldj, the event_ndims rule and its errors,
# gradients in both directions against central differences, saving alone
# and in a chain, refused inputs that change nothing, fields that are
# copies, integer input, and a print snapshot.

conformance_matrix <- function(n = 6, d = 3, seed = 1) {
  set.seed(seed)
  matrix(rnorm(n * d), n, d) %*% diag(seq(0.8, 1.6, length.out = d)) +
    matrix(seq_len(d) * 0.3, n, d, byrow = TRUE)
}

# inputs of the CDF kinds' domains, [0, Inf) and [0, 1] (group B)
positive_matrix <- function() {
  set.seed(2)
  matrix(runif(18, 0.2, 2), 6, 3)
}

unit_matrix <- function() {
  set.seed(3)
  matrix(runif(18, 0.1, 0.9), 6, 3)
}

maf <- function(shift_only = FALSE) {
  tfb_masked_autoregressive_flow(tfb_masked_autoregressive_default_template(
    c(5, 5), shift_only = shift_only, activation = "tanh"))
}

nvp <- function() {
  tfb_real_nvp(num_masked = 1, shift_and_log_scale_fn =
                 tfb_real_nvp_default_template(c(4), activation = "tanh"))
}

maf_spline <- function() {
  set.seed(22)
  tfb_masked_autoregressive_flow(tfb_masked_autoregressive_spline_template(
    c(6, 6), num_bins = 3, range_min = -2.5, range_max = 3.5,
    activation = "tanh"))
}

# a batch-normalization bijector whose layer has seen data
trained_batch_norm <- function(training) {
  layer <- layer_batch_normalization(momentum = 0.5, epsilon = 0.01)
  invisible(tfb_batch_normalization(layer)$inverse(conformance_matrix(40)))
  tfb_batch_normalization(layer, training = training)
}

# The unpadded positions of a padded event of dims `dims` (in R's order):
# the free coordinates of tfb_pad()'s output.
pad_free_coordinates <- function(paddings, axis = -rev(seq_along(paddings))) {
  function(dims) {
    positions <- array(seq_len(prod(dims)), dims)
    for (i in seq_along(axis)) {
      along <- length(dims) + 1L + axis[[i]]
      keep <- (paddings[[i]][[1L]] + 1L):(dims[[along]] - paddings[[i]][[2L]])
      subscripts <- rep(list(quote(expr = )), length(dims))
      subscripts[[along]] <- keep
      positions <- do.call(`[`, c(list(positions), subscripts,
                                  list(drop = FALSE)))
    }
    as.vector(positions)
  }
}

conformance_rows <- list(
  conformance_row("identity", function() tfb_identity(), conformance_matrix),
  conformance_row("shift", function() tfb_shift(c(0.5, -1, 2)),
                  conformance_matrix),
  conformance_row("shift scalar", function() tfb_shift(-0.7),
                  function() array(conformance_matrix(), c(2, 3, 3))),
  conformance_row("scale", function() tfb_scale(c(1.5, -0.5, 2)),
                  conformance_matrix),
  conformance_row("scale log_scale", function() tfb_scale(log_scale = c(0.3, -0.2, 0.1)),
                  conformance_matrix),
  conformance_row("exp", function() tfb_exp(), conformance_matrix),
  # elementwise kinds without parameters (group A)
  conformance_row("expm1", function() tfb_expm1(), conformance_matrix),
  conformance_row("reciprocal", function() tfb_reciprocal(), function() {
    set.seed(11)
    matrix(sample(c(-1, 1), 18, TRUE) * runif(18, 0.5, 2), 6, 3)
  }),
  conformance_row("sinh", function() tfb_sinh(), conformance_matrix),
  conformance_row("softsign", function() tfb_softsign(), conformance_matrix),
  conformance_row("square", function() tfb_square(), function() {
    set.seed(12)
    matrix(runif(18, 0.2, 2), 6, 3)
  }),
  conformance_row("tanh", function() tfb_tanh(), conformance_matrix),
  conformance_row("normal_cdf", function() tfb_normal_cdf(), conformance_matrix),
  # not injective: the inverse is a list of both branches
  conformance_row("absolute_value", function() tfb_absolute_value(),
                  conformance_matrix, exact = FALSE, per_event = FALSE,
                  gradients = character(), injective = FALSE),
  conformance_row("sigmoid", function() tfb_sigmoid(), conformance_matrix),
  # elementwise CDF kinds (group B)
  conformance_row("sigmoid with low and high",
                  function() tfb_sigmoid(low = c(-3, 0, 5), high = 12),
                  conformance_matrix),
  conformance_row("gumbel_cdf",
                  function() tfb_gumbel_cdf(c(0.3, 0, 1), c(3, 1.5, 2.5)),
                  conformance_matrix),
  conformance_row("gumbel (deprecated), scalar parameters",
                  function() suppressMessages(tfb_gumbel(0.3, 2)),
                  conformance_matrix),
  conformance_row("weibull_cdf",
                  function() tfb_weibull_cdf(c(1.5, 0.8, 2), c(2, 0.7, 1.3)),
                  positive_matrix),
  conformance_row("weibull (deprecated), scalar parameters",
                  function() suppressMessages(tfb_weibull(1.5, 2)),
                  positive_matrix),
  conformance_row("rayleigh_cdf", function() tfb_rayleigh_cdf(c(1, 0.5, 2)),
                  positive_matrix),
  conformance_row("gompertz_cdf",
                  function() tfb_gompertz_cdf(c(0.3, 1, 0.5), c(1, 0.5, 0.8)),
                  positive_matrix),
  conformance_row("shifted_gompertz_cdf",
                  function() tfb_shifted_gompertz_cdf(c(0.5, 0.2, 2),
                                                      c(2, 1, 0.5)),
                  positive_matrix),
  conformance_row("kumaraswamy_cdf",
                  function() tfb_kumaraswamy_cdf(c(2, 0.5, 1.3), c(0.3, 1.1, 2)),
                  unit_matrix),
  conformance_row("kumaraswamy (deprecated), scalar parameters",
                  function() suppressMessages(tfb_kumaraswamy(2, 0.3)),
                  unit_matrix),
  # other elementwise kinds with parameters (group C)
  conformance_row("permute", function() tfb_permute(c(3, 1, 2)),
                  conformance_matrix),
  conformance_row("reshape", function() tfb_reshape(c(3, 2), 6),
                  function() conformance_matrix(d = 6), gradients = character()),
  conformance_row("invert of scale", function() tfb_invert(tfb_scale(c(2, 3, 0.5))),
                  conformance_matrix),
  conformance_row("chain", function() {
    tfb_chain(list(tfb_shift(c(1, 2, 3)), tfb_permute(c(2, 3, 1)),
                   tfb_scale(log_scale = c(0.2, -0.1, 0.4))))
  }, conformance_matrix),
  conformance_row("batch normalization, evaluation",
                  function() trained_batch_norm(FALSE), conformance_matrix),
  conformance_row("batch normalization, training",
                  function() trained_batch_norm(TRUE), conformance_matrix,
                  exact = FALSE, per_event = FALSE, gradients = "inverse"),
  conformance_row("masked autoregressive flow", maf, conformance_matrix,
                  tolerance = 1e-7),
  conformance_row("masked autoregressive flow, shift only",
                  function() maf(TRUE), conformance_matrix, tolerance = 1e-7),
  conformance_row("inverse autoregressive flow", function() tfb_invert(maf()),
                  conformance_matrix, tolerance = 1e-7),
  conformance_row("real NVP", nvp, conformance_matrix, tolerance = 1e-7),
  conformance_row("chain of flows", function() {
    tfb_chain(list(nvp(), tfb_permute(c(3, 2, 1)), trained_batch_norm(FALSE),
                   tfb_invert(tfb_scale(c(1.2, 0.8, 1.1)))))
  }, conformance_matrix, tolerance = 1e-7),
  conformance_row("invert of a real NVP", function() tfb_invert(nvp()),
                  conformance_matrix, tolerance = 1e-7),
  # structural bijectors (structural-1)
  conformance_row("cumsum", function() tfb_cumsum(), conformance_matrix),
  conformance_row("cumsum along axis -2", function() tfb_cumsum(axis = -2),
                  function() array(conformance_matrix(n = 12), c(3, 4, 3))),
  conformance_row("ascending", function() tfb_ascending(), conformance_matrix),
  conformance_row("ordered", function() suppressMessages(tfb_ordered()),
                  function() {
                    t(apply(conformance_matrix(), 1L, function(row) {
                      cumsum(c(row[[1L]], exp(row[-1L])))
                    }))
                  }, integer_input = FALSE),
  conformance_row("transpose", function() tfb_transpose(perm = c(2, 1)),
                  function() array(conformance_matrix(n = 12), c(6, 2, 3))),
  conformance_row("transpose of three axes",
                  function() tfb_transpose(perm = c(3, 1, 2)),
                  function() array(conformance_matrix(n = 16, d = 3),
                                   c(2, 2, 3, 4))),
  conformance_row("pad", function() tfb_pad(), conformance_matrix,
                  gradients = "inverse",
                  free_coordinates = pad_free_coordinates(list(c(0, 1)))),
  conformance_row("pad reflect", function() {
    tfb_pad(list(c(2, 1)), mode = "reflect")
  }, conformance_matrix, gradients = "inverse",
  free_coordinates = pad_free_coordinates(list(c(2, 1)))),
  conformance_row("pad of two axes, symmetric", function() {
    tfb_pad(list(c(1, 2), c(2, 0)), mode = "SYMMETRIC", axis = c(-1, -2))
  }, function() array(conformance_matrix(n = 12), c(3, 4, 3)),
  free_coordinates = pad_free_coordinates(list(c(1, 2), c(2, 0)),
                                          axis = c(-1, -2))),
  conformance_row("softmax centered", function() tfb_softmax_centered(),
                  conformance_matrix, gradients = "inverse", volume = TRUE),
  conformance_row("iterated sigmoid centered",
                  function() tfb_iterated_sigmoid_centered(),
                  conformance_matrix, gradients = "inverse",
                  free_coordinates = function(dims) seq_len(dims - 1L)),
  # linear and flows (linear-L2): a spline per feature on [-2, 3] (some
  # inputs in the identity tails), and one spline shared by every feature
  conformance_row("rational quadratic spline, per feature", function() {
    tfb_rational_quadratic_spline(
      rbind(c(1, 2, 1, 1), c(0.5, 1.5, 2, 1), c(2, 1, 1, 1)),
      rbind(c(2, 1, 1, 1), c(1, 1, 1, 2), c(0.5, 0.5, 3, 1)),
      rbind(c(0.5, 2, 1), c(1, 0.7, 1.5), c(3, 1, 0.4)), range_min = -2)
  }, conformance_matrix),
  conformance_row("rational quadratic spline, shared", function() {
    tfb_rational_quadratic_spline(c(1, 2, 1, 1), c(2, 1, 1.5, 0.5),
                                  c(0.5, 2, 1.2), range_min = -1.5)
  }, conformance_matrix),
  # a neural spline coupling layer: real NVP with a spline template
  conformance_row("real NVP with a spline template", function() {
    set.seed(21)
    tfb_real_nvp(num_masked = -1, shift_and_log_scale_fn =
                   tfb_real_nvp_spline_template(c(4), num_bins = 3,
                                                range_min = -2.5,
                                                range_max = 3.5,
                                                activation = "tanh"))
  }, conformance_matrix, tolerance = 1e-7),
  # neural spline autoregressive flows: MAF and its inverse (IAF)
  conformance_row("masked autoregressive flow with a spline template",
                  function() maf_spline(), conformance_matrix,
                  tolerance = 1e-7),
  conformance_row("inverse autoregressive flow with a spline template",
                  function() tfb_invert(maf_spline()), conformance_matrix,
                  tolerance = 1e-7)
)

for (row in conformance_rows) {
  test_that(sprintf("conformance: %s", row$name), {
    b <- expect_conformance(row)
    expect_snapshot(print(b))
  })
}
