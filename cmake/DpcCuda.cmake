# Finds what the runtime's cuda backend needs (nvcc, the CUDA runtime,
# cuBLAS, cuDNN, NCCL) according to DPC_ENABLE_CUDA, and sets
#   DPC_HAVE_CUDA         TRUE when the backend is built
#   DPC_CUDNN_LIBRARY, DPC_CUDNN_INCLUDE_DIR, DPC_NCCL_LIBRARY,
#   DPC_NCCL_INCLUDE_DIR  (when it is)
# AUTO degrades to a CPU-only build with a message; ON fails on the first
# missing piece, naming it.

set(DPC_HAVE_CUDA FALSE)
string(TOUPPER "${DPC_ENABLE_CUDA}" _dpc_cuda_mode)
if(NOT _dpc_cuda_mode MATCHES "^(AUTO|ON|OFF)$")
  message(FATAL_ERROR "DPC_ENABLE_CUDA must be AUTO, ON or OFF, not '${DPC_ENABLE_CUDA}'")
endif()

# Reports a missing dependency: fatal with ON, a note with AUTO.
macro(_dpc_cuda_missing what)
  if(_dpc_cuda_mode STREQUAL "ON")
    message(FATAL_ERROR "DPC_ENABLE_CUDA=ON but ${what}")
  endif()
  message(STATUS "cuda backend: not built (${what})")
  return()
endmacro()

if(_dpc_cuda_mode STREQUAL "OFF")
  message(STATUS "cuda backend: not built (DPC_ENABLE_CUDA=OFF)")
  return()
endif()

# nvcc is often not on PATH; the toolkit's usual place is.
if(NOT CMAKE_CUDA_COMPILER AND NOT DEFINED ENV{CUDACXX}
   AND EXISTS /usr/local/cuda/bin/nvcc)
  set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc)
endif()
include(CheckLanguage)
check_language(CUDA)
if(NOT CMAKE_CUDA_COMPILER)
  _dpc_cuda_missing("no CUDA compiler (nvcc) was found")
endif()

# The GPU machines are H100/H200; -DCMAKE_CUDA_ARCHITECTURES=... overrides.
if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
  set(CMAKE_CUDA_ARCHITECTURES 90)
endif()
enable_language(CUDA)
set(CMAKE_CUDA_STANDARD 17)
set(CMAKE_CUDA_STANDARD_REQUIRED ON)

find_package(CUDAToolkit)
if(NOT CUDAToolkit_FOUND)
  _dpc_cuda_missing("the CUDA toolkit (cudart) was not found")
endif()
if(NOT TARGET CUDA::cublas)
  _dpc_cuda_missing("cuBLAS was not found")
endif()

# cuDNN and NCCL are separate packages that usually sit in the toolkit's
# directories; CUDNN_ROOT / NCCL_ROOT point elsewhere.
set(_dpc_cuda_lib_hints ${CUDAToolkit_LIBRARY_DIR} ${CUDAToolkit_LIBRARY_ROOT}/lib64)
set(_dpc_cuda_inc_hints ${CUDAToolkit_INCLUDE_DIRS})
find_library(DPC_CUDNN_LIBRARY cudnn
  HINTS $ENV{CUDNN_ROOT} ${CUDNN_ROOT} ${_dpc_cuda_lib_hints} PATH_SUFFIXES lib lib64)
find_path(DPC_CUDNN_INCLUDE_DIR cudnn.h
  HINTS $ENV{CUDNN_ROOT} ${CUDNN_ROOT} ${_dpc_cuda_inc_hints} PATH_SUFFIXES include)
find_library(DPC_NCCL_LIBRARY nccl
  HINTS $ENV{NCCL_ROOT} ${NCCL_ROOT} ${_dpc_cuda_lib_hints} PATH_SUFFIXES lib lib64)
find_path(DPC_NCCL_INCLUDE_DIR nccl.h
  HINTS $ENV{NCCL_ROOT} ${NCCL_ROOT} ${_dpc_cuda_inc_hints} PATH_SUFFIXES include)
if(NOT DPC_CUDNN_LIBRARY OR NOT DPC_CUDNN_INCLUDE_DIR)
  _dpc_cuda_missing("cuDNN (libcudnn, cudnn.h) was not found")
endif()
if(NOT DPC_NCCL_LIBRARY OR NOT DPC_NCCL_INCLUDE_DIR)
  _dpc_cuda_missing("NCCL (libnccl, nccl.h) was not found")
endif()

set(DPC_HAVE_CUDA TRUE)
message(STATUS "cuda backend: built (CUDA ${CUDAToolkit_VERSION}, "
               "architectures ${CMAKE_CUDA_ARCHITECTURES}, "
               "cuDNN ${DPC_CUDNN_LIBRARY}, NCCL ${DPC_NCCL_LIBRARY})")
