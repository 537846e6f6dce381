//===- DPDialect.h - The dp dialect -----------------------------*- C++ -*-===//

#ifndef DPC_DIALECTS_DP_DPDIALECT_H
#define DPC_DIALECTS_DP_DPDIALECT_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialects/DP/DPDialect.h.inc"

#define GET_TYPEDEF_CLASSES
#include "dialects/DP/DPTypes.h.inc"

#define GET_OP_CLASSES
#include "dialects/DP/DPOps.h.inc"

#endif // DPC_DIALECTS_DP_DPDIALECT_H
