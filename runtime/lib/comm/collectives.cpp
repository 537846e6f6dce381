//===- collectives.cpp - MPI collectives outside the step -----------------===//

#include "comm/collectives.h"

#include "dpc/runtime.h"

#include <algorithm>
#include <climits>

using namespace dpc;

void dpc::checkMpi(int rc, const std::string &what) {
  if (rc == MPI_SUCCESS)
    return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  throw Error(what + " failed: " + std::string(text, len));
}

void dpc::broadcastBytes(void *data, int64_t bytes, MPI_Comm comm,
                         const std::string &what) {
  constexpr int64_t kChunk = INT_MAX / 2;
  for (int64_t begin = 0; begin < bytes; begin += kChunk)
    checkMpi(MPI_Bcast(static_cast<char *>(data) + begin,
                       static_cast<int>(std::min(kChunk, bytes - begin)),
                       MPI_BYTE, 0, comm),
             "broadcasting " + what);
}

double dpc::sumOverRanks(double value, MPI_Comm comm,
                         const std::string &what) {
  double sum = 0.0;
  checkMpi(MPI_Allreduce(&value, &sum, 1, MPI_DOUBLE, MPI_SUM, comm), what);
  return sum;
}

void dpc::barrier(MPI_Comm comm, const std::string &what) {
  checkMpi(MPI_Barrier(comm), what);
}

std::vector<std::string> dpc::gatherToRoot(const std::string &text,
                                           MPI_Comm comm,
                                           const std::string &what) {
  int rank = 0, ranks = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &ranks);
  int size = static_cast<int>(text.size());
  std::vector<int> sizes(ranks), offsets(ranks);
  checkMpi(MPI_Gather(&size, 1, MPI_INT, sizes.data(), 1, MPI_INT, 0, comm),
           what);
  std::string gathered;
  if (rank == 0) {
    int total = 0;
    for (int r = 0; r < ranks; ++r) {
      offsets[r] = total;
      total += sizes[r];
    }
    gathered.resize(total);
  }
  checkMpi(MPI_Gatherv(text.data(), size, MPI_CHAR, gathered.data(),
                       sizes.data(), offsets.data(), MPI_CHAR, 0, comm),
           what);
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
  checkMpi(MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, rank,
                               MPI_INFO_NULL, &host),
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
