// RUN: %dpc-opt %s -split-input-file --dpc-ddp-buckets -verify-diagnostics

// An averaged gradient read before the last gradient of its bucket exists
// cannot wait for the bucket.
func.func @train_step(%p: tensor<4xf32> {dpc.kind = "parameter", dpc.name = "p"},
                      %q: tensor<4xf32> {dpc.kind = "parameter", dpc.name = "q"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"},
        tensor<4xf32> {dpc.kind = "gradient", dpc.name = "p", dpc.parameter = "p"},
        tensor<4xf32> {dpc.kind = "gradient", dpc.name = "q", dpc.parameter = "q"}) {
  %loss = nn.fill 0.5 : tensor<f32>
  %g1 = nn.scale %p, 2.0 : tensor<4xf32>
  %g1_avg = dp.all_reduce %g1 : tensor<4xf32>
  // expected-error @below {{uses an averaged gradient before the last gradient of its bucket is ready}}
  %g2 = nn.mul %q, %g1_avg : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %g2_avg = dp.all_reduce %g2 : tensor<4xf32>
  return %loss, %g1_avg, %g2_avg : tensor<f32>, tensor<4xf32>, tensor<4xf32>
}

// -----

// expected-error @below {{expected a function @train_step}}
module {
}
