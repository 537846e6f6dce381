// RUN: %dpc-opt %s --dpc-autodiff | FileCheck %s

// The VJP of a unary record with a gradient formula is nn.unary_grad of the
// value torch's derivative reads: the result for sqrt (grad / (2 * result)),
// the input for leaky_relu, with the forward's parameters.

// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: %[[X:[^:]*]]: tensor<4x8xf32> {dpc.kind = "input", dpc.name = "x"},
// CHECK: %[[H:.*]] = nn.linear %[[X]]
// CHECK-NEXT: %[[L:.*]] = nn.leaky_relu %[[H]] {negative_slope = 1.000000e-01 : f64} : tensor<4x3xf32>
// CHECK-NEXT: %[[S:.*]] = nn.sqrt %[[L]] : tensor<4x3xf32>
// CHECK-NEXT: %[[LOSS:.*]] = nn.mse_loss %[[S]], %[[LABEL:[^ ]*]]
// CHECK-NEXT: %[[SEED:.*]] = nn.fill
// CHECK-NEXT: %[[DS:.*]] = nn.mse_loss_grad %[[SEED]], %[[S]], %[[LABEL]]
// CHECK-NEXT: %[[DL:.*]] = nn.unary_grad %[[DS]], %[[S]] {forward = "sqrt", parameters = array<f64>} : tensor<4x3xf32>
// CHECK-NEXT: %[[DH:.*]] = nn.unary_grad %[[DL]], %[[H]] {forward = "leaky_relu", parameters = array<f64: 1.000000e-01>} : tensor<4x3xf32>
// CHECK-NEXT: nn.matmul %[[DH]], %[[X]] {transpose_lhs}
func.func @train_step(
    %x: tensor<4x8xf32> {dpc.kind = "input", dpc.name = "x"},
    %w: tensor<3x8xf32> {dpc.kind = "parameter", dpc.name = "fc.weight"},
    %y: tensor<4x3xf32> {dpc.kind = "label", dpc.name = "y"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"}) {
  %h = nn.linear %x, %w : (tensor<4x8xf32>, tensor<3x8xf32>) -> tensor<4x3xf32>
  %l = nn.leaky_relu %h {negative_slope = 0.1 : f64} : tensor<4x3xf32>
  %s = nn.sqrt %l : tensor<4x3xf32>
  %loss = nn.mse_loss %s, %y : tensor<4x3xf32>
  return %loss : tensor<f32>
}
