// RUN: %dpc-opt %s -split-input-file --dpc-build-train-step | FileCheck %s --check-prefix=CE
// RUN: %dpc-opt %s -split-input-file --dpc-build-train-step="loss=cross_entropy" | FileCheck %s --check-prefix=CE
// RUN: %dpc-opt %s -split-input-file --dpc-build-train-step="loss=mse label-name=target" | FileCheck %s --check-prefix=MSE

// @forward becomes @train_step: the label is appended after all other
// arguments, the loss is applied to the output, and the single result is the
// scalar loss. The label's type follows from the loss: i64 class indices [N]
// for cross_entropy on [N, C] logits, the output's own type for mse.

// CE-LABEL: func.func @train_step(
// CE-SAME: %[[X:[^:]*]]: tensor<4x8xf32> {dpc.kind = "input", dpc.name = "x"},
// CE-SAME: %[[W:[^:]*]]: tensor<10x8xf32> {dpc.kind = "parameter", dpc.name = "fc.weight"},
// CE-SAME: %[[B:[^:]*]]: tensor<10xf32> {dpc.kind = "parameter", dpc.name = "fc.bias"},
// CE-SAME: %[[LABEL:[^:]*]]: tensor<4xi64> {dpc.kind = "label", dpc.name = "label"})
// CE-SAME: -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"})
// CE-NEXT: %[[Y:.*]] = nn.linear %[[X]], %[[W]], %[[B]]
// CE-NEXT: %[[LOSS:.*]] = nn.cross_entropy %[[Y]], %[[LABEL]] : tensor<4x10xf32>, tensor<4xi64>
// CE-NEXT: return %[[LOSS]] : tensor<f32>
// CE-NOT: func.func @forward

// MSE-LABEL: func.func @train_step(
// MSE-SAME: %[[X:[^:]*]]: tensor<4x8xf32> {dpc.kind = "input", dpc.name = "x"},
// MSE-SAME: %[[W:[^:]*]]: tensor<10x8xf32> {dpc.kind = "parameter", dpc.name = "fc.weight"},
// MSE-SAME: %[[B:[^:]*]]: tensor<10xf32> {dpc.kind = "parameter", dpc.name = "fc.bias"},
// MSE-SAME: %[[LABEL:[^:]*]]: tensor<4x10xf32> {dpc.kind = "label", dpc.name = "target"})
// MSE-SAME: -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"})
// MSE-NEXT: %[[Y:.*]] = nn.linear %[[X]], %[[W]], %[[B]]
// MSE-NEXT: %[[LOSS:.*]] = nn.mse_loss %[[Y]], %[[LABEL]] : tensor<4x10xf32>
// MSE-NEXT: return %[[LOSS]] : tensor<f32>
func.func @forward(%x: tensor<4x8xf32> {dpc.kind = "input", dpc.name = "x"},
                   %w: tensor<10x8xf32> {dpc.kind = "parameter", dpc.name = "fc.weight"},
                   %b: tensor<10xf32> {dpc.kind = "parameter", dpc.name = "fc.bias"})
    -> tensor<4x10xf32> {
  %0 = nn.linear %x, %w, %b : (tensor<4x8xf32>, tensor<10x8xf32>, tensor<10xf32>) -> tensor<4x10xf32>
  return %0 : tensor<4x10xf32>
}

// -----

// Other functions of the module are left alone, and the label of
// cross_entropy takes the batch size from the logits.

// CE-LABEL: func.func private @helper(tensor<3xf32>) -> tensor<3xf32>
// CE-LABEL: func.func @train_step(
// CE-SAME: %{{[^:]*}}: tensor<7x3xf32> {dpc.kind = "input", dpc.name = "x"},
// CE-SAME: %{{[^:]*}}: tensor<7xi64> {dpc.kind = "label", dpc.name = "label"})
// CE-NEXT: nn.relu
// CE-NEXT: nn.cross_entropy %{{.*}}, %{{.*}} : tensor<7x3xf32>, tensor<7xi64>

// MSE-LABEL: func.func private @helper(tensor<3xf32>) -> tensor<3xf32>
// MSE-LABEL: func.func @train_step(
// MSE-SAME: %{{[^:]*}}: tensor<7x3xf32> {dpc.kind = "input", dpc.name = "x"},
// MSE-SAME: %{{[^:]*}}: tensor<7x3xf32> {dpc.kind = "label", dpc.name = "target"})
func.func private @helper(tensor<3xf32>) -> tensor<3xf32>
func.func @forward(%x: tensor<7x3xf32> {dpc.kind = "input", dpc.name = "x"}) -> tensor<7x3xf32> {
  %0 = nn.relu %x : tensor<7x3xf32>
  return %0 : tensor<7x3xf32>
}
