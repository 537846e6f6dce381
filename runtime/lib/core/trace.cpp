//===- trace.cpp - Chrome trace of a run (dpc-run --trace) ----------------===//

#include "core/trace.h"

#include "core/context.h"
#include "dpc/runtime.h"
#include "io/file_io.h"

#include <nlohmann/json.hpp>

namespace dpc {

Tracer::Tracer(std::vector<std::string> opNames, Clock::time_point origin)
    : opNames(std::move(opNames)), origin(origin) {}

double Tracer::micros(Clock::time_point t) const {
  return std::chrono::duration<double, std::micro>(t - origin).count();
}

void Tracer::markOp(int32_t index) {
  Clock::time_point now = Clock::now();
  if (openOp >= 0) {
    std::lock_guard<std::mutex> lock(mutex);
    if (events.size() < kMaxEvents) {
      std::string name = openOp < static_cast<int32_t>(opNames.size())
                             ? opNames[openOp]
                             : "op " + std::to_string(openOp);
      events.push_back({kComputeTrack, std::move(name), micros(openSince),
                        micros(now) - micros(openSince), currentStep, -1});
    }
  }
  openOp = index;
  openSince = now;
}

void Tracer::recordCollective(int32_t bucket, int64_t bytes,
                              Clock::time_point begin, Clock::time_point end) {
  std::lock_guard<std::mutex> lock(mutex);
  if (events.size() < kMaxEvents)
    events.push_back({kCommTrack, "all-reduce bucket " + std::to_string(bucket),
                      micros(begin), micros(end) - micros(begin), currentStep,
                      bytes});
}

std::string Tracer::eventsJson(int rank) const {
  using nlohmann::json;
  std::string out;
  auto append = [&](const json &event) {
    if (!out.empty())
      out += ",\n";
    out += event.dump();
  };
  append({{"ph", "M"},
          {"name", "process_name"},
          {"pid", rank},
          {"args", {{"name", "rank " + std::to_string(rank)}}}});
  append({{"ph", "M"},
          {"name", "thread_name"},
          {"pid", rank},
          {"tid", kComputeTrack},
          {"args", {{"name", "compute stream"}}}});
  append({{"ph", "M"},
          {"name", "thread_name"},
          {"pid", rank},
          {"tid", kCommTrack},
          {"args", {{"name", "communication stream"}}}});
  std::lock_guard<std::mutex> lock(mutex);
  for (const Event &e : events) {
    json args = {{"step", e.step}};
    if (e.bytes >= 0)
      args["bytes"] = e.bytes;
    append({{"ph", "X"},
            {"name", e.name},
            {"pid", rank},
            {"tid", e.track},
            {"ts", e.beginUs},
            {"dur", e.durationUs},
            {"args", args}});
  }
  return out;
}

void writeTraceFile(const std::string &path,
                    const std::vector<std::string> &rankEvents) {
  std::string text = "{\"displayTimeUnit\": \"ms\", \"traceEvents\": [\n";
  bool first = true;
  for (const std::string &events : rankEvents) {
    if (events.empty())
      continue;
    text += (first ? "" : ",\n") + events;
    first = false;
  }
  text += "\n]}\n";
  writeFileAtomically(path, "trace", [&](int fd) {
    return writeAll(fd, text.data(), text.size());
  });
}

} // namespace dpc

// Host-only on every backend: on cuda the times are when the host enqueued
// each op, not when the device ran it (CUDA events would give those).
extern "C" void dpcrt_trace_op(dpcrt_context *ctx, int32_t index) {
  if (ctx && ctx->tracer)
    ctx->tracer->markOp(index);
}
