//===- ImportLossOps.cpp - aten ops of the Loss family to nn ops ----------===//
//
// cross_entropy_loss and nll_loss inside a model whose forward returns its
// loss (--loss none).
//
//===----------------------------------------------------------------------===//

#include "compiler/Import/ImportArgs.h"
#include "compiler/Import/Importer.h"

#include "dialects/NN/IR/NNOps.h"

#include <cmath>

using namespace mlir;
using namespace dpc;

namespace {

// cross_entropy_loss(self, target, weight, reduction, ignore_index,
// label_smoothing): F.cross_entropy inside a model whose forward returns
// its loss (--loss none).
LogicalResult importCrossEntropyLoss(Importer &im, jit::Node *node) {
  auto logits = im.tensorArg(node, 0), labels = im.tensorArg(node, 1);
  if (failed(logits) || failed(labels))
    return failure();
  if (node->inputs().size() != 6)
    return im.error(node) << "'aten::cross_entropy_loss' with "
                          << node->inputs().size()
                          << " arguments is not supported (expected 6)";
  if (!Importer::isNone(node->input(2)))
    return im.error(node) << "F.cross_entropy with class weights is not "
                             "supported";
  auto reduction = im.scalarArg(node, 3), ignoreIndex = im.scalarArg(node, 4),
       smoothing = im.scalarArg(node, 5);
  if (failed(reduction) || failed(ignoreIndex) || failed(smoothing))
    return failure();
  if (*reduction != 1.0)
    return im.error(node) << "F.cross_entropy is supported with "
                             "reduction='mean' only";
  // A negative ignore_index matches no class: a label equal to it is
  // reported as out of range at run time instead of being skipped.
  if (*ignoreIndex >= 0)
    return im.error(node) << "F.cross_entropy with ignore_index="
                          << static_cast<int64_t>(*ignoreIndex)
                          << " is not supported";
  if (*smoothing != 0.0)
    return im.error(node) << "F.cross_entropy with label_smoothing is not "
                             "supported";
  if (!cast<RankedTensorType>(labels->getType()).getElementType().isInteger(64))
    return im.error(node) << "F.cross_entropy needs i64 class indices as its "
                             "target (give it as --input NAME:i64[N])";
  return im.bind(
      node, im.create<nn::CrossEntropyOp>(im.locOf(node), {*logits, *labels}));
}

// nll_loss / nll_loss_nd(input, target, weight, reduction, ignore_index)
LogicalResult importNLLLoss(Importer &im, jit::Node *node) {
  auto x = floatTensorArg(im, node, 0);
  auto labels = im.tensorArg(node, 1);
  if (failed(x) || failed(labels))
    return failure();
  if (!Importer::isNone(node->input(2)))
    return im.error(node) << "F.nll_loss with class weights is not supported";
  auto reduction = im.scalarArg(node, 3), ignoreIndex = im.scalarArg(node, 4);
  if (failed(reduction) || failed(ignoreIndex))
    return failure();
  if (*reduction != 1.0)
    return im.error(node) << "F.nll_loss is supported with reduction='mean' "
                             "only";
  // A negative ignore_index (the default -100) matches no class.
  if (*ignoreIndex >= 0)
    return im.error(node) << "F.nll_loss with ignore_index="
                          << static_cast<int64_t>(*ignoreIndex)
                          << " is not supported";
  if (!typeOf(*labels).getElementType().isInteger(64))
    return im.error(node) << "F.nll_loss needs int64 class indices as its "
                             "target, got "
                          << labels->getType();
  return im.bind(node, im.create<nn::NLLLossOp>(im.locOf(node), {*x, *labels}));
}

} // namespace

void dpc::registerLossImporters(NodeImporterTable &table, MLIRContext &) {
  table[c10::aten::cross_entropy_loss] = importCrossEntropyLoss;
  table[c10::aten::nll_loss] = importNLLLoss;
  table[c10::aten::nll_loss_nd] = importNLLLoss;
}
