//===- dispatch.h - Routing dpcrt_* calls to a backend ----------*- C++ -*-===//
//
// A model.so calls the same dpcrt_* entry points on every backend (the ABI
// does not change with the device), so each entry point starts with
// DPC_DISPATCH(name, args...): on a CUDA context it returns
// dpc::cuda::name(args...) (cuda/cuda_backend.h), otherwise it falls
// through to the CPU implementation below it. In builds without the cuda
// backend the macro only marks `ctx` as used. Entry points must name their
// context parameter `ctx`; a null ctx (white-box tests) means the CPU.
//
//===----------------------------------------------------------------------===//

#ifndef DPC_RUNTIME_LIB_DISPATCH_H
#define DPC_RUNTIME_LIB_DISPATCH_H

#include "context.h"

#if DPC_HAVE_CUDA
#include "cuda/cuda_backend.h"

#define DPC_DISPATCH(name, ...)                                                \
  do {                                                                         \
    if (ctx && ctx->backend == ::dpc::BackendKind::Cuda)                       \
      return ::dpc::cuda::name(__VA_ARGS__);                                   \
  } while (false)
#else
#define DPC_DISPATCH(name, ...) (void)ctx
#endif

#endif // DPC_RUNTIME_LIB_DISPATCH_H
