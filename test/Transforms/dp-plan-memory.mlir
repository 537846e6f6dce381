// RUN: %dpc-opt %s -split-input-file --dpc-plan-memory | FileCheck %s

// In a concurrent stage of a --mode dp step (dpc-dp-phases: ops with both
// dp.replica and dp.stage) the replicas run at the same time, so two values
// both live somewhere in the stage never share arena space, even where
// their order in the block says one dies before the other is made, unless
// one replica alone touches both there (its thread follows block order).
// Values of different stages still share.

// Replica 0's %a dies at its tanh, before replica 1's %c is made, but the
// two replicas run concurrently: %c does not get the space of %a (it does
// when the same ops run serially, below). Placement is by decreasing size:
// the 128-byte gather (stage 2) first, at 0, which it can share with %a
// and %c, dead once their stage is over; the loss shares with %b.
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: attributes {dpc.arena_bytes = 256 : i64}
// CHECK-NEXT: nn.relu {{.*}} dpc.offset = array<i64: 0>
// CHECK-NEXT: nn.tanh {{.*}} dpc.offset = array<i64: 128>
// CHECK-NEXT: nn.relu {{.*}} dpc.offset = array<i64: 64>
// CHECK-NEXT: nn.tanh {{.*}} dpc.offset = array<i64: 192>
// CHECK-NEXT: dp.gather {{.*}} dpc.offset = array<i64: 0>
// CHECK-NEXT: nn.mse_loss {{.*}} dpc.offset = array<i64: 128>
func.func @train_step(%x: tensor<16xf32> {dpc.kind = "input", dpc.name = "x"},
                      %y: tensor<32xf32> {dpc.kind = "label", dpc.name = "y"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"}) {
  %a = nn.relu %x {dp.replica = 0 : i64, dp.stage = 1 : i64} : tensor<16xf32>
  %b = nn.tanh %a {dp.replica = 0 : i64, dp.stage = 1 : i64} : tensor<16xf32>
  %c = nn.relu %x {dp.replica = 1 : i64, dp.stage = 1 : i64} : tensor<16xf32>
  %d = nn.tanh %c {dp.replica = 1 : i64, dp.stage = 1 : i64} : tensor<16xf32>
  %g = dp.gather %b, %d {dp.stage = 2 : i64} : (tensor<16xf32>, tensor<16xf32>) -> tensor<32xf32>
  %loss = nn.mse_loss %g, %y {dp.stage = 2 : i64} : tensor<32xf32>
  return %loss : tensor<f32>
}

// -----

// The same ops run one after the other (no stages): %c reuses the space of
// %a, which died at the first tanh.
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: attributes {dpc.arena_bytes = 256 : i64}
// CHECK-NEXT: nn.relu {{.*}} dpc.offset = array<i64: 0>
// CHECK-NEXT: nn.tanh {{.*}} dpc.offset = array<i64: 128>
// CHECK-NEXT: nn.relu {{.*}} dpc.offset = array<i64: 0>
// CHECK-NEXT: nn.tanh {{.*}} dpc.offset = array<i64: 192>
func.func @train_step(%x: tensor<16xf32> {dpc.kind = "input", dpc.name = "x"},
                      %y: tensor<32xf32> {dpc.kind = "label", dpc.name = "y"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"}) {
  %a = nn.relu %x {dp.replica = 0 : i64} : tensor<16xf32>
  %b = nn.tanh %a {dp.replica = 0 : i64} : tensor<16xf32>
  %c = nn.relu %x {dp.replica = 1 : i64} : tensor<16xf32>
  %d = nn.tanh %c {dp.replica = 1 : i64} : tensor<16xf32>
  %g = dp.gather %b, %d : (tensor<16xf32>, tensor<16xf32>) -> tensor<32xf32>
  %loss = nn.mse_loss %g, %y : tensor<32xf32>
  return %loss : tensor<f32>
}

// -----

// A value made on device 0 and read by a concurrent stage (the output
// gradient the replicas read through their dp.scatter views) stays live to
// the end of that stage, so no replica value overwrites it while another
// replica still reads its chunk.
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: attributes {dpc.arena_bytes = 256 : i64}
// CHECK-NEXT: nn.fill {{.*}} dpc.offset = array<i64: 0>
// CHECK-NEXT: dp.scatter {{.*}} dpc.offset = array<i64: -1>
// CHECK-NEXT: nn.relu {{.*}} dpc.offset = array<i64: 128>
// CHECK-NEXT: dp.scatter {{.*}} dpc.offset = array<i64: -1>
// CHECK-NEXT: nn.relu {{.*}} dpc.offset = array<i64: 192>
func.func @train_step(%y: tensor<32xf32> {dpc.kind = "label", dpc.name = "y"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"}) {
  %dy = nn.fill 1.0 {dp.stage = 0 : i64} : tensor<32xf32>
  %d0 = dp.scatter %dy {dp.replica = 0 : i64, dp.stage = 1 : i64, offset = 0 : i64} : tensor<32xf32> to tensor<16xf32>
  %r0 = nn.relu %d0 {dp.replica = 0 : i64, dp.stage = 1 : i64} : tensor<16xf32>
  %d1 = dp.scatter %dy {dp.replica = 1 : i64, dp.stage = 1 : i64, offset = 16 : i64} : tensor<32xf32> to tensor<16xf32>
  %r1 = nn.relu %d1 {dp.replica = 1 : i64, dp.stage = 1 : i64} : tensor<16xf32>
  %g = dp.gather %r0, %r1 {dp.stage = 2 : i64} : (tensor<16xf32>, tensor<16xf32>) -> tensor<32xf32>
  %loss = nn.mse_loss %g, %y {dp.stage = 2 : i64} : tensor<32xf32>
  return %loss : tensor<f32>
}

// -----

// Within one replica the thread follows block order, so a value of replica 0
// reuses the space of another value of replica 0 that died before it, even
// in a concurrent stage (%c takes %a's space); replica 1's %d, live in the
// same stage, takes neither.
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: attributes {dpc.arena_bytes = 256 : i64}
// CHECK-NEXT: nn.relu {{.*}} dpc.offset = array<i64: 0>
// CHECK-NEXT: nn.tanh {{.*}} dpc.offset = array<i64: 64>
// CHECK-NEXT: nn.sigmoid {{.*}} dpc.offset = array<i64: 0>
// CHECK-NEXT: nn.relu {{.*}} dpc.offset = array<i64: 128>
// CHECK-NEXT: nn.relu {{.*}} dpc.offset = array<i64: 192>
// CHECK-NEXT: dp.gather {{.*}} dpc.offset = array<i64: 0>
func.func @train_step(%x: tensor<16xf32> {dpc.kind = "input", dpc.name = "x"},
                      %y: tensor<32xf32> {dpc.kind = "label", dpc.name = "y"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"}) {
  %a = nn.relu %x {dp.replica = 0 : i64, dp.stage = 1 : i64} : tensor<16xf32>
  %b = nn.tanh %a {dp.replica = 0 : i64, dp.stage = 1 : i64} : tensor<16xf32>
  %c = nn.sigmoid %b {dp.replica = 0 : i64, dp.stage = 1 : i64} : tensor<16xf32>
  %e = nn.relu %c {dp.replica = 0 : i64, dp.stage = 1 : i64} : tensor<16xf32>
  %d = nn.relu %x {dp.replica = 1 : i64, dp.stage = 1 : i64} : tensor<16xf32>
  %g = dp.gather %e, %d {dp.stage = 2 : i64} : (tensor<16xf32>, tensor<16xf32>) -> tensor<32xf32>
  %loss = nn.mse_loss %g, %y {dp.stage = 2 : i64} : tensor<32xf32>
  return %loss : tensor<f32>
}

// -----

// A value of replica 0 that replica 1 reads in a later concurrent stage is
// touched by both replicas there: a value of replica 0 made after its last
// read in block order still gets space of its own (replica 1 may read late).
// CHECK-LABEL: func.func @train_step(
// CHECK-NEXT: nn.relu {{.*}} dpc.offset = array<i64: 0>
// CHECK-NEXT: nn.tanh {{.*}} dpc.offset = array<i64: 64>
// CHECK-NEXT: nn.add {{.*}} dpc.offset = array<i64: 128>
// CHECK-NEXT: nn.sigmoid {{.*}} dpc.offset = array<i64: 192>
func.func @train_step(%x: tensor<16xf32> {dpc.kind = "input", dpc.name = "x"},
                      %y: tensor<32xf32> {dpc.kind = "label", dpc.name = "y"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"}) {
  %a = nn.relu %x {dp.replica = 0 : i64, dp.stage = 1 : i64} : tensor<16xf32>
  %b = nn.tanh %x {dp.replica = 1 : i64, dp.stage = 1 : i64} : tensor<16xf32>
  %c = nn.add %a, %b {dp.replica = 1 : i64, dp.stage = 3 : i64} : (tensor<16xf32>, tensor<16xf32>) -> tensor<16xf32>
  %e = nn.sigmoid %x {dp.replica = 0 : i64, dp.stage = 3 : i64} : tensor<16xf32>
  %g = dp.gather %e, %c {dp.stage = 4 : i64} : (tensor<16xf32>, tensor<16xf32>) -> tensor<32xf32>
  %loss = nn.mse_loss %g, %y {dp.stage = 4 : i64} : tensor<32xf32>
  return %loss : tensor<f32>
}
