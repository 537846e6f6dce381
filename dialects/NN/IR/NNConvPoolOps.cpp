//===- NNConvPoolOps.cpp - Convolution and pooling ------------------------===//
//
// The methods of the ops in NNConvPoolOps.td (the op classes are generated into
// NNOps.cpp.inc, included by NNDialect.cpp). Result types are inferred from
// operands so that the importer reports a mismatch at the model's source
// line; each differentiable op builds its VJP out of nn ops.
//
// Output sizes follow PyTorch's formulas (conv and pooling_output_shape), so a
// model that PyTorch rejects is rejected here at the model's source line.
//
//
//===----------------------------------------------------------------------===//

#include "dialects/NN/IR/NNOps.h"
#include "dialects/NN/IR/NNShapeUtils.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace dpc::nn;

namespace {

using Shape = SmallVector<int64_t, 4>;

/// A window attribute (kernel_size, stride, padding, dilation): two
/// integers, positive or (padding) non-negative.
LogicalResult checkPair(std::optional<Location> loc, StringRef op,
                        StringRef name, DenseI64ArrayAttr attr,
                        bool allowZero) {
  if (!attr || attr.size() != 2)
    return emitOptionalError(loc, op, ": '", name,
                             "' must be a pair of integers (height, width)");
  for (int64_t v : attr.asArrayRef())
    if (v < 0 || (v == 0 && !allowZero))
      return emitOptionalError(loc, op, ": '", name, "' must be ",
                               allowZero ? "non-negative" : "positive",
                               ", got ", shapeString(attr.asArrayRef()));
  return success();
}

/// Checks that `shape` is [N, C, H, W].
LogicalResult checkNCHW(std::optional<Location> loc, StringRef op,
                        StringRef what, ArrayRef<int64_t> shape) {
  if (shape.size() != 4)
    return emitOptionalError(loc, op, ": expected ", what,
                             " [N, C, H, W], got ", shapeString(shape));
  return success();
}

struct ConvGeometry {
  DenseI64ArrayAttr stride, padding, dilation;
  int64_t groups;
};

/// The conv2d result shape of `x` [N, C, H, W] and `w` [O, C/g, KH, KW].
FailureOr<Shape> inferConv2d(std::optional<Location> loc, StringRef op,
                             ArrayRef<int64_t> x, ArrayRef<int64_t> w,
                             const ConvGeometry &g) {
  if (failed(checkPair(loc, op, "stride", g.stride, false)) ||
      failed(checkPair(loc, op, "padding", g.padding, true)) ||
      failed(checkPair(loc, op, "dilation", g.dilation, false)))
    return failure();
  if (failed(checkNCHW(loc, op, "input", x)))
    return failure();
  if (w.size() != 4)
    return emitOptionalError(loc, op,
                             ": expected weight [O, C/groups, KH, "
                             "KW], got ",
                             shapeString(w));
  if (g.groups < 1)
    return emitOptionalError(loc, op, ": groups must be positive, got ",
                             g.groups);
  if (x[1] != w[1] * g.groups)
    return emitOptionalError(loc, op, ": input ", shapeString(x), " has ", x[1],
                             " channels, but weight ", shapeString(w),
                             " with groups=", g.groups, " expects ",
                             w[1] * g.groups);
  if (w[0] % g.groups != 0)
    return emitOptionalError(
        loc, op, ": ", w[0],
        " output channels are not divisible by groups=", g.groups);
  Shape out = {x[0], w[0]};
  for (int i = 0; i < 2; ++i) {
    int64_t padded = x[2 + i] + 2 * g.padding[i];
    int64_t extent = g.dilation[i] * (w[2 + i] - 1) + 1;
    if (w[2 + i] < 1 || padded < extent)
      return emitOptionalError(
          loc, op, ": the kernel ", shapeString(w.drop_front(2)), " (dilation ",
          shapeString(g.dilation.asArrayRef()),
          ") is larger than the padded input ",
          shapeString({x[2] + 2 * g.padding[0], x[3] + 2 * g.padding[1]}));
    out.push_back((padded - extent) / g.stride[i] + 1);
  }
  return out;
}

template <typename OpOrAdaptor> ConvGeometry convGeometry(OpOrAdaptor op) {
  return {op.getStrideAttr(), op.getPaddingAttr(), op.getDilationAttr(),
          static_cast<int64_t>(op.getGroups())};
}

/// One spatial output size of a pooling window, as PyTorch's
/// pooling_output_shape.
int64_t poolOutputSize(int64_t in, int64_t kernel, int64_t pad, int64_t stride,
                       int64_t dilation, bool ceilMode) {
  int64_t numerator =
      in + 2 * pad - dilation * (kernel - 1) - 1 + (ceilMode ? stride - 1 : 0);
  // Floor division (the numerator may be negative).
  int64_t q = numerator / stride;
  if ((numerator % stride != 0) && ((numerator < 0) != (stride < 0)))
    --q;
  int64_t out = q + 1;
  // The last window must start inside the input or its left padding.
  if (ceilMode && (out - 1) * stride >= in + pad)
    --out;
  return out;
}

struct PoolGeometry {
  DenseI64ArrayAttr kernel, stride, padding, dilation; // dilation may be null
  bool ceilMode;
};

/// The pooled shape of `x` [N, C, H, W], with PyTorch's checks.
FailureOr<Shape> inferPool2d(std::optional<Location> loc, StringRef op,
                             ArrayRef<int64_t> x, const PoolGeometry &g) {
  if (failed(checkPair(loc, op, "kernel_size", g.kernel, false)) ||
      failed(checkPair(loc, op, "stride", g.stride, false)) ||
      failed(checkPair(loc, op, "padding", g.padding, true)) ||
      (g.dilation && failed(checkPair(loc, op, "dilation", g.dilation, false))))
    return failure();
  if (failed(checkNCHW(loc, op, "input", x)))
    return failure();
  Shape out = {x[0], x[1]};
  for (int i = 0; i < 2; ++i) {
    int64_t k = g.kernel[i], p = g.padding[i];
    if (p > k / 2)
      return emitOptionalError(loc, op, ": padding ",
                               shapeString(g.padding.asArrayRef()),
                               " must be at most half of the kernel size ",
                               shapeString(g.kernel.asArrayRef()));
    int64_t d = g.dilation ? g.dilation[i] : 1;
    int64_t size = poolOutputSize(x[2 + i], k, p, g.stride[i], d, g.ceilMode);
    if (size < 1)
      return emitOptionalError(loc, op, ": the input ", shapeString(x),
                               " is too small for the kernel ",
                               shapeString(g.kernel.asArrayRef()),
                               " (the output would be empty)");
    out.push_back(size);
  }
  return out;
}

template <typename OpOrAdaptor> PoolGeometry avgPoolGeometry(OpOrAdaptor op) {
  return {op.getKernelSizeAttr(), op.getStrideAttr(), op.getPaddingAttr(),
          nullptr, static_cast<bool>(op.getCeilModeAttr())};
}

template <typename OpOrAdaptor> PoolGeometry maxPoolGeometry(OpOrAdaptor op) {
  return {op.getKernelSizeAttr(), op.getStrideAttr(), op.getPaddingAttr(),
          op.getDilationAttr(), static_cast<bool>(op.getCeilModeAttr())};
}

LogicalResult checkDivisor(std::optional<Location> loc, StringRef op,
                           IntegerAttr divisor) {
  if (divisor && divisor.getInt() == 0)
    return emitOptionalError(loc, op, ": divisor_override must be non-zero");
  return success();
}

/// The attributes of `op` that its op definition declares (not discardable
/// ones such as a memory plan): backward ops share their forward's.
SmallVector<NamedAttribute> inherentAttrs(Operation *op) {
  SmallVector<NamedAttribute> attrs;
  ArrayRef<StringAttr> names =
      op->getName().getRegisteredInfo()->getAttributeNames();
  for (NamedAttribute attr : op->getAttrs())
    if (llvm::is_contained(names, attr.getName()))
      attrs.push_back(attr);
  return attrs;
}

} // namespace

//===----------------------------------------------------------------------===//
// conv2d
//===----------------------------------------------------------------------===//

LogicalResult Conv2dOp::inferReturnTypes(MLIRContext *ctx,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  if (getElementTypeOrSelf(adaptor.getInput().getType()) !=
      getElementTypeOrSelf(adaptor.getWeight().getType()))
    return emitOptionalError(loc, "conv2d: input and weight must have one "
                                  "element type (f32, or bf16 both)");
  auto shape = inferConv2d(loc, "conv2d", shapeOf(adaptor.getInput()),
                           shapeOf(adaptor.getWeight()), convGeometry(adaptor));
  if (failed(shape))
    return failure();
  if (Value bias = adaptor.getBias()) {
    ArrayRef<int64_t> b = shapeOf(bias);
    if (b.size() != 1 || b[0] != (*shape)[1])
      return emitOptionalError(loc, "conv2d: bias shape ", shapeString(b),
                               " does not match ", (*shape)[1],
                               " output channels");
  }
  types.push_back(f32Tensor(ctx, *shape));
  return success();
}

SmallVector<Value> Conv2dOp::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  Location loc = getLoc();
  Value dy = resultGrads[0];
  SmallVector<NamedAttribute> attrs = inherentAttrs(*this);
  Value dx = b.create<Conv2dInputGradOp>(loc, TypeRange{getInput().getType()},
                                         ValueRange{dy, getWeight()}, attrs);
  Value dw = b.create<Conv2dWeightGradOp>(loc, TypeRange{getWeight().getType()},
                                          ValueRange{dy, getInput()}, attrs);
  SmallVector<Value> grads = {dx, dw};
  if (Value bias = getBias()) {
    // The bias is broadcast over [N, ., OH, OW]: sum down to [O, 1, 1],
    // then view as [O].
    int64_t channels = shapeOf(bias)[0];
    Value summed =
        b.create<SumToOp>(loc, f32Tensor(b.getContext(), {channels, 1, 1}), dy);
    grads.push_back(b.create<ReshapeOp>(loc, bias.getType(), summed));
  }
  return grads;
}

// As a transposed convolution, result = A_w^T grad with A_w the
// convolution by `weight`, bilinear in (grad, weight): the gradient of
// `grad` is A_w dresult = conv2d(dresult, weight), and that of `weight` is
// the weight gradient of conv2d(dresult, .) for the output gradient `grad`
// (<dresult, A_w^T grad> = <A_w dresult, grad>).
SmallVector<Value> Conv2dInputGradOp::buildVJP(OpBuilder &b,
                                               ValueRange resultGrads) {
  Location loc = getLoc();
  Value dresult = resultGrads[0];
  SmallVector<NamedAttribute> attrs = inherentAttrs(*this);
  Value dgrad = b.create<Conv2dOp>(loc, TypeRange{getGrad().getType()},
                                   ValueRange{dresult, getWeight()}, attrs);
  Value dw =
      b.create<Conv2dWeightGradOp>(loc, TypeRange{getWeight().getType()},
                                   ValueRange{getGrad(), dresult}, attrs);
  return {dgrad, dw};
}

LogicalResult Conv2dInputGradOp::verify() {
  if (getElementTypeOrSelf(getGrad().getType()) !=
      getElementTypeOrSelf(getWeight().getType()))
    return emitOpError("grad and weight must have one element type (f32, or "
                       "bf16 both)");
  auto shape = inferConv2d(getLoc(), "conv2d_input_grad", shapeOf(getResult()),
                           shapeOf(getWeight()), convGeometry(*this));
  if (failed(shape))
    return failure();
  if (ArrayRef<int64_t>(*shape) != shapeOf(getGrad()))
    return emitOpError("result ")
           << shapeString(shapeOf(getResult())) << " convolves to "
           << shapeString(*shape) << ", not to the gradient's shape "
           << shapeString(shapeOf(getGrad()));
  return success();
}

LogicalResult Conv2dWeightGradOp::verify() {
  if (getElementTypeOrSelf(getGrad().getType()) !=
      getElementTypeOrSelf(getInput().getType()))
    return emitOpError("grad and input must have one element type (f32, or "
                       "bf16 both)");
  auto shape = inferConv2d(getLoc(), "conv2d_weight_grad", shapeOf(getInput()),
                           shapeOf(getResult()), convGeometry(*this));
  if (failed(shape))
    return failure();
  if (ArrayRef<int64_t>(*shape) != shapeOf(getGrad()))
    return emitOpError("input ")
           << shapeString(shapeOf(getInput())) << " convolved with a weight "
           << shapeString(shapeOf(getResult())) << " gives "
           << shapeString(*shape) << ", not the gradient's shape "
           << shapeString(shapeOf(getGrad()));
  return success();
}

//===----------------------------------------------------------------------===//
// max_pool2d
//===----------------------------------------------------------------------===//

LogicalResult MaxPool2dOp::inferReturnTypes(MLIRContext *ctx,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  auto shape = inferPool2d(loc, "max_pool2d", shapeOf(adaptor.getInput()),
                           maxPoolGeometry(adaptor));
  if (failed(shape))
    return failure();
  types.push_back(f32Tensor(ctx, *shape));
  return success();
}

SmallVector<Value> MaxPool2dOp::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  return {b.create<MaxPool2dGradOp>(getLoc(), TypeRange{getInput().getType()},
                                    ValueRange{resultGrads[0], getInput()},
                                    inherentAttrs(*this))};
}

LogicalResult MaxPool2dGradOp::inferReturnTypes(MLIRContext *,
                                                std::optional<Location> loc,
                                                Adaptor adaptor,
                                                SmallVectorImpl<Type> &types) {
  auto shape = inferPool2d(loc, "max_pool2d_grad", shapeOf(adaptor.getInput()),
                           maxPoolGeometry(adaptor));
  if (failed(shape))
    return failure();
  if (ArrayRef<int64_t>(*shape) != shapeOf(adaptor.getGrad()))
    return emitOptionalError(loc, "max_pool2d_grad: input ",
                             shapeString(shapeOf(adaptor.getInput())),
                             " pools to ", shapeString(*shape),
                             ", not to the gradient's shape ",
                             shapeString(shapeOf(adaptor.getGrad())));
  types.push_back(adaptor.getInput().getType());
  return success();
}

//===----------------------------------------------------------------------===//
// avg_pool2d
//===----------------------------------------------------------------------===//

LogicalResult AvgPool2dOp::inferReturnTypes(MLIRContext *ctx,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  if (failed(checkDivisor(loc, "avg_pool2d", adaptor.getDivisorOverrideAttr())))
    return failure();
  auto shape = inferPool2d(loc, "avg_pool2d", shapeOf(adaptor.getInput()),
                           avgPoolGeometry(adaptor));
  if (failed(shape))
    return failure();
  types.push_back(f32Tensor(ctx, *shape));
  return success();
}

SmallVector<Value> AvgPool2dOp::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  return {b.create<AvgPool2dGradOp>(getLoc(), TypeRange{getInput().getType()},
                                    ValueRange{resultGrads[0]},
                                    inherentAttrs(*this))};
}

LogicalResult AvgPool2dGradOp::verify() {
  if (failed(
          checkDivisor(getLoc(), "avg_pool2d_grad", getDivisorOverrideAttr())))
    return failure();
  auto shape = inferPool2d(getLoc(), "avg_pool2d_grad", shapeOf(getResult()),
                           avgPoolGeometry(*this));
  if (failed(shape))
    return failure();
  if (ArrayRef<int64_t>(*shape) != shapeOf(getGrad()))
    return emitOpError("result ")
           << shapeString(shapeOf(getResult())) << " pools to "
           << shapeString(*shape) << ", not to the gradient's shape "
           << shapeString(shapeOf(getGrad()));
  return success();
}

//===----------------------------------------------------------------------===//
// adaptive_avg_pool2d
//===----------------------------------------------------------------------===//

LogicalResult AdaptiveAvgPool2dOp::inferReturnTypes(
    MLIRContext *ctx, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &types) {
  ArrayRef<int64_t> x = shapeOf(adaptor.getInput());
  if (failed(checkPair(loc, "adaptive_avg_pool2d", "output_size",
                       adaptor.getOutputSizeAttr(), false)) ||
      failed(checkNCHW(loc, "adaptive_avg_pool2d", "input", x)))
    return failure();
  if (x[2] < 1 || x[3] < 1)
    return emitOptionalError(loc, "adaptive_avg_pool2d: empty input ",
                             shapeString(x));
  ArrayRef<int64_t> size = adaptor.getOutputSize();
  types.push_back(f32Tensor(ctx, {x[0], x[1], size[0], size[1]}));
  return success();
}

SmallVector<Value> AdaptiveAvgPool2dOp::buildVJP(OpBuilder &b,
                                                 ValueRange resultGrads) {
  return {b.create<AdaptiveAvgPool2dGradOp>(getLoc(), getInput().getType(),
                                            resultGrads[0])};
}

LogicalResult AdaptiveAvgPool2dGradOp::verify() {
  ArrayRef<int64_t> dy = shapeOf(getGrad()), dx = shapeOf(getResult());
  if (failed(checkNCHW(getLoc(), "adaptive_avg_pool2d_grad", "gradient", dy)) ||
      failed(checkNCHW(getLoc(), "adaptive_avg_pool2d_grad", "result", dx)))
    return failure();
  if (dy[0] != dx[0] || dy[1] != dx[1] || dx[2] < 1 || dx[3] < 1)
    return emitOpError("result ")
           << shapeString(dx) << " does not pool to the gradient's shape "
           << shapeString(dy);
  return success();
}
