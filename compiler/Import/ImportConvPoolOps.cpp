//===- ImportConvPoolOps.cpp - ConvPool: aten ops to nn ops ---------------===//
//
// conv2d (scripted aten::conv2d, traced aten::_convolution) and 2-d max,
// average and adaptive average pooling. Window arguments are pairs; a single
// value is used for both dimensions, as PyTorch does. Nearest upsampling
// (nn.Upsample, F.interpolate) by whole factors is a broadcast of each
// pixel, built from Shape ops.
//
//===----------------------------------------------------------------------===//

#include "compiler/Import/ImportArgs.h"
#include "compiler/Import/Importer.h"

#include "dialects/NN/IR/NNOps.h"

#include "mlir/IR/Verifier.h"

#include <algorithm>
#include <cmath>
#include <optional>

using namespace mlir;
using namespace dpc;

namespace {

/// A constant (height, width) pair argument; one value means both.
FailureOr<SmallVector<int64_t>> pairArg(Importer &im, jit::Node *node,
                                        size_t input, StringRef what) {
  auto list = im.intListArg(node, input);
  if (failed(list))
    return failure();
  if (list->size() == 1)
    list->push_back(list->front());
  if (list->size() != 2)
    return im.error(node) << "'" << node->kind().toQualString() << "': " << what
                          << " must have 1 or 2 values, got " << list->size(),
           failure();
  return list;
}

NamedAttribute pairAttr(Importer &im, StringRef name, ArrayRef<int64_t> v) {
  OpBuilder &b = im.getBuilder();
  return b.getNamedAttr(name, b.getDenseI64ArrayAttr(v));
}

/// Checks that `x` is a batch [N, C, H, W] (unbatched [C, H, W] inputs are
/// not supported).
LogicalResult checkBatched(Importer &im, jit::Node *node, Value x) {
  auto type = cast<RankedTensorType>(x.getType());
  if (type.getRank() != 4)
    return im.error(node) << "'" << node->kind().toQualString()
                          << "' expects a batch [N, C, H, W], got " << type;
  return success();
}

/// conv2d(input, weight, bias, stride, padding, dilation, groups) with the
/// padding given as integers or as 'valid' / 'same'.
LogicalResult importConv(Importer &im, jit::Node *node, size_t strideIndex,
                         size_t paddingIndex, size_t dilationIndex,
                         size_t groupsIndex) {
  auto x = im.tensorArg(node, 0), w = im.tensorArg(node, 1);
  if (failed(x) || failed(w) || failed(checkBatched(im, node, *x)))
    return failure();
  SmallVector<Value> operands = {*x, *w};
  if (!Importer::isNone(node->input(2))) {
    auto b = im.tensorArg(node, 2);
    if (failed(b))
      return failure();
    operands.push_back(*b);
  }
  auto stride = pairArg(im, node, strideIndex, "stride");
  auto dilation = pairArg(im, node, dilationIndex, "dilation");
  auto groups = im.scalarArg(node, groupsIndex);
  if (failed(stride) || failed(dilation) || failed(groups))
    return failure();

  SmallVector<int64_t> padding;
  std::optional<c10::IValue> mode = im.constant(node->input(paddingIndex));
  if (mode && mode->isString()) {
    ArrayRef<int64_t> kernel =
        cast<RankedTensorType>(w->getType()).getShape().drop_front(2);
    if (mode->toStringRef() == "valid") {
      padding = {0, 0};
    } else if (mode->toStringRef() == "same") {
      // Symmetric padding only: PyTorch pads an odd total on the right,
      // which needs an asymmetric pad.
      for (int i = 0; i < 2; ++i) {
        int64_t total = (*dilation)[i] * (kernel[i] - 1);
        if (total % 2 != 0)
          return im.error(node) << "conv2d with padding='same' and an even "
                                   "effective kernel size (asymmetric "
                                   "padding) is not supported";
        padding.push_back(total / 2);
      }
      if ((*stride)[0] != 1 || (*stride)[1] != 1)
        return im.error(node) << "conv2d: padding='same' needs stride 1";
    } else {
      return im.error(node)
             << "conv2d: unknown padding '" << mode->toStringRef() << "'";
    }
  } else {
    auto pad = pairArg(im, node, paddingIndex, "padding");
    if (failed(pad))
      return failure();
    padding = *pad;
  }
  OpBuilder &b = im.getBuilder();
  return im.bind(
      node,
      im.create<nn::Conv2dOp>(
          im.locOf(node), operands,
          {pairAttr(im, "stride", *stride), pairAttr(im, "padding", padding),
           pairAttr(im, "dilation", *dilation),
           b.getNamedAttr(
               "groups", b.getI64IntegerAttr(static_cast<int64_t>(*groups)))}));
}

// conv2d(input, weight, bias, stride, padding, dilation, groups)
LogicalResult importConv2d(Importer &im, jit::Node *node) {
  return importConv(im, node, 3, 4, 5, 6);
}

/// A transposed convolution (ConvTranspose2d) of input [N, C_in, H, W] with
/// weight [C_in, C_out / groups, KH, KW]: the input gradient of the
/// convolution by that weight (nn.conv2d_input_grad, differentiable for
/// this), whose output size
///   OH = (H - 1) * stride - 2 * padding + dilation * (KH - 1)
///        + output_padding + 1
/// is the one input size of that convolution which output_padding picks;
/// then the bias per output channel.
LogicalResult importConvTranspose(Importer &im, jit::Node *node,
                                  size_t strideIndex, size_t paddingIndex,
                                  size_t outputPaddingIndex, size_t groupsIndex,
                                  size_t dilationIndex) {
  auto x = im.tensorArg(node, 0), w = im.tensorArg(node, 1);
  if (failed(x) || failed(w) || failed(checkBatched(im, node, *x)))
    return failure();
  auto stride = pairArg(im, node, strideIndex, "stride");
  auto padding = pairArg(im, node, paddingIndex, "padding");
  auto outputPadding = pairArg(im, node, outputPaddingIndex, "output_padding");
  auto dilation = pairArg(im, node, dilationIndex, "dilation");
  auto groups = im.scalarArg(node, groupsIndex);
  if (failed(stride) || failed(padding) || failed(outputPadding) ||
      failed(dilation) || failed(groups))
    return failure();
  auto xType = cast<RankedTensorType>(x->getType());
  auto wType = cast<RankedTensorType>(w->getType());
  int64_t g = static_cast<int64_t>(*groups);
  if (wType.getRank() != 4 || g < 1 ||
      wType.getDimSize(0) != xType.getDimSize(1))
    return im.error(node) << "'" << node->kind().toQualString() << "': weight "
                          << wType << " does not fit the input " << xType
                          << " (expected [C_in, C_out / groups, KH, KW])",
           failure();
  SmallVector<int64_t> shape = {xType.getDimSize(0), wType.getDimSize(1) * g};
  for (int d = 0; d < 2; ++d) {
    int64_t size = (xType.getDimSize(2 + d) - 1) * (*stride)[d] -
                   2 * (*padding)[d] +
                   (*dilation)[d] * (wType.getDimSize(2 + d) - 1) +
                   (*outputPadding)[d] + 1;
    // PyTorch's own check: output_padding must be smaller than the stride
    // or the dilation.
    if ((*outputPadding)[d] < 0 ||
        ((*outputPadding)[d] >= (*stride)[d] &&
         (*outputPadding)[d] >= (*dilation)[d]) ||
        size < 1)
      return im.error(node) << "'" << node->kind().toQualString()
                            << "': output_padding " << (*outputPadding)[d]
                            << " and the geometry give no valid output size",
             failure();
    shape.push_back(size);
  }
  OpBuilder &b = im.getBuilder();
  Location loc = im.locOf(node);
  auto resultType = RankedTensorType::get(shape, xType.getElementType());
  auto op = b.create<nn::Conv2dInputGradOp>(
      loc, resultType, ValueRange{*x, *w},
      ArrayRef<NamedAttribute>{
          pairAttr(im, "stride", *stride), pairAttr(im, "padding", *padding),
          pairAttr(im, "dilation", *dilation),
          b.getNamedAttr("groups", b.getI64IntegerAttr(g))});
  // The convolution's own checks (channels divisible by groups, the output
  // convolving back to the input's size), as a diagnostic at the model.
  if (failed(mlir::verify(op))) {
    op->erase();
    return failure();
  }
  Value y = op.getResult();
  if (!Importer::isNone(node->input(2))) {
    auto bias = im.tensorArg(node, 2);
    if (failed(bias))
      return failure();
    Value column = b.create<nn::ReshapeOp>(
        loc, RankedTensorType::get({shape[1], 1, 1}, xType.getElementType()),
        *bias);
    auto sum = im.create<nn::AddOp>(loc, {y, column}, {alphaAttr(b, 1.0)});
    if (failed(sum))
      return failure();
    y = *sum;
  }
  return im.bind(node, y);
}

// conv_transpose2d(input, weight, bias, stride, padding, output_padding,
// groups, dilation), as scripted nn.ConvTranspose2d calls it.
LogicalResult importConvTranspose2d(Importer &im, jit::Node *node) {
  return importConvTranspose(im, node, 3, 4, 5, 6, 7);
}

// _convolution(input, weight, bias, stride, padding, dilation, transposed,
// output_padding, groups, ...) as traced; convolution(...) without the
// backend flags.
LogicalResult importConvolution(Importer &im, jit::Node *node) {
  auto transposed = im.scalarArg(node, 6);
  if (failed(transposed))
    return failure();
  if (*transposed != 0.0)
    return importConvTranspose(im, node, 3, 4, 7, 8, 5);
  auto x = im.tensorArg(node, 0);
  if (failed(x))
    return failure();
  if (cast<RankedTensorType>(x->getType()).getRank() != 4)
    return im.error(node) << "only 2-d convolutions (inputs [N, C, H, W]) "
                             "are supported, got "
                          << x->getType();
  return importConv(im, node, 3, 4, 5, 8);
}

// max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode)
LogicalResult importMaxPool2d(Importer &im, jit::Node *node) {
  auto x = im.tensorArg(node, 0);
  if (failed(x) || failed(checkBatched(im, node, *x)))
    return failure();
  auto kernel = pairArg(im, node, 1, "kernel_size");
  auto strideList = im.intListArg(node, 2);
  auto padding = pairArg(im, node, 3, "padding");
  auto dilation = pairArg(im, node, 4, "dilation");
  auto ceilMode = im.scalarArg(node, 5);
  if (failed(kernel) || failed(strideList) || failed(padding) ||
      failed(dilation) || failed(ceilMode))
    return failure();
  // An empty stride means the kernel size.
  auto stride = strideList->empty() ? kernel : pairArg(im, node, 2, "stride");
  if (failed(stride))
    return failure();
  SmallVector<NamedAttribute> attrs = {
      pairAttr(im, "kernel_size", *kernel), pairAttr(im, "stride", *stride),
      pairAttr(im, "padding", *padding), pairAttr(im, "dilation", *dilation)};
  if (*ceilMode != 0.0)
    attrs.push_back(im.getBuilder().getNamedAttr(
        "ceil_mode", im.getBuilder().getUnitAttr()));
  return im.bind(node, im.create<nn::MaxPool2dOp>(im.locOf(node), {*x}, attrs));
}

LogicalResult importMaxPool2dWithIndices(Importer &im, jit::Node *node) {
  return im.error(node) << "max_pool2d with return_indices=True is not "
                           "supported";
}

// avg_pool2d(input, kernel_size, stride, padding, ceil_mode,
// count_include_pad, divisor_override)
LogicalResult importAvgPool2d(Importer &im, jit::Node *node) {
  auto x = im.tensorArg(node, 0);
  if (failed(x) || failed(checkBatched(im, node, *x)))
    return failure();
  auto kernel = pairArg(im, node, 1, "kernel_size");
  auto strideList = im.intListArg(node, 2);
  auto padding = pairArg(im, node, 3, "padding");
  auto ceilMode = im.scalarArg(node, 4);
  auto countIncludePad = im.scalarArg(node, 5);
  if (failed(kernel) || failed(strideList) || failed(padding) ||
      failed(ceilMode) || failed(countIncludePad))
    return failure();
  auto stride = strideList->empty() ? kernel : pairArg(im, node, 2, "stride");
  if (failed(stride))
    return failure();
  OpBuilder &b = im.getBuilder();
  SmallVector<NamedAttribute> attrs = {pairAttr(im, "kernel_size", *kernel),
                                       pairAttr(im, "stride", *stride),
                                       pairAttr(im, "padding", *padding)};
  if (*ceilMode != 0.0)
    attrs.push_back(b.getNamedAttr("ceil_mode", b.getUnitAttr()));
  if (*countIncludePad != 0.0)
    attrs.push_back(b.getNamedAttr("count_include_pad", b.getUnitAttr()));
  if (node->inputs().size() > 6 && !Importer::isNone(node->input(6))) {
    auto divisor = im.scalarArg(node, 6);
    if (failed(divisor))
      return failure();
    attrs.push_back(
        b.getNamedAttr("divisor_override",
                       b.getI64IntegerAttr(static_cast<int64_t>(*divisor))));
  }
  return im.bind(node, im.create<nn::AvgPool2dOp>(im.locOf(node), {*x}, attrs));
}

// adaptive_avg_pool2d(input, output_size)
LogicalResult importAdaptiveAvgPool2d(Importer &im, jit::Node *node) {
  auto x = im.tensorArg(node, 0);
  if (failed(x) || failed(checkBatched(im, node, *x)))
    return failure();
  auto size = pairArg(im, node, 1, "output_size");
  if (failed(size))
    return failure();
  return im.bind(
      node, im.create<nn::AdaptiveAvgPool2dOp>(
                im.locOf(node), {*x}, {pairAttr(im, "output_size", *size)}));
}

/// The input pixel torch 1.13's CPU kernel reads for output pixel `dst`
/// along one dimension (aten/src/ATen/native/UpSample.h: nearest_idx and
/// nearest_exact_idx, with compute_scales_value's float scale).
int64_t nearestSource(int64_t dst, int64_t in, int64_t out,
                      std::optional<double> scaleFactor, bool exact) {
  if (out == in)
    return dst;
  if (!exact && out == 2 * in)
    return dst >> 1;
  float scale = scaleFactor ? static_cast<float>(1.0 / *scaleFactor)
                            : static_cast<float>(in) / static_cast<float>(out);
  float position = exact ? (static_cast<float>(dst) + 0.5f) * scale
                         : static_cast<float>(dst) * scale;
  return std::min(static_cast<int64_t>(std::floor(position)), in - 1);
}

// upsample_nearest2d.vec(input, output_size?, scale_factors?) and
// upsample_nearest2d(input, output_size, scales_h?, scales_w?), and the
// same of _upsample_nearest_exact2d ('nearest-exact'). Supported where the
// output repeats every input pixel s_h x s_w times, as PyTorch's index
// arithmetic gives for whole factors (checked index by index): then
// reshape [N, C, H, 1, W, 1], broadcast_to [N, C, H, s_h, W, s_w] and
// reshape [N, C, H s_h, W s_w] is the same tensor, and broadcast_to's
// gradient (the sum over each pixel's copies) is upsampling's.
LogicalResult importUpsampleNearest2d(Importer &im, jit::Node *node) {
  auto x = im.tensorArg(node, 0);
  if (failed(x) || failed(checkBatched(im, node, *x)))
    return failure();
  bool exact = node->kind() == c10::aten::_upsample_nearest_exact2d;
  auto type = cast<RankedTensorType>(x->getType());
  int64_t in[2] = {type.getDimSize(2), type.getDimSize(3)};
  std::optional<double> scales[2];
  int64_t out[2];
  bool vec = node->inputs().size() == 3;
  if (!Importer::isNone(node->input(1))) {
    auto size = pairArg(im, node, 1, "output_size");
    if (failed(size))
      return failure();
    out[0] = (*size)[0];
    out[1] = (*size)[1];
  }
  // The scales: the .vec form's scale_factors list (then the output size
  // is floor(input * scale)), or the other form's scales_h, scales_w.
  for (int d = 0; d < 2; ++d) {
    jit::Value *given = vec ? node->input(2) : node->input(2 + d);
    if (Importer::isNone(given))
      continue;
    std::optional<c10::IValue> value = im.constant(given);
    if (!value || !(value->isDoubleList() || value->isDouble()))
      return im.error(node) << "'" << node->kind().toQualString()
                            << "': the scale factors must be constants",
             failure();
    if (value->isDouble()) {
      scales[d] = value->toDouble();
    } else {
      auto list = value->toDoubleList();
      if (list.size() != 2)
        return im.error(node)
                   << "'" << node->kind().toQualString()
                   << "': expected 2 scale factors, got " << list.size(),
               failure();
      scales[d] = list.get(d);
    }
    if (vec)
      out[d] = static_cast<int64_t>(std::floor(in[d] * *scales[d]));
  }
  if (vec && Importer::isNone(node->input(1)) && !scales[0])
    return im.error(node) << "'" << node->kind().toQualString()
                          << "': neither output_size nor scale_factors given",
           failure();
  int64_t factor[2];
  for (int d = 0; d < 2; ++d) {
    bool whole = in[d] > 0 && out[d] >= in[d] && out[d] % in[d] == 0;
    factor[d] = whole ? out[d] / in[d] : 0;
    for (int64_t dst = 0; whole && dst < out[d]; ++dst)
      whole = nearestSource(dst, in[d], out[d], scales[d], exact) ==
              dst / factor[d];
    if (!whole)
      return im.error(node) << "'" << node->kind().toQualString()
                            << "': upsampling " << (d == 0 ? "height" : "width")
                            << " " << in[d] << " to " << out[d]
                            << " does not repeat each pixel a whole number of "
                               "times; only nearest upsampling by whole "
                               "factors is supported",
             failure();
  }
  Location loc = im.locOf(node);
  OpBuilder &b = im.getBuilder();
  int64_t n = type.getDimSize(0), c = type.getDimSize(1);
  Type f32 = type.getElementType();
  Value v = b.create<nn::ReshapeOp>(
      loc, RankedTensorType::get({n, c, in[0], 1, in[1], 1}, f32), *x);
  v = b.create<nn::BroadcastToOp>(
      loc,
      RankedTensorType::get({n, c, in[0], factor[0], in[1], factor[1]}, f32),
      v);
  v = b.create<nn::ReshapeOp>(
      loc, RankedTensorType::get({n, c, out[0], out[1]}, f32), v);
  return im.bind(node, v);
}

} // namespace

void dpc::registerConvPoolImporters(NodeImporterTable &table, MLIRContext &) {
  table[c10::aten::conv2d] = importConv2d;
  table[c10::aten::_convolution] = importConvolution;
  table[c10::aten::convolution] = importConvolution;
  table[c10::aten::conv_transpose2d] = importConvTranspose2d;
  table[c10::aten::max_pool2d] = importMaxPool2d;
  table[c10::aten::max_pool2d_with_indices] = importMaxPool2dWithIndices;
  table[c10::aten::avg_pool2d] = importAvgPool2d;
  table[c10::aten::adaptive_avg_pool2d] = importAdaptiveAvgPool2d;
  table[c10::aten::upsample_nearest2d] = importUpsampleNearest2d;
  table[c10::aten::_upsample_nearest_exact2d] = importUpsampleNearest2d;
}
