//===- DPReplicate.cpp - The forward of nn.DataParallel -------------------===//
//
// nn.DataParallel's forward is scatter, replicate, parallel_apply, gather:
// each device gets a chunk of the batch and its own copy of the module, the
// copies run concurrently, and their outputs are concatenated on device 0,
// where the loss is computed. This pass writes that program out explicitly
// with the dp ops that mirror torch/nn/parallel/_functions.py (dp.scatter,
// dp.replicate, dp.gather), so the passes that follow need not know about
// replicas: build-train-step puts the loss on the gathered output, autodiff
// runs through the ops' VJPs (Gather -> Scatter, Broadcast -> ReduceAdd),
// and the optimizer updates the parameters on device 0.
//
// Shapes are static, so a replica whose chunk is smaller (the last one of
// an uneven batch) needs its own import of the model: the driver imports
// the forward once per distinct chunk size.
//
//===----------------------------------------------------------------------===//

#include "compiler/TrainStep/TrainStep.h"
#include "compiler/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"

namespace dpc {
#define GEN_PASS_DEF_DPREPLICATE
#include "compiler/Transforms/Passes.h.inc"
} // namespace dpc

using namespace mlir;
using namespace dpc;

namespace {

RankedTensorType withRows(Type type, int64_t rows) {
  auto tensor = cast<RankedTensorType>(type);
  SmallVector<int64_t> shape(tensor.getShape());
  shape[0] = rows;
  return RankedTensorType::get(shape, tensor.getElementType());
}

/// Whether an op of the forward writes the storage of `arg` in place, as
/// nn.batch_norm writes the new running statistics over the old.
bool isUpdatedInPlace(BlockArgument arg) {
  bool written = false;
  arg.getOwner()->walk([&](Operation *op) {
    if (!isStorageView(op))
      for (Value result : op->getResults())
        written |= getStorageOwner(result) == arg;
  });
  return written;
}

struct DPReplicatePass : public dpc::impl::DPReplicateBase<DPReplicatePass> {
  using DPReplicateBase::DPReplicateBase;

  void runOnOperation() override {
    if (failed(replicate()))
      signalPassFailure();
  }

  /// Checks that `func` is the forward of a chunk of `rows` samples and has
  /// the signature of `reference` otherwise.
  LogicalResult checkForward(func::FuncOp func, int64_t rows,
                             func::FuncOp reference) {
    // The output, then the buffers the forward updates (the importer's
    // convention, see TrainStep.h).
    for (unsigned i = 1; i < func.getNumResults(); ++i)
      if (getResultKind(func, i) != kind::kBuffer)
        return func.emitError()
               << "--mode dp needs a forward that returns one tensor (the "
                  "replicas' outputs are gathered), it returns "
               << func.getNumResults() << " values";
    bool hasInput = false;
    for (BlockArgument arg : func.getArguments()) {
      unsigned i = arg.getArgNumber();
      if (getArgKind(func, i) != kind::kInput)
        continue;
      hasInput = true;
      auto type = dyn_cast<RankedTensorType>(arg.getType());
      if (!type || type.getRank() == 0 || type.getDimSize(0) != rows)
        return func.emitError()
               << "--mode dp scatters input '" << getArgName(func, i)
               << "' along dimension 0 in chunks of " << rows
               << " samples, but @" << func.getSymName() << " takes "
               << arg.getType();
    }
    if (!hasInput)
      return func.emitError("--mode dp needs an input to scatter");
    if (!reference)
      return success();
    if (func.getNumArguments() != reference.getNumArguments() ||
        func.getAllArgAttrs() != reference.getAllArgAttrs() ||
        func.getAllResultAttrs() != reference.getAllResultAttrs() ||
        func.getResultTypes().drop_front() !=
            reference.getResultTypes().drop_front())
      return func.emitError()
             << "@" << func.getSymName() << " does not take the arguments of @"
             << reference.getSymName();
    for (auto [i, a, b] : llvm::enumerate(func.getArgumentTypes(),
                                          reference.getArgumentTypes())) {
      // Inputs differ in their number of rows only.
      bool input = getArgKind(func, i) == kind::kInput;
      if (input ? withRows(a, 1) != withRows(b, 1) : a != b)
        return func.emitError()
               << "@" << func.getSymName()
               << " does not take the arguments of @" << reference.getSymName();
    }
    return success();
  }

  LogicalResult replicate() {
    ModuleOp module = getOperation();
    int64_t devices = this->devices, batch = this->batch;
    if (devices < 1 || batch < 1)
      return module.emitError()
             << "dpc-dp-replicate needs devices >= 1 and batch >= 1, got "
                "devices="
             << devices << " batch=" << batch;
    SmallVector<int64_t> chunks = dp::getChunkSizes(batch, devices);
    int64_t numReplicas = chunks.size();
    // Not an error (nn.DataParallel does the same), but rarely intended.
    if (numReplicas < devices)
      emitWarning(UnknownLoc::get(&getContext()))
          << "a batch of " << batch << " in chunks of " << chunks.front()
          << " (torch.chunk) uses " << numReplicas << " of the " << devices
          << " devices";

    func::FuncOp forward = lookupFunction(module, kForwardFuncName);
    if (!forward)
      return failure();
    func::FuncOp last = module.lookupSymbol<func::FuncOp>(kLastForwardFuncName);
    bool unevenLast = chunks.back() != chunks.front();
    if (unevenLast && !last)
      return module.emitError()
             << "the last of the " << numReplicas << " chunks has "
             << chunks.back() << " samples: dpc-dp-replicate needs @"
             << kLastForwardFuncName << ", the forward imported for it";
    if (!unevenLast && last)
      return last.emitError()
             << "the batch of " << batch << " splits evenly over "
             << numReplicas << " replicas; @" << kLastForwardFuncName
             << " is not used";
    if (last && !last.getBody().hasOneBlock())
      return last.emitError() << "expected @" << kLastForwardFuncName
                              << " to have a single block";
    if (failed(checkForward(forward, chunks.front(), nullptr)) ||
        (last && failed(checkForward(last, chunks.back(), forward))))
      return failure();

    // The whole-batch forward: inputs with `batch` rows, everything else as
    // imported.
    MLIRContext *ctx = &getContext();
    SmallVector<Type> argTypes;
    for (BlockArgument arg : forward.getArguments())
      argTypes.push_back(getArgKind(forward, arg.getArgNumber()) == kind::kInput
                             ? withRows(arg.getType(), batch)
                             : arg.getType());
    auto outputType = dyn_cast<RankedTensorType>(forward.getResultTypes()[0]);
    if (!outputType || outputType.getRank() == 0)
      return forward.emitError()
             << "--mode dp gathers the replicas' outputs along dimension 0, "
                "but the forward returns "
             << forward.getResultTypes()[0];

    OpBuilder b(ctx);
    b.setInsertionPoint(forward);
    auto whole = b.create<func::FuncOp>(forward.getLoc(), "dp_forward",
                                        b.getFunctionType(argTypes, {}));
    whole.setAllArgAttrs(forward.getAllArgAttrs());
    Block *entry = whole.addEntryBlock();
    b.setInsertionPointToStart(entry);

    // Broadcast: every parameter and buffer to every replica. A tensor the
    // forward updates in place (BatchNorm's running statistics) gets real
    // copies, so that each replica updates its own and replica 0 the
    // module's.
    llvm::DenseMap<Value, dp::ReplicateOp> copies;
    for (BlockArgument arg : whole.getArguments()) {
      unsigned i = arg.getArgNumber();
      if (getArgKind(whole, i) == kind::kInput)
        continue;
      // A bool buffer is a constant of the step, which never reads it.
      if (cast<RankedTensorType>(arg.getType()).getElementType().isInteger(1))
        continue;
      bool written = isUpdatedInPlace(forward.getArgument(i)) ||
                     (last && isUpdatedInPlace(last.getArgument(i)));
      copies[arg] = b.create<dp::ReplicateOp>(
          arg.getLoc(), SmallVector<Type>(numReplicas, arg.getType()), arg,
          written ? b.getUnitAttr() : nullptr);
    }

    // Scatter and the replicas' forward bodies.
    SmallVector<Value> outputs, updatedBuffers;
    int64_t offset = 0;
    for (auto [replica, rows] : llvm::enumerate(chunks)) {
      func::FuncOp body =
          replica + 1 == chunks.size() && unevenLast ? last : forward;
      IRMapping mapping;
      for (BlockArgument arg : whole.getArguments()) {
        BlockArgument bodyArg = body.getArgument(arg.getArgNumber());
        if (auto copy = copies.lookup(arg)) {
          mapping.map(bodyArg, copy.getResult(replica));
          continue;
        }
        if (getArgKind(whole, arg.getArgNumber()) != kind::kInput) {
          mapping.map(bodyArg, arg); // a bool buffer, unread
          continue;
        }
        auto scatter = b.create<dp::ScatterOp>(arg.getLoc(), bodyArg.getType(),
                                               arg, offset);
        dp::setReplica(scatter, replica);
        mapping.map(bodyArg, scatter.getResult());
      }
      Block &bodyBlock = body.getBody().front();
      for (Operation &op : bodyBlock.without_terminator()) {
        Operation *clone = b.clone(op, mapping);
        dp::setReplica(clone, replica);
      }
      Operation *bodyRet = bodyBlock.getTerminator();
      Value output = mapping.lookup(bodyRet->getOperand(0));
      // nn.DataParallel keeps replica 0's buffer updates (its buffers are
      // the module's) and drops the others'.
      if (replica == 0)
        for (Value buffer : bodyRet->getOperands().drop_front())
          updatedBuffers.push_back(mapping.lookup(buffer));
      if (cast<RankedTensorType>(output.getType()).getShape().drop_front() !=
          outputType.getShape().drop_front())
        return body.emitError()
               << "the replicas' outputs " << outputType << " and "
               << output.getType() << " cannot be gathered along dimension 0";
      outputs.push_back(output);
      offset += rows;
    }

    // Gather on device 0.
    Operation *ret = forward.getBody().front().getTerminator();
    int64_t outputRows = 0;
    for (Value output : outputs)
      outputRows += cast<RankedTensorType>(output.getType()).getDimSize(0);
    auto gather = b.create<dp::GatherOp>(
        ret->getLoc(), withRows(outputType, outputRows), outputs);
    SmallVector<Value> results = {gather.getResult()};
    llvm::append_range(results, updatedBuffers);
    b.create<func::ReturnOp>(ret->getLoc(), results);
    whole.setFunctionType(
        b.getFunctionType(argTypes, ValueRange(results).getTypes()));
    if (ArrayAttr resultAttrs = forward.getAllResultAttrs())
      whole.setAllResultAttrs(resultAttrs);

    forward.erase();
    if (last)
      last.erase();
    whole.setSymName(kForwardFuncName);
    return success();
  }
};

} // namespace
