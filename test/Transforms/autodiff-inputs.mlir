// RUN: %dpc-opt %s --dpc-autodiff --canonicalize | FileCheck %s

// Inputs and labels, and values computed only from them, get no gradient:
// the backward pass below is exactly the ops the weight's gradient needs.
// (dpc runs canonicalize after dpc-autodiff, as here; see
// autodiff-dead-gradients.mlir for the pass alone.)

// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: %[[X:[^:]*]]: tensor<4x8xf32> {dpc.kind = "input", dpc.name = "x"},
// CHECK-SAME: %[[W:[^:]*]]: tensor<16x8xf32> {dpc.kind = "parameter", dpc.name = "fc.weight"},
// CHECK-SAME: %[[T:[^:]*]]: tensor<4x16xf32> {dpc.kind = "label", dpc.name = "label"})
// CHECK-NEXT: %[[R:.*]] = nn.relu %[[X]]
// CHECK-NEXT: %[[Y:.*]] = nn.linear %[[R]], %[[W]]
// CHECK-NEXT: %[[LOSS:.*]] = nn.mse_loss %[[Y]], %[[T]]
// CHECK-NEXT: %[[SEED:.*]] = nn.fill 1.000000e+00 : tensor<f32>
// CHECK-NEXT: %[[DY:.*]] = nn.mse_loss_grad %[[SEED]], %[[Y]], %[[T]]
// CHECK-NEXT: %[[DW:.*]] = nn.matmul %[[DY]], %[[R]] {transpose_lhs} : (tensor<4x16xf32>, tensor<4x8xf32>) -> tensor<16x8xf32>
// CHECK-NEXT: return %[[LOSS]], %[[DW]] : tensor<f32>, tensor<16x8xf32>
func.func @train_step(%x: tensor<4x8xf32> {dpc.kind = "input", dpc.name = "x"},
                      %w: tensor<16x8xf32> {dpc.kind = "parameter", dpc.name = "fc.weight"},
                      %t: tensor<4x16xf32> {dpc.kind = "label", dpc.name = "label"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"}) {
  %0 = nn.relu %x : tensor<4x8xf32>
  %1 = nn.linear %0, %w : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %2 = nn.mse_loss %1, %t : tensor<4x16xf32>
  return %2 : tensor<f32>
}
