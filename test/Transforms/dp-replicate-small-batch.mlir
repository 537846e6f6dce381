// RUN: %dpc-opt %s --dpc-dp-replicate="devices=3 batch=2" | FileCheck %s

// A batch of 2 over 3 devices: torch.chunk's chunks have ceil(2/3) = 1 row,
// which gives 2 chunks, so only 2 replicas (nn.DataParallel leaves the
// third device idle). Every input is scattered, class indices (i64) as
// well; buffers are replicated like parameters.

// CHECK-LABEL: func.func @forward(
// CHECK-SAME: %[[X:[^:]*]]: tensor<2x5xf32> {dpc.kind = "input", dpc.name = "x"}
// CHECK-SAME: %[[T:[^:]*]]: tensor<2xi64> {dpc.kind = "input", dpc.name = "tokens"}
// CHECK-SAME: %[[W:[^:]*]]: tensor<5x5xf32> {dpc.kind = "parameter", dpc.name = "w"}
// CHECK-SAME: %[[S:[^:]*]]: tensor<5xf32> {dpc.kind = "buffer", dpc.name = "scale"}
// CHECK-SAME: -> tensor<2x5xf32>
// CHECK-NEXT: %[[WC:.*]]:2 = dp.replicate %[[W]] : tensor<5x5xf32> -> tensor<5x5xf32>, tensor<5x5xf32>
// CHECK-NEXT: %[[SC:.*]]:2 = dp.replicate %[[S]] : tensor<5xf32> -> tensor<5xf32>, tensor<5xf32>
// CHECK-NEXT: %[[X0:.*]] = dp.scatter %[[X]] {dp.replica = 0 : i64, offset = 0 : i64} : tensor<2x5xf32> to tensor<1x5xf32>
// CHECK-NEXT: %[[T0:.*]] = dp.scatter %[[T]] {dp.replica = 0 : i64, offset = 0 : i64} : tensor<2xi64> to tensor<1xi64>
// CHECK-NEXT: nn.linear %[[X0]], %[[WC]]#0 {dp.replica = 0 : i64}
// CHECK-NEXT: nn.mul %{{.*}}, %[[SC]]#0 {dp.replica = 0 : i64}
// CHECK-NEXT: %[[X1:.*]] = dp.scatter %[[X]] {dp.replica = 1 : i64, offset = 1 : i64} : tensor<2x5xf32> to tensor<1x5xf32>
// CHECK-NEXT: %[[T1:.*]] = dp.scatter %[[T]] {dp.replica = 1 : i64, offset = 1 : i64} : tensor<2xi64> to tensor<1xi64>
// CHECK-NEXT: nn.linear %[[X1]], %[[WC]]#1 {dp.replica = 1 : i64}
// CHECK-NEXT: nn.mul %{{.*}}, %[[SC]]#1 {dp.replica = 1 : i64}
// CHECK-NEXT: dp.gather %{{.*}}, %{{.*}} : (tensor<1x5xf32>, tensor<1x5xf32>) -> tensor<2x5xf32>
func.func @forward(%x: tensor<1x5xf32> {dpc.kind = "input", dpc.name = "x"},
                   %t: tensor<1xi64> {dpc.kind = "input", dpc.name = "tokens"},
                   %w: tensor<5x5xf32> {dpc.kind = "parameter", dpc.name = "w"},
                   %s: tensor<5xf32> {dpc.kind = "buffer", dpc.name = "scale"})
    -> tensor<1x5xf32> {
  %y = nn.linear %x, %w : (tensor<1x5xf32>, tensor<5x5xf32>) -> tensor<1x5xf32>
  %z = nn.mul %y, %s : (tensor<1x5xf32>, tensor<5xf32>) -> tensor<1x5xf32>
  return %z : tensor<1x5xf32>
}
