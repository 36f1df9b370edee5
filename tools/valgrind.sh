#!/usr/bin/env bash
# Run the test suite of bijectors under valgrind's memcheck.
#
# Usage, from anywhere:
#   bash tools/valgrind.sh              every test file (12 minutes and more
#                                       on a 2-core machine; tests can skip
#                                       what is too slow under valgrind, such
#                                       as gctorture, when BIJECTORS_VALGRIND
#                                       is set, which this script does)
#   bash tools/valgrind.sh --subset     the C-heavy files named below (what
#                                       CI runs; about 4 minutes)
#   bash tools/valgrind.sh test-network.R test-saving.R ...   those files
#   --keep                              keep the work directory (logs)
#   --origins / --no-origins            --track-origins=yes (where an
#                                       uninitialised value came from) or not;
#                                       the default is yes for a full run and
#                                       no for --subset and named files, which
#                                       runs about twice as fast (errors are
#                                       found either way; rerun with --origins
#                                       to see where one came from)
#
# Steps: install valgrind and the R dependencies if missing, install the
# package from a copy of the tree into a throw-away library (the build never
# touches the working tree), run the tests with
#   R -d "valgrind --error-exitcode=1 --leak-check=full ..."
# and read valgrind's log. It prints the valgrind error count (invalid reads
# and writes, uses of uninitialised values, bad frees, ...; R's own known
# noise is suppressed by tools/valgrind.supp), the definite leaks of the whole
# process, and each definite leak whose stack passes through the package's
# code (bijectors.so or its sources).
#
# Exits non-zero on any valgrind error, on any definite leak attributed to
# the package, or when R did not run the tests to the end (a crash). Test
# failures are printed but are not fatal here: valgrind emulates long double
# with 64 bits, which changes R's sum() and mean() in the last bits, and
# tools/run-tests.sh is the judge of the tests themselves.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"

# The fast subset: the files that drive the C entry points hardest (batch
# normalization moments and updates, the MLP and affine kernels forward and
# backward, every backward pass, Adam, the external pointers after
# readRDS(), and the copies made before writing into a shared parameter
# list or state). Named explicitly so that new test files do not slow CI
# down unnoticed.
subset_files=(
  test-batch_normalization.R
  test-network.R
  test-masked_autoregressive.R
  test-real_nvp.R
  test-gradients.R
  test-trainable_parameters.R
  test-saving.R
  test-object.R
  test-adam.R
  test-exp.R
  test-sigmoid.R
)

mode=all
keep=0
origins=""
files=()
while [ $# -gt 0 ]; do
  case "$1" in
    --subset) mode=subset ;;
    --keep) keep=1 ;;
    --origins) origins=yes ;;
    --no-origins) origins=no ;;
    -h|--help) sed -n '2,37p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "valgrind: unknown option $1" >&2; exit 2 ;;
    *) mode=files; files+=("$(basename "$1")") ;;
  esac
  shift
done
if [ "$mode" = subset ]; then
  files=("${subset_files[@]}")
fi
if [ -z "$origins" ]; then
  if [ "$mode" = all ]; then origins=yes; else origins=no; fi
fi

if ! command -v valgrind >/dev/null 2>&1; then
  echo "valgrind: installing Debian's valgrind"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    valgrind >/dev/null
fi
bash tools/install-deps.sh

work_dir=$(mktemp -d "${TMPDIR:-/tmp}/bijectors-valgrind.XXXXXX")
cleanup() {
  if [ "$keep" -eq 1 ]; then
    echo "valgrind: logs kept in $work_dir"
  else
    rm -rf "$work_dir"
  fi
}
trap cleanup EXIT

source_copy="$work_dir/bijectors"
test_library="$work_dir/library"
mkdir -p "$source_copy" "$test_library"
tar -C "$repo_root" \
  --exclude=./.git --exclude='./*.Rcheck' --exclude='./*.tar.gz' \
  -cf - . | tar -C "$source_copy" -xf -
rm -f "$source_copy"/src/*.o "$source_copy"/src/*.so "$source_copy"/src/*.dll

# R's own compiler flags (-g -O2), and none from the user's ~/.R/Makevars.
: >"$work_dir/Makevars"
echo "valgrind: installing bijectors into a temporary library"
if ! R_MAKEVARS_USER="$work_dir/Makevars" \
  R CMD INSTALL --no-multiarch --library="$test_library" "$source_copy" \
  >"$work_dir/install.log" 2>&1; then
  cat "$work_dir/install.log"
  echo "valgrind: R CMD INSTALL failed" >&2
  exit 1
fi

export NOT_CRAN=true
export BIJECTORS_VALGRIND=true
# With OpenBLAS as the system BLAS (tools/install-deps.sh), keep it to its
# AVX2 kernels, which valgrind emulates (it stops at AVX-512 instructions),
# and to one thread; both are ignored by the reference BLAS.
export OPENBLAS_CORETYPE=Haswell
export OPENBLAS_NUM_THREADS=1
export BIJECTORS_TEST_LIBRARY="$test_library"
export BIJECTORS_TEST_DIR="$source_copy/tests/testthat"
export BIJECTORS_TEST_FILES="${files[*]+"${files[*]}"}"
export BIJECTORS_TEST_RESULTS="$work_dir/results.txt"

valgrind_options=(
  --error-exitcode=1
  --leak-check=full
  --show-leak-kinds=definite
  --errors-for-leak-kinds=none
  --track-origins="$origins"
  --num-callers=40
  --fullpath-after=
  --suppressions="$repo_root/tools/valgrind.supp"
  --log-file="$work_dir/valgrind.%p.log"
)

if [ -n "$BIJECTORS_TEST_FILES" ]; then
  echo "valgrind: running $BIJECTORS_TEST_FILES under valgrind"
else
  echo "valgrind: running every test file under valgrind"
fi
start=$(date +%s)
set +e
R --vanilla --quiet -d "valgrind ${valgrind_options[*]}" \
  -f "$repo_root/tools/run-testthat.R" 2>&1 | tee "$work_dir/R.out" |
  grep -E '^(\[|══|── |Error|Failure|[0-9]+ passed|seconds per| *test-|[0-9. ]+$)' || true
r_status=${PIPESTATUS[0]}
set -e
elapsed=$(( $(date +%s) - start ))

shopt -s nullglob
logs=("$work_dir"/valgrind.*.log)
shopt -u nullglob
if [ ${#logs[@]} -eq 0 ]; then
  tail -n 40 "$work_dir/R.out"
  echo "valgrind: no valgrind log was written" >&2
  exit 1
fi

# One log per process valgrind traced (just R itself: children are not
# traced). Sum the error counts; collect definite-leak records and keep those
# with a frame in the package.
errors=0
contexts=0
for log in "${logs[@]}"; do
  count=$(sed -n 's/.*ERROR SUMMARY: \([0-9][0-9]*\) errors.*/\1/p' "$log" | tail -n 1)
  errors=$(( errors + ${count:-0} ))
  count=$(sed -n 's/.*ERROR SUMMARY: [0-9]* errors from \([0-9][0-9]*\) contexts.*/\1/p' "$log" | tail -n 1)
  contexts=$(( contexts + ${count:-0} ))
done
# Stacks run through dozens of frames of R's evaluator: fold those runs.
fold_frames() {
  awk '
    /\(in \/.*libR\.so\)/ { folded++; next }
    folded { printf "   ... %d frames in libR.so\n", folded; folded = 0 }
    { print }
    END { if (folded) printf "   ... %d frames in libR.so\n", folded }
  '
}
lost_line=$(grep -h "definitely lost:" "${logs[@]}" | sed 's/^==[0-9]*== *//' | head -n 1)

awk -v src="$source_copy/src/" -v lib="$test_library/bijectors/" '
  function flush() {
    if (record != "" && ours) { printf "%s\n", record; n++ }
    record = ""; ours = 0
  }
  { line = $0; sub(/^==[0-9]+== ?/, "", line) }
  line ~ /are definitely lost in loss record/ { flush(); record = line; next }
  record != "" && line ~ /^ +(at|by) 0x/ {
    record = record "\n" line
    if (index(line, src) || index(line, lib) || line ~ /bijectors\.so/) ours = 1
    next
  }
  { flush() }
  END { flush(); print n + 0 > "/dev/stderr" }
' "${logs[@]}" >"$work_dir/package-leaks.txt" 2>"$work_dir/package-leak-count.txt"
package_leaks=$(cat "$work_dir/package-leak-count.txt")

echo
echo "valgrind: ---- summary (${elapsed}s) ----"
if [ -s "$BIJECTORS_TEST_RESULTS" ]; then
  read -r passed failed skipped nfiles <"$BIJECTORS_TEST_RESULTS"
  echo "valgrind: tests: $passed passed, $failed failed, $skipped skipped in $nfiles files"
else
  passed=""
fi
echo "valgrind: valgrind errors: $errors (from $contexts distinct contexts)"
echo "valgrind: definite leaks, whole process: ${lost_line:-none reported}"
echo "valgrind: definite leaks in package code: $package_leaks"

status=0
if [ "$errors" -gt 0 ]; then
  echo
  echo "valgrind: the errors, as valgrind reported them:"
  # Each error record: from its headline to the blank line after its stack.
  awk '
    { line = $0; sub(/^==[0-9]+== ?/, "", line) }
    /HEAP SUMMARY/ { stop = 1 }
    stop { next }
    line ~ /^(Invalid|Conditional|Use of uninit|Syscall param|Mismatched|Source and destination|Argument|Address|Uninitialised|Process terminating)/ { on = 1 }
    on { print line }
    on && line == "" { on = 0 }
  ' "${logs[@]}" | fold_frames
  status=1
fi
if [ "$package_leaks" -gt 0 ]; then
  echo
  echo "valgrind: definite leaks through the package:"
  fold_frames <"$work_dir/package-leaks.txt"
  status=1
fi
if [ -z "$passed" ]; then
  tail -n 40 "$work_dir/R.out"
  echo "valgrind: R did not run the tests to the end (exit status $r_status)" >&2
  status=1
elif [ "$failed" -gt 0 ]; then
  echo "valgrind: note: $failed test(s) failed under valgrind; see the output above" \
    "(not fatal here; tools/run-tests.sh judges the tests)"
fi
if [ "$status" -eq 0 ] && [ "$r_status" -ne 0 ]; then
  echo "valgrind: R exited with status $r_status" >&2
  status=1
fi
if [ "$status" -eq 0 ]; then
  echo "valgrind: OK: no valgrind errors and no definite leaks in package code"
fi
exit "$status"
