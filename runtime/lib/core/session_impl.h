//===- session_impl.h - A session's state ------------------------*- C++
//-*-===//
//
// A session owns one slot buffer per manifest slot (parameters, buffers,
// optimizer state, inputs, label, loss, arena) and the context the module's
// kernel calls receive. Slots come from the context's backend (backend.h):
// host memory on the CPU, device memory on cuda, where parameters, buffers
// and optimizer state also have a host mirror behind tensor(),
// parameterData() and the checkpoints. Once a tensor has been handed out,
// its mirror is kept in step with the device: copied to the device before
// each step (the caller may have written to it) and back after it, so the
// pointer behaves like the CPU's live memory between steps, at the cost of
// two copies per step of each tensor handed out (none in dpc-run).
//
// session.cpp loads and steps, checkpoint.cpp saves and restores.
//
//===----------------------------------------------------------------------===//

#ifndef DPC_RUNTIME_LIB_CORE_SESSION_IMPL_H
#define DPC_RUNTIME_LIB_CORE_SESSION_IMPL_H

#include "core/backend.h"
#include "core/context.h"
#include "core/trace.h"
#include "dpc/runtime.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace dpc {

/// Memory from a backend's `allocate`, released by the same backend.
struct SlotDeleter {
  const BackendTable *backend = nullptr;
  void operator()(void *p) const { backend->release(p); }
};
using SlotBuffer = std::unique_ptr<void, SlotDeleter>;

struct Session::Impl {
  std::string path;
  void *module = nullptr;
  dpc_model_train_step_fn trainStep = nullptr;
  /// The evaluation step (manifest.eval), or null.
  dpc_model_eval_step_fn evalStep = nullptr;
  Manifest manifest;
  Backend backend = Backend::Cpu;
  dpcrt_context ctx;
  /// Indexed by slot: the slots' memory on the context's backend.
  std::vector<SlotBuffer> slotMemory;
  /// What the module gets: slotMemory's pointers.
  std::vector<void *> slots;
  /// Indexed by slot, on a backend without host memory: the host mirrors of
  /// parameters, buffers and optimizer state (null for the others).
  std::vector<SlotBuffer> mirrors;
  /// The evaluation step's slots, indexed by its own numbering: its inputs,
  /// label, loss and outputs in evalSlotMemory; the training step's
  /// parameter and buffer memory; the arena, which is the training step's
  /// when it is large enough (the two steps never run at the same time).
  std::vector<SlotBuffer> evalSlotMemory;
  std::vector<void *> evalSlots;
  /// The slots whose mirrors have been handed out (kept in step).
  std::vector<bool> handedOut;
  /// Inputs, then the label: the order step() takes its pointers in.
  std::vector<const TensorSpec *> batch;
  /// Checkpoint keys: state_dict names and "optimizer." + state name. Their
  /// data is host memory: the slot itself on the CPU, else the mirror.
  std::map<std::string, TensorRef> tensors;
  std::vector<std::string> keys; // checkpoint order
  /// The other state_dict names of tied tensors, to the key holding them.
  std::map<std::string, std::string> aliasOf;

  std::unique_ptr<Tracer> tracer;

  /// Whether the parameters and buffers hold values (embedded initial
  /// weights, or a restore); a module compiled with --weights external
  /// starts without.
  bool weightsLoaded = false;
  /// Bytes allocated for the slots (parameters, state, batch, loss, arena):
  /// device memory on cuda.
  int64_t slotBytes = 0;

  ~Impl();

  const BackendTable &backendTable() const { return *ctx.backend; }
  bool hasMirrors() const { return !backendTable().hostMemory; }

  void openModule();
  void allocate();
  /// The evaluation step's slots (allocate's part for manifest.eval).
  void allocateEval();
  /// Runs the evaluation step on `batch` (inputs, then the label when
  /// `withLabel`; else a label of zeros): the loss, and the outputs in
  /// `outputs`.
  double runEval(const std::vector<const void *> &batch, bool withLabel,
                 std::vector<HostTensor> &outputs, const char *what);
  /// Allocates slot `slot` of `bytes` (a host mirror too when `mirrored`
  /// and the backend's memory is not the host's).
  void place(int64_t slot, int64_t bytes, const std::string &what,
             bool mirrored);
  /// Collective part of loading: a private communicator, the backend's
  /// collective set-up and DDP's broadcast of the initial parameters and
  /// buffers.
  void distribute();
  /// Every checkpoint key with its host data, in checkpoint order; with
  /// `withAliases`, a tied tensor once more under each other name.
  std::vector<TensorView> checkpointViews(bool withAliases = false);
  /// The key holding `name`: itself, or the tensor a tied name refers to.
  const std::string &resolveAlias(const std::string &name) const {
    auto it = aliasOf.find(name);
    return it == aliasOf.end() ? name : it->second;
  }
  /// The checkpoint key of parameter group `group`'s learning rate.
  static std::string learningRateKey(size_t group);
  /// The checkpoint key of parameter group `group`'s momentum (SGD) or
  /// beta1 (Adam).
  std::string momentumKey(size_t group) const;
  /// Whether checkpoint key `key` is a value of the context (the step
  /// counter, the learning rates) rather than a tensor in a slot.
  bool isContextValue(const std::string &key) const;
  /// Session::loadCheckpoint (everything) and loadWeights (parameters and
  /// buffers): rank 0 reads `file`, checks it whole, then every rank gets
  /// rank 0's values.
  /// Restores from a checkpoint; with `metadata`, every rank gets the
  /// file's metadata there.
  void restore(const std::string &file, bool weightsOnly,
               std::map<std::string, std::string> *metadata = nullptr);
  /// Copies the mirrors handed out to the device (no-op without mirrors).
  void flushMirrors();
  /// Copies the device value of `slot` to its mirror (no-op without).
  void refreshMirror(int64_t slot);
  /// Refreshes every mirror handed out.
  void refreshMirrors();
  /// Copies the host value of checkpoint tensor `ref` to its slot (no-op
  /// without mirrors, where they are the same memory).
  void syncToSlot(const TensorRef &ref);
  /// The host view of a tensor for the caller: with mirrors, its mirror,
  /// from now on kept in step with the device.
  TensorRef handOut(const TensorRef &ref);
  /// Throws the error the step recorded, if any.
  void raiseStepError();
  /// Session::gradientNorm: the last step's.
  double lastGradientNorm = 0.0;
  /// GradScaler: the scale the last step ran with (whether it skipped
  /// stays in ctx.gradScaler.foundInf until the next step).
  float lastLossScale = 1.0f;
  /// Throws an error recorded outside a step (loading, restoring).
  void raiseError();
  /// The loss averaged over the ranks.
  double averageLoss(double loss);
  /// The 0-d loss in slot memory `slot`, float32 or float64 (a float64
  /// model's).
  double readLoss(const void *slot, DType dtype);
};

} // namespace dpc

#endif // DPC_RUNTIME_LIB_CORE_SESSION_IMPL_H
