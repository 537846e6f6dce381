//===- comm_stream.cpp - Gradient all-reduce on the communication stream --===//
//
// dpcrt_allreduce_start/wait implement DDP's default reduction, divide the
// bucket by the world size and sum it over all ranks in place, on the
// communication stream (comm_stream.h), so the compiled schedule overlaps
// the bucket's communication with the rest of the backward pass and with
// the optimizer updates of earlier buckets. These are the CPU backend's
// all-reduce kernels (cpu/cpu_backend.h); the cuda backend's run on NCCL
// (cuda/comm_cuda.cpp).
//
//===----------------------------------------------------------------------===//

#include "comm/comm_stream.h"

#include "comm/collectives.h"
#include "core/context.h"
#include "core/trace.h"
#include "cpu/cpu_backend.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <utility>

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

int64_t CommStream::start(int32_t bucket, float *data, int64_t n, int64_t step,
                          Tracer *tracer) {
  std::lock_guard<std::mutex> lock(mutex);
  int64_t handle = nextHandle++;
  queue.push_back({handle, bucket, data, n, step, tracer});
  queued.notify_one();
  return handle;
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

void CommStream::run() {
  for (;;) {
    Task task;
    {
      std::unique_lock<std::mutex> lock(mutex);
      queued.wait(lock, [&] { return stopping || !queue.empty(); });
      if (queue.empty())
        return; // stopping
      task = queue.front();
      queue.pop_front();
    }
    auto begin = Tracer::Clock::now();
    float size = static_cast<float>(worldSize);
    for (int64_t i = 0; i < task.n; ++i)
      task.data[i] /= size;
    std::string failure;
    // MPI counts are ints: split buckets beyond INT_MAX elements.
    constexpr int64_t kChunk = INT_MAX / 2;
    for (int64_t first = 0; first < task.n && failure.empty();
         first += kChunk) {
      int count = static_cast<int>(std::min(kChunk, task.n - first));
      MPI_Request request;
      int rc = MPI_Iallreduce(MPI_IN_PLACE, task.data + first, count, MPI_FLOAT,
                              MPI_SUM, comm, &request);
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
        failure = "allreduce of bucket " + std::to_string(task.bucket) +
                  " failed: " + mpiErrorString(rc);
    }
    if (task.tracer)
      task.tracer->recordCollective(task.bucket, task.n * 4, begin,
                                    Tracer::Clock::now());
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (!failure.empty() && error.empty())
        error = failure;
      lastFinished = task.handle;
    }
    finished.notify_all();
  }
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
  // One rank: the average is the data itself (dividing by 1 is exact).
  if (!ctx || ctx->worldSize <= 1 || n <= 0)
    return 0;
  if (!ctx->commStream)
    ctx->commStream =
        std::make_unique<dpc::CommStream>(ctx->comm, ctx->worldSize);
  return ctx->commStream->start(bucket, data, n, ctx->step + 1, ctx->tracer);
}

void allreduce_wait(dpcrt_context *ctx, int64_t handle) {
  if (!ctx || handle == 0 || !ctx->commStream)
    return;
  ctx->commStream->wait(handle);
}

} // namespace dpc::cpu
