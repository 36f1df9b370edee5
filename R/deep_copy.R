# Deep copies of the package's reference objects.

#' Deep copy of a flow, bijector, distribution, layer or template
#'
#' The objects of this package are **references**, as keras models and R6
#' objects are: a bijector, a distribution, a batch-normalization layer and
#' a network template each live in an environment, and `backup <- flow`
#' makes a second name for the same flow, not a copy. Training `flow` with
#' [fit()], assigning `trainable_parameters(flow) <- value` (also inside a
#' function you pass `flow` to) or running a training-mode batch
#' normalization through `flow$log_prob()` changes what `backup` shows
#' too. `deep_copy()` makes an independent copy: new objects all the way
#' down, with copies of the trainable parameters, Adam's moments and step
#' counts, and the running statistics of every batch-normalization layer.
#' Training one afterwards leaves the other as it was.
#'
#' Sharing inside the object is kept: a layer or template used by two
#' bijectors of `x` (a training and an evaluation view of one layer, a
#' template reused by two flows) is one layer or template in the copy too,
#' shared by the two copied bijectors. R functions given as
#' `shift_and_log_scale_fn` or `gamma_constraint` are not copied (they hold
#' no parameters of the package).
#'
#' The name follows what the copy is, not keras: keras' `clone_model()`
#' makes a model of the same architecture with **new** weights, whereas
#' `deep_copy()` keeps every value, as R6's `clone(deep = TRUE)` does; and
#' it does not mask `data.table::copy()`.
#'
#' Fields read with `$` and values returned by [trainable_parameters()] and
#' [get_weights()] are already copies: they never change when the object
#' does. A copy through [saveRDS()] and [readRDS()] is also independent.
#'
#' @param x A bijector, a distribution (such as a
#'   [tfd_transformed_distribution()]), a layer from
#'   [layer_batch_normalization()] or a network template.
#' @return An object of the same class as `x`, sharing nothing with it that
#'   training can change.
#' @family training
#' @seealso [fit.tfd_transformed_distribution()], [trainable_parameters()].
#' @examples
#' flow <- tfd_transformed_distribution(
#'   tfd_multivariate_normal_diag(loc = c(0, 0)),
#'   tfb_chain(list(tfb_shift(c(0, 0)), tfb_scale(c(1, 1))))
#' )
#' alias <- flow               # the same flow under a second name
#' backup <- deep_copy(flow)   # an independent copy
#' y <- matrix(rnorm(200, mean = 3), ncol = 2)
#' fit(flow, y, epochs = 2, learning_rate = 0.1, verbose = FALSE)
#' trainable_parameters(alias)[["1_shift/shift"]]    # moved with flow
#' trainable_parameters(backup)[["1_shift/shift"]]   # still c(0, 0)
#' @export
deep_copy <- function(x) {
  if (!is_package_object(x)) {
    abort_bijectors("argument", sprintf(paste(
      "`x` must be a bijector, a distribution, a batch-normalization layer",
      "or a network template, not %s."), describe_value(x)))
  }
  copies <- new.env(parent = emptyenv())
  copies$originals <- list()
  copies$copies <- list()
  copy_reference_value(x, copies)
}

is_package_object <- function(x) {
  is.environment(x) &&
    inherits(x, c("bijector", "distribution", "layer_batch_normalization",
                  "bijectors_template"))
}

# Copies `value` for deep_copy(). `copies` records each object already
# copied, so that an object reached twice is copied once.
copy_reference_value <- function(value, copies) {
  if (is_package_object(value)) {
    for (k in seq_along(copies$originals)) {
      if (identical(copies$originals[[k]], value)) {
        return(copies$copies[[k]])
      }
    }
    copy <- new.env(parent = emptyenv())
    copies$originals[[length(copies$originals) + 1L]] <- value
    copies$copies[[length(copies$copies) + 1L]] <- copy
    for (name in ls(value, all.names = TRUE, sorted = TRUE)) {
      field <- get(name, envir = value, inherits = FALSE)
      # A batch-normalization layer's pointer is a cache, made anew for the
      # copy on its first use.
      if (name == "pointer" && inherits(value, "layer_batch_normalization")) {
        field <- NULL
      }
      assign(name, copy_reference_value(field, copies), envir = copy)
    }
    attributes(copy) <- attributes(value)
    return(copy)
  }
  if (is.list(value) && !is.object(value)) {
    copy <- lapply(value, copy_reference_value, copies = copies)
    attributes(copy) <- attributes(value)
    return(copy)
  }
  copy_value(value)
}
