//===- context.h - The runtime context behind the opaque ABI handle -*- C++
//-*-===//
//
// Internal to libdpcrt (and its white-box unit tests). A model.so only ever
// sees a pointer to this struct and passes it back to every kernel, which is
// how one module runs on any backend.
//
//===----------------------------------------------------------------------===//

#ifndef DPC_RUNTIME_LIB_CORE_CONTEXT_H
#define DPC_RUNTIME_LIB_CORE_CONTEXT_H

#include "dpc/abi.h"

#include <mpi.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace dpc {

struct BackendTable;
class CommStream;
class Tracer;

namespace cuda {
/// Defined in cuda/cuda_backend.h, which only CUDA builds compile; this
/// header stays free of CUDA headers, and its layout is the same with and
/// without the cuda backend (unit tests include it without DPC_HAVE_CUDA).
struct DeviceState;
struct DeviceStateDeleter {
  /// Releases the device state (a no-op in builds without CUDA, where no
  /// state is ever created).
  void operator()(DeviceState *state) const;
};
} // namespace cuda

/// torch.amp.GradScaler's state (dpc --grad-scaler; the manifest's
/// "grad_scaler" gives the constants): the loss scale the backward pass is
/// seeded with (dpcrt_loss_scale_f32), `foundInf` set by the step's unscale
/// (dpcrt_unscale_grads_f32) when a gradient has an inf or NaN, after which
/// the step's optimizer updates do nothing (scaler.step), and the
/// bookkeeping of GradScaler.update, which the session runs after each
/// step. float32 and int64 as GradScaler's `_scale` and `_growth_tracker`
/// tensors. Disabled, the scale stays 1: the kernels read it either way.
struct GradScalerState {
  bool enabled = false;
  float scale = 1.0f;
  /// GradScaler.unscale_'s inv_scale:
  /// self._scale.double().reciprocal().float().
  float inverseScale() const {
    return static_cast<float>(1.0 / static_cast<double>(scale));
  }
  double growthFactor = 2.0;
  double backoffFactor = 0.5;
  int64_t growthInterval = 2000;
  int64_t growthTracker = 0;
  /// Steps whose updates were skipped, in all; the optimizer steps taken
  /// are the step counter minus these.
  int64_t skippedSteps = 0;
  bool foundInf = false;
};

/// The squared L2 norm of a step's averaged gradients, summed in double by
/// the kernels that read each gradient first after the all-reduce: the clip
/// kernels, before they clip (`clipped` then says so), and the optimizer
/// updates. Session::step reports the norm before any clipping, as
/// torch.nn.utils.clip_grad_norm_ returns it. The cuda backend keeps the
/// two sums in device memory instead (DeviceState::gradientSquares).
struct GradientSquares {
  double beforeClip = 0.0;
  double atUpdate = 0.0;
  bool clipped = false;
  /// GradScaler's unscale, before any clip, sums the unscaled gradients'
  /// squares; the step's updates may then be skipped, so this is the norm.
  double afterUnscale = 0.0;
  bool unscaled = false;
};

} // namespace dpc

struct dpcrt_context {
  dpcrt_context();
  ~dpcrt_context();

  /// The backend the context's kernels run on (core/backend.h): the CPU's
  /// unless attached to another. A CUDA context carries its device, streams,
  /// library handles and NCCL communicator in `cuda`.
  const dpc::BackendTable *backend;
  int rank = 0;
  int worldSize = 1;
  /// Steps already run (the training loop's iterations: the dropout
  /// counter, checkpoints' "optimizer.step"). Without a GradScaler every
  /// step is an optimizer step; see optimizerSteps().
  int64_t step = 0;
  /// --grad-scaler's state; disabled without.
  dpc::GradScalerState gradScaler;
  /// Optimizer steps already taken, which is what Adam's bias correction
  /// counts (torch.optim's state['step']) and what decides SGD's first step
  /// (0: the momentum buffer is initialized instead of decayed): the steps
  /// run minus those GradScaler skipped.
  int64_t optimizerSteps() const { return step - gradScaler.skippedSteps; }
  /// The key of the dropout masks (runtime/lib/philox.h; Session::setSeed).
  uint64_t seed = 0;
  /// The current learning rate of each parameter group (dpcrt_learning_rate),
  /// initialized from the manifest's "param_groups"; a double like the
  /// Python float of torch's param_group['lr'].
  std::vector<double> learningRates;
  /// The current momentum (SGD) or beta1 (Adam) of each parameter group
  /// (dpcrt_momentum), where the manifest's optimizer reads it at run time;
  /// empty otherwise.
  std::vector<double> momenta;
  /// This step's gradient norm, as far as its kernels have run; read and
  /// reset by the backend's takeGradientNorm at the end of each step.
  dpc::GradientSquares gradientSquares;
  /// A private duplicate of MPI_COMM_WORLD (MPI_COMM_NULL without MPI), so the
  /// runtime's collectives never match the embedding program's messages.
  MPI_Comm comm = MPI_COMM_NULL;
  /// The communication stream, started by the first all-reduce (none in a
  /// single process: there a start returns handle 0 and a wait does nothing).
  std::unique_ptr<dpc::CommStream> commStream;
  /// The device state of a CUDA context (null on the CPU backend).
  std::unique_ptr<dpc::cuda::DeviceState, dpc::cuda::DeviceStateDeleter> cuda;
  /// Records a Chrome trace when set (Session::startTrace).
  dpc::Tracer *tracer = nullptr;
  /// The first error a kernel hit during the current step. Kernels cannot
  /// throw through the compiled module's frames, so they record it here and
  /// the session raises it once the step returns.
  std::string error;
};

namespace dpc {

/// Records `message` as the context's error unless one is already recorded.
void recordError(dpcrt_context *ctx, const std::string &message);

/// Waits for every all-reduce still in flight (a module that forgot a wait is
/// a compiler bug: recorded as an error) and records collective errors, on
/// the context's backend.
void drainPending(dpcrt_context *ctx);

} // namespace dpc

#endif // DPC_RUNTIME_LIB_CORE_CONTEXT_H
