//===- session.cpp - Loading a model.so and running training steps --------===//
//
// A session owns one slot buffer per manifest slot (parameters, buffers,
// optimizer state, inputs, label, loss, arena) and the context the module's
// kernel calls receive. Loading happens in two phases: everything that can
// fail locally (dlopen, manifest, allocation) runs under
// ProcessGroup::collectively so that all ranks agree on failure before any
// collective operation (communicator duplication, broadcasts) begins.
//
// On the cuda backend every slot is device memory and the module's kernel
// calls run on the GPU. Parameters, buffers and optimizer state also have a
// host mirror behind tensor(), parameterData() and the checkpoints. Once a
// tensor has been handed out, its mirror is kept in step with the device:
// copied to the device before each step (the caller may have written to
// it) and back after it, so the pointer behaves like the CPU's live memory
// between steps, at the cost of two copies per step of each tensor handed
// out (none in dpc-run).
//
//===----------------------------------------------------------------------===//

#include "comm_stream.h"
#include "context.h"
#include "trace.h"
#include "dpc/runtime.h"

#include "cuda_backend_table.h"

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <set>
#include <thread>
#include <utility>

#include <dlfcn.h>
#include <sched.h>

using namespace dpc;

namespace {

struct FreeDeleter {
  void operator()(void *p) const { std::free(p); }
};
using AlignedBuffer = std::unique_ptr<void, FreeDeleter>;

/// Zeroed memory, 64-byte aligned (cache lines, AVX-512 loads), never null.
AlignedBuffer allocateSlot(int64_t bytes, const std::string &what) {
  size_t size = static_cast<size_t>(std::max<int64_t>(bytes, 1));
  size = (size + 63) / 64 * 64;
  void *p = std::aligned_alloc(64, size);
  if (!p)
    throw Error("cannot allocate " + std::to_string(bytes) + " bytes for " +
                what);
  std::memset(p, 0, size);
  return AlignedBuffer(p);
}

/// Makes libdpcrt's symbols global, so the undefined dpcrt_* references of
/// a module opened with RTLD_LOCAL resolve even when the embedding program
/// itself opened libdpcrt with RTLD_LOCAL (a no-op when it was linked).
void exportRuntimeSymbols() {
  Dl_info info;
  if (dladdr(reinterpret_cast<void *>(&dpcrt_fill_f32), &info) &&
      info.dli_fname)
    dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_GLOBAL);
}

void checkMpi(int rc, const std::string &what) {
  if (rc == MPI_SUCCESS)
    return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  throw Error(what + " failed: " + std::string(text, len));
}

/// Broadcasts `bytes` from rank 0 in int-sized chunks.
void broadcast(void *data, int64_t bytes, MPI_Comm comm,
               const std::string &what) {
  constexpr int64_t kChunk = INT_MAX / 2;
  for (int64_t begin = 0; begin < bytes; begin += kChunk)
    checkMpi(MPI_Bcast(static_cast<char *>(data) + begin,
                       static_cast<int>(std::min(kChunk, bytes - begin)),
                       MPI_BYTE, 0, comm),
             "broadcasting " + what);
}

#if DPC_HAVE_CUDA
struct DeviceFree {
  void operator()(void *p) const { cudaBackend().release(p); }
};
using DeviceBuffer = std::unique_ptr<void, DeviceFree>;
#endif

/// How many ranks of the job share this host, and this rank's index among
/// them (which GPU it takes). Collective when distributed.
void localRanks(int &localRank, int &localCount) {
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

/// The backend a session runs on: Auto takes the GPUs when this build has
/// the cuda backend and every rank of this host can have a GPU of its own
/// (NCCL does not run two ranks on one device), else the CPU. Only Cuda, and
/// Auto on a machine with an NVIDIA driver, load the cuda plugin.
Backend resolveBackend(Backend requested, int localCount) {
  switch (requested) {
  case Backend::Cpu:
    return Backend::Cpu;
  case Backend::Auto: {
    int devices = cudaDeviceCount();
    return devices > 0 && devices >= localCount ? Backend::Cuda : Backend::Cpu;
  }
  case Backend::Cuda:
    break;
  }
  if (!backendAvailable(Backend::Cuda))
    throw Error("backend 'cuda' is not available: this runtime was built "
                "without CUDA");
  requireCudaBackend();
  int devices = cudaBackend().deviceCount();
  if (devices == 0)
    throw Error("backend 'cuda': no CUDA device found");
  if (devices < localCount)
    throw Error("backend 'cuda': " + std::to_string(localCount) +
                " ranks on this host but only " + std::to_string(devices) +
                " CUDA device" + (devices == 1 ? "" : "s") +
                " (each rank needs a GPU of its own)");
  return Backend::Cuda;
}

} // namespace

struct Session::Impl {
  std::string path;
  void *module = nullptr;
  dpc_model_train_step_fn trainStep = nullptr;
  Manifest manifest;
  Backend backend = Backend::Cpu;
  dpcrt_context ctx;
  /// Indexed by slot: the slots themselves on the CPU; on cuda the host
  /// mirrors of parameters, buffers and optimizer state (null for others).
  std::vector<AlignedBuffer> memory;
  /// What the module gets: host or device pointers.
  std::vector<void *> slots;
#if DPC_HAVE_CUDA
  std::vector<DeviceBuffer> deviceMemory; // indexed by slot, cuda only
#endif
  /// cuda: the slots whose mirrors have been handed out (kept in step).
  std::vector<bool> handedOut;
  /// Inputs, then the label: the order step() takes its pointers in.
  std::vector<const TensorSpec *> batch;
  /// Checkpoint keys: state_dict names and "optimizer." + state name.
  std::map<std::string, TensorRef> tensors;
  std::vector<std::string> keys; // checkpoint order

  std::unique_ptr<Tracer> tracer;

  ~Impl() {
    ctx.commStream.reset(); // joins the communication thread before the
                            // communicator goes away
    ctx.tracer = nullptr;
    if (ctx.comm != MPI_COMM_NULL && ProcessGroup::isDistributed())
      MPI_Comm_free(&ctx.comm);
    memory.clear();
#if DPC_HAVE_CUDA
    deviceMemory.clear();
    ctx.cuda.reset(); // before the module and MPI go away
#endif
    if (module)
      dlclose(module);
  }

  bool onCuda() const { return ctx.backend == BackendKind::Cuda; }
  void openModule();
  void allocate();
  /// Allocates slot `slot` of `bytes` (a host mirror too when `mirrored`).
  void place(int64_t slot, int64_t bytes, const std::string &what,
             bool mirrored);
  void distribute();
  std::vector<TensorView> checkpointViews();
  /// Session::loadCheckpoint (everything) and loadWeights (parameters and
  /// buffers): rank 0 reads `file`, checks it whole, then every rank gets
  /// rank 0's values.
  void restore(const std::string &file, bool weightsOnly);
  /// Whether the parameters and buffers hold values (embedded initial
  /// weights, or a restore); a module compiled with --weights external
  /// starts without.
  bool weightsLoaded = false;
  /// Bytes allocated for the slots (parameters, state, batch, loss, arena):
  /// device memory on cuda.
  int64_t slotBytes = 0;
  /// cuda: copies the mirrors handed out to the device.
  void flushMirrors();
  /// cuda: copies the device value of `slot` to its mirror.
  void refreshMirror(int64_t slot);
  /// cuda: refreshes every mirror handed out.
  void refreshMirrors();
  /// The host view of a tensor for the caller: on cuda, its mirror, from
  /// now on kept in step with the device.
  TensorRef handOut(const TensorRef &ref);
  float stepOnCuda(const std::vector<const void *> &localBatch);
  /// Throws the error the step recorded, if any.
  void raiseStepError();
  /// The loss averaged over the ranks.
  float averageLoss(float loss);
};

void Session::Impl::openModule() {
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
  const char *json = static_cast<const char *>(symbol(DPC_MODEL_MANIFEST_SYMBOL));
  const auto *weights =
      static_cast<const unsigned char *>(symbol(DPC_MODEL_WEIGHTS_SYMBOL));
  trainStep = reinterpret_cast<dpc_model_train_step_fn>(
      symbol(DPC_MODEL_TRAIN_STEP_SYMBOL));
  manifest = Manifest::parse(json, path);

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
    for (const WeightSpec &w : *list) {
      if (onCuda()) {
#if DPC_HAVE_CUDA
        cudaBackend().copyToDevice(&ctx, slots[w.slot],
                                   weights + w.weightsOffset, w.numBytes());
#endif
        continue;
      }
      std::memcpy(slots[w.slot], weights + w.weightsOffset,
                  static_cast<size_t>(w.numBytes()));
    }
}

void Session::Impl::place(int64_t slot, int64_t bytes, const std::string &what,
                          bool mirrored) {
  slotBytes += std::max<int64_t>(bytes, 1);
  if (!onCuda()) {
    memory[slot] = allocateSlot(bytes, what);
    slots[slot] = memory[slot].get();
    return;
  }
#if DPC_HAVE_CUDA
  deviceMemory[slot].reset(cudaBackend().allocate(&ctx, bytes, what));
  slots[slot] = deviceMemory[slot].get();
  if (mirrored)
    memory[slot] = allocateSlot(bytes, what);
#else
  (void)mirrored;
#endif
}

void Session::Impl::flushMirrors() {
#if DPC_HAVE_CUDA
  if (!onCuda())
    return;
  for (size_t slot = 0; slot < handedOut.size(); ++slot)
    if (handedOut[slot]) {
      int64_t bytes = 0;
      for (const auto &entry : tensors)
        if (entry.second.spec->slot == static_cast<int64_t>(slot))
          bytes = entry.second.spec->numBytes();
      cudaBackend().copyToDevice(&ctx, slots[slot], memory[slot].get(), bytes);
    }
#endif
}

void Session::Impl::refreshMirrors() {
  if (!onCuda())
    return;
  for (size_t slot = 0; slot < handedOut.size(); ++slot)
    if (handedOut[slot])
      refreshMirror(static_cast<int64_t>(slot));
}

void Session::Impl::refreshMirror(int64_t slot) {
#if DPC_HAVE_CUDA
  for (const auto &entry : tensors)
    if (entry.second.spec->slot == slot) {
      cudaBackend().copyToHost(&ctx, memory[slot].get(), slots[slot],
                               entry.second.spec->numBytes());
      return;
    }
#else
  (void)slot;
#endif
}

TensorRef Session::Impl::handOut(const TensorRef &ref) {
  if (!onCuda() || handedOut[ref.spec->slot])
    return ref;
  refreshMirror(ref.spec->slot);
  handedOut[ref.spec->slot] = true;
  return ref;
}

void Session::Impl::allocate() {
  memory.resize(manifest.numSlots);
  slots.assign(manifest.numSlots, nullptr);
  handedOut.assign(manifest.numSlots, false);
#if DPC_HAVE_CUDA
  deviceMemory.resize(manifest.numSlots);
#endif
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
  for (const auto *list : {&manifest.parameters, &manifest.buffers})
    for (const WeightSpec &s : *list) {
      add(s, "parameter", true);
      tensors[s.name] = TensorRef{&s, memory[s.slot].get()};
      keys.push_back(s.name);
    }
  for (const OptimizerStateSpec &s : manifest.optimizerState) {
    add(s, "optimizer state", true);
    std::string key = "optimizer." + s.name;
    tensors[key] = TensorRef{&s, memory[s.slot].get()};
    keys.push_back(key);
  }
  place(manifest.loss.slot, 4, "the loss", false);
  place(manifest.arenaSlot, manifest.arenaBytes, "the arena", false);
}

/// Collective part of loading: a private communicator, DDP's broadcast of
/// the initial parameters and buffers, and BLAS threads shared fairly among
/// the ranks of a host.
void Session::Impl::distribute() {
  ctx.rank = ProcessGroup::rank();
  ctx.worldSize = ProcessGroup::worldSize();
  if (ProcessGroup::isDistributed()) {
    checkMpi(MPI_Comm_dup(MPI_COMM_WORLD, &ctx.comm), "MPI_Comm_dup");
    MPI_Comm_set_errhandler(ctx.comm, MPI_ERRORS_RETURN);
  }
#if DPC_HAVE_CUDA
  if (onCuda()) {
    // NCCL carries the GPU's collectives, one rank included.
    cudaBackend().initCommunicator(&ctx);
    if (ctx.worldSize > 1)
      for (const auto *list : {&manifest.parameters, &manifest.buffers})
        for (const WeightSpec &w : *list)
          cudaBackend().broadcast(&ctx, slots[w.slot], w.numBytes(),
                                  "'" + w.name + "'");
    cudaBackend().synchronize(&ctx);
    if (!ctx.error.empty())
      throw Error(path + ": " + std::exchange(ctx.error, std::string()));
    return;
  }
#endif
  if (!ProcessGroup::isDistributed())
    return;
  for (const auto *list : {&manifest.parameters, &manifest.buffers})
    for (const WeightSpec &w : *list)
      broadcast(slots[w.slot], w.numBytes(), ctx.comm, "'" + w.name + "'");

  if (ctx.worldSize > 1 && !std::getenv("OPENBLAS_NUM_THREADS") &&
      !std::getenv("OMP_NUM_THREADS")) {
    MPI_Comm host;
    checkMpi(MPI_Comm_split_type(ctx.comm, MPI_COMM_TYPE_SHARED, ctx.rank,
                                 MPI_INFO_NULL, &host),
             "MPI_Comm_split_type");
    int local = 1;
    MPI_Comm_size(host, &local);
    MPI_Comm_free(&host);
    int cores = static_cast<int>(std::thread::hardware_concurrency());
    int threads = std::max(1, cores / std::max(local, 1));
    // mpirun may bind each rank to a core or two: never exceed the affinity.
    cpu_set_t affinity;
    if (sched_getaffinity(0, sizeof(affinity), &affinity) == 0)
      threads = std::max(1, std::min(threads, CPU_COUNT(&affinity)));
    setCpuThreads(threads);
  }
}

std::vector<TensorView> Session::Impl::checkpointViews() {
  std::vector<TensorView> views;
  for (const std::string &key : keys) {
    const TensorRef &t = tensors.at(key);
    views.push_back({key, t.spec->dtype, t.spec->shape, t.data});
  }
  views.push_back({"optimizer.step", DType::I64, {}, &ctx.step});
  return views;
}

//===----------------------------------------------------------------------===//
// Session
//===----------------------------------------------------------------------===//

const char *dpc::backendName(Backend backend) {
  switch (backend) {
  case Backend::Auto:
    return "auto";
  case Backend::Cpu:
    return "cpu";
  case Backend::Cuda:
    return "cuda";
  }
  return "?";
}

bool dpc::backendAvailable(Backend backend) {
  return backend != Backend::Cuda || DPC_HAVE_CUDA;
}

int dpc::cudaDeviceCount() {
  // Without an NVIDIA driver there is no GPU to count: answer without
  // loading the plugin, which maps CUDA's libraries (over 150 MB resident
  // once initialized) into a process that will only use the CPU.
  if (!nvidiaDriverPresent())
    return 0;
  const CudaBackendTable *table = loadCudaBackend();
  return table ? table->deviceCount() : 0;
}

void dpc::requireCudaBackend() {
  std::string why;
  if (!loadCudaBackend(&why))
    throw Error(
        "the cuda backend (" DPC_CUDA_PLUGIN_FILE ") cannot be loaded: " + why);
}

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
    impl->ctx.backend = BackendKind::Cpu;
#if DPC_HAVE_CUDA
    if (impl->backend == Backend::Cuda)
      cudaBackend().createState(&impl->ctx,
                                localRank % cudaBackend().deviceCount());
#endif
    impl->openModule();
  });
  impl->distribute();
  if (!options.initWeights.empty())
    impl->restore(options.initWeights, /*weightsOnly=*/true);
  return Session(std::move(impl));
}

float Session::step(const std::vector<const void *> &localBatch) {
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
    throw Error("step: " + s.path + " was compiled with --weights external "
                "and has no initial weights yet (Session::loadWeights)");
  if (s.onCuda())
    return s.stepOnCuda(localBatch);
  for (size_t i = 0; i < localBatch.size(); ++i)
    std::memcpy(s.slots[s.batch[i]->slot], localBatch[i],
                static_cast<size_t>(s.batch[i]->numBytes()));
  // DDP's broadcast_buffers: before every forward, rank 0's buffers
  // (BatchNorm's running statistics, num_batches_tracked) overwrite every
  // other rank's, which then update them from their own batch.
  if (s.ctx.worldSize > 1)
    for (const WeightSpec &w : s.manifest.buffers)
      broadcast(s.slots[w.slot], w.numBytes(), s.ctx.comm,
                "buffer '" + w.name + "'");
  s.ctx.error.clear();
  if (s.tracer)
    s.tracer->setStep(s.ctx.step + 1);
  s.trainStep(&s.ctx, s.slots.data());
  drainPending(&s.ctx);
  s.raiseStepError();
  ++s.ctx.step;
  return s.averageLoss(
      *static_cast<const float *>(s.slots[s.manifest.loss.slot]));
}

float Session::Impl::stepOnCuda(const std::vector<const void *> &localBatch) {
#if DPC_HAVE_CUDA
  // The host thread that runs the step may not be the one that loaded.
  cudaBackend().makeCurrent(&ctx);
  flushMirrors();
  // Pageable host memory: each copy returns once its source is staged, so
  // the caller may reuse its batch right away.
  for (size_t i = 0; i < localBatch.size(); ++i)
    cudaBackend().copyToDevice(&ctx, slots[batch[i]->slot], localBatch[i],
                               batch[i]->numBytes());
  if (ctx.worldSize > 1)
    for (const WeightSpec &w : manifest.buffers)
      cudaBackend().broadcast(&ctx, slots[w.slot], w.numBytes(),
                              "buffer '" + w.name + "'");
  ctx.error.clear();
  if (tracer)
    tracer->setStep(ctx.step + 1);
  trainStep(&ctx, slots.data());
  drainPending(&ctx);
  // Kernels only enqueue work: their failures surface here.
  cudaBackend().synchronize(&ctx);
  raiseStepError();
  ++ctx.step;
  float loss = 0.0f;
  cudaBackend().copyToHost(&ctx, &loss, slots[manifest.loss.slot],
                           sizeof(float));
  refreshMirrors();
  return averageLoss(loss);
#else
  (void)localBatch;
  throw Error("the cuda backend is not built");
#endif
}

void Session::Impl::raiseStepError() {
  if (ctx.error.empty())
    return;
  throw Error(path + ": " +
              (ctx.worldSize > 1 ? "rank " + std::to_string(ctx.rank) + ", "
                                 : std::string()) +
              "step " + std::to_string(ctx.step + 1) + ": " + ctx.error);
}

float Session::Impl::averageLoss(float loss) {
  if (ctx.worldSize == 1)
    return loss;
  double local = loss, sum = 0.0;
  checkMpi(MPI_Allreduce(&local, &sum, 1, MPI_DOUBLE, MPI_SUM, ctx.comm),
           "averaging the loss");
  return static_cast<float>(sum / ctx.worldSize);
}

void Session::startTrace() {
  Impl &s = *impl;
  if (s.ctx.worldSize > 1)
    checkMpi(MPI_Barrier(s.ctx.comm), "starting the trace");
  s.tracer = std::make_unique<Tracer>(s.manifest.schedule, Tracer::Clock::now());
  s.ctx.tracer = s.tracer.get();
}

void Session::writeTrace(const std::string &path) {
  Impl &s = *impl;
  std::string events = s.tracer ? s.tracer->eventsJson(s.ctx.rank) : "";
  std::vector<std::string> all = {events};
  if (s.ctx.worldSize > 1) {
    // Rank 0 collects every rank's events.
    int size = static_cast<int>(events.size());
    std::vector<int> sizes(s.ctx.worldSize), offsets(s.ctx.worldSize);
    checkMpi(MPI_Gather(&size, 1, MPI_INT, sizes.data(), 1, MPI_INT, 0,
                        s.ctx.comm),
             "collecting the trace");
    std::string gathered;
    if (s.ctx.rank == 0) {
      int total = 0;
      for (int r = 0; r < s.ctx.worldSize; ++r) {
        offsets[r] = total;
        total += sizes[r];
      }
      gathered.resize(total);
    }
    checkMpi(MPI_Gatherv(events.data(), size, MPI_CHAR, gathered.data(),
                         sizes.data(), offsets.data(), MPI_CHAR, 0, s.ctx.comm),
             "collecting the trace");
    if (s.ctx.rank != 0)
      return;
    all.clear();
    for (int r = 0; r < s.ctx.worldSize; ++r)
      all.push_back(gathered.substr(offsets[r], sizes[r]));
  }
  writeTraceFile(path, all);
}

int Session::rank() const { return impl->ctx.rank; }
int Session::worldSize() const { return impl->ctx.worldSize; }
Backend Session::backend() const { return impl->backend; }
const std::string &Session::path() const { return impl->path; }
const Manifest &Session::manifest() const { return impl->manifest; }
int64_t Session::stepCount() const { return impl->ctx.step; }

int64_t Session::memoryBytes() const {
  int64_t bytes = impl->slotBytes;
#if DPC_HAVE_CUDA
  if (impl->onCuda())
    bytes += static_cast<int64_t>(cudaBackend().scratchBytes(&impl->ctx));
#endif
  return bytes;
}

TensorRef Session::tensor(const std::string &name) {
  auto it = impl->tensors.find(name);
  if (it == impl->tensors.end())
    throw Error(impl->path + " has no parameter, buffer or optimizer state '" +
                name + "'");
  return impl->handOut(it->second);
}

float *Session::parameterData(const std::string &name) {
  auto it = impl->tensors.find(name);
  if (it == impl->tensors.end() || name.rfind("optimizer.", 0) == 0)
    throw Error(impl->path + " has no parameter or buffer '" + name + "'");
  if (it->second.spec->dtype != DType::F32)
    throw Error("parameter '" + name + "' of " + impl->path + " is " +
                dtypeName(it->second.spec->dtype) + ", not f32");
  return static_cast<float *>(impl->handOut(it->second).data);
}

void Session::saveCheckpoint(const std::string &path) const {
  ProcessGroup::collectively([&] {
    if (impl->ctx.rank != 0)
      return;
    if (impl->onCuda()) {
      impl->flushMirrors();
      for (const std::string &key : impl->keys)
        impl->refreshMirror(impl->tensors.at(key).spec->slot);
    }
    std::map<std::string, std::string> metadata = {
        {"format", "pt"}, // lets safetensors.torch.load_file read it as is
        {"producer", "dpc runtime"},
        {"model", impl->path},
        {"model_producer", impl->manifest.producer},
        {"dpc_abi_version", std::to_string(DPC_ABI_VERSION)}};
    writeSafetensors(path, impl->checkpointViews(), metadata);
  });
}

void Session::loadCheckpoint(const std::string &path) {
  impl->restore(path, /*weightsOnly=*/false);
}

void Session::loadWeights(const std::string &path) {
  impl->restore(path, /*weightsOnly=*/true);
}

void Session::Impl::restore(const std::string &file, bool weightsOnly) {
  std::vector<TensorView> views = checkpointViews();
  if (weightsOnly)
    views.erase(std::remove_if(views.begin(), views.end(),
                               [](const TensorView &v) {
                                 return v.name.rfind("optimizer.", 0) == 0;
                               }),
                views.end());
  std::set<std::string> wanted;
  for (const TensorView &v : views)
    wanted.insert(v.name);
  ProcessGroup::collectively([&] {
    if (ctx.rank != 0)
      return;
    SafetensorsFile contents = readSafetensors(file);
    // Check everything before overwriting anything.
    for (const TensorView &v : views) {
      auto it = contents.tensors.find(v.name);
      if (it == contents.tensors.end())
        throw Error(file + ": missing tensor '" + v.name + "' of " + path);
      if (it->second.dtype != v.dtype || it->second.shape != v.shape)
        throw Error(file + ": tensor '" + v.name + "' is " +
                    dtypeName(it->second.dtype) + formatShape(it->second.shape) +
                    ", " + path + " expects " + dtypeName(v.dtype) +
                    formatShape(v.shape));
    }
    // Initial weights may come from a full checkpoint: its optimizer state
    // is then not wanted, but nothing else may be unexpected.
    for (const auto &entry : contents.tensors)
      if (!wanted.count(entry.first) &&
          !(weightsOnly && entry.first.rfind("optimizer.", 0) == 0))
        throw Error(file + ": unexpected tensor '" + entry.first + "': not a " +
                    (weightsOnly ? "parameter or buffer"
                                 : "parameter, buffer or optimizer state") +
                    " of " + path);
    if (!weightsOnly) {
      int64_t step = *contents.tensors.at("optimizer.step").data<int64_t>();
      if (step < 0)
        throw Error(file + ": 'optimizer.step' is negative (" +
                    std::to_string(step) + ")");
    }
    for (const TensorView &v : views)
      std::memcpy(const_cast<void *>(v.data),
                  contents.tensors.at(v.name).bytes.data(),
                  contents.tensors.at(v.name).bytes.size());
#if DPC_HAVE_CUDA
    if (onCuda())
      for (const TensorView &v : views)
        if (v.name != "optimizer.step") {
          const TensorRef &t = tensors.at(v.name);
          cudaBackend().copyToDevice(&ctx, slots[t.spec->slot], t.data,
                                     t.spec->numBytes());
        }
#endif
  });
  weightsLoaded = true;
  if (ctx.worldSize == 1)
    return;
#if DPC_HAVE_CUDA
  if (onCuda()) {
    // Rank 0's device values (NCCL) and its step counter (MPI, host).
    for (const TensorView &v : views)
      if (v.name != "optimizer.step") {
        const TensorRef &t = tensors.at(v.name);
        cudaBackend().broadcast(&ctx, slots[t.spec->slot], t.spec->numBytes(),
                                "'" + v.name + "'");
      }
    if (!weightsOnly)
      broadcast(&ctx.step, sizeof(ctx.step), ctx.comm, "'optimizer.step'");
    cudaBackend().synchronize(&ctx);
    if (!ctx.error.empty())
      throw Error(path + ": " + std::exchange(ctx.error, std::string()));
    refreshMirrors();
    return;
  }
#endif
  for (const TensorView &v : views)
    broadcast(const_cast<void *>(v.data),
              numElements(v.shape) * static_cast<int64_t>(dtypeSize(v.dtype)),
              ctx.comm, "'" + v.name + "'");
}
