//===- TorchImporter.cpp - TorchScript to the nn dialect ------------------===//
//
// Loads a TorchScript module with LibTorch, inlines its forward method and
// translates the graph one aten op at a time. Parameters and buffers are
// reached through prim::GetAttr chains from `self`; each chain's dotted path
// is the tensor's state_dict key, which becomes the name of a function
// argument. Shapes are inferred op by op from the given input shapes, so a
// shape error is reported at the model's source line.
//
//===----------------------------------------------------------------------===//

#include "compiler/Import/Importer.h"

#include "dialects/NN/NNOps.h"
#include "passes/TrainStep.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"

#include <torch/csrc/jit/passes/constant_propagation.h>
#include <torch/csrc/jit/passes/dead_code_elimination.h>
#include <torch/csrc/jit/passes/inliner.h>

#include <fstream>
#include <unordered_map>

using namespace mlir;
using namespace dpc;

namespace {

/// First line of a LibTorch error, without its backtrace.
std::string firstLine(const std::string &message) {
  return message.substr(0, message.find('\n'));
}

} // namespace

Importer::Importer(MLIRContext &context, const std::string &path)
    : context(context), builder(&context), path(path),
      fileLoc(FileLineColLoc::get(&context, path, 0, 0)) {
  registerCoreImporters(importers);
  registerConvImporters(importers);
  registerTransformerImporters(importers);
}

Location Importer::locOf(jit::Node *node) {
  // A saved module's graph points into its serialized code
  // (code/__torch__/...); the range that generated it is the user's source.
  jit::SourceRange range = node->sourceRange();
  if (auto original = range.findSourceRangeThatGenerated())
    range = *original;
  auto flc = range.file_line_col();
  if (!flc)
    return NameLoc::get(builder.getStringAttr(node->kind().toQualString()),
                        fileLoc);
  auto [file, line, col] = *flc;
  return FileLineColLoc::get(&context, file, line, col + 1);
}

LogicalResult Importer::collectTensors(jit::Module &module) {
  auto add = [&](const std::string &name, const at::Tensor &t,
                 bool isParameter) -> LogicalResult {
    if (t.scalar_type() != at::kFloat)
      return emitError(fileLoc)
             << (isParameter ? "parameter '" : "buffer '") << name
             << "' has dtype " << c10::toString(t.scalar_type())
             << "; only float32 parameters and buffers are supported";
    ModelTensor tensor;
    tensor.name = name;
    tensor.isParameter = isParameter && t.requires_grad();
    tensor.shape.assign(t.sizes().begin(), t.sizes().end());
    at::Tensor contiguous = t.detach().contiguous();
    const char *data = static_cast<const char *>(contiguous.data_ptr());
    tensor.bytes.assign(data, data + contiguous.nbytes());
    result.tensors.push_back(std::move(tensor));
    return success();
  };
  for (const auto &p : module.named_parameters(/*recurse=*/true))
    if (failed(add(p.name, p.value, /*isParameter=*/true)))
      return failure();
  for (const auto &b : module.named_buffers(/*recurse=*/true))
    if (failed(add(b.name, b.value, /*isParameter=*/false)))
      return failure();
  return success();
}

FailureOr<ImportedModel>
Importer::run(const std::vector<TensorSpec> &inputs) {
  {
    std::ifstream file(path, std::ios::binary | std::ios::ate);
    if (!file)
      return emitError(fileLoc) << "cannot open model file '" << path << "'",
             failure();
    if (file.tellg() == 0)
      return emitError(fileLoc) << "model file '" << path << "' is empty",
             failure();
  }

  jit::Module module;
  std::shared_ptr<jit::Graph> graph;
  try {
    module = jit::load(path);
    auto forward = module.find_method("forward");
    if (!forward)
      return emitError(fileLoc) << "the TorchScript module has no forward "
                                   "method",
             failure();
    graph = forward->graph()->copy();
    jit::Inline(*graph);
    // Folds branches on constant flags that inlining exposes, e.g. the
    // `inplace` test inside F.relu.
    jit::ConstantPropagation(graph);
    jit::EliminateDeadCode(graph);
  } catch (const c10::Error &e) {
    return emitError(fileLoc) << "cannot load TorchScript module '" << path
                              << "': " << firstLine(e.what_without_backtrace()),
           failure();
  } catch (const std::exception &e) {
    return emitError(fileLoc) << "cannot load TorchScript module '" << path
                              << "': " << firstLine(e.what()),
           failure();
  }

  try {
    if (failed(collectTensors(module)))
      return failure();

    // forward(self, inputs...)
    size_t numInputs = graph->inputs().size() - 1;
    if (numInputs != inputs.size())
      return emitError(fileLoc) << "the model's forward takes " << numInputs
                                << " input(s), but " << inputs.size()
                                << " --input flag(s) were given",
             failure();

    SmallVector<Type> argTypes;
    SmallVector<DictionaryAttr> argAttrs;
    for (const TensorSpec &input : inputs) {
      Type elementType = input.dtype == DType::I64
                             ? Type(builder.getI64Type())
                         : input.dtype == DType::F64 ? Type(builder.getF64Type())
                                                     : Type(builder.getF32Type());
      argTypes.push_back(RankedTensorType::get(input.shape, elementType));
      argAttrs.push_back(makeSlotAttrs(&context, kind::kInput, input.name));
    }
    for (const ModelTensor &t : result.tensors) {
      argTypes.push_back(RankedTensorType::get(t.shape, builder.getF32Type()));
      argAttrs.push_back(makeSlotAttrs(
          &context, t.isParameter ? kind::kParameter : kind::kBuffer, t.name));
    }

    result.module = ModuleOp::create(fileLoc);
    builder.setInsertionPointToEnd(result.module->getBody());
    auto func = builder.create<func::FuncOp>(
        fileLoc, kForwardFuncName, builder.getFunctionType(argTypes, {}));
    func.setAllArgAttrs(argAttrs);
    Block *entry = func.addEntryBlock();
    builder.setInsertionPointToStart(entry);

    for (size_t i = 0; i < numInputs; ++i)
      values[graph->inputs()[i + 1]] = entry->getArgument(i);
    for (size_t i = 0; i < result.tensors.size(); ++i)
      namedTensors[result.tensors[i].name] =
          entry->getArgument(numInputs + i);
    attributes[graph->inputs()[0]] = module._ivalue();
    attributePaths[graph->inputs()[0]] = "";

    for (jit::Node *node : graph->nodes())
      if (failed(importNode(node)))
        return failure();

    if (graph->outputs().size() != 1)
      return emitError(fileLoc) << "the model's forward must return one "
                                   "tensor",
             failure();
    jit::Value *output = graph->outputs()[0];
    auto it = values.find(output);
    if (it == values.end())
      return emitError(fileLoc) << "the model's forward must return one "
                                   "tensor, it returns "
                                << output->type()->str(),
             failure();
    builder.create<func::ReturnOp>(fileLoc, it->second);
    func.setFunctionType(builder.getFunctionType(
        argTypes, TypeRange{it->second.getType()}));
  } catch (const c10::Error &e) {
    return emitError(fileLoc) << "while importing '" << path
                              << "': " << firstLine(e.what_without_backtrace()),
           failure();
  }
  return std::move(result);
}

LogicalResult Importer::bind(jit::Node *node, FailureOr<Value> v, size_t index) {
  if (failed(v))
    return failure();
  values[node->output(index)] = *v;
  return success();
}

std::optional<c10::IValue> Importer::constant(jit::Value *v) {
  auto it = attributes.find(v);
  if (it != attributes.end())
    return it->second;
  if (auto ivalue = jit::toIValue(v))
    return *ivalue;
  return std::nullopt;
}

FailureOr<double> Importer::scalar(jit::Node *node, jit::Value *v) {
  std::optional<c10::IValue> c = constant(v);
  if (!c || !(c->isDouble() || c->isInt() || c->isBool()))
    return error(node) << "'" << node->kind().toQualString()
                       << "': expected a constant number for argument '"
                       << v->debugName() << "'",
           failure();
  return c->isDouble() ? c->toDouble() : static_cast<double>(c->isInt() ? c->toInt() : c->toBool());
}

FailureOr<SmallVector<int64_t>> Importer::intList(jit::Node *node,
                                                  jit::Value *v) {
  std::optional<c10::IValue> c = constant(v);
  SmallVector<int64_t> ints;
  if (c && c->isInt()) {
    ints.push_back(c->toInt());
    return ints;
  }
  if (c && c->isList()) {
    for (const c10::IValue &element : c->toListRef()) {
      if (!element.isInt())
        break;
      ints.push_back(element.toInt());
    }
    if (ints.size() == c->toListRef().size())
      return ints;
  }
  return error(node) << "'" << node->kind().toQualString()
                     << "': expected a constant list of integers for argument '"
                     << v->debugName() << "'",
         failure();
}

FailureOr<Value> Importer::tensor(jit::Node *node, jit::Value *v) {
  auto it = values.find(v);
  if (it != values.end())
    return it->second;
  return error(node) << "'" << node->kind().toQualString()
                     << "': operand '" << v->debugName()
                     << "' is not a tensor dpc supports here ("
                     << v->type()->str() << ")",
         failure();
}

LogicalResult Importer::importNode(jit::Node *node) {
  auto kind = node->kind();
  if (kind == c10::prim::Constant)
    return success(); // Read through constant() where used.

  if (kind == c10::prim::GetAttr) {
    jit::Value *object = node->input(0);
    auto objectIt = attributes.find(object);
    if (objectIt == attributes.end() || !objectIt->second.isObject())
      return error(node) << "unsupported attribute access", failure();
    std::string name = node->s(c10::attr::name);
    std::string full = attributePaths[object].empty()
                           ? name
                           : attributePaths[object] + "." + name;
    c10::IValue value = objectIt->second.toObject()->getAttr(name);
    if (value.isTensor()) {
      auto tensorIt = namedTensors.find(full);
      if (tensorIt == namedTensors.end())
        return error(node) << "tensor attribute '" << full
                           << "' is neither a parameter nor a buffer",
               failure();
      values[node->output()] = tensorIt->second;
      return success();
    }
    attributes[node->output()] = value;
    attributePaths[node->output()] = full;
    return success();
  }

  auto it = importers.find(kind);
  if (it != importers.end())
    return it->second(*this, node);

  // A list of constants (a shape, a dim list) is itself a constant; a list
  // of tensors (torch.cat's operand) is read by its consumer through
  // node->input(i)->node().
  if (kind == c10::prim::ListConstruct) {
    c10::impl::GenericList list(c10::AnyType::get());
    for (jit::Value *element : node->inputs()) {
      std::optional<c10::IValue> c = constant(element);
      if (!c)
        return success();
      list.push_back(*c);
    }
    bindConstant(node, c10::IValue(list));
    return success();
  }

  // x.size() and x.size(d) of statically shaped tensors are constants.
  if (kind == c10::aten::size && isTensor(node->input(0))) {
    auto shape = cast<RankedTensorType>(values[node->input(0)].getType()).getShape();
    if (node->inputs().size() == 1) {
      bindConstant(node, c10::IValue(std::vector<int64_t>(shape.begin(), shape.end())));
      return success();
    }
    auto dim = scalar(node, node->input(1));
    if (failed(dim))
      return failure();
    int64_t d = static_cast<int64_t>(*dim);
    int64_t rank = shape.size();
    if (d < -rank || d >= rank)
      return error(node) << "size(" << d << ") of a " << rank << "-d tensor",
             failure();
    bindConstant(node, c10::IValue(shape[d < 0 ? d + rank : d]));
    return success();
  }

  if (kind == c10::prim::TupleConstruct)
    return error(node) << "the model's forward must return one tensor; "
                          "tuples are not supported",
           failure();

  std::string name = kind.toQualString();
  if (!name.empty() && name.back() == '_')
    return error(node) << "in-place op '" << name
                       << "' is not supported; use the out-of-place form",
           failure();
  return error(node) << "unsupported op '" << name << "'", failure();
}

FailureOr<ImportedModel>
dpc::importTorchScript(MLIRContext &context, const std::string &path,
                       const std::vector<TensorSpec> &inputs) {
  context.loadDialect<nn::NNDialect, func::FuncDialect>();
  Importer importer(context, path);
  return importer.run(inputs);
}
