//===- abi.h - The C ABI between a compiled model.so and libdpcrt ---------===//
//
// A model.so produced by `dpc` exports three symbols and calls the dpcrt_*
// kernel entry points listed in kernels.def, which libdpcrt exports. The
// kernels take the opaque context first so that one model.so runs on any
// backend: the context knows whether it is the CPU or the CUDA backend, and
// which stream a call belongs to. Nothing in this header (or kernels.def) may
// change meaning without bumping DPC_ABI_VERSION; the runtime refuses a
// module whose version differs.
//
//===----------------------------------------------------------------------===//

#ifndef DPC_ABI_H
#define DPC_ABI_H

#include <stdint.h>

#define DPC_ABI_VERSION 1

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dpcrt_context dpcrt_context;

//===----------------------------------------------------------------------===//
// Symbols exported by model.so
//===----------------------------------------------------------------------===//

// extern const char dpc_model_manifest[];         NUL-terminated JSON manifest
// extern const unsigned char dpc_model_weights[];  initial parameter/buffer
//                                                  bytes, 64-byte aligned;
//                                                  offsets in the manifest
// void dpc_model_train_step(dpcrt_context *ctx, void *const *slots);
//   One training step. `slots` holds one pointer per manifest slot
//   (parameters, optimizer state, inputs, label, loss, arena); see
//   docs/ARCHITECTURE.md for the manifest schema.
// extern const uint64_t dpc_model_manifest_hash;  dpc_checksum of the manifest
//                                                  (without its NUL)
// void dpc_model_eval_step(dpcrt_context *ctx, void *const *slots);
//   Optional (the manifest's "eval" says it is there): the forward in
//   evaluation mode and the loss, nothing updated. `slots` holds one
//   pointer per slot of the manifest's "eval" object, whose own numbering
//   starts at 0: its inputs, the training step's parameters and buffers
//   (the same memory), label, loss, outputs, arena.
#define DPC_MODEL_MANIFEST_SYMBOL "dpc_model_manifest"
#define DPC_MODEL_MANIFEST_HASH_SYMBOL "dpc_model_manifest_hash"
#define DPC_MODEL_WEIGHTS_SYMBOL "dpc_model_weights"
#define DPC_MODEL_TRAIN_STEP_SYMBOL "dpc_model_train_step"
#define DPC_MODEL_EVAL_STEP_SYMBOL "dpc_model_eval_step"
typedef void (*dpc_model_train_step_fn)(dpcrt_context *ctx, void *const *slots);
typedef void (*dpc_model_eval_step_fn)(dpcrt_context *ctx, void *const *slots);

//===----------------------------------------------------------------------===//
// The module file's integrity trailer
//===----------------------------------------------------------------------===//

// dpc appends 24 bytes to the linked model.so: the magic, the size of the
// ELF image before it, and dpc_checksum of that image (both little-endian
// uint64). The runtime checks them before dlopen, so a truncated or
// corrupted module is an error instead of a SIGBUS or SIGSEGV inside the
// dynamic loader. dlopen maps segments only and never reads these bytes.
#define DPC_MODULE_TRAILER_MAGIC "dpcsum1"
#define DPC_MODULE_TRAILER_BYTES 24

// FNV-1a over 64-bit little-endian words, then the remaining bytes: each
// step is a bijection of the state, so any change confined to one word
// changes the result. It detects corruption, not deliberate forgery.
#define DPC_CHECKSUM_SEED 0xcbf29ce484222325ull

// Continues a checksum over `size` more bytes. Calls in sequence equal one
// call over the concatenation when each but the last covers a multiple of 8.
static inline uint64_t dpc_checksum_update(uint64_t hash, const void *data,
                                           uint64_t size) {
  const unsigned char *p = (const unsigned char *)data;
  const uint64_t prime = 0x100000001b3ull;
  uint64_t i = 0;
  for (; i + 8 <= size; i += 8) {
    uint64_t word = 0;
    for (int b = 0; b < 8; ++b)
      word |= (uint64_t)p[i + b] << (8 * b);
    hash = (hash ^ word) * prime;
  }
  for (; i < size; ++i)
    hash = (hash ^ p[i]) * prime;
  return hash;
}

static inline uint64_t dpc_checksum(const void *data, uint64_t size) {
  return dpc_checksum_update(DPC_CHECKSUM_SEED, data, size);
}

//===----------------------------------------------------------------------===//
// Kernels exported by libdpcrt
//===----------------------------------------------------------------------===//

// The values some kernel parameters take.

// The functions of dpcrt_unary_f32, listed in unary_kinds.def.
enum dpcrt_unary_kind {
#define DPC_UNARY_KIND(NAME, VALUE) DPCRT_UNARY_##NAME = VALUE,
#include "unary_kinds.def"
  DPCRT_UNARY_KIND_END // one past the largest kind
};

// The functions of dpcrt_binary_f32, listed in binary_kinds.def.
enum dpcrt_binary_kind {
#define DPC_BINARY_KIND(NAME, VALUE) DPCRT_BINARY_##NAME = VALUE,
#include "binary_kinds.def"
};

// The geometry of a 2-d convolution: the conv2d kernels take a pointer to
// DPCRT_CONV2D_NUM_DIMS int64 values, indexed by these names.
enum dpcrt_conv2d_dim {
  DPCRT_CONV2D_N = 0,  // batch
  DPCRT_CONV2D_C = 1,  // input channels
  DPCRT_CONV2D_H = 2,  // input height
  DPCRT_CONV2D_W = 3,  // input width
  DPCRT_CONV2D_O = 4,  // output channels
  DPCRT_CONV2D_KH = 5, // kernel height
  DPCRT_CONV2D_KW = 6, // kernel width
  DPCRT_CONV2D_OH = 7, // output height
  DPCRT_CONV2D_OW = 8, // output width
  DPCRT_CONV2D_STRIDE_H = 9,
  DPCRT_CONV2D_STRIDE_W = 10,
  DPCRT_CONV2D_PAD_H = 11,
  DPCRT_CONV2D_PAD_W = 12,
  DPCRT_CONV2D_DILATION_H = 13,
  DPCRT_CONV2D_DILATION_W = 14,
  DPCRT_CONV2D_GROUPS = 15,
  DPCRT_CONV2D_NUM_DIMS = 16,
};

// The geometry of 2-d pooling over `planes` = N * C independent planes: the
// pooling kernels take a pointer to DPCRT_POOL2D_NUM_DIMS int64 values.
enum dpcrt_pool2d_dim {
  DPCRT_POOL2D_PLANES = 0,
  DPCRT_POOL2D_H = 1,
  DPCRT_POOL2D_W = 2,
  DPCRT_POOL2D_OH = 3,
  DPCRT_POOL2D_OW = 4,
  DPCRT_POOL2D_KH = 5,
  DPCRT_POOL2D_KW = 6,
  DPCRT_POOL2D_STRIDE_H = 7,
  DPCRT_POOL2D_STRIDE_W = 8,
  DPCRT_POOL2D_PAD_H = 9,
  DPCRT_POOL2D_PAD_W = 10,
  DPCRT_POOL2D_DILATION_H = 11, // 1 for average pooling
  DPCRT_POOL2D_DILATION_W = 12,
  DPCRT_POOL2D_NUM_DIMS = 13,
};

enum dpcrt_gelu_kind {
  DPCRT_GELU_ERF = 0,  // x * 0.5 * (1 + erf(x / sqrt(2)))
  DPCRT_GELU_TANH = 1, // 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))
};

enum dpcrt_compare_kind {
  DPCRT_COMPARE_EQ = 0,
  DPCRT_COMPARE_NE = 1,
  DPCRT_COMPARE_LT = 2,
  DPCRT_COMPARE_LE = 3,
  DPCRT_COMPARE_GT = 4,
  DPCRT_COMPARE_GE = 5,
};

// The type a DDP gradient bucket is all-reduced in (dpc --grad-comm): float32,
// or DDP's fp16_compress_hook / bf16_compress_hook (rounded to 16 bits and
// divided by the world size there, summed in 16 bits, then widened back).
enum dpcrt_grad_comm {
  DPCRT_GRAD_COMM_F32 = 0,
  DPCRT_GRAD_COMM_F16 = 1,
  DPCRT_GRAD_COMM_BF16 = 2,
};

// A replica function of a --mode dp stage (dpcrt_run_replicas).
typedef void (*dpcrt_replica_fn)(dpcrt_context *ctx, void *const *env);

// The prototypes, from the one list of entry points (kernels.def, which also
// documents each one).
#define DPC_KERNEL(name, return_type, parameters, names)                       \
  return_type dpcrt_##name parameters;
#define DPC_RUNTIME_FUNCTION(name, return_type, parameters, names)             \
  return_type dpcrt_##name parameters;
#include "kernels.def"

#ifdef __cplusplus
}
#endif

#endif // DPC_ABI_H
