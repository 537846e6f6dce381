// RUN: not %dpc-opt %s --dpc-accumulate="micro-batches=0" 2>&1 | FileCheck %s
// CHECK: error: the number of micro-batches must be at least 1, got 0

func.func @train_step(%x: tensor<4x8xf32> {dpc.kind = "input", dpc.name = "x"},
                      %w: tensor<8xf32> {dpc.kind = "parameter", dpc.name = "w"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"},
        tensor<8xf32> {dpc.kind = "gradient", dpc.name = "w", dpc.parameter = "w"}) {
  %loss = nn.fill 0.5 : tensor<f32>
  %g = nn.fill 1.0 : tensor<8xf32>
  return %loss, %g : tensor<f32>, tensor<8xf32>
}
