//===- comm_stream.cpp - Gradient all-reduce on the communication stream --===//
//
// dpcrt_allreduce_start/wait implement DDP's default reduction, divide the
// bucket by the world size and sum it over all ranks in place (or DDP's
// fp16/bf16 compression hooks, grad_compression.h), on the
// communication stream (comm_stream.h), so the compiled schedule overlaps
// the bucket's communication with the rest of the backward pass and with
// the optimizer updates of earlier buckets. These are the CPU backend's
// all-reduce kernels (cpu/cpu_backend.h); the cuda backend's run on NCCL
// (cuda/comm_cuda.cpp).
//
//===----------------------------------------------------------------------===//

#include "comm/comm_stream.h"

#include "comm/collectives.h"
#include "comm/grad_compression.h"
#include "core/context.h"
#include "core/trace.h"
#include "cpu/cpu_backend.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <utility>
#include <vector>

namespace dpc {

namespace {

std::string mpiErrorString(int rc) {
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string(rc, text, &len) != MPI_SUCCESS)
    return "MPI error " + std::to_string(rc);
  return std::string(text, len);
}

} // namespace

CommStream::CommStream(MPI_Comm comm, int worldSize)
    : comm(comm), worldSize(worldSize), worker([this] { run(); }) {}

CommStream::~CommStream() {
  {
    std::lock_guard<std::mutex> lock(mutex);
    stopping = true;
  }
  queued.notify_all();
  worker.join();
}

int64_t CommStream::enqueue(Task task) {
  std::lock_guard<std::mutex> lock(mutex);
  task.handle = nextHandle++;
  queue.push_back(task);
  queued.notify_one();
  return task.handle;
}

int64_t CommStream::start(int32_t bucket, float *data, int64_t n,
                          int32_t commDType, int64_t step, Tracer *tracer) {
  return enqueue({0, bucket, data, nullptr, n, commDType, step, tracer});
}

int64_t CommStream::startFloat64(int32_t bucket, double *data, int64_t n,
                                 int64_t step, Tracer *tracer) {
  return enqueue(
      {0, bucket, nullptr, data, n, DPCRT_GRAD_COMM_F32, step, tracer});
}

void CommStream::wait(int64_t handle) {
  std::unique_lock<std::mutex> lock(mutex);
  finished.wait(lock, [&] { return lastFinished >= handle; });
  lastWaited = std::max(lastWaited, handle);
}

int64_t CommStream::drain() {
  std::unique_lock<std::mutex> lock(mutex);
  int64_t last = nextHandle - 1;
  finished.wait(lock, [&] { return lastFinished >= last; });
  // FIFO order: the wait of the last bucket covers every earlier one, but a
  // step that never waits for its last bucket is a compiler bug.
  int64_t unwaited = last - lastWaited;
  lastWaited = last;
  return unwaited;
}

std::string CommStream::takeError() {
  std::lock_guard<std::mutex> lock(mutex);
  return std::exchange(error, std::string());
}

namespace {

/// MPI_User_function sums of IEEE halves and bfloat16s: each element added in
/// float32 and rounded back to 16 bits, as gloo's float16 does (and NCCL's
/// bfloat16 sum).
void sumHalves(void *in, void *inout, int *len, MPI_Datatype *) {
  addGradients(DPCRT_GRAD_COMM_F16, static_cast<const uint16_t *>(in), *len,
               static_cast<uint16_t *>(inout));
}

void sumBFloat16s(void *in, void *inout, int *len, MPI_Datatype *) {
  addGradients(DPCRT_GRAD_COMM_BF16, static_cast<const uint16_t *>(in), *len,
               static_cast<uint16_t *>(inout));
}

} // namespace

std::string CommStream::allReduce(const Task &task) {
  bool compressing = task.commDType != DPCRT_GRAD_COMM_F32;
  void *buffer = task.data;
  MPI_Datatype type = MPI_FLOAT;
  MPI_Op sum = MPI_SUM;
  if (task.data64) {
    // DDP's division by the world size, in float64.
    double size = static_cast<double>(worldSize);
    for (int64_t i = 0; i < task.n; ++i)
      task.data64[i] /= size;
    buffer = task.data64;
    type = MPI_DOUBLE;
  } else if (compressing) {
    compressed.resize(static_cast<size_t>(task.n));
    compressGradients(task.commDType, task.data, task.n, worldSize,
                      compressed.data());
    buffer = compressed.data();
    type = MPI_UINT16_T;
    bool bf16 = task.commDType == DPCRT_GRAD_COMM_BF16;
    MPI_Op &op = bf16 ? bfloat16Sum : halfSum;
    if (op == MPI_OP_NULL)
      MPI_Op_create(bf16 ? sumBFloat16s : sumHalves, /*commute=*/1, &op);
    sum = op;
  } else {
    float size = static_cast<float>(worldSize);
    for (int64_t i = 0; i < task.n; ++i)
      task.data[i] /= size;
  }
  // MPI counts are ints: split buckets beyond INT_MAX elements.
  constexpr int64_t kChunk = INT_MAX / 2;
  for (int64_t first = 0; first < task.n; first += kChunk) {
    int count = static_cast<int>(std::min(kChunk, task.n - first));
    MPI_Request request;
    int rc = MPI_Iallreduce(
        MPI_IN_PLACE, static_cast<char *>(buffer) + first * task.wireBytes(),
        count, type, sum, comm, &request);
    // Polled, not blocking: a blocking MPI call busy-waits at full
    // speed, which on a host with a core per rank starves the compute
    // thread it is meant to overlap with. A stalled rank ends the job
    // after --timeout.
    if (rc == MPI_SUCCESS)
      rc = waitCollective(request,
                          "the all-reduce of bucket " +
                              std::to_string(task.bucket) + " (step " +
                              std::to_string(task.step) + ")",
                          PollMode::Sleep);
    if (rc != MPI_SUCCESS)
      return "allreduce of bucket " + std::to_string(task.bucket) +
             " failed: " + mpiErrorString(rc);
  }
  if (compressing)
    decompressGradients(task.commDType, compressed.data(), task.n, task.data);
  return "";
}

void CommStream::run() {
  for (;;) {
    Task task;
    {
      std::unique_lock<std::mutex> lock(mutex);
      queued.wait(lock, [&] { return stopping || !queue.empty(); });
      if (queue.empty())
        break; // stopping
      task = queue.front();
      queue.pop_front();
    }
    auto begin = Tracer::Clock::now();
    std::string failure = allReduce(task);
    if (task.tracer) {
      task.tracer->recordCollective(task.bucket, task.n * task.wireBytes(),
                                    begin, Tracer::Clock::now());
    }
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (!failure.empty() && error.empty())
        error = failure;
      lastFinished = task.handle;
    }
    finished.notify_all();
  }
  int finalized = 0;
  MPI_Finalized(&finalized);
  for (MPI_Op *op : {&halfSum, &bfloat16Sum})
    if (*op != MPI_OP_NULL && !finalized)
      MPI_Op_free(op);
}

void cpu::drainPending(dpcrt_context *ctx) {
  if (!ctx->commStream)
    return;
  if (int64_t unwaited = ctx->commStream->drain())
    recordError(ctx, std::to_string(unwaited) +
                         " all-reduce(s) were started but never waited for");
  if (std::string error = ctx->commStream->takeError(); !error.empty())
    recordError(ctx, error);
}

} // namespace dpc

namespace dpc::cpu {

int64_t allreduce_start(dpcrt_context *ctx, int32_t bucket, float *data,
                        int64_t n) {
  return allreduce_start_compressed(ctx, bucket, data, n, DPCRT_GRAD_COMM_F32);
}

namespace {

/// The context's communication stream, made on its first all-reduce.
CommStream &commStreamOf(dpcrt_context *ctx) {
  if (!ctx->commStream)
    ctx->commStream =
        std::make_unique<dpc::CommStream>(ctx->comm, ctx->worldSize);
  return *ctx->commStream;
}

} // namespace

int64_t allreduce_start_compressed(dpcrt_context *ctx, int32_t bucket,
                                   float *data, int64_t n, int32_t comm_dtype) {
  if (!ctx || n <= 0)
    return 0;
  if (!checkGradComm(ctx, bucket, comm_dtype))
    return 0;
  if (ctx->worldSize <= 1) {
    // One rank: the average is the data itself (dividing by 1 is exact),
    // except that a compression hook still rounds it to 16 bits.
    if (comm_dtype != DPCRT_GRAD_COMM_F32) {
      std::vector<uint16_t> rounded(static_cast<size_t>(n));
      compressGradients(comm_dtype, data, n, /*worldSize=*/1, rounded.data());
      decompressGradients(comm_dtype, rounded.data(), n, data);
    }
    return 0;
  }
  return commStreamOf(ctx).start(bucket, data, n, comm_dtype, ctx->step + 1,
                                 ctx->tracer);
}

int64_t allreduce_start_f64(dpcrt_context *ctx, int32_t bucket, double *data,
                            int64_t n) {
  if (!ctx || n <= 0)
    return 0;
  if (ctx->worldSize <= 1)
    return 0; // the average over one rank is the data itself
  return commStreamOf(ctx).startFloat64(bucket, data, n, ctx->step + 1,
                                        ctx->tracer);
}

void allreduce_wait(dpcrt_context *ctx, int64_t handle) {
  if (!ctx || handle == 0 || !ctx->commStream)
    return;
  ctx->commStream->wait(handle);
}

} // namespace dpc::cpu
