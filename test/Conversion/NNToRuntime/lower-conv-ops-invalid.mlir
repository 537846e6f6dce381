// RUN: %dpc-opt %s -split-input-file --dpc-plan-memory --dpc-lower-to-llvm -verify-diagnostics

// nn.batch_norm and nn.increment write their new values over their
// operands: reading an old value afterwards would see the new one, so it is
// an error at the op.

func.func @train_step(%x: tensor<4x3xf32> {dpc.kind = "input", dpc.name = "x"},
                      %w: tensor<3xf32> {dpc.kind = "parameter", dpc.name = "bn.weight"},
                      %rm: tensor<3xf32> {dpc.kind = "buffer", dpc.name = "bn.running_mean"},
                      %rv: tensor<3xf32> {dpc.kind = "buffer", dpc.name = "bn.running_var"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"}) {
  // expected-error @below {{the running mean is updated in place here but its old value is read afterwards by 'nn.add'}}
  %y:5 = nn.batch_norm %x, %w, %w, %rm, %rv {momentum = 0.1, eps = 1.0e-5}
      : (tensor<4x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>)
      -> (tensor<4x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>)
  %z = nn.add %y#0, %rm : (tensor<4x3xf32>, tensor<3xf32>) -> tensor<4x3xf32>
  %t = nn.fill 0.0 : tensor<4x3xf32>
  %loss = nn.mse_loss %z, %t : tensor<4x3xf32>
  return %loss : tensor<f32>
}

// -----

// A view of the old value counts as the old value.
func.func @train_step(%x: tensor<4x3xf32> {dpc.kind = "input", dpc.name = "x"},
                      %w: tensor<3xf32> {dpc.kind = "parameter", dpc.name = "bn.weight"},
                      %rm: tensor<3xf32> {dpc.kind = "buffer", dpc.name = "bn.running_mean"},
                      %rv: tensor<3xf32> {dpc.kind = "buffer", dpc.name = "bn.running_var"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"}) {
  %v = nn.reshape %rv : tensor<3xf32> to tensor<1x3xf32>
  // expected-error @below {{the running variance is updated in place here but its old value is read afterwards by 'nn.mul'}}
  %y:5 = nn.batch_norm %x, %w, %w, %rm, %rv {momentum = 0.1, eps = 1.0e-5}
      : (tensor<4x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>)
      -> (tensor<4x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>)
  %z = nn.mul %y#0, %v : (tensor<4x3xf32>, tensor<1x3xf32>) -> tensor<4x3xf32>
  %t = nn.fill 0.0 : tensor<4x3xf32>
  %loss = nn.mse_loss %z, %t : tensor<4x3xf32>
  return %loss : tensor<f32>
}

// -----

func.func @train_step(%x: tensor<4x3xf32> {dpc.kind = "input", dpc.name = "x"},
                      %n: tensor<i64> {dpc.kind = "buffer", dpc.name = "n"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"},
        tensor<i64> {dpc.kind = "buffer", dpc.name = "n"},
        tensor<i64> {dpc.kind = "buffer", dpc.name = "n"}) {
  // expected-error @below {{the counter is updated in place here but its old value is read afterwards by 'nn.increment'}}
  %n1 = nn.increment %n : tensor<i64>
  %n2 = nn.increment %n : tensor<i64>
  %t = nn.fill 0.0 : tensor<4x3xf32>
  %loss = nn.mse_loss %x, %t : tensor<4x3xf32>
  return %loss, %n1, %n2 : tensor<f32>, tensor<i64>, tensor<i64>
}
