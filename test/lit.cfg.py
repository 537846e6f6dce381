# -*- Python -*-
# lit configuration of dpc's tests. The build directory's lit.site.cfg.py
# (generated from lit.site.cfg.py.in) sets the paths and loads this file.

import os
import subprocess

import lit.formats
import lit.util
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "dpc"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)

# Helper scripts and data of tests live in Inputs/ directories.
config.suffixes = [".mlir", ".test"]
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py"]

config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.dpc_obj_root, "test")

# Environment: lit starts from a clean one.
llvm_config.with_system_environment(["HOME", "PATH"])
# `not`, `count` and FileCheck at the start of a RUN line, and dpc's tools by
# their bare names, come from PATH.
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.with_environment("PATH", config.dpc_tools_dir, append_path=True)
# OpenMPI as root in containers, more ranks than cores.
config.environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
config.environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
config.environment["OMPI_MCA_rmaps_base_oversubscribe"] = "1"
# Many ranks on few cores: one BLAS thread per rank.
config.environment["OPENBLAS_NUM_THREADS"] = "1"

# FileCheck, not, count (from LLVM), and %python.
llvm_config.use_default_substitutions()
# use_default_substitutions points %python at the interpreter running lit;
# tests want Debian's Python, which has torch and numpy.
config.substitutions = [s for s in config.substitutions if s[0] != "%python"]
config.substitutions.append(("%python", config.python_executable))
# PyTorch 2.5.1's Python (the venv of scripts/setup.sh, $DPC_TORCH2_VENV or
# /opt/dpc-torch2), for references that Debian's torch 1.13 cannot compute:
# float16 autocast and GradScaler on the CPU (ddp_reference.py --autocast fp16,
# --grad-scaler).
config.substitutions.append(
    (
        "%torch2-python",
        os.path.join(
            os.environ.get("DPC_TORCH2_VENV", "/opt/dpc-torch2"), "bin", "python"
        ),
    )
)

# dpc's tools, by path, whether or not they have been built yet (a test of a
# tool that is missing fails with "not found", which says what to build).
llvm_config.add_tool_substitutions(
    [
        ToolSubst("%" + tool, command=os.path.join(config.dpc_tools_dir, tool))
        for tool in ["dpc-opt", "dpc-run", "dpc", "dpc-lr-schedule"]
    ],
    [config.dpc_tools_dir],
)

# %avx2-kernels: a prefix that runs a command with OpenBLAS's and oneDNN's
# kernels capped to AVX2, for the ill-conditioned runs whose numbers depend
# on the host's vector extensions (torchvision-mobilenet-v2.test,
# torchvision-densenet-regnetx.test: on AVX-512 hosts the AVX-512 kernels'
# float32 sums round differently, and their BatchNorm over 4-8 samples per
# rank amplifies that past the float64 criterion, e.g. MobileNetV2 from 2.9x
# to 19x PyTorch float32's distance after 3 steps, both 1.6-1.7x after one).
# Not for every test: the other tests pass either way, and under the cap
# torch 1.13's bfloat16 linear fails on AVX512-BF16 hosts (an empty error).
config.substitutions.append(
    (
        "%avx2-kernels",
        "env OPENBLAS_CORETYPE=Haswell ONEDNN_MAX_CPU_ISA=AVX2 DNNL_MAX_CPU_ISA=AVX2",
    )
)

# The build directory, for tests of `cmake --install` (test/Install).
config.substitutions.append(("%dpc_obj_root", config.dpc_obj_root))

mpirun = lit.util.which("mpirun", config.environment.get("PATH"))
config.substitutions.append(
    ("%mpirun", "%s --allow-run-as-root --oversubscribe -np" % (mpirun or "mpirun"))
)

# Features.
if config.dpc_build_compiler:
    config.available_features.add("dpc-compiler")
if mpirun:
    config.available_features.add("mpi")


def gpu_present():
    # `nvidia-smi -L` lists the GPUs and fails without a driver or device.
    nvidia_smi = lit.util.which("nvidia-smi", config.environment.get("PATH"))
    if not nvidia_smi:
        return False
    try:
        return (
            subprocess.run(
                [nvidia_smi, "-L"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=60,
            ).returncode
            == 0
        )
    except (OSError, subprocess.TimeoutExpired):
        return False


# GPU tests need a runtime built with the cuda backend and a GPU to run on;
# elsewhere they report UNSUPPORTED. cuda-build: the backend (the plugin
# libdpcrt_cuda.so) is built, whether or not a GPU is there.
if getattr(config, "dpc_have_cuda", False):
    config.available_features.add("cuda-build")
    if gpu_present():
        config.available_features.add("cuda-gpu")
# libdpcrt's directory (beside dpc-run's bin/), for tests that load a copy.
config.substitutions.append(
    ("%dpc_lib_dir", os.path.join(os.path.dirname(config.dpc_tools_dir), "lib"))
)


def python_can_import(module):
    try:
        return (
            subprocess.run(
                [config.python_executable, "-c", "import " + module],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=120,
            ).returncode
            == 0
        )
    except (OSError, subprocess.TimeoutExpired):
        return False


for module in ["torch", "numpy", "matplotlib", "torchvision", "transformers", "timm"]:
    if python_can_import(module):
        config.available_features.add(module)
