# Entry point used by R CMD check; the tests themselves are in tests/testthat/.
library(testthat)
library(bijectors)

test_check("bijectors")
