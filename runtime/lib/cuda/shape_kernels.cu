//===- shape_kernels.cu - CUDA kernels of the shape ops -------------------===//
//
// The CUDA counterparts of cpu/shape_kernels.cpp: the plain copy, the 2-d
// transpose and the strided copy of every permute, slice, split, concat
// and broadcast_to.
//
//
//===----------------------------------------------------------------------===//

#include "cuda_backend.h"
#include "device_utils.cuh"

namespace dpc::cuda {
namespace {

__global__ void transposeKernel(float *out, const float *in, int64_t rows,
                                int64_t cols) {
  // Indexed by output element: writes are coalesced.
  DPC_GRID_STRIDE(o, rows * cols) {
    int64_t j = o / rows, i = o % rows;
    out[o] = in[i * cols + j];
  }
}

/// Strided copy of T-sized elements; stride set 0 is the output's, 1 the
/// input's.
template <typename T>
__global__ void stridedCopyKernel(T *out, const T *in, Strides st, int64_t n) {
  DPC_GRID_STRIDE(i, n) {
    int64_t off[2];
    offsetsOf<2>(st, i, off);
    out[off[0]] = in[off[1]];
  }
}

/// The same for element sizes without a matching integer type.
__global__ void stridedCopyBytesKernel(char *out, const char *in, Strides st,
                                       int64_t n, int64_t elemBytes) {
  DPC_GRID_STRIDE(i, n) {
    int64_t off[2];
    offsetsOf<2>(st, i, off);
    for (int64_t k = 0; k < elemBytes; ++k)
      out[off[0] * elemBytes + k] = in[off[1] * elemBytes + k];
  }
}

} // namespace

//===----------------------------------------------------------------------===//
// Entry points
//===----------------------------------------------------------------------===//

void copy(dpcrt_context *ctx, void *out, const void *in, int64_t bytes) {
  if (bytes <= 0 || out == in)
    return;
  cudaStream_t stream = computeStream(ctx);
  // `in` is usually device memory, but nn.constant lowers to a copy from a
  // read-only global of model.so (host memory): cudaMemcpyDefault lets
  // unified addressing pick the direction (DeviceToDevice would fail with
  // cudaErrorInvalidValue on a host source).
  auto *o = static_cast<char *>(out);
  auto *i = static_cast<const char *>(in);
  if (o < i + bytes && i < o + bytes) {
    // Overlapping ranges (the CPU's memmove): cudaMemcpy's result would be
    // undefined, so go through scratch memory.
    void *tmp = scratch(ctx, static_cast<size_t>(bytes));
    if (!tmp)
      return;
    if (failed(ctx, cudaMemcpyAsync(tmp, in, bytes, cudaMemcpyDefault, stream),
               "copy"))
      return;
    in = tmp;
  }
  failed(ctx, cudaMemcpyAsync(out, in, bytes, cudaMemcpyDefault, stream),
         "copy");
}

void transpose2d_f32(dpcrt_context *ctx, float *out, const float *in,
                     int64_t rows, int64_t cols) {
  if (rows <= 0 || cols <= 0)
    return;
  launch(ctx, "transpose2d", rows * cols, transposeKernel, out, in, rows, cols);
}

void strided_copy(dpcrt_context *ctx, void *out, const void *in,
                  int64_t elem_bytes, int32_t rank, const int64_t *dims) {
  if (rank < 0 || elem_bytes <= 0) {
    recordError(ctx, "strided_copy: invalid rank or element size");
    return;
  }
  Strides st;
  int64_t n;
  if (!makeStrides(ctx, "strided_copy", rank, dims, 2, st, n))
    return;
  switch (elem_bytes) {
  case 1:
    return launch(ctx, "strided_copy", n, stridedCopyKernel<uint8_t>,
                  static_cast<uint8_t *>(out), static_cast<const uint8_t *>(in),
                  st, n);
  case 2:
    return launch(ctx, "strided_copy", n, stridedCopyKernel<uint16_t>,
                  static_cast<uint16_t *>(out),
                  static_cast<const uint16_t *>(in), st, n);
  case 4:
    return launch(ctx, "strided_copy", n, stridedCopyKernel<uint32_t>,
                  static_cast<uint32_t *>(out),
                  static_cast<const uint32_t *>(in), st, n);
  case 8:
    return launch(ctx, "strided_copy", n, stridedCopyKernel<uint64_t>,
                  static_cast<uint64_t *>(out),
                  static_cast<const uint64_t *>(in), st, n);
  default:
    return launch(ctx, "strided_copy", n, stridedCopyBytesKernel,
                  static_cast<char *>(out), static_cast<const char *>(in), st,
                  n, elem_bytes);
  }
}

} // namespace dpc::cuda
