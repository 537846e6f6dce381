//===- ImportRandomOps.cpp - aten ops of the Random family to nn ops ------===//
//
// dropout: the identity in evaluation mode or with p = 0, nn.dropout in
// training mode (F.dropout, nn.Dropout; `inplace=True` reaches here as
// aten::dropout once the importer has made it functional).
//
//===----------------------------------------------------------------------===//

#include "compiler/Import/ImportArgs.h"
#include "compiler/Import/Importer.h"

#include "dialects/NN/IR/NNOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <sstream>

using namespace mlir;
using namespace dpc;

namespace {

/// The site of the next dropout of the function being imported: the number
/// of dropouts already in it, so sites number the model's dropout calls in
/// program order (the same numbers in every import of one forward, as
/// --mode dp's per-chunk imports are).
int64_t nextDropoutSite(OpBuilder &builder) {
  Operation *func = builder.getInsertionBlock()->getParentOp();
  while (func && !isa<func::FuncOp>(func))
    func = func->getParentOp();
  int64_t count = 0;
  if (func)
    func->walk([&](nn::DropoutOp) { ++count; });
  return count;
}

// dropout(x, p, train)
LogicalResult importDropout(Importer &im, jit::Node *node) {
  auto p = im.scalarArg(node, 1), train = im.scalarArg(node, 2);
  if (failed(p) || failed(train))
    return failure();
  if (!(*p >= 0.0 && *p <= 1.0)) {
    std::ostringstream probability; // 1.5, not 1.500000e+00
    probability << *p;
    return im.error(node) << "dropout probability has to be between 0 and 1, "
                             "but got "
                          << probability.str();
  }
  if (*p == 0.0 || *train == 0.0)
    return im.bind(node, im.tensorArg(node, 0));
  auto x = f32TensorArg(im, node, 0);
  if (failed(x))
    return failure();
  OpBuilder &b = im.getBuilder();
  return im.bind(
      node,
      im.create<nn::DropoutOp>(
          im.locOf(node), {*x},
          {b.getNamedAttr("p", b.getF64FloatAttr(*p)),
           b.getNamedAttr("site", b.getI64IntegerAttr(nextDropoutSite(b)))}));
}

} // namespace

void dpc::registerRandomImporters(NodeImporterTable &table, MLIRContext &) {
  table[c10::aten::dropout] = importDropout;
}
