//===- LowerToLLVM.cpp - Training step to runtime calls -------------------===//
//
// After memory planning every tensor of the step is a pointer: arguments come
// from the slot array the runtime passes in, intermediates are arena offsets,
// in-place results reuse their operand's pointer. Each op then becomes calls
// of dpcrt_* kernels (runtime/include/dpc/abi.h), emitted by the lowering its
// op family registered (Lower<Family>Ops.cpp, populate<Family>Lowerings). The
// result is a plain LLVM-dialect function with the ABI's signature,
//   void dpc_model_train_step(dpcrt_context *ctx, void *const *slots),
// that knows nothing about the backend: the context decides where kernels
// run.
//
//===----------------------------------------------------------------------===//

#include "compiler/Conversion/NNToRuntime/LowerReplicaStages.h"
#include "compiler/Conversion/NNToRuntime/RuntimeCallBuilder.h"
#include "compiler/Conversion/Passes.h"
#include "compiler/TrainStep/TrainStep.h"
#include "runtime/include/dpc/abi.h"

#include <type_traits>

namespace dpc {
#define GEN_PASS_DEF_LOWERTOLLVM
#include "compiler/Conversion/Passes.h.inc"
} // namespace dpc

using namespace mlir;
using namespace dpc;

//===----------------------------------------------------------------------===//
// RuntimeCallBuilder
//===----------------------------------------------------------------------===//

RuntimeCallBuilder::RuntimeCallBuilder(ModuleOp module, Value ctx,
                                       OpBuilder &builder,
                                       StringRef symbolPrefix)
    : module(module), ctx(ctx), b(builder),
      pointerType(LLVM::LLVMPointerType::get(module.getContext())),
      loc(module.getLoc()), symbolPrefix(symbolPrefix) {}

Value RuntimeCallBuilder::i64(int64_t v) {
  return b.create<LLVM::ConstantOp>(loc, b.getI64Type(),
                                    b.getI64IntegerAttr(v));
}
Value RuntimeCallBuilder::i32(int32_t v) {
  return b.create<LLVM::ConstantOp>(loc, b.getI32Type(),
                                    b.getI32IntegerAttr(v));
}
Value RuntimeCallBuilder::f32(float v) {
  return b.create<LLVM::ConstantOp>(loc, b.getF32Type(), b.getF32FloatAttr(v));
}
Value RuntimeCallBuilder::f64(double v) {
  return b.create<LLVM::ConstantOp>(loc, b.getF64Type(), b.getF64FloatAttr(v));
}
Value RuntimeCallBuilder::nullPtr() {
  return b.create<LLVM::ZeroOp>(loc, pointerType);
}

Value RuntimeCallBuilder::offsetPtr(Value base, int64_t bytes) {
  return b.create<LLVM::GEPOp>(loc, pointerType, b.getI8Type(), base,
                               ValueRange{i64(bytes)});
}

Value RuntimeCallBuilder::constantArray(ArrayRef<int64_t> values) {
  std::string name = symbolPrefix + std::to_string(numConstantArrays++);
  auto type = LLVM::LLVMArrayType::get(b.getI64Type(), values.size());
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(module.getBody());
    b.create<LLVM::GlobalOp>(loc, type, /*isConstant=*/true,
                             LLVM::Linkage::Internal, name,
                             b.getI64TensorAttr(values));
  }
  return b.create<LLVM::AddressOfOp>(loc, pointerType, name);
}

namespace {

/// The LLVM type of a C type that kernels.def uses.
template <typename T> Type llvmTypeOf(MLIRContext *context) {
  if constexpr (std::is_void_v<T>)
    return LLVM::LLVMVoidType::get(context);
  else if constexpr (std::is_pointer_v<T>)
    return LLVM::LLVMPointerType::get(context);
  else if constexpr (std::is_same_v<T, int64_t>)
    return IntegerType::get(context, 64);
  else if constexpr (std::is_same_v<T, int32_t>)
    return IntegerType::get(context, 32);
  else if constexpr (std::is_same_v<T, float>)
    return Float32Type::get(context);
  else if constexpr (std::is_same_v<T, double>)
    return Float64Type::get(context);
  else
    static_assert(!sizeof(T), "kernels.def uses a C type without an LLVM type");
}

template <typename Signature> struct LLVMFunctionTypeOf;
template <typename Result, typename... Params>
struct LLVMFunctionTypeOf<Result(Params...)> {
  static LLVM::LLVMFunctionType get(MLIRContext *context) {
    return LLVM::LLVMFunctionType::get(llvmTypeOf<Result>(context),
                                       {llvmTypeOf<Params>(context)...});
  }
};

/// A dpcrt_* function of the runtime as kernels.def declares it.
struct RuntimeFunction {
  const char *name;
  /// The C prototype, for messages.
  const char *prototype;
  LLVM::LLVMFunctionType (*type)(MLIRContext *);
};

const RuntimeFunction kRuntimeFunctions[] = {
#define DPC_KERNEL(name, return_type, parameters, names)                       \
  {"dpcrt_" #name, #return_type " dpcrt_" #name #parameters,                   \
   &LLVMFunctionTypeOf<return_type parameters>::get},
#define DPC_RUNTIME_FUNCTION(name, return_type, parameters, names)             \
  DPC_KERNEL(name, return_type, parameters, names)
#include "runtime/include/dpc/kernels.def"
};

const RuntimeFunction *lookupRuntimeFunction(StringRef name) {
  for (const RuntimeFunction &function : kRuntimeFunctions)
    if (name == function.name)
      return &function;
  return nullptr;
}

} // namespace

Value RuntimeCallBuilder::call(StringRef name, ValueRange args,
                               Type resultType) {
  SmallVector<Value> operands = {ctx};
  operands.append(args.begin(), args.end());
  // Every call is checked against the runtime's declaration: a mismatch is
  // a bug of the lowering, reported at the op being lowered.
  const RuntimeFunction *function = lookupRuntimeFunction(name);
  if (!function) {
    emitError(loc) << "dpc internal error: '" << name
                   << "' is not a runtime function of kernels.def";
    callFailed = true;
    return resultType ? b.create<LLVM::PoisonOp>(loc, resultType).getResult()
                      : Value();
  }
  LLVM::LLVMFunctionType fnType = function->type(b.getContext());
  Type declaredResult = fnType.getReturnType();
  bool returnsValue = !isa<LLVM::LLVMVoidType>(declaredResult);
  if (!llvm::equal(ValueRange(operands).getTypes(), fnType.getParams()) ||
      (resultType && resultType != declaredResult)) {
    std::string passed;
    llvm::raw_string_ostream os(passed);
    os << "(";
    llvm::interleaveComma(ValueRange(operands).getTypes(), os);
    os << ")";
    if (resultType)
      os << " -> " << resultType;
    os << " does not match kernels.def: " << function->prototype << ", i.e. "
       << fnType;
    emitError(loc) << "dpc internal error: call of " << name << " with "
                   << passed;
    callFailed = true;
    return resultType ? b.create<LLVM::PoisonOp>(loc, resultType).getResult()
                      : Value();
  }
  auto callee = module.lookupSymbol<LLVM::LLVMFuncOp>(name);
  if (!callee) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToEnd(module.getBody());
    callee = b.create<LLVM::LLVMFuncOp>(loc, name, fnType);
  }
  auto callOp = b.create<LLVM::CallOp>(loc, callee, operands);
  return returnsValue ? callOp.getResult() : Value();
}

const OpLowering *RuntimeLowerings::lookup(Operation *op) const {
  OperationName name = op->getName();
  auto own = opLowerings.find(name.getTypeID());
  if (own != opLowerings.end())
    return &own->second;
  for (const auto &[interface, lowering] : interfaceLowerings)
    if (name.hasInterface(interface))
      return &lowering;
  return nullptr;
}

int64_t dpc::getNumElements(Value v) {
  return cast<RankedTensorType>(v.getType()).getNumElements();
}

ArrayRef<int64_t> dpc::getShape(Value v) {
  return cast<RankedTensorType>(v.getType()).getShape();
}

bool dpc::isBFloat16(Value v) {
  return cast<RankedTensorType>(v.getType()).getElementType().isBF16();
}

bool dpc::isFloat64(Value v) {
  return cast<RankedTensorType>(v.getType()).getElementType().isF64();
}

std::string dpc::floatKernel(StringRef name, Value like) {
  return (name + (isFloat64(like) ? "_f64" : "_f32")).str();
}

Value RuntimeCallBuilder::floatArg(Value like, double v) {
  return isFloat64(like) ? f64(v) : f32(static_cast<float>(v));
}

Value RuntimeCallBuilder::floatArg(Value like, const llvm::APFloat &v) {
  return floatArg(like, FloatAttr::getValueAsDouble(v));
}

SmallVector<int64_t> dpc::getBroadcastStrides(ArrayRef<int64_t> shape,
                                              ArrayRef<int64_t> target) {
  size_t rank = target.size(), lead = rank - shape.size();
  SmallVector<int64_t> strides(rank, 0);
  int64_t stride = 1;
  for (size_t i = rank; i-- > lead;) {
    int64_t dim = shape[i - lead];
    strides[i] = (dim == 1 && target[i] != 1) ? 0 : stride;
    stride *= dim;
  }
  return strides;
}

int64_t dpc::getPlannedOffset(Value v) {
  auto result = dyn_cast<OpResult>(v);
  if (!result)
    return -1;
  auto offsets =
      result.getOwner()->getAttrOfType<DenseI64ArrayAttr>(kOffsetAttr);
  return offsets ? offsets[result.getResultNumber()] : -1;
}

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

namespace {

/// Loads the pointer in slot `index` of `slots`. Slots are one per
/// argument of @train_step plus two (StepSlots), so the index fits a
/// GEPArg's int32.
Value loadSlot(OpBuilder &b, Location loc, Value slots, int64_t index) {
  Type ptrType = LLVM::LLVMPointerType::get(b.getContext());
  Value addr = b.create<LLVM::GEPOp>(
      loc, ptrType, ptrType, slots,
      ArrayRef<LLVM::GEPArg>{static_cast<int32_t>(index)});
  return b.create<LLVM::LoadOp>(loc, ptrType, addr);
}

/// The lowerings of all op families.
RuntimeLowerings getRuntimeLowerings() {
  RuntimeLowerings lowerings;
  populateElementwiseLowerings(lowerings);
  populateLinalgLowerings(lowerings);
  populateIndexingLowerings(lowerings);
  populateReductionLowerings(lowerings);
  populateNormalizationLowerings(lowerings);
  populateConvPoolLowerings(lowerings);
  populateShapeLowerings(lowerings);
  populateLossLowerings(lowerings);
  populateRandomLowerings(lowerings);
  populateOptimizerLowerings(lowerings);
  populateCollectiveLowerings(lowerings);
  return lowerings;
}

LogicalResult lowerOp(const RuntimeLowerings &lowerings, RuntimeCallBuilder &rt,
                      Operation *op) {
  if (const OpLowering *lowering = lowerings.lookup(op))
    return (*lowering)(rt, op);
  return op->emitError() << "cannot lower '" << op->getName()
                         << "' to runtime calls";
}

/// Lowers the planned step `func` (@train_step or @eval_step) into `step`.
/// `symbolPrefix` names its module-level constants.
LogicalResult lowerStep(ModuleOp module, func::FuncOp func, bool traceOps,
                        LLVM::LLVMFuncOp step, StringRef symbolPrefix) {
  OpBuilder b(module.getContext());
  Block *entry = step.addEntryBlock(b);
  b.setInsertionPointToStart(entry);
  Value ctx = entry->getArgument(0), slots = entry->getArgument(1);
  RuntimeCallBuilder rt(module, ctx, b, symbolPrefix);
  RuntimeLowerings lowerings = getRuntimeLowerings();
  Location loc = func.getLoc();

  StepSlots layout(func);
  for (BlockArgument arg : func.getArguments())
    rt.setPtr(arg,
              loadSlot(b, loc, slots, layout.argument(arg.getArgNumber())));
  Value lossSlot = loadSlot(b, loc, slots, layout.loss());
  Value arena = loadSlot(b, loc, slots, layout.arena());

  // Each op is announced to the runtime by its index in the step (the
  // manifest's "schedule" names it), which is how `dpc-run --trace` times
  // the compute stream; without tracing this is one predictable branch.
  // --mode dp: the concurrent stages' calls go to per-replica functions.
  ReplicaStageOutliner replicaStages(module, step, rt);
  Block &body = func.getBody().front();
  for (auto [index, op] : llvm::enumerate(getScheduledOps(func))) {
    if (failed(replicaStages.enter(&op)))
      return failure();
    rt.setLoc(op.getLoc());
    if (traceOps)
      rt.call("dpcrt_trace_op", {rt.i32(index)});
    auto offsets = op.getAttrOfType<DenseI64ArrayAttr>(kOffsetAttr);
    if (!offsets && op.getNumResults() > 0)
      return op.emitError("has no memory plan; run dpc-plan-memory first");
    for (Value result : op.getResults())
      if (int64_t offset = getPlannedOffset(result); offset >= 0)
        rt.setPtr(result, rt.offsetPtr(arena, offset));
    if (failed(replicaStages.lower(
            &op, [&, o = &op] { return lowerOp(lowerings, rt, o); })))
      return failure();
    if (rt.hasFailedCall())
      return failure();
  }
  if (failed(replicaStages.enter(nullptr)))
    return failure();
  if (traceOps)
    rt.call("dpcrt_trace_op", {rt.i32(-1)}); // the end of the last op

  // The loss and the outputs are copied to their slots; every other result
  // must have been updated in place in the slot of the argument of the same
  // kind and name.
  auto ret = cast<func::ReturnOp>(body.getTerminator());
  rt.setLoc(ret.getLoc());
  llvm::StringMap<Value> argPointers;
  for (BlockArgument arg : func.getArguments())
    argPointers[(getArgKind(func, arg.getArgNumber()) + "/" +
                 getArgName(func, arg.getArgNumber()))
                    .str()] = rt.ptr(arg);
  unsigned numOutputs = 0;
  for (auto [i, value] : llvm::enumerate(ret.getOperands())) {
    StringRef kind = getResultKind(func, i);
    if (kind == kind::kLoss) {
      rt.call("dpcrt_copy", {lossSlot, rt.ptr(value),
                             rt.i64(getTensorBytes(value.getType()))});
      continue;
    }
    if (kind == kind::kOutput) {
      Value outputSlot = loadSlot(b, loc, slots, layout.output(numOutputs++));
      rt.call("dpcrt_copy", {outputSlot, rt.ptr(value),
                             rt.i64(getTensorBytes(value.getType()))});
      continue;
    }
    Value expected =
        argPointers.lookup((kind + "/" + getResultName(func, i)).str());
    if (!expected || expected != rt.ptr(value))
      return ret.emitError()
             << "result " << i << " ('" << getResultName(func, i)
             << "') is not an in-place update of an argument";
  }
  b.create<LLVM::ReturnOp>(ret.getLoc(), ValueRange());
  return failure(rt.hasFailedCall());
}

struct LowerToLLVMPass : public dpc::impl::LowerToLLVMBase<LowerToLLVMPass> {
  using LowerToLLVMBase::LowerToLLVMBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    func::FuncOp func = lookupFunction(module, kTrainStepFuncName);
    if (!func)
      return signalPassFailure();
    if (!func->hasAttr(kArenaBytesAttr)) {
      func.emitError("has no memory plan; run dpc-plan-memory first");
      return signalPassFailure();
    }
    OpBuilder b(module.getContext());
    b.setInsertionPointToEnd(module.getBody());
    Type ptrType = LLVM::LLVMPointerType::get(module.getContext());
    auto stepType = LLVM::LLVMFunctionType::get(
        LLVM::LLVMVoidType::get(module.getContext()), {ptrType, ptrType});
    auto step = b.create<LLVM::LLVMFuncOp>(
        func.getLoc(), DPC_MODEL_TRAIN_STEP_SYMBOL, stepType);
    if (failed(lowerStep(module, func, traceOps, step, "__dpc_dims_")))
      return signalPassFailure();
    func.erase();

    // The evaluation step, with slots of its own (the runtime passes it the
    // training step's parameters and buffers). Not traced: the trace's
    // event names are the training step's schedule.
    if (auto eval = module.lookupSymbol<func::FuncOp>(kEvalStepFuncName)) {
      if (!eval->hasAttr(kArenaBytesAttr)) {
        eval.emitError("has no memory plan; run dpc-plan-memory first");
        return signalPassFailure();
      }
      auto evalStep = b.create<LLVM::LLVMFuncOp>(
          eval.getLoc(), DPC_MODEL_EVAL_STEP_SYMBOL, stepType);
      if (failed(lowerStep(module, eval, /*traceOps=*/false, evalStep,
                           "__dpc_eval_dims_")))
        return signalPassFailure();
      eval.erase();
    }
  }
};

} // namespace
