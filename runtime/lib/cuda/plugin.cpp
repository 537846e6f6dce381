//===- plugin.cpp - The entry point of libdpcrt_cuda.so -------------------===//
//
// The one function libdpcrt looks up after dlopen: it returns the table
// through which libdpcrt reaches this backend (../cuda_backend_table.h).
// Assigning each member from the function of the same name also checks, at
// compile time, that every kernel here has its entry point's signature.
//
//===----------------------------------------------------------------------===//

#include "../cuda_backend_table.h"
#include "cuda_backend.h"

using namespace dpc;

namespace {

CudaBackendTable makeTable() {
  CudaBackendTable t{};
  t.version = kCudaBackendTableVersion;
  t.abiVersion = DPC_ABI_VERSION;
  t.tableSize = sizeof(CudaBackendTable);
  t.contextSize = sizeof(dpcrt_context);

  t.deviceCount = &cuda::deviceCount;
  t.createState = &cuda::createState;
  t.destroyState = &cuda::destroyState;
  t.makeCurrent = &cuda::makeCurrent;
  t.allocate = &cuda::allocate;
  t.release = &cuda::release;
  t.copyToDevice = &cuda::copyToDevice;
  t.copyToHost = &cuda::copyToHost;
  t.synchronize = &cuda::synchronize;
  t.scratchBytes = [](dpcrt_context *ctx) {
    return cuda::state(ctx).scratchBytes;
  };
  t.initCommunicator = &cuda::initCommunicator;
  t.broadcast = &cuda::broadcast;
  t.drainPending = &cuda::drainPending;

#define DPC_KERNEL(name, return_type, parameters, names) t.name = &cuda::name;
#include "dpc/kernels.def"
  return t;
}

} // namespace

extern "C" __attribute__((visibility("default"))) const CudaBackendTable *
dpcrt_cuda_backend_table() {
  static const CudaBackendTable table = makeTable();
  return &table;
}
