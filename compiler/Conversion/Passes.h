//===- Passes.h - dpc's conversions -----------------------------*- C++ -*-===//
//
// The lowering of the planned training step to runtime calls in the LLVM
// dialect (Passes.td; the pass and its op groups are in NNToRuntime/).
//
//===----------------------------------------------------------------------===//

#ifndef DPC_COMPILER_CONVERSION_PASSES_H
#define DPC_COMPILER_CONVERSION_PASSES_H

#include "dialects/DP/IR/DPDialect.h"
#include "dialects/NN/IR/NNOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Pass/Pass.h"

namespace dpc {

#define GEN_PASS_DECL
#include "compiler/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "compiler/Conversion/Passes.h.inc"

} // namespace dpc

#endif // DPC_COMPILER_CONVERSION_PASSES_H
