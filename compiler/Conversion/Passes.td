//===- Passes.td - dpc's conversions ---------------------*- tablegen -*-===//
//
// The lowerings of the training pipeline (compiler/Pipeline): its last
// stage, after the transformations of compiler/Transforms.
//   dpc-lower-to-llvm     runtime calls in the LLVM dialect (NNToRuntime/)
//
//===----------------------------------------------------------------------===//

#ifndef DPC_COMPILER_CONVERSION_PASSES
#define DPC_COMPILER_CONVERSION_PASSES

include "mlir/Pass/PassBase.td"

def LowerToLLVM : Pass<"dpc-lower-to-llvm", "mlir::ModuleOp"> {
  let summary = "Lower the planned training step to runtime calls in the LLVM dialect";
  let description = [{
    Replaces `@train_step` by `llvm.func @dpc_model_train_step(ctx, slots)`:
    each argument is read from its slot, each intermediate is an arena
    offset, and each op becomes a call of a `dpcrt_*` kernel of the runtime's
    C ABI (runtime/include/dpc/abi.h). Slot i holds argument i; then come the
    loss and the arena. Updates happen in place in the parameter and
    optimizer-state slots. Each op is preceded by dpcrt_trace_op(index), the
    hook of `dpc-run --trace`, unless `trace-ops=false`.
  }];
  let options = [
    Option<"traceOps", "trace-ops", "bool", /*default=*/"true",
           "Announce each op to the runtime (dpcrt_trace_op) for tracing">,
  ];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

#endif // DPC_COMPILER_CONVERSION_PASSES
