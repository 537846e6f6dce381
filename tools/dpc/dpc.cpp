//===- dpc.cpp - The dpc compiler driver ----------------------------------===//
//
//   dpc model.pt -o model.so --input x:f32[16,32] --label y:i64[16] \
//       --loss cross_entropy --optimizer sgd --lr 0.1 --mode ddp --world-size 2
//   dpc model.pt -o model.so --input x:f32[10,32] --label y:i64[10] \
//       --mode dp --devices 3          (nn.DataParallel: whole-batch shapes)
//
// Imports the TorchScript model, runs the training-step pipeline (see
// passes/Passes.td) and writes model.so. `--emit=<stage>` prints the IR
// after a stage instead. Every error is one line on stderr and exit code 1.
//
//===----------------------------------------------------------------------===//

#include "compiler/Codegen/Manifest.h"
#include "compiler/Codegen/Schedule.h"
#include "compiler/Codegen/SharedLibraryEmitter.h"
#include "compiler/Import/TorchImporter.h"
#include "DriverChecks.h"
#include "dialects/DP/DPDialect.h"
#include "dialects/NN/NNDialect.h"
#include "passes/Passes.h"
#include "passes/TrainStep.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"
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
static cl::opt<std::string> outputPath("o", cl::desc("Output shared library (model.so)"),
                                       cl::value_desc("file"), cl::cat(dpcCategory));
static cl::list<std::string>
    inputSpecs("input",
               cl::desc("A forward argument NAME:DTYPE[SHAPE], e.g. x:f32[16,32]; one per "
                        "argument, in order. In ddp mode shapes are per rank, in dp "
                        "mode the whole batch"),
               cl::value_desc("spec"), cl::cat(dpcCategory));
static cl::opt<std::string>
    labelSpec("label",
              cl::desc("The label NAME:DTYPE[SHAPE], e.g. y:i64[16] (checked against "
                       "the loss; its type is derived when omitted)"),
              cl::value_desc("spec"), cl::cat(dpcCategory));
static cl::opt<std::string>
    lossKind("loss",
             cl::desc("cross_entropy (logits [N,C], class labels [N], mean), mse (mean), "
                      "or none (forward returns the loss)"),
             cl::init("cross_entropy"), cl::cat(dpcCategory));
static cl::opt<std::string>
    optimizer("optimizer",
              cl::desc("Optimizer: sgd, adam or adamw (torch.optim's update rules)"),
              cl::init("sgd"), cl::cat(dpcCategory));
static cl::opt<double> lr("lr",
                          cl::desc("Learning rate (default 0.01 for sgd; 1e-3 for adam "
                                   "and adamw, as torch.optim)"),
                          cl::init(0.01), cl::cat(dpcCategory));
static cl::opt<double> momentum("momentum", cl::desc("SGD momentum"), cl::init(0.0),
                                cl::cat(dpcCategory));
static cl::opt<double> dampening("dampening", cl::desc("SGD dampening"), cl::init(0.0),
                                 cl::cat(dpcCategory));
static cl::opt<double>
    weightDecay("weight-decay",
                cl::desc("torch.optim's weight_decay: an L2 penalty added to the gradient "
                         "(sgd, adam) or decoupled decay (adamw); default 0, 1e-2 for "
                         "adamw as torch.optim.AdamW"),
                cl::init(0.0), cl::cat(dpcCategory));
static cl::opt<bool> nesterov("nesterov", cl::desc("Nesterov momentum"),
                              cl::init(false), cl::cat(dpcCategory));
static cl::opt<std::string> betas("betas",
                                  cl::desc("Adam/AdamW coefficients B1,B2 of the moment "
                                           "averages (default 0.9,0.999)"),
                                  cl::value_desc("B1,B2"), cl::init("0.9,0.999"),
                                  cl::cat(dpcCategory));
// Parsed by hand (as --betas) so that a bad value is a one-line error.
static cl::opt<std::string> eps("eps",
                                cl::desc("Adam/AdamW term added to the denominator "
                                         "(default 1e-8)"),
                                cl::value_desc("E"), cl::init("1e-8"),
                                cl::cat(dpcCategory));
static cl::opt<std::string>
    accumulate("accumulate",
               cl::desc("Gradient accumulation: K micro-batches (each the --input "
                        "shape) per optimizer step, gradients averaged over them and "
                        "all-reduced once per step (default 1)"),
               cl::value_desc("K"), cl::init("1"), cl::cat(dpcCategory));
static cl::opt<std::string>
    mode("mode",
         cl::desc("Data parallelism: ddp (one process per rank, like "
                  "DistributedDataParallel) or dp (one process, the batch scattered "
                  "over --devices replicas, like nn.DataParallel)"),
         cl::init("ddp"), cl::cat(dpcCategory));
static cl::opt<int64_t>
    devices("devices",
            cl::desc("--mode dp: number of devices (replicas, one thread each on the "
                     "CPU) the batch is scattered over in torch.chunk's chunks"),
            cl::value_desc("N"), cl::init(0), cl::cat(dpcCategory));
static cl::opt<int64_t> worldSize("world-size",
                                  cl::desc("Number of ranks the module will run on"),
                                  cl::init(1), cl::cat(dpcCategory));
static cl::opt<double> bucketCapMb("bucket-cap-mb",
                                   cl::desc("DDP bucket size cap in MiB"), cl::init(25.0),
                                   cl::cat(dpcCategory));
static cl::opt<double> firstBucketMb("first-bucket-mb",
                                     cl::desc("Cap of the first DDP bucket in MiB"),
                                     cl::init(1.0), cl::cat(dpcCategory));

static cl::opt<std::string>
    weightsMode("weights",
                cl::desc("Initial parameters and buffers: embed (in model.so, the "
                         "model.pt's values) or external (model.so holds none; "
                         "dpc-run --init-weights FILE.safetensors gives them, by "
                         "state_dict name; for large models)"),
                cl::value_desc("embed|external"), cl::init("embed"),
                cl::cat(dpcCategory));

/// The stages `--emit` can stop after, in pipeline order.
static const char *const kStages[] = {"import",  "train-step", "autodiff",
                                      "ddp",     "optimizer",  "buckets",
                                      "memory",  "llvm",       "llvm-ir",
                                      "manifest", "schedule"};
static cl::opt<std::string>
    emit("emit",
         cl::desc("Print the result of a stage instead of writing model.so: import, "
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
  llvm::Regex pattern("^([A-Za-z_][A-Za-z0-9_.]*):(f32|f64|i64)\\[([0-9, ]*)\\]$");
  llvm::SmallVector<llvm::StringRef> m;
  if (!pattern.match(text, &m)) {
    error = ("--" + flag + " '" + text +
             "' is not NAME:DTYPE[SHAPE] (DTYPE f32, f64 or i64), e.g. x:f32[16,32]")
                .str();
    return failure();
  }
  TensorSpec spec;
  spec.name = m[1].str();
  spec.dtype = m[2] == "f32" ? DType::F32 : m[2] == "f64" ? DType::F64 : DType::I64;
  llvm::SmallVector<llvm::StringRef> dims;
  m[3].split(dims, ',', -1, /*KeepEmpty=*/false);
  for (llvm::StringRef d : dims) {
    int64_t size;
    if (d.trim().getAsInteger(10, size) || size <= 0) {
      error = ("--" + flag + " '" + text + "': dimensions must be positive integers").str();
      return failure();
    }
    spec.shape.push_back(size);
  }
  return spec;
}

static std::string typeString(Type type) {
  auto tensor = cast<RankedTensorType>(type);
  std::string s;
  llvm::raw_string_ostream os(s);
  Type e = tensor.getElementType();
  os << (e.isF32() ? "f32" : e.isF64() ? "f64" : "i64") << "[";
  llvm::interleave(tensor.getShape(), os, ",");
  os << "]";
  return s;
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
  const char *severity = diag.getSeverity() == DiagnosticSeverity::Error ? "error"
                         : diag.getSeverity() == DiagnosticSeverity::Warning
                             ? "warning"
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
      "dpc: compile a TorchScript model into a data-parallel training step (model.so)\n\n"
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
  int emitStage = -1;
  if (!emit.empty()) {
    auto it = llvm::find(kStages, emit);
    if (it == std::end(kStages))
      return fail("--emit '" + emit + "' is not a stage (import, train-step, autodiff, "
                  "ddp, optimizer, buckets, memory, llvm, llvm-ir, manifest, schedule)");
    emitStage = it - std::begin(kStages);
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
  if (lossKind != "cross_entropy" && lossKind != "mse" && lossKind != "none")
    return fail("--loss '" + lossKind + "' is not one of cross_entropy, mse, none");
  if (lossKind == "none" && label)
    return fail("--label makes no sense with --loss none");
  if (weightsMode != "embed" && weightsMode != "external")
    return fail("--weights '" + weightsMode + "' is not one of embed, external");
  if (optimizer != "sgd" && optimizer != "adam" && optimizer != "adamw")
    return fail("--optimizer '" + optimizer +
                "' is not supported (supported: sgd, adam, adamw)");
  bool isAdam = optimizer != "sgd";
  if (isAdam && (momentum.getNumOccurrences() || dampening.getNumOccurrences() ||
                 nesterov.getNumOccurrences()))
    return fail("--momentum, --dampening and --nesterov are options of --optimizer sgd, "
                "not " + optimizer);
  if (!isAdam && (betas.getNumOccurrences() || eps.getNumOccurrences()))
    return fail("--betas and --eps are options of --optimizer adam and adamw, not sgd");
  // torch.optim's defaults where they differ from SGD's.
  if (isAdam && !lr.getNumOccurrences())
    lr = 1e-3;
  if (optimizer == "adamw" && !weightDecay.getNumOccurrences())
    weightDecay = 1e-2;
  if (!(lr > 0.0))
    return fail("--lr must be positive");
  if (momentum < 0.0 || dampening < 0.0 || weightDecay < 0.0)
    return fail("--momentum, --dampening and --weight-decay must not be negative");
  if (nesterov && (momentum == 0.0 || dampening != 0.0))
    return fail("--nesterov needs --momentum > 0 and --dampening 0 (as torch.optim.SGD)");
  double beta1 = 0.9, beta2 = 0.999;
  {
    auto [first, second] = llvm::StringRef(betas).split(',');
    if (second.contains(',') || first.trim().getAsDouble(beta1) ||
        second.trim().getAsDouble(beta2))
      return fail("--betas '" + betas + "' is not two numbers B1,B2, e.g. 0.9,0.999");
    if (!(beta1 >= 0.0 && beta1 < 1.0) || !(beta2 >= 0.0 && beta2 < 1.0))
      return fail("--betas '" + betas + "': both must be in [0, 1) (as torch.optim.Adam)");
  }
  double epsValue = 1e-8;
  if (llvm::StringRef(eps).trim().getAsDouble(epsValue))
    return fail("--eps '" + eps + "' is not a number");
  if (!(epsValue >= 0.0))
    return fail("--eps must not be negative");
  int64_t microBatches = 1;
  if (llvm::StringRef(accumulate).trim().getAsInteger(10, microBatches) ||
      microBatches < 1)
    return fail("--accumulate '" + accumulate +
                "' is not a positive integer (micro-batches per step)");
  if (mode != "ddp" && mode != "dp")
    return fail("--mode '" + mode + "' is not supported (supported: ddp, dp)");
  if (worldSize < 1)
    return fail("--world-size must be at least 1");
  if (llvm::Error err = checkTensorSpecs(inputs, label, worldSize, microBatches))
    return fail(llvm::toString(std::move(err)));
  // --mode dp: the batch of every input is scattered over the replicas in
  // torch.chunk's chunks.
  bool dataParallel = mode == "dp";
  SmallVector<int64_t> chunks;
  if (devices.getNumOccurrences() && !dataParallel)
    return fail("--devices is an option of --mode dp (--mode ddp runs --world-size "
                "processes)");
  if (dataParallel) {
    if (!devices.getNumOccurrences())
      return fail("--mode dp needs --devices N, the number of replicas the batch is "
                  "scattered over");
    if (devices < 1)
      return fail("--devices must be at least 1, got " + llvm::Twine(devices.getValue()));
    if (worldSize != 1)
      return fail("--mode dp runs in one process, so --world-size must be 1 (got " +
                  llvm::Twine(worldSize.getValue()) + "); the replicas are --devices");
    if (microBatches > 1)
      return fail("--accumulate is not supported with --mode dp yet");
    if (lossKind == "none")
      return fail("--mode dp needs --loss cross_entropy or mse: the loss is computed on "
                  "the gathered outputs (with --loss none each replica would return its "
                  "own loss)");
    for (const TensorSpec &input : inputs) {
      if (input.shape.empty())
        return fail("--mode dp scatters inputs along dimension 0, but --input " +
                    input.name + " is a scalar");
      if (input.shape[0] != inputs.front().shape[0])
        return fail("--mode dp scatters every input along dimension 0, but --input " +
                    input.name + " has " + llvm::Twine(input.shape[0]) +
                    " samples and --input " + inputs.front().name + " has " +
                    llvm::Twine(inputs.front().shape[0]));
    }
    int64_t batch = inputs.front().shape[0];
    if (devices > batch)
      return fail("--devices " + llvm::Twine(devices.getValue()) +
                  " is larger than the batch of " + llvm::Twine(batch) +
                  " samples (--input " + inputs.front().name +
                  "): every device needs at least one sample");
    chunks = dp::getChunkSizes(batch, devices);
    if (static_cast<int64_t>(chunks.size()) < devices)
      llvm::WithColor::warning(llvm::errs(), "dpc")
          << "a batch of " << batch << " in chunks of " << chunks.front()
          << " (torch.chunk) uses " << chunks.size() << " of the " << devices.getValue()
          << " devices\n";
  }
  if (!(bucketCapMb > 0.0) || !(firstBucketMb > 0.0))
    return fail("--bucket-cap-mb and --first-bucket-mb must be positive");

  MLIRContext context;
  context.loadDialect<nn::NNDialect, dp::DPDialect, func::FuncDialect,
                      LLVM::LLVMDialect>();
  context.printOpOnDiagnostic(false);
  ScopedDiagnosticHandler handler(&context, [](Diagnostic &diag) {
    printDiagnostic(diag);
    return success();
  });

  // --mode dp imports the forward once per distinct chunk size (shapes are
  // static): @forward for the first chunk, @forward_last for a smaller last
  // one; dpc-dp-replicate makes them one forward over the whole batch.
  auto withRows = [&](int64_t rows) {
    std::vector<TensorSpec> specs = inputs;
    for (TensorSpec &spec : specs)
      spec.shape[0] = rows;
    return specs;
  };
  FailureOr<ImportedModel> model = importTorchScript(
      context, modelPath, dataParallel ? withRows(chunks.front()) : inputs);
  if (failed(model))
    return 1;
  ModuleOp module = model->module.get();
  if (dataParallel) {
    if (chunks.back() != chunks.front()) {
      FailureOr<ImportedModel> last =
          importTorchScript(context, modelPath, withRows(chunks.back()));
      if (failed(last))
        return 1;
      auto forward = last->module->lookupSymbol<func::FuncOp>(kForwardFuncName);
      forward->remove();
      forward.setSymName("forward_last");
      module.push_back(forward);
    }
    PassManager pm(&context);
    pm.addPass(createDPReplicate(DPReplicateOptions{devices, inputs.front().shape[0]}));
    pm.addPass(createCanonicalizerPass());
    if (failed(pm.run(module)))
      return 1;
  }

  auto printAndExit = [&]() {
    module.print(llvm::outs());
    llvm::outs() << "\n";
    return 0;
  };
  if (emitStage == 0)
    return printAndExit();

  // The pipeline, one stage per --emit name.
  std::string labelName = label ? label->name : "label";
  auto stage = [&](int index, auto addPasses) -> LogicalResult {
    PassManager pm(&context);
    addPasses(pm);
    return pm.run(module);
  };
  auto addCanonicalize = [](PassManager &pm) {
    pm.addPass(createCanonicalizerPass());
  };
  BuildTrainStepOptions buildTrainStep{lossKind, labelName};
  if (label)
    buildTrainStep.labelShape = label->shape; // outlives the pipeline
  if (failed(stage(1, [&](PassManager &pm) {
        pm.addPass(createBuildTrainStep(buildTrainStep));
      })))
    return 1;

  func::FuncOp trainStep = module.lookupSymbol<func::FuncOp>(kTrainStepFuncName);
  if (label) {
    for (BlockArgument arg : trainStep.getArguments())
      if (getArgKind(trainStep, arg.getArgNumber()) == kind::kLabel) {
        auto expected = RankedTensorType::get(
            label->shape, label->dtype == DType::I64
                              ? Type(IntegerType::get(&context, 64))
                              : Type(Float32Type::get(&context)));
        if (arg.getType() != expected)
          return fail("--label " + labelSpec + " does not match the loss: " +
                      lossKind + " of this model's output needs " + label->name + ":" +
                      typeString(arg.getType()));
      }
  }
  if (emitStage == 1)
    return printAndExit();

  if (failed(stage(2, [&](PassManager &pm) {
        pm.addPass(createAutodiff());
        addCanonicalize(pm);
        if (microBatches > 1)
          pm.addPass(createAccumulate(AccumulateOptions{microBatches}));
      })))
    return 1;
  if (llvm::Error err = checkSomethingToTrain(trainStep))
    return fail(llvm::toString(std::move(err)));
  for (BlockArgument arg : trainStep.getArguments())
    if (trainStep.getArgAttr(arg.getArgNumber(), kUnusedAttr))
      llvm::WithColor::warning(llvm::errs(), "dpc")
          << "parameter '" << getArgName(trainStep, arg.getArgNumber())
          << "' does not affect the loss; it is neither updated nor "
          << (dataParallel ? "reduce-added" : "all-reduced") << "\n";
  if (emitStage == 2)
    return printAndExit();

  if (failed(stage(3, [&](PassManager &pm) {
        if (!dataParallel)
          pm.addPass(createDDPAllReduce());
      })))
    return 1;
  if (emitStage == 3)
    return printAndExit();

  SGDOptions sgd;
  sgd.lr = lr;
  sgd.momentum = momentum;
  sgd.dampening = dampening;
  sgd.weightDecay = weightDecay;
  sgd.nesterov = nesterov;
  AdamOptions adam;
  adam.lr = lr;
  adam.beta1 = beta1;
  adam.beta2 = beta2;
  adam.eps = epsValue;
  adam.weightDecay = weightDecay;
  adam.decoupledWeightDecay = optimizer == "adamw";
  if (failed(stage(4, [&](PassManager &pm) {
        if (isAdam)
          pm.addPass(createAdam(adam));
        else
          pm.addPass(createSGD(sgd));
      })))
    return 1;
  if (emitStage == 4)
    return printAndExit();

  DDPBucketsOptions buckets;
  buckets.bucketCapMb = bucketCapMb;
  buckets.firstBucketMb = firstBucketMb;
  // --mode dp has no all-reduce to bucket; instead its ops are grouped into
  // concurrent replica stages.
  if (failed(stage(5, [&](PassManager &pm) {
        if (dataParallel)
          pm.addPass(createDPPhases());
        else
          pm.addPass(createDDPBuckets(buckets));
      })))
    return 1;
  if (emitStage == 5)
    return printAndExit();

  if (failed(stage(6, [&](PassManager &pm) { pm.addPass(createPlanMemory()); })))
    return 1;
  if (emitStage == 6)
    return printAndExit();

  TrainingConfig config;
  config.mode = mode;
  config.worldSize = worldSize;
  if (dataParallel) {
    config.devices = devices;
    config.replicas = chunks.size();
  }
  config.loss = lossKind;
  config.optimizer = optimizer;
  config.lr = lr;
  config.momentum = momentum;
  config.dampening = dampening;
  config.weightDecay = weightDecay;
  config.nesterov = nesterov;
  config.beta1 = beta1;
  config.beta2 = beta2;
  config.eps = epsValue;
  config.accumulate = microBatches;
  config.externalWeights = weightsMode == "external";
  PackedWeights weights;
  if (!config.externalWeights)
    weights = packWeights(model->tensors);
  FailureOr<std::string> manifest = buildManifest(
      module.lookupSymbol<func::FuncOp>(kTrainStepFuncName), config, weights);
  if (failed(manifest))
    return 1;
  if (emitStage == 9) {
    llvm::outs() << *manifest << "\n";
    return 0;
  }
  if (emitStage == 10) {
    printSchedule(module.lookupSymbol<func::FuncOp>(kTrainStepFuncName),
                  llvm::outs());
    return 0;
  }

  if (failed(stage(7, [&](PassManager &pm) { pm.addPass(createLowerToLLVM()); })))
    return 1;
  if (emitStage == 7)
    return printAndExit();

  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateToLLVMIR(module, llvmContext, *manifest, weights.bytes);
  if (!llvmModule)
    return 1;
  if (emitStage == 8) {
    llvmModule->print(llvm::outs(), nullptr);
    return 0;
  }
  if (llvm::Error err = emitSharedLibrary(*llvmModule, outputPath))
    return fail(llvm::toString(std::move(err)));
  return 0;
}
