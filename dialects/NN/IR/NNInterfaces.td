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

def ElementwiseUnaryOpInterface : OpInterface<"ElementwiseUnaryOpInterface"> {
  let cppNamespace = "::dpc::nn";
  let description = [{
    An elementwise f32 function of one tensor (`nn.exp`, `nn.relu`, ...)
    that the runtime computes with `dpcrt_unary_f32`. Its ODS record
    (`NN_UnaryOp` in NNElementwiseOps.td) names the aten operator it is imported from
    and the runtime's kind, so the family needs no per-op code outside the
    record and its VJP: the importer builds its table of these ops from the
    registered records, and one lowering covers them all.
  }];
  let methods = [
    StaticInterfaceMethod<
      "The aten operator imported as this op, e.g. `aten::exp`.",
      "::llvm::StringRef", "getAtenName", (ins), [{}],
      [{ return ConcreteOp::kAtenName; }]>,
    StaticInterfaceMethod<
      "The `dpcrt_unary_kind` (runtime/include/dpc/unary_kinds.def) the "
      "runtime computes this op with.",
      "int32_t", "getUnaryKind", (ins), [{}],
      [{ return ConcreteOp::kUnaryKind; }]>,
    StaticInterfaceMethod<
      "How many f64 parameters (attributes) the op has: aten's operands "
      "after the tensor, the kind's p0, p1, p2.",
      "unsigned", "getNumParameters", (ins), [{}],
      [{ return ConcreteOp::kNumParameters; }]>,
    StaticInterfaceMethod<
      "The names of the op's parameters (f64 attributes), in order.",
      "::llvm::SmallVector<::llvm::StringRef, 3>", "getParameterNames",
      (ins), [{}], [{ return ConcreteOp::getParameterNames(); }]>,
    InterfaceMethod<
      "The values of the op's parameters, in order.",
      "::llvm::SmallVector<double, 3>", "getParameters">,
  ];
}

def ElementwiseBinaryOpInterface : OpInterface<"ElementwiseBinaryOpInterface"> {
  let cppNamespace = "::dpc::nn";
  let description = [{
    A broadcasting elementwise function of two float tensors (`nn.add`,
    `nn.mul`, ...) that the runtime computes with `dpcrt_binary_f32` (or
    its float64 twin). Its
    ODS record (`NN_BinaryOp` in NNElementwiseOps.td) names the aten
    operator it is imported from, the runtime's kind and whether it has
    torch's `alpha`: the importer builds its table of the tensor-tensor
    forms from the registered records, and one lowering covers them all.
  }];
  let methods = [
    StaticInterfaceMethod<
      "The aten operator imported as this op, e.g. `aten::add`.",
      "::llvm::StringRef", "getAtenName", (ins), [{}],
      [{ return ConcreteOp::kAtenName; }]>,
    StaticInterfaceMethod<
      "The `dpcrt_binary_kind` (runtime/include/dpc/binary_kinds.def) the "
      "runtime computes this op with.",
      "int32_t", "getBinaryKind", (ins), [{}],
      [{ return ConcreteOp::kBinaryKind; }]>,
    StaticInterfaceMethod<
      "Whether the op has torch's `alpha` attribute (aten's third operand).",
      "bool", "hasAlpha", (ins), [{}],
      [{ return ConcreteOp::kHasAlpha; }]>,
    InterfaceMethod<
      "The factor of rhs in the formula: `alpha`, or 1 without it (a "
      "float32 value on float32 tensors).",
      "double", "getRhsFactor">,
  ];
}

def StorageAliasOpInterface : OpInterface<"StorageAliasOpInterface"> {
  let cppNamespace = "::dpc::nn";
  let description = [{
    An op some of whose results live in another value's storage instead of
    storage of their own: views (`nn.reshape`, `nn.micro_batch`,
    `dp.scatter`, `dp.replicate` on the CPU) and updates computed in place
    (optimizer updates, BatchNorm's running statistics, `nn.increment`,
    `dp.wait`'s averaged gradients). Memory planning, the data-parallel
    passes and the lowering ask this interface (through
    `getStorageOwner` / `isStorageView`, compiler/TrainStep) instead of
    keeping lists of such ops.
  }];
  let methods = [
    InterfaceMethod<[{
        The value whose storage result `resultNumber` uses, or a null value
        when that result has storage of its own.
      }],
      "::mlir::Value", "getAliasedValue", (ins "unsigned":$resultNumber)>,
    InterfaceMethod<[{
        Whether the aliasing results only read the aliased storage (views)
        rather than overwrite it (in-place updates).
      }],
      "bool", "isStorageView", (ins), [{}], [{ return false; }]>,
  ];
}

#endif // DPC_NN_INTERFACES
