//===- LowerToLLVM.cpp - Training step to runtime calls -------------------===//
//
// After memory planning every tensor of the step is a pointer: arguments come
// from the slot array the runtime passes in, intermediates are arena offsets,
// in-place results reuse their operand's pointer. Each op then becomes one
// call of a dpcrt_* kernel (runtime/include/dpc/abi.h). The result is a
// plain LLVM-dialect function with the ABI's signature,
//   void dpc_model_train_step(dpcrt_context *ctx, void *const *slots),
// that knows nothing about the backend: the context decides where kernels
// run.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/TrainStep.h"

#include "runtime/include/dpc/abi.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/TypeSwitch.h"

namespace dpc {
#define GEN_PASS_DEF_LOWERTOLLVM
#include "passes/Passes.h.inc"
} // namespace dpc

using namespace mlir;
using namespace dpc;

namespace {

/// Emits the body of dpc_model_train_step, one op at a time.
class StepLowering {
public:
  StepLowering(ModuleOp module, func::FuncOp func, LLVM::LLVMFuncOp step)
      : module(module), func(func), b(module.getContext()),
        ptrType(LLVM::LLVMPointerType::get(module.getContext())) {
    Block *entry = step.addEntryBlock(b);
    b.setInsertionPointToStart(entry);
    ctx = entry->getArgument(0);
    slots = entry->getArgument(1);
  }

  LogicalResult run(int64_t arenaBytes);

private:
  Value i64(int64_t v) {
    return b.create<LLVM::ConstantOp>(loc, b.getI64Type(), b.getI64IntegerAttr(v));
  }
  Value i32(int32_t v) {
    return b.create<LLVM::ConstantOp>(loc, b.getI32Type(), b.getI32IntegerAttr(v));
  }
  Value f32(float v) {
    return b.create<LLVM::ConstantOp>(loc, b.getF32Type(), b.getF32FloatAttr(v));
  }
  Value f32(const llvm::APFloat &v) { return f32(v.convertToFloat()); }
  Value nullPtr() { return b.create<LLVM::ZeroOp>(loc, ptrType); }

  /// Loads the pointer in slot `index`.
  Value slot(int64_t index) {
    Value addr = b.create<LLVM::GEPOp>(loc, ptrType, ptrType, slots,
                                       ArrayRef<LLVM::GEPArg>{index});
    return b.create<LLVM::LoadOp>(loc, ptrType, addr);
  }

  /// A constant i64 array in the module, for shapes and strides.
  Value constantArray(ArrayRef<int64_t> values);

  /// Calls the runtime kernel `name` with `ctx` followed by `args`.
  Value call(StringRef name, ValueRange args, Type resultType = {});

  /// The pointer of `v` (which must have been lowered already).
  Value ptr(Value v) { return pointers.lookup(v); }

  LogicalResult lowerOp(Operation *op);

  ModuleOp module;
  func::FuncOp func;
  OpBuilder b;
  Type ptrType;
  Location loc = UnknownLoc::get(module.getContext());
  Value ctx, slots, arena;
  llvm::DenseMap<Value, Value> pointers;
  llvm::DenseMap<Value, Value> handles; // dp.token -> i64 handle
  unsigned numConstantArrays = 0;
};

Value StepLowering::constantArray(ArrayRef<int64_t> values) {
  std::string name = "__dpc_dims_" + std::to_string(numConstantArrays++);
  auto type = LLVM::LLVMArrayType::get(b.getI64Type(), values.size());
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(module.getBody());
    b.create<LLVM::GlobalOp>(loc, type, /*isConstant=*/true,
                             LLVM::Linkage::Internal, name,
                             b.getI64TensorAttr(values));
  }
  return b.create<LLVM::AddressOfOp>(loc, ptrType, name);
}

Value StepLowering::call(StringRef name, ValueRange args, Type resultType) {
  SmallVector<Value> operands = {ctx};
  operands.append(args.begin(), args.end());
  auto callee = module.lookupSymbol<LLVM::LLVMFuncOp>(name);
  if (!callee) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToEnd(module.getBody());
    Type result = resultType ? resultType : LLVM::LLVMVoidType::get(b.getContext());
    auto fnType = LLVM::LLVMFunctionType::get(
        result, llvm::to_vector(ValueRange(operands).getTypes()));
    callee = b.create<LLVM::LLVMFuncOp>(loc, name, fnType);
  }
  auto callOp = b.create<LLVM::CallOp>(loc, callee, operands);
  return resultType ? callOp.getResult() : Value();
}

int64_t numElements(Value v) {
  return cast<RankedTensorType>(v.getType()).getNumElements();
}
ArrayRef<int64_t> shapeOf(Value v) {
  return cast<RankedTensorType>(v.getType()).getShape();
}

/// Row-major strides of `shape` right-aligned to `rank`, 0 along
/// broadcast dimensions of `target`.
SmallVector<int64_t> broadcastStrides(ArrayRef<int64_t> shape,
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

LogicalResult StepLowering::run(int64_t arenaBytes) {
  unsigned numArgs = func.getNumArguments();
  for (BlockArgument arg : func.getArguments())
    pointers[arg] = slot(arg.getArgNumber());
  int64_t lossSlot = numArgs, arenaSlot = numArgs + 1;
  arena = slot(arenaSlot);

  Block &body = func.getBody().front();
  for (Operation &op : body.without_terminator()) {
    loc = op.getLoc();
    // Results with their own arena space.
    if (auto offsets = op.getAttrOfType<DenseI64ArrayAttr>(kOffsetAttr)) {
      for (auto [result, offset] : llvm::zip(op.getResults(), offsets.asArrayRef()))
        if (offset >= 0)
          pointers[result] = b.create<LLVM::GEPOp>(
              loc, ptrType, b.getI8Type(), arena, ArrayRef<LLVM::GEPArg>{offset});
    } else if (!isa<dp::AllReduceStartOp>(op)) {
      return op.emitError("has no memory plan; run dpc-plan-memory first");
    }
    if (failed(lowerOp(&op)))
      return failure();
  }

  // The loss goes to its slot; every other result must have been updated in
  // place in the slot of the argument it replaces.
  auto ret = cast<func::ReturnOp>(body.getTerminator());
  loc = ret.getLoc();
  llvm::StringMap<Value> argPointers;
  for (BlockArgument arg : func.getArguments())
    argPointers[(getArgKind(func, arg.getArgNumber()) + "/" +
                 getArgName(func, arg.getArgNumber()))
                    .str()] = pointers[arg];
  for (auto [i, value] : llvm::enumerate(ret.getOperands())) {
    StringRef k = getResultKind(func, i);
    if (k == kind::kLoss) {
      call("dpcrt_copy", {slot(lossSlot), ptr(value), i64(4)});
      continue;
    }
    Value expected = argPointers.lookup((k + "/" + getResultName(func, i)).str());
    if (!expected || expected != ptr(value))
      return ret.emitError() << "result " << i << " ('" << getResultName(func, i)
                             << "') is not an in-place update of an argument";
  }
  b.create<LLVM::ReturnOp>(loc, ValueRange());
  return success();
}

LogicalResult StepLowering::lowerOp(Operation *op) {
  return llvm::TypeSwitch<Operation *, LogicalResult>(op)
      .Case([&](nn::LinearOp o) {
        ArrayRef<int64_t> x = shapeOf(o.getInput()), w = shapeOf(o.getWeight());
        Value out = ptr(o.getResult());
        if (o.getBias())
          call("dpcrt_broadcast_rows_f32",
               {out, ptr(o.getBias()), i64(x[0]), i64(w[0])});
        call("dpcrt_gemm_f32",
             {out, ptr(o.getInput()), ptr(o.getWeight()), i64(x[0]), i64(w[0]),
              i64(x[1]), i32(0), i32(1), f32(o.getBias() ? 1.0f : 0.0f)});
        return success();
      })
      .Case([&](nn::MatmulOp o) {
        ArrayRef<int64_t> a = shapeOf(o.getLhs()), c = shapeOf(o.getResult());
        int64_t k = o.getTransposeLhs() ? a[0] : a[1];
        call("dpcrt_gemm_f32",
             {ptr(o.getResult()), ptr(o.getLhs()), ptr(o.getRhs()), i64(c[0]),
              i64(c[1]), i64(k), i32(o.getTransposeLhs()),
              i32(o.getTransposeRhs()), f32(0.0f)});
        return success();
      })
      .Case([&](nn::TransposeOp o) {
        ArrayRef<int64_t> x = shapeOf(o.getInput());
        call("dpcrt_transpose2d_f32",
             {ptr(o.getResult()), ptr(o.getInput()), i64(x[0]), i64(x[1])});
        return success();
      })
      .Case<nn::AddOp, nn::SubOp, nn::MulOp>([&](auto o) {
        int32_t kind = DPCRT_BINARY_MUL;
        float alpha = 1.0f;
        if constexpr (std::is_same_v<decltype(o), nn::AddOp>) {
          kind = DPCRT_BINARY_ADD;
          alpha = o.getAlpha().convertToFloat();
        } else if constexpr (std::is_same_v<decltype(o), nn::SubOp>) {
          kind = DPCRT_BINARY_SUB;
          alpha = o.getAlpha().convertToFloat();
        }
        ArrayRef<int64_t> out = shapeOf(o.getResult());
        SmallVector<int64_t> dims(out);
        llvm::append_range(dims, broadcastStrides(shapeOf(o.getLhs()), out));
        llvm::append_range(dims, broadcastStrides(shapeOf(o.getRhs()), out));
        call("dpcrt_binary_f32",
             {i32(kind), ptr(o.getResult()), ptr(o.getLhs()), ptr(o.getRhs()),
              i32(out.size()), constantArray(dims), f32(alpha)});
        return success();
      })
      .Case<nn::ReluOp, nn::TanhOp, nn::SigmoidOp>([&](auto o) {
        int32_t kind = isa<nn::ReluOp>(o)   ? DPCRT_UNARY_RELU
                       : isa<nn::TanhOp>(o) ? DPCRT_UNARY_TANH
                                            : DPCRT_UNARY_SIGMOID;
        call("dpcrt_unary_f32", {i32(kind), ptr(o.getResult()),
                                 ptr(o.getInput()), i64(numElements(o.getInput()))});
        return success();
      })
      .Case([&](nn::ReluGradOp o) {
        call("dpcrt_unary_grad_f32",
             {i32(DPCRT_UNARY_RELU), ptr(o.getResult()), ptr(o.getGrad()),
              ptr(o.getInput()), i64(numElements(o.getGrad()))});
        return success();
      })
      .Case<nn::TanhGradOp, nn::SigmoidGradOp>([&](auto o) {
        int32_t kind = isa<nn::TanhGradOp>(o) ? DPCRT_UNARY_TANH : DPCRT_UNARY_SIGMOID;
        call("dpcrt_unary_grad_f32",
             {i32(kind), ptr(o.getResult()), ptr(o.getGrad()), ptr(o.getOutput()),
              i64(numElements(o.getGrad()))});
        return success();
      })
      .Case([&](nn::ScaleOp o) {
        call("dpcrt_scale_f32", {ptr(o.getResult()), ptr(o.getInput()),
                                 i64(numElements(o.getInput())), f32(o.getFactor())});
        return success();
      })
      .Case([&](nn::SumToOp o) {
        ArrayRef<int64_t> in = shapeOf(o.getInput());
        SmallVector<int64_t> dims(in);
        llvm::append_range(dims, broadcastStrides(shapeOf(o.getResult()), in));
        call("dpcrt_reduce_sum_f32",
             {ptr(o.getResult()), ptr(o.getInput()), i32(in.size()),
              constantArray(dims), i64(numElements(o.getResult()))});
        return success();
      })
      .Case([&](nn::FillOp o) {
        call("dpcrt_fill_f32", {ptr(o.getResult()), i64(numElements(o.getResult())),
                                f32(o.getValue())});
        return success();
      })
      .Case([&](nn::CopyOp o) {
        call("dpcrt_copy", {ptr(o.getResult()), ptr(o.getInput()),
                            i64(getTensorBytes(o.getType()))});
        return success();
      })
      .Case([&](nn::CrossEntropyOp o) {
        ArrayRef<int64_t> x = shapeOf(o.getLogits());
        call("dpcrt_cross_entropy_f32", {ptr(o.getResult()), ptr(o.getLogits()),
                                         ptr(o.getLabels()), i64(x[0]), i64(x[1])});
        return success();
      })
      .Case([&](nn::CrossEntropyGradOp o) {
        ArrayRef<int64_t> x = shapeOf(o.getLogits());
        call("dpcrt_cross_entropy_grad_f32",
             {ptr(o.getResult()), ptr(o.getGrad()), ptr(o.getLogits()),
              ptr(o.getLabels()), i64(x[0]), i64(x[1])});
        return success();
      })
      .Case([&](nn::MSELossOp o) {
        call("dpcrt_mse_loss_f32", {ptr(o.getResult()), ptr(o.getInput()),
                                    ptr(o.getTarget()), i64(numElements(o.getInput()))});
        return success();
      })
      .Case([&](nn::MSELossGradOp o) {
        call("dpcrt_mse_loss_grad_f32",
             {ptr(o.getResult()), ptr(o.getGrad()), ptr(o.getInput()),
              ptr(o.getTarget()), i64(numElements(o.getInput()))});
        return success();
      })
      .Case([&](nn::SGDUpdateOp o) {
        Value param = ptr(o.getParam());
        Value buffer = o.getMomentumBuffer() ? ptr(o.getMomentumBuffer()) : nullPtr();
        call("dpcrt_sgd_update_f32",
             {param, buffer, ptr(o.getGrad()), i64(numElements(o.getParam())),
              f32(o.getLr()), f32(o.getMomentum()), f32(o.getDampening()),
              f32(o.getWeightDecay()), i32(o.getNesterov())});
        pointers[o.getNewParam()] = param;
        if (o.getNewMomentumBuffer())
          pointers[o.getNewMomentumBuffer()] = buffer;
        return success();
      })
      .Case([&](dp::AllReduceOp o) {
        // Synchronous form (no bucketing): average a copy in place.
        Value out = ptr(o.getResult());
        call("dpcrt_copy", {out, ptr(o.getInput()), i64(getTensorBytes(o.getType()))});
        Value handle = call("dpcrt_allreduce_start",
                            {i32(-1), out, i64(numElements(o.getInput()))},
                            b.getI64Type());
        call("dpcrt_allreduce_wait", {handle});
        return success();
      })
      .Case([&](dp::AllReduceStartOp o) -> LogicalResult {
        // The plan placed the operands back to back; check it.
        auto offsetOf = [](Value v) {
          auto r = cast<OpResult>(v);
          return r.getOwner()
              ->getAttrOfType<DenseI64ArrayAttr>(kOffsetAttr)[r.getResultNumber()];
        };
        int64_t expected = offsetOf(o.getInputs().front()), elements = 0;
        for (Value input : o.getInputs()) {
          if (offsetOf(input) != expected)
            return o.emitError("bucket operands are not contiguous in the arena");
          expected += getTensorBytes(input.getType());
          elements += numElements(input);
        }
        handles[o.getToken()] = call(
            "dpcrt_allreduce_start",
            {i32(o.getBucket()), ptr(o.getInputs().front()), i64(elements)},
            b.getI64Type());
        return success();
      })
      .Case([&](dp::WaitOp o) {
        call("dpcrt_allreduce_wait", {handles.lookup(o.getToken())});
        for (auto [result, input] : llvm::zip(o.getResults(), o.getStartOp().getInputs()))
          pointers[result] = ptr(input);
        return success();
      })
      .Default([&](Operation *op) {
        return op->emitError() << "cannot lower '" << op->getName()
                               << "' to runtime calls";
      });
}

struct LowerToLLVMPass : public dpc::impl::LowerToLLVMBase<LowerToLLVMPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    func::FuncOp func = lookupFunction(module, kTrainStepFuncName);
    if (!func)
      return signalPassFailure();
    auto arenaBytes = func->getAttrOfType<IntegerAttr>(kArenaBytesAttr);
    if (!arenaBytes) {
      func.emitError("has no memory plan; run dpc-plan-memory first");
      return signalPassFailure();
    }
    OpBuilder b(module.getContext());
    b.setInsertionPointToEnd(module.getBody());
    Type ptrType = LLVM::LLVMPointerType::get(module.getContext());
    auto stepType = LLVM::LLVMFunctionType::get(
        LLVM::LLVMVoidType::get(module.getContext()), {ptrType, ptrType});
    auto step = b.create<LLVM::LLVMFuncOp>(func.getLoc(), "dpc_model_train_step",
                                           stepType);
    StepLowering lowering(module, func, step);
    if (failed(lowering.run(arenaBytes.getInt())))
      return signalPassFailure();
    func.erase();
  }
};

} // namespace
