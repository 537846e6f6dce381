//===- recipe.h - dpc-run's data position, checkpoints and metrics -*- C++
//-*-===//
//
// The parts of dpc-run that make a training job resumable and observable:
// where in the data a run is (and how a checkpoint records it), the
// checkpoint directory (--checkpoint-every, --keep-last, --resume), the
// progress line and the metrics file (--metrics).
//
//===----------------------------------------------------------------------===//

#ifndef DPC_TOOLS_DPC_RUN_RECIPE_H
#define DPC_TOOLS_DPC_RUN_RECIPE_H

#include "dpc/data.h"
#include "dpc/runtime.h"

#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <string>

namespace dpc::run {

/// Where the next batch comes from.
struct DataPosition {
  int64_t epoch = 0;
  int64_t batch = 0; // within the epoch
};

/// The checkpoint metadata that lets a resumed run continue the data order
/// exactly: the sampler's options and the position of the next batch.
std::map<std::string, std::string> dataMetadata(const SamplerOptions &order,
                                                const DataPosition &next);

/// Checks that the checkpoint `file` (its `metadata`) was written for this
/// model, world size and data, adopting its --seed when none was given
/// (`order.seed`, `seedGiven`); returns where its run stopped. A checkpoint
/// without dpc-run's data record (an older or foreign one) continues at the
/// batch its step counter reaches in `order`'s epochs. Throws one line.
DataPosition checkResume(const std::map<std::string, std::string> &metadata,
                         const std::string &file, const Session &session,
                         SamplerOptions &order, bool seedGiven,
                         int64_t batchesPerEpoch);

/// The checkpoint of step `step` in `dir`: DIR/step-00000042.safetensors.
std::string checkpointPath(const std::string &dir, int64_t step);
/// The checkpoint with the highest step in `dir`; throws when it has none.
std::string latestCheckpoint(const std::string &dir);
/// Creates `dir` if missing (its parent must exist); throws when it cannot
/// hold checkpoints.
void prepareCheckpointDir(const std::string &dir);
/// Removes all but the `keep` newest checkpoints of `dir` (0 keeps all).
void pruneCheckpoints(const std::string &dir, int64_t keep);

/// "1:02:03" or "42s".
std::string formatDuration(double seconds);

/// One line of the metrics file, and of the progress printed on rank 0.
struct Progress {
  int64_t step = 0;     // the session's step counter after the step
  int64_t runStep = 0;  // steps of this run
  int64_t runSteps = 0; // steps this run takes
  double epoch = 0;     // epochs completed, fractional
  double loss = 0;
  double lr = 0;
  double gradNorm = 0; // Session::gradientNorm: L2, before clipping
  /// --grad-scaler modules: the loss scale the step ran with and whether
  /// its updates were skipped (an inf or NaN gradient).
  std::optional<float> lossScale;
  bool skipped = false;
  double samplesPerSecond = 0;
  double elapsedSeconds = 0;
  double secondsLeft = 0;
};

/// --metrics FILE: one JSON object per logged step ({"step", "epoch",
/// "loss", "lr", "grad_norm", "samples_per_s", "elapsed_s"}, with a
/// GradScaler also "loss_scale" and "skipped"), flushed line by
/// line so a plot can follow a running job. A resumed run appends.
class MetricsFile {
public:
  MetricsFile() = default;
  MetricsFile(const std::string &path, bool append);
  ~MetricsFile();
  MetricsFile(const MetricsFile &) = delete;
  MetricsFile &operator=(const MetricsFile &) = delete;
  MetricsFile(MetricsFile &&other) noexcept;
  MetricsFile &operator=(MetricsFile &&other) noexcept;

  void write(const Progress &progress);
  /// A validation's line: {"step", "epoch", "val_loss", "val_accuracy"
  /// (absent without accuracy), "val_samples"}.
  void writeValidation(int64_t step, double epoch, double loss, double accuracy,
                       int64_t samples);

private:
  void writeLine(const std::string &json);

  std::string path;
  std::FILE *file = nullptr;
};

} // namespace dpc::run

#endif // DPC_TOOLS_DPC_RUN_RECIPE_H
