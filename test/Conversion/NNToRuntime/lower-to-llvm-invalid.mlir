// RUN: %dpc-opt %s -split-input-file --dpc-lower-to-llvm -verify-diagnostics

// dpc-plan-memory was not run.
// expected-error @below {{has no memory plan; run dpc-plan-memory first}}
func.func @train_step(%x: tensor<4xf32> {dpc.kind = "input", dpc.name = "x"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"}) {
  %0 = nn.relu %x : tensor<4xf32>
  %1 = nn.mse_loss %0, %x : tensor<4xf32>
  return %1 : tensor<f32>
}

// -----

// An op added after planning.
func.func @train_step(%x: tensor<4xf32> {dpc.kind = "input", dpc.name = "x"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"}) attributes {dpc.arena_bytes = 128 : i64} {
  // expected-error @below {{has no memory plan; run dpc-plan-memory first}}
  %0 = nn.relu %x : tensor<4xf32>
  %1 = nn.mse_loss %0, %x {dpc.offset = array<i64: 64>} : tensor<4xf32>
  return %1 : tensor<f32>
}

// -----

// Every result but the loss must be the in-place update of the argument of
// the same kind and name; a gradient (without an optimizer) is not.
func.func @train_step(%p: tensor<4xf32> {dpc.kind = "parameter", dpc.name = "p"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"},
        tensor<4xf32> {dpc.kind = "gradient", dpc.name = "p", dpc.parameter = "p"})
    attributes {dpc.arena_bytes = 128 : i64} {
  %loss = nn.fill 0.5 {dpc.offset = array<i64: 0>} : tensor<f32>
  %g = nn.scale %p, 2.0 {dpc.offset = array<i64: 64>} : tensor<4xf32>
  // expected-error @below {{result 1 ('p') is not an in-place update of an argument}}
  return %loss, %g : tensor<f32>, tensor<4xf32>
}

// -----

// Nor is an update of another parameter.
func.func @train_step(%p: tensor<4xf32> {dpc.kind = "parameter", dpc.name = "p"},
                      %q: tensor<4xf32> {dpc.kind = "parameter", dpc.name = "q"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"},
        tensor<4xf32> {dpc.kind = "parameter", dpc.name = "p"})
    attributes {dpc.arena_bytes = 128 : i64} {
  %loss = nn.fill 0.5 {dpc.offset = array<i64: 0>} : tensor<f32>
  %g = nn.scale %p, 2.0 {dpc.offset = array<i64: 64>} : tensor<4xf32>
  %nq = nn.sgd_update %q, %g {lr = 0.1 : f32, dpc.offset = array<i64: -1>} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  // expected-error @below {{result 1 ('p') is not an in-place update of an argument}}
  return %loss, %nq : tensor<f32>, tensor<4xf32>
}

// -----

// A bucket is averaged as one buffer, so the plan must have placed its
// operands back to back (here the second is 64 bytes after the first, which
// has 16).
func.func @train_step(%p: tensor<4xf32> {dpc.kind = "parameter", dpc.name = "p"},
                      %q: tensor<4xf32> {dpc.kind = "parameter", dpc.name = "q"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"},
        tensor<4xf32> {dpc.kind = "parameter", dpc.name = "p"},
        tensor<4xf32> {dpc.kind = "parameter", dpc.name = "q"})
    attributes {dpc.arena_bytes = 192 : i64} {
  %loss = nn.fill 0.5 {dpc.offset = array<i64: 0>} : tensor<f32>
  %gp = nn.scale %p, 2.0 {dpc.offset = array<i64: 64>} : tensor<4xf32>
  %gq = nn.scale %q, 2.0 {dpc.offset = array<i64: 128>} : tensor<4xf32>
  // expected-error @below {{bucket operands are not contiguous in the arena}}
  %t = dp.all_reduce_start %gp, %gq {bucket = 0 : i64, dpc.offset = array<i64: -1>} : tensor<4xf32>, tensor<4xf32>
  %avg:2 = dp.wait %t {dpc.offset = array<i64: -1, -1>} : tensor<4xf32>, tensor<4xf32>
  %np = nn.sgd_update %p, %avg#0 {lr = 0.1 : f32, dpc.offset = array<i64: -1>} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %nq = nn.sgd_update %q, %avg#1 {lr = 0.1 : f32, dpc.offset = array<i64: -1>} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %loss, %np, %nq : tensor<f32>, tensor<4xf32>, tensor<4xf32>
}

// -----

// Ops of other dialects have no runtime call.
func.func private @helper(tensor<4xf32>) -> tensor<4xf32>
func.func @train_step(%x: tensor<4xf32> {dpc.kind = "input", dpc.name = "x"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"}) attributes {dpc.arena_bytes = 128 : i64} {
  // expected-error @below {{cannot lower 'func.call' to runtime calls}}
  %0 = func.call @helper(%x) {dpc.offset = array<i64: 0>} : (tensor<4xf32>) -> tensor<4xf32>
  %1 = nn.mse_loss %0, %x {dpc.offset = array<i64: 64>} : tensor<4xf32>
  return %1 : tensor<f32>
}

// -----

// expected-error @below {{expected a function @train_step}}
module {
}
