// RUN: %dpc-opt %s --dpc-sgd="lr=0.1 momentum=0.9 dampening=0.1 weight-decay=0.0001" | FileCheck %s --check-prefix=MOMENTUM
// RUN: %dpc-opt %s --dpc-sgd | FileCheck %s --check-prefix=PLAIN
// RUN: %dpc-opt %s --dpc-sgd="lr=0.5 momentum=0.8 nesterov=true" | FileCheck %s --check-prefix=NESTEROV

// dpc-sgd replaces the gradient results by torch.optim.SGD updates of their
// parameters. The updates come after everything else, in the order the
// averaged gradients become ready (fc2 before fc1 here), while the results
// list the loss, then the updated parameters in argument order, then the
// momentum buffers in argument order.

// With momentum, one buffer per parameter is appended to the arguments, in
// parameter order, marked as optimizer state of its parameter.
// MOMENTUM-LABEL: func.func @train_step(
// MOMENTUM-SAME: %[[X:[^:]*]]: tensor<4x8xf32> {dpc.kind = "input", dpc.name = "x"},
// MOMENTUM-SAME: %[[W1:[^:]*]]: tensor<16x8xf32> {dpc.kind = "parameter", dpc.name = "fc1.weight"},
// MOMENTUM-SAME: %[[B1:[^:]*]]: tensor<16xf32> {dpc.kind = "parameter", dpc.name = "fc1.bias"},
// MOMENTUM-SAME: %[[U:[^:]*]]: tensor<3xf32> {dpc.kind = "parameter", dpc.name = "unused", dpc.unused},
// MOMENTUM-SAME: %[[W2:[^:]*]]: tensor<10x16xf32> {dpc.kind = "parameter", dpc.name = "fc2.weight"},
// MOMENTUM-SAME: %[[B2:[^:]*]]: tensor<10xf32> {dpc.kind = "parameter", dpc.name = "fc2.bias"},
// MOMENTUM-SAME: %[[LABEL:[^:]*]]: tensor<4xi64> {dpc.kind = "label", dpc.name = "label"},
// MOMENTUM-SAME: %[[W1_BUF:[^:]*]]: tensor<16x8xf32> {dpc.kind = "optimizer_state", dpc.name = "fc1.weight.momentum_buffer", dpc.parameter = "fc1.weight"},
// MOMENTUM-SAME: %[[B1_BUF:[^:]*]]: tensor<16xf32> {dpc.kind = "optimizer_state", dpc.name = "fc1.bias.momentum_buffer", dpc.parameter = "fc1.bias"},
// MOMENTUM-SAME: %[[W2_BUF:[^:]*]]: tensor<10x16xf32> {dpc.kind = "optimizer_state", dpc.name = "fc2.weight.momentum_buffer", dpc.parameter = "fc2.weight"},
// MOMENTUM-SAME: %[[B2_BUF:[^:]*]]: tensor<10xf32> {dpc.kind = "optimizer_state", dpc.name = "fc2.bias.momentum_buffer", dpc.parameter = "fc2.bias"})
// MOMENTUM-SAME: -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"},
// MOMENTUM-SAME: tensor<16x8xf32> {dpc.kind = "parameter", dpc.name = "fc1.weight"},
// MOMENTUM-SAME: tensor<16xf32> {dpc.kind = "parameter", dpc.name = "fc1.bias"},
// MOMENTUM-SAME: tensor<10x16xf32> {dpc.kind = "parameter", dpc.name = "fc2.weight"},
// MOMENTUM-SAME: tensor<10xf32> {dpc.kind = "parameter", dpc.name = "fc2.bias"},
// MOMENTUM-SAME: tensor<16x8xf32> {dpc.kind = "optimizer_state", dpc.name = "fc1.weight.momentum_buffer", dpc.parameter = "fc1.weight"},
// MOMENTUM-SAME: tensor<16xf32> {dpc.kind = "optimizer_state", dpc.name = "fc1.bias.momentum_buffer", dpc.parameter = "fc1.bias"},
// MOMENTUM-SAME: tensor<10x16xf32> {dpc.kind = "optimizer_state", dpc.name = "fc2.weight.momentum_buffer", dpc.parameter = "fc2.weight"},
// MOMENTUM-SAME: tensor<10xf32> {dpc.kind = "optimizer_state", dpc.name = "fc2.bias.momentum_buffer", dpc.parameter = "fc2.bias"})
// MOMENTUM: %[[LOSS:.*]] = nn.cross_entropy
// MOMENTUM: %[[DW2:.*]] = dp.all_reduce
// MOMENTUM: %[[DB2:.*]] = dp.all_reduce
// MOMENTUM: %[[DW1:.*]] = dp.all_reduce
// MOMENTUM: %[[DB1:.*]] = dp.all_reduce
// MOMENTUM-NEXT: %[[NW2:[^,]*]], %[[NW2_BUF:[^ ]*]] = nn.sgd_update %[[W2]], %[[DW2]], %[[W2_BUF]] {dampening = 1.000000e-01 : f32, lr = 1.000000e-01 : f32, momentum = 0.899999976 : f32, weight_decay = 9.99999974E-5 : f32} : (tensor<10x16xf32>, tensor<10x16xf32>, tensor<10x16xf32>) -> (tensor<10x16xf32>, tensor<10x16xf32>)
// MOMENTUM-NEXT: %[[NB2:[^,]*]], %[[NB2_BUF:[^ ]*]] = nn.sgd_update %[[B2]], %[[DB2]], %[[B2_BUF]] {dampening = 1.000000e-01 : f32, lr = 1.000000e-01 : f32, momentum = 0.899999976 : f32, weight_decay = 9.99999974E-5 : f32}
// MOMENTUM-NEXT: %[[NW1:[^,]*]], %[[NW1_BUF:[^ ]*]] = nn.sgd_update %[[W1]], %[[DW1]], %[[W1_BUF]] {dampening
// MOMENTUM-NEXT: %[[NB1:[^,]*]], %[[NB1_BUF:[^ ]*]] = nn.sgd_update %[[B1]], %[[DB1]], %[[B1_BUF]] {dampening
// MOMENTUM-NEXT: return %[[LOSS]], %[[NW1]], %[[NB1]], %[[NW2]], %[[NB2]], %[[NW1_BUF]], %[[NB1_BUF]], %[[NW2_BUF]], %[[NB2_BUF]] :

// Without momentum there are no buffers, and the defaults are lr = 0.01 and
// no weight decay.
// PLAIN-LABEL: func.func @train_step(
// PLAIN-SAME: %[[LABEL:[^:]*]]: tensor<4xi64> {dpc.kind = "label", dpc.name = "label"})
// PLAIN-SAME: -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"},
// PLAIN-SAME: tensor<16x8xf32> {dpc.kind = "parameter", dpc.name = "fc1.weight"},
// PLAIN-SAME: tensor<16xf32> {dpc.kind = "parameter", dpc.name = "fc1.bias"},
// PLAIN-SAME: tensor<10x16xf32> {dpc.kind = "parameter", dpc.name = "fc2.weight"},
// PLAIN-SAME: tensor<10xf32> {dpc.kind = "parameter", dpc.name = "fc2.bias"})
// PLAIN: %[[DB1:.*]] = dp.all_reduce %{{.*}} : tensor<16xf32>
// PLAIN-NEXT: %[[NW2:.*]] = nn.sgd_update %{{.*}}, %{{.*}} {lr = 0.00999999977 : f32} : (tensor<10x16xf32>, tensor<10x16xf32>) -> tensor<10x16xf32>
// PLAIN-NEXT: %[[NB2:.*]] = nn.sgd_update %{{.*}}, %{{.*}} {lr = 0.00999999977 : f32} : (tensor<10xf32>, tensor<10xf32>) -> tensor<10xf32>
// PLAIN-NEXT: %[[NW1:.*]] = nn.sgd_update %{{.*}}, %{{.*}} {lr = 0.00999999977 : f32} : (tensor<16x8xf32>, tensor<16x8xf32>) -> tensor<16x8xf32>
// PLAIN-NEXT: %[[NB1:.*]] = nn.sgd_update %{{.*}}, %[[DB1]] {lr = 0.00999999977 : f32} : (tensor<16xf32>, tensor<16xf32>) -> tensor<16xf32>
// PLAIN-NEXT: return %{{.*}}, %[[NW1]], %[[NB1]], %[[NW2]], %[[NB2]] : tensor<f32>, tensor<16x8xf32>, tensor<16xf32>, tensor<10x16xf32>, tensor<10xf32>{{$}}

// NESTEROV-LABEL: func.func @train_step(
// NESTEROV: nn.sgd_update %{{.*}}, %{{.*}}, %{{.*}} {lr = 5.000000e-01 : f32, momentum = 8.000000e-01 : f32, nesterov} : (tensor<10x16xf32>,
// NESTEROV-NEXT: nn.sgd_update %{{.*}}, %{{.*}}, %{{.*}} {lr = 5.000000e-01 : f32, momentum = 8.000000e-01 : f32, nesterov} : (tensor<10xf32>,
// NESTEROV-NEXT: nn.sgd_update %{{.*}}, %{{.*}}, %{{.*}} {lr = 5.000000e-01 : f32, momentum = 8.000000e-01 : f32, nesterov} : (tensor<16x8xf32>,
// NESTEROV-NEXT: nn.sgd_update %{{.*}}, %{{.*}}, %{{.*}} {lr = 5.000000e-01 : f32, momentum = 8.000000e-01 : f32, nesterov} : (tensor<16xf32>,
// NESTEROV-NEXT: return

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
