// RUN: %dpc-opt %s -split-input-file --dpc-plan-memory | FileCheck %s

// dpc-plan-memory gives every intermediate tensor an offset in one arena
// (dpc.offset, one entry per result, blocks aligned to 64 bytes), reusing the
// space of values that are dead, and records the arena size on the function.
// A value is live from its op to its last use, inclusive, so no op writes
// its result over one of its operands.

// A chain: each value dies where the next is made, so two slots alternate;
// the 4-byte loss reuses the slot of the relu two ops back.
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: attributes {dpc.arena_bytes = 128 : i64}
// CHECK-NEXT: nn.relu %{{.*}} {dpc.offset = array<i64: 0>}
// CHECK-NEXT: nn.tanh %{{.*}} {dpc.offset = array<i64: 64>}
// CHECK-NEXT: nn.sigmoid %{{.*}} {dpc.offset = array<i64: 0>}
// CHECK-NEXT: nn.relu %{{.*}} {dpc.offset = array<i64: 64>}
// CHECK-NEXT: nn.mse_loss %{{.*}} {dpc.offset = array<i64: 0>}
// CHECK-NEXT: return
func.func @train_step(%x: tensor<16xf32> {dpc.kind = "input", dpc.name = "x"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"}) {
  %a = nn.relu %x : tensor<16xf32>
  %b = nn.tanh %a : tensor<16xf32>
  %c = nn.sigmoid %b : tensor<16xf32>
  %d = nn.relu %c : tensor<16xf32>
  %loss = nn.mse_loss %d, %x : tensor<16xf32>
  return %loss : tensor<f32>
}

// -----

// Placement is first fit by decreasing size: the two 256-byte tensors are
// placed first (at 0 and 256) although the 16-byte relu comes earlier in the
// step; the loss, defined after the relu's last use, reuses its space.
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: attributes {dpc.arena_bytes = 576 : i64}
// CHECK-NEXT: nn.relu %{{.*}} {dpc.offset = array<i64: 512>}
// CHECK-NEXT: nn.fill 2.000000e+00 {dpc.offset = array<i64: 0>}
// CHECK-NEXT: nn.mul %{{.*}} {dpc.offset = array<i64: 256>}
// CHECK-NEXT: nn.mse_loss %{{.*}} {dpc.offset = array<i64: 512>}
func.func @train_step(%x: tensor<4xf32> {dpc.kind = "input", dpc.name = "x"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"}) {
  %s = nn.relu %x : tensor<4xf32>
  %l = nn.fill 2.0 : tensor<16x4xf32>
  %r = nn.mul %l, %s : (tensor<16x4xf32>, tensor<4xf32>) -> tensor<16x4xf32>
  %loss = nn.mse_loss %r, %l : tensor<16x4xf32>
  return %loss : tensor<f32>
}

// -----

// A bucket is one block: its gradients are back to back, the second at the
// first's offset plus its 48 bytes (not aligned), live from the first
// gradient to the last update that reads the averaged values. The wait's
// results alias the bucket and the updates happen in place in the parameter
// and buffer arguments, so they get -1; so does the token. The linear's
// output is dead before the bucket's first gradient, so the bucket reuses
// its space; the loss stays live to the end.
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: attributes {dpc.arena_bytes = 256 : i64}
// CHECK-NEXT: nn.linear {{.*}} {dpc.offset = array<i64: 0>}
// CHECK-NEXT: nn.cross_entropy {{.*}} {dpc.offset = array<i64: 128>}
// CHECK-NEXT: nn.fill 1.000000e+00 {dpc.offset = array<i64: 192>}
// CHECK-NEXT: nn.cross_entropy_grad {{.*}} {dpc.offset = array<i64: 64>}
// CHECK-NEXT: nn.matmul {{.*}} {dpc.offset = array<i64: 0>, transpose_lhs}
// CHECK-NEXT: nn.sum_to {{.*}} {dpc.offset = array<i64: 48>}
// CHECK-NEXT: dp.all_reduce_start {{.*}} {bucket = 0 : i64, dpc.offset = array<i64: -1>}
// CHECK-NEXT: dp.wait {{.*}} {dpc.offset = array<i64: -1, -1>}
// CHECK-NEXT: nn.sgd_update {{.*}} {dpc.offset = array<i64: -1, -1>,
// CHECK-NEXT: nn.sgd_update {{.*}} {dpc.offset = array<i64: -1, -1>,
// CHECK-NEXT: return
func.func @train_step(%x: tensor<2x4xf32> {dpc.kind = "input", dpc.name = "x"},
                      %w: tensor<3x4xf32> {dpc.kind = "parameter", dpc.name = "w"},
                      %b: tensor<3xf32> {dpc.kind = "parameter", dpc.name = "b"},
                      %label: tensor<2xi64> {dpc.kind = "label", dpc.name = "label"},
                      %wbuf: tensor<3x4xf32> {dpc.kind = "optimizer_state", dpc.name = "w.momentum_buffer", dpc.parameter = "w"},
                      %bbuf: tensor<3xf32> {dpc.kind = "optimizer_state", dpc.name = "b.momentum_buffer", dpc.parameter = "b"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"},
        tensor<3x4xf32> {dpc.kind = "parameter", dpc.name = "w"},
        tensor<3xf32> {dpc.kind = "parameter", dpc.name = "b"},
        tensor<3x4xf32> {dpc.kind = "optimizer_state", dpc.name = "w.momentum_buffer", dpc.parameter = "w"},
        tensor<3xf32> {dpc.kind = "optimizer_state", dpc.name = "b.momentum_buffer", dpc.parameter = "b"}) {
  %y = nn.linear %x, %w, %b : (tensor<2x4xf32>, tensor<3x4xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %loss = nn.cross_entropy %y, %label : tensor<2x3xf32>, tensor<2xi64>
  %seed = nn.fill 1.0 : tensor<f32>
  %dy = nn.cross_entropy_grad %seed, %y, %label : (tensor<f32>, tensor<2x3xf32>, tensor<2xi64>) -> tensor<2x3xf32>
  %dw = nn.matmul %dy, %x {transpose_lhs} : (tensor<2x3xf32>, tensor<2x4xf32>) -> tensor<3x4xf32>
  %db = nn.sum_to %dy : tensor<2x3xf32> to tensor<3xf32>
  %t = dp.all_reduce_start %dw, %db {bucket = 0 : i64} : tensor<3x4xf32>, tensor<3xf32>
  %avg:2 = dp.wait %t : tensor<3x4xf32>, tensor<3xf32>
  %nw, %nwbuf = nn.sgd_update %w, %avg#0, %wbuf {lr = 0.1 : f32, momentum = 0.9 : f32} : (tensor<3x4xf32>, tensor<3x4xf32>, tensor<3x4xf32>) -> (tensor<3x4xf32>, tensor<3x4xf32>)
  %nb, %nbbuf = nn.sgd_update %b, %avg#1, %bbuf {lr = 0.1 : f32, momentum = 0.9 : f32} : (tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> (tensor<3xf32>, tensor<3xf32>)
  return %loss, %nw, %nb, %nwbuf, %nbbuf : tensor<f32>, tensor<3x4xf32>, tensor<3xf32>, tensor<3x4xf32>, tensor<3xf32>
}

// -----

// nn.reshape results are views: no space of their own (-1), and reading a
// view keeps the viewed tensor alive. The relu's result is read through its
// view by the sigmoid, so the tanh (made before that) cannot take its space;
// the mul, made after, can.
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: attributes {dpc.arena_bytes = 192 : i64}
// CHECK-NEXT: nn.relu %{{.*}} {dpc.offset = array<i64: 0>}
// CHECK-NEXT: nn.reshape %{{.*}} {dpc.offset = array<i64: -1>}
// CHECK-NEXT: nn.tanh %{{.*}} {dpc.offset = array<i64: 64>}
// CHECK-NEXT: nn.sigmoid %{{.*}} {dpc.offset = array<i64: 128>}
// CHECK-NEXT: nn.reshape %{{.*}} {dpc.offset = array<i64: -1>}
// CHECK-NEXT: nn.mul %{{.*}} {dpc.offset = array<i64: 0>}
// CHECK-NEXT: nn.mse_loss %{{.*}} {dpc.offset = array<i64: 64>}
func.func @train_step(%x: tensor<16xf32> {dpc.kind = "input", dpc.name = "x"},
                      %t: tensor<4x4xf32> {dpc.kind = "label", dpc.name = "label"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"}) {
  %a = nn.relu %x : tensor<16xf32>
  %v = nn.reshape %a : tensor<16xf32> to tensor<4x4xf32>
  %b = nn.tanh %x : tensor<16xf32>
  %c = nn.sigmoid %v : tensor<4x4xf32>
  %e = nn.reshape %b : tensor<16xf32> to tensor<4x4xf32>
  %f = nn.mul %c, %e : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %loss = nn.mse_loss %f, %t : tensor<4x4xf32>
  return %loss : tensor<f32>
}
