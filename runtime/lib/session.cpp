//===- session.cpp - Loading a model.so and running training steps --------===//
//
// A session owns one slot buffer per manifest slot (parameters, buffers,
// optimizer state, inputs, label, loss, arena) and the context the module's
// kernel calls receive. Loading happens in two phases: everything that can
// fail locally (dlopen, manifest, allocation) runs under
// ProcessGroup::collectively so that all ranks agree on failure before any
// collective operation (communicator duplication, broadcasts) begins.
//
//===----------------------------------------------------------------------===//

#include "comm_stream.h"
#include "context.h"
#include "trace.h"
#include "dpc/runtime.h"

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <thread>

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

} // namespace

struct Session::Impl {
  std::string path;
  void *module = nullptr;
  dpc_model_train_step_fn trainStep = nullptr;
  Manifest manifest;
  Backend backend = Backend::Cpu;
  dpcrt_context ctx;
  std::vector<AlignedBuffer> memory; // indexed by slot
  std::vector<void *> slots;
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
    if (module)
      dlclose(module);
  }

  void openModule();
  void allocate();
  void distribute();
  std::vector<TensorView> checkpointViews();
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
  for (const auto *list : {&manifest.parameters, &manifest.buffers})
    for (const WeightSpec &w : *list)
      std::memcpy(slots[w.slot], weights + w.weightsOffset,
                  static_cast<size_t>(w.numBytes()));
}

void Session::Impl::allocate() {
  memory.resize(manifest.numSlots);
  slots.assign(manifest.numSlots, nullptr);
  auto add = [&](const TensorSpec &spec, const std::string &what) {
    memory[spec.slot] = allocateSlot(spec.numBytes(), what + " '" + spec.name + "'");
    slots[spec.slot] = memory[spec.slot].get();
  };
  for (const TensorSpec &s : manifest.inputs) {
    add(s, "input");
    batch.push_back(&s);
  }
  if (manifest.label) {
    add(*manifest.label, "label");
    batch.push_back(&*manifest.label);
  }
  for (const auto *list : {&manifest.parameters, &manifest.buffers})
    for (const WeightSpec &s : *list) {
      add(s, "parameter");
      tensors[s.name] = TensorRef{&s, slots[s.slot]};
      keys.push_back(s.name);
    }
  for (const OptimizerStateSpec &s : manifest.optimizerState) {
    add(s, "optimizer state");
    std::string key = "optimizer." + s.name;
    tensors[key] = TensorRef{&s, slots[s.slot]};
    keys.push_back(key);
  }
  memory[manifest.loss.slot] = allocateSlot(4, "the loss");
  slots[manifest.loss.slot] = memory[manifest.loss.slot].get();
  memory[manifest.arenaSlot] = allocateSlot(manifest.arenaBytes, "the arena");
  slots[manifest.arenaSlot] = memory[manifest.arenaSlot].get();
}

/// Collective part of loading: a private communicator, DDP's broadcast of
/// the initial parameters and buffers, and BLAS threads shared fairly among
/// the ranks of a host.
void Session::Impl::distribute() {
  ctx.rank = ProcessGroup::rank();
  ctx.worldSize = ProcessGroup::worldSize();
  if (!ProcessGroup::isDistributed())
    return;
  checkMpi(MPI_Comm_dup(MPI_COMM_WORLD, &ctx.comm), "MPI_Comm_dup");
  MPI_Comm_set_errhandler(ctx.comm, MPI_ERRORS_RETURN);
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

Session::Session(std::unique_ptr<Impl> impl) : impl(std::move(impl)) {}
Session::Session(Session &&) noexcept = default;
Session &Session::operator=(Session &&) noexcept = default;
Session::~Session() = default;

Session Session::load(const std::string &path, const SessionOptions &options) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  ProcessGroup::collectively([&] {
    if (!backendAvailable(options.backend))
      throw Error(std::string("backend '") + backendName(options.backend) +
                  "' is not available: this runtime was built without CUDA");
    // Auto picks CUDA once that backend exists and a GPU is present.
    impl->backend = Backend::Cpu;
    impl->ctx.backend = BackendKind::Cpu;
    impl->openModule();
  });
  impl->distribute();
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
    std::memcpy(s.slots[s.batch[i]->slot], localBatch[i],
                static_cast<size_t>(s.batch[i]->numBytes()));
  }
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
  if (!s.ctx.error.empty())
    throw Error(s.path + ": " +
                (s.ctx.worldSize > 1 ? "rank " + std::to_string(s.ctx.rank) + ", "
                                     : std::string()) +
                "step " + std::to_string(s.ctx.step + 1) + ": " + s.ctx.error);
  ++s.ctx.step;

  float loss = *static_cast<const float *>(s.slots[s.manifest.loss.slot]);
  if (s.ctx.worldSize == 1)
    return loss;
  double local = loss, sum = 0.0;
  checkMpi(MPI_Allreduce(&local, &sum, 1, MPI_DOUBLE, MPI_SUM, s.ctx.comm),
           "averaging the loss");
  return static_cast<float>(sum / s.ctx.worldSize);
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

TensorRef Session::tensor(const std::string &name) {
  auto it = impl->tensors.find(name);
  if (it == impl->tensors.end())
    throw Error(impl->path + " has no parameter, buffer or optimizer state '" +
                name + "'");
  return it->second;
}

float *Session::parameterData(const std::string &name) {
  auto it = impl->tensors.find(name);
  if (it == impl->tensors.end() || name.rfind("optimizer.", 0) == 0)
    throw Error(impl->path + " has no parameter or buffer '" + name + "'");
  if (it->second.spec->dtype != DType::F32)
    throw Error("parameter '" + name + "' of " + impl->path + " is " +
                dtypeName(it->second.spec->dtype) + ", not f32");
  return static_cast<float *>(it->second.data);
}

void Session::saveCheckpoint(const std::string &path) const {
  ProcessGroup::collectively([&] {
    if (impl->ctx.rank != 0)
      return;
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
  Impl &s = *impl;
  ProcessGroup::collectively([&] {
    if (s.ctx.rank != 0)
      return;
    SafetensorsFile file = readSafetensors(path);
    std::vector<TensorView> views = s.checkpointViews();
    // Check everything before overwriting anything.
    for (const TensorView &v : views) {
      auto it = file.tensors.find(v.name);
      if (it == file.tensors.end())
        throw Error(path + ": missing tensor '" + v.name + "' of " + s.path);
      if (it->second.dtype != v.dtype || it->second.shape != v.shape)
        throw Error(path + ": tensor '" + v.name + "' is " +
                    dtypeName(it->second.dtype) + formatShape(it->second.shape) +
                    ", " + s.path + " expects " + dtypeName(v.dtype) +
                    formatShape(v.shape));
    }
    if (file.tensors.size() != views.size())
      for (const auto &entry : file.tensors)
        if (!s.tensors.count(entry.first) && entry.first != "optimizer.step")
          throw Error(path + ": unexpected tensor '" + entry.first +
                      "': not a parameter, buffer or optimizer state of " +
                      s.path);
    int64_t step = *file.tensors.at("optimizer.step").data<int64_t>();
    if (step < 0)
      throw Error(path + ": 'optimizer.step' is negative (" +
                  std::to_string(step) + ")");
    for (const TensorView &v : views)
      std::memcpy(const_cast<void *>(v.data),
                  file.tensors.at(v.name).bytes.data(),
                  file.tensors.at(v.name).bytes.size());
  });
  if (s.ctx.worldSize == 1)
    return;
  for (const TensorView &v : s.checkpointViews())
    broadcast(const_cast<void *>(v.data),
              numElements(v.shape) * static_cast<int64_t>(dtypeSize(v.dtype)),
              s.ctx.comm, "'" + v.name + "'");
}
