//===- cpu_backend.h - The CPU backend of libdpcrt (internal) ---*- C++ -*-===//
//
// The CPU implementation of every kernel of kernels.def, declared from that
// list with the ABI's signature: dpc::cpu::gemm_f32 is what dpcrt_gemm_f32
// runs on a CPU context (entry_points.cpp). The definitions are in the
// cpu_kernels*.cpp files, comm.cpp (the all-reduces) and replicas.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef DPC_RUNTIME_LIB_CPU_BACKEND_H
#define DPC_RUNTIME_LIB_CPU_BACKEND_H

#include "context.h"

namespace dpc::cpu {

#define DPC_KERNEL(name, return_type, parameters, names)                       \
  return_type name parameters;
#include "dpc/kernels.def"

} // namespace dpc::cpu

#endif // DPC_RUNTIME_LIB_CPU_BACKEND_H
