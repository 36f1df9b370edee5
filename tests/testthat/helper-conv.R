# Plain-R references for the convolutions of Glow's networks: a "same"
# padded, stride-1 2-D convolution on channels-last images written as loops
# over pixels, kernel offsets and channels, straight from the definition
#   out[n, i, j, o] = bias[o] + sum_{a, b, c} x[n, i + a - p, j + b - q, c] *
#                     kernel[a, b, c, o]
# with p = (kh - 1) / 2, q = (kw - 1) / 2 and x zero outside the image.
# Nothing here calls the package's C code.

reference_conv2d <- function(x, kernel, bias) {
  d <- dim(x)
  k <- dim(kernel)
  p <- (k[[1]] - 1) / 2
  q <- (k[[2]] - 1) / 2
  out <- array(0, c(d[1:3], k[[4]]))
  for (n in seq_len(d[[1]])) for (i in seq_len(d[[2]])) for (j in seq_len(d[[3]])) {
    for (o in seq_len(k[[4]])) {
      total <- bias[[o]]
      for (a in seq_len(k[[1]])) for (b in seq_len(k[[2]])) {
        si <- i + a - 1 - p
        sj <- j + b - 1 - q
        if (si >= 1 && si <= d[[2]] && sj >= 1 && sj <= d[[3]]) {
          total <- total + sum(x[n, si, sj, ] * kernel[a, b, , o])
        }
      }
      out[n, i, j, o] <- total
    }
  }
  out
}

reference_activation <- function(v, activation) {
  switch(activation,
    linear = v,
    relu = pmax(v, 0),
    tanh = tanh(v))
}

# A network of convolutions: layers is a list of list(kernel, bias,
# activation).
reference_conv_network <- function(x, layers) {
  for (layer in layers) {
    x <- reference_activation(reference_conv2d(x, layer$kernel, layer$bias),
                              layer$activation)
  }
  x
}

# Central differences of a scalar function f at every element of `value`.
conv_central_gradient <- function(f, value, step = 1e-6) {
  gradient <- value
  for (i in seq_along(value)) {
    up <- value
    down <- value
    up[[i]] <- up[[i]] + step
    down[[i]] <- down[[i]] - step
    gradient[[i]] <- (f(up) - f(down)) / (2 * step)
  }
  gradient
}
