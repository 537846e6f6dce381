// RUN: %dpc-opt %s -split-input-file --dpc-plan-memory -verify-diagnostics

// A bucket's buffer is made of intermediates the step computes into it: a
// function argument cannot be part of it.
func.func @train_step(%p: tensor<4xf32> {dpc.kind = "parameter", dpc.name = "p"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"},
        tensor<4xf32> {dpc.kind = "gradient", dpc.name = "p", dpc.parameter = "p"}) {
  %loss = nn.fill 0.5 : tensor<f32>
  // expected-error @below {{bucket operands must be distinct intermediate values (run dpc-ddp-buckets)}}
  %t = dp.all_reduce_start %p {bucket = 0 : i64} : tensor<4xf32>
  %avg = dp.wait %t : tensor<4xf32>
  return %loss, %avg : tensor<f32>, tensor<4xf32>
}

// -----

// Nor can one value sit twice in a bucket.
func.func @train_step(%p: tensor<4xf32> {dpc.kind = "parameter", dpc.name = "p"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"},
        tensor<4xf32> {dpc.kind = "gradient", dpc.name = "p", dpc.parameter = "p"},
        tensor<4xf32> {dpc.kind = "gradient", dpc.name = "q", dpc.parameter = "q"}) {
  %loss = nn.fill 0.5 : tensor<f32>
  %g = nn.scale %p, 2.0 : tensor<4xf32>
  // expected-error @below {{bucket operands must be distinct intermediate values (run dpc-ddp-buckets)}}
  %t = dp.all_reduce_start %g, %g {bucket = 0 : i64} : tensor<4xf32>, tensor<4xf32>
  %avg:2 = dp.wait %t : tensor<4xf32>, tensor<4xf32>
  return %loss, %avg#0, %avg#1 : tensor<f32>, tensor<4xf32>, tensor<4xf32>
}

// -----

// expected-error @below {{expected a function @train_step}}
module {
}
