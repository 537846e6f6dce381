//===- NNInterfaces.td - Interfaces of the nn dialect -----*- tablegen -*-===//

#ifndef DPC_NN_INTERFACES
#define DPC_NN_INTERFACES

include "mlir/IR/OpBase.td"

def VJPOpInterface : OpInterface<"VJPOpInterface"> {
  let cppNamespace = "::dpc::nn";
  let description = [{
    An op that knows its vector-Jacobian product: given the gradients of its
    results (the adjoints), it builds the ops that compute the gradients of
    its operands. Reverse-mode autodiff (`dpc-autodiff`) walks a function
    backwards and asks each op for its VJP; an op without this interface
    cannot be differentiated through, and that is a clear error.
  }];
  let methods = [
    InterfaceMethod<[{
        Builds the gradients of the operands at the builder's insertion point.
        `resultGrads` holds one gradient per result, with the result's type,
        or a null value for a result whose gradient is not needed (at least
        one result has a gradient).
        Returns one value per operand; a null value means the operand has no
        gradient (integer labels, for example).
      }],
      "::llvm::SmallVector<::mlir::Value>", "buildVJP",
      (ins "::mlir::OpBuilder &":$builder, "::mlir::ValueRange":$resultGrads)>,
  ];
}

#endif // DPC_NN_INTERFACES
