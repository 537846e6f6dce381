//===- ImportIndexingOps.cpp - Indexing: aten ops to nn ops ---------------===//
//
// embedding, and advanced indexing (index, index_select) as embedding on a
// permuted and flattened view; gather with a compile-time index as embedding
// on a column, with an index computed by the step as nn.gather;
// scatter_add; embedding_bag with bags of one length as embedding and a
// reduction.
//
//===----------------------------------------------------------------------===//

#include "compiler/Import/ImportArgs.h"
#include "compiler/Import/Importer.h"

#include "dialects/NN/IR/NNOps.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace dpc;

namespace {

// embedding(weight, indices, padding_idx, scale_grad_by_freq, sparse)
LogicalResult importEmbedding(Importer &im, jit::Node *node) {
  auto weight = floatTensorArg(im, node, 0);
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

/// A reshape of `x` to `shape` (none when it already has it).
Value reshapeTo(Importer &im, Location loc, Value x, ArrayRef<int64_t> shape) {
  auto type = RankedTensorType::get(shape, typeOf(x).getElementType());
  if (type == x.getType())
    return x;
  return im.getBuilder().create<nn::ReshapeOp>(loc, type, x);
}

/// `x` permuted (none for the identity).
FailureOr<Value> permute(Importer &im, Location loc, Value x,
                         ArrayRef<int64_t> permutation) {
  if (llvm::equal(permutation, llvm::seq<int64_t>(0, permutation.size())))
    return x;
  OpBuilder &b = im.getBuilder();
  return im.create<nn::PermuteOp>(
      loc, {x},
      {b.getNamedAttr("permutation", b.getDenseI64ArrayAttr(permutation))});
}

/// `x[:, ..., :, indices]` with `indices` (i64, any shape S) selecting along
/// dimension `dim` of `x` ([A..., V, B...]): a result of shape
/// [A..., S..., B...], as torch's advanced indexing with one index tensor
/// gives it. It is nn.embedding, whose weight gradient is the deterministic
/// scatter-add, on `x` with `dim` moved to the front and the other
/// dimensions flattened: [V, A*B] rows picked by `indices` give
/// [S..., A*B], which is reshaped and permuted back.
FailureOr<Value> selectAlong(Importer &im, Location loc, Value x, int64_t dim,
                             Value indices) {
  ArrayRef<int64_t> shape = typeOf(x).getShape();
  ArrayRef<int64_t> indexShape = typeOf(indices).getShape();
  int64_t rank = shape.size(), indexRank = indexShape.size();
  SmallVector<int64_t> toFront{dim};
  int64_t rows = 1;
  for (int64_t d = 0; d < rank; ++d)
    if (d != dim) {
      toFront.push_back(d);
      rows *= shape[d];
    }
  FailureOr<Value> front = permute(im, loc, x, toFront);
  if (failed(front))
    return failure();
  Value table = reshapeTo(im, loc, *front, {shape[dim], rows});
  FailureOr<Value> picked =
      im.create<nn::EmbeddingOp>(loc, {table, indices}, {});
  if (failed(picked))
    return failure();
  // [S..., A..., B...], then the index dimensions moved to where `dim` was.
  SmallVector<int64_t> unflattened(indexShape);
  for (int64_t d = 0; d < rank; ++d)
    if (d != dim)
      unflattened.push_back(shape[d]);
  Value result = reshapeTo(im, loc, *picked, unflattened);
  SmallVector<int64_t> back;
  for (int64_t d = 0; d < dim; ++d)
    back.push_back(indexRank + d);
  for (int64_t d = 0; d < indexRank; ++d)
    back.push_back(d);
  for (int64_t d = dim + 1; d < rank; ++d)
    back.push_back(indexRank + d - 1);
  return permute(im, loc, result, back);
}

/// Checks an index operand of `node`: an i64 tensor, not a bool mask (whose
/// result's shape would depend on the data). Compile-time ones are read
/// without being materialized.
LogicalResult checkIndex(Importer &im, jit::Node *node, jit::Value *v) {
  bool isBoolMask, isInteger;
  if (std::optional<c10::IValue> c = im.constant(v); c && c->isTensor()) {
    at::ScalarType dtype = c->toTensor().scalar_type();
    isBoolMask = dtype == at::kBool;
    isInteger = at::isIntegralType(dtype, /*includeBool=*/false);
  } else {
    FailureOr<Value> index = im.tensor(node, v);
    if (failed(index))
      return failure();
    isBoolMask = im.isBool(*index);
    isInteger = typeOf(*index).getElementType().isInteger(64);
  }
  if (isBoolMask)
    return im.error(node) << "'" << opName(node)
                          << "' with a boolean mask is not supported: the "
                             "shape of its result depends on the data";
  if (!isInteger)
    return im.error(node) << "'" << opName(node)
                          << "' needs integer index tensors";
  return success();
}

// index(x, indices: Tensor?[]): advanced indexing, `x[..., i, ...]`. Leading
// None entries are full slices; one index tensor, or several adjacent ones
// known at compile time (combined into one index into their flattened
// dimensions), select along their dimensions.
LogicalResult importIndex(Importer &im, jit::Node *node) {
  auto x = floatTensorArg(im, node, 0);
  if (failed(x))
    return failure();
  // The entries: None (a full slice), a tensor value of the graph, or a
  // tensor known at compile time (then the whole list may be a constant).
  struct Entry {
    jit::Value *value = nullptr;
    std::optional<at::Tensor> constant;
    bool isNone() const { return !value && !constant; }
  };
  SmallVector<Entry> entries;
  jit::Node *list = node->input(1)->node();
  if (list->kind() == c10::prim::ListConstruct) {
    for (jit::Value *v : list->inputs()) {
      Entry entry;
      if (!Importer::isNone(v)) {
        if (failed(checkIndex(im, node, v)))
          return failure();
        entry.value = v;
        if (std::optional<c10::IValue> c = im.constant(v); c && c->isTensor())
          entry.constant = c->toTensor();
      }
      entries.push_back(entry);
    }
  } else if (std::optional<c10::IValue> c = im.constant(node->input(1));
             c && c->isList()) {
    for (const c10::IValue &element : c->toListRef()) {
      Entry entry;
      if (element.isTensor())
        entry.constant = element.toTensor();
      entries.push_back(entry);
    }
  } else {
    return im.error(node) << "'aten::index': expected a list of index "
                             "tensors built in the model";
  }
  SmallVector<int64_t> indexed;
  for (auto [position, entry] : llvm::enumerate(entries))
    if (!entry.isNone()) {
      if (entry.constant && !entry.value) {
        at::ScalarType dtype = entry.constant->scalar_type();
        if (dtype == at::kBool)
          return im.error(node)
                 << "'aten::index' with a boolean mask is not supported: "
                    "the shape of its result depends on the data";
        if (!at::isIntegralType(dtype, /*includeBool=*/false))
          return im.error(node) << "'aten::index' needs integer index tensors";
      }
      indexed.push_back(position);
    }
  int64_t rank = typeOf(*x).getRank();
  if (indexed.empty())
    return im.bind(node, *x);
  if (static_cast<int64_t>(entries.size()) > rank)
    return im.error(node) << "'aten::index': " << entries.size()
                          << " indices for a " << rank << "-d tensor";
  int64_t first = indexed.front(), count = indexed.size();
  if (indexed.back() - first + 1 != count)
    return im.error(node)
           << "'aten::index' with index tensors separated by slices is "
              "not supported";
  Location loc = im.locOf(node);
  std::vector<at::Tensor> parts;
  for (int64_t position : indexed)
    if (entries[position].constant)
      parts.push_back(entries[position].constant->to(at::kLong));
  // An index tensor computed in forward (or a buffer, such as Swin's
  // relative_position_index): its values are checked by nn.embedding when
  // the step runs, so negative indices are an error there.
  if (static_cast<int64_t>(parts.size()) != count) {
    if (count != 1)
      return im.error(node) << "'aten::index' with several index tensors "
                               "needs them known at compile time";
    return im.bind(node, selectAlong(im, loc, *x, first,
                                     *im.tensor(node, entries[first].value)));
  }

  // Index tensors known at compile time: negative indices count from the
  // end, and the broadcast indices of several adjacent ones combine into one
  // index into their flattened dimensions [first, first + count).
  ArrayRef<int64_t> shape = typeOf(*x).getShape();
  std::vector<at::Tensor> broadcast;
  try {
    broadcast = at::broadcast_tensors(parts);
  } catch (const c10::Error &) {
    return im.error(node) << "'aten::index': the index tensors' shapes do "
                             "not broadcast";
  }
  at::Tensor flat = at::zeros_like(broadcast[0]);
  int64_t flatSize = 1;
  for (int64_t i = 0; i < count; ++i) {
    int64_t size = shape[first + i];
    at::Tensor part = broadcast[i];
    if (part.numel() > 0 && (part.min().item<int64_t>() < -size ||
                             part.max().item<int64_t>() >= size))
      return im.error(node) << "'aten::index': an index is out of range for "
                               "dimension "
                            << first + i << " of size " << size;
    flat = flat * size + at::remainder(part, size);
    flatSize *= size;
  }
  SmallVector<int64_t> merged(shape.take_front(first));
  merged.push_back(flatSize);
  llvm::append_range(merged, shape.drop_front(first + count));
  Value flattened = reshapeTo(im, loc, *x, merged);
  OpBuilder &b = im.getBuilder();
  auto flatType = RankedTensorType::get(
      SmallVector<int64_t>(flat.sizes().begin(), flat.sizes().end()),
      b.getI64Type());
  flat = flat.contiguous();
  Value flatIndex = b.create<nn::ConstantOp>(
      loc, DenseElementsAttr::get(
               flatType, ArrayRef<int64_t>(flat.data_ptr<int64_t>(),
                                           static_cast<size_t>(flat.numel()))));
  return im.bind(node, selectAlong(im, loc, flattened, first, flatIndex));
}

// index_select(x, dim, index): x along `dim` at the positions of the 1-d
// `index`.
LogicalResult importIndexSelect(Importer &im, jit::Node *node) {
  auto x = floatTensorArg(im, node, 0);
  if (failed(x))
    return failure();
  auto dim = dimArg(im, node, 1, typeOf(*x).getRank());
  if (failed(dim))
    return failure();
  if (failed(checkIndex(im, node, node->input(2))))
    return failure();
  auto index = im.tensorArg(node, 2);
  if (failed(index))
    return failure();
  if (typeOf(*index).getRank() > 1)
    return im.error(node) << "'aten::index_select' needs a 1-d index, got "
                          << index->getType();
  return im.bind(node, selectAlong(im, im.locOf(node), *x, *dim, *index));
}

/// `x` sliced to the first `sizes[d]` elements of each dimension d but
/// `dim` (torch's gather and scatter_add read only those).
FailureOr<Value> sliceToIndex(Importer &im, Location loc, Value x,
                              ArrayRef<int64_t> sizes, int64_t dim) {
  for (int64_t d = 0, rank = sizes.size(); d < rank; ++d) {
    if (d == dim || sizes[d] == typeOf(x).getDimSize(d))
      continue;
    auto sliced = im.create<nn::SliceOp>(
        loc, {x},
        {i64Attr(im, "dim", d), i64Attr(im, "start", 0),
         i64Attr(im, "end", sizes[d]), i64Attr(im, "step", 1)});
    if (failed(sliced))
      return failure();
    x = *sliced;
  }
  return x;
}

/// Checks the index operand `input` of gather or scatter_add on a tensor
/// of shape `shape`: an integer tensor of the same rank, no larger than
/// `bounds` (the index may be smaller: torch reads the corresponding
/// leading part), and, when it is known at compile time, with values in
/// [0, shape[dim]) (one computed by the step is checked when it runs).
/// Returns it as an i64 value.
FailureOr<Value> indexAlong(Importer &im, jit::Node *node, size_t input,
                            ArrayRef<int64_t> shape, ArrayRef<int64_t> bounds,
                            int64_t dim) {
  if (failed(checkIndex(im, node, node->input(input))))
    return failure();
  if (std::optional<c10::IValue> c = im.constant(node->input(input));
      c && c->isTensor()) {
    at::Tensor index = c->toTensor();
    if (index.numel() > 0 && (index.min().item<int64_t>() < 0 ||
                              index.max().item<int64_t>() >= shape[dim]))
      return im.error(node) << "'" << opName(node)
                            << "': an index is out of range for dimension "
                            << dim << " of size " << shape[dim],
             failure();
  }
  auto index = im.tensorArg(node, input);
  if (failed(index))
    return failure();
  ArrayRef<int64_t> sizes = typeOf(*index).getShape();
  int64_t rank = shape.size();
  if (static_cast<int64_t>(sizes.size()) != rank)
    return im.error(node) << "'" << opName(node) << "': a " << sizes.size()
                          << "-d index for a " << rank << "-d tensor",
           failure();
  for (int64_t d = 0; d < rank; ++d)
    if (sizes[d] > bounds[d])
      return im.error(node)
                 << "'" << opName(node) << "': the index's dimension " << d
                 << " (" << sizes[d] << ") exceeds the tensor's (" << bounds[d]
                 << ")",
             failure();
  if (!typeOf(*index).getElementType().isInteger(64))
    return im.error(node) << "'" << opName(node) << "' needs an int64 index, "
                          << "got " << index->getType(),
           failure();
  return index;
}

/// gather(x, dim, index) with an index computed by the step (an input, or
/// argmax's result): nn.gather of x sliced to the index's size in the other
/// dimensions. An index out of range is an error when the step runs.
LogicalResult importGatherAt(Importer &im, jit::Node *node, Value x,
                             int64_t dim) {
  ArrayRef<int64_t> shape = typeOf(x).getShape();
  SmallVector<int64_t> bounds(shape);
  bounds[dim] = std::numeric_limits<int64_t>::max();
  auto index = indexAlong(im, node, 2, shape, bounds, dim);
  if (failed(index))
    return failure();
  Location loc = im.locOf(node);
  auto input = sliceToIndex(im, loc, x, typeOf(*index).getShape(), dim);
  if (failed(input))
    return failure();
  return im.bind(node, im.create<nn::GatherOp>(loc, {*input, *index},
                                               {i64Attr(im, "dim", dim)}));
}

// gather(x, dim, index, sparse_grad) with an index known at compile time:
// result[p] = x[p with p[dim] = index[p]], one element of x for each of
// index's, so the flat positions are computed here and the elements picked
// by nn.embedding from x as a column [N, 1] (its weight gradient is the
// scatter-add, scatter_add being gather's gradient). An index computed
// when the step runs (an input, argmax) makes nn.gather (importGatherAt).
LogicalResult importGather(Importer &im, jit::Node *node) {
  auto x = floatTensorArg(im, node, 0);
  if (failed(x))
    return failure();
  ArrayRef<int64_t> shape = typeOf(*x).getShape();
  int64_t rank = shape.size();
  auto dim = dimArg(im, node, 1, rank);
  if (failed(dim) || failed(checkIndex(im, node, node->input(2))))
    return failure();
  std::optional<c10::IValue> c = im.constant(node->input(2));
  if (!c || !c->isTensor())
    return importGatherAt(im, node, *x, *dim);
  at::Tensor index = c->toTensor().to(at::kLong);
  if (index.dim() != rank)
    return im.error(node) << "'aten::gather': a " << index.dim()
                          << "-d index for a " << rank << "-d tensor";
  for (int64_t d = 0; d < rank; ++d)
    if (d != *dim && index.size(d) > shape[d])
      return im.error(node) << "'aten::gather': the index's dimension " << d
                            << " (" << index.size(d) << ") exceeds the "
                            << "tensor's (" << shape[d] << ")";
  if (index.numel() > 0 && (index.min().item<int64_t>() < 0 ||
                            index.max().item<int64_t>() >= shape[*dim]))
    return im.error(node) << "'aten::gather': an index is out of range for "
                             "dimension "
                          << *dim << " of size " << shape[*dim];
  // The flat position in x (row-major) of each of index's elements.
  at::Tensor flat = at::zeros(index.sizes(), at::kLong);
  int64_t stride = 1, numel = 1;
  for (int64_t d = rank - 1; d >= 0; --d) {
    at::Tensor coordinate = index;
    if (d != *dim) {
      std::vector<int64_t> view(rank, 1);
      view[d] = index.size(d);
      coordinate = at::arange(index.size(d), at::kLong).view(view);
    }
    flat = flat + coordinate * stride;
    stride *= shape[d];
  }
  numel = stride;
  flat = flat.contiguous();
  Location loc = im.locOf(node);
  OpBuilder &b = im.getBuilder();
  auto flatType = RankedTensorType::get(
      SmallVector<int64_t>(flat.sizes().begin(), flat.sizes().end()),
      b.getI64Type());
  Value positions = b.create<nn::ConstantOp>(
      loc, DenseElementsAttr::get(
               flatType, ArrayRef<int64_t>(flat.data_ptr<int64_t>(),
                                           static_cast<size_t>(flat.numel()))));
  Value column = reshapeTo(im, loc, *x, {numel, 1});
  auto picked = im.create<nn::EmbeddingOp>(loc, {column, positions}, {});
  if (failed(picked))
    return failure();
  return im.bind(node, reshapeTo(im, loc, *picked, flatType.getShape()));
}

// scatter_add(self, dim, index, src): nn.scatter_add, src sliced to the
// index's shape (torch reads only that part of it). An index smaller than
// self in a dimension other than dim is refused (nn.scatter_add's index
// spans self but along dim).
LogicalResult importScatterAdd(Importer &im, jit::Node *node) {
  auto self = floatTensorArg(im, node, 0);
  if (failed(self))
    return failure();
  ArrayRef<int64_t> shape = typeOf(*self).getShape();
  auto dim = dimArg(im, node, 1, shape.size());
  if (failed(dim))
    return failure();
  auto src = floatTensorArg(im, node, 3);
  if (failed(src))
    return failure();
  ArrayRef<int64_t> srcShape = typeOf(*src).getShape();
  if (srcShape.size() != shape.size())
    return im.error(node) << "'" << opName(node) << "': a " << srcShape.size()
                          << "-d src for a " << shape.size() << "-d tensor";
  SmallVector<int64_t> bounds(srcShape);
  for (int64_t d = 0, e = shape.size(); d < e; ++d)
    if (d != *dim)
      bounds[d] = std::min(bounds[d], shape[d]);
  auto index = indexAlong(im, node, 2, shape, bounds, *dim);
  if (failed(index))
    return failure();
  ArrayRef<int64_t> sizes = typeOf(*index).getShape();
  for (int64_t d = 0, e = shape.size(); d < e; ++d)
    if (d != *dim && sizes[d] != shape[d])
      return im.error(node)
             << "'" << opName(node) << "' with an index "
             << "smaller than the tensor in dimension " << d << " (" << sizes[d]
             << " < " << shape[d] << ") is not supported";
  Location loc = im.locOf(node);
  auto part = sliceToIndex(im, loc, *src, sizes, /*dim=*/-1);
  if (failed(part))
    return failure();
  return im.bind(node, im.create<nn::ScatterAddOp>(loc, {*self, *index, *part},
                                                   {i64Attr(im, "dim", *dim)}));
}

// embedding_bag(weight, indices, offsets, scale_grad_by_freq, mode, sparse,
// per_sample_weights, include_last_offset[, padding_idx]) (nn.EmbeddingBag,
// F.embedding_bag): with bags of one length L, which F.embedding_bag makes
// of a 2-d input (offsets arange(0, N, L), known at compile time), it is
// nn.embedding of the indices as [bags, L] followed by a sum, a mean or a
// max over L (mode 0, 1, 2): the same values, and the same gradients
// (max's to the row of each maximum, the first among equal ones, as
// torch's). Offsets computed by the step, bags of different lengths,
// per-sample weights and padding_idx are refused.
LogicalResult importEmbeddingBag(Importer &im, jit::Node *node) {
  auto weight = floatTensorArg(im, node, 0);
  auto indices = im.tensorArg(node, 1);
  auto scaleByFreq = im.scalarArg(node, 3), mode = im.scalarArg(node, 4),
       sparse = im.scalarArg(node, 5), includeLast = im.scalarArg(node, 7);
  if (failed(weight) || failed(indices) || failed(scaleByFreq) ||
      failed(mode) || failed(sparse) || failed(includeLast))
    return failure();
  if (!typeOf(*indices).getElementType().isInteger(64) ||
      typeOf(*indices).getRank() != 1)
    return im.error(node) << "'aten::embedding_bag' needs 1-d int64 indices, "
                          << "got " << indices->getType();
  if (*scaleByFreq != 0.0 || *sparse != 0.0)
    return im.error(node) << "'aten::embedding_bag' with scale_grad_by_freq "
                             "or sparse gradients is not supported";
  if (!Importer::isNone(node->input(6)))
    return im.error(node) << "'aten::embedding_bag' with per_sample_weights "
                             "is not supported";
  if (node->inputs().size() > 8 && !Importer::isNone(node->input(8)))
    return im.error(node) << "'aten::embedding_bag' with a padding_idx is "
                             "not supported";
  std::optional<c10::IValue> c = im.constant(node->input(2));
  if (!c || !c->isTensor())
    return im.error(node) << "'aten::embedding_bag' with offsets not known at "
                             "compile time is not supported (only bags of one "
                             "length: give the indices as a 2-d [bags, "
                             "length] tensor without offsets)";
  at::Tensor offsets = c->toTensor().to(at::kLong).contiguous();
  int64_t n = typeOf(*indices).getDimSize(0);
  if (*includeLast != 0.0) {
    if (offsets.dim() != 1 || offsets.numel() < 1 ||
        offsets[-1].item<int64_t>() != n)
      return im.error(node) << "'aten::embedding_bag': with "
                               "include_last_offset the last offset must be "
                               "the number of indices ("
                            << n << ")";
    offsets = offsets.slice(0, 0, offsets.numel() - 1);
  }
  int64_t bags = offsets.dim() == 1 ? offsets.numel() : 0;
  int64_t length = bags > 0 ? n / bags : 0;
  if (bags == 0 || length == 0 || bags * length != n ||
      !offsets.equal(at::arange(0, n, length, at::kLong)))
    return im.error(node) << "'aten::embedding_bag' with bags of different "
                             "or zero lengths is not supported (only offsets "
                             "0, L, 2L, ... into the indices)";
  Location loc = im.locOf(node);
  Value rows = reshapeTo(im, loc, *indices, {bags, length});
  auto picked = im.create<nn::EmbeddingOp>(loc, {*weight, rows}, {});
  if (failed(picked))
    return failure();
  OpBuilder &b = im.getBuilder();
  // Sum and mean reduce over each bag (dimension 1).
  NamedAttribute bagDim =
      b.getNamedAttr("dims", b.getDenseI64ArrayAttr({int64_t(1)}));
  switch (static_cast<int64_t>(*mode)) {
  case 0:
    return im.bind(node, im.create<nn::SumOp>(loc, {*picked}, {bagDim}));
  case 1:
    return im.bind(node, im.create<nn::MeanOp>(loc, {*picked}, {bagDim}));
  case 2: {
    auto max =
        im.createOp<nn::MaxDimOp>(loc, {*picked}, {i64Attr(im, "dim", 1)});
    if (failed(max))
      return failure();
    return im.bind(node, max->getValues());
  }
  default:
    return im.error(node) << "'aten::embedding_bag': unknown mode " << *mode;
  }
}

} // namespace

void dpc::registerIndexingImporters(NodeImporterTable &table, MLIRContext &) {
  table[c10::aten::embedding] = importEmbedding;
  table[c10::aten::index] = importIndex;
  table[c10::aten::index_select] = importIndexSelect;
  table[c10::aten::gather] = importGather;
  table[c10::aten::scatter_add] = importScatterAdd;
  table[c10::aten::embedding_bag] = importEmbeddingBag;
}
