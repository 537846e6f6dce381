//===- Pipeline.h - The training-step pipeline ------------------*- C++ -*-===//
//
// One pipeline turns the imported module (func @forward, and @forward_last
// for --mode dp's smaller last chunk) into the planned, lowered training
// step. `dpc` builds and runs it; `dpc-opt --dpc-training-pipeline="..."`
// runs the same passes with the same options, so every `dpc --emit=<stage>`
// can be reproduced from `dpc --emit=import`:
//
//   dpc-opt model.mlir --dpc-training-pipeline="optimizer=adam stop-after=ddp"
//
// The options are the single home of the training configuration: their
// defaults (torch.optim's, resolved per optimizer below) and their
// validation live here, and the passes receive what they need.
//
//===----------------------------------------------------------------------===//

#ifndef DPC_COMPILER_PIPELINE_PIPELINE_H
#define DPC_COMPILER_PIPELINE_PIPELINE_H

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"
#include "mlir/Support/LogicalResult.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/Twine.h"

#include <optional>

namespace dpc {

/// The stages of the pipeline, in order. Each names the passes that follow
/// the previous stage; `stop-after` (and `dpc --emit`) names the last one
/// to run. `Import` runs nothing: the module as the importer made it.
enum class PipelineStage {
  Import,
  TrainStep,
  Autodiff,
  DDP,
  Optimizer,
  Buckets,
  Memory,
  LLVM,
};

/// "import", "train-step", "autodiff", "ddp", "optimizer", "buckets",
/// "memory", "llvm".
llvm::StringRef getPipelineStageName(PipelineStage stage);
std::optional<PipelineStage> parsePipelineStage(llvm::StringRef name);
/// The stage names, comma-separated, for messages and help texts.
llvm::StringRef getPipelineStageList();

struct TrainingPipelineOptions
    : public mlir::PassPipelineOptions<TrainingPipelineOptions> {
  Option<std::string> stopAfter{
      *this, "stop-after",
      llvm::cl::desc("Last stage to run: import, train-step, autodiff, ddp, "
                     "optimizer, buckets, memory or llvm"),
      llvm::cl::init("llvm")};

  // The loss and its label.
  Option<std::string> loss{
      *this, "loss",
      llvm::cl::desc("cross_entropy (logits [N,C] and class labels [N], or "
                     "logits [B,T,V] and labels [B,T] with the classes last; "
                     "mean), mse (mean), or none (forward returns the loss)"),
      llvm::cl::init("cross_entropy")};
  Option<std::string> labelName{*this, "label-name",
                                llvm::cl::desc("Name of the label argument"),
                                llvm::cl::init("label")};
  ListOption<int64_t> labelShape{
      *this, "label-shape",
      llvm::cl::desc("Shape of the label as the user gives it")};
  Option<std::string> labelDType{
      *this, "label-dtype",
      llvm::cl::desc("Element type the user gives the label (f32, f64, i64); "
                     "when set, the label is checked against the loss. "
                     "Empty: the label's type is derived from the loss")};

  // The optimizer (torch.optim's update rules and defaults).
  Option<std::string> optimizer{*this, "optimizer",
                                llvm::cl::desc("sgd, adam or adamw"),
                                llvm::cl::init("sgd")};
  Option<double> lr{*this, "lr",
                    llvm::cl::desc("Learning rate (default 0.01 for sgd, 1e-3 "
                                   "for adam and adamw, as torch.optim)")};
  Option<double> momentum{*this, "momentum", llvm::cl::desc("SGD momentum"),
                          llvm::cl::init(0.0)};
  Option<double> dampening{*this, "dampening", llvm::cl::desc("SGD dampening"),
                           llvm::cl::init(0.0)};
  Option<bool> nesterov{*this, "nesterov",
                        llvm::cl::desc("SGD Nesterov momentum"),
                        llvm::cl::init(false)};
  Option<double> weightDecay{
      *this, "weight-decay",
      llvm::cl::desc("L2 penalty added to the gradient (sgd, adam) or "
                     "decoupled decay (adamw); default 0, 1e-2 for adamw")};
  Option<std::string> paramGroups{
      *this, "param-groups",
      llvm::cl::desc("Parameter groups 'PATTERN:lr=X,weight_decay=Y' "
                     "separated by ';' (dpc's --param-group, "
                     "compiler/Transforms/ParamGroups.h)")};
  ListOption<double> betas{
      *this, "betas",
      llvm::cl::desc("Adam/AdamW coefficients B1,B2 (default 0.9,0.999)")};
  Option<double> eps{*this, "eps",
                     llvm::cl::desc("Adam/AdamW denominator term"),
                     llvm::cl::init(1e-8)};

  // Gradient clipping (torch.nn.utils), on the averaged gradients.
  Option<double> clipGradNorm{
      *this, "clip-grad-norm",
      llvm::cl::desc("clip_grad_norm_'s max_norm (0: no norm clipping)"),
      llvm::cl::init(0.0)};
  Option<double> clipNormType{
      *this, "clip-norm-type",
      llvm::cl::desc("clip_grad_norm_'s norm_type (default 2; inf)"),
      llvm::cl::init(2.0)};
  Option<double> clipGradValue{
      *this, "clip-grad-value",
      llvm::cl::desc("clip_grad_value_'s clip_value (0: no value clipping)"),
      llvm::cl::init(0.0)};

  // Mixed precision: where the 16-bit activations that the backward pass
  // reads are kept (dpc-save-low-precision).
  Option<std::string> savedActivations{
      *this, "saved-activations",
      llvm::cl::desc("16-bit type the autocast activations saved for the "
                     "backward pass are kept in: none (float32), bf16 or "
                     "fp16"),
      llvm::cl::init("none")};
  Option<bool> bf16Kernels{
      *this, "bf16-kernels",
      llvm::cl::desc("Matrix products and convolutions of bfloat16 values "
                     "on bfloat16 operands (dpc-bf16-kernels; --precision "
                     "bf16)"),
      llvm::cl::init(false)};

  // Dynamic loss scaling (torch.amp.GradScaler): the backward pass seeded
  // with the run-time scale, the gradients unscaled before the updates, a
  // step with inf/NaN gradients skipped and the scale updated.
  Option<bool> gradScaler{
      *this, "grad-scaler",
      llvm::cl::desc("Train with torch.amp.GradScaler's dynamic loss "
                     "scaling"),
      llvm::cl::init(false)};
  Option<double> gradScalerInitScale{
      *this, "grad-scaler-init-scale",
      llvm::cl::desc("GradScaler's init_scale (default 65536)"),
      llvm::cl::init(65536.0)};
  Option<double> gradScalerGrowthFactor{
      *this, "grad-scaler-growth-factor",
      llvm::cl::desc("GradScaler's growth_factor (default 2)"),
      llvm::cl::init(2.0)};
  Option<double> gradScalerBackoffFactor{
      *this, "grad-scaler-backoff-factor",
      llvm::cl::desc("GradScaler's backoff_factor (default 0.5)"),
      llvm::cl::init(0.5)};
  Option<int64_t> gradScalerGrowthInterval{
      *this, "grad-scaler-growth-interval",
      llvm::cl::desc("GradScaler's growth_interval (default 2000)"),
      llvm::cl::init(2000)};

  // Data parallelism.
  Option<int64_t> accumulate{
      *this, "accumulate",
      llvm::cl::desc("Micro-batches per optimizer step (gradient "
                     "accumulation)"),
      llvm::cl::init(1)};
  Option<std::string> mode{
      *this, "mode",
      llvm::cl::desc("ddp (one process per rank) or dp (one process, the "
                     "batch scattered over devices)"),
      llvm::cl::init("ddp")};
  Option<int64_t> worldSize{*this, "world-size",
                            llvm::cl::desc("Ranks the module will run on"),
                            llvm::cl::init(1)};
  Option<int64_t> devices{
      *this, "devices",
      llvm::cl::desc("--mode dp: devices the batch is scattered over"),
      llvm::cl::init(1)};
  Option<int64_t> batch{
      *this, "batch",
      llvm::cl::desc("--mode dp: samples in the whole batch (dimension 0 of "
                     "every input)"),
      llvm::cl::init(0)};
  Option<double> bucketCapMb{*this, "bucket-cap-mb",
                             llvm::cl::desc("DDP bucket size cap in MiB"),
                             llvm::cl::init(25.0)};
  Option<double> firstBucketMb{*this, "first-bucket-mb",
                               llvm::cl::desc("Cap of the first DDP bucket "
                                              "in MiB"),
                               llvm::cl::init(1.0)};
  Option<std::string> gradComm{
      *this, "grad-comm",
      llvm::cl::desc("Type DDP gradient buckets are all-reduced in: fp32, "
                     "or fp16 / bf16 as DDP's fp16_compress_hook / "
                     "bf16_compress_hook"),
      llvm::cl::init("fp32")};

  /// Checks the options as torch.optim and DDP check theirs, and that every
  /// hyper-parameter survives the float32 arithmetic of the kernels. Calls
  /// `report` with one line naming the flag and returns failure on the
  /// first problem.
  mlir::LogicalResult
  verify(llvm::function_ref<void(const llvm::Twine &)> report) const;

  bool isDataParallel() const { return mode == "dp"; }
  bool isAdam() const { return optimizer == "adam" || optimizer == "adamw"; }
  /// The stop-after stage (verify() checks that it is one).
  PipelineStage getStopAfter() const;

  /// The hyper-parameters in effect: the given value, or torch.optim's
  /// default for the optimizer.
  double getLearningRate() const;
  double getWeightDecay() const;
  double getBeta1() const;
  double getBeta2() const;
};

/// Adds the passes of every stage up to `options.stopAfter` to `pm`, which
/// runs on the module. `options` must have passed verify().
void buildTrainingPipeline(mlir::OpPassManager &pm,
                           const TrainingPipelineOptions &options);

/// Adds the passes of one stage.
void addPipelineStage(mlir::OpPassManager &pm, PipelineStage stage,
                      const TrainingPipelineOptions &options);

/// Registers `--dpc-training-pipeline` (verifying the options first).
void registerTrainingPipeline();

} // namespace dpc

#endif // DPC_COMPILER_PIPELINE_PIPELINE_H
