//===- ImportIndexingOps.cpp - Indexing: aten ops to nn ops ---------------===//
//
// embedding.
//
//===----------------------------------------------------------------------===//

#include "compiler/Import/ImportArgs.h"
#include "compiler/Import/Importer.h"

#include "dialects/NN/IR/NNOps.h"

#include <cmath>

using namespace mlir;
using namespace dpc;

namespace {

// embedding(weight, indices, padding_idx, scale_grad_by_freq, sparse)
LogicalResult importEmbedding(Importer &im, jit::Node *node) {
  auto weight = f32TensorArg(im, node, 0);
  auto indices = im.tensorArg(node, 1);
  auto padding = im.scalarArg(node, 2), scaleByFreq = im.scalarArg(node, 3),
       sparse = im.scalarArg(node, 4);
  if (failed(weight) || failed(indices) || failed(padding) ||
      failed(scaleByFreq) || failed(sparse))
    return failure();
  if (!typeOf(*indices).getElementType().isInteger(64))
    return im.error(node) << "'aten::embedding' needs int64 indices, got "
                          << indices->getType();
  if (*scaleByFreq != 0.0 || *sparse != 0.0)
    return im.error(node) << "'aten::embedding' with scale_grad_by_freq or "
                             "sparse gradients is not supported";
  SmallVector<NamedAttribute> attrs;
  if (*padding >= 0)
    attrs.push_back(i64Attr(im, "padding_idx", static_cast<int64_t>(*padding)));
  return im.bind(node, im.create<nn::EmbeddingOp>(im.locOf(node),
                                                  {*weight, *indices}, attrs));
}

} // namespace

void dpc::registerIndexingImporters(NodeImporterTable &table, MLIRContext &) {
  table[c10::aten::embedding] = importEmbedding;
}
