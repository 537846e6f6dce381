#!/usr/bin/env bash
# Installs what dpc needs on a fresh Debian bookworm machine. A no-op when everything is already there.
set -euo pipefail

packages=(
  cmake ninja-build g++ pkg-config
  clang-format-19                                           # the format check of scripts/test.sh (scripts/check-format.sh)
  llvm-19-dev libmlir-19-dev mlir-19-tools llvm-19-tools   # MLIR/LLVM 19, mlir-tblgen, lit, FileCheck
  libtorch-dev                                              # LibTorch 1.13 for the TorchScript importer
  python3-torch python3-numpy                               # test models and reference numbers (Debian's python3)
  python3-matplotlib                                        # scripts/plot-metrics.py draws training curves
  libopenblas-dev                                           # CPU GEMMs
  libdnnl-dev                                               # CPU convolutions (the oneDNN PyTorch uses)
  ocl-icd-opencl-dev                                        # dnnl-config.cmake looks for OpenCL (only a Recommends of libdnnl-dev)
  libopenmpi-dev openmpi-bin                                # multi-process launch and CPU collectives
  libgtest-dev                                              # runtime unit tests
  nlohmann-json3-dev                                        # manifest and safetensors headers in the runtime
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "setup: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
