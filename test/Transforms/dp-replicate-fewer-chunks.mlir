// RUN: %dpc-opt %s --dpc-dp-replicate="devices=4 batch=5" | FileCheck %s

// A batch of 5 over 4 devices: chunks of ceil(5/4) = 2 rows, so torch.chunk
// gives 2, 2 and 1 rows: 3 replicas although the batch is larger than the
// number of devices. The last one runs the forward imported for 1 row.

// CHECK-LABEL: func.func @forward(
// CHECK-SAME: tensor<5x3xf32>
// CHECK: dp.replicate %{{.*}} : tensor<2x3xf32> -> tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>
// CHECK: dp.scatter %{{.*}} {dp.replica = 0 : i64, offset = 0 : i64} : tensor<5x3xf32> to tensor<2x3xf32>
// CHECK: nn.linear {{.*}} {dp.replica = 0 : i64} : (tensor<2x3xf32>
// CHECK: dp.scatter %{{.*}} {dp.replica = 1 : i64, offset = 2 : i64} : tensor<5x3xf32> to tensor<2x3xf32>
// CHECK: nn.linear {{.*}} {dp.replica = 1 : i64} : (tensor<2x3xf32>
// CHECK: dp.scatter %{{.*}} {dp.replica = 2 : i64, offset = 4 : i64} : tensor<5x3xf32> to tensor<1x3xf32>
// CHECK: nn.linear {{.*}} {dp.replica = 2 : i64} : (tensor<1x3xf32>
// CHECK: dp.gather %{{.*}}, %{{.*}}, %{{.*}} : (tensor<2x2xf32>, tensor<2x2xf32>, tensor<1x2xf32>) -> tensor<5x2xf32>
// CHECK-NOT: dp.replica = 3
func.func @forward(%x: tensor<2x3xf32> {dpc.kind = "input", dpc.name = "x"},
                   %w: tensor<2x3xf32> {dpc.kind = "parameter", dpc.name = "w"})
    -> tensor<2x2xf32> {
  %y = nn.linear %x, %w : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x2xf32>
  return %y : tensor<2x2xf32>
}

func.func @forward_last(%x: tensor<1x3xf32> {dpc.kind = "input", dpc.name = "x"},
                        %w: tensor<2x3xf32> {dpc.kind = "parameter", dpc.name = "w"})
    -> tensor<1x2xf32> {
  %y = nn.linear %x, %w : (tensor<1x3xf32>, tensor<2x3xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}
