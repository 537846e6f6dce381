// RUN: %dpc-opt %s --dpc-autodiff | FileCheck %s

// nn.detach (x.detach(), values computed under torch.no_grad()) stops the
// gradient: of loss(h * detach(h)) the gradient reaching h is d * detach(h)
// only, not also d * h through the detached factor, and a parameter read
// only through nn.detach gets none (dpc.unused).

// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: %[[X:[^:]*]]: tensor<4x8xf32> {dpc.kind = "input", dpc.name = "x"},
// CHECK-SAME: %[[W:[^:]*]]: tensor<3x8xf32> {dpc.kind = "parameter", dpc.name = "fc.weight"},
// CHECK-SAME: {dpc.kind = "parameter", dpc.name = "gate", dpc.unused}
// CHECK-SAME: -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"}, tensor<3x8xf32> {dpc.kind = "gradient", dpc.name = "fc.weight", dpc.parameter = "fc.weight"})
// CHECK: %[[H:.*]] = nn.linear %[[X]], %[[W]]
// CHECK-NEXT: %[[D:.*]] = nn.detach %[[H]] : tensor<4x3xf32>
// CHECK-NEXT: %[[G:.*]] = nn.detach %{{.*}} : tensor<4x3xf32>
// CHECK-NEXT: %[[P:.*]] = nn.mul %[[H]], %[[D]]
// CHECK-NEXT: %[[Q:.*]] = nn.mul %[[P]], %[[G]]
// CHECK-NEXT: %[[LOSS:.*]] = nn.mse_loss %[[Q]]
// CHECK-NEXT: %[[SEED:.*]] = nn.fill
// CHECK-NEXT: %[[DQ:.*]] = nn.mse_loss_grad %[[SEED]], %[[Q]]
// CHECK-NEXT: %[[DP:.*]] = nn.mul %[[DQ]], %[[G]]
// CHECK-NEXT: %[[DH:.*]] = nn.mul %[[DP]], %[[D]]
// CHECK-NEXT: %[[DW:.*]] = nn.matmul %[[DH]], %[[X]] {transpose_lhs}
// CHECK-NEXT: return %[[LOSS]], %[[DW]]
func.func @train_step(
    %x: tensor<4x8xf32> {dpc.kind = "input", dpc.name = "x"},
    %w: tensor<3x8xf32> {dpc.kind = "parameter", dpc.name = "fc.weight"},
    %gate: tensor<4x3xf32> {dpc.kind = "parameter", dpc.name = "gate"},
    %y: tensor<4x3xf32> {dpc.kind = "label", dpc.name = "y"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"}) {
  %h = nn.linear %x, %w : (tensor<4x8xf32>, tensor<3x8xf32>) -> tensor<4x3xf32>
  %d = nn.detach %h : tensor<4x3xf32>
  %g = nn.detach %gate : tensor<4x3xf32>
  %p = nn.mul %h, %d : (tensor<4x3xf32>, tensor<4x3xf32>) -> tensor<4x3xf32>
  %q = nn.mul %p, %g : (tensor<4x3xf32>, tensor<4x3xf32>) -> tensor<4x3xf32>
  %loss = nn.mse_loss %q, %y : tensor<4x3xf32>
  return %loss : tensor<f32>
}
