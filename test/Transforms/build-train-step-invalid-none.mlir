// RUN: %dpc-opt %s -split-input-file --dpc-build-train-step="loss=none" -verify-diagnostics

// expected-error @below {{--loss none needs a forward that returns the scalar loss, but it returns 'tensor<4x10xf32>'}}
func.func @forward(%x: tensor<4x8xf32> {dpc.kind = "input", dpc.name = "x"},
                   %w: tensor<10x8xf32> {dpc.kind = "parameter", dpc.name = "fc.weight"})
    -> tensor<4x10xf32> {
  %0 = nn.linear %x, %w : (tensor<4x8xf32>, tensor<10x8xf32>) -> tensor<4x10xf32>
  return %0 : tensor<4x10xf32>
}

// -----

// A one-element tensor is not a scalar.
// expected-error @below {{--loss none needs a forward that returns the scalar loss, but it returns 'tensor<1xf32>'}}
func.func @forward(%x: tensor<1xf32> {dpc.kind = "input", dpc.name = "x"}) -> tensor<1xf32> {
  return %x : tensor<1xf32>
}
