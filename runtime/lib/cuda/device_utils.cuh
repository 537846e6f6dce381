//===- device_utils.cuh - Helpers of the CUDA kernel files ------*- CUDA
//-*-===//
//
// Loop, launch, indexing and reduction building blocks the kernel files
// (<family>_kernels.cu) share. Reductions are fixed trees, so every kernel
// built on them is deterministic.
//
//===----------------------------------------------------------------------===//

#ifndef DPC_RUNTIME_LIB_CUDA_DEVICE_UTILS_CUH
#define DPC_RUNTIME_LIB_CUDA_DEVICE_UTILS_CUH

#include "cuda_backend.h"

#include <algorithm>
#include <cstdint>
#include <string>

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

/// Threads per block of the kernels started by launch().
constexpr int kThreads = 256;

/// Dimensions a broadcasting or strided kernel takes by value.
constexpr int kMaxRank = 8;

/// Launches `kernel` over n elements on the compute stream; records a
/// launch failure under `name`.
template <typename Kernel, typename... Args>
void launch(dpcrt_context *ctx, const char *name, int64_t n, Kernel kernel,
            Args... args) {
  if (n <= 0)
    return;
  kernel<<<gridFor(n, kThreads), kThreads, 0, computeStream(ctx)>>>(args...);
  launchFailed(ctx, name);
}

//===----------------------------------------------------------------------===//
// Shapes and strides. They arrive as host arrays (module constants) and are
// passed to kernels by value, up to kMaxRank dimensions.
//===----------------------------------------------------------------------===//

/// A shape and up to three sets of strides, by value.
struct Strides {
  int rank;
  int64_t shape[kMaxRank];
  int64_t stride[3][kMaxRank];
};

/// Copies dims[0..rank) as the shape and the following `sets` groups of
/// rank values as strides; false (error recorded) when rank is too large.
inline bool makeStrides(dpcrt_context *ctx, const char *kernel, int32_t rank,
                        const int64_t *dims, int sets, Strides &out,
                        int64_t &n) {
  if (rank < 0 || rank > kMaxRank) {
    recordError(ctx, std::string(kernel) + ": rank " + std::to_string(rank) +
                         " is not supported on the cuda backend (at most " +
                         std::to_string(kMaxRank) + ")");
    return false;
  }
  out = {};
  out.rank = rank;
  n = 1;
  for (int d = 0; d < rank; ++d) {
    out.shape[d] = dims[d];
    n *= std::max<int64_t>(dims[d], 0);
    for (int s = 0; s < sets; ++s)
      out.stride[s][d] = dims[(s + 1) * rank + d];
  }
  return true;
}

/// Offsets of the row-major linear index i of the shape along stride sets
/// 0..sets-1.
template <int Sets>
__device__ inline void offsetsOf(const Strides &st, int64_t i,
                                 int64_t (&off)[Sets]) {
  for (int s = 0; s < Sets; ++s)
    off[s] = 0;
  for (int d = st.rank - 1; d >= 0; --d) {
    int64_t extent = st.shape[d];
    int64_t coord = i % extent;
    i /= extent;
    for (int s = 0; s < Sets; ++s)
      off[s] += coord * st.stride[s][d];
  }
}

//===----------------------------------------------------------------------===//
// Reductions and arithmetic
//===----------------------------------------------------------------------===//

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

// glibc-like float transcendentals: evaluated in double and rounded to
// float (CUDA's float versions are only accurate to 2 ulp).
__device__ inline float expF(float v) {
  return static_cast<float>(exp(double(v)));
}
__device__ inline float logF(float v) {
  return static_cast<float>(log(double(v)));
}
__device__ inline float erfF(float v) {
  return static_cast<float>(erf(double(v)));
}
__device__ inline float tanhF(float v) {
  return static_cast<float>(tanh(double(v)));
}

//===----------------------------------------------------------------------===//
// Index checks (indexing_kernels.cu)
//===----------------------------------------------------------------------===//

/// Reports the first indices[s] (s < n) outside [0, limit), if any, to the
/// context's device error record, which the session reads after the step's
/// synchronization and turns into the CPU kernel's message (as for
/// cross_entropy's labels): the check never synchronizes the stream. The
/// kernels that use it skip such entries (or produce NaN) instead of
/// reading out of bounds; the step then fails with the message.
void checkRange(dpcrt_context *ctx, int32_t kind, const char *kernel,
                const int64_t *indices, int64_t n, int64_t limit);

} // namespace dpc::cuda

#endif // DPC_RUNTIME_LIB_CUDA_DEVICE_UTILS_CUH
