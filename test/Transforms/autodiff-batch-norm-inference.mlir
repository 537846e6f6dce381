// RUN: %dpc-opt %s --dpc-autodiff --canonicalize | FileCheck %s

// The VJP of an evaluation-mode BatchNorm: nn.batch_norm_inference_grad
// with the running statistics the forward read; the weight and bias get
// gradients, the running statistics (buffers, not updated: no buffer
// result) none.

// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: %[[X:[^:]*]]: tensor<4x3x2x2xf32> {dpc.kind = "input", dpc.name = "x"},
// CHECK-SAME: %[[W:[^:]*]]: tensor<3xf32> {dpc.kind = "parameter", dpc.name = "bn.weight"},
// CHECK-SAME: %[[B:[^:]*]]: tensor<3xf32> {dpc.kind = "parameter", dpc.name = "bn.bias"},
// CHECK-SAME: %[[RM:[^:]*]]: tensor<3xf32> {dpc.kind = "buffer", dpc.name = "bn.running_mean"},
// CHECK-SAME: %[[RV:[^:]*]]: tensor<3xf32> {dpc.kind = "buffer", dpc.name = "bn.running_var"},
// CHECK-SAME: -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"},
// CHECK-SAME: tensor<3xf32> {dpc.kind = "gradient", dpc.name = "bn.weight", dpc.parameter = "bn.weight"},
// CHECK-SAME: tensor<3xf32> {dpc.kind = "gradient", dpc.name = "bn.bias", dpc.parameter = "bn.bias"})
// CHECK: %[[Y:.*]] = nn.batch_norm_inference %[[X]], %[[W]], %[[B]], %[[RM]], %[[RV]] {eps = 1.000000e-05 : f64}
// CHECK: %[[DY:.*]] = nn.mse_loss_grad
// CHECK: %{{[^,]*}}, %[[DW:[^,]*]], %[[DB:[^ ]*]] = nn.batch_norm_inference_grad %[[DY]], %[[X]], %[[W]], %[[RM]], %[[RV]] {eps = 1.000000e-05 : f64}
// CHECK: return %{{.*}}, %[[DW]], %[[DB]] :
func.func @train_step(
    %x: tensor<4x3x2x2xf32> {dpc.kind = "input", dpc.name = "x"},
    %w: tensor<3xf32> {dpc.kind = "parameter", dpc.name = "bn.weight"},
    %b: tensor<3xf32> {dpc.kind = "parameter", dpc.name = "bn.bias"},
    %rm: tensor<3xf32> {dpc.kind = "buffer", dpc.name = "bn.running_mean"},
    %rv: tensor<3xf32> {dpc.kind = "buffer", dpc.name = "bn.running_var"},
    %t: tensor<4x3x2x2xf32> {dpc.kind = "label", dpc.name = "y"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"}) {
  %y = nn.batch_norm_inference %x, %w, %b, %rm, %rv {eps = 1.0e-5}
      : (tensor<4x3x2x2xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<4x3x2x2xf32>
  %loss = nn.mse_loss %y, %t : tensor<4x3x2x2xf32>
  return %loss : tensor<f32>
}
