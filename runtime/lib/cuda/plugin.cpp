//===- plugin.cpp - The entry point of libdpcrt_cuda.so -------------------===//
//
// The one function libdpcrt looks up after dlopen: it returns the record
// through which libdpcrt reaches this backend (../core/backend.h), the
// backend table included. Assigning each member from the function of the
// same name also checks, at compile time, that every kernel here has its
// entry point's signature.
//
//===----------------------------------------------------------------------===//

#include "core/backend.h"
#include "cuda/cuda_backend.h"

using namespace dpc;

namespace {

CudaPlugin makePlugin() {
  CudaPlugin p{};
  p.version = kCudaPluginVersion;
  p.abiVersion = DPC_ABI_VERSION;
  p.pluginSize = sizeof(CudaPlugin);
  p.contextSize = sizeof(dpcrt_context);
  p.deviceCount = &cuda::deviceCount;
  p.createState = &cuda::createState;
  p.destroyState = &cuda::destroyState;

  BackendTable &t = p.backend;
  t.hostMemory = false;
  t.makeCurrent = &cuda::makeCurrent;
  t.allocate = &cuda::allocate;
  t.release = &cuda::release;
  t.copyToDevice = &cuda::copyToDevice;
  t.copyToHost = &cuda::copyToHost;
  t.synchronize = &cuda::synchronize;
  t.scratchBytes = [](dpcrt_context *ctx) {
    return cuda::state(ctx).scratchBytes;
  };
  t.joinRanks = &cuda::initCommunicator;
  t.broadcast = &cuda::broadcast;
  t.drainPending = &cuda::drainPending;
  t.takeGradientNorm = &cuda::takeGradientNorm;
#define DPC_KERNEL(name, return_type, parameters, names) t.name = &cuda::name;
#include "dpc/kernels.def"
  return p;
}

const CudaPlugin &plugin() {
  static const CudaPlugin record = makePlugin();
  return record;
}

} // namespace

const BackendTable &dpc::cuda::backendTable() { return plugin().backend; }

extern "C" __attribute__((visibility("default"))) const CudaPlugin *
dpcrt_cuda_backend_table() {
  return &plugin();
}
