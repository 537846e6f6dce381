//===- TorchImporter.cpp - TorchScript to the nn dialect ------------------===//
//
// Loads a TorchScript module with LibTorch, inlines its forward method and
// translates the graph one aten op at a time. Parameters and buffers are
// reached through prim::GetAttr chains from `self`; each chain's dotted path
// is the tensor's state_dict key, which becomes the name of a function
// argument. Shapes are inferred op by op from the given input shapes, so a
// shape error is reported at the model's source line.
//
// Every module runs in the mode it was saved in, as PyTorch would run it:
// `self.training` is folded like any other attribute, so a submodule the
// user put in .eval() (a frozen BatchNorm, a Dropout switched off) stays so.
// A root module saved in eval mode is compiled as such, with a warning.
// Before translation, reads of non-tensor module attributes
// (`self.training`, hyper-parameters, None for absent tensors) become
// constants and TorchScript's constant propagation folds the branches on
// them; in-place ops on values nothing else aliases become functional
// (RemoveTensorMutation). Control flow that is left (shape checks such as
// BatchNorm's `if input.dim() != 4: raise`) is evaluated during import, where
// shapes are static: the taken branch of a prim::If is imported inline, a
// prim::Loop is unrolled, and reaching a prim::RaiseException is an error at
// its source line. In-place updates of buffers are functionalized (see
// Importer::updateBuffer).
//
//===----------------------------------------------------------------------===//

#include "compiler/Import/Importer.h"

#include "compiler/TrainStep/TrainStep.h"
#include "dialects/NN/IR/NNOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"

#include <torch/csrc/jit/ir/alias_analysis.h>
#include <torch/csrc/jit/ir/constants.h>
#include <torch/csrc/jit/passes/constant_propagation.h>
#include <torch/csrc/jit/passes/dead_code_elimination.h>
#include <torch/csrc/jit/passes/inliner.h>
#include <torch/csrc/jit/passes/remove_mutation.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <unordered_map>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace mlir;
using namespace dpc;

namespace {

/// First line of a LibTorch error, without its backtrace.
std::string firstLine(const std::string &message) {
  return message.substr(0, message.find('\n'));
}

/// The out-of-place form of in-place op `node` (aten::add_ -> aten::add),
/// if the node mutates its first input only and that form exists.
std::optional<c10::Symbol> functionalForm(jit::Node *node) {
  if (!node->kind().is_aten() || node->outputs().size() != 1 ||
      node->inputs().empty())
    return std::nullopt;
  std::string name = node->kind().toUnqualString();
  if (name.size() < 2 || name.back() != '_' || name[name.size() - 2] == '_')
    return std::nullopt;
  auto symbol = c10::Symbol::aten(name.substr(0, name.size() - 1));
  if (jit::getAllOperatorsFor(symbol).empty())
    return std::nullopt;
  return symbol;
}

/// Whether `node` returns a view of its first input (sharing its storage).
bool isViewOp(jit::Node *node) {
  auto kind = node->kind();
  return node->outputs().size() == 1 && !node->inputs().empty() &&
         (kind == c10::aten::flatten || kind == c10::aten::view ||
          kind == c10::aten::reshape || kind == c10::aten::squeeze ||
          kind == c10::aten::unsqueeze || kind == c10::aten::slice ||
          kind == c10::aten::select || kind == c10::aten::transpose ||
          kind == c10::aten::permute);
}

/// Whether `v` is a tensor its node allocates: the node's schema gives the
/// output no alias annotation (not a view, not `self` returned), and the
/// node has no side effects and no blocks.
bool makesFreshTensor(jit::Value *v) {
  jit::Node *node = v->node();
  const c10::FunctionSchema *schema = node->maybeSchema();
  if (!schema || node->hasSideEffects() || !node->blocks().empty() ||
      v->offset() >= schema->returns().size())
    return false;
  const c10::Argument &result = schema->returns()[v->offset()];
  return result.type()->kind() == c10::TypeKind::TensorType &&
         !result.alias_info();
}

/// Rewrites in-place ops whose mutation nothing else can observe into their
/// out-of-place forms: `out += identity` and `relu(out, inplace=True)` on an
/// activation that no view, list or other value aliases, or on a view of one
/// that nothing else reads (`nn.Dropout(inplace=True)` on
/// `torch.flatten(pool(x), 1)`, EfficientNet's classifier). Later uses of the
/// mutated value read the new one instead. TorchScript's own
/// RemoveTensorMutation leaves these when it cannot reorder the value's
/// creation next to its mutation (e.g. across BatchNorm's buffer updates).
/// Mutations of module attributes, graph inputs and aliased values stay, and
/// the importer reports them.
void functionalizeInPlaceOps(std::shared_ptr<jit::Graph> &graph) {
  std::vector<jit::Value *> allValues;
  std::vector<jit::Node *> candidates;
  std::function<void(jit::Block *)> collect = [&](jit::Block *block) {
    for (jit::Node *node : block->nodes()) {
      for (jit::Value *output : node->outputs())
        allValues.push_back(output);
      if (functionalForm(node))
        candidates.push_back(node);
      for (jit::Block *sub : node->blocks())
        collect(sub);
    }
  };
  collect(graph->block());
  if (candidates.empty())
    return;

  // Decide on the original graph: the mutated value must be fresh (made by
  // an op that does not alias its inputs) and aliased only by the results
  // of in-place ops on it.
  std::vector<jit::Node *> safe;
  {
    jit::AliasDb aliasDb(graph);
    for (jit::Node *node : candidates) {
      // The value the chain of in-place ops mutates (relu_(out.add_(x))).
      jit::Value *self = node->input(0);
      while (functionalForm(self->node()))
        self = self->node()->input(0);
      // A view of a value read by nothing but the view (through a chain of
      // such views) is as good as fresh: the mutation could be seen only
      // through the view, whose later uses read the new value.
      jit::Value *root = self;
      std::set<jit::Value *> viewBases;
      while (isViewOp(root->node()) &&
             root->node()->input(0)->uses().size() == 1) {
        root = root->node()->input(0);
        viewBases.insert(root);
      }
      jit::Node *producer = root->node();
      if (producer->kind() == c10::prim::Param ||
          producer->kind() == c10::prim::GetAttr ||
          (jit::MutationRemover::hasSideEffectOrAlias(root, &aliasDb) &&
           !makesFreshTensor(root)))
        continue;
      bool aliased = false;
      for (jit::Value *other : allValues) {
        if (other == self || viewBases.count(other))
          continue;
        jit::Node *user = other->node();
        // TorchScript's alias analysis puts every tensor that enters a list
        // into one set, so in a model with lists of tensors (DLA's trees)
        // everything may alias everything. Order decides first: a value
        // made before the fresh tensor cannot alias it, and one made after
        // the mutation (`[x2, x1] + children` of the block's results) reads
        // the mutated value, which the rewrite gives it, unless it comes
        // out of a container made before the mutation, which is checked
        // below as a container (a later in-place op through such a value is
        // a candidate of its own, unsafe because of it).
        if (user->owningBlock() == node->owningBlock() &&
            (user->isAfter(node) ||
             (producer->owningBlock() == node->owningBlock() &&
              user->isBefore(producer))))
          continue;
        // Between the two, a view of the value or a list holding it would
        // observe the mutation.
        if (!aliasDb.mayAlias(self, other) &&
            !aliasDb.mayContainAlias(self, other))
          continue;
        bool inPlaceResult =
            functionalForm(user) && aliasDb.mayAlias(user->input(0), self);
        aliased |= !inPlaceResult;
      }
      if (!aliased)
        safe.push_back(node);
    }
  }

  for (jit::Node *node : safe) {
    jit::Value *self = node->input(0);
    jit::Node *functional =
        graph->create(*functionalForm(node), node->inputs(), 1);
    functional->output()->setType(node->output()->type());
    functional->setSourceRange(node->sourceRange());
    functional->insertBefore(node);
    jit::Value *result = functional->output();
    node->output()->replaceAllUsesWith(result);
    std::vector<jit::Use> uses = self->uses();
    for (const jit::Use &use : uses)
      if (use.user != node && use.user != functional && use.user->isAfter(node))
        use.user->replaceInput(use.offset, result);
    node->destroy();
  }
}

/// The grad mode a `with` statement's context manager sets: false for
/// `torch.no_grad()`, true for `torch.enable_grad()`, nullopt for any other
/// object.
std::optional<bool> gradModeOf(jit::Value *object) {
  auto type = object->type()->cast<c10::ClassType>();
  if (!type || !type->name())
    return std::nullopt;
  llvm::StringRef name(type->name()->qualifiedName());
  if (name.ends_with("torch.autograd.grad_mode.no_grad"))
    return false;
  if (name.ends_with("torch.autograd.grad_mode.enable_grad"))
    return true;
  return std::nullopt;
}

} // namespace

Importer::Importer(MLIRContext &context, const std::string &path,
                   const ImportOptions &options)
    : context(context), builder(&context), path(path), options(options),
      fileLoc(FileLineColLoc::get(&context, path, 0, 0)) {
  registerElementwiseImporters(importers, context);
  registerLinalgImporters(importers, context);
  registerIndexingImporters(importers, context);
  registerReductionImporters(importers, context);
  registerNormalizationImporters(importers, context);
  registerConvPoolImporters(importers, context);
  registerRecurrentImporters(importers, context);
  registerShapeImporters(importers, context);
  registerLossImporters(importers, context);
  registerRandomImporters(importers, context);
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

/// Whether `file` is one of torch's own Python sources (torch.nn's modules
/// and functional), rather than the model's.
static bool isTorchLibraryFile(llvm::StringRef file) {
  return file.contains("/torch/nn/") ||
         file.ends_with("/torch/functional.py") ||
         file.contains("/torch/_tensor.py") || file.contains("/torch/jit/");
}

/// The file, line and column that `range` was generated from.
static c10::optional<std::tuple<std::string, size_t, size_t>>
sourcePosition(jit::SourceRange range) {
  if (auto original = range.findSourceRangeThatGenerated())
    range = *original;
  return range.file_line_col();
}

/// A traced model's nodes carry the Python stack of the trace as their
/// source text, one "file(line): function" per frame, innermost first: the
/// innermost frame of the model's own code.
static std::optional<std::pair<std::string, unsigned>>
modelFrameOfTrace(const jit::SourceRange &range) {
  if (!range.source() || !range.source()->filename().value_or("").empty())
    return std::nullopt;
  std::string text = range.text().str();
  llvm::SmallVector<llvm::StringRef> frames;
  llvm::StringRef(text).split(frames, '\n', -1, /*KeepEmpty=*/false);
  for (llvm::StringRef frame : frames) {
    size_t open = frame.find("("), close = frame.find("): ");
    unsigned line;
    if (open == llvm::StringRef::npos || close == llvm::StringRef::npos ||
        close < open || frame.slice(open + 1, close).getAsInteger(10, line))
      continue;
    llvm::StringRef file = frame.take_front(open);
    if (!isTorchLibraryFile(file))
      return std::make_pair(file.str(), line);
  }
  return std::nullopt;
}

Importer::NodeOrigin Importer::originOf(jit::Node *node) {
  NodeOrigin origin{"", "", locOf(node)};
  // The call stack of an inlined node, outermost call first: each entry is
  // a call (its source range in the caller) into a function, with the
  // module instance whose method it is.
  // The inliner gives call stacks only to the nodes of a callee's top
  // block that have results (torch 1.13's inlineCallTo walks its value
  // map): a node nested in an inlined prim::If, or a result-less prim::If
  // (an inlined check), has none. Such a node takes the stack of the node
  // it is nested in, or of the node computing its condition: a number
  // computed in the same function (a tensor operand may come from the
  // caller).
  jit::Node *withStack = node;
  for (int hops = 0; !withStack->callstack() && hops < 8; ++hops) {
    jit::Node *next = withStack->owningBlock()->owningNode();
    if (!next)
      for (jit::Value *operand : withStack->inputs())
        if (operand->type()->kind() != c10::TypeKind::TensorType &&
            operand->node()->kind() != c10::prim::Constant &&
            operand->node()->kind() != c10::prim::Param) {
          next = operand->node();
          break;
        }
    if (!next)
      break;
    withStack = next;
  }
  std::vector<jit::InlinedCallStackEntry> calls;
  if (auto callstack = withStack->callstack())
    calls = (*callstack)->vec();
  c10::IValue module = rootModule;
  for (const jit::InlinedCallStackEntry &call : calls)
    if (const auto &instance = std::get<2>(call)) {
      // A method's call of another method of its own module is "SELF".
      std::string name = instance->instance_name();
      if (name != "SELF") {
        std::string step = childPath(module, name, instance->class_type());
        origin.modulePath += (origin.modulePath.empty() ? "" : ".") + step;
      }
      if (instance->class_type() && instance->class_type()->name())
        origin.moduleType = instance->class_type()->name()->name();
    }
  // The innermost position written in the model itself: the node's own,
  // or the model's call into torch's library code.
  std::vector<jit::SourceRange> positions = {node->sourceRange()};
  for (auto it = calls.rbegin(); it != calls.rend(); ++it)
    positions.push_back(std::get<1>(*it));
  // A node without a position of its own (`z.real`) is at its operand's.
  for (jit::Node *n = node; n && positions.size() < 16;) {
    jit::Node *producer = nullptr;
    for (jit::Value *operand : n->inputs())
      if (operand->node()->kind() != c10::prim::Param &&
          operand->node()->kind() != c10::prim::Constant) {
        producer = operand->node();
        break;
      }
    if (producer)
      positions.push_back(producer->sourceRange());
    n = producer;
  }
  // Else the innermost position in torch's code, else the model file
  // (a traced model's saved code, code/__torch__/..., is no one's source).
  std::optional<Location> inLibrary;
  for (const jit::SourceRange &range : positions) {
    if (auto frame = modelFrameOfTrace(range)) {
      origin.loc =
          FileLineColLoc::get(&context, frame->first, frame->second, 0);
      return origin;
    }
    auto flc = sourcePosition(range);
    if (!flc || std::get<0>(*flc).empty() ||
        llvm::StringRef(std::get<0>(*flc)).starts_with("code/"))
      continue;
    auto [file, line, col] = *flc;
    Location loc = FileLineColLoc::get(&context, file, line, col + 1);
    if (!isTorchLibraryFile(file)) {
      origin.loc = loc;
      return origin;
    }
    if (!inLibrary)
      inLibrary = loc;
  }
  origin.loc = inLibrary ? *inLibrary : fileLoc;
  return origin;
}

std::string Importer::childPath(c10::IValue &module, const std::string &name,
                                const c10::ClassTypePtr &type) {
  auto childOf = [&](const c10::IValue &parent,
                     const std::string &child) -> std::optional<c10::IValue> {
    if (!parent.isObject())
      return std::nullopt;
    auto object = parent.toObject();
    if (!object->type()->hasAttribute(child))
      return std::nullopt;
    c10::IValue value = object->getAttr(child);
    if (!value.isObject() || (type && value.type() != type))
      return std::nullopt;
    return value;
  };
  if (auto child = childOf(module, name)) {
    module = *child;
    return name;
  }
  // The blocks of a ModuleList or ModuleDict are called by their owner
  // directly (the container has no forward of its own), so the call
  // stack names "0", not "blocks.0".
  if (module.isObject()) {
    auto object = module.toObject();
    const c10::ClassTypePtr &objectType = object->type();
    for (size_t i = 0; i < objectType->numAttributes(); ++i) {
      c10::IValue container = object->getSlot(i);
      if (auto child = childOf(container, name)) {
        module = *child;
        return objectType->getAttributeName(i) + "." + name;
      }
    }
  }
  module = c10::IValue();
  return name;
}

void Importer::reportImportErrors(ArrayRef<ImportError> errors) {
  constexpr size_t kPathsShown = 3;
  for (const ImportError &e : errors) {
    InFlightDiagnostic diag = emitError(e.loc);
    if (!e.modulePaths.empty()) {
      for (size_t i = 0; i < e.modulePaths.size() && i < kPathsShown; ++i)
        diag << (i ? ", " : "") << e.modulePaths[i];
      if (e.modulePaths.size() > kPathsShown)
        diag << " and " << e.modulePaths.size() - kPathsShown << " more";
      diag << " (" << e.moduleType << "): ";
    }
    diag << e.message;
  }
}

LogicalResult Importer::collectTensors(jit::Module &module) {
  // A tensor reachable under several names (an lm head tied to the token
  // embedding) is one parameter, named by its first state_dict key; the
  // other names are aliases of it.
  std::string floatTensor; // the first float parameter or buffer
  at::ScalarType floatDType = at::kFloat;
  auto add = [&](const std::string &name, const at::Tensor &t,
                 bool isParameter) -> LogicalResult {
    auto [first, inserted] = tensorNames.emplace(t.unsafeGetTensorImpl(), name);
    if (!inserted) {
      tiedTensors.emplace_back(name, first->second);
      return success();
    }
    // Integer tensors cannot be trained: int64 buffers (BatchNorm's
    // num_batches_tracked) are state the step updates.
    // Bool buffers (a causal mask) are constants of the step.
    // Float64 tensors (a model.double() model) compute in float64
    // throughout; a model is one or the other, as DDP's buckets and the
    // optimizer hold one float type.
    bool trainable = isParameter && t.requires_grad();
    bool isFloat =
        t.scalar_type() == at::kFloat || t.scalar_type() == at::kDouble;
    if (!isFloat &&
        (trainable || (t.scalar_type() != at::kLong &&
                       !(t.scalar_type() == at::kBool && !isParameter))))
      return emitError(fileLoc)
             << (isParameter ? "parameter '" : "buffer '") << name
             << "' has dtype " << c10::toString(t.scalar_type())
             << (isParameter ? "; only float32 and float64 parameters and "
                               "buffers are supported"
                             : "; only float32, float64, int64 and bool "
                               "buffers are supported");
    if (isFloat) {
      if (!floatTensor.empty() && floatDType != t.scalar_type())
        return emitError(fileLoc)
               << (isParameter ? "parameter '" : "buffer '") << name << "' is "
               << c10::toString(t.scalar_type()) << " but '" << floatTensor
               << "' is " << c10::toString(floatDType)
               << "; dpc trains models whose float parameters and buffers "
                  "are all float32 or all float64 (model.float() or "
                  "model.double())";
      if (floatTensor.empty()) {
        floatTensor = name;
        floatDType = t.scalar_type();
      }
    }
    ModelTensor tensor;
    tensor.name = name;
    tensor.isParameter = trainable;
    tensor.dtype = t.scalar_type() == at::kLong     ? DType::I64
                   : t.scalar_type() == at::kBool   ? DType::Bool
                   : t.scalar_type() == at::kDouble ? DType::F64
                                                    : DType::F32;
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

FailureOr<ImportedModel> Importer::run(const std::vector<TensorSpec> &inputs,
                                       bool evalMode) {
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
    // The evaluation step's forward: what model.eval() runs (BatchNorm on
    // its running statistics, dropout off), folded from the flags below.
    if (evalMode)
      module.eval();
    auto forward = module.find_method("forward");
    if (!forward)
      return emitError(fileLoc) << "the TorchScript module has no forward "
                                   "method",
             failure();
    graph = forward->graph()->copy();
    jit::Inline(*graph);
    if (failed(bindDefaultArguments(*graph, forward->function().getSchema(),
                                    inputs.size())))
      return failure();
    // Each module keeps its saved `training` flag (PyTorch's semantics);
    // only an eval-mode root, almost always an oversight, is pointed out.
    if (!evalMode && !module.is_training())
      emitWarning(UnknownLoc::get(&context))
          << "the model was saved in eval mode: BatchNorm uses running "
             "statistics and dropout is off, as PyTorch would run it; call "
             "model.train() before saving to train in training mode";
    if (failed(foldModuleAttributes(*graph, module._ivalue())))
      return failure();
    // Folds branches on constant flags that inlining and the attribute
    // folding expose, e.g. the `inplace` test inside F.relu and the
    // `self.training` tests of BatchNorm.
    jit::ConstantPropagation(graph);
    // x.relu_(), out += identity: functional where nothing else observes
    // the mutation (buffers stay in place; see updateBuffer).
    jit::RemoveTensorMutation(graph);
    functionalizeInPlaceOps(graph);
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
      Type elementType = input.dtype == DType::I64 ? Type(builder.getI64Type())
                         : input.dtype == DType::F64
                             ? Type(builder.getF64Type())
                             : Type(builder.getF32Type());
      argTypes.push_back(RankedTensorType::get(input.shape, elementType));
      argAttrs.push_back(makeSlotAttrs(&context, kind::kInput, input.name));
    }
    for (const ModelTensor &t : result.tensors) {
      Type elementType = t.dtype == DType::I64    ? Type(builder.getI64Type())
                         : t.dtype == DType::Bool ? Type(builder.getI1Type())
                         : t.dtype == DType::F64  ? Type(builder.getF64Type())
                                                  : Type(builder.getF32Type());
      argTypes.push_back(RankedTensorType::get(t.shape, elementType));
      argAttrs.push_back(makeSlotAttrs(
          &context, t.isParameter ? kind::kParameter : kind::kBuffer, t.name));
    }

    result.module = ModuleOp::create(fileLoc);
    if (!tiedTensors.empty()) {
      SmallVector<NamedAttribute> tiedNames;
      for (const auto &[alias, name] : tiedTensors)
        tiedNames.push_back(
            builder.getNamedAttr(alias, builder.getStringAttr(name)));
      (*result.module)
          ->setAttr(kTiedNamesAttr, builder.getDictionaryAttr(tiedNames));
    }
    builder.setInsertionPointToEnd(result.module->getBody());
    auto func = builder.create<func::FuncOp>(
        fileLoc, kForwardFuncName, builder.getFunctionType(argTypes, {}));
    func.setAllArgAttrs(argAttrs);
    Block *entry = func.addEntryBlock();
    builder.setInsertionPointToStart(entry);

    for (size_t i = 0; i < numInputs; ++i)
      values[graph->inputs()[i + 1]] = entry->getArgument(i);
    for (size_t i = 0; i < result.tensors.size(); ++i) {
      Value argument = entry->getArgument(numInputs + i);
      namedTensors[result.tensors[i].name] = argument;
      if (result.tensors[i].isParameter)
        trainableArguments.insert(argument.getAsOpaquePointer());
    }
    for (const auto &[alias, name] : tiedTensors)
      namedTensors[alias] = namedTensors[name];
    attributes[graph->inputs()[0]] = module._ivalue();
    rootModule = module._ivalue();
    attributePaths[graph->inputs()[0]] = "";

    // Every error of the import is collected, attributed to the model's
    // source line and module, and reported once at the end (the same
    // error in several instances of a module, e.g. the blocks of a
    // ModuleList, is one line naming them).
    SmallVector<ImportError> errors;
    LogicalResult imported = success();
    {
      ScopedDiagnosticHandler collect(&context, [&](Diagnostic &diag) {
        if (diag.getSeverity() != DiagnosticSeverity::Error)
          return failure(); // notes and warnings pass through
        NodeOrigin origin = currentNode
                                ? originOf(currentNode)
                                : NodeOrigin{"", "", diag.getLocation()};
        // A handler may have placed the error more precisely, at another
        // line of the model's own code (the use that cannot be imported).
        if (auto own = dyn_cast<FileLineColLoc>(diag.getLocation()))
          if (own.getLine() != 0 && !isTorchLibraryFile(own.getFilename()))
            origin.loc = own;
        std::string message = diag.str();
        auto same = llvm::find_if(errors, [&](const ImportError &e) {
          return e.loc == origin.loc && e.message == message &&
                 e.moduleType == origin.moduleType;
        });
        if (same == errors.end())
          same = errors.insert(
              errors.end(),
              ImportError{origin.loc, origin.moduleType, message, {}});
        if (!origin.modulePath.empty() &&
            !llvm::is_contained(same->modulePaths, origin.modulePath))
          same->modulePaths.push_back(origin.modulePath);
        return success();
      });
      imported = importBlock(graph->block());
    }
    reportImportErrors(errors);
    if (failed(imported) || !errors.empty())
      return failure();

    if (graph->outputs().size() != 1)
      return emitError(fileLoc) << "the model's forward must return one "
                                   "tensor",
             failure();
    FailureOr<Value> outputValue = selectOutput(graph->outputs()[0]);
    if (failed(outputValue))
      return failure();
    // The output, then the final value of each updated buffer.
    SmallVector<Value> results = {*outputValue};
    SmallVector<DictionaryAttr> resultAttrs = {builder.getDictionaryAttr({})};
    for (const ModelTensor &t : result.tensors)
      if (updatedBuffers.count(t.name)) {
        results.push_back(namedTensors[t.name]);
        resultAttrs.push_back(makeSlotAttrs(&context, kind::kBuffer, t.name));
      }
    builder.create<func::ReturnOp>(fileLoc, results);
    func.setFunctionType(
        builder.getFunctionType(argTypes, ValueRange(results).getTypes()));
    func.setAllResultAttrs(resultAttrs);
  } catch (const c10::Error &e) {
    return emitError(fileLoc) << "while importing '" << path
                              << "': " << firstLine(e.what_without_backtrace()),
           failure();
  }
  return std::move(result);
}

LogicalResult Importer::bind(jit::Node *node, FailureOr<Value> v,
                             size_t index) {
  if (failed(v))
    return failure();
  values[node->output(index)] = *v;
  bufferAliases.erase(node->output(index));
  return success();
}

FailureOr<Value> Importer::parameterOf(jit::Node *node, const at::Tensor &t) {
  auto name = tensorNames.find(t.unsafeGetTensorImpl());
  auto spec = name == tensorNames.end()
                  ? result.tensors.end()
                  : llvm::find_if(result.tensors, [&](const ModelTensor &m) {
                      return m.name == name->second;
                    });
  if (spec == result.tensors.end() || !spec->isParameter)
    return error(node) << "'" << node->kind().toQualString()
                       << "': a tensor of its list argument is not a trained "
                          "parameter of the model",
           failure();
  return namedTensors.at(name->second);
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
  // A 0-d constant tensor is a number too: tracing bakes `x * (1 / d)` as a
  // multiplication by a 0-d double tensor.
  if (c && c->isTensor() && c->toTensor().dim() == 0)
    return c->toTensor().item<double>();
  if (!c || !(c->isDouble() || c->isInt() || c->isBool()))
    return error(node) << "'" << node->kind().toQualString()
                       << "': expected a constant number for argument '"
                       << v->debugName() << "'",
           failure();
  return c->isDouble()
             ? c->toDouble()
             : static_cast<double>(c->isInt() ? c->toInt() : c->toBool());
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

/// An nn.constant holding `t`: f32, f64 and i64 tensors as they are, other
/// integer types as i64, torch.bool as an f32 0/1 mask (nn's masks), and
/// under --precision bf16|fp16 a tensor of the autocast's 16-bit type
/// (`torch.zeros_like` of such a value) as its f32 values marked 16-bit by
/// a rounding.
static FailureOr<Value> materializeConstant(Importer &im, jit::Node *node,
                                            const at::Tensor &t) {
  at::Tensor value = t.detach().contiguous();
  at::ScalarType type = value.scalar_type();
  bool lowPrecision = type == im.autocastType();
  if (type == at::kBool || lowPrecision)
    value = value.to(at::kFloat);
  else if (at::isIntegralType(type, /*includeBool=*/false))
    value = value.to(at::kLong);
  else if (type != at::kFloat && type != at::kDouble)
    return im.error(node) << "'" << node->kind().toQualString()
                          << "': a constant tensor of dtype "
                          << c10::toString(type)
                          << " is not supported (float32, float64, integers "
                             "and bool are)",
           failure();
  OpBuilder &b = im.getBuilder();
  at::ScalarType stored = value.scalar_type();
  bool isBool = type == at::kBool;
  Type elementType = stored == at::kFloat    ? Type(b.getF32Type())
                     : stored == at::kDouble ? Type(b.getF64Type())
                                             : Type(b.getI64Type());
  auto tensorType = RankedTensorType::get(
      SmallVector<int64_t>(value.sizes().begin(), value.sizes().end()),
      elementType);
  size_t count = static_cast<size_t>(value.numel());
  DenseElementsAttr attr =
      stored == at::kFloat
          ? DenseElementsAttr::get(
                tensorType, ArrayRef<float>(value.data_ptr<float>(), count))
      : stored == at::kDouble
          ? DenseElementsAttr::get(
                tensorType, ArrayRef<double>(value.data_ptr<double>(), count))
          : DenseElementsAttr::get(
                tensorType,
                ArrayRef<int64_t>(value.data_ptr<int64_t>(), count));
  Value constant = b.create<nn::ConstantOp>(im.locOf(node), attr);
  if (isBool)
    im.markBool(constant);
  if (lowPrecision)
    return im.roundToLowPrecision(im.locOf(node), constant);
  return constant;
}

FailureOr<Value> Importer::tensor(jit::Node *node, jit::Value *v) {
  if (Value value = lookup(v).tensor)
    return value;
  // A tensor computed at compile time (see evaluate).
  if (std::optional<c10::IValue> c = constant(v); c && c->isTensor()) {
    FailureOr<Value> materialized =
        materializeConstant(*this, node, c->toTensor());
    if (succeeded(materialized)) {
      values[v] = *materialized;
      materializedStorages.insert(
          c->toTensor().storage().unsafeGetStorageImpl());
    }
    return materialized;
  }
  return error(node) << "'" << node->kind().toQualString() << "': operand '"
                     << v->debugName()
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
      auto spec = llvm::find_if(
          result.tensors, [&](const ModelTensor &t) { return t.name == full; });
      // A bool buffer (a causal mask, `torch.tril(...) == 0`) is a
      // compile-time value, as a mask built in forward from constants is:
      // nothing in the step can change it (the runtime checks that a
      // loaded checkpoint holds the same), and MultiheadAttention's
      // conversion of a bool mask to -inf folds. A copy, so that the
      // import cannot change the module.
      if (cast<RankedTensorType>(tensorIt->second.getType())
              .getElementType()
              .isInteger(1)) {
        for (const jit::Use &use : node->output()->uses()) {
          // Reported at the mutation, once: the read itself is imported,
          // so that the mutating op is not reported again as unsupported.
          const c10::FunctionSchema *schema = use.user->maybeSchema();
          if (schema && use.offset < schema->arguments().size() &&
              schema->arguments()[use.offset].alias_info() &&
              schema->arguments()[use.offset].alias_info()->isWrite())
            error(use.user) << "'" << use.user->kind().toQualString()
                            << "' changes the bool buffer '" << full
                            << "' in place; bool buffers are constants of "
                               "the step (not supported)";
        }
        attributes[node->output()] = value.toTensor().clone();
        return success();
      }
      if (spec != result.tensors.end() && !spec->isParameter)
        bufferAliases[node->output()] = full; // read its current value
      else
        values[node->output()] = tensorIt->second;
      return success();
    }
    attributes[node->output()] = value;
    attributePaths[node->output()] = full;
    return success();
  }

  // Control flow and checks on compile-time values (shapes are static).
  if (kind == c10::prim::If)
    return importIf(node);
  if (kind == c10::prim::Loop)
    return importLoop(node);
  if (kind == c10::prim::RaiseException) {
    std::optional<c10::IValue> message;
    if (node->inputs().size() > 0)
      message = constant(node->input(0));
    return error(node) << "the model raises an exception for these shapes"
                       << (message && message->isString()
                               ? ": " + message->toStringRef()
                               : std::string()),
           failure();
  }
  if (kind == c10::prim::Uninitialized || kind == c10::aten::warn)
    return success(); // only on paths that raise / a warning
  // The modes library code asks about (TransformerEncoderLayer's fast-path
  // checks): dpc never autocasts, and records gradients outside no_grad.
  if (kind == c10::aten::is_autocast_enabled) {
    bindConstant(node, c10::IValue(false));
    return success();
  }
  if (kind == c10::Symbol::aten("is_grad_enabled")) {
    bindConstant(node, c10::IValue(isGradEnabled()));
    return success();
  }
  if ((kind == c10::aten::Float || kind == c10::aten::Int ||
       kind == c10::aten::Bool || kind == c10::aten::item ||
       kind == c10::aten::ScalarImplicit) &&
      node->inputs().size() == 1 && isTensor(node->input(0)))
    return error(node) << "'" << kind.toQualString()
                       << "' turns a tensor into a number known only at "
                          "run time, which is not supported",
           failure();
  // x.dtype and x.device of an imported tensor are known (f32, i64 or f64
  // on the CPU, where the model was saved): library code such as
  // MultiheadAttention's and LSTM's checks reads them.
  if ((kind == c10::prim::dtype || kind == c10::prim::device ||
       kind == c10::prim::is_cuda || kind == c10::Symbol::prim("is_nested") ||
       kind == c10::Symbol::aten("numel") ||
       kind == c10::aten::is_floating_point ||
       kind == c10::prim::requires_grad) &&
      node->inputs().size() == 1 && isTensor(node->input(0))) {
    Type element =
        cast<RankedTensorType>(lookup(node->input(0)).tensor.getType())
            .getElementType();
    if (kind == c10::prim::dtype)
      bindConstant(node, c10::IValue(static_cast<int64_t>(
                             dtypeOf(lookup(node->input(0)).tensor))));
    else if (kind == c10::aten::is_floating_point)
      bindConstant(node, c10::IValue(!isBool(lookup(node->input(0)).tensor) &&
                                     (element.isF32() || element.isF64())));
    else if (kind == c10::prim::requires_grad)
      bindConstant(node,
                   c10::IValue(requiresGrad(lookup(node->input(0)).tensor)));
    else if (kind == c10::prim::device)
      bindConstant(node, c10::IValue(c10::Device(c10::kCPU)));
    else if (kind == c10::Symbol::aten("numel"))
      bindConstant(node,
                   c10::IValue(cast<RankedTensorType>(
                                   lookup(node->input(0)).tensor.getType())
                                   .getNumElements()));
    else
      bindConstant(node, c10::IValue(false)); // not cuda, not nested
    return success();
  }
  if (kind == c10::aten::dim && isTensor(node->input(0))) {
    auto type = cast<RankedTensorType>(lookup(node->input(0)).tensor.getType());
    bindConstant(node, c10::IValue(type.getRank()));
    return success();
  }
  // Optional[Tensor] refined by `if mask is not None:` is the tensor.
  if (kind == c10::prim::unchecked_cast) {
    assign(node->output(), lookup(node->input(0)));
    return success();
  }
  if (kind == c10::prim::TupleUnpack || kind == c10::prim::TupleIndex ||
      (kind == c10::aten::__getitem__ && aggregates.count(node->input(0))))
    if (aggregates.count(node->input(0)))
      return importAggregate(node);
  if (kind == c10::prim::CreateObject || kind == c10::prim::SetAttr ||
      kind == c10::prim::Enter || kind == c10::prim::Exit)
    return importContextManager(node);
  if ((kind == c10::aten::__is__ || kind == c10::aten::__isnot__) &&
      (isTensor(node->input(0)) || isTensor(node->input(1)))) {
    // A tensor is not None; two tensors are compared by identity.
    bool same = lookup(node->input(0)).tensor == lookup(node->input(1)).tensor;
    bindConstant(node, c10::IValue(kind == c10::aten::__is__ ? same : !same));
    return success();
  }
  if ((kind == c10::aten::__is__ || kind == c10::aten::__isnot__) &&
      (aggregates.count(node->input(0)) || aggregates.count(node->input(1)))) {
    // A tuple built in forward (an RNN's (h0, c0)) is not None either.
    bool same = node->input(0) == node->input(1);
    bindConstant(node, c10::IValue(kind == c10::aten::__is__ ? same : !same));
    return success();
  }

  // Lists of tensors built in forward.
  if (kind == c10::aten::append)
    return importAppend(node);
  if (TensorList list =
          node->inputs().empty() ? nullptr : tensorListOf(node->input(0))) {
    if (kind == c10::aten::len) {
      bindConstant(node, c10::IValue(static_cast<int64_t>(list->size())));
      return success();
    }
    // list + list: a new list (encoder-decoder attention's in-projection
    // returns `(q,) + kv.chunk(2)`).
    if (kind == c10::aten::add && node->inputs().size() == 2)
      if (TensorList other = tensorListOf(node->input(1))) {
        std::vector<Value> joined(*list);
        joined.insert(joined.end(), other->begin(), other->end());
        bindTensorList(node, std::move(joined));
        return success();
      }
    if (kind == c10::aten::__getitem__) {
      std::optional<c10::IValue> index = constant(node->input(1));
      int64_t size = list->size();
      int64_t i = index && index->isInt() ? index->toInt() : size;
      if (i < 0)
        i += size;
      if (i < 0 || i >= size)
        return error(node) << "'aten::__getitem__': the index must be a "
                              "constant within the "
                           << size << " tensors of the list",
               failure();
      return bind(node, (*list)[i]);
    }
  }

  // Scalar computations (on shapes, flags) before the tensor ops of the
  // same name (aten::add of two ints is not nn.add).
  if (std::optional<LogicalResult> evaluated = evaluate(node))
    return *evaluated;

  auto it = importers.find(kind);
  if (it != importers.end())
    return importUnderAutocast(node, it->second);

  // A list of constants (a shape, a dim list) is itself a constant; a list
  // of tensors (torch.cat's operand) is read by its consumer through
  // node->input(i)->node().
  if (kind == c10::prim::ListConstruct) {
    // Typed like the node's result (int[], not List[Any]), so that ops run
    // on it at compile time (torch.ones(T, T)) accept it.
    c10::TypePtr elementType = c10::AnyType::get();
    if (auto listType = node->output()->type()->cast<c10::ListType>())
      elementType = listType->getElementType();
    bool ofTensors = elementType->kind() == c10::TypeKind::TensorType;
    c10::impl::GenericList list(elementType);
    for (jit::Value *element : node->inputs()) {
      std::optional<c10::IValue> c = constant(element);
      if (!c) {
        list.clear();
        break;
      }
      list.push_back(*c);
    }
    if (list.size() == node->inputs().size() && !(ofTensors && list.empty())) {
      growableLists.insert(c10::IValue(list).internalToPointer());
      bindConstant(node, c10::IValue(list));
      return success();
    }
    if (!ofTensors)
      return success(); // read by its consumer (unsupported where read)
    std::vector<Value> tensors;
    for (jit::Value *element : node->inputs()) {
      FailureOr<Value> t = tensor(node, element);
      if (failed(t))
        return failure();
      tensors.push_back(*t);
    }
    bindTensorList(node, std::move(tensors));
    return success();
  }

  // x.size() and x.size(d) of statically shaped tensors are constants.
  if (kind == c10::aten::size && isTensor(node->input(0))) {
    auto shape = cast<RankedTensorType>(lookup(node->input(0)).tensor.getType())
                     .getShape();
    if (node->inputs().size() == 1) {
      bindConstant(
          node, c10::IValue(std::vector<int64_t>(shape.begin(), shape.end())));
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

  if (kind == c10::prim::TupleConstruct || kind == c10::prim::DictConstruct)
    return importAggregate(node);

  std::string name = kind.toQualString();
  if (!name.empty() && name.back() == '_')
    return error(node) << "in-place op '" << name
                       << "' is not supported; use the out-of-place form",
           failure();
  return error(node) << "unsupported op '" << name << "'", failure();
}

//===----------------------------------------------------------------------===//
// The model's interface: default arguments, tuple and dict outputs, grad mode
//===----------------------------------------------------------------------===//

LogicalResult Importer::bindDefaultArguments(jit::Graph &graph,
                                             const c10::FunctionSchema &schema,
                                             size_t givenInputs) {
  // Graph input k (k >= 1) is the schema's argument k; 0 is `self`.
  size_t declared = graph.inputs().size() - 1;
  size_t required = declared;
  while (required > 0 && schema.arguments().size() > required &&
         schema.arguments()[required].default_value())
    --required;
  if (givenInputs < required || givenInputs > declared) {
    InFlightDiagnostic diag = emitError(fileLoc)
                              << "the model's forward takes ";
    if (required == declared)
      diag << declared;
    else
      diag << required << " to " << declared;
    diag << " input(s), but " << givenInputs << " --input flag(s) were given";
    if (required < declared) {
      diag << " (with defaults: ";
      for (size_t k = required + 1; k <= declared; ++k) {
        std::ostringstream value;
        value << *schema.arguments()[k].default_value();
        diag << (k > required + 1 ? ", " : "") << schema.arguments()[k].name()
             << "=" << value.str();
      }
      diag << ")";
    }
    return failure();
  }
  jit::WithInsertPoint guard(graph.block()->param_node()->next());
  for (size_t k = declared; k > givenInputs; --k) {
    const c10::Argument &argument = schema.arguments()[k];
    c10::optional<jit::Value *> value =
        jit::tryInsertConstant(graph, *argument.default_value());
    if (!value)
      return emitError(fileLoc)
                 << "the default value of the forward's argument '"
                 << argument.name()
                 << "' is not a constant dpc can use; give it with --input",
             failure();
    graph.inputs()[k]->replaceAllUsesWith(*value);
    graph.eraseInput(k);
  }
  return success();
}

LogicalResult Importer::importAggregate(jit::Node *node) {
  auto kind = node->kind();
  if (kind == c10::prim::TupleConstruct) {
    Aggregate tuple;
    tuple.elements.assign(node->inputs().begin(), node->inputs().end());
    // A NamedTuple (torchvision's GoogLeNetOutputs) names its fields.
    if (auto type = node->output()->type()->cast<c10::TupleType>())
      if (const auto &schema = type->schema())
        for (const c10::Argument &field : schema->arguments())
          tuple.keys.push_back(field.name());
    aggregates[node->output()] = std::move(tuple);
    return success();
  }
  if (kind == c10::prim::DictConstruct) {
    Aggregate dict;
    dict.isDict = true;
    for (size_t i = 0; i + 1 < node->inputs().size(); i += 2) {
      std::optional<c10::IValue> key = constant(node->input(i));
      if (!key || !key->isString())
        return error(node) << "a dict built in forward must have constant "
                              "string keys",
               failure();
      dict.keys.push_back(key->toStringRef());
      dict.elements.push_back(node->input(i + 1));
    }
    aggregates[node->output()] = std::move(dict);
    return success();
  }

  const Aggregate &aggregate = aggregates.at(node->input(0));
  if (kind == c10::prim::TupleUnpack) {
    if (node->outputs().size() != aggregate.elements.size())
      return error(node) << "unpacking " << aggregate.elements.size()
                         << " values into " << node->outputs().size(),
             failure();
    for (size_t i = 0; i < node->outputs().size(); ++i)
      assign(node->output(i), lookup(aggregate.elements[i]));
    return success();
  }
  // TupleIndex (t[i]) and a dict's d["key"].
  std::optional<c10::IValue> key = constant(node->input(1));
  int64_t size = aggregate.elements.size();
  int64_t index = -1;
  if (key && key->isInt() && !aggregate.isDict) {
    index = key->toInt() < 0 ? key->toInt() + size : key->toInt();
  } else if (key && key->isString() && aggregate.isDict) {
    auto it = llvm::find(aggregate.keys, key->toStringRef());
    if (it == aggregate.keys.end())
      return error(node) << "the dict has no key '" << key->toStringRef()
                         << "'",
             failure();
    index = it - aggregate.keys.begin();
  }
  if (index < 0 || index >= size)
    return error(node) << "'" << kind.toQualString()
                       << "': the index must be a constant within the " << size
                       << " elements",
           failure();
  assign(node->output(), lookup(aggregate.elements[index]));
  return success();
}

FailureOr<Value> Importer::selectOutput(jit::Value *output) {
  const std::string &selector = options.lossOutput;
  Binding binding = lookup(output);
  if (!binding.aggregate) {
    if (!selector.empty())
      return emitError(fileLoc)
                 << "--loss-output " << selector
                 << ": the model's forward returns " << output->type()->str()
                 << ", not a tuple or dict",
             failure();
    if (!binding.tensor)
      return emitError(fileLoc) << "the model's forward must return one "
                                   "tensor, or a tuple or dict of them, it "
                                   "returns "
                                << output->type()->str(),
             failure();
    return binding.tensor;
  }
  const Aggregate &aggregate = *binding.aggregate;
  const char *what = aggregate.isDict         ? "dict"
                     : aggregate.keys.empty() ? "tuple"
                                              : "NamedTuple";
  size_t index = 0;
  if (!selector.empty()) {
    auto key = llvm::find(aggregate.keys, selector);
    unsigned position;
    if (key != aggregate.keys.end())
      index = key - aggregate.keys.begin();
    else if (!llvm::StringRef(selector).getAsInteger(10, position) &&
             position < aggregate.elements.size())
      index = position;
    else {
      InFlightDiagnostic diag = emitError(fileLoc)
                                << "--loss-output " << selector
                                << " is not an element of the " << what
                                << " the model's forward returns (";
      if (aggregate.keys.empty())
        diag << "indices 0 to " << aggregate.elements.size() - 1;
      else
        for (size_t i = 0; i < aggregate.keys.size(); ++i)
          diag << (i ? ", " : "") << "'" << aggregate.keys[i] << "'";
      return diag << ")", failure();
    }
  }
  jit::Value *element = aggregate.elements[index];
  Binding chosen = lookup(element);
  if (chosen.tensor)
    return chosen.tensor;
  std::string label = aggregate.keys.empty()
                          ? std::to_string(index)
                          : "'" + aggregate.keys[index] + "'";
  std::string type = chosen.aggregate ? "a nested tuple or dict"
                     : chosen.constant && chosen.constant->isNone()
                         ? "None"
                         : element->type()->str();
  return emitError(fileLoc) << "the loss reads element " << label << " of the "
                            << what << " the model's forward returns, "
                            << "which is " << type
                            << ", not a tensor (--loss-output selects "
                               "another element)",
         failure();
}

LogicalResult Importer::importContextManager(jit::Node *node) {
  // `with torch.no_grad():` scripts to a no_grad object (CreateObject, and
  // SetAttr of its `prev` field by its __init__), prim::Enter before the
  // block and prim::Exit after it.
  std::optional<bool> mode =
      gradModeOf(node->kind() == c10::prim::CreateObject ? node->output()
                                                         : node->input(0));
  if (!mode)
    return error(node) << "'" << node->kind().toQualString() << "' of "
                       << (node->kind() == c10::prim::CreateObject
                               ? node->output()
                               : node->input(0))
                              ->type()
                              ->str()
                       << " is not supported (of the objects made in "
                          "forward, dpc knows torch.no_grad() and "
                          "torch.enable_grad())",
           failure();
  if (node->kind() == c10::prim::Enter)
    gradModes.push_back(*mode);
  else if (node->kind() == c10::prim::Exit && !gradModes.empty())
    gradModes.pop_back();
  return success();
}

void Importer::detachOutputs(jit::Node *node) {
  // PyTorch records no graph for what is computed under no_grad: the
  // gradient stops at each such value, as at x.detach().
  for (jit::Value *output : node->outputs()) {
    auto it = values.find(output);
    if (it == values.end() || bufferAliases.count(output) ||
        !isa<FloatType>(
            cast<RankedTensorType>(it->second.getType()).getElementType()) ||
        it->second.getDefiningOp<nn::DetachOp>())
      continue;
    it->second = builder.create<nn::DetachOp>(locOf(node), it->second);
  }
}

//===----------------------------------------------------------------------===//
// Module attributes, control flow and compile-time evaluation
//===----------------------------------------------------------------------===//

LogicalResult Importer::foldModuleAttributes(jit::Graph &graph,
                                             const c10::IValue &self) {
  // The module object each value refers to, from `self` down.
  std::unordered_map<const jit::Value *, c10::IValue> objects;
  objects[graph.inputs()[0]] = self;
  std::function<LogicalResult(jit::Block *)> walk =
      [&](jit::Block *block) -> LogicalResult {
    for (jit::Node *node : block->nodes()) {
      if (node->kind() == c10::prim::SetAttr && !gradModeOf(node->input(0)))
        return error(node) << "assigning the module attribute '"
                           << node->s(c10::attr::name)
                           << "' in forward is not supported",
               failure();
      if (node->kind() == c10::prim::GetAttr) {
        auto it = objects.find(node->input(0));
        if (it != objects.end() && it->second.isObject()) {
          c10::IValue value =
              it->second.toObject()->getAttr(node->s(c10::attr::name));
          if (value.isObject()) {
            objects[node->output()] = value;
          } else if (!value.isTensor()) {
            // bool, int, float, str, None and tuples or lists of them.
            jit::WithInsertPoint guard(node);
            if (auto c = jit::tryInsertConstant(graph, value))
              node->output()->replaceAllUsesWith(*c);
          }
        }
      }
      for (jit::Block *sub : node->blocks())
        if (failed(walk(sub)))
          return failure();
    }
    return success();
  };
  return walk(graph.block());
}

LogicalResult Importer::importAppend(jit::Node *node) {
  jit::Value *listValue = node->input(0);
  jit::Value *element = node->input(1);
  if (TensorList list = tensorListOf(listValue)) {
    FailureOr<Value> t = tensor(node, element);
    if (failed(t))
      return failure();
    list->push_back(*t);
  } else {
    std::optional<c10::IValue> numbers = constant(listValue);
    if (!numbers || !numbers->isList() ||
        !growableLists.count(numbers->internalToPointer()))
      return error(node) << "'aten::append' onto a list that is not built "
                            "in forward is not supported",
             failure();
    std::optional<c10::IValue> c = constant(element);
    if (!c)
      return error(node) << "'aten::append' of '" << element->debugName()
                         << "', a value known only at run time, onto a list "
                            "of numbers is not supported",
             failure();
    // c10 lists are shared: every value referring to it sees the element.
    numbers->toList().push_back(*c);
  }
  if (node->outputs().size() == 1)
    assign(node->output(), lookup(listValue));
  return success();
}

bool Importer::requiresGrad(Value v) const {
  // As autograd: a trainable parameter does, and what is computed from one,
  // unless detached (nn.detach, also every result under no_grad).
  std::unordered_set<void *> visited;
  SmallVector<Value> work = {v};
  while (!work.empty()) {
    Value current = work.pop_back_val();
    if (!visited.insert(current.getAsOpaquePointer()).second)
      continue;
    if (trainableArguments.count(current.getAsOpaquePointer()))
      return true;
    Operation *op = current.getDefiningOp();
    if (!op || isa<nn::DetachOp>(op))
      continue;
    work.append(op->operand_begin(), op->operand_end());
  }
  return false;
}

bool Importer::keepsDtype(Value v, function_ref<bool(Value)> isSource,
                          bool throughSelections) {
  while (true) {
    if (isSource(v))
      return true;
    Operation *op = v.getDefiningOp();
    if (!op)
      return false;
    // Views, copies (and selections) keep the dtype.
    if (!nn::holdsOperandValues(op, throughSelections))
      return false;
    if (isa<nn::ConcatOp>(op))
      return llvm::all_of(op->getOperands(), [&](Value operand) {
        return keepsDtype(operand, isSource, throughSelections);
      });
    v = op->getOperand(0);
  }
}

bool Importer::isBool(Value v) const {
  return keepsDtype(
      v,
      [&](Value source) {
        return boolTensors.count(source.getAsOpaquePointer()) ||
               isa_and_nonnull<nn::CompareOp>(source.getDefiningOp());
      },
      /*throughSelections=*/false);
}

at::ScalarType Importer::dtypeOf(Value v) const {
  Type element = cast<RankedTensorType>(v.getType()).getElementType();
  return isBool(v)           ? at::kBool
         : isLowPrecision(v) ? *autocastType()
         : element.isF32()   ? at::kFloat
         : element.isF64()   ? at::kDouble
                             : at::kLong;
}

Importer::Binding Importer::lookup(jit::Value *v) {
  Binding binding;
  if (auto it = bufferAliases.find(v); it != bufferAliases.end()) {
    binding.buffer = it->second;
    binding.tensor = namedTensors[it->second];
    return binding;
  }
  if (auto it = values.find(v); it != values.end()) {
    binding.tensor = it->second;
    return binding;
  }
  if (auto it = aggregates.find(v); it != aggregates.end()) {
    binding.aggregate = it->second;
    return binding;
  }
  if (auto it = tensorLists.find(v); it != tensorLists.end()) {
    binding.tensorList = it->second;
    return binding;
  }
  binding.constant = constant(v);
  if (auto it = attributePaths.find(v); it != attributePaths.end())
    binding.path = it->second;
  return binding;
}

void Importer::assign(jit::Value *v, const Binding &binding) {
  values.erase(v);
  bufferAliases.erase(v);
  attributes.erase(v);
  attributePaths.erase(v);
  aggregates.erase(v);
  tensorLists.erase(v);
  if (binding.aggregate)
    aggregates[v] = *binding.aggregate;
  else if (binding.tensorList)
    tensorLists[v] = binding.tensorList;
  else if (!binding.buffer.empty())
    bufferAliases[v] = binding.buffer;
  else if (binding.tensor)
    values[v] = binding.tensor;
  else if (binding.constant)
    attributes[v] = *binding.constant;
  if (!binding.path.empty())
    attributePaths[v] = binding.path;
}

std::optional<std::string> Importer::bufferName(jit::Value *v) const {
  auto it = bufferAliases.find(v);
  if (it == bufferAliases.end())
    return std::nullopt;
  return it->second;
}

void Importer::updateBuffer(const std::string &name, Value newValue,
                            jit::Value *alias) {
  namedTensors[name] = newValue;
  updatedBuffers.insert(name);
  if (alias) {
    values.erase(alias);
    bufferAliases[alias] = name;
  }
}

LogicalResult Importer::importBlock(jit::Block *block) {
  LogicalResult result = success();
  for (jit::Node *node : block->nodes()) {
    jit::Node *enclosing = std::exchange(currentNode, node);
    bool readsFailedValue = llvm::any_of(node->inputs(), [&](jit::Value *v) {
      return failedValues.count(v) != 0;
    });
    if (readsFailedValue) {
      // What it computes is unknown; whether its kind is supported is not.
      // (Ops without tensor operands, such as torch.zeros(sizes), are
      // evaluated at compile time when their operands are known.)
      auto isTensorValue = [](jit::Value *v) {
        return v->type()->kind() == c10::TypeKind::TensorType;
      };
      if (node->kind().is_aten() && !hasImporter(node) &&
          llvm::any_of(node->inputs(), isTensorValue))
        error(node) << "unsupported op '" << node->kind().toQualString() << "'";
    } else {
      mlir::Block *body = builder.getInsertionBlock();
      Operation *last = body->empty() ? nullptr : &body->back();
      if (succeeded(importNode(node)) &&
          succeeded(checkFloatElementTypes(last, body))) {
        if (!isGradEnabled())
          detachOutputs(node);
        currentNode = enclosing;
        continue;
      }
    }
    result = failure();
    for (jit::Value *output : node->outputs())
      failedValues.insert(output);
    currentNode = enclosing;
  }
  return result;
}

LogicalResult Importer::checkFloatElementTypes(Operation *after,
                                               mlir::Block *body) {
  // The nn ops' own check (NNFloat64.cpp), run here so that its error names
  // the node's model line and module, as every import error does. An op
  // without float64 kernels is reported first: the conversions an importer
  // builds around it would otherwise be reported as mixing float32 and
  // float64, which is not what the user has to change.
  auto ops = llvm::make_range(
      after ? std::next(after->getIterator()) : body->begin(), body->end());
  auto check = [&](bool withoutKernelsOnly) {
    LogicalResult result = success();
    for (Operation &op : ops) {
      bool hasKernels = op.hasTrait<nn::HasFloat64Kernels>();
      if (isa<nn::NNDialect>(op.getDialect()) &&
          !(withoutKernelsOnly && hasKernels) &&
          failed(nn::verifyFloatElementTypes(&op, hasKernels)))
        result = failure();
    }
    return result;
  };
  if (failed(check(/*withoutKernelsOnly=*/true)))
    return failure();
  return check(/*withoutKernelsOnly=*/false);
}

bool Importer::hasImporter(jit::Node *node) const {
  static const std::set<c10::Symbol> builtIn = {
      c10::prim::Constant,
      c10::prim::GetAttr,
      c10::prim::If,
      c10::prim::Loop,
      c10::prim::RaiseException,
      c10::prim::Uninitialized,
      c10::aten::warn,
      c10::aten::is_autocast_enabled,
      c10::Symbol::aten("is_grad_enabled"),
      c10::aten::dim,
      c10::prim::dtype,
      c10::prim::device,
      c10::prim::is_cuda,
      c10::Symbol::prim("is_nested"),
      c10::Symbol::aten("numel"),
      c10::aten::__is__,
      c10::aten::__isnot__,
      c10::prim::ListConstruct,
      c10::aten::append,
      c10::aten::is_floating_point,
      c10::prim::requires_grad,
      c10::aten::size,
      c10::prim::unchecked_cast,
      c10::prim::TupleConstruct,
      c10::prim::TupleUnpack,
      c10::prim::TupleIndex,
      c10::prim::DictConstruct,
      c10::prim::CreateObject,
      c10::prim::SetAttr,
      c10::prim::Enter,
      c10::prim::Exit};
  return importers.count(node->kind()) || builtIn.count(node->kind());
}

LogicalResult Importer::importIf(jit::Node *node) {
  std::optional<c10::IValue> condition = constant(node->input(0));
  if (!condition || !condition->isBool())
    return error(node) << "control flow on a value known only at run time "
                          "('prim::If' on '"
                       << node->input(0)->debugName() << "') is not supported",
           failure();
  jit::Block *taken = node->blocks()[condition->toBool() ? 0 : 1];
  if (failed(importBlock(taken)))
    return failure();
  for (size_t i = 0; i < node->outputs().size(); ++i) {
    // A value that failed to import before the branch and is passed
    // through it stays failed (its readers are skipped, not reported).
    if (failedValues.count(taken->outputs()[i]))
      failedValues.insert(node->output(i));
    assign(node->output(i), lookup(taken->outputs()[i]));
  }
  return success();
}

LogicalResult Importer::importLoop(jit::Node *node) {
  // prim::Loop(max_trip_count, initial_condition, carried...) with a body
  // (iteration, carried...) -> (condition, carried...): unrolled.
  constexpr int64_t kMaxIterations = 1 << 16;
  std::optional<c10::IValue> tripCount = constant(node->input(0));
  std::optional<c10::IValue> condition = constant(node->input(1));
  if (!tripCount || !tripCount->isInt() || !condition || !condition->isBool())
    return error(node) << "loops whose trip count or condition is known only "
                          "at run time are not supported",
           failure();
  jit::Block *body = node->blocks()[0];
  std::vector<Binding> carried;
  for (size_t i = 2; i < node->inputs().size(); ++i)
    carried.push_back(lookup(node->input(i)));
  bool running = condition->toBool();
  for (int64_t i = 0; running && i < tripCount->toInt(); ++i) {
    if (i == kMaxIterations)
      return error(node) << "loop runs more than " << kMaxIterations
                         << " iterations",
             failure();
    Binding iteration;
    iteration.constant = c10::IValue(i);
    assign(body->inputs()[0], iteration);
    for (size_t j = 0; j < carried.size(); ++j)
      assign(body->inputs()[j + 1], carried[j]);
    if (failed(importBlock(body)))
      return failure();
    std::optional<c10::IValue> next = constant(body->outputs()[0]);
    if (!next || !next->isBool())
      return error(node) << "loops whose condition is known only at run time "
                            "are not supported",
             failure();
    running = next->toBool();
    for (size_t j = 0; j < carried.size(); ++j)
      carried[j] = lookup(body->outputs()[j + 1]);
  }
  for (size_t j = 0; j < carried.size(); ++j)
    assign(node->output(j), carried[j]);
  return success();
}

/// Whether values of `type` may hold tensors.
static bool mayHoldTensors(const c10::TypePtr &type) {
  if (type->kind() == c10::TypeKind::TensorType ||
      type->kind() == c10::TypeKind::AnyType)
    return true;
  for (const c10::TypePtr &contained : type->containedTypes())
    if (mayHoldTensors(contained))
      return true;
  return false;
}

std::optional<LogicalResult> Importer::evaluate(jit::Node *node) {
  // Scalar and list computations on compile-time values (int arithmetic,
  // comparisons, len, indexing, string formatting for error messages): run
  // the op itself, as TorchScript's constant propagation would.
  if (!node->blocks().empty() || node->hasSideEffects() ||
      !node->maybeOperator())
    return std::nullopt;
  // Tensors computed from compile-time values alone (torch.arange(T),
  // torch.ones(T, T).tril(), a traced model's shape arithmetic on 0-d
  // tensors) are compile-time values too, unless they are random; where a
  // tensor op uses one, Importer::tensor materializes it as nn.constant.
  for (jit::Value *output : node->outputs())
    if (mayHoldTensors(output->type()) && node->isNondeterministic())
      return std::nullopt;
  jit::Stack stack;
  for (jit::Value *input : node->inputs()) {
    if (isTensor(input))
      return std::nullopt;
    std::optional<c10::IValue> c = constant(input);
    if (!c)
      return std::nullopt;
    stack.push_back(*c);
  }
  // An in-place op (`mask[0:3] = 1`: aten::copy_ on a slice) runs on a
  // tensor this import made and has not materialized yet; never on a
  // constant of the graph or a module's tensor, which later reads (another
  // iteration of an unrolled loop) would see changed.
  bool isInPlace = node->maybeSchema() && node->schema().is_mutable() &&
                   !node->inputs().empty() &&
                   node->input(0)->type()->kind() == c10::TypeKind::TensorType;
  if (isInPlace) {
    std::optional<c10::IValue> target = constant(node->input(0));
    const c10::StorageImpl *storage =
        target && target->isTensor()
            ? target->toTensor().storage().unsafeGetStorageImpl()
            : nullptr;
    // A bool buffer written directly was reported at its read (GetAttr).
    if (node->input(0)->node()->kind() == c10::prim::GetAttr)
      return failure();
    if (!storage || !ownedStorages.count(storage))
      return error(node) << "'" << node->kind().toQualString()
                         << "' writes a constant tensor of the model; only "
                            "tensors made in forward may be written",
             failure();
    if (materializedStorages.count(storage))
      return error(node) << "'" << node->kind().toQualString()
                         << "' writes a compile-time tensor after it was "
                            "used by a tensor op (not supported)",
             failure();
  }
  // Vararg operators (aten::format) take their input count last, as the
  // TorchScript interpreter passes it.
  if (node->maybeSchema() && node->schema().is_vararg())
    stack.push_back(c10::IValue(static_cast<int64_t>(node->inputs().size())));
  try {
    node->getOperation()(stack);
  } catch (const c10::Error &e) {
    return error(node) << "'" << node->kind().toQualString()
                       << "' failed: " << firstLine(e.what_without_backtrace()),
           failure();
  }
  if (stack.size() != node->outputs().size())
    return std::nullopt;
  for (size_t i = 0; i < stack.size(); ++i) {
    // A tensor result that is no view of an input is this import's own.
    const std::vector<c10::Argument> &returns = node->schema().returns();
    if (stack[i].isTensor() && !isInPlace && i < returns.size() &&
        !returns[i].alias_info())
      ownedStorages.insert(
          stack[i].toTensor().storage().unsafeGetStorageImpl());
    bindConstant(node, stack[i], i);
  }
  return success();
}

/// LibTorch trusts the files it reads, and a corrupted TorchScript file can
/// crash it (seen: `torch::jit::import_ir_module` on a code member whose
/// names were changed, `findSourceRangeThatGenerated` on a bad `.debug_pkl`
/// member). So the whole import runs first in a forked child: a copy of
/// this process that does exactly what the parent is about to do, so that a
/// crash that depends on the heap's layout (a fresh machine crashed where a
/// partial replay of the import in the child did not) happens there too.
/// If the child dies of a signal, dpc reports the file instead of dying
/// itself. Returns the signal's name, or nullopt when the child survived
/// (or could not be started: then the import goes ahead unprotected).
static std::optional<std::string>
crashesLibTorch(MLIRContext &context, const std::string &path,
                const std::vector<TensorSpec> &inputs,
                const ImportOptions &options) {
  std::fflush(nullptr);
  pid_t child = ::fork();
  if (child < 0)
    return std::nullopt;
  if (child == 0) {
    // Die quietly: no LLVM stack dump from the child.
    for (int signal : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT})
      std::signal(signal, SIG_DFL);
    int devnull = ::open("/dev/null", O_WRONLY);
    if (devnull >= 0) {
      ::dup2(devnull, STDOUT_FILENO);
      ::dup2(devnull, STDERR_FILENO);
    }
    try {
      Importer importer(context, path, options);
      // The parent imports the training forward, then the eval-mode one.
      if (succeeded(importer.run(inputs))) {
        Importer evalImporter(context, path, options);
        (void)evalImporter.run(inputs, /*evalMode=*/true);
      }
    } catch (...) {
      // A clean failure: the parent's import reports it.
    }
    ::_exit(0);
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0)
    if (errno != EINTR)
      return std::nullopt;
  if (!WIFSIGNALED(status))
    return std::nullopt;
  const char *name = ::sigabbrev_np(WTERMSIG(status));
  return name ? "SIG" + std::string(name)
              : "signal " + std::to_string(WTERMSIG(status));
}

FailureOr<ImportedModel>
dpc::importTorchScript(MLIRContext &context, const std::string &path,
                       const std::vector<TensorSpec> &inputs,
                       const ImportOptions &options) {
  context.loadDialect<nn::NNDialect, func::FuncDialect>();
  Location fileLoc = FileLineColLoc::get(&context, path, 0, 0);
  struct stat status;
  if (::stat(path.c_str(), &status) != 0)
    return emitError(fileLoc) << "cannot open model file '" << path
                              << "': " << std::strerror(errno),
           failure();
  // A FIFO would block the reader forever, a device never end.
  if (!S_ISREG(status.st_mode))
    return emitError(fileLoc)
               << "model file '" << path << "' is not a regular file",
           failure();
  // --mode dp imports the same file again: probing it once is enough.
  static std::set<std::string> probed;
  if (status.st_size > 0 && probed.insert(path).second)
    if (std::optional<std::string> signal =
            crashesLibTorch(context, path, inputs, options))
      return emitError(fileLoc) << "cannot load TorchScript module '" << path
                                << "': LibTorch crashed reading it (" << *signal
                                << "); the file is corrupted",
             failure();
  Importer importer(context, path, options);
  return importer.run(inputs);
}

LogicalResult dpc::importEvalForward(MLIRContext &context,
                                     const std::string &path,
                                     const std::vector<TensorSpec> &inputs,
                                     ModuleOp module,
                                     const ImportOptions &options) {
  // The training import has checked the file (and probed it for crashes)
  // and given the model's warnings.
  FailureOr<ImportedModel> eval = [&] {
    ScopedDiagnosticHandler quiet(&context, [](Diagnostic &diag) {
      return success(diag.getSeverity() == DiagnosticSeverity::Warning);
    });
    Importer importer(context, path, options);
    return importer.run(inputs, /*evalMode=*/true);
  }();
  if (failed(eval))
    return failure();
  auto forward = eval->module->lookupSymbol<func::FuncOp>(kForwardFuncName);
  // A traced model keeps the mode it was traced in: dropout traced in
  // training mode stays on after model.eval(), in PyTorch too, so the
  // evaluation step draws masks as PyTorch would. Almost always an
  // oversight worth one line.
  unsigned randomSites = 0;
  forward.walk([&](Operation *op) {
    if (isa<nn::DropoutOp, nn::BernoulliOp>(op))
      ++randomSites;
  });
  if (randomSites)
    emitWarning(UnknownLoc::get(&context))
        << "the evaluation step keeps " << randomSites
        << " dropout site(s) on: the model was traced in training mode, and "
           "a traced model keeps that mode after model.eval() (PyTorch runs "
           "it so too); script the model, or pass --eval-step=false";
  forward->remove();
  forward.setSymName(kEvalForwardFuncName);
  module.push_back(forward);
  return success();
}
