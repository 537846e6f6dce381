// RUN: %dpc-opt %s | %dpc-opt | FileCheck %s
// RUN: %dpc-opt %s --mlir-print-op-generic | %dpc-opt | FileCheck %s
// RUN: %dpc-opt %s --canonicalize | FileCheck --check-prefix=FOLD %s

// The ops of single-process data parallelism round-trip, with the
// `dp.replica` and `dp.stage` tags.

// CHECK-LABEL: func.func @data_parallel
// CHECK-SAME: (%[[X:.*]]: tensor<10x8xf32>, %[[W:.*]]: tensor<3x8xf32>)
func.func @data_parallel(%x: tensor<10x8xf32>, %w: tensor<3x8xf32>) -> (tensor<10x3xf32>, tensor<3x8xf32>) {
  // CHECK: %[[C:.*]]:2 = dp.replicate %[[W]] : tensor<3x8xf32> -> tensor<3x8xf32>, tensor<3x8xf32>
  %c:2 = dp.replicate %w : tensor<3x8xf32> -> tensor<3x8xf32>, tensor<3x8xf32>
  // CHECK: %[[X0:.*]] = dp.scatter %[[X]] {dp.replica = 0 : i64, offset = 0 : i64} : tensor<10x8xf32> to tensor<5x8xf32>
  // CHECK: %[[X1:.*]] = dp.scatter %[[X]] {dp.replica = 1 : i64, dp.stage = 1 : i64, offset = 5 : i64} : tensor<10x8xf32> to tensor<5x8xf32>
  %x0 = dp.scatter %x {offset = 0 : i64, dp.replica = 0 : i64} : tensor<10x8xf32> to tensor<5x8xf32>
  %x1 = dp.scatter %x {offset = 5 : i64, dp.replica = 1 : i64, dp.stage = 1 : i64} : tensor<10x8xf32> to tensor<5x8xf32>
  %y0 = nn.linear %x0, %c#0 {dp.replica = 0 : i64} : (tensor<5x8xf32>, tensor<3x8xf32>) -> tensor<5x3xf32>
  %y1 = nn.linear %x1, %c#1 {dp.replica = 1 : i64} : (tensor<5x8xf32>, tensor<3x8xf32>) -> tensor<5x3xf32>
  // CHECK: %[[Y:.*]] = dp.gather %{{.*}}, %{{.*}} : (tensor<5x3xf32>, tensor<5x3xf32>) -> tensor<10x3xf32>
  %y = dp.gather %y0, %y1 : (tensor<5x3xf32>, tensor<5x3xf32>) -> tensor<10x3xf32>
  // CHECK: dp.reduce_add %[[C]]#0, %[[C]]#1 : tensor<3x8xf32>
  %g = dp.reduce_add %c#0, %c#1 : tensor<3x8xf32>
  return %y, %g : tensor<10x3xf32>, tensor<3x8xf32>
}

// Class labels (i64) scatter too; a gather may concatenate uneven chunks.
// CHECK-LABEL: func.func @uneven
func.func @uneven(%y: tensor<10xi64>, %a: tensor<4x2xf32>, %b: tensor<2x2xf32>) -> (tensor<2xi64>, tensor<6x2xf32>) {
  // CHECK: dp.scatter %{{.*}} {offset = 8 : i64} : tensor<10xi64> to tensor<2xi64>
  %y2 = dp.scatter %y {offset = 8 : i64} : tensor<10xi64> to tensor<2xi64>
  // CHECK: dp.gather %{{.*}}, %{{.*}} : (tensor<4x2xf32>, tensor<2x2xf32>) -> tensor<6x2xf32>
  %g = dp.gather %a, %b : (tensor<4x2xf32>, tensor<2x2xf32>) -> tensor<6x2xf32>
  return %y2, %g : tensor<2xi64>, tensor<6x2xf32>
}

// With a single replica every dp op is the identity and folds away.
// FOLD-LABEL: func.func @one_replica
// FOLD-SAME: (%[[X:.*]]: tensor<4x8xf32>, %[[W:.*]]: tensor<3x8xf32>)
// FOLD-NEXT: %[[Y:.*]] = nn.linear %[[X]], %[[W]]
// FOLD-NEXT: return %[[Y]], %[[W]]
func.func @one_replica(%x: tensor<4x8xf32>, %w: tensor<3x8xf32>) -> (tensor<4x3xf32>, tensor<3x8xf32>) {
  %c = dp.replicate %w : tensor<3x8xf32> -> tensor<3x8xf32>
  %x0 = dp.scatter %x {offset = 0 : i64, dp.replica = 0 : i64} : tensor<4x8xf32> to tensor<4x8xf32>
  %y0 = nn.linear %x0, %c {dp.replica = 0 : i64} : (tensor<4x8xf32>, tensor<3x8xf32>) -> tensor<4x3xf32>
  %y = dp.gather %y0 : (tensor<4x3xf32>) -> tensor<4x3xf32>
  %g = dp.reduce_add %c : tensor<3x8xf32>
  return %y, %g : tensor<4x3xf32>, tensor<3x8xf32>
}
