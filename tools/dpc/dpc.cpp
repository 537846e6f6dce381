//===- dpc.cpp - The dpc compiler driver ----------------------------------===//
//
//   dpc model.pt -o model.so --input x:f32[16,32] --label y:i64[16] \
//       --loss cross_entropy --optimizer sgd --lr 0.1 --mode ddp --world-size 2
//   dpc model.pt -o model.so --input x:f32[10,32] --label y:i64[10] \
//       --mode dp --devices 3          (nn.DataParallel: whole-batch shapes)
//
// A thin driver: parses the flags into the pipeline's options
// (compiler/Pipeline), imports the TorchScript model, runs the training
// pipeline and writes model.so (compiler/Codegen). `--emit=<stage>` prints
// the IR after a stage of the pipeline, or a codegen output, instead. Every
// error is one line on stderr and exit code 1.
//
//===----------------------------------------------------------------------===//

#include "DriverChecks.h"
#include "compiler/Codegen/Manifest.h"
#include "compiler/Codegen/Schedule.h"
#include "compiler/Codegen/SharedLibraryEmitter.h"
#include "compiler/Import/TorchImporter.h"
#include "compiler/Pipeline/Pipeline.h"
#include "compiler/TrainStep/TrainStep.h"
#include "compiler/Transforms/ParamGroups.h"
#include "dialects/DP/IR/DPDialect.h"
#include "dialects/NN/IR/NNDialect.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Regex.h"
#include "llvm/Support/WithColor.h"

using namespace mlir;
using namespace dpc;
namespace cl = llvm::cl;

static cl::OptionCategory dpcCategory("dpc options");

static cl::opt<std::string> modelPath(cl::Positional, cl::desc("<model.pt>"),
                                      cl::cat(dpcCategory));
static cl::opt<std::string>
    outputPath("o", cl::desc("Output shared library (model.so)"),
               cl::value_desc("file"), cl::cat(dpcCategory));
static cl::list<std::string> inputSpecs(
    "input",
    cl::desc("A forward argument NAME:DTYPE[SHAPE], e.g. x:f32[16,32]; one per "
             "argument, in order. In ddp mode shapes are per rank, in dp "
             "mode the whole batch"),
    cl::value_desc("spec"), cl::cat(dpcCategory));
static cl::opt<std::string> labelSpec(
    "label",
    cl::desc("The label NAME:DTYPE[SHAPE], e.g. y:i64[16] (checked against "
             "the loss; its type is derived when omitted)"),
    cl::value_desc("spec"), cl::cat(dpcCategory));
static cl::opt<std::string> lossKind(
    "loss",
    cl::desc("cross_entropy (logits [N,C] and class labels [N], or "
             "language-model logits [B,T,V] and labels [B,T]: the class dim "
             "is the last, as F.cross_entropy(logits.view(-1,V), y.view(-1)); "
             "mean), mse (mean), or none (forward returns the loss). A "
             "forward returning a tuple or dict: the loss reads its first "
             "element (see --loss-output)"),
    cl::cat(dpcCategory));
static cl::opt<std::string> lossOutput(
    "loss-output",
    cl::desc("For a forward that returns a tuple, NamedTuple or dict (e.g. "
             "(logits, aux), {'logits': ..., 'aux': ...}, (loss, logits) "
             "with --loss none): the element the loss reads, by index or "
             "by field or key name (default: the first). The other "
             "elements are not trained on"),
    cl::value_desc("index|name"), cl::cat(dpcCategory));
static cl::opt<std::string> optimizer(
    "optimizer",
    cl::desc("Optimizer: sgd, adam or adamw (torch.optim's update rules)"),
    cl::cat(dpcCategory));
static cl::opt<double>
    lr("lr",
       cl::desc("Learning rate (default 0.01 for sgd; 1e-3 for adam "
                "and adamw, as torch.optim)"),
       cl::cat(dpcCategory));
static cl::opt<double> momentum("momentum", cl::desc("SGD momentum"),
                                cl::cat(dpcCategory));
static cl::opt<double> dampening("dampening", cl::desc("SGD dampening"),
                                 cl::cat(dpcCategory));
static cl::opt<double> weightDecay(
    "weight-decay",
    cl::desc("torch.optim's weight_decay: an L2 penalty added to the gradient "
             "(sgd, adam) or decoupled decay (adamw); default 0, 1e-2 for "
             "adamw as torch.optim.AdamW"),
    cl::cat(dpcCategory));
static cl::opt<bool> nesterov("nesterov", cl::desc("Nesterov momentum"),
                              cl::cat(dpcCategory));
static cl::opt<std::string>
    betas("betas",
          cl::desc("Adam/AdamW coefficients B1,B2 of the moment "
                   "averages (default 0.9,0.999)"),
          cl::value_desc("B1,B2"), cl::cat(dpcCategory));
// Parsed by hand (as --betas) so that a bad value is a one-line error.
static cl::opt<std::string>
    eps("eps",
        cl::desc("Adam/AdamW term added to the denominator "
                 "(default 1e-8)"),
        cl::value_desc("E"), cl::cat(dpcCategory));
static cl::list<std::string> paramGroups(
    "param-group",
    cl::desc("A torch.optim parameter group: the parameters whose state_dict "
             "name matches the glob PATTERN (e.g. '*.bias', '*norm*') get "
             "their own lr and/or weight_decay; repeatable, the first match "
             "wins, the others stay in the default group (--lr, "
             "--weight-decay)"),
    cl::value_desc("PATTERN:lr=X,weight_decay=Y"), cl::cat(dpcCategory));
static cl::opt<double> clipGradNorm(
    "clip-grad-norm",
    cl::desc("Clip the averaged gradients to a global norm of at most MAX "
             "before the optimizer step, as torch.nn.utils.clip_grad_norm_ "
             "after DDP's all-reduce (waits for every bucket)"),
    cl::value_desc("MAX"), cl::cat(dpcCategory));
static cl::opt<double> clipNormType(
    "clip-norm-type",
    cl::desc("--clip-grad-norm's norm_type (default 2; inf for the max "
             "norm)"),
    cl::value_desc("P"), cl::cat(dpcCategory));
static cl::opt<double> clipGradValue(
    "clip-grad-value",
    cl::desc("Clamp every averaged gradient element to [-V, V] before the "
             "optimizer step, as torch.nn.utils.clip_grad_value_"),
    cl::value_desc("V"), cl::cat(dpcCategory));
static cl::opt<std::string> accumulate(
    "accumulate",
    cl::desc("Gradient accumulation: K micro-batches (each the --input "
             "shape) per optimizer step, gradients averaged over them and "
             "all-reduced once per step (default 1)"),
    cl::value_desc("K"), cl::cat(dpcCategory));
static cl::opt<std::string> mode(
    "mode",
    cl::desc("Data parallelism: ddp (one process per rank, like "
             "DistributedDataParallel) or dp (one process, the batch scattered "
             "over --devices replicas, like nn.DataParallel)"),
    cl::cat(dpcCategory));
static cl::opt<int64_t> devices(
    "devices",
    cl::desc("--mode dp: number of devices (replicas, one thread each on the "
             "CPU) the batch is scattered over in torch.chunk's chunks"),
    cl::value_desc("N"), cl::cat(dpcCategory));
static cl::opt<int64_t>
    worldSize("world-size", cl::desc("Number of ranks the module will run on"),
              cl::cat(dpcCategory));
static cl::opt<double>
    bucketCapMb("bucket-cap-mb",
                cl::desc("DDP bucket size cap in MiB (default 25)"),
                cl::cat(dpcCategory));
static cl::opt<double>
    firstBucketMb("first-bucket-mb",
                  cl::desc("Cap of the first DDP bucket in MiB "
                           "(default 1)"),
                  cl::cat(dpcCategory));

static cl::opt<std::string> gradComm(
    "grad-comm",
    cl::desc("Type the DDP gradient buckets are all-reduced in: fp32 "
             "(default), or fp16 / bf16, rounded and divided by the world "
             "size there, summed in 16 bits and widened back, as DDP's "
             "fp16_compress_hook / bf16_compress_hook"),
    cl::value_desc("fp32|fp16|bf16"), cl::cat(dpcCategory));

static cl::opt<std::string> precision(
    "precision",
    cl::desc("Compute precision: fp32 (default), or bf16 / fp16, every op as "
             "torch.autocast(device_type=\"cpu\", dtype=torch.bfloat16 / "
             "torch.float16) runs it (matrix products and convolutions in 16 "
             "bits, the losses in float32, other ops in their operands' "
             "type; float32 master weights and optimizer state); fp16 "
             "trains with --grad-scaler unless --grad-scaler=false"),
    cl::value_desc("fp32|bf16|fp16"), cl::init("fp32"), cl::cat(dpcCategory));
static cl::opt<bool> lowPrecisionActivations(
    "low-precision-activations",
    cl::desc("With --precision bf16 / fp16: keep the 16-bit activations that "
             "the backward pass reads in 16 bits between the forward and the "
             "backward pass, as autocast does (default true; exact: the "
             "numbers are the same either way, only the memory differs)"),
    cl::init(true), cl::cat(dpcCategory));
static cl::opt<bool> bf16Kernels(
    "bf16-kernels",
    cl::desc("With --precision bf16: matrix products and convolutions of "
             "bfloat16 values in bfloat16 kernels, as autocast runs them "
             "(oneDNN's where the CPU has bfloat16 units; default true; "
             "products exact, sums in float32 in the library's order). "
             "--bf16-kernels=false keeps float32 kernels on the same values"),
    cl::init(true), cl::cat(dpcCategory));
static cl::opt<bool> gradScaler(
    "grad-scaler",
    cl::desc("Dynamic loss scaling as torch.amp.GradScaler: the backward "
             "pass from the loss times the scale, the gradients unscaled "
             "after the all-reduce, a step with inf/NaN gradients skipped "
             "and the scale backed off, grown after --grad-scaler-growth-"
             "interval good steps (default: on with --precision fp16)"),
    cl::cat(dpcCategory));
static cl::opt<double>
    gradScalerInitScale("grad-scaler-init-scale",
                        cl::desc("GradScaler's init_scale (default 65536)"),
                        cl::value_desc("S"), cl::cat(dpcCategory));
static cl::opt<double>
    gradScalerGrowthFactor("grad-scaler-growth-factor",
                           cl::desc("GradScaler's growth_factor (default 2)"),
                           cl::value_desc("F"), cl::cat(dpcCategory));
static cl::opt<double> gradScalerBackoffFactor(
    "grad-scaler-backoff-factor",
    cl::desc("GradScaler's backoff_factor (default 0.5)"), cl::value_desc("F"),
    cl::cat(dpcCategory));
static cl::opt<int64_t> gradScalerGrowthInterval(
    "grad-scaler-growth-interval",
    cl::desc("GradScaler's growth_interval (default 2000)"),
    cl::value_desc("N"), cl::cat(dpcCategory));

static cl::opt<std::string> weightsMode(
    "weights",
    cl::desc("Initial parameters and buffers: embed (in model.so, the "
             "model.pt's values) or external (model.so holds none; "
             "dpc-run --init-weights FILE.safetensors gives them, by "
             "state_dict name; for large models)"),
    cl::value_desc("embed|external"), cl::init("embed"), cl::cat(dpcCategory));

static cl::opt<bool> evalStep(
    "eval-step",
    cl::desc("Also compile the evaluation step (default true): the forward "
             "as model.eval() runs it (BatchNorm on its running statistics, "
             "dropout off) and the loss, without gradients, with its own "
             "memory plan (Session::evaluate, dpc-run --eval-data, "
             "--predict). --eval-step=false leaves it out"),
    cl::init(true), cl::cat(dpcCategory));

/// What `--emit` can print besides the stages of the pipeline: the outputs
/// of codegen.
static const char *const kCodegenOutputs[] = {"llvm-ir", "manifest",
                                              "schedule"};
static cl::opt<std::string> emit(
    "emit",
    cl::desc(
        "Print the result of a stage instead of writing model.so: import, "
        "train-step, autodiff, ddp, optimizer, buckets (--mode dp: the "
        "replica stages), memory, llvm (LLVM "
        "dialect), llvm-ir, manifest, schedule (the compiled order of compute "
        "and communication per stream, with bucket sizes)"),
    cl::value_desc("stage"), cl::cat(dpcCategory));

/// Prints "dpc: error: <message>" and returns exit code 1.
static int fail(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), "dpc") << message << "\n";
  return 1;
}

/// Parses NAME:DTYPE[D0,D1,...].
static FailureOr<TensorSpec> parseTensorSpec(llvm::StringRef flag,
                                             llvm::StringRef text,
                                             std::string &error) {
  llvm::Regex pattern(
      "^([A-Za-z_][A-Za-z0-9_.]*):(f32|f64|i64)\\[([0-9, ]*)\\]$");
  llvm::SmallVector<llvm::StringRef> m;
  if (!pattern.match(text, &m)) {
    error = ("--" + flag + " '" + text +
             "' is not NAME:DTYPE[SHAPE] (DTYPE f32, f64 or i64), e.g. "
             "x:f32[16,32]")
                .str();
    return failure();
  }
  TensorSpec spec;
  spec.name = m[1].str();
  spec.dtype = *parseDType(m[2]); // one of the pattern's spellings
  llvm::SmallVector<llvm::StringRef> dims;
  m[3].split(dims, ',', -1, /*KeepEmpty=*/false);
  for (llvm::StringRef d : dims) {
    int64_t size;
    if (d.trim().getAsInteger(10, size) || size <= 0) {
      error = ("--" + flag + " '" + text +
               "': dimensions must be positive integers")
                  .str();
      return failure();
    }
    spec.shape.push_back(size);
  }
  return spec;
}

/// Copies what the flags give into the pipeline's options; a flag not given
/// keeps the options' default. Returns an error message for a flag value
/// that is not even of the flag's form (the options check the values).
static std::optional<std::string>
setPipelineOptions(TrainingPipelineOptions &options,
                   const std::optional<TensorSpec> &label,
                   const std::vector<TensorSpec> &inputs) {
  auto copyIfGiven = [](auto &option, const auto &flag) {
    if (flag.getNumOccurrences())
      option = flag.getValue();
  };
  copyIfGiven(options.loss, lossKind);
  if (label) {
    options.labelName = label->name;
    options.labelShape = label->shape;
    options.labelDType = dtypeName(label->dtype);
  }
  copyIfGiven(options.optimizer, optimizer);
  copyIfGiven(options.lr, lr);
  copyIfGiven(options.momentum, momentum);
  copyIfGiven(options.dampening, dampening);
  copyIfGiven(options.weightDecay, weightDecay);
  copyIfGiven(options.nesterov, nesterov);
  copyIfGiven(options.clipGradNorm, clipGradNorm);
  copyIfGiven(options.clipNormType, clipNormType);
  copyIfGiven(options.clipGradValue, clipGradValue);
  for (const std::string &group : paramGroups) {
    if (group.find(kParamGroupSeparator) != std::string::npos)
      return "--param-group '" + group + "' contains '" + kParamGroupSeparator +
             "'; give each group its own --param-group";
    if (!options.paramGroups.empty())
      options.paramGroups += kParamGroupSeparator;
    options.paramGroups += group;
  }
  if (betas.getNumOccurrences()) {
    auto [first, second] = llvm::StringRef(betas).split(',');
    double beta1, beta2;
    if (second.contains(',') || first.trim().getAsDouble(beta1) ||
        second.trim().getAsDouble(beta2))
      return "--betas '" + betas + "' is not two numbers B1,B2, e.g. 0.9,0.999";
    options.betas = {beta1, beta2};
  }
  if (eps.getNumOccurrences()) {
    double value;
    if (llvm::StringRef(eps).trim().getAsDouble(value))
      return "--eps '" + eps + "' is not a number";
    options.eps = value;
  }
  if (accumulate.getNumOccurrences()) {
    int64_t microBatches;
    if (llvm::StringRef(accumulate).trim().getAsInteger(10, microBatches))
      return "--accumulate '" + accumulate +
             "' is not a positive integer (micro-batches per step)";
    options.accumulate = microBatches;
  }
  copyIfGiven(options.mode, mode);
  copyIfGiven(options.worldSize, worldSize);
  copyIfGiven(options.devices, devices);
  // --mode dp: the whole batch, which dpc-dp-replicate splits.
  if (!inputs.front().shape.empty())
    options.batch = inputs.front().shape[0];
  copyIfGiven(options.bucketCapMb, bucketCapMb);
  copyIfGiven(options.firstBucketMb, firstBucketMb);
  copyIfGiven(options.gradComm, gradComm);
  if (lowPrecisionActivations.getNumOccurrences() && precision == "fp32")
    return "--low-precision-activations is an option of --precision bf16 "
           "and fp16";
  if (lowPrecisionActivations && precision != "fp32")
    options.savedActivations = precision.getValue();
  if (bf16Kernels.getNumOccurrences() && precision != "bf16")
    return "--bf16-kernels is an option of --precision bf16";
  options.bf16Kernels = bf16Kernels && precision == "bf16";
  // GradScaler comes with float16, as in PyTorch's recipe; any precision
  // may ask for it.
  options.gradScaler = gradScaler.getNumOccurrences() ? gradScaler.getValue()
                                                      : precision == "fp16";
  copyIfGiven(options.gradScalerInitScale, gradScalerInitScale);
  copyIfGiven(options.gradScalerGrowthFactor, gradScalerGrowthFactor);
  copyIfGiven(options.gradScalerBackoffFactor, gradScalerBackoffFactor);
  copyIfGiven(options.gradScalerGrowthInterval, gradScalerGrowthInterval);
  return std::nullopt;
}

/// Prints each diagnostic as one line: "file:line:col: error: message".
static void printDiagnostic(Diagnostic &diag) {
  std::string where;
  Location loc = diag.getLocation();
  if (auto name = dyn_cast<NameLoc>(loc))
    loc = name.getChildLoc();
  if (auto file = dyn_cast<FileLineColLoc>(loc)) {
    where = file.getFilename().str();
    if (file.getLine() > 0)
      where += ":" + std::to_string(file.getLine()) + ":" +
               std::to_string(file.getColumn());
  } else {
    where = "dpc";
  }
  const char *severity =
      diag.getSeverity() == DiagnosticSeverity::Error     ? "error"
      : diag.getSeverity() == DiagnosticSeverity::Warning ? "warning"
                                                          : "note";
  std::string message = diag.str();
  message = message.substr(0, message.find('\n'));
  llvm::errs() << where << ": " << severity << ": " << message << "\n";
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(dpcCategory);
  std::string flagErrors;
  llvm::raw_string_ostream flagErrorStream(flagErrors);
  bool flagsParsed = cl::ParseCommandLineOptions(
      argc, argv,
      "dpc: compile a TorchScript model into a data-parallel training step "
      "(model.so)\n\n"
      "  dpc model.pt -o model.so --input x:f32[16,32] --label y:i64[16] \\\n"
      "      --loss cross_entropy --optimizer sgd --lr 0.1 --momentum 0.9 \\\n"
      "      --mode ddp --world-size 2\n",
      &flagErrorStream);
  if (!flagsParsed) {
    // cl reports "dpc: <problem>" and a hint on following lines.
    llvm::StringRef first = llvm::StringRef(flagErrors).split('\n').first;
    first = first.split("Try:").first.rtrim(" .");
    first.consume_front("dpc: ");
    return fail(first.rtrim(". ") + " (see dpc --help)");
  }

  // Flags first: every mistake is caught before the (slow) model load.
  if (modelPath.empty())
    return fail("no model given (usage: dpc model.pt -o model.so --input ...)");
  // --emit names a stage of the pipeline (print the module after it) or an
  // output of codegen.
  std::optional<PipelineStage> emitStage = parsePipelineStage(emit);
  if (!emit.empty()) {
    if (!emitStage && !llvm::is_contained(kCodegenOutputs, emit))
      return fail("--emit '" + emit + "' is not a stage (" +
                  getPipelineStageList() + ", llvm-ir, manifest, schedule)");
  } else if (outputPath.empty()) {
    return fail("no output file (-o model.so)");
  } else if (llvm::Error err = checkOutputFile(outputPath, {modelPath})) {
    return fail(llvm::toString(std::move(err)));
  }
  if (inputSpecs.empty())
    return fail("no --input given; one NAME:DTYPE[SHAPE] per forward argument");
  std::vector<TensorSpec> inputs;
  std::string error;
  for (const std::string &text : inputSpecs) {
    auto spec = parseTensorSpec("input", text, error);
    if (failed(spec))
      return fail(error);
    inputs.push_back(*spec);
  }
  std::optional<TensorSpec> label;
  if (!labelSpec.empty()) {
    auto spec = parseTensorSpec("label", labelSpec, error);
    if (failed(spec))
      return fail(error);
    label = *spec;
  }
  if (precision != "fp32" && precision != "bf16" && precision != "fp16")
    return fail("--precision '" + precision +
                "' is not supported (supported: fp32, bf16, fp16)");
  if (weightsMode != "embed" && weightsMode != "external")
    return fail("--weights '" + weightsMode +
                "' is not one of embed, external");
  TrainingPipelineOptions options;
  if (std::optional<std::string> flagError =
          setPipelineOptions(options, label, inputs))
    return fail(*flagError);
  std::string optionError;
  if (failed(options.verify(
          [&](const llvm::Twine &message) { optionError = message.str(); })))
    return fail(optionError);
  if (llvm::Error err = checkTensorSpecs(inputs, label, options.worldSize,
                                         options.accumulate))
    return fail(llvm::toString(std::move(err)));
  SmallVector<int64_t> chunks;
  if (options.isDataParallel()) {
    auto dataParallelChunks = getDataParallelChunks(inputs, options.devices);
    if (!dataParallelChunks)
      return fail(llvm::toString(dataParallelChunks.takeError()));
    chunks = std::move(*dataParallelChunks);
  }

  MLIRContext context;
  context.loadDialect<nn::NNDialect, dp::DPDialect, func::FuncDialect,
                      LLVM::LLVMDialect>();
  context.printOpOnDiagnostic(false);
  ScopedDiagnosticHandler handler(&context, [](Diagnostic &diag) {
    printDiagnostic(diag);
    return success();
  });

  ImportOptions importOptions;
  importOptions.lossOutput = lossOutput;
  importOptions.autocast =
      precision == "bf16"   ? ImportOptions::Autocast::BFloat16
      : precision == "fp16" ? ImportOptions::Autocast::Float16
                            : ImportOptions::Autocast::None;
  FailureOr<ImportedModel> model =
      options.isDataParallel()
          ? importTorchScriptChunks(context, modelPath, inputs, chunks,
                                    importOptions)
          : importTorchScript(context, modelPath, inputs, importOptions);
  if (failed(model))
    return 1;
  ModuleOp module = model->module.get();
  // A float64 model computes in float64 throughout; what would put its
  // gradients through 16 bits is refused (PyTorch would run it, with the
  // precision the model was made double for lost).
  bool float64Model = llvm::any_of(model->tensors, [](const ModelTensor &t) {
    return t.isParameter && t.dtype == DType::F64;
  });
  if (float64Model && options.gradComm.getValue() != "fp32")
    return emitError(UnknownLoc::get(&context))
               << "--grad-comm " << options.gradComm.getValue()
               << " compresses float32 gradients to 16 bits; this model's "
                  "parameters are float64, whose gradients are all-reduced in "
                  "float64 (leave out --grad-comm)",
           1;
  if (float64Model && options.gradScaler)
    return emitError(UnknownLoc::get(&context))
               << "--grad-scaler scales float16 gradients; this model's "
                  "parameters are float64 (leave out --grad-scaler and "
                  "--precision fp16)",
           1;
  // The evaluation step's forward, imported at the --input shapes (the
  // whole batch in --mode dp, which evaluation does not scatter).
  if (evalStep && failed(importEvalForward(context, modelPath, inputs, module,
                                           importOptions)))
    return 1;

  // The pipeline up to the stage to print; codegen reads the planned step,
  // before lowering replaces it.
  options.stopAfter =
      getPipelineStageName(emitStage && *emitStage < PipelineStage::LLVM
                               ? *emitStage
                               : PipelineStage::Memory)
          .str();
  // buildTrainingPipeline's stages, with dpc's check that the step trains
  // something right after autodiff: a later stage would fail in its own
  // terms ("@train_step returns no gradients").
  PassManager pm(&context);
  for (int stage = 0; stage <= static_cast<int>(options.getStopAfter());
       ++stage) {
    addPipelineStage(pm, static_cast<PipelineStage>(stage), options);
    if (static_cast<PipelineStage>(stage) == PipelineStage::Autodiff)
      pm.addPass(createCheckSomethingToTrainPass());
  }
  if (failed(pm.run(module)))
    return 1;
  auto printModule = [&]() {
    module.print(llvm::outs());
    llvm::outs() << "\n";
    return 0;
  };
  if (emitStage && *emitStage < PipelineStage::LLVM)
    return printModule();

  func::FuncOp trainStep =
      module.lookupSymbol<func::FuncOp>(kTrainStepFuncName);
  TrainingConfig config;
  config.mode = options.mode;
  config.worldSize = options.worldSize;
  if (options.isDataParallel()) {
    config.devices = options.devices;
    config.replicas = chunks.size();
  }
  config.loss = options.loss;
  config.optimizer = options.optimizer;
  config.lr = options.getLearningRate();
  config.momentum = options.momentum;
  config.dampening = options.dampening;
  config.weightDecay = options.getWeightDecay();
  config.nesterov = options.nesterov;
  config.beta1 = options.getBeta1();
  config.beta2 = options.getBeta2();
  config.eps = options.eps;
  config.accumulate = options.accumulate;
  config.externalWeights = weightsMode == "external";
  PackedWeights weights;
  if (!config.externalWeights)
    weights = packWeights(model->tensors);
  FailureOr<std::string> manifest = buildManifest(trainStep, config, weights);
  if (failed(manifest))
    return 1;
  if (emit == "manifest") {
    llvm::outs() << *manifest << "\n";
    return 0;
  }
  if (emit == "schedule") {
    printSchedule(trainStep, llvm::outs());
    return 0;
  }

  // The pipeline's last stage.
  PassManager lower(&context);
  addPipelineStage(lower, PipelineStage::LLVM, options);
  if (failed(lower.run(module)))
    return 1;
  if (emitStage == PipelineStage::LLVM)
    return printModule();

  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateToLLVMIR(module, llvmContext, *manifest, weights.bytes);
  if (!llvmModule)
    return 1;
  if (emit == "llvm-ir") {
    llvmModule->print(llvm::outs(), nullptr);
    return 0;
  }
  if (llvm::Error err = emitSharedLibrary(*llvmModule, outputPath))
    return fail(llvm::toString(std::move(err)));
  return 0;
}
