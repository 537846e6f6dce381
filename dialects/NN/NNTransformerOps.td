//===- NNTransformerOps.td - nn ops for embedding, normalization, attention and shape ops (Transformers) -*- tablegen -*-===//
//
// Included by NNOps.td; shape inference and VJPs live in NNTransformerOps.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef DPC_NN_TRANSFORMER_OPS
#define DPC_NN_TRANSFORMER_OPS

#endif // DPC_NN_TRANSFORMER_OPS
