// RUN: %dpc-opt %s -split-input-file -verify-diagnostics | FileCheck %s

// The pointwise members of the elementwise unary family (NN_UnaryOp): ops
// with parameters carry them as f64 attributes named as torch's arguments,
// and nn.unary_grad names the op whose gradient formula it computes.

// CHECK-LABEL: func.func @pointwise(
// CHECK-SAME: %[[X:.*]]: tensor<2x3xf32>)
// CHECK-NEXT: %[[R:.*]] = nn.rsqrt %[[X]] : tensor<2x3xf32>
// CHECK-NEXT: %[[L:.*]] = nn.leaky_relu %[[R]] {negative_slope = 2.000000e-01 : f64} : tensor<2x3xf32>
// CHECK-NEXT: %[[C:.*]] = nn.clamp %[[L]] {max = 0x7FF0000000000000 : f64, min = -5.000000e-01 : f64} : tensor<2x3xf32>
// CHECK-NEXT: %[[P:.*]] = nn.pow_scalar %[[C]] {exponent = 2.500000e+00 : f64} : tensor<2x3xf32>
// CHECK-NEXT: %[[G:.*]] = nn.unary_grad %[[P]], %[[X]] {forward = "leaky_relu", parameters = array<f64: 2.000000e-01>} : tensor<2x3xf32>
// CHECK-NEXT: return %[[G]]
func.func @pointwise(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %r = nn.rsqrt %x : tensor<2x3xf32>
  %l = nn.leaky_relu %r {negative_slope = 0.2 : f64} : tensor<2x3xf32>
  %c = nn.clamp %l {min = -0.5 : f64, max = 0x7FF0000000000000 : f64} : tensor<2x3xf32>
  %p = nn.pow_scalar %c {exponent = 2.5 : f64} : tensor<2x3xf32>
  %g = nn.unary_grad %p, %x {forward = "leaky_relu", parameters = array<f64: 0.2>} : tensor<2x3xf32>
  return %g : tensor<2x3xf32>
}

// -----

// A parameter is required.
func.func @leaky_relu_without_slope(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{requires attribute 'negative_slope'}}
  %y = nn.leaky_relu %x : tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

func.func @unary_grad_of_unknown_op(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{unary_grad: 'nn.linear' is not an elementwise unary op}}
  %y = nn.unary_grad %x, %x {forward = "linear", parameters = array<f64>} : tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

func.func @unary_grad_parameter_count(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{unary_grad: nn.hardtanh has 2 parameters, got 1}}
  %y = nn.unary_grad %x, %x {forward = "hardtanh", parameters = array<f64: 1.0>} : tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// The binary records maximum, minimum and pow broadcast like add; where
// takes operands of one shape.
// CHECK-LABEL: func.func @select_and_extremes(
// CHECK-SAME: %[[A:[^:]*]]: tensor<2x3xf32>, %[[B:[^:]*]]: tensor<3xf32>, %[[M:[^:]*]]: tensor<2x3xf32>)
// CHECK-NEXT: %[[MAX:.*]] = nn.maximum %[[A]], %[[B]] : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT: %[[MIN:.*]] = nn.minimum %[[B]], %[[A]] : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT: %[[POW:.*]] = nn.pow %[[MAX]], %[[MIN]] : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT: %[[W:.*]] = nn.where %[[M]], %[[POW]], %[[A]] : tensor<2x3xf32>
// CHECK-NEXT: return %[[W]]
func.func @select_and_extremes(%a: tensor<2x3xf32>, %b: tensor<3xf32>,
                               %m: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %max = nn.maximum %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %min = nn.minimum %b, %a : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %pow = nn.pow %max, %min : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %w = nn.where %m, %pow, %a : tensor<2x3xf32>
  return %w : tensor<2x3xf32>
}

// -----

func.func @where_of_mismatched_shapes(%m: tensor<3xf32>, %a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'nn.where' op failed to verify that all of {condition, lhs, rhs} have same type}}
  %w = "nn.where"(%m, %a, %a) : (tensor<3xf32>, tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  return %w : tensor<2x3xf32>
}
