# Partial matching of `$` is a bug waiting to happen (STYLE.md): make it
# warn, so that any occurrence in the package fails the test that hits it.
withr::local_options(
  list(warnPartialMatchDollar = TRUE),
  .local_envir = testthat::teardown_env()
)
