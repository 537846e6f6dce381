//===- ImportCoreOps.cpp - aten ops of MLPs to nn ops ---------------------===//
//
// Linear layers, matrix products, elementwise arithmetic and activations.
//
//===----------------------------------------------------------------------===//

#include "compiler/Import/Importer.h"

#include "dialects/NN/IR/NNOps.h"

using namespace mlir;
using namespace dpc;

namespace {

NamedAttribute alphaAttr(OpBuilder &b, double alpha) {
  return b.getNamedAttr("alpha", b.getF32FloatAttr(alpha));
}

NamedAttribute factorAttr(OpBuilder &b, double factor) {
  return b.getNamedAttr("factor", b.getF32FloatAttr(factor));
}

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

LogicalResult importTranspose(Importer &im, jit::Node *node) {
  auto x = im.tensorArg(node, 0);
  if (failed(x))
    return failure();
  if (node->kind() == c10::aten::transpose) {
    auto d0 = im.scalarArg(node, 1), d1 = im.scalarArg(node, 2);
    if (failed(d0) || failed(d1))
      return failure();
    int64_t rank = cast<RankedTensorType>(x->getType()).getRank();
    int64_t a = static_cast<int64_t>(*d0), b = static_cast<int64_t>(*d1);
    a = a < 0 ? a + rank : a;
    b = b < 0 ? b + rank : b;
    if (a < 0 || a >= rank || b < 0 || b >= rank)
      return im.error(node) << "'aten::transpose': dims " << *d0 << " and "
                            << *d1 << " do not fit a " << rank << "-d tensor";
    if (a == b)
      return im.bind(node, *x);
    // Other than the two dims of a matrix: a permutation (a copy).
    if (rank != 2) {
      SmallVector<int64_t> permutation =
          llvm::to_vector(llvm::seq<int64_t>(0, rank));
      std::swap(permutation[a], permutation[b]);
      OpBuilder &builder = im.getBuilder();
      return im.bind(
          node,
          im.create<nn::PermuteOp>(
              im.locOf(node), {*x},
              {builder.getNamedAttr(
                  "permutation", builder.getDenseI64ArrayAttr(permutation))}));
    }
  }
  return im.bind(node, im.create<nn::TransposeOp>(im.locOf(node), {*x}));
}

// add/sub(Tensor self, Tensor other, Scalar alpha)
LogicalResult importAddSub(Importer &im, jit::Node *node) {
  auto a = im.tensorArg(node, 0);
  if (failed(a))
    return failure();
  if (!im.isTensor(node->input(1)))
    return im.error(node) << "'" << node->kind().toQualString()
                          << "' with a scalar operand is not supported yet";
  auto b = im.tensorArg(node, 1);
  double alpha = 1.0;
  if (node->inputs().size() > 2) {
    auto alphaValue = im.scalarArg(node, 2);
    if (failed(alphaValue))
      return failure();
    alpha = *alphaValue;
  }
  Location loc = im.locOf(node);
  NamedAttribute attr = alphaAttr(im.getBuilder(), alpha);
  if (node->kind() == c10::aten::add)
    return im.bind(node, im.create<nn::AddOp>(loc, {*a, *b}, {attr}));
  return im.bind(node, im.create<nn::SubOp>(loc, {*a, *b}, {attr}));
}

LogicalResult importMul(Importer &im, jit::Node *node) {
  auto a = im.tensorArg(node, 0);
  if (failed(a))
    return failure();
  Location loc = im.locOf(node);
  if (im.isTensor(node->input(1))) {
    auto b = im.tensorArg(node, 1);
    return im.bind(node, im.create<nn::MulOp>(loc, {*a, *b}));
  }
  auto factor = im.scalarArg(node, 1);
  if (failed(factor))
    return failure();
  return im.bind(node, im.create<nn::ScaleOp>(
                           loc, {*a}, {factorAttr(im.getBuilder(), *factor)}));
}

LogicalResult importNeg(Importer &im, jit::Node *node) {
  auto x = im.tensorArg(node, 0);
  if (failed(x))
    return failure();
  return im.bind(node,
                 im.create<nn::ScaleOp>(im.locOf(node), {*x},
                                        {factorAttr(im.getBuilder(), -1.0)}));
}

/// Imports aten's `name(Tensor self) -> Tensor` as the elementwise unary op
/// `opName` (ElementwiseUnaryOpInterface: same type in and out).
NodeImporter importElementwiseUnary(OperationName opName,
                                    llvm::StringRef atenName) {
  return [opName, atenName](Importer &im, jit::Node *node) -> LogicalResult {
    if (node->inputs().size() != 1)
      return im.error(node)
             << atenName << " with " << node->inputs().size()
             << " operands is not supported (only " << atenName << "(Tensor))";
    auto x = im.tensorArg(node, 0);
    if (failed(x))
      return failure();
    auto type = cast<RankedTensorType>(x->getType());
    if (!type.getElementType().isF32())
      return im.error(node) << atenName << " of a " << type
                            << " is not supported (float32 tensors only)";
    OperationState state(im.locOf(node), opName);
    state.addOperands(*x);
    state.addTypes(type);
    return im.bind(node, im.getBuilder().create(state)->getResult(0));
  };
}

LogicalResult reshapeTo(Importer &im, jit::Node *node, Value x,
                        ArrayRef<int64_t> shape) {
  auto type = cast<RankedTensorType>(x.getType());
  int64_t count = 1;
  for (int64_t d : shape)
    count *= d;
  if (count != type.getNumElements())
    return im.error(node) << "cannot reshape " << type << " to "
                          << RankedTensorType::get(shape,
                                                   type.getElementType());
  auto result = im.getBuilder().create<nn::ReshapeOp>(
      im.locOf(node), RankedTensorType::get(shape, type.getElementType()), x);
  return im.bind(node, result.getResult());
}

// view(x, size) / reshape(x, shape), with at most one -1.
LogicalResult importView(Importer &im, jit::Node *node) {
  auto x = im.tensorArg(node, 0);
  auto sizes = im.intListArg(node, 1);
  if (failed(x) || failed(sizes))
    return failure();
  int64_t numElements = cast<RankedTensorType>(x->getType()).getNumElements();
  int64_t known = 1, inferred = -1;
  SmallVector<int64_t> shape(*sizes);
  for (auto [i, d] : llvm::enumerate(shape)) {
    if (d == -1 && inferred < 0) {
      inferred = i;
    } else if (d <= 0) {
      return im.error(node)
             << "'" << node->kind().toQualString() << "': invalid size " << d;
    } else {
      known *= d;
    }
  }
  if (inferred >= 0) {
    if (numElements % known != 0)
      return im.error(node) << "'" << node->kind().toQualString()
                            << "': cannot infer the -1 dimension of "
                            << numElements << " elements";
    shape[inferred] = numElements / known;
  }
  return reshapeTo(im, node, *x, shape);
}

// flatten(x, start_dim, end_dim)
LogicalResult importFlatten(Importer &im, jit::Node *node) {
  auto x = im.tensorArg(node, 0);
  auto start = im.scalarArg(node, 1), end = im.scalarArg(node, 2);
  if (failed(x) || failed(start) || failed(end))
    return failure();
  ArrayRef<int64_t> in = cast<RankedTensorType>(x->getType()).getShape();
  int64_t rank = std::max<int64_t>(in.size(), 1);
  int64_t s = static_cast<int64_t>(*start), e = static_cast<int64_t>(*end);
  s = s < 0 ? s + rank : s;
  e = e < 0 ? e + rank : e;
  if (s < 0 || e >= rank || s > e)
    return im.error(node) << "'aten::flatten': dims " << *start << ".." << *end
                          << " do not fit a " << in.size() << "-d tensor";
  if (in.empty())
    return reshapeTo(im, node, *x, {1});
  SmallVector<int64_t> shape(in.begin(), in.begin() + s);
  int64_t merged = 1;
  for (int64_t i = s; i <= e; ++i)
    merged *= in[i];
  shape.push_back(merged);
  shape.append(in.begin() + e + 1, in.end());
  return reshapeTo(im, node, *x, shape);
}

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

// x.contiguous() is the identity on value-semantics tensors.
LogicalResult importIdentity(Importer &im, jit::Node *node) {
  return im.bind(node, im.tensorArg(node, 0));
}

} // namespace

void dpc::registerCoreImporters(NodeImporterTable &table) {
  table[c10::aten::linear] = importLinear;
  table[c10::aten::addmm] = importAddmm;
  table[c10::aten::matmul] = importMatmul;
  table[c10::aten::mm] = importMatmul;
  table[c10::aten::t] = importTranspose;
  table[c10::aten::transpose] = importTranspose;
  table[c10::aten::add] = importAddSub;
  table[c10::aten::sub] = importAddSub;
  table[c10::aten::mul] = importMul;
  table[c10::aten::neg] = importNeg;
  table[c10::aten::contiguous] = importIdentity;
  table[c10::aten::cross_entropy_loss] = importCrossEntropyLoss;
  table[c10::aten::view] = importView;
  table[c10::aten::reshape] = importView;
  table[c10::aten::flatten] = importFlatten;
}

void dpc::registerElementwiseUnaryImporters(NodeImporterTable &table,
                                            MLIRContext &context) {
  // The family's records name their aten operators: every registered nn op
  // with ElementwiseUnaryOpInterface is importable, with nothing to list.
  context.getOrLoadDialect<nn::NNDialect>();
  for (RegisteredOperationName name : context.getRegisteredOperations()) {
    auto *record = name.getInterface<nn::ElementwiseUnaryOpInterface>();
    if (!record)
      continue;
    llvm::StringRef aten = record->getAtenName();
    table[c10::Symbol::fromQualString(aten.str())] =
        importElementwiseUnary(name, aten);
  }
}
