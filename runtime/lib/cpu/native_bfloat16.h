//===- native_bfloat16.h - Where the CPU multiplies bfloat16 ----*- C++ -*-===//
//
// The bfloat16 kernels (dpcrt_gemm_bf16, dpcrt_conv2d*_bf16) run oneDNN's
// bfloat16 primitives where the CPU has bfloat16 units; elsewhere oneDNN
// would emulate them, slower than float32, so the kernels widen their
// operands (exactly) and run the float32 kernels instead.
//
//===----------------------------------------------------------------------===//

#ifndef DPC_RUNTIME_CPU_NATIVE_BFLOAT16_H
#define DPC_RUNTIME_CPU_NATIVE_BFLOAT16_H

#include "dpc/abi.h"

#include <cstdint>

namespace dpc::cpu {

/// Whether oneDNN multiplies bfloat16 natively here: its effective ISA
/// (the CPU's, capped by DNNL_MAX_CPU_ISA) has AVX512-BF16 (or AMX).
bool hasNativeBFloat16();

/// `n` bfloat16 values (their bits) widened to float in this thread's
/// buffer `slot` (0 or 1) by the unpack kernel (dpcrt_unpack_bf16), valid
/// until the next call with that slot.
const float *widenBFloat16(dpcrt_context *ctx, int slot, const uint16_t *bits,
                           int64_t n);

} // namespace dpc::cpu

#endif // DPC_RUNTIME_CPU_NATIVE_BFLOAT16_H
