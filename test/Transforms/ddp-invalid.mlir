// RUN: %dpc-opt %s -split-input-file --dpc-ddp -verify-diagnostics

// expected-error @below {{@train_step returns no gradients; run dpc-autodiff first}}
func.func @train_step(%p: tensor<4x8xf32> {dpc.kind = "parameter", dpc.name = "p"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"}) {
  %loss = nn.fill 0.5 : tensor<f32>
  return %loss : tensor<f32>
}

// -----

// expected-error @below {{expected a function @train_step}}
module {
  func.func @forward(%p: tensor<4x8xf32>) -> tensor<4x8xf32> {
    return %p : tensor<4x8xf32>
  }
}
