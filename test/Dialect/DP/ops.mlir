// RUN: %dpc-opt %s | %dpc-opt | FileCheck %s
// RUN: %dpc-opt %s --mlir-print-op-generic | %dpc-opt | FileCheck %s

// CHECK-LABEL: func.func @all_reduce
// CHECK-SAME: (%[[G:.*]]: tensor<4x8xf32>)
func.func @all_reduce(%g: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // CHECK: %[[R:.*]] = dp.all_reduce %[[G]] : tensor<4x8xf32>
  // CHECK: return %[[R]]
  %0 = dp.all_reduce %g : tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// CHECK-LABEL: func.func @bucket
// CHECK-SAME: (%[[A:.*]]: tensor<4x8xf32>, %[[B:.*]]: tensor<8xf32>)
func.func @bucket(%a: tensor<4x8xf32>, %b: tensor<8xf32>) -> (tensor<4x8xf32>, tensor<8xf32>) {
  // CHECK: %[[T:.*]] = dp.all_reduce_start %[[A]], %[[B]] {bucket = 3 : i64} : tensor<4x8xf32>, tensor<8xf32>
  // CHECK: %[[W:.*]]:2 = dp.wait %[[T]] : tensor<4x8xf32>, tensor<8xf32>
  // CHECK: return %[[W]]#0, %[[W]]#1
  %t = dp.all_reduce_start %a, %b {bucket = 3 : i64} : tensor<4x8xf32>, tensor<8xf32>
  %0:2 = dp.wait %t : tensor<4x8xf32>, tensor<8xf32>
  return %0#0, %0#1 : tensor<4x8xf32>, tensor<8xf32>
}

// A bucket all-reduced in 16 bits (dpc --grad-comm).
// CHECK-LABEL: func.func @compressed_bucket
func.func @compressed_bucket(%a: tensor<16xf32>, %b: tensor<4xf32>) -> (tensor<16xf32>, tensor<4xf32>) {
  // CHECK: dp.all_reduce_start %{{.*}}, %{{.*}} {bucket = 0 : i64, compress = bf16} : tensor<16xf32>, tensor<4xf32>
  // CHECK: dp.all_reduce_start %{{.*}} {bucket = 1 : i64, compress = f16} : tensor<16xf32>
  %t = dp.all_reduce_start %a, %b {bucket = 0 : i64, compress = bf16} : tensor<16xf32>, tensor<4xf32>
  %0:2 = dp.wait %t : tensor<16xf32>, tensor<4xf32>
  %u = dp.all_reduce_start %0#0 {bucket = 1 : i64, compress = f16} : tensor<16xf32>
  %1 = dp.wait %u : tensor<16xf32>
  return %1, %0#1 : tensor<16xf32>, tensor<4xf32>
}

// Two buckets in flight at once; computation may sit between start and wait.
// CHECK-LABEL: func.func @overlap
func.func @overlap(%a: tensor<16xf32>, %b: tensor<4x4xf32>) -> (tensor<16xf32>, tensor<4x4xf32>) {
  // CHECK: %[[T0:.*]] = dp.all_reduce_start %{{.*}} {bucket = 0 : i64} : tensor<16xf32>
  // CHECK: %[[T1:.*]] = dp.all_reduce_start %{{.*}} {bucket = 1 : i64} : tensor<4x4xf32>
  // CHECK: nn.relu
  // CHECK: dp.wait %[[T1]] : tensor<4x4xf32>
  // CHECK: dp.wait %[[T0]] : tensor<16xf32>
  %t0 = dp.all_reduce_start %a {bucket = 0 : i64} : tensor<16xf32>
  %t1 = dp.all_reduce_start %b {bucket = 1 : i64} : tensor<4x4xf32>
  %r = nn.relu %b : tensor<4x4xf32>
  %1 = dp.wait %t1 : tensor<4x4xf32>
  %0 = dp.wait %t0 : tensor<16xf32>
  return %0, %1 : tensor<16xf32>, tensor<4x4xf32>
}

// The token type prints and parses on its own.
// CHECK-LABEL: func.func private @token_type(!dp.token)
func.func private @token_type(!dp.token)
