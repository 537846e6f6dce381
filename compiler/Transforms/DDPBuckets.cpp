//===- DDPBuckets.cpp - Bucketed, overlapped gradient all-reduce ----------===//
//
// DDP averages gradients in buckets so that a few large collectives replace
// many small ones, and starts each bucket's collective as soon as its last
// gradient is ready so that communication overlaps the rest of the backward
// pass. DDP learns the gradient order during its first iteration; here the
// order is the static order of the gradient computations in @train_step, so
// the very first step already runs with the final buckets.
//
//===----------------------------------------------------------------------===//

#include "compiler/TrainStep/TrainStep.h"
#include "compiler/Transforms/Passes.h"

#include "mlir/IR/Builders.h"

namespace dpc {
#define GEN_PASS_DEF_DDPBUCKETS
#include "compiler/Transforms/Passes.h.inc"
} // namespace dpc

using namespace mlir;
using namespace dpc;

namespace {

constexpr double kBytesPerMiB = 1024.0 * 1024.0;

/// Assigns all-reduces, in gradient-ready order, to buckets exactly as DDP's
/// compute_bucket_assignment_by_size: add to the open bucket, and close it
/// once it holds at least its cap; the first bucket's cap is `firstCap`,
/// every later one's `cap`.
SmallVector<SmallVector<dp::AllReduceOp>>
assignBuckets(ArrayRef<dp::AllReduceOp> allReduces, int64_t firstCap,
              int64_t cap) {
  SmallVector<SmallVector<dp::AllReduceOp>> buckets;
  SmallVector<dp::AllReduceOp> open;
  int64_t openBytes = 0;
  for (dp::AllReduceOp op : allReduces) {
    open.push_back(op);
    openBytes += getTensorBytes(op.getType());
    if (openBytes >= (buckets.empty() ? firstCap : cap)) {
      buckets.push_back(std::move(open));
      open.clear();
      openBytes = 0;
    }
  }
  if (!open.empty())
    buckets.push_back(std::move(open));
  return buckets;
}

struct DDPBucketsPass : public dpc::impl::DDPBucketsBase<DDPBucketsPass> {
  using DDPBucketsBase::DDPBucketsBase;

  void runOnOperation() override {
    func::FuncOp func = lookupFunction(getOperation(), kTrainStepFuncName);
    if (!func)
      return signalPassFailure();
    if (bucketCapMb <= 0.0 || firstBucketMb <= 0.0) {
      func.emitError("bucket caps must be positive");
      return signalPassFailure();
    }
    Type compress;
    if (gradComm == "fp16")
      compress = Float16Type::get(&getContext());
    else if (gradComm == "bf16")
      compress = BFloat16Type::get(&getContext());
    else if (gradComm != "fp32") {
      func.emitError("grad-comm must be fp32, fp16 or bf16, not '")
          << gradComm << "'";
      return signalPassFailure();
    }
    Block &body = func.getBody().front();
    SmallVector<dp::AllReduceOp> allReduces(body.getOps<dp::AllReduceOp>());
    auto buckets = assignBuckets(
        allReduces, static_cast<int64_t>(firstBucketMb * kBytesPerMiB),
        static_cast<int64_t>(bucketCapMb * kBytesPerMiB));

    // A gradient read by anything but its all-reduce must keep its value,
    // while the start op donates its operands to the in-place collective;
    // and a bucket member needs storage of its own (not a view of another
    // value's) to be placed in the bucket.
    llvm::DenseSet<Value> seen;
    auto needsCopy = [&](Value grad) {
      return !seen.insert(grad).second || !grad.getDefiningOp() ||
             !grad.hasOneUse() || getStorageOwner(grad) != grad;
    };

    for (auto [index, bucket] : llvm::enumerate(buckets)) {
      // The bucket starts after its last gradient is ready...
      Operation *last = bucket.front();
      for (dp::AllReduceOp op : bucket)
        if (last->isBeforeInBlock(op))
          last = op;
      OpBuilder b(last->getContext());
      b.setInsertionPointAfter(last);
      SmallVector<Value> inputs;
      for (dp::AllReduceOp op : bucket) {
        Value grad = op.getInput();
        if (needsCopy(grad))
          grad = b.create<nn::CopyOp>(op.getLoc(), grad);
        inputs.push_back(grad);
      }
      Location loc = bucket.front().getLoc();
      auto start = b.create<dp::AllReduceStartOp>(
          loc, dp::TokenType::get(&getContext()), inputs,
          b.getI64IntegerAttr(index),
          compress ? TypeAttr::get(compress) : TypeAttr());

      // ...and is waited for right before the first use of any result.
      Operation *firstUse = body.getTerminator();
      for (dp::AllReduceOp op : bucket)
        for (Operation *user : op->getUsers())
          if (user->isBeforeInBlock(firstUse))
            firstUse = user;
      if (firstUse->isBeforeInBlock(start)) {
        firstUse->emitError("uses an averaged gradient before the last "
                            "gradient of its bucket is ready");
        return signalPassFailure();
      }
      b.setInsertionPoint(firstUse);
      auto wait = b.create<dp::WaitOp>(loc, ValueRange(inputs).getTypes(),
                                       start.getToken());
      for (auto [op, result] : llvm::zip(bucket, wait.getResults()))
        op.getResult().replaceAllUsesWith(result);
      for (dp::AllReduceOp op : bucket)
        op.erase();
    }
  }
};

} // namespace
