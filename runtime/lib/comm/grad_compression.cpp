//===- grad_compression.cpp - Gradient buckets in 16 bits -----------------===//
//
// The loops of grad_compression.h. The float16 ones are compiled twice, for
// CPUs with and without F16C (picked at the first call): without it a
// conversion to or from _Float16 is a libgcc call, 30 ns per value here
// against 1.5 ns. Both clones compute the same values; bfloat16 needs no
// special instructions (its conversions are integer arithmetic).
//
//===----------------------------------------------------------------------===//

#include "comm/grad_compression.h"

namespace dpc {

namespace {

// The loop bodies, inlined into one clone per instruction set.
#define DPC_ALWAYS_INLINE inline __attribute__((always_inline))

DPC_ALWAYS_INLINE void compressHalvesLoop(const float *data, int64_t n,
                                          float worldSize, uint16_t *out) {
  for (int64_t i = 0; i < n; ++i)
    out[i] =
        floatToHalfBits(halfBitsToFloat(floatToHalfBits(data[i])) / worldSize);
}

DPC_ALWAYS_INLINE void decompressHalvesLoop(const uint16_t *compressed,
                                            int64_t n, float *data) {
  for (int64_t i = 0; i < n; ++i)
    data[i] = halfBitsToFloat(compressed[i]);
}

DPC_ALWAYS_INLINE void roundHalvesLoop(const float *in, int64_t n, float *out) {
  for (int64_t i = 0; i < n; ++i)
    out[i] = halfBitsToFloat(floatToHalfBits(in[i]));
}

DPC_ALWAYS_INLINE void toHalvesLoop(const float *in, int64_t n, uint16_t *out) {
  for (int64_t i = 0; i < n; ++i)
    out[i] = floatToHalfBits(in[i]);
}

DPC_ALWAYS_INLINE void addHalvesLoop(const uint16_t *in, int64_t n,
                                     uint16_t *inout) {
  for (int64_t i = 0; i < n; ++i)
    inout[i] =
        floatToHalfBits(halfBitsToFloat(in[i]) + halfBitsToFloat(inout[i]));
}

// GCC's target_clones cannot dispatch on F16C alone, so the choice is made
// here, once.
bool hasF16C() {
  static const bool has = __builtin_cpu_supports("f16c");
  return has;
}

__attribute__((target("f16c"))) void
compressHalvesF16C(const float *data, int64_t n, float size, uint16_t *out) {
  compressHalvesLoop(data, n, size, out);
}
__attribute__((target("f16c"))) void
decompressHalvesF16C(const uint16_t *compressed, int64_t n, float *data) {
  decompressHalvesLoop(compressed, n, data);
}
__attribute__((target("f16c"))) void roundHalvesF16C(const float *in, int64_t n,
                                                     float *out) {
  roundHalvesLoop(in, n, out);
}
__attribute__((target("f16c"))) void toHalvesF16C(const float *in, int64_t n,
                                                  uint16_t *out) {
  toHalvesLoop(in, n, out);
}
__attribute__((target("f16c"))) void addHalvesF16C(const uint16_t *in,
                                                   int64_t n, uint16_t *inout) {
  addHalvesLoop(in, n, inout);
}

void compressHalves(const float *data, int64_t n, float size, uint16_t *out) {
  if (hasF16C())
    return compressHalvesF16C(data, n, size, out);
  compressHalvesLoop(data, n, size, out);
}
void decompressHalves(const uint16_t *compressed, int64_t n, float *data) {
  if (hasF16C())
    return decompressHalvesF16C(compressed, n, data);
  decompressHalvesLoop(compressed, n, data);
}
void addHalves(const uint16_t *in, int64_t n, uint16_t *inout) {
  if (hasF16C())
    return addHalvesF16C(in, n, inout);
  addHalvesLoop(in, n, inout);
}

} // namespace

void compressGradients(int32_t commDType, const float *data, int64_t n,
                       int worldSize, uint16_t *out) {
  float size = static_cast<float>(worldSize);
  if (commDType != DPCRT_GRAD_COMM_BF16)
    return compressHalves(data, n, size, out);
  for (int64_t i = 0; i < n; ++i)
    out[i] = floatToBFloat16Bits(
        bfloat16BitsToFloat(floatToBFloat16Bits(data[i])) / size);
}

void decompressGradients(int32_t commDType, const uint16_t *compressed,
                         int64_t n, float *data) {
  if (commDType != DPCRT_GRAD_COMM_BF16)
    return decompressHalves(compressed, n, data);
  for (int64_t i = 0; i < n; ++i)
    data[i] = bfloat16BitsToFloat(compressed[i]);
}

void addGradients(int32_t commDType, const uint16_t *in, int64_t n,
                  uint16_t *inout) {
  if (commDType != DPCRT_GRAD_COMM_BF16)
    return addHalves(in, n, inout);
  for (int64_t i = 0; i < n; ++i)
    inout[i] = floatToBFloat16Bits(bfloat16BitsToFloat(in[i]) +
                                   bfloat16BitsToFloat(inout[i]));
}

void roundToFloat16s(const float *in, int64_t n, float *out) {
  if (hasF16C())
    return roundHalvesF16C(in, n, out);
  roundHalvesLoop(in, n, out);
}

void floatsToHalfBits(const float *in, int64_t n, uint16_t *out) {
  if (hasF16C())
    return toHalvesF16C(in, n, out);
  toHalvesLoop(in, n, out);
}

void halfBitsToFloats(const uint16_t *in, int64_t n, float *out) {
  decompressHalves(in, n, out);
}

} // namespace dpc
