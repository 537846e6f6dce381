// Language-model logits [B, T, V] take labels [B, T], the class dim last
// (F.cross_entropy(logits.view(-1, V), y.view(-1))): both are flattened by
// views, whether the label shape is derived or given.
// RUN: %dpc-opt %s --dpc-build-train-step | FileCheck %s
// RUN: %dpc-opt %s --dpc-build-train-step="label-shape=2,4 label-dtype=i64" | FileCheck %s
// Labels [B, V] would read dim 1 as the classes (F.cross_entropy(logits, y)).
// RUN: not %dpc-opt %s --dpc-build-train-step="label-name=y label-shape=2,8 label-dtype=i64" 2>&1 \
// RUN:     | FileCheck %s --check-prefix=CLASSDIM

// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: %[[X:[^:]*]]: tensor<2x4x8xf32>
// CHECK-SAME: %[[Y:[^:]*]]: tensor<2x4xi64> {dpc.kind = "label", dpc.name = "label"}
// CHECK: %[[LOGITS:.*]] = nn.relu %[[X]]
// CHECK-NEXT: %[[ROWS:.*]] = nn.reshape %[[LOGITS]] : tensor<2x4x8xf32> to tensor<8x8xf32>
// CHECK-NEXT: %[[FLAT:.*]] = nn.reshape %[[Y]] : tensor<2x4xi64> to tensor<8xi64>
// CHECK-NEXT: %[[LOSS:.*]] = nn.cross_entropy %[[ROWS]], %[[FLAT]]
// CHECK-NEXT: return %[[LOSS]] : tensor<f32>
// CLASSDIM: error: --label y:i64[2,8] reads dim 1 of the logits 'tensor<2x4x8xf32>' as the classes
func.func @forward(%x: tensor<2x4x8xf32> {dpc.kind = "input", dpc.name = "x"}) -> tensor<2x4x8xf32> {
  %0 = nn.relu %x : tensor<2x4x8xf32>
  return %0 : tensor<2x4x8xf32>
}
