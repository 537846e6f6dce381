#!/usr/bin/env bash
# Fuzzes the runtime's readers of untrusted files with libFuzzer: .npy data,
# safetensors checkpoints, the manifest parser and the model.so check done
# before dlopen (runtime/fuzz/fuzz_*.cpp). Not part of CI, which replays the
# committed corpus (test/Fuzz/corpus) through the same targets built with the
# ordinary compiler (test/Fuzz/replay.test).
#
# usage: scripts/fuzz.sh [SECONDS_PER_TARGET [TARGET...]]
#   SECONDS_PER_TARGET  default 180; TARGET: npy safetensors manifest module_file
#
# Needs clang 19 with its libFuzzer runtime (not installed by setup.sh, since
# no build or test uses it): apt-get install clang-19 libclang-rt-19-dev.
# Builds into build-fuzz/ (DPC_FUZZ_DIR) with AddressSanitizer and UBSan,
# starts from the committed corpus, and prints per target the runs and the
# findings (crash files under build-fuzz/findings/). Exit 1 on any finding.
set -uo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-180}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(npy safetensors manifest module_file)
clang=${CLANGXX:-clang++-19}
if ! command -v "$clang" > /dev/null; then
  echo "fuzz.sh: needs $clang: apt-get install clang-19 libclang-rt-19-dev" >&2
  exit 1
fi
out=${DPC_FUZZ_DIR:-build-fuzz}
mkdir -p "$out/findings"
# The readers and what they use; no MPI, BLAS or dlopen.
sources=(runtime/lib/io/npy.cpp runtime/lib/io/safetensors.cpp runtime/lib/io/file_io.cpp
         runtime/lib/core/dtype.cpp runtime/lib/io/manifest.cpp
         runtime/lib/io/module_file.cpp)

findings=0
for target in "${targets[@]}"; do
  binary="$out/fuzz_$target"
  "$clang" -std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined \
    -fno-sanitize-recover=undefined -Iruntime/include -Iruntime/lib \
    "runtime/fuzz/fuzz_$target.cpp" "${sources[@]}" -o "$binary" || exit 1
  # New inputs go to a working corpus; the committed one stays as it is.
  mkdir -p "$out/corpus/$target"
  rm -f "$out/findings/$target-"* # findings of earlier runs
  log="$out/fuzz_$target.log"
  "$binary" "$out/corpus/$target" "test/Fuzz/corpus/$target" \
    -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$out/findings/$target-" \
    > "$log" 2>&1
  status=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  found=$(find "$out/findings" -name "$target-*" | wc -l)
  echo "$target: ${runs:-?} runs in ${seconds} s, $found finding(s) (log: $log)"
  if [ "$status" -ne 0 ] || [ "$found" -ne 0 ]; then
    findings=$((findings + 1))
    grep -m 5 -E "ERROR|SUMMARY" "$log"
  fi
done
[ "$findings" -eq 0 ]
