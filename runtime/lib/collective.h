//===- collective.h - Waiting for MPI collectives with a deadline -*- C++ -*-===//
//
// Internal to libdpcrt. Every CPU collective of the runtime is started
// nonblocking and completed here, polling, so that a rank that stalled
// (stopped, swapped out, deadlocked) or ranks that disagree about what comes
// next cannot hang the others forever: after ProcessGroup::timeout() seconds
// the waiting rank prints one line naming the collective and ends the job.
//
//===----------------------------------------------------------------------===//

#ifndef DPC_RUNTIME_LIB_COLLECTIVE_H
#define DPC_RUNTIME_LIB_COLLECTIVE_H

#include <mpi.h>

#include <string>

namespace dpc {

/// How a waiting thread polls: Yield spins on MPI_Test, yielding the core
/// between tests (what a blocking MPI call does, at its latency); Sleep
/// sleeps between tests, for the communication thread, which must leave the
/// core to the compute thread it overlaps with.
enum class PollMode { Yield, Sleep };

/// Completes `request` (`what`: "all-reduce of bucket 3", "broadcast of
/// 'fc1.weight'") and returns its MPI error code. When it does not complete
/// within the timeout, prints "<program>: error: rank R: <what> did not
/// complete within S s: ..." and calls MPI_Abort, which ends every rank of
/// the job with a non-zero exit code.
int waitCollective(MPI_Request &request, const std::string &what,
                   PollMode mode = PollMode::Yield);

} // namespace dpc

#endif // DPC_RUNTIME_LIB_COLLECTIVE_H
