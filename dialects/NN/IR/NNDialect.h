//===- NNDialect.h - The nn dialect -----------------------------*- C++ -*-===//

#ifndef DPC_DIALECTS_NN_NNDIALECT_H
#define DPC_DIALECTS_NN_NNDIALECT_H

#include "mlir/IR/Dialect.h"

#include "dialects/NN/NNDialect.h.inc"

#endif // DPC_DIALECTS_NN_NNDIALECT_H
