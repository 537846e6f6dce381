// RUN: %dpc-opt %s --dpc-autodiff --canonicalize | FileCheck %s

// Autodiff of a --mode dp step (as dpc-dp-replicate and
// dpc-build-train-step leave it): the backward of an op runs on the replica
// that ran it forward, so every op its VJP builds carries the op's
// dp.replica. Gather's VJP scatters the output gradient, one chunk per
// replica, tagged with that replica. A weight used twice within a replica
// gets its two gradients summed on that replica; Replicate's VJP sums the
// replicas' gradients on device 0 in replica order (dp.reduce_add, no tag).

// CHECK-LABEL: func.func @train_step(
// CHECK: %[[LOSS:.*]] = nn.mse_loss
// CHECK-NEXT: %[[SEED:.*]] = nn.fill 1.000000e+00 : tensor<f32>
// CHECK-NEXT: %[[DY:.*]] = nn.mse_loss_grad %[[SEED]]
// CHECK-NEXT: %[[DY0:.*]] = dp.scatter %[[DY]] {dp.replica = 0 : i64, offset = 0 : i64} : tensor<6x4xf32> to tensor<4x4xf32>
// CHECK-NEXT: %[[DY1:.*]] = dp.scatter %[[DY]] {dp.replica = 1 : i64, offset = 4 : i64} : tensor<6x4xf32> to tensor<2x4xf32>
// Replica 1 first (reverse order); the input needs no gradient.
// CHECK-NEXT: %[[DH1:.*]] = nn.matmul %[[DY1]], %{{.*}} {dp.replica = 1 : i64}
// CHECK-NEXT: %[[DW1B:.*]] = nn.matmul %[[DY1]], %{{.*}} {dp.replica = 1 : i64, transpose_lhs}
// CHECK-NEXT: %[[DT1:.*]] = nn.tanh_grad %[[DH1]], %{{.*}} {dp.replica = 1 : i64}
// CHECK-NEXT: %[[DW1A:.*]] = nn.matmul %[[DT1]], %{{.*}} {dp.replica = 1 : i64, transpose_lhs}
// CHECK-NEXT: %[[DW1:.*]] = nn.add %[[DW1B]], %[[DW1A]] {dp.replica = 1 : i64}
// CHECK-NEXT: %[[DH0:.*]] = nn.matmul %[[DY0]], %{{.*}} {dp.replica = 0 : i64}
// CHECK-NEXT: %[[DW0B:.*]] = nn.matmul %[[DY0]], %{{.*}} {dp.replica = 0 : i64, transpose_lhs}
// CHECK-NEXT: %[[DT0:.*]] = nn.tanh_grad %[[DH0]], %{{.*}} {dp.replica = 0 : i64}
// CHECK-NEXT: %[[DW0A:.*]] = nn.matmul %[[DT0]], %{{.*}} {dp.replica = 0 : i64, transpose_lhs}
// CHECK-NEXT: %[[DW0:.*]] = nn.add %[[DW0B]], %[[DW0A]] {dp.replica = 0 : i64}
// CHECK-NEXT: %[[DW:.*]] = dp.reduce_add %[[DW0]], %[[DW1]] : tensor<4x4xf32>
// CHECK-NEXT: return %[[LOSS]], %[[DW]]
func.func @train_step(%x: tensor<6x4xf32> {dpc.kind = "input", dpc.name = "x"},
                      %w: tensor<4x4xf32> {dpc.kind = "parameter", dpc.name = "w"},
                      %t: tensor<6x4xf32> {dpc.kind = "label", dpc.name = "y"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"}) {
  %c:2 = dp.replicate %w : tensor<4x4xf32> -> tensor<4x4xf32>, tensor<4x4xf32>
  %x0 = dp.scatter %x {dp.replica = 0 : i64, offset = 0 : i64} : tensor<6x4xf32> to tensor<4x4xf32>
  %a0 = nn.linear %x0, %c#0 {dp.replica = 0 : i64} : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %h0 = nn.tanh %a0 {dp.replica = 0 : i64} : tensor<4x4xf32>
  %y0 = nn.linear %h0, %c#0 {dp.replica = 0 : i64} : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %x1 = dp.scatter %x {dp.replica = 1 : i64, offset = 4 : i64} : tensor<6x4xf32> to tensor<2x4xf32>
  %a1 = nn.linear %x1, %c#1 {dp.replica = 1 : i64} : (tensor<2x4xf32>, tensor<4x4xf32>) -> tensor<2x4xf32>
  %h1 = nn.tanh %a1 {dp.replica = 1 : i64} : tensor<2x4xf32>
  %y1 = nn.linear %h1, %c#1 {dp.replica = 1 : i64} : (tensor<2x4xf32>, tensor<4x4xf32>) -> tensor<2x4xf32>
  %y = dp.gather %y0, %y1 : (tensor<4x4xf32>, tensor<2x4xf32>) -> tensor<6x4xf32>
  %loss = nn.mse_loss %y, %t : tensor<6x4xf32>
  return %loss : tensor<f32>
}
