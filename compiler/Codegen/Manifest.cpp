//===- Manifest.cpp - The manifest embedded in model.so -------------------===//

#include "compiler/Codegen/Manifest.h"
#include "compiler/Codegen/Schedule.h"

#include "compiler/TrainStep/StepLayout.h"
#include "compiler/TrainStep/TrainStep.h"
#include "dialects/DP/IR/DPDialect.h"
#include "dialects/NN/IR/NNOps.h"
#include "runtime/include/dpc/abi.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"

#include <cmath>

using namespace mlir;
using namespace dpc;
namespace json = llvm::json;

PackedWeights dpc::packWeights(const std::vector<ModelTensor> &tensors) {
  PackedWeights packed;
  for (const ModelTensor &t : tensors) {
    packed.bytes.resize((packed.bytes.size() + 63) / 64 * 64, '\0');
    packed.offsets[t.name] = packed.bytes.size();
    packed.bytes.append(t.bytes.begin(), t.bytes.end());
  }
  return packed;
}

static json::Value dtypeOf(Type type) {
  Type element = cast<RankedTensorType>(type).getElementType();
  if (element.isF32())
    return "f32";
  if (element.isF64())
    return "f64";
  if (element.isInteger(1))
    return "bool";
  return "i64";
}

/// The dtype of a step's loss (its result of kind "loss"): f32, or f64 for
/// a float64 model.
static json::Value lossDType(func::FuncOp step) {
  for (unsigned i = 0, e = step.getNumResults(); i < e; ++i)
    if (getResultKind(step, i) == kind::kLoss)
      return dtypeOf(step.getResultTypes()[i]);
  return "f32";
}

static json::Array shapeOf(Type type) {
  json::Array shape;
  for (int64_t d : cast<RankedTensorType>(type).getShape())
    shape.push_back(d);
  return shape;
}

/// The manifest's "eval" object for the planned @eval_step: its own slots
/// (StepSlots) and, for each parameter and buffer it reads, the name of
/// the training step's tensor whose memory the runtime passes in that slot.
static FailureOr<json::Value> buildEvalManifest(func::FuncOp eval,
                                                func::FuncOp trainStep) {
  auto arenaBytes = eval->getAttrOfType<IntegerAttr>(kArenaBytesAttr);
  if (!arenaBytes)
    return eval.emitError("has no memory plan"), failure();
  llvm::StringMap<Type> trainTensors;
  for (BlockArgument arg : trainStep.getArguments()) {
    StringRef k = getArgKind(trainStep, arg.getArgNumber());
    if (k == kind::kParameter || k == kind::kBuffer)
      trainTensors[(k + "/" + getArgName(trainStep, arg.getArgNumber()))
                       .str()] = arg.getType();
  }
  StepSlots slots(eval);
  json::Array inputs, parameters, buffers, outputs;
  json::Value label = nullptr;
  for (BlockArgument arg : eval.getArguments()) {
    unsigned i = arg.getArgNumber();
    StringRef k = getArgKind(eval, i), name = getArgName(eval, i);
    json::Object entry{{"name", name},
                       {"dtype", dtypeOf(arg.getType())},
                       {"shape", shapeOf(arg.getType())},
                       {"slot", slots.argument(i)}};
    if (k == kind::kInput) {
      inputs.push_back(std::move(entry));
    } else if (k == kind::kLabel) {
      label = std::move(entry);
    } else if (k == kind::kParameter || k == kind::kBuffer) {
      Type trainType = trainTensors.lookup((k + "/" + name).str());
      if (trainType != arg.getType())
        return eval.emitError()
                   << "the evaluation step's " << k << " '" << name
                   << "' is not a " << k << " of the same type of the "
                   << "training step",
               failure();
      (k == kind::kParameter ? parameters : buffers)
          .push_back(json::Object{{"name", name}, {"slot", slots.argument(i)}});
    } else {
      return eval.emitError() << "argument " << i << " has no dpc.kind",
             failure();
    }
  }
  unsigned numOutputs = 0;
  for (unsigned i = 0, e = eval.getNumResults(); i < e; ++i)
    if (getResultKind(eval, i) == kind::kOutput) {
      Type type = eval.getResultTypes()[i];
      outputs.push_back(json::Object{{"name", getResultName(eval, i)},
                                     {"dtype", dtypeOf(type)},
                                     {"shape", shapeOf(type)},
                                     {"slot", slots.output(numOutputs++)}});
    }
  return json::Value(json::Object{
      {"inputs", std::move(inputs)},
      {"label", std::move(label)},
      {"parameters", std::move(parameters)},
      {"buffers", std::move(buffers)},
      {"loss",
       json::Object{{"slot", slots.loss()}, {"dtype", lossDType(eval)}}},
      {"outputs", std::move(outputs)},
      {"arena",
       json::Object{{"bytes", arenaBytes.getInt()}, {"slot", slots.arena()}}},
      {"num_slots", slots.count()}});
}

FailureOr<std::string> dpc::buildManifest(func::FuncOp func,
                                          const TrainingConfig &config,
                                          const PackedWeights &weights) {
  auto arenaBytes = func->getAttrOfType<IntegerAttr>(kArenaBytesAttr);
  if (!arenaBytes)
    return func.emitError("has no memory plan"), failure();

  // The other state_dict names of tied tensors, by the name that holds them.
  llvm::StringMap<json::Array> aliasesOf;
  if (auto tied =
          func->getParentOfType<ModuleOp>()->getAttrOfType<DictionaryAttr>(
              kTiedNamesAttr))
    for (NamedAttribute alias : tied)
      aliasesOf[cast<StringAttr>(alias.getValue()).getValue()].push_back(
          alias.getName().getValue());

  StepSlots slots(func);
  json::Array inputs, parameters, buffers, state;
  json::Value label = nullptr;
  for (BlockArgument arg : func.getArguments()) {
    unsigned i = arg.getArgNumber();
    StringRef k = getArgKind(func, i), name = getArgName(func, i);
    json::Object entry{{"name", name},
                       {"dtype", dtypeOf(arg.getType())},
                       {"shape", shapeOf(arg.getType())},
                       {"slot", slots.argument(i)}};
    if (k == kind::kInput) {
      inputs.push_back(std::move(entry));
    } else if (k == kind::kLabel) {
      label = std::move(entry);
    } else if (k == kind::kParameter || k == kind::kBuffer) {
      // Bool buffers are constants of the step (the importer folds them);
      // the runtime checks a loaded file against the embedded value.
      if (config.externalWeights &&
          cast<RankedTensorType>(arg.getType()).getElementType().isInteger(1))
        return emitError(func.getLoc())
                   << "bool buffer '" << name
                   << "' is a constant compiled into the step and must be "
                      "embedded: --weights external is not supported for "
                      "this model",
               failure();
      if (!config.externalWeights) {
        auto offset = weights.offsets.find(name);
        if (offset == weights.offsets.end())
          return func.emitError() << "no initial value for '" << name << "'",
                 failure();
        entry["weights_offset"] = offset->second;
      }
      if (auto aliases = aliasesOf.find(name); aliases != aliasesOf.end())
        entry["aliases"] = std::move(aliases->second);
      if (k == kind::kParameter)
        entry["unused"] = func.getArgAttr(i, kUnusedAttr) != nullptr;
      (k == kind::kParameter ? parameters : buffers)
          .push_back(std::move(entry));
    } else if (k == kind::kOptimizerState) {
      auto parameter = func.getArgAttrOfType<StringAttr>(i, kParameterAttr);
      entry["parameter"] = parameter ? parameter.getValue() : "";
      state.push_back(std::move(entry));
    } else {
      return func.emitError() << "argument " << i << " has no dpc.kind",
             failure();
    }
  }

  // Buckets, with the parameters whose gradients they carry.
  json::Array buckets;
  for (auto start : func.getBody().getOps<dp::AllReduceStartOp>()) {
    json::Array names;
    for (Operation *user : start.getToken().getUsers())
      for (Value averaged : user->getResults())
        for (OpOperand &use : averaged.getUses()) {
          // Through the unscale and the clip of the gradient to its update.
          Operation *update = use.getOwner();
          unsigned operand = use.getOperandNumber();
          while (
              update &&
              isa<nn::UnscaleGradsOp, nn::ClipGradNormOp, nn::ClipGradValueOp>(
                  update)) {
            Value passed = update->getResult(operand);
            if (!passed.hasOneUse()) {
              update = nullptr;
              break;
            }
            operand = passed.getUses().begin()->getOperandNumber();
            update = *passed.getUsers().begin();
          }
          if (!update)
            continue;
          if (isa<nn::SGDUpdateOp, nn::AdamUpdateOp>(update))
            if (auto param = dyn_cast<BlockArgument>(update->getOperand(0)))
              names.push_back(getArgName(func, param.getArgNumber()));
        }
    buckets.push_back(json::Object{{"index", start.getBucket()},
                                   {"bytes", getBucketBytes(start)},
                                   {"comm_dtype", getBucketCommDType(start)},
                                   {"parameters", std::move(names)}});
  }

  json::Object optimizer{{"kind", config.optimizer},
                         {"lr", config.lr},
                         {"weight_decay", config.weightDecay}};
  if (config.optimizer == "sgd") {
    optimizer["momentum"] = config.momentum;
    optimizer["dampening"] = config.dampening;
    optimizer["nesterov"] = config.nesterov;
  } else {
    optimizer["betas"] = json::Array{config.beta1, config.beta2};
    optimizer["eps"] = config.eps;
  }
  // Whether the updates read each group's momentum (SGD) or beta1 (Adam)
  // with dpcrt_momentum, as LowerOptimizerOps.cpp lowers them: with
  // parameter groups, and for SGD only with a momentum buffer.
  optimizer["momentum_at_run_time"] =
      func->hasAttr(kParamGroupsAttr) &&
      (config.optimizer != "sgd" || config.momentum != 0.0);

  // Parameter groups (dpc.param_groups): each with its initial lr, weight
  // decay and the parameters it updates, in argument order.
  json::Array paramGroups;
  if (auto groups = func->getAttrOfType<ArrayAttr>(kParamGroupsAttr)) {
    std::vector<json::Array> members(groups.size());
    for (BlockArgument arg : func.getArguments())
      for (Operation *user : arg.getUsers()) {
        std::optional<uint32_t> group;
        if (auto sgd = dyn_cast<nn::SGDUpdateOp>(user))
          group = sgd.getGroup();
        else if (auto adam = dyn_cast<nn::AdamUpdateOp>(user))
          group = adam.getGroup();
        if (group && user->getOperand(0) == arg) {
          if (*group >= members.size())
            return user->emitError() << "parameter group " << *group
                                     << " is not in " << kParamGroupsAttr,
                   failure();
          members[*group].push_back(getArgName(func, arg.getArgNumber()));
        }
      }
    for (auto [index, entry] : llvm::enumerate(groups)) {
      auto dict = cast<DictionaryAttr>(entry);
      paramGroups.push_back(json::Object{
          {"index", static_cast<int64_t>(index)},
          {"lr", dict.getAs<FloatAttr>("lr").getValueAsDouble()},
          {"weight_decay",
           dict.getAs<FloatAttr>("weight_decay").getValueAsDouble()},
          {"pattern", dict.getAs<StringAttr>("pattern").getValue()},
          {"parameters", std::move(members[index])}});
    }
  }

  // Gradient clipping (informational): what the step clips by.
  json::Value clip = nullptr;
  for (Operation &op : func.getBody().front()) {
    if (auto norm = dyn_cast<nn::ClipGradNormOp>(op))
      clip = json::Object{
          {"kind", "norm"},
          {"max_norm", norm.getMaxNorm().convertToDouble()},
          {"norm_type",
           std::isinf(norm.getNormType().convertToDouble())
               ? json::Value("inf")
               : json::Value(norm.getNormType().convertToDouble())}};
    else if (auto value = dyn_cast<nn::ClipGradValueOp>(op))
      clip =
          json::Object{{"kind", "value"},
                       {"clip_value", value.getClipValue().convertToDouble()}};
  }

  // Loss scaling: GradScaler's arguments, which the runtime's scale state
  // starts from and updates by.
  json::Value gradScaler = nullptr;
  for (auto unscale : func.getBody().getOps<nn::UnscaleGradsOp>())
    gradScaler = json::Object{
        {"init_scale", unscale.getInitScale().convertToDouble()},
        {"growth_factor", unscale.getGrowthFactor().convertToDouble()},
        {"backoff_factor", unscale.getBackoffFactor().convertToDouble()},
        {"growth_interval", unscale.getGrowthInterval()}};

  // The evaluation step, when the module has one.
  json::Value eval = nullptr;
  if (auto evalStep =
          func->getParentOfType<ModuleOp>().lookupSymbol<func::FuncOp>(
              kEvalStepFuncName)) {
    FailureOr<json::Value> evalManifest = buildEvalManifest(evalStep, func);
    if (failed(evalManifest))
      return failure();
    eval = std::move(*evalManifest);
  }

  json::Object manifest{
      {"abi_version", DPC_ABI_VERSION},
      {"producer", "dpc 0.1.0"},
      {"mode", config.mode},
      {"world_size", config.worldSize},
      {"inputs", std::move(inputs)},
      {"label", std::move(label)},
      {"loss", json::Object{{"kind", config.loss},
                            {"slot", slots.loss()},
                            {"dtype", lossDType(func)}}},
      {"optimizer", std::move(optimizer)},
      {"param_groups", std::move(paramGroups)},
      {"clip", std::move(clip)},
      {"grad_scaler", std::move(gradScaler)},
      {"accumulate", config.accumulate},
      {"parameters", std::move(parameters)},
      {"buffers", std::move(buffers)},
      {"weights", config.externalWeights ? "external" : "embedded"},
      {"weights_bytes", static_cast<int64_t>(weights.bytes.size())},
      {"schedule", buildScheduleJson(func)},
      {"optimizer_state", std::move(state)},
      {"buckets", std::move(buckets)},
      {"arena",
       json::Object{{"bytes", arenaBytes.getInt()}, {"slot", slots.arena()}}},
      {"num_slots", slots.count()},
  };
  if (config.mode == "dp") {
    manifest["devices"] = config.devices;
    manifest["replicas"] = config.replicas;
  }
  // The training step's keys in sorted order (as json::Object prints),
  // then the evaluation step's, an appendix to the training step's.
  std::vector<llvm::StringRef> keys;
  for (const auto &entry : manifest)
    keys.push_back(entry.first);
  llvm::sort(keys);
  std::string text;
  llvm::raw_string_ostream os(text);
  json::OStream out(os, /*IndentSize=*/2);
  out.object([&] {
    for (llvm::StringRef key : keys)
      out.attribute(key, *manifest.get(key));
    out.attribute("eval", eval);
  });
  return text;
}
