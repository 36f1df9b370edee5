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

maf <- function(shift_only = FALSE) {
  tfb_masked_autoregressive_flow(tfb_masked_autoregressive_default_template(
    c(5, 5), shift_only = shift_only, activation = "tanh"))
}

nvp <- function() {
  tfb_real_nvp(num_masked = 1, shift_and_log_scale_fn =
                 tfb_real_nvp_default_template(c(4), activation = "tanh"))
}

# a batch-normalization bijector whose layer has seen data
trained_batch_norm <- function(training) {
  layer <- layer_batch_normalization(momentum = 0.5, epsilon = 0.01)
  invisible(tfb_batch_normalization(layer)$inverse(conformance_matrix(40)))
  tfb_batch_normalization(layer, training = training)
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
  conformance_row("sigmoid", function() tfb_sigmoid(), conformance_matrix),
  # elementwise CDF kinds (group B)
  conformance_row("sigmoid with low and high",
                  function() tfb_sigmoid(low = c(-3, 0, 5), high = 12),
                  conformance_matrix),
  # other elementwise kinds with parameters (group C)
  conformance_row("sinh_arcsinh",
                  function() tfb_sinh_arcsinh(c(0.2, -0.5, 1), c(2, 0.7, 1.3)),
                  conformance_matrix),
  conformance_row("sinh_arcsinh scalar",
                  function() tfb_sinh_arcsinh(-0.3, 1.5),
                  function() array(conformance_matrix(), c(2, 3, 3))),
  # inputs not far below the hinge, where the inverse's central
  # differences would lose accuracy
  conformance_row("softplus",
                  function() tfb_softplus(c(1.5, -0.7, 1.2), c(0.5, -1, 2)),
                  function() {
                    set.seed(3)
                    matrix(runif(18, -1.5, 1.5), 6, 3)
                  }),
  conformance_row("softplus default", function() tfb_softplus(),
                  conformance_matrix),
  conformance_row("power_transform", function() tfb_power_transform(0.4),
                  function() {
                    set.seed(4)
                    matrix(runif(18, -1.5, 3), 6, 3)
                  }),
  conformance_row("power_transform 0", function() tfb_power_transform(),
                  conformance_matrix),
  conformance_row("lambert_w_tail",
                  function() tfb_lambert_w_tail(c(0.3, 1, -0.5), c(1.5, 0.8, 2),
                                                c(0.2, 0.05, 0.4)),
                  conformance_matrix),
  conformance_row("lambert_w_tail scalar",
                  function() tfb_lambert_w_tail(0.5, 1.2, 0.3),
                  function() array(conformance_matrix(), c(2, 3, 3))),
  conformance_row("affine_scalar", function() {
    suppressMessages(tfb_affine_scalar(c(0.5, -1, 2), c(1.5, -0.5, 2)))
  }, conformance_matrix),
  conformance_row("affine_scalar scale only", function() {
    suppressMessages(tfb_affine_scalar(scale = 0.7))
  }, conformance_matrix),
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
                  conformance_matrix, tolerance = 1e-7)
)

for (row in conformance_rows) {
  test_that(sprintf("conformance: %s", row$name), {
    b <- expect_conformance(row)
    expect_snapshot(print(b))
  })
}
