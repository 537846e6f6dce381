//===- kernels_nn_missing.cpp - Placeholders for unbuilt CUDA kernels -----===//
//
// The convolution (kernels_conv.cu) and transformer (kernels_transformer.cu)
// kernels of the cuda backend are written separately. A build whose tree
// lacks one of those files compiles this one instead, with
// DPC_CUDA_MISSING_KERNELS_CONV / _TRANSFORMER set by CMake, so that libdpcrt
// still links and a module that needs such a kernel fails its step with a
// clear message instead of an unresolved symbol or a wrong result.
//
//===----------------------------------------------------------------------===//

#include "cuda_backend.h"

namespace dpc::cuda {

namespace {

void notImplemented(dpcrt_context *ctx, const char *kernel) {
  recordError(ctx, std::string(kernel) +
                       ": not implemented on the cuda backend in this build "
                       "(use --backend cpu)");
}

} // namespace

#ifdef DPC_CUDA_MISSING_KERNELS_CONV

void conv2d_f32(dpcrt_context *ctx, float *, const float *, const float *,
                const float *, const int64_t *) {
  notImplemented(ctx, "conv2d_f32");
}

void conv2d_input_grad_f32(dpcrt_context *ctx, float *, const float *,
                           const float *, const int64_t *) {
  notImplemented(ctx, "conv2d_input_grad_f32");
}

void conv2d_weight_grad_f32(dpcrt_context *ctx, float *, const float *,
                            const float *, const int64_t *) {
  notImplemented(ctx, "conv2d_weight_grad_f32");
}

void batch_norm_f32(dpcrt_context *ctx, float *, float *, float *, float *,
                    float *, const float *, const float *, const float *,
                    int64_t, int64_t, int64_t, double, double) {
  notImplemented(ctx, "batch_norm_f32");
}

void batch_norm_grad_f32(dpcrt_context *ctx, float *, float *, float *,
                         const float *, const float *, const float *,
                         const float *, const float *, int64_t, int64_t,
                         int64_t) {
  notImplemented(ctx, "batch_norm_grad_f32");
}

void max_pool2d_f32(dpcrt_context *ctx, float *, const float *,
                    const int64_t *) {
  notImplemented(ctx, "max_pool2d_f32");
}

void max_pool2d_grad_f32(dpcrt_context *ctx, float *, const float *,
                         const float *, const int64_t *) {
  notImplemented(ctx, "max_pool2d_grad_f32");
}

void avg_pool2d_f32(dpcrt_context *ctx, float *, const float *, const int64_t *,
                    int32_t, int64_t) {
  notImplemented(ctx, "avg_pool2d_f32");
}

void avg_pool2d_grad_f32(dpcrt_context *ctx, float *, const float *,
                         const int64_t *, int32_t, int64_t) {
  notImplemented(ctx, "avg_pool2d_grad_f32");
}

void adaptive_avg_pool2d_f32(dpcrt_context *ctx, float *, const float *,
                             int64_t, int64_t, int64_t, int64_t, int64_t) {
  notImplemented(ctx, "adaptive_avg_pool2d_f32");
}

void adaptive_avg_pool2d_grad_f32(dpcrt_context *ctx, float *, const float *,
                                  int64_t, int64_t, int64_t, int64_t, int64_t) {
  notImplemented(ctx, "adaptive_avg_pool2d_grad_f32");
}

#endif // DPC_CUDA_MISSING_KERNELS_CONV

#ifdef DPC_CUDA_MISSING_KERNELS_TRANSFORMER

void embedding_f32(dpcrt_context *ctx, float *, const float *, const int64_t *,
                   int64_t, int64_t, int64_t) {
  notImplemented(ctx, "embedding_f32");
}

void embedding_grad_f32(dpcrt_context *ctx, float *, const float *,
                        const int64_t *, int64_t, int64_t, int64_t, int64_t) {
  notImplemented(ctx, "embedding_grad_f32");
}

void layer_norm_f32(dpcrt_context *ctx, float *, const float *, const float *,
                    const float *, int64_t, int64_t, float) {
  notImplemented(ctx, "layer_norm_f32");
}

void layer_norm_grad_f32(dpcrt_context *ctx, float *, float *, float *,
                         const float *, const float *, const float *, int64_t,
                         int64_t, float) {
  notImplemented(ctx, "layer_norm_grad_f32");
}

void gelu_f32(dpcrt_context *ctx, int32_t, float *, const float *, int64_t) {
  notImplemented(ctx, "gelu_f32");
}

void gelu_grad_f32(dpcrt_context *ctx, int32_t, float *, const float *,
                   const float *, int64_t) {
  notImplemented(ctx, "gelu_grad_f32");
}

void softmax_f32(dpcrt_context *ctx, float *, const float *, int64_t, int64_t,
                 int64_t, int32_t) {
  notImplemented(ctx, "softmax_f32");
}

void softmax_grad_f32(dpcrt_context *ctx, float *, const float *, const float *,
                      int64_t, int64_t, int64_t, int32_t) {
  notImplemented(ctx, "softmax_grad_f32");
}

void nll_loss_f32(dpcrt_context *ctx, float *, const float *, const int64_t *,
                  int64_t, int64_t) {
  notImplemented(ctx, "nll_loss_f32");
}

void nll_loss_grad_f32(dpcrt_context *ctx, float *, const float *,
                       const int64_t *, int64_t, int64_t) {
  notImplemented(ctx, "nll_loss_grad_f32");
}

#endif // DPC_CUDA_MISSING_KERNELS_TRANSFORMER

} // namespace dpc::cuda
