//===- ImportNormalizationOps.cpp - Normalization: aten ops to nn ops -----===//
//
// batch_norm in training mode (batch statistics, running statistics
// updated) and in evaluation mode (running statistics read only), BatchNorm's
// num_batches_tracked.add_(1), group_norm (and instance_norm without running
// statistics, as group_norm), and layer_norm.
//
//===----------------------------------------------------------------------===//

#include "compiler/Import/ImportArgs.h"
#include "compiler/Import/Importer.h"

#include "dialects/NN/IR/NNOps.h"

#include "mlir/IR/Verifier.h"
#include <cmath>

using namespace mlir;
using namespace dpc;

namespace {

/// A per-channel [C] constant.
Value fill(Importer &im, Location loc, int64_t channels, float value) {
  OpBuilder &b = im.getBuilder();
  return b.create<nn::FillOp>(loc,
                              RankedTensorType::get({channels}, b.getF32Type()),
                              b.getF32FloatAttr(value));
}

// batch_norm(..., training=False, ...): a BatchNorm in .eval() normalizes
// with its running statistics and leaves them as they are.
LogicalResult importBatchNormInference(Importer &im, jit::Node *node, Value x) {
  auto eps = im.scalarArg(node, 7);
  if (failed(eps))
    return failure();
  auto type = cast<RankedTensorType>(x.getType());
  if (type.getRank() < 2)
    return im.error(node) << "batch_norm expects an input [N, C, ...], got "
                          << type;
  int64_t channels = type.getDimSize(1);
  Location loc = im.locOf(node);
  SmallVector<Value> operands = {x};
  float affineDefaults[] = {1.0f, 0.0f};
  for (size_t i = 1; i <= 4; ++i) {
    jit::Value *v = node->input(i);
    if (Importer::isNone(v)) {
      // PyTorch raises for evaluation mode without running statistics.
      if (i >= 3)
        return im.error(node) << "batch_norm in evaluation mode needs the "
                                 "running statistics (running_mean and "
                                 "running_var are None)";
      operands.push_back(fill(im, loc, channels, affineDefaults[i - 1]));
      continue;
    }
    auto t = im.tensorArg(node, i);
    if (failed(t))
      return failure();
    operands.push_back(*t);
  }
  OpBuilder &b = im.getBuilder();
  auto op = im.createOp<nn::BatchNormInferenceOp>(
      loc, operands, {b.getNamedAttr("eps", b.getF64FloatAttr(*eps))});
  if (failed(op) || failed(mlir::verify(*op)))
    return failure();
  return im.bind(node, op->getResult());
}

// batch_norm(input, weight, bias, running_mean, running_var, training,
// momentum, eps, cudnn_enabled)
LogicalResult importBatchNorm(Importer &im, jit::Node *node) {
  auto x = im.tensorArg(node, 0);
  auto training = im.scalarArg(node, 5);
  if (failed(x) || failed(training))
    return failure();
  if (*training == 0.0)
    return importBatchNormInference(im, node, *x);
  std::optional<c10::IValue> momentum = im.constant(node->input(6));
  if (!momentum || !(momentum->isDouble() || momentum->isInt()))
    return im.error(node) << "batch_norm: the momentum must be a constant "
                             "(momentum=None, the cumulative moving "
                             "average, is not supported)";
  auto eps = im.scalarArg(node, 7);
  if (failed(eps))
    return failure();
  auto type = cast<RankedTensorType>(x->getType());
  if (type.getRank() < 2)
    return im.error(node) << "batch_norm expects an input [N, C, ...], got "
                          << type;
  int64_t channels = type.getDimSize(1);
  Location loc = im.locOf(node);

  // Absent affine parameters are ones and zeros; absent running statistics
  // (track_running_stats=False) are throwaway values.
  SmallVector<Value> operands = {*x};
  float defaults[] = {1.0f, 0.0f, 0.0f, 1.0f};
  SmallVector<std::optional<std::string>> buffers;
  for (size_t i = 1; i <= 4; ++i) {
    jit::Value *v = node->input(i);
    if (Importer::isNone(v)) {
      operands.push_back(fill(im, loc, channels, defaults[i - 1]));
      buffers.push_back(std::nullopt);
      continue;
    }
    auto t = im.tensorArg(node, i);
    if (failed(t))
      return failure();
    operands.push_back(*t);
    buffers.push_back(im.bufferName(v));
    if (i >= 3 && !buffers.back())
      return im.error(node)
                 << "batch_norm: the running " << (i == 3 ? "mean" : "variance")
                 << " must be a buffer of the model",
             failure();
  }
  OpBuilder &b = im.getBuilder();
  double momentumValue =
      momentum->isDouble() ? momentum->toDouble() : momentum->toInt();
  auto op = im.createOp<nn::BatchNormOp>(
      loc, operands,
      {b.getNamedAttr("momentum", b.getF64FloatAttr(momentumValue)),
       b.getNamedAttr("eps", b.getF64FloatAttr(*eps))});
  if (failed(op))
    return failure();
  if (failed(mlir::verify(*op)))
    return failure();
  // The new running statistics replace the buffers (PyTorch updates them in
  // place).
  if (buffers[2])
    im.updateBuffer(*buffers[2], op->getNewRunningMean());
  if (buffers[3])
    im.updateBuffer(*buffers[3], op->getNewRunningVar());
  return im.bind(node, op->getResult());
}

// add_(self, other, alpha) on an integer buffer: BatchNorm's
// num_batches_tracked.add_(1). Other in-place ops that remain after
// TorchScript's mutation removal are errors.
LogicalResult importAddInPlace(Importer &im, jit::Node *node) {
  std::optional<std::string> buffer = im.bufferName(node->input(0));
  auto self = im.tensorArg(node, 0);
  if (failed(self))
    return failure();
  std::optional<c10::IValue> other = im.constant(node->input(1));
  std::optional<int64_t> amount;
  if (other && other->isInt())
    amount = other->toInt();
  else if (other && other->isTensor() && other->toTensor().numel() == 1 &&
           !other->toTensor().is_floating_point())
    amount = other->toTensor().item<int64_t>();
  auto alpha = im.scalarArg(node, 2);
  if (failed(alpha))
    return failure();
  auto type = cast<RankedTensorType>(self->getType());
  if (!buffer || !type.getElementType().isInteger(64) || !amount)
    return im.error(node) << "in-place op 'aten::add_' is supported only to "
                             "count in an integer buffer "
                             "(num_batches_tracked.add_(1)); use the "
                             "out-of-place form",
           failure();
  OpBuilder &b = im.getBuilder();
  auto result = im.create<nn::IncrementOp>(
      im.locOf(node), {*self},
      {b.getNamedAttr("amount", b.getI64IntegerAttr(
                                    *amount * static_cast<int64_t>(*alpha)))});
  if (failed(result))
    return failure();
  im.updateBuffer(*buffer, *result, node->output());
  return success();
}

/// nn.group_norm of `x` [N, C, *] with the (optional) affine operands
/// `weightInput` and `biasInput` of `node`, absent ones given as ones and
/// zeros (which changes no bits).
LogicalResult importGroupNormOf(Importer &im, jit::Node *node, Value x,
                                int64_t numGroups, size_t weightInput,
                                size_t biasInput, double eps) {
  auto type = cast<RankedTensorType>(x.getType());
  if (type.getRank() < 2)
    return im.error(node) << node->kind().toQualString()
                          << " expects an input [N, C, ...], got " << type;
  int64_t channels = type.getDimSize(1);
  Location loc = im.locOf(node);
  auto param = [&](size_t input, float value) -> FailureOr<Value> {
    if (Importer::isNone(node->input(input)))
      return fill(im, loc, channels, value);
    return floatTensorArg(im, node, input);
  };
  auto weight = param(weightInput, 1.0f), bias = param(biasInput, 0.0f);
  if (failed(weight) || failed(bias))
    return failure();
  OpBuilder &b = im.getBuilder();
  return im.bind(
      node,
      im.create<nn::GroupNormOp>(
          loc, {x, *weight, *bias},
          {i64Attr(im, "num_groups", numGroups),
           b.getNamedAttr("eps", b.getF32FloatAttr(static_cast<float>(eps)))}));
}

// group_norm(input, num_groups, weight?, bias?, eps, cudnn_enabled)
LogicalResult importGroupNorm(Importer &im, jit::Node *node) {
  auto x = floatTensorArg(im, node, 0);
  auto groups = im.scalarArg(node, 1);
  auto eps = im.scalarArg(node, 4);
  if (failed(x) || failed(groups) || failed(eps))
    return failure();
  if (*groups < 1)
    return im.error(node) << "'aten::group_norm': num_groups must be "
                             "positive, got "
                          << *groups;
  return importGroupNormOf(im, node, *x, static_cast<int64_t>(*groups), 2, 3,
                           *eps);
}

// instance_norm(input, weight?, bias?, running_mean?, running_var?,
// use_input_stats, momentum, eps, cudnn_enabled): with the input's own
// statistics and no running statistics (InstanceNorm*d's default,
// track_running_stats=False) it is group_norm with one group per channel.
LogicalResult importInstanceNorm(Importer &im, jit::Node *node) {
  auto x = floatTensorArg(im, node, 0);
  auto useInputStats = im.scalarArg(node, 5);
  auto eps = im.scalarArg(node, 7);
  if (failed(x) || failed(useInputStats) || failed(eps))
    return failure();
  if (!Importer::isNone(node->input(3)) || !Importer::isNone(node->input(4)))
    return im.error(node) << "'aten::instance_norm' with running statistics "
                             "(track_running_stats=True) is not supported "
                             "yet; use track_running_stats=False";
  if (*useInputStats == 0.0)
    return im.error(node) << "'aten::instance_norm' without input statistics "
                             "(use_input_stats=False) needs running "
                             "statistics, which are not supported";
  auto type = cast<RankedTensorType>(x->getType());
  if (type.getRank() < 2)
    return im.error(node) << "'aten::instance_norm' expects an input [N, C, "
                             "...], got "
                          << type;
  return importGroupNormOf(im, node, *x, type.getDimSize(1), 1, 2, *eps);
}

// layer_norm(input, normalized_shape, weight?, bias?, eps, cudnn_enable)
LogicalResult importLayerNorm(Importer &im, jit::Node *node) {
  auto x = floatTensorArg(im, node, 0);
  auto shape = im.intListArg(node, 1);
  auto eps = im.scalarArg(node, 4);
  if (failed(x) || failed(shape) || failed(eps))
    return failure();
  Location loc = im.locOf(node);
  OpBuilder &b = im.getBuilder();
  auto paramType = RankedTensorType::get(*shape, b.getF32Type());
  // elementwise_affine=False: weight 1 and bias 0, which changes no bits.
  auto param = [&](size_t input, float fill) -> FailureOr<Value> {
    if (Importer::isNone(node->input(input)))
      return b.create<nn::FillOp>(loc, paramType, b.getF32FloatAttr(fill))
          .getResult();
    return floatTensorArg(im, node, input);
  };
  auto weight = param(2, 1.0f), bias = param(3, 0.0f);
  if (failed(weight) || failed(bias))
    return failure();
  if (shape->empty())
    return im.error(node) << "'aten::layer_norm' needs a non-empty "
                             "normalized_shape";
  return im.bind(node, im.create<nn::LayerNormOp>(
                           loc, {*x, *weight, *bias},
                           {i64Attr(im, "normalized_rank", shape->size()),
                            b.getNamedAttr("eps", b.getF32FloatAttr(*eps))}));
}

} // namespace

void dpc::registerNormalizationImporters(NodeImporterTable &table,
                                         MLIRContext &) {
  table[c10::aten::batch_norm] = importBatchNorm;
  table[c10::aten::add_] = importAddInPlace;
  table[c10::aten::group_norm] = importGroupNorm;
  table[c10::aten::instance_norm] = importInstanceNorm;
  table[c10::aten::layer_norm] = importLayerNorm;
}
