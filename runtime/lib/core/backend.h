//===- backend.h - The table every backend fills ----------------*- C++ -*-===//
//
// A backend is a table of functions: the services a session and the
// collectives need (memory, copies, synchronization, broadcasts) and one
// member per kernel of kernels.def, with the ABI's signature. The CPU
// backend fills one (cpu/cpu_backend.cpp), the cuda plugin another
// (cuda/plugin.cpp); a context points at its backend's table, every
// dpcrt_* entry point calls the kernel through it (entry_points.cpp), and
// the session uses only the services, so neither needs to know which
// backend it runs on.
//
// The cuda backend lives in a plugin, libdpcrt_cuda.so, so that libdpcrt
// itself links no CUDA library: a CPU-only process never maps cuBLAS, cuDNN
// or NCCL (150+ MB of resident memory once initialized), and libdpcrt loads
// on machines that lack them. libdpcrt opens the plugin with dlopen only
// when the cuda backend is wanted (backend.cpp) and reaches it through the
// CudaPlugin record its one exported function returns. The plugin is built
// from the same tree as libdpcrt and shares its C++ types (dpcrt_context,
// std::string, dpc::Error thrown across the boundary); the version fields
// only catch a stale plugin left beside a newer libdpcrt, they are not a
// stable interface.
//
//===----------------------------------------------------------------------===//

#ifndef DPC_RUNTIME_LIB_CORE_BACKEND_H
#define DPC_RUNTIME_LIB_CORE_BACKEND_H

#include "core/context.h"
#include "dpc/runtime.h"

#include <cstddef>
#include <cstdint>
#include <string>

namespace dpc {

struct BackendTable {
  /// Whether the slots are host memory (the CPU): the session then hands
  /// out the slots themselves; otherwise parameters, buffers and optimizer
  /// state have host mirrors that it keeps in step with the device.
  bool hostMemory;

  // Services of the session and the collectives; those of the cuda backend
  // are described in cuda/cuda_backend.h. They throw dpc::Error.

  /// Makes the context's device current on the calling thread.
  void (*makeCurrent)(dpcrt_context *ctx);
  /// Zeroed memory for a slot, never null; `what` names it in errors.
  void *(*allocate)(dpcrt_context *ctx, int64_t bytes, const std::string &what);
  void (*release)(void *memory);
  /// Copies between host memory and memory from `allocate`, in the order of
  /// the context's kernels.
  void (*copyToDevice)(dpcrt_context *ctx, void *device, const void *host,
                       int64_t bytes);
  void (*copyToHost)(dpcrt_context *ctx, void *host, const void *device,
                     int64_t bytes);
  /// Waits for everything the context's kernels enqueued; failures are
  /// recorded in ctx->error.
  void (*synchronize)(dpcrt_context *ctx);
  /// Bytes of scratch memory the context holds (Session::memoryBytes).
  size_t (*scratchBytes)(dpcrt_context *ctx);
  /// Once the context has its rank, world size and communicator: the
  /// backend's collective set-up (cuda: the NCCL communicator; CPU: BLAS
  /// threads shared among the ranks of a host). Collective.
  void (*joinRanks)(dpcrt_context *ctx);
  /// Copies `bytes` of slot memory from rank 0 to every rank. Collective.
  void (*broadcast)(dpcrt_context *ctx, void *data, int64_t bytes,
                    const std::string &what);
  /// End of a step: waits for every all-reduce still in flight, recording
  /// an error for those never waited for (a compiler bug) and collective
  /// failures.
  void (*drainPending)(dpcrt_context *ctx);
  /// After a step's synchronization: the L2 norm of its averaged gradients
  /// before any clipping (context.h, GradientSquares; 0 when no optimizer
  /// update ran), and resets the sums for the next step.
  double (*takeGradientNorm)(dpcrt_context *ctx);

  // The kernels of kernels.def (all but dpcrt_trace_op, which only touches
  // the host tracer), named like their entry points without the dpcrt_
  // prefix, with their signatures.
#define DPC_KERNEL(name, return_type, parameters, names)                       \
  return_type(*name) parameters;
#include "dpc/kernels.def"
};

namespace cpu {
/// The CPU backend (cpu/cpu_backend.cpp): every context starts on it.
const BackendTable &backendTable();
} // namespace cpu

/// The backend of `ctx`; the CPU for a null context (white-box tests).
inline const BackendTable &backendOf(const dpcrt_context *ctx) {
  return ctx ? *ctx->backend : cpu::backendTable();
}

//===----------------------------------------------------------------------===//
// The cuda plugin
//===----------------------------------------------------------------------===//

/// The plugin's file name, looked for next to libdpcrt.so first.
#define DPC_CUDA_PLUGIN_FILE "libdpcrt_cuda.so"
/// The plugin's one exported function, of type dpc::CudaPluginEntryFn.
#define DPC_CUDA_PLUGIN_ENTRY "dpcrt_cuda_backend_table"

/// Bumped whenever CudaPlugin or BackendTable change.
constexpr uint32_t kCudaPluginVersion = 4;

/// What the plugin returns: its backend table and what only a device
/// backend has (devices, and device state to create and destroy).
struct CudaPlugin {
  /// kCudaPluginVersion, DPC_ABI_VERSION and the sizes of this record and
  /// of dpcrt_context as the plugin was compiled; checked at load.
  uint32_t version;
  uint32_t abiVersion;
  uint32_t pluginSize;
  uint32_t contextSize;

  /// Usable CUDA devices (0 without a GPU or a driver; never an error).
  int (*deviceCount)();
  /// Makes `ctx` a context of the cuda backend on `device`: its device
  /// state, and `backend` pointing at the table below.
  void (*createState)(dpcrt_context *ctx, int device);
  /// Releases a device state (dpcrt_context's cuda member, whose deleter
  /// lives in libdpcrt and calls this).
  void (*destroyState)(cuda::DeviceState *state);

  BackendTable backend;
};

/// The type of the plugin's entry point, DPC_CUDA_PLUGIN_ENTRY.
extern "C" typedef const CudaPlugin *(*CudaPluginEntryFn)();

/// Loads the plugin on first use (once per process; never unloaded) and
/// returns it, or null with `error` (when given) set to a one-line reason:
/// the dlopen error, a missing entry point or a version mismatch.
const CudaPlugin *loadCudaPlugin(std::string *error = nullptr);

/// Whether an NVIDIA kernel driver is loaded (/proc/driver/nvidia/version):
/// without one there is no GPU to find, and Backend::Auto settles on the CPU
/// without loading the plugin and the CUDA libraries.
bool nvidiaDriverPresent();

//===----------------------------------------------------------------------===//
// Choosing a session's backend
//===----------------------------------------------------------------------===//

/// The backend a session runs on: Auto takes the GPUs when this build has
/// the cuda backend and every rank of this host (`localCount` of them) can
/// have a GPU of its own (NCCL does not run two ranks on one device), else
/// the CPU. Only Cuda, and Auto on a machine with an NVIDIA driver, load the
/// cuda plugin. Throws dpc::Error when Cuda cannot be had.
Backend resolveBackend(Backend requested, int localCount);

/// Puts `ctx` on `backend` (resolved): the CPU table, or on cuda the device
/// state for the host's `localRank`-th rank.
void attachBackend(dpcrt_context &ctx, Backend backend, int localRank);

} // namespace dpc

#endif // DPC_RUNTIME_LIB_CORE_BACKEND_H
