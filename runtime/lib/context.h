//===- context.h - The runtime context behind the opaque ABI handle -*- C++ -*-===//
//
// Internal to libdpcrt (and its white-box unit tests). A model.so only ever
// sees a pointer to this struct and passes it back to every kernel, which is
// how one module runs on any backend.
//
//===----------------------------------------------------------------------===//

#ifndef DPC_RUNTIME_LIB_CONTEXT_H
#define DPC_RUNTIME_LIB_CONTEXT_H

#include "dpc/abi.h"

#include <mpi.h>

#include <cstdint>
#include <string>
#include <vector>

namespace dpc {

/// The backend a context runs kernels on. Only the CPU backend exists so far;
/// CUDA contexts will carry their streams, events and NCCL communicator.
enum class BackendKind { Cpu, Cuda };

/// An all-reduce that was started and not yet waited for. Large buffers are
/// split into several MPI requests because MPI counts are ints.
struct PendingAllreduce {
  int32_t bucket = -1;
  std::vector<MPI_Request> requests;
};

} // namespace dpc

struct dpcrt_context {
  dpc::BackendKind backend = dpc::BackendKind::Cpu;
  int rank = 0;
  int worldSize = 1;
  /// Optimizer steps already taken; SGD's first step (0) initializes the
  /// momentum buffer instead of decaying it, as torch.optim.SGD does.
  int64_t step = 0;
  /// A private duplicate of MPI_COMM_WORLD (MPI_COMM_NULL without MPI), so the
  /// runtime's collectives never match the embedding program's messages.
  MPI_Comm comm = MPI_COMM_NULL;
  /// All-reduces in flight; handle h refers to pending[h - 1] (0 means "no
  /// request", what a single-process start returns).
  std::vector<dpc::PendingAllreduce> pending;
  /// The first error a kernel hit during the current step. Kernels cannot
  /// throw through the compiled module's frames, so they record it here and
  /// the session raises it once the step returns.
  std::string error;
};

namespace dpc {

/// Records `message` as the context's error unless one is already recorded.
void recordError(dpcrt_context *ctx, const std::string &message);

/// Waits for every all-reduce still pending (a module that forgot a wait is a
/// compiler bug: recorded as an error) and clears the handle table.
void drainPending(dpcrt_context *ctx);

/// Caps the CPU backend's BLAS threads (several ranks on one host must not
/// each start one thread per core).
void setCpuThreads(int threads);

} // namespace dpc

#endif // DPC_RUNTIME_LIB_CONTEXT_H
