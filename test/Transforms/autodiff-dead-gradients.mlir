// Regression test: dpc-autodiff leaves no dead ops. buildVJP creates a
// gradient for every operand (here `dx = dY W` for the input x and `-dY` for
// the mse label); the pass erases those of inactive operands, and it does
// not call a VJP at all when no parameter reaches the op, so inputs and
// labels cost no work and no arena space (even without canonicalize).
// RUN: %dpc-opt %s -split-input-file --dpc-autodiff | FileCheck %s

// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: %[[X:[^:]*]]: tensor<4x8xf32> {dpc.kind = "input", dpc.name = "x"},
// CHECK-SAME: %[[W:[^:]*]]: tensor<16x8xf32> {dpc.kind = "parameter", dpc.name = "fc.weight"},
// CHECK-SAME: %[[T:[^:]*]]: tensor<4x16xf32> {dpc.kind = "label", dpc.name = "label"})
// CHECK-NEXT: %[[Y:.*]] = nn.linear %[[X]], %[[W]]
// CHECK-NEXT: %[[LOSS:.*]] = nn.mse_loss %[[Y]], %[[T]]
// CHECK-NEXT: %[[SEED:.*]] = nn.fill 1.000000e+00 : tensor<f32>
// CHECK-NEXT: %[[DY:.*]] = nn.mse_loss_grad %[[SEED]], %[[Y]], %[[T]]
// CHECK-NEXT: %[[DW:.*]] = nn.matmul %[[DY]], %[[X]] {transpose_lhs} : (tensor<4x16xf32>, tensor<4x8xf32>) -> tensor<16x8xf32>
// CHECK-NEXT: return %[[LOSS]], %[[DW]] : tensor<f32>, tensor<16x8xf32>
func.func @train_step(%x: tensor<4x8xf32> {dpc.kind = "input", dpc.name = "x"},
                      %w: tensor<16x8xf32> {dpc.kind = "parameter", dpc.name = "fc.weight"},
                      %t: tensor<4x16xf32> {dpc.kind = "label", dpc.name = "label"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"}) {
  %0 = nn.linear %x, %w : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %1 = nn.mse_loss %0, %t : tensor<4x16xf32>
  return %1 : tensor<f32>
}

// -----

// No parameter reaches the loss: no backward op at all.
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: %{{[^:]*}}: tensor<4x8xf32> {dpc.kind = "parameter", dpc.name = "p", dpc.unused},
// CHECK-NEXT: %[[LOSS:.*]] = nn.mse_loss
// CHECK-NOT: nn.mse_loss_grad
// CHECK-NOT: nn.scale
// CHECK: return %[[LOSS]] : tensor<f32>
func.func @train_step(%p: tensor<4x8xf32> {dpc.kind = "parameter", dpc.name = "p"},
                      %x: tensor<4x8xf32> {dpc.kind = "input", dpc.name = "x"},
                      %t: tensor<4x8xf32> {dpc.kind = "label", dpc.name = "label"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"}) {
  %0 = nn.mse_loss %x, %t : tensor<4x8xf32>
  return %0 : tensor<f32>
}
