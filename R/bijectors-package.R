#' bijectors: normalizing-flow bijectors with the tfprobability interface
#'
#' Bijectors for normalizing flows with the names, signatures and semantics of
#' the R package tfprobability (the front end to TensorFlow Probability), in R
#' and C, with no Python. State lives in R vectors, so models can be saved
#' with [saveRDS()].
#'
#' Shapes follow TensorFlow's order with R's [dim()]: a matrix with
#' `dim(x) = c(N, D)` holds N events of D features, and a plain vector of
#' length D is one event. Axes are R-style: positive axes are 1-based
#' positions in `dim(x)`, negative axes count from the end (`-1` is the last),
#' whereas Python counts from 0.
#'
#' @section Fields of every bijector:
#' Besides its methods (`b$forward(x)`, `b$inverse(y)`, the log-dets, the
#' event shapes `b$forward_event_shape(shape)` and
#' `b$inverse_event_shape(shape)`, their aliases
#' `b$forward_event_shape_tensor()` and `b$inverse_event_shape_tensor()`,
#' and `b$forward_event_ndims(event_ndims)` and
#' `b$inverse_event_ndims(event_ndims)`, the rank of an event after the
#' map), every bijector has the fields `b$name`,
#' `b$forward_min_event_ndims`, `b$inverse_min_event_ndims`,
#' `b$validate_args`, `b$is_constant_jacobian` and `b$trainable_variables`,
#' as TFP's `Bijector`. `trainable_variables` is what
#' [trainable_parameters()] returns (copies, by name), restricted to the
#' parameters that exist so far: a flow's networks and layers are built on
#' the first data it sees, and before that the list is empty, as TFP's.
#' `is_constant_jacobian` is `TRUE` when the Jacobian does not depend on the
#' input, so that the log-det is the same number at every point: for the
#' kinds TFP declares so (identity, shift, scale, affine_scalar, every
#' `scale_matvec_*` and `matvec_lu`, permute, reshape, transpose, pad,
#' split, cumsum, discrete_cosine_transform, fill_triangular); for a chain,
#' blockwise, invert or transform_diagonal when all of its parts have it;
#' and for [tfb_inline()], [tfb_masked_autoregressive_flow()] and
#' [tfb_real_nvp()] as their `is_constant_jacobian` argument says. Every
#' other kind has `FALSE`, TFP's default, even absolute_value and
#' activation_normalization, whose log-dets do not depend on the input but
#' which TFP does not declare constant.
#'
#' `b$parameters` is TFP's `parameters`: the constructor's arguments by
#' name, in the order of its signature, as the constructor checked them
#' (copies; bijectors and distributions among them are the objects
#' themselves, as in TFP), with the current value of a trainable parameter
#' that is also a field (a trained spline's `bin_widths`, a trained
#' `shift`). `b$dtype` is always `"float64"`: every computation is in
#' double precision, and integer input is taken as double;
#' `b$forward_dtype(dtype = NULL)` and `b$inverse_dtype(dtype = NULL)` give
#' `"float64"` too (a list of them for a multipart side, as
#' [tfb_split()]'s forward output), and refuse any other `dtype`.
#' Distributions have `d$parameters` and `d$dtype` in the same way.
#' TFP's deprecated `graph_parents` is not provided.
#'
#' @section Matrix products:
#' The networks of the flows (dense, convolutional, FFJORD) multiply their
#' small matrices with the package's own packed, register-blocked `dgemm`
#' (with an AVX2 and FMA kernel on CPUs that have them) or with the system
#' BLAS, as `options(bijectors.gemm = )` says: `"bijectors"` (the default:
#' the same results whatever BLAS the system has, and several times faster
#' than the reference BLAS on these shapes), `"blas"`, or `"auto"` (the
#' faster of the two on the networks' shapes, timed once per session at the
#' first product, so that the choice can differ from one session to the
#' next). The option is read when the package is loaded and at the start of
#' every [fit()]. The two differ only in the last bits of the results
#' (another summation order).
#'
#' `options(bijectors.threads = )` (default 1) lets the package's own
#' product cut each large enough product (about 200,000 multiply-adds or
#' more) between that many threads, at most the number of processors, when
#' the package was built with OpenMP. The results are the same bits with
#' any number of threads: each element is computed by the same operations
#' in the same order. The networks' costly activations (tanh, sigmoid, elu,
#' softplus) of a layer of 8,192 values or more are shared between as many
#' threads too, column by column, with the same bits. It is read when the
#' package is loaded and at the start of every [fit()].
#'
#' The MADE networks of masked autoregressive flows skip, in the package's
#' own product, the terms and blocks their masks make zero (about half of
#' each kernel with the default `hidden_degrees = "equal"`). For finite
#' values this changes no bit of the results, and the gradient of a masked
#' weight is exactly `+0`. An infinite or `NaN` value still reaches every
#' output its unmasked weights connect it to; where only masked weights do,
#' the full product's `Inf * 0 = NaN` may be skipped (always for the last
#' input column of a MAF, which no output reads).
#'
#' @seealso [tfb_batch_normalization()], [layer_batch_normalization()],
#'   `vignette("batch-normalization", package = "bijectors")`
#' @keywords internal
#' @useDynLib bijectors, .registration = TRUE
"_PACKAGE"
