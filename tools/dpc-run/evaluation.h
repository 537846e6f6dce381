//===- evaluation.h - dpc-run's validation and prediction -------*- C++ -*-===//
//
// dpc-run --eval-data and --predict: the evaluation step (Session::evaluate,
// Session::predict) over a data set sharded as
// DistributedSampler(shuffle=False, drop_last=False) shards it
// (dpc::evaluationShard), in batches of the evaluation step's compiled
// size. A rank's last batch is completed with samples from the start of its
// shard, whose rows count in nothing. The metrics are computed per sample
// from the outputs (so that batches of any fill count exactly), summed
// over the ranks, and the predictions are gathered to rank 0 in data order.
//
//===----------------------------------------------------------------------===//

#ifndef DPC_TOOLS_DPC_RUN_EVALUATION_H
#define DPC_TOOLS_DPC_RUN_EVALUATION_H

#include "dpc/data.h"
#include "dpc/runtime.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace dpc::run {

/// A data set for the evaluation step: one .npy file per input (and the
/// label, when `withLabel`), checked against the module's "eval" shapes.
class EvalData {
public:
  /// `files` are NAME=PATH pairs (--eval-data, or --data for --predict);
  /// `flag` names them in errors. Throws one line.
  EvalData(const Session &session,
           const std::vector<std::pair<std::string, std::string>> &files,
           bool withLabel, const std::string &flag);

  int64_t samples() const { return numSamples; }
  /// The batch of the evaluation step.
  int64_t batchSize() const { return batch; }

  /// Fills this rank's batch `index` of `shard` (the samples at
  /// [index * batchSize, ...) of it, completed with the shard's first ones)
  /// and returns the pointers evaluate/predict take and the rows that are
  /// real (the rest complete the batch).
  const std::vector<const void *> &read(const std::vector<int64_t> &shard,
                                        int64_t index, int64_t &valid);

private:
  std::vector<NpyFile> files;
  std::vector<std::vector<unsigned char>> buffers;
  std::vector<const void *> pointers;
  int64_t numSamples = 0;
  int64_t batch = 0;
};

/// Validation metrics over all ranks.
struct Validation {
  double loss = 0;     // mean over the samples (tokens) of their loss
  double accuracy = 0; // top-1 (cross_entropy with class labels), else NaN
  int64_t samples = 0; // sharded samples evaluated, padding included
};

/// Refuses a module whose validation loss dpc-run cannot compute per
/// sample: one compiled with --loss none (the model returns its own mean
/// loss) or without an evaluation step. Throws one line.
void checkValidationSupported(const Session &session);

/// Evaluates every rank's shard of `data` and sums the metrics over the
/// ranks. Collective (it starts with Session::syncBuffers).
Validation validate(Session &session, EvalData &data);

/// The model's output for every sample of `data`, in data order (rank 0
/// gathers the ranks' shards and drops the sampler's padding), written by
/// rank 0 to `path` as .npy. Collective. Returns the shape written.
std::vector<int64_t> predictToFile(Session &session, EvalData &data,
                                   const std::string &path);

} // namespace dpc::run

#endif // DPC_TOOLS_DPC_RUN_EVALUATION_H
