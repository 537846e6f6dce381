//===- trace.h - Chrome trace of a run (dpc-run --trace) --------*- C++ -*-===//
//
// Records what each stream of a rank did and when: the compute stream's ops
// (marked by the compiled step through dpcrt_trace_op) and the
// communication stream's bucket all-reduces. The result is Chrome's trace
// event format (chrome://tracing, https://ui.perfetto.dev): one process per
// rank, one thread per stream.
//
//===----------------------------------------------------------------------===//

#ifndef DPC_RUNTIME_LIB_TRACE_H
#define DPC_RUNTIME_LIB_TRACE_H

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace dpc {

class Tracer {
public:
  using Clock = std::chrono::steady_clock;

  /// `opNames[i]` names op i of the step; `origin` is time zero (taken
  /// right after a barrier, so ranks line up).
  Tracer(std::vector<std::string> opNames, Clock::time_point origin);

  /// Compute stream: op `index` starts now (and the previous op ends); -1
  /// ends the last op of a step.
  void markOp(int32_t index);
  void setStep(int64_t step) { currentStep = step; }

  /// Communication stream (any thread): an all-reduce of `bucket`.
  void recordCollective(int32_t bucket, int64_t bytes, Clock::time_point begin,
                        Clock::time_point end);

  /// This rank's events as comma-separated JSON objects (no brackets).
  std::string eventsJson(int rank) const;

  /// Event tracks.
  static constexpr int kComputeTrack = 0;
  static constexpr int kCommTrack = 1;

private:
  struct Event {
    int track;
    std::string name;
    double beginUs, durationUs;
    int64_t step;
    int64_t bytes; // collectives only, else -1
  };
  double micros(Clock::time_point t) const;

  std::vector<std::string> opNames;
  Clock::time_point origin;
  int32_t openOp = -1;
  Clock::time_point openSince;
  int64_t currentStep = 0;
  mutable std::mutex mutex;
  std::vector<Event> events;
  /// A cap so that a long traced run cannot exhaust memory.
  static constexpr size_t kMaxEvents = 2000000;
};

/// Writes a complete trace file from the ranks' event lists, atomically.
void writeTraceFile(const std::string &path,
                    const std::vector<std::string> &rankEvents);

} // namespace dpc

#endif // DPC_RUNTIME_LIB_TRACE_H
