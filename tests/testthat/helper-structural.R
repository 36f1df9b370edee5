# Plain-R references for the structural kinds (cumsum, ascending, transpose,
# pad), written with loops and index arithmetic, and the numerical tools
# their tests share. Nothing here calls the package's code.

# An array's lines along axis `along` (1-based position): the indices of
# each line, one column per line.
ref_lines <- function(dims, along) {
  index <- array(seq_len(prod(dims)), dims)
  other <- seq_along(dims)[-along]
  matrix(aperm(index, c(along, other)), nrow = dims[[along]])
}

# Cumulative sums along `axis` (negative, from the end), with a loop.
ref_cumsum <- function(x, axis = -1) {
  dims <- dim(x) %||% length(x)
  along <- length(dims) + 1L + axis
  lines <- ref_lines(dims, along)
  out <- x
  for (line in seq_len(ncol(lines))) {
    total <- 0
    for (k in seq_len(nrow(lines))) {
      total <- total + x[[lines[k, line]]]
      out[[lines[k, line]]] <- total
    }
  }
  out
}

# Stan's ordered transform, event by event (rows of a matrix, or a vector).
ref_ascending_forward <- function(x) {
  one <- function(v) {
    y <- v
    for (k in seq_along(v)[-1L]) y[[k]] <- y[[k - 1L]] + exp(v[[k]])
    y
  }
  ref_by_row(x, one)
}

ref_ascending_inverse <- function(y) {
  one <- function(v) {
    x <- v
    for (k in seq_along(v)[-1L]) x[[k]] <- log(v[[k]] - v[[k - 1L]])
    x
  }
  ref_by_row(y, one)
}

# `one` applied to a vector, or to each row of a matrix.
ref_by_row <- function(x, one) {
  if (is.null(dim(x))) {
    return(one(x))
  }
  for (n in seq_len(nrow(x))) x[n, ] <- one(x[n, ])
  x
}

# The transpose of the rightmost length(perm) axes, element by element:
# y[b, i_1, ..., i_r] = x[b, j] with j[perm[k]] = i_k.
ref_transpose <- function(x, perm) {
  dims <- dim(x)
  rank <- length(dims)
  lead <- rank - length(perm)
  out_dims <- c(dims[seq_len(lead)], dims[lead + perm])
  out <- array(0, out_dims)
  for (position in seq_len(prod(out_dims))) {
    i <- arrayInd(position, out_dims)
    j <- i
    j[lead + perm] <- i[lead + seq_along(perm)]
    out[position] <- x[j]
  }
  out
}

# tf.pad() element by element: each output index maps back to an input
# index along every padded axis (or to the constant).
ref_pad <- function(x, paddings, mode = "CONSTANT", constant = 0,
                    axis = -rev(seq_along(paddings))) {
  dims <- dim(x) %||% length(x)
  rank <- length(dims)
  out_dims <- dims
  along <- rank + 1L + axis
  for (i in seq_along(axis)) {
    out_dims[[along[[i]]]] <- dims[[along[[i]]]] + sum(paddings[[i]])
  }
  out <- array(0, out_dims)
  for (position in seq_len(prod(out_dims))) {
    index <- arrayInd(position, out_dims)
    outside <- FALSE
    for (i in seq_along(axis)) {
      a <- along[[i]]
      n <- dims[[a]]
      t <- index[[a]] - paddings[[i]][[1L]]
      if (t < 1 || t > n) {
        if (mode == "CONSTANT") {
          outside <- TRUE
        } else if (mode == "REFLECT") {
          t <- if (t < 1) 2 - t else 2 * n - t
        } else {
          t <- if (t < 1) 1 - t else 2 * n + 1 - t
        }
      }
      index[[a]] <- t
    }
    out[position] <- if (outside) constant else x[index]
  }
  if (rank == 1L) as.vector(out) else out
}

# The Jacobian of f at v by central differences: rows are f's outputs.
ref_jacobian <- function(f, v, h = 1e-6) {
  columns <- lapply(seq_along(v), function(k) {
    up <- v
    down <- v
    up[[k]] <- up[[k]] + h
    down[[k]] <- down[[k]] - h
    (as.vector(f(up)) - as.vector(f(down))) / (2 * h)
  })
  matrix(unlist(columns), ncol = length(v))
}

ref_log_abs_det <- function(jacobian) {
  as.numeric(determinant(jacobian, logarithm = TRUE)$modulus)
}

# Central differences of the mean negative log-likelihood of `flow` with
# respect to its data `x`.
ref_loss_input_gradient <- function(flow, x, h = 1e-6) {
  vapply(seq_along(x), function(i) {
    up <- x
    down <- x
    up[i] <- up[i] + h
    down[i] <- down[i] - h
    (-mean(flow$log_prob(up)) + mean(flow$log_prob(down))) / (2 * h)
  }, numeric(1))
}

# softmax(c(x, 0)) of one event, with a loop.
ref_softmax_centered <- function(x) {
  e <- c(exp(x), 1)
  total <- 0
  for (value in e) total <- total + value
  e / total
}

# Stan's stick breaking, with a loop over the stick.
ref_stick_breaking <- function(x) {
  size <- length(x) + 1L
  y <- numeric(size)
  left <- 1
  for (k in seq_along(x)) {
    t <- x[[k]] - log(size - k)
    z <- 1 / (1 + exp(-t))
    y[[k]] <- z * left
    left <- left / (1 + exp(t))   # 1 - z without cancellation
  }
  y[[size]] <- left
  y
}

ref_stick_breaking_inverse <- function(y) {
  size <- length(y)
  x <- numeric(size - 1L)
  used <- 0
  for (k in seq_len(size - 1L)) {
    z <- y[[k]] / (1 - used)
    x[[k]] <- log(z) - log1p(-z) + log(size - k)
    used <- used + y[[k]]
  }
  x
}
