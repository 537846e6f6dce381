//===- LowerReplicaStages.cpp - --mode dp in dpc-lower-to-llvm ------------===//
//
// Part of dpc-lower-to-llvm (see LowerToLLVM.cpp and LowerReplicaStages.h).
//
// A concurrent stage becomes one function per replica because the replicas
// must run on their own threads: the runtime's dpcrt_run_replicas hands
// function r to replica r's worker. The functions are built by moving the
// calls that ordinary lowering emitted into the step function, then
// closing them over the values they use from it (closure conversion):
// constants are copied, everything else (tensor pointers, mostly) is passed
// through an environment array that the step function fills right before
// the stage runs. So every op family's lowering works unchanged inside a
// replica.
//
//===----------------------------------------------------------------------===//

#include "compiler/Conversion/NNToRuntime/LowerReplicaStages.h"

#include "compiler/TrainStep/TrainStep.h"
#include "dialects/DP/IR/DPDialect.h"
#include "runtime/include/dpc/abi.h"

using namespace mlir;
using namespace dpc;

//===----------------------------------------------------------------------===//
// ReplicaStageOutliner
//===----------------------------------------------------------------------===//

ReplicaStageOutliner::ReplicaStageOutliner(ModuleOp module,
                                           LLVM::LLVMFuncOp step,
                                           RuntimeCallBuilder &rt)
    : module(module), step(step), rt(rt), stageLoc(module.getLoc()) {}

/// The concurrent stage `op` belongs to, if any.
static std::optional<int64_t> getConcurrentStage(Operation *op) {
  if (!op || !dp::getReplica(op))
    return std::nullopt;
  if (auto stage = op->getAttrOfType<IntegerAttr>(dp::kStageAttrName))
    return stage.getInt();
  return std::nullopt;
}

LogicalResult ReplicaStageOutliner::enter(Operation *op) {
  std::optional<int64_t> opStage = getConcurrentStage(op);
  if (stage && opStage != stage && failed(endStage()))
    return failure();
  if (opStage && !stage) {
    stage = opStage;
    stageLoc = op->getLoc();
  }
  return success();
}

LLVM::LLVMFuncOp
ReplicaStageOutliner::getOrCreateReplicaFunction(int64_t replica) {
  if (functions.size() <= static_cast<size_t>(replica))
    functions.resize(replica + 1);
  LLVM::LLVMFuncOp &fn = functions[replica];
  if (fn)
    return fn;
  MLIRContext *ctx = module.getContext();
  OpBuilder b(ctx);
  b.setInsertionPointToEnd(module.getBody());
  Type ptrType = rt.ptrType();
  auto type = LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(ctx),
                                          {ptrType, ptrType});
  fn = b.create<LLVM::LLVMFuncOp>(
      stageLoc,
      ("dpc_stage" + llvm::Twine(*stage) + "_replica" + llvm::Twine(replica))
          .str(),
      type, LLVM::Linkage::Internal);
  b.setInsertionPointToStart(fn.addEntryBlock(b));
  b.create<LLVM::ReturnOp>(stageLoc, ValueRange());
  return fn;
}

LogicalResult
ReplicaStageOutliner::lower(Operation *op,
                            function_ref<LogicalResult()> lowerOp) {
  std::optional<int64_t> replica = dp::getReplica(op);
  if (!stage || getConcurrentStage(op) != stage)
    return lowerOp();
  Block *block = rt.builder().getInsertionBlock();
  Operation *last = block->empty() ? nullptr : &block->back();
  if (failed(lowerOp()))
    return failure();
  SmallVector<Operation *> emitted;
  for (Operation *o = last ? last->getNextNode() : &block->front(); o;
       o = o->getNextNode())
    emitted.push_back(o);
  // Views only compute pointers: they stay in the step function, where
  // later stages find them.
  if (llvm::none_of(emitted, [](Operation *o) { return isa<LLVM::CallOp>(o); }))
    return success();
  LLVM::LLVMFuncOp fn = getOrCreateReplicaFunction(*replica);
  Operation *ret = fn.getBody().front().getTerminator();
  for (Operation *o : emitted)
    o->moveBefore(ret);
  for (Value result : op->getResults())
    if (Value p = rt.ptr(result); p && p.getParentBlock() != block)
      return op->emitError("cannot run on a replica: its lowering computes "
                           "the pointer of a result along with kernel calls");
  return success();
}

LogicalResult ReplicaStageOutliner::endStage() {
  OpBuilder &b = rt.builder();
  Location loc = stageLoc;
  Type ptrType = rt.ptrType();
  Value stepCtx = step.getBody().front().getArgument(0);

  // Views only: nothing to run.
  if (functions.empty()) {
    stage.reset();
    return success();
  }
  // A replica without calls in this stage still gets a (empty) function.
  for (size_t r = 0; r < functions.size(); ++r)
    getOrCreateReplicaFunction(r);

  // Close each function over the step function's values it uses.
  SmallVector<Value> captured;
  llvm::DenseMap<Value, unsigned> captureIndex;
  for (LLVM::LLVMFuncOp fn : functions) {
    Block &entry = fn.getBody().front();
    Value env = entry.getArgument(1);
    OpBuilder fb = OpBuilder::atBlockBegin(&entry);
    llvm::DenseMap<Value, Value> local = {{stepCtx, entry.getArgument(0)}};
    SmallVector<OpOperand *> outside;
    fn.walk([&](Operation *inner) {
      for (OpOperand &use : inner->getOpOperands())
        if (use.get().getParentBlock() != &entry)
          outside.push_back(&use);
    });
    for (OpOperand *use : outside) {
      Value v = use->get();
      Value &mapped = local[v];
      if (!mapped) {
        Operation *def = v.getDefiningOp();
        if (def &&
            isa<LLVM::ConstantOp, LLVM::ZeroOp, LLVM::AddressOfOp>(def)) {
          mapped = fb.clone(*def)->getResult(0);
        } else {
          Type type = v.getType();
          if (!isa<LLVM::LLVMPointerType>(type) &&
              !(type.isIntOrFloat() && type.getIntOrFloatBitWidth() <= 64))
            return emitError(loc)
                   << "cannot pass a value of type " << type << " to a replica";
          auto [it, inserted] = captureIndex.try_emplace(v, captured.size());
          if (inserted)
            captured.push_back(v);
          Value slot = fb.create<LLVM::GEPOp>(
              loc, ptrType, ptrType, env,
              ArrayRef<LLVM::GEPArg>{static_cast<int32_t>(it->second)});
          mapped = fb.create<LLVM::LoadOp>(loc, type, slot);
        }
      }
      use->set(mapped);
    }
  }

  // The step function: fill the environment (8 bytes per value) and the
  // function table, then run the stage.
  rt.setLoc(loc);
  Value env;
  if (captured.empty()) {
    env = rt.nullPtr();
  } else {
    env = b.create<LLVM::AllocaOp>(loc, ptrType, ptrType,
                                   rt.i64(captured.size()), 8);
    for (auto [i, v] : llvm::enumerate(captured)) {
      Value slot = b.create<LLVM::GEPOp>(
          loc, ptrType, ptrType, env,
          ArrayRef<LLVM::GEPArg>{static_cast<int32_t>(i)});
      b.create<LLVM::StoreOp>(loc, v, slot);
    }
  }
  Value fns = b.create<LLVM::AllocaOp>(loc, ptrType, ptrType,
                                       rt.i64(functions.size()), 8);
  for (auto [r, fn] : llvm::enumerate(functions)) {
    Value slot =
        b.create<LLVM::GEPOp>(loc, ptrType, ptrType, fns,
                              ArrayRef<LLVM::GEPArg>{static_cast<int32_t>(r)});
    b.create<LLVM::StoreOp>(
        loc, b.create<LLVM::AddressOfOp>(loc, ptrType, fn.getSymName()), slot);
  }
  rt.call("dpcrt_run_replicas", {rt.i32(functions.size()), fns, env});
  stage.reset();
  functions.clear();
  return success();
}
