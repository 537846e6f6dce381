//===- NNElementwiseOps.td - nn elementwise ops ---*- tablegen -*-===//
//
// The Elementwise family (docs/ARCHITECTURE.md, "Where to add an op"); included by
// NNOps.td. Shape inference, verifiers and VJPs live in NNElementwiseOps.cpp, the
// import in compiler/Import/ImportElementwiseOps.cpp, the runtime calls in
// compiler/Conversion/NNToRuntime/LowerElementwiseOps.cpp.
//
// Masks are f32 tensors of 0 and 1 (1 = true), the values a torch.bool tensor
// has when it takes part in float arithmetic. `nn.compare` makes them,
// `nn.masked_fill` reads them (any non-zero element is true).
//
//===----------------------------------------------------------------------===//

#ifndef DPC_NN_ELEMENTWISE_OPS
#define DPC_NN_ELEMENTWISE_OPS

// The elementwise binary family: one record per op names its formula, the
// aten operator it imports, the runtime kind that computes it
// (DPCRT_BINARY_*, runtime/include/dpc/binary_kinds.def) and whether it has
// torch's `alpha` (the factor of rhs). Result type (the NumPy broadcast of
// the operands, inferBroadcast), the tensor-tensor import and the lowering
// follow from the record (ElementwiseBinaryOpInterface); the VJP is written
// by hand (NNElementwiseOps.cpp). Every op of the family and its gradient
// has float64 kernels.
class NN_BinaryOp<string mnemonic, string formula, string atenName,
                  string binaryKind, bit hasAlpha = 0>
    : NN_DiffOp<mnemonic, [ElementwiseBinaryOpInterface,
                           NN_HasFloat64Kernels]> {
  let summary = "elementwise " # formula # " with NumPy broadcasting";
  let description = [{
    Elementwise `}] # formula # [{` of two f32 tensors whose shapes broadcast
    as in NumPy/PyTorch; the result has the broadcast shape.
  }];
  let arguments = !if(hasAlpha,
      (ins NN_FloatTensor:$lhs, NN_FloatTensor:$rhs,
           DefaultValuedAttr<NN_FloatAttr, "1.0">:$alpha),
      (ins NN_FloatTensor:$lhs, NN_FloatTensor:$rhs));
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` functional-type(operands, results)
  }];
  let extraClassDeclaration = [{
    static constexpr ::llvm::StringLiteral kAtenName = "}] # atenName # [{";
    static constexpr int32_t kBinaryKind = }] # binaryKind # [{;
    static constexpr bool kHasAlpha = }] # !if(hasAlpha, "true", "false") # [{;
    /// alpha (1 for the ops without one), in the op's precision.
    double getRhsFactor() { return }] #
      !if(hasAlpha, "::mlir::FloatAttr::getValueAsDouble(getAlpha())", "1.0") # [{; }
  }];
  let extraClassDefinition = [{
    ::mlir::LogicalResult $cppClass::inferReturnTypes(
        ::mlir::MLIRContext *ctx, ::std::optional<::mlir::Location> loc,
        Adaptor adaptor, ::llvm::SmallVectorImpl<::mlir::Type> &types) {
      return inferBroadcast(ctx, loc, "}] # mnemonic # [{", adaptor.getLhs(),
                               adaptor.getRhs(), types);
    }
  }];
}

def NN_AddOp : NN_BinaryOp<"add", "lhs + alpha * rhs", "aten::add",
                           "DPCRT_BINARY_ADD", /*hasAlpha=*/1>;
def NN_SubOp : NN_BinaryOp<"sub", "lhs - alpha * rhs", "aten::sub",
                           "DPCRT_BINARY_SUB", /*hasAlpha=*/1>;
def NN_MulOp : NN_BinaryOp<"mul", "lhs * rhs", "aten::mul", "DPCRT_BINARY_MUL">;

def NN_DivOp : NN_BinaryOp<"div", "lhs / rhs", "aten::div", "DPCRT_BINARY_DIV"> {
  let description = [{
    Elementwise true division of two f32 tensors whose shapes broadcast as
    in NumPy/PyTorch. Division by a number (`x / math.sqrt(d)`) divides by
    a 0-d `nn.fill` of the number rounded to f32, which is what torch does
    (a division, not a multiplication by the reciprocal, so the results are
    the same bits).

    ```mlir
    %y = nn.div %x, %c : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
    ```
  }];
}

// maximum/minimum propagate NaN (torch's kernels); on a tie each operand
// gets half the gradient (derivatives.yaml).
def NN_MaximumOp : NN_BinaryOp<"maximum", "max(lhs, rhs)", "aten::maximum",
                               "DPCRT_BINARY_MAXIMUM">;
def NN_MinimumOp : NN_BinaryOp<"minimum", "min(lhs, rhs)", "aten::minimum",
                               "DPCRT_BINARY_MINIMUM">;
// pow(Tensor, Tensor) and pow(number, Tensor) (the number a 0-d nn.fill);
// pow(Tensor, number) is the unary nn.pow_scalar. Imported by hand (aten::pow
// has all three forms).
def NN_PowOp : NN_BinaryOp<"pow", "lhs ** rhs", "aten::pow",
                           "DPCRT_BINARY_POW">;

def NN_ScaleOp : NN_DiffOp<"scale", [NN_HasFloat64Kernels]> {
  let summary = "multiplication by a compile-time constant";
  let description = [{
    `result = input * factor`. Produced for `x * 2.0`, `-x` and by the
    backward pass of `add`/`sub` with `alpha`.
  }];
  let arguments = (ins NN_FloatTensor:$input, NN_FloatAttr:$factor);
  let results = (outs NN_FloatTensor:$result);
  // `nn.scale %x, 5.000000e-01 : tensor<4xf32>`: the factor is written
  // without its type, which is the tensor's element type (float64 factors
  // of float64 tensors keep their precision through a round trip).
  let hasCustomAssemblyFormat = 1;
}

// The elementwise unary family: one record per op names its formula, the
// aten operator it imports, the runtime kind that computes it
// (DPCRT_UNARY_*, runtime/include/dpc/unary_kinds.def), the value its
// gradient reads and its parameters. Result type, import and lowering follow
// from the record (ElementwiseUnaryOpInterface).
//
// `parameters` names the op's f64 attributes (torch's Python floats, e.g.
// leaky_relu's `negative_slope`), in the order of aten's operands after the
// tensor and of the kind's parameters p0, p1, p2 (at most three).
// `gradFrom` is "input" or "result" for an op whose VJP is the kind's
// gradient formula (kernel_shared.h's applyUnaryGrad) applied to that value
// (`nn.unary_grad`); empty when the VJP is written by hand
// (NNElementwiseOps.cpp). `float64` is 0 for the kinds that have no meaning
// on float64 tensors (the 16-bit roundings of --precision bf16|fp16).
class NN_UnaryOp<string mnemonic, string formula, string atenName,
                 string unaryKind, string gradFrom = "",
                 list<string> parameters = [], bit float64 = 1>
    : NN_DiffOp<mnemonic, !listconcat([ElementwiseUnaryOpInterface],
                                      !if(float64, [NN_HasFloat64Kernels], []))> {
  let summary = "elementwise " # formula # " (" # atenName # ")";
  let arguments = !foldl((ins NN_FloatTensor:$input), parameters, args, name,
                         !con(args, !dag(ins, [F64Attr], [name])));
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let extraClassDeclaration = [{
    static constexpr ::llvm::StringLiteral kAtenName = "}] # atenName # [{";
    static constexpr int32_t kUnaryKind = }] # unaryKind # [{;
    static constexpr unsigned kNumParameters = }] # !size(parameters) # [{;
    static ::llvm::SmallVector<::llvm::StringRef, 3> getParameterNames() {
      return {}] # !interleave(!foreach(name, parameters,
          "\"" # name # "\""), ", ") # [{};
    }
    ::llvm::SmallVector<double, 3> getParameters() {
      return {}] # !interleave(!foreach(name, parameters,
          "::llvm::cast<::mlir::FloatAttr>((*this)->getAttr(\"" # name #
          "\")).getValueAsDouble()"), ", ") # [{};
    }
  }];
  let extraClassDefinition = [{
    ::mlir::LogicalResult $cppClass::inferReturnTypes(
        ::mlir::MLIRContext *, ::std::optional<::mlir::Location>,
        Adaptor adaptor, ::llvm::SmallVectorImpl<::mlir::Type> &types) {
      types.push_back(adaptor.getInput().getType());
      return ::mlir::success();
    }
  }] # !if(!empty(gradFrom), "", [{
    ::llvm::SmallVector<::mlir::Value> $cppClass::buildVJP(
        ::mlir::OpBuilder &b, ::mlir::ValueRange resultGrads) {
      return {b.create<UnaryGradOp>(
          getLoc(), resultGrads[0], }] #
          !if(!eq(gradFrom, "result"), "getResult()", "getInput()") # [{,
          b.getStringAttr(getOperationName().drop_front(3)),
          b.getDenseF64ArrayAttr(getParameters()))};
    }
  }]);
}

def NN_ReluOp : NN_UnaryOp<"relu", "max(x, 0)", "aten::relu", "DPCRT_UNARY_RELU">;

def NN_TanhOp : NN_UnaryOp<"tanh", "tanh(x)", "aten::tanh", "DPCRT_UNARY_TANH">;

def NN_SigmoidOp : NN_UnaryOp<"sigmoid", "1 / (1 + exp(-x))", "aten::sigmoid",
                              "DPCRT_UNARY_SIGMOID">;

def NN_ExpOp : NN_UnaryOp<"exp", "exp(x)", "aten::exp", "DPCRT_UNARY_EXP">;

def NN_LogOp : NN_UnaryOp<"log", "log(x)", "aten::log", "DPCRT_UNARY_LOG",
                          "input">;
def NN_Log1pOp : NN_UnaryOp<"log1p", "log(1 + x)", "aten::log1p",
                            "DPCRT_UNARY_LOG1P", "input">;
def NN_SqrtOp : NN_UnaryOp<"sqrt", "sqrt(x)", "aten::sqrt", "DPCRT_UNARY_SQRT",
                           "result">;
def NN_RsqrtOp : NN_UnaryOp<"rsqrt", "1 / sqrt(x)", "aten::rsqrt",
                            "DPCRT_UNARY_RSQRT", "result">;
def NN_AbsOp : NN_UnaryOp<"abs", "|x|", "aten::abs", "DPCRT_UNARY_ABS", "input">;
def NN_ReciprocalOp : NN_UnaryOp<"reciprocal", "1 / x", "aten::reciprocal",
                                 "DPCRT_UNARY_RECIPROCAL", "result">;
def NN_SinOp : NN_UnaryOp<"sin", "sin(x)", "aten::sin", "DPCRT_UNARY_SIN",
                          "input">;
def NN_CosOp : NN_UnaryOp<"cos", "cos(x)", "aten::cos", "DPCRT_UNARY_COS",
                          "input">;
def NN_ErfOp : NN_UnaryOp<"erf", "erf(x)", "aten::erf", "DPCRT_UNARY_ERF",
                          "input">;
def NN_SiluOp : NN_UnaryOp<"silu", "x * sigmoid(x)", "aten::silu",
                           "DPCRT_UNARY_SILU", "input">;
def NN_SoftplusOp : NN_UnaryOp<"softplus",
    "x * beta > threshold ? x : log(1 + exp(beta * x)) / beta", "aten::softplus",
    "DPCRT_UNARY_SOFTPLUS", "input", ["beta", "threshold"]>;
def NN_MishOp : NN_UnaryOp<"mish", "x * tanh(softplus(x))", "aten::mish",
                           "DPCRT_UNARY_MISH", "input">;
def NN_HardswishOp : NN_UnaryOp<"hardswish", "x * clamp(x + 3, 0, 6) / 6",
                                "aten::hardswish", "DPCRT_UNARY_HARDSWISH",
                                "input">;
def NN_HardsigmoidOp : NN_UnaryOp<"hardsigmoid", "clamp(x + 3, 0, 6) / 6",
                                  "aten::hardsigmoid",
                                  "DPCRT_UNARY_HARDSIGMOID", "input">;
def NN_LeakyReluOp : NN_UnaryOp<"leaky_relu", "x > 0 ? x : negative_slope * x",
                                "aten::leaky_relu", "DPCRT_UNARY_LEAKY_RELU",
                                "input", ["negative_slope"]>;
def NN_EluOp : NN_UnaryOp<"elu",
    "x > 0 ? scale * x : alpha * scale * (exp(input_scale * x) - 1)",
    "aten::elu", "DPCRT_UNARY_ELU", "input",
    ["alpha", "scale", "input_scale"]>;
def NN_HardtanhOp : NN_UnaryOp<"hardtanh", "clamp(x, min_val, max_val)",
                               "aten::hardtanh", "DPCRT_UNARY_HARDTANH",
                               "input", ["min_val", "max_val"]>;
// clamp, clamp_min, clamp_max (an absent bound is infinite); the gradient
// passes where min <= x <= max, where hardtanh's stops at the bounds.
def NN_ClampOp : NN_UnaryOp<"clamp", "min(max(x, min), max)", "aten::clamp",
                            "DPCRT_UNARY_CLAMP", "input", ["min", "max"]>;
def NN_PowScalarOp : NN_UnaryOp<"pow_scalar", "x ** exponent", "aten::pow",
                                "DPCRT_UNARY_POW_SCALAR", "input",
                                ["exponent"]>;

// --precision bf16 (torch.autocast's bfloat16): where PyTorch's value is a
// bfloat16 tensor, dpc keeps a float32 tensor holding the same value, made by
// this op. No aten operator: the importer inserts it after an op that
// autocast runs in bfloat16 (compiler/Import/Autocast.cpp). Its VJP rounds
// the gradient the same way, as PyTorch's gradient of a bfloat16 tensor is a
// bfloat16 tensor.
def NN_RoundToBF16Op : NN_UnaryOp<"round_bf16",
    "x rounded to the nearest bfloat16 value (ties to even)", "",
    "DPCRT_UNARY_ROUND_BF16", "", [], /*float64=*/0>;

// --precision fp16 (torch.autocast's float16): nn.round_bf16's twin for
// float16 values, infinite beyond 65504 (what GradScaler's loss scaling
// guards against).
def NN_RoundToF16Op : NN_UnaryOp<"round_f16",
    "x rounded to the nearest float16 value (ties to even)", "",
    "DPCRT_UNARY_ROUND_F16", "", [], /*float64=*/0>;

// --precision bf16|fp16: an activation that PyTorch's autocast keeps for the
// backward pass as a 16-bit tensor, kept so by dpc too
// (dpc-save-low-precision): packed after its last forward use, unpacked
// before its first backward use. Inserted after autodiff, so not
// differentiable.
def NN_PackSavedOp : NN_Op<"pack_saved"> {
  let summary = "a float32 tensor of 16-bit values stored in 16 bits";
  let description = [{
    `result[i] = bfloat16(input[i])` or `float16(input[i])` (the result's
    element type), rounded to nearest even: exact for what
    dpc-save-low-precision packs, the result of an `nn.round_bf16` /
    `nn.round_f16`. Like the saved-tensor pack hook of
    `torch.autograd.graph.saved_tensors_hooks`, half the bytes in the
    arena while the tensor waits for the backward pass.

    ```mlir
    %p = nn.pack_saved %x : tensor<4x16xf32> -> tensor<4x16xbf16>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input);
  let results = (outs NN_LowPrecisionTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def NN_UnpackSavedOp : NN_Op<"unpack_saved"> {
  let summary = "a packed 16-bit tensor back as float32 (exact)";
  let description = [{
    `result[i] = float(input[i])`, the unpack hook of nn.pack_saved.

    ```mlir
    %x2 = nn.unpack_saved %p : tensor<4x16xbf16> -> tensor<4x16xf32>
    ```
  }];
  let arguments = (ins NN_LowPrecisionTensor:$input);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def NN_GeluOp : NN_DiffOp<"gelu"> {
  let summary = "Gaussian error linear unit (aten::gelu)";
  let description = [{
    `approximate = "none"` (the default): `x * 0.5 * (1 + erf(x / sqrt(2)))`;
    `approximate = "tanh"`:
    `0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3)))`, the two
    forms of torch.nn.functional.gelu.

    ```mlir
    %y = nn.gelu %x {approximate = "tanh"} : tensor<4x8xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input,
                       DefaultValuedStrAttr<StrAttr, "none">:$approximate);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def NN_CompareOp : NN_DiffOp<"compare", [NN_HasFloat64Kernels]> {
  let summary = "elementwise comparison giving an f32 0/1 mask";
  let description = [{
    `result = (lhs <predicate> rhs) ? 1 : 0` with NumPy broadcasting, where
    `predicate` is one of `eq`, `ne`, `lt`, `le`, `gt`, `ge` (aten::eq, ...).
    Comparisons with a number compare with a 0-d `nn.fill`. The result is a
    mask in the group's f32 0/1 representation. Its gradient is zero (torch:
    boolean results do not require grad), so the VJP gives none.

    ```mlir
    %m = nn.compare %mask, %zero {predicate = "eq"} : (tensor<1x1x8x8xf32>, tensor<f32>) -> tensor<1x1x8x8xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$lhs, NN_FloatTensor:$rhs, StrAttr:$predicate);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` functional-type(operands, results)
  }];
}

def NN_WhereOp : NN_DiffOp<"where",
    [AllTypesMatch<["condition", "lhs", "rhs"]>, NN_HasFloat64Kernels]> {
  let summary = "elementwise select by a mask (aten::where)";
  let description = [{
    `result = condition != 0 ? lhs : rhs`, where `condition` is an f32 0/1
    mask; all three operands have the result's shape (the importer
    broadcasts them first with `nn.broadcast_to`, whose VJP sums the
    gradients back). `lhs` gets the result gradient where the mask is true,
    `rhs` where it is false (torch's where backward); the mask gets none.

    ```mlir
    %y = nn.where %m, %x, %z : tensor<4x8xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$condition, NN_FloatTensor:$lhs,
                       NN_FloatTensor:$rhs);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = "$condition `,` $lhs `,` $rhs attr-dict `:` type($lhs)";
}

def NN_MaskedFillOp : NN_DiffOp<"masked_fill", [NN_HasFloat64Kernels]> {
  let summary = "replace the elements where a mask is true (aten::masked_fill)";
  let description = [{
    `result = mask != 0 ? value : input`, where `mask` (an f32 0/1 mask)
    broadcasts to the shape of `input`; the result has `input`'s type. The
    gradient of `input` is the result gradient with the masked elements set
    to 0; the mask gets none.

    ```mlir
    %a = nn.masked_fill %s, %m {value = 0xFF800000 : f32} : (tensor<4x2x8x8xf32>, tensor<1x1x8x8xf32>) -> tensor<4x2x8x8xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input, NN_FloatTensor:$mask, NN_FloatAttr:$value);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $mask attr-dict `:` functional-type(operands, results)
  }];
}

def NN_ConvertOp : NN_DiffOp<"convert"> {
  let summary = "an int64 tensor as float32 (aten::to, .float(), type_as)";
  let description = [{
    `result[i] = float(input[i])`, rounded to nearest (ties to even) as
    C++'s conversion and so torch's `.float()` round it: exact up to 2^24
    in magnitude. Hugging Face models make their int64 `attention_mask`
    float so. No gradient flows into an integer tensor.

    ```mlir
    %m = nn.convert %mask : tensor<4x16xi64> -> tensor<4x16xf32>
    ```
  }];
  let arguments = (ins NN_I64Tensor:$input);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

def NN_FillOp : NN_Op<"fill", [NN_HasFloat64Kernels]> {
  let summary = "a tensor with every element equal to `value`";
  let description = "Seeds reverse-mode autodiff with `d loss / d loss = 1`.";
  let arguments = (ins NN_FloatAttr:$value);
  let results = (outs NN_FloatTensor:$result);
  // `nn.fill 1.000000e+00 : tensor<f32>`: the value in the tensor's element
  // type, as nn.scale's factor.
  let hasCustomAssemblyFormat = 1;
}

//===----------------------------------------------------------------------===//
// Backward ops (built by the VJPs above)
//===----------------------------------------------------------------------===//

def NN_ReluGradOp : NN_GradOp<"relu_grad", [NN_HasFloat64Kernels, AllTypesMatch<["grad", "input"]>]> {
  let summary = "gradient of relu: grad where input > 0, else 0";
  let arguments = (ins NN_FloatTensor:$grad, NN_FloatTensor:$input);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = "$grad `,` $input attr-dict `:` type($grad)";
}

def NN_TanhGradOp : NN_GradOp<"tanh_grad", [NN_HasFloat64Kernels, AllTypesMatch<["grad", "output"]>]> {
  let summary = "gradient of tanh from its output: grad * (1 - y^2)";
  let arguments = (ins NN_FloatTensor:$grad, NN_FloatTensor:$output);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = "$grad `,` $output attr-dict `:` type($grad)";
}

def NN_SigmoidGradOp : NN_GradOp<"sigmoid_grad", [NN_HasFloat64Kernels, AllTypesMatch<["grad", "output"]>]> {
  let summary = "gradient of sigmoid from its output: grad * y * (1 - y)";
  let arguments = (ins NN_FloatTensor:$grad, NN_FloatTensor:$output);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = "$grad `,` $output attr-dict `:` type($grad)";
}

def NN_GeluGradOp : NN_GradOp<"gelu_grad", [AllTypesMatch<["grad", "input"]>]> {
  let summary = "gradient of gelu from its input";
  let description = [{
    torch's `gelu_backward`: for `approximate = "none"`,
    `grad * (cdf + x * pdf)` with `cdf = 0.5 * (1 + erf(x / sqrt(2)))`,
    `pdf = exp(-x^2 / 2) / sqrt(2 pi)`; for `"tanh"` the derivative of the
    tanh form.
  }];
  let arguments = (ins NN_FloatTensor:$grad, NN_FloatTensor:$input,
                       DefaultValuedStrAttr<StrAttr, "none">:$approximate);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = "$grad `,` $input attr-dict `:` type($grad)";
}

def NN_UnaryGradOp : NN_GradOp<"unary_grad", [NN_HasFloat64Kernels, AllTypesMatch<["grad", "saved"]>]> {
  let summary = "gradient of an elementwise unary op from its kind's formula";
  let description = [{
    `dx = dy * f'(..)` of the unary record op `nn.<forward>` with the
    given parameters, computed from `saved`: that op's input or result, as
    its record's `gradFrom` says (torch's derivatives.yaml formula of the
    aten op, runtime/lib/kernel_shared.h's applyUnaryGrad).

    ```mlir
    %dx = nn.unary_grad %dy, %x {forward = "leaky_relu", parameters = array<f64: 0.2>} : tensor<4x8xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$grad, NN_FloatTensor:$saved,
                       StrAttr:$forward, DenseF64ArrayAttr:$parameters);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = "$grad `,` $saved attr-dict `:` type($grad)";
}

#endif // DPC_NN_ELEMENTWISE_OPS
