# The compiled training plan (R/plan.R, src/plan.c): fit() through the plan
# must give exactly the numbers of the R path (options(bijectors.compiled_plan
# = FALSE)): losses, every gradient, running statistics, parameters, errors.

# K blocks of [MAF, (batch normalization), permute] on D columns; `nest`
# puts each block in a chain of its own.
plan_flow <- function(seed, D, activation = "relu", blocks = 2L,
                      batch_norm = TRUE, clip = c(-5, 3),
                      clip_gradient = FALSE, permutation = rev(seq_len(D)),
                      nest = FALSE, epsilon = 1e-3) {
  set.seed(seed)
  members <- list()
  for (k in seq_len(blocks)) {
    block <- list(
      tfb_masked_autoregressive_flow(
        tfb_masked_autoregressive_default_template(
          c(9, 9), activation = activation, log_scale_min_clip = clip[[1L]],
          log_scale_max_clip = clip[[2L]],
          log_scale_clip_gradient = clip_gradient)),
      if (batch_norm) {
        tfb_batch_normalization(layer_batch_normalization(epsilon = epsilon))
      },
      tfb_permute(permutation))
    block <- block[!vapply(block, is.null, logical(1))]
    members <- c(members, if (nest) list(tfb_chain(block)) else block)
  }
  tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = rep(0, D)), tfb_chain(members))
}

plan_data <- function(seed, rows, D) {
  set.seed(seed)
  x <- matrix(rnorm(rows * D), rows, D)
  # dependent columns, so that the networks have something to learn
  x[, D] <- x[, D] + 0.5 * x[, 1L]^2
  x
}

# Everything a fit leaves behind: the history's losses, the parameters, the
# running statistics.
fit_outcome <- function(compiled, make_flow, data, epochs = 3L,
                        batch_size = 64L, learning_rate = 0.01) {
  withr::local_options(bijectors.compiled_plan = compiled)
  force(data)
  flow <- make_flow()
  set.seed(99)
  fused <- NULL
  steps <- count_plan_steps(
    fused <- count_plan_steps(
      history <- fit(flow, data, epochs = epochs, batch_size = batch_size,
                     learning_rate = learning_rate, verbose = FALSE),
      "fused_fit_step"))
  list(loss = history$loss, parameters = trainable_parameters(flow),
       statistics = lapply(bijectors:::bijector_batchnorm_layers(
         .subset2(flow, "bijector")), get_weights),
       adam = adam_state(flow), steps = history$steps,
       plan_steps = steps + fused, fused_steps = fused)
}

# Adam's moments and step counts of every parameter of a flow.
adam_state <- function(flow) {
  lapply(bijectors:::bijector_parameter_slots(.subset2(flow, "bijector")),
         function(slot) {
           lapply(c("adam_m_", "adam_v_", "adam_steps_"), function(prefix) {
             get0(paste0(prefix, slot$field), envir = slot$owner)
           })
         })
}

# How many calls of the plan function `what` during `expr` ran the plan
# (returned something other than NULL).
count_plan_steps <- function(expr, what = "plan_loss_and_gradient") {
  counter <- new.env()
  counter$steps <- 0L
  suppressMessages(trace(
    what, where = asNamespace("bijectors"), print = FALSE,
    exit = bquote(if (!is.null(returnValue())) {
      assign("steps", get("steps", envir = .(counter)) + 1L,
             envir = .(counter))
    })))
  on.exit(suppressMessages(untrace(what, where = asNamespace("bijectors"))))
  expr
  counter$steps
}

# `planned`: whether the flow has a plan (then every step but the first,
# which builds the networks, goes through it); `fused`: whether those steps
# are fused steps (src/fit_step.c): all of them, as with the plan.
expect_same_fit <- function(make_flow, data, ..., planned = TRUE,
                            fused = planned) {
  force(data)   # plan_data() sets the seed: not inside a fit
  with_plan <- fit_outcome(TRUE, make_flow, data, ...)
  without <- fit_outcome(FALSE, make_flow, data, ...)
  expect_identical(without$plan_steps, 0L)
  if (planned) {
    expect_gt(with_plan$plan_steps, 3L)
    expect_identical(with_plan$plan_steps, with_plan$steps - 1L)
  } else {
    expect_identical(with_plan$plan_steps, 0L)
  }
  if (fused) {
    expect_identical(with_plan$fused_steps, with_plan$steps - 1L)
  } else {
    expect_identical(with_plan$fused_steps, 0L)
  }
  with_plan$plan_steps <- without$plan_steps <- NULL
  with_plan$fused_steps <- without$fused_steps <- NULL
  expect_identical(with_plan, without)
  # and training did something: the parameters moved
  set.seed(0)
  initial <- make_flow()
  invisible(initial$log_prob(data[1:4, , drop = FALSE]))
  expect_false(identical(with_plan$parameters,
                         trainable_parameters(initial)))
}

test_that("the flows of the plan compile, others do not", {
  flow <- plan_flow(1, 3)
  expect_identical(bijectors:::compile_plan(flow, 0L), "unbuilt")
  invisible(flow$log_prob(plan_data(1, 10, 3)))
  slots <- bijectors:::bijector_parameter_slots(.subset2(flow, "bijector"))
  plan <- bijectors:::compile_plan(flow, length(slots))
  expect_type(plan, "list")
  expect_length(plan$operations, 1L)
  expect_true(plan$per_row)

  shifted <- tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = c(0, 0)),
    tfb_chain(list(tfb_shift(c(1, 2)), tfb_permute(2:1))))
  expect_identical(bijectors:::compile_plan(shifted, 1L), "unsupported")
  validated <- tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = c(0, 0)),
    tfb_masked_autoregressive_flow(
      tfb_masked_autoregressive_default_template(c(4, 4)),
      validate_args = TRUE))
  invisible(validated$log_prob(plan_data(1, 10, 2)))
  expect_identical(bijectors:::compile_plan(validated, 4L), "unsupported")
  evaluation <- tfd_transformed_distribution(
    tfd_multivariate_normal_diag(loc = c(0, 0)),
    tfb_batch_normalization(training = FALSE))
  invisible(evaluation$log_prob(plan_data(1, 10, 2)))
  expect_false(bijectors:::compile_plan(evaluation, 2L)$per_row)
})

test_that("one loss and gradient through the plan is the R path's, bit for bit", {
  for (activation in c("relu", "tanh")) {
    flow <- plan_flow(2, 3, activation = activation)
    data <- plan_data(3, 50, 3)
    invisible(flow$log_prob(data))
    copy <- deep_copy(flow)
    slots <- bijectors:::bijector_parameter_slots(.subset2(flow, "bijector"))
    bookkeeping <- bijectors:::slot_bookkeeping(slots)
    plan <- bijectors:::compile_plan(flow, length(slots))
    through_plan <- bijectors:::plan_loss_and_gradient(plan, flow, data, slots,
                                                       bookkeeping)
    copy_slots <- bijectors:::bijector_parameter_slots(
      .subset2(copy, "bijector"))
    r_path <- bijectors:::loss_and_gradient_unchecked(
      copy, data, FALSE, copy_slots, bijectors:::slot_bookkeeping(copy_slots))
    expect_true(through_plan$finite)
    expect_identical(through_plan[c("loss", "gradient")], r_path)
    expect_identical(get_weights(.subset2(.subset2(flow, "bijector"),
                                          "bijectors")[[2L]]),
                     get_weights(.subset2(.subset2(copy, "bijector"),
                                          "bijectors")[[2L]]))
    # and the gradient is right: against central differences for one bias
    name <- "1_masked_autoregressive_flow/layer1/bias"
    values <- trainable_parameters(copy)
    loss_at <- function(h) {
      moved <- deep_copy(copy)
      v <- values
      v[[name]][[2L]] <- v[[name]][[2L]] + h
      trainable_parameters(moved) <- v
      loss_and_gradient(moved, data)$loss
    }
    h <- 1e-5
    expect_equal(through_plan$gradient[[name]][[2L]],
                 (loss_at(h) - loss_at(-h)) / (2 * h), tolerance = 1e-6)
  }
})

test_that("fit() with the plan is identical to the R path: activations, sizes", {
  for (activation in c("relu", "tanh")) {
    for (D in c(2L, 3L, 8L)) {
      # 150 rows in batches of 64: the last batch is smaller
      expect_same_fit(function() plan_flow(4, D, activation = activation),
                      plan_data(5, 150, D))
    }
  }
})

test_that("fit() with the plan is identical: no batch normalization, clipping, permutations, nesting", {
  D <- 4L
  data <- plan_data(6, 130, D)
  expect_same_fit(function() plan_flow(7, D, batch_norm = FALSE), data)
  # a clip range that is active: both gradient rules
  for (clip_gradient in c(FALSE, TRUE)) {
    expect_same_fit(function() {
      plan_flow(8, D, clip = c(-0.05, 0.02), clip_gradient = clip_gradient)
    }, data)
  }
  expect_same_fit(function() plan_flow(9, D, permutation = c(3L, 1L, 4L, 2L)),
                  data)
  expect_same_fit(function() plan_flow(10, D, nest = TRUE, blocks = 3L), data)
  # a chain with no per-row log-det (batch normalization and permutations)
  expect_same_fit(function() {
    tfd_transformed_distribution(
      tfd_multivariate_normal_diag(loc = rep(0, D)),
      tfb_chain(list(tfb_batch_normalization(), tfb_permute(D:1),
                     tfb_batch_normalization())))
  }, data)
})

test_that("fit() with the plan is identical with evaluation-mode batch normalization", {
  D <- 3L
  expect_same_fit(function() {
    set.seed(22)
    tfd_transformed_distribution(
      tfd_multivariate_normal_diag(loc = rep(0, D)),
      tfb_chain(list(
        tfb_masked_autoregressive_flow(
          tfb_masked_autoregressive_default_template(c(6, 6))),
        tfb_batch_normalization(training = FALSE),
        tfb_permute(c(2L, 3L, 1L)))))
  }, plan_data(23, 100, D))
})

# log_prob() and the running statistics it leaves, with the plan or not.
log_prob_outcome <- function(compiled, flow, value) {
  withr::local_options(bijectors.compiled_plan = compiled)
  flow <- deep_copy(flow)
  result <- tryCatch(flow$log_prob(value), error = function(e) {
    list(class = class(e), message = conditionMessage(e))
  })
  list(result = result,
       statistics = lapply(bijectors:::bijector_batchnorm_layers(
         .subset2(flow, "bijector")), get_weights),
       plan_steps = count_plan_steps(
         evaluation_mode(flow)$log_prob(value[1:2, , drop = FALSE]),
         "plan_log_prob"))
}

test_that("log_prob() through the plan is the R path's, bit for bit", {
  for (activation in c("relu", "tanh")) {
    for (D in c(2L, 3L, 8L)) {
      flow <- plan_flow(24, D, activation = activation, blocks = 3L)
      data <- plan_data(25, 70, D)
      invisible(flow$log_prob(data))
      value <- plan_data(26, 40, D)
      dimnames(value) <- list(paste0("r", 1:40), paste0("c", seq_len(D)))
      with_plan <- log_prob_outcome(TRUE, flow, value)
      without <- log_prob_outcome(FALSE, flow, value)
      expect_identical(with_plan[1:2], without[1:2])
      expect_identical(c(with_plan$plan_steps, without$plan_steps), c(1L, 0L))
      expect_true(is.numeric(with_plan$result))
      expect_identical(names(with_plan$result), rownames(value))
      # and it is a density: against the R path of a reference flow
      expect_false(identical(with_plan$statistics,
                             lapply(bijectors:::bijector_batchnorm_layers(
                               .subset2(flow, "bijector")), get_weights)))
      evaluated <- evaluation_mode(flow)
      withr::with_options(list(bijectors.compiled_plan = TRUE), {
        a <- evaluated$log_prob(value)
      })
      withr::with_options(list(bijectors.compiled_plan = FALSE), {
        b <- evaluated$log_prob(value)
      })
      expect_identical(a, b)
    }
  }
})

test_that("log_prob()'s kept intermediate matrices leave every call's result the R path's", {
  # batches up to 16384 values reuse the networks' and permutations'
  # results from call to call; larger ones get fresh matrices
  flow <- evaluation_mode(plan_flow(40, 8L, blocks = 3L))
  sizes <- c(30L, 30L, 256L, 7L, 2100L, 30L)
  results <- list()
  for (k in seq_along(sizes)) {
    value <- plan_data(40 + k, sizes[[k]], 8L)
    rownames(value) <- if (k %% 2 == 0) paste0("row", seq_len(sizes[[k]]))
    withr::with_options(list(bijectors.compiled_plan = TRUE), {
      results[[k]] <- flow$log_prob(value)
      expect_identical(count_plan_steps(flow$log_prob(value),
                                        "plan_log_prob"), 1L)
    })
    withr::with_options(list(bijectors.compiled_plan = FALSE), {
      expected <- flow$log_prob(value)
    })
    expect_identical(results[[k]], expected, label = sprintf("call %d", k))
    expect_identical(names(results[[k]]), rownames(value))
  }
  # an earlier result is the caller's own: later calls do not touch it
  withr::with_options(list(bijectors.compiled_plan = FALSE), {
    expect_identical(results[[1]], flow$log_prob(plan_data(41, 30L, 8L)))
  })
  expect_false(identical(results[[1]], results[[2]]))
})

test_that("log_prob()'s cached plan follows parameter changes", {
  flow <- plan_flow(30, 3)
  data <- plan_data(31, 30, 3)
  invisible(flow$log_prob(data))
  evaluated <- evaluation_mode(flow)
  log_probs <- function(compiled) {
    withr::local_options(bijectors.compiled_plan = compiled)
    first <- evaluated$log_prob(data)
    p <- trainable_parameters(evaluated)
    p[[1L]] <- p[[1L]] * 1.5
    trainable_parameters(evaluated) <- p
    second <- evaluated$log_prob(data)
    p[[1L]] <- p[[1L]] / 1.5
    trainable_parameters(evaluated) <- p
    list(first, second)
  }
  with_plan <- log_probs(TRUE)
  expect_identical(with_plan, log_probs(FALSE))
  expect_false(identical(with_plan[[1L]], with_plan[[2L]]))
  # the second call of a distribution reuses its plan
  withr::local_options(bijectors.compiled_plan = TRUE)
  invisible(evaluated$log_prob(data))
  expect_identical(bijectors:::plan_shared_workspace$distribution, evaluated)
})

test_that("log_prob() through the plan refuses what the R path refuses", {
  flow <- plan_flow(27, 3)
  invisible(flow$log_prob(plan_data(28, 30, 3)))
  value <- plan_data(29, 10, 3)
  value[3, 2] <- NaN
  with_plan <- log_prob_outcome(TRUE, flow, value)
  expect_identical(with_plan[1:2], log_prob_outcome(FALSE, flow, value)[1:2])
  expect_true("bijectors_error_nonfinite" %in% with_plan$result$class)
  # evaluation mode: NaN rows, as the R path gives them
  evaluated <- evaluation_mode(flow)
  a <- withr::with_options(list(bijectors.compiled_plan = TRUE),
                           evaluated$log_prob(value))
  b <- withr::with_options(list(bijectors.compiled_plan = FALSE),
                           evaluated$log_prob(value))
  expect_identical(a, b)
  expect_true(is.nan(a[[3L]]))
  expect_true(all(is.finite(a[-3L])))
})

test_that("a flow the plan does not know trains as before", {
  make <- function() {
    set.seed(11)
    tfd_transformed_distribution(
      tfd_multivariate_normal_diag(loc = c(0, 0)),
      tfb_chain(list(
        tfb_masked_autoregressive_flow(
          tfb_masked_autoregressive_default_template(c(5, 5))),
        tfb_shift(c(0.5, -0.5)))))
  }
  expect_same_fit(make, plan_data(12, 80, 2), planned = FALSE)
})

test_that("refusals and divergence: the same errors, nothing changed", {
  # a constant column: the first MAF's first output is constant, which a
  # layer with epsilon = 0 cannot normalize
  data <- plan_data(13, 64, 2)
  data[, 1L] <- 1
  outcome <- function(compiled) {
    withr::local_options(bijectors.compiled_plan = compiled)
    flow <- plan_flow(14, 2, epsilon = 0)
    invisible(flow$log_prob(plan_data(15, 8, 2)))
    before <- list(trainable_parameters(flow), lapply(
      bijectors:::bijector_batchnorm_layers(.subset2(flow, "bijector")),
      get_weights))
    error <- tryCatch(fit(flow, data, epochs = 1L, batch_size = 64L,
                          verbose = FALSE), error = identity)
    after <- list(trainable_parameters(flow), lapply(
      bijectors:::bijector_batchnorm_layers(.subset2(flow, "bijector")),
      get_weights))
    list(class = class(error), message = conditionMessage(error),
         unchanged = identical(before, after))
  }
  with_plan <- outcome(TRUE)
  expect_identical(with_plan, outcome(FALSE))
  expect_true("bijectors_error_zero_variance" %in% with_plan$class)
  expect_true(with_plan$unchanged)

  # an absurd learning rate: a non-finite step
  diverge <- function(compiled) {
    withr::local_options(bijectors.compiled_plan = compiled)
    flow <- plan_flow(16, 2)
    error <- tryCatch(fit(flow, plan_data(17, 200, 2), epochs = 20L,
                          batch_size = 32L, learning_rate = 1e6,
                          verbose = FALSE), error = identity)
    list(class = class(error), message = conditionMessage(error),
         history = error$history$loss,
         parameters = trainable_parameters(flow))
  }
  with_plan <- diverge(TRUE)
  expect_identical(with_plan, diverge(FALSE))
  expect_true("bijectors_error_diverged" %in% with_plan$class)
})

test_that("a flow trained through the plan saves and continues as the R path", {
  path <- withr::local_tempfile(fileext = ".rds")
  data <- plan_data(18, 100, 3)
  flow <- plan_flow(19, 3)
  set.seed(20)
  fit(flow, data, epochs = 2L, batch_size = 32L, verbose = FALSE)
  saveRDS(flow, path)
  copy <- readRDS(path)
  expect_identical(copy$log_prob(data), flow$log_prob(data))
  continued <- function(compiled) {
    withr::local_options(bijectors.compiled_plan = compiled)
    model <- readRDS(path)
    set.seed(21)
    fit(model, data, epochs = 2L, batch_size = 32L, verbose = FALSE)
    trainable_parameters(model)
  }
  expect_identical(continued(TRUE), continued(FALSE))
})

# A fit's run on `data` after its first step (which builds the networks and
# finds the slots), and its fused step's list: for calling the fused step
# directly.
fused_run <- function(flow, data, learning_rate = 0.01) {
  ns <- asNamespace("bijectors")
  settings <- ns$check_fit_settings(1L, nrow(data), 0, FALSE, FALSE,
                                    learning_rate, NULL)
  run <- ns$new_fit_run(flow, list(training = data, validation = NULL),
                        settings)
  ns$fit_step(run, data)
  list(run = run, step = ns$fused_fit_spec(run))
}

# What a failed step must leave as it was: parameters, Adam's state, the
# batch-normalization weights (running statistics included).
flow_state <- function(flow) {
  list(trainable_parameters(flow), adam_state(flow),
       lapply(bijectors:::bijector_batchnorm_layers(.subset2(flow, "bijector")),
              get_weights))
}

test_that("a refusal at a later step through the fused step is the R path's", {
  # the third batch (rows 129 to 192, no shuffling) has a constant first
  # column, which the first layer (epsilon = 0) cannot normalize
  data <- plan_data(40, 256, 2)
  data[129:192, 1L] <- 0.25
  outcome <- function(compiled) {
    withr::local_options(bijectors.compiled_plan = compiled)
    flow <- plan_flow(41, 2, epsilon = 0)
    fused <- 0L
    fused <- count_plan_steps(
      error <- tryCatch(fit(flow, data, epochs = 1L, batch_size = 64L,
                            shuffle = FALSE, verbose = FALSE),
                        error = identity), "fused_fit_step")
    list(class = class(error), message = conditionMessage(error),
         state = flow_state(flow), fused = fused)
  }
  with_plan <- outcome(TRUE)
  without <- outcome(FALSE)
  # the fused step ran (and returned) once, the second step; the third
  # refused from inside it
  expect_identical(c(with_plan$fused, without$fused), c(1L, 0L))
  with_plan$fused <- without$fused <- NULL
  expect_identical(with_plan, without)
  expect_true("bijectors_error_zero_variance" %in% with_plan$class)
})

test_that("divergence through the fused step is the R path's, at a later step", {
  diverge <- function(compiled) {
    withr::local_options(bijectors.compiled_plan = compiled)
    flow <- plan_flow(42, 3)
    data <- plan_data(43, 320, 3)
    fused <- 0L
    fused <- count_plan_steps(
      error <- tryCatch(fit(flow, data, epochs = 5L, batch_size = 32L,
                            learning_rate = 30, verbose = FALSE),
                        error = identity), "fused_fit_step")
    list(class = class(error), message = conditionMessage(error),
         history = error$history$loss, state = flow_state(flow),
         fused = fused)
  }
  with_plan <- diverge(TRUE)
  without <- diverge(FALSE)
  expect_gt(with_plan$fused, 1L)
  expect_identical(without$fused, 0L)
  with_plan$fused <- without$fused <- NULL
  expect_identical(with_plan, without)
  expect_true("bijectors_error_diverged" %in% with_plan$class)
})

test_that("an R error inside the fused step puts the running statistics back", {
  # A generator whose fifth batch comes with the second MAF's network
  # broken: the step's inverse pass has moved the first layer's running
  # statistics when the second MAF raises an error, which must put them
  # back (and write nothing else). `break_it = FALSE` is the control: the
  # same step completes and moves them.
  run_to_fifth <- function(break_it) {
    flow <- plan_flow(44, 3)
    data <- plan_data(45, 400, 3)
    template <- .subset2(.subset2(.subset2(flow, "bijector"), "bijectors")[[4L]],
                         "shift_and_log_scale_fn")
    calls <- 0L
    before <- NULL
    generator <- function() {
      calls <<- calls + 1L
      if (calls == 5L) {
        before <<- flow_state(flow)
        if (break_it) {
          kernels <- get("kernels", envir = template)
          kernels[[1L]] <- rbind(kernels[[1L]], 0)
          assign("kernels", kernels, envir = template)
        }
      }
      if (calls > 5L) NULL else data[(calls - 1L) * 50L + 1:50, ]
    }
    set.seed(46)
    error <- tryCatch(fit(flow, generator, epochs = 1L, verbose = FALSE),
                      error = identity)
    layers <- bijectors:::bijector_batchnorm_layers(.subset2(flow, "bijector"))
    list(error = error, before = before,
         statistics = lapply(layers, get_weights),
         parameters_1 = trainable_parameters(flow)[1:6], adam = adam_state(flow))
  }
  broken <- run_to_fifth(TRUE)
  expect_s3_class(broken$error, "error")
  expect_false(inherits(broken$error, "bijectors_error_diverged"))
  expect_identical(broken$statistics, broken$before[[3L]])
  expect_identical(broken$parameters_1, broken$before[[1L]][1:6])
  expect_identical(broken$adam, broken$before[[2L]])
  control <- run_to_fifth(FALSE)
  expect_false(inherits(control$error, "error"))
  first_layer <- function(x) x[[1L]][c("moving_mean", "moving_variance")]
  # the control's fifth step moved the first layer's statistics
  expect_false(identical(first_layer(control$statistics),
                         first_layer(control$before[[3L]])))
})

test_that("an R error inside log_prob()'s plan puts the running statistics back", {
  # The second MAF's network broken: the plan's pass has moved the first
  # layer's running statistics when that MAF raises an error, which must
  # put them back. The control (not broken) moves them.
  outcome <- function(break_it) {
    withr::local_options(bijectors.compiled_plan = TRUE)
    flow <- plan_flow(49, 3)
    invisible(flow$log_prob(plan_data(50, 60, 3)))
    value <- plan_data(51, 40, 3)
    layers <- bijectors:::bijector_batchnorm_layers(.subset2(flow, "bijector"))
    before <- lapply(layers, get_weights)
    if (break_it) {
      template <- .subset2(.subset2(.subset2(flow, "bijector"),
                                    "bijectors")[[4L]],
                           "shift_and_log_scale_fn")
      kernels <- get("kernels", envir = template)
      kernels[[1L]] <- rbind(kernels[[1L]], 0)
      assign("kernels", kernels, envir = template)
    }
    steps <- count_plan_steps(
      error <- tryCatch(flow$log_prob(value), error = identity),
      "plan_log_prob")
    list(error = error, before = before, steps = steps,
         after = lapply(layers, get_weights))
  }
  broken <- outcome(TRUE)
  expect_s3_class(broken$error, "error")
  expect_identical(broken$after, broken$before)
  control <- outcome(FALSE)
  expect_type(control$error, "double")
  expect_identical(control$steps, 1L)
  first_layer <- function(x) x[[1L]][c("moving_mean", "moving_variance")]
  expect_false(identical(first_layer(control$after),
                         first_layer(control$before)))
})

test_that("Adam's refusal inside the fused step changes nothing", {
  flow <- plan_flow(47, 2)
  data <- plan_data(48, 64, 2)
  invisible(flow$log_prob(data))
  made <- fused_run(flow, data)
  expect_type(made$step, "list")
  # pretend the first slot must stay positive: its first value is negative
  # after the step (a kernel), so Adam refuses it
  slot <- made$run$slots[[1L]]
  values <- get(slot$field, envir = slot$owner)[[slot$index]]
  values[] <- -1
  assign_values <- function(v) {
    list_ <- get(slot$field, envir = slot$owner)
    list_[[slot$index]] <- v
    assign(slot$field, list_, envir = slot$owner)
  }
  assign_values(values)
  step <- made$step
  step[[10L]][[1L]] <- 3L   # constraint "positive"
  before <- flow_state(flow)
  steps <- made$run$steps
  error <- tryCatch(bijectors:::fused_fit_step(made$run, step, data, NULL,
                                               NULL), error = identity)
  expect_s3_class(error, "bijectors_error_diverged")
  expect_match(conditionMessage(error), slot$name, fixed = TRUE)
  expect_match(conditionMessage(error), "out of its domain")
  expect_identical(flow_state(flow), before)
  expect_identical(made$run$steps, steps)
  # and with the real constraint the same step goes through
  expect_type(bijectors:::fused_fit_step(made$run, made$step, data, NULL,
                                         NULL), "double")
  expect_identical(made$run$steps, steps + 1L)
  expect_false(identical(flow_state(flow), before))
})

test_that("a gamma constraint other than the default takes the plan without fusing", {
  make <- function() {
    set.seed(49)
    tfd_transformed_distribution(
      tfd_multivariate_normal_diag(loc = c(0, 0, 0)),
      tfb_chain(list(
        tfb_masked_autoregressive_flow(
          tfb_masked_autoregressive_default_template(c(7, 7))),
        tfb_batch_normalization(layer_batch_normalization(
          gamma_constraint = function(gamma) pmin(pmax(gamma, 0.5), 2))),
        tfb_permute(3:1))))
  }
  expect_same_fit(make, plan_data(50, 150, 3), fused = FALSE)
})

test_that("Adam's AVX2 path gives the bits of the SSE2 and scalar paths", {
  had <- .Call(bijectors:::C_adam_avx2, NA)
  on.exit(.Call(bijectors:::C_adam_avx2, had))
  skip_if_not(had, "no AVX2 here")
  one_run <- function(avx2) {
    .Call(bijectors:::C_adam_avx2, avx2)
    # 23 values: five blocks of four, one pair, one alone
    shift <- tfb_shift(seq(-1, 2, length.out = 23))
    slots <- bijectors:::parameter_slots_of(shift)
    set.seed(51)
    for (t in 1:5) {
      bijectors:::adam_step(slots, list(rnorm(23) * 10^(t - 3)),
                            learning_rate = 0.01)
    }
    field <- slots[[1L]]$field
    list(trainable_parameters(shift),
         get(paste0("adam_m_", field), envir = shift),
         get(paste0("adam_v_", field), envir = shift))
  }
  expect_identical(one_run(TRUE), one_run(FALSE))
})
