# Step-by-step comparison of this package's MAF with the same flow in torch.
#
# Run from the repository root with the package installed and Debian's
# python3-torch (apt-get install python3-torch):
#   Rscript bench/versus-torch/steps.R [steps] [clip] [masks] [seed]
# (steps = 200 by default; clip = "pass" (TFP's clip_by_value_preserve_gradient,
# the package's log_scale_clip_gradient = FALSE) or "zero" (tf.clip_by_value /
# torch's clamp, log_scale_clip_gradient = TRUE); masks = "equal" (the
# template's default hidden_degrees, with torch's nn.Linear initialisation)
# or "blocks" (TFP's masks, with TFP's glorot-normal initialisation); seed
# (default 1) draws the data, torch's initial weights and the minibatches).
#
# flow.py builds the torch flow with the package's MADE masks and output
# layout and writes its initial weights and N minibatches of the two-moons training
# set; the package's flow gets exactly those weights through
# `trainable_parameters<-`, and both take the same N steps of Adam
# (learning rate 1e-3, epsilon 1e-7 on both sides, gamma constrained to
# relu(gamma) + 1e-6 after each step as TFP's default layer does). The script
# prints, at some steps, the relative difference of the losses and the
# largest relative difference of the gradients (per array, the maximum
# absolute difference divided by the largest absolute torch gradient of the
# array, or 1e-6 times the flow's largest gradient if that is more; the
# worst array is shown).
#
# One parameter is left out: the last batch normalization's beta. Its
# gradient is the batch mean of the flow's output, which batch
# normalization makes equal to beta itself, so it starts as rounding noise
# (about 1e-17) that Adam multiplies by learning_rate / epsilon = 1e4 at
# every step until it reaches the size of the learning rate: a different
# rounding on each side soon gives a different beta in each (both are right).
# It changes no other gradient (the output's mean does not depend on the
# other parameters) and adds 0.5 * sum(beta^2) to the loss, so the loss is
# also compared without that term, and the betas' difference is shown.

source(file.path(local({
  file <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  if (length(file) == 1L) dirname(normalizePath(file)) else "bench/versus-torch"
}), "common.R"))

arguments <- commandArgs(trailingOnly = TRUE)
n_steps <- if (length(arguments) >= 1L) as.integer(arguments[[1L]]) else 200L
clip <- if (length(arguments) >= 2L) arguments[[2L]] else "pass"
stopifnot(clip %in% c("pass", "zero"))
masks <- if (length(arguments) >= 3L) arguments[[3L]] else "equal"
seed <- if (length(arguments) >= 4L) as.integer(arguments[[4L]]) else 1L
stopifnot(masks %in% c("equal", "blocks"))

dir <- tempfile("versus-torch-")
dir.create(dir)
data <- write_two_moons(dir, seed = seed)
torch_test <- run_python(c("steps", dir, n_steps, "--masks",
                           if (masks == "blocks") "tfp" else "equal", "--init",
                           if (masks == "blocks") "glorot_normal" else "kaiming",
                           "--clip", clip, "--adam-eps", "1e-7",
                           "--gamma-constraint", "--seed", seed,
                           "--record", min(n_steps, 200L)))

flow <- package_flow(log_scale_clip_gradient = clip == "zero",
                     hidden_degrees = masks)
invisible(flow$log_prob(data$train[1:256, ]))   # builds the networks

# torch's initial weights, in the order of trainable_parameters()
init <- utils::read.csv(file.path(dir, "init.csv"), stringsAsFactors = FALSE)
torch_names <- unique(init$name)
parameters <- trainable_parameters(flow)
stopifnot(length(parameters) == length(torch_names))
for (k in seq_along(parameters)) {
  rows <- init[init$name == torch_names[[k]], ]
  stopifnot(length(rows$value) == length(parameters[[k]]))
  mask <- bijectors:::parameter_slots_of(flow)[[k]]$mask
  if (!is.null(mask) && !identical(as.double(mask), as.double(rows$mask))) {
    stop("the MADE masks differ at ", names(parameters)[[k]])
  }
  parameters[[k]][] <- rows$value
}
trainable_parameters(flow) <- parameters
stopifnot(identical(unname(unlist(trainable_parameters(flow))),
                    as.double(init$value)))

batches <- utils::read.csv(file.path(dir, "batches.csv"))
reference <- utils::read.csv(file.path(dir, "steps.csv"),
                             stringsAsFactors = FALSE)
reference <- split(reference, reference$step)

# An array whose gradient is zero up to rounding (batch normalization's
# last beta: the mean of a normalized batch) is measured against the
# flow's largest gradient instead of its own.
relative <- function(a, b, scale) max(abs(a - b)) / max(abs(b), 1e-6 * scale)
shown <- unique(c(1:5, 10L, 20L, 50L, 100L, 200L, 500L, 1000L, n_steps))
shown <- shown[shown <= n_steps]
rows_out <- list()
for (step in seq_len(n_steps)) {
  batch <- data$train[batches$row[batches$step == step], , drop = FALSE]
  theirs <- reference[[step]]
  if (step > 200L) {   # gradients recorded for the first 200 steps only
    fit(flow, batch, epochs = 1L, batch_size = nrow(batch), shuffle = FALSE,
        verbose = FALSE, learning_rate = 1e-3)
    next
  }
  ours <- loss_and_gradient(flow, batch)
  theirs_loss <- theirs$value[theirs$name == "loss"]
  scale <- max(abs(theirs$value[theirs$name != "loss"]))
  gradient_errors <- vapply(seq_along(torch_names), function(k) {
    relative(ours$gradient[[k]], theirs$value[theirs$name == torch_names[[k]]],
             scale)
  }, numeric(1))
  if (step %in% shown && step <= 200L) {
    last <- length(torch_names)
    worst <- which.max(gradient_errors[-last])
    # the loss less the last beta's term 0.5 * sum(beta^2), beta being its
    # own gradient
    theirs_beta <- theirs$value[theirs$name == torch_names[[last]]]
    ours_rest <- ours$loss - 0.5 * sum(ours$gradient[[last]]^2)
    theirs_rest <- theirs_loss - 0.5 * sum(theirs_beta^2)
    rows_out[[length(rows_out) + 1L]] <- data.frame(
      step = step, loss_torch = theirs_loss,
      loss_diff = abs(ours$loss - theirs_loss) / abs(theirs_loss),
      loss_diff_less_beta5 = abs(ours_rest - theirs_rest) / abs(theirs_rest),
      grad_diff = gradient_errors[[worst]], worst_array = torch_names[[worst]],
      beta5_diff = max(abs(ours$gradient[[last]] - theirs_beta)))
  }
  # one Adam step on this batch, as fit() takes it
  fit(flow, batch, epochs = 1L, batch_size = nrow(batch), shuffle = FALSE,
      verbose = FALSE, learning_rate = 1e-3)
}
cat(sprintf(paste("Package vs torch, the same flow (5 x [MAF(64, 64, relu), batch",
                  "normalization, reverse]; hidden_degrees \"%s\", clip",
                  "gradient \"%s\"), the same %d minibatches of 256 two-moons",
                  "points, Adam 1e-3:\n\n"), masks, clip, n_steps))
options(width = 200)
print(do.call(rbind, rows_out), digits = 4, row.names = FALSE)
recompute_batch_statistics(flow, data$train)
package_test <- mean(evaluation_mode(flow)$log_prob(data$test))
torch_test <- as.numeric(torch_test[[length(torch_test)]])
cat(sprintf(paste("\nTest log-likelihood after the %d steps (batch statistics",
                  "of the training set): package %.10f, torch %.10f,",
                  "relative difference %.2e\n"), n_steps, package_test,
            torch_test, abs(package_test - torch_test) / abs(torch_test)))
unlink(dir, recursive = TRUE)
