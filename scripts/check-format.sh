#!/usr/bin/env bash
# Checks that every C, C++ and CUDA source of the project is formatted as
# .clang-format says (LLVM style), with Debian's clang-format-19. Prints the
# files that are not and exits 1; `scripts/check-format.sh --fix` formats
# them in place. Build trees and the fuzz corpus are not sources.
set -euo pipefail
cd "$(dirname "$0")/.."

clang_format=${CLANG_FORMAT:-clang-format-19}
command -v "$clang_format" >/dev/null || {
  echo "check-format: $clang_format not found (scripts/setup.sh installs it)"
  exit 1
}
mapfile -t sources < <(find . \( -path ./build -o -path './build-*' -o -path ./.git \
    -o -path ./gpu-bundle -o -path ./test/Fuzz/corpus \) -prune -o -type f \
    \( -name '*.cpp' -o -name '*.h' -o -name '*.c' -o -name '*.cu' -o -name '*.cuh' \) \
    -print | sort)

if [ "${1:-}" = "--fix" ]; then
  "$clang_format" -i "${sources[@]}"
  exit 0
fi
unformatted=()
for f in "${sources[@]}"; do
  "$clang_format" --dry-run --Werror "$f" >/dev/null 2>&1 || unformatted+=("$f")
done
if [ ${#unformatted[@]} -ne 0 ]; then
  echo "check-format: ${#unformatted[@]} of ${#sources[@]} files are not clang-formatted (run scripts/check-format.sh --fix):"
  printf '  %s\n' "${unformatted[@]}"
  exit 1
fi
echo "check-format: all ${#sources[@]} C/C++/CUDA sources are clang-formatted"
