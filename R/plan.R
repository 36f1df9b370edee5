# A compiled training plan: fit() describes its flow's chain once, as a
# list of operations that src/plan.c walks in one .Call for the inverse
# pass and one for the backward pass, instead of dispatching on every
# member and re-checking shapes on every step. The operations call the same
# C entry points as the R path, in the same order, so losses, gradients and
# running statistics are identical to it (tests/testthat/test-plan.R).
#
# The plan lives in fit()'s run environment only, never in the bijector or
# the distribution, so it cannot reach a saved object. Flows with members
# it does not know keep the R path; `options(bijectors.compiled_plan =
# FALSE)` forces the R path everywhere.

# Operation codes of src/plan.c.
plan_operation_codes <- c(maf = 1L, batch_normalization = 2L, permute = 3L,
                          chain = 4L)

# The networks' workspace of the plans log_prob() compiles on each call:
# one for all their MAF operations (an inverse pass alone keeps nothing
# from one operation to the next), kept for the session so that a call
# does not allocate the networks' hidden outputs anew. A fit's plan gives
# each MAF its own, which holds the inverse pass's values for the backward
# pass.
plan_shared_workspace <- new.env(parent = emptyenv())

# Whether fit() and log_prob() may compile plans: the option, TRUE when
# unset. Anything but TRUE or FALSE is refused (`"no"` used to count as
# enabled, since only FALSE was looked for). Read without getOption()'s
# `default`, which lists every option (2.6 us, on each log_prob() call).
compiled_plan_enabled <- function() {
  enabled <- getOption("bijectors.compiled_plan")
  if (is.null(enabled)) {
    return(TRUE)
  }
  if (!is.logical(enabled) || length(enabled) != 1L || is.na(enabled)) {
    abort_bijectors("option", sprintf(
      "`options(bijectors.compiled_plan = )` must be TRUE or FALSE, not %s.",
      describe_value(enabled)))
  }
  enabled
}

# The plan of a transformed distribution trained on events of its event
# size: list(operations = , per_row = , count = ), or "unbuilt" when a
# network or layer does not exist yet (a plan can be compiled after the
# first step), or "unsupported" for anything the plan does not know.
# `count` is the number of parameter slots (fit()'s all_slots).
# `workspace`: NULL for one workspace per MAF operation (what a backward
# pass needs), or an environment that all of them share.
compile_plan <- function(distribution, count, workspace = NULL) {
  base <- .subset2(distribution, "distribution")
  event_shape <- .subset2(distribution, "event_shape")
  if (!identical(class(base)[[1L]], "tfd_multivariate_normal_diag") ||
      length(event_shape) != 1L) {
    return("unsupported")
  }
  size <- as.integer(event_shape)
  compiled <- tryCatch(
    list(plan_operation(.subset2(distribution, "bijector"), size,
                        workspace)),
    bijectors_plan_unbuilt = function(condition) "unbuilt",
    bijectors_plan_unsupported = function(condition) "unsupported")
  if (is.character(compiled)) {
    return(compiled)
  }
  list(operations = compiled, per_row = plan_has_per_row_log_det(compiled),
       count = as.integer(count))
}

plan_stop <- function(what) {
  stop(structure(class = c(paste0("bijectors_plan_", what), "condition"),
                 list(message = what, call = NULL)))
}

# One member as an operation, for events of `size` values (every kind the
# plan knows keeps the event size).
plan_operation <- function(bijector, size, workspace) {
  kind <- class(bijector)[[1L]]
  if (isTRUE(.subset2(bijector, "validate_args"))) {
    plan_stop("unsupported")
  }
  switch(kind,
    tfb_chain = list(
      plan_operation_codes[["chain"]],
      lapply(.subset2(bijector, "bijectors"), plan_operation, size = size,
             workspace = workspace)),
    tfb_masked_autoregressive_flow = plan_maf(bijector, size, workspace),
    tfb_batch_normalization = plan_batch_normalization(bijector, size),
    tfb_permute = plan_permute(bijector, size),
    plan_stop("unsupported")
  )
}

plan_maf <- function(bijector, size, workspace) {
  fn <- .subset2(bijector, "shift_and_log_scale_fn")
  if (!is_template(fn) ||
      !identical(class(fn)[[1L]], "tfb_masked_autoregressive_template") ||
      !identical(.subset2(bijector, "forward_min_event_ndims"), 1L)) {
    plan_stop("unsupported")
  }
  if (!template_built(fn)) {
    plan_stop("unbuilt")
  }
  if (.subset2(fn, "input_size") != size ||
      .subset2(fn, "output_units") != size) {
    plan_stop("unsupported")
  }
  conditioned <- template_conditioned(fn, NULL, size, made = TRUE)
  layers <- length(.subset2(fn, "kernels"))
  # columns 0-based; the workspace holds the network's buffers, and the
  # last environment the masks' extents (its own even when the workspace
  # is shared)
  list(plan_operation_codes[["maf"]], fn, seq_len(size) - 1L,
       as.integer(conditioned$shift_columns) - 1L,
       as.integer(conditioned$log_scale_columns) - 1L,
       as.double(conditioned$clip),
       isTRUE(.subset2(fn, "log_scale_clip_gradient")),
       template_trained_slots(fn, layers),
       workspace %||% new.env(parent = emptyenv()),
       new.env(parent = emptyenv()))
}

plan_batch_normalization <- function(bijector, size) {
  layer <- .subset2(bijector, "batchnorm")
  if (length(.subset2(layer, "axis")) != 1L ||
      !.subset2(layer, "axis") %in% c(-1L, 2L)) {
    plan_stop("unsupported")
  }
  if (is.null(.subset2(layer, "state"))) {
    plan_stop("unbuilt")
  }
  if (!identical(as.integer(.subset2(layer, "feature_shape")), size)) {
    plan_stop("unsupported")
  }
  list(plan_operation_codes[["batch_normalization"]], layer, 2L,
       .subset2(layer, "momentum"), .subset2(layer, "epsilon"),
       .subset2(layer, "center"), .subset2(layer, "scale"),
       log_det_multiplier(c(2L, size), 1L, 1L),
       isTRUE(.subset2(bijector, "training")))
}

plan_permute <- function(bijector, size) {
  permutation <- .subset2(bijector, "permutation")
  if (!.subset2(bijector, "axis") %in% c(-1L, 2L) ||
      length(permutation) != size) {
    plan_stop("unsupported")
  }
  # the environment keeps the fused step's results (src/plan.c)
  list(plan_operation_codes[["permute"]],
       inverse_permutation(permutation), as.integer(permutation),
       new.env(parent = emptyenv()))
}

# Whether some operation has one log-det per row: otherwise the R path's
# total log-det is one number, and its gradient -1 rather than -1 / rows
# per row (a different sum in floating point).
plan_has_per_row_log_det <- function(operations) {
  for (operation in operations) {
    code <- operation[[1L]]
    if (code == plan_operation_codes[["maf"]] ||
        (code == plan_operation_codes[["chain"]] &&
           plan_has_per_row_log_det(operation[[2L]]))) {
      return(TRUE)
    }
  }
  FALSE
}

# loss_and_gradient_unchecked() through a plan: the inverse pass in C, the
# base distribution's log-density and the loss in R exactly as there, the
# backward pass in C.
plan_loss_and_gradient <- function(plan, distribution, x, slots,
                                   bookkeeping) {
  pass <- .Call(C_plan_inverse, plan$operations, x)
  if (is.integer(pass)) {
    refusal <- bn_refusal_errors[[pass]]
    abort_bijectors(refusal[["what"]], refusal[["message"]])
  }
  base <- distribution_log_prob_gradient(.subset2(distribution,
                                                  "distribution"), pass[[1L]])
  events <- length(base$log_prob)
  loss <- -mean(base$log_prob + pass[[2L]])
  grad_rows <- if (!plan$per_row || events == 1L) -1 else
    rep(-1 / events, events)
  backward <- .Call(C_plan_backward, plan$operations, pass[[3L]],
                    -base$gradient / events, grad_rows, sum(grad_rows),
                    plan$count)
  gradient <- sum_shared_gradients(slots, backward$parameters, bookkeeping)
  names(gradient) <- bookkeeping$names
  # `finite`: the gradients are known to be finite (C checked them, and no
  # two slots share an array, whose sum might overflow); see step_is_finite()
  list(loss = loss, gradient = gradient,
       finite = backward$finite && all(bookkeeping$first))
}

# distribution_log_prob() of a transformed distribution through a plan,
# for a double matrix `value` of events (checked against the event shape
# by the caller): one .Call (src/plan_log_prob.c) for the inverse pass, the
# base's log-density and the log-det, with R's arithmetic, and the running
# statistics of the training-mode layers put back there when the pass
# fails. NULL when the flow has no plan (or its networks and layers are not
# built yet, or `value` has no rows): the R path then runs.
plan_log_prob <- function(distribution, value) {
  if (!is.double(value) || length(dim(value)) != 2L || nrow(value) < 1L ||
      !compiled_plan_enabled()) {
    return(NULL)
  }
  plan <- cached_log_prob_plan(distribution)
  if (!is.list(plan)) {
    return(NULL)
  }
  # the base's parameters read at each call, as the R path reads them
  base <- .subset2(distribution, "distribution")
  log_prob <- .Call(C_plan_log_prob, plan$operations, value,
                    list(.subset2(base, "loc"), .subset2(base, "scale_diag"),
                         .subset2(base, "log_normalizer")),
                    plan$per_row, plan$layers)
  release_large_workspace(plan_shared_workspace)
  if (is.integer(log_prob)) {
    refusal <- bn_refusal_errors[[log_prob]]
    abort_bijectors(refusal[["what"]], refusal[["message"]])
  }
  log_prob
}

# The most doubles the shared workspace keeps after a log_prob() (64 MB:
# some 30000 rows of a MAF with two hidden layers of 64 units). A larger
# buffer, made for one very large batch, is dropped after its call: kept,
# it would hold its memory for the rest of the session (212 MB after one
# log_prob() of 1e5 rows through that MAF). Below the limit the buffer is
# kept, since a fresh one costs its page faults on every call (1.4 to 2
# times the time of a log_prob() of 6000 rows). The option
# `bijectors.plan_workspace_keep` (doubles) changes the limit, for tests.
plan_workspace_keep <- function() {
  getOption("bijectors.plan_workspace_keep") %||% 2^23
}

release_large_workspace <- function(workspace) {
  if (length(.subset2(workspace, "buffer")) > plan_workspace_keep()) {
    rm("buffer", envir = workspace)
  }
  invisible()
}

# The log_prob() plan of `distribution`: the one compiled for it last
# time when it was the last distribution asked (the same environment),
# otherwise compiled now, and kept when compiled. A plan depends only on
# the distribution's structure, which does not change once its networks and
# layers are built (the arrays are read at each call), so it stays valid;
# the cost is that the last distribution stays referenced here until
# another one replaces it.
cached_log_prob_plan <- function(distribution) {
  cache <- plan_shared_workspace
  if (identical(cache$distribution, distribution)) {
    return(cache$plan)
  }
  plan <- compile_plan(distribution, 0L, cache)
  if (is.list(plan)) {
    # the layers whose statistics a call may move (fixed with the plan)
    plan$layers <- training_batchnorm_layers(.subset2(distribution,
                                                      "bijector"))
    cache$distribution <- distribution
    cache$plan <- plan
  }
  plan
}

# The plan of a fit run, compiled on the first step at which every network
# and layer exists; NULL while there is none (then the step takes the R
# path). run$plan is NULL before that, FALSE when the flow has no plan.
fit_plan <- function(run) {
  plan <- run$plan
  if (is.list(plan)) {
    return(plan)
  }
  if (isFALSE(plan)) {
    return(NULL)
  }
  compiled <- compile_plan(run$object, length(run$all_slots))
  if (identical(compiled, "unbuilt")) {
    return(NULL)
  }
  if (!is.list(compiled)) {
    run$plan <- FALSE
    return(NULL)
  }
  run$plan <- compiled
  compiled
}
