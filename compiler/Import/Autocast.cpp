//===- Autocast.cpp - torch.autocast's CPU policy at import ---------------===//
//
// `dpc --precision bf16` trains as PyTorch does under
// `torch.autocast(device_type="cpu", dtype=torch.bfloat16)`, `--precision
// fp16` as under `dtype=torch.float16` (the same design; the differences
// are at the end of this comment). Autocast acts
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
// dpc computes on float32 tensors (16-bit copies serve the matrix products
// and convolutions, dpc-bf16-kernels, and the activations the backward
// pass saves, dpc-save-low-precision), so a bfloat16 tensor of PyTorch is
// a float32 tensor holding the same value: nn.round_bf16 after each op that
// autocast runs in bfloat16, and on each float32 operand a lower-precision op
// reads. An op then computes in float32 on bfloat16 values and rounds its
// result once, which is what PyTorch's bfloat16 CPU kernels do (they compute in
// float32, and oneDNN's bfloat16 GEMMs accumulate in float32). nn.round_bf16's
// VJP rounds the gradient, so the backward pass has PyTorch's bfloat16
// gradients too: a bfloat16 tensor's gradient is summed over its uses and
// rounded at the op that made it; a float32 master weight's gradient is the
// rounded gradient of its bfloat16 copy. A rounding of an op's result is
// marked (kAutocastResultAttr): the op's VJP reads the rounded result, the
// bfloat16 tensor PyTorch saves (dpc-autodiff).
//
// float16 (--precision fp16): torch 1.13 has no CPU float16 autocast, so
// the policy is PyTorch 2.5's (probed op by op with torch 2.5.1, the
// reference of the tests), which differs from 1.13's bfloat16 one in the
// lower-precision list: conv_transpose2d/3d and prelu join it. nn.round_f16
// rounds (float16 overflows to inf beyond 65504: GradScaler's loss scaling,
// a pass of the training step, skips such steps). LSTM and GRU are refused:
// torch 2.5's CPU autocast sends an LSTM to oneDNN's reduced-precision RNN
// (which fails on CPUs without float16 support) and dpc does not model it.
//
//===----------------------------------------------------------------------===//

#include "compiler/Import/ImportArgs.h"
#include "compiler/TrainStep/TrainStep.h"
#include "dialects/NN/IR/NNOps.h"

using namespace mlir;
using namespace dpc;

namespace {

enum class AutocastPolicy {
  /// Operands cast to the 16-bit type, result 16-bit.
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

AutocastPolicy policyOf(c10::Symbol kind, at::ScalarType lowPrecision) {
  static const std::set<c10::Symbol> lowerPrecision = {
      c10::aten::linear,       c10::aten::matmul,   c10::aten::mm,
      c10::aten::bmm,          c10::aten::addmm,    c10::aten::baddbmm,
      c10::aten::addbmm,       c10::aten::conv1d,   c10::aten::conv2d,
      c10::aten::conv3d,       c10::aten::conv_tbc, c10::aten::conv_transpose1d,
      c10::aten::_convolution, c10::aten::einsum,
  };
  // PyTorch 2.5's CPU policy, which float16 follows, adds these (and
  // scaled_dot_product_attention, which torch 1.13's TorchScript models
  // cannot hold).
  static const std::set<c10::Symbol> lowerPrecisionSince2 = {
      c10::aten::conv_transpose2d, c10::aten::conv_transpose3d,
      c10::aten::prelu};
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
  if (lowerPrecision.count(kind) ||
      (lowPrecision == at::kHalf && lowerPrecisionSince2.count(kind)))
    return AutocastPolicy::LowerPrecision;
  if (float32.count(kind))
    return AutocastPolicy::Float32;
  if (inputType.count(kind))
    return AutocastPolicy::InputType;
  return AutocastPolicy::Promote;
}

} // namespace

std::optional<at::ScalarType> Importer::autocastType() const {
  switch (options.autocast) {
  case ImportOptions::Autocast::None:
    return std::nullopt;
  case ImportOptions::Autocast::BFloat16:
    return at::kBFloat16;
  case ImportOptions::Autocast::Float16:
    return at::kHalf;
  }
  return std::nullopt;
}

bool Importer::isLowPrecision(Value v) const {
  if (!autocastType())
    return false;
  // Relu and max-pool select among their input's values, so a 16-bit input
  // gives a 16-bit result.
  return keepsDtype(
      v,
      [](Value source) {
        return isa_and_nonnull<nn::RoundToBF16Op, nn::RoundToF16Op>(
            source.getDefiningOp());
      },
      /*throughSelections=*/true);
}

Value Importer::roundToLowPrecision(Location loc, Value v) {
  if (autocastType() == at::kHalf)
    return builder.create<nn::RoundToF16Op>(loc, v);
  return builder.create<nn::RoundToBF16Op>(loc, v);
}

LogicalResult Importer::importUnderAutocast(jit::Node *node,
                                            const NodeImporter &importer) {
  std::optional<at::ScalarType> lowPrecision = autocastType();
  if (!lowPrecision)
    return importer(*this, node);
  const char *precisionFlag =
      *lowPrecision == at::kHalf ? "--precision fp16" : "--precision bf16";
  if (*lowPrecision == at::kHalf &&
      (node->kind() == c10::aten::lstm || node->kind() == c10::aten::gru))
    return error(node) << "'" << opName(node) << "' under " << precisionFlag
                       << " is not supported (PyTorch 2.5's CPU autocast runs "
                          "it through oneDNN's reduced-precision RNN)",
           failure();

  // The floating tensor operands: float32 tensors that are not bool masks,
  // computed or constant; whether each is (a value of) the 16-bit type.
  struct Operand {
    jit::Value *value;
    Value tensor; // null for a compile-time tensor
    bool lowPrecision;
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
      operands.push_back({input, binding.tensor, isLowPrecision(binding.tensor),
                          type.getRank() == 0});
    } else if (binding.constant && binding.constant->isTensor()) {
      const at::Tensor &t = binding.constant->toTensor();
      if (!t.is_floating_point())
        continue;
      operands.push_back(
          {input, Value(), t.scalar_type() == *lowPrecision, t.dim() == 0});
    }
  }

  AutocastPolicy policy = policyOf(node->kind(), *lowPrecision);
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
  bool resultLowPrecision = false;
  switch (policy) {
  case AutocastPolicy::Conversion:
    break;
  case AutocastPolicy::LowerPrecision:
    resultLowPrecision = true;
    break;
  case AutocastPolicy::Float32:
    break;
  case AutocastPolicy::InputType:
    resultLowPrecision = !operands.empty() &&
                         operands.front().value == node->input(0) &&
                         operands.front().lowPrecision;
    break;
  case AutocastPolicy::Promote: {
    // 0-d tensors take part only when every operand is 0-d.
    bool allZeroDim =
        llvm::all_of(operands, [](const Operand &o) { return o.zeroDim; });
    bool anyFloat32 = false, anyLowPrecision = false;
    for (const Operand &o : operands) {
      if (o.zeroDim && !allZeroDim)
        continue;
      (o.lowPrecision ? anyLowPrecision : anyFloat32) = true;
    }
    resultLowPrecision = anyLowPrecision && !anyFloat32;
    break;
  }
  }
  if (explicitType && policy != AutocastPolicy::Conversion)
    resultLowPrecision = *explicitType == *lowPrecision;

  // The node reads its operands through a rounding, bound for the
  // handler only:
  // - a lower-precision op's float32 operands: autocast's cast to 16 bits;
  // - every op's 16-bit operands (kAutocastOperandAttr): the identity in the
  //   forward, and the rounding of this use's gradient in the backward, as
  //   PyTorch's backward kernels return a 16-bit input's gradient in
  //   16 bits and autograd rounds a float32 one to it. Autodiff builds
  //   their VJPs, then removes them.
  SmallVector<std::pair<jit::Value *, Binding>> restore;
  bool castToLowPrecision = policy == AutocastPolicy::LowerPrecision;
  if (castToLowPrecision && llvm::any_of(operands, [](const Operand &o) {
        return !o.tensor && !o.lowPrecision;
      }))
    return error(node) << "'" << opName(node)
                       << "' of a constant float32 tensor under "
                       << precisionFlag << " is not supported yet",
           failure();
  for (const Operand &o : operands) {
    if (!o.tensor || (!o.lowPrecision && !castToLowPrecision) ||
        llvm::any_of(restore,
                     [&](const auto &r) { return r.first == o.value; }))
      continue;
    restore.push_back({o.value, lookup(o.value)});
    Value round = roundToLowPrecision(o.tensor.getLoc(), o.tensor);
    if (o.lowPrecision)
      round.getDefiningOp()->setAttr(kAutocastOperandAttr,
                                     builder.getUnitAttr());
    Binding rounded;
    rounded.tensor = round;
    assign(o.value, rounded);
  }
  LogicalResult imported = importer(*this, node);
  for (auto &[value, binding] : restore)
    assign(value, binding);
  if (failed(imported) || !resultLowPrecision)
    return imported;

  // The result in 16 bits: rounded once, unless it is a view or selection
  // of 16-bit values already.
  for (jit::Value *output : node->outputs()) {
    auto it = values.find(output);
    if (it == values.end())
      continue;
    Value result = it->second;
    auto type = dyn_cast<RankedTensorType>(result.getType());
    if (!type || !type.getElementType().isF32() || isBool(result) ||
        isLowPrecision(result))
      continue;
    Value rounded = roundToLowPrecision(result.getLoc(), result);
    rounded.getDefiningOp()->setAttr(kAutocastResultAttr,
                                     builder.getUnitAttr());
    it->second = rounded;
  }
  return success();
}
