//===- ImportReductionOps.cpp - Reduction: aten ops to nn ops -------------===//
//
// sum/mean/amax/amin/logsumexp over all or some dims, max/min (with and
// without a dim), argmax/argmin, the Euclidean norm, var and std (composed
// of nn ops), cumsum, softmax and log_softmax.
//
//===----------------------------------------------------------------------===//

#include "compiler/Import/ImportArgs.h"
#include "compiler/Import/Importer.h"

#include "dialects/NN/IR/NNOps.h"

#include <cmath>
#include <type_traits>

using namespace mlir;
using namespace dpc;

namespace {

/// Fails unless input `input` (an optional `dtype=`) is None or float32,
/// the dtype these ops' f32 operands already have (Hugging Face's Llama
/// writes `softmax(x, dim=-1, dtype=torch.float32)` to upcast half
/// precision).
LogicalResult requireFloat32Dtype(Importer &im, jit::Node *node, size_t input) {
  if (input >= node->inputs().size() || Importer::isNone(node->input(input)))
    return success();
  std::optional<c10::IValue> dtype = im.constant(node->input(input));
  if (dtype && dtype->isInt() &&
      static_cast<at::ScalarType>(dtype->toInt()) == at::kFloat)
    return success();
  return im.error(node) << "'" << opName(node)
                        << "' with a dtype other than float32 is not supported";
}

// softmax / log_softmax(x, dim, dtype=None)
template <typename OpTy>
LogicalResult importSoftmax(Importer &im, jit::Node *node) {
  auto x = floatTensorArg(im, node, 0);
  if (failed(x))
    return failure();
  auto dim = dimArg(im, node, 1, typeOf(*x).getRank());
  if (failed(dim) || failed(requireFloat32Dtype(im, node, 2)))
    return failure();
  return im.bind(
      node, im.create<OpTy>(im.locOf(node), {*x}, {i64Attr(im, "dim", *dim)}));
}

// sum/mean(x, dtype=None) and sum/mean(x, dims?, keepdim, dtype=None);
// amax/amin/logsumexp(x, dims, keepdim) (no dtype input).
template <typename OpTy>
LogicalResult importReduction(Importer &im, jit::Node *node) {
  auto x = floatTensorArg(im, node, 0);
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
  if (failed(requireFloat32Dtype(im, node, dtypeInput)))
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

// var(x, unbiased=True), var.dim(x, dims?, unbiased, keepdim) and
// var.correction(x, dims?, *, correction?, keepdim): torch's two-pass
// definition, sum((x - mean(x))^2) / (n - correction) over dims (all for
// None), composed of nn ops: the mean and the sum accumulate in f64 (torch:
// a double Welford pass), and autodiff of the composition gives torch's
// var_backward, 2 / (n - correction) * grad * (x - mean) (the mean's
// branch adds grad * sum(x - mean) = 0 up to rounding). std (the same
// overloads) is norm2(x - mean) / sqrt(n - correction), whose autodiff is
// torch's std_backward, grad * (x - mean) / ((n - correction) * std),
// except where std is 0: torch's gradient is NaN there, this one 0.
LogicalResult importVarOrStd(Importer &im, jit::Node *node) {
  auto x = floatTensorArg(im, node, 0);
  if (failed(x))
    return failure();
  ArrayRef<int64_t> shape = typeOf(*x).getShape();
  int64_t rank = shape.size();
  SmallVector<int64_t> dims;
  bool keepdim = false;
  double correction = 1.0;
  auto flag = [&](size_t input) -> FailureOr<bool> {
    auto v = im.scalarArg(node, input);
    if (failed(v))
      return failure();
    return *v != 0.0;
  };
  if (node->inputs().size() == 2) {
    auto unbiased = flag(1);
    if (failed(unbiased))
      return failure();
    correction = *unbiased ? 1.0 : 0.0;
  } else if (node->inputs().size() == 4) {
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
    jit::Value *third = node->input(2);
    if (third->type()->kind() == c10::TypeKind::BoolType) {
      auto unbiased = flag(2);
      if (failed(unbiased))
        return failure();
      correction = *unbiased ? 1.0 : 0.0;
    } else if (!Importer::isNone(third)) {
      auto value = im.scalarArg(node, 2);
      if (failed(value))
        return failure();
      correction = *value;
    }
    auto keep = flag(3);
    if (failed(keep))
      return failure();
    keepdim = *keep;
  } else {
    return im.error(node) << "this overload of '" << opName(node)
                          << "' is not supported";
  }
  if (dims.empty())
    for (int64_t d = 0; d < rank; ++d)
      dims.push_back(d);
  llvm::sort(dims);
  int64_t count = 1;
  for (int64_t d : dims)
    count *= shape[d];

  Location loc = im.locOf(node);
  OpBuilder &b = im.getBuilder();
  auto dimsAttr = b.getNamedAttr("dims", b.getDenseI64ArrayAttr(dims));
  auto keepAttr = b.getNamedAttr("keepdim", b.getUnitAttr());
  auto mean = im.create<nn::MeanOp>(loc, {*x}, {dimsAttr, keepAttr});
  if (failed(mean))
    return failure();
  Value centered =
      b.create<nn::SubOp>(loc, *x, *mean, nn::floatAttrFor(x->getType(), 1.0));
  SmallVector<NamedAttribute> reduceAttrs = {dimsAttr};
  if (keepdim)
    reduceAttrs.push_back(keepAttr);
  // torch divides by max(n - correction, 0): 0 gives inf (or nan for 0/0).
  double dof = std::max(static_cast<double>(count) - correction, 0.0);
  auto scalar = [&](double value) -> Value {
    auto type = RankedTensorType::get({}, typeOf(*x).getElementType());
    return b.create<nn::FillOp>(loc, type, nn::floatAttrFor(type, value));
  };
  if (node->kind() == c10::aten::std) {
    // std = sqrt(sum(centered^2) / dof) = norm2(centered) / sqrt(dof).
    auto norm = im.create<nn::Norm2Op>(loc, {centered}, reduceAttrs);
    if (failed(norm))
      return failure();
    return im.bind(node,
                   im.create<nn::DivOp>(loc, {*norm, scalar(std::sqrt(dof))}));
  }
  Value squares = b.create<nn::MulOp>(loc, centered, centered);
  auto sum = im.create<nn::SumOp>(loc, {squares}, reduceAttrs);
  if (failed(sum))
    return failure();
  return im.bind(node, im.create<nn::DivOp>(loc, {*sum, scalar(dof)}));
}

// cumsum(x, dim, dtype=None)
LogicalResult importCumSum(Importer &im, jit::Node *node) {
  auto x = floatTensorArg(im, node, 0);
  if (failed(x))
    return failure();
  auto dim = dimArg(im, node, 1, typeOf(*x).getRank());
  if (failed(dim) || failed(requireFloat32Dtype(im, node, 2)))
    return failure();
  return im.bind(node, im.create<nn::CumSumOp>(im.locOf(node), {*x},
                                               {i64Attr(im, "dim", *dim)}));
}

// The Euclidean norm: norm(x, p=2), norm(x, p?, dims, keepdim[, dtype]),
// frobenius_norm(x[, dims, keepdim]) and linalg_vector_norm(x, ord, dims?,
// keepdim, dtype?). Other orders are refused.
LogicalResult importNorm2(Importer &im, jit::Node *node) {
  auto x = floatTensorArg(im, node, 0);
  if (failed(x))
    return failure();
  int64_t rank = typeOf(*x).getRank();
  bool frobenius = node->kind() == c10::aten::frobenius_norm;
  size_t n = node->inputs().size();
  // Where the order, the dims, keepdim and the dtype are (none: absent).
  std::optional<size_t> order, dimsInput, keepInput, dtypeInput;
  if (frobenius) {
    if (n == 3) {
      dimsInput = 1;
      keepInput = 2;
    }
  } else {
    order = 1;
    if (n >= 4) {
      dimsInput = 2;
      keepInput = 3;
    }
    if (n == 5)
      dtypeInput = 4;
  }
  if (order && !Importer::isNone(node->input(*order))) {
    auto p = im.scalarArg(node, *order);
    if (failed(p))
      return failure();
    if (*p != 2.0)
      return im.error(node) << "'" << opName(node) << "' with p = " << *p
                            << " is not supported yet (only p = 2)";
  }
  if (dtypeInput && failed(requireFloat32Dtype(im, node, *dtypeInput)))
    return failure();
  SmallVector<int64_t> dims;
  bool keepdim = false;
  if (dimsInput && !Importer::isNone(node->input(*dimsInput))) {
    auto list = im.intListArg(node, *dimsInput);
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
  if (keepInput) {
    auto keep = im.scalarArg(node, *keepInput);
    if (failed(keep))
      return failure();
    keepdim = *keep != 0.0;
  }
  if (dims.empty())
    for (int64_t d = 0; d < rank; ++d)
      dims.push_back(d);
  llvm::sort(dims);
  OpBuilder &b = im.getBuilder();
  SmallVector<NamedAttribute> attrs = {
      b.getNamedAttr("dims", b.getDenseI64ArrayAttr(dims))};
  if (keepdim)
    attrs.push_back(b.getNamedAttr("keepdim", b.getUnitAttr()));
  return im.bind(node, im.create<nn::Norm2Op>(im.locOf(node), {*x}, attrs));
}

/// nn.max_dim of `x` along `dim` (normalized).
FailureOr<nn::MaxDimOp> createMaxDim(Importer &im, jit::Node *node, Value x,
                                     int64_t dim, bool keepdim, bool min) {
  OpBuilder &b = im.getBuilder();
  SmallVector<NamedAttribute> attrs = {i64Attr(im, "dim", dim)};
  if (keepdim)
    attrs.push_back(b.getNamedAttr("keepdim", b.getUnitAttr()));
  if (min)
    attrs.push_back(b.getNamedAttr("min", b.getUnitAttr()));
  return im.createOp<nn::MaxDimOp>(im.locOf(node), {x}, attrs);
}

// max(x) / min(x): the full reduction, amax / amin over every dim (torch's
// gradient of both splits evenly among ties); max(x, dim, keepdim) /
// min(...): (values, indices), nn.max_dim, whose gradient goes to the
// index. The elementwise max(x, other) is torch.maximum's (registered
// below).
template <typename OpTy>
LogicalResult importMaxOrMin(Importer &im, jit::Node *node) {
  bool min = std::is_same_v<OpTy, nn::AMinOp>;
  if (node->inputs().size() == 1)
    return importReduction<OpTy>(im, node);
  if (node->inputs().size() != 3 || node->outputs().size() != 2)
    return im.error(node) << "'" << opName(node) << "' with "
                          << node->inputs().size()
                          << " arguments is not supported";
  auto x = floatTensorArg(im, node, 0);
  if (failed(x))
    return failure();
  auto dim = dimArg(im, node, 1, typeOf(*x).getRank());
  auto keepdim = im.scalarArg(node, 2);
  if (failed(dim) || failed(keepdim))
    return failure();
  auto op = createMaxDim(im, node, *x, *dim, *keepdim != 0.0, min);
  if (failed(op) || failed(im.bind(node, op->getValues(), 0)))
    return failure();
  return im.bind(node, op->getIndices(), 1);
}

// argmax / argmin(x, dim=None, keepdim=False): nn.max_dim's indices; without
// a dim, of the flattened tensor (keepdim: a shape of ones).
LogicalResult importArgMaxOrMin(Importer &im, jit::Node *node) {
  bool min = node->kind() == c10::aten::argmin;
  auto x = floatTensorArg(im, node, 0);
  auto keepdim = im.scalarArg(node, 2);
  if (failed(x) || failed(keepdim))
    return failure();
  RankedTensorType type = typeOf(*x);
  Location loc = im.locOf(node);
  OpBuilder &b = im.getBuilder();
  if (!Importer::isNone(node->input(1))) {
    auto dim = dimArg(im, node, 1, type.getRank());
    if (failed(dim))
      return failure();
    auto op = createMaxDim(im, node, *x, *dim, *keepdim != 0.0, min);
    if (failed(op))
      return failure();
    return im.bind(node, op->getIndices());
  }
  Value flat = b.create<nn::ReshapeOp>(
      loc,
      RankedTensorType::get({type.getNumElements()}, type.getElementType()),
      *x);
  auto op = createMaxDim(im, node, flat, 0, /*keepdim=*/false, min);
  if (failed(op))
    return failure();
  Value indices = op->getIndices();
  if (*keepdim != 0.0)
    indices = b.create<nn::ReshapeOp>(
        loc,
        RankedTensorType::get(SmallVector<int64_t>(type.getRank(), 1),
                              b.getI64Type()),
        indices);
  return im.bind(node, indices);
}

} // namespace

void dpc::registerReductionImporters(NodeImporterTable &table, MLIRContext &) {
  table[c10::aten::softmax] = importSoftmax<nn::SoftmaxOp>;
  table[c10::aten::log_softmax] = importSoftmax<nn::LogSoftmaxOp>;
  table[c10::aten::sum] = importReduction<nn::SumOp>;
  table[c10::aten::mean] = importReduction<nn::MeanOp>;
  table[c10::aten::amax] = importReduction<nn::AMaxOp>;
  table[c10::aten::amin] = importReduction<nn::AMinOp>;
  table[c10::aten::var] = importVarOrStd;
  table[c10::aten::std] = importVarOrStd;
  table[c10::aten::logsumexp] = importReduction<nn::LogSumExpOp>;
  table[c10::aten::cumsum] = importCumSum;
  // max(x, other) / min(x, other) are torch.maximum / torch.minimum (OPT
  // clamps its attention scores so): the Elementwise family's importers,
  // registered before this family's.
  for (auto [reduction, elementwise, importReductionForm] :
       {std::tuple(c10::aten::max, c10::aten::maximum,
                   NodeImporter(importMaxOrMin<nn::AMaxOp>)),
        std::tuple(c10::aten::min, c10::aten::minimum,
                   NodeImporter(importMaxOrMin<nn::AMinOp>))}) {
    assert(table.count(elementwise) && "Elementwise importers come first");
    table[reduction] = [binary = table.at(elementwise),
                        importReductionForm](Importer &im, jit::Node *node) {
      if (node->inputs().size() == 2)
        return binary(im, node);
      return importReductionForm(im, node);
    };
  }
  table[c10::aten::argmax] = importArgMaxOrMin;
  table[c10::aten::norm] = importNorm2;
  table[c10::aten::frobenius_norm] = importNorm2;
  table[c10::aten::linalg_vector_norm] = importNorm2;
  table[c10::aten::argmin] = importArgMaxOrMin;
}
