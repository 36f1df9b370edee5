# Glow's convolutional networks: TFP's GlowDefaultNetwork (the coupling
# network of each Glow step) and GlowDefaultExitNetwork (the network of the
# exits), as templates of this package. The convolutions run in C
# (src/conv2d.c); this file makes the templates, draws their weights, runs
# them on channels-last images and lists their trainable arrays.
#
# Unlike the dense templates, which build when a flow first sees data, a
# Glow network is built when it is made: TFP's networks are Keras models
# made with their input shape, and Glow makes each one for the shape it
# will see.

# Truncated-normal draws shared by Keras' variance-scaling initializers: a
# normal cut at two standard deviations and rescaled so that the standard
# deviation after the cut is `sd` (0.8796... is the standard deviation of a
# standard normal truncated to [-2, 2]).
truncated_normal_values <- function(size, sd) {
  z <- stats::rnorm(size)
  outside <- which(abs(z) > 2)
  while (length(outside) > 0L) {
    z[outside] <- stats::rnorm(length(outside))
    outside <- outside[abs(z[outside]) > 2]
  }
  z * (sd / 0.87962566103423978)
}

# Keras' he_normal for a convolution kernel c(kh, kw, c_in, c_out): the
# fan-in is kh * kw * c_in and the standard deviation sqrt(2 / fan_in).
he_normal_kernel <- function(shape) {
  fan_in <- prod(shape[1:3])
  array(truncated_normal_values(prod(shape), sqrt(2 / fan_in)), shape)
}

check_image_shape <- function(x, arg) {
  shape <- unlist_shape(x)
  ok <- is.numeric(shape) && !is.object(shape) && length(shape) == 3L &&
    length(dim(shape)) <= 1L && !anyNA(shape) && all(is.finite(shape)) &&
    all(shape >= 1) && all(shape == round(shape)) &&
    all(shape <= .Machine$integer.max)
  if (!ok) {
    abort_bijectors("argument", sprintf(paste(
      "`%s` must be three whole numbers >= 1, c(height, width, channels)",
      "(channels last), not %s."), arg, describe_value(x)))
  }
  as.integer(shape)
}

# A kernel_shape as Keras takes it: one odd number (square) or two.
check_kernel_shape <- function(x, arg = "kernel_shape") {
  shape <- unlist_shape(x)
  ok <- is.numeric(shape) && !is.object(shape) && length(shape) %in% 1:2 &&
    !anyNA(shape) && all(is.finite(shape)) && all(shape >= 1) &&
    all(shape == round(shape)) && all(shape %% 2 == 1) && all(shape <= 999)
  if (!ok) {
    abort_bijectors("argument", sprintf(paste(
      "`%s` must be one or two odd whole numbers (the kernel's height and",
      "width; \"same\" padding is symmetric only for odd sizes), not %s."),
      arg, describe_value(x)))
  }
  rep_len(as.integer(shape), 2L)
}

# A built Glow network: layers given as list(c_out, kernel size, activation,
# initializer), drawn in order (each kernel, then its bias, as Keras).
new_glow_network <- function(kind, fields, layers) {
  template <- new.env(parent = emptyenv())
  for (field in names(fields)) {
    assign(field, fields[[field]], envir = template)
  }
  channels <- fields$input_shape[[3L]]
  kernels <- vector("list", length(layers))
  biases <- vector("list", length(layers))
  codes <- integer(length(layers))
  for (k in seq_along(layers)) {
    layer <- layers[[k]]
    shape <- c(layer$size, channels, layer$units)
    kernels[[k]] <- if (layer$initializer == "he_normal") {
      he_normal_kernel(shape)
    } else {
      array(0, shape)
    }
    biases[[k]] <- numeric(layer$units)
    codes[[k]] <- network_activations[[layer$activation]]
    channels <- layer$units
  }
  names(kernels) <- names(biases) <- layer_names(length(layers))
  template$kernels <- kernels
  template$biases <- biases
  template$activation_codes <- codes
  class(template) <- c(kind, "glow_network_template", "bijectors_template")
  template
}

#' Glow's default coupling network
#'
#' The network of TFP's `tfp$bijectors$GlowDefaultNetwork`: the conditioner
#' of the affine coupling in each step of a Glow flow. Three 2-D
#' convolutions with "same" padding and stride 1 on channels-last images
#' (`N x H x W x C`):
#'
#' 1. `num_hidden` filters of `kernel_shape`, relu, he-normal kernel;
#' 2. `num_hidden` filters of 1 x 1, relu, he-normal kernel;
#' 3. `2 * C` filters of `kernel_shape`, no activation, zero kernel and
#'    zero bias,
#'
#' where `C = input_shape[3]`. The last layer starts at zero, so a new
#' network outputs zeros (in Glow's coupling, scale `sigmoid(2)` and shift
#' 0). He-normal is Keras': a normal truncated at two standard deviations,
#' scaled to the standard deviation `sqrt(2 / (kh * kw * c_in))`; biases
#' start at zero. The weights are drawn when the network is made, with R's
#' random number generator (`set.seed()` makes them reproducible), since
#' TFP's network is a Keras model made with its input shape.
#'
#' Kernels are stored as TensorFlow's, `c(kh, kw, c_in, c_out)`. The
#' convolutions and their gradients run in C (im2col and BLAS), and every
#' kernel and bias is a trainable parameter of the flow that uses the
#' network. The network takes images of any height and width with `C`
#' channels; `$call(x)` applies it to an array `x` of dim `c(N, H, W, C)`
#' (a 3-D array is one image) and returns `c(N, H, W, 2 * C)`.
#'
#' @param input_shape Three whole numbers, `c(H, W, C)`: the shape of one
#'   input image, channels last.
#' @param num_hidden Whole number >= 1: the filters of the two hidden layers
#'   (TFP's default 400; the Glow paper uses 512).
#' @param kernel_shape One or two odd whole numbers: the height and width of
#'   the first and last layers' kernels (3 by default).
#' @return A network template, class
#'   `c("glow_default_network", "glow_network_template",
#'   "bijectors_template")`. Fields: `$input_shape`, `$num_hidden`,
#'   `$kernel_shape`, `$output_chan` (`NULL`: an argument of
#'   [glow_default_exit_network()] only), `$output_channels` (`2 * C`),
#'   `$name`, `$built` (always
#'   `TRUE`) and `$weights` (a copy: one `list(kernel, bias)` per layer);
#'   method `$call(x)`.
#' @family networks
#' @seealso [glow_default_exit_network()]; TFP's
#'   `tfp$bijectors$GlowDefaultNetwork`.
#' @examples
#' set.seed(1)
#' net <- glow_default_network(c(8, 8, 2), num_hidden = 16)
#' net
#' str(net$weights$hidden_1)
#' x <- array(rnorm(3 * 8 * 8 * 2), c(3, 8, 8, 2))
#' out <- net$call(x)
#' dim(out)
#' range(out)   # the zero last layer: zeros at initialisation
#' @export
glow_default_network <- function(input_shape, num_hidden = 400,
                                 kernel_shape = 3) {
  input_shape <- check_image_shape(input_shape, "input_shape")
  num_hidden <- check_count(num_hidden, "num_hidden")
  kernel_shape <- check_kernel_shape(kernel_shape)
  output_channels <- 2L * input_shape[[3L]]
  new_glow_network("glow_default_network", list(
    input_shape = input_shape, num_hidden = num_hidden,
    kernel_shape = kernel_shape, output_chan = NULL,
    output_channels = output_channels,
    name = "glow_default_network"
  ), list(
    list(units = num_hidden, size = kernel_shape, activation = "relu",
         initializer = "he_normal"),
    list(units = num_hidden, size = c(1L, 1L), activation = "relu",
         initializer = "he_normal"),
    list(units = output_channels, size = kernel_shape,
         activation = "linear", initializer = "zeros")
  ))
}

#' Glow's default exit network
#'
#' The network of TFP's `tfp$bijectors$GlowDefaultExitNetwork`: one 2-D
#' convolution with "same" padding and stride 1, `2 * output_chan` filters
#' of `kernel_shape`, zero kernel and zero bias, no activation. In Glow it
#' conditions the channels that leave the flow at an exit on those that
#' continue. It is made with its weights (all zero), like
#' [glow_default_network()], and its kernel and bias are trainable
#' parameters of the flow that uses it. `$call(x)` applies it to an array
#' of dim `c(N, H, W, C)` with `C = input_shape[3]`, giving
#' `c(N, H, W, 2 * output_chan)`.
#'
#' @inheritParams glow_default_network
#' @param output_chan Whole number >= 1: the channels the network
#'   conditions (it outputs twice as many: a scale and a shift for each).
#' @return A network template, class
#'   `c("glow_default_exit_network", "glow_network_template",
#'   "bijectors_template")`, with the fields of [glow_default_network()]
#'   (`$num_hidden` is `NULL`).
#' @family networks
#' @seealso [glow_default_network()]; TFP's
#'   `tfp$bijectors$GlowDefaultExitNetwork`.
#' @examples
#' exit <- glow_default_exit_network(c(8, 8, 6), output_chan = 6)
#' exit
#' dim(exit$weights$output$kernel)
#' dim(exit$call(array(1, c(2, 8, 8, 6))))
#' @export
glow_default_exit_network <- function(input_shape, output_chan,
                                      kernel_shape = 3) {
  input_shape <- check_image_shape(input_shape, "input_shape")
  output_chan <- check_count(output_chan, "output_chan")
  kernel_shape <- check_kernel_shape(kernel_shape)
  new_glow_network("glow_default_exit_network", list(
    input_shape = input_shape, num_hidden = NULL,
    kernel_shape = kernel_shape, output_chan = output_chan,
    output_channels = 2L * output_chan, name = "glow_default_exit_network"
  ), list(
    list(units = 2L * output_chan, size = kernel_shape,
         activation = "linear", initializer = "zeros")
  ))
}

is_glow_network <- function(x) {
  inherits(x, "glow_network_template") && is.environment(x)
}

# Images for a network: a double array of dim c(N, H, W, C) with the
# network's channels (rank 3 is one image; more than 4 dims fold the
# leading ones into N, which R's column-major order allows since batch
# dims come first). Returns list(x = <c(N, H, W, C) array>, dims = the
# input's dims).
glow_network_input <- function(template, x, arg) {
  x <- as_input_array(x, arg)
  dims <- input_dims(x)
  rank <- length(dims)
  channels <- .subset2(template, "input_shape")[[3L]]
  if (rank < 3L || dims[[rank]] != channels || any(dims == 0)) {
    abort_bijectors("input", sprintf(paste(
      "`%s` must be images, an array of dim c(N, H, W, %d) (channels last;",
      "a 3-D array is one image), not of dim c(%s)."), arg, channels,
      paste(dims, collapse = ", ")))
  }
  image <- dims[(rank - 2L):rank]
  if (rank == 3L || rank > 4L) {
    x <- array(x, c(prod(dims[seq_len(rank - 3L)]), image))
  } else if (!is.null(dimnames(x))) {
    dimnames(x) <- NULL
  }
  list(x = x, dims = dims)
}

# The most values (2^22 doubles, 32 MB) an im2col chunk of src/conv2d.c
# may hold: the convolutions build it a few image columns at a time.
conv_scratch_limit <- 2^22

# The network's output for checked images `x` (dim c(N, H, W, C)); with
# keep_hidden, list(output, hidden) for glow_network_backward().
glow_network_forward <- function(template, x, keep_hidden = FALSE) {
  .Call(C_conv_network_forward, x, .subset2(template, "kernels"),
        .subset2(template, "biases"), .subset2(template, "activation_codes"),
        keep_hidden, conv_scratch_limit)
}

# The reverse pass of glow_network_forward(template, x, TRUE), whose
# result is `run`: list(input = dLoss/dx (NULL unless want_input),
# parameters = gradients in the order of glow_network_parameter_slots()).
glow_network_backward <- function(template, x, run, grad_output,
                                  want_input = TRUE) {
  back <- .Call(C_conv_network_backward, x, .subset2(template, "kernels"),
                .subset2(template, "biases"),
                .subset2(template, "activation_codes"), run$hidden,
                run$output, grad_output, want_input, conv_scratch_limit)
  layers <- length(back$kernels)
  parameters <- vector("list", 2L * layers)
  parameters[2L * seq_len(layers) - 1L] <- back$kernels
  parameters[2L * seq_len(layers)] <- back$biases
  list(input = back$input, parameters = parameters)
}

# A kernel and a bias slot per layer, in layer order.
glow_network_parameter_slots <- function(template) {
  layers <- length(.subset2(template, "kernels"))
  slots <- vector("list", 2L * layers)
  for (k in seq_len(layers)) {
    slots[[2L * k - 1L]] <- parameter_slot(sprintf("layer%d/kernel", k),
                                           template, "kernels", k)
    slots[[2L * k]] <- parameter_slot(sprintf("layer%d/bias", k), template,
                                      "biases", k)
  }
  slots
}

#' @export
object_field_names.glow_network_template <- function(x) {
  c("input_shape", "num_hidden", "kernel_shape", "output_chan",
    "output_channels", "name", "built", "weights")
}

#' @export
object_field.glow_network_template <- function(x, name) {
  switch(name,
    built = TRUE,
    weights = {
      kernels <- .subset2(x, "kernels")
      biases <- .subset2(x, "biases")
      weights <- lapply(seq_along(kernels), function(k) {
        list(kernel = kernels[[k]], bias = biases[[k]])
      })
      names(weights) <- names(kernels)
      weights
    },
    .subset2(x, name)
  )
}

#' @export
object_method_names.glow_network_template <- function(x) {
  "call"
}

#' @export
object_method.glow_network_template <- function(x, name) {
  function(inputs) {
    input <- glow_network_input(x, inputs, "inputs")
    out <- glow_network_forward(x, input$x)
    rank <- length(input$dims)
    if (rank != 4L) {
      dim(out) <- c(input$dims[-rank], dim(out)[[4L]])
    }
    out
  }
}

#' @export
format.glow_network_template <- function(x, ...) {
  shape <- .subset2(x, "input_shape")
  kernel <- paste(.subset2(x, "kernel_shape"), collapse = "x")
  layers <- if (inherits(x, "glow_default_exit_network")) {
    sprintf("conv %s -> %d (zeros)", kernel, .subset2(x, "output_channels"))
  } else {
    hidden <- .subset2(x, "num_hidden")
    sprintf("conv %s -> %d relu, conv 1x1 -> %d relu, conv %s -> %d (zeros)",
            kernel, hidden, hidden, kernel, .subset2(x, "output_channels"))
  }
  n_weights <- sum(lengths(.subset2(x, "kernels"))) +
    sum(lengths(.subset2(x, "biases")))
  c(sprintf("<%s> for images %d x %d x %d (channels last)", class(x)[[1L]],
            shape[[1L]], shape[[2L]], shape[[3L]]),
    paste0("  ", layers),
    sprintf("  %d weights", n_weights))
}
