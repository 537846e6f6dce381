// RUN: %dpc-opt %s -canonicalize | FileCheck %s

// nn.sum_to to the input's own type is the identity and folds away; a real
// reduction stays.

// CHECK-LABEL: func.func @sum_to_identity
// CHECK-SAME: (%[[A:.*]]: tensor<4x8xf32>)
func.func @sum_to_identity(%a: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // CHECK-NOT: nn.sum_to
  // CHECK: return %[[A]] : tensor<4x8xf32>
  %0 = nn.sum_to %a : tensor<4x8xf32> to tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// CHECK-LABEL: func.func @sum_to_reduces
// CHECK-SAME: (%[[A:.*]]: tensor<4x8xf32>)
func.func @sum_to_reduces(%a: tensor<4x8xf32>) -> tensor<8xf32> {
  // CHECK: %[[S:.*]] = nn.sum_to %[[A]] : tensor<4x8xf32> to tensor<8xf32>
  // CHECK: return %[[S]]
  %0 = nn.sum_to %a : tensor<4x8xf32> to tensor<8xf32>
  return %0 : tensor<8xf32>
}

// A reshape to the same type is the identity; a reshape of a reshape reads
// the original tensor.
// CHECK-LABEL: func.func @reshape
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x4xf32>)
func.func @reshape(%x: tensor<2x3x4xf32>) -> (tensor<2x3x4xf32>, tensor<24xf32>) {
  // CHECK-NEXT: %[[R:.*]] = nn.reshape %[[X]] : tensor<2x3x4xf32> to tensor<24xf32>
  // CHECK-NEXT: return %[[X]], %[[R]]
  %0 = nn.reshape %x : tensor<2x3x4xf32> to tensor<2x3x4xf32>
  %1 = nn.reshape %x : tensor<2x3x4xf32> to tensor<6x4xf32>
  %2 = nn.reshape %1 : tensor<6x4xf32> to tensor<24xf32>
  return %0, %2 : tensor<2x3x4xf32>, tensor<24xf32>
}
