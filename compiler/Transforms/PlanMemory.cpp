//===- PlanMemory.cpp - One arena for all intermediates of a step ---------===//
//
// Every intermediate tensor of the step gets a fixed offset in one arena,
// allocated once by the runtime, so a step performs no allocation at all.
// Offsets are chosen from live ranges over the straight-line step: values
// whose ranges do not overlap may share space. Placement is greedy by
// decreasing size (the usual heuristic for static plans; see e.g. "Efficient
// Memory Management for Deep Neural Net Inference", Pisarchyk & Lee 2020).
//
// A bucket of gradients is placed as one block, its members back to back,
// so that the all-reduce works on one contiguous buffer that the backward
// pass wrote the gradients into: no copy in, no copy out.
//
//===----------------------------------------------------------------------===//

#include "compiler/TrainStep/TrainStep.h"
#include "compiler/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"

namespace dpc {
#define GEN_PASS_DEF_PLANMEMORY
#include "compiler/Transforms/Passes.h.inc"
} // namespace dpc

using namespace mlir;
using namespace dpc;

namespace {

constexpr int64_t kAlignment = 64;

int64_t alignTo(int64_t n) {
  return (n + kAlignment - 1) / kAlignment * kAlignment;
}

/// A block of arena space live over the ops [begin, end] (inclusive: an op
/// never writes its result over one of its operands).
struct Allocation {
  SmallVector<Value> members; // placed back to back
  int64_t bytes = 0;
  int64_t begin = 0, end = 0;
  int64_t offset = -1;
  /// --mode dp: the one replica whose ops access this block in concurrent
  /// stages, or kShared (several, or none).
  int64_t replica = kShared;
  static constexpr int64_t kShared = -1;
};

/// The position windows [first, last] of the concurrent stages of a --mode
/// dp step (dpc-dp-phases), whose replicas run at the same time.
using StageWindows = SmallVector<std::pair<int64_t, int64_t>>;

/// Whether two blocks may not share space. Besides overlapping live ranges:
/// two blocks both live somewhere in one concurrent stage conflict, since
/// the replicas' threads may touch them in any order, unless only one and
/// the same replica touches both there (its thread follows block order).
bool conflicts(const Allocation &a, const Allocation &b,
               const StageWindows &windows) {
  if (a.begin <= b.end && b.begin <= a.end)
    return true;
  if (a.replica != Allocation::kShared && a.replica == b.replica)
    return false;
  auto inWindow = [](const Allocation &x, std::pair<int64_t, int64_t> w) {
    return x.begin <= w.second && w.first <= x.end;
  };
  return llvm::any_of(windows,
                      [&](auto w) { return inWindow(a, w) && inWindow(b, w); });
}

struct PlanMemoryPass : public dpc::impl::PlanMemoryBase<PlanMemoryPass> {
  void runOnOperation() override {
    func::FuncOp func = lookupFunction(getOperation(), kTrainStepFuncName);
    if (!func || failed(plan(func)))
      return signalPassFailure();
    // The evaluation step has an arena of its own: it runs between training
    // steps, never during one.
    if (auto eval =
            getOperation().lookupSymbol<func::FuncOp>(kEvalStepFuncName))
      if (failed(plan(eval)))
        return signalPassFailure();
  }

  LogicalResult plan(func::FuncOp func) {
    Block &body = func.getBody().front();

    llvm::DenseMap<Operation *, int64_t> position;
    for (auto [i, op] : llvm::enumerate(body))
      position[&op] = i;

    // Last use of each storage owner, over all values that alias it.
    llvm::DenseMap<Value, int64_t> lastUse;
    for (Operation &op : body)
      for (Value operand : op.getOperands()) {
        int64_t &last = lastUse[getStorageOwner(operand)];
        last = std::max(last, position[&op]);
      }

    // Bucket members are allocated with their bucket.
    SmallVector<Allocation> allocations;
    llvm::DenseMap<Value, size_t> allocationOf;
    for (auto start : body.getOps<dp::AllReduceStartOp>()) {
      Allocation alloc;
      alloc.begin = std::numeric_limits<int64_t>::max();
      for (Value member : start.getInputs()) {
        if (!member.getDefiningOp() || allocationOf.count(member)) {
          return start.emitError("bucket operands must be distinct "
                                 "intermediate values (run dpc-ddp-buckets)");
        }
        alloc.members.push_back(member);
        alloc.bytes += getTensorBytes(member.getType());
        alloc.begin = std::min(alloc.begin, position[member.getDefiningOp()]);
        alloc.end = std::max(alloc.end, lastUse.lookup(member));
        allocationOf[member] = allocations.size();
      }
      allocations.push_back(std::move(alloc));
    }
    for (Operation &op : body)
      for (Value result : op.getResults()) {
        if (!isa<RankedTensorType>(result.getType()) ||
            getStorageOwner(result) != result || allocationOf.count(result))
          continue;
        Allocation alloc;
        alloc.members.push_back(result);
        alloc.bytes = getTensorBytes(result.getType());
        alloc.begin = position[&op];
        alloc.end = std::max(alloc.begin, lastUse.lookup(result));
        allocationOf[result] = allocations.size();
        allocations.push_back(std::move(alloc));
      }

    // Replicas of a data-parallel stage run concurrently (dpc-dp-phases):
    // find each concurrent stage's window and which replicas touch each
    // storage owner there.
    llvm::MapVector<int64_t, std::pair<int64_t, int64_t>> stageWindows;
    llvm::DenseMap<Value, llvm::SmallSetVector<int64_t, 2>> replicasOf;
    for (Operation &op : body) {
      auto stage = op.getAttrOfType<IntegerAttr>(dp::kStageAttrName);
      std::optional<int64_t> replica = dp::getReplica(&op);
      if (!stage || !replica)
        continue;
      auto [it, inserted] = stageWindows.try_emplace(
          stage.getInt(), position[&op], position[&op]);
      it->second.second = position[&op];
      for (Value v : op.getOperands())
        replicasOf[getStorageOwner(v)].insert(*replica);
      for (Value v : op.getResults())
        replicasOf[getStorageOwner(v)].insert(*replica);
    }
    StageWindows windows;
    for (auto &entry : stageWindows)
      windows.push_back(entry.second);
    for (Allocation &a : allocations) {
      llvm::SmallSetVector<int64_t, 2> replicas;
      for (Value member : a.members)
        replicas.insert(replicasOf[member].begin(), replicasOf[member].end());
      if (replicas.size() == 1)
        a.replica = replicas.front();
    }

    // Greedy placement by decreasing size; ties in program order.
    SmallVector<Allocation *> order;
    for (Allocation &a : allocations)
      order.push_back(&a);
    llvm::stable_sort(order, [](Allocation *a, Allocation *b) {
      return a->bytes > b->bytes;
    });
    SmallVector<Allocation *> placed;
    int64_t arenaBytes = 0;
    for (Allocation *a : order) {
      // Candidate offsets: 0 and the ends of every time-overlapping block.
      SmallVector<std::pair<int64_t, int64_t>> busy;
      for (Allocation *p : placed)
        if (conflicts(*p, *a, windows))
          busy.push_back({p->offset, p->offset + alignTo(p->bytes)});
      llvm::sort(busy);
      int64_t offset = 0;
      for (auto [lo, hi] : busy) {
        if (offset + alignTo(a->bytes) <= lo)
          break;
        offset = std::max(offset, hi);
      }
      a->offset = offset;
      arenaBytes = std::max(arenaBytes, offset + alignTo(a->bytes));
      placed.push_back(a);
    }

    // Record the plan: one offset per result, -1 where the result uses
    // another value's storage (or is not a tensor).
    Builder b(&getContext());
    for (Operation &op : body) {
      if (op.getNumResults() == 0)
        continue;
      SmallVector<int64_t> offsets;
      for (Value result : op.getResults()) {
        auto it = allocationOf.find(result);
        if (it == allocationOf.end()) {
          offsets.push_back(-1);
          continue;
        }
        const Allocation &a = allocations[it->second];
        int64_t offset = a.offset;
        for (Value member : a.members) {
          if (member == result)
            break;
          offset += getTensorBytes(member.getType());
        }
        offsets.push_back(offset);
      }
      op.setAttr(kOffsetAttr, b.getDenseI64ArrayAttr(offsets));
    }
    func->setAttr(kArenaBytesAttr, b.getI64IntegerAttr(arenaBytes));
    return success();
  }
};

} // namespace
