// RUN: %dpc-opt %s --dpc-dp-replicate="devices=3 batch=10" --mlir-print-debuginfo | FileCheck %s

// nn.DataParallel over 3 devices with a batch of 10: torch.chunk gives
// chunks of 4, 4 and 2 rows, so the forward comes imported twice, for 4
// rows (@forward) and for 2 (@forward_last). The pass makes them one
// forward over the whole batch: the parameters are replicated on device 0,
// the input is scattered at rows 0, 4 and 8, the body is inlined once per
// replica with every op tagged with its replica and keeping the model's
// source location, and the outputs are gathered back into 10 rows.

// CHECK-LABEL: func.func @forward(
// CHECK-SAME: %[[X:[^:]*]]: tensor<10x8xf32> {dpc.kind = "input", dpc.name = "x"}
// CHECK-SAME: %[[W:[^:]*]]: tensor<3x8xf32> {dpc.kind = "parameter", dpc.name = "fc.weight"}
// CHECK-SAME: %[[B:[^:]*]]: tensor<3xf32> {dpc.kind = "parameter", dpc.name = "fc.bias"}
// CHECK-SAME: -> tensor<10x3xf32>
// CHECK-NEXT: %[[WC:.*]]:3 = dp.replicate %[[W]] : tensor<3x8xf32> -> tensor<3x8xf32>, tensor<3x8xf32>, tensor<3x8xf32>
// CHECK-NEXT: %[[BC:.*]]:3 = dp.replicate %[[B]] : tensor<3xf32> -> tensor<3xf32>, tensor<3xf32>, tensor<3xf32>
// CHECK-NEXT: %[[X0:.*]] = dp.scatter %[[X]] {dp.replica = 0 : i64, offset = 0 : i64} : tensor<10x8xf32> to tensor<4x8xf32>
// CHECK-NEXT: %[[Y0:.*]] = nn.linear %[[X0]], %[[WC]]#0, %[[BC]]#0 {dp.replica = 0 : i64} : (tensor<4x8xf32>, {{.*}} loc(#[[LINEAR:.*]])
// CHECK-NEXT: %[[R0:.*]] = nn.relu %[[Y0]] {dp.replica = 0 : i64} : tensor<4x3xf32> loc(#[[RELU:.*]])
// CHECK-NEXT: %[[X1:.*]] = dp.scatter %[[X]] {dp.replica = 1 : i64, offset = 4 : i64} : tensor<10x8xf32> to tensor<4x8xf32>
// CHECK-NEXT: %[[Y1:.*]] = nn.linear %[[X1]], %[[WC]]#1, %[[BC]]#1 {dp.replica = 1 : i64} : (tensor<4x8xf32>, {{.*}} loc(#[[LINEAR]])
// CHECK-NEXT: %[[R1:.*]] = nn.relu %[[Y1]] {dp.replica = 1 : i64} : tensor<4x3xf32> loc(#[[RELU]])
// CHECK-NEXT: %[[X2:.*]] = dp.scatter %[[X]] {dp.replica = 2 : i64, offset = 8 : i64} : tensor<10x8xf32> to tensor<2x8xf32>
// CHECK-NEXT: %[[Y2:.*]] = nn.linear %[[X2]], %[[WC]]#2, %[[BC]]#2 {dp.replica = 2 : i64} : (tensor<2x8xf32>, {{.*}} loc(#[[LINEAR]])
// CHECK-NEXT: %[[R2:.*]] = nn.relu %[[Y2]] {dp.replica = 2 : i64} : tensor<2x3xf32> loc(#[[RELU]])
// CHECK-NEXT: %[[OUT:.*]] = dp.gather %[[R0]], %[[R1]], %[[R2]] : (tensor<4x3xf32>, tensor<4x3xf32>, tensor<2x3xf32>) -> tensor<10x3xf32>
// CHECK-NEXT: return %[[OUT]] : tensor<10x3xf32>
// CHECK-NOT: func.func
// CHECK-DAG: #[[LINEAR]] = loc("model.py":12:16)
// CHECK-DAG: #[[RELU]] = loc("model.py":13:12)
func.func @forward(%x: tensor<4x8xf32> {dpc.kind = "input", dpc.name = "x"},
                   %w: tensor<3x8xf32> {dpc.kind = "parameter", dpc.name = "fc.weight"},
                   %b: tensor<3xf32> {dpc.kind = "parameter", dpc.name = "fc.bias"})
    -> tensor<4x3xf32> {
  %y = nn.linear %x, %w, %b : (tensor<4x8xf32>, tensor<3x8xf32>, tensor<3xf32>) -> tensor<4x3xf32> loc("model.py":12:16)
  %r = nn.relu %y : tensor<4x3xf32> loc("model.py":13:12)
  return %r : tensor<4x3xf32>
}

func.func @forward_last(%x: tensor<2x8xf32> {dpc.kind = "input", dpc.name = "x"},
                        %w: tensor<3x8xf32> {dpc.kind = "parameter", dpc.name = "fc.weight"},
                        %b: tensor<3xf32> {dpc.kind = "parameter", dpc.name = "fc.bias"})
    -> tensor<2x3xf32> {
  %y = nn.linear %x, %w, %b : (tensor<2x8xf32>, tensor<3x8xf32>, tensor<3xf32>) -> tensor<2x3xf32> loc("model.py":12:16)
  %r = nn.relu %y : tensor<2x3xf32> loc("model.py":13:12)
  return %r : tensor<2x3xf32>
}
