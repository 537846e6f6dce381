//===- BuildTrainStep.cpp - Forward function + loss -----------------------===//
//
// The importer produces `@forward(inputs..., parameters..., buffers...) ->
// (output, updated buffers...)`. This pass makes it the loss function of one
// training step: it takes the label as its last argument and returns this
// rank's mean loss, then the updated buffers unchanged (see the result order
// in TrainStep.h). Gradients and the update are added by the passes that
// follow.
//
//===----------------------------------------------------------------------===//

#include "compiler/TrainStep/TrainStep.h"
#include "compiler/Transforms/Passes.h"

#include "mlir/IR/Builders.h"

namespace dpc {
#define GEN_PASS_DEF_BUILDTRAINSTEP
#include "compiler/Transforms/Passes.h.inc"
} // namespace dpc

using namespace mlir;
using namespace dpc;

namespace {

struct BuildTrainStepPass
    : public dpc::impl::BuildTrainStepBase<BuildTrainStepPass> {
  using BuildTrainStepBase::BuildTrainStepBase;

  /// With `label-dtype`, the user gave the label (`--label y:i64[16]`):
  /// it must be the label the loss needs. The error is about a flag, so it
  /// has no location in the model.
  LogicalResult checkGivenLabel(Type needed) {
    if (labelDType.empty())
      return success();
    MLIRContext *ctx = &getContext();
    Type element = labelDType == "i64"   ? Type(IntegerType::get(ctx, 64))
                   : labelDType == "f64" ? Type(Float64Type::get(ctx))
                                         : Type(Float32Type::get(ctx));
    if (RankedTensorType::get(labelShape, element) == needed)
      return success();
    auto spec = [&](StringRef dtype, ArrayRef<int64_t> shape) {
      std::string text;
      llvm::raw_string_ostream os(text);
      os << labelName << ":" << dtype << "[";
      llvm::interleave(shape, os, ",");
      os << "]";
      return text;
    };
    auto neededType = cast<RankedTensorType>(needed);
    Type neededElement = neededType.getElementType();
    StringRef neededDType = neededElement.isF32()   ? "f32"
                            : neededElement.isF64() ? "f64"
                                                    : "i64";
    return emitError(UnknownLoc::get(ctx))
           << "--label " << spec(labelDType, labelShape)
           << " does not match the loss: " << loss
           << " of this model's output needs "
           << spec(neededDType, neededType.getShape());
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    func::FuncOp func = lookupFunction(module, kForwardFuncName);
    if (!func || failed(buildLossFunction(func, /*eval=*/false)))
      return signalPassFailure();
    // The evaluation step, when the importer added the eval-mode forward.
    auto eval = module.lookupSymbol<func::FuncOp>(kEvalForwardFuncName);
    if (!eval)
      return;
    // An evaluation step updates nothing: the training step owns the
    // buffers. A forward that still updates one after model.eval() (a
    // traced model runs in the mode it was traced in, as in PyTorch) gets
    // no evaluation step; training is unaffected.
    unsigned numResults = eval.getNumResults();
    if (numResults > 1 &&
        getResultKind(eval, numResults - 1) == kind::kBuffer) {
      unsigned first = numResults - 1;
      while (first > 1 && getResultKind(eval, first - 1) == kind::kBuffer)
        --first;
      emitWarning(eval.getLoc())
          << "the model updates buffer '" << getResultName(eval, first)
          << "' even in eval mode (a traced model keeps the mode it was "
             "traced in); model.so gets no evaluation step";
      eval.erase();
      return;
    }
    if (failed(buildLossFunction(eval, /*eval=*/true)))
      return signalPassFailure();
  }

  /// Makes `func` (@forward, or @eval_forward with `eval`) the loss function
  /// @train_step (loss, updated buffers...) or @eval_step (loss, output).
  LogicalResult buildLossFunction(func::FuncOp func, bool eval) {
    ModuleOp module = getOperation();
    // Result 0 is the model's output; the importer appends the updated
    // buffers.
    unsigned numBuffers = 0;
    while (numBuffers + 1 < func.getNumResults() &&
           getResultKind(func, func.getNumResults() - 1 - numBuffers) ==
               kind::kBuffer)
      ++numBuffers;
    if (func.getNumResults() != numBuffers + 1)
      return func.emitError() << "the model's forward must return one tensor, "
                                 "it returns "
                              << func.getNumResults() - numBuffers << " values";
    auto ret = cast<func::ReturnOp>(func.getBody().front().getTerminator());
    Value output = ret.getOperand(0);
    auto outputType = dyn_cast<RankedTensorType>(output.getType());
    MLIRContext *ctx = &getContext();
    OpBuilder b(ret);
    Location loc = ret.getLoc();

    Value lossValue;
    if (loss == "none") {
      if (!outputType || outputType.getRank() != 0 ||
          !(outputType.getElementType().isF32() ||
            outputType.getElementType().isF64()))
        return func.emitError() << "--loss none needs a forward that returns "
                                   "the scalar loss, but it returns "
                                << output.getType();
      lossValue = output;
    } else if (loss == "cross_entropy" || loss == "mse") {
      if (!outputType || !(outputType.getElementType().isF32() ||
                           outputType.getElementType().isF64()))
        return func.emitError()
               << "the loss needs a float32 (or float64) tensor output, got "
               << output.getType();
      Type labelType = outputType;
      if (loss == "cross_entropy") {
        int64_t rank = outputType.getRank();
        if (rank != 2 && rank != 3)
          return func.emitError() << "cross_entropy needs logits [N, C] or "
                                     "language-model logits [B, T, V], the "
                                     "forward returns "
                                  << output.getType();
        SmallVector<int64_t> shape;
        if (rank == 3) {
          // Language-model logits [B, T, V] take labels [B, T]: the class
          // dim is the last one, as nanoGPT's and Hugging Face's
          // F.cross_entropy(logits.view(-1, V), y.view(-1)). (torch's
          // F.cross_entropy(logits, y) reads dim 1 as the classes; that
          // form is not what dpc computes.)
          int64_t b = outputType.getDimSize(0), t = outputType.getDimSize(1),
                  v = outputType.getDimSize(2);
          shape = {b, t};
          if (t != v && ArrayRef<int64_t>(labelShape) == ArrayRef({b, v}))
            return func.emitError()
                   << "--label " << labelName << ":i64[" << b << "," << v
                   << "] reads dim 1 of the logits " << output.getType()
                   << " as the classes (F.cross_entropy(logits, y)); dpc's "
                      "cross_entropy of logits [B, T, V] takes the class dim "
                      "last, with labels [B, T] "
                      "(F.cross_entropy(logits.view(-1, "
                      "V), y.view(-1)))";
        } else {
          // Class indices [N]; labels given with more dimensions and N
          // elements ([B, T] for logits [B*T, V]) keep their shape and are
          // flattened below.
          int64_t n = outputType.getDimSize(0), count = 1;
          for (int64_t d : labelShape)
            count *= d;
          shape = {n};
          if (labelShape.size() > 1 && count == n)
            shape.assign(labelShape.begin(), labelShape.end());
        }
        labelType = RankedTensorType::get(shape, IntegerType::get(ctx, 64));
      }
      if (failed(checkGivenLabel(labelType)))
        return failure();
      unsigned labelIndex = func.getNumArguments();
      func.insertArgument(labelIndex, labelType,
                          makeSlotAttrs(ctx, kind::kLabel, labelName), loc);
      Value label = func.getArgument(labelIndex);
      if (loss == "cross_entropy") {
        // [B, T, V] logits: the rows of [B*T, V] (a view).
        if (outputType.getRank() == 3) {
          int64_t rows = outputType.getDimSize(0) * outputType.getDimSize(1);
          outputType = RankedTensorType::get({rows, outputType.getDimSize(2)},
                                             outputType.getElementType());
          output = b.create<nn::ReshapeOp>(loc, outputType, output);
        }
        auto flat = RankedTensorType::get({outputType.getDimSize(0)},
                                          IntegerType::get(ctx, 64));
        if (label.getType() != flat)
          label = b.create<nn::ReshapeOp>(loc, flat, label);
        lossValue = b.create<nn::CrossEntropyOp>(loc, output, label);
      } else {
        lossValue = b.create<nn::MSELossOp>(loc, output, label);
      }
    } else {
      return module.emitError() << "unknown loss '" << loss
                                << "' (expected cross_entropy, mse or none)";
    }

    ret.setOperand(0, lossValue);
    // The evaluation step also returns the model's output, after the loss.
    if (eval)
      ret->insertOperands(1, output);
    func.setFunctionType(
        FunctionType::get(ctx, func.getArgumentTypes(), ret.getOperandTypes()));
    func.setResultAttrs(0, makeSlotAttrs(ctx, kind::kLoss, "loss"));
    if (eval)
      func.setResultAttrs(1, makeSlotAttrs(ctx, kind::kOutput, "output"));
    func.setSymName(eval ? kEvalStepFuncName : kTrainStepFuncName);
    return success();
  }
};

} // namespace
