//===- checkpoint.cpp - Saving and restoring a session's state ------------===//
//
// Checkpoints are safetensors files (io/safetensors.cpp) holding every
// parameter, buffer and optimizer state under its checkpoint key and the
// step counter as "optimizer.step" and each parameter group's learning rate
// as "optimizer.param_groups.<g>.lr" (f64 scalars, the host values of the
// context), and with a GradScaler its state as "grad_scaler.scale" (f32),
// "grad_scaler.growth_tracker" and "grad_scaler.skipped_steps" (i64); rank 0
// reads and writes them, through
// the host copies of the tensors (the slots on the CPU, the mirrors on
// cuda), and the other ranks get rank 0's values by broadcast.
//
//===----------------------------------------------------------------------===//

#include "core/session_impl.h"

#include "comm/collectives.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <set>

using namespace dpc;

std::vector<TensorView> Session::Impl::checkpointViews(bool withAliases) {
  std::vector<TensorView> views;
  for (const std::string &key : keys) {
    const TensorRef &t = tensors.at(key);
    views.push_back({key, t.spec->dtype, t.spec->shape, t.data});
    if (!withAliases || key.rfind("optimizer.", 0) == 0)
      continue;
    for (const std::string &alias :
         static_cast<const WeightSpec *>(t.spec)->aliases)
      views.push_back({alias, t.spec->dtype, t.spec->shape, t.data});
  }
  views.push_back({"optimizer.step", DType::I64, {}, &ctx.step});
  for (size_t g = 0; g < ctx.learningRates.size(); ++g)
    views.push_back(
        {learningRateKey(g), DType::F64, {}, &ctx.learningRates[g]});
  for (size_t g = 0; g < ctx.momenta.size(); ++g)
    views.push_back({momentumKey(g), DType::F64, {}, &ctx.momenta[g]});
  if (ctx.gradScaler.enabled) {
    views.push_back(
        {"grad_scaler.scale", DType::F32, {}, &ctx.gradScaler.scale});
    views.push_back({"grad_scaler.growth_tracker",
                     DType::I64,
                     {},
                     &ctx.gradScaler.growthTracker});
    views.push_back({"grad_scaler.skipped_steps",
                     DType::I64,
                     {},
                     &ctx.gradScaler.skippedSteps});
  }
  return views;
}

namespace {

/// The training state beside the weights: optimizer state and step counter,
/// GradScaler's state. Initial weights (weightsOnly) take none of it.
bool isTrainingState(const std::string &key) {
  return key.rfind("optimizer.", 0) == 0 || key.rfind("grad_scaler.", 0) == 0;
}

} // namespace

std::string Session::Impl::momentumKey(size_t group) const {
  // torch's param_group['momentum'] (SGD) or param_group['betas'][0].
  return "optimizer.param_groups." + std::to_string(group) +
         (manifest.optimizer.kind == "sgd" ? ".momentum" : ".beta1");
}

std::string Session::Impl::learningRateKey(size_t group) {
  return "optimizer.param_groups." + std::to_string(group) + ".lr";
}

bool Session::Impl::isContextValue(const std::string &key) const {
  return key == "optimizer.step" || !tensors.count(key);
}

void Session::saveCheckpoint(const std::string &path) const {
  saveCheckpoint(path, {});
}

std::string Session::manifestHash() const {
  const char *json =
      static_cast<const char *>(dlsym(impl->module, DPC_MODEL_MANIFEST_SYMBOL));
  char hex[17];
  std::snprintf(
      hex, sizeof(hex), "%016llx",
      static_cast<unsigned long long>(dpc_checksum(json, std::strlen(json))));
  return hex;
}

void Session::saveCheckpoint(
    const std::string &path,
    const std::map<std::string, std::string> &extraMetadata) const {
  std::string hash = manifestHash();
  ProcessGroup::collectively([&] {
    if (impl->ctx.rank != 0)
      return;
    impl->flushMirrors();
    for (const std::string &key : impl->keys)
      impl->refreshMirror(impl->tensors.at(key).spec->slot);
    std::map<std::string, std::string> metadata = {
        {"format", "pt"}, // lets safetensors.torch.load_file read it as is
        {"producer", "dpc runtime"},
        {"model", impl->path},
        {"model_producer", impl->manifest.producer},
        {"dpc_abi_version", std::to_string(DPC_ABI_VERSION)},
        // What a resume must match (Session::loadCheckpointWithMetadata's
        // callers check): the compiled model and the number of ranks.
        {"manifest_hash", hash},
        {"world_size", std::to_string(impl->ctx.worldSize)},
        // The key of the dropout masks, so a resume redraws the same ones.
        {"dropout_seed", std::to_string(impl->ctx.seed)}};
    for (const auto &[key, value] : extraMetadata)
      if (!metadata.emplace(key, value).second)
        throw Error("saveCheckpoint: metadata key '" + key +
                    "' is the runtime's own");
    writeSafetensors(path, impl->checkpointViews(/*withAliases=*/true),
                     metadata);
  });
}

void Session::loadCheckpoint(const std::string &path) {
  impl->restore(path, /*weightsOnly=*/false);
}

void Session::loadWeights(const std::string &path) {
  impl->restore(path, /*weightsOnly=*/true);
}

std::map<std::string, std::string>
Session::loadCheckpointWithMetadata(const std::string &path) {
  std::map<std::string, std::string> metadata;
  impl->restore(path, /*weightsOnly=*/false, &metadata);
  return metadata;
}

/// Sends rank 0's `metadata` to every rank of `comm`, as "key\0value\0"...
static void broadcastMetadata(std::map<std::string, std::string> &metadata,
                              MPI_Comm comm) {
  std::string packed;
  for (const auto &[key, value] : metadata)
    packed += key + '\0' + value + '\0';
  int64_t size = static_cast<int64_t>(packed.size());
  broadcastBytes(&size, sizeof(size), comm, "the checkpoint's metadata size");
  packed.resize(static_cast<size_t>(size));
  broadcastBytes(packed.data(), size, comm, "the checkpoint's metadata");
  metadata.clear();
  for (size_t at = 0; at < packed.size();) {
    size_t keyEnd = packed.find('\0', at);
    size_t valueEnd = packed.find('\0', keyEnd + 1);
    metadata[packed.substr(at, keyEnd - at)] =
        packed.substr(keyEnd + 1, valueEnd - keyEnd - 1);
    at = valueEnd + 1;
  }
}

void Session::Impl::restore(const std::string &file, bool weightsOnly,
                            std::map<std::string, std::string> *metadata) {
  std::vector<TensorView> views = checkpointViews();
  if (weightsOnly)
    views.erase(std::remove_if(views.begin(), views.end(),
                               [](const TensorView &v) {
                                 return isTrainingState(v.name);
                               }),
                views.end());
  std::set<std::string> wanted;
  for (const TensorView &v : views)
    wanted.insert(v.name);
  for (const auto &entry : aliasOf)
    wanted.insert(entry.first);
  ProcessGroup::collectively([&] {
    if (ctx.rank != 0)
      return;
    SafetensorsFile contents = readSafetensors(file);
    // A tied tensor may come under any of its names (torch's state_dict has
    // each); where several are there, they must hold the same values, since
    // this model cannot untie them. `source` is the name read from.
    std::map<std::string, std::string> source;
    for (const TensorView &v : views)
      source[v.name] = v.name;
    for (const auto &[alias, name] : aliasOf) {
      auto found = contents.tensors.find(alias);
      if (found == contents.tensors.end() || !source.count(name))
        continue;
      auto primary = contents.tensors.find(source[name]);
      if (primary == contents.tensors.end()) {
        source[name] = alias;
        continue;
      }
      if (primary->second.dtype != found->second.dtype ||
          primary->second.shape != found->second.shape ||
          primary->second.bytes != found->second.bytes)
        throw Error(file + ": tensors '" + primary->first + "' and '" + alias +
                    "' differ, but they are one tied tensor in " + path);
    }
    if (metadata)
      *metadata = contents.metadata;
    // Check everything before overwriting anything.
    for (const TensorView &v : views) {
      auto it = contents.tensors.find(source[v.name]);
      if (it == contents.tensors.end())
        throw Error(file + ": missing tensor '" + v.name + "' of " + path);
      if (it->second.dtype != v.dtype || it->second.shape != v.shape)
        throw Error(file + ": tensor '" + v.name + "' is " +
                    dtypeName(it->second.dtype) +
                    formatShape(it->second.shape) + ", " + path + " expects " +
                    dtypeName(v.dtype) + formatShape(v.shape));
      // A bool buffer (a causal mask) is a constant compiled into the step,
      // which never reads its slot: a file may only hold the same values.
      if (v.dtype == DType::Bool) {
        const std::vector<unsigned char> &bytes = it->second.bytes;
        if (std::any_of(bytes.begin(), bytes.end(),
                        [](unsigned char b) { return b > 1; }))
          throw Error(file + ": bool tensor '" + v.name +
                      "' holds bytes other than 0 and 1");
        if (std::memcmp(v.data, bytes.data(), bytes.size()) != 0)
          throw Error(file + ": bool buffer '" + v.name +
                      "' differs from the value compiled into " + path +
                      " (bool buffers are constants of the step; recompile "
                      "the model with this value)");
      }
    }
    // Initial weights may come from a full checkpoint: its optimizer state
    // is then not wanted, but nothing else may be unexpected.
    for (const auto &entry : contents.tensors)
      if (!wanted.count(entry.first) &&
          !(weightsOnly && isTrainingState(entry.first)))
        throw Error(file + ": unexpected tensor '" + entry.first + "': not a " +
                    (weightsOnly ? "parameter or buffer"
                                 : "parameter, buffer or optimizer state") +
                    " of " + path);
    if (!weightsOnly) {
      int64_t step = *contents.tensors.at("optimizer.step").data<int64_t>();
      if (step < 0)
        throw Error(file + ": 'optimizer.step' is negative (" +
                    std::to_string(step) + ")");
      if (auto seed = contents.metadata.find("dropout_seed");
          seed != contents.metadata.end()) {
        char *end = nullptr;
        errno = 0;
        unsigned long long value =
            std::strtoull(seed->second.c_str(), &end, 10);
        if (seed->second.empty() || *end != '\0' || errno == ERANGE ||
            seed->second[0] == '-')
          throw Error(file +
                      ": metadata 'dropout_seed' is not an unsigned "
                      "64-bit integer: '" +
                      seed->second + "'");
        ctx.seed = value;
      }
      for (size_t g = 0; g < ctx.learningRates.size(); ++g) {
        double lr = *contents.tensors.at(learningRateKey(g)).data<double>();
        if (!std::isfinite(lr) || lr < 0.0)
          throw Error(file + ": '" + learningRateKey(g) +
                      "' is not a finite non-negative number");
      }
      for (size_t g = 0; g < ctx.momenta.size(); ++g) {
        double m = *contents.tensors.at(momentumKey(g)).data<double>();
        if (!std::isfinite(m) || m < 0.0 ||
            (manifest.optimizer.kind != "sgd" && m >= 1.0))
          throw Error(file + ": '" + momentumKey(g) + "' is out of range");
      }
      if (ctx.gradScaler.enabled) {
        float scale = *contents.tensors.at("grad_scaler.scale").data<float>();
        int64_t tracker =
            *contents.tensors.at("grad_scaler.growth_tracker").data<int64_t>();
        int64_t skipped =
            *contents.tensors.at("grad_scaler.skipped_steps").data<int64_t>();
        if (!std::isfinite(scale) || !(scale > 0.0f))
          throw Error(file +
                      ": 'grad_scaler.scale' is not a finite positive number");
        if (tracker < 0 || tracker >= ctx.gradScaler.growthInterval)
          throw Error(file + ": 'grad_scaler.growth_tracker' is not in [0, " +
                      std::to_string(ctx.gradScaler.growthInterval) + ")");
        if (skipped < 0 || skipped > step)
          throw Error(file + ": 'grad_scaler.skipped_steps' is not in [0, " +
                      "'optimizer.step']");
      }
    }
    for (const TensorView &v : views)
      std::memcpy(const_cast<void *>(v.data),
                  contents.tensors.at(source[v.name]).bytes.data(),
                  contents.tensors.at(source[v.name]).bytes.size());
    for (const TensorView &v : views)
      if (!isContextValue(v.name))
        syncToSlot(tensors.at(v.name));
  });
  weightsLoaded = true;
  if (ctx.worldSize == 1)
    return;
  if (metadata)
    broadcastMetadata(*metadata, ctx.comm);
  // Rank 0's slots (on cuda over NCCL), its step counter and learning
  // rates (MPI, host).
  for (const TensorView &v : views)
    if (!isContextValue(v.name)) {
      const TensorRef &t = tensors.at(v.name);
      backendTable().broadcast(&ctx, slots[t.spec->slot], t.spec->numBytes(),
                               "'" + v.name + "'");
    }
  if (!weightsOnly) {
    broadcastBytes(&ctx.step, sizeof(ctx.step), ctx.comm, "'optimizer.step'");
    broadcastBytes(&ctx.seed, sizeof(ctx.seed), ctx.comm, "the dropout seed");
    if (!ctx.learningRates.empty())
      broadcastBytes(ctx.learningRates.data(),
                     ctx.learningRates.size() * sizeof(double), ctx.comm,
                     "the learning rates");
    if (!ctx.momenta.empty())
      broadcastBytes(ctx.momenta.data(), ctx.momenta.size() * sizeof(double),
                     ctx.comm, "the momenta");
    if (ctx.gradScaler.enabled) {
      GradScalerState &g = ctx.gradScaler;
      broadcastBytes(&g.scale, sizeof(g.scale), ctx.comm, "the loss scale");
      broadcastBytes(&g.growthTracker, sizeof(g.growthTracker), ctx.comm,
                     "the loss scale's growth tracker");
      broadcastBytes(&g.skippedSteps, sizeof(g.skippedSteps), ctx.comm,
                     "the skipped steps");
    }
  }
  backendTable().synchronize(&ctx);
  raiseError();
  refreshMirrors();
}
