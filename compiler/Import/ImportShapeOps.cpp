//===- ImportShapeOps.cpp - aten ops of the Shape family to nn ops --------===//
//
// view/reshape/flatten, t/transpose/permute, slice/select, split/chunk
// (through the prim::ListUnpack of their results), cat/stack, (un)squeeze,
// roll (slices concatenated), constant padding (blocks of the value
// concatenated), expand, contiguous and clone, and writes into a slice of a
// clone (functionalized). PyTorch's negative dims and open slice
// bounds are resolved here, so the nn ops only see normalized attributes.
//
//===----------------------------------------------------------------------===//

#include "compiler/Import/ImportArgs.h"
#include "compiler/Import/Importer.h"

#include "dialects/NN/IR/NNOps.h"

#include <cmath>

using namespace mlir;
using namespace dpc;

namespace {

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

// x.contiguous() is the identity on value-semantics tensors.
LogicalResult importIdentity(Importer &im, jit::Node *node) {
  return im.bind(node, im.tensorArg(node, 0));
}

// x.detach() and x.data: the same value, with no gradient through it.
// Integer tensors have none anyway.
LogicalResult importDetach(Importer &im, jit::Node *node) {
  FailureOr<Value> x = im.tensorArg(node, 0);
  if (failed(x) || !isa<FloatType>(typeOf(*x).getElementType()))
    return im.bind(node, x);
  return im.bind(
      node,
      im.getBuilder().create<nn::DetachOp>(im.locOf(node), *x).getResult());
}

Value reshape(Importer &im, Location loc, Value x, ArrayRef<int64_t> shape) {
  auto type = RankedTensorType::get(shape, typeOf(x).getElementType());
  if (type == x.getType())
    return x;
  return im.getBuilder().create<nn::ReshapeOp>(loc, type, x);
}

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

/// The tensors of a list input built in forward (a list literal, pieces of
/// split/chunk, appends; see Importer::TensorList) or of constants.
FailureOr<SmallVector<Value>> tensorList(Importer &im, jit::Node *node,
                                         size_t input) {
  SmallVector<Value> tensors;
  if (Importer::TensorList list = im.tensorListOf(node->input(input))) {
    tensors.assign(list->begin(), list->end());
  } else {
    jit::Node *literal = node->input(input)->node();
    if (literal->kind() != c10::prim::ListConstruct)
      return im.error(node) << "'" << opName(node)
                            << "': expected a list of tensors built in the "
                               "model",
             failure();
    for (jit::Value *v : literal->inputs()) {
      auto t = im.tensor(node, v);
      if (failed(t))
        return failure();
      tensors.push_back(*t);
    }
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

// split/chunk/unbind: one nn.split with one result per piece, bound as a
// list of tensors (Importer::TensorList) that prim::ListUnpack, indexing
// or torch.cat read, also after it leaves the if/else branch that made it
// (MultiheadAttention's in-projection returns `x.chunk(3)` from a branch).
LogicalResult importSplitList(Importer &im, jit::Node *split) {
  c10::Symbol kind = split->kind();
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
  Location loc = im.locOf(split);
  std::vector<Value> pieces;
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
    pieces.assign(op->getResults().begin(), op->getResults().end());
  }
  if (kind == c10::aten::unbind) {
    SmallVector<int64_t> shape(type.getShape());
    shape.erase(shape.begin() + *dim);
    for (Value &piece : pieces)
      piece = reshape(im, loc, piece, shape);
  }
  im.bindTensorList(split, std::move(pieces));
  return success();
}

// prim::ListUnpack: of a list known at compile time (`B, T = x.size()`) into
// constants, of a list of tensors into its tensors.
LogicalResult importListUnpack(Importer &im, jit::Node *node) {
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
  Importer::TensorList tensors = im.tensorListOf(node->input(0));
  if (!tensors)
    return im.error(node) << "unpacking a list made by '"
                          << opName(node->input(0)->node())
                          << "' is not supported";
  if (tensors->size() != node->outputs().size())
    return im.error(node) << "unpacking a list of " << tensors->size()
                          << " tensors into " << node->outputs().size()
                          << " values";
  for (auto [i, piece] : llvm::enumerate(*tensors))
    if (failed(im.bind(node, piece, i)))
      return failure();
  return success();
}

// roll(x, shifts, dims): each dimension rotated by its shift, as two slices
// concatenated; with no dims, x is rolled as a flat vector.
LogicalResult importRoll(Importer &im, jit::Node *node) {
  auto x = im.tensorArg(node, 0);
  auto shifts = im.intListArg(node, 1), dims = im.intListArg(node, 2);
  if (failed(x) || failed(shifts) || failed(dims))
    return failure();
  Location loc = im.locOf(node);
  ArrayRef<int64_t> shape = typeOf(*x).getShape();
  bool flat = dims->empty();
  if (flat) {
    if (shifts->size() != 1)
      return im.error(node) << "'aten::roll' with no dims takes one shift";
    *x = reshape(im, loc, *x, {typeOf(*x).getNumElements()});
    dims->push_back(0);
  }
  if (shifts->size() != dims->size())
    return im.error(node) << "'aten::roll': " << shifts->size()
                          << " shifts for " << dims->size() << " dims";
  Value rolled = *x;
  for (auto [shift, d] : llvm::zip(*shifts, *dims)) {
    auto dim = normalizeDim(im, node, d, typeOf(rolled).getRank());
    if (failed(dim))
      return failure();
    int64_t size = typeOf(rolled).getDimSize(*dim);
    if (size == 0 || shift % size == 0)
      continue;
    // result[i] = x[(i - shift) mod size]: the last `s` elements first.
    int64_t s = ((shift % size) + size) % size;
    auto tail = createSlice(im, node, rolled, *dim, size - s, size, 1);
    auto head = createSlice(im, node, rolled, *dim, 0, size - s, 1);
    if (failed(tail) || failed(head))
      return failure();
    auto joined = concat(im, node, {*tail, *head}, *dim);
    if (failed(joined))
      return failure();
    rolled = *joined;
  }
  if (flat)
    rolled = reshape(im, loc, rolled, shape);
  return im.bind(node, rolled);
}

// constant_pad_nd(x, pad, value) and pad(x, pad, mode="constant", value):
// pad holds (before, after) pairs from the last dimension backwards; a
// positive amount concatenates a block of `value`, a negative one crops.
LogicalResult importConstantPad(Importer &im, jit::Node *node) {
  auto x = floatTensorArg(im, node, 0);
  auto pad = im.intListArg(node, 1);
  if (failed(x) || failed(pad))
    return failure();
  size_t valueInput = 2;
  if (node->kind() == c10::aten::pad) {
    std::optional<c10::IValue> mode = im.constant(node->input(2));
    if (!mode || !mode->isString())
      return im.error(node) << "'aten::pad': expected a constant mode";
    if (mode->toStringRef() != "constant")
      return im.error(node) << "'aten::pad' in mode '" << mode->toStringRef()
                            << "' is not supported (only 'constant' is)";
    valueInput = 3;
  }
  double value = 0.0;
  if (!Importer::isNone(node->input(valueInput))) {
    auto v = im.scalarArg(node, valueInput);
    if (failed(v))
      return failure();
    value = *v;
  }
  int64_t rank = typeOf(*x).getRank();
  if (pad->size() % 2 != 0 || static_cast<int64_t>(pad->size()) > 2 * rank)
    return im.error(node) << "'" << opName(node) << "': " << pad->size()
                          << " padding amounts for a " << rank << "-d tensor";
  Location loc = im.locOf(node);
  OpBuilder &b = im.getBuilder();
  Value padded = *x;
  for (size_t pair = 0; pair < pad->size() / 2; ++pair) {
    int64_t dim = rank - 1 - pair;
    int64_t before = (*pad)[2 * pair], after = (*pad)[2 * pair + 1];
    int64_t size = typeOf(padded).getDimSize(dim);
    if (size + std::min<int64_t>(before, 0) + std::min<int64_t>(after, 0) < 0)
      return im.error(node) << "'" << opName(node) << "': cropping more than "
                            << "dimension " << dim << " of size " << size;
    // Crops first, then blocks of `value`.
    auto cropped =
        createSlice(im, node, padded, dim, std::max<int64_t>(-before, 0),
                    size - std::max<int64_t>(-after, 0), 1);
    if (failed(cropped))
      return failure();
    SmallVector<Value> pieces;
    auto block = [&](int64_t amount) {
      SmallVector<int64_t> blockShape(typeOf(*cropped).getShape());
      blockShape[dim] = amount;
      auto blockType =
          RankedTensorType::get(blockShape, typeOf(*cropped).getElementType());
      pieces.push_back(b.create<nn::FillOp>(
          loc, blockType, nn::floatAttrFor(blockType, value)));
    };
    if (before > 0)
      block(before);
    pieces.push_back(*cropped);
    if (after > 0)
      block(after);
    auto joined = concat(im, node, pieces, dim);
    if (failed(joined))
      return failure();
    padded = *joined;
  }
  return im.bind(node, padded);
}

// Writes into a slice of a tensor computed in forward (aten::zero_, fill_
// and copy_ on `x[..., s:e, ...]`), as torchvision's Swin V2 does to a clone
// of a parameter (`qkv_bias = qkv_bias.clone(); qkv_bias[L:2L].zero_()`):
// functionalized as a concat of x's slices around the new values, which
// then stands for x. Only where that cannot change meaning: x is made by
// aten::clone, the slice is taken directly of x with step 1 and used only
// by the write, and no view of x taken before the write exists (uses of x
// before it must not alias it, as x.numel() does not).
LogicalResult importSliceAssign(Importer &im, jit::Node *node) {
  auto refuse = [&](StringRef why) {
    return im.error(node) << "'" << opName(node)
                          << "' (an in-place write) is not supported here: "
                          << why;
  };
  jit::Value *view = node->input(0);
  jit::Node *slice = view->node();
  if (slice->kind() != c10::aten::slice)
    return refuse("only writes into a slice of a tensor are");
  jit::Value *base = slice->input(0);
  if (std::optional<c10::IValue> c = im.constant(base); c && c->isTensor())
    return refuse("a tensor made at compile time may only be written before "
                  "a tensor op uses it");
  if (base->node()->kind() != c10::aten::clone)
    return refuse("only a tensor made by clone() may be written");
  if (view->uses().size() != 1)
    return refuse("the written slice is used elsewhere");
  for (const jit::Use &use : base->uses()) {
    jit::Node *user = use.user;
    if (user == slice || !user->isBefore(node))
      continue;
    bool aliases = !user->maybeSchema();
    if (user->maybeSchema())
      for (const c10::Argument &result : user->schema().returns())
        aliases |= result.alias_info() != nullptr;
    if (aliases)
      return refuse("a view of the tensor is taken before the write");
  }
  auto x = floatTensorArg(im, slice, 0);
  if (failed(x))
    return failure();
  auto dim = dimArg(im, slice, 1, typeOf(*x).getRank());
  auto start = optionalInt(im, slice, 2), end = optionalInt(im, slice, 3);
  auto step = intArg(im, slice, 4);
  if (failed(dim) || failed(start) || failed(end) || failed(step))
    return failure();
  if (*step != 1)
    return refuse("only slices of step 1 are");
  int64_t size = typeOf(*x).getDimSize(*dim);
  auto [s, e] = clampBounds(*start, *end, size);
  SmallVector<int64_t> sliceShape(typeOf(*x).getShape());
  sliceShape[*dim] = e - s;
  auto sliceType =
      RankedTensorType::get(sliceShape, typeOf(*x).getElementType());
  Location loc = im.locOf(node);
  OpBuilder &b = im.getBuilder();
  Value written;
  if (node->kind() == c10::aten::copy_) {
    auto source = floatTensorArg(im, node, 1);
    if (failed(source))
      return failure();
    ArrayRef<int64_t> from = typeOf(*source).getShape();
    bool broadcasts = from.size() <= sliceShape.size();
    for (size_t i = 0; broadcasts && i < from.size(); ++i) {
      int64_t to = sliceShape[sliceShape.size() - from.size() + i];
      broadcasts = from[i] == to || from[i] == 1;
    }
    if (!broadcasts)
      return refuse("the source does not broadcast to the slice");
    written = *source;
    if (source->getType() != sliceType)
      written = b.create<nn::BroadcastToOp>(loc, sliceType, *source);
  } else {
    double value = 0.0;
    if (node->kind() == c10::aten::fill_) {
      auto v = im.scalarArg(node, 1);
      if (failed(v))
        return failure();
      value = *v;
    }
    written = b.create<nn::FillOp>(loc, sliceType,
                                   nn::floatAttrFor(sliceType, value));
  }
  SmallVector<Value> pieces;
  if (s > 0) {
    auto before = createSlice(im, node, *x, *dim, 0, s, 1);
    if (failed(before))
      return failure();
    pieces.push_back(*before);
  }
  pieces.push_back(written);
  if (e < size) {
    auto after = createSlice(im, node, *x, *dim, e, size, 1);
    if (failed(after))
      return failure();
    pieces.push_back(*after);
  }
  auto updated = concat(im, node, pieces, *dim);
  if (failed(updated))
    return failure();
  // x is the updated tensor from here on; the write's result is the slice.
  if (failed(im.bind(base->node(), *updated, base->offset())))
    return failure();
  return im.bind(node, written);
}

} // namespace

void dpc::registerShapeImporters(NodeImporterTable &table, MLIRContext &) {
  table[c10::aten::t] = importTranspose;
  table[c10::aten::transpose] = importTranspose;
  table[c10::aten::contiguous] = importIdentity;
  table[c10::aten::detach] = importDetach;
  table[c10::Symbol::prim("data")] = importDetach;
  table[c10::aten::view] = importView;
  table[c10::aten::reshape] = importView;
  table[c10::aten::flatten] = importFlatten;
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
  table[c10::aten::roll] = importRoll;
  table[c10::aten::clone] = importIdentity;
  for (c10::Symbol write :
       {c10::aten::zero_, c10::aten::fill_, c10::aten::copy_})
    table[write] = importSliceAssign;
  table[c10::aten::constant_pad_nd] = importConstantPad;
  table[c10::aten::pad] = importConstantPad;
  table[c10::aten::split] = importSplitList;
  table[c10::aten::split_with_sizes] = importSplitList;
  table[c10::aten::chunk] = importSplitList;
  table[c10::aten::unbind] = importSplitList;
  table[c10::prim::ListUnpack] = importListUnpack;
}
