//===- Importer.h - TorchScript graph to nn ops (private) ------*- C++ -*-===//
//
// Private to compiler/Import: includes LibTorch headers, so only the
// exception-enabled DPCTorchImport library may include it. The Importer
// walks an inlined TorchScript graph; each aten op is translated by a
// handler of its op family (Import<Family>Ops.cpp) through the helpers below.
//
//===----------------------------------------------------------------------===//

#ifndef DPC_COMPILER_IMPORT_IMPORTER_H
#define DPC_COMPILER_IMPORT_IMPORTER_H

#include "compiler/Import/TorchImporter.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "llvm/ADT/STLFunctionalExtras.h"

#include <torch/script.h>

#include <functional>
#include <optional>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace dpc {

namespace jit = torch::jit;

class Importer;

/// Translates one node; emits a diagnostic and returns failure on error.
using NodeImporter =
    std::function<mlir::LogicalResult(Importer &, jit::Node *)>;
using NodeImporterTable = std::unordered_map<c10::Symbol, NodeImporter>;

/// Each op family (Import<Family>Ops.cpp) adds the handlers of the aten ops
/// it imports; the elementwise unary ops come from the nn ops' records
/// (their aten names), which is what the context is for.
void registerElementwiseImporters(NodeImporterTable &table,
                                  mlir::MLIRContext &context);
void registerLinalgImporters(NodeImporterTable &table,
                             mlir::MLIRContext &context);
void registerIndexingImporters(NodeImporterTable &table,
                               mlir::MLIRContext &context);
void registerReductionImporters(NodeImporterTable &table,
                                mlir::MLIRContext &context);
void registerNormalizationImporters(NodeImporterTable &table,
                                    mlir::MLIRContext &context);
void registerConvPoolImporters(NodeImporterTable &table,
                               mlir::MLIRContext &context);
void registerShapeImporters(NodeImporterTable &table,
                            mlir::MLIRContext &context);
void registerLossImporters(NodeImporterTable &table,
                           mlir::MLIRContext &context);
void registerRandomImporters(NodeImporterTable &table,
                             mlir::MLIRContext &context);
void registerRecurrentImporters(NodeImporterTable &table,
                                mlir::MLIRContext &context);

class Importer {
public:
  Importer(mlir::MLIRContext &context, const std::string &path,
           const ImportOptions &options = {});

  /// Imports `forward`; with `evalMode`, after `module.eval()` (every
  /// submodule's `training` false), as PyTorch's model.eval() runs it.
  mlir::FailureOr<ImportedModel> run(const std::vector<TensorSpec> &inputs,
                                     bool evalMode = false);

  //===--------------------------------------------------------------------===//
  // Helpers for node importers
  //===--------------------------------------------------------------------===//

  mlir::MLIRContext &getContext() { return context; }
  mlir::OpBuilder &getBuilder() { return builder; }

  /// The source location of `node` (where its op is written: the user's
  /// file, or torch's for the inside of a library module such as LSTM).
  mlir::Location locOf(jit::Node *node);
  /// Starts an error at `node`'s location.
  mlir::InFlightDiagnostic error(jit::Node *node) {
    return mlir::emitError(locOf(node));
  }

  /// The MLIR value of a tensor-typed input `v` of `node`; an error when `v`
  /// is not a tensor that has been imported. The *Arg forms take the input's
  /// index.
  mlir::FailureOr<mlir::Value> tensor(jit::Node *node, jit::Value *v);
  mlir::FailureOr<mlir::Value> tensorArg(jit::Node *node, size_t input) {
    return tensor(node, node->input(input));
  }
  bool isTensor(jit::Value *v) const {
    return values.count(v) != 0 || bufferAliases.count(v) != 0;
  }
  static bool isNone(jit::Value *v) {
    return v->type()->kind() == c10::TypeKind::NoneType;
  }

  /// The compile-time value of a constant or module-attribute input.
  std::optional<c10::IValue> constant(jit::Value *v);
  /// The MLIR value of the parameter that tensor object `t` is (an element
  /// of a module's list attribute, such as an RNN's _flat_weights); an error
  /// at `node` when it is not one of the model's parameters.
  mlir::FailureOr<mlir::Value> parameterOf(jit::Node *node,
                                           const at::Tensor &t);
  /// A constant number (int, float or bool) input of `node`.
  mlir::FailureOr<double> scalar(jit::Node *node, jit::Value *v);
  mlir::FailureOr<double> scalarArg(jit::Node *node, size_t input) {
    return scalar(node, node->input(input));
  }

  /// A constant int or list of ints input of `node` (shapes, dims,
  /// strides; a single int becomes a one-element list).
  mlir::FailureOr<llvm::SmallVector<int64_t>> intList(jit::Node *node,
                                                      jit::Value *v);
  mlir::FailureOr<llvm::SmallVector<int64_t>> intListArg(jit::Node *node,
                                                         size_t input) {
    return intList(node, node->input(input));
  }

  /// Binds `node`'s output `index` to `v`; propagates failure.
  mlir::LogicalResult bind(jit::Node *node, mlir::FailureOr<mlir::Value> v,
                           size_t index = 0);
  /// Records a compile-time value for `node`'s output (e.g. a shape list).
  void bindConstant(jit::Node *node, c10::IValue value, size_t index = 0) {
    attributes[node->output(index)] = std::move(value);
  }
  /// Binds a tensor made at compile time that no other value shares
  /// (zeros_like, x.new_zeros): in-place ops on it, or on views of it, are
  /// evaluated too (Swin's attention mask: `mask[h0:h1, w0:w1] = count` on
  /// x.new_zeros), as long as no nn.constant has been made of it yet.
  void bindNewTensor(jit::Node *node, const at::Tensor &value,
                     size_t index = 0) {
    ownedStorages.insert(value.storage().unsafeGetStorageImpl());
    bindConstant(node, c10::IValue(value), index);
  }

  /// A list of tensors built in forward: the pieces of split/chunk/unbind, a
  /// list literal, a list grown by append. Its elements are known at
  /// compile time (loops are unrolled), so a list is a vector of values,
  /// shared by every TorchScript value that refers to it (append mutates it
  /// in place, as in TorchScript).
  using TensorList = std::shared_ptr<std::vector<mlir::Value>>;
  void bindTensorList(jit::Node *node, std::vector<mlir::Value> tensors,
                      size_t index = 0) {
    tensorLists[node->output(index)] =
        std::make_shared<std::vector<mlir::Value>>(std::move(tensors));
  }
  /// The list of tensors `v` refers to, or null.
  TensorList tensorListOf(jit::Value *v) const {
    auto it = tensorLists.find(v);
    return it == tensorLists.end() ? nullptr : it->second;
  }

  /// torch.bool tensors are f32 masks of 0 and 1 in nn (see nn.compare), so
  /// their dtype is tracked here: what x.dtype reads, and what
  /// MultiheadAttention's `attn_mask.dtype == torch.bool` decides on. A
  /// value is bool when it was marked (a bool buffer, a bool constant) or
  /// made by nn.compare, or is a view or copy of a bool value.
  void markBool(mlir::Value v) { boolTensors.insert(v.getAsOpaquePointer()); }
  bool isBool(mlir::Value v) const;
  /// Whether `v` is a value `isSource` accepts, or a view, copy or
  /// concatenation of such values (with `throughSelections`, also relu and
  /// max-pool of one): how the dtypes that nn's f32 tensors stand for (bool
  /// masks, bfloat16 values) follow the ops.
  static bool keepsDtype(mlir::Value v,
                         llvm::function_ref<bool(mlir::Value)> isSource,
                         bool throughSelections);
  /// --precision bf16|fp16: the autocast's 16-bit type (at::kBFloat16 or
  /// at::kHalf), none without autocast.
  std::optional<at::ScalarType> autocastType() const;
  /// --precision bf16|fp16: whether `v` holds a tensor of the autocast's
  /// 16-bit type (made by nn.round_bf16 / nn.round_f16, or a view or
  /// selection of one; Autocast.cpp).
  bool isLowPrecision(mlir::Value v) const;
  /// `v` rounded to the autocast's 16-bit type (nn.round_bf16 or
  /// nn.round_f16); only under autocast.
  mlir::Value roundToLowPrecision(mlir::Location loc, mlir::Value v);
  /// The dtype `v` has as PyTorch sees it (what `x.dtype` reads): bool masks
  /// and the autocast's 16-bit values are f32 tensors in nn.
  at::ScalarType dtypeOf(mlir::Value v) const;
  /// What `x.requires_grad` reads: whether `v` depends on a trainable
  /// parameter through ops that record gradients.
  bool requiresGrad(mlir::Value v) const;

  /// Creates `OpTy` after checking the operands with its type inference, so
  /// a shape mismatch is a diagnostic at `loc`, not a crash.
  template <typename OpTy>
  mlir::FailureOr<OpTy>
  createOp(mlir::Location loc, mlir::ValueRange operands,
           llvm::ArrayRef<mlir::NamedAttribute> attrs = {}) {
    llvm::SmallVector<mlir::Type> types;
    if (mlir::failed(OpTy::inferReturnTypes(
            &context, loc, operands, builder.getDictionaryAttr(attrs),
            mlir::OpaqueProperties(nullptr), mlir::RegionRange(), types)))
      return mlir::failure();
    return builder.create<OpTy>(loc, types, operands, attrs);
  }
  /// createOp, for ops with one result (or whose first result is wanted).
  template <typename OpTy>
  mlir::FailureOr<mlir::Value>
  create(mlir::Location loc, mlir::ValueRange operands,
         llvm::ArrayRef<mlir::NamedAttribute> attrs = {}) {
    auto op = createOp<OpTy>(loc, operands, attrs);
    if (mlir::failed(op))
      return mlir::failure();
    return (*op)->getResult(0);
  }

  /// Buffers updated in place (BatchNorm's running statistics,
  /// num_batches_tracked) are functionalized: the importer keeps the current
  /// value of every buffer, reads of the buffer see it, and the forward
  /// returns the final value of each updated buffer after its output.
  ///
  /// The state_dict name of the buffer that `v` refers to (a prim::GetAttr
  /// of a buffer, or the result of an in-place update of one), if any.
  std::optional<std::string> bufferName(jit::Value *v) const;
  /// Records `newValue` as the value of buffer `name` from now on; `alias`,
  /// when given, refers to the buffer too (the result of an in-place op).
  void updateBuffer(const std::string &name, mlir::Value newValue,
                    jit::Value *alias = nullptr);

  /// Whether gradients are recorded for what is imported now: false inside
  /// a scripted `with torch.no_grad():` (see importContextManager).
  bool isGradEnabled() const { return gradModes.empty() || gradModes.back(); }

private:
  /// Checks the float element types of the nn ops imported after `after`
  /// (null: from the start of `body`): float64 only in ops with float64
  /// kernels, no float32 and float64 together.
  mlir::LogicalResult checkFloatElementTypes(mlir::Operation *after,
                                             mlir::Block *body);

  /// A tuple, NamedTuple or dict built in forward (prim::TupleConstruct,
  /// prim::DictConstruct): its elements, read by TupleUnpack, TupleIndex,
  /// a dict's __getitem__, or as the forward's output. `keys` are the
  /// NamedTuple's fields or the dict's keys (empty for a plain tuple).
  struct Aggregate {
    bool isDict = false;
    std::vector<std::string> keys;
    std::vector<jit::Value *> elements;
  };
  /// What a TorchScript value is bound to during import: an MLIR tensor, a
  /// buffer (by name), or a compile-time value (with its attribute path when
  /// it is a module).
  struct Binding {
    mlir::Value tensor;
    std::string buffer;
    std::optional<c10::IValue> constant;
    std::string path;
    std::optional<Aggregate> aggregate;
    TensorList tensorList;
  };
  Binding lookup(jit::Value *v);
  void assign(jit::Value *v, const Binding &binding);

  mlir::LogicalResult collectTensors(jit::Module &module);
  mlir::LogicalResult foldModuleAttributes(jit::Graph &graph,
                                           const c10::IValue &self);
  /// Imports every node of `block`. A node that fails is reported and its
  /// results are marked failed, and the import goes on, so that one run
  /// lists every unsupported op of the model; a node reading a failed value
  /// is skipped, and reported only if it is unsupported in itself.
  mlir::LogicalResult importBlock(jit::Block *block);
  /// Whether some importer or built-in case handles nodes of `node`'s kind.
  bool hasImporter(jit::Node *node) const;
  mlir::LogicalResult importNode(jit::Node *node);
  /// Runs `importer` on `node`; with --precision bf16, under torch.autocast's
  /// bfloat16 policy for the node's aten operator (Autocast.cpp).
  mlir::LogicalResult importUnderAutocast(jit::Node *node,
                                          const NodeImporter &importer);
  mlir::LogicalResult importIf(jit::Node *node);
  mlir::LogicalResult importLoop(jit::Node *node);
  /// Tuples and dicts: construction, unpacking and indexing.
  mlir::LogicalResult importAggregate(jit::Node *node);
  /// prim::Enter / prim::Exit of `with torch.no_grad():` and
  /// `torch.enable_grad()`.
  mlir::LogicalResult importContextManager(jit::Node *node);
  /// Under no_grad: gives `node`'s float tensor results a nn.detach.
  void detachOutputs(jit::Node *node);
  /// The forward's output: `output` itself, or the element of the tuple or
  /// dict it is that ImportOptions::lossOutput selects.
  mlir::FailureOr<mlir::Value> selectOutput(jit::Value *output);
  /// Replaces the forward's trailing arguments that no --input gives by
  /// their defaults (before constant propagation, so that `if mask is
  /// None:` folds); an error when one has none.
  mlir::LogicalResult bindDefaultArguments(jit::Graph &graph,
                                           const c10::FunctionSchema &schema,
                                           size_t givenInputs);
  std::optional<mlir::LogicalResult> evaluate(jit::Node *node);

  /// Where a node comes from, for errors: the module that owns it (path in
  /// the module tree, e.g. "blocks.0.attn", and class, e.g.
  /// "MultiheadAttention"; empty at the top level) and the model's own
  /// source line (for a node inside torch's library code, the line of the
  /// model that calls into it).
  struct NodeOrigin {
    std::string modulePath;
    std::string moduleType;
    mlir::Location loc;
  };
  NodeOrigin originOf(jit::Node *node);
  /// The path from `module` to its submodule called `name` (of class
  /// `type`) in a call stack, and `module` set to that submodule.
  std::string childPath(c10::IValue &module, const std::string &name,
                        const c10::ClassTypePtr &type);
  /// The model itself (the root of the module paths).
  c10::IValue rootModule;
  /// Errors of the import, reported together at its end: by the model's
  /// source line and message, with the module paths that reached them.
  struct ImportError {
    mlir::Location loc;
    std::string moduleType;
    std::string message;
    llvm::SmallVector<std::string> modulePaths;
  };
  void reportImportErrors(llvm::ArrayRef<ImportError> errors);

  mlir::MLIRContext &context;
  mlir::OpBuilder builder;
  std::string path;
  ImportOptions options;
  mlir::Location fileLoc;
  ImportedModel result;
  NodeImporterTable importers;
  std::unordered_map<std::string, mlir::Value> namedTensors;
  /// The state_dict name of each parameter and buffer tensor object (its
  /// first name, for a tied one).
  std::unordered_map<const c10::TensorImpl *, std::string> tensorNames;
  std::unordered_map<const jit::Value *, mlir::Value> values;
  std::unordered_map<const jit::Value *, c10::IValue> attributes;
  /// The storages of the compile-time tensors that in-place ops may write
  /// (see bindNewTensor), and of those materialized as nn.constant (which
  /// may not be written any more: the nn.constant holds the old value).
  std::unordered_set<const c10::StorageImpl *> ownedStorages;
  std::unordered_set<const c10::StorageImpl *> materializedStorages;
  std::unordered_map<const jit::Value *, std::string> attributePaths;
  std::unordered_map<const jit::Value *, Aggregate> aggregates;
  std::unordered_map<const jit::Value *, TensorList> tensorLists;
  /// Lists of numbers made by prim::ListConstruct in this import, which
  /// aten::append may grow (by their c10 list's address); never a list
  /// of the graph's constants.
  std::unordered_set<const void *> growableLists;
  std::unordered_set<const void *> boolTensors;
  std::unordered_set<const void *> trainableArguments;
  /// aten::append: a tensor onto a list of tensors, a compile-time value
  /// onto a list of them.
  mlir::LogicalResult importAppend(jit::Node *node);
  /// The grad modes of the enclosing `with` blocks (false: no_grad),
  /// innermost last.
  std::vector<bool> gradModes;
  /// Values that refer to a buffer (by state_dict name); the buffer's
  /// current value is namedTensors[name].
  std::unordered_map<const jit::Value *, std::string> bufferAliases;
  std::set<std::string> updatedBuffers;
  /// The node being imported (errors are attributed to it), and the values
  /// of nodes that failed to import.
  jit::Node *currentNode = nullptr;
  std::unordered_set<const jit::Value *> failedValues;
  /// (alias, name) pairs of tensors that are reachable under two state_dict
  /// names (tied weights); the alias reads the named tensor's argument.
  std::vector<std::pair<std::string, std::string>> tiedTensors;
};

} // namespace dpc

#endif // DPC_COMPILER_IMPORT_IMPORTER_H
