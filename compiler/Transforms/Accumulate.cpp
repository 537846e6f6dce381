//===- Accumulate.cpp - Gradient accumulation over K micro-batches --------===//
//
// DDP's no_sync pattern, compiled: one optimizer step runs the forward and
// backward pass on K micro-batches one after the other, sums their
// gradients, and only the sum is averaged over the ranks (one bucketed
// all-reduce per step instead of one per micro-batch) and applied.
//
// The pass runs after dpc-autodiff on
//   @train_step(inputs [B, ...], labels [B, ...], parameters, buffers)
//       -> (loss, gradients...)
// and produces the same signature with every input and label K times as
// large, [K*B, ...]: K micro-batches back to back. The body is unrolled:
// micro-batch k reads `nn.micro_batch %x {index = k}` (a view, no copy) and
// runs a clone of the original forward and backward pass, so only one
// micro-batch's activations are ever live. Each gradient is summed over the
// micro-batches as soon as the micro-batch's gradient is ready and scaled by
// 1/K after the last one; the loss is the mean of the K micro-batch losses.
// For mean-reduced losses this is the gradient of the mean loss over all
// K*B samples, which is what torch computes with
//   for micro_batch in batches: (loss_fn(model(micro_batch)) / K).backward()
// (for K a power of two even bitwise: scaling by 1/K is exact). With
// GradScaler the 1/K moves into the seed, as in PyTorch's
// scaler.scale(loss / K).backward(): each micro-batch's backward pass
// starts from scale / K, so float16 gradients overflow where PyTorch's do.
// Buffers that the step updates (returned with dpc.kind = "buffer") are
// threaded through the micro-batches, as torch updates them on every forward.
//
//===----------------------------------------------------------------------===//

#include "compiler/TrainStep/TrainStep.h"
#include "compiler/Transforms/Passes.h"
#include "dialects/NN/IR/NNOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"

namespace dpc {
#define GEN_PASS_DEF_ACCUMULATE
#include "compiler/Transforms/Passes.h.inc"
} // namespace dpc

using namespace mlir;
using namespace dpc;

namespace {

struct AccumulatePass : public dpc::impl::AccumulateBase<AccumulatePass> {
  using AccumulateBase::AccumulateBase;

  void runOnOperation() override {
    func::FuncOp func = lookupFunction(getOperation(), kTrainStepFuncName);
    if (!func)
      return signalPassFailure();
    if (microBatches < 1) {
      func.emitError() << "the number of micro-batches must be at least 1, "
                          "got "
                       << static_cast<int64_t>(microBatches);
      return signalPassFailure();
    }
    if (failed(unroll(func, static_cast<int64_t>(microBatches))))
      signalPassFailure();
  }

  /// Replaces the nn.loss_scale seed of the backward pass, if there is one,
  /// by nn.div(seed, K); sets `divided`.
  static LogicalResult divideLossScaleSeed(func::FuncOp func, int64_t k,
                                           bool &divided) {
    auto seeds = llvm::to_vector(func.getBody().getOps<nn::LossScaleOp>());
    divided = !seeds.empty();
    if (seeds.empty())
      return success();
    if (seeds.size() > 1)
      return func.emitError("expected one nn.loss_scale seeding the backward "
                            "pass, found ")
             << seeds.size();
    nn::LossScaleOp seed = seeds.front();
    OpBuilder b(seed);
    b.setInsertionPointAfter(seed);
    Value count = b.create<nn::FillOp>(seed.getLoc(), seed.getType(),
                                       nn::floatAttrFor(seed.getType(), k));
    Value seedOverK = b.create<nn::DivOp>(seed.getLoc(), seed, count);
    seed.getResult().replaceAllUsesExcept(seedOverK, seedOverK.getDefiningOp());
    return success();
  }

  LogicalResult unroll(func::FuncOp func, int64_t k) {
    MLIRContext *ctx = &getContext();
    Block &body = func.getBody().front();
    auto ret = cast<func::ReturnOp>(body.getTerminator());

    // What the step returns: the loss, gradients, updated buffers.
    int64_t lossIndex = -1;
    SmallVector<unsigned> gradients, buffers;
    for (unsigned i = 0, e = func.getNumResults(); i < e; ++i) {
      StringRef kind = getResultKind(func, i);
      if (kind == kind::kLoss)
        lossIndex = i;
      else if (kind == kind::kGradient)
        gradients.push_back(i);
      else if (kind == kind::kBuffer)
        buffers.push_back(i);
      else
        return func.emitError()
               << "result " << i << " of @train_step is a '" << kind
               << "'; dpc-accumulate runs between dpc-autodiff and the "
                  "optimizer";
    }
    if (lossIndex < 0 || gradients.empty())
      return func.emitError("expected @train_step to return the loss and "
                            "gradients; run dpc-autodiff first");

    // Buffer arguments, by name, for threading updated buffers.
    llvm::StringMap<BlockArgument> bufferArgs;
    SmallVector<BlockArgument> batched;
    for (BlockArgument arg : func.getArguments()) {
      StringRef kind = getArgKind(func, arg.getArgNumber());
      StringRef name = getArgName(func, arg.getArgNumber());
      if (kind == kind::kBuffer)
        bufferArgs[name] = arg;
      if (kind != kind::kInput && kind != kind::kLabel)
        continue;
      auto type = cast<RankedTensorType>(arg.getType());
      if (type.getRank() == 0)
        return func.emitError()
               << "gradient accumulation splits every input and label "
                  "along its first (batch) dimension, but "
               << kind << " '" << name << "' is a scalar";
      batched.push_back(arg);
    }
    for (unsigned i : buffers)
      if (!bufferArgs.count(getResultName(func, i)))
        return func.emitError() << "updated buffer '" << getResultName(func, i)
                                << "' has no buffer argument";
    if (k == 1)
      return success();

    // GradScaler (the backward pass seeded with nn.loss_scale): PyTorch's
    // recipe backpropagates scaler.scale(loss / K) per micro-batch, so each
    // backward pass starts from scale / K and the sum of the micro-batches'
    // gradients is the step's gradient. Starting from the scale and
    // dividing the sum instead would give the same float32 numbers for K a
    // power of two, but 16-bit activation gradients K times as large,
    // which overflow at other scales than PyTorch's.
    bool seedDivided = false;
    if (failed(divideLossScaleSeed(func, k, seedDivided)))
      return failure();

    SmallVector<Operation *> step;
    for (Operation &op : body.without_terminator())
      step.push_back(&op);

    // The arguments now hold K micro-batches; micro-batch 0 runs the
    // original ops.
    OpBuilder b(ctx);
    b.setInsertionPointToStart(&body);
    auto microBatch = [&](BlockArgument arg, int64_t index) {
      return b.create<nn::MicroBatchOp>(arg.getLoc(), arg,
                                        b.getI64IntegerAttr(index),
                                        b.getI64IntegerAttr(k));
    };
    SmallVector<Value> firstViews;
    for (BlockArgument arg : batched) {
      auto type = cast<RankedTensorType>(arg.getType());
      SmallVector<int64_t> shape(type.getShape());
      shape[0] *= k;
      arg.setType(type.clone(shape));
      auto view = microBatch(arg, 0);
      arg.replaceAllUsesExcept(view.getResult(), view);
      firstViews.push_back(view.getResult());
    }
    func.setFunctionType(
        FunctionType::get(ctx, body.getArgumentTypes(), func.getResultTypes()));

    // Micro-batches 1..K-1: clones of the step, each reading its own views
    // and the buffers the previous one updated. Gradients and the loss are
    // summed right where each micro-batch produces them, so the final sums
    // become ready in the last micro-batch's gradient order (the order the
    // buckets are built from).
    SmallVector<Value> results(ret.getOperands());
    Value lossSum = results[lossIndex];
    SmallVector<Value> gradSums;
    for (unsigned i : gradients)
      gradSums.push_back(results[i]);
    auto addAfter = [&](Value sum, Value term) -> Value {
      OpBuilder::InsertionGuard guard(b);
      if (Operation *def = term.getDefiningOp())
        b.setInsertionPointAfter(def);
      return b.create<nn::AddOp>(term.getLoc(), sum, term,
                                 nn::floatAttrFor(sum.getType(), 1.0));
    };

    SmallVector<Value> previous(results);
    for (int64_t index = 1; index < k; ++index) {
      b.setInsertionPoint(ret);
      IRMapping mapping;
      for (auto [arg, firstView] : llvm::zip(batched, firstViews))
        mapping.map(firstView, microBatch(arg, index).getResult());
      for (unsigned i : buffers)
        mapping.map(bufferArgs.lookup(getResultName(func, i)), previous[i]);
      for (Operation *op : step) {
        Operation *clone = b.clone(*op, mapping);
        // A fresh dropout mask (and Bernoulli draw) per micro-batch, as
        // torch draws one per forward; forward and backward of one
        // micro-batch share it.
        if (auto dropout = dyn_cast<nn::DropoutOp>(clone))
          dropout.setMicroBatch(index);
        if (auto bernoulli = dyn_cast<nn::BernoulliOp>(clone))
          bernoulli.setMicroBatch(index);
      }
      SmallVector<Value> current;
      for (Value v : results)
        current.push_back(mapping.lookupOrDefault(v));
      lossSum = addAfter(lossSum, current[lossIndex]);
      for (auto [sum, i] : llvm::zip(gradSums, gradients))
        sum = addAfter(sum, current[i]);
      previous = std::move(current);
    }

    // Means over the micro-batches.
    // 1/k in the sums' precision: float32's 1.0f / k, or double's.
    auto scaleAfter = [&](Value sum) -> Value {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointAfter(sum.getDefiningOp());
      bool f64 = getElementTypeOrSelf(sum.getType()).isF64();
      double scale = f64 ? 1.0 / static_cast<double>(k)
                         : static_cast<double>(1.0f / static_cast<float>(k));
      return b.create<nn::ScaleOp>(sum.getLoc(), sum,
                                   nn::floatAttrFor(sum.getType(), scale));
    };
    results[lossIndex] = scaleAfter(lossSum);
    for (auto [sum, i] : llvm::zip(gradSums, gradients))
      results[i] = seedDivided ? sum : scaleAfter(sum);
    for (unsigned i : buffers)
      results[i] = previous[i];
    ret->setOperands(results);
    return success();
  }
};

} // namespace
