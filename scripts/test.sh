#!/usr/bin/env bash
# Set-up, build, and every test: the format check (clang-format), lit
# (dialects, passes, importer, end-to-end runs against PyTorch, error
# handling) and the runtime's unit tests.
# Ends with one summary line "tests: N passed, M failed"; exit 1 on any
# failure.
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/build.sh || exit 1
build_dir=${DPC_BUILD_DIR:-build}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

echo "== format (scripts/check-format.sh)"
bash scripts/check-format.sh
format_status=$?

echo "== lit"
/usr/bin/python3 /usr/lib/llvm-19/build/utils/lit/lit.py -v "$build_dir/test" | tee -a "$log"
lit_status=${PIPESTATUS[0]}

echo "== unit tests"
"$build_dir/bin/dpcrt-unittests" --gtest_brief=1 | tee -a "$log"
unit_status=${PIPESTATUS[0]}

# Totals over both runners (lit: "  Passed: N", gtest: "[  PASSED  ] N tests").
read -r passed failed < <(awk '
  /^ +(Passed|Expectedly Failed) *: *[0-9]+/ { split($0, f, ":"); p += f[2] + 0 }
  /^ +(Failed|Unexpectedly Passed|Unresolved|Timed Out) *: *[0-9]+/ { split($0, f, ":"); q += f[2] + 0 }
  /^\[  PASSED  \] [0-9]+ test/ { p += $4 }
  /^\[  FAILED  \] [0-9]+ test/ { q += $4 }
  END { print p + 0, q + 0 }' "$log")
# The format check counts as one test.
if [ "$format_status" -eq 0 ]; then
  passed=$((passed + 1))
else
  failed=$((failed + 1))
fi
if [ "$lit_status" -ne 0 ] || [ "$unit_status" -ne 0 ]; then
  [ "$failed" -eq 0 ] && failed=1
fi
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
