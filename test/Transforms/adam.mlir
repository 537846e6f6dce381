// RUN: %dpc-opt %s --dpc-adam | FileCheck %s --check-prefix=ADAM
// RUN: %dpc-opt %s --dpc-adam="lr=0.05 beta1=0.8 beta2=0.99 eps=1e-6 weight-decay=0.01 decoupled-weight-decay=true" | FileCheck %s --check-prefix=ADAMW

// dpc-adam replaces the gradient results by torch.optim.Adam updates of
// their parameters: two moments per updated parameter become optimizer
// state arguments (exp_avg, exp_avg_sq, interleaved in parameter order; the
// unused parameter gets none), the updates come last in the order the
// averaged gradients become ready (fc2 before fc1), and the results are the
// loss, the updated parameters in argument order, then their moments.

// ADAM-LABEL: func.func @train_step(
// ADAM-SAME: %[[X:[^:]*]]: tensor<4x8xf32> {dpc.kind = "input", dpc.name = "x"},
// ADAM-SAME: %[[W1:[^:]*]]: tensor<16x8xf32> {dpc.kind = "parameter", dpc.name = "fc1.weight"},
// ADAM-SAME: %[[B1:[^:]*]]: tensor<16xf32> {dpc.kind = "parameter", dpc.name = "fc1.bias"},
// ADAM-SAME: %[[U:[^:]*]]: tensor<3xf32> {dpc.kind = "parameter", dpc.name = "unused", dpc.unused},
// ADAM-SAME: %[[W2:[^:]*]]: tensor<10x16xf32> {dpc.kind = "parameter", dpc.name = "fc2.weight"},
// ADAM-SAME: %[[B2:[^:]*]]: tensor<10xf32> {dpc.kind = "parameter", dpc.name = "fc2.bias"},
// ADAM-SAME: %[[LABEL:[^:]*]]: tensor<4xi64> {dpc.kind = "label", dpc.name = "label"},
// ADAM-SAME: %[[W1_M:[^:]*]]: tensor<16x8xf32> {dpc.kind = "optimizer_state", dpc.name = "fc1.weight.exp_avg", dpc.parameter = "fc1.weight"},
// ADAM-SAME: %[[W1_V:[^:]*]]: tensor<16x8xf32> {dpc.kind = "optimizer_state", dpc.name = "fc1.weight.exp_avg_sq", dpc.parameter = "fc1.weight"},
// ADAM-SAME: %[[B1_M:[^:]*]]: tensor<16xf32> {dpc.kind = "optimizer_state", dpc.name = "fc1.bias.exp_avg", dpc.parameter = "fc1.bias"},
// ADAM-SAME: %[[B1_V:[^:]*]]: tensor<16xf32> {dpc.kind = "optimizer_state", dpc.name = "fc1.bias.exp_avg_sq", dpc.parameter = "fc1.bias"},
// ADAM-SAME: %[[W2_M:[^:]*]]: tensor<10x16xf32> {dpc.kind = "optimizer_state", dpc.name = "fc2.weight.exp_avg", dpc.parameter = "fc2.weight"},
// ADAM-SAME: %[[W2_V:[^:]*]]: tensor<10x16xf32> {dpc.kind = "optimizer_state", dpc.name = "fc2.weight.exp_avg_sq", dpc.parameter = "fc2.weight"},
// ADAM-SAME: %[[B2_M:[^:]*]]: tensor<10xf32> {dpc.kind = "optimizer_state", dpc.name = "fc2.bias.exp_avg", dpc.parameter = "fc2.bias"},
// ADAM-SAME: %[[B2_V:[^:]*]]: tensor<10xf32> {dpc.kind = "optimizer_state", dpc.name = "fc2.bias.exp_avg_sq", dpc.parameter = "fc2.bias"})
// ADAM-SAME: -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"},
// ADAM-SAME: tensor<16x8xf32> {dpc.kind = "parameter", dpc.name = "fc1.weight"},
// ADAM-SAME: tensor<16xf32> {dpc.kind = "parameter", dpc.name = "fc1.bias"},
// ADAM-SAME: tensor<10x16xf32> {dpc.kind = "parameter", dpc.name = "fc2.weight"},
// ADAM-SAME: tensor<10xf32> {dpc.kind = "parameter", dpc.name = "fc2.bias"},
// ADAM-SAME: tensor<16x8xf32> {dpc.kind = "optimizer_state", dpc.name = "fc1.weight.exp_avg", dpc.parameter = "fc1.weight"},
// ADAM-SAME: tensor<16x8xf32> {dpc.kind = "optimizer_state", dpc.name = "fc1.weight.exp_avg_sq", dpc.parameter = "fc1.weight"},
// ADAM-SAME: tensor<16xf32> {dpc.kind = "optimizer_state", dpc.name = "fc1.bias.exp_avg", dpc.parameter = "fc1.bias"},
// ADAM-SAME: tensor<16xf32> {dpc.kind = "optimizer_state", dpc.name = "fc1.bias.exp_avg_sq", dpc.parameter = "fc1.bias"},
// ADAM-SAME: tensor<10x16xf32> {dpc.kind = "optimizer_state", dpc.name = "fc2.weight.exp_avg", dpc.parameter = "fc2.weight"},
// ADAM-SAME: tensor<10x16xf32> {dpc.kind = "optimizer_state", dpc.name = "fc2.weight.exp_avg_sq", dpc.parameter = "fc2.weight"},
// ADAM-SAME: tensor<10xf32> {dpc.kind = "optimizer_state", dpc.name = "fc2.bias.exp_avg", dpc.parameter = "fc2.bias"},
// ADAM-SAME: tensor<10xf32> {dpc.kind = "optimizer_state", dpc.name = "fc2.bias.exp_avg_sq", dpc.parameter = "fc2.bias"})
// ADAM: %[[LOSS:.*]] = nn.cross_entropy
// ADAM: %[[DW2:.*]] = dp.all_reduce
// ADAM: %[[DB2:.*]] = dp.all_reduce
// ADAM: %[[DW1:.*]] = dp.all_reduce
// ADAM: %[[DB1:.*]] = dp.all_reduce
// The defaults are torch.optim.Adam's: lr 1e-3, betas (0.9, 0.999), eps 1e-8,
// no weight decay (the default value, not printed); the hyper-parameters
// stay f64 like Python's floats.
// ADAM-NEXT: %[[NW2:.*]], %[[NW2_M:.*]], %[[NW2_V:.*]] = nn.adam_update %[[W2]], %[[DW2]], %[[W2_M]], %[[W2_V]] {beta1 = 9.000000e-01 : f64, beta2 = 0.99899999999999999 : f64, eps = 1.000000e-08 : f64, lr = 1.000000e-03 : f64} : tensor<10x16xf32>
// ADAM-NEXT: %[[NB2:.*]], %[[NB2_M:.*]], %[[NB2_V:.*]] = nn.adam_update %[[B2]], %[[DB2]], %[[B2_M]], %[[B2_V]] {{.*}} : tensor<10xf32>
// ADAM-NEXT: %[[NW1:.*]], %[[NW1_M:.*]], %[[NW1_V:.*]] = nn.adam_update %[[W1]], %[[DW1]], %[[W1_M]], %[[W1_V]] {{.*}} : tensor<16x8xf32>
// ADAM-NEXT: %[[NB1:.*]], %[[NB1_M:.*]], %[[NB1_V:.*]] = nn.adam_update %[[B1]], %[[DB1]], %[[B1_M]], %[[B1_V]] {{.*}} : tensor<16xf32>
// ADAM-NEXT: return %[[LOSS]], %[[NW1]], %[[NB1]], %[[NW2]], %[[NB2]], %[[NW1_M]], %[[NW1_V]], %[[NB1_M]], %[[NB1_V]], %[[NW2_M]], %[[NW2_V]], %[[NB2_M]], %[[NB2_V]] :

// AdamW is the same update with decoupled weight decay.
// ADAMW-LABEL: func.func @train_step(
// ADAMW-COUNT-4: nn.adam_update %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {beta1 = 8.000000e-01 : f64, beta2 = 0.98999999999999999 : f64, decoupled_weight_decay, eps = 9.9999999999999995E-7 : f64, lr = 5.000000e-02 : f64, weight_decay = 1.000000e-02 : f64}
// ADAMW-NEXT: return

func.func @train_step(%x: tensor<4x8xf32> {dpc.kind = "input", dpc.name = "x"},
                      %w1: tensor<16x8xf32> {dpc.kind = "parameter", dpc.name = "fc1.weight"},
                      %b1: tensor<16xf32> {dpc.kind = "parameter", dpc.name = "fc1.bias"},
                      %u: tensor<3xf32> {dpc.kind = "parameter", dpc.name = "unused", dpc.unused},
                      %w2: tensor<10x16xf32> {dpc.kind = "parameter", dpc.name = "fc2.weight"},
                      %b2: tensor<10xf32> {dpc.kind = "parameter", dpc.name = "fc2.bias"},
                      %label: tensor<4xi64> {dpc.kind = "label", dpc.name = "label"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"},
        tensor<16x8xf32> {dpc.kind = "gradient", dpc.name = "fc1.weight", dpc.parameter = "fc1.weight"},
        tensor<16xf32> {dpc.kind = "gradient", dpc.name = "fc1.bias", dpc.parameter = "fc1.bias"},
        tensor<10x16xf32> {dpc.kind = "gradient", dpc.name = "fc2.weight", dpc.parameter = "fc2.weight"},
        tensor<10xf32> {dpc.kind = "gradient", dpc.name = "fc2.bias", dpc.parameter = "fc2.bias"}) {
  %h = nn.linear %x, %w1, %b1 : (tensor<4x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  %a = nn.relu %h : tensor<4x16xf32>
  %y = nn.linear %a, %w2, %b2 : (tensor<4x16xf32>, tensor<10x16xf32>, tensor<10xf32>) -> tensor<4x10xf32>
  %loss = nn.cross_entropy %y, %label : tensor<4x10xf32>, tensor<4xi64>
  %seed = nn.fill 1.0 : tensor<f32>
  %dy = nn.cross_entropy_grad %seed, %y, %label : (tensor<f32>, tensor<4x10xf32>, tensor<4xi64>) -> tensor<4x10xf32>
  %da = nn.matmul %dy, %w2 : (tensor<4x10xf32>, tensor<10x16xf32>) -> tensor<4x16xf32>
  %dw2 = nn.matmul %dy, %a {transpose_lhs} : (tensor<4x10xf32>, tensor<4x16xf32>) -> tensor<10x16xf32>
  %dw2_avg = dp.all_reduce %dw2 : tensor<10x16xf32>
  %db2 = nn.sum_to %dy : tensor<4x10xf32> to tensor<10xf32>
  %db2_avg = dp.all_reduce %db2 : tensor<10xf32>
  %dh = nn.relu_grad %da, %h : tensor<4x16xf32>
  %dw1 = nn.matmul %dh, %x {transpose_lhs} : (tensor<4x16xf32>, tensor<4x8xf32>) -> tensor<16x8xf32>
  %dw1_avg = dp.all_reduce %dw1 : tensor<16x8xf32>
  %db1 = nn.sum_to %dh : tensor<4x16xf32> to tensor<16xf32>
  %db1_avg = dp.all_reduce %db1 : tensor<16xf32>
  return %loss, %dw1_avg, %db1_avg, %dw2_avg, %db2_avg
      : tensor<f32>, tensor<16x8xf32>, tensor<16xf32>, tensor<10x16xf32>, tensor<10xf32>
}
