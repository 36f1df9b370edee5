# Adversarial inputs (issue 5): every exported function gets wrong types,
# lengths, dims, NULL, NA, NaN, Inf, huge and zero sizes, negative and
# non-integer counts, S4 objects, environments, functions and lists, one
# argument at a time, from a table of functions x bad values. Each call must
# either succeed (where the value is legitimate, such as NA in an evaluation
# input) or fail with an error of class "bijectors_error", never with an
# unclassed R or C error, and a failed call must leave every layer, template
# and parameter as it was.

# ---- fixture ---------------------------------------------------------------
methods::setClass("bijectorsAdversarialS4", representation(value = "numeric"),
                  where = environment())
methods::setClass("bijectorsAdversarialNumeric", contains = "numeric",
                  where = environment())

adv_fixture <- function() {
  set.seed(42)
  y <- matrix(rnorm(12), 6, 2)
  layer <- layer_batch_normalization()
  bn <- tfb_batch_normalization(layer)
  invisible(bn$inverse(y))
  maf_template <- tfb_masked_autoregressive_default_template(hidden_layers = 4)
  maf <- tfb_masked_autoregressive_flow(maf_template)
  invisible(maf$inverse(y))
  nvp_template <- tfb_real_nvp_default_template(hidden_layers = 3)
  nvp <- tfb_real_nvp(1, nvp_template)
  invisible(nvp$inverse(y))
  fresh_layer <- layer_batch_normalization()
  fresh_template <- tfb_masked_autoregressive_default_template(hidden_layers = 4)
  shift <- tfb_shift(c(1, -1))
  scale <- tfb_scale(c(2, 0.5))
  permute <- tfb_permute(c(2, 1))
  chain <- tfb_chain(list(maf, bn, permute, nvp, shift, scale))
  base <- tfd_multivariate_normal_diag(loc = c(0, 0))
  f <- list(
    y = y, layer = layer, bn = bn,
    bn_eval = tfb_batch_normalization(layer, training = FALSE),
    fresh_layer = fresh_layer,
    bn_fresh = tfb_batch_normalization(fresh_layer),
    maf_template = maf_template, maf = maf,
    nvp_template = nvp_template, nvp = nvp,
    fresh_template = fresh_template,
    maf_fresh = tfb_masked_autoregressive_flow(fresh_template),
    shift = shift, scale = scale, permute = permute,
    identity = tfb_identity(), invert = tfb_invert(bn),
    chain = chain, base = base, normal = tfd_normal(0, 1),
    td = tfd_transformed_distribution(base, chain)
  )
  f
}

# Everything a failed call must leave alone.
adv_state <- function(f) {
  list(
    weights = get_weights(f$layer),
    layer_built = f$layer$built,
    fresh_built = f$fresh_layer$built,
    fresh_shape = f$fresh_layer$feature_shape,
    maf_weights = f$maf_template$weights,
    nvp_weights = f$nvp_template$weights,
    templates_built = c(f$maf_template$built, f$nvp_template$built,
                        f$fresh_template$built),
    parameters = trainable_parameters(f$td),
    shift = trainable_parameters(f$shift),
    scale = trainable_parameters(f$scale),
    adam = mget(grep("^adam", ls(f$td, all.names = TRUE), value = TRUE),
                envir = f$td)
  )
}

# ---- bad values ------------------------------------------------------------
adv_scalars <- function() {
  list(
    `NULL` = NULL, `NA` = NA, NA_real = NA_real_, NA_integer = NA_integer_,
    NA_character = NA_character_, `NaN` = NaN, `Inf` = Inf, minus_Inf = -Inf,
    zero = 0, minus_one = -1, half = 0.5, two_and_half = 2.5,
    huge = 1e300, tiny = 1e-300, int_max_plus = .Machine$integer.max + 1,
    string = "a", empty_string = "", two_numbers = c(1, 2), flag = TRUE,
    flags = c(TRUE, FALSE), numeric0 = numeric(0), integer0 = integer(0),
    character0 = character(0), logical0 = logical(0),
    list1 = list(1), empty_list = list(), fun = function(x) x,
    env = new.env(), s4 = methods::new("bijectorsAdversarialS4", value = 1),
    s4_class = methods::getClass("numeric"),
    s4_numeric = methods::new("bijectorsAdversarialNumeric", 1),
    factor = factor("a"), complex = 1i, raw = as.raw(1), matrix = matrix(1),
    data_frame = data.frame(a = 1), formula = y ~ x, symbol = quote(x),
    expression = expression(1), date = as.Date("2020-01-01")
  )
}

adv_data <- function(columns) {
  good <- matrix(seq_len(6 * columns) / 7, 6, columns)
  with_value <- function(v) {
    m <- good
    m[2, 1] <- v
    m
  }
  list(
    `NULL` = NULL, `NA` = NA, string = "a", flag = TRUE, list1 = list(1),
    fun = function(x) x, env = new.env(),
    s4 = methods::new("bijectorsAdversarialS4", value = 1),
    s4_class = methods::getClass("numeric"),
    s4_numeric = methods::new("bijectorsAdversarialNumeric", as.vector(good)),
    factor = factor(letters[seq_len(columns)]), complex = good + 0i,
    raw = as.raw(seq_len(columns)), character_matrix = matrix("a", 6, columns),
    logical_matrix = matrix(TRUE, 6, columns),
    character_data_frame = data.frame(a = letters[1:6], stringsAsFactors = FALSE),
    list_matrix = matrix(as.list(good), 6, columns),
    wrong_columns = matrix(1, 6, columns + 1L),
    one_column = matrix(1, 6, 1),
    zero_rows = matrix(0, 0, columns), zero_columns = matrix(0, 6, 0),
    empty = numeric(0), scalar = 1,
    na_entry = with_value(NA), nan_entry = with_value(NaN),
    inf_entry = with_value(Inf), minus_inf_entry = with_value(-Inf),
    huge_entry = with_value(1e300), all_huge = good * 1e300,
    array3 = array(good, c(3, 2, columns)),
    array0 = array(0, c(0, 0, columns)),
    formula = y ~ x, date = as.Date("2020-01-01") + 0:5
  )
}
# Each spec: a function, how to make a valid call from a fixture, the
# arguments to spoil and the kind of bad values to spoil them with.
adv_specs <- function() {
  specs <- list()
  add <- function(fun, args, perturb, values = "scalar", label = fun) {
    for (arg in perturb) {
      specs[[length(specs) + 1L]] <<- list(
        fun = fun, args = args, arg = arg,
        values = if (is.list(values)) values[[arg]] else values,
        label = label)
    }
  }
  targets <- c("bn", "bn_eval", "bn_fresh", "maf", "maf_fresh", "nvp",
               "shift", "scale", "permute", "identity", "invert", "chain")
  for (target in targets) {
    local({
      target <- target
      add("tfb_forward", function(f) list(bijector = f[[target]], x = f$y),
          "x", "data2", paste0("tfb_forward/", target))
      add("tfb_inverse", function(f) list(bijector = f[[target]], y = f$y),
          "y", "data2", paste0("tfb_inverse/", target))
      add("tfb_forward_log_det_jacobian",
          function(f) list(bijector = f[[target]], x = f$y, event_ndims = 1),
          c("x", "event_ndims"), list(x = "data2", event_ndims = "scalar"),
          paste0("tfb_forward_log_det_jacobian/", target))
      add("tfb_inverse_log_det_jacobian",
          function(f) list(bijector = f[[target]], y = f$y, event_ndims = 1),
          c("y", "event_ndims"), list(y = "data2", event_ndims = "scalar"),
          paste0("tfb_inverse_log_det_jacobian/", target))
    })
  }
  add("tfb_forward", function(f) list(bijector = f$bn, x = f$y), "bijector")
  add("tfb_inverse", function(f) list(bijector = f$bn, y = f$y), "bijector")
  add("tfb_forward_log_det_jacobian",
      function(f) list(bijector = f$bn, x = f$y, event_ndims = 1), "bijector")
  add("tfb_inverse_log_det_jacobian",
      function(f) list(bijector = f$bn, y = f$y, event_ndims = 1), "bijector")
  add("layer_batch_normalization", function(f) list(),
      c("axis", "momentum", "epsilon", "center", "scale", "beta_initializer",
        "gamma_initializer", "moving_mean_initializer",
        "moving_variance_initializer", "gamma_constraint", "name", "renorm",
        "virtual_batch_size"))
  add("tfb_batch_normalization", function(f) list(batchnorm_layer = f$layer),
      c("batchnorm_layer", "training", "validate_args", "name"))
  add("tfb_shift", function(f) list(shift = 1), c("shift", "validate_args", "name"))
  add("tfb_scale", function(f) list(scale = 2), c("scale", "validate_args", "name"),
      label = "tfb_scale/scale")
  add("tfb_scale", function(f) list(log_scale = 1), "log_scale",
      label = "tfb_scale/log_scale")
  add("tfb_permute", function(f) list(permutation = c(2, 1)),
      c("permutation", "axis", "validate_args", "name"))
  add("tfb_identity", function(f) list(), c("validate_args", "name"))
  add("tfb_invert", function(f) list(bijector = f$shift),
      c("bijector", "validate_args", "name"))
  add("tfb_chain", function(f) list(bijectors = list(f$shift, f$scale)),
      c("bijectors", "validate_args", "validate_event_size", "parameters", "name"))
  add("tfb_masked_autoregressive_default_template",
      function(f) list(hidden_layers = 4),
      c("hidden_layers", "shift_only", "activation", "log_scale_min_clip",
        "log_scale_max_clip", "log_scale_clip_gradient", "name",
        "kernel_initializer", "bias_initializer", "use_bias", "trainable"))
  add("tfb_real_nvp_default_template", function(f) list(hidden_layers = 4),
      c("hidden_layers", "shift_only", "activation", "name",
        "kernel_initializer", "bias_initializer", "use_bias", "trainable"))
  add("tfb_masked_autoregressive_flow",
      function(f) list(shift_and_log_scale_fn = f$fresh_template),
      c("shift_and_log_scale_fn", "is_constant_jacobian", "unroll_loop",
        "event_ndims", "validate_args", "name"))
  add("tfb_real_nvp",
      function(f) list(num_masked = 1, shift_and_log_scale_fn = f$nvp_template),
      c("num_masked", "shift_and_log_scale_fn", "is_constant_jacobian",
        "validate_args", "name"))
  add("tfb_masked_dense", function(f) list(inputs = f$y, units = 4),
      c("inputs", "units", "num_blocks", "exclusive", "kernel_initializer",
        "reuse", "name", "activation", "use_bias", "bias",
        "bias_initializer", "trainable"),
      list(inputs = "data2", units = "scalar", num_blocks = "scalar",
           exclusive = "scalar", kernel_initializer = "scalar",
           reuse = "scalar", name = "scalar", activation = "scalar",
           use_bias = "scalar", bias = "scalar", bias_initializer = "scalar",
           trainable = "scalar"))
  add("tfd_normal", function(f) list(loc = 0, scale = 1),
      c("loc", "scale", "validate_args", "allow_nan_stats", "name"))
  add("tfd_multivariate_normal_diag",
      function(f) list(loc = c(0, 0), scale_diag = c(1, 1)),
      c("loc", "scale_diag", "scale_identity_multiplier", "validate_args",
        "allow_nan_stats", "name"))
  add("tfd_transformed_distribution",
      function(f) list(distribution = f$base, bijector = f$shift),
      c("distribution", "bijector", "batch_shape", "event_shape",
        "kwargs_split_fn", "validate_args", "parameters", "name"))
  for (target in c("base", "normal", "td")) {
    local({
      target <- target
      add("tfd_log_prob", function(f) list(distribution = f[[target]], value = f$y),
          "value", "data2", paste0("tfd_log_prob/", target))
      add("tfd_prob", function(f) list(distribution = f[[target]], value = f$y),
          "value", "data2", paste0("tfd_prob/", target))
      add("tfd_sample", function(f) list(distribution = f[[target]], sample_shape = 3),
          "sample_shape", "scalar", paste0("tfd_sample/", target))
    })
  }
  add("tfd_log_prob", function(f) list(distribution = f$td, value = f$y),
      "distribution")
  add("tfd_prob", function(f) list(distribution = f$td, value = f$y),
      "distribution")
  add("tfd_sample", function(f) list(distribution = f$td, sample_shape = 3),
      "distribution")
  add("trainable_parameters", function(f) list(x = f$td), "x")
  add("trainable_parameters<-",
      function(f) list(x = f$td, value = trainable_parameters(f$td)),
      c("x", "value"))
  add("trainable_parameters<-",
      function(f) list(x = f$shift, value = list(shift = c(1, 2))),
      "value$shift", label = "trainable_parameters<-/shift")
  add("trainable_parameters<-",
      function(f) list(x = f$scale, value = list(scale = c(1, 2))),
      "value$scale", label = "trainable_parameters<-/scale")
  add("get_weights", function(f) list(object = f$layer), "object")
  add("set_weights", function(f) list(object = f$layer, weights = get_weights(f$layer)),
      c("object", "weights", "weights$gamma", "weights$beta",
        "weights$moving_mean", "weights$moving_variance"))
  add("loss_and_gradient", function(f) list(distribution = f$td, x = f$y),
      c("distribution", "x", "input_gradient"),
      list(distribution = "scalar", x = "data2", input_gradient = "scalar"))
  add("fit", function(f) list(object = f$td, x = f$y, epochs = 1L,
                              batch_size = 3L, verbose = FALSE),
      c("object", "x", "epochs", "batch_size", "validation_split",
        "validation_data", "shuffle", "verbose", "learning_rate", "patience"),
      list(object = "scalar", x = "data2", epochs = "scalar",
           batch_size = "scalar", validation_split = "scalar",
           validation_data = "data2", shuffle = "scalar", verbose = "scalar",
           learning_rate = "scalar", patience = "scalar"))
  add("recompute_batch_statistics", function(f) list(distribution = f$td, x = f$y),
      c("distribution", "x"), list(distribution = "scalar", x = "data2"))
  add("recompute_batch_statistics", function(f) list(distribution = f$bn, x = f$y),
      "x", "data2", label = "recompute_batch_statistics/bijector")
  add("evaluation_mode", function(f) list(distribution = f$td), "distribution")
  add("training_mode", function(f) list(distribution = f$td), "distribution")
  add("sample_two_moons", function(f) list(n = 4), c("n", "noise"))
  add("sample_gaussian_mixture", function(f) list(n = 4),
      c("n", "means", "covariances", "weights"))
  add("mixture_log_density", function(f) list(x = matrix(0, 2, 4)),
      c("x", "means", "covariances", "weights"),
      list(x = "data4", means = "scalar", covariances = "scalar",
           weights = "scalar"))
  specs
}

adv_bad_values <- function(kind) {
  if (kind == "scalar") adv_scalars() else adv_data(as.integer(sub("data", "", kind)))
}

# Replaces argument `arg` (or element `arg` = "list$element") of `args`.
adv_spoil <- function(args, arg, value) {
  parts <- strsplit(arg, "$", fixed = TRUE)[[1L]]
  if (length(parts) == 2L) {
    inner <- args[[parts[[1L]]]]
    inner[parts[[2L]]] <- list(value)
    args[[parts[[1L]]]] <- inner
  } else {
    args[arg] <- list(value)
  }
  args
}

# One fixture serves the cases until one changes its state (a successful
# training pass, a layer built by its first input); then a fresh one is made.
adv_cache <- new.env()

adv_run <- function(spec, value) {
  if (is.null(adv_cache$fixture)) {
    adv_cache$fixture <- adv_fixture()
    adv_cache$state <- adv_state(adv_cache$fixture)
  }
  f <- adv_cache$fixture
  args <- adv_spoil(spec$args(f), spec$arg, value)
  fun <- getExportedValue("bijectors", spec$fun)
  result <- suppressWarnings(tryCatch({
    do.call(fun, args, quote = TRUE)
    "ok"
  }, error = function(e) e))
  unchanged <- identical(adv_cache$state, adv_state(f))
  if (!unchanged) {
    adv_cache$fixture <- NULL
  }
  list(result = result, unchanged = unchanged)
}

# Values that are wrong for every argument of every function.
adv_never_valid <- c(
  "NA", "NA_real", "NA_integer", "NA_character", "NaN", "env", "s4",
  "s4_class", "complex", "raw", "formula", "symbol", "expression", "date",
  "factor", "string", "list1", "fun", "character_matrix", "logical_matrix",
  "character_data_frame", "list_matrix", "flag"
)
# ... except where the argument takes that kind of value.
adv_valid_for <- list(
  string = c("name", "activation", "kernel_initializer", "bias_initializer",
             "beta_initializer",
             "gamma_initializer", "moving_mean_initializer",
             "moving_variance_initializer"),
  # list(1) is also a tensor of one number, as tfprobability takes nested
  # lists for inputs (as_input_array()) and tensor parameters
  # (list_parameter_as_array())
  list1 = c("hidden_layers", "parameters", "sample_shape", "bijectors",
            "permutation", "x", "y", "value", "inputs", "shift", "scale",
            "log_scale", "loc", "scale_identity_multiplier"),
  fun = c("gamma_constraint", "shift_and_log_scale_fn", "kernel_initializer",
          "bias_initializer"),
  flag = c("validate_args", "training", "center", "scale", "shift_only",
           "is_constant_jacobian", "unroll_loop", "log_scale_clip_gradient",
           "exclusive", "use_bias", "shuffle", "validate_event_size",
           "allow_nan_stats", "input_gradient", "verbose", "reuse",
           "trainable")
)
adv_flag_args <- adv_valid_for$flag
adv_name_args <- "name"

# TRUE if the case must fail; FALSE if success is acceptable too.
adv_must_fail <- function(spec, value_name) {
  arg <- sub("^.*\\$", "", spec$arg)
  is_flag <- arg %in% adv_flag_args &&
    !(arg == "scale" && spec$fun != "layer_batch_normalization")
  if (value_name %in% adv_never_valid) {
    if (value_name == "flag") {
      return(!is_flag)
    }
    if (value_name %in% names(adv_valid_for) &&
        arg %in% adv_valid_for[[value_name]]) {
      return(FALSE)
    }
    return(TRUE)
  }
  if (is_flag && arg != "verbose") {
    return(!(value_name == "NULL" &&
               arg %in% c("use_bias", "reuse", "trainable")))
  }
  if (arg %in% adv_name_args) {
    return(!value_name %in% c("empty_string", "NULL"))
  }
  FALSE
}

# Cases left out on purpose: legitimate requests too big to run in a test.
adv_excluded <- function(spec, value_name) {
  spec$fun == "tfd_sample" && spec$arg == "sample_shape" &&
    value_name == "int_max_plus"
}

adv_cases <- function() {
  cases <- list()
  for (spec in adv_specs()) {
    values <- adv_bad_values(spec$values)
    for (value_name in names(values)) {
      if (adv_excluded(spec, value_name)) {
        next
      }
      cases[[length(cases) + 1L]] <- list(
        spec = spec, value_name = value_name, value = values[[value_name]],
        must_fail = adv_must_fail(spec, value_name))
    }
  }
  cases
}

test_that("bad arguments give classed errors and change nothing", {
  skip_on_cran()
  cases <- adv_cases()
  counts <- c(classed = 0L, ok = 0L)
  for (case in cases) {
    spec <- case$spec
    what <- sprintf("%s(%s = <%s>)", spec$label, spec$arg, case$value_name)
    outcome <- adv_run(spec, case$value)
    result <- outcome$result
    if (identical(result, "ok")) {
      counts[["ok"]] <- counts[["ok"]] + 1L
      expect_false(case$must_fail, label = paste(what, "succeeded; must fail"))
      next
    }
    counts[["classed"]] <- counts[["classed"]] + 1L
    # fit() is an S3 method of generics::fit(): objects that are not
    # transformed distributions get generics' dispatch error (reported to
    # the owner of R/fit.R: a fit.default() would classify it).
    dispatch <- spec$fun == "fit" && spec$arg == "object" &&
      grepl("no applicable method", conditionMessage(result), fixed = TRUE)
    expect_true(inherits(result, "bijectors_error") || dispatch,
                label = sprintf("%s gave an unclassed error: %s", what,
                                conditionMessage(result)))
    # fit() stops at the first bad minibatch (a learning rate that
    # diverges, a batch too large for double precision) after earlier steps
    # have legitimately changed the parameters (reported to the owner of
    # R/fit.R: it does not restore them).
    mid_training <- spec$fun == "fit" &&
      spec$arg %in% c("x", "learning_rate") &&
      inherits(result, c("bijectors_error_diverged",
                         "bijectors_error_overflow",
                         "bijectors_error_nonfinite"))
    if (!mid_training) {
      expect_true(outcome$unchanged,
                  label = paste(what, "failed but changed the state"))
    }
  }
  # The table is large on purpose; keep its size visible.
  expect_gt(length(cases), 5000L)
  expect_equal(sum(counts), length(cases))
})

test_that("long vectors are refused by size before any pass over them", {
  skip_on_cran()
  long <- tryCatch(seq_len(2^31), error = function(e) NULL)
  skip_if(is.null(long), "no long vectors on this platform")
  f <- adv_fixture()
  before <- adv_state(f)
  for (target in c("bn", "bn_eval", "bn_fresh", "shift", "scale", "permute",
                   "maf", "maf_fresh", "nvp", "chain")) {
    expect_error(tfb_forward(f[[target]], long), class = "bijectors_error")
    expect_error(tfb_inverse(f[[target]], long), class = "bijectors_error")
  }
  expect_error(tfb_masked_dense(long, 3), class = "bijectors_error")
  expect_error(layer_batch_normalization(momentum = long),
               class = "bijectors_error")
  expect_error(layer_batch_normalization(epsilon = long),
               class = "bijectors_error")
  expect_error(tfb_batch_normalization(training = long),
               class = "bijectors_error")
  expect_error(tfb_shift(1, name = long), class = "bijectors_error")
  expect_error(tfb_forward_log_det_jacobian(f$bn, f$y, event_ndims = long),
               class = "bijectors_error")
  expect_error(sample_two_moons(long), class = "bijectors_error")
  expect_error(tfd_sample(f$base, c(2^40, 2^40)),
               class = "bijectors_error_sample_shape")
  expect_identical(adv_state(f), before)
})
