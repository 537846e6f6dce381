//===- Passes.h - dpc's transformations -------------------------*- C++ -*-===//
//
// The passes that build, differentiate, distribute, optimize and plan the
// training step (Passes.td). One pass per file; a new one is declared in
// Passes.td and added to a stage in compiler/Pipeline/Pipeline.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef DPC_COMPILER_TRANSFORMS_PASSES_H
#define DPC_COMPILER_TRANSFORMS_PASSES_H

#include "dialects/DP/IR/DPDialect.h"
#include "dialects/NN/IR/NNOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"

namespace dpc {

#define GEN_PASS_DECL
#include "compiler/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "compiler/Transforms/Passes.h.inc"

} // namespace dpc

#endif // DPC_COMPILER_TRANSFORMS_PASSES_H
