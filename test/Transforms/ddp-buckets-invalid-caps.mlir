// RUN: not %dpc-opt %s --dpc-ddp-buckets="bucket-cap-mb=0" 2>&1 | FileCheck %s
// RUN: not %dpc-opt %s --dpc-ddp-buckets="first-bucket-mb=-1" 2>&1 | FileCheck %s
// CHECK: error: bucket caps must be positive

func.func @train_step(%p: tensor<4xf32> {dpc.kind = "parameter", dpc.name = "p"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"},
        tensor<4xf32> {dpc.kind = "gradient", dpc.name = "p", dpc.parameter = "p"}) {
  %loss = nn.fill 0.5 : tensor<f32>
  %g = nn.scale %p, 2.0 : tensor<4xf32>
  %g_avg = dp.all_reduce %g : tensor<4xf32>
  return %loss, %g_avg : tensor<f32>, tensor<4xf32>
}
