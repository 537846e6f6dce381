//===- backend.cpp - Choosing a backend and loading the cuda plugin -------===//
//
// libdpcrt links no CUDA library; the cuda backend is libdpcrt_cuda.so,
// opened here the first time a session wants it (backend.h).
//
//===----------------------------------------------------------------------===//

#include "core/backend.h"

#include <string>

#include <dlfcn.h>
#include <unistd.h>

using namespace dpc;

namespace {

struct LoadResult {
  const CudaPlugin *plugin = nullptr;
  std::string error;
};

#if DPC_HAVE_CUDA
/// The plugin's path next to the file libdpcrt was loaded from, so that a
/// build tree or an installed (or bundled) lib/ directory finds its own
/// plugin without LD_LIBRARY_PATH; empty when that cannot be determined.
std::string pluginBesideRuntime() {
  Dl_info info;
  if (!dladdr(reinterpret_cast<void *>(&loadCudaPlugin), &info) ||
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
  auto entry =
      reinterpret_cast<CudaPluginEntryFn>(dlsym(handle, DPC_CUDA_PLUGIN_ENTRY));
  if (!entry) {
    result.error = path + " has no " DPC_CUDA_PLUGIN_ENTRY;
    return result;
  }
  const CudaPlugin *plugin = entry();
  if (!plugin || plugin->version != kCudaPluginVersion ||
      plugin->abiVersion != DPC_ABI_VERSION ||
      plugin->pluginSize != sizeof(CudaPlugin) ||
      plugin->contextSize != sizeof(dpcrt_context)) {
    result.error = path + " was built for another version of libdpcrt";
    return result;
  }
  result.plugin = plugin;
  return result;
#endif
}

} // namespace

const CudaPlugin *dpc::loadCudaPlugin(std::string *error) {
  // One attempt per process (thread-safe): a failure is not retried, so
  // every session of the process agrees on the answer.
  static const LoadResult result = load();
  if (!result.plugin && error)
    *error = result.error;
  return result.plugin;
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
  if (const CudaPlugin *plugin = loadCudaPlugin())
    plugin->destroyState(state);
}

//===----------------------------------------------------------------------===//
// Choosing a session's backend
//===----------------------------------------------------------------------===//

const char *dpc::backendName(Backend backend) {
  switch (backend) {
  case Backend::Auto:
    return "auto";
  case Backend::Cpu:
    return "cpu";
  case Backend::Cuda:
    return "cuda";
  }
  return "?";
}

bool dpc::backendAvailable(Backend backend) {
  return backend != Backend::Cuda || DPC_HAVE_CUDA;
}

int dpc::cudaDeviceCount() {
  // Without an NVIDIA driver there is no GPU to count: answer without
  // loading the plugin, which maps CUDA's libraries (over 150 MB resident
  // once initialized) into a process that will only use the CPU.
  if (!nvidiaDriverPresent())
    return 0;
  const CudaPlugin *plugin = loadCudaPlugin();
  return plugin ? plugin->deviceCount() : 0;
}

void dpc::requireCudaBackend() {
  std::string why;
  if (!loadCudaPlugin(&why))
    throw Error(
        "the cuda backend (" DPC_CUDA_PLUGIN_FILE ") cannot be loaded: " + why);
}

Backend dpc::resolveBackend(Backend requested, int localCount) {
  switch (requested) {
  case Backend::Cpu:
    return Backend::Cpu;
  case Backend::Auto: {
    int devices = cudaDeviceCount();
    return devices > 0 && devices >= localCount ? Backend::Cuda : Backend::Cpu;
  }
  case Backend::Cuda:
    break;
  }
  if (!backendAvailable(Backend::Cuda))
    throw Error("backend 'cuda' is not available: this runtime was built "
                "without CUDA");
  requireCudaBackend();
  int devices = loadCudaPlugin()->deviceCount();
  if (devices == 0)
    throw Error("backend 'cuda': no CUDA device found");
  if (devices < localCount)
    throw Error("backend 'cuda': " + std::to_string(localCount) +
                " ranks on this host but only " + std::to_string(devices) +
                " CUDA device" + (devices == 1 ? "" : "s") +
                " (each rank needs a GPU of its own)");
  return Backend::Cuda;
}

void dpc::attachBackend(dpcrt_context &ctx, Backend backend, int localRank) {
  ctx.backend = &cpu::backendTable();
  if (backend != Backend::Cuda)
    return;
  // Resolved to cuda: the plugin is loaded and has devices.
  const CudaPlugin &plugin = *loadCudaPlugin();
  plugin.createState(&ctx, localRank % plugin.deviceCount());
}
