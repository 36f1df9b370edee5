# Run tests/testthat (or some of its files) against an installed bijectors.
# Used by tools/run-tests.sh, tools/valgrind.sh and tools/sanitizers.sh
# (which start R in their own way, under valgrind or with a sanitizer
# runtime preloaded) and read the outcome back from a file. Settings come
# from the environment:
#
#   BIJECTORS_TEST_LIBRARY  the library bijectors was installed into
#   BIJECTORS_TEST_DIR      the tests/testthat directory to run
#   BIJECTORS_TEST_FILES    space-separated test file names (test-foo.R);
#                           empty: every file
#   BIJECTORS_TEST_RESULTS  where to write "passed failed skipped files"
#   BIJECTORS_TEST_JOBS     test processes (default 1). With more than one,
#                           forked copies of this process take files from
#                           one queue, longest first, and each file's report
#                           is printed when it ends.
#
# The results file is written last, so its absence means R did not get to
# the end (a crash, or a sanitizer that stopped the process).
library_path <- Sys.getenv("BIJECTORS_TEST_LIBRARY")
test_dir_path <- Sys.getenv("BIJECTORS_TEST_DIR")
results_path <- Sys.getenv("BIJECTORS_TEST_RESULTS")
files <- strsplit(trimws(Sys.getenv("BIJECTORS_TEST_FILES")), "[[:space:]]+")[[1]]
jobs <- suppressWarnings(as.integer(Sys.getenv("BIJECTORS_TEST_JOBS", "1")))
if (is.na(jobs) || jobs < 1L) {
  stop("BIJECTORS_TEST_JOBS must be a positive whole number")
}

.libPaths(c(library_path, .libPaths()))
options(warnPartialMatchDollar = TRUE)
library(testthat)
library(bijectors, lib.loc = library_path)

if (length(files) == 0L) {
  files <- list.files(test_dir_path, pattern = "^test.*\\.[rR]$")
}
missing <- files[!file.exists(file.path(test_dir_path, files))]
if (length(missing) > 0L) {
  stop("no such test file: ", paste(missing, collapse = ", "))
}

# test_dir() matches `filter` against names without "test-" and ".R".
file_filter <- function(files) {
  stems <- sub("\\.[rR]$", "", sub("^test-?", "", files))
  paste0("^(", paste(gsub("([.|()\\^{}+$*?\\[\\]\\\\])", "\\\\\\1", stems),
                     collapse = "|"), ")$")
}

new_reporter <- function(file = stdout()) {
  ProgressReporter$new(show_praise = FALSE, file = file,
                       max_failures = .Machine$integer.max,
                       update_interval = Inf)
}

run_files <- function(files, reporter) {
  results <- test_dir(test_dir_path, filter = file_filter(files),
                      package = "bijectors", load_package = "installed",
                      reporter = reporter, stop_on_failure = FALSE,
                      stop_on_warning = FALSE)
  as.data.frame(results)
}

# One forked worker: claims files in queue order (a claim is a directory
# made atomically), runs each alone and prints its report in one piece.
run_worker <- function(queue, claims) {
  tables <- list()
  for (file in queue) {
    if (!dir.create(file.path(claims, file), showWarnings = FALSE)) next
    log <- tempfile("report")
    tables[[file]] <- run_files(file, new_reporter(log))
    report <- readLines(log, warn = FALSE)
    # the file's own lines, without the header and the closing summary
    end <- match(TRUE, startsWith(report, "\u2550\u2550 Results"),
                 nomatch = length(report) + 1L)
    report <- report[seq_len(end - 1L)]
    report <- report[!startsWith(report, "\u2714 | F W S  OK") &
                       nzchar(trimws(report))]
    cat(paste0(paste(report, collapse = "\n"), "\n"))
    unlink(log)
  }
  do.call(rbind, tables)
}

if (jobs == 1L || length(files) == 1L) {
  summary_table <- run_files(files, new_reporter())
} else {
  # Longest first: the files known to take minutes, then by size.
  long <- c("test-gctorture.R", "test-adversarial.R", "test-conformance.R")
  sizes <- file.size(file.path(test_dir_path, files))
  queue <- files[order(match(files, long, nomatch = length(long) + 1L),
                       -sizes)]
  claims <- tempfile("claims")
  dir.create(claims)
  workers <- lapply(seq_len(min(jobs, length(files))), function(k) {
    parallel::mcparallel(run_worker(queue, claims))
  })
  tables <- parallel::mccollect(workers)
  died <- vapply(tables, function(t) is.null(t) || inherits(t, "try-error"),
                 logical(1))
  if (any(died)) {
    stop("a test process died: ",
         paste(vapply(tables[died], function(t) {
           if (is.null(t)) "no result" else as.character(t)
         }, character(1)), collapse = "; "))
  }
  summary_table <- do.call(rbind, tables)
}

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
