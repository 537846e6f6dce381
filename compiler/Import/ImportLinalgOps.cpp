//===- ImportLinalgOps.cpp - aten ops of the Linalg family to nn ops ------===//
//
// linear, addmm, matmul/mm, bmm and baddbmm.
//
//===----------------------------------------------------------------------===//

#include "compiler/Import/ImportArgs.h"
#include "compiler/Import/Importer.h"

#include "dialects/NN/IR/NNOps.h"
#include "dialects/NN/IR/NNShapeUtils.h"

#include <cmath>

using namespace mlir;
using namespace dpc;

namespace {

LogicalResult importLinear(Importer &im, jit::Node *node) {
  auto x = im.tensorArg(node, 0), w = im.tensorArg(node, 1);
  if (failed(x) || failed(w))
    return failure();
  SmallVector<Value> operands = {*x, *w};
  if (!Importer::isNone(node->input(2))) {
    auto b = im.tensorArg(node, 2);
    if (failed(b))
      return failure();
    operands.push_back(*b);
  }
  return im.bind(node, im.create<nn::LinearOp>(im.locOf(node), operands));
}

// addmm(self, mat1, mat2, beta, alpha) = beta * self + alpha * mat1 @ mat2
LogicalResult importAddmm(Importer &im, jit::Node *node) {
  auto self = im.tensorArg(node, 0), a = im.tensorArg(node, 1),
       b = im.tensorArg(node, 2);
  auto beta = im.scalarArg(node, 3), alpha = im.scalarArg(node, 4);
  if (failed(self) || failed(a) || failed(b) || failed(beta) || failed(alpha))
    return failure();
  if (*beta != 1.0 || *alpha != 1.0)
    return im.error(node) << "'aten::addmm' with beta or alpha other than 1 "
                             "is not supported";
  Location loc = im.locOf(node);
  auto product = im.create<nn::MatmulOp>(loc, {*a, *b});
  if (failed(product))
    return failure();
  return im.bind(node, im.create<nn::AddOp>(loc, {*product, *self},
                                            {alphaAttr(im.getBuilder(), 1.0)}));
}

LogicalResult importMatmul(Importer &im, jit::Node *node) {
  auto a = im.tensorArg(node, 0), b = im.tensorArg(node, 1);
  if (failed(a) || failed(b))
    return failure();
  return im.bind(node, im.create<nn::MatmulOp>(im.locOf(node), {*a, *b}));
}

// bmm(a, b): the 3-d case of nn.matmul.
LogicalResult importBmm(Importer &im, jit::Node *node) {
  auto a = f32TensorArg(im, node, 0), b = f32TensorArg(im, node, 1);
  if (failed(a) || failed(b))
    return failure();
  if (typeOf(*a).getRank() != 3 || typeOf(*b).getRank() != 3)
    return im.error(node) << "'aten::bmm' needs 3-d operands, got "
                          << a->getType() << " and " << b->getType();
  return im.bind(node, im.create<nn::MatmulOp>(im.locOf(node), {*a, *b}));
}

// baddbmm(self, batch1, batch2, beta, alpha) = beta * self + alpha * batch1
// @ batch2 (MultiheadAttention adds its float attention mask so): the
// product, then the sum, as torch's CPU kernels round it.
LogicalResult importBaddbmm(Importer &im, jit::Node *node) {
  auto self = f32TensorArg(im, node, 0), a = f32TensorArg(im, node, 1),
       b = f32TensorArg(im, node, 2);
  auto beta = im.scalarArg(node, 3), alpha = im.scalarArg(node, 4);
  if (failed(self) || failed(a) || failed(b) || failed(beta) || failed(alpha))
    return failure();
  if (*beta != 1.0 || *alpha != 1.0)
    return im.error(node) << "'aten::baddbmm' with beta or alpha other than 1 "
                             "is not supported";
  if (typeOf(*a).getRank() != 3 || typeOf(*b).getRank() != 3)
    return im.error(node) << "'aten::baddbmm' needs 3-d batches, got "
                          << a->getType() << " and " << b->getType();
  Location loc = im.locOf(node);
  auto product = im.create<nn::MatmulOp>(loc, {*a, *b});
  if (failed(product))
    return failure();
  auto shape = nn::broadcastShapes(typeOf(*product).getShape(),
                                   typeOf(*self).getShape());
  if (failed(shape) || ArrayRef<int64_t>(*shape) != typeOf(*product).getShape())
    return im.error(node) << "'aten::baddbmm': " << self->getType()
                          << " does not broadcast to the product "
                          << product->getType();
  return im.bind(node, im.create<nn::AddOp>(loc, {*self, *product},
                                            {alphaAttr(im.getBuilder(), 1.0)}));
}

} // namespace

void dpc::registerLinalgImporters(NodeImporterTable &table, MLIRContext &) {
  table[c10::aten::linear] = importLinear;
  table[c10::aten::addmm] = importAddmm;
  table[c10::aten::matmul] = importMatmul;
  table[c10::aten::mm] = importMatmul;
  table[c10::aten::bmm] = importBmm;
  table[c10::aten::baddbmm] = importBaddbmm;
}
