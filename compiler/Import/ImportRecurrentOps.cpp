//===- ImportRecurrentOps.cpp - LSTM and GRU as unrolled cells -----------===//
//
// nn.LSTM and nn.GRU (scripted aten::lstm / aten::gru) over a sequence whose
// length is static: each layer and direction is unrolled into one cell per
// time step built from Linalg, Elementwise and Shape ops, whose gradients
// give backpropagation through time. The cells follow torch 1.13's CPU
// implementation (aten/src/ATen/native/RNN.cpp) operation by operation: the
// input projection of the whole sequence first (one linear), then per step
//
//   LSTM: gates = linear(h, W_hh, b_hh) + x_proj[t]; i, f, g, o = chunk(4)
//         c' = sigmoid(f) * c + sigmoid(i) * tanh(g); h' = sigmoid(o) *
//         tanh(c')
//   GRU:  r = sigmoid(hg[0] + xg[0]), z = sigmoid(hg[1] + xg[1]),
//         n = tanh(xg[2] + hg[2] * r), h' = (h - n) * z + n
//
// with hg = linear(h, W_hh, b_hh). A second direction (bidirectional) runs
// the steps backwards; its outputs are concatenated after the first's, and
// each layer's output is the next layer's input. Not supported (refused):
// dropout between layers in training, projections (proj_size), packed
// sequences.
//
//===----------------------------------------------------------------------===//

#include "compiler/Import/ImportArgs.h"
#include "compiler/Import/Importer.h"

#include "dialects/NN/IR/NNOps.h"

using namespace mlir;
using namespace dpc;

namespace {

RankedTensorType f32Type(ArrayRef<int64_t> shape, MLIRContext *context) {
  return RankedTensorType::get(shape, Float32Type::get(context));
}

/// Builds the ops of one recurrent layer; every op is located at the node.
class CellBuilder {
public:
  CellBuilder(Importer &im, jit::Node *node)
      : b(im.getBuilder()), loc(im.locOf(node)) {}

  Value slice(Value x, int64_t dim, int64_t start, int64_t end) {
    auto type = cast<RankedTensorType>(x.getType());
    if (start == 0 && end == type.getDimSize(dim))
      return x;
    SmallVector<int64_t> shape(type.getShape());
    shape[dim] = end - start;
    return b.create<nn::SliceOp>(
        loc, f32Type(shape, b.getContext()), x, b.getI64IntegerAttr(dim),
        b.getI64IntegerAttr(start), b.getI64IntegerAttr(end),
        b.getI64IntegerAttr(1));
  }
  Value reshape(Value x, ArrayRef<int64_t> shape) {
    auto type = f32Type(shape, b.getContext());
    if (type == x.getType())
      return x;
    return b.create<nn::ReshapeOp>(loc, type, x);
  }
  /// y = x W^T (+ bias), over the last dimension of x.
  Value linear(Value x, Value w, Value bias) {
    SmallVector<int64_t> shape(cast<RankedTensorType>(x.getType()).getShape());
    shape.back() = cast<RankedTensorType>(w.getType()).getDimSize(0);
    SmallVector<Value> operands = {x, w};
    if (bias)
      operands.push_back(bias);
    return b.create<nn::LinearOp>(loc, f32Type(shape, b.getContext()),
                                  operands);
  }
  Value add(Value x, Value y) {
    return b.create<nn::AddOp>(loc, x, y, b.getF32FloatAttr(1.0f));
  }
  Value sub(Value x, Value y) {
    return b.create<nn::SubOp>(loc, x, y, b.getF32FloatAttr(1.0f));
  }
  Value mul(Value x, Value y) { return b.create<nn::MulOp>(loc, x, y); }
  Value sigmoid(Value x) { return b.create<nn::SigmoidOp>(loc, x); }
  Value tanh(Value x) { return b.create<nn::TanhOp>(loc, x); }
  Value concat(ArrayRef<Value> xs, int64_t dim) {
    if (xs.size() == 1)
      return xs.front();
    SmallVector<int64_t> shape(
        cast<RankedTensorType>(xs.front().getType()).getShape());
    shape[dim] = 0;
    for (Value x : xs)
      shape[dim] += cast<RankedTensorType>(x.getType()).getDimSize(dim);
    return b.create<nn::ConcatOp>(loc, f32Type(shape, b.getContext()), xs,
                                  b.getI64IntegerAttr(dim));
  }

private:
  OpBuilder &b;
  Location loc;
};

/// The weights of one layer and direction, in _flat_weights' order.
struct CellWeights {
  Value wIh, wHh, bIh, bHh;
};

/// lstm(input, hx, params, has_biases, num_layers, dropout, train,
/// bidirectional, batch_first) -> (output, h_n, c_n) and
/// gru(input, hx, params, ...) -> (output, h_n).
LogicalResult importRecurrent(Importer &im, jit::Node *node) {
  bool lstm = node->kind() == c10::aten::lstm;
  int64_t gatesPerUnit = lstm ? 4 : 3;
  // The .data overloads take a PackedSequence's data and batch sizes.
  if (node->maybeSchema() && node->schema().overload_name() == "data")
    return im.error(node) << "'" << node->kind().toQualString()
                          << "' of a packed sequence is not supported",
           failure();
  auto x = im.tensorArg(node, 0);
  auto hasBiases = im.scalarArg(node, 3), numLayers = im.scalarArg(node, 4),
       dropout = im.scalarArg(node, 5), train = im.scalarArg(node, 6),
       bidirectional = im.scalarArg(node, 7),
       batchFirst = im.scalarArg(node, 8);
  if (failed(x) || failed(hasBiases) || failed(numLayers) || failed(dropout) ||
      failed(train) || failed(bidirectional) || failed(batchFirst))
    return failure();
  StringRef name = node->kind().toQualString();
  if (!typeOf(*x).getElementType().isF32())
    return im.error(node) << "'" << name << "' of a " << x->getType()
                          << " is not supported (float32 only; a float64 "
                             "model has no recurrent layers yet)",
           failure();
  if (*dropout != 0.0 && *train != 0.0)
    return im.error(node) << "'" << name
                          << "' with dropout between layers in training is "
                             "not supported",
           failure();
  // The initial states: a list [h0] (GRU: the tensor itself) or [h0, c0].
  SmallVector<Value> initial;
  jit::Value *hx = node->input(1);
  if (hx->node()->kind() == c10::prim::ListConstruct) {
    for (jit::Value *v : hx->node()->inputs()) {
      auto t = im.tensor(node, v);
      if (failed(t))
        return failure();
      initial.push_back(*t);
    }
  } else {
    auto t = im.tensor(node, hx);
    if (failed(t))
      return failure();
    initial.push_back(*t);
  }
  if (initial.size() != (lstm ? 2u : 1u))
    return im.error(node) << "'" << name << "': unexpected initial state",
           failure();
  std::optional<c10::IValue> params = im.constant(node->input(2));
  if (!params || !params->isTensorList())
    return im.error(node) << "'" << name
                          << "': the weights must be the module's parameters",
           failure();
  int64_t layers = static_cast<int64_t>(*numLayers);
  int64_t directions = *bidirectional != 0.0 ? 2 : 1;
  size_t perCell = *hasBiases != 0.0 ? 4 : 2;
  auto weights = params->toTensorList();
  if (weights.size() != static_cast<size_t>(layers * directions) * perCell)
    return im.error(node) << "'" << name
                          << "' with projections (proj_size) is not supported",
           failure();

  auto xType = cast<RankedTensorType>(x->getType());
  if (xType.getRank() != 3)
    return im.error(node) << "'" << name
                          << "' expects a batched input [N, L, H_in] or "
                             "[L, N, H_in], got "
                          << xType,
           failure();
  bool first = *batchFirst != 0.0;
  int64_t timeDim = first ? 1 : 0, batchDim = first ? 0 : 1;
  int64_t steps = xType.getDimSize(timeDim);
  int64_t batch = xType.getDimSize(batchDim);
  auto h0Type = cast<RankedTensorType>(initial[0].getType());
  int64_t hidden = h0Type.getDimSize(2);
  if (h0Type.getRank() != 3 || h0Type.getDimSize(0) != layers * directions ||
      h0Type.getDimSize(1) != batch)
    return im.error(node) << "'" << name << "': initial state " << h0Type
                          << " does not fit the input " << xType,
           failure();

  CellBuilder cb(im, node);
  Value input = *x;
  SmallVector<Value> finalH, finalC;
  for (int64_t layer = 0; layer < layers; ++layer) {
    SmallVector<Value> directionOutputs;
    for (int64_t dir = 0; dir < directions; ++dir) {
      int64_t cell = layer * directions + dir;
      CellWeights w;
      SmallVector<Value *> slots = {&w.wIh, &w.wHh, &w.bIh, &w.bHh};
      for (size_t i = 0; i < perCell; ++i) {
        auto value = im.parameterOf(node, weights.get(cell * perCell + i));
        if (failed(value))
          return failure();
        *slots[i] = *value;
      }
      int64_t gates = gatesPerUnit * hidden;
      // The whole sequence's input projection, then one cell per step.
      Value projected = cb.linear(input, w.wIh, w.bIh);
      Value h =
          cb.reshape(cb.slice(initial[0], 0, cell, cell + 1), {batch, hidden});
      Value c = lstm ? cb.reshape(cb.slice(initial[1], 0, cell, cell + 1),
                                  {batch, hidden})
                     : Value();
      SmallVector<Value> outputs(steps);
      for (int64_t k = 0; k < steps; ++k) {
        int64_t t = dir == 0 ? k : steps - 1 - k;
        Value xg =
            cb.reshape(cb.slice(projected, timeDim, t, t + 1), {batch, gates});
        Value hg = cb.linear(h, w.wHh, w.bHh);
        auto chunk = [&](Value v, int64_t i) {
          return cb.slice(v, 1, i * hidden, (i + 1) * hidden);
        };
        if (lstm) {
          Value g = cb.add(hg, xg);
          Value in = cb.sigmoid(chunk(g, 0)), forget = cb.sigmoid(chunk(g, 1));
          Value cellGate = cb.tanh(chunk(g, 2)), out = cb.sigmoid(chunk(g, 3));
          c = cb.add(cb.mul(forget, c), cb.mul(in, cellGate));
          h = cb.mul(out, cb.tanh(c));
        } else {
          Value reset = cb.sigmoid(cb.add(chunk(hg, 0), chunk(xg, 0)));
          Value update = cb.sigmoid(cb.add(chunk(hg, 1), chunk(xg, 1)));
          Value candidate =
              cb.tanh(cb.add(chunk(xg, 2), cb.mul(chunk(hg, 2), reset)));
          h = cb.add(cb.mul(cb.sub(h, candidate), update), candidate);
        }
        SmallVector<int64_t> stepShape = {batch, hidden};
        stepShape.insert(stepShape.begin() + timeDim, 1);
        outputs[t] = cb.reshape(h, stepShape);
      }
      directionOutputs.push_back(cb.concat(outputs, timeDim));
      finalH.push_back(cb.reshape(h, {1, batch, hidden}));
      if (lstm)
        finalC.push_back(cb.reshape(c, {1, batch, hidden}));
    }
    input = cb.concat(directionOutputs, 2);
  }
  if (failed(im.bind(node, input, 0)) ||
      failed(im.bind(node, cb.concat(finalH, 0), 1)))
    return failure();
  if (lstm)
    return im.bind(node, cb.concat(finalC, 0), 2);
  return success();
}

} // namespace

void dpc::registerRecurrentImporters(NodeImporterTable &table, MLIRContext &) {
  table[c10::aten::lstm] = importRecurrent;
  table[c10::aten::gru] = importRecurrent;
}
