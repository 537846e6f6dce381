//===- cuda_context.cpp - Device, streams, handles and memory -------------===//
//
// The parts of the cuda backend that are not kernels: finding devices,
// setting up a context's streams and library handles, device memory for the
// session, synchronization, and turning CUDA, cuBLAS and cuDNN status codes
// and kernel-reported bad data into the runtime's one-line errors.
//
//===----------------------------------------------------------------------===//

#include "cuda_backend.h"

#include "dpc/runtime.h"

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace dpc::cuda {

namespace {

std::string describe(cudaError_t status) {
  return std::string(cudaGetErrorName(status)) + ": " +
         cudaGetErrorString(status);
}

void check(cudaError_t status, const std::string &what) {
  if (status != cudaSuccess)
    throw Error(what + " failed: " + describe(status));
}

/// cudaStreamSynchronize, polled: a collective that never completes (a
/// stalled or dead rank) would block it forever. Polling surfaces NCCL's
/// asynchronous errors (the communicator is then aborted, which lets the
/// stream finish) and, after ProcessGroup::timeout(), aborts the
/// communicator and ends the job with one line, as the CPU backend's
/// collectives do (comm/collectives.h).
cudaError_t waitForStream(dpcrt_context *ctx, cudaStream_t stream,
                          const char *what) {
  DeviceState &s = *ctx->cuda;
  using Clock = std::chrono::steady_clock;
  Clock::time_point deadline =
      Clock::now() +
      std::chrono::duration_cast<Clock::duration>(
          std::chrono::duration<double>(ProcessGroup::timeout()));
  for (;;) {
    cudaError_t status = cudaStreamQuery(stream);
    if (status != cudaErrorNotReady)
      return status;
    if (s.nccl) {
      ncclResult_t async = ncclSuccess;
      if (ncclCommGetAsyncError(s.nccl, &async) == ncclSuccess &&
          async != ncclSuccess && async != ncclInProgress) {
        recordError(ctx, std::string("NCCL: ") + ncclGetErrorString(async));
        ncclCommAbort(s.nccl);
        s.nccl = nullptr;
      }
    }
    if (Clock::now() > deadline) {
      if (s.nccl) {
        ncclCommAbort(s.nccl);
        s.nccl = nullptr;
      }
      std::fprintf(stderr,
                   "%s: error: rank %d: %s did not complete within %g s "
                   "(--timeout): another rank stalled, died or is running "
                   "something else; ending the job\n",
                   program_invocation_short_name, ctx->rank, what,
                   ProcessGroup::timeout());
      ProcessGroup::abort(1);
    }
    // As cudaStreamSynchronize's default: spin, yielding the core.
    std::this_thread::yield();
  }
}

} // namespace

int deviceCount() {
  // A machine without a GPU or driver is the normal CPU case, not an error;
  // the answer cannot change while the process runs.
  static const int count = [] {
    int n = 0;
    cudaError_t status = cudaGetDeviceCount(&n);
    if (status != cudaSuccess) {
      cudaGetLastError(); // not sticky: clear it for later calls
      // No GPU (or no NVIDIA driver at all, which reads as an insufficient
      // driver) is the normal CPU case. A loaded driver that is older than
      // this CUDA runtime, or any other failure, would otherwise look like
      // a machine without GPUs and silently skip every GPU test.
      bool driverLoaded = false;
      if (std::FILE *version = std::fopen("/proc/driver/nvidia/version", "r")) {
        driverLoaded = true;
        std::fclose(version);
      }
      if (status != cudaErrorNoDevice &&
          (status != cudaErrorInsufficientDriver || driverLoaded))
        std::fprintf(stderr,
                     "dpcrt: no CUDA device usable (cudaGetDeviceCount: %s: "
                     "%s); the cuda backend is unavailable\n",
                     cudaGetErrorName(status), cudaGetErrorString(status));
      return 0;
    }
    return n;
  }();
  return count;
}

DeviceState &state(dpcrt_context *ctx) { return *ctx->cuda; }

void makeCurrent(dpcrt_context *ctx) {
  check(cudaSetDevice(state(ctx).device),
        "selecting CUDA device " + std::to_string(state(ctx).device));
}

void createState(dpcrt_context *ctx, int device) {
  // Freed here on failure, without a round trip through libdpcrt's
  // DeviceStateDeleter (which calls destroyState through the table).
  auto owned = std::unique_ptr<DeviceState, void (*)(DeviceState *)>(
      new DeviceState, destroyState);
  DeviceState &s = *owned;
  s.device = device;
  check(cudaSetDevice(device),
        "selecting CUDA device " + std::to_string(device));
  // Non-blocking: neither stream synchronizes with the legacy default
  // stream, which other code in the process may use.
  check(cudaStreamCreateWithFlags(&s.compute, cudaStreamNonBlocking),
        "creating the compute stream");
  check(cudaStreamCreateWithFlags(&s.comm, cudaStreamNonBlocking),
        "creating the communication stream");
  if (cublasCreate(&s.cublas) != CUBLAS_STATUS_SUCCESS)
    throw Error("cannot create a cuBLAS handle");
  const char *tf32 = std::getenv("DPC_ALLOW_TF32");
  s.allowTf32 = tf32 && std::strcmp(tf32, "1") == 0;
  // Default math never uses TF32 for float32 GEMMs; results then follow
  // the CPU backend to accumulation order.
  if (cublasSetStream(s.cublas, s.compute) != CUBLAS_STATUS_SUCCESS ||
      cublasSetMathMode(s.cublas, s.allowTf32 ? CUBLAS_TF32_TENSOR_OP_MATH
                                              : CUBLAS_DEFAULT_MATH) !=
          CUBLAS_STATUS_SUCCESS)
    throw Error("cannot configure the cuBLAS handle");
  if (cudnnCreate(&s.cudnn) != CUDNN_STATUS_SUCCESS ||
      cudnnSetStream(s.cudnn, s.compute) != CUDNN_STATUS_SUCCESS)
    throw Error("cannot create a cuDNN handle");
  // In device memory, not mapped host memory: device atomics on host
  // memory are not guaranteed over PCIe. Reading it costs one small copy
  // per step.
  check(cudaMalloc(&s.deviceError, sizeof(DeviceError)),
        "allocating the kernel error record");
  check(cudaMemsetAsync(s.deviceError, 0, sizeof(DeviceError), s.compute),
        "clearing the kernel error record");
  check(cudaMalloc(&s.gradientSquares, 3 * sizeof(double)),
        "allocating the gradient norm's sums");
  check(cudaMemsetAsync(s.gradientSquares, 0, 3 * sizeof(double), s.compute),
        "clearing the gradient norm's sums");
  ctx->cuda.reset(owned.release());
  ctx->backend = &backendTable();
}

void destroyState(DeviceState *s) {
  if (!s)
    return;
  // Teardown is best effort: a failed device cannot be cleaned up anyway.
  cudaSetDevice(s->device);
  if (s->compute)
    cudaStreamSynchronize(s->compute);
  if (s->comm)
    cudaStreamSynchronize(s->comm);
  if (s->nccl)
    ncclCommDestroy(s->nccl);
  for (cudaEvent_t e : s->readyEvents)
    cudaEventDestroy(e);
  for (cudaEvent_t e : s->doneEvents)
    cudaEventDestroy(e);
  if (s->scratch)
    cudaFree(s->scratch);
  if (s->widened)
    cudaFree(s->widened);
  if (s->compressed)
    cudaFree(s->compressed);
  if (s->deviceError)
    cudaFree(s->deviceError);
  if (s->gradientSquares)
    cudaFree(s->gradientSquares);
  if (s->cudnn)
    cudnnDestroy(s->cudnn);
  if (s->cublas)
    cublasDestroy(s->cublas);
  if (s->comm)
    cudaStreamDestroy(s->comm);
  if (s->compute)
    cudaStreamDestroy(s->compute);
  delete s;
}

void *allocate(dpcrt_context *ctx, int64_t bytes, const std::string &what) {
  size_t size = static_cast<size_t>(std::max<int64_t>(bytes, 1));
  void *p = nullptr;
  cudaError_t status = cudaMalloc(&p, size);
  if (status != cudaSuccess) {
    cudaGetLastError();
    throw Error("cannot allocate " + std::to_string(bytes) +
                " bytes of GPU memory for " + what + ": " + describe(status));
  }
  // Zeroed like the CPU backend's slots (optimizer state starts at zero).
  status = cudaMemsetAsync(p, 0, size, state(ctx).compute);
  if (status != cudaSuccess) {
    cudaFree(p);
    throw Error("cannot clear GPU memory for " + what + ": " +
                describe(status));
  }
  return p;
}

void release(void *device) {
  if (device)
    cudaFree(device);
}

void copyToDevice(dpcrt_context *ctx, void *device, const void *host,
                  int64_t bytes) {
  if (bytes <= 0)
    return;
  check(cudaMemcpyAsync(device, host, static_cast<size_t>(bytes),
                        cudaMemcpyHostToDevice, state(ctx).compute),
        "copying to the GPU");
}

void copyToHost(dpcrt_context *ctx, void *host, const void *device,
                int64_t bytes) {
  if (bytes <= 0)
    return;
  cudaStream_t stream = state(ctx).compute;
  check(cudaMemcpyAsync(host, device, static_cast<size_t>(bytes),
                        cudaMemcpyDeviceToHost, stream),
        "copying from the GPU");
  check(waitForStream(ctx, stream, "the compute stream"),
        "copying from the GPU");
}

void synchronize(dpcrt_context *ctx) {
  DeviceState &s = state(ctx);
  failed(ctx,
         waitForStream(ctx, s.comm, "the communication stream's collectives"),
         "the communication stream");
  failed(ctx, waitForStream(ctx, s.compute, "the compute stream"),
         "the compute stream");
  if (s.nccl) {
    ncclResult_t async = ncclSuccess;
    if (ncclCommGetAsyncError(s.nccl, &async) == ncclSuccess &&
        async != ncclSuccess)
      recordError(ctx, std::string("NCCL: ") + ncclGetErrorString(async));
  }
  checkDeviceError(ctx);
}

double takeGradientNorm(dpcrt_context *ctx) {
  DeviceState &s = state(ctx);
  GradientSquares &host = ctx->gradientSquares;
  double squares[3] = {0.0, 0.0, 0.0};
  if (failed(ctx,
             cudaMemcpy(squares, s.gradientSquares, sizeof(squares),
                        cudaMemcpyDeviceToHost),
             "reading the gradient norm's sums"))
    return 0.0;
  double norm = std::sqrt(host.unscaled  ? squares[2]
                          : host.clipped ? squares[0]
                                         : squares[1]);
  host = GradientSquares();
  // On the compute stream: ordered before the kernels of the next step.
  failed(ctx, cudaMemsetAsync(s.gradientSquares, 0, sizeof(squares), s.compute),
         "clearing the gradient norm's sums");
  return norm;
}

void checkDeviceError(dpcrt_context *ctx) {
  DeviceState &s = state(ctx);
  DeviceError record = {};
  DeviceError *e = &record;
  if (!s.deviceError ||
      failed(ctx,
             cudaMemcpy(e, s.deviceError, sizeof(DeviceError),
                        cudaMemcpyDeviceToHost),
             "reading the kernel error record") ||
      e->kind == kNoDeviceError)
    return;
  const char *kernel = "?";
  bool label = true;
  switch (e->kind) {
  case kCrossEntropyLabel:
    kernel = "cross_entropy";
    break;
  case kCrossEntropyGradLabel:
    kernel = "cross_entropy_grad";
    break;
  case kNllLossLabel:
    kernel = "nll_loss";
    break;
  case kNllLossGradLabel:
    kernel = "nll_loss_grad";
    break;
  case kEmbeddingIndex:
    kernel = "embedding";
    label = false;
    break;
  case kEmbeddingGradIndex:
    kernel = "embedding_grad";
    label = false;
    break;
  case kGatherIndex:
    kernel = "gather";
    label = false;
    break;
  case kScatterAddIndex:
    kernel = "scatter_add";
    label = false;
    break;
  }
  // The CPU kernels' wording (cpu/kernels_*.cpp).
  recordError(ctx, std::string(kernel) + (label ? ": label " : ": index ") +
                       std::to_string(e->value) +
                       (label ? " of sample " : " at position ") +
                       std::to_string(e->position) + " is out of range [0, " +
                       std::to_string(e->bound) + ")");
  // On the compute stream: ordered before the kernels of the next step.
  failed(ctx, cudaMemsetAsync(s.deviceError, 0, sizeof(DeviceError), s.compute),
         "clearing the kernel error record");
}

namespace {

/// Grows `buffer` to at least `bytes` (geometrically, so that a sequence of
/// growing requests costs few synchronizations) and returns it.
void *grow(dpcrt_context *ctx, void *&buffer, size_t &size, size_t bytes,
           const char *what) {
  DeviceState &s = state(ctx);
  if (bytes <= size)
    return buffer;
  // Kernels already enqueued may still use the old buffer.
  if (failed(ctx, cudaStreamSynchronize(s.compute), what))
    return nullptr;
  size_t grown = std::max({bytes, 2 * size, size_t(1) << 20});
  cudaFree(buffer);
  buffer = nullptr;
  size = 0;
  if (failed(ctx, cudaMalloc(&buffer, grown), what)) {
    buffer = nullptr;
    return nullptr;
  }
  size = grown;
  return buffer;
}

} // namespace

void *scratch(dpcrt_context *ctx, size_t bytes) {
  DeviceState &s = state(ctx);
  return grow(ctx, s.scratch, s.scratchBytes, bytes,
              "allocating scratch memory");
}

void *widenedScratch(dpcrt_context *ctx, size_t bytes) {
  DeviceState &s = state(ctx);
  return grow(ctx, s.widened, s.widenedBytes, bytes,
              "allocating bfloat16 operand copies");
}

bool failed(dpcrt_context *ctx, cudaError_t status, const char *what) {
  if (status == cudaSuccess)
    return false;
  recordError(ctx, std::string(what) + ": " + describe(status));
  return true;
}

bool failed(dpcrt_context *ctx, cublasStatus_t status, const char *what) {
  if (status == CUBLAS_STATUS_SUCCESS)
    return false;
  recordError(ctx, std::string(what) + ": " + cublasGetStatusName(status) +
                       " (" + cublasGetStatusString(status) + ")");
  return true;
}

bool failed(dpcrt_context *ctx, cudnnStatus_t status, const char *what) {
  if (status == CUDNN_STATUS_SUCCESS)
    return false;
  recordError(ctx, std::string(what) + ": " + cudnnGetErrorString(status));
  return true;
}

bool launchFailed(dpcrt_context *ctx, const char *kernel) {
  return failed(ctx, cudaGetLastError(), kernel);
}

} // namespace dpc::cuda
