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

# Positions (column-major, 1-based) of the triangles of the n x n matrices
# in the last two dims of an event: the free coordinates of triangular
# matrices.
triangle_positions <- function(dims, upper, strict = FALSE) {
  event <- array(0, dims)
  rank <- length(dims)
  rows <- slice.index(event, rank - 1L)
  cols <- slice.index(event, rank)
  keep <- if (upper) cols >= rows else rows >= cols
  if (strict) keep <- keep & rows != cols
  which(keep)
}
lower_triangle <- function(dims) triangle_positions(dims, upper = FALSE)
upper_triangle <- function(dims) triangle_positions(dims, upper = TRUE)
strictly_lower_triangle <- function(dims) {
  triangle_positions(dims, upper = FALSE, strict = TRUE)
}

# Batches of lower-triangular matrices with a positive diagonal (Cholesky
# factors), N x n x n.
cholesky_factors <- function(n = 3, N = 4, seed = 2) {
  set.seed(seed)
  x <- array(0, c(N, n, n))
  for (i in seq_len(n)) {
    for (j in seq_len(i)) {
      x[, i, j] <- if (i == j) runif(N, 1.2, 2.4) else rnorm(N)
    }
  }
  x
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
                  function() conformance_matrix(d = 6)),
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
                  free_y = pad_free_coordinates(list(c(0, 1)))),
  conformance_row("pad reflect", function() {
    tfb_pad(list(c(2, 1)), mode = "reflect")
  }, conformance_matrix,
  free_y = pad_free_coordinates(list(c(2, 1)))),
  conformance_row("pad of two axes, symmetric", function() {
    tfb_pad(list(c(1, 2), c(2, 0)), mode = "SYMMETRIC", axis = c(-1, -2))
  }, function() array(conformance_matrix(n = 12), c(3, 4, 3)),
  free_y = pad_free_coordinates(list(c(1, 2), c(2, 0)),
                                          axis = c(-1, -2))),
  conformance_row("softmax centered", function() tfb_softmax_centered(),
                  conformance_matrix, volume = TRUE),
  conformance_row("iterated sigmoid centered",
                  function() tfb_iterated_sigmoid_centered(),
                  conformance_matrix,
                  free_y = function(dims) seq_len(dims - 1L)),
  # structural kinds on matrices: Jacobians through the free coordinates
  conformance_row("fill_triangular", function() tfb_fill_triangular(),
                  function() conformance_matrix(d = 6),
                  free_y = lower_triangle),
  conformance_row("fill_triangular upper",
                  function() tfb_fill_triangular(upper = TRUE),
                  function() array(conformance_matrix(d = 10), c(2, 3, 10)),
                  free_y = upper_triangle),
  conformance_row("transform_diagonal",
                  function() tfb_transform_diagonal(tfb_exp()),
                  function() array(conformance_matrix(n = 4, d = 9), c(4, 3, 3))),
  conformance_row("transform_diagonal of a chain",
                  function() tfb_transform_diagonal(tfb_chain(list(
                    tfb_sigmoid(), tfb_shift(c(0.1, -0.2, 0.3))))),
                  function() array(conformance_matrix(n = 6, d = 9),
                                   c(2, 3, 3, 3))),
  conformance_row("fill_scale_tri_l", function() tfb_fill_scale_tri_l(),
                  function() conformance_matrix(d = 6),
                  free_y = lower_triangle),
  conformance_row("fill_scale_tri_l exp",
                  function() tfb_fill_scale_tri_l(tfb_exp(), diag_shift = 0.5),
                  function() conformance_matrix(d = 10),
                  free_y = lower_triangle),
  conformance_row("cholesky_outer_product",
                  function() tfb_cholesky_outer_product(), cholesky_factors,
                  free_x = lower_triangle, free_y = lower_triangle),
  conformance_row("matrix_inverse_tri_l",
                  function() tfb_matrix_inverse_tri_l(),
                  function() cholesky_factors(n = 4) * c(1, -1, 1, 1),
                  free_x = lower_triangle, free_y = lower_triangle),
  conformance_row("cholesky_to_inv_cholesky",
                  function() tfb_cholesky_to_inv_cholesky(),
                  function() array(cholesky_factors(N = 6), c(2, 3, 3, 3)),
                  free_x = lower_triangle, free_y = lower_triangle),
  conformance_row("correlation_cholesky",
                  function() tfb_correlation_cholesky(),
                  function() conformance_matrix(d = 6),
                  free_y = strictly_lower_triangle),
  # structural bijectors (structural-3)
  conformance_row("discrete cosine transform",
                  function() tfb_discrete_cosine_transform(),
                  function() conformance_matrix(d = 5)),
  conformance_row("discrete cosine transform, type 3, rank-3 input",
                  function() tfb_discrete_cosine_transform(dct_type = 3),
                  function() array(conformance_matrix(n = 8, d = 4),
                                   c(2, 4, 4))),
  # R functions: not trainable, so no gradients
  conformance_row("inline exp", function() {
    tfb_inline(forward_fn = exp, inverse_fn = log,
               inverse_log_det_jacobian_fn = function(y) -log(y),
               forward_min_event_ndims = 0)
  }, conformance_matrix, gradients = character()),
  conformance_row("inline linear map on vectors", function() {
    matrix_a <- matrix(c(2, 0.5, 0, -1, 1.5, 0.3, 0.2, 0, 0.8), 3, 3)
    tfb_inline(forward_fn = function(x) x %*% t(matrix_a),
               inverse_fn = function(y) y %*% t(solve(matrix_a)),
               forward_log_det_jacobian_fn = function(x) {
                 log(abs(det(matrix_a)))
               },
               is_constant_jacobian = TRUE, inverse_min_event_ndims = 1,
               name = "linear")
  }, conformance_matrix, gradients = character()),
  # a continuous flow with R dynamics (not trainable either), solved
  # tightly so that round trips and log-dets are checked at 1e-7
  conformance_row("ffjord, nonlinear time-dependent dynamics", function() {
    weights <- rbind(c(0.6, -0.4, 0.3), c(0.2, -0.5, -0.6),
                     c(-0.5, 0.7, 0.4))
    tfb_ffjord(function(t, z) {
      tanh(z %*% weights + matrix(c(0.1, -0.2, 0.3) * t, nrow(z), 3,
                                  byrow = TRUE)) - 0.3 * z
    }, ode_solve_fn = ode_dormand_prince(rtol = 1e-10, atol = 1e-12),
    trace_augmentation_fn = trace_jacobian_exact, initial_time = 0.5,
    final_time = 1.5)
  }, conformance_matrix, gradients = character(), tolerance = 1e-7),
  # network templates train: gradients through the solver's accepted steps
  # (exact trace: Hutchinson's noise changes between the harness's calls,
  # so test-ffjord_gradient.R checks it with a fixed seed)
  conformance_row("ffjord with a network template (in C)", function() {
    set.seed(23)
    tfb_ffjord(tfb_ffjord_default_template(c(5), activation = "softplus",
                                           bias_initializer = 0.2),
               ode_solve_fn = ode_dormand_prince(rtol = 1e-10, atol = 1e-12),
               trace_augmentation_fn = trace_jacobian_exact)
  }, conformance_matrix, tolerance = 1e-7),
  conformance_row("ffjord, two-layer tanh template on [0.5, 1.5]", function() {
    set.seed(29)
    tfb_ffjord(tfb_ffjord_default_template(c(4, 3), activation = "tanh",
                                           bias_initializer = -0.1),
               ode_solve_fn = ode_dormand_prince(rtol = 1e-10, atol = 1e-12),
               trace_augmentation_fn = trace_jacobian_exact,
               initial_time = 0.5, final_time = 1.5)
  }, conformance_matrix, tolerance = 1e-7),
  # multipart: forward gives a list of arrays
  conformance_row("split", function() tfb_split(c(1, 3, 2)),
                  function() conformance_matrix(d = 6), multipart = TRUE),
  conformance_row("split along axis -2 with a -1",
                  function() tfb_split(list(2, -1), axis = -2),
                  function() array(conformance_matrix(n = 15, d = 2),
                                   c(3, 5, 2)),
                  multipart = TRUE),
  conformance_row("split in 3 equal parts", function() tfb_split(3),
                  function() conformance_matrix(d = 6), multipart = TRUE),
  # trainable members: their gradients go through the blocks
  conformance_row("blockwise", function() {
    tfb_blockwise(list(tfb_exp(), tfb_shift(c(1, 2)), tfb_scale(0.5)),
                  c(1, 2, 1))
  }, function() conformance_matrix(d = 4)),
  conformance_row("blockwise with a size-changing member", function() {
    tfb_blockwise(list(tfb_sinh(), tfb_softmax_centered(),
                       tfb_scale(log_scale = c(0.2, -0.3))), c(2, 1, 2))
  }, function() conformance_matrix(d = 5),
  volume = TRUE),
  # linear bijectors (linear-L1)
  conformance_row("scale_matvec_diag",
                  function() tfb_scale_matvec_diag(c(1.5, -0.5, 2)),
                  conformance_matrix),
  conformance_row("scale_matvec_tri_l", function() {
    tfb_scale_matvec_tri_l(rbind(c(1.5, 9, 9), c(0.4, -0.8, 9),
                                 c(-0.6, 0.3, 1.2)))
  }, conformance_matrix),
  conformance_row("scale_matvec_tri_l, adjoint", function() {
    tfb_scale_matvec_tri_l(rbind(c(1.5, 0, 0), c(0.4, -0.8, 0),
                                 c(-0.6, 0.3, 1.2)), adjoint = TRUE)
  }, conformance_matrix),
  conformance_row("scale_matvec_lu", function() {
    tfb_scale_matvec_lu(rbind(c(1.4, 0.5, -0.3), c(0.3, -1.1, 0.6),
                              c(-0.5, 0.2, 0.9)), permutation = c(2, 3, 1))
  }, conformance_matrix),
  # ActNorm initialises on the harness's first call (a forward one) and is
  # an ordinary per-channel affine map afterwards
  conformance_row("activation_normalization", function() {
    tfb_activation_normalization(3)
  }, function() {
    set.seed(31)
    array(rnorm(4 * 2 * 2 * 3, mean = 1, sd = 2), c(4, 2, 2, 3))
  }),
  # Glow on 4 x 4 x 1 images (latents of 16): two levels, an exit, random
  # network weights so that the couplings are not linear
  conformance_row("glow", function() {
    set.seed(32)
    glow <- tfb_glow(c(4, 4, 1), num_glow_blocks = 2, num_steps_per_block = 1,
                     coupling_bijector_fn = function(input_shape) {
                       glow_default_network(input_shape, num_hidden = 4)
                     })
    params <- trainable_parameters(glow)
    for (name in grep("/(coupling|exit)/", names(params), value = TRUE)) {
      params[[name]][] <- rnorm(length(params[[name]]), sd = 0.2)
    }
    trainable_parameters(glow) <- params
    glow
  }, function() {
    set.seed(33)
    matrix(rnorm(3 * 16), 3, 16)
  }, tolerance = 1e-7),
  conformance_row("matvec_lu (deprecated)", function() {
    suppressMessages(tfb_matvec_lu(rbind(c(1.2, 0.4), c(-0.5, 0.8)),
                                   permutation = c(2, 1)))
  }, function() conformance_matrix(d = 2)),
  conformance_row("scale_matvec_linear_operator, full matrix", function() {
    tfb_scale_matvec_linear_operator(rbind(c(0.9, 0.4, -0.3),
                                           c(0.2, -1.1, 0.5),
                                           c(0.7, 0.1, 1.3)))
  }, conformance_matrix),
  conformance_row("scale_matvec_linear_operator, LU factors, adjoint",
                  function() {
    tfb_scale_matvec_linear_operator(list(
      lower_upper = rbind(c(1.4, 0.5, -0.3), c(0.3, -1.1, 0.6),
                          c(-0.5, 0.2, 0.9)),
      permutation = c(3, 1, 2)), adjoint = TRUE)
  }, conformance_matrix),
  conformance_row("scale_matvec_linear_operator, diagonal",
                  function() tfb_scale_matvec_linear_operator(c(1, -2, 3)),
                  conformance_matrix),
  conformance_row("scale_tri_l (deprecated)",
                  function() suppressMessages(tfb_scale_tri_l()),
                  function() conformance_matrix(d = 6),
                  free_y = lower_triangle),
  conformance_row("scale_tri_l (deprecated), exp diagonal, no shift",
                  function() {
    suppressMessages(tfb_scale_tri_l(tfb_exp(), diag_shift = NULL))
  }, function() array(conformance_matrix(n = 4, d = 3), c(2, 2, 3)),
  free_y = lower_triangle),
  conformance_row("affine (deprecated), tril + VDV^T", function() {
    suppressMessages(tfb_affine(
      shift = c(1, -1, 0.5), scale_tril = rbind(c(2, 0, 0), c(1, 3, 0),
                                                c(2, 3, 4)),
      scale_perturb_factor = rbind(c(2, 0), c(0, 0), c(0, 1)),
      scale_perturb_diag = c(2, 1)))
  }, conformance_matrix),
  conformance_row("affine (deprecated), multiplier alone",
                  function() suppressMessages(tfb_affine(-1, 2)),
                  conformance_matrix),
  conformance_row("affine_linear_operator (deprecated), adjoint", function() {
    suppressMessages(tfb_affine_linear_operator(
      shift = c(2, 3, 1), scale = rbind(c(1, 0.5, 0), c(2, 1, 0.3),
                                        c(3, 2, 1)), adjoint = TRUE))
  }, conformance_matrix),
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

# TFP's is_constant_jacobian, row by row, from the reference sheets
# (tfp-structural.md's CJ column, tfp-linear-and-flows.md, tfp-elementwise.md:
# "only AffineScalar" among the elementwise kinds) and TFP's sources
# (Shift, Scale, Identity, Permute, Reshape, Transpose, Pad, Split, Cumsum,
# DiscreteCosineTransform, FillTriangular and ScaleMatvec* pass
# is_constant_jacobian=True; Composition, and so Chain and Blockwise, takes
# all of its parts'; Invert and TransformDiagonal take their bijector's;
# Inline takes its argument). Every other row is FALSE, TFP's default.
constant_jacobian_rows <- c(
  "identity", "shift", "shift scalar", "scale", "scale log_scale",
  "affine_scalar", "affine_scalar scale only", "permute", "reshape",
  "invert of scale", "chain", "cumsum", "cumsum along axis -2", "transpose",
  "transpose of three axes", "pad", "pad reflect",
  "pad of two axes, symmetric", "fill_triangular", "fill_triangular upper",
  "discrete cosine transform",
  "discrete cosine transform, type 3, rank-3 input",
  "inline linear map on vectors", "split", "split along axis -2 with a -1",
  "split in 3 equal parts", "scale_matvec_diag", "scale_matvec_tri_l",
  "scale_matvec_tri_l, adjoint", "scale_matvec_lu", "matvec_lu (deprecated)",
  "scale_matvec_linear_operator, full matrix",
  "scale_matvec_linear_operator, LU factors, adjoint",
  "scale_matvec_linear_operator, diagonal",
  "affine (deprecated), tril + VDV^T", "affine (deprecated), multiplier alone",
  "affine_linear_operator (deprecated), adjoint"
)
row_names <- vapply(conformance_rows, function(row) row$name, character(1))
stopifnot(all(constant_jacobian_rows %in% row_names))
conformance_rows <- lapply(conformance_rows, function(row) {
  row$constant_jacobian <- row$name %in% constant_jacobian_rows
  row
})

printed <- list()
for (row in conformance_rows) {
  test_that(sprintf("conformance: %s", row$name), {
    printed[[row$name]] <<- expect_conformance(row)
  })
}

# TFP's `parameters` (the constructor's arguments by name) and `dtype` on
# every row; the constructor is the call that `make` ends with.
test_that("conformance: $parameters names the constructor's arguments, $dtype", {
  checked <- 0L
  for (row in conformance_rows) {
    call <- body(row$make)
    while (is.call(call) && identical(call[[1L]], as.name("{"))) {
      call <- call[[length(call)]]
    }
    constructor <- if (is.call(call) && is.name(call[[1L]]))
      as.character(call[[1L]]) else ""
    if (!grepl("^tfb_", constructor)) {
      next
    }
    b <- suppressMessages(row$make())
    label <- sprintf("[%s] $parameters", row$name)
    formal_names <- names(formals(get(constructor)))
    expect_identical(names(b$parameters),
                     formal_names[formal_names != "..."], label = label)
    expect_identical(b$parameters$name, b$name, label = label)
    expect_identical(b$dtype, "float64")
    checked <- checked + 1L
  }
  expect_gt(checked, 60L)
})

# Every row's print in one snapshot (one snapshot per row took longer than
# the other checks of the simplest rows).
test_that("conformance: every row prints", {
  expect_snapshot({
    for (name in names(printed)) {
      cat("--", name, "\n")
      print(printed[[name]])
    }
  })
})
