//===- comm_stream.h - The CPU backend's communication stream ---*- C++ -*-===//
//
// DDP overlaps gradient communication with the backward pass by running it
// on its own stream. On the CPU backend that stream is a thread with a FIFO
// queue: dpcrt_allreduce_start enqueues a bucket and returns at once, the
// thread averages buckets in order (divide by the world size, then
// MPI_Allreduce in place, as DDP does), and dpcrt_allreduce_wait blocks the
// compute thread until its bucket is done. Only this thread calls MPI while
// a step runs, which is what MPI_THREAD_SERIALIZED allows.
//
//===----------------------------------------------------------------------===//

#ifndef DPC_RUNTIME_LIB_COMM_STREAM_H
#define DPC_RUNTIME_LIB_COMM_STREAM_H

#include "dpc/abi.h"

#include <mpi.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace dpc {

class Tracer;

class CommStream {
public:
  CommStream(MPI_Comm comm, int worldSize);
  ~CommStream();
  CommStream(const CommStream &) = delete;
  CommStream &operator=(const CommStream &) = delete;

  /// Enqueues the average of data[0, n) over all ranks, on the wire as
  /// `commDType` (dpcrt_grad_comm); returns its handle (> 0). `step`
  /// (1-based) names it in a timeout's error; `tracer` (may be null) records
  /// the collective.
  int64_t start(int32_t bucket, float *data, int64_t n, int32_t commDType,
                int64_t step, Tracer *tracer);
  /// start() for a bucket of float64 gradients (never compressed).
  int64_t startFloat64(int32_t bucket, double *data, int64_t n, int64_t step,
                       Tracer *tracer);
  /// Blocks until the collective of `handle` has finished.
  void wait(int64_t handle);
  /// Blocks until everything enqueued has finished; returns the number of
  /// collectives that were never waited for.
  int64_t drain();
  /// The first error of a collective since the last call, or "".
  std::string takeError();

private:
  struct Task {
    int64_t handle;
    int32_t bucket;
    float *data;    // float32 gradients, or
    double *data64; // float64 ones (the other is null)
    int64_t n;
    int32_t commDType;
    int64_t step;
    Tracer *tracer;
    /// Bytes per element on the wire.
    int64_t wireBytes() const {
      return data64 ? 8 : commDType == DPCRT_GRAD_COMM_F32 ? 4 : 2;
    }
  };
  /// Queues `task` under the next handle; returns the handle.
  int64_t enqueue(Task task);
  void run();
  /// Averages one bucket; returns "" or what failed.
  std::string allReduce(const Task &task);

  MPI_Comm comm;
  int worldSize;
  std::mutex mutex;
  std::condition_variable queued, finished;
  std::deque<Task> queue;
  int64_t nextHandle = 1;
  int64_t lastFinished = 0; // FIFO: every handle <= lastFinished is done
  int64_t lastWaited = 0;
  bool stopping = false;
  std::string error;
  // The compressed bucket (--grad-comm fp16/bf16), reused between tasks.
  std::vector<uint16_t> compressed;
  // Sums of 16-bit values (MPI has no predefined 16-bit float type), made
  // and freed by the worker thread.
  MPI_Op halfSum = MPI_OP_NULL, bfloat16Sum = MPI_OP_NULL;
  std::thread worker;
};

} // namespace dpc

#endif // DPC_RUNTIME_LIB_COMM_STREAM_H
