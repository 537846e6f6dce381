//===- cuda_backend_table.h - libdpcrt's view of the plugin -----*- C++ -*-===//
//
// The cuda backend lives in a plugin, libdpcrt_cuda.so, so that libdpcrt
// itself links no CUDA library: a CPU-only process never maps cuBLAS, cuDNN
// or NCCL (150+ MB of resident memory once initialized), and libdpcrt loads
// on machines that lack them. libdpcrt opens the plugin with dlopen only
// when the cuda backend is wanted (cuda_plugin.cpp) and reaches it through
// the table below, which the plugin's one exported function returns.
//
// The table holds the services the session and the collectives need (all
// taking or returning host-side values; libdpcrt never sees the plugin's
// DeviceState layout) and one member per dpcrt_* kernel entry point, with
// the ABI's signature, which the entry point (entry_points.cpp) calls on a
// CUDA context. The plugin is built from the same tree as libdpcrt and shares
// its C++ types (dpcrt_context, std::string, dpc::Error thrown across the
// boundary); the version fields only catch a stale plugin left beside a
// newer libdpcrt, they are not a stable interface.
//
//===----------------------------------------------------------------------===//

#ifndef DPC_RUNTIME_LIB_CUDA_BACKEND_TABLE_H
#define DPC_RUNTIME_LIB_CUDA_BACKEND_TABLE_H

#include "context.h"

#include <cstddef>
#include <cstdint>
#include <string>

/// The plugin's file name, looked for next to libdpcrt.so first.
#define DPC_CUDA_PLUGIN_FILE "libdpcrt_cuda.so"
/// The plugin's one exported function, of type dpc::CudaBackendEntryFn.
#define DPC_CUDA_PLUGIN_ENTRY "dpcrt_cuda_backend_table"

namespace dpc {

/// Bumped whenever the table's members change.
constexpr uint32_t kCudaBackendTableVersion = 2;

struct CudaBackendTable {
  /// kCudaBackendTableVersion, DPC_ABI_VERSION and the sizes of the table
  /// and of dpcrt_context as the plugin was compiled; checked at load.
  uint32_t version;
  uint32_t abiVersion;
  uint32_t tableSize;
  uint32_t contextSize;

  // Services of the session and the collectives; see cuda/cuda_backend.h
  // for what each does and which throw dpc::Error.
  int (*deviceCount)();
  void (*createState)(dpcrt_context *ctx, int device);
  /// Releases a device state (dpcrt_context's cuda member, whose deleter
  /// lives in libdpcrt and calls this).
  void (*destroyState)(cuda::DeviceState *state);
  void (*makeCurrent)(dpcrt_context *ctx);
  void *(*allocate)(dpcrt_context *ctx, int64_t bytes, const std::string &what);
  void (*release)(void *device);
  void (*copyToDevice)(dpcrt_context *ctx, void *device, const void *host,
                       int64_t bytes);
  void (*copyToHost)(dpcrt_context *ctx, void *host, const void *device,
                     int64_t bytes);
  void (*synchronize)(dpcrt_context *ctx);
  /// Bytes of scratch memory the context holds (Session::deviceMemoryBytes).
  size_t (*scratchBytes)(dpcrt_context *ctx);
  void (*initCommunicator)(dpcrt_context *ctx);
  void (*broadcast)(dpcrt_context *ctx, void *data, int64_t bytes,
                    const std::string &what);
  void (*drainPending)(dpcrt_context *ctx);

  // The kernels of kernels.def (all but dpcrt_trace_op, which only touches
  // the host tracer), named like their entry points without the dpcrt_
  // prefix, with their signatures.
#define DPC_KERNEL(name, return_type, parameters, names)                       \
  return_type(*name) parameters;
#include "dpc/kernels.def"
};

/// The type of the plugin's entry point, DPC_CUDA_PLUGIN_ENTRY.
extern "C" typedef const CudaBackendTable *(*CudaBackendEntryFn)();

/// Loads the plugin on first use (once per process; never unloaded) and
/// returns its table, or null with `error` (when given) set to a one-line
/// reason: the dlopen error, a missing entry point or a version mismatch.
const CudaBackendTable *loadCudaBackend(std::string *error = nullptr);

/// The table of the loaded plugin. Only for CUDA contexts, which exist only
/// once the plugin has been loaded.
inline const CudaBackendTable &cudaBackend() { return *loadCudaBackend(); }

/// Whether an NVIDIA kernel driver is loaded (/proc/driver/nvidia/version):
/// without one there is no GPU to find, and Backend::Auto settles on the CPU
/// without loading the plugin and the CUDA libraries.
bool nvidiaDriverPresent();

} // namespace dpc

#endif // DPC_RUNTIME_LIB_CUDA_BACKEND_TABLE_H
