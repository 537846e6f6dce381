//===- ImportReductionOps.cpp - Reduction: aten ops to nn ops -------------===//
//
// sum/mean over all or some dims, softmax and log_softmax.
//
//===----------------------------------------------------------------------===//

#include "compiler/Import/ImportArgs.h"
#include "compiler/Import/Importer.h"

#include "dialects/NN/IR/NNOps.h"

#include <cmath>

using namespace mlir;
using namespace dpc;

namespace {

/// Fails unless input `input` is None (an unsupported optional argument
/// such as `dtype=`).
LogicalResult requireNone(Importer &im, jit::Node *node, size_t input,
                          StringRef what) {
  if (input >= node->inputs().size() || Importer::isNone(node->input(input)))
    return success();
  return im.error(node) << "'" << opName(node) << "' with " << what
                        << " is not supported";
}

// softmax / log_softmax(x, dim, dtype=None)
template <typename OpTy>
LogicalResult importSoftmax(Importer &im, jit::Node *node) {
  auto x = f32TensorArg(im, node, 0);
  if (failed(x))
    return failure();
  auto dim = dimArg(im, node, 1, typeOf(*x).getRank());
  if (failed(dim) || failed(requireNone(im, node, 2, "a dtype")))
    return failure();
  return im.bind(
      node, im.create<OpTy>(im.locOf(node), {*x}, {i64Attr(im, "dim", *dim)}));
}

// sum/mean(x, dtype=None) and sum/mean(x, dims?, keepdim, dtype=None).
template <typename OpTy>
LogicalResult importReduction(Importer &im, jit::Node *node) {
  auto x = f32TensorArg(im, node, 0);
  if (failed(x))
    return failure();
  int64_t rank = typeOf(*x).getRank();
  SmallVector<int64_t> dims;
  bool keepdim = false;
  size_t dtypeInput = 1;
  if (node->inputs().size() >= 3) {
    dtypeInput = 3;
    auto keep = im.scalarArg(node, 2);
    if (failed(keep))
      return failure();
    keepdim = *keep != 0.0;
    if (!Importer::isNone(node->input(1))) {
      auto list = im.intListArg(node, 1);
      if (failed(list))
        return failure();
      for (int64_t d : *list) {
        auto dim = normalizeDim(im, node, d, rank);
        if (failed(dim))
          return failure();
        if (llvm::is_contained(dims, *dim))
          return im.error(node)
                 << "'" << opName(node) << "': dim " << d << " appears twice";
        dims.push_back(*dim);
      }
    }
  }
  if (failed(requireNone(im, node, dtypeInput, "a dtype")))
    return failure();
  // No dims (or an empty list): every dimension.
  if (dims.empty())
    for (int64_t d = 0; d < rank; ++d)
      dims.push_back(d);
  llvm::sort(dims);
  OpBuilder &b = im.getBuilder();
  SmallVector<NamedAttribute> attrs = {
      b.getNamedAttr("dims", b.getDenseI64ArrayAttr(dims))};
  if (keepdim)
    attrs.push_back(b.getNamedAttr("keepdim", b.getUnitAttr()));
  return im.bind(node, im.create<OpTy>(im.locOf(node), {*x}, attrs));
}

} // namespace

void dpc::registerReductionImporters(NodeImporterTable &table, MLIRContext &) {
  table[c10::aten::softmax] = importSoftmax<nn::SoftmaxOp>;
  table[c10::aten::log_softmax] = importSoftmax<nn::LogSoftmaxOp>;
  table[c10::aten::sum] = importReduction<nn::SumOp>;
  table[c10::aten::mean] = importReduction<nn::MeanOp>;
}
