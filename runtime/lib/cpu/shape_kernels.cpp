//===- shape_kernels.cpp - CPU kernels of the shape ops -------------------===//
//
// Copies: the plain copy (reshape, constant, micro_batch), the 2-d
// transpose, and the strided copy that every permute, slice, split,
// concat and broadcast_to is.
//
//===----------------------------------------------------------------------===//

#include "core/context.h"
#include "cpu/cpu_backend.h"
#include "cpu/strided_loops.h"

#include <algorithm>
#include <cstring>
#include <string>

using dpc::recordError;

namespace dpc::cpu {

void copy(dpcrt_context *, void *out, const void *in, int64_t bytes) {
  if (bytes > 0 && out != in)
    std::memmove(out, in, static_cast<size_t>(bytes));
}

void transpose2d_f32(dpcrt_context *, float *out, const float *in, int64_t rows,
                     int64_t cols) {
  // Blocked so that both sides stay in cache for large matrices.
  constexpr int64_t kBlock = 32;
  for (int64_t i0 = 0; i0 < rows; i0 += kBlock)
    for (int64_t j0 = 0; j0 < cols; j0 += kBlock)
      for (int64_t i = i0, ie = std::min(rows, i0 + kBlock); i < ie; ++i)
        for (int64_t j = j0, je = std::min(cols, j0 + kBlock); j < je; ++j)
          out[j * rows + i] = in[i * cols + j];
}

void strided_copy(dpcrt_context *ctx, void *out, const void *in,
                  int64_t elemBytes, int32_t rank, const int64_t *dims) {
  if (rank < 0 || elemBytes <= 0) {
    recordError(ctx, "strided_copy: invalid rank or element size");
    return;
  }
  char *o = static_cast<char *>(out);
  const char *i = static_cast<const char *>(in);
  size_t bytes = static_cast<size_t>(elemBytes);
  if (rank == 0) {
    std::memcpy(o, i, bytes);
    return;
  }
  const int64_t *shape = dims, *outStride = dims + rank,
                *inStride = dims + 2 * rank;
  // Innermost dimension in a tight loop (a memcpy when both sides are
  // dense along it).
  int64_t inner = shape[rank - 1];
  int64_t innerOut = outStride[rank - 1], innerIn = inStride[rank - 1];
  auto row = [&](int64_t offOut, int64_t offIn) {
    char *dst = o + offOut * elemBytes;
    const char *src = i + offIn * elemBytes;
    if (innerOut == 1 && innerIn == 1) {
      std::memcpy(dst, src, bytes * static_cast<size_t>(inner));
      return;
    }
    for (int64_t j = 0; j < inner; ++j)
      std::memcpy(dst + j * innerOut * elemBytes, src + j * innerIn * elemBytes,
                  bytes);
  };
  if (inner <= 0)
    return;
  if (rank == 1) {
    row(0, 0);
    return;
  }
  forEachIndex(rank - 1, shape, outStride, inStride, row);
}

} // namespace dpc::cpu
