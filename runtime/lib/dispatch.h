//===- dispatch.h - Routing dpcrt_* calls to a backend ----------*- C++ -*-===//
//
// A model.so calls the same dpcrt_* entry points on every backend (the ABI
// does not change with the device), so each entry point starts with
// DPC_DISPATCH(name, args...): on a CUDA context it returns the cuda
// plugin's implementation, cudaBackend().name(args...) through the plugin's
// table (cuda_backend_table.h; a CUDA context exists only once the plugin
// is loaded), otherwise it falls through to the CPU implementation below
// it. In builds without the cuda backend the macro only marks `ctx` as
// used. Entry points must name their
// context parameter `ctx`; a null ctx (white-box tests) means the CPU.
//
//===----------------------------------------------------------------------===//

#ifndef DPC_RUNTIME_LIB_DISPATCH_H
#define DPC_RUNTIME_LIB_DISPATCH_H

#include "context.h"

#if DPC_HAVE_CUDA
#include "cuda_backend_table.h"

#define DPC_DISPATCH(name, ...)                                                \
  do {                                                                         \
    if (ctx && ctx->backend == ::dpc::BackendKind::Cuda)                       \
      return ::dpc::cudaBackend().name(__VA_ARGS__);                           \
  } while (false)
#else
#define DPC_DISPATCH(name, ...) (void)ctx
#endif

#endif // DPC_RUNTIME_LIB_DISPATCH_H
