//===- native_bfloat16.cpp - Where the CPU multiplies bfloat16 ------------===//

#include "cpu/native_bfloat16.h"

#include "cpu/cpu_backend.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <vector>

namespace dpc::cpu {

bool hasNativeBFloat16() {
  static const bool native = [] {
    auto isa = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
    auto bf16 = static_cast<unsigned>(dnnl::cpu_isa::avx512_core_bf16);
    return (isa & bf16) == bf16;
  }();
  return native;
}

const float *widenBFloat16(dpcrt_context *ctx, int slot, const uint16_t *bits,
                           int64_t n) {
  thread_local std::vector<float> buffers[2];
  std::vector<float> &buffer = buffers[slot];
  if (buffer.size() < static_cast<size_t>(n))
    buffer.resize(static_cast<size_t>(n));
  unpack_bf16(ctx, buffer.data(), bits, n);
  return buffer.data();
}

} // namespace dpc::cpu
