#!/usr/bin/env bash
# Builds dpc (scripts/build.sh) and runs the CPU benchmarks against PyTorch.
# A separate command, never part of the tests. Extra arguments go to
# bench.py (e.g. --models mlp --ranks 2 --steps 100).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
/usr/bin/python3 bench/bench.py --build "${DPC_BUILD_DIR:-build}" "$@"
