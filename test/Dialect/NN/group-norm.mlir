// RUN: %dpc-opt %s -split-input-file -verify-diagnostics | FileCheck %s

// nn.group_norm and nn.group_norm_grad: input [N, C, *] with per-channel
// weight and bias [C], C divisible by num_groups; results keep the input's
// type (and the weight's for the parameter gradients).

// CHECK-LABEL: func.func @group_norm(
// CHECK: %[[Y:.*]] = nn.group_norm %{{.*}}, %{{.*}}, %{{.*}} {eps = 9.99999974E-6 : f32, num_groups = 2 : i64} : (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x4x3x3xf32>
// CHECK: nn.group_norm_grad %{{.*}}, %{{.*}}, %{{.*}} {eps = 9.99999974E-6 : f32, num_groups = 2 : i64} : (tensor<2x4x3x3xf32>, tensor<2x4x3x3xf32>, tensor<4xf32>) -> (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>)
func.func @group_norm(%x: tensor<2x4x3x3xf32>, %w: tensor<4xf32>, %b: tensor<4xf32>) -> (tensor<2x4x3x3xf32>, tensor<4xf32>) {
  %y = nn.group_norm %x, %w, %b {num_groups = 2 : i64, eps = 1.0e-05 : f32} : (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x4x3x3xf32>
  %dx, %dw, %db = nn.group_norm_grad %y, %x, %w {num_groups = 2 : i64, eps = 1.0e-05 : f32} : (tensor<2x4x3x3xf32>, tensor<2x4x3x3xf32>, tensor<4xf32>) -> (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>)
  return %dx, %dw : tensor<2x4x3x3xf32>, tensor<4xf32>
}

// -----

// 1-d inputs [N, C, L] too.
// CHECK-LABEL: func.func @group_norm_1d(
// CHECK: nn.group_norm {{.*}} -> tensor<2x6x5xf32>
func.func @group_norm_1d(%x: tensor<2x6x5xf32>, %w: tensor<6xf32>) -> tensor<2x6x5xf32> {
  %y = nn.group_norm %x, %w, %w {num_groups = 3 : i64, eps = 1.0e-05 : f32} : (tensor<2x6x5xf32>, tensor<6xf32>, tensor<6xf32>) -> tensor<2x6x5xf32>
  return %y : tensor<2x6x5xf32>
}

// -----

func.func @group_norm_indivisible(%x: tensor<2x6x5xf32>, %w: tensor<6xf32>) -> tensor<2x6x5xf32> {
  // expected-error @below {{group_norm: expected the 6 channels of [2, 6, 5] to be divisible by num_groups = 4}}
  // expected-error @below {{failed to infer returned types}}
  %y = nn.group_norm %x, %w, %w {num_groups = 4 : i64, eps = 1.0e-05 : f32} : (tensor<2x6x5xf32>, tensor<6xf32>, tensor<6xf32>) -> tensor<2x6x5xf32>
  return %y : tensor<2x6x5xf32>
}

// -----

func.func @group_norm_weight_shape(%x: tensor<2x6x5xf32>, %w: tensor<5xf32>) -> tensor<2x6x5xf32> {
  // expected-error @below {{group_norm: expected per-channel operands of shape [6] for input [2, 6, 5], got [5]}}
  // expected-error @below {{failed to infer returned types}}
  %y = nn.group_norm %x, %w, %w {num_groups = 3 : i64, eps = 1.0e-05 : f32} : (tensor<2x6x5xf32>, tensor<5xf32>, tensor<5xf32>) -> tensor<2x6x5xf32>
  return %y : tensor<2x6x5xf32>
}

// -----

func.func @group_norm_rank(%x: tensor<6xf32>, %w: tensor<6xf32>) -> tensor<6xf32> {
  // expected-error @below {{group_norm: expected an input [N, C, ...], got [6]}}
  // expected-error @below {{failed to infer returned types}}
  %y = nn.group_norm %x, %w, %w {num_groups = 3 : i64, eps = 1.0e-05 : f32} : (tensor<6xf32>, tensor<6xf32>, tensor<6xf32>) -> tensor<6xf32>
  return %y : tensor<6xf32>
}

// -----

func.func @group_norm_zero_groups(%x: tensor<2x6x5xf32>, %w: tensor<6xf32>) -> tensor<2x6x5xf32> {
  // expected-error @+1 {{attribute 'num_groups' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %y = nn.group_norm %x, %w, %w {num_groups = 0 : i64, eps = 1.0e-05 : f32} : (tensor<2x6x5xf32>, tensor<6xf32>, tensor<6xf32>) -> tensor<2x6x5xf32>
  return %y : tensor<2x6x5xf32>
}

// -----

func.func @group_norm_grad_mismatch(%g: tensor<2x6x4xf32>, %x: tensor<2x6x5xf32>, %w: tensor<6xf32>) -> tensor<2x6x5xf32> {
  // expected-error @below {{group_norm_grad: gradient 'tensor<2x6x4xf32>' and input 'tensor<2x6x5xf32>' differ}}
  // expected-error @below {{failed to infer returned types}}
  %dx, %dw, %db = nn.group_norm_grad %g, %x, %w {num_groups = 3 : i64, eps = 1.0e-05 : f32} : (tensor<2x6x4xf32>, tensor<2x6x5xf32>, tensor<6xf32>) -> (tensor<2x6x5xf32>, tensor<6xf32>, tensor<6xf32>)
  return %dx : tensor<2x6x5xf32>
}
