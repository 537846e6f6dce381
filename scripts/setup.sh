#!/usr/bin/env bash
# Installs what dpc needs on a fresh Debian bookworm machine. A no-op when everything is already there.
set -euo pipefail

packages=(
  cmake ninja-build g++ pkg-config
  clang-format-19                                           # the format check of scripts/test.sh (scripts/check-format.sh)
  llvm-19-dev libmlir-19-dev mlir-19-tools llvm-19-tools   # MLIR/LLVM 19, mlir-tblgen, lit, FileCheck
  libtorch-dev                                              # LibTorch 1.13 for the TorchScript importer
  python3-torch python3-numpy                               # test models and reference numbers (Debian's python3)
  python3-torchvision                                       # torchvision 0.14's model zoo (docs/torchvision-zoo.md, zoo tests)
  python3-matplotlib                                        # scripts/plot-metrics.py draws training curves
  python3-pip python3-yaml python3-requests python3-packaging  # installs the PyPI test models below; their dependencies
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
# Models nobody here wrote, as test models (test/E2E/huggingface-*.test, timm-*.test): Hugging Face
# transformers and timm, from PyPI (Debian packages neither), pinned to the last releases that run on
# Debian's PyTorch 1.13, with their pure-Python dependencies pinned too and installed without
# dependency resolution, so that pip never replaces Debian's torch or numpy.
pypi_packages=(
  transformers==4.40.2 tokenizers==0.19.1 huggingface_hub==0.23.0 safetensors==0.4.3
  timm==0.9.16 regex==2023.12.25 filelock==3.13.1 tqdm==4.66.2 fsspec==2024.3.1
)
pypi_missing() {
  /usr/bin/python3 - "${pypi_packages[@]}" <<'PY'
import sys
from importlib.metadata import PackageNotFoundError, version
def installed(name):
    try:
        return version(name)
    except PackageNotFoundError:
        return None
print(" ".join(p for p in sys.argv[1:] if installed(p.split("==")[0]) != p.split("==")[1]))
PY
}

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
if [ ${#missing[@]} -ne 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

pypi=$(pypi_missing)
if [ -n "$pypi" ]; then
  echo "setup: installing from PyPI $pypi"
  # shellcheck disable=SC2086 # one word per package
  $SUDO /usr/bin/python3 -m pip install -q --no-deps --break-system-packages --root-user-action=ignore $pypi
fi
