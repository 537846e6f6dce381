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
    Type element = labelDType == "i64" ? Type(IntegerType::get(ctx, 64))
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
    if (!func)
      return signalPassFailure();
    // Result 0 is the model's output; the importer appends the updated
    // buffers.
    unsigned numBuffers = 0;
    while (numBuffers + 1 < func.getNumResults() &&
           getResultKind(func, func.getNumResults() - 1 - numBuffers) ==
               kind::kBuffer)
      ++numBuffers;
    if (func.getNumResults() != numBuffers + 1) {
      func.emitError() << "the model's forward must return one tensor, it "
                          "returns "
                       << func.getNumResults() - numBuffers << " values";
      return signalPassFailure();
    }
    auto ret = cast<func::ReturnOp>(func.getBody().front().getTerminator());
    Value output = ret.getOperand(0);
    auto outputType = dyn_cast<RankedTensorType>(output.getType());
    MLIRContext *ctx = &getContext();
    OpBuilder b(ret);
    Location loc = ret.getLoc();

    Value lossValue;
    if (loss == "none") {
      if (!outputType || outputType.getRank() != 0 ||
          !outputType.getElementType().isF32()) {
        func.emitError() << "--loss none needs a forward that returns the "
                            "scalar loss, but it returns "
                         << output.getType();
        return signalPassFailure();
      }
      lossValue = output;
    } else if (loss == "cross_entropy" || loss == "mse") {
      if (!outputType || !outputType.getElementType().isF32()) {
        func.emitError() << "the loss needs a float32 tensor output, got "
                         << output.getType();
        return signalPassFailure();
      }
      Type labelType = outputType;
      if (loss == "cross_entropy") {
        int64_t rank = outputType.getRank();
        if (rank != 2 && rank != 3) {
          func.emitError() << "cross_entropy needs logits [N, C] or "
                              "language-model logits [B, T, V], the forward "
                              "returns "
                           << output.getType();
          return signalPassFailure();
        }
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
          if (t != v && ArrayRef<int64_t>(labelShape) == ArrayRef({b, v})) {
            func.emitError()
                << "--label " << labelName << ":i64[" << b << "," << v
                << "] reads dim 1 of the logits " << output.getType()
                << " as the classes (F.cross_entropy(logits, y)); dpc's "
                   "cross_entropy of logits [B, T, V] takes the class dim "
                   "last, with labels [B, T] (F.cross_entropy(logits.view(-1, "
                   "V), y.view(-1)))";
            return signalPassFailure();
          }
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
        return signalPassFailure();
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
      module.emitError() << "unknown loss '" << loss
                         << "' (expected cross_entropy, mse or none)";
      return signalPassFailure();
    }

    ret.setOperand(0, lossValue);
    func.setFunctionType(
        FunctionType::get(ctx, func.getArgumentTypes(), ret.getOperandTypes()));
    func.setResultAttrs(0, makeSlotAttrs(ctx, kind::kLoss, "loss"));
    func.setSymName(kTrainStepFuncName);
  }
};

} // namespace
