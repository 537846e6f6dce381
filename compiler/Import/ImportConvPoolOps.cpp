//===- ImportConvPoolOps.cpp - ConvPool: aten ops to nn ops ---------------===//
//
// conv2d (scripted aten::conv2d, traced aten::_convolution) and 2-d max,
// average and adaptive average pooling. Window arguments are pairs; a single
// value is used for both dimensions, as PyTorch does. The 1-d convolutions
// and poolings are the 2-d ops on a [N, C, 1, L] view of the [N, C, L]
// input (their windows 1 high), so they share the 2-d kernels and
// gradients. Nearest upsampling (nn.Upsample, F.interpolate) by whole
// factors is a broadcast of each pixel, built from Shape ops; bilinear and
// 1-d linear interpolation are matrix products by constant interpolation
// matrices.
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

/// The number of spatial dimensions of a convolution or pooling: 1 for the
/// [N, C, L] ops (conv1d, max_pool1d, ...), 2 for the [N, C, H, W] ones.
enum class Spatial { Line = 1, Image = 2 };

/// A window argument as the (height, width) pair of the 2-d op: for a 2-d
/// op the pair (one value meaning both); for a 1-d op its one value (or a
/// one-element list) along the width of the [N, C, 1, L] view, with
/// `height` (the value that leaves the unit height alone: kernel, stride
/// and dilation 1, padding 0) for the height.
FailureOr<SmallVector<int64_t>> windowArg(Importer &im, jit::Node *node,
                                          size_t input, StringRef what,
                                          Spatial spatial, int64_t height) {
  if (spatial == Spatial::Image)
    return pairArg(im, node, input, what);
  auto list = im.intListArg(node, input);
  if (failed(list))
    return failure();
  if (list->size() != 1)
    return im.error(node) << "'" << node->kind().toQualString() << "': " << what
                          << " must have 1 value, got " << list->size(),
           failure();
  return SmallVector<int64_t>{height, list->front()};
}

/// `x` with a unit dimension inserted before its last one: [N, C, L] ->
/// [N, C, 1, L] (and a 1-d weight [O, I, K] -> [O, I, 1, K]).
Value insertUnitHeight(Importer &im, Location loc, Value x) {
  auto type = cast<RankedTensorType>(x.getType());
  SmallVector<int64_t> shape(type.getShape());
  shape.insert(shape.end() - 1, 1);
  return im.getBuilder().create<nn::ReshapeOp>(
      loc, RankedTensorType::get(shape, type.getElementType()), x);
}

/// The inverse of insertUnitHeight: [N, C, 1, L] -> [N, C, L].
Value dropUnitHeight(Importer &im, Location loc, Value x) {
  auto type = cast<RankedTensorType>(x.getType());
  SmallVector<int64_t> shape(type.getShape());
  shape.erase(shape.end() - 2);
  return im.getBuilder().create<nn::ReshapeOp>(
      loc, RankedTensorType::get(shape, type.getElementType()), x);
}

/// Binds `node` to the 2-d op's result `y`, seen as [N, C, L] for a 1-d op.
LogicalResult bindSpatial(Importer &im, jit::Node *node, FailureOr<Value> y,
                          Spatial spatial) {
  if (failed(y))
    return failure();
  if (spatial == Spatial::Line)
    return im.bind(node, dropUnitHeight(im, im.locOf(node), *y));
  return im.bind(node, *y);
}

NamedAttribute pairAttr(Importer &im, StringRef name, ArrayRef<int64_t> v) {
  OpBuilder &b = im.getBuilder();
  return b.getNamedAttr(name, b.getDenseI64ArrayAttr(v));
}

/// Checks that `x` is a batch [N, C, H, W], or [N, C, L] for a 1-d op
/// (unbatched [C, H, W] and [C, L] inputs are not supported).
LogicalResult checkBatched(Importer &im, jit::Node *node, Value x,
                           Spatial spatial = Spatial::Image) {
  auto type = cast<RankedTensorType>(x.getType());
  if (type.getRank() != 2 + static_cast<int64_t>(spatial))
    return im.error(node) << "'" << node->kind().toQualString()
                          << "' expects a batch "
                          << (spatial == Spatial::Image ? "[N, C, H, W]"
                                                        : "[N, C, L]")
                          << ", got " << type;
  return success();
}

/// The input `x` of a convolution or pooling after checkBatched, as the
/// 2-d op reads it: [N, C, 1, L] for a 1-d op.
FailureOr<Value> spatialInput(Importer &im, jit::Node *node, size_t input,
                              Spatial spatial) {
  auto x = im.tensorArg(node, input);
  if (failed(x) || failed(checkBatched(im, node, *x, spatial)))
    return failure();
  if (spatial == Spatial::Line)
    return insertUnitHeight(im, im.locOf(node), *x);
  return *x;
}

/// conv1d / conv2d(input, weight, bias, stride, padding, dilation, groups)
/// with the padding given as integers or as 'valid' / 'same'. A 1-d
/// convolution is the 2-d one of the [N, C, 1, L] view by the [O, I, 1, K]
/// view of its weight.
LogicalResult importConv(Importer &im, jit::Node *node, size_t strideIndex,
                         size_t paddingIndex, size_t dilationIndex,
                         size_t groupsIndex, Spatial spatial) {
  auto x = spatialInput(im, node, 0, spatial);
  auto w = im.tensorArg(node, 1);
  if (failed(x) || failed(w))
    return failure();
  if (spatial == Spatial::Line)
    *w = insertUnitHeight(im, im.locOf(node), *w);
  SmallVector<Value> operands = {*x, *w};
  if (!Importer::isNone(node->input(2))) {
    auto b = im.tensorArg(node, 2);
    if (failed(b))
      return failure();
    operands.push_back(*b);
  }
  auto stride = windowArg(im, node, strideIndex, "stride", spatial, 1);
  auto dilation = windowArg(im, node, dilationIndex, "dilation", spatial, 1);
  auto groups = im.scalarArg(node, groupsIndex);
  if (failed(stride) || failed(dilation) || failed(groups))
    return failure();

  StringRef name = spatial == Spatial::Line ? "conv1d" : "conv2d";
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
          return im.error(node) << name
                                << " with padding='same' and an even "
                                   "effective kernel size (asymmetric "
                                   "padding) is not supported";
        padding.push_back(total / 2);
      }
      if ((*stride)[0] != 1 || (*stride)[1] != 1)
        return im.error(node) << name << ": padding='same' needs stride 1";
    } else {
      return im.error(node)
             << name << ": unknown padding '" << mode->toStringRef() << "'";
    }
  } else {
    auto pad = windowArg(im, node, paddingIndex, "padding", spatial, 0);
    if (failed(pad))
      return failure();
    padding = *pad;
  }
  OpBuilder &b = im.getBuilder();
  return bindSpatial(
      im, node,
      im.create<nn::Conv2dOp>(
          im.locOf(node), operands,
          {pairAttr(im, "stride", *stride), pairAttr(im, "padding", padding),
           pairAttr(im, "dilation", *dilation),
           b.getNamedAttr("groups",
                          b.getI64IntegerAttr(static_cast<int64_t>(*groups)))}),
      spatial);
}

// conv2d(input, weight, bias, stride, padding, dilation, groups)
LogicalResult importConv2d(Importer &im, jit::Node *node) {
  return importConv(im, node, 3, 4, 5, 6, Spatial::Image);
}

// conv1d(input, weight, bias, stride, padding, dilation, groups)
LogicalResult importConv1d(Importer &im, jit::Node *node) {
  return importConv(im, node, 3, 4, 5, 6, Spatial::Line);
}

/// A transposed convolution (ConvTranspose2d) of input [N, C_in, H, W] with
/// weight [C_in, C_out / groups, KH, KW]: the input gradient of the
/// convolution by that weight (nn.conv2d_input_grad, differentiable for
/// this), whose output size
///   OH = (H - 1) * stride - 2 * padding + dilation * (KH - 1)
///        + output_padding + 1
/// is the one input size of that convolution which output_padding picks;
/// then the bias per output channel. ConvTranspose1d is this on the
/// [N, C_in, 1, L] view with the weight [C_in, C_out / groups, 1, K].
LogicalResult importConvTranspose(Importer &im, jit::Node *node,
                                  size_t strideIndex, size_t paddingIndex,
                                  size_t outputPaddingIndex, size_t groupsIndex,
                                  size_t dilationIndex, Spatial spatial) {
  auto x = spatialInput(im, node, 0, spatial);
  auto w = im.tensorArg(node, 1);
  if (failed(x) || failed(w))
    return failure();
  if (spatial == Spatial::Line)
    *w = insertUnitHeight(im, im.locOf(node), *w);
  auto stride = windowArg(im, node, strideIndex, "stride", spatial, 1);
  auto padding = windowArg(im, node, paddingIndex, "padding", spatial, 0);
  auto outputPadding =
      windowArg(im, node, outputPaddingIndex, "output_padding", spatial, 0);
  auto dilation = windowArg(im, node, dilationIndex, "dilation", spatial, 1);
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
    auto sum = im.create<nn::AddOp>(loc, {y, column}, {alphaAttr(b, y, 1.0)});
    if (failed(sum))
      return failure();
    y = *sum;
  }
  return bindSpatial(im, node, y, spatial);
}

// conv_transpose2d(input, weight, bias, stride, padding, output_padding,
// groups, dilation), as scripted nn.ConvTranspose2d calls it.
LogicalResult importConvTranspose2d(Importer &im, jit::Node *node) {
  return importConvTranspose(im, node, 3, 4, 5, 6, 7, Spatial::Image);
}

// conv_transpose1d(...), the same arguments.
LogicalResult importConvTranspose1d(Importer &im, jit::Node *node) {
  return importConvTranspose(im, node, 3, 4, 5, 6, 7, Spatial::Line);
}

// _convolution(input, weight, bias, stride, padding, dilation, transposed,
// output_padding, groups, ...) as traced; convolution(...) without the
// backend flags.
// The input's rank tells a 1-d from a 2-d convolution.
LogicalResult importConvolution(Importer &im, jit::Node *node) {
  auto transposed = im.scalarArg(node, 6);
  auto x = im.tensorArg(node, 0);
  if (failed(transposed) || failed(x))
    return failure();
  int64_t rank = cast<RankedTensorType>(x->getType()).getRank();
  if (rank != 3 && rank != 4)
    return im.error(node) << "only 1-d and 2-d convolutions (inputs [N, C, "
                             "L] and [N, C, H, W]) are supported, got "
                          << x->getType();
  Spatial spatial = rank == 3 ? Spatial::Line : Spatial::Image;
  if (*transposed != 0.0)
    return importConvTranspose(im, node, 3, 4, 7, 8, 5, spatial);
  return importConv(im, node, 3, 4, 5, 8, spatial);
}

// _convolution_mode(input, weight, bias, stride, padding, dilation, groups),
// a traced convolution with padding='same' or 'valid'.
LogicalResult importConvolutionMode(Importer &im, jit::Node *node) {
  auto x = im.tensorArg(node, 0);
  if (failed(x))
    return failure();
  int64_t rank = cast<RankedTensorType>(x->getType()).getRank();
  return importConv(im, node, 3, 4, 5, 6,
                    rank == 3 ? Spatial::Line : Spatial::Image);
}

// max_pool1d / max_pool2d(input, kernel_size, stride, padding, dilation,
// ceil_mode)
LogicalResult importMaxPool(Importer &im, jit::Node *node, Spatial spatial) {
  auto x = spatialInput(im, node, 0, spatial);
  if (failed(x))
    return failure();
  auto kernel = windowArg(im, node, 1, "kernel_size", spatial, 1);
  auto strideList = im.intListArg(node, 2);
  auto padding = windowArg(im, node, 3, "padding", spatial, 0);
  auto dilation = windowArg(im, node, 4, "dilation", spatial, 1);
  auto ceilMode = im.scalarArg(node, 5);
  if (failed(kernel) || failed(strideList) || failed(padding) ||
      failed(dilation) || failed(ceilMode))
    return failure();
  // An empty stride means the kernel size.
  auto stride = strideList->empty()
                    ? kernel
                    : windowArg(im, node, 2, "stride", spatial, 1);
  if (failed(stride))
    return failure();
  SmallVector<NamedAttribute> attrs = {
      pairAttr(im, "kernel_size", *kernel), pairAttr(im, "stride", *stride),
      pairAttr(im, "padding", *padding), pairAttr(im, "dilation", *dilation)};
  if (*ceilMode != 0.0)
    attrs.push_back(im.getBuilder().getNamedAttr(
        "ceil_mode", im.getBuilder().getUnitAttr()));
  return bindSpatial(im, node,
                     im.create<nn::MaxPool2dOp>(im.locOf(node), {*x}, attrs),
                     spatial);
}

LogicalResult importMaxPool2d(Importer &im, jit::Node *node) {
  return importMaxPool(im, node, Spatial::Image);
}

LogicalResult importMaxPool1d(Importer &im, jit::Node *node) {
  return importMaxPool(im, node, Spatial::Line);
}

LogicalResult importMaxPoolWithIndices(Importer &im, jit::Node *node) {
  bool line = node->kind() == c10::aten::max_pool1d_with_indices;
  return im.error(node) << (line ? "max_pool1d" : "max_pool2d")
                        << " with return_indices=True is not supported";
}

// avg_pool1d(input, kernel_size, stride, padding, ceil_mode,
// count_include_pad) and avg_pool2d(..., divisor_override)
LogicalResult importAvgPool(Importer &im, jit::Node *node, Spatial spatial) {
  auto x = spatialInput(im, node, 0, spatial);
  if (failed(x))
    return failure();
  auto kernel = windowArg(im, node, 1, "kernel_size", spatial, 1);
  auto strideList = im.intListArg(node, 2);
  auto padding = windowArg(im, node, 3, "padding", spatial, 0);
  auto ceilMode = im.scalarArg(node, 4);
  auto countIncludePad = im.scalarArg(node, 5);
  if (failed(kernel) || failed(strideList) || failed(padding) ||
      failed(ceilMode) || failed(countIncludePad))
    return failure();
  auto stride = strideList->empty()
                    ? kernel
                    : windowArg(im, node, 2, "stride", spatial, 1);
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
  return bindSpatial(im, node,
                     im.create<nn::AvgPool2dOp>(im.locOf(node), {*x}, attrs),
                     spatial);
}

LogicalResult importAvgPool2d(Importer &im, jit::Node *node) {
  return importAvgPool(im, node, Spatial::Image);
}

LogicalResult importAvgPool1d(Importer &im, jit::Node *node) {
  return importAvgPool(im, node, Spatial::Line);
}

// adaptive_avg_pool1d / adaptive_avg_pool2d(input, output_size)
LogicalResult importAdaptiveAvgPool(Importer &im, jit::Node *node,
                                    Spatial spatial) {
  auto x = spatialInput(im, node, 0, spatial);
  if (failed(x))
    return failure();
  auto size = windowArg(im, node, 1, "output_size", spatial, 1);
  if (failed(size))
    return failure();
  return bindSpatial(
      im, node,
      im.create<nn::AdaptiveAvgPool2dOp>(im.locOf(node), {*x},
                                         {pairAttr(im, "output_size", *size)}),
      spatial);
}

LogicalResult importAdaptiveAvgPool2d(Importer &im, jit::Node *node) {
  return importAdaptiveAvgPool(im, node, Spatial::Image);
}

LogicalResult importAdaptiveAvgPool1d(Importer &im, jit::Node *node) {
  return importAdaptiveAvgPool(im, node, Spatial::Line);
}

// adaptive_max_pool1d(input, output_size) -> (output, indices). Where the
// length L is a multiple of the output size S, PyTorch's windows
// [floor(i L / S), ceil((i + 1) L / S)) are the disjoint windows of
// max_pool1d with kernel and stride L / S; other lengths (overlapping
// windows) and the indices (the second output, which stays unbound, so a
// use of it is an error) are not supported.
LogicalResult importAdaptiveMaxPool1d(Importer &im, jit::Node *node) {
  auto x = spatialInput(im, node, 0, Spatial::Line);
  if (failed(x))
    return failure();
  auto size = windowArg(im, node, 1, "output_size", Spatial::Line, 1);
  if (failed(size))
    return failure();
  int64_t length = cast<RankedTensorType>(x->getType()).getDimSize(3);
  int64_t out = (*size)[1];
  if (out < 1 || length % out != 0)
    return im.error(node) << "adaptive_max_pool1d from length " << length
                          << " to " << out
                          << " is not supported (only to a divisor of the "
                             "length, whose windows do not overlap)";
  SmallVector<int64_t> window = {1, length / out};
  return bindSpatial(
      im, node,
      im.create<nn::MaxPool2dOp>(
          im.locOf(node), {*x},
          {pairAttr(im, "kernel_size", window), pairAttr(im, "stride", window),
           pairAttr(im, "padding", {0, 0}), pairAttr(im, "dilation", {1, 1})}),
      Spatial::Line);
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

/// The sizes of an upsampling along its `rank` spatial dimensions (the last
/// ones of its input) and the scale factors given, which PyTorch's kernels
/// use instead of the size ratio where given.
struct UpsampleGeometry {
  SmallVector<int64_t, 2> in, out;
  SmallVector<std::optional<double>, 2> scales;
};

/// Reads output_size (input 1) and, from input `scalesIndex`, the .vec
/// form's scale_factors list (the output size then floor(input * scale),
/// as PyTorch computes it) or the other form's one scale per dimension
/// (scales_h, scales_w; or scales).
FailureOr<UpsampleGeometry> upsampleGeometry(Importer &im, jit::Node *node,
                                             RankedTensorType type,
                                             Spatial spatial,
                                             size_t scalesIndex, bool vec) {
  int rank = static_cast<int>(spatial);
  UpsampleGeometry g;
  llvm::append_range(g.in, type.getShape().take_back(rank));
  g.out = g.in;
  g.scales.resize(rank);
  bool sized = !Importer::isNone(node->input(1));
  if (sized) {
    auto size = windowArg(im, node, 1, "output_size", spatial, 1);
    if (failed(size))
      return failure();
    g.out.assign(size->end() - rank, size->end());
  }
  for (int d = 0; d < rank; ++d) {
    jit::Value *given =
        vec ? node->input(scalesIndex) : node->input(scalesIndex + d);
    if (Importer::isNone(given))
      continue;
    std::optional<c10::IValue> value = im.constant(given);
    if (!value || !(value->isDoubleList() || value->isDouble()))
      return im.error(node) << "'" << node->kind().toQualString()
                            << "': the scale factors must be constants",
             failure();
    if (value->isDouble()) {
      g.scales[d] = value->toDouble();
    } else {
      auto list = value->toDoubleList();
      if (static_cast<int>(list.size()) != rank)
        return im.error(node)
                   << "'" << node->kind().toQualString() << "': expected "
                   << rank << " scale factors, got " << list.size(),
               failure();
      g.scales[d] = list.get(d);
    }
    if (vec)
      g.out[d] = static_cast<int64_t>(std::floor(g.in[d] * *g.scales[d]));
  }
  if (vec && !sized && !g.scales[0])
    return im.error(node) << "'" << node->kind().toQualString()
                          << "': neither output_size nor scale_factors given",
           failure();
  for (int d = 0; d < rank; ++d)
    if (g.out[d] < 1)
      return im.error(node)
                 << "'" << node->kind().toQualString() << "': upsampling "
                 << g.in[d] << " to " << g.out[d] << " gives an empty output",
             failure();
  return g;
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
  auto geometry = upsampleGeometry(im, node, type, Spatial::Image, 2,
                                   node->inputs().size() == 3);
  if (failed(geometry))
    return failure();
  ArrayRef<int64_t> in = geometry->in, out = geometry->out;
  ArrayRef<std::optional<double>> scales = geometry->scales;
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

/// PyTorch's linear interpolation weights along one dimension, as the
/// [out, in] matrix whose row o holds the weights of output o (two nonzeros;
/// one where the source position falls on a pixel). LibTorch computes them:
/// the interpolation of `in` unit impulses, one per channel, along the
/// interpolated dimension, so that align_corners, the scale factor and the
/// float arithmetic of its area_pixel_compute_source_index are PyTorch's.
/// `bilinear` interpolates a [1, in, 1, in] image along its width (its
/// height 1 to 1 is an exact copy), as upsample_bilinear2d does each
/// dimension; otherwise upsample_linear1d interpolates [1, in, in].
at::Tensor interpolationMatrix(int64_t in, int64_t out, bool alignCorners,
                               std::optional<double> scale, bool bilinear) {
  c10::optional<double> torchScale;
  if (scale)
    torchScale = *scale;
  at::Tensor impulses = at::eye(in, at::kFloat);
  at::Tensor weights =
      bilinear
          ? at::upsample_bilinear2d(impulses.view({1, in, 1, in}), {1, out},
                                    alignCorners, c10::nullopt, torchScale)
          : at::upsample_linear1d(impulses.view({1, in, in}), {out},
                                  alignCorners, torchScale);
  return weights.reshape({in, out}).t().contiguous();
}

/// `matrix` (f32, 2-d) as an nn.constant.
Value matrixConstant(Importer &im, Location loc, const at::Tensor &matrix) {
  auto type = RankedTensorType::get({matrix.size(0), matrix.size(1)},
                                    im.getBuilder().getF32Type());
  auto values = ArrayRef<float>(matrix.data_ptr<float>(),
                                static_cast<size_t>(matrix.numel()));
  return im.getBuilder().create<nn::ConstantOp>(
      loc, DenseElementsAttr::get(type, values));
}

// upsample_bilinear2d(input, output_size, align_corners, scales_h?,
// scales_w?) and its .vec form (input, output_size?, align_corners,
// scale_factors?); upsample_linear1d(input, output_size, align_corners,
// scales?) and its .vec form, on [N, C, L]. Interpolation is separable and
// linear: along the width x @ A_w^T, then along the height A_h @ (that),
// with A the constant interpolation matrices of interpolationMatrix. This
// is PyTorch's order, h0 * (w0 a + w1 b) + h1 * (w0 c + w1 d), its weights,
// and the other terms of the products are exact zeros; the gradient is
// matmul's. A dimension whose matrix is the identity (same size, no
// scale) is left alone, as PyTorch copies it.
LogicalResult importUpsampleLinear(Importer &im, jit::Node *node) {
  bool bilinear = node->kind() == c10::aten::upsample_bilinear2d;
  Spatial spatial = bilinear ? Spatial::Image : Spatial::Line;
  auto x = im.tensorArg(node, 0);
  auto alignCorners = im.scalarArg(node, 2);
  if (failed(x) || failed(checkBatched(im, node, *x, spatial)) ||
      failed(alignCorners))
    return failure();
  auto type = cast<RankedTensorType>(x->getType());
  // The .vec overloads take a list of scale factors, the others one scale
  // per dimension (for upsample_linear1d the same number of inputs).
  const c10::FunctionSchema *schema = node->maybeSchema();
  bool vec = schema && schema->overload_name() == "vec";
  auto geometry = upsampleGeometry(im, node, type, spatial, 3, vec);
  if (failed(geometry))
    return failure();
  Location loc = im.locOf(node);
  Value y = *x;
  int rank = static_cast<int>(spatial);
  // The width (the last dimension) first, then the height.
  for (int d = rank - 1; d >= 0; --d) {
    at::Tensor matrix = interpolationMatrix(geometry->in[d], geometry->out[d],
                                            *alignCorners != 0.0,
                                            geometry->scales[d], bilinear);
    if (matrix.size(0) == matrix.size(1) &&
        at::equal(matrix, at::eye(matrix.size(0), at::kFloat)))
      continue;
    Value a = matrixConstant(im, loc, matrix);
    OpBuilder &b = im.getBuilder();
    bool width = d == rank - 1;
    auto product = im.create<nn::MatmulOp>(
        loc, width ? ValueRange{y, a} : ValueRange{a, y},
        width ? ArrayRef<NamedAttribute>{b.getNamedAttr("transpose_rhs",
                                                        b.getUnitAttr())}
              : ArrayRef<NamedAttribute>{});
    if (failed(product))
      return failure();
    y = *product;
  }
  if (y == *x)
    y = im.getBuilder().create<nn::CopyOp>(loc, *x);
  return im.bind(node, y);
}

} // namespace

void dpc::registerConvPoolImporters(NodeImporterTable &table, MLIRContext &) {
  table[c10::aten::conv1d] = importConv1d;
  table[c10::aten::conv2d] = importConv2d;
  table[c10::aten::_convolution] = importConvolution;
  table[c10::aten::convolution] = importConvolution;
  table[c10::aten::_convolution_mode] = importConvolutionMode;
  table[c10::aten::conv_transpose1d] = importConvTranspose1d;
  table[c10::aten::conv_transpose2d] = importConvTranspose2d;
  table[c10::aten::max_pool1d] = importMaxPool1d;
  table[c10::aten::max_pool2d] = importMaxPool2d;
  table[c10::aten::max_pool1d_with_indices] = importMaxPoolWithIndices;
  table[c10::aten::max_pool2d_with_indices] = importMaxPoolWithIndices;
  table[c10::aten::avg_pool1d] = importAvgPool1d;
  table[c10::aten::avg_pool2d] = importAvgPool2d;
  table[c10::aten::adaptive_avg_pool1d] = importAdaptiveAvgPool1d;
  table[c10::aten::adaptive_avg_pool2d] = importAdaptiveAvgPool2d;
  table[c10::aten::adaptive_max_pool1d] = importAdaptiveMaxPool1d;
  table[c10::aten::upsample_nearest2d] = importUpsampleNearest2d;
  table[c10::aten::_upsample_nearest_exact2d] = importUpsampleNearest2d;
  table[c10::aten::upsample_bilinear2d] = importUpsampleLinear;
  table[c10::aten::upsample_linear1d] = importUpsampleLinear;
}
