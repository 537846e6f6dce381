// Hyper-parameters are checked as torch.optim.Adam's constructor checks them.
// RUN: not %dpc-opt %s --dpc-adam="lr=-1" 2>&1 | FileCheck %s --check-prefix=LR
// RUN: not %dpc-opt %s --dpc-adam="beta1=1" 2>&1 | FileCheck %s --check-prefix=BETA1
// RUN: not %dpc-opt %s --dpc-adam="beta2=-0.5" 2>&1 | FileCheck %s --check-prefix=BETA2
// RUN: not %dpc-opt %s --dpc-adam="eps=-1e-8" 2>&1 | FileCheck %s --check-prefix=EPS
// RUN: not %dpc-opt %s --dpc-adam="weight-decay=-1 decoupled-weight-decay=true" 2>&1 | FileCheck %s --check-prefix=WD

// LR: error: invalid Adam hyper-parameters: lr=-1.000000e+00 betas=(9.000000e-01, 9.990000e-01) eps=1.000000e-08 weight_decay=0.000000e+00 (need lr, eps, weight_decay >= 0 and betas in [0, 1))
// BETA1: error: invalid Adam hyper-parameters: {{.*}} betas=(1.000000e+00, 9.990000e-01)
// BETA2: error: invalid Adam hyper-parameters: {{.*}} betas=(9.000000e-01, -5.000000e-01)
// EPS: error: invalid Adam hyper-parameters: {{.*}} eps=-1.000000e-08
// WD: error: invalid Adam hyper-parameters: {{.*}} weight_decay=-1.000000e+00

func.func @train_step(%w: tensor<8xf32> {dpc.kind = "parameter", dpc.name = "w"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"},
        tensor<8xf32> {dpc.kind = "gradient", dpc.name = "w", dpc.parameter = "w"}) {
  %loss = nn.fill 0.5 : tensor<f32>
  %g = nn.fill 1.0 : tensor<8xf32>
  return %loss, %g : tensor<f32>, tensor<8xf32>
}
