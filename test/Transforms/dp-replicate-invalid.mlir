// RUN: %dpc-opt %s -split-input-file -verify-diagnostics --dpc-dp-replicate="devices=3 batch=10"

// Chunks of 4, 4 and 2: the forward for the last chunk is missing.
// expected-error @below {{the last of the 3 chunks has 2 samples: dpc-dp-replicate needs @forward_last, the forward imported for it}}
module {
  func.func @forward(%x: tensor<4x8xf32> {dpc.kind = "input", dpc.name = "x"}) -> tensor<4x8xf32> {
    return %x : tensor<4x8xf32>
  }
}

// -----

// The forward was imported for another chunk size.
// expected-error @below {{--mode dp scatters input 'x' along dimension 0 in chunks of 4 samples, but @forward takes 'tensor<5x8xf32>'}}
func.func @forward(%x: tensor<5x8xf32> {dpc.kind = "input", dpc.name = "x"}) -> tensor<5x8xf32> {
  return %x : tensor<5x8xf32>
}
func.func @forward_last(%x: tensor<2x8xf32> {dpc.kind = "input", dpc.name = "x"}) -> tensor<2x8xf32> {
  return %x : tensor<2x8xf32>
}

// -----

// The two imports disagree on anything but the batch dimension.
func.func @forward(%x: tensor<4x8xf32> {dpc.kind = "input", dpc.name = "x"},
                   %w: tensor<8xf32> {dpc.kind = "parameter", dpc.name = "w"}) -> tensor<4x8xf32> {
  %y = nn.mul %x, %w : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}
// expected-error @below {{@forward_last does not take the arguments of @forward}}
func.func @forward_last(%x: tensor<2x8xf32> {dpc.kind = "input", dpc.name = "x"},
                        %w: tensor<1xf32> {dpc.kind = "parameter", dpc.name = "w"}) -> tensor<2x8xf32> {
  %y = nn.mul %x, %w : (tensor<2x8xf32>, tensor<1xf32>) -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

// Outputs are gathered along dimension 0, so a replica must not return a
// scalar (nn.DataParallel would stack the replicas' losses into a vector).
// expected-error @below {{--mode dp gathers the replicas' outputs along dimension 0, but the forward returns 'tensor<f32>'}}
func.func @forward(%x: tensor<4x8xf32> {dpc.kind = "input", dpc.name = "x"}) -> tensor<f32> {
  %l = nn.mse_loss %x, %x : tensor<4x8xf32>
  return %l : tensor<f32>
}
func.func @forward_last(%x: tensor<2x8xf32> {dpc.kind = "input", dpc.name = "x"}) -> tensor<f32> {
  %l = nn.mse_loss %x, %x : tensor<2x8xf32>
  return %l : tensor<f32>
}

// -----

// A forward that returns updated buffers besides its output.
// expected-error @below {{--mode dp needs a forward that returns one tensor (the replicas' outputs are gathered), it returns 2 values}}
func.func @forward(%x: tensor<4x8xf32> {dpc.kind = "input", dpc.name = "x"}) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  return %x, %x : tensor<4x8xf32>, tensor<4x8xf32>
}
func.func @forward_last(%x: tensor<2x8xf32> {dpc.kind = "input", dpc.name = "x"}) -> (tensor<2x8xf32>, tensor<2x8xf32>) {
  return %x, %x : tensor<2x8xf32>, tensor<2x8xf32>
}
