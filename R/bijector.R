# The bijector object model: environment-backed S3 objects with the
# tfprobability method style (`b$forward(x)`) and the generic helpers
# (`tfb_forward(b, x)`), which call the same per-kind methods.

new_bijector <- function(kind, name, forward_min_event_ndims,
                         inverse_min_event_ndims = forward_min_event_ndims,
                         validate_args = FALSE, ...) {
  bijector <- new.env(parent = emptyenv())
  bijector$name <- name
  bijector$forward_min_event_ndims <- as.integer(forward_min_event_ndims)
  bijector$inverse_min_event_ndims <- as.integer(inverse_min_event_ndims)
  bijector$validate_args <- validate_args
  bijector$constructor_arguments <- constructor_arguments()
  fields <- list(...)
  for (field in names(fields)) {
    assign(field, fields[[field]], envir = bijector)
  }
  class(bijector) <- c(kind, "bijector")
  bijector
}

bijector_methods <- c(
  "forward", "inverse", "forward_log_det_jacobian", "inverse_log_det_jacobian",
  "forward_event_shape", "inverse_event_shape",
  # TFP's other shape methods: the `_tensor` forms give the same shapes
  # (R has no static/dynamic split), the `_ndims` forms the event rank
  # after the map
  "forward_event_shape_tensor", "inverse_event_shape_tensor",
  "forward_event_ndims", "inverse_event_ndims",
  # TFP's dtype methods: always "float64" here
  "forward_dtype", "inverse_dtype"
)

#' @export
object_method_names.bijector <- function(x) {
  bijector_methods
}

#' @export
object_field_names.bijector <- function(x) {
  c("name", "forward_min_event_ndims", "inverse_min_event_ndims",
    "validate_args", "is_constant_jacobian", "trainable_variables", "dtype",
    "parameters")
}

#' @export
object_field.bijector <- function(x, name) {
  switch(name,
    is_constant_jacobian = bijector_is_constant_jacobian(x),
    trainable_variables = built_trainable_parameters(x),
    # every value here is a double (TFP's dtype; `NULL` there for kinds
    # that take any)
    dtype = "float64",
    parameters = object_parameters(x),
    NextMethod())
}

# TFP's `is_constant_jacobian`: TRUE when the Jacobian does not depend on
# the input, so that the log-det is the same at every point (for any
# parameter values: it says nothing about training). The kinds below
# declare it in TFP; every other kind leaves TFP's default, FALSE (even
# where its log-det happens to be constant, as absolute_value's or
# activation_normalization's: TFP does not declare it for those).
# Composites take it from their parts (methods in chain.R, blockwise.R,
# invert.R, transform_diagonal.R); tfb_inline(), MAF and RealNVP store the
# user's promise.
bijector_is_constant_jacobian <- function(bijector) {
  UseMethod("bijector_is_constant_jacobian")
}

constant_jacobian_kinds <- c(
  "tfb_identity", "tfb_shift", "tfb_scale", "tfb_affine_scalar",
  # every linear operator: scale_matvec_diag, _tri_l, _lu (and matvec_lu),
  # _linear_operator
  "tfb_linear",
  "tfb_permute", "tfb_reshape", "tfb_transpose", "tfb_pad", "tfb_split",
  "tfb_cumsum", "tfb_discrete_cosine_transform", "tfb_fill_triangular"
)

#' @export
bijector_is_constant_jacobian.default <- function(bijector) {
  inherits(bijector, constant_jacobian_kinds)
}

# A composite's Jacobian is constant when all of its parts' are (TFP's
# Composition); an empty chain is the identity.
children_have_constant_jacobian <- function(bijector) {
  all(vapply(bijector_children(bijector), bijector_is_constant_jacobian,
             logical(1)))
}

#' @export
object_method.bijector <- function(x, name) {
  bijector <- x
  switch(name,
    # built by `$.bijector` itself, the path users take in loops
    forward = , inverse = `$.bijector`(x, name),
    forward_log_det_jacobian = function(x, event_ndims,
                                        name = "forward_log_det_jacobian") {
      tfb_forward_log_det_jacobian(bijector, x, event_ndims, name)
    },
    inverse_log_det_jacobian = function(y, event_ndims,
                                        name = "inverse_log_det_jacobian") {
      tfb_inverse_log_det_jacobian(bijector, y, event_ndims, name)
    },
    forward_event_shape = ,
    forward_event_shape_tensor = function(input_shape) {
      tfb_forward_event_shape(bijector, input_shape)
    },
    inverse_event_shape = ,
    inverse_event_shape_tensor = function(output_shape) {
      tfb_inverse_event_shape(bijector, output_shape)
    },
    forward_event_ndims = function(event_ndims) {
      bijector_event_ndims(bijector, event_ndims, forward = TRUE)
    },
    inverse_event_ndims = function(event_ndims) {
      bijector_event_ndims(bijector, event_ndims, forward = FALSE)
    },
    forward_dtype = function(dtype = NULL) {
      bijector_dtype(bijector, dtype, forward = TRUE)
    },
    inverse_dtype = function(dtype = NULL) {
      bijector_dtype(bijector, dtype, forward = FALSE)
    }
  )
}

# TFP's forward_dtype() / inverse_dtype(): the dtype of the output for an
# input of `dtype`, always "float64" here, one per part on a multipart
# side (tfb_split()'s forward output).
bijector_dtype <- function(bijector, dtype, forward) {
  ok <- is.null(dtype) || (is.character(dtype) && length(dtype) == 1L &&
                             dtype %in% c("float64", "double"))
  if (!ok) {
    abort_bijectors("argument", sprintf(paste(
      "`dtype` must be NULL or \"float64\" (this package computes in",
      "double precision only), not %s."), describe_value(dtype)))
  }
  parts <- length(.subset2(bijector, if (forward) "inverse_min_event_ndims"
                           else "forward_min_event_ndims"))
  if (parts > 1L) as.list(rep("float64", parts)) else "float64"
}

# TFP's forward_event_ndims() / inverse_event_ndims(): the rank of an event
# after the map, for events of rank `event_ndims` before it (one value per
# part on a multipart side, as tfb_split()'s inverse).
bijector_event_ndims <- function(bijector, event_ndims, forward) {
  from <- .subset2(bijector, if (forward) "forward_min_event_ndims" else
    "inverse_min_event_ndims")
  to <- .subset2(bijector, if (forward) "inverse_min_event_ndims" else
    "forward_min_event_ndims")
  ok <- is.numeric(event_ndims) && !is.object(event_ndims) &&
    length(event_ndims) == length(from) && !anyNA(event_ndims) &&
    all(is.finite(event_ndims)) && all(event_ndims == round(event_ndims)) &&
    all(event_ndims >= from)
  # a multipart side's parts must all have the same number of extra dims
  extra <- if (ok) unique(event_ndims - from) else NULL
  if (!ok || length(extra) != 1L) {
    direction <- if (forward) "forward" else "inverse"
    expected <- if (length(from) == 1L) {
      sprintf("a whole number, at least the bijector's %s minimum event ndims (%d)",
              direction, from)
    } else {
      sprintf(paste(
        "%d whole numbers, one per part, each at least the part's %s",
        "minimum event ndims (%s) and all the same number above it"),
        length(from), direction, paste(from, collapse = ", "))
    }
    abort_bijectors("event_ndims", sprintf("`event_ndims` must be %s, not %s.",
                                           expected,
                                           describe_parameter_value(event_ndims)))
  }
  as.integer(to + extra)
}

#' @export
object_change_hint.bijector <- function(x) {
  "Create a new bijector instead, or use trainable_parameters<- for its parameters."
}

# Per-kind methods, dispatched on the bijector's class.
bijector_forward <- function(bijector, x) {
  UseMethod("bijector_forward")
}
bijector_inverse <- function(bijector, y) {
  UseMethod("bijector_inverse")
}
bijector_forward_log_det_jacobian <- function(bijector, x, event_ndims) {
  UseMethod("bijector_forward_log_det_jacobian")
}
bijector_inverse_log_det_jacobian <- function(bijector, y, event_ndims) {
  UseMethod("bijector_inverse_log_det_jacobian")
}

# A kind that supplies only its forward log-det gets TFP's inverse one:
# -fldj(inverse(y)), at the event rank of x. Kinds supply their own where
# that is more accurate or cheaper.
#' @export
bijector_inverse_log_det_jacobian.default <- function(bijector, y,
                                                      event_ndims) {
  x <- bijector_inverse(bijector, y)
  -bijector_forward_log_det_jacobian(bijector, x,
                                     event_ndims - rank_change(bijector))
}

# The inverse and its log-det in one pass, as a transformed distribution's
# log_prob() needs them: list(x = , log_det = ). Kinds whose inverse already
# computes what the log-det needs (batch normalization's batch variance, a
# network's log-scales) override it; a batch-normalization layer in training
# mode then updates its running statistics once per call.
bijector_inverse_and_log_det <- function(bijector, y, event_ndims) {
  UseMethod("bijector_inverse_and_log_det")
}

#' @export
bijector_inverse_and_log_det.default <- function(bijector, y, event_ndims) {
  log_det <- bijector_inverse_log_det_jacobian(bijector, y, event_ndims)
  list(x = bijector_inverse(bijector, y), log_det = log_det)
}

# The forward map and its log-det in one pass: list(y = , log_det = ). What
# an inverted bijector's density and a chain's forward log-det need; kinds
# whose forward is expensive (a MAF's D sequential passes) override it.
bijector_forward_and_log_det <- function(bijector, x, event_ndims) {
  UseMethod("bijector_forward_and_log_det")
}

#' @export
bijector_forward_and_log_det.default <- function(bijector, x, event_ndims) {
  log_det <- bijector_forward_log_det_jacobian(bijector, x, event_ndims)
  list(y = bijector_forward(bijector, x), log_det = log_det)
}

#' Apply a bijector or its inverse
#'
#' The generic helpers of tfprobability. `tfb_forward()` maps `x` through the
#' bijector, `tfb_inverse()` maps `y` back; each is the same as the method
#' call `bijector$forward(x)` or `bijector$inverse(y)`.
#'
#' For [tfb_batch_normalization()] the inverse is the direction that
#' normalizes data (data to latent space), and the forward direction
#' de-normalizes.
#'
#' @param bijector A bijector, such as one made by [tfb_batch_normalization()].
#' @param x,y A numeric vector, matrix, array or numeric data frame: `N`
#'   events of `D` features as a matrix with `dim = c(N, D)`; a plain vector
#'   is one event. Integer input is converted to double.
#' @param name A string, accepted for compatibility with tfprobability and
#'   otherwise unused.
#' @return A double array with the shape, `dim` and `dimnames` of the input
#'   (a matrix for a data frame).
#' @family bijector methods
#' @seealso [tfb_forward_log_det_jacobian()] for the log-determinants;
#'   `tfprobability::tfb_forward()`.
#' @examples
#' b <- tfb_batch_normalization(training = FALSE)
#' y <- matrix(c(1, 2, 3, 4, 5, 6), ncol = 2)
#' x <- tfb_inverse(b, y)
#' tfb_forward(b, x)
#' b$inverse(y)
#' @export
tfb_forward <- function(bijector, x, name = "forward") {
  if (!inherits(bijector, "bijector")) {
    check_bijector(bijector)
  }
  apply_forward(bijector, x)
}

#' @rdname tfb_forward
#' @export
tfb_inverse <- function(bijector, y, name = "inverse") {
  if (!inherits(bijector, "bijector")) {
    check_bijector(bijector)
  }
  apply_inverse(bijector, y)
}

# The maps as a transaction on the running statistics they may move; most
# bijectors have none at risk, and then the map is called directly (these
# run once per call of the methods users put in loops).
apply_forward <- function(bijector, x) {
  layers <- statistics_at_risk(bijector)
  if (length(layers) == 0L) {
    return(bijector_forward(bijector, x))
  }
  with_statistics_rollback(bijector, bijector_forward(bijector, x),
                           layers = layers)
}

apply_inverse <- function(bijector, y) {
  layers <- statistics_at_risk(bijector)
  if (length(layers) == 0L) {
    return(bijector_inverse(bijector, y))
  }
  with_statistics_rollback(bijector, bijector_inverse(bijector, y),
                           layers = layers)
}

#' Log-determinant of a bijector's Jacobian
#'
#' `tfb_forward_log_det_jacobian()` is `log|det J|` of the forward map at `x`;
#' `tfb_inverse_log_det_jacobian()` is that of the inverse map at `y`. As in
#' TensorFlow Probability, `event_ndims` says how many rightmost dimensions
#' of the input make up one event; log-determinants are summed over them.
#'
#' For bijectors whose log-determinant does not depend on the event (such as
#' batch normalization) the result is a single number. When `event_ndims`
#' exceeds the bijector's minimum, the number is multiplied by the number of
#' elements in the extra event dimensions, as TFP does.
#'
#' @inheritParams tfb_forward
#' @param event_ndims A whole number, at least the bijector's
#'   `forward_min_event_ndims` (or `inverse_min_event_ndims`) and at most the
#'   rank of the input (`length(dim(x))`, or 1 for a vector). Required, as in
#'   tfprobability.
#' @return A single number for batch normalization.
#' @family bijector methods
#' @seealso `tfprobability::tfb_forward_log_det_jacobian()`.
#' @examples
#' b <- tfb_batch_normalization()
#' y <- matrix(rnorm(20, mean = 3, sd = 2), ncol = 2)
#' tfb_inverse_log_det_jacobian(b, y, event_ndims = 1)
#' b$forward_log_det_jacobian(y, event_ndims = 1)
#' # a third dimension in the event multiplies the scalar by its size
#' tfb_inverse_log_det_jacobian(b, array(rnorm(24), c(3, 4, 2)), event_ndims = 2)
#' @export
tfb_forward_log_det_jacobian <- function(bijector, x, event_ndims,
                                         name = "forward_log_det_jacobian") {
  if (missing(event_ndims)) {
    event_ndims <- NULL
  }
  log_det_call(bijector, x, event_ndims, bijector_forward_log_det_jacobian,
               "x", "forward_min_event_ndims")
}

#' @rdname tfb_forward_log_det_jacobian
#' @export
tfb_inverse_log_det_jacobian <- function(bijector, y, event_ndims,
                                         name = "inverse_log_det_jacobian") {
  if (missing(event_ndims)) {
    event_ndims <- NULL
  }
  log_det_call(bijector, y, event_ndims, bijector_inverse_log_det_jacobian,
               "y", "inverse_min_event_ndims")
}

# The base's part of every kind's log-det: the input as a double array and
# the event_ndims rule, checked before the kind runs, and the running
# statistics put back if the call fails.
log_det_call <- function(bijector, input, event_ndims, kind_log_det, arg,
                         min_field) {
  check_bijector(bijector)
  if (length(.subset2(bijector, min_field)) != 1L) {
    # a multipart direction (tfb_split's inverse): a list of parts and one
    # event_ndims per part, which the kind checks
    return(kind_log_det(bijector, input, event_ndims))
  }
  input <- as_input_array(input, arg)
  event_ndims <- check_event_ndims(event_ndims, .subset2(bijector, min_field),
                                   length(input_dims(input)), arg)
  with_statistics_rollback(bijector,
                           kind_log_det(bijector, input, event_ndims))
}

#' @export
format.bijector <- function(x, ...) {
  # a multipart direction (tfb_split's inverse) has one value per part
  format_ndims <- function(ndims) {
    if (length(ndims) == 1L) format(ndims) else format_shape(ndims)
  }
  c(
    sprintf("<%s> \"%s\"", class(x)[[1L]], .subset2(x, "name")),
    sprintf("  forward_min_event_ndims: %s, inverse_min_event_ndims: %s",
            format_ndims(.subset2(x, "forward_min_event_ndims")),
            format_ndims(.subset2(x, "inverse_min_event_ndims")))
  )
}
