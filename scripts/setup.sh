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
  python3-venv                                              # the PyTorch 2 venv below
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
# PyTorch 2.5.1 beside Debian's 1.13, in a venv (test/E2E's %torch2-python), for the references
# that 1.13 cannot compute: torch.autocast(device_type="cpu", dtype=torch.float16) and
# torch.amp.GradScaler("cpu") (ddp_reference.py --autocast fp16, --grad-scaler). torch and exactly
# the versions pip resolves it to, installed without dependency resolution so that nothing floats.
# The nvidia-* wheels are CUDA's libraries: nothing here uses them, but PyPI's Linux torch wheel
# does not import without them. About 5 GB.
torch2_venv=${DPC_TORCH2_VENV:-/opt/dpc-torch2}
torch2_packages=(
  torch==2.5.1 numpy==1.26.4 filelock==3.16.1 fsspec==2024.10.0 Jinja2==3.1.4 MarkupSafe==3.0.2
  mpmath==1.3.0 networkx==3.4.2 sympy==1.13.1 typing_extensions==4.12.2 triton==3.1.0
  nvidia-cublas-cu12==12.4.5.8 nvidia-cuda-cupti-cu12==12.4.127 nvidia-cuda-nvrtc-cu12==12.4.127
  nvidia-cuda-runtime-cu12==12.4.127 nvidia-cudnn-cu12==9.1.0.70 nvidia-cufft-cu12==11.2.1.3
  nvidia-curand-cu12==10.3.5.147 nvidia-cusolver-cu12==11.6.1.9 nvidia-cusparse-cu12==12.3.1.170
  nvidia-nccl-cu12==2.21.5 nvidia-nvjitlink-cu12==12.4.127 nvidia-nvtx-cu12==12.4.127
)
# The packages of "$@" (NAME==VERSION) that PYTHON ($1) lacks in that version.
pypi_missing() {
  "$1" - "${@:2}" <<'PY'
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

pypi=$(pypi_missing /usr/bin/python3 "${pypi_packages[@]}")
if [ -n "$pypi" ]; then
  echo "setup: installing from PyPI $pypi"
  # shellcheck disable=SC2086 # one word per package
  $SUDO /usr/bin/python3 -m pip install -q --no-deps --break-system-packages --root-user-action=ignore $pypi
fi

if [ ! -x "$torch2_venv/bin/python" ]; then
  echo "setup: creating the venv $torch2_venv"
  $SUDO /usr/bin/python3 -m venv "$torch2_venv"
fi
torch2=$(pypi_missing "$torch2_venv/bin/python" "${torch2_packages[@]}")
if [ -n "$torch2" ]; then
  echo "setup: installing from PyPI into $torch2_venv: $torch2"
  # shellcheck disable=SC2086 # one word per package
  $SUDO "$torch2_venv/bin/python" -m pip install -q --no-deps --root-user-action=ignore $torch2
fi
