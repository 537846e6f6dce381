//===- cpu_backend.h - The CPU backend of libdpcrt (internal) ---*- C++ -*-===//
//
// The CPU implementation of every kernel of kernels.def, declared from that
// list with the ABI's signature: dpc::cpu::gemm_f32 is what dpcrt_gemm_f32
// runs on a CPU context, through the table cpu_backend.cpp fills. Layout:
// one file per op family, as kernels.def is sectioned:
// elementwise_kernels.cpp, linalg_kernels.cpp (OpenBLAS), indexing_,
// reduction_, normalization_, conv_pool_ (oneDNN convolutions, pooling),
// shape_, loss_ and optimizer_kernels.cpp; their helpers strided_loops.h
// (odometer loops) and dnnl_eltwise.cpp (oneDNN's GELU and softmax);
// replicas.cpp (dpcrt_run_replicas), and the all-reduces on the
// communication stream in ../comm/comm_stream.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef DPC_RUNTIME_LIB_CPU_CPU_BACKEND_H
#define DPC_RUNTIME_LIB_CPU_CPU_BACKEND_H

#include "core/context.h"

namespace dpc::cpu {

#define DPC_KERNEL(name, return_type, parameters, names)                       \
  return_type name parameters;
#include "dpc/kernels.def"

/// Caps the BLAS threads (several ranks on one host must not each start
/// one thread per core).
void setThreads(int threads);

/// Waits for every all-reduce still in flight on the communication stream
/// (comm_stream.cpp); see BackendTable::drainPending.
void drainPending(dpcrt_context *ctx);

} // namespace dpc::cpu

#endif // DPC_RUNTIME_LIB_CPU_CPU_BACKEND_H
