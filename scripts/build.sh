#!/usr/bin/env bash
# Installs what is missing (scripts/setup.sh), then configures and builds dpc
# into build/ (or $DPC_BUILD_DIR): build/bin/{dpc,dpc-opt,dpc-run}.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
build_dir=${DPC_BUILD_DIR:-build}
if [ ! -f "$build_dir/build.ninja" ]; then
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release
fi
ninja -C "$build_dir"
