#!/usr/bin/env bash
# Run the full test suite of bijectors against a freshly installed copy.
#
# Usage, from anywhere: bash tools/run-tests.sh
#
# Steps: install any missing dependencies, install the package from a copy of
# the source tree into a throw-away library (so no build droppings land in the
# working tree), run tests/testthat against that installed package, and print
# a closing line "N passed, N failed, N skipped". Exits non-zero when a test
# fails or errors, when the package does not install, or when no test ran.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"

bash tools/install-deps.sh

work_dir=$(mktemp -d "${TMPDIR:-/tmp}/bijectors-tests.XXXXXX")
cleanup() { rm -rf "$work_dir"; }
trap cleanup EXIT

source_copy="$work_dir/bijectors"
test_library="$work_dir/library"
mkdir -p "$source_copy" "$test_library"

# Copy the tree without version control data or earlier check/build results.
tar -C "$repo_root" \
  --exclude=./.git --exclude='./*.Rcheck' --exclude='./*.tar.gz' \
  -cf - . | tar -C "$source_copy" -xf -
rm -f "$source_copy"/src/*.o "$source_copy"/src/*.so "$source_copy"/src/*.dll

echo "run-tests: installing bijectors into a temporary library"
if ! R CMD INSTALL --no-multiarch --library="$test_library" "$source_copy" \
  >"$work_dir/install.log" 2>&1; then
  cat "$work_dir/install.log"
  echo "run-tests: R CMD INSTALL failed" >&2
  exit 1
fi

export NOT_CRAN=true
export BIJECTORS_TEST_LIBRARY="$test_library"

Rscript --vanilla - <<'RSCRIPT'
.libPaths(c(Sys.getenv("BIJECTORS_TEST_LIBRARY"), .libPaths()))
options(warnPartialMatchDollar = TRUE)
library(testthat)
library(bijectors, lib.loc = Sys.getenv("BIJECTORS_TEST_LIBRARY"))

# Report every failure (the default stops after 10), and when the output is a
# log rather than a terminal print one line per file instead of spinner frames.
reporter <- ProgressReporter$new(
  show_praise = FALSE,
  max_failures = .Machine$integer.max,
  update_interval = if (cli::is_dynamic_tty()) 0.1 else Inf
)
results <- test_dir(
  "tests/testthat",
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

cat("\n", n_passed, " passed, ", n_failed, " failed, ", n_skipped, " skipped\n",
    sep = "")

if (n_failed > 0) {
  quit(save = "no", status = 1)
}
if (nrow(summary_table) == 0 || n_passed + n_skipped == 0) {
  cat("run-tests: no test ran\n", file = stderr())
  quit(save = "no", status = 1)
}
RSCRIPT
