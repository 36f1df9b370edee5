# Faster equality expectations with testthat's decisions.
#
# testthat's third edition runs waldo::compare() on every expect_equal() and
# expect_identical(), even when the values are equal; in the conformance
# harness that walk was a third of the run. These versions decide the
# common cases directly: identical values pass, and two plain numeric
# vectors or arrays with identical attributes pass under waldo's own rule
# for numbers (mean absolute difference over the elements that differ,
# relative to the mean size of the expected ones there, below the
# tolerance). Anything else, and every failure, goes to testthat's own
# expectation, so the decisions and the failure messages are testthat's.

fast_numbers_equal <- function(x, y, tolerance) {
  if (!(is.double(x) || is.integer(x)) || typeof(x) != typeof(y) ||
      is.object(x) || is.object(y) || length(x) != length(y) ||
      !identical(attributes(x), attributes(y)) ||
      !is.numeric(tolerance) || length(tolerance) != 1L) {
    return(FALSE)
  }
  if (any(is.na(x) != is.na(y))) {
    return(FALSE)
  }
  same <- is.na(x) | x == y
  if (all(same)) {
    return(TRUE)
  }
  x <- as.vector(x[!same])
  y <- as.vector(y[!same])
  difference <- mean(abs(x - y))
  size <- mean(abs(y))
  if (is.finite(size) && size > tolerance) {
    difference <- difference / size
  }
  isTRUE(difference < tolerance)
}

expect_equal <- function(object, expected, ...,
                         tolerance = testthat::testthat_tolerance(),
                         info = NULL, label = NULL, expected.label = NULL) {
  if (...length() == 0L && (identical(object, expected) ||
                            fast_numbers_equal(object, expected, tolerance))) {
    testthat::succeed()
    return(invisible(object))
  }
  testthat::expect_equal(
    object, expected, ..., tolerance = tolerance, info = info,
    label = label %||% deparse1(substitute(object)),
    expected.label = expected.label %||% deparse1(substitute(expected)))
}

expect_identical <- function(object, expected, info = NULL, label = NULL,
                             expected.label = NULL, ...) {
  if (...length() == 0L && identical(object, expected)) {
    testthat::succeed()
    return(invisible(object))
  }
  testthat::expect_identical(
    object, expected, info = info, ...,
    label = label %||% deparse1(substitute(object)),
    expected.label = expected.label %||% deparse1(substitute(expected)))
}

# expect_error() without testthat's capture of the backtrace (slow in deep
# calls, and this suite makes hundreds). The error is caught directly and
# matched as testthat matches it: some condition in the chain of the error
# and its parents inherits from `class` and has a message matching `regexp`
# (grepl(), with `...`). `regexp = NA` (no error expected) and
# `inherit = FALSE` are left to testthat.
expect_error <- function(object, regexp = NULL, class = NULL, ...,
                         inherit = TRUE, info = NULL, label = NULL) {
  label <- label %||% deparse1(substitute(object))
  if (identical(regexp, NA) || !isTRUE(inherit)) {
    return(testthat::expect_error(object, regexp = regexp, class = class,
                                  ..., inherit = inherit, info = info,
                                  label = label))
  }
  caught <- tryCatch({
    object
    NULL
  }, error = function(e) e)
  matched <- FALSE
  condition <- caught
  while (!matched && !is.null(condition)) {
    matched <- inherits(condition, class %||% "error") &&
      (is.null(regexp) || grepl(regexp, conditionMessage(condition), ...))
    condition <- condition[["parent"]]
  }
  testthat::expect(matched, if (is.null(caught)) {
    sprintf("%s did not throw the expected error.", label)
  } else {
    sprintf("%s threw an error of class %s with message\n%s\nexpected%s%s",
            label, paste0("`", class(caught), "`", collapse = "/"),
            conditionMessage(caught),
            if (is.null(class)) "" else sprintf(" class `%s`", class),
            if (is.null(regexp)) "" else sprintf(
              " a message matching %s", encodeString(regexp, quote = "\"")))
  }, info = info)
  invisible(caught)
}
