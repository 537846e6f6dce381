//===- LowerTransformerOps.cpp - transformer ops as kernel calls ---===//
//
// Part of dpc-lower-to-llvm (see LowerToLLVM.cpp and RuntimeCallBuilder.h).
// Shape ops (permute, slice, split, concat, broadcast_to) become strided
// copies: each is one loop nest over the result (or operand) shape with the
// strides of the other side, so a single runtime kernel serves them all.
//
//===----------------------------------------------------------------------===//

#include "compiler/Conversion/NNToRuntime/RuntimeCallBuilder.h"
#include "compiler/TrainStep/TrainStep.h"
#include "dialects/NN/IR/NNOps.h"
#include "runtime/include/dpc/abi.h"

#include "llvm/ADT/StringSwitch.h"
#include "llvm/ADT/TypeSwitch.h"

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

/// [outer, size, inner] around dimension `dim`.
std::array<int64_t, 3> aroundDim(ArrayRef<int64_t> shape, int64_t dim) {
  return {product(shape.take_front(dim)), shape[dim],
          product(shape.drop_front(dim + 1))};
}

int32_t geluKind(StringRef approximate) {
  return approximate == "tanh" ? DPCRT_GELU_TANH : DPCRT_GELU_ERF;
}

int32_t compareKind(StringRef predicate) {
  return llvm::StringSwitch<int32_t>(predicate)
      .Case("eq", DPCRT_COMPARE_EQ)
      .Case("ne", DPCRT_COMPARE_NE)
      .Case("lt", DPCRT_COMPARE_LT)
      .Case("le", DPCRT_COMPARE_LE)
      .Case("gt", DPCRT_COMPARE_GT)
      .Default(DPCRT_COMPARE_GE);
}

/// dpcrt_reduce_sum_f32 of `input` over `dims` into `out`.
void reduceSum(RuntimeCallBuilder &rt, Value out, Value input,
               ArrayRef<int64_t> reduced, int64_t outElements) {
  ArrayRef<int64_t> in = getShape(input);
  SmallVector<int64_t> kept(in);
  for (int64_t d : reduced)
    kept[d] = 1;
  SmallVector<int64_t> dims(in);
  llvm::append_range(dims, getBroadcastStrides(kept, in));
  rt.call("dpcrt_reduce_sum_f32",
          {out, rt.ptr(input), rt.i32(in.size()), rt.constantArray(dims),
           rt.i64(outElements)});
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

std::optional<LogicalResult> dpc::lowerTransformerOp(RuntimeCallBuilder &rt,
                                                     Operation *op) {
  return llvm::TypeSwitch<Operation *, std::optional<LogicalResult>>(op)
      .Case([&](nn::ConstantOp o) { return lowerConstant(rt, o); })
      .Case([&](nn::EmbeddingOp o) {
        ArrayRef<int64_t> w = getShape(o.getWeight());
        rt.call("dpcrt_embedding_f32",
                {rt.ptr(o.getResult()), rt.ptr(o.getWeight()),
                 rt.ptr(o.getIndices()), rt.i64(getNumElements(o.getIndices())),
                 rt.i64(w[0]), rt.i64(w[1])});
        return success();
      })
      .Case([&](nn::EmbeddingGradOp o) {
        ArrayRef<int64_t> w = getShape(o.getResult());
        rt.call("dpcrt_embedding_grad_f32",
                {rt.ptr(o.getResult()), rt.ptr(o.getGrad()),
                 rt.ptr(o.getIndices()), rt.i64(getNumElements(o.getIndices())),
                 rt.i64(w[0]), rt.i64(w[1]),
                 rt.i64(o.getPaddingIdx().value_or(-1))});
        return success();
      })
      .Case([&](nn::LayerNormOp o) {
        int64_t cols = getNumElements(o.getWeight());
        int64_t rows = cols ? getNumElements(o.getInput()) / cols : 0;
        rt.call("dpcrt_layer_norm_f32",
                {rt.ptr(o.getResult()), rt.ptr(o.getInput()),
                 rt.ptr(o.getWeight()), rt.ptr(o.getBias()), rt.i64(rows),
                 rt.i64(cols), rt.f32(o.getEps())});
        return success();
      })
      .Case([&](nn::LayerNormGradOp o) {
        int64_t cols = getNumElements(o.getWeight());
        int64_t rows = cols ? getNumElements(o.getInput()) / cols : 0;
        rt.call("dpcrt_layer_norm_grad_f32",
                {rt.ptr(o.getInputGrad()), rt.ptr(o.getWeightGrad()),
                 rt.ptr(o.getBiasGrad()), rt.ptr(o.getGrad()),
                 rt.ptr(o.getInput()), rt.ptr(o.getWeight()), rt.i64(rows),
                 rt.i64(cols), rt.f32(o.getEps())});
        return success();
      })
      .Case([&](nn::GeluOp o) {
        rt.call("dpcrt_gelu_f32",
                {rt.i32(geluKind(o.getApproximate())), rt.ptr(o.getResult()),
                 rt.ptr(o.getInput()), rt.i64(getNumElements(o.getInput()))});
        return success();
      })
      .Case([&](nn::GeluGradOp o) {
        rt.call("dpcrt_gelu_grad_f32",
                {rt.i32(geluKind(o.getApproximate())), rt.ptr(o.getResult()),
                 rt.ptr(o.getGrad()), rt.ptr(o.getInput()),
                 rt.i64(getNumElements(o.getInput()))});
        return success();
      })
      .Case<nn::SoftmaxOp, nn::LogSoftmaxOp>([&](auto o) {
        auto [outer, size, inner] =
            aroundDim(getShape(o.getInput()), o.getDim());
        rt.call("dpcrt_softmax_f32",
                {rt.ptr(o.getResult()), rt.ptr(o.getInput()), rt.i64(outer),
                 rt.i64(size), rt.i64(inner),
                 rt.i32(isa<nn::LogSoftmaxOp>(o))});
        return success();
      })
      .Case<nn::SoftmaxGradOp, nn::LogSoftmaxGradOp>([&](auto o) {
        auto [outer, size, inner] =
            aroundDim(getShape(o.getGrad()), o.getDim());
        rt.call("dpcrt_softmax_grad_f32",
                {rt.ptr(o.getResult()), rt.ptr(o.getGrad()),
                 rt.ptr(o.getOutput()), rt.i64(outer), rt.i64(size),
                 rt.i64(inner), rt.i32(isa<nn::LogSoftmaxGradOp>(o))});
        return success();
      })
      .Case([&](nn::DivOp o) {
        ArrayRef<int64_t> out = getShape(o.getResult());
        SmallVector<int64_t> dims(out);
        llvm::append_range(dims,
                           getBroadcastStrides(getShape(o.getLhs()), out));
        llvm::append_range(dims,
                           getBroadcastStrides(getShape(o.getRhs()), out));
        rt.call("dpcrt_binary_f32",
                {rt.i32(DPCRT_BINARY_DIV), rt.ptr(o.getResult()),
                 rt.ptr(o.getLhs()), rt.ptr(o.getRhs()), rt.i32(out.size()),
                 rt.constantArray(dims), rt.f32(1.0f)});
        return success();
      })
      .Case([&](nn::CompareOp o) {
        ArrayRef<int64_t> out = getShape(o.getResult());
        SmallVector<int64_t> dims(out);
        llvm::append_range(dims,
                           getBroadcastStrides(getShape(o.getLhs()), out));
        llvm::append_range(dims,
                           getBroadcastStrides(getShape(o.getRhs()), out));
        rt.call("dpcrt_compare_f32",
                {rt.i32(compareKind(o.getPredicate())), rt.ptr(o.getResult()),
                 rt.ptr(o.getLhs()), rt.ptr(o.getRhs()), rt.i32(out.size()),
                 rt.constantArray(dims)});
        return success();
      })
      .Case([&](nn::MaskedFillOp o) {
        ArrayRef<int64_t> out = getShape(o.getResult());
        SmallVector<int64_t> dims(out);
        llvm::append_range(dims,
                           getBroadcastStrides(getShape(o.getMask()), out));
        rt.call("dpcrt_masked_fill_f32",
                {rt.ptr(o.getResult()), rt.ptr(o.getInput()),
                 rt.ptr(o.getMask()), rt.i32(out.size()),
                 rt.constantArray(dims), rt.f32(o.getValue())});
        return success();
      })
      .Case([&](nn::SumOp o) {
        reduceSum(rt, rt.ptr(o.getResult()), o.getInput(), o.getDims(),
                  getNumElements(o.getResult()));
        return success();
      })
      .Case([&](nn::MeanOp o) {
        Value out = rt.ptr(o.getResult());
        int64_t n = getNumElements(o.getResult());
        reduceSum(rt, out, o.getInput(), o.getDims(), n);
        int64_t count = 1;
        for (int64_t d : o.getDims())
          count *= getShape(o.getInput())[d];
        rt.call("dpcrt_div_scalar_f32",
                {out, out, rt.i64(n), rt.f32(static_cast<float>(count))});
        return success();
      })
      .Case([&](nn::PermuteOp o) {
        SmallVector<int64_t> in = denseStrides(getShape(o.getInput())), from;
        for (int64_t p : o.getPermutation())
          from.push_back(in[p]);
        ArrayRef<int64_t> out = getShape(o.getResult());
        stridedCopy(rt, rt.ptr(o.getResult()), rt.ptr(o.getInput()),
                    elementBytes(o.getInput()), out, denseStrides(out), from);
        return success();
      })
      .Case([&](nn::BroadcastToOp o) {
        ArrayRef<int64_t> out = getShape(o.getResult());
        stridedCopy(rt, rt.ptr(o.getResult()), rt.ptr(o.getInput()),
                    elementBytes(o.getInput()), out, denseStrides(out),
                    getBroadcastStrides(getShape(o.getInput()), out));
        return success();
      })
      .Case([&](nn::SliceOp o) {
        int64_t dim = o.getDim(), bytes = elementBytes(o.getInput());
        SmallVector<int64_t> in = denseStrides(getShape(o.getInput()));
        Value from =
            offsetPtr(rt, rt.ptr(o.getInput()), o.getStart() * in[dim], bytes);
        in[dim] *= o.getStep();
        ArrayRef<int64_t> out = getShape(o.getResult());
        stridedCopy(rt, rt.ptr(o.getResult()), from, bytes, out,
                    denseStrides(out), in);
        return success();
      })
      .Case([&](nn::SliceGradOp o) {
        int64_t dim = o.getDim();
        Value result = rt.ptr(o.getResult());
        rt.call("dpcrt_fill_f32",
                {result, rt.i64(getNumElements(o.getResult())), rt.f32(0.0f)});
        SmallVector<int64_t> out = denseStrides(getShape(o.getResult()));
        Value to = offsetPtr(rt, result, o.getStart() * out[dim], 4);
        out[dim] *= o.getStep();
        ArrayRef<int64_t> grad = getShape(o.getGrad());
        stridedCopy(rt, to, rt.ptr(o.getGrad()), 4, grad, out,
                    denseStrides(grad));
        return success();
      })
      .Case([&](nn::SplitOp o) {
        int64_t dim = o.getDim(), bytes = elementBytes(o.getInput());
        SmallVector<int64_t> in = denseStrides(getShape(o.getInput()));
        int64_t offset = 0;
        for (Value result : o.getResults()) {
          ArrayRef<int64_t> out = getShape(result);
          stridedCopy(
              rt, rt.ptr(result),
              offsetPtr(rt, rt.ptr(o.getInput()), offset * in[dim], bytes),
              bytes, out, denseStrides(out), in);
          offset += out[dim];
        }
        return success();
      })
      .Case([&](nn::ConcatOp o) {
        int64_t dim = o.getDim(), bytes = elementBytes(o.getResult());
        SmallVector<int64_t> out = denseStrides(getShape(o.getResult()));
        int64_t offset = 0;
        for (Value input : o.getInputs()) {
          ArrayRef<int64_t> in = getShape(input);
          stridedCopy(
              rt,
              offsetPtr(rt, rt.ptr(o.getResult()), offset * out[dim], bytes),
              rt.ptr(input), bytes, in, out, denseStrides(in));
          offset += in[dim];
        }
        return success();
      })
      .Case([&](nn::NLLLossOp o) {
        ArrayRef<int64_t> x = getShape(o.getInput());
        rt.call("dpcrt_nll_loss_f32",
                {rt.ptr(o.getResult()), rt.ptr(o.getInput()),
                 rt.ptr(o.getLabels()), rt.i64(x[0]), rt.i64(x[1])});
        return success();
      })
      .Case([&](nn::NLLLossGradOp o) {
        ArrayRef<int64_t> x = getShape(o.getResult());
        rt.call("dpcrt_nll_loss_grad_f32",
                {rt.ptr(o.getResult()), rt.ptr(o.getGrad()),
                 rt.ptr(o.getLabels()), rt.i64(x[0]), rt.i64(x[1])});
        return success();
      })
      .Default([](Operation *) { return std::nullopt; });
}
