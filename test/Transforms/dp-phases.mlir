// RUN: %dpc-opt %s -split-input-file --dpc-dp-phases | FileCheck %s

// dpc-dp-phases groups a --mode dp step into stages: odd stages hold the
// replicas' ops (run concurrently), even stages device-0 ops. Each op takes
// the earliest stage its operands allow, and the block is sorted by stage,
// stable within a stage.

// The step of a 2-replica linear + relu model after autodiff and SGD, as
// the earlier passes leave it: replica 1's backward before replica 0's,
// the loss gradient's seed in the middle. It becomes five stages:
// replicate (+ the seed, which needs nothing), forward, gather + loss +
// its gradient, backward, reduce-add + update.
// CHECK-LABEL: func.func @train_step(
// CHECK-NEXT: dp.replicate {{.*}} {dp.stage = 0 : i64}
// CHECK-NEXT: nn.fill {{.*}} {dp.stage = 0 : i64}
// CHECK-NEXT: dp.scatter {{.*}} {dp.replica = 0 : i64, dp.stage = 1 : i64, offset = 0 : i64}
// CHECK-NEXT: nn.linear {{.*}} {dp.replica = 0 : i64, dp.stage = 1 : i64}
// CHECK-NEXT: nn.relu {{.*}} {dp.replica = 0 : i64, dp.stage = 1 : i64}
// CHECK-NEXT: dp.scatter {{.*}} {dp.replica = 1 : i64, dp.stage = 1 : i64, offset = 4 : i64}
// CHECK-NEXT: nn.linear {{.*}} {dp.replica = 1 : i64, dp.stage = 1 : i64}
// CHECK-NEXT: nn.relu {{.*}} {dp.replica = 1 : i64, dp.stage = 1 : i64}
// CHECK-NEXT: dp.gather {{.*}} {dp.stage = 2 : i64}
// CHECK-NEXT: nn.cross_entropy {{.*}} {dp.stage = 2 : i64}
// CHECK-NEXT: nn.cross_entropy_grad {{.*}} {dp.stage = 2 : i64}
// CHECK-NEXT: dp.scatter {{.*}} {dp.replica = 0 : i64, dp.stage = 3 : i64, offset = 0 : i64}
// CHECK-NEXT: dp.scatter {{.*}} {dp.replica = 1 : i64, dp.stage = 3 : i64, offset = 4 : i64}
// CHECK-NEXT: nn.relu_grad {{.*}} {dp.replica = 1 : i64, dp.stage = 3 : i64}
// CHECK-NEXT: nn.matmul {{.*}} {dp.replica = 1 : i64, dp.stage = 3 : i64, transpose_lhs}
// CHECK-NEXT: nn.relu_grad {{.*}} {dp.replica = 0 : i64, dp.stage = 3 : i64}
// CHECK-NEXT: nn.matmul {{.*}} {dp.replica = 0 : i64, dp.stage = 3 : i64, transpose_lhs}
// CHECK-NEXT: dp.reduce_add {{.*}} {dp.stage = 4 : i64}
// CHECK-NEXT: nn.sgd_update {{.*}} {dp.stage = 4 : i64, lr = 1.000000e-01 : f32}
// CHECK-NEXT: return
func.func @train_step(%x: tensor<8x6xf32> {dpc.kind = "input", dpc.name = "x"},
                      %w: tensor<3x6xf32> {dpc.kind = "parameter", dpc.name = "w"},
                      %y: tensor<8xi64> {dpc.kind = "label", dpc.name = "y"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"},
        tensor<3x6xf32> {dpc.kind = "parameter", dpc.name = "w"}) {
  %c:2 = dp.replicate %w : tensor<3x6xf32> -> tensor<3x6xf32>, tensor<3x6xf32>
  %x0 = dp.scatter %x {dp.replica = 0 : i64, offset = 0 : i64} : tensor<8x6xf32> to tensor<4x6xf32>
  %a0 = nn.linear %x0, %c#0 {dp.replica = 0 : i64} : (tensor<4x6xf32>, tensor<3x6xf32>) -> tensor<4x3xf32>
  %r0 = nn.relu %a0 {dp.replica = 0 : i64} : tensor<4x3xf32>
  %x1 = dp.scatter %x {dp.replica = 1 : i64, offset = 4 : i64} : tensor<8x6xf32> to tensor<4x6xf32>
  %a1 = nn.linear %x1, %c#1 {dp.replica = 1 : i64} : (tensor<4x6xf32>, tensor<3x6xf32>) -> tensor<4x3xf32>
  %r1 = nn.relu %a1 {dp.replica = 1 : i64} : tensor<4x3xf32>
  %out = dp.gather %r0, %r1 : (tensor<4x3xf32>, tensor<4x3xf32>) -> tensor<8x3xf32>
  %loss = nn.cross_entropy %out, %y : tensor<8x3xf32>, tensor<8xi64>
  %seed = nn.fill 1.0 : tensor<f32>
  %dout = nn.cross_entropy_grad %seed, %out, %y : (tensor<f32>, tensor<8x3xf32>, tensor<8xi64>) -> tensor<8x3xf32>
  %d0 = dp.scatter %dout {dp.replica = 0 : i64, offset = 0 : i64} : tensor<8x3xf32> to tensor<4x3xf32>
  %d1 = dp.scatter %dout {dp.replica = 1 : i64, offset = 4 : i64} : tensor<8x3xf32> to tensor<4x3xf32>
  %da1 = nn.relu_grad %d1, %a1 {dp.replica = 1 : i64} : tensor<4x3xf32>
  %dw1 = nn.matmul %da1, %x1 {dp.replica = 1 : i64, transpose_lhs} : (tensor<4x3xf32>, tensor<4x6xf32>) -> tensor<3x6xf32>
  %da0 = nn.relu_grad %d0, %a0 {dp.replica = 0 : i64} : tensor<4x3xf32>
  %dw0 = nn.matmul %da0, %x0 {dp.replica = 0 : i64, transpose_lhs} : (tensor<4x3xf32>, tensor<4x6xf32>) -> tensor<3x6xf32>
  %dw = dp.reduce_add %dw0, %dw1 : tensor<3x6xf32>
  %new = nn.sgd_update %w, %dw {lr = 0.1 : f32} : (tensor<3x6xf32>, tensor<3x6xf32>) -> tensor<3x6xf32>
  return %loss, %new : tensor<f32>, tensor<3x6xf32>
}

// -----

// An op of replica 1 that reads a value of replica 0 cannot run in the same
// concurrent stage: it goes to the next one.
// CHECK-LABEL: func.func @train_step(
// CHECK-NEXT: nn.relu {{.*}} {dp.replica = 0 : i64, dp.stage = 1 : i64}
// CHECK-NEXT: nn.tanh {{.*}} {dp.replica = 1 : i64, dp.stage = 1 : i64}
// CHECK-NEXT: nn.add {{.*}} {dp.replica = 1 : i64, dp.stage = 3 : i64}
// CHECK-NEXT: nn.mse_loss {{.*}} {dp.stage = 4 : i64}
func.func @train_step(%x: tensor<4xf32> {dpc.kind = "input", dpc.name = "x"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"}) {
  %a = nn.relu %x {dp.replica = 0 : i64} : tensor<4xf32>
  %b = nn.tanh %x {dp.replica = 1 : i64} : tensor<4xf32>
  %c = nn.add %a, %b {dp.replica = 1 : i64} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %loss = nn.mse_loss %c, %x : tensor<4xf32>
  return %loss : tensor<f32>
}

// -----

// An update in place must wait for every earlier reader of its parameter,
// including the replicas reading their copies (views of the parameter),
// although its operands are ready before them.
// CHECK-LABEL: func.func @train_step(
// CHECK-NEXT: dp.replicate {{.*}} {dp.stage = 0 : i64}
// CHECK-NEXT: nn.fill {{.*}} {dp.stage = 0 : i64}
// CHECK-NEXT: nn.relu {{.*}} {dp.replica = 0 : i64, dp.stage = 1 : i64}
// CHECK-NEXT: nn.relu {{.*}} {dp.replica = 1 : i64, dp.stage = 1 : i64}
// CHECK-NEXT: nn.sgd_update {{.*}} {dp.stage = 2 : i64, lr = 1.000000e-01 : f32}
// CHECK-NEXT: dp.reduce_add {{.*}} {dp.stage = 2 : i64}
// CHECK-NEXT: nn.mse_loss {{.*}} {dp.stage = 2 : i64}
func.func @train_step(%w: tensor<4xf32> {dpc.kind = "parameter", dpc.name = "w"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"},
        tensor<4xf32> {dpc.kind = "parameter", dpc.name = "w"}) {
  %c:2 = dp.replicate %w : tensor<4xf32> -> tensor<4xf32>, tensor<4xf32>
  %a = nn.relu %c#0 {dp.replica = 0 : i64} : tensor<4xf32>
  %b = nn.relu %c#1 {dp.replica = 1 : i64} : tensor<4xf32>
  %g = nn.fill 1.0 : tensor<4xf32>
  %new = nn.sgd_update %w, %g {lr = 0.1 : f32} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %ab = dp.reduce_add %a, %b : tensor<4xf32>
  %loss = nn.mse_loss %ab, %g : tensor<4xf32>
  return %loss, %new : tensor<f32>, tensor<4xf32>
}
