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
