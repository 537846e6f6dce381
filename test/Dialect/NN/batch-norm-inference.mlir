// RUN: %dpc-opt %s -split-input-file -verify-diagnostics | FileCheck %s

// nn.batch_norm_inference (a BatchNorm in .eval()) and its backward op
// round-trip; the result has the input's type, the backward the input's and
// two per-channel ones.

// CHECK-LABEL: func.func @batch_norm_inference(
// CHECK-SAME: %[[X:[^:]*]]: tensor<8x3x4x4xf32>, %[[W:[^:]*]]: tensor<3xf32>, %[[B:[^:]*]]: tensor<3xf32>, %[[RM:[^:]*]]: tensor<3xf32>, %[[RV:[^:]*]]: tensor<3xf32>, %[[DY:[^:]*]]: tensor<8x3x4x4xf32>
// CHECK: nn.batch_norm_inference %[[X]], %[[W]], %[[B]], %[[RM]], %[[RV]] {eps = 1.000000e-05 : f64} : (tensor<8x3x4x4xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<8x3x4x4xf32>
// CHECK: nn.batch_norm_inference_grad %[[DY]], %[[X]], %[[W]], %[[RM]], %[[RV]] {eps = 1.000000e-05 : f64} : (tensor<8x3x4x4xf32>, tensor<8x3x4x4xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> (tensor<8x3x4x4xf32>, tensor<3xf32>, tensor<3xf32>)
func.func @batch_norm_inference(%x: tensor<8x3x4x4xf32>, %w: tensor<3xf32>, %b: tensor<3xf32>,
                                %rm: tensor<3xf32>, %rv: tensor<3xf32>, %dy: tensor<8x3x4x4xf32>) {
  %y = nn.batch_norm_inference %x, %w, %b, %rm, %rv {eps = 1.0e-5}
      : (tensor<8x3x4x4xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<8x3x4x4xf32>
  %dx, %dw, %db = nn.batch_norm_inference_grad %dy, %x, %w, %rm, %rv {eps = 1.0e-5}
      : (tensor<8x3x4x4xf32>, tensor<8x3x4x4xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>)
      -> (tensor<8x3x4x4xf32>, tensor<3xf32>, tensor<3xf32>)
  return
}

// -----

// One value per channel is fine in evaluation mode (nothing is estimated).
// CHECK-LABEL: func.func @single_value
func.func @single_value(%x: tensor<1x3xf32>, %p: tensor<3xf32>) -> tensor<1x3xf32> {
  %y = nn.batch_norm_inference %x, %p, %p, %p, %p {eps = 0.0}
      : (tensor<1x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<1x3xf32>
  return %y : tensor<1x3xf32>
}

// -----

func.func @wrong_channels(%x: tensor<8x3x4x4xf32>, %p: tensor<4xf32>) -> tensor<8x3x4x4xf32> {
  // expected-error @+2 {{batch_norm_inference: expected per-channel operands of shape [3] for input [8, 3, 4, 4], got [4]}}
  // expected-error @+1 {{'nn.batch_norm_inference' op failed to infer returned types}}
  %y = nn.batch_norm_inference %x, %p, %p, %p, %p {eps = 1.0e-5}
      : (tensor<8x3x4x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<8x3x4x4xf32>
  return %y : tensor<8x3x4x4xf32>
}

// -----

func.func @negative_eps(%x: tensor<8x3xf32>, %p: tensor<3xf32>) -> tensor<8x3xf32> {
  // expected-error @+1 {{eps must be non-negative, got -1}}
  %y = nn.batch_norm_inference %x, %p, %p, %p, %p {eps = -1.0}
      : (tensor<8x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<8x3xf32>
  return %y : tensor<8x3xf32>
}
