// RUN: %dpc-opt %s -split-input-file -verify-diagnostics | FileCheck %s

// nn.convert (int64 to float32), nn.gather and nn.scatter_add: their types
// are inferred, and they print and parse.

// CHECK-LABEL: func.func @ops(
// CHECK-SAME: %[[M:[^:]*]]: tensor<4x16xi64>, %[[X:[^:]*]]: tensor<4x10xf32>, %[[I:[^:]*]]: tensor<4x3xi64>, %[[S:[^:]*]]: tensor<4x3xf32>)
// CHECK-NEXT: nn.convert %[[M]] : tensor<4x16xi64> -> tensor<4x16xf32>
// CHECK-NEXT: nn.gather %[[X]], %[[I]] {dim = 1 : i64} : (tensor<4x10xf32>, tensor<4x3xi64>) -> tensor<4x3xf32>
// CHECK-NEXT: nn.scatter_add %[[X]], %[[I]], %[[S]] {dim = 1 : i64} : (tensor<4x10xf32>, tensor<4x3xi64>, tensor<4x3xf32>) -> tensor<4x10xf32>
func.func @ops(%m: tensor<4x16xi64>, %x: tensor<4x10xf32>, %i: tensor<4x3xi64>,
               %s: tensor<4x3xf32>) -> (tensor<4x16xf32>, tensor<4x3xf32>, tensor<4x10xf32>) {
  %f = nn.convert %m : tensor<4x16xi64> -> tensor<4x16xf32>
  %g = nn.gather %x, %i {dim = 1 : i64} : (tensor<4x10xf32>, tensor<4x3xi64>) -> tensor<4x3xf32>
  %a = nn.scatter_add %x, %i, %s {dim = 1 : i64} : (tensor<4x10xf32>, tensor<4x3xi64>, tensor<4x3xf32>) -> tensor<4x10xf32>
  return %f, %g, %a : tensor<4x16xf32>, tensor<4x3xf32>, tensor<4x10xf32>
}

// -----

// nn.convert takes int64 tensors only.
func.func @convert_f32(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{operand #0 must be statically shaped tensor of 64-bit signless integer values}}
  %y = nn.convert %x : tensor<4xf32> -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// The index spans the input in every dimension but dim.
func.func @gather_other_dim(%x: tensor<4x10xf32>, %i: tensor<3x2xi64>) -> tensor<3x2xf32> {
  // expected-error @below {{gather: index [3, 2] and input [4, 10] differ in dimension 0 (not 1)}}
  // expected-error @below {{failed to infer returned types}}
  %g = nn.gather %x, %i {dim = 1 : i64} : (tensor<4x10xf32>, tensor<3x2xi64>) -> tensor<3x2xf32>
  return %g : tensor<3x2xf32>
}

// -----

func.func @gather_rank(%x: tensor<4x10xf32>, %i: tensor<4xi64>) -> tensor<4xf32> {
  // expected-error @below {{gather: a 1-d index for a 2-d input}}
  // expected-error @below {{failed to infer returned types}}
  %g = nn.gather %x, %i {dim = 1 : i64} : (tensor<4x10xf32>, tensor<4xi64>) -> tensor<4xf32>
  return %g : tensor<4xf32>
}

// -----

func.func @gather_dim(%x: tensor<4x10xf32>, %i: tensor<4x2xi64>) -> tensor<4x2xf32> {
  // expected-error @below {{gather: dim 2 is out of range for a 2-d input}}
  // expected-error @below {{failed to infer returned types}}
  %g = nn.gather %x, %i {dim = 2 : i64} : (tensor<4x10xf32>, tensor<4x2xi64>) -> tensor<4x2xf32>
  return %g : tensor<4x2xf32>
}

// -----

// src has the index's shape.
func.func @scatter_add_src(%x: tensor<4x10xf32>, %i: tensor<4x2xi64>, %s: tensor<4x3xf32>) -> tensor<4x10xf32> {
  // expected-error @below {{scatter_add: src [4, 3] and index [4, 2] must have one shape}}
  // expected-error @below {{failed to infer returned types}}
  %a = nn.scatter_add %x, %i, %s {dim = 1 : i64} : (tensor<4x10xf32>, tensor<4x2xi64>, tensor<4x3xf32>) -> tensor<4x10xf32>
  return %a : tensor<4x10xf32>
}

// -----

func.func @scatter_add_other_dim(%x: tensor<4x10xf32>, %i: tensor<2x10xi64>, %s: tensor<2x10xf32>) -> tensor<4x10xf32> {
  // expected-error @below {{scatter_add: index [2, 10] and input [4, 10] differ in dimension 0 (not 1)}}
  // expected-error @below {{failed to infer returned types}}
  %a = nn.scatter_add %x, %i, %s {dim = 1 : i64} : (tensor<4x10xf32>, tensor<2x10xi64>, tensor<2x10xf32>) -> tensor<4x10xf32>
  return %a : tensor<4x10xf32>
}
