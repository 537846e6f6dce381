// RUN: %dpc-opt %s --dpc-build-train-step="loss=none" | FileCheck %s

// With loss=none the forward already computes the loss: no label argument is
// added and the forward's scalar result becomes the loss.

// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: %[[X:[^:]*]]: tensor<4x8xf32> {dpc.kind = "input", dpc.name = "x"},
// CHECK-SAME: %[[Y:[^:]*]]: tensor<4x8xf32> {dpc.kind = "input", dpc.name = "y"},
// CHECK-SAME: %[[W:[^:]*]]: tensor<8xf32> {dpc.kind = "parameter", dpc.name = "w"})
// CHECK-SAME: -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"})
// CHECK-NEXT: %[[P:.*]] = nn.mul %[[X]], %[[W]]
// CHECK-NEXT: %[[L:.*]] = nn.mse_loss %[[P]], %[[Y]]
// CHECK-NOT: nn.cross_entropy
// CHECK-NOT: nn.mse_loss
// CHECK-NEXT: return %[[L]] : tensor<f32>
func.func @forward(%x: tensor<4x8xf32> {dpc.kind = "input", dpc.name = "x"},
                   %y: tensor<4x8xf32> {dpc.kind = "input", dpc.name = "y"},
                   %w: tensor<8xf32> {dpc.kind = "parameter", dpc.name = "w"}) -> tensor<f32> {
  %0 = nn.mul %x, %w : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %1 = nn.mse_loss %0, %y : tensor<4x8xf32>
  return %1 : tensor<f32>
}
