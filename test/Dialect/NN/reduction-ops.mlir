// RUN: %dpc-opt %s -split-input-file -verify-diagnostics | FileCheck %s

// nn.amax, nn.amin and nn.logsumexp reduce over sorted, distinct,
// non-empty dims, with or without keepdim; nn.cumsum keeps its input's type.

// CHECK-LABEL: func.func @extrema(
// CHECK: nn.amax %{{.*}} {dims = array<i64: 1>} : tensor<4x8xf32> -> tensor<4xf32>
// CHECK: nn.amin %{{.*}} {dims = array<i64: 0, 1>, keepdim} : tensor<4x8xf32> -> tensor<1x1xf32>
func.func @extrema(%x: tensor<4x8xf32>) -> (tensor<4xf32>, tensor<1x1xf32>) {
  %a = nn.amax %x {dims = array<i64: 1>} : tensor<4x8xf32> -> tensor<4xf32>
  %b = nn.amin %x {dims = array<i64: 0, 1>, keepdim} : tensor<4x8xf32> -> tensor<1x1xf32>
  return %a, %b : tensor<4xf32>, tensor<1x1xf32>
}

// -----

func.func @amax_dim_range(%x: tensor<4x8xf32>) -> tensor<4xf32> {
  // expected-error @below {{amax: dim 2 is out of range for [4, 8]}}
  // expected-error @below {{failed to infer returned types}}
  %a = nn.amax %x {dims = array<i64: 2>} : tensor<4x8xf32> -> tensor<4xf32>
  return %a : tensor<4xf32>
}

// -----

func.func @amin_empty(%x: tensor<4x0xf32>) -> tensor<4xf32> {
  // expected-error @below {{amin: cannot reduce the empty dim 1 of [4, 0]}}
  // expected-error @below {{failed to infer returned types}}
  %a = nn.amin %x {dims = array<i64: 1>} : tensor<4x0xf32> -> tensor<4xf32>
  return %a : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @logsumexp_cumsum(
// CHECK: nn.logsumexp %{{.*}} {dims = array<i64: 0>, keepdim} : tensor<4x8xf32> -> tensor<1x8xf32>
// CHECK: nn.cumsum %{{.*}} {dim = 1 : i64, reverse} : tensor<4x8xf32>
func.func @logsumexp_cumsum(%x: tensor<4x8xf32>) -> (tensor<1x8xf32>, tensor<4x8xf32>) {
  %l = nn.logsumexp %x {dims = array<i64: 0>, keepdim} : tensor<4x8xf32> -> tensor<1x8xf32>
  %c = nn.cumsum %x {dim = 1 : i64, reverse} : tensor<4x8xf32>
  return %l, %c : tensor<1x8xf32>, tensor<4x8xf32>
}

// -----

func.func @cumsum_dim_range(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // The result type is inferred while parsing: one error.
  // expected-error @below {{cumsum: dim 2 is out of range for [4, 8]}}
  %c = nn.cumsum %x {dim = 2 : i64} : tensor<4x8xf32>
  return %c : tensor<4x8xf32>
}

// -----

func.func @logsumexp_unsorted(%x: tensor<4x8xf32>) -> tensor<f32> {
  // expected-error @below {{logsumexp: dims must be sorted and distinct, got [1, 0]}}
  // expected-error @below {{failed to infer returned types}}
  %l = nn.logsumexp %x {dims = array<i64: 1, 0>} : tensor<4x8xf32> -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// nn.max_dim: f32 values and i64 indices of the reduced shape;
// nn.max_dim_grad puts dim_size back.
// CHECK-LABEL: func.func @max_dim(
// CHECK: %[[V:.*]], %[[I:.*]] = nn.max_dim %{{.*}} {dim = 1 : i64, min} : tensor<4x8xf32> -> (tensor<4xf32>, tensor<4xi64>)
// CHECK: nn.max_dim_grad %[[V]], %[[I]] {dim = 1 : i64, dim_size = 8 : i64} : (tensor<4xf32>, tensor<4xi64>) -> tensor<4x8xf32>
// CHECK: nn.max_dim %{{.*}} {dim = 0 : i64, keepdim} : tensor<4x8xf32> -> (tensor<1x8xf32>, tensor<1x8xi64>)
func.func @max_dim(%x: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<1x8xi64>) {
  %v, %i = nn.max_dim %x {dim = 1 : i64, min} : tensor<4x8xf32> -> (tensor<4xf32>, tensor<4xi64>)
  %g = nn.max_dim_grad %v, %i {dim = 1 : i64, dim_size = 8 : i64} : (tensor<4xf32>, tensor<4xi64>) -> tensor<4x8xf32>
  %w, %j = nn.max_dim %x {dim = 0 : i64, keepdim} : tensor<4x8xf32> -> (tensor<1x8xf32>, tensor<1x8xi64>)
  return %g, %j : tensor<4x8xf32>, tensor<1x8xi64>
}

// -----

func.func @max_dim_empty(%x: tensor<4x0xf32>) -> tensor<4xi64> {
  // expected-error @below {{max_dim: cannot reduce the empty dim 1 of [4, 0]}}
  // expected-error @below {{failed to infer returned types}}
  %v, %i = nn.max_dim %x {dim = 1 : i64} : tensor<4x0xf32> -> (tensor<4xf32>, tensor<4xi64>)
  return %i : tensor<4xi64>
}

// -----

func.func @max_dim_grad_mismatch(%g: tensor<4xf32>, %i: tensor<5xi64>) -> tensor<4x8xf32> {
  // expected-error @below {{max_dim_grad: gradient [4] and indices [5] differ}}
  // expected-error @below {{failed to infer returned types}}
  %d = nn.max_dim_grad %g, %i {dim = 1 : i64, dim_size = 8 : i64} : (tensor<4xf32>, tensor<5xi64>) -> tensor<4x8xf32>
  return %d : tensor<4x8xf32>
}

// -----

// CHECK-LABEL: func.func @norm2(
// CHECK: nn.norm2 %{{.*}} {dims = array<i64: 1>, keepdim} : tensor<4x8xf32> -> tensor<4x1xf32>
func.func @norm2(%x: tensor<4x8xf32>) -> tensor<4x1xf32> {
  %n = nn.norm2 %x {dims = array<i64: 1>, keepdim} : tensor<4x8xf32> -> tensor<4x1xf32>
  return %n : tensor<4x1xf32>
}
