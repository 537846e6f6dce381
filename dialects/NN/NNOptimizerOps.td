//===- NNOptimizerOps.td - nn ops for optimizer updates beyond SGD -*- tablegen -*-===//
//
// Included by NNOps.td; shape inference and VJPs live in NNOptimizerOps.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef DPC_NN_OPTIMIZER_OPS
#define DPC_NN_OPTIMIZER_OPS

#endif // DPC_NN_OPTIMIZER_OPS
