//===- session.cpp - Loading a model.so and running training steps --------===//
//
// Loading happens in two phases: everything that can fail locally (dlopen,
// manifest, allocation) runs under ProcessGroup::collectively so that all
// ranks agree on failure before any collective operation (communicator
// duplication, broadcasts) begins. What the slots are and how values reach
// them is the context's backend's business (backend.h); the session only
// calls its services. Checkpoints are in checkpoint.cpp.
//
//===----------------------------------------------------------------------===//

#include "core/session_impl.h"

#include "comm/collectives.h"
#include "comm/comm_stream.h"
#include "io/file_io.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <utility>

#include <dlfcn.h>

using namespace dpc;

namespace {

/// Makes libdpcrt's symbols global, so the undefined dpcrt_* references of
/// a module opened with RTLD_LOCAL resolve even when the embedding program
/// itself opened libdpcrt with RTLD_LOCAL (a no-op when it was linked).
void exportRuntimeSymbols() {
  Dl_info info;
  if (dladdr(reinterpret_cast<void *>(&dpcrt_fill_f32), &info) &&
      info.dli_fname)
    dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_GLOBAL);
}

} // namespace

Session::Impl::~Impl() {
  ctx.commStream.reset(); // joins the communication thread before the
                          // communicator goes away
  ctx.tracer = nullptr;
  if (ctx.comm != MPI_COMM_NULL && ProcessGroup::isDistributed())
    MPI_Comm_free(&ctx.comm);
  mirrors.clear();
  slotMemory.clear();
  ctx.cuda.reset(); // before the module and MPI go away
  if (module)
    dlclose(module);
}

void Session::Impl::openModule() {
  // dlopen of a truncated or corrupted file crashes inside the loader.
  checkModuleFile(path);
  exportRuntimeSymbols();
  // Without a slash dlopen would search the library path, not the directory
  // the user means.
  std::string file = path.find('/') == std::string::npos ? "./" + path : path;
  module = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!module) {
    std::string reason = dlerror();
    // dlerror repeats the file name: "./m.so: cannot open shared object...".
    if (reason.rfind(file + ": ", 0) == 0)
      reason = reason.substr(file.size() + 2);
    // A module built for another ABI may reference kernels this runtime
    // lacks; its manifest then explains the failure better than dlerror.
    if (void *lazy = dlopen(file.c_str(), RTLD_LAZY | RTLD_LOCAL)) {
      const char *text =
          static_cast<const char *>(dlsym(lazy, DPC_MODEL_MANIFEST_SYMBOL));
      std::string json = text ? text : "";
      dlclose(lazy);
      if (!json.empty())
        Manifest::parse(json, path); // throws on an ABI mismatch
    }
    throw Error("cannot load " + path + ": " + reason);
  }
  auto symbol = [&](const char *name) {
    void *p = dlsym(module, name);
    if (!p)
      throw Error(path + " is not a dpc module: it does not export " + name);
    return p;
  };
  const char *json =
      static_cast<const char *>(symbol(DPC_MODEL_MANIFEST_SYMBOL));
  const auto *weights =
      static_cast<const unsigned char *>(symbol(DPC_MODEL_WEIGHTS_SYMBOL));
  trainStep = reinterpret_cast<dpc_model_train_step_fn>(
      symbol(DPC_MODEL_TRAIN_STEP_SYMBOL));
  // The manifest must be the one the module was compiled with: the step
  // trusts its slots and sizes. (The file checksum covers it too; this
  // also holds for a module whose trailer was rewritten.)
  if (const auto *hash = static_cast<const uint64_t *>(
          dlsym(module, DPC_MODEL_MANIFEST_HASH_SYMBOL));
      hash && *hash != dpc_checksum(json, std::strlen(json)))
    throw Error(path + ": its manifest is not the one it was compiled with "
                       "(modified or corrupted)");
  manifest = Manifest::parse(json, path);
  if (manifest.eval)
    evalStep = reinterpret_cast<dpc_model_eval_step_fn>(
        symbol(DPC_MODEL_EVAL_STEP_SYMBOL));

  int ranks = ProcessGroup::worldSize();
  // --mode dp runs its replicas as threads of one process.
  if (manifest.mode == "dp" && ranks > 1)
    throw Error(path + " was compiled with --mode dp: it runs its " +
                std::to_string(manifest.replicas) +
                " replicas in one process, not under mpirun -np " +
                std::to_string(ranks));
  if (manifest.worldSize != ranks)
    throw Error(path + " was compiled for --world-size " +
                std::to_string(manifest.worldSize) + " but runs on " +
                std::to_string(ranks) + (ranks == 1 ? " rank" : " ranks") +
                (ranks == 1 ? " (launch it with mpirun -np " +
                                  std::to_string(manifest.worldSize) + ")"
                            : ""));
  allocate();
  weightsLoaded = !manifest.externalWeights;
  if (manifest.externalWeights)
    return;
  for (const auto *list : {&manifest.parameters, &manifest.buffers})
    for (const WeightSpec &w : *list)
      backendTable().copyToDevice(&ctx, slots[w.slot],
                                  weights + w.weightsOffset, w.numBytes());
}

void Session::Impl::place(int64_t slot, int64_t bytes, const std::string &what,
                          bool mirrored) {
  slotBytes += std::max<int64_t>(bytes, 1);
  const BackendTable &backend = backendTable();
  slotMemory[slot] =
      SlotBuffer(backend.allocate(&ctx, bytes, what), SlotDeleter{&backend});
  slots[slot] = slotMemory[slot].get();
  if (mirrored && hasMirrors()) {
    const BackendTable &host = cpu::backendTable();
    mirrors[slot] =
        SlotBuffer(host.allocate(&ctx, bytes, what), SlotDeleter{&host});
  }
}

void Session::Impl::flushMirrors() {
  if (!hasMirrors())
    return;
  for (size_t slot = 0; slot < handedOut.size(); ++slot)
    if (handedOut[slot]) {
      int64_t bytes = 0;
      for (const auto &entry : tensors)
        if (entry.second.spec->slot == static_cast<int64_t>(slot))
          bytes = entry.second.spec->numBytes();
      backendTable().copyToDevice(&ctx, slots[slot], mirrors[slot].get(),
                                  bytes);
    }
}

void Session::Impl::refreshMirrors() {
  if (!hasMirrors())
    return;
  for (size_t slot = 0; slot < handedOut.size(); ++slot)
    if (handedOut[slot])
      refreshMirror(static_cast<int64_t>(slot));
}

void Session::Impl::refreshMirror(int64_t slot) {
  if (!hasMirrors())
    return;
  for (const auto &entry : tensors)
    if (entry.second.spec->slot == slot) {
      backendTable().copyToHost(&ctx, mirrors[slot].get(), slots[slot],
                                entry.second.spec->numBytes());
      return;
    }
}

void Session::Impl::syncToSlot(const TensorRef &ref) {
  if (hasMirrors())
    backendTable().copyToDevice(&ctx, slots[ref.spec->slot], ref.data,
                                ref.spec->numBytes());
}

TensorRef Session::Impl::handOut(const TensorRef &ref) {
  if (!hasMirrors() || handedOut[ref.spec->slot])
    return ref;
  refreshMirror(ref.spec->slot);
  handedOut[ref.spec->slot] = true;
  return ref;
}

void Session::Impl::allocate() {
  slotMemory.resize(manifest.numSlots);
  mirrors.resize(manifest.numSlots);
  slots.assign(manifest.numSlots, nullptr);
  handedOut.assign(manifest.numSlots, false);
  auto add = [&](const TensorSpec &spec, const std::string &what,
                 bool mirrored) {
    place(spec.slot, spec.numBytes(), what + " '" + spec.name + "'", mirrored);
  };
  for (const TensorSpec &s : manifest.inputs) {
    add(s, "input", false);
    batch.push_back(&s);
  }
  if (manifest.label) {
    add(*manifest.label, "label", false);
    batch.push_back(&*manifest.label);
  }
  // Checkpoint tensors point at host memory: the slot itself on the CPU,
  // the mirror on cuda.
  auto host = [&](int64_t slot) {
    return hasMirrors() ? mirrors[slot].get() : slots[slot];
  };
  for (const auto *list : {&manifest.parameters, &manifest.buffers})
    for (const WeightSpec &s : *list) {
      add(s, "parameter", true);
      tensors[s.name] = TensorRef{&s, host(s.slot)};
      keys.push_back(s.name);
      for (const std::string &alias : s.aliases)
        aliasOf[alias] = s.name;
    }
  for (const auto &[alias, name] : aliasOf)
    if (tensors.count(alias))
      throw Error(path + ": the manifest names '" + alias +
                  "' both as a tensor and as another name of '" + name + "'");
  for (const OptimizerStateSpec &s : manifest.optimizerState) {
    add(s, "optimizer state", true);
    std::string key = "optimizer." + s.name;
    tensors[key] = TensorRef{&s, host(s.slot)};
    keys.push_back(key);
  }
  place(manifest.loss.slot, dtypeSize(manifest.loss.dtype), "the loss", false);
  place(manifest.arenaSlot, manifest.arenaBytes, "the arena", false);
  if (manifest.eval)
    allocateEval();
  // Each parameter group starts at its initial learning rate.
  ctx.learningRates.clear();
  ctx.momenta.clear();
  const OptimizerSpec &optimizer = manifest.optimizer;
  for (const ParamGroupSpec &g : manifest.paramGroups) {
    ctx.learningRates.push_back(g.lr);
    // ... and at the optimizer's momentum / beta1, where it is read.
    if (optimizer.momentumAtRunTime)
      ctx.momenta.push_back(optimizer.kind == "sgd" ? optimizer.momentum
                                                    : optimizer.beta1);
  }
  // GradScaler starts at its init_scale.
  ctx.gradScaler = GradScalerState();
  if (const std::optional<GradScalerSpec> &g = manifest.gradScaler) {
    ctx.gradScaler.enabled = true;
    ctx.gradScaler.scale = static_cast<float>(g->initScale);
    ctx.gradScaler.growthFactor = g->growthFactor;
    ctx.gradScaler.backoffFactor = g->backoffFactor;
    ctx.gradScaler.growthInterval = g->growthInterval;
  }
}

namespace {

/// GradScaler.update after a step, as torch's _amp_update_scale_ kernel:
/// after an inf the scale backs off and the good-step count restarts; after
/// growth_interval good steps in a row it grows (unless that overflows).
/// float32 scale times the double factor, rounded to float32, as the
/// kernel's `*current_scale * growth_factor`.
void updateGradScaler(GradScalerState &g) {
  if (g.foundInf) {
    g.scale =
        static_cast<float>(static_cast<double>(g.scale) * g.backoffFactor);
    g.growthTracker = 0;
    ++g.skippedSteps;
    return;
  }
  int64_t successful = g.growthTracker + 1;
  if (successful == g.growthInterval) {
    float grown =
        static_cast<float>(static_cast<double>(g.scale) * g.growthFactor);
    if (std::isfinite(grown))
      g.scale = grown;
    g.growthTracker = 0;
  } else {
    g.growthTracker = successful;
  }
}

} // namespace

void Session::Impl::allocateEval() {
  const EvalSpec &e = *manifest.eval;
  evalSlotMemory.resize(e.numSlots);
  evalSlots.assign(e.numSlots, nullptr);
  const BackendTable &backend = backendTable();
  auto own = [&](int64_t slot, int64_t bytes, const std::string &what) {
    slotBytes += std::max<int64_t>(bytes, 1);
    evalSlotMemory[slot] =
        SlotBuffer(backend.allocate(&ctx, bytes, what), SlotDeleter{&backend});
    evalSlots[slot] = evalSlotMemory[slot].get();
  };
  for (const TensorSpec &s : e.inputs)
    own(s.slot, s.numBytes(), "evaluation input '" + s.name + "'");
  if (e.label)
    own(e.label->slot, e.label->numBytes(),
        "evaluation label '" + e.label->name + "'");
  own(e.lossSlot, dtypeSize(e.lossDType), "the evaluation loss");
  for (const TensorSpec &s : e.outputs)
    own(s.slot, s.numBytes(), "output '" + s.name + "'");
  for (const auto &[name, slot] : e.tensors)
    evalSlots[slot] = slots[tensors.at(name).spec->slot];
  if (e.arenaBytes <= manifest.arenaBytes)
    evalSlots[e.arenaSlot] = slots[manifest.arenaSlot];
  else
    own(e.arenaSlot, e.arenaBytes, "the evaluation arena");
}

void Session::Impl::distribute() {
  ctx.rank = ProcessGroup::rank();
  ctx.worldSize = ProcessGroup::worldSize();
  if (ProcessGroup::isDistributed()) {
    checkMpi(MPI_Comm_dup(MPI_COMM_WORLD, &ctx.comm), "MPI_Comm_dup");
    MPI_Comm_set_errhandler(ctx.comm, MPI_ERRORS_RETURN);
  }
  backendTable().joinRanks(&ctx);
  if (ctx.worldSize > 1)
    for (const auto *list : {&manifest.parameters, &manifest.buffers})
      for (const WeightSpec &w : *list)
        backendTable().broadcast(&ctx, slots[w.slot], w.numBytes(),
                                 "'" + w.name + "'");
  backendTable().synchronize(&ctx);
  raiseError();
}

//===----------------------------------------------------------------------===//
// Session
//===----------------------------------------------------------------------===//

Session::Session(std::unique_ptr<Impl> impl) : impl(std::move(impl)) {}
Session::Session(Session &&) noexcept = default;
Session &Session::operator=(Session &&) noexcept = default;
Session::~Session() = default;

Session Session::load(const std::string &path, const SessionOptions &options) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  // Splitting the communicator is collective, so it happens before the
  // phase in which ranks may fail independently.
  // Every rank takes this branch or none (same options, same build).
  int localRank = 0, localCount = 1;
  if (options.backend != Backend::Cpu && backendAvailable(Backend::Cuda))
    localRanks(localRank, localCount);
  ProcessGroup::collectively([&] {
    impl->backend = resolveBackend(options.backend, localCount);
    attachBackend(impl->ctx, impl->backend, localRank);
    impl->openModule();
  });
  // Ranks that loaded different modules would exchange tensors of
  // different sizes: hang or worse.
  const char *json =
      static_cast<const char *>(dlsym(impl->module, DPC_MODEL_MANIFEST_SYMBOL));
  ProcessGroup::agree(
      {{"the module's manifest (its hash)",
        static_cast<int64_t>(dpc_checksum(json, std::strlen(json)))}});
  impl->distribute();
  if (!options.initWeights.empty())
    impl->restore(options.initWeights, /*weightsOnly=*/true);
  return Session(std::move(impl));
}

double Session::step(const std::vector<const void *> &localBatch) {
  Impl &s = *impl;
  if (localBatch.size() != s.batch.size())
    throw Error("step: " + s.path + " takes " + std::to_string(s.batch.size()) +
                " tensors (inputs, then the label), got " +
                std::to_string(localBatch.size()));
  for (size_t i = 0; i < localBatch.size(); ++i) {
    if (!localBatch[i])
      throw Error("step: no data for '" + s.batch[i]->name + "'");
  }
  if (!s.weightsLoaded)
    throw Error("step: " + s.path +
                " was compiled with --weights external "
                "and has no initial weights yet (Session::loadWeights)");
  if (s.ctx.step == INT64_MAX)
    throw Error("step: " + s.path +
                ": the step counter is at its maximum "
                "(int64); no further step can be counted");
  const BackendTable &backend = s.backendTable();
  // The host thread that runs the step may not be the one that loaded.
  backend.makeCurrent(&s.ctx);
  s.flushMirrors();
  // On cuda from pageable host memory: each copy returns once its source is
  // staged, so the caller may reuse its batch right away.
  for (size_t i = 0; i < localBatch.size(); ++i)
    backend.copyToDevice(&s.ctx, s.slots[s.batch[i]->slot], localBatch[i],
                         s.batch[i]->numBytes());
  // DDP's broadcast_buffers: before every forward, rank 0's buffers
  // (BatchNorm's running statistics, num_batches_tracked) overwrite every
  // other rank's, which then update them from their own batch.
  if (s.ctx.worldSize > 1)
    for (const WeightSpec &w : s.manifest.buffers)
      backend.broadcast(&s.ctx, s.slots[w.slot], w.numBytes(),
                        "buffer '" + w.name + "'");
  s.ctx.error.clear();
  s.ctx.gradScaler.foundInf = false;
  if (s.tracer)
    s.tracer->setStep(s.ctx.step + 1);
  s.trainStep(&s.ctx, s.slots.data());
  drainPending(&s.ctx);
  // On cuda kernels only enqueue work: their failures surface here.
  backend.synchronize(&s.ctx);
  // Read (and reset) before a step error is raised, so that a failed step
  // leaves no partial sums to the next.
  s.lastGradientNorm = backend.takeGradientNorm(&s.ctx);
  s.raiseStepError();
  // The scale this step ran with, for lossScale() (the scale PyTorch's
  // scaler.get_scale() reads before scaler.update()).
  s.lastLossScale = s.ctx.gradScaler.scale;
  if (s.ctx.gradScaler.enabled)
    updateGradScaler(s.ctx.gradScaler);
  ++s.ctx.step;
  double loss =
      s.readLoss(s.slots[s.manifest.loss.slot], s.manifest.loss.dtype);
  s.refreshMirrors();
  return s.averageLoss(loss);
}

double Session::gradientNorm() const { return impl->lastGradientNorm; }

bool Session::hasEvalStep() const { return impl->evalStep != nullptr; }

double Session::Impl::runEval(const std::vector<const void *> &batch,
                              bool withLabel, std::vector<HostTensor> &outputs,
                              const char *what) {
  if (!evalStep)
    throw Error(std::string(what) + ": " + path +
                " has no evaluation step (compiled with --eval-step=false, "
                "or by a dpc without evaluation); recompile it with this "
                "dpc");
  const EvalSpec &e = *manifest.eval;
  std::vector<const TensorSpec *> specs;
  for (const TensorSpec &s : e.inputs)
    specs.push_back(&s);
  if (withLabel && e.label)
    specs.push_back(&*e.label);
  if (batch.size() != specs.size())
    throw Error(std::string(what) + ": " + path + " takes " +
                std::to_string(specs.size()) +
                (withLabel ? " tensors (inputs, then the label), got "
                           : " inputs, got ") +
                std::to_string(batch.size()));
  for (size_t i = 0; i < batch.size(); ++i)
    if (!batch[i])
      throw Error(std::string(what) + ": no data for '" + specs[i]->name + "'");
  if (!weightsLoaded)
    throw Error(std::string(what) + ": " + path +
                " was compiled with --weights external "
                "and has no weights yet (Session::loadWeights)");
  const BackendTable &backend = backendTable();
  backend.makeCurrent(&ctx);
  flushMirrors();
  for (size_t i = 0; i < batch.size(); ++i)
    backend.copyToDevice(&ctx, evalSlots[specs[i]->slot], batch[i],
                         specs[i]->numBytes());
  if (!withLabel && e.label) {
    // Class 0 is a valid class for any loss: the loss is dropped.
    std::vector<unsigned char> zeros(e.label->numBytes(), 0);
    backend.copyToDevice(&ctx, evalSlots[e.label->slot], zeros.data(),
                         zeros.size());
  }
  ctx.error.clear();
  evalStep(&ctx, evalSlots.data());
  drainPending(&ctx);
  backend.synchronize(&ctx);
  if (!ctx.error.empty())
    throw Error(path + ": " +
                (ctx.worldSize > 1 ? "rank " + std::to_string(ctx.rank) + ", "
                                   : std::string()) +
                what + " after step " + std::to_string(ctx.step) + ": " +
                std::exchange(ctx.error, std::string()));
  double loss = readLoss(evalSlots[e.lossSlot], e.lossDType);
  outputs.clear();
  for (const TensorSpec &s : e.outputs) {
    HostTensor &out = outputs.emplace_back();
    out.dtype = s.dtype;
    out.shape = s.shape;
    out.bytes.resize(s.numBytes());
    backend.copyToHost(&ctx, out.bytes.data(), evalSlots[s.slot], s.numBytes());
  }
  return loss;
}

EvalResult Session::evaluate(const std::vector<const void *> &localBatch) {
  EvalResult result;
  result.loss =
      impl->runEval(localBatch, /*withLabel=*/true, result.outputs, "evaluate");
  return result;
}

std::vector<HostTensor>
Session::predict(const std::vector<const void *> &inputs) {
  std::vector<HostTensor> outputs;
  impl->runEval(inputs, /*withLabel=*/false, outputs, "predict");
  return outputs;
}

void Session::syncBuffers() {
  Impl &s = *impl;
  if (s.ctx.worldSize == 1)
    return;
  const BackendTable &backend = s.backendTable();
  backend.makeCurrent(&s.ctx);
  s.flushMirrors();
  for (const WeightSpec &w : s.manifest.buffers)
    backend.broadcast(&s.ctx, s.slots[w.slot], w.numBytes(),
                      "buffer '" + w.name + "'");
  backend.synchronize(&s.ctx);
  s.raiseError();
  s.refreshMirrors();
}

void Session::Impl::raiseStepError() {
  if (ctx.error.empty())
    return;
  throw Error(path + ": " +
              (ctx.worldSize > 1 ? "rank " + std::to_string(ctx.rank) + ", "
                                 : std::string()) +
              "step " + std::to_string(ctx.step + 1) + ": " + ctx.error);
}

void Session::Impl::raiseError() {
  if (!ctx.error.empty())
    throw Error(path + ": " + std::exchange(ctx.error, std::string()));
}

double Session::Impl::readLoss(const void *slot, DType dtype) {
  if (dtype == DType::F64) {
    double loss = 0.0;
    backendTable().copyToHost(&ctx, &loss, slot, sizeof(double));
    return loss;
  }
  float loss = 0.0f;
  backendTable().copyToHost(&ctx, &loss, slot, sizeof(float));
  return loss;
}

double Session::Impl::averageLoss(double loss) {
  if (ctx.worldSize == 1)
    return loss;
  double sum = sumOverRanks(
      loss, ctx.comm, "averaging the loss of step " + std::to_string(ctx.step));
  return sum / ctx.worldSize;
}

void Session::startTrace() {
  Impl &s = *impl;
  if (s.ctx.worldSize > 1)
    barrier(s.ctx.comm, "starting the trace");
  s.tracer =
      std::make_unique<Tracer>(s.manifest.schedule, Tracer::Clock::now());
  s.ctx.tracer = s.tracer.get();
}

void Session::writeTrace(const std::string &path) {
  Impl &s = *impl;
  std::string events = s.tracer ? s.tracer->eventsJson(s.ctx.rank) : "";
  std::vector<std::string> all = {events};
  if (s.ctx.worldSize > 1) {
    // Rank 0 collects every rank's events.
    all = gatherToRoot(events, s.ctx.comm, "collecting the trace");
    if (s.ctx.rank != 0)
      return;
  }
  writeTraceFile(path, all);
}

int Session::rank() const { return impl->ctx.rank; }
int Session::worldSize() const { return impl->ctx.worldSize; }
Backend Session::backend() const { return impl->backend; }
const std::string &Session::path() const { return impl->path; }
const Manifest &Session::manifest() const { return impl->manifest; }
int64_t Session::stepCount() const { return impl->ctx.step; }
bool Session::hasGradScaler() const { return impl->ctx.gradScaler.enabled; }
float Session::lossScale() const { return impl->ctx.gradScaler.scale; }
float Session::lastStepLossScale() const { return impl->lastLossScale; }
bool Session::lastStepSkipped() const { return impl->ctx.gradScaler.foundInf; }
int64_t Session::skippedSteps() const {
  return impl->ctx.gradScaler.skippedSteps;
}

//===----------------------------------------------------------------------===//
// Learning rate (per parameter group)
//===----------------------------------------------------------------------===//

int Session::numParamGroups() const {
  return static_cast<int>(impl->ctx.learningRates.size());
}

double Session::learningRate(int group) const {
  const std::vector<double> &rates = impl->ctx.learningRates;
  if (rates.empty())
    throw Error(impl->path + " has its learning rate compiled in (no "
                             "parameter groups in its manifest); recompile "
                             "it with this dpc");
  if (group < 0 || static_cast<size_t>(group) >= rates.size())
    throw Error(impl->path + " has no parameter group " +
                std::to_string(group) + " (it has " +
                std::to_string(rates.size()) + ")");
  return rates[group];
}

void Session::setLearningRate(double lr, int group) {
  if (!std::isfinite(lr) || lr < 0.0) {
    char text[32];
    std::snprintf(text, sizeof(text), "%.17g", lr);
    throw Error(std::string("learning rate ") + text +
                " is not a finite non-negative number");
  }
  if (group == -1) {
    learningRate(0); // the same checks
    for (double &rate : impl->ctx.learningRates)
      rate = lr;
    return;
  }
  learningRate(group);
  impl->ctx.learningRates[group] = lr;
}

double Session::momentum(int group) const {
  const std::vector<double> &momenta = impl->ctx.momenta;
  if (momenta.empty())
    throw Error(
        impl->path + " has its momentum compiled in (" +
        (impl->manifest.optimizer.kind == "sgd" &&
                 impl->manifest.optimizer.momentum == 0.0 &&
                 !impl->manifest.paramGroups.empty()
             ? std::string("SGD compiled without momentum has no momentum "
                           "buffer; compile it with --momentum")
             : std::string("recompile it with this dpc")) +
        ")");
  if (group < 0 || static_cast<size_t>(group) >= momenta.size())
    throw Error(impl->path + " has no parameter group " +
                std::to_string(group) + " (it has " +
                std::to_string(momenta.size()) + ")");
  return momenta[group];
}

void Session::setMomentum(double value, int group) {
  bool adam = impl->manifest.optimizer.kind != "sgd";
  // torch.optim's own checks: 0 <= momentum; 0 <= beta1 < 1.
  if (!std::isfinite(value) || value < 0.0 || (adam && value >= 1.0)) {
    char text[32];
    std::snprintf(text, sizeof(text), "%.17g", value);
    throw Error(std::string(adam ? "beta1 " : "momentum ") + text +
                (adam ? " is not in [0, 1)"
                      : " is not a finite non-negative "
                        "number"));
  }
  if (group == -1) {
    momentum(0); // the same checks
    for (double &m : impl->ctx.momenta)
      m = value;
    return;
  }
  momentum(group);
  impl->ctx.momenta[group] = value;
}

uint64_t Session::seed() const { return impl->ctx.seed; }

void Session::setSeed(uint64_t seed) { impl->ctx.seed = seed; }

int64_t Session::memoryBytes() const {
  return impl->slotBytes +
         static_cast<int64_t>(impl->backendTable().scratchBytes(&impl->ctx));
}

TensorRef Session::tensor(const std::string &name) {
  auto it = impl->tensors.find(impl->resolveAlias(name));
  if (it == impl->tensors.end())
    throw Error(impl->path + " has no parameter, buffer or optimizer state '" +
                name + "'");
  return impl->handOut(it->second);
}

float *Session::parameterData(const std::string &name) {
  auto it = impl->tensors.find(impl->resolveAlias(name));
  if (it == impl->tensors.end() || name.rfind("optimizer.", 0) == 0)
    throw Error(impl->path + " has no parameter or buffer '" + name + "'");
  if (it->second.spec->dtype != DType::F32)
    throw Error("parameter '" + name + "' of " + impl->path + " is " +
                dtypeName(it->second.spec->dtype) + ", not f32");
  return static_cast<float *>(impl->handOut(it->second).data);
}
