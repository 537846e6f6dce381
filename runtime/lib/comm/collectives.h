//===- collectives.h - MPI collectives outside the step ---------*- C++ -*-===//
//
// The host-side collectives of a session, all over MPI: the CPU backend's
// broadcasts of slots, loss averaging, the trace's gathering, and where
// this rank sits among the ranks of its host. Collective calls; failures
// throw dpc::Error naming what was being done.
//
// Every collective of the runtime on MPI is started nonblocking and
// completed by waitCollective, polling, so that a rank that stalled
// (stopped, swapped out, deadlocked) or ranks that disagree about what comes
// next cannot hang the others forever: after ProcessGroup::timeout()
// seconds the waiting rank prints one line naming the collective and ends
// the job.
//
//===----------------------------------------------------------------------===//

#ifndef DPC_RUNTIME_LIB_COMM_COLLECTIVES_H
#define DPC_RUNTIME_LIB_COMM_COLLECTIVES_H

#include <mpi.h>

#include <cstdint>
#include <string>
#include <vector>

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

/// Throws "<what> failed: <MPI's message>" unless `rc` is MPI_SUCCESS.
void checkMpi(int rc, const std::string &what);

/// Broadcasts `bytes` from rank 0 of `comm` (in int-sized chunks).
void broadcastBytes(void *data, int64_t bytes, MPI_Comm comm,
                    const std::string &what);

/// The sum of `value` over the ranks of `comm`.
double sumOverRanks(double value, MPI_Comm comm, const std::string &what);

/// Waits until every rank of `comm` has called it.
void barrier(MPI_Comm comm, const std::string &what);

/// Rank 0 of `comm` gets every rank's `text`, in rank order; the other ranks
/// get an empty vector.
std::vector<std::string> gatherToRoot(const std::string &text, MPI_Comm comm,
                                      const std::string &what);

/// How many ranks of `comm` share this host.
int ranksOnHost(MPI_Comm comm);

/// This rank's index among the ranks of MPI_COMM_WORLD on its host (the GPU
/// it takes) and their number; 0 and 1 when not distributed.
void localRanks(int &localRank, int &localCount);

} // namespace dpc

#endif // DPC_RUNTIME_LIB_COMM_COLLECTIVES_H
