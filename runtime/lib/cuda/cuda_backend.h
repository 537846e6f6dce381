//===- cuda_backend.h - The CUDA backend of libdpcrt (internal) -*- C++ -*-===//
//
// Built only when CMake finds nvcc, cuBLAS, cuDNN and NCCL (DPC_HAVE_CUDA=1),
// into the plugin libdpcrt_cuda.so, never into libdpcrt itself: this header
// is the plugin's internal interface (and its unit tests'), while libdpcrt
// sees only the table of function pointers that plugin.cpp fills from the
// functions declared here (../core/backend.h). Every dpcrt_* entry
// point of the ABI dispatches on ctx->backend (entry_points.cpp): a CUDA
// context runs the function of the same name in dpc::cuda declared here,
// through the table, with the ABI's arguments unchanged. Tensor
// pointers (and `labels`, `indices`, `dloss`) are device pointers into the
// session's device memory; `dims` arrays are host pointers into the module's
// constants and are read on the host. Kernels are launched on the context's
// compute stream and never synchronize it; errors are recorded with
// recordError (the session raises them after the step), never thrown.
//
// Layout: plugin.cpp (the table), cuda_context.cpp (device, streams,
// handles, memory, NCCL), one <family>_kernels.cu per op family (as
// kernels.def is sectioned; helpers in device_utils.cuh), comm_cuda.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef DPC_RUNTIME_LIB_CUDA_CUDA_BACKEND_H
#define DPC_RUNTIME_LIB_CUDA_CUDA_BACKEND_H

#include "core/context.h"
#include "kernel_shared.h"

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
  /// Device memory for the float32 copies of a bfloat16 convolution's
  /// operands (conv_pool_kernels.cu), apart from `scratch`, which the
  /// convolution's workspace takes.
  void *widened = nullptr;
  size_t widenedBytes = 0;
  /// TF32 tensor cores are off unless DPC_ALLOW_TF32=1: float32 results
  /// must follow the CPU backend (and PyTorch with allow_tf32 = False). The
  /// cuBLAS handle is set up accordingly; cuDNN convolutions should use
  /// CUDNN_FMA_MATH unless this is set.
  bool allowTf32 = false;
  /// Device memory where kernels report bad data (reportDeviceError); read
  /// by the host after the step's synchronization (checkDeviceError).
  struct DeviceError *deviceError = nullptr;
  /// The step's gradient squares in device memory: [0] before clipping
  /// (the clip kernels), [1] at the optimizer updates, [2] after
  /// GradScaler's unscale; whether a clip or an unscale ran is
  /// ctx->gradientSquares.clipped / .unscaled, set by the host side of
  /// those kernels. Read and cleared by takeGradientNorm after each step.
  double *gradientSquares = nullptr;

  /// The NCCL communicator over the ranks of the job (also with one rank,
  /// so that the collective path runs in every configuration).
  ncclComm_t nccl = nullptr;
  /// One pair of events per all-reduce started in the current step: `ready`
  /// (recorded on compute, waited for by comm) and `done` (the reverse).
  /// Handle h refers to pair h - 1; the pairs are reused every step.
  std::vector<cudaEvent_t> readyEvents, doneEvents;
  std::vector<bool> waited;
  int64_t started = 0;
  /// The 16-bit copy of a bucket under --grad-comm fp16/bf16: buckets are
  /// all-reduced one after another on `comm`, so one buffer, as large as
  /// the largest bucket, serves them all.
  void *compressed = nullptr;
  size_t compressedBytes = 0;
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
  kGatherIndex,           // "gather: index ..."
  kScatterAddIndex,       // "scatter_add: index ..."
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

/// The device state of a CUDA context (one createState made).
DeviceState &state(dpcrt_context *ctx);
inline cudaStream_t computeStream(dpcrt_context *ctx) {
  return state(ctx).compute;
}

/// The device address of the context's error record, for kernels.
inline DeviceError *deviceError(dpcrt_context *ctx) {
  return state(ctx).deviceError;
}

/// The device address of the step's gradient squares (DeviceState).
inline double *gradientSquares(dpcrt_context *ctx) {
  return state(ctx).gradientSquares;
}

/// Sets up the device state of `ctx` on `device` (streams, handles, error
/// record) and makes ctx a CUDA context (its backend is backendTable());
/// throws dpc::Error on failure.
void createState(dpcrt_context *ctx, int device);
/// This backend's table (plugin.cpp).
const BackendTable &backendTable();
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
/// BackendTable::takeGradientNorm: one small copy from the device.
double takeGradientNorm(dpcrt_context *ctx);

/// Scratch memory of at least `bytes` on the context's device, valid until
/// the next call on the same context; null (error recorded) when the
/// allocation fails. Synchronizes the compute stream before growing.
void *scratch(dpcrt_context *ctx, size_t bytes);

/// The same for DeviceState::widened.
void *widenedScratch(dpcrt_context *ctx, size_t bytes);

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
// The kernels of kernels.def, with the ABI's signatures: those of family
// <family> in <family>_kernels.cu, the all-reduces and run_replicas in
// comm_cuda.cpp.
//===----------------------------------------------------------------------===//

#define DPC_KERNEL(name, return_type, parameters, names)                       \
  return_type name parameters;
#include "dpc/kernels.def"

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
/// elementwise_kernels.cu).
void divideOnStream(dpcrt_context *ctx, cudaStream_t stream, float *data,
                    int64_t n, float divisor);
/// DDP's fp16/bf16 compression hooks on `stream` (elementwise_kernels.cu):
/// out[i] = to16(to16(data[i]) / divisor), and back: data[i] = float(in[i]).
/// `commDType` is DPCRT_GRAD_COMM_F16 or DPCRT_GRAD_COMM_BF16.
void compressOnStream(dpcrt_context *ctx, cudaStream_t stream,
                      int32_t commDType, const float *data, int64_t n,
                      float divisor, void *out);
void decompressOnStream(dpcrt_context *ctx, cudaStream_t stream,
                        int32_t commDType, const void *in, int64_t n,
                        float *data);

} // namespace dpc::cuda

#endif // DPC_RUNTIME_LIB_CUDA_CUDA_BACKEND_H
