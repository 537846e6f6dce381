//===- Autocast.cpp - torch.autocast's bfloat16 policy at import ---------===//
//
// `dpc --precision bf16` trains as PyTorch does under
// `torch.autocast(device_type="cpu", dtype=torch.bfloat16)`. Autocast acts
// on each aten operator as it is called, so dpc applies it where it knows
// the operator: when the importer translates an aten node. PyTorch 1.13's
// CPU policy (aten/src/ATen/autocast_mode.cpp, probed op by op with torch
// 1.13: the op's result dtype from float32 and from bfloat16 operands):
//
// - lower precision: linear, matmul, mm, bmm, addmm, baddbmm, addbmm,
//   conv1d/2d/3d, conv_tbc, conv_transpose1d and einsum (its bmm) cast their
//   floating operands to bfloat16 and return bfloat16. Not
//   conv_transpose2d/3d, prelu, lstm/gru, interpolation (float32 in 1.13).
//   aten::_convolution, the op a traced convolution records, counts as the
//   conv2d it came from (an eager model under autocast calls conv2d).
// - float32: the losses (cross_entropy, nll_loss, mse_loss, l1_loss,
//   smooth_l1_loss, huber_loss, binary_cross_entropy(_with_logits), kl_div,
//   ...) cast their operands to float32.
// - every other op runs in its operands' promoted type: bfloat16 when its
//   floating tensor operands are all bfloat16 (0-d tensors do not promote),
//   float32 when one is float32. The normalizations (batch_norm,
//   layer_norm, group_norm, instance_norm) return their input's type with
//   float32 affine parameters, computing in float32 (PyTorch 2's mixed-type
//   CPU kernels; torch 1.13 refuses layer_norm and group_norm of a bfloat16
//   input with float32 weights).
// - conversions (x.float(), x.to(torch.bfloat16), x.type_as(y)) and ops with
//   a `dtype=` argument (softmax(x, dim, dtype=torch.float32)) return the
//   type they name; `x.dtype` of a bfloat16 value is torch.bfloat16
//   (Importer::dtypeOf), so code that computes in float32 on purpose (an
//   RMSNorm's `x.float().pow(2).mean(-1)`) does so in dpc too.
//
// dpc stores every tensor in float32 (bfloat16 storage and kernels are not
// there yet), so a bfloat16 tensor of PyTorch is a float32 tensor holding
// the same value: nn.round_bf16 after each op that autocast runs in
// bfloat16, and on each float32 operand a lower-precision op reads. An op
// then computes in float32 on bfloat16 values and rounds its result once,
// which is what PyTorch's bfloat16 CPU kernels do (they compute in float32,
// and oneDNN's bfloat16 GEMMs accumulate in float32). nn.round_bf16's VJP
// rounds the gradient, so the backward pass has PyTorch's bfloat16
// gradients too: a bfloat16 tensor's gradient is summed over its uses and
// rounded at the op that made it; a float32 master weight's gradient is the
// rounded gradient of its bfloat16 copy. A rounding of an op's result is
// marked (kBF16ResultAttr): the op's VJP reads the rounded result, the
// bfloat16 tensor PyTorch saves (dpc-autodiff).
//
//===----------------------------------------------------------------------===//

#include "compiler/Import/ImportArgs.h"
#include "compiler/TrainStep/TrainStep.h"
#include "dialects/NN/IR/NNOps.h"

using namespace mlir;
using namespace dpc;

namespace {

enum class AutocastPolicy {
  /// Operands cast to bfloat16, result bfloat16.
  LowerPrecision,
  /// Operands cast to float32, result float32.
  Float32,
  /// The type of the input (operand 0); float32 parameters.
  InputType,
  /// The promoted type of the floating tensor operands.
  Promote,
  /// A dtype conversion: the handler makes the type it converts to.
  Conversion,
};

AutocastPolicy policyOf(c10::Symbol kind) {
  static const std::set<c10::Symbol> lowerPrecision = {
      c10::aten::linear,       c10::aten::matmul,   c10::aten::mm,
      c10::aten::bmm,          c10::aten::addmm,    c10::aten::baddbmm,
      c10::aten::addbmm,       c10::aten::conv1d,   c10::aten::conv2d,
      c10::aten::conv3d,       c10::aten::conv_tbc, c10::aten::conv_transpose1d,
      c10::aten::_convolution, c10::aten::einsum,
  };
  static const std::set<c10::Symbol> float32 = {
      c10::aten::cross_entropy_loss,
      c10::aten::nll_loss,
      c10::aten::nll_loss2d,
      c10::aten::nll_loss_nd,
      c10::aten::mse_loss,
      c10::aten::l1_loss,
      c10::aten::smooth_l1_loss,
      c10::aten::huber_loss,
      c10::aten::binary_cross_entropy,
      c10::aten::binary_cross_entropy_with_logits,
      c10::aten::kl_div,
      c10::aten::soft_margin_loss,
      c10::aten::margin_ranking_loss,
      c10::aten::hinge_embedding_loss,
      c10::aten::cosine_embedding_loss,
      c10::aten::poisson_nll_loss,
      c10::aten::multi_margin_loss,
      c10::aten::multilabel_margin_loss,
      c10::aten::triplet_margin_loss,
      c10::aten::avg_pool3d,
      c10::aten::max_pool3d,
      c10::aten::adaptive_avg_pool3d,
      c10::aten::adaptive_max_pool3d,
      c10::aten::prod,
      c10::aten::cdist,
      c10::aten::trace,
  };
  static const std::set<c10::Symbol> inputType = {
      c10::aten::batch_norm, c10::aten::layer_norm, c10::aten::group_norm,
      c10::aten::instance_norm};
  if (lowerPrecision.count(kind))
    return AutocastPolicy::LowerPrecision;
  if (float32.count(kind))
    return AutocastPolicy::Float32;
  if (inputType.count(kind))
    return AutocastPolicy::InputType;
  return AutocastPolicy::Promote;
}

} // namespace

bool Importer::isBFloat16(Value v) const {
  // Relu and max-pool select among their input's values, so a bfloat16
  // input gives a bfloat16 result.
  return keepsDtype(
      v,
      [](Value source) {
        return isa_and_nonnull<nn::RoundToBF16Op>(source.getDefiningOp());
      },
      /*throughSelections=*/true);
}

LogicalResult Importer::importUnderAutocast(jit::Node *node,
                                            const NodeImporter &importer) {
  if (!options.autocastBFloat16)
    return importer(*this, node);

  // The floating tensor operands: float32 tensors that are not bool masks,
  // computed or constant; whether each is (a value of) bfloat16.
  struct Operand {
    jit::Value *value;
    Value tensor; // null for a compile-time tensor
    bool bf16;
    bool zeroDim;
  };
  SmallVector<Operand> operands;
  for (jit::Value *input : node->inputs()) {
    // By binding, not by TorchScript type: a convolution's bias is a
    // `Tensor?`.
    Binding binding = lookup(input);
    if (binding.tensor) {
      auto type = typeOf(binding.tensor);
      if (!type.getElementType().isF32() || isBool(binding.tensor))
        continue;
      operands.push_back({input, binding.tensor, isBFloat16(binding.tensor),
                          type.getRank() == 0});
    } else if (binding.constant && binding.constant->isTensor()) {
      const at::Tensor &t = binding.constant->toTensor();
      if (!t.is_floating_point())
        continue;
      operands.push_back(
          {input, Value(), t.scalar_type() == at::kBFloat16, t.dim() == 0});
    }
  }

  AutocastPolicy policy = policyOf(node->kind());
  // An explicit result type: x.to(dtype), x.float(), x.type_as(y) (their
  // handler converts, importDtypeConversion), and the ops with a `dtype=`
  // argument (softmax(x, dim, dtype=torch.float32)) return that type.
  if (node->kind() == c10::aten::to || node->kind() == c10::aten::type_as)
    policy = AutocastPolicy::Conversion;
  std::optional<at::ScalarType> explicitType;
  if (const c10::FunctionSchema *schema = node->maybeSchema())
    for (size_t i = 0; i < schema->arguments().size(); ++i)
      if (schema->arguments()[i].name() == "dtype" && i < node->inputs().size())
        if (std::optional<c10::IValue> dtype = constant(node->input(i));
            dtype && dtype->isInt())
          explicitType = static_cast<at::ScalarType>(dtype->toInt());
  bool resultBF16 = false;
  switch (policy) {
  case AutocastPolicy::Conversion:
    break;
  case AutocastPolicy::LowerPrecision:
    resultBF16 = true;
    break;
  case AutocastPolicy::Float32:
    break;
  case AutocastPolicy::InputType:
    resultBF16 = !operands.empty() &&
                 operands.front().value == node->input(0) &&
                 operands.front().bf16;
    break;
  case AutocastPolicy::Promote: {
    // 0-d tensors take part only when every operand is 0-d.
    bool allZeroDim =
        llvm::all_of(operands, [](const Operand &o) { return o.zeroDim; });
    bool anyFloat32 = false, anyBF16 = false;
    for (const Operand &o : operands) {
      if (o.zeroDim && !allZeroDim)
        continue;
      (o.bf16 ? anyBF16 : anyFloat32) = true;
    }
    resultBF16 = anyBF16 && !anyFloat32;
    break;
  }
  }
  if (explicitType && policy != AutocastPolicy::Conversion)
    resultBF16 = *explicitType == at::kBFloat16;

  // The node reads its operands through nn.round_bf16, bound for the
  // handler only:
  // - a lower-precision op's float32 operands: autocast's cast to bfloat16;
  // - every op's bfloat16 operands (kBF16OperandAttr): the identity in the
  //   forward, and the rounding of this use's gradient in the backward, as
  //   PyTorch's backward kernels return a bfloat16 input's gradient in
  //   bfloat16 and autograd rounds a float32 one to it. Autodiff builds
  //   their VJPs, then removes them.
  SmallVector<std::pair<jit::Value *, Binding>> restore;
  bool castToBF16 = policy == AutocastPolicy::LowerPrecision;
  if (castToBF16 && llvm::any_of(operands, [](const Operand &o) {
        return !o.tensor && !o.bf16;
      }))
    return error(node) << "'" << opName(node)
                       << "' of a constant float32 tensor under "
                          "--precision bf16 is not supported yet",
           failure();
  for (const Operand &o : operands) {
    if (!o.tensor || (!o.bf16 && !castToBF16) ||
        llvm::any_of(restore,
                     [&](const auto &r) { return r.first == o.value; }))
      continue;
    restore.push_back({o.value, lookup(o.value)});
    auto round = builder.create<nn::RoundToBF16Op>(o.tensor.getLoc(), o.tensor);
    if (o.bf16)
      round->setAttr(kBF16OperandAttr, builder.getUnitAttr());
    Binding rounded;
    rounded.tensor = round;
    assign(o.value, rounded);
  }
  LogicalResult imported = importer(*this, node);
  for (auto &[value, binding] : restore)
    assign(value, binding);
  if (failed(imported) || !resultBF16)
    return imported;

  // The result in bfloat16: rounded once, unless it is a view or selection
  // of bfloat16 values already.
  for (jit::Value *output : node->outputs()) {
    auto it = values.find(output);
    if (it == values.end())
      continue;
    Value result = it->second;
    auto type = dyn_cast<RankedTensorType>(result.getType());
    if (!type || !type.getElementType().isF32() || isBool(result) ||
        isBFloat16(result))
      continue;
    auto rounded = builder.create<nn::RoundToBF16Op>(result.getLoc(), result);
    rounded->setAttr(kBF16ResultAttr, builder.getUnitAttr());
    it->second = rounded;
  }
  return success();
}
