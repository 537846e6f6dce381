//===- cuda_backend.h - The CUDA backend of libdpcrt (internal) -*- C++ -*-===//
//
// Built only when CMake finds nvcc, cuBLAS, cuDNN and NCCL (DPC_HAVE_CUDA=1),
// into the plugin libdpcrt_cuda.so, never into libdpcrt itself: this header
// is the plugin's internal interface (and its unit tests'), while libdpcrt
// sees only the table of function pointers that plugin.cpp fills from the
// functions declared here (../cuda_backend_table.h). Every dpcrt_* entry
// point of the ABI dispatches on ctx->backend (dispatch.h): a CUDA context
// runs the function of the same name in dpc::cuda declared here, through
// the table, with the ABI's arguments unchanged. Tensor
// pointers (and `labels`, `indices`, `dloss`) are device pointers into the
// session's device memory; `dims` arrays are host pointers into the module's
// constants and are read on the host. Kernels are launched on the context's
// compute stream and never synchronize it; errors are recorded with
// recordError (the session raises them after the step), never thrown.
//
// Layout: plugin.cpp (the table), cuda_context.cpp (device, streams,
// handles, memory, NCCL), kernels_core.cu, kernels_conv.cu,
// kernels_transformer.cu, comm_cuda.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef DPC_RUNTIME_LIB_CUDA_CUDA_BACKEND_H
#define DPC_RUNTIME_LIB_CUDA_CUDA_BACKEND_H

#include "../context.h"
#include "../kernel_shared.h"

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>
#include <nccl.h>

#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

namespace dpc::cuda {

//===----------------------------------------------------------------------===//
// Devices, streams and memory (cuda_context.cpp)
//===----------------------------------------------------------------------===//

/// Number of usable CUDA devices; 0 when there is no GPU or no driver
/// (never an error: the CPU backend then runs everything).
int deviceCount();

/// What a CUDA context owns, reached from dpcrt_context::cuda.
struct DeviceState {
  int device = 0;
  /// Kernels and cuBLAS/cuDNN calls of the step run here, in program order.
  cudaStream_t compute = nullptr;
  /// All-reduces (NCCL) run here; events order it against `compute`.
  cudaStream_t comm = nullptr;
  cublasHandle_t cublas = nullptr;
  cudnnHandle_t cudnn = nullptr;
  /// Device scratch memory for cuDNN workspaces and reductions, grown on
  /// demand (between steps it holds nothing live).
  void *scratch = nullptr;
  size_t scratchBytes = 0;
  /// TF32 tensor cores are off unless DPC_ALLOW_TF32=1: float32 results
  /// must follow the CPU backend (and PyTorch with allow_tf32 = False). The
  /// cuBLAS handle is set up accordingly; cuDNN convolutions should use
  /// CUDNN_FMA_MATH unless this is set.
  bool allowTf32 = false;
  /// Device memory where kernels report bad data (reportDeviceError); read
  /// by the host after the step's synchronization (checkDeviceError).
  struct DeviceError *deviceError = nullptr;

  /// The NCCL communicator over the ranks of the job (also with one rank,
  /// so that the collective path runs in every configuration).
  ncclComm_t nccl = nullptr;
  /// One pair of events per all-reduce started in the current step: `ready`
  /// (recorded on compute, waited for by comm) and `done` (the reverse).
  /// Handle h refers to pair h - 1; the pairs are reused every step.
  std::vector<cudaEvent_t> readyEvents, doneEvents;
  std::vector<bool> waited;
  int64_t started = 0;
};

//===----------------------------------------------------------------------===//
// Errors found by kernels
//===----------------------------------------------------------------------===//

/// The bad values kernels can find in their data; each maps to the message
/// the CPU kernel records for it (deviceErrorMessage).
enum DeviceErrorKind : int32_t {
  kNoDeviceError = 0,
  kCrossEntropyLabel,     // "cross_entropy: label V of sample P is out of ..."
  kCrossEntropyGradLabel, // "cross_entropy_grad: label ..."
  kNllLossLabel,          // "nll_loss: label ..."
  kNllLossGradLabel,      // "nll_loss_grad: label ..."
  kEmbeddingIndex,        // "embedding: index V at position P is out of ..."
  kEmbeddingGradIndex,    // "embedding_grad: index ..."
};

/// The first bad value a kernel found since the last check.
struct DeviceError {
  int32_t kind;
  int64_t value, position, bound;
};

#ifdef __CUDACC__
/// Records the first bad value of the step (later ones are dropped).
__device__ inline void reportDeviceError(DeviceError *error, int32_t kind,
                                         int64_t value, int64_t position,
                                         int64_t bound) {
  if (atomicCAS(reinterpret_cast<int *>(&error->kind), 0, kind) == 0) {
    error->value = value;
    error->position = position;
    error->bound = bound;
    __threadfence_system();
  }
}
#endif

/// After the compute stream has been synchronized: records the error a
/// kernel reported, in the CPU kernel's words, and clears the record.
void checkDeviceError(dpcrt_context *ctx);

/// The device state of a CUDA context (ctx->backend == BackendKind::Cuda).
DeviceState &state(dpcrt_context *ctx);
inline cudaStream_t computeStream(dpcrt_context *ctx) {
  return state(ctx).compute;
}

/// The device address of the context's error record, for kernels.
inline DeviceError *deviceError(dpcrt_context *ctx) {
  return state(ctx).deviceError;
}

/// Sets up the device state of `ctx` on `device` (streams, handles, error
/// record) and makes ctx a CUDA context; throws dpc::Error on failure.
void createState(dpcrt_context *ctx, int device);
/// Releases everything `state` owns, then the state (null is a no-op);
/// libdpcrt's DeviceStateDeleter calls it through the table.
void destroyState(DeviceState *state);
/// Makes the context's device the calling thread's current device.
void makeCurrent(dpcrt_context *ctx);

/// Zeroed device memory of `bytes` (at least 1) bytes; throws dpc::Error
/// naming `what` when the allocation fails.
void *allocate(dpcrt_context *ctx, int64_t bytes, const std::string &what);
void release(void *device);
/// Copies host to device on the compute stream (asynchronously for pinned
/// `host` memory); throws dpc::Error.
void copyToDevice(dpcrt_context *ctx, void *device, const void *host,
                  int64_t bytes);
/// Copies device to host after everything enqueued on the compute stream,
/// and waits for it; throws dpc::Error.
void copyToHost(dpcrt_context *ctx, void *host, const void *device,
                int64_t bytes);
/// Waits for the compute and communication streams; a failure (a kernel
/// fault, an asynchronous NCCL error) or a value a kernel reported is
/// recorded in ctx->error.
void synchronize(dpcrt_context *ctx);

/// Scratch memory of at least `bytes` on the context's device, valid until
/// the next call on the same context; null (error recorded) when the
/// allocation fails. Synchronizes the compute stream before growing.
void *scratch(dpcrt_context *ctx, size_t bytes);

/// Records "what: <CUDA error string>" in ctx when `status` is an error;
/// returns whether it was one.
bool failed(dpcrt_context *ctx, cudaError_t status, const char *what);
bool failed(dpcrt_context *ctx, cublasStatus_t status, const char *what);
bool failed(dpcrt_context *ctx, cudnnStatus_t status, const char *what);
/// Checks the launch of the kernel just enqueued (cudaGetLastError).
bool launchFailed(dpcrt_context *ctx, const char *kernel);

/// Blocks of `threads` threads for n elements, for grid-stride loops: at
/// least one block, at most kMaxBlocks (larger n loop within a thread).
constexpr int64_t kMaxBlocks = 1 << 20;
inline unsigned gridFor(int64_t n, unsigned threads = 256) {
  int64_t blocks = (n + threads - 1) / threads;
  return static_cast<unsigned>(std::clamp<int64_t>(blocks, 1, kMaxBlocks));
}

//===----------------------------------------------------------------------===//
// Elementwise, GEMM, losses, optimizers and shape ops (kernels_core.cu)
//===----------------------------------------------------------------------===//

void fill_f32(dpcrt_context *ctx, float *out, int64_t n, float value);
void copy(dpcrt_context *ctx, void *out, const void *in, int64_t bytes);
void gemm_f32(dpcrt_context *ctx, float *c, const float *a, const float *b,
              int64_t m, int64_t n, int64_t k, int32_t trans_a, int32_t trans_b,
              float beta);
void broadcast_rows_f32(dpcrt_context *ctx, float *out, const float *bias,
                        int64_t rows, int64_t cols);
void scale_f32(dpcrt_context *ctx, float *out, const float *in, int64_t n, float
               factor);
void transpose2d_f32(dpcrt_context *ctx, float *out, const float *in, int64_t
                     rows, int64_t cols);
void unary_f32(dpcrt_context *ctx, int32_t kind, float *out, const float *in,
               int64_t n);
void unary_grad_f32(dpcrt_context *ctx, int32_t kind, float *dx, const float
                    *dy, const float *saved, int64_t n);
void binary_f32(dpcrt_context *ctx, int32_t kind, float *out, const float *a,
                const float *b, int32_t rank, const int64_t *dims, float alpha);
void reduce_sum_f32(dpcrt_context *ctx, float *out, const float *in, int32_t
                    rank, const int64_t *dims, int64_t out_n);
void cross_entropy_f32(dpcrt_context *ctx, float *loss, const float *logits,
                       const int64_t *labels, int64_t n, int64_t c);
void cross_entropy_grad_f32(dpcrt_context *ctx, float *dlogits, const float
                            *dloss, const float *logits, const int64_t *labels,
                            int64_t n, int64_t c);
void mse_loss_f32(dpcrt_context *ctx, float *loss, const float *pred, const
                  float *target, int64_t n);
void mse_loss_grad_f32(dpcrt_context *ctx, float *dpred, const float *dloss,
                       const float *pred, const float *target, int64_t n);
void sgd_update_f32(dpcrt_context *ctx, float *param, float *momentum_buf, const
                    float *grad, int64_t n, float lr, float momentum, float
                    dampening, float weight_decay, int32_t nesterov);
void adam_update_f32(dpcrt_context *ctx, float *param, float *exp_avg, float
                     *exp_avg_sq, const float *grad, int64_t n, double lr,
                     double beta1, double beta2, double eps, double
                     weight_decay, int32_t decoupled_weight_decay);
void increment_i64(dpcrt_context *ctx, int64_t *data, int64_t n, int64_t
                   amount);
void batched_gemm_f32(dpcrt_context *ctx, float *c, const float *a, const float
                      *b, int32_t batch_rank, const int64_t *dims, int64_t m,
                      int64_t n, int64_t k, int32_t trans_a, int32_t trans_b);
void strided_copy(dpcrt_context *ctx, void *out, const void *in, int64_t
                  elem_bytes, int32_t rank, const int64_t *dims);
void compare_f32(dpcrt_context *ctx, int32_t kind, float *out, const float *a,
                 const float *b, int32_t rank, const int64_t *dims);
void masked_fill_f32(dpcrt_context *ctx, float *out, const float *in, const
                     float *mask, int32_t rank, const int64_t *dims, float
                     value);
void div_scalar_f32(dpcrt_context *ctx, float *out, const float *in, int64_t n,
                    float divisor);

//===----------------------------------------------------------------------===//
// Convolution, normalization and pooling (kernels_conv.cu)
//===----------------------------------------------------------------------===//

void conv2d_f32(dpcrt_context *ctx, float *out, const float *in, const float
                *weight, const float *bias, const int64_t *dims);
void conv2d_input_grad_f32(dpcrt_context *ctx, float *dx, const float *dy, const
                           float *weight, const int64_t *dims);
void conv2d_weight_grad_f32(dpcrt_context *ctx, float *dweight, const float *dy,
                            const float *in, const int64_t *dims);
void batch_norm_f32(dpcrt_context *ctx, float *out, float *save_mean, float
                    *save_invstd, float *running_mean, float *running_var, const
                    float *in, const float *weight, const float *bias, int64_t
                    n, int64_t c, int64_t inner, double momentum, double eps);
void batch_norm_grad_f32(dpcrt_context *ctx, float *dx, float *dweight, float
                         *dbias, const float *dy, const float *in, const float
                         *weight, const float *save_mean, const float
                         *save_invstd, int64_t n, int64_t c, int64_t inner);
void max_pool2d_f32(dpcrt_context *ctx, float *out, const float *in, const
                    int64_t *dims);
void max_pool2d_grad_f32(dpcrt_context *ctx, float *dx, const float *dy, const
                         float *in, const int64_t *dims);
void avg_pool2d_f32(dpcrt_context *ctx, float *out, const float *in, const
                    int64_t *dims, int32_t count_include_pad, int64_t
                    divisor_override);
void avg_pool2d_grad_f32(dpcrt_context *ctx, float *dx, const float *dy, const
                         int64_t *dims, int32_t count_include_pad, int64_t
                         divisor_override);
void adaptive_avg_pool2d_f32(dpcrt_context *ctx, float *out, const float *in,
                             int64_t planes, int64_t h, int64_t w, int64_t oh,
                             int64_t ow);
void adaptive_avg_pool2d_grad_f32(dpcrt_context *ctx, float *dx, const float
                                  *dy, int64_t planes, int64_t h, int64_t w,
                                  int64_t oh, int64_t ow);

//===----------------------------------------------------------------------===//
// Embedding, normalization and attention ops (kernels_transformer.cu)
//===----------------------------------------------------------------------===//

void embedding_f32(dpcrt_context *ctx, float *out, const float *weight, const
                   int64_t *indices, int64_t n, int64_t num_weights, int64_t
                   dim);
void embedding_grad_f32(dpcrt_context *ctx, float *dweight, const float *grad,
                        const int64_t *indices, int64_t n, int64_t num_weights,
                        int64_t dim, int64_t padding_idx);
void layer_norm_f32(dpcrt_context *ctx, float *y, const float *x, const float
                    *gamma, const float *beta, int64_t rows, int64_t cols, float
                    eps);
void layer_norm_grad_f32(dpcrt_context *ctx, float *dx, float *dgamma, float
                         *dbeta, const float *dy, const float *x, const float
                         *gamma, int64_t rows, int64_t cols, float eps);
void gelu_f32(dpcrt_context *ctx, int32_t kind, float *out, const float *in,
              int64_t n);
void gelu_grad_f32(dpcrt_context *ctx, int32_t kind, float *dx, const float *dy,
                   const float *x, int64_t n);
void softmax_f32(dpcrt_context *ctx, float *out, const float *in, int64_t outer,
                 int64_t size, int64_t inner, int32_t log);
void softmax_grad_f32(dpcrt_context *ctx, float *dx, const float *dy, const
                      float *y, int64_t outer, int64_t size, int64_t inner,
                      int32_t log);
void nll_loss_f32(dpcrt_context *ctx, float *loss, const float *input, const
                  int64_t *labels, int64_t n, int64_t c);
void nll_loss_grad_f32(dpcrt_context *ctx, float *dinput, const float *dloss,
                       const int64_t *labels, int64_t n, int64_t c);

//===----------------------------------------------------------------------===//
// Collectives and replicas (comm_cuda.cpp)
//===----------------------------------------------------------------------===//

/// Creates ctx's NCCL communicator: rank 0's unique id travels over
/// ctx->comm (MPI). Collective; throws dpc::Error.
void initCommunicator(dpcrt_context *ctx);
/// Broadcasts `bytes` of device memory from rank 0 on the compute stream
/// (DDP's parameter and buffer broadcasts); throws dpc::Error.
void broadcast(dpcrt_context *ctx, void *data, int64_t bytes,
               const std::string &what);
/// End of a step: makes the compute stream wait for every all-reduce still
/// in flight, recording an error for those never waited for (a compiler
/// bug), and resets the step's handles.
void drainPending(dpcrt_context *ctx);
/// data[0..n) /= divisor on `stream` (the all-reduce's pre-division;
/// kernels_core.cu).
void divideOnStream(dpcrt_context *ctx, cudaStream_t stream, float *data,
                    int64_t n, float divisor);

int64_t allreduce_start(dpcrt_context *ctx, int32_t bucket, float *data, int64_t
                        n);
void allreduce_wait(dpcrt_context *ctx, int64_t handle);
void run_replicas(dpcrt_context *ctx, int32_t n, const dpcrt_replica_fn *fns,
                  void *const *env);

} // namespace dpc::cuda

#endif // DPC_RUNTIME_LIB_CUDA_CUDA_BACKEND_H
