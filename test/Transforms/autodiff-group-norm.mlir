// RUN: %dpc-opt %s --dpc-autodiff | FileCheck %s

// group_norm's VJP is one nn.group_norm_grad (torch's
// native_group_norm_backward) from the forward's input and weight, with the
// forward's num_groups and eps: it gives the input, weight and bias
// gradients.

// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: %[[X:[^:]*]]: tensor<2x4x3x3xf32> {dpc.kind = "input", dpc.name = "x"},
// CHECK-SAME: %[[W:[^:]*]]: tensor<4xf32> {dpc.kind = "parameter", dpc.name = "gn.weight"},
// CHECK-SAME: %[[B:[^:]*]]: tensor<4xf32> {dpc.kind = "parameter", dpc.name = "gn.bias"},
// CHECK: %[[Y:.*]] = nn.group_norm %[[X]], %[[W]], %[[B]] {eps = 9.99999974E-6 : f32, num_groups = 2 : i64}
// CHECK: %[[DY:.*]] = nn.mse_loss_grad
// CHECK-NEXT: %[[DX:.*]], %[[DW:.*]], %[[DB:.*]] = nn.group_norm_grad %[[DY]], %[[X]], %[[W]] {eps = 9.99999974E-6 : f32, num_groups = 2 : i64}
// CHECK: return %{{.*}}, %[[DW]], %[[DB]]
func.func @train_step(
    %x: tensor<2x4x3x3xf32> {dpc.kind = "input", dpc.name = "x"},
    %w: tensor<4xf32> {dpc.kind = "parameter", dpc.name = "gn.weight"},
    %b: tensor<4xf32> {dpc.kind = "parameter", dpc.name = "gn.bias"},
    %y: tensor<2x4x3x3xf32> {dpc.kind = "label", dpc.name = "y"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"}) {
  %n = nn.group_norm %x, %w, %b {num_groups = 2 : i64, eps = 1.0e-05 : f32} : (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x4x3x3xf32>
  %loss = nn.mse_loss %n, %y : tensor<2x4x3x3xf32>
  return %loss : tensor<f32>
}
