// RUN: %dpc-opt %s --dpc-build-train-step="label-shape=2,4" | FileCheck %s --check-prefix=SEQ
// RUN: %dpc-opt %s --dpc-build-train-step="label-shape=8" | FileCheck %s --check-prefix=FLAT
// RUN: %dpc-opt %s --dpc-build-train-step="label-shape=3,4" | FileCheck %s --check-prefix=FLAT

// cross_entropy on logits [N, C] takes labels [N]; labels given with more
// dimensions and N elements (a language model's [B, T] targets for logits
// [B*T, V]) keep their shape as the argument and are flattened by a
// reshape (a view, no copy). Another element count leaves the label [N],
// which dpc then reports as a mismatch with --label.

// SEQ-LABEL: func.func @train_step(
// SEQ-SAME: %[[Y:[^:]*]]: tensor<2x4xi64> {dpc.kind = "label", dpc.name = "label"})
// SEQ: %[[F:.*]] = nn.reshape %[[Y]] : tensor<2x4xi64> to tensor<8xi64>
// SEQ-NEXT: nn.cross_entropy %{{.*}}, %[[F]] : tensor<8x16xf32>, tensor<8xi64>

// FLAT-LABEL: func.func @train_step(
// FLAT-SAME: %[[Y:[^:]*]]: tensor<8xi64> {dpc.kind = "label", dpc.name = "label"})
// FLAT-NOT: nn.reshape {{.*}}xi64>
// FLAT: nn.cross_entropy %{{.*}}, %[[Y]] : tensor<8x16xf32>, tensor<8xi64>
func.func @forward(%x: tensor<2x4x16xf32> {dpc.kind = "input", dpc.name = "x"})
    -> tensor<8x16xf32> {
  %0 = nn.reshape %x : tensor<2x4x16xf32> to tensor<8x16xf32>
  return %0 : tensor<8x16xf32>
}
