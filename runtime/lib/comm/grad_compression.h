//===- grad_compression.h - Gradient buckets in 16 bits --------*- C++ -*-===//
//
// DDP's fp16_compress_hook and bf16_compress_hook (torch.distributed.
// algorithms.ddp_comm_hooks.default_hooks) all-reduce a bucket in a 16-bit
// type to halve the bytes on the wire:
//
//   compressed = bucket.to(float16).div_(world_size)   # rounded twice
//   all_reduce(compressed)                             # summed in 16 bits
//   bucket.copy_(compressed)                           # back to float32
//
// These are the host halves of that rule, shared by the CPU backend's
// communication stream; the conversions round to nearest even exactly as
// c10::Half and c10::BFloat16 do, and arithmetic on a 16-bit value is done in
// float32 and rounded back, as PyTorch's CPU kernels and gloo do.
//
//===----------------------------------------------------------------------===//

#ifndef DPC_RUNTIME_LIB_COMM_GRAD_COMPRESSION_H
#define DPC_RUNTIME_LIB_COMM_GRAD_COMPRESSION_H

#include "core/context.h"
#include "dpc/abi.h"
#include "kernel_shared.h"

#include <cstdint>
#include <cstring>
#include <string>

namespace dpc {

/// float32 -> IEEE half, round to nearest even (GCC's and Clang's _Float16
/// conversion, which is what c10::Half's fp16_ieee_from_fp32_value computes).
inline uint16_t floatToHalfBits(float value) {
  _Float16 half = static_cast<_Float16>(value);
  uint16_t bits;
  std::memcpy(&bits, &half, sizeof bits);
  return bits;
}

inline float halfBitsToFloat(uint16_t bits) {
  _Float16 half;
  std::memcpy(&half, &bits, sizeof bits);
  return static_cast<float>(half);
}

// float32 <-> bfloat16: floatToBFloat16Bits / bfloat16BitsToFloat
// (kernel_shared.h, the rounding nn.round_bf16 uses too).

/// Whether `commDType` is one of dpcrt_grad_comm's values; when it is not,
/// records the error for bucket `bucket` (both backends' all-reduce start
/// check it so).
inline bool checkGradComm(dpcrt_context *ctx, int32_t bucket,
                          int32_t commDType) {
  if (commDType == DPCRT_GRAD_COMM_F32 || commDType == DPCRT_GRAD_COMM_F16 ||
      commDType == DPCRT_GRAD_COMM_BF16)
    return true;
  recordError(ctx, "allreduce of bucket " + std::to_string(bucket) +
                       ": unknown communication type " +
                       std::to_string(commDType));
  return false;
}

// The loops over a bucket (grad_compression.cpp), vectorized: with F16C
// where the CPU has it (one instruction per 8 conversions instead of a
// libgcc call per value).

/// The hook's first line: out[i] = to16(to16(data[i]) / worldSize).
void compressGradients(int32_t commDType, const float *data, int64_t n,
                       int worldSize, uint16_t *out);

/// The hook's last line: data[i] = float(compressed[i]).
void decompressGradients(int32_t commDType, const uint16_t *compressed,
                         int64_t n, float *data);

/// The all-reduce's sum: inout[i] = to16(float(in[i]) + float(inout[i])).
void addGradients(int32_t commDType, const uint16_t *in, int64_t n,
                  uint16_t *inout);

/// out[i] = float(to16(in[i])), float16 (--precision fp16's nn.round_f16 on
/// the CPU): the same F16C dispatch as the loops above. out may be in.
void roundToFloat16s(const float *in, int64_t n, float *out);

/// out[i] = to16(in[i]) and back, float16 (--precision fp16's activations
/// saved in 16 bits, nn.pack_saved / nn.unpack_saved on the CPU).
void floatsToHalfBits(const float *in, int64_t n, uint16_t *out);
void halfBitsToFloats(const uint16_t *in, int64_t n, float *out);

} // namespace dpc

#endif // DPC_RUNTIME_LIB_COMM_GRAD_COMPRESSION_H
