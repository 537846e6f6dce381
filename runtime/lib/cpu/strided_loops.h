//===- strided_loops.h - Odometer loops of the CPU kernels ------*- C++ -*-===//
//
// The row-major walk over a shape with the offsets of strided operands
// (broadcasts, reductions, permutes, slices, batched GEMMs), written once
// for the CPU kernels of every family. The CUDA kernels compute the same
// offsets from a linear index instead (cuda/device_utils.cuh, offsetsOf).
//
//===----------------------------------------------------------------------===//

#ifndef DPC_RUNTIME_LIB_CPU_STRIDED_LOOPS_H
#define DPC_RUNTIME_LIB_CPU_STRIDED_LOOPS_H

#include <cstdint>
#include <vector>

namespace dpc::cpu {

/// Calls `body(offsetA, offsetB)` for every index of `shape` in row-major
/// order, with the offsets of two strided operands.
template <typename Body>
void forEachIndex(int32_t rank, const int64_t *shape, const int64_t *strideA,
                  const int64_t *strideB, Body body) {
  for (int32_t d = 0; d < rank; ++d)
    if (shape[d] <= 0)
      return;
  std::vector<int64_t> index(rank, 0);
  int64_t offA = 0, offB = 0;
  while (true) {
    body(offA, offB);
    int32_t d = rank - 1;
    for (; d >= 0; --d) {
      offA += strideA[d];
      offB += strideB[d];
      if (++index[d] < shape[d])
        break;
      offA -= strideA[d] * shape[d];
      offB -= strideB[d] * shape[d];
      index[d] = 0;
    }
    if (d < 0)
      return;
  }
}

/// out[i] = op(a[offset of i in a], b[offset of i in b]) for every index i
/// of a broadcast: `dims` as in dpcrt_binary_f32 (the output shape, then
/// a's and b's strides, 3*rank values), out dense. The innermost dimension
/// runs in a tight loop, the outer ones by forEachIndex.
template <typename T, typename Op>
void broadcastLoop(T *out, const T *a, const T *b, int32_t rank,
                   const int64_t *dims, Op op) {
  if (rank == 0) {
    out[0] = op(a[0], b[0]);
    return;
  }
  int64_t inner = dims[rank - 1];
  int64_t innerA = dims[2 * rank - 1], innerB = dims[3 * rank - 1];
  if (inner <= 0)
    return;
  T *o = out;
  forEachIndex(rank - 1, dims, dims + rank, dims + 2 * rank,
               [&](int64_t offA, int64_t offB) {
                 for (int64_t j = 0; j < inner; ++j)
                   o[j] = op(a[offA + j * innerA], b[offB + j * innerB]);
                 o += inner;
               });
}

} // namespace dpc::cpu

#endif // DPC_RUNTIME_LIB_CPU_STRIDED_LOOPS_H
