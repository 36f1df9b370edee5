# The plumbing shared by the package's environment-backed objects
# (bijectors, distributions, batch-normalization layers, network templates):
# `$`, `[[`, completion, as.list(), summary() and print(). A kind declares
# its public methods and fields; everything else in the environment
# (parameters, Adam's moments, pointers, caches) is internal and cannot be
# reached through these accessors. Fields are handed out as copies, so that
# nothing a user holds is ever written into by the package's C code.

# The names of a kind's public methods (functions returned by `$`) and
# fields. Methods of these generics add to their parent class's names with
# c(NextMethod(), ...).
object_method_names <- function(x) {
  UseMethod("object_method_names")
}

#' @export
object_method_names.default <- function(x) {
  character()
}

object_field_names <- function(x) {
  UseMethod("object_field_names")
}

#' @export
object_field_names.default <- function(x) {
  character()
}

# The method `name` of `x`, a closure over `x`.
object_method <- function(x, name) {
  UseMethod("object_method")
}

# The public field `name` of `x`. The default reads the binding of that
# name; kinds whose fields are computed (a copy of a trainable array, a
# layer's weights) override it for those names and call NextMethod() for
# the rest.
object_field <- function(x, name) {
  UseMethod("object_field")
}

#' @export
object_field.default <- function(x, name) {
  .subset2(x, name)
}

# A copy of a value for a user: double vectors (the only values that C
# writes into in place) are fresh, lists are walked; environments (other
# objects of the package) and functions are references, by design.
copy_value <- function(value) {
  if (is.double(value)) {
    copy <- .Call(C_copy_double, value)
    attributes(copy) <- attributes(value)
    return(copy)
  }
  if (is.list(value) && !is.object(value)) {
    copy <- lapply(value, copy_value)
    attributes(copy) <- attributes(value)
    return(copy)
  }
  value
}

# ---- TFP's `parameters` and `dtype` ----------------------------------------

# The arguments of the exported constructor that is building an object,
# as a named list in the order of its formals, with the values they hold
# now: checked and normalised, as TFP's `parameters` holds the converted
# tensors. The constructor is the nearest exported tfb_/tfd_ function on
# the stack (internal helpers may lie between); NULL when that is not a
# constructor (an internal object made inside tfd_log_prob()) or there is
# none. Kinds store it; `$parameters` hands out copies.
constructor_arguments <- function() {
  namespace <- topenv(environment(constructor_arguments))
  for (i in rev(seq_len(sys.nframe() - 1L))) {
    fn <- sys.function(i)
    name <- exported_function_name(fn, sys.call(i)[[1L]], namespace)
    if (is.null(name)) {
      next
    }
    if (!name %in% exported_functions()$constructors) {
      return(NULL)
    }
    names <- names(formals(fn))
    names <- names[names != "..."]
    frame <- sys.frame(i)
    # one call in the common case; an argument with no value (missing, or
    # a default that fails) gives NULL
    values <- tryCatch(mget(names, envir = frame, inherits = FALSE),
                       error = function(condition) NULL)
    if (is.null(values)) {
      values <- lapply(names, function(name) {
        tryCatch(get(name, envir = frame, inherits = FALSE),
                 error = function(condition) NULL)
      })
      names(values) <- names
    }
    return(values)
  }
  NULL
}

# The exported tfb_/tfd_ functions (`all`), and those of them that
# construct an object (`constructors`), computed once.
exported_functions <- function() {
  package_cache$exported_functions %||% {
    all <- grep("^tf[bd]_", getNamespaceExports(
      topenv(environment(exported_functions))), value = TRUE)
    computing <- grepl(paste0(
      "^tfb_(forward|inverse)(_|$)|^tfd_(log_prob|prob|sample)",
      "(_parallel)?$|_template$|^tfb_masked_dense$"), all)
    package_cache$exported_functions <- list(
      all = all, constructors = all[!computing])
  }
}

# The name of `fn` when it is one of the package's exported tfb_/tfd_
# functions, else NULL: by the name it was called with when there is one
# (one comparison of pointers), otherwise (do.call()) against every such
# export.
exported_function_name <- function(fn, head, namespace) {
  if (!identical(environment(fn), namespace)) {
    return(NULL)
  }
  if (is.call(head) && length(head) == 3L &&
      as.character(head[[1L]]) %in% c("::", ":::")) {
    head <- head[[3L]]
  }
  if (is.name(head)) {
    name <- as.character(head)
    # most frames are internal helpers: their names tell at once
    if (!startsWith(name, "tfb_") && !startsWith(name, "tfd_")) {
      return(NULL)
    }
    candidates <- name
  } else {
    candidates <- exported_functions()$all
  }
  for (name in candidates) {
    if (identical(fn, get0(name, envir = namespace, inherits = FALSE)) &&
        name %in% exported_functions()$all) {
      return(name)
    }
  }
  NULL
}

# `x$parameters`: the constructor's arguments by name (TFP's `parameters`),
# where a public field has the same name its current value (a trained
# parameter), the way the elementwise kinds give theirs. An object saved
# before the arguments were recorded gives its public fields.
object_parameters <- function(x) {
  fields <- setdiff(object_field_names(x), c("parameters", "dtype"))
  arguments <- .subset2(x, "constructor_arguments")
  if (is.null(arguments)) {
    names <- setdiff(fields, "trainable_variables")
    arguments <- lapply(names, function(name) object_field(x, name))
    names(arguments) <- names
    return(arguments)
  }
  for (name in intersect(names(arguments), fields)) {
    arguments[name] <- list(object_field(x, name))
  }
  arguments
}

object_kind <- function(x) {
  class(x)[[1L]]
}

object_get <- function(x, name) {
  if (!is.character(name) || length(name) != 1L || is.na(name)) {
    abort_bijectors("field", sprintf(paste(
      "A <%s> is accessed by the name of a field or method (a string),",
      "not %s; see names(as.list(x)) for its fields."), object_kind(x),
      describe_value(name)))
  }
  if (name %in% object_method_names(x)) {
    return(object_method(x, name))
  }
  if (name %in% object_field_names(x)) {
    return(copy_value(object_field(x, name)))
  }
  abort_bijectors("field", sprintf(
    "A <%s> has no field or method `%s`. Its fields: %s.", object_kind(x),
    name, paste0("`", object_field_names(x), "`", collapse = ", ")))
}

object_set <- function(x, name, value) {
  abort_bijectors("read_only", sprintf(paste(
    "`%s` of a <%s> is read-only: its fields are copies. %s"),
    format(name), object_kind(x), object_change_hint(x)))
}

object_change_hint <- function(x) {
  UseMethod("object_change_hint")
}

#' @export
object_change_hint.default <- function(x) {
  "Create a new object instead."
}

object_completions <- function(x, pattern = "") {
  grep(pattern, c(object_method_names(x), object_field_names(x)),
       value = TRUE)
}

# The public fields as a named list of copies.
object_as_list <- function(x, ...) {
  fields <- object_field_names(x)
  values <- lapply(fields, function(name) copy_value(object_field(x, name)))
  names(values) <- fields
  values
}

object_print <- function(x, ...) {
  cat(format(x, ...), sep = "\n")
  invisible(x)
}

# summary() of an object: its printed description and the names of its
# fields and methods.
object_summary <- function(object, ...) {
  structure(list(
    description = format(object),
    fields = object_field_names(object),
    methods = object_method_names(object)
  ), class = "bijectors_summary")
}

#' @export
print.bijectors_summary <- function(x, ...) {
  cat(x$description, sep = "\n")
  if (length(x$fields) > 0L) {
    cat(strwrap(paste0("Fields: ", paste(x$fields, collapse = ", ")),
                exdent = 2L), sep = "\n")
  }
  if (length(x$methods) > 0L) {
    cat(strwrap(paste0("Methods: ", paste(x$methods, collapse = ", ")),
                exdent = 2L), sep = "\n")
  }
  invisible(x)
}

# The accessors of one base class, registered in NAMESPACE for bijector,
# distribution, layer_batch_normalization and bijectors_template.

# Methods are what users call most (`b$inverse(y)`), so they skip the
# generic lookup.
#' @export
`$.bijector` <- function(x, name) {
  if (!is.character(name)) {
    return(object_get(x, name))
  }
  # the two maps users call in loops are built here, one call shorter (the
  # bodies of tfb_forward() and tfb_inverse()), and for the kinds that put
  # no running statistics at risk straight to the kind's map;
  # object_method.bijector() comes here for them too
  bijector <- x
  switch(name,
    inverse = if (inherits(x, statistics_free_kinds))
      function(y, name = "inverse") bijector_inverse(bijector, y) else
      function(y, name = "inverse") apply_inverse(bijector, y),
    forward = if (inherits(x, statistics_free_kinds))
      function(x, name = "forward") bijector_forward(bijector, x) else
      function(x, name = "forward") apply_forward(bijector, x),
    forward_log_det_jacobian = , inverse_log_det_jacobian = ,
    forward_event_shape = ,
    inverse_event_shape = object_method.bijector(x, name),
    object_get(x, name))
}
#' @export
`[[.bijector` <- function(x, i, ...) object_get(x, i)
#' @export
`$<-.bijector` <- function(x, name, value) object_set(x, name, value)
#' @export
`[[<-.bijector` <- function(x, i, ..., value) object_set(x, i, value)
#' @rawNamespace S3method(utils::.DollarNames, bijector)
.DollarNames.bijector <- function(x, pattern = "") {
  object_completions(x, pattern)
}
#' @export
as.list.bijector <- object_as_list
#' @export
summary.bijector <- object_summary
#' @export
print.bijector <- object_print

#' @export
`$.distribution` <- function(x, name) {
  if (is.character(name) && length(name) == 1L &&
      name %in% distribution_methods) {
    return(object_method.distribution(x, name))
  }
  object_get(x, name)
}
#' @export
`[[.distribution` <- `[[.bijector`
#' @export
`$<-.distribution` <- `$<-.bijector`
#' @export
`[[<-.distribution` <- `[[<-.bijector`
#' @rawNamespace S3method(utils::.DollarNames, distribution)
.DollarNames.distribution <- .DollarNames.bijector
#' @export
as.list.distribution <- object_as_list
#' @export
summary.distribution <- object_summary
#' @export
print.distribution <- object_print

#' @export
`$.layer_batch_normalization` <- function(x, name) object_get(x, name)
#' @export
`[[.layer_batch_normalization` <- `[[.bijector`
#' @export
`$<-.layer_batch_normalization` <- `$<-.bijector`
#' @export
`[[<-.layer_batch_normalization` <- `[[<-.bijector`
#' @rawNamespace S3method(utils::.DollarNames, layer_batch_normalization)
.DollarNames.layer_batch_normalization <- .DollarNames.bijector
#' @export
as.list.layer_batch_normalization <- object_as_list
#' @export
summary.layer_batch_normalization <- object_summary
#' @export
print.layer_batch_normalization <- object_print

#' @export
`$.bijectors_template` <- function(x, name) object_get(x, name)
#' @export
`[[.bijectors_template` <- `[[.bijector`
#' @export
`$<-.bijectors_template` <- `$<-.bijector`
#' @export
`[[<-.bijectors_template` <- `[[<-.bijector`
#' @rawNamespace S3method(utils::.DollarNames, bijectors_template)
.DollarNames.bijectors_template <- .DollarNames.bijector
#' @export
as.list.bijectors_template <- object_as_list
#' @export
summary.bijectors_template <- object_summary
#' @export
print.bijectors_template <- object_print
