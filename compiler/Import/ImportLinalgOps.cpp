//===- ImportLinalgOps.cpp - aten ops of the Linalg family to nn ops ------===//
//
// linear, addmm, matmul/mm, bmm and baddbmm; einsum of one or two operands
// as sums, permutes, reshapes and one batched matmul.
//
//===----------------------------------------------------------------------===//

#include "compiler/Import/ImportArgs.h"
#include "compiler/Import/Importer.h"

#include "dialects/NN/IR/NNOps.h"
#include "dialects/NN/IR/NNShapeUtils.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"

#include <cmath>
#include <map>

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
  return im.bind(
      node, im.create<nn::AddOp>(loc, {*product, *self},
                                 {alphaAttr(im.getBuilder(), *product, 1.0)}));
}

LogicalResult importMatmul(Importer &im, jit::Node *node) {
  auto a = im.tensorArg(node, 0), b = im.tensorArg(node, 1);
  if (failed(a) || failed(b))
    return failure();
  return im.bind(node, im.create<nn::MatmulOp>(im.locOf(node), {*a, *b}));
}

// bmm(a, b): the 3-d case of nn.matmul.
LogicalResult importBmm(Importer &im, jit::Node *node) {
  auto a = floatTensorArg(im, node, 0), b = floatTensorArg(im, node, 1);
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
  auto self = floatTensorArg(im, node, 0), a = floatTensorArg(im, node, 1),
       b = floatTensorArg(im, node, 2);
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
  return im.bind(
      node, im.create<nn::AddOp>(loc, {*self, *product},
                                 {alphaAttr(im.getBuilder(), *self, 1.0)}));
}

/// One operand of an einsum: its value and the letter of each dimension.
struct EinsumOperand {
  Value value;
  std::string letters;
};

/// `x` permuted to the letters `order` (a permutation of its own).
FailureOr<Value> permuteTo(Importer &im, Location loc, EinsumOperand &x,
                           StringRef order) {
  SmallVector<int64_t> permutation;
  for (char letter : order)
    permutation.push_back(x.letters.find(letter));
  x.letters = order.str();
  if (llvm::equal(permutation, llvm::seq<int64_t>(0, permutation.size())))
    return x.value;
  OpBuilder &b = im.getBuilder();
  return im.create<nn::PermuteOp>(
      loc, {x.value},
      {b.getNamedAttr("permutation", b.getDenseI64ArrayAttr(permutation))});
}

/// Sums `x` over its letters that `keep` lacks (an index that appears in
/// one operand only and not in the result).
LogicalResult sumOutLetters(Importer &im, Location loc, EinsumOperand &x,
                            StringRef keep) {
  SmallVector<int64_t> dims;
  std::string kept;
  for (auto [d, letter] : llvm::enumerate(x.letters)) {
    if (keep.contains(letter))
      kept.push_back(letter);
    else
      dims.push_back(d);
  }
  if (dims.empty())
    return success();
  OpBuilder &b = im.getBuilder();
  auto sum = im.create<nn::SumOp>(
      loc, {x.value}, {b.getNamedAttr("dims", b.getDenseI64ArrayAttr(dims))});
  if (failed(sum))
    return failure();
  x = {*sum, kept};
  return success();
}

Value reshapeTo(Importer &im, Location loc, Value x, ArrayRef<int64_t> shape) {
  auto type = RankedTensorType::get(shape, typeOf(x).getElementType());
  if (type == x.getType())
    return x;
  return im.getBuilder().create<nn::ReshapeOp>(loc, type, x);
}

// einsum(equation, tensors, path=None) of one or two operands, without
// ellipses or repeated letters in an operand: letters only in one operand
// and not in the result are summed out first; with two operands the shared
// letters in the result are batch dimensions, the shared ones not in it are
// contracted, and the rest are the free dimensions of a batched nn.matmul
// ([batch, M, K] @ [batch, K, N]) reshaped and permuted to the result.
LogicalResult importEinsum(Importer &im, jit::Node *node) {
  std::optional<c10::IValue> equationValue = im.constant(node->input(0));
  if (!equationValue || !equationValue->isString())
    return im.error(node) << "'aten::einsum': expected a constant equation";
  std::string equation;
  for (char c : equationValue->toStringRef())
    if (c != ' ')
      equation.push_back(c);
  auto refuse = [&](StringRef why) {
    return im.error(node) << "'aten::einsum' with equation '"
                          << equationValue->toStringRef()
                          << "' is not supported: " << why;
  };
  if (StringRef(equation).contains("..."))
    return refuse("ellipses are not");
  auto [inputsPart, outputPart] = StringRef(equation).split("->");
  bool explicitOutput = StringRef(equation).contains("->");
  SmallVector<StringRef> inputLetters;
  inputsPart.split(inputLetters, ',');

  SmallVector<Value> tensors;
  if (Importer::TensorList list = im.tensorListOf(node->input(1))) {
    tensors.assign(list->begin(), list->end());
  } else if (node->input(1)->node()->kind() == c10::prim::ListConstruct) {
    for (jit::Value *v : node->input(1)->node()->inputs()) {
      auto value = im.tensor(node, v);
      if (failed(value))
        return failure();
      tensors.push_back(*value);
    }
  } else {
    return im.error(node) << "'aten::einsum': expected a list of tensors "
                             "built in the model";
  }
  if (tensors.size() != inputLetters.size())
    return refuse(std::to_string(tensors.size()) + " operands for " +
                  std::to_string(inputLetters.size()) + " subscripts");
  if (tensors.empty() || tensors.size() > 2)
    return refuse("only one or two operands are");

  // Letters, their sizes, and the output (implicit: the letters that
  // appear once, in alphabetical order).
  llvm::StringMap<int64_t> sizes;
  std::map<char, int> occurrences;
  SmallVector<EinsumOperand> operands;
  for (auto [letters, value] : llvm::zip(inputLetters, tensors)) {
    if (!typeOf(value).getElementType().isF32())
      return refuse("its operands must be float32");
    if (static_cast<int64_t>(letters.size()) != typeOf(value).getRank())
      return refuse("subscripts '" + letters.str() + "' for a " +
                    std::to_string(typeOf(value).getRank()) + "-d operand");
    for (auto [d, letter] : llvm::enumerate(letters)) {
      if (!llvm::isAlpha(letter))
        return refuse("subscripts must be letters");
      if (letters.take_front(d).contains(letter))
        return refuse("a letter repeated in one operand (a diagonal) is not");
      int64_t size = typeOf(value).getDimSize(d);
      auto [it, inserted] = sizes.try_emplace(StringRef(&letter, 1), size);
      if (!inserted && it->second != size)
        return refuse(std::string("letter '") + letter + "' has sizes " +
                      std::to_string(it->second) + " and " +
                      std::to_string(size));
      ++occurrences[letter];
    }
    operands.push_back({value, letters.str()});
  }
  std::string output;
  if (explicitOutput) {
    output = outputPart.str();
    for (auto [d, letter] : llvm::enumerate(output))
      if (!occurrences.count(letter) ||
          StringRef(output).take_front(d).contains(letter))
        return refuse(std::string("result letter '") + letter +
                      "' is not one of the operands' or is repeated");
  } else {
    for (auto [letter, count] : occurrences)
      if (count == 1)
        output.push_back(letter);
  }
  auto sizeOf = [&](char letter) { return sizes[StringRef(&letter, 1)]; };

  Location loc = im.locOf(node);
  // Letters that only one operand has and the result lacks are summed out.
  for (auto [i, x] : llvm::enumerate(operands)) {
    std::string keep = output;
    if (operands.size() == 2)
      keep += operands[1 - i].letters;
    if (failed(sumOutLetters(im, loc, x, keep)))
      return failure();
  }
  if (operands.size() == 1) {
    auto result = permuteTo(im, loc, operands[0], output);
    return im.bind(node, result);
  }

  EinsumOperand &a = operands[0], &b = operands[1];
  std::string batch, contracted, freeA, freeB;
  for (char letter : a.letters) {
    bool inB = b.letters.find(letter) != std::string::npos;
    bool inOutput = output.find(letter) != std::string::npos;
    (inB ? (inOutput ? batch : contracted) : freeA).push_back(letter);
  }
  for (char letter : b.letters)
    if (a.letters.find(letter) == std::string::npos)
      freeB.push_back(letter);
  auto product = [&](StringRef letters) {
    int64_t n = 1;
    for (char letter : letters)
      n *= sizeOf(letter);
    return n;
  };
  auto lhs = permuteTo(im, loc, a, batch + freeA + contracted);
  auto rhs = permuteTo(im, loc, b, batch + contracted + freeB);
  if (failed(lhs) || failed(rhs))
    return failure();
  int64_t batchSize = product(batch), m = product(freeA),
          k = product(contracted), n = product(freeB);
  auto matmul = im.create<nn::MatmulOp>(
      loc, {reshapeTo(im, loc, *lhs, {batchSize, m, k}),
            reshapeTo(im, loc, *rhs, {batchSize, k, n})});
  if (failed(matmul))
    return failure();
  std::string resultLetters = batch + freeA + freeB;
  SmallVector<int64_t> resultShape;
  for (char letter : resultLetters)
    resultShape.push_back(sizeOf(letter));
  EinsumOperand result{reshapeTo(im, loc, *matmul, resultShape), resultLetters};
  return im.bind(node, permuteTo(im, loc, result, output));
}

} // namespace

void dpc::registerLinalgImporters(NodeImporterTable &table, MLIRContext &) {
  table[c10::aten::linear] = importLinear;
  table[c10::aten::addmm] = importAddmm;
  table[c10::aten::matmul] = importMatmul;
  table[c10::aten::mm] = importMatmul;
  table[c10::aten::bmm] = importBmm;
  table[c10::aten::baddbmm] = importBaddbmm;
  table[c10::aten::einsum] = importEinsum;
}
