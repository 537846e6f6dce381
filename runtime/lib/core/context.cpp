//===- context.cpp - The runtime context's out-of-line members ------------===//

#include "core/context.h"

#include "comm/comm_stream.h"
#include "core/backend.h"

// Out of line, where CommStream is complete. A context starts on the CPU
// backend; attachBackend (backend.cpp) moves a session's to another.
dpcrt_context::dpcrt_context() : backend(&dpc::cpu::backendTable()) {}
dpcrt_context::~dpcrt_context() = default;

void dpc::recordError(dpcrt_context *ctx, const std::string &message) {
  if (ctx && ctx->error.empty())
    ctx->error = message;
}

void dpc::drainPending(dpcrt_context *ctx) { ctx->backend->drainPending(ctx); }

// Host-only on every backend: the kernels take the value as an argument.
extern "C" double dpcrt_learning_rate(dpcrt_context *ctx, int32_t group) {
  if (!ctx || group < 0 ||
      static_cast<size_t>(group) >= ctx->learningRates.size()) {
    dpc::recordError(ctx,
                     "the step reads the learning rate of parameter "
                     "group " +
                         std::to_string(group) + ", but the session has " +
                         std::to_string(ctx ? ctx->learningRates.size() : 0) +
                         " groups");
    return 0.0;
  }
  return ctx->learningRates[group];
}

// Host-only like dpcrt_learning_rate.
extern "C" double dpcrt_momentum(dpcrt_context *ctx, int32_t group) {
  if (!ctx || group < 0 || static_cast<size_t>(group) >= ctx->momenta.size()) {
    dpc::recordError(ctx, "the step reads the momentum of parameter group " +
                              std::to_string(group) + ", but the session has " +
                              std::to_string(ctx ? ctx->momenta.size() : 0));
    return 0.0;
  }
  return ctx->momenta[group];
}
