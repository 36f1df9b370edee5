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

# A classed error from `expr`, caught directly rather than through
# expect_error()'s backtrace capture (slow in deep calls); any other error
# propagates and fails the test.
expect_refused <- function(expr, class = "bijectors_error", label = NULL) {
  caught <- tryCatch({
    expr
    NULL
  }, error = function(e) e)
  label <- label %||% deparse1(substitute(expr))
  testthat::expect(
    inherits(caught, class),
    if (is.null(caught)) {
      sprintf("%s did not raise an error of class `%s`.", label, class)
    } else {
      sprintf("%s raised %s, not an error of class `%s`: %s", label,
              paste(class(caught), collapse = "/"), class,
              conditionMessage(caught))
    })
  invisible(caught)
}
