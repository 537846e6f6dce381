// RUN: %dpc-opt %s -split-input-file -canonicalize | FileCheck %s

// A permute of a permute is one permute of the original tensor (one copy
// instead of two); permutations that cancel, and the identity, fold away.

// CHECK-LABEL: func.func @compose
// CHECK-SAME: (%[[X:.*]]: tensor<2x8x4x16xf32>)
// CHECK-NEXT: %[[P:.*]] = nn.permute %[[X]] {permutation = array<i64: 0, 2, 3, 1>} : tensor<2x8x4x16xf32> -> tensor<2x4x16x8xf32>
// CHECK-NEXT: return %[[P]]
func.func @compose(%x: tensor<2x8x4x16xf32>) -> tensor<2x4x16x8xf32> {
  %0 = nn.permute %x {permutation = array<i64: 0, 2, 1, 3>} : tensor<2x8x4x16xf32> -> tensor<2x4x8x16xf32>
  %1 = nn.permute %0 {permutation = array<i64: 0, 1, 3, 2>} : tensor<2x4x8x16xf32> -> tensor<2x4x16x8xf32>
  return %1 : tensor<2x4x16x8xf32>
}

// -----

// CHECK-LABEL: func.func @cancel
// CHECK-SAME: (%[[X:.*]]: tensor<2x8x4xf32>)
// CHECK-NEXT: return %[[X]], %[[X]]
func.func @cancel(%x: tensor<2x8x4xf32>) -> (tensor<2x8x4xf32>, tensor<2x8x4xf32>) {
  %0 = nn.permute %x {permutation = array<i64: 0, 2, 1>} : tensor<2x8x4xf32> -> tensor<2x4x8xf32>
  %1 = nn.permute %0 {permutation = array<i64: 0, 2, 1>} : tensor<2x4x8xf32> -> tensor<2x8x4xf32>
  %2 = nn.permute %x {permutation = array<i64: 0, 1, 2>} : tensor<2x8x4xf32> -> tensor<2x8x4xf32>
  return %1, %2 : tensor<2x8x4xf32>, tensor<2x8x4xf32>
}

// -----

// The first permute stays while something else reads it.
// CHECK-LABEL: func.func @shared
// CHECK-SAME: (%[[X:.*]]: tensor<2x8x4xf32>)
// CHECK-NEXT: %[[A:.*]] = nn.permute %[[X]] {permutation = array<i64: 1, 0, 2>}
// CHECK-NEXT: %[[B:.*]] = nn.permute %[[X]] {permutation = array<i64: 1, 2, 0>}
// CHECK-NEXT: return %[[A]], %[[B]]
func.func @shared(%x: tensor<2x8x4xf32>) -> (tensor<8x2x4xf32>, tensor<8x4x2xf32>) {
  %0 = nn.permute %x {permutation = array<i64: 1, 0, 2>} : tensor<2x8x4xf32> -> tensor<8x2x4xf32>
  %1 = nn.permute %0 {permutation = array<i64: 0, 2, 1>} : tensor<8x2x4xf32> -> tensor<8x4x2xf32>
  return %0, %1 : tensor<8x2x4xf32>, tensor<8x4x2xf32>
}
