// Hyper-parameters are checked as torch.optim.SGD checks them.
// RUN: not %dpc-opt %s --dpc-sgd="lr=0" 2>&1 | FileCheck %s --check-prefix=LR-ZERO
// RUN: not %dpc-opt %s --dpc-sgd="lr=-1" 2>&1 | FileCheck %s --check-prefix=LR-NEGATIVE
// RUN: not %dpc-opt %s --dpc-sgd="momentum=-0.5" 2>&1 | FileCheck %s --check-prefix=MOMENTUM
// RUN: not %dpc-opt %s --dpc-sgd="weight-decay=-1" 2>&1 | FileCheck %s --check-prefix=WEIGHT-DECAY
// RUN: not %dpc-opt %s --dpc-sgd="nesterov=true" 2>&1 | FileCheck %s --check-prefix=NESTEROV
// RUN: not %dpc-opt %s --dpc-sgd="nesterov=true momentum=0.9 dampening=0.1" 2>&1 | FileCheck %s --check-prefix=NESTEROV

// LR-ZERO: error: invalid SGD hyper-parameters: lr=0.000000e+00 momentum=0.000000e+00 weight_decay=0.000000e+00
// LR-NEGATIVE: error: invalid SGD hyper-parameters: lr=-1.000000e+00 momentum=0.000000e+00 weight_decay=0.000000e+00
// MOMENTUM: error: invalid SGD hyper-parameters: lr=1.000000e-02 momentum=-5.000000e-01 weight_decay=0.000000e+00
// WEIGHT-DECAY: error: invalid SGD hyper-parameters: lr=1.000000e-02 momentum=0.000000e+00 weight_decay=-1.000000e+00
// NESTEROV: error: nesterov momentum requires a momentum and zero dampening (as torch.optim.SGD)

func.func @train_step(%w: tensor<8xf32> {dpc.kind = "parameter", dpc.name = "w"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"},
        tensor<8xf32> {dpc.kind = "gradient", dpc.name = "w", dpc.parameter = "w"}) {
  %loss = nn.fill 0.5 : tensor<f32>
  %g = nn.fill 1.0 : tensor<8xf32>
  return %loss, %g : tensor<f32>, tensor<8xf32>
}
