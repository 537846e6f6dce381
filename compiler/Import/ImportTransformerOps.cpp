//===- ImportTransformerOps.cpp - aten ops of Transformers to nn ops ------===//
//
// Embeddings, layer_norm, gelu, (log_)softmax, masks (comparisons,
// masked_fill), division, reductions, dropout with p = 0, and the shape ops
// of attention: permute/transpose, slice/select, split/chunk (through the
// prim::ListUnpack of their results), cat/stack, (un)squeeze, expand. PyTorch's
// negative dims and open slice bounds are resolved here, so the nn ops only
// see normalized attributes.
//
//===----------------------------------------------------------------------===//

#include "compiler/Import/Importer.h"

#include "dialects/NN/IR/NNOps.h"

#include <cmath>
#include <sstream>

using namespace mlir;
using namespace dpc;

namespace {

RankedTensorType typeOf(Value v) { return cast<RankedTensorType>(v.getType()); }

std::string opName(jit::Node *node) { return node->kind().toQualString(); }

/// A constant int input, read exactly (slice bounds such as INT64_MAX do not
/// survive a trip through double).
FailureOr<int64_t> intArg(Importer &im, jit::Node *node, size_t input) {
  std::optional<c10::IValue> c = im.constant(node->input(input));
  if (c && c->isInt())
    return c->toInt();
  if (c && c->isBool())
    return static_cast<int64_t>(c->toBool());
  return im.error(node) << "'" << opName(node)
                        << "': expected a constant integer for argument '"
                        << node->input(input)->debugName() << "'",
         failure();
}

/// Resolves a possibly negative dim of a rank-`rank` tensor; an error when it
/// is out of range.
FailureOr<int64_t> normalizeDim(Importer &im, jit::Node *node, int64_t dim,
                                int64_t rank) {
  int64_t d = dim < 0 ? dim + rank : dim;
  if (d < 0 || d >= rank)
    return im.error(node) << "'" << opName(node) << "': dim " << dim
                          << " is out of range for a " << rank << "-d tensor",
           failure();
  return d;
}

FailureOr<int64_t> dimArg(Importer &im, jit::Node *node, size_t input,
                          int64_t rank) {
  auto d = intArg(im, node, input);
  if (failed(d))
    return failure();
  return normalizeDim(im, node, *d, rank);
}

/// Whether input `v` is a tensor (imported, or a compile-time tensor).
bool isTensorInput(Importer &im, jit::Value *v) {
  if (im.isTensor(v))
    return true;
  std::optional<c10::IValue> c = im.constant(v);
  return c && c->isTensor();
}

/// A 0-d f32 tensor with `value` (the second operand of `x / 2`, `x == 0`).
Value scalarTensor(Importer &im, Location loc, double value) {
  OpBuilder &b = im.getBuilder();
  return b.create<nn::FillOp>(loc, RankedTensorType::get({}, b.getF32Type()),
                              b.getF32FloatAttr(static_cast<float>(value)));
}

/// The f32 tensor operand `input` of `node`, or a 0-d fill when it is a
/// number.
FailureOr<Value> tensorOrScalar(Importer &im, jit::Node *node, size_t input) {
  // A 0-d constant tensor (a traced model's `x / math.sqrt(d)` bakes the
  // divisor as a double tensor) takes part like a number: torch computes in
  // the other operand's float32.
  std::optional<c10::IValue> c = im.constant(node->input(input));
  if (c && c->isTensor() && c->toTensor().dim() == 0 &&
      c->toTensor().is_floating_point())
    return scalarTensor(im, im.locOf(node), c->toTensor().item<double>());
  if (isTensorInput(im, node->input(input))) {
    auto t = im.tensorArg(node, input);
    if (failed(t))
      return failure();
    if (!typeOf(*t).getElementType().isF32())
      return im.error(node)
                 << "'" << opName(node) << "' on a tensor of type "
                 << t->getType() << " is not supported (only float32)",
             failure();
    return t;
  }
  auto number = im.scalarArg(node, input);
  if (failed(number))
    return failure();
  return scalarTensor(im, im.locOf(node), *number);
}

FailureOr<Value> f32TensorArg(Importer &im, jit::Node *node, size_t input) {
  auto t = im.tensorArg(node, input);
  if (failed(t))
    return failure();
  if (!typeOf(*t).getElementType().isF32())
    return im.error(node) << "'" << opName(node) << "' needs a float32 "
                          << "tensor, got " << t->getType(),
           failure();
  return t;
}

/// Fails unless input `input` is None (an unsupported optional argument
/// such as `dtype=`).
LogicalResult requireNone(Importer &im, jit::Node *node, size_t input,
                          StringRef what) {
  if (input >= node->inputs().size() || Importer::isNone(node->input(input)))
    return success();
  return im.error(node) << "'" << opName(node) << "' with " << what
                        << " is not supported";
}

Value reshape(Importer &im, Location loc, Value x, ArrayRef<int64_t> shape) {
  auto type = RankedTensorType::get(shape, typeOf(x).getElementType());
  if (type == x.getType())
    return x;
  return im.getBuilder().create<nn::ReshapeOp>(loc, type, x);
}

NamedAttribute i64Attr(Importer &im, StringRef name, int64_t value) {
  OpBuilder &b = im.getBuilder();
  return b.getNamedAttr(name, b.getI64IntegerAttr(value));
}

//===----------------------------------------------------------------------===//
// Embedding, normalization, activations
//===----------------------------------------------------------------------===//

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

// layer_norm(input, normalized_shape, weight?, bias?, eps, cudnn_enable)
LogicalResult importLayerNorm(Importer &im, jit::Node *node) {
  auto x = f32TensorArg(im, node, 0);
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
    return f32TensorArg(im, node, input);
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

// gelu(x, approximate='none')
LogicalResult importGelu(Importer &im, jit::Node *node) {
  auto x = f32TensorArg(im, node, 0);
  if (failed(x))
    return failure();
  std::string approximate = "none";
  if (node->inputs().size() > 1) {
    std::optional<c10::IValue> c = im.constant(node->input(1));
    if (!c || !c->isString())
      return im.error(node) << "'aten::gelu': expected a constant string for "
                               "'approximate'";
    approximate = c->toStringRef();
    if (approximate != "none" && approximate != "tanh")
      return im.error(node)
             << "'aten::gelu': unknown approximate='" << approximate << "'";
  }
  OpBuilder &b = im.getBuilder();
  return im.bind(
      node, im.create<nn::GeluOp>(
                im.locOf(node), {*x},
                {b.getNamedAttr("approximate", b.getStringAttr(approximate))}));
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

// dropout(x, p, train): the identity when nothing is dropped.
LogicalResult importDropout(Importer &im, jit::Node *node) {
  auto p = im.scalarArg(node, 1), train = im.scalarArg(node, 2);
  if (failed(p) || failed(train))
    return failure();
  if (*p != 0.0 && *train != 0.0) {
    std::ostringstream probability; // 0.1, not 1.000000e-01
    probability << *p;
    return im.error(node) << "'" << opName(node)
                          << "' with p=" << probability.str()
                          << " in training mode is not supported (use p=0)";
  }
  return im.bind(node, im.tensorArg(node, 0));
}

//===----------------------------------------------------------------------===//
// Arithmetic, masks, reductions
//===----------------------------------------------------------------------===//

// div(a, b) and div(a, b, rounding_mode=None): true division.
LogicalResult importDiv(Importer &im, jit::Node *node) {
  if (node->inputs().size() > 2) {
    std::optional<c10::IValue> mode = im.constant(node->input(2));
    if (!mode || !mode->isNone())
      return im.error(node) << "'" << opName(node)
                            << "' with a rounding_mode is not supported";
  }
  auto a = f32TensorArg(im, node, 0);
  auto b = tensorOrScalar(im, node, 1);
  if (failed(a) || failed(b))
    return failure();
  return im.bind(node, im.create<nn::DivOp>(im.locOf(node), {*a, *b}));
}

// eq/ne/lt/le/gt/ge(a, b): an f32 0/1 mask.
LogicalResult importCompare(Importer &im, jit::Node *node) {
  auto a = tensorOrScalar(im, node, 0);
  auto b = tensorOrScalar(im, node, 1);
  if (failed(a) || failed(b))
    return failure();
  std::string predicate = node->kind().toUnqualString();
  OpBuilder &builder = im.getBuilder();
  return im.bind(node,
                 im.create<nn::CompareOp>(
                     im.locOf(node), {*a, *b},
                     {builder.getNamedAttr("predicate",
                                           builder.getStringAttr(predicate))}));
}

// masked_fill(x, mask, value): value is a number or a 0-d constant tensor.
LogicalResult importMaskedFill(Importer &im, jit::Node *node) {
  auto x = f32TensorArg(im, node, 0);
  auto mask = f32TensorArg(im, node, 1);
  if (failed(x) || failed(mask))
    return failure();
  double value;
  std::optional<c10::IValue> c = im.constant(node->input(2));
  if (c && c->isTensor() && c->toTensor().dim() == 0) {
    value = c->toTensor().item<double>();
  } else {
    auto number = im.scalarArg(node, 2);
    if (failed(number))
      return failure();
    value = *number;
  }
  OpBuilder &b = im.getBuilder();
  return im.bind(node,
                 im.create<nn::MaskedFillOp>(
                     im.locOf(node), {*x, *mask},
                     {b.getNamedAttr("value", b.getF32FloatAttr(value))}));
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

// nll_loss / nll_loss_nd(input, target, weight, reduction, ignore_index)
LogicalResult importNLLLoss(Importer &im, jit::Node *node) {
  auto x = f32TensorArg(im, node, 0);
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

//===----------------------------------------------------------------------===//
// Shape ops
//===----------------------------------------------------------------------===//

LogicalResult bindPermute(Importer &im, jit::Node *node, Value x,
                          ArrayRef<int64_t> permutation) {
  if (llvm::equal(permutation, llvm::seq<int64_t>(0, permutation.size())))
    return im.bind(node, x);
  OpBuilder &b = im.getBuilder();
  return im.bind(node,
                 im.create<nn::PermuteOp>(
                     im.locOf(node), {x},
                     {b.getNamedAttr("permutation",
                                     b.getDenseI64ArrayAttr(permutation))}));
}

// permute(x, dims)
LogicalResult importPermute(Importer &im, jit::Node *node) {
  auto x = im.tensorArg(node, 0);
  auto dims = im.intListArg(node, 1);
  if (failed(x) || failed(dims))
    return failure();
  int64_t rank = typeOf(*x).getRank();
  if (static_cast<int64_t>(dims->size()) != rank)
    return im.error(node) << "'aten::permute': " << dims->size()
                          << " dims for a " << rank << "-d tensor";
  SmallVector<int64_t> permutation;
  for (int64_t d : *dims) {
    auto dim = normalizeDim(im, node, d, rank);
    if (failed(dim))
      return failure();
    permutation.push_back(*dim);
  }
  return bindPermute(im, node, *x, permutation);
}

/// Python slice bounds resolved against a dimension of `size`: negative
/// bounds count from the end, then both are clamped to [0, size].
std::pair<int64_t, int64_t> clampBounds(std::optional<int64_t> start,
                                        std::optional<int64_t> end,
                                        int64_t size) {
  auto resolve = [&](std::optional<int64_t> bound, int64_t dflt) {
    if (!bound)
      return dflt;
    int64_t v = *bound < 0 ? *bound + size : *bound;
    return std::clamp<int64_t>(v, 0, size);
  };
  int64_t s = resolve(start, 0), e = resolve(end, size);
  return {s, std::max(s, e)};
}

FailureOr<std::optional<int64_t>> optionalInt(Importer &im, jit::Node *node,
                                              size_t input) {
  if (Importer::isNone(node->input(input)))
    return std::optional<int64_t>();
  auto v = intArg(im, node, input);
  if (failed(v))
    return failure();
  return std::optional<int64_t>(*v);
}

FailureOr<Value> createSlice(Importer &im, jit::Node *node, Value x,
                             int64_t dim, int64_t start, int64_t end,
                             int64_t step) {
  if (start == 0 && end == typeOf(x).getDimSize(dim) && step == 1)
    return x;
  return im.create<nn::SliceOp>(
      im.locOf(node), {x},
      {i64Attr(im, "dim", dim), i64Attr(im, "start", start),
       i64Attr(im, "end", end), i64Attr(im, "step", step)});
}

// slice(x, dim, start?, end?, step)
LogicalResult importSlice(Importer &im, jit::Node *node) {
  auto x = im.tensorArg(node, 0);
  if (failed(x))
    return failure();
  auto dim = dimArg(im, node, 1, typeOf(*x).getRank());
  auto start = optionalInt(im, node, 2), end = optionalInt(im, node, 3);
  auto step = intArg(im, node, 4);
  if (failed(dim) || failed(start) || failed(end) || failed(step))
    return failure();
  if (*step < 1)
    return im.error(node) << "'aten::slice': step must be positive, got "
                          << *step;
  auto [s, e] = clampBounds(*start, *end, typeOf(*x).getDimSize(*dim));
  return im.bind(node, createSlice(im, node, *x, *dim, s, e, *step));
}

// select(x, dim, index): x[..., index, ...] without the dimension.
LogicalResult importSelect(Importer &im, jit::Node *node) {
  auto x = im.tensorArg(node, 0);
  if (failed(x))
    return failure();
  RankedTensorType type = typeOf(*x);
  auto dim = dimArg(im, node, 1, type.getRank());
  auto index = intArg(im, node, 2);
  if (failed(dim) || failed(index))
    return failure();
  int64_t size = type.getDimSize(*dim), i = *index;
  if (i < -size || i >= size)
    return im.error(node) << "'aten::select': index " << i
                          << " is out of range for dimension " << *dim
                          << " of size " << size;
  i = i < 0 ? i + size : i;
  auto slice = createSlice(im, node, *x, *dim, i, i + 1, 1);
  if (failed(slice))
    return failure();
  SmallVector<int64_t> shape(type.getShape());
  shape.erase(shape.begin() + *dim);
  return im.bind(node, reshape(im, im.locOf(node), *slice, shape));
}

// unsqueeze(x, dim)
LogicalResult importUnsqueeze(Importer &im, jit::Node *node) {
  auto x = im.tensorArg(node, 0);
  if (failed(x))
    return failure();
  RankedTensorType type = typeOf(*x);
  auto dim = dimArg(im, node, 1, type.getRank() + 1);
  if (failed(dim))
    return failure();
  SmallVector<int64_t> shape(type.getShape());
  shape.insert(shape.begin() + *dim, 1);
  return im.bind(node, reshape(im, im.locOf(node), *x, shape));
}

// squeeze(x) and squeeze(x, dim)
LogicalResult importSqueeze(Importer &im, jit::Node *node) {
  auto x = im.tensorArg(node, 0);
  if (failed(x))
    return failure();
  RankedTensorType type = typeOf(*x);
  SmallVector<int64_t> shape;
  if (node->inputs().size() > 1) {
    auto dim = dimArg(im, node, 1, std::max<int64_t>(type.getRank(), 1));
    if (failed(dim))
      return failure();
    for (auto [i, size] : llvm::enumerate(type.getShape()))
      if (static_cast<int64_t>(i) != *dim || size != 1)
        shape.push_back(size);
  } else {
    for (int64_t size : type.getShape())
      if (size != 1)
        shape.push_back(size);
  }
  return im.bind(node, reshape(im, im.locOf(node), *x, shape));
}

// expand(x, sizes, implicit) and expand_as(x, other)
LogicalResult importExpand(Importer &im, jit::Node *node) {
  auto x = im.tensorArg(node, 0);
  if (failed(x))
    return failure();
  RankedTensorType type = typeOf(*x);
  SmallVector<int64_t> sizes;
  if (node->kind() == c10::aten::expand_as) {
    auto other = im.tensorArg(node, 1);
    if (failed(other))
      return failure();
    sizes.assign(typeOf(*other).getShape().begin(),
                 typeOf(*other).getShape().end());
  } else {
    auto list = im.intListArg(node, 1);
    if (failed(list))
      return failure();
    sizes = *list;
  }
  int64_t lead = static_cast<int64_t>(sizes.size()) - type.getRank();
  if (lead < 0)
    return im.error(node) << "'" << opName(node) << "': cannot expand " << type
                          << " to " << sizes.size() << " dimensions";
  for (int64_t i = lead; i < static_cast<int64_t>(sizes.size()); ++i)
    if (sizes[i] == -1)
      sizes[i] = type.getDimSize(i - lead);
  auto result = RankedTensorType::get(sizes, type.getElementType());
  auto broadcast = nn::broadcastShapes(type.getShape(), sizes);
  if (failed(broadcast) || ArrayRef<int64_t>(*broadcast) != ArrayRef(sizes))
    return im.error(node) << "'" << opName(node) << "': cannot expand " << type
                          << " to " << result;
  if (result == type)
    return im.bind(node, *x);
  return im.bind(node,
                 im.getBuilder()
                     .create<nn::BroadcastToOp>(im.locOf(node), result, *x)
                     .getResult());
}

/// The tensors of a list input built by prim::ListConstruct.
FailureOr<SmallVector<Value>> tensorList(Importer &im, jit::Node *node,
                                         size_t input) {
  jit::Node *list = node->input(input)->node();
  if (list->kind() != c10::prim::ListConstruct)
    return im.error(node) << "'" << opName(node)
                          << "': expected a list of tensors written out in "
                             "the model (prim::ListConstruct)",
           failure();
  SmallVector<Value> tensors;
  for (jit::Value *v : list->inputs()) {
    auto t = im.tensor(node, v);
    if (failed(t))
      return failure();
    tensors.push_back(*t);
  }
  if (tensors.empty())
    return im.error(node) << "'" << opName(node) << "' of an empty list",
           failure();
  return tensors;
}

FailureOr<Value> concat(Importer &im, jit::Node *node, ArrayRef<Value> inputs,
                        int64_t dim) {
  if (inputs.size() == 1)
    return inputs[0];
  return im.create<nn::ConcatOp>(im.locOf(node), inputs,
                                 {i64Attr(im, "dim", dim)});
}

// cat(tensors, dim)
LogicalResult importCat(Importer &im, jit::Node *node) {
  auto tensors = tensorList(im, node, 0);
  if (failed(tensors))
    return failure();
  auto dim = dimArg(im, node, 1, typeOf((*tensors)[0]).getRank());
  if (failed(dim))
    return failure();
  return im.bind(node, concat(im, node, *tensors, *dim));
}

// stack(tensors, dim): cat of the tensors with a new dimension.
LogicalResult importStack(Importer &im, jit::Node *node) {
  auto tensors = tensorList(im, node, 0);
  if (failed(tensors))
    return failure();
  RankedTensorType type = typeOf((*tensors)[0]);
  auto dim = dimArg(im, node, 1, type.getRank() + 1);
  if (failed(dim))
    return failure();
  SmallVector<Value> expanded;
  for (Value t : *tensors) {
    if (t.getType() != type)
      return im.error(node) << "'aten::stack' of tensors of different types "
                            << type << " and " << t.getType();
    SmallVector<int64_t> shape(type.getShape());
    shape.insert(shape.begin() + *dim, 1);
    expanded.push_back(reshape(im, im.locOf(node), t, shape));
  }
  return im.bind(node, concat(im, node, expanded, *dim));
}

/// The sizes of the pieces split/chunk make along a dimension of `size`.
FailureOr<SmallVector<int64_t>> splitSizes(Importer &im, jit::Node *split,
                                           int64_t size) {
  std::optional<c10::IValue> arg = im.constant(split->input(1));
  if (!arg)
    return im.error(split) << "'" << opName(split)
                           << "': expected constant sizes",
           failure();
  SmallVector<int64_t> sizes;
  if (split->kind() == c10::aten::chunk) {
    // chunk(n): pieces of ceil(size / n), the last one smaller.
    int64_t chunks = arg->isInt() ? arg->toInt() : 0;
    if (chunks <= 0)
      return im.error(split) << "'aten::chunk' needs a positive number of "
                                "chunks",
             failure();
    int64_t piece = (size + chunks - 1) / chunks;
    for (int64_t begin = 0; begin < size; begin += piece)
      sizes.push_back(std::min(piece, size - begin));
    if (sizes.empty())
      sizes.push_back(0);
    return sizes;
  }
  if (arg->isInt()) {
    // split(split_size): pieces of split_size, the last one smaller.
    int64_t piece = arg->toInt();
    if (piece <= 0)
      return im.error(split) << "'aten::split' needs a positive split size",
             failure();
    for (int64_t begin = 0; begin < size; begin += piece)
      sizes.push_back(std::min(piece, size - begin));
    if (sizes.empty())
      sizes.push_back(0);
    return sizes;
  }
  auto list = im.intList(split, split->input(1));
  if (failed(list))
    return failure();
  return *list;
}

// The pieces of split/chunk are unpacked by prim::ListUnpack; the split
// itself is imported there, as one nn.split with one result per piece.
LogicalResult importListUnpack(Importer &im, jit::Node *node) {
  // A list known at compile time (`B, T = x.size()`) unpacks into constants.
  if (std::optional<c10::IValue> list = im.constant(node->input(0));
      list && list->isList()) {
    c10::ArrayRef<c10::IValue> elements = list->toListRef();
    if (elements.size() != node->outputs().size())
      return im.error(node) << "unpacking " << elements.size()
                            << " values into " << node->outputs().size();
    for (auto [i, element] : llvm::enumerate(elements))
      im.bindConstant(node, element, i);
    return success();
  }
  jit::Node *split = node->input(0)->node();
  c10::Symbol kind = split->kind();
  if (kind != c10::aten::split && kind != c10::aten::split_with_sizes &&
      kind != c10::aten::chunk && kind != c10::aten::unbind)
    return im.error(node) << "unpacking a list made by '" << opName(split)
                          << "' is not supported";
  auto x = im.tensorArg(split, 0);
  if (failed(x))
    return failure();
  RankedTensorType type = typeOf(*x);
  auto dim =
      dimArg(im, split, kind == c10::aten::unbind ? 1 : 2, type.getRank());
  if (failed(dim))
    return failure();
  int64_t size = type.getDimSize(*dim);
  SmallVector<int64_t> sizes;
  if (kind == c10::aten::unbind) {
    sizes.assign(size, 1);
  } else {
    auto s = splitSizes(im, split, size);
    if (failed(s))
      return failure();
    sizes = *s;
  }
  if (sizes.size() != node->outputs().size())
    return im.error(node) << "'" << opName(split) << "' makes " << sizes.size()
                          << " pieces but " << node->outputs().size()
                          << " are unpacked";
  Location loc = im.locOf(split);
  SmallVector<Value> pieces;
  if (sizes.size() == 1) {
    pieces.push_back(*x);
  } else {
    OpBuilder &b = im.getBuilder();
    // Several results: infer them here (Importer::create returns one).
    DictionaryAttr attrs = b.getDictionaryAttr(
        {i64Attr(im, "dim", *dim),
         b.getNamedAttr("sizes", b.getDenseI64ArrayAttr(sizes))});
    SmallVector<Type> types;
    if (failed(nn::SplitOp::inferReturnTypes(
            &im.getContext(), loc, ValueRange{*x}, attrs,
            OpaqueProperties(nullptr), RegionRange(), types)))
      return failure();
    auto op =
        b.create<nn::SplitOp>(loc, types, ValueRange{*x}, attrs.getValue());
    pieces.append(op->getResults().begin(), op->getResults().end());
  }
  for (auto [i, piece] : llvm::enumerate(pieces)) {
    if (kind == c10::aten::unbind) {
      SmallVector<int64_t> shape(type.getShape());
      shape.erase(shape.begin() + *dim);
      piece = reshape(im, loc, piece, shape);
    }
    if (failed(im.bind(node, piece, i)))
      return failure();
  }
  return success();
}

// split/chunk/unbind produce a list that only prim::ListUnpack may read.
LogicalResult importSplitList(Importer &im, jit::Node *node) {
  for (const jit::Use &use : node->output()->uses())
    if (use.user->kind() != c10::prim::ListUnpack)
      return im.error(use.user)
             << "the list of tensors made by '" << opName(node)
             << "' is supported only when unpacked (a, b = x.split(...)), "
                "not read by '"
             << use.user->kind().toQualString() << "'";
  return success();
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

} // namespace

void dpc::registerTransformerImporters(NodeImporterTable &table) {
  table[c10::aten::embedding] = importEmbedding;
  table[c10::aten::layer_norm] = importLayerNorm;
  table[c10::aten::gelu] = importGelu;
  table[c10::aten::softmax] = importSoftmax<nn::SoftmaxOp>;
  table[c10::aten::log_softmax] = importSoftmax<nn::LogSoftmaxOp>;
  table[c10::aten::dropout] = importDropout;
  table[c10::aten::div] = importDiv;
  table[c10::aten::true_divide] = importDiv;
  for (c10::Symbol compare : {c10::aten::eq, c10::aten::ne, c10::aten::lt,
                              c10::aten::le, c10::aten::gt, c10::aten::ge})
    table[compare] = importCompare;
  table[c10::aten::masked_fill] = importMaskedFill;
  table[c10::aten::sum] = importReduction<nn::SumOp>;
  table[c10::aten::mean] = importReduction<nn::MeanOp>;
  table[c10::aten::nll_loss] = importNLLLoss;
  table[c10::aten::nll_loss_nd] = importNLLLoss;
  table[c10::aten::permute] = importPermute;
  table[c10::aten::slice] = importSlice;
  table[c10::aten::select] = importSelect;
  table[c10::aten::unsqueeze] = importUnsqueeze;
  table[c10::aten::squeeze] = importSqueeze;
  table[c10::aten::expand] = importExpand;
  table[c10::aten::expand_as] = importExpand;
  table[c10::aten::cat] = importCat;
  table[c10::aten::concat] = importCat;
  table[c10::aten::stack] = importStack;
  table[c10::aten::split] = importSplitList;
  table[c10::aten::split_with_sizes] = importSplitList;
  table[c10::aten::chunk] = importSplitList;
  table[c10::aten::unbind] = importSplitList;
  table[c10::prim::ListUnpack] = importListUnpack;
  table[c10::aten::bmm] = importBmm;
}
