// RUN: %dpc-opt %s -split-input-file --dpc-accumulate="micro-batches=2" -verify-diagnostics

// expected-error @below {{expected @train_step to return the loss and gradients; run dpc-autodiff first}}
func.func @train_step(%x: tensor<4xf32> {dpc.kind = "input", dpc.name = "x"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"}) {
  %loss = nn.fill 0.5 : tensor<f32>
  return %loss : tensor<f32>
}

// -----

// expected-error @below {{gradient accumulation splits every input and label along its first (batch) dimension, but input 's' is a scalar}}
func.func @train_step(%s: tensor<f32> {dpc.kind = "input", dpc.name = "s"},
                      %w: tensor<8xf32> {dpc.kind = "parameter", dpc.name = "w"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"},
        tensor<8xf32> {dpc.kind = "gradient", dpc.name = "w", dpc.parameter = "w"}) {
  %g = nn.fill 1.0 : tensor<8xf32>
  return %s, %g : tensor<f32>, tensor<8xf32>
}

// -----

// expected-error @below {{result 1 of @train_step is a 'parameter'; dpc-accumulate runs between dpc-autodiff and the optimizer}}
func.func @train_step(%x: tensor<4xf32> {dpc.kind = "input", dpc.name = "x"},
                      %w: tensor<8xf32> {dpc.kind = "parameter", dpc.name = "w"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"},
        tensor<8xf32> {dpc.kind = "parameter", dpc.name = "w"}) {
  %loss = nn.fill 0.5 : tensor<f32>
  return %loss, %w : tensor<f32>, tensor<8xf32>
}

// -----

// expected-error @below {{updated buffer 'b' has no buffer argument}}
func.func @train_step(%x: tensor<4xf32> {dpc.kind = "input", dpc.name = "x"},
                      %w: tensor<8xf32> {dpc.kind = "parameter", dpc.name = "w"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"},
        tensor<8xf32> {dpc.kind = "buffer", dpc.name = "b"},
        tensor<8xf32> {dpc.kind = "gradient", dpc.name = "w", dpc.parameter = "w"}) {
  %loss = nn.fill 0.5 : tensor<f32>
  %g = nn.fill 1.0 : tensor<8xf32>
  return %loss, %g, %g : tensor<f32>, tensor<8xf32>, tensor<8xf32>
}
