//===- collectives.cpp - MPI collectives outside the step -----------------===//

#include "comm/collectives.h"

#include "dpc/runtime.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdio>
#include <functional>
#include <thread>

using namespace dpc;

void dpc::checkMpi(int rc, const std::string &what) {
  if (rc == MPI_SUCCESS)
    return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  throw Error(what + " failed: " + std::string(text, len));
}

int dpc::waitCollective(MPI_Request &request, const std::string &what,
                        PollMode mode) {
  using Clock = std::chrono::steady_clock;
  constexpr std::chrono::microseconds kPollInterval(20);
  double timeout = ProcessGroup::timeout();
  Clock::time_point deadline =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(
                         std::chrono::duration<double>(timeout));
  for (;;) {
    int done = 0;
    int rc = MPI_Test(&request, &done, MPI_STATUS_IGNORE);
    if (rc != MPI_SUCCESS || done)
      return rc;
    if (Clock::now() > deadline)
      break;
    if (mode == PollMode::Sleep)
      std::this_thread::sleep_for(kPollInterval);
    else
      std::this_thread::yield();
  }
  // Which ranks are missing is not knowable from a collective in flight;
  // the ranks that are waiting each say so, the missing ones do not.
  std::fprintf(stderr,
               "%s: error: rank %d: %s did not complete within %g s "
               "(--timeout): another rank stalled, died or is running "
               "something else; ending the job\n",
               program_invocation_short_name, ProcessGroup::rank(),
               what.c_str(), timeout);
  ProcessGroup::abort(1);
}

namespace {

/// Starts a nonblocking collective with `start(request)` and completes it
/// within the collective timeout (waitCollective).
void collective(const std::string &what,
                const std::function<int(MPI_Request *)> &start) {
  MPI_Request request;
  checkMpi(start(&request), what);
  checkMpi(waitCollective(request, what), what);
}

} // namespace

void dpc::broadcastBytes(void *data, int64_t bytes, MPI_Comm comm,
                         const std::string &what) {
  constexpr int64_t kChunk = INT_MAX / 2;
  for (int64_t begin = 0; begin < bytes; begin += kChunk)
    collective("broadcasting " + what, [&](MPI_Request *request) {
      return MPI_Ibcast(static_cast<char *>(data) + begin,
                        static_cast<int>(std::min(kChunk, bytes - begin)),
                        MPI_BYTE, 0, comm, request);
    });
}

double dpc::sumOverRanks(double value, MPI_Comm comm, const std::string &what) {
  double sum = 0.0;
  collective(what, [&](MPI_Request *request) {
    return MPI_Iallreduce(&value, &sum, 1, MPI_DOUBLE, MPI_SUM, comm, request);
  });
  return sum;
}

void dpc::barrier(MPI_Comm comm, const std::string &what) {
  collective(what,
             [&](MPI_Request *request) { return MPI_Ibarrier(comm, request); });
}

std::vector<std::string> dpc::gatherToRoot(const std::string &text,
                                           MPI_Comm comm,
                                           const std::string &what) {
  int rank = 0, ranks = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &ranks);
  int size = static_cast<int>(text.size());
  std::vector<int> sizes(ranks), offsets(ranks);
  collective(what, [&](MPI_Request *request) {
    return MPI_Igather(&size, 1, MPI_INT, sizes.data(), 1, MPI_INT, 0, comm,
                       request);
  });
  std::string gathered;
  if (rank == 0) {
    int total = 0;
    for (int r = 0; r < ranks; ++r) {
      offsets[r] = total;
      total += sizes[r];
    }
    gathered.resize(total);
  }
  collective(what, [&](MPI_Request *request) {
    return MPI_Igatherv(text.data(), size, MPI_CHAR, gathered.data(),
                        sizes.data(), offsets.data(), MPI_CHAR, 0, comm,
                        request);
  });
  std::vector<std::string> all;
  if (rank != 0)
    return all;
  for (int r = 0; r < ranks; ++r)
    all.push_back(gathered.substr(offsets[r], sizes[r]));
  return all;
}

int dpc::ranksOnHost(MPI_Comm comm) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm host;
  checkMpi(MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL,
                               &host),
           "MPI_Comm_split_type");
  int count = 1;
  MPI_Comm_size(host, &count);
  MPI_Comm_free(&host);
  return count;
}

void dpc::localRanks(int &localRank, int &localCount) {
  localRank = 0;
  localCount = 1;
  if (!ProcessGroup::isDistributed())
    return;
  MPI_Comm host;
  checkMpi(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED,
                               ProcessGroup::rank(), MPI_INFO_NULL, &host),
           "MPI_Comm_split_type");
  MPI_Comm_rank(host, &localRank);
  MPI_Comm_size(host, &localCount);
  MPI_Comm_free(&host);
}
