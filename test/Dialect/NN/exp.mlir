// RUN: %dpc-opt %s -split-input-file -verify-diagnostics | FileCheck %s

// nn.exp, a member of the elementwise unary family (NN_UnaryOp): its result
// type is its operand's, and it prints and parses in the family's form.

// CHECK-LABEL: func.func @exp(
// CHECK-SAME: %[[X:.*]]: tensor<2x3xf32>)
// CHECK-NEXT: %[[Y:.*]] = nn.exp %[[X]] : tensor<2x3xf32>
// CHECK-NEXT: return %[[Y]]
func.func @exp(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %y = nn.exp %x : tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// -----

// Only float32 tensors.
func.func @exp_i64(%x: tensor<4xi64>) -> tensor<4xi64> {
  // expected-error @+1 {{operand #0 must be statically shaped tensor of 32-bit float or 64-bit float values}}
  %y = nn.exp %x : tensor<4xi64>
  return %y : tensor<4xi64>
}
