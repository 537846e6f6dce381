//===- cuda_plugin.cpp - Loading the cuda backend's plugin ----------------===//
//
// libdpcrt links no CUDA library; the cuda backend is libdpcrt_cuda.so,
// opened here the first time a session wants it (cuda_backend_table.h).
//
//===----------------------------------------------------------------------===//

#include "cuda_backend_table.h"

#include <string>

#include <dlfcn.h>
#include <unistd.h>

using namespace dpc;

namespace {

struct LoadResult {
  const CudaBackendTable *table = nullptr;
  std::string error;
};

#if DPC_HAVE_CUDA
/// The plugin's path next to the file libdpcrt was loaded from, so that a
/// build tree or an installed (or bundled) lib/ directory finds its own
/// plugin without LD_LIBRARY_PATH; empty when that cannot be determined.
std::string pluginBesideRuntime() {
  Dl_info info;
  if (!dladdr(reinterpret_cast<void *>(&loadCudaBackend), &info) ||
      !info.dli_fname)
    return "";
  std::string self = info.dli_fname;
  size_t slash = self.rfind('/');
  return (slash == std::string::npos ? std::string(".")
                                     : self.substr(0, slash)) +
         "/" DPC_CUDA_PLUGIN_FILE;
}
#endif

LoadResult load() {
  LoadResult result;
#if !DPC_HAVE_CUDA
  result.error = "this runtime was built without the cuda backend";
  return result;
#else
  // The copy beside libdpcrt when there is one (its dlopen error, e.g. a
  // missing libcudnn, is then the one worth reporting); else the default
  // search path (LD_LIBRARY_PATH, the linker cache).
  std::string beside = pluginBesideRuntime();
  std::string path = !beside.empty() && access(beside.c_str(), F_OK) == 0
                         ? beside
                         : std::string(DPC_CUDA_PLUGIN_FILE);
  // RTLD_LOCAL: the plugin's symbols are for this table only. It is never
  // closed: CUDA's libraries do not support being unloaded, and device
  // state may live until exit.
  void *handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char *why = dlerror();
    result.error = why ? why : path + ": cannot be opened";
    return result;
  }
  auto entry = reinterpret_cast<CudaBackendEntryFn>(
      dlsym(handle, DPC_CUDA_PLUGIN_ENTRY));
  if (!entry) {
    result.error = path + " has no " DPC_CUDA_PLUGIN_ENTRY;
    return result;
  }
  const CudaBackendTable *table = entry();
  if (!table || table->version != kCudaBackendTableVersion ||
      table->abiVersion != DPC_ABI_VERSION ||
      table->tableSize != sizeof(CudaBackendTable) ||
      table->contextSize != sizeof(dpcrt_context)) {
    result.error = path + " was built for another version of libdpcrt";
    return result;
  }
  result.table = table;
  return result;
#endif
}

} // namespace

const CudaBackendTable *dpc::loadCudaBackend(std::string *error) {
  // One attempt per process (thread-safe): a failure is not retried, so
  // every session of the process agrees on the answer.
  static const LoadResult result = load();
  if (!result.table && error)
    *error = result.error;
  return result.table;
}

bool dpc::nvidiaDriverPresent() {
  return access("/proc/driver/nvidia/version", F_OK) == 0;
}

// Defined here, not in the plugin, because libdpcrt destroys contexts; the
// plugin frees what it created. A state exists only once the plugin has
// been loaded, so the table is there.
void dpc::cuda::DeviceStateDeleter::operator()(DeviceState *state) const {
  if (!state)
    return;
  if (const CudaBackendTable *table = loadCudaBackend())
    table->destroyState(state);
}
