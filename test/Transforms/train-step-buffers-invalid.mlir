// RUN: %dpc-opt %s -split-input-file --dpc-build-train-step -verify-diagnostics

// Only results marked as buffers may follow the forward's output.
// expected-error @below {{the model's forward must return one tensor, it returns 2 values}}
func.func @forward(%x: tensor<4x3xf32> {dpc.kind = "input", dpc.name = "x"},
                   %rm: tensor<3xf32> {dpc.kind = "buffer", dpc.name = "bn.running_mean"})
    -> (tensor<4x3xf32>, tensor<3xf32>, tensor<3xf32> {dpc.kind = "buffer", dpc.name = "bn.running_mean"}) {
  return %x, %rm, %rm : tensor<4x3xf32>, tensor<3xf32>, tensor<3xf32>
}
