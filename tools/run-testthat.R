# Run tests/testthat (or some of its files) against an installed bijectors.
# Used by tools/valgrind.sh and tools/sanitizers.sh, which start R in their
# own way (under valgrind, or with a sanitizer runtime preloaded) and read
# the outcome back from a file. Settings come from the environment:
#
#   BIJECTORS_TEST_LIBRARY  the library bijectors was installed into
#   BIJECTORS_TEST_DIR      the tests/testthat directory to run
#   BIJECTORS_TEST_FILES    space-separated test file names (test-foo.R);
#                           empty: every file
#   BIJECTORS_TEST_RESULTS  where to write "passed failed skipped files"
#
# The results file is written last, so its absence means R did not get to
# the end (a crash, or a sanitizer that stopped the process).
library_path <- Sys.getenv("BIJECTORS_TEST_LIBRARY")
test_dir_path <- Sys.getenv("BIJECTORS_TEST_DIR")
results_path <- Sys.getenv("BIJECTORS_TEST_RESULTS")
files <- strsplit(trimws(Sys.getenv("BIJECTORS_TEST_FILES")), "[[:space:]]+")[[1]]

.libPaths(c(library_path, .libPaths()))
options(warnPartialMatchDollar = TRUE)
library(testthat)
library(bijectors, lib.loc = library_path)

filter <- NULL
if (length(files) > 0) {
  missing <- files[!file.exists(file.path(test_dir_path, files))]
  if (length(missing) > 0) {
    stop("no such test file: ", paste(missing, collapse = ", "))
  }
  # test_dir() matches `filter` against names without "test-" and ".R".
  stems <- sub("\\.[rR]$", "", sub("^test-?", "", files))
  filter <- paste0("^(", paste(gsub("([.|()\\^{}+$*?\\[\\]\\\\])", "\\\\\\1",
                                    stems), collapse = "|"), ")$")
}

reporter <- ProgressReporter$new(
  show_praise = FALSE,
  max_failures = .Machine$integer.max,
  update_interval = Inf
)
results <- test_dir(
  test_dir_path,
  filter = filter,
  package = "bijectors",
  load_package = "installed",
  reporter = reporter,
  stop_on_failure = FALSE,
  stop_on_warning = FALSE
)
summary_table <- as.data.frame(results)
n_passed <- sum(summary_table$passed)
n_failed <- sum(summary_table$failed) + sum(summary_table$error)
n_skipped <- sum(summary_table$skipped)
n_files <- length(unique(summary_table$file))
cat("\n", n_passed, " passed, ", n_failed, " failed, ", n_skipped,
    " skipped in ", n_files, " files\n", sep = "")
by_file <- tapply(summary_table$real, summary_table$file, sum)
cat("seconds per file:\n")
print(round(sort(by_file, decreasing = TRUE), 1))

writeLines(paste(n_passed, n_failed, n_skipped, n_files), results_path)
