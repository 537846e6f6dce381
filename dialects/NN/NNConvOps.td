//===- NNConvOps.td - nn ops for convolution, normalization and pooling (CNNs) -*- tablegen -*-===//
//
// Included by NNOps.td; shape inference and VJPs live in NNConvOps.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef DPC_NN_CONV_OPS
#define DPC_NN_CONV_OPS

#endif // DPC_NN_CONV_OPS
