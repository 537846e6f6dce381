//===- comm_cuda.cpp - NCCL all-reduces and replicas on the GPU -----------===//
//
// The cuda backend's communication stream is a CUDA stream: an all-reduce
// start records an event on the compute stream, makes the communication
// stream wait for it, divides the bucket by the world size and runs
// ncclAllReduce(sum) there (DDP's order, as comm/comm_stream.cpp on the CPU),
// and records a completion event (--grad-comm fp16/bf16: the bucket is
// rounded and divided into a 16-bit buffer, all-reduced there and widened
// back, as DDP's compression hooks do); the matching wait makes the compute
// stream wait for that event. Neither blocks the host, so the compiled
// schedule's overlap happens on the device. The NCCL communicator exists for
// every world size, one rank included, so that this path always runs.
//
// Not done yet: tracing of the collectives (dpc-run --trace records the
// compute ops' host times only on cuda), and --mode dp over several GPUs
// (run_replicas runs every replica on the context's one device).
//
//===----------------------------------------------------------------------===//

#include "cuda_backend.h"

#include "comm/grad_compression.h"

#include "dpc/runtime.h"

namespace dpc::cuda {

namespace {

std::string ncclFailure(const std::string &what, ncclResult_t status) {
  return what + " failed: " + ncclGetErrorString(status);
}

} // namespace

void initCommunicator(dpcrt_context *ctx) {
  DeviceState &s = state(ctx);
  ncclUniqueId id = {};
  ncclResult_t idStatus = ncclSuccess;
  if (ctx->rank == 0)
    idStatus = ncclGetUniqueId(&id);
  // Rank 0 joins the broadcast even when it failed, so that no rank is left
  // waiting in it (the others then fail in ncclCommInitRank).
  if (ctx->worldSize > 1 &&
      MPI_Bcast(&id, sizeof(id), MPI_BYTE, 0, ctx->comm) != MPI_SUCCESS)
    throw Error("broadcasting the NCCL unique id failed");
  if (idStatus != ncclSuccess)
    throw Error(ncclFailure("ncclGetUniqueId", idStatus));
  if (cudaSetDevice(s.device) != cudaSuccess)
    throw Error("selecting CUDA device " + std::to_string(s.device) +
                " failed");
  ncclResult_t status =
      ncclCommInitRank(&s.nccl, ctx->worldSize, id, ctx->rank);
  if (status != ncclSuccess) {
    s.nccl = nullptr;
    throw Error(ncclFailure("creating the NCCL communicator (rank " +
                                std::to_string(ctx->rank) + " of " +
                                std::to_string(ctx->worldSize) + ")",
                            status));
  }
}

void broadcast(dpcrt_context *ctx, void *data, int64_t bytes,
               const std::string &what) {
  DeviceState &s = state(ctx);
  if (bytes <= 0 || !s.nccl)
    return;
  ncclResult_t status = ncclBroadcast(data, data, static_cast<size_t>(bytes),
                                      ncclChar, 0, s.nccl, s.compute);
  if (status != ncclSuccess)
    throw Error(ncclFailure("broadcasting " + what, status));
}

void drainPending(dpcrt_context *ctx) {
  DeviceState &s = state(ctx);
  int64_t unwaited = 0;
  for (int64_t h = 0; h < s.started; ++h)
    if (!s.waited[h]) {
      ++unwaited;
      // The synchronization that ends the step must cover it too.
      failed(ctx, cudaStreamWaitEvent(s.compute, s.doneEvents[h], 0),
             "allreduce: waiting for the communication stream");
    }
  if (unwaited)
    recordError(ctx, std::to_string(unwaited) +
                         " all-reduce(s) were started but never waited for");
  s.started = 0;
}

int64_t allreduce_start(dpcrt_context *ctx, int32_t bucket, float *data,
                        int64_t n) {
  return allreduce_start_compressed(ctx, bucket, data, n, DPCRT_GRAD_COMM_F32);
}

namespace {

/// Starts the average of a bucket of float32 (`data`) or float64 (`data64`)
/// gradients on the communication stream; float64 buckets are never
/// compressed.
int64_t startAllReduce(dpcrt_context *ctx, int32_t bucket, float *data,
                       double *data64, int64_t n, int32_t comm_dtype) {
  DeviceState &s = state(ctx);
  if (n <= 0)
    return 0;
  if (!checkGradComm(ctx, bucket, comm_dtype))
    return 0;
  if (data64)
    // DDP's division by the world size, in float64, on the compute stream
    // before the bucket is handed over (the float32 path divides on the
    // communication stream with its own kernel).
    div_scalar_f64(ctx, data64, data64, n, static_cast<double>(ctx->worldSize));
  bool compressing = comm_dtype != DPCRT_GRAD_COMM_F32;
  size_t compressedBytes = static_cast<size_t>(n) * 2;
  if (compressing && compressedBytes > s.compressedBytes) {
    // Grown in the first step only; earlier buckets may still be reading
    // the old buffer on the communication stream.
    if (failed(ctx, cudaStreamSynchronize(s.comm),
               "allreduce: growing the compression buffer"))
      return 0;
    cudaFree(s.compressed);
    s.compressed = nullptr;
    s.compressedBytes = 0;
    if (failed(ctx, cudaMalloc(&s.compressed, compressedBytes),
               "allreduce: allocating the compression buffer"))
      return 0;
    s.compressedBytes = compressedBytes;
  }
  if (!s.nccl) {
    recordError(ctx, "allreduce of bucket " + std::to_string(bucket) +
                         ": no NCCL communicator");
    return 0;
  }
  int64_t index = s.started;
  if (index == static_cast<int64_t>(s.readyEvents.size())) {
    cudaEvent_t ready = nullptr, done = nullptr;
    if (failed(ctx, cudaEventCreateWithFlags(&ready, cudaEventDisableTiming),
               "allreduce: creating an event") ||
        failed(ctx, cudaEventCreateWithFlags(&done, cudaEventDisableTiming),
               "allreduce: creating an event")) {
      if (ready)
        cudaEventDestroy(ready);
      return 0;
    }
    s.readyEvents.push_back(ready);
    s.doneEvents.push_back(done);
    s.waited.push_back(false);
  }
  // The gradients of the bucket are produced on the compute stream.
  if (failed(ctx, cudaEventRecord(s.readyEvents[index], s.compute),
             "allreduce: recording an event") ||
      failed(ctx, cudaStreamWaitEvent(s.comm, s.readyEvents[index], 0),
             "allreduce: ordering the communication stream"))
    return 0;
  // DDP divides by the world size before summing (comm/comm_stream.cpp does the
  // same); its compression hooks round to 16 bits first and divide there.
  float worldSize = static_cast<float>(ctx->worldSize);
  ncclResult_t status;
  if (compressing) {
    compressOnStream(ctx, s.comm, comm_dtype, data, n, worldSize, s.compressed);
    status = ncclAllReduce(s.compressed, s.compressed, static_cast<size_t>(n),
                           comm_dtype == DPCRT_GRAD_COMM_BF16 ? ncclBfloat16
                                                              : ncclFloat16,
                           ncclSum, s.nccl, s.comm);
    if (status == ncclSuccess)
      decompressOnStream(ctx, s.comm, comm_dtype, s.compressed, n, data);
  } else if (data64) {
    status = ncclAllReduce(data64, data64, static_cast<size_t>(n), ncclDouble,
                           ncclSum, s.nccl, s.comm);
  } else {
    divideOnStream(ctx, s.comm, data, n, worldSize);
    status = ncclAllReduce(data, data, static_cast<size_t>(n), ncclFloat,
                           ncclSum, s.nccl, s.comm);
  }
  if (status != ncclSuccess) {
    recordError(
        ctx,
        ncclFailure("allreduce of bucket " + std::to_string(bucket), status));
    return 0;
  }
  if (failed(ctx, cudaEventRecord(s.doneEvents[index], s.comm),
             "allreduce: recording an event"))
    return 0;
  s.waited[index] = false;
  s.started = index + 1;
  return index + 1;
}

} // namespace

int64_t allreduce_start_compressed(dpcrt_context *ctx, int32_t bucket,
                                   float *data, int64_t n, int32_t comm_dtype) {
  return startAllReduce(ctx, bucket, data, nullptr, n, comm_dtype);
}

int64_t allreduce_start_f64(dpcrt_context *ctx, int32_t bucket, double *data,
                            int64_t n) {
  return startAllReduce(ctx, bucket, nullptr, data, n, DPCRT_GRAD_COMM_F32);
}

void allreduce_wait(dpcrt_context *ctx, int64_t handle) {
  DeviceState &s = state(ctx);
  if (handle == 0)
    return;
  if (handle < 0 || handle > s.started) {
    recordError(ctx,
                "allreduce_wait: unknown handle " + std::to_string(handle));
    return;
  }
  // The compute stream, not the host, waits: later kernels that read the
  // bucket run after the all-reduce.
  if (failed(ctx, cudaStreamWaitEvent(s.compute, s.doneEvents[handle - 1], 0),
             "allreduce_wait"))
    return;
  s.waited[handle - 1] = true;
}

void run_replicas(dpcrt_context *ctx, int32_t n, const dpcrt_replica_fn *fns,
                  void *const *env) {
  // --mode dp on the cuda backend: every replica on this context's device,
  // one after the other on the compute stream (the memory plan gives them
  // disjoint arena space). Several GPUs per process are not supported yet.
  for (int32_t r = 0; r < n; ++r) {
    if (!fns[r])
      continue;
    bool hadError = !ctx->error.empty();
    fns[r](ctx, env);
    // Name the replica as the CPU backend does.
    if (n > 1 && !hadError && !ctx->error.empty())
      ctx->error = "replica " + std::to_string(r) + ": " + ctx->error;
  }
}

} // namespace dpc::cuda
