// RUN: %dpc-opt %s -split-input-file --dpc-autodiff -verify-diagnostics

// nn.copy has no VJP: differentiating through it is an error at the op.
func.func @train_step(%x: tensor<4x8xf32> {dpc.kind = "input", dpc.name = "x"},
                      %s: tensor<8xf32> {dpc.kind = "parameter", dpc.name = "s"},
                      %t: tensor<4x8xf32> {dpc.kind = "label", dpc.name = "label"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"}) {
  %0 = nn.mul %x, %s : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  // expected-error @below {{cannot differentiate through 'nn.copy'}}
  %1 = nn.copy %0 : tensor<4x8xf32>
  %2 = nn.mse_loss %1, %t : tensor<4x8xf32>
  return %2 : tensor<f32>
}

// -----

// Nor has nn.sum_to (it only appears in backward passes).
func.func @train_step(%x: tensor<4x8xf32> {dpc.kind = "input", dpc.name = "x"},
                      %w: tensor<4x8xf32> {dpc.kind = "parameter", dpc.name = "w"},
                      %t: tensor<8xf32> {dpc.kind = "label", dpc.name = "label"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"}) {
  %0 = nn.mul %x, %w : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  // expected-error @below {{cannot differentiate through 'nn.sum_to'}}
  %1 = nn.sum_to %0 : tensor<4x8xf32> to tensor<8xf32>
  %2 = nn.mse_loss %1, %t : tensor<8xf32>
  return %2 : tensor<f32>
}

// -----

// Gradients have already been added.
// expected-error @below {{expected @train_step to return only the loss; run dpc-build-train-step first}}
func.func @train_step(%w: tensor<8xf32> {dpc.kind = "parameter", dpc.name = "w"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"},
        tensor<8xf32> {dpc.kind = "gradient", dpc.name = "w", dpc.parameter = "w"}) {
  %0 = nn.fill 1.0 : tensor<f32>
  return %0, %w : tensor<f32>, tensor<8xf32>
}

// -----

// The result is not marked as the loss.
// expected-error @below {{expected @train_step to return only the loss; run dpc-build-train-step first}}
func.func @train_step(%w: tensor<8xf32> {dpc.kind = "parameter", dpc.name = "w"}) -> tensor<8xf32> {
  return %w : tensor<8xf32>
}

// -----

// expected-error @below {{expected a function @train_step}}
module {
  func.func @forward(%w: tensor<8xf32>) -> tensor<8xf32> {
    return %w : tensor<8xf32>
  }
}
