# Deprecated tfprobability bijectors (DESIGN 10) work with their old meaning
# and say once per session what replaces them.

deprecation_state <- new.env(parent = emptyenv())

# A message of class "bijectors_deprecated" the
# first time `old` is called in a session; silent afterwards.
deprecate_once <- function(old, replacement) {
  if (isTRUE(deprecation_state[[old]])) {
    return(invisible(FALSE))
  }
  deprecation_state[[old]] <- TRUE
  condition <- structure(
    class = c("bijectors_deprecated", "message", "condition"),
    list(message = sprintf(
      "%s() is deprecated (as in TensorFlow Probability); use %s instead.\n",
      old, replacement), call = NULL))
  message(condition)
  invisible(TRUE)
}

# For tests: forget which deprecations were announced.
reset_deprecations <- function() {
  rm(list = ls(deprecation_state, all.names = TRUE), envir = deprecation_state)
  invisible()
}
