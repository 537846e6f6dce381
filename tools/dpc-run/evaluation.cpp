//===- evaluation.cpp - dpc-run's validation and prediction ---------------===//

#include "evaluation.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>

using namespace dpc;
using namespace dpc::run;

EvalData::EvalData(
    const Session &session,
    const std::vector<std::pair<std::string, std::string>> &given,
    bool withLabel, const std::string &flag) {
  const Manifest &m = session.manifest();
  if (!m.eval)
    throw Error(flag + ": " + session.path() +
                " has no evaluation step (compiled with --eval-step=false, "
                "or by a dpc without evaluation); recompile it with this dpc");
  std::vector<const TensorSpec *> specs;
  for (const TensorSpec &s : m.eval->inputs)
    specs.push_back(&s);
  if (withLabel && m.eval->label)
    specs.push_back(&*m.eval->label);
  std::string known;
  for (const TensorSpec *s : specs)
    known += (known.empty() ? "" : ", ") + s->name;

  std::map<std::string, std::string> paths;
  for (const auto &[name, path] : given) {
    bool found = false;
    for (const TensorSpec *s : specs)
      found |= s->name == name;
    // --predict takes the training command's --data; its label is unused.
    bool unusedLabel = !withLabel && m.label && m.label->name == name;
    if (!found && !unusedLabel)
      throw Error(flag + " " + name + "=" + path + ": " + session.path() +
                  " has no " + (withLabel ? "input or label" : "input") +
                  " named '" + name + "' (it has: " + known + ")");
    if (!paths.emplace(name, path).second)
      throw Error(flag + " " + name + " is given twice");
  }
  for (const TensorSpec *s : specs) {
    bool isLabel = m.eval->label && s == &*m.eval->label;
    const char *role = isLabel ? "label" : "input";
    auto it = paths.find(s->name);
    if (it == paths.end())
      throw Error("no " + flag + " for " + role + " '" + s->name + "' of " +
                  session.path() + " (give " + flag + " " + s->name +
                  "=FILE.npy)");
    if (s->shape.empty())
      throw Error(std::string(role) + " '" + s->name + "' of " +
                  session.path() + " is a scalar: it has no batch dimension");
    NpyFile file = NpyFile::open(it->second, s->dtype);
    const std::vector<int64_t> &shape = file.shape();
    std::vector<int64_t> want(s->shape.begin() + 1, s->shape.end());
    if (shape.empty() ||
        std::vector<int64_t>(shape.begin() + 1, shape.end()) != want)
      throw Error(it->second + ": samples have shape " +
                  (shape.empty()
                       ? std::string("(none: a scalar file)")
                       : formatShape({shape.begin() + 1, shape.end()})) +
                  ", but " + role + " '" + s->name + "' of " + session.path() +
                  " needs " + formatShape(want));
    if (files.empty()) {
      numSamples = shape[0];
      batch = s->shape[0];
    } else if (shape[0] != numSamples) {
      throw Error(it->second + " has " + std::to_string(shape[0]) +
                  " samples but " + files.front().path() + " has " +
                  std::to_string(numSamples));
    }
    if (numSamples == 0)
      throw Error(it->second + " has no samples");
    buffers.emplace_back(static_cast<size_t>(s->numBytes()));
    files.push_back(std::move(file));
  }
  for (const auto &buffer : buffers)
    pointers.push_back(buffer.data());
}

const std::vector<const void *> &
EvalData::read(const std::vector<int64_t> &shard, int64_t index,
               int64_t &valid) {
  int64_t first = index * batch;
  int64_t size = static_cast<int64_t>(shard.size());
  valid = std::min(batch, size - first);
  for (size_t f = 0; f < files.size(); ++f) {
    int64_t sampleBytes = files[f].sampleBytes();
    for (int64_t j = 0; j < batch; ++j) {
      // Rows past the shard's end repeat its first samples; they count in
      // nothing, but keep the batch's numbers ordinary.
      int64_t position = j < valid ? first + j : (j - valid) % size;
      files[f].readSample(shard[position], buffers[f].data() + j * sampleBytes);
    }
  }
  return pointers;
}

void dpc::run::checkValidationSupported(const Session &session) {
  const Manifest &m = session.manifest();
  if (!m.eval)
    throw Error("--eval-data: " + session.path() +
                " has no evaluation step (compiled with --eval-step=false, "
                "or by a dpc without evaluation); recompile it with this dpc");
  if (m.loss.kind == "none" || !m.eval->label)
    throw Error("--eval-data: " + session.path() +
                " was compiled with --loss none: its model returns its own "
                "mean loss, which dpc-run cannot split per sample for a "
                "validation set; use Session::evaluate in a program of your "
                "own");
  if (m.eval->outputs.size() != 1 || (m.eval->outputs[0].dtype != DType::F32 &&
                                      m.eval->outputs[0].dtype != DType::F64))
    throw Error("--eval-data: " + session.path() +
                " does not have one f32 (or f64) output to compute the loss "
                "from");
}

namespace {

/// Sums of a validation pass: loss, the samples (tokens) it is over, and
/// the correct top-1 predictions.
struct Sums {
  double loss = 0, count = 0, correct = 0;
};

/// Adds the first `valid` samples' per-sample loss (and top-1 hits) of
/// `output` against `label`, as the module's loss defines it: torch's
/// cross_entropy (logsumexp - the label's logit) per row, or the squared
/// error per element (mse). In double; T is the output's (and an mse
/// label's) element type, float, or double for a float64 model.
template <typename T>
void accumulateAs(const std::string &loss, const HostTensor &output,
                  const void *label, int64_t batch, int64_t valid, Sums &sums) {
  const T *out = output.data<T>();
  if (loss == "cross_entropy") {
    int64_t rows = output.shape[0], classes = output.shape[1];
    int64_t rowsPerSample = rows / batch;
    const int64_t *labels = static_cast<const int64_t *>(label);
    for (int64_t row = 0; row < valid * rowsPerSample; ++row) {
      const T *x = out + row * classes;
      int64_t y = labels[row];
      if (y < 0 || y >= classes)
        throw Error("validation: label " + std::to_string(y) + " at row " +
                    std::to_string(row) + " is not a class in [0, " +
                    std::to_string(classes) + ")");
      // torch.argmax: the first maximum; a NaN is the maximum.
      int64_t best = 0;
      double max = x[0];
      for (int64_t c = 1; c < classes && !std::isnan(x[best]); ++c)
        if (std::isnan(x[c]) || x[c] > x[best])
          best = c;
      for (int64_t c = 0; c < classes; ++c)
        max = std::max(max, static_cast<double>(x[c]));
      double sum = 0;
      for (int64_t c = 0; c < classes; ++c)
        sum += std::exp(static_cast<double>(x[c]) - max);
      sums.loss += max + std::log(sum) - x[y];
      sums.correct += best == y;
      sums.count += 1;
    }
  } else { // mse
    int64_t perSample = output.numElements() / batch;
    const T *target = static_cast<const T *>(label);
    for (int64_t i = 0; i < valid * perSample; ++i) {
      double d = static_cast<double>(out[i]) - target[i];
      sums.loss += d * d;
    }
    sums.count += static_cast<double>(valid * perSample);
  }
}

void accumulate(const std::string &loss, const HostTensor &output,
                const void *label, int64_t batch, int64_t valid, Sums &sums) {
  if (output.dtype == DType::F64)
    accumulateAs<double>(loss, output, label, batch, valid, sums);
  else
    accumulateAs<float>(loss, output, label, batch, valid, sums);
}

int64_t batchesOf(const std::vector<int64_t> &shard, int64_t batch) {
  return (static_cast<int64_t>(shard.size()) + batch - 1) / batch;
}

} // namespace

Validation dpc::run::validate(Session &session, EvalData &data) {
  const Manifest &m = session.manifest();
  // As DDP's forward: every rank evaluates with rank 0's buffers.
  session.syncBuffers();
  Sums sums;
  std::vector<int64_t> shard =
      evaluationShard(data.samples(), session.rank(), session.worldSize());
  ProcessGroup::collectively([&] {
    for (int64_t k = 0; k < batchesOf(shard, data.batchSize()); ++k) {
      int64_t valid = 0;
      const std::vector<const void *> &batch = data.read(shard, k, valid);
      EvalResult result = session.evaluate(batch);
      accumulate(m.loss.kind, result.outputs[0], batch.back(), data.batchSize(),
                 valid, sums);
    }
  });
  std::vector<double> totals = {sums.loss, sums.count, sums.correct};
  ProcessGroup::sumOverRanks(totals, "summing the validation metrics");
  Validation v;
  v.loss = totals[0] / totals[1];
  v.accuracy = m.loss.kind == "cross_entropy"
                   ? totals[2] / totals[1]
                   : std::numeric_limits<double>::quiet_NaN();
  v.samples = static_cast<int64_t>(shard.size()) * session.worldSize();
  return v;
}

std::vector<int64_t> dpc::run::predictToFile(Session &session, EvalData &data,
                                             const std::string &path) {
  const Manifest &m = session.manifest();
  const TensorSpec &output = m.eval->outputs.front();
  int64_t batch = data.batchSize();
  // The output's dimension 0 holds the batch's samples, one row each or
  // several (logits [B*T, V] of sequences [B, T]): rows are sample-major.
  std::vector<int64_t> shape;
  ProcessGroup::collectively([&] {
    if (output.shape.empty() || output.shape[0] % batch != 0)
      throw Error("--predict: the model's output " + formatShape(output.shape) +
                  " has no dimension 0 of the batch (" + std::to_string(batch) +
                  " samples) or a multiple of it; nothing to write per sample");
  });
  shape = output.shape;
  shape[0] = output.shape[0] / batch * data.samples();
  int64_t sampleBytes = output.numBytes() / batch;

  std::vector<int64_t> shard =
      evaluationShard(data.samples(), session.rank(), session.worldSize());
  std::string mine;
  ProcessGroup::collectively([&] {
    mine.reserve(shard.size() * sampleBytes);
    for (int64_t k = 0; k < batchesOf(shard, batch); ++k) {
      int64_t valid = 0;
      std::vector<HostTensor> outputs =
          session.predict(data.read(shard, k, valid));
      mine.append(reinterpret_cast<const char *>(outputs[0].bytes.data()),
                  valid * sampleBytes);
    }
  });
  std::vector<std::string> all =
      ProcessGroup::gatherToRoot(mine, "gathering the predictions");
  ProcessGroup::collectively([&] {
    if (session.rank() != 0)
      return;
    HostTensor result;
    result.dtype = output.dtype;
    result.shape = shape;
    result.bytes.resize(data.samples() * sampleBytes);
    int world = session.worldSize();
    // Sample p is the (p / world)-th of rank p % world's shard; the padding
    // at the shards' ends is left out.
    for (int64_t p = 0; p < data.samples(); ++p)
      std::memcpy(result.bytes.data() + p * sampleBytes,
                  all[p % world].data() + (p / world) * sampleBytes,
                  sampleBytes);
    writeNpy(path, result);
  });
  return shape;
}
