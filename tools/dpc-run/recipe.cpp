//===- recipe.cpp - dpc-run's data position, checkpoints and metrics ------===//

#include "recipe.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

using namespace dpc;
using namespace dpc::run;

namespace {

const char *lastName(LastBatch last) {
  return last == LastBatch::Drop ? "drop" : "pad";
}

/// A non-negative integer of the checkpoint's metadata.
int64_t metadataInteger(const std::map<std::string, std::string> &metadata,
                        const std::string &key, const std::string &file) {
  const std::string &text = metadata.at(key);
  size_t used = 0;
  long long value = -1;
  try {
    value = std::stoll(text, &used);
  } catch (const std::exception &) {
    used = 0;
  }
  if (used == 0 || used != text.size() || value < 0)
    throw Error(file + ": metadata '" + key +
                "' is not a non-negative integer: '" + text + "'");
  return value;
}

/// The step of a checkpoint file name "step-N.safetensors", or -1.
int64_t checkpointStep(const std::string &name) {
  const std::string prefix = "step-", suffix = ".safetensors";
  if (name.size() <= prefix.size() + suffix.size() ||
      name.compare(0, prefix.size(), prefix) != 0 ||
      name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
    return -1;
  std::string digits =
      name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
  if (digits.size() > 18 ||
      !std::all_of(digits.begin(), digits.end(),
                   [](char c) { return c >= '0' && c <= '9'; }))
    return -1;
  return std::stoll(digits);
}

/// The checkpoints of `dir` by step, oldest first.
std::vector<std::pair<int64_t, std::string>>
listCheckpoints(const std::string &dir) {
  DIR *d = ::opendir(dir.c_str());
  if (!d)
    throw Error("cannot read checkpoint directory '" + dir +
                "': " + std::strerror(errno));
  std::vector<std::pair<int64_t, std::string>> found;
  while (const dirent *entry = ::readdir(d)) {
    int64_t step = checkpointStep(entry->d_name);
    if (step >= 0)
      found.emplace_back(step, dir + "/" + entry->d_name);
  }
  ::closedir(d);
  std::sort(found.begin(), found.end());
  return found;
}

} // namespace

std::map<std::string, std::string>
dpc::run::dataMetadata(const SamplerOptions &order, const DataPosition &next) {
  return {{"dpc_run.samples", std::to_string(order.samples)},
          {"dpc_run.shuffle", order.shuffle ? "1" : "0"},
          {"dpc_run.seed", std::to_string(order.seed)},
          {"dpc_run.last_batch", lastName(order.last)},
          {"dpc_run.epoch", std::to_string(next.epoch)},
          {"dpc_run.batch", std::to_string(next.batch)}};
}

DataPosition
dpc::run::checkResume(const std::map<std::string, std::string> &metadata,
                      const std::string &file, const Session &session,
                      SamplerOptions &order, bool seedGiven,
                      int64_t batchesPerEpoch) {
  auto has = [&](const char *key) { return metadata.count(key) != 0; };
  if (has("world_size") &&
      metadata.at("world_size") != std::to_string(session.worldSize()))
    throw Error(file + " was written by a run on " + metadata.at("world_size") +
                " ranks, this one has " + std::to_string(session.worldSize()) +
                ": the data order would not continue");

  if (has("manifest_hash") &&
      metadata.at("manifest_hash") != session.manifestHash())
    throw Error(file + " was written by another compiled model (manifest " +
                metadata.at("manifest_hash") + ", " + session.path() + " has " +
                session.manifestHash() +
                "): resuming needs the same module; --init-weights takes "
                "just the parameters and buffers");
  if (!has("dpc_run.epoch")) {
    // Written without a data record: continue at the batch the step
    // counter reaches, as if it had run from the start of this data.
    int64_t step = session.stepCount();
    return {step / batchesPerEpoch, step % batchesPerEpoch};
  }
  for (const char *key : {"dpc_run.samples", "dpc_run.shuffle", "dpc_run.seed",
                          "dpc_run.last_batch", "dpc_run.batch"})
    if (!has(key))
      throw Error(file + ": metadata has 'dpc_run.epoch' but no '" +
                  std::string(key) + "'");
  int64_t samples = metadataInteger(metadata, "dpc_run.samples", file);
  if (samples != order.samples)
    throw Error(file + " was written by a run over " + std::to_string(samples) +
                " samples, the --data files have " +
                std::to_string(order.samples) +
                ": the data order would not continue");
  bool shuffled = metadata.at("dpc_run.shuffle") == "1";
  if (shuffled != order.shuffle)
    throw Error(file + " was written by a run " +
                (shuffled ? "with" : "without") + " --shuffle; give " +
                (shuffled ? "--shuffle" : "no --shuffle") +
                " to continue its data order");
  if (metadata.at("dpc_run.last_batch") != lastName(order.last))
    throw Error(file + " was written by a run with --" +
                metadata.at("dpc_run.last_batch") + "-last, this one has --" +
                lastName(order.last) + "-last");
  uint64_t seed = metadataInteger(metadata, "dpc_run.seed", file);
  if (shuffled && seedGiven && seed != order.seed)
    throw Error(file + " was written by a run with --seed " +
                std::to_string(seed) + ", this one has --seed " +
                std::to_string(order.seed) +
                " (leave --seed out to continue with the checkpoint's)");
  // Without --seed the run continues with the checkpoint's seed (its order,
  // and its dropout masks: Session::loadCheckpoint restored those).
  if (!seedGiven)
    order.seed = seed;
  DataPosition next{metadataInteger(metadata, "dpc_run.epoch", file),
                    metadataInteger(metadata, "dpc_run.batch", file)};
  if (next.batch >= batchesPerEpoch)
    throw Error(file + ": metadata 'dpc_run.batch' is " +
                std::to_string(next.batch) + ", but an epoch has " +
                std::to_string(batchesPerEpoch) + " batches");
  return next;
}

std::string dpc::run::checkpointPath(const std::string &dir, int64_t step) {
  char name[64];
  std::snprintf(name, sizeof(name), "step-%08lld.safetensors",
                static_cast<long long>(step));
  return dir + "/" + name;
}

std::string dpc::run::latestCheckpoint(const std::string &dir) {
  struct stat st;
  if (::stat(dir.c_str(), &st) == 0 && !S_ISDIR(st.st_mode))
    return dir; // a checkpoint file itself
  std::vector<std::pair<int64_t, std::string>> found = listCheckpoints(dir);
  if (found.empty())
    throw Error("--resume " + dir +
                ": the directory has no checkpoint (step-N.safetensors)");
  return found.back().second;
}

void dpc::run::prepareCheckpointDir(const std::string &dir) {
  if (::mkdir(dir.c_str(), 0777) != 0 && errno != EEXIST)
    throw Error("cannot create checkpoint directory '" + dir +
                "': " + std::strerror(errno));
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    throw Error("--checkpoint-dir " + dir + " is not a directory");
  checkOutputFile(checkpointPath(dir, 0), "checkpoint");
}

void dpc::run::pruneCheckpoints(const std::string &dir, int64_t keep) {
  if (keep <= 0)
    return;
  std::vector<std::pair<int64_t, std::string>> found = listCheckpoints(dir);
  for (size_t i = 0; i + keep < found.size(); ++i)
    if (::unlink(found[i].second.c_str()) != 0)
      throw Error("cannot remove old checkpoint '" + found[i].second +
                  "': " + std::strerror(errno));
}

std::string dpc::run::formatDuration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0)
    return "?";
  long long s = std::llround(seconds);
  char text[32];
  if (s < 60)
    std::snprintf(text, sizeof(text), "%llds", s);
  else
    std::snprintf(text, sizeof(text), "%lld:%02lld:%02lld", s / 3600,
                  s / 60 % 60, s % 60);
  return text;
}

MetricsFile::MetricsFile(const std::string &path, bool append) : path(path) {
  file = std::fopen(path.c_str(), append ? "a" : "w");
  if (!file)
    throw Error("cannot write metrics file '" + path +
                "': " + std::strerror(errno));
}

MetricsFile::~MetricsFile() {
  if (file)
    std::fclose(file);
}

MetricsFile::MetricsFile(MetricsFile &&other) noexcept
    : path(std::move(other.path)), file(other.file) {
  other.file = nullptr;
}

MetricsFile &MetricsFile::operator=(MetricsFile &&other) noexcept {
  std::swap(path, other.path);
  std::swap(file, other.file);
  return *this;
}

void MetricsFile::writeValidation(int64_t step, double epoch, double loss,
                                  double accuracy, int64_t samples) {
  if (!file)
    return;
  nlohmann::json line = {{"step", step},
                         {"epoch", epoch},
                         {"val_loss", loss},
                         {"val_samples", samples}};
  if (!std::isnan(accuracy))
    line["val_accuracy"] = accuracy;
  writeLine(line.dump());
}

void MetricsFile::writeLine(const std::string &json) {
  std::string text = json + "\n";
  if (std::fputs(text.c_str(), file) < 0 || std::fflush(file) != 0)
    throw Error("cannot write metrics file '" + path +
                "': " + std::strerror(errno));
}

void MetricsFile::write(const Progress &p) {
  if (!file)
    return;
  // A NaN or infinite loss or norm is written as null (JSON has no such
  // numbers).
  nlohmann::json line = {{"step", p.step},
                         {"epoch", p.epoch},
                         {"loss", p.loss},
                         {"lr", p.lr},
                         {"grad_norm", p.gradNorm},
                         {"samples_per_s", p.samplesPerSecond},
                         {"elapsed_s", p.elapsedSeconds}};
  if (p.lossScale) {
    line["loss_scale"] = *p.lossScale;
    line["skipped"] = p.skipped;
  }
  writeLine(line.dump());
}
