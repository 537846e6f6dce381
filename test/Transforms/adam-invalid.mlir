// RUN: %dpc-opt %s -split-input-file --dpc-adam -verify-diagnostics

// expected-error @below {{expected @train_step to return the loss and gradients; run dpc-autodiff first}}
func.func @train_step(%w: tensor<8xf32> {dpc.kind = "parameter", dpc.name = "w"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"}) {
  %loss = nn.fill 0.5 : tensor<f32>
  return %loss : tensor<f32>
}

// -----

// expected-error @below {{gradient 'v' has no parameter argument}}
func.func @train_step(%w: tensor<8xf32> {dpc.kind = "parameter", dpc.name = "w"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"},
        tensor<8xf32> {dpc.kind = "gradient", dpc.name = "v", dpc.parameter = "v"}) {
  %loss = nn.fill 0.5 : tensor<f32>
  %g = nn.fill 1.0 : tensor<8xf32>
  return %loss, %g : tensor<f32>, tensor<8xf32>
}
