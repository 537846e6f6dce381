//===- LowerShapeOps.cpp - the Shape family as runtime calls --------------===//
//
// Part of dpc-lower-to-llvm (see LowerToLLVM.cpp and RuntimeCallBuilder.h).
// Shape ops (permute, slice, split, concat, broadcast_to) become strided
// copies: each is one loop nest over the result (or operand) shape with the
// strides of the other side, so a single runtime kernel serves them all.
// reshape and micro_batch are views: their results get the operand's
// pointer.
//
//===----------------------------------------------------------------------===//

#include "compiler/Conversion/NNToRuntime/RuntimeCallBuilder.h"
#include "compiler/TrainStep/TrainStep.h"
#include "dialects/NN/IR/NNOps.h"
#include "runtime/include/dpc/abi.h"

using namespace mlir;
using namespace dpc;

namespace {

/// Row-major element strides of `shape`.
SmallVector<int64_t> denseStrides(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> strides(shape.size());
  int64_t stride = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = stride;
    stride *= shape[i];
  }
  return strides;
}

int64_t elementBytes(Value v) {
  return cast<RankedTensorType>(v.getType())
             .getElementType()
             .getIntOrFloatBitWidth() /
         8;
}

int64_t product(ArrayRef<int64_t> dims) {
  int64_t p = 1;
  for (int64_t d : dims)
    p *= d;
  return p;
}

/// `base` advanced by `elements` elements of `bytes` bytes.
Value offsetPtr(RuntimeCallBuilder &rt, Value base, int64_t elements,
                int64_t bytes) {
  if (elements == 0)
    return base;
  // RuntimeCallBuilder::offsetPtr: an i64 offset (a GEPArg constant is
  // int32 and would truncate offsets of 2 GiB and more).
  return rt.offsetPtr(base, elements * bytes);
}

/// One dpcrt_strided_copy over `shape`.
void stridedCopy(RuntimeCallBuilder &rt, Value out, Value in, int64_t elemBytes,
                 ArrayRef<int64_t> shape, ArrayRef<int64_t> outStrides,
                 ArrayRef<int64_t> inStrides) {
  if (product(shape) == 0)
    return;
  SmallVector<int64_t> dims(shape);
  llvm::append_range(dims, outStrides);
  llvm::append_range(dims, inStrides);
  rt.call("dpcrt_strided_copy", {out, in, rt.i64(elemBytes),
                                 rt.i32(shape.size()), rt.constantArray(dims)});
}

/// Puts the value of an nn.constant into a read-only global and copies it
/// into the op's buffer.
LogicalResult lowerConstant(RuntimeCallBuilder &rt, nn::ConstantOp op) {
  auto dense = dyn_cast<DenseElementsAttr>(op.getValue());
  if (!dense)
    return op.emitError("cannot lower a constant that is not dense elements");
  auto type = cast<RankedTensorType>(op.getType());
  int64_t n = type.getNumElements();
  if (n == 0)
    return success();
  OpBuilder &b = rt.builder();
  auto module = op->getParentOfType<ModuleOp>();
  std::string name;
  for (unsigned i = 0;; ++i) {
    name = "__dpc_constant_" + std::to_string(i);
    if (!module.lookupSymbol(name))
      break;
  }
  auto flat = dense.reshape(RankedTensorType::get({n}, type.getElementType()));
  auto arrayType = LLVM::LLVMArrayType::get(type.getElementType(), n);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(module.getBody());
    b.create<LLVM::GlobalOp>(rt.getLoc(), arrayType, /*isConstant=*/true,
                             LLVM::Linkage::Internal, name, flat);
  }
  Value data = b.create<LLVM::AddressOfOp>(rt.getLoc(), rt.ptrType(), name);
  rt.call("dpcrt_copy",
          {rt.ptr(op.getResult()), data, rt.i64(getTensorBytes(type))});
  return success();
}

} // namespace

void dpc::populateShapeLowerings(RuntimeLowerings &lowerings) {
  lowerings.add<nn::TransposeOp>([](RuntimeCallBuilder &rt, nn::TransposeOp o) {
    ArrayRef<int64_t> x = getShape(o.getInput());
    if (isFloat64(o.getInput())) {
      // No float64 transpose kernel: the strided copy a permute is.
      ArrayRef<int64_t> out = getShape(o.getResult());
      SmallVector<int64_t> in = denseStrides(x);
      stridedCopy(rt, rt.ptr(o.getResult()), rt.ptr(o.getInput()),
                  elementBytes(o.getInput()), out, denseStrides(out),
                  {in[1], in[0]});
      return success();
    }
    rt.call("dpcrt_transpose2d_f32",
            {rt.ptr(o.getResult()), rt.ptr(o.getInput()), rt.i64(x[0]),
             rt.i64(x[1])});
    return success();
  });
  lowerings.add<nn::ReshapeOp>([](RuntimeCallBuilder &rt, nn::ReshapeOp o) {
    rt.setPtr(o.getResult(), rt.ptr(o.getInput()));
    return success();
  });
  // A view: the gradient barrier mattered to autodiff only.
  lowerings.add<nn::DetachOp>([](RuntimeCallBuilder &rt, nn::DetachOp o) {
    rt.setPtr(o.getResult(), rt.ptr(o.getInput()));
    return success();
  });
  lowerings.add<nn::CopyOp>([](RuntimeCallBuilder &rt, nn::CopyOp o) {
    rt.call("dpcrt_copy", {rt.ptr(o.getResult()), rt.ptr(o.getInput()),
                           rt.i64(getTensorBytes(o.getType()))});
    return success();
  });
  lowerings.add<nn::ConstantOp>([](RuntimeCallBuilder &rt, nn::ConstantOp o) {
    return lowerConstant(rt, o);
  });
  lowerings.add<nn::PermuteOp>([](RuntimeCallBuilder &rt, nn::PermuteOp o) {
    SmallVector<int64_t> in = denseStrides(getShape(o.getInput())), from;
    for (int64_t p : o.getPermutation())
      from.push_back(in[p]);
    ArrayRef<int64_t> out = getShape(o.getResult());
    stridedCopy(rt, rt.ptr(o.getResult()), rt.ptr(o.getInput()),
                elementBytes(o.getInput()), out, denseStrides(out), from);
    return success();
  });
  lowerings.add<nn::BroadcastToOp>(
      [](RuntimeCallBuilder &rt, nn::BroadcastToOp o) {
        ArrayRef<int64_t> out = getShape(o.getResult());
        stridedCopy(rt, rt.ptr(o.getResult()), rt.ptr(o.getInput()),
                    elementBytes(o.getInput()), out, denseStrides(out),
                    getBroadcastStrides(getShape(o.getInput()), out));
        return success();
      });
  lowerings.add<nn::SliceOp>([](RuntimeCallBuilder &rt, nn::SliceOp o) {
    int64_t dim = o.getDim(), bytes = elementBytes(o.getInput());
    SmallVector<int64_t> in = denseStrides(getShape(o.getInput()));
    Value from =
        offsetPtr(rt, rt.ptr(o.getInput()), o.getStart() * in[dim], bytes);
    in[dim] *= o.getStep();
    ArrayRef<int64_t> out = getShape(o.getResult());
    stridedCopy(rt, rt.ptr(o.getResult()), from, bytes, out, denseStrides(out),
                in);
    return success();
  });
  lowerings.add<nn::SliceGradOp>([](RuntimeCallBuilder &rt, nn::SliceGradOp o) {
    int64_t dim = o.getDim();
    Value result = rt.ptr(o.getResult());
    int64_t bytes = elementBytes(o.getResult());
    rt.call(floatKernel("dpcrt_fill", o.getResult()),
            {result, rt.i64(getNumElements(o.getResult())),
             rt.floatArg(o.getResult(), 0.0)});
    SmallVector<int64_t> out = denseStrides(getShape(o.getResult()));
    Value to = offsetPtr(rt, result, o.getStart() * out[dim], bytes);
    out[dim] *= o.getStep();
    ArrayRef<int64_t> grad = getShape(o.getGrad());
    stridedCopy(rt, to, rt.ptr(o.getGrad()), bytes, grad, out,
                denseStrides(grad));
    return success();
  });
  lowerings.add<nn::SplitOp>([](RuntimeCallBuilder &rt, nn::SplitOp o) {
    int64_t dim = o.getDim(), bytes = elementBytes(o.getInput());
    SmallVector<int64_t> in = denseStrides(getShape(o.getInput()));
    int64_t offset = 0;
    for (Value result : o.getResults()) {
      ArrayRef<int64_t> out = getShape(result);
      stridedCopy(rt, rt.ptr(result),
                  offsetPtr(rt, rt.ptr(o.getInput()), offset * in[dim], bytes),
                  bytes, out, denseStrides(out), in);
      offset += out[dim];
    }
    return success();
  });
  lowerings.add<nn::ConcatOp>([](RuntimeCallBuilder &rt, nn::ConcatOp o) {
    int64_t dim = o.getDim(), bytes = elementBytes(o.getResult());
    SmallVector<int64_t> out = denseStrides(getShape(o.getResult()));
    int64_t offset = 0;
    for (Value input : o.getInputs()) {
      ArrayRef<int64_t> in = getShape(input);
      stridedCopy(
          rt, offsetPtr(rt, rt.ptr(o.getResult()), offset * out[dim], bytes),
          rt.ptr(input), bytes, in, out, denseStrides(in));
      offset += in[dim];
    }
    return success();
  });
  lowerings.add<nn::MicroBatchOp>(
      [](RuntimeCallBuilder &rt, nn::MicroBatchOp o) {
        int64_t offset = o.getIndex() * getTensorBytes(o.getType());
        rt.setPtr(o.getResult(), rt.offsetPtr(rt.ptr(o.getInput()), offset));
        return success();
      });
}
