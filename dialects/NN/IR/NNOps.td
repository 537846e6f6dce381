//===- NNOps.td - Operations of the nn dialect ------------*- tablegen -*-===//
//
// The op base classes, and the ops themselves grouped by kind: one file per
// op family (NN<Family>Ops.td), with the same stem in every compiler layer
// (NN<Family>Ops.cpp, Import<Family>Ops.cpp, Lower<Family>Ops.cpp). All
// families generate into the one NNOps.h.inc / NNOps.cpp.inc.
//
// Conventions of all families:
// - Dimension attributes (`dim`, `dims`, `permutation`) are non-negative:
//   the importer resolves PyTorch's negative dims.
// - Every op computes a fresh tensor unless it implements
//   StorageAliasOpInterface (views and in-place updates).
//
//===----------------------------------------------------------------------===//

#ifndef DPC_NN_OPS
#define DPC_NN_OPS

include "dialects/NN/IR/NNBase.td"
include "dialects/NN/IR/NNInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

class NN_Op<string mnemonic, list<Trait> traits = []>
    : Op<NN_Dialect, mnemonic, !listconcat(traits, [Pure, NN_Float64Checked])>;

// Ops whose result type follows from operands and attributes, and which know
// their vector-Jacobian product.
class NN_DiffOp<string mnemonic, list<Trait> traits = []>
    : NN_Op<mnemonic, !listconcat(traits, [InferTypeOpAdaptor,
          DeclareOpInterfaceMethods<VJPOpInterface>])>;

// Backward ops (built by the VJPs of the forward ops).
class NN_GradOp<string mnemonic, list<Trait> traits = []>
    : NN_Op<mnemonic, !listconcat(traits, [InferTypeOpAdaptor])>;

def NN_AnyTensor : StaticShapeTensorOf<[F32, F64, I64]>;

include "dialects/NN/IR/NNElementwiseOps.td"
include "dialects/NN/IR/NNLinalgOps.td"
include "dialects/NN/IR/NNIndexingOps.td"
include "dialects/NN/IR/NNReductionOps.td"
include "dialects/NN/IR/NNNormalizationOps.td"
include "dialects/NN/IR/NNConvPoolOps.td"
include "dialects/NN/IR/NNShapeOps.td"
include "dialects/NN/IR/NNLossOps.td"
include "dialects/NN/IR/NNRandomOps.td"
include "dialects/NN/IR/NNOptimizerOps.td"

#endif // DPC_NN_OPS
