#!/usr/bin/env bash
# Run the full test suite of bijectors against a freshly installed copy.
#
# Usage, from anywhere: bash tools/run-tests.sh [--quick]
#
# --quick runs every test file but the slow robustness ones (gctorture and
# the adversarial input table), reusing the compiled objects of the last
# quick run where the sources have not changed, for development: under a
# minute. CI and the README's command run everything, compiled afresh.
# Test files run in parallel, one R process per core (up to 4).
#
# Steps: install any missing dependencies, install the package from a copy of
# the source tree into a throw-away library (so no build droppings land in the
# working tree), run tests/testthat against that installed package, and print
# a closing line "N passed, N failed, N skipped". Exits non-zero when a test
# fails or errors, when the package does not install, or when no test ran.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"

slow_files=(test-gctorture.R test-adversarial.R)
quick=0
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    *) echo "run-tests: unknown argument $arg (use --quick or nothing)" >&2; exit 2 ;;
  esac
done

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

# The quick run keeps the compiled objects between runs (outside the tree),
# and reuses one only when it is newer than its .c file, every header and
# the Makevars; a full run always compiles from scratch.
object_cache=""
install_options=()
if [ "$quick" -eq 1 ]; then
  install_options=(--no-docs --no-html)
  repo_key=$(printf '%s' "$repo_root" | cksum | cut -d ' ' -f 1)
  object_cache="${TMPDIR:-/tmp}/bijectors-quick-objects-$(id -u)-$repo_key"
  mkdir -p "$object_cache"
  for object in "$object_cache"/*.o; do
    [ -e "$object" ] || continue
    c_file="$source_copy/src/$(basename "${object%.o}").c"
    [ -f "$c_file" ] && [ "$object" -nt "$c_file" ] || continue
    stale=0
    for dependency in "$source_copy"/src/*.h "$source_copy"/src/Makevars*; do
      if [ -e "$dependency" ] && [ ! "$object" -nt "$dependency" ]; then
        stale=1
        break
      fi
    done
    [ "$stale" -eq 0 ] && cp -p "$object" "$source_copy/src/"
  done
fi

echo "run-tests: installing bijectors into a temporary library ($(date +%T))"
if ! MAKEFLAGS="-j$(nproc 2>/dev/null || echo 1)" R CMD INSTALL \
  --no-multiarch "${install_options[@]}" --library="$test_library" \
  "$source_copy" \
  >"$work_dir/install.log" 2>&1; then
  cat "$work_dir/install.log"
  echo "run-tests: R CMD INSTALL failed" >&2
  exit 1
fi
if [ -n "$object_cache" ]; then
  rm -f "$object_cache"/*.o
  cp -p "$source_copy"/src/*.o "$object_cache/" 2>/dev/null || true
fi

echo "run-tests: installed ($(date +%T))"
export NOT_CRAN=true
export BIJECTORS_TEST_LIBRARY="$test_library"

# tools/run-testthat.R runs the files and writes "passed failed skipped
# files"; its absence means R did not reach the end.
export BIJECTORS_TEST_DIR="$repo_root/tests/testthat"
export BIJECTORS_TEST_FILES=""
if [ "$quick" -eq 1 ]; then
  quick_files=()
  for path in tests/testthat/test-*.R; do
    file=$(basename "$path")
    case " ${slow_files[*]} " in
      *" $file "*) ;;
      *) quick_files+=("$file") ;;
    esac
  done
  BIJECTORS_TEST_FILES="${quick_files[*]}"
  echo "run-tests: quick run, leaving out ${slow_files[*]}"
fi
export BIJECTORS_TEST_RESULTS="$work_dir/results"
# One test process per core, up to 4 (tools/run-testthat.R).
cores=$(nproc 2>/dev/null || echo 1)
export BIJECTORS_TEST_JOBS=$(( cores < 4 ? cores : 4 ))
Rscript --vanilla tools/run-testthat.R || true
if [ ! -s "$BIJECTORS_TEST_RESULTS" ]; then
  echo "run-tests: the test run did not finish" >&2
  exit 1
fi
read -r n_passed n_failed n_skipped n_files < "$BIJECTORS_TEST_RESULTS"
echo
echo "$n_passed passed, $n_failed failed, $n_skipped skipped"
if [ "$n_failed" -gt 0 ]; then
  exit 1
fi
if [ "$n_files" -eq 0 ] || [ $((n_passed + n_skipped)) -eq 0 ]; then
  echo "run-tests: no test ran" >&2
  exit 1
fi
