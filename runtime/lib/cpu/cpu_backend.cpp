//===- cpu_backend.cpp - The CPU backend's table --------------------------===//
//
// On the CPU the slots are host memory: copies are memcpy, there is nothing
// to synchronize, and broadcasts are MPI's.
//
//===----------------------------------------------------------------------===//

#include "cpu/cpu_backend.h"

#include "comm/collectives.h"
#include "core/backend.h"
#include "dpc/runtime.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <thread>

#include <sched.h>

using namespace dpc;

namespace {

/// Zeroed memory, 64-byte aligned (cache lines, AVX-512 loads), never null.
void *allocate(dpcrt_context *, int64_t bytes, const std::string &what) {
  size_t size = static_cast<size_t>(std::max<int64_t>(bytes, 1));
  size = (size + 63) / 64 * 64;
  void *p = std::aligned_alloc(64, size);
  if (!p)
    throw Error("cannot allocate " + std::to_string(bytes) + " bytes for " +
                what);
  std::memset(p, 0, size);
  return p;
}

void copy(dpcrt_context *, void *to, const void *from, int64_t bytes) {
  std::memcpy(to, from, static_cast<size_t>(bytes));
}

/// BLAS threads shared fairly among the ranks of a host, unless the user
/// set them.
void joinRanks(dpcrt_context *ctx) {
  if (ctx->worldSize <= 1 || std::getenv("OPENBLAS_NUM_THREADS") ||
      std::getenv("OMP_NUM_THREADS"))
    return;
  int local = ranksOnHost(ctx->comm);
  int cores = static_cast<int>(std::thread::hardware_concurrency());
  int threads = std::max(1, cores / std::max(local, 1));
  // mpirun may bind each rank to a core or two: never exceed the affinity.
  cpu_set_t affinity;
  if (sched_getaffinity(0, sizeof(affinity), &affinity) == 0)
    threads = std::max(1, std::min(threads, CPU_COUNT(&affinity)));
  cpu::setThreads(threads);
}

double takeGradientNorm(dpcrt_context *ctx) {
  GradientSquares &squares = ctx->gradientSquares;
  double norm = std::sqrt(squares.unscaled  ? squares.afterUnscale
                          : squares.clipped ? squares.beforeClip
                                            : squares.atUpdate);
  squares = GradientSquares();
  return norm;
}

BackendTable makeTable() {
  BackendTable t{};
  t.hostMemory = true;
  t.makeCurrent = [](dpcrt_context *) {};
  t.allocate = &allocate;
  t.release = [](void *memory) { std::free(memory); };
  t.copyToDevice = &copy;
  t.copyToHost = &copy;
  t.synchronize = [](dpcrt_context *) {};
  t.scratchBytes = [](dpcrt_context *) -> size_t { return 0; };
  t.joinRanks = &joinRanks;
  t.broadcast = [](dpcrt_context *ctx, void *data, int64_t bytes,
                   const std::string &what) {
    broadcastBytes(data, bytes, ctx->comm, what);
  };
  t.drainPending = &cpu::drainPending;
  t.takeGradientNorm = &takeGradientNorm;
#define DPC_KERNEL(name, return_type, parameters, names) t.name = &cpu::name;
#include "dpc/kernels.def"
  return t;
}

} // namespace

const BackendTable &dpc::cpu::backendTable() {
  static const BackendTable table = makeTable();
  return table;
}
