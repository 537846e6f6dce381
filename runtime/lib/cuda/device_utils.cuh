//===- device_utils.cuh - Helpers of the CUDA kernel files ------*- CUDA
//-*-===//
//
// Loop and reduction building blocks the kernel files share. Reductions are
// fixed trees, so every kernel built on them is deterministic.
//
//===----------------------------------------------------------------------===//

#ifndef DPC_RUNTIME_LIB_CUDA_DEVICE_UTILS_CUH
#define DPC_RUNTIME_LIB_CUDA_DEVICE_UTILS_CUH

#include <cstdint>

/// for (i = this thread's first index; i < n; i += all threads of the grid),
/// in int64 (grids from gridFor cover large n in several rounds).
#define DPC_GRID_STRIDE(i, n)                                                  \
  for (int64_t i =                                                             \
           blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;        \
       i < (n); i += static_cast<int64_t>(blockDim.x) * gridDim.x)

namespace dpc::cuda {

/// Threads per block of the row and reduction kernels (a power of two: the
/// trees halve it).
constexpr int kBlock = 256;

/// The sum of `v` over the block by a fixed tree (halving blockDim.x, a
/// power of two), in the type of `v`; every thread gets the result.
/// `shared` holds blockDim.x values.
template <typename T> __device__ T blockSum(T v, T *shared) {
  shared[threadIdx.x] = v;
  __syncthreads();
  for (unsigned half = blockDim.x / 2; half > 0; half /= 2) {
    if (threadIdx.x < half)
      shared[threadIdx.x] = shared[threadIdx.x] + shared[threadIdx.x + half];
    __syncthreads();
  }
  T result = shared[0];
  __syncthreads();
  return result;
}

} // namespace dpc::cuda

#endif // DPC_RUNTIME_LIB_CUDA_DEVICE_UTILS_CUH
