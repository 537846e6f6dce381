//===- runtime.h - C++ API of the dpc runtime (libdpcrt) ----------*- C++
//-*-===//
//
// Loads a model.so compiled by dpc, owns its parameters, optimizer state and
// arena, and runs training steps on one process or on every rank of an MPI
// job. dpc-run is a thin command-line wrapper around this API:
//
//   dpc::ProcessGroup::init(&argc, &argv);   // MPI_Init only under mpirun
//   dpc::Session session = dpc::Session::load("model.so");
//   double loss = session.step({xBatch, yBatch});
//   session.saveCheckpoint("ckpt.safetensors");
//
// Every failure is a dpc::Error with a one-line message saying what went
// wrong and where (file, tensor name, manifest field).
//
//===----------------------------------------------------------------------===//

#ifndef DPC_RUNTIME_H
#define DPC_RUNTIME_H

#include "dpc/abi.h"
#include "dpc/dtype.h"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace dpc {

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

/// The one exception type of the runtime. Two flags matter only in MPI jobs,
/// for deciding who prints and how to exit without hanging the other ranks:
/// `reportedElsewhere` means another rank holds (and prints) the real cause;
/// `agreed` means every rank raised an error at the same point, so all ranks
/// may exit normally instead of calling MPI_Abort.
class Error : public std::runtime_error {
public:
  explicit Error(const std::string &message, bool reportedElsewhere = false,
                 bool agreed = false)
      : std::runtime_error(message), reportedElsewhere(reportedElsewhere),
        agreed(agreed) {}

  bool isReportedElsewhere() const { return reportedElsewhere; }
  bool isAgreed() const { return agreed; }

private:
  bool reportedElsewhere;
  bool agreed;
};

//===----------------------------------------------------------------------===//
// Element types and tensors
//===----------------------------------------------------------------------===//

// DType, dtypeSize, dtypeName and parseDType: dpc/dtype.h.

/// Number of elements of a shape ([] is a scalar: 1 element).
int64_t numElements(const std::vector<int64_t> &shape);
/// "[16, 32]".
std::string formatShape(const std::vector<int64_t> &shape);

/// A dense row-major tensor owned by the host.
struct HostTensor {
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  std::vector<unsigned char> bytes;

  int64_t numElements() const { return dpc::numElements(shape); }
  template <typename T> T *data() {
    return reinterpret_cast<T *>(bytes.data());
  }
  template <typename T> const T *data() const {
    return reinterpret_cast<const T *>(bytes.data());
  }
};

/// A named view of tensor memory owned by someone else.
struct TensorView {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  const void *data = nullptr;
};

//===----------------------------------------------------------------------===//
// File formats
//===----------------------------------------------------------------------===//

/// Reads a NumPy .npy file (format 1.0, 2.0 or 3.0, C order, little-endian
/// '<f4', '<f8', '<i4' or '<i8'). With `want`, converts to that dtype where
/// the conversion is the expected one (f64 -> f32, i32 -> i64) and fails
/// otherwise; without it, '<i4' is widened to i64.
HostTensor readNpy(const std::string &path,
                   std::optional<DType> want = std::nullopt);

/// A parsed safetensors file.
struct SafetensorsFile {
  std::map<std::string, HostTensor> tensors;
  std::map<std::string, std::string> metadata;
};

/// Writes `tensors` as a safetensors file, atomically: a temporary file in the
/// same directory is renamed over `path`, so readers never see half a file.
void writeSafetensors(const std::string &path,
                      const std::vector<TensorView> &tensors,
                      const std::map<std::string, std::string> &metadata = {});
/// Writes `tensor` as a NumPy .npy file (format 1.0, C order, '<f4', '<f8'
/// or '<i8'), atomically as writeSafetensors.
void writeNpy(const std::string &path, const HostTensor &tensor);
/// Reads a safetensors file holding F32, F64 and I64 tensors. Refuses what
/// the format forbids: duplicate names, overlapping data, gaps between
/// tensors and bytes after the last one.
SafetensorsFile readSafetensors(const std::string &path);

/// Checks, before any work, that `path` can be written as an output (`what`,
/// e.g. "checkpoint"): its directory takes a new file, and it is either new
/// or a regular file that is none of `inputs` (same file, not just same
/// name). Outputs are written beside the destination and renamed over it,
/// which would replace a device node, a FIFO, a directory entry or a
/// symbolic link itself: those are refused. Throws a dpc::Error saying why.
void checkOutputFile(const std::string &path, const std::string &what,
                     const std::vector<std::string> &inputs = {});

//===----------------------------------------------------------------------===//
// Manifest
//===----------------------------------------------------------------------===//

/// A tensor the module reads or writes through a slot.
struct TensorSpec {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  int64_t slot = -1;

  int64_t numElements() const { return dpc::numElements(shape); }
  int64_t numBytes() const {
    return numElements() * static_cast<int64_t>(dtypeSize(dtype));
  }
};

/// A parameter or buffer: initial value at `weightsOffset` in the module's
/// embedded weights.
struct WeightSpec : TensorSpec {
  int64_t weightsOffset = 0;
  /// The tensor's other state_dict names (an lm head tied to the token
  /// embedding): checkpoints hold it under each, as torch's state_dict does.
  std::vector<std::string> aliases;
};

/// Per-parameter optimizer state (momentum buffer, Adam moments, ...).
struct OptimizerStateSpec : TensorSpec {
  std::string parameter;
};

struct LossSpec {
  std::string kind; // "cross_entropy", "mse" or "none"
  int64_t slot = -1;
  /// F32, or F64 for a float64 (model.double()) model ("dtype"; F32 when a
  /// module from before float64 models has none).
  DType dtype = DType::F32;
};

struct OptimizerSpec {
  std::string kind; // "sgd", "adam" or "adamw"
  double lr = 0.0;
  double momentum = 0.0;
  double dampening = 0.0;
  double weightDecay = 0.0;
  bool nesterov = false;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  /// Whether the updates read each group's momentum (SGD) or beta1 (Adam)
  /// from the session (Session::setMomentum) instead of compiling it in.
  bool momentumAtRunTime = false;
};

/// A torch.optim parameter group (dpc --param-group): its initial learning
/// rate and weight decay, and the parameters it updates. Group 0 is the
/// default group.
struct ParamGroupSpec {
  int64_t index = 0;
  double lr = 0.0;
  double weightDecay = 0.0;
  std::string pattern; // the --param-group glob; empty for group 0
  std::vector<std::string> parameters;
};

/// torch.amp.GradScaler's arguments ("grad_scaler", dpc --grad-scaler): the
/// runtime's loss scale starts at `initScale` and is updated after every
/// step by GradScaler.update's rule.
struct GradScalerSpec {
  double initScale = 65536.0;
  double growthFactor = 2.0;
  double backoffFactor = 0.5;
  int64_t growthInterval = 2000;
};

struct BucketSpec {
  int64_t index = 0;
  int64_t bytes = 0;
  std::vector<std::string> parameters;
};

/// The evaluation step (the manifest's "eval", dpc_model_eval_step): the
/// forward as model.eval() runs it and the loss, with a slot array of its
/// own. Its parameters and buffers are the training step's, passed in the
/// slots it names.
struct EvalSpec {
  /// Its local batch: the compiled --input shapes (one micro-batch of a
  /// module compiled with --accumulate; the whole batch in --mode dp).
  std::vector<TensorSpec> inputs;
  std::optional<TensorSpec> label;
  /// The training step's parameters and buffers it reads: name and the slot
  /// of the evaluation step that gets the tensor's memory.
  std::vector<std::pair<std::string, int64_t>> tensors;
  int64_t lossSlot = -1;
  DType lossDType = DType::F32; // as LossSpec::dtype
  /// The model's outputs (one today, named "output").
  std::vector<TensorSpec> outputs;
  int64_t arenaBytes = 0;
  int64_t arenaSlot = -1;
  int64_t numSlots = 0;
};

/// The JSON a module embeds as dpc_model_manifest, parsed and validated.
struct Manifest {
  int64_t abiVersion = 0;
  std::string producer;
  std::string mode; // "ddp" or "dp"
  int64_t worldSize = 1;
  /// mode "dp": the devices the batch is scattered over and the replicas
  /// that get a chunk of it (at most `devices`); 1 in mode "ddp".
  int64_t devices = 1;
  int64_t replicas = 1;
  std::vector<TensorSpec> inputs;
  std::optional<TensorSpec> label;
  LossSpec loss;
  OptimizerSpec optimizer;
  /// The parameter groups ("param_groups"), in index order. Empty for a
  /// module whose learning rate is compiled in (built before dpc had
  /// groups): it cannot change its learning rate.
  std::vector<ParamGroupSpec> paramGroups;
  /// Micro-batches per step (gradient accumulation, "accumulate"): each
  /// input and label holds this many local micro-batches back to back along
  /// dimension 0, which it must divide.
  int64_t accumulate = 1;
  /// Loss scaling ("grad_scaler"); absent without.
  std::optional<GradScalerSpec> gradScaler;
  std::vector<WeightSpec> parameters;
  std::vector<WeightSpec> buffers;
  std::vector<OptimizerStateSpec> optimizerState;
  std::vector<BucketSpec> buckets;
  int64_t arenaBytes = 0;
  int64_t arenaSlot = -1;
  int64_t numSlots = 0;
  /// "weights": "external" (dpc --weights external): the module embeds no
  /// initial values and has no weights_offset; they come from a file.
  bool externalWeights = false;
  /// Size of dpc_model_weights when the manifest states it ("weights_bytes");
  /// lets the runtime bounds-check weights_offset.
  std::optional<int64_t> weightsBytes;
  /// The ops of the step in order, "nn.linear mlp.py:12" ("schedule"): the
  /// names of the compute-stream events of a trace.
  std::vector<std::string> schedule;
  /// The evaluation step; absent in modules compiled with --eval-step=false
  /// or by a dpc without evaluation.
  std::optional<EvalSpec> eval;

  /// Parses and validates; `where` names the source in error messages
  /// (usually the model.so path).
  static Manifest parse(const std::string &json, const std::string &where);
};

//===----------------------------------------------------------------------===//
// Processes
//===----------------------------------------------------------------------===//

/// The processes of this job: every rank of MPI_COMM_WORLD when launched by
/// mpirun, otherwise this single process (MPI is then never initialized).
class ProcessGroup {
public:
  /// True when the environment says mpirun (or another PMI launcher) started
  /// this process.
  static bool launchedByMpi();
  /// Initializes MPI when launchedByMpi(); a no-op otherwise.
  static void init(int *argc, char ***argv);
  /// Finalizes MPI if init() initialized it.
  static void finalize();
  /// Whether MPI is initialized (by init() or by the embedding program).
  static bool isDistributed();
  static int rank();
  static int worldSize();
  /// Ends the whole job with `code`: MPI_Abort when distributed, else exit.
  [[noreturn]] static void abort(int code);
  /// Runs `phase` on every rank and agrees on the outcome, so that a failure
  /// on some ranks never leaves the others waiting in a later collective: if
  /// any rank threw, every rank throws an agreed dpc::Error, the lowest failing
  /// rank with its own message, the others marked reportedElsewhere. Must be
  /// called by all ranks. Single-process: just runs `phase`.
  static void collectively(const std::function<void()> &phase);
  /// Checks that every rank has the same value of each fact (name, value),
  /// e.g. {"--steps", 10}; otherwise throws an agreed dpc::Error naming the
  /// first fact that differs and the ranks that differ from rank 0. Must be
  /// called by all ranks with the same names.
  static void agree(const std::vector<std::pair<std::string, int64_t>> &facts);
  /// Replaces each of `values` by its sum over the ranks (`what` names it in
  /// a timeout). Collective; a no-op on one process.
  static void sumOverRanks(std::vector<double> &values,
                           const std::string &what);
  /// Rank 0 gets every rank's `bytes`, in rank order; the other ranks get
  /// an empty vector. Collective.
  static std::vector<std::string> gatherToRoot(const std::string &bytes,
                                               const std::string &what);

  /// How long a rank waits for any CPU collective (an all-reduce of the
  /// step, a broadcast, an agreement) before it gives up: it prints one
  /// line naming the collective and ends the job (MPI_Abort), so no rank
  /// hangs forever on a stalled or dead one. dpc-run's --timeout.
  static constexpr double kDefaultTimeoutSeconds = 600;
  static void setTimeout(double seconds);
  static double timeout();
};

//===----------------------------------------------------------------------===//
// Session
//===----------------------------------------------------------------------===//

enum class Backend { Auto, Cpu, Cuda };

/// "auto", "cpu", "cuda".
const char *backendName(Backend backend);
/// Whether this build of the runtime has `backend` (Auto and Cpu always;
/// Cuda when it was built with the cuda backend, whose plugin is only
/// loaded when a session or requireCudaBackend needs it).
bool backendAvailable(Backend backend);
/// Number of CUDA devices this process can use; 0 without a GPU, without a
/// driver, in a build without the cuda backend, or when its plugin
/// (libdpcrt_cuda.so) cannot be loaded. Without an NVIDIA driver it answers
/// without loading the plugin.
int cudaDeviceCount();
/// Loads the cuda backend's plugin, libdpcrt_cuda.so (next to libdpcrt.so,
/// else from the default library path), unless it is loaded already; throws
/// "the cuda backend (libdpcrt_cuda.so) cannot be loaded: <reason>" when it
/// cannot be (or the build has no cuda backend). Sessions on Backend::Cuda
/// call it themselves; a tool calls it to fail before any other work.
void requireCudaBackend();

struct SessionOptions {
  /// Auto runs on the GPUs when the runtime has the cuda backend and every
  /// rank on this host can have a CUDA device of its own, else on the CPU.
  /// Cuda fails to load without a device (or with more ranks on a host than
  /// devices).
  Backend backend = Backend::Auto;
  /// Initial parameters and buffers from a safetensors file (state_dict
  /// names; a checkpoint works too, its optimizer state is ignored) instead
  /// of the module's embedded ones. Required for modules compiled with
  /// --weights external.
  std::string initWeights;
};

/// Mutable access to one tensor a session owns. On the CPU backend `data`
/// is the tensor itself. On cuda it is a host copy, made when the reference
/// is handed out (Session::tensor, parameterData) and copied back to the
/// device before the next step, checkpoint or hand-out, so writes through it
/// take effect as on the CPU; to read values of later steps, ask again.
struct TensorRef {
  const TensorSpec *spec = nullptr;
  void *data = nullptr;
};

/// What Session::evaluate returns.
struct EvalResult {
  /// This rank's loss of the batch (the loss's mean over it); a float32
  /// model's float32 loss, a float64 model's float64 one.
  double loss = 0.0;
  /// The model's outputs for the batch, in the manifest's "eval" order: one
  /// today, the forward's output tensor.
  std::vector<HostTensor> outputs;
};

/// A loaded model.so with its state on this rank. Collective operations
/// (load, step, loadCheckpoint, saveCheckpoint) must be called by all ranks.
class Session {
public:
  /// Loads the module, validates its manifest against this runtime and the
  /// process group, allocates all state, and (world size > 1) broadcasts
  /// parameters and buffers from rank 0, as DDP does at construction.
  static Session load(const std::string &path,
                      const SessionOptions &options = {});

  Session(Session &&) noexcept;
  Session &operator=(Session &&) noexcept;
  ~Session();

  /// One training step on this rank's local batch: one pointer per manifest
  /// input, then the label (if any), each holding the manifest's local shape
  /// and dtype. Returns the loss averaged over all ranks (a float32 model's
  /// float32 losses averaged in double; a float64 model's float64 ones).
  double step(const std::vector<const void *> &localBatch);
  /// The global L2 norm of the last step's averaged gradients (after the
  /// all-reduce, as every DDP rank sees them) before any clipping: what
  /// torch.nn.utils.clip_grad_norm_ returns with norm_type 2. Summed in
  /// double; the same on every rank. 0 before the first step.
  double gradientNorm() const;

  /// Whether the module has an evaluation step (evaluate, predict).
  bool hasEvalStep() const;
  /// Runs the evaluation step on this rank's batch: one pointer per input,
  /// then the label, each of the evaluation step's shape (the manifest's
  /// "eval"; the compiled --input shapes). The model runs as model.eval()
  /// does it (BatchNorm on the running statistics, dropout off) on the
  /// current parameters and buffers, which it does not change; no
  /// gradients. Not collective: each rank evaluates its own batch (under
  /// DDP, call syncBuffers first for rank 0's buffers, as DDP's forward
  /// does). Throws for a module without an evaluation step.
  EvalResult evaluate(const std::vector<const void *> &localBatch);
  /// The model's outputs for `inputs` (one pointer per input, as evaluate
  /// takes them, without the label): the evaluation step run with a label
  /// of zeros whose loss is dropped. Not collective.
  std::vector<HostTensor> predict(const std::vector<const void *> &inputs);
  /// Makes every rank's buffers (BatchNorm's running statistics) rank 0's,
  /// as DDP's broadcast_buffers does before a forward: every rank then
  /// evaluates the same model. (Each training step starts with it anyway.)
  /// Collective; a no-op on one rank.
  void syncBuffers();

  int rank() const;
  int worldSize() const;
  Backend backend() const;
  const std::string &path() const;
  const Manifest &manifest() const;
  /// Number of steps run (restored by loadCheckpoint); with a GradScaler
  /// the optimizer steps taken are this minus skippedSteps().
  int64_t stepCount() const;
  /// Loss scaling (dpc --grad-scaler, torch.amp.GradScaler): whether the
  /// module has it; the scale the next step runs with (scaler.get_scale(),
  /// restored by loadCheckpoint); the scale the last step ran with and
  /// whether its gradients had an inf or NaN, so its optimizer updates were
  /// skipped; the skipped steps in all. Without a scaler the scale is 1 and
  /// nothing is skipped.
  bool hasGradScaler() const;
  float lossScale() const;
  float lastStepLossScale() const;
  bool lastStepSkipped() const;
  int64_t skippedSteps() const;
  /// Parameter groups of the module (the manifest's "param_groups").
  int numParamGroups() const;
  /// The learning rate the next steps use for parameter group `group`: the
  /// manifest's initial one until setLearningRate changes it (restored by
  /// loadCheckpoint). Throws for a group the module does not have.
  double learningRate(int group = 0) const;
  /// The momentum the next steps use for parameter group `group`: SGD's
  /// momentum or Adam's beta1 (param_group['momentum'] or
  /// param_group['betas'][0]), the compiled one until setMomentum changes it
  /// (restored by loadCheckpoint). Throws where the module compiles it in.
  double momentum(int group = 0) const;
  /// Sets the momentum of parameter group `group` (-1: every group) for the
  /// following steps, as OneCycleLR(cycle_momentum=True) assigns it. Needs a
  /// module with parameter groups (and, for SGD, compiled with a non-zero
  /// momentum: the momentum buffer exists only then).
  void setMomentum(double momentum, int group = -1);
  /// Sets the learning rate of parameter group `group` (-1: every group)
  /// for the following steps, as assigning torch's param_group['lr'] does.
  /// `lr` must be finite and not negative. Not collective, but every rank
  /// must set the same value (dpc-run derives it from the step count).
  void setLearningRate(double lr, int group = -1);
  /// The seed of the dropout masks (0 until setSeed; restored by
  /// loadCheckpoint, which saveCheckpoint records it for). Each rank draws
  /// its own masks from it: runtime/lib/philox.h says how seed, rank, step
  /// and dropout call combine.
  uint64_t seed() const;
  /// Sets the seed of the dropout masks of the following steps. Not
  /// collective, but every rank must set the same value.
  void setSeed(uint64_t seed);
  /// Memory the runtime allocated for this module on this rank: every slot
  /// (parameters, buffers, optimizer state, batch, loss, arena) and, on
  /// cuda, the kernels' scratch memory; device memory on cuda. Excludes
  /// what BLAS, cuBLAS, cuDNN and NCCL allocate for themselves.
  int64_t memoryBytes() const;

  /// A parameter or buffer by state_dict name ("fc1.weight"), or optimizer
  /// state by checkpoint key ("optimizer.fc1.weight.momentum_buffer").
  TensorRef tensor(const std::string &name);
  /// Data of an f32 parameter or buffer by state_dict name.
  float *parameterData(const std::string &name);

  /// Writes parameters, buffers, optimizer state ("optimizer." + state name),
  /// the step counter ("optimizer.step") and each parameter group's current
  /// learning rate ("optimizer.param_groups.<g>.lr", f64, as torch's
  /// optimizer state_dict keeps param_groups' lr) as safetensors; only rank
  /// 0 writes.
  void saveCheckpoint(const std::string &path) const;
  /// Restores what saveCheckpoint wrote; every key must exist with the
  /// manifest's dtype and shape. Rank 0 reads and broadcasts.
  void loadCheckpoint(const std::string &path);
  /// Replaces the parameters and buffers (not the optimizer state, not the
  /// step counter) with a safetensors file's tensors of the same names, as
  /// SessionOptions::initWeights does at load. Rank 0 reads and broadcasts.
  void loadWeights(const std::string &path);

  /// Checkpoints of a training loop that resumes exactly. saveCheckpoint
  /// also records "manifest_hash" (manifestHash()) and "world_size" in the
  /// file's metadata; this overload adds `metadata` (e.g. the loop's data
  /// position) beside them.
  void saveCheckpoint(const std::string &path,
                      const std::map<std::string, std::string> &metadata) const;
  /// loadCheckpoint, returning the file's metadata (the same on every rank)
  /// for the caller to check and to continue from.
  std::map<std::string, std::string>
  loadCheckpointWithMetadata(const std::string &path);
  /// dpc_checksum of the module's manifest in hex: identifies the compiled
  /// model (its architecture, shapes, optimizer and world size).
  std::string manifestHash() const;

  /// Starts recording a Chrome trace (chrome://tracing, Perfetto) of the
  /// following steps: one track per stream (compute, communication) per
  /// rank. Collective: call on every rank.
  void startTrace();
  /// Writes the trace recorded so far to `path` (rank 0 writes, atomically;
  /// the other ranks send it their events). Collective.
  void writeTrace(const std::string &path);

private:
  struct Impl;
  explicit Session(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl;
};

} // namespace dpc

#endif // DPC_RUNTIME_H
