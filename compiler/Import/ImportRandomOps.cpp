//===- ImportRandomOps.cpp - aten ops of the Random family to nn ops ------===//
//
// dropout: the identity in evaluation mode or with p = 0, nn.dropout in
// training mode (F.dropout, nn.Dropout; `inplace=True` reaches here as
// aten::dropout once the importer has made it functional).
// bernoulli: `torch.empty(size).bernoulli_(p)` (torchvision's
// StochasticDepth) reaches here as aten::bernoulli(self, p) on a tensor the
// importer computed at compile time (aten::empty's), whose values the op
// ignores: nn.bernoulli of self's shape. The rest of StochasticDepth
// (`if survival_rate > 0: noise.div_(survival_rate)`, `input * noise`) is
// folded and imported by the other families.
//
//===----------------------------------------------------------------------===//

#include "compiler/Import/ImportArgs.h"
#include "compiler/Import/Importer.h"
#include "llvm/ADT/APFloat.h"

#include "dialects/NN/IR/NNOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <sstream>

using namespace mlir;
using namespace dpc;

namespace {

/// The site of the next random op (dropout or bernoulli) of the function
/// being imported: the number of random ops already in it, so sites number
/// the model's random calls in program order (the same numbers in every
/// import of one forward, as --mode dp's per-chunk imports are) and no two
/// calls share draws.
int64_t nextRandomSite(OpBuilder &builder) {
  Operation *func = builder.getInsertionBlock()->getParentOp();
  while (func && !isa<func::FuncOp>(func))
    func = func->getParentOp();
  int64_t count = 0;
  if (func)
    func->walk([&](Operation *op) {
      count += isa<nn::DropoutOp, nn::BernoulliOp>(op);
    });
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
  auto x = floatTensorArg(im, node, 0);
  if (failed(x))
    return failure();
  OpBuilder &b = im.getBuilder();
  if (im.isLowPrecision(*x)) {
    // --precision bf16|fp16: PyTorch draws the noise in x's 16-bit type,
    // `noise.bernoulli_(1 - p).div_(1 - p)`, so it scales by 1 / (1 - p)
    // rounded to that type, and nn.dropout's kernel by the float32 one. The
    // keep mask is the same draw as nn.bernoulli of 1 - p at the dropout's
    // site (runtime/lib/philox.h), scaled by the rounded factor; x times it
    // is exact in float32 for bfloat16 (8-bit significands), rounded by the
    // autocast after this, as PyTorch's 16-bit product is (for float16 the
    // product of two 11-bit significands is exact in float32 too).
    llvm::APFloat scale(1.0f / static_cast<float>(1.0 - *p));
    bool inexact = false;
    scale.convert(*im.autocastType() == at::kBFloat16
                      ? llvm::APFloat::BFloat()
                      : llvm::APFloat::IEEEhalf(),
                  llvm::APFloat::rmNearestTiesToEven, &inexact);
    scale.convert(llvm::APFloat::IEEEsingle(),
                  llvm::APFloat::rmNearestTiesToEven, &inexact);
    auto keep = b.create<nn::BernoulliOp>(
        im.locOf(node), TypeRange{x->getType()}, ValueRange{},
        ArrayRef<NamedAttribute>{
            b.getNamedAttr("p", b.getF64FloatAttr(1.0 - *p)),
            b.getNamedAttr("site", b.getI64IntegerAttr(nextRandomSite(b)))});
    auto noise = im.create<nn::ScaleOp>(
        im.locOf(node), {keep.getResult()},
        {b.getNamedAttr("factor", b.getF32FloatAttr(scale.convertToFloat()))});
    if (failed(noise))
      return failure();
    return im.bind(node, im.create<nn::MulOp>(im.locOf(node), {*x, *noise}));
  }
  return im.bind(
      node,
      im.create<nn::DropoutOp>(
          im.locOf(node), {*x},
          {b.getNamedAttr("p", b.getF64FloatAttr(*p)),
           b.getNamedAttr("site", b.getI64IntegerAttr(nextRandomSite(b)))}));
}

/// The shape of `self`, which aten::bernoulli overwrites: an imported
/// tensor's type, or the shape of a tensor computed at compile time (the
/// `torch.empty(size)` it is usually called on) without materializing its
/// values. Only float32 is supported.
FailureOr<RankedTensorType> overwrittenTensorType(Importer &im,
                                                  jit::Node *node) {
  jit::Value *self = node->input(0);
  if (!im.isTensor(self))
    if (std::optional<c10::IValue> c = im.constant(self); c && c->isTensor()) {
      const at::Tensor &t = c->toTensor();
      if (t.scalar_type() != at::kFloat)
        return im.error(node) << "'" << opName(node) << "' of a "
                              << c10::toString(t.scalar_type())
                              << " tensor is not supported (float32 is)",
               failure();
      return RankedTensorType::get(
          SmallVector<int64_t>(t.sizes().begin(), t.sizes().end()),
          im.getBuilder().getF32Type());
    }
  auto value = floatTensorArg(im, node, 0);
  if (failed(value))
    return failure();
  return typeOf(*value);
}

// bernoulli(self, p, generator): self filled with 1 at probability p, else
// 0 (the functional form of self.bernoulli_(p)).
LogicalResult importBernoulli(Importer &im, jit::Node *node) {
  // bernoulli(self) and bernoulli(self, p: Tensor) draw with per-element
  // probabilities.
  if (node->inputs().size() != 3 || im.isTensor(node->input(1)))
    return im.error(node) << "'" << opName(node)
                          << "' with per-element probabilities is not "
                             "supported (x.bernoulli_(p) with a number p is)",
           failure();
  if (!Importer::isNone(node->input(2)))
    return im.error(node) << "'" << opName(node)
                          << "' with a torch.Generator is not supported: dpc "
                             "draws from the run's seed (dpc-run --seed)",
           failure();
  auto p = im.scalarArg(node, 1);
  if (failed(p))
    return failure();
  if (!(*p >= 0.0 && *p <= 1.0)) {
    std::ostringstream probability;
    probability << *p;
    return im.error(node) << "bernoulli expects p to be in [0, 1], but got p="
                          << probability.str();
  }
  auto type = overwrittenTensorType(im, node);
  if (failed(type))
    return failure();
  OpBuilder &b = im.getBuilder();
  auto op = b.create<nn::BernoulliOp>(
      im.locOf(node), TypeRange{*type}, ValueRange{},
      ArrayRef<NamedAttribute>{
          b.getNamedAttr("p", b.getF64FloatAttr(*p)),
          b.getNamedAttr("site", b.getI64IntegerAttr(nextRandomSite(b)))});
  return im.bind(node, op.getResult());
}

} // namespace

void dpc::registerRandomImporters(NodeImporterTable &table, MLIRContext &) {
  table[c10::aten::dropout] = importDropout;
  table[c10::aten::bernoulli] = importBernoulli;
}
