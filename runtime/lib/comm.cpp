//===- comm.cpp - Gradient all-reduce entry points (MPI) ------------------===//
//
// dpcrt_allreduce_start/wait implement DDP's default reduction: divide the
// bucket by the world size, then sum it over all ranks in place. The start
// is an MPI_Iallreduce so that the compiler's schedule can overlap it with
// the rest of the backward pass.
//
// Room for a communication thread: MPI progresses non-blocking collectives
// mostly inside MPI calls, so real overlap on CPU will want a thread that
// owns a queue of started buckets and drives them (MPI is initialized with
// MPI_THREAD_SERIALIZED for that reason). The handle table below is what such
// a thread would share with the compute thread.
//
//===----------------------------------------------------------------------===//

#include "context.h"

#include <algorithm>
#include <climits>
#include <string>

namespace dpc {

void recordError(dpcrt_context *ctx, const std::string &message) {
  if (ctx && ctx->error.empty())
    ctx->error = message;
}

namespace {

std::string mpiErrorString(int rc) {
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string(rc, text, &len) != MPI_SUCCESS)
    return "MPI error " + std::to_string(rc);
  return std::string(text, len);
}

} // namespace

void drainPending(dpcrt_context *ctx) {
  for (PendingAllreduce &p : ctx->pending) {
    if (p.requests.empty())
      continue;
    recordError(ctx, "allreduce of bucket " + std::to_string(p.bucket) +
                         " was started but never waited for");
    MPI_Waitall(static_cast<int>(p.requests.size()), p.requests.data(),
                MPI_STATUSES_IGNORE);
  }
  ctx->pending.clear();
}

} // namespace dpc

extern "C" {

int64_t dpcrt_allreduce_start(dpcrt_context *ctx, int32_t bucket, float *data,
                              int64_t n) {
  // One rank: the average is the data itself (dividing by 1 is exact).
  if (!ctx || ctx->worldSize <= 1 || n <= 0)
    return 0;
  float size = static_cast<float>(ctx->worldSize);
  for (int64_t i = 0; i < n; ++i)
    data[i] /= size;

  dpc::PendingAllreduce pending;
  pending.bucket = bucket;
  // MPI counts are ints: split buckets beyond INT_MAX elements.
  constexpr int64_t kChunk = INT_MAX / 2;
  for (int64_t begin = 0; begin < n; begin += kChunk) {
    int count = static_cast<int>(std::min(kChunk, n - begin));
    MPI_Request request;
    int rc = MPI_Iallreduce(MPI_IN_PLACE, data + begin, count, MPI_FLOAT,
                            MPI_SUM, ctx->comm, &request);
    if (rc != MPI_SUCCESS) {
      dpc::recordError(ctx, "allreduce of bucket " + std::to_string(bucket) +
                                " failed to start: " + dpc::mpiErrorString(rc));
      break;
    }
    pending.requests.push_back(request);
  }
  ctx->pending.push_back(std::move(pending));
  return static_cast<int64_t>(ctx->pending.size());
}

void dpcrt_allreduce_wait(dpcrt_context *ctx, int64_t handle) {
  if (!ctx || handle == 0)
    return;
  if (handle < 0 || handle > static_cast<int64_t>(ctx->pending.size())) {
    dpc::recordError(ctx, "allreduce_wait: unknown handle " +
                              std::to_string(handle));
    return;
  }
  dpc::PendingAllreduce &p = ctx->pending[handle - 1];
  if (p.requests.empty())
    return; // already waited: waiting twice is harmless
  int rc = MPI_Waitall(static_cast<int>(p.requests.size()), p.requests.data(),
                       MPI_STATUSES_IGNORE);
  if (rc != MPI_SUCCESS)
    dpc::recordError(ctx, "allreduce of bucket " + std::to_string(p.bucket) +
                              " failed: " + dpc::mpiErrorString(rc));
  p.requests.clear();
}

} // extern "C"
