// RUN: %dpc-opt %s --dpc-autodiff | FileCheck %s

// exp's VJP is torch's: the incoming gradient times the forward's result
// (dx = dy * exp(x), no recomputation of exp).

// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: %[[X:[^:]*]]: tensor<4x8xf32> {dpc.kind = "input", dpc.name = "x"},
// CHECK-SAME: %[[W:[^:]*]]: tensor<3x8xf32> {dpc.kind = "parameter", dpc.name = "fc.weight"},
// CHECK: %[[H:.*]] = nn.linear %[[X]], %[[W]]
// CHECK-NEXT: %[[E:.*]] = nn.exp %[[H]] : tensor<4x3xf32>
// CHECK-NEXT: %[[LOSS:.*]] = nn.mse_loss %[[E]], %[[LABEL:[^ ]*]]
// CHECK-NEXT: %[[SEED:.*]] = nn.fill
// CHECK-NEXT: %[[DE:.*]] = nn.mse_loss_grad %[[SEED]], %[[E]], %[[LABEL]]
// CHECK-NEXT: %[[DH:.*]] = nn.mul %[[DE]], %[[E]] : (tensor<4x3xf32>, tensor<4x3xf32>) -> tensor<4x3xf32>
// CHECK-NEXT: nn.matmul %[[DH]], %[[X]] {transpose_lhs}
func.func @train_step(
    %x: tensor<4x8xf32> {dpc.kind = "input", dpc.name = "x"},
    %w: tensor<3x8xf32> {dpc.kind = "parameter", dpc.name = "fc.weight"},
    %y: tensor<4x3xf32> {dpc.kind = "label", dpc.name = "y"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"}) {
  %h = nn.linear %x, %w : (tensor<4x8xf32>, tensor<3x8xf32>) -> tensor<4x3xf32>
  %e = nn.exp %h : tensor<4x3xf32>
  %loss = nn.mse_loss %e, %y : tensor<4x3xf32>
  return %loss : tensor<f32>
}
