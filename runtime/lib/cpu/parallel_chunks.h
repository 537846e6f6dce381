//===- parallel_chunks.h - Threading of the CPU kernels' loops --*- C++ -*-===//
//
// The OpenMP loop that the element-wise and indexing kernels split their
// work with, on the threads oneDNN uses. A file that includes it must be
// compiled with OpenMP (runtime/CMakeLists.txt).
//
//===----------------------------------------------------------------------===//

#ifndef DPC_RUNTIME_LIB_CPU_PARALLEL_CHUNKS_H
#define DPC_RUNTIME_LIB_CPU_PARALLEL_CHUNKS_H

#include "cpu/dnnl_eltwise.h"

#include <algorithm>
#include <cstdint>

namespace dpc {

/// Runs `body(begin, end)` over [0, n): in one piece below twice torch's
/// grain size (32768 elements, where threads cost more than they save),
/// else in contiguous chunks on the OpenMP threads oneDNN uses, as many as
/// the BLAS thread cap allows (applyDnnlThreads: several ranks on a host
/// share its cores, and replica threads run with one).
template <typename Body> void parallelChunks(int64_t n, Body body) {
  constexpr int64_t kGrain = 32768;
  if (n < 2 * kGrain) {
    body(int64_t(0), n);
    return;
  }
  int64_t chunks = std::min<int64_t>(dpc::applyDnnlThreads(), n / kGrain);
  if (chunks <= 1) {
    body(int64_t(0), n);
    return;
  }
#pragma omp parallel for num_threads(static_cast<int>(chunks)) schedule(static)
  for (int64_t c = 0; c < chunks; ++c) {
    // Chunk bounds on multiples of 16 floats (whole cache lines).
    int64_t begin = c == 0 ? 0 : (n * c / chunks) & ~int64_t(15);
    int64_t end = c + 1 == chunks ? n : (n * (c + 1) / chunks) & ~int64_t(15);
    body(begin, end);
  }
}

} // namespace dpc

#endif // DPC_RUNTIME_LIB_CPU_PARALLEL_CHUNKS_H
