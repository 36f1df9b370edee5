# The conformance harness (DESIGN 11): one function that runs every check on
# one row of the table in test-conformance.R. A row describes a kind:
#
#   make()            a new bijector, non-trivial parameters where it has any
#   x()               an input in the forward domain: an array whose first
#                     dimension is the batch (N events), the rest one event
#   exact             forward and inverse are exact inverses (FALSE for batch
#                     normalization in training mode)
#   per_event         its log-det is a function of each event alone, so it
#                     can be compared with a numerical Jacobian (FALSE for
#                     training-mode batch normalization)
#   gradients         the directions whose gradients are checked ("inverse":
#                     a flow with the bijector; "forward": with its inverse)
#   tolerance         for round trips and log-dets
#   injective         FALSE for a non-injective map (TFP's AbsoluteValue):
#                     its inverse is a list of branches, its forward
#                     log-det an error (expect_non_injective())
#   free_x, free_y    for kinds whose Jacobian is taken through free
#                     coordinates (TFP's rule for kinds that change the
#                     event size, or act on triangular matrices): a
#                     function of one event's dims giving the positions
#                     (column-major, 1-based) of its free coordinates in x
#                     and in y; NULL means all of them
#   volume            TRUE for a kind whose log-det is the volume factor
#                     0.5 * log det(t(J) J) of its non-square Jacobian J
#                     (softmax_centered, TFP's embedding in R^K)
#   constant_jacobian TFP's is_constant_jacobian for the row (from the
#                     reference sheets and TFP's sources, not from the
#                     package): `$is_constant_jacobian` must say the same,
#                     and when TRUE the log-det must be one number for all
#                     events and for a second input
#   multipart         TRUE for a kind whose forward returns a list of parts
#                     (tfb_split): expect_multipart_conformance() runs the
#                     checks that apply to lists (no flows: their bases
#                     are single-part)
#
# References are independent of the package's arithmetic: numerical
# Jacobians and central differences of log_prob().

conformance_row <- function(name, make, x, exact = TRUE, per_event = TRUE,
                            gradients = c("inverse", "forward"),
                            tolerance = 1e-8, gradient_tolerance = 1e-5,
                            integer_input = TRUE, injective = TRUE,
                            free_x = NULL, free_y = NULL, volume = FALSE,
                            multipart = FALSE, constant_jacobian = FALSE) {
  list(name = name, make = make, x = x, exact = exact, per_event = per_event,
       gradients = gradients, tolerance = tolerance,
       gradient_tolerance = gradient_tolerance, integer_input = integer_input,
       injective = injective, free_x = free_x, free_y = free_y,
       volume = volume, multipart = multipart,
       constant_jacobian = constant_jacobian)
}

# TFP's is_constant_jacobian: the field agrees with the row, and a constant
# Jacobian gives one log-det for every event of x and for another input
# (every constant-Jacobian kind is affine on all of R^n, so 1.5 x + 0.25 is
# in its domain).
expect_constant_jacobian <- function(row, b, x, fmin, label) {
  expect_identical(b$is_constant_jacobian, row$constant_jacobian,
                   label = label("$is_constant_jacobian"))
  if (!row$constant_jacobian) {
    return(invisible())
  }
  at_events <- as.vector(b$forward_log_det_jacobian(
    x, event_ndims = conformance_event_ndims(x)))
  expect_equal(at_events, rep(at_events[[1L]], length(at_events)),
               tolerance = 1e-12,
               label = label("a constant Jacobian's log-det over the events"))
  expect_equal(b$forward_log_det_jacobian(1.5 * x + 0.25, event_ndims = fmin),
               b$forward_log_det_jacobian(x, event_ndims = fmin),
               tolerance = 1e-12,
               label = label("a constant Jacobian's log-det at another input"))
  invisible()
}

# The rank of the events of a batch `x` (all dims but the first).
conformance_event_ndims <- function(x) {
  length(dim(x)) - 1L
}

# log|det J| of the forward map of one event, by central differences on its
# values (flattened in R's order; the determinant does not depend on it).
# `free_x` and `free_y` (functions of an event's dims, or NULL for all
# positions) restrict it to the free coordinates of input and output;
# `volume`: the log-det is 0.5 log det(t(J) J) of a non-square J.
numerical_event_log_det <- function(b, event, h = 1e-6, free_x = NULL,
                                    free_y = NULL, volume = FALSE) {
  dims <- dim(event)
  v <- as.vector(event)
  x_positions <- if (is.null(free_x)) seq_along(v) else free_x(dims)
  f <- function(v) {
    output <- b$forward(array(v, c(1L, dims)))
    y_dims <- dim(output)[-1L]
    output <- as.vector(output)
    if (is.null(free_y)) output else output[free_y(y_dims)]
  }
  jacobian <- vapply(x_positions, function(k) {
    up <- v
    down <- v
    up[k] <- up[k] + h
    down[k] <- down[k] - h
    (f(up) - f(down)) / (2 * h)
  }, numeric(length(f(v))))
  jacobian <- matrix(jacobian, ncol = length(x_positions))
  if (volume) {
    return(0.5 * as.numeric(determinant(crossprod(jacobian),
                                        logarithm = TRUE)$modulus))
  }
  as.numeric(determinant(jacobian, logarithm = TRUE)$modulus)
}

# The reference reduction of a log-det at the minimum event rank to
# `event_ndims`, from TFP's rule: sum over the extra event axes, a scalar
# counted once per element of them.
reference_reduced_log_det <- function(log_det_min, dims, min_ndims,
                                      event_ndims) {
  rank <- length(dims)
  extra <- dims[seq_len(event_ndims - min_ndims) + rank - event_ndims]
  if (length(log_det_min) == 1L) {
    return(log_det_min * prod(extra))
  }
  lead <- dims[seq_len(rank - event_ndims)]
  values <- matrix(as.vector(log_det_min), nrow = max(1, prod(lead)))
  summed <- rowSums(values)
  if (length(lead) >= 2L) array(summed, lead) else summed
}

# A log-det against its reference: a result that is one number for the
# whole batch (TFP's reduction keeps a log-det that does not depend on the
# event unbroadcast) stands for that number at every event.
expect_log_det_equal <- function(actual, expected, tolerance, label) {
  if (length(actual) == 1L && length(expected) > 1L) {
    actual <- array(actual, dim(expected) %||% length(expected))
    if (is.null(dim(expected))) actual <- as.vector(actual)
  }
  expect_equal(actual, expected, tolerance = tolerance, label = label)
}

# The atomic parts of `values` (objects, functions and pointers, which are
# references by design, replaced by NULL).
atomic_parts <- function(values) {
  if (is.environment(values) || is.function(values) ||
      typeof(values) == "externalptr") {
    return(NULL)
  }
  if (is.list(values)) {
    stripped <- lapply(values, atomic_parts)
    attributes(stripped) <- attributes(values)
    return(stripped)
  }
  values
}

# Everything a bijector holds, as bytes: equal bytes mean nothing changed.
bijector_bytes <- function(b) {
  serialize(b, NULL)
}

# A non-injective map, TFP's way: inverse(y) is a list of branches, each
# mapped forward to y and one of them x elementwise; the inverse log-det is
# a list of one log-det per branch, each against the numerical Jacobian of
# its branch and reduced by the event_ndims rule; the forward log-det is
# refused.
expect_non_injective <- function(b, x, y, tol, label) {
  branches <- b$inverse(y)
  expect_true(is.list(branches) && length(branches) >= 2L,
              label = label("inverse(y) is a list of branches"))
  found <- array(FALSE, dim(x))
  for (branch in branches) {
    expect_equal(b$forward(branch), y, tolerance = tol,
                 label = label("forward(branch of inverse(y))"))
    found <- found | abs(branch - x) <= tol * pmax(1, abs(x))
  }
  expect_true(all(found), label = label("x is a branch of inverse(y)"))
  e_y <- conformance_event_ndims(y)
  ildj <- b$inverse_log_det_jacobian(y, event_ndims = e_y)
  events <- matrix(y, nrow = dim(y)[[1L]])
  for (k in seq_along(branches)) {
    branch_map <- list(forward = function(v) b$inverse(v)[[k]])
    numeric_ldj <- vapply(seq_len(nrow(events)), function(n) {
      numerical_event_log_det(branch_map, array(events[n, ], dim(y)[-1L]))
    }, numeric(1))
    expect_log_det_equal(ildj[[k]], numeric_ldj, 1e-6,
                         label(sprintf("ildj of branch %d vs numerical", k)))
  }
  imin <- b$inverse_min_event_ndims
  at_min <- b$inverse_log_det_jacobian(y, event_ndims = imin)
  for (e in imin:length(dim(y))) {
    reduced <- b$inverse_log_det_jacobian(y, event_ndims = e)
    for (k in seq_along(branches)) {
      expect_log_det_equal(
        reduced[[k]], reference_reduced_log_det(at_min[[k]], dim(y), imin, e),
        tol, label(sprintf("ildj reduction of branch %d at event_ndims %d",
                           k, e)))
    }
  }
  expect_error(b$forward_log_det_jacobian(x, event_ndims = e_y),
               class = "bijectors_error_unsupported")
}

# A flow with `bijector` over a base with the event shape of `latent` (a
# batch): flow_on()'s diagonal normal for vectors, iid normals otherwise.
flow_on_latent <- function(bijector, latent) {
  dims <- dim(latent)[-1L]
  if (length(dims) == 1L) {
    return(flow_on(bijector, D = dims))
  }
  tfd_transformed_distribution(
    tfd_sample_distribution(tfd_normal(0.2, 1.3), sample_shape = dims),
    bijector)
}

# The checks of expect_conformance() for a multipart kind: y is a list of
# arrays and the inverse's event_ndims one number per part. The log-det is
# checked against the numerical Jacobian of x to the parts' values
# concatenated (a square map).
expect_multipart_conformance <- function(row) {
  label <- function(what) sprintf("[%s] %s", row$name, what)
  tol <- row$tolerance
  b <- row$make()
  x <- row$x()
  y <- b$forward(x)
  expect_true(is.list(y), label = label("forward(x) is a list"))
  e_x <- conformance_event_ndims(x)
  e_y <- rep(e_x, length(y))
  fmin <- b$forward_min_event_ndims
  imin <- b$inverse_min_event_ndims
  expect_identical(length(imin), length(y))
  xi <- round(x)
  storage.mode(xi) <- "integer"
  for (part in b$forward(xi)) expect_type(part, "double")
  expect_equal(b$inverse(y), x, tolerance = tol,
               label = label("inverse(forward(x))"))
  expect_equal(b$forward(b$inverse(y)), y, tolerance = tol,
               label = label("forward(inverse(y))"))
  fldj <- b$forward_log_det_jacobian(x, event_ndims = e_x)
  flat <- list(forward = function(input) {
    unlist(lapply(b$forward(input), as.vector))
  })
  events <- matrix(x, nrow = dim(x)[[1L]])
  numeric_ldj <- vapply(seq_len(nrow(events)), function(n) {
    numerical_event_log_det(flat, array(events[n, ], dim(x)[-1L]))
  }, numeric(1))
  expect_equal(rep_len(as.vector(fldj), length(numeric_ldj)), numeric_ldj,
               tolerance = 1e-6, label = label("fldj vs numerical Jacobian"))
  expect_equal(b$inverse_log_det_jacobian(y, event_ndims = e_y), -fldj,
               tolerance = tol, label = label("ildj(y) = -fldj(x)"))
  expect_constant_jacobian(row, b, x, fmin, label)
  at_min <- b$forward_log_det_jacobian(x, event_ndims = fmin)
  for (e in fmin:length(dim(x))) {
    expect_log_det_equal(
      b$forward_log_det_jacobian(x, event_ndims = e),
      reference_reduced_log_det(at_min, dim(x), fmin, e), tol,
      label(sprintf("fldj reduction at event_ndims %d", e)))
    expect_log_det_equal(
      b$inverse_log_det_jacobian(y, event_ndims = rep(e, length(y))),
      -reference_reduced_log_det(at_min, dim(x), fmin, e), tol,
      label(sprintf("ildj reduction at event_ndims %d", e)))
  }
  before <- bijector_bytes(b)
  expect_error(b$forward_log_det_jacobian(x, event_ndims = length(dim(x)) + 1L),
               class = "bijectors_error_event_ndims")
  expect_error(b$forward_log_det_jacobian(x, event_ndims = fmin - 1L),
               class = "bijectors_error_event_ndims")
  expect_error(b$inverse_log_det_jacobian(y, event_ndims = imin - 1L),
               class = "bijectors_error_event_ndims")
  expect_error(b$inverse_log_det_jacobian(y),
               class = "bijectors_error_event_ndims")
  expect_error(b$forward("a"), class = "bijectors_error")
  expect_error(b$inverse(list("a", 2)), class = "bijectors_error")
  expect_error(b$inverse(x), class = "bijectors_error")
  expect_error(b$forward(factor(1:3)), class = "bijectors_error")
  expect_identical(bijector_bytes(b), before,
                   label = label("state after refused calls"))
  for (copy in list(round_trip_rds_flow(b), unserialize(serialize(b, NULL)))) {
    expect_identical(copy$forward(x), b$forward(x),
                     label = label("forward after a round trip"))
    expect_identical(copy$inverse(y), b$inverse(y),
                     label = label("inverse after a round trip"))
  }
  held <- as.list(b)
  frozen <- unserialize(serialize(atomic_parts(held), NULL))
  invisible(b$forward(x))
  expect_identical(atomic_parts(held), frozen,
                   label = label("fields held by the user"))
  invisible(b)
}

expect_conformance <- function(row) {
  if (isTRUE(row$multipart)) {
    return(expect_multipart_conformance(row))
  }
  label <- function(what) sprintf("[%s] %s", row$name, what)
  tol <- row$tolerance
  b <- row$make()
  x <- row$x()
  y <- b$forward(x)
  e_x <- conformance_event_ndims(x)
  e_y <- conformance_event_ndims(y)
  fmin <- b$forward_min_event_ndims
  imin <- b$inverse_min_event_ndims

  # integer input gives double output, equal to the double input's
  if (row$integer_input) {
    xi <- round(x)
    storage.mode(xi) <- "integer"
    out <- b$forward(xi)
    expect_type(out, "double")
    expect_equal(out, b$forward(round(x)), tolerance = tol,
                 label = label("forward of integer input"))
  }

  # round trips
  if (row$exact) {
    expect_equal(b$inverse(y), x, tolerance = tol,
                 label = label("inverse(forward(x))"))
    expect_equal(b$forward(b$inverse(y)), y, tolerance = tol,
                 label = label("forward(inverse(y))"))
  }

  if (!row$injective) {
    expect_non_injective(b, x, y, tol, label)
  }

  # the forward log-det against a numerical Jacobian, event by event, and
  # ildj(y) = -fldj(x)
  if (row$injective) {
    fldj <- b$forward_log_det_jacobian(x, event_ndims = e_x)
  }
  if (row$per_event && row$injective) {
    events <- matrix(x, nrow = dim(x)[[1L]])
    numeric_ldj <- vapply(seq_len(nrow(events)), function(n) {
      numerical_event_log_det(b, array(events[n, ], dim(x)[-1L]),
                              free_x = row$free_x, free_y = row$free_y,
                              volume = row$volume)
    }, numeric(1))
    expect_equal(rep_len(as.vector(fldj), length(numeric_ldj)), numeric_ldj,
                 tolerance = 1e-6, label = label("fldj vs numerical Jacobian"))
    expect_equal(b$inverse_log_det_jacobian(y, event_ndims = e_y), -fldj,
                 tolerance = tol, label = label("ildj(y) = -fldj(x)"))
  }
  if (row$injective) {
    expect_constant_jacobian(row, b, x, fmin, label)
  } else {
    expect_identical(b$is_constant_jacobian, row$constant_jacobian,
                     label = label("$is_constant_jacobian"))
  }

  # the event_ndims rule, every value up to the rank, and its errors
  dims_x <- dim(x)
  rank_x <- length(dims_x)
  if (row$injective) {
    at_min <- b$forward_log_det_jacobian(x, event_ndims = fmin)
    for (e in fmin:rank_x) {
      expect_log_det_equal(
        b$forward_log_det_jacobian(x, event_ndims = e),
        reference_reduced_log_det(at_min, dims_x, fmin, e), tol,
        label(sprintf("fldj reduction at event_ndims %d", e)))
    }
  }
  if (row$exact) {
    dims_y <- dim(y)
    at_min_y <- b$inverse_log_det_jacobian(y, event_ndims = imin)
    for (e in imin:length(dims_y)) {
      expect_log_det_equal(
        b$inverse_log_det_jacobian(y, event_ndims = e),
        reference_reduced_log_det(at_min_y, dims_y, imin, e), tol,
        label(sprintf("ildj reduction at event_ndims %d", e)))
    }
  }
  before <- bijector_bytes(b)
  expect_error(b$forward_log_det_jacobian(x, event_ndims = rank_x + 1L),
               class = "bijectors_error_event_ndims")
  if (fmin > 0L) {
    expect_error(b$forward_log_det_jacobian(x, event_ndims = fmin - 1L),
                 class = "bijectors_error_event_ndims")
  }
  expect_error(b$forward_log_det_jacobian(x, event_ndims = 1.5),
               class = "bijectors_error_event_ndims")
  expect_error(b$forward_log_det_jacobian(x),
               class = "bijectors_error_event_ndims")
  # bad inputs: classed errors, nothing changed
  expect_error(b$forward("a"), class = "bijectors_error")
  # (a nested list of numbers is a tensor, as in tfprobability; a ragged
  # or non-numeric one is not)
  expect_error(b$inverse(list(1, "a")), class = "bijectors_error")
  expect_error(b$inverse(list(c(1, 2), 3)), class = "bijectors_error")
  expect_error(b$forward(factor(1:3)), class = "bijectors_error")
  expect_identical(bijector_bytes(b), before,
                   label = label("state after refused calls"))

  # saving: saveRDS() and serialize() give identical results, alone and in
  # a chain
  for (copy in list(round_trip_rds_flow(b), unserialize(serialize(b, NULL)))) {
    expect_identical(copy$forward(x), b$forward(x),
                     label = label("forward after a round trip"))
    if (row$injective) {
      expect_identical(copy$forward_log_det_jacobian(x, e_x),
                       b$forward_log_det_jacobian(x, e_x),
                       label = label("fldj after a round trip"))
    } else {
      expect_identical(copy$inverse(y), b$inverse(y),
                       label = label("inverse after a round trip"))
    }
  }
  chain <- tfb_chain(list(tfb_identity(), b))
  chain_copy <- round_trip_rds_flow(chain)
  expect_identical(chain_copy$forward(x), chain$forward(x),
                   label = label("forward of a saved chain"))

  # $ fields are copies: what a user holds does not change when the
  # bijector does (here, through training below)
  held <- as.list(b)
  frozen <- unserialize(serialize(atomic_parts(held), NULL))

  # gradients in each direction, against central differences of log_prob()
  # (flows on events of any shape: the base has the latent's event shape)
  if ("inverse" %in% row$gradients) {
    flow <- flow_on_latent(row$make(), x)
    data <- flow$bijector$forward(x)
    invisible(flow$log_prob(data))
    if (length(trainable_parameters(flow)) > 0L) {
      randomize_parameters(flow)
    }
    expect_flow_gradients(flow, data,
                          layers = bijectors:::bijector_batchnorm_layers(
                            flow$bijector),
                          tolerance = row$gradient_tolerance)
  }
  if ("forward" %in% row$gradients) {
    flow <- flow_on_latent(tfb_invert(row$make()), y)
    invisible(flow$log_prob(x))
    if (length(trainable_parameters(flow)) > 0L) {
      randomize_parameters(flow)
    }
    expect_flow_gradients(flow, x,
                          layers = bijectors:::bijector_batchnorm_layers(
                            flow$bijector),
                          tolerance = row$gradient_tolerance)
  }
  # and training changes nothing the user held
  if (length(row$gradients) > 0L) {
    flow <- flow_on_latent(b, x)
    if (length(trainable_parameters(flow)) > 0L) {
      fit(flow, y, epochs = 1, batch_size = dim(y)[[1L]], verbose = FALSE)
    }
  }
  expect_identical(atomic_parts(held), frozen,
                   label = label("fields held by the user"))
  invisible(b)
}
