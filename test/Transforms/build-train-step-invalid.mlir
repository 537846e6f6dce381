// RUN: %dpc-opt %s -split-input-file --dpc-build-train-step -verify-diagnostics

// expected-error @below {{the model's forward must return one tensor, it returns 2 values}}
func.func @forward(%x: tensor<4x8xf32> {dpc.kind = "input", dpc.name = "x"})
    -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %0 = nn.relu %x : tensor<4x8xf32>
  return %0, %x : tensor<4x8xf32>, tensor<4x8xf32>
}

// -----

// expected-error @below {{the model's forward must return one tensor, it returns 0 values}}
func.func @forward(%x: tensor<4x8xf32> {dpc.kind = "input", dpc.name = "x"}) {
  return
}

// -----

// Logits [N, C] or a language model's [B, T, V]
// (build-train-step-lm-logits.mlir); nothing of higher rank.
// expected-error @below {{cross_entropy needs logits [N, C] or language-model logits [B, T, V], the forward returns 'tensor<2x4x8x3xf32>'}}
func.func @forward(%x: tensor<2x4x8x3xf32> {dpc.kind = "input", dpc.name = "x"}) -> tensor<2x4x8x3xf32> {
  %0 = nn.relu %x : tensor<2x4x8x3xf32>
  return %0 : tensor<2x4x8x3xf32>
}

// -----

// expected-error @below {{the loss needs a float32 (or float64) tensor output, got 'tensor<4x8xi64>'}}
func.func @forward(%x: tensor<4x8xi64> {dpc.kind = "input", dpc.name = "x"}) -> tensor<4x8xi64> {
  return %x : tensor<4x8xi64>
}

// -----

// expected-error @below {{expected a function @forward}}
module {
  func.func @train_step(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
    return %x : tensor<4x8xf32>
  }
}
