#!/usr/bin/env bash
# Run the whole test suite of bijectors against a build instrumented with
# gcc's AddressSanitizer and UndefinedBehaviorSanitizer.
#
# Usage, from anywhere:
#   bash tools/sanitizers.sh            every test file (a minute or two)
#   bash tools/sanitizers.sh test-network.R ...   only those files
#   --keep                              keep the work directory (logs)
#
# Steps: install gcc's sanitizer runtimes (Debian's libasan8/libubsan1, or
# gcc) if missing and the R dependencies, build the package from a copy of
# the tree into a throw-away library with
#   -fsanitize=address,undefined,float-cast-overflow -fno-omit-frame-pointer
#   -fno-sanitize-recover=all
# through a private Makevars (R_MAKEVARS_USER, so ~/.R is not touched), then
# run the tests in the machine's ordinary R with the ASan runtime preloaded
# (LD_PRELOAD=$(gcc -print-file-name=libasan.so)). R itself is not
# instrumented: ASan watches every read and write of the package's code
# (heap, stack and global buffer overflows, use after free) and UBSan its
# signed overflows, bad shifts, misaligned or null pointers, out-of-range
# float-to-integer casts and out-of-bounds array indices. Leak detection is
# off (detect_leaks=0): R frees much of its memory only at exit; valgrind's
# leak check (tools/valgrind.sh) covers leaks.
#
# Every report stops the process (halt_on_error) and is written to a file
# in the work directory; the script prints the reports and exits non-zero if
# there is any, or if R did not run the tests to the end. Test failures are
# printed but not fatal (tools/run-tests.sh judges the tests).
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"

keep=0
files=()
while [ $# -gt 0 ]; do
  case "$1" in
    --keep) keep=1 ;;
    -h|--help) sed -n '2,30p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "sanitizers: unknown option $1" >&2; exit 2 ;;
    *) files+=("$(basename "$1")") ;;
  esac
  shift
done

runtime_file() {
  # gcc prints the bare name back when it has no such file
  local path
  path=$(gcc -print-file-name="$1")
  if [ "$path" != "$1" ] && [ -e "$path" ]; then echo "$path"; fi
}
if [ -z "$(runtime_file libasan.so)" ] || [ -z "$(runtime_file libubsan.so)" ]; then
  echo "sanitizers: installing gcc's sanitizer runtimes"
  apt-get update -qq
  gcc_major=$(gcc -dumpversion | cut -d. -f1)
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "libgcc-${gcc_major}-dev" libasan8 libubsan1 >/dev/null ||
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "libgcc-${gcc_major}-dev" >/dev/null
fi
asan_runtime=$(runtime_file libasan.so)
if [ -z "$asan_runtime" ] || [ -z "$(runtime_file libubsan.so)" ]; then
  echo "sanitizers: gcc has no libasan.so/libubsan.so" >&2
  exit 1
fi
# LD_PRELOAD wants the real library, not a linker script or symlink chain.
asan_runtime=$(readlink -f "$asan_runtime")
bash tools/install-deps.sh

work_dir=$(mktemp -d "${TMPDIR:-/tmp}/bijectors-sanitizers.XXXXXX")
cleanup() {
  if [ "$keep" -eq 1 ]; then
    echo "sanitizers: logs kept in $work_dir"
  else
    rm -rf "$work_dir"
  fi
}
trap cleanup EXIT

source_copy="$work_dir/bijectors"
test_library="$work_dir/library"
mkdir -p "$source_copy" "$test_library" "$work_dir/reports"
tar -C "$repo_root" \
  --exclude=./.git --exclude='./*.Rcheck' --exclude='./*.tar.gz' \
  -cf - . | tar -C "$source_copy" -xf -
rm -f "$source_copy"/src/*.o "$source_copy"/src/*.so "$source_copy"/src/*.dll

sanitize="-fsanitize=address,undefined,float-cast-overflow -fno-sanitize-recover=all"
cat >"$work_dir/Makevars" <<EOF
CFLAGS = -g -O1 -fno-omit-frame-pointer $sanitize
LDFLAGS = -Wl,-z,relro $sanitize
EOF

echo "sanitizers: building bijectors with $sanitize"
# --no-test-load: an ASan-built library only loads into a process that has
# the runtime preloaded, which the test run below does.
if ! R_MAKEVARS_USER="$work_dir/Makevars" \
  R CMD INSTALL --no-multiarch --no-test-load --library="$test_library" \
  "$source_copy" >"$work_dir/install.log" 2>&1; then
  cat "$work_dir/install.log"
  echo "sanitizers: R CMD INSTALL failed" >&2
  exit 1
fi
if ! grep -q -- "-fsanitize=address" "$work_dir/install.log"; then
  cat "$work_dir/install.log"
  echo "sanitizers: the build did not use the sanitizer flags" >&2
  exit 1
fi

export NOT_CRAN=true
export BIJECTORS_TEST_LIBRARY="$test_library"
export BIJECTORS_TEST_DIR="$source_copy/tests/testthat"
export BIJECTORS_TEST_FILES="${files[*]+"${files[*]}"}"
export BIJECTORS_TEST_RESULTS="$work_dir/results.txt"

if [ -n "$BIJECTORS_TEST_FILES" ]; then
  echo "sanitizers: running $BIJECTORS_TEST_FILES"
else
  echo "sanitizers: running every test file"
fi
start=$(date +%s)
set +e
LD_PRELOAD="$asan_runtime" \
  ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1:log_path=$work_dir/reports/asan" \
  UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$work_dir/reports/ubsan" \
  R --vanilla --quiet -f "$repo_root/tools/run-testthat.R" >"$work_dir/R.out" 2>&1
r_status=$?
set -e
elapsed=$(( $(date +%s) - start ))
grep -E '^(\[|══|── |Error|Failure|[0-9]+ passed|seconds per| *test-|[0-9. ]+$)' \
  "$work_dir/R.out" || true

# Reports go to files under reports/ (ASan's log_path, also for child
# processes) or to R's stderr (UBSan's runtime in gcc ignores log_path when
# ASan is linked too): read both. A report line starts a report; print it
# with the long runs of frames inside libR.so (R's evaluator) folded.
shopt -s nullglob
report_files=("$work_dir"/reports/*)
shopt -u nullglob
report_pattern='runtime error:|ERROR: AddressSanitizer|AddressSanitizer:DEADLYSIGNAL|ERROR: LeakSanitizer'
fold_frames() {
  awk '
    /libR\.so\+0x|libR\.so\)/ { folded++; next }
    folded { printf "    ... %d frames in libR.so\n", folded; folded = 0 }
    { print }
    END { if (folded) printf "    ... %d frames in libR.so\n", folded }
  '
}
reports=$(cat "$work_dir/R.out" "${report_files[@]+"${report_files[@]}"}" |
  grep -cE "$report_pattern" || true)

echo
echo "sanitizers: ---- summary (${elapsed}s) ----"
passed=""
if [ -s "$BIJECTORS_TEST_RESULTS" ]; then
  read -r passed failed skipped nfiles <"$BIJECTORS_TEST_RESULTS"
  echo "sanitizers: tests: $passed passed, $failed failed, $skipped skipped in $nfiles files"
fi
echo "sanitizers: sanitizer reports: $reports"

status=0
if [ "$reports" -gt 0 ]; then
  echo
  echo "sanitizers: the reports (R's stderr from the first report on, then report files):"
  sed -n -E "/$report_pattern/,\$p" "$work_dir/R.out" | fold_frames
  for report in "${report_files[@]+"${report_files[@]}"}"; do
    echo "sanitizers: ---- $(basename "$report") ----"
    fold_frames <"$report"
  done
  status=1
fi
if [ -z "$passed" ]; then
  if [ "$reports" -eq 0 ]; then tail -n 40 "$work_dir/R.out" | fold_frames; fi
  echo "sanitizers: R did not run the tests to the end (exit status $r_status)" >&2
  status=1
elif [ "$failed" -gt 0 ]; then
  echo "sanitizers: note: $failed test(s) failed; see the output above" \
    "(not fatal here; tools/run-tests.sh judges the tests)"
fi
if [ "$status" -eq 0 ] && [ "$r_status" -ne 0 ]; then
  echo "sanitizers: R exited with status $r_status" >&2
  status=1
fi
if [ "$status" -eq 0 ]; then
  echo "sanitizers: OK: no AddressSanitizer or UBSan report"
fi
exit "$status"
