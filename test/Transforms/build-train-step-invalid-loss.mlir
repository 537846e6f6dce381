// RUN: %dpc-opt %s --dpc-build-train-step="loss=hinge" -verify-diagnostics

// expected-error @below {{unknown loss 'hinge' (expected cross_entropy, mse or none)}}
module {
  func.func @forward(%x: tensor<4x8xf32> {dpc.kind = "input", dpc.name = "x"}) -> tensor<4x8xf32> {
    return %x : tensor<4x8xf32>
  }
}
