//===- Pipeline.cpp - The training-step pipeline --------------------------===//

#include "compiler/Pipeline/Pipeline.h"

#include "compiler/Conversion/Passes.h"
#include "compiler/Transforms/ParamGroups.h"
#include "compiler/Transforms/Passes.h"

#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/Format.h"

#include <cmath>

using namespace mlir;
using namespace dpc;

namespace {

constexpr llvm::StringLiteral kStageNames[] = {
    "import",    "train-step", "autodiff", "ddp",
    "optimizer", "buckets",    "memory",   "llvm"};

/// torch.optim's defaults where they differ between the optimizers.
constexpr double kSGDLearningRate = 0.01;
constexpr double kAdamLearningRate = 1e-3;
constexpr double kAdamWWeightDecay = 1e-2;
constexpr double kDefaultBetas[] = {0.9, 0.999};

/// DDP's caps are MiB; the bucket passes count bytes in int64.
constexpr double kBytesPerMiB = 1024.0 * 1024.0;

/// A number as the user would write it: 0.9, 1e+39, inf, nan.
std::string formatNumber(double value) {
  std::string text;
  llvm::raw_string_ostream(text) << llvm::format("%g", value);
  return text;
}

/// Hyper-parameters reach the kernels as float32 (and torch.optim computes
/// with them in float32 tensors): a value must be finite, and one that is
/// not zero must stay neither infinite nor zero when rounded to float32.
LogicalResult
checkHyperParameter(llvm::StringRef flag, double value,
                    llvm::function_ref<void(const llvm::Twine &)> report) {
  if (!std::isfinite(value)) {
    report("--" + flag + " " + formatNumber(value) + " is not a finite number");
    return failure();
  }
  float rounded = static_cast<float>(value);
  if (std::isinf(rounded)) {
    report("--" + flag + " " + formatNumber(value) +
           " becomes inf in float32 (the kernels compute in float32)");
    return failure();
  }
  if (value != 0.0 && rounded == 0.0f) {
    report("--" + flag + " " + formatNumber(value) +
           " becomes 0 in float32 (the kernels compute in float32)");
    return failure();
  }
  return success();
}

/// A bucket cap must be finite and its byte count must fit an int64.
LogicalResult
checkBucketCap(llvm::StringRef flag, double mb,
               llvm::function_ref<void(const llvm::Twine &)> report) {
  if (!std::isfinite(mb)) {
    report("--" + flag + " " + formatNumber(mb) + " is not a finite number");
    return failure();
  }
  // 2^63 bytes is 2^43 MiB.
  if (mb * kBytesPerMiB >= 9223372036854775808.0) {
    report("--" + flag + " " + formatNumber(mb) +
           " is too large: the cap in bytes overflows int64");
    return failure();
  }
  return success();
}

} // namespace

llvm::StringRef dpc::getPipelineStageName(PipelineStage stage) {
  return kStageNames[static_cast<int>(stage)];
}

std::optional<PipelineStage> dpc::parsePipelineStage(llvm::StringRef name) {
  const auto *it = llvm::find(kStageNames, name);
  if (it == std::end(kStageNames))
    return std::nullopt;
  return static_cast<PipelineStage>(it - std::begin(kStageNames));
}

llvm::StringRef dpc::getPipelineStageList() {
  return "import, train-step, autodiff, ddp, optimizer, buckets, memory, llvm";
}

PipelineStage TrainingPipelineOptions::getStopAfter() const {
  return parsePipelineStage(stopAfter).value_or(PipelineStage::LLVM);
}

double TrainingPipelineOptions::getLearningRate() const {
  if (lr.hasValue())
    return lr;
  return isAdam() ? kAdamLearningRate : kSGDLearningRate;
}

double TrainingPipelineOptions::getWeightDecay() const {
  if (weightDecay.hasValue())
    return weightDecay;
  return optimizer == "adamw" ? kAdamWWeightDecay : 0.0;
}

double TrainingPipelineOptions::getBeta1() const {
  return betas.empty() ? kDefaultBetas[0] : betas[0];
}

double TrainingPipelineOptions::getBeta2() const {
  return betas.size() < 2 ? kDefaultBetas[1] : betas[1];
}

LogicalResult TrainingPipelineOptions::verify(
    llvm::function_ref<void(const llvm::Twine &)> report) const {
  auto fail = [&](const llvm::Twine &message) {
    report(message);
    return failure();
  };
  if (!parsePipelineStage(stopAfter))
    return fail("stop-after '" + stopAfter + "' is not a stage (" +
                getPipelineStageList() + ")");
  if (loss != "cross_entropy" && loss != "mse" && loss != "none")
    return fail("--loss '" + loss + "' is not one of cross_entropy, mse, none");
  if (!labelDType.empty() && labelDType != "f32" && labelDType != "f64" &&
      labelDType != "i64")
    return fail("label-dtype '" + labelDType + "' is not one of f32, f64, i64");
  if (loss == "none" && !labelDType.empty())
    return fail("--label makes no sense with --loss none");

  // The optimizer, as torch.optim's constructors check it.
  if (optimizer != "sgd" && !isAdam())
    return fail("--optimizer '" + optimizer +
                "' is not supported (supported: sgd, adam, adamw)");
  if (isAdam() &&
      (momentum.hasValue() || dampening.hasValue() || nesterov.hasValue()))
    return fail("--momentum, --dampening and --nesterov are options of "
                "--optimizer sgd, not " +
                optimizer);
  if (!isAdam() && (betas.hasValue() || eps.hasValue()))
    return fail("--betas and --eps are options of --optimizer adam and adamw, "
                "not sgd");
  double learningRate = getLearningRate(), decay = getWeightDecay();
  if (failed(checkHyperParameter("lr", learningRate, report)) ||
      failed(checkHyperParameter("momentum", momentum, report)) ||
      failed(checkHyperParameter("dampening", dampening, report)) ||
      failed(checkHyperParameter("weight-decay", decay, report)))
    return failure();
  if (!(learningRate > 0.0))
    return fail("--lr must be positive");
  if (momentum < 0.0 || dampening < 0.0 || decay < 0.0)
    return fail("--momentum, --dampening and --weight-decay must not be "
                "negative");
  if (nesterov && (momentum == 0.0 || dampening != 0.0))
    return fail("--nesterov needs --momentum > 0 and --dampening 0 (as "
                "torch.optim.SGD)");
  std::string groupError;
  if (!ParamGroups::parse(paramGroups, learningRate, decay, groupError))
    return fail(groupError);
  if (betas.hasValue() && betas.size() != 2)
    return fail("--betas is not two numbers B1,B2, e.g. 0.9,0.999");
  double beta1 = getBeta1(), beta2 = getBeta2();
  std::string betasText = formatNumber(beta1) + "," + formatNumber(beta2);
  if (failed(checkHyperParameter("betas", beta1, report)) ||
      failed(checkHyperParameter("betas", beta2, report)))
    return failure();
  if (!(beta1 >= 0.0 && beta1 < 1.0) || !(beta2 >= 0.0 && beta2 < 1.0))
    return fail("--betas '" + betasText +
                "': both must be in [0, 1) (as torch.optim.Adam)");
  if (failed(checkHyperParameter("eps", eps, report)))
    return failure();
  if (!(eps >= 0.0))
    return fail("--eps must not be negative");

  // Gradient clipping, as torch.nn.utils checks it (and one kind only).
  if (clipGradNorm.hasValue() &&
      (!std::isfinite(clipGradNorm) || !(clipGradNorm > 0.0)))
    return fail("--clip-grad-norm must be a finite positive number, got " +
                formatNumber(clipGradNorm));
  if (clipNormType.hasValue() && !clipGradNorm.hasValue())
    return fail("--clip-norm-type is an option of --clip-grad-norm");
  if (!(clipNormType > 0.0))
    return fail("--clip-norm-type must be positive (or inf), got " +
                formatNumber(clipNormType));
  if (clipGradValue.hasValue() &&
      (!std::isfinite(clipGradValue) || !(clipGradValue > 0.0)))
    return fail("--clip-grad-value must be a finite positive number, got " +
                formatNumber(clipGradValue));
  if (clipGradNorm.hasValue() && clipGradValue.hasValue())
    return fail("--clip-grad-norm and --clip-grad-value both clip the "
                "gradients; give one");

  // Loss scaling, as torch.amp.GradScaler checks its arguments, and a
  // scale that stays a finite float32.
  bool scalerFlagWithoutScaler =
      !gradScaler &&
      (gradScalerInitScale.hasValue() || gradScalerGrowthFactor.hasValue() ||
       gradScalerBackoffFactor.hasValue() ||
       gradScalerGrowthInterval.hasValue());
  if (scalerFlagWithoutScaler)
    return fail("--grad-scaler-* are options of --grad-scaler (on by default "
                "with --precision fp16)");
  if (!(gradScalerInitScale > 0.0) ||
      !std::isfinite(static_cast<float>(gradScalerInitScale.getValue())))
    return fail("--grad-scaler-init-scale must be positive and finite in "
                "float32, got " +
                formatNumber(gradScalerInitScale));
  if (!(gradScalerGrowthFactor > 1.0) ||
      !std::isfinite(gradScalerGrowthFactor.getValue()))
    return fail("--grad-scaler-growth-factor should be > 1.0 (as "
                "GradScaler), got " +
                formatNumber(gradScalerGrowthFactor));
  if (!(gradScalerBackoffFactor > 0.0 && gradScalerBackoffFactor < 1.0))
    return fail("--grad-scaler-backoff-factor should be in (0, 1) (as "
                "GradScaler), got " +
                formatNumber(gradScalerBackoffFactor));
  if (gradScalerGrowthInterval < 1)
    return fail("--grad-scaler-growth-interval should be a positive integer, "
                "got " +
                llvm::Twine(gradScalerGrowthInterval.getValue()));
  if (savedActivations != "none" && savedActivations != "bf16" &&
      savedActivations != "fp16")
    return fail("--saved-activations '" + savedActivations +
                "' is not supported (supported: none, bf16, fp16)");
  if (gradScaler && isDataParallel())
    return fail("--grad-scaler is not supported with --mode dp yet");

  // How the step is spread over micro-batches, ranks and devices.
  if (accumulate < 1)
    return fail("--accumulate '" + llvm::Twine(accumulate.getValue()) +
                "' is not a positive integer (micro-batches per step)");
  if (mode != "ddp" && mode != "dp")
    return fail("--mode '" + mode + "' is not supported (supported: ddp, dp)");
  if (worldSize < 1)
    return fail("--world-size must be at least 1");
  if (devices.hasValue() && !isDataParallel())
    return fail("--devices is an option of --mode dp (--mode ddp runs "
                "--world-size processes)");
  if (isDataParallel()) {
    if (!devices.hasValue())
      return fail("--mode dp needs --devices N, the number of replicas the "
                  "batch is scattered over");
    if (devices < 1)
      return fail("--devices must be at least 1, got " +
                  llvm::Twine(devices.getValue()));
    if (worldSize != 1)
      return fail("--mode dp runs in one process, so --world-size must be 1 "
                  "(got " +
                  llvm::Twine(worldSize.getValue()) +
                  "); the replicas are --devices");
    if (accumulate > 1)
      return fail("--accumulate is not supported with --mode dp yet");
    if (loss == "none")
      return fail("--mode dp needs --loss cross_entropy or mse: the loss is "
                  "computed on the gathered outputs (with --loss none each "
                  "replica would return its own loss)");
  }
  if (gradComm != "fp32" && gradComm != "fp16" && gradComm != "bf16")
    return fail("--grad-comm '" + gradComm +
                "' is not supported (supported: fp32, fp16, bf16)");
  if (gradComm != "fp32" && isDataParallel())
    return fail("--grad-comm " + gradComm +
                " compresses DDP's gradient all-reduce; --mode dp reduces "
                "its replicas' gradients in one process, without one");
  if (failed(checkBucketCap("bucket-cap-mb", bucketCapMb, report)) ||
      failed(checkBucketCap("first-bucket-mb", firstBucketMb, report)))
    return failure();
  if (!(bucketCapMb > 0.0) || !(firstBucketMb > 0.0))
    return fail("--bucket-cap-mb and --first-bucket-mb must be positive");
  return success();
}

void dpc::addPipelineStage(OpPassManager &pm, PipelineStage stage,
                           const TrainingPipelineOptions &options) {
  bool dataParallel = options.isDataParallel();
  switch (stage) {
  case PipelineStage::Import:
    return;
  case PipelineStage::TrainStep: {
    // --mode dp: the per-chunk forwards become one forward over the batch.
    if (dataParallel) {
      pm.addPass(createDPReplicate(
          DPReplicateOptions{options.devices, options.batch}));
      pm.addPass(createCanonicalizerPass());
    }
    BuildTrainStepOptions buildTrainStep;
    buildTrainStep.loss = options.loss;
    buildTrainStep.labelName = options.labelName;
    buildTrainStep.labelShape = options.labelShape;
    buildTrainStep.labelDType = options.labelDType;
    pm.addPass(createBuildTrainStep(buildTrainStep));
    return;
  }
  case PipelineStage::Autodiff:
    pm.addPass(createAutodiff(AutodiffOptions{options.gradScaler}));
    pm.addPass(createCanonicalizerPass());
    // --mode dp's replica stages (dpc-dp-phases) would have to place the
    // packs in their stages; its activations and GEMMs stay float32.
    if (!dataParallel) {
      if (options.savedActivations != "none") {
        SaveLowPrecisionOptions save;
        save.storage = options.savedActivations;
        pm.addPass(createSaveLowPrecision(save));
      }
      if (options.bf16Kernels)
        pm.addPass(createBFloat16Kernels());
    }
    if (options.accumulate > 1)
      pm.addPass(createAccumulate(AccumulateOptions{options.accumulate}));
    return;
  case PipelineStage::DDP:
    // --mode dp reduce-adds the replicas' gradients instead (autodiff of
    // dp.replicate).
    if (!dataParallel)
      pm.addPass(createDDPAllReduce());
    return;
  case PipelineStage::Optimizer:
    if (options.isAdam()) {
      AdamOptions adam;
      adam.lr = options.getLearningRate();
      adam.beta1 = options.getBeta1();
      adam.beta2 = options.getBeta2();
      adam.eps = options.eps;
      adam.weightDecay = options.getWeightDecay();
      adam.decoupledWeightDecay = options.optimizer == "adamw";
      adam.paramGroups = options.paramGroups;
      adam.runtimeLr = true; // Session::setLearningRate, --lr-schedule
      pm.addPass(createAdam(adam));
    } else {
      SGDOptions sgd;
      sgd.lr = options.getLearningRate();
      sgd.momentum = options.momentum;
      sgd.dampening = options.dampening;
      sgd.weightDecay = options.getWeightDecay();
      sgd.nesterov = options.nesterov;
      sgd.paramGroups = options.paramGroups;
      sgd.runtimeLr = true; // Session::setLearningRate, --lr-schedule
      pm.addPass(createSGD(sgd));
    }
    if (options.gradScaler) {
      // scaler.unscale_ before any clipping, right before the updates.
      GradScalerOptions scaler;
      scaler.initScale = options.gradScalerInitScale;
      scaler.growthFactor = options.gradScalerGrowthFactor;
      scaler.backoffFactor = options.gradScalerBackoffFactor;
      scaler.growthInterval = options.gradScalerGrowthInterval;
      pm.addPass(createGradScaler(scaler));
    }
    if (options.clipGradNorm > 0.0 || options.clipGradValue > 0.0) {
      // After the updates exist: the clip goes right before them.
      ClipGradientsOptions clip;
      clip.maxNorm = options.clipGradNorm;
      clip.normType = options.clipNormType;
      clip.clipValue = options.clipGradValue;
      pm.addPass(createClipGradients(clip));
    }
    return;
  case PipelineStage::Buckets:
    // --mode dp has no all-reduce to bucket; its ops are grouped into
    // concurrent replica stages instead.
    if (dataParallel) {
      pm.addPass(createDPPhases());
    } else {
      DDPBucketsOptions buckets;
      buckets.bucketCapMb = options.bucketCapMb;
      buckets.firstBucketMb = options.firstBucketMb;
      buckets.gradComm = options.gradComm;
      pm.addPass(createDDPBuckets(buckets));
    }
    return;
  case PipelineStage::Memory:
    pm.addPass(createPlanMemory());
    return;
  case PipelineStage::LLVM:
    pm.addPass(createLowerToLLVM());
    return;
  }
}

void dpc::buildTrainingPipeline(OpPassManager &pm,
                                const TrainingPipelineOptions &options) {
  PipelineStage last = options.getStopAfter();
  for (int stage = 0; stage <= static_cast<int>(last); ++stage)
    addPipelineStage(pm, static_cast<PipelineStage>(stage), options);
}

void dpc::registerTrainingPipeline() {
  // PassPipelineRegistration cannot refuse options; registering the
  // builder directly lets a bad option be one error instead of a pipeline
  // that fails somewhere later.
  mlir::registerPassPipeline(
      "dpc-training-pipeline",
      "The training-step pipeline of dpc, from the imported module to the "
      "LLVM dialect (stop-after=<stage> ends it earlier)",
      [](OpPassManager &pm, llvm::StringRef text,
         llvm::function_ref<LogicalResult(const llvm::Twine &)> errorHandler) {
        TrainingPipelineOptions options;
        if (failed(options.parseFromString(text)))
          return failure();
        LogicalResult verified = success();
        if (failed(options.verify([&](const llvm::Twine &message) {
              verified = errorHandler(message);
            })))
          return failure();
        buildTrainingPipeline(pm, options);
        return verified;
      },
      [](llvm::function_ref<void(const detail::PassOptions &)> optHandler) {
        optHandler(TrainingPipelineOptions());
      });
}
