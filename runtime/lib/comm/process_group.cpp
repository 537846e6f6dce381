//===- process_group.cpp - MPI start-up and agreement on failures ---------===//
//
// MPI is initialized only when a launcher started this process, so a plain
// `dpc-run model.so ...` never touches MPI and needs no mpirun.
//
//===----------------------------------------------------------------------===//

#include "comm/collectives.h"
#include "dpc/runtime.h"

#include <mpi.h>

#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>

using namespace dpc;

namespace {
bool initializedHere = false;
/// ProcessGroup::setTimeout.
double timeoutSeconds = ProcessGroup::kDefaultTimeoutSeconds;
} // namespace

void ProcessGroup::setTimeout(double seconds) {
  if (!(seconds > 0.0) || !std::isfinite(seconds))
    throw Error("the collective timeout must be a positive number of "
                "seconds, got " +
                std::to_string(seconds));
  timeoutSeconds = seconds;
}

double ProcessGroup::timeout() { return timeoutSeconds; }

bool ProcessGroup::launchedByMpi() {
  // Open MPI (ORTE and PRRTE), PMIx launchers, and MPICH/Hydra-style PMI.
  for (const char *name :
       {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"})
    if (std::getenv(name))
      return true;
  return false;
}

void ProcessGroup::init(int *argc, char ***argv) {
  if (!launchedByMpi() || isDistributed())
    return;
  // SERIALIZED leaves room for a communication thread that issues MPI calls
  // while the compute thread does not.
  int provided = 0;
  if (MPI_Init_thread(argc, argv, MPI_THREAD_SERIALIZED, &provided) !=
      MPI_SUCCESS)
    throw Error("cannot initialize MPI");
  initializedHere = true;
}

void ProcessGroup::finalize() {
  if (!initializedHere)
    return;
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized)
    MPI_Finalize();
  initializedHere = false;
}

bool ProcessGroup::isDistributed() {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  return initialized && !finalized;
}

int ProcessGroup::rank() {
  if (!isDistributed())
    return 0;
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}

int ProcessGroup::worldSize() {
  if (!isDistributed())
    return 1;
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  return size;
}

void ProcessGroup::abort(int code) {
  std::fflush(stdout);
  std::fflush(stderr);
  if (isDistributed())
    MPI_Abort(MPI_COMM_WORLD, code);
  std::exit(code);
}

void ProcessGroup::collectively(const std::function<void()> &phase) {
  if (!isDistributed() || worldSize() == 1) {
    phase();
    return;
  }
  std::optional<Error> failure;
  try {
    phase();
  } catch (const Error &e) {
    failure = e;
  } catch (const std::exception &e) {
    failure = Error(e.what());
  }
  // [0]: lowest rank holding a real cause (INT_MAX: none);
  // [1]: minus "some rank failed at all" (covers reportedElsewhere errors).
  int me = rank();
  int local[2] = {failure && !failure->isReportedElsewhere() ? me : INT_MAX,
                  failure ? -1 : 0};
  int global[2];
  MPI_Request request;
  MPI_Iallreduce(local, global, 2, MPI_INT, MPI_MIN, MPI_COMM_WORLD, &request);
  waitCollective(request, "agreeing on the outcome of a set-up phase");
  if (global[1] == 0)
    return;
  int reporter = global[0] == INT_MAX ? 0 : global[0];
  if (me == reporter && failure && !failure->isReportedElsewhere())
    throw Error(failure->what(), /*reportedElsewhere=*/false, /*agreed=*/true);
  if (me == reporter)
    throw Error("a rank failed without saying why", false, true);
  throw Error("rank " + std::to_string(reporter) + " failed",
              /*reportedElsewhere=*/true, /*agreed=*/true);
}

void ProcessGroup::agree(
    const std::vector<std::pair<std::string, int64_t>> &facts) {
  if (!isDistributed() || worldSize() == 1)
    return;
  int n = static_cast<int>(facts.size()), ranks = worldSize(), me = rank();
  std::vector<int64_t> mine(n), all(static_cast<size_t>(n) * ranks);
  for (int i = 0; i < n; ++i)
    mine[i] = facts[i].second;
  MPI_Request request;
  MPI_Iallgather(mine.data(), n, MPI_INT64_T, all.data(), n, MPI_INT64_T,
                 MPI_COMM_WORLD, &request);
  waitCollective(request, "agreeing on the run's parameters");
  for (int i = 0; i < n; ++i) {
    std::string others;
    for (int r = 1; r < ranks; ++r)
      if (all[static_cast<size_t>(r) * n + i] != all[i])
        others += (others.empty() ? "" : ", ") + std::to_string(r) + " (" +
                  std::to_string(all[static_cast<size_t>(r) * n + i]) + ")";
    if (!others.empty())
      throw Error("the ranks disagree on " + facts[i].first + ": rank 0 has " +
                      std::to_string(all[i]) + ", rank(s) " + others,
                  /*reportedElsewhere=*/me != 0, /*agreed=*/true);
  }
}

void ProcessGroup::sumOverRanks(std::vector<double> &values,
                                const std::string &what) {
  if (!isDistributed() || worldSize() == 1)
    return;
  std::vector<double> sums(values.size());
  MPI_Request request;
  MPI_Iallreduce(values.data(), sums.data(), static_cast<int>(values.size()),
                 MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD, &request);
  checkMpi(waitCollective(request, what), what);
  values = std::move(sums);
}

std::vector<std::string> ProcessGroup::gatherToRoot(const std::string &bytes,
                                                    const std::string &what) {
  if (!isDistributed() || worldSize() == 1)
    return {bytes};
  return dpc::gatherToRoot(bytes, MPI_COMM_WORLD, what);
}
